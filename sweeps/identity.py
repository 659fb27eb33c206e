"""Pattern identity across reports.

A rule-engine pattern is its fingerprint: the same problem gets the same key in every report. A model's pattern
is matched to the project's tracked patterns in two steps: (1) the rule fingerprints of its examples' key
actions (computed in code for every engine): the tracked pattern whose known fingerprints cover at least half of
them wins (most shared first); (2) otherwise the most similar name and description of the same kind (difflib
ratio of the normalised texts, name weighted 2:1, at least 0.75). Each tracked pattern is matched once per
report; a pattern matching nothing becomes a new identity (`llm:<hash of its name>`).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from patterns.fingerprint import fingerprint
from patterns.models import Pattern, Report
from patterns.validation import current_action
from sweeps.models import PatternDay, TrackedPattern

MIN_FINGERPRINT_SHARE = 0.5
MIN_TEXT_SIMILARITY = 0.75
MAX_EXAMPLES = 50  # examples read per pattern for its fingerprints


@dataclass
class Seen:
    """A report's pattern and the identity it got (new: first seen in this report)."""

    pattern: Pattern
    tracked: TrackedPattern
    new: bool


def example_fingerprints(pattern: Pattern) -> set[str]:
    """Rule fingerprints of the key actions of the pattern's examples (and its own, for a rule pattern)."""
    keys = {pattern.fingerprint.split("#")[0]} if pattern.rule_based else set()
    for example in pattern.examples.select_related("summary")[:MAX_EXAMPLES]:
        action = current_action(example)
        found = fingerprint(action) if action else None
        if found is not None:
            keys.add(found.key)
    return keys


def _text(value: str) -> str:
    """Lower case words only."""
    return " ".join(re.findall(r"[a-z0-9]+", value.lower()))


def similarity(pattern: Pattern, tracked: TrackedPattern) -> float:
    """Name and description similarity, 0..1 (name weighted twice)."""
    name = SequenceMatcher(None, _text(pattern.name), _text(tracked.name)).ratio()
    text = SequenceMatcher(None, _text(pattern.description)[:500], _text(tracked.description)[:500]).ratio()
    return (2 * name + text) / 3


def match(pattern: Pattern, keys: set[str], known: list[TrackedPattern], taken: set[int]) -> TrackedPattern | None:
    """The tracked pattern a report's pattern is (None: a new one)."""
    free = [t for t in known if t.pk not in taken]
    if pattern.rule_based:
        return next((t for t in free if t.key == pattern.fingerprint), None)
    if keys:
        shared = [(len(keys & set(t.rule_fingerprints)), t) for t in free]
        best = max(shared, key=lambda pair: pair[0], default=(0, None))
        if best[1] is not None and best[0] / len(keys) >= MIN_FINGERPRINT_SHARE:
            return best[1]
    scored = [(similarity(pattern, t), t) for t in free if t.kind == pattern.kind]
    best_text = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best_text[1] if best_text[0] >= MIN_TEXT_SIMILARITY else None


def new_key(pattern: Pattern) -> str:
    """The key of a new identity: the rule fingerprint, or llm:<hash of the name>."""
    if pattern.rule_based:
        return pattern.fingerprint
    return "llm:" + hashlib.sha256(_text(pattern.name).encode()).hexdigest()[:16]


def track(report: Report, day: date) -> list[Seen]:
    """Give each of the report's patterns its identity, and record the day's count (the day's old rows replaced)."""
    project = report.project
    known = list(TrackedPattern.objects.filter(project=project))
    taken: set[int] = set()
    seen: list[Seen] = []
    for pattern in report.patterns.order_by("rank"):
        keys = example_fingerprints(pattern)
        tracked = match(pattern, keys, known, taken)
        new = tracked is None
        if new:
            tracked, new = TrackedPattern.objects.get_or_create(
                project=project, key=new_key(pattern),
                defaults={"organization_id": project.organization_id, "name": pattern.name, "kind": pattern.kind,
                          "severity": pattern.severity, "description": pattern.description,
                          "first_seen": day, "last_seen": day})
            known.append(tracked)
        tracked.name, tracked.description = pattern.name, pattern.description
        tracked.severity, tracked.kind = pattern.severity, pattern.kind
        tracked.rule_fingerprints = sorted(set(tracked.rule_fingerprints) | keys)[:200]
        tracked.first_seen, tracked.last_seen = min(tracked.first_seen, day), max(tracked.last_seen, day)
        tracked.save()
        taken.add(tracked.pk)
        PatternDay.objects.update_or_create(
            pattern=tracked, day=day,
            defaults={"organization_id": project.organization_id, "sessions_affected": pattern.sessions_affected,
                      "sessions_analysed": report.sessions_analysed, "share_of_sessions": pattern.share_of_sessions,
                      "report": report, "report_pattern": pattern})
        seen.append(Seen(pattern, tracked, new))
    PatternDay.objects.filter(pattern__project=project, day=day, report=report).exclude(pattern_id__in=taken).delete()
    return seen


def trends(pattern_ids: list[int], days: int = 14) -> dict[int, list[tuple[date, int]]]:
    """(day, sessions affected) of each tracked pattern's last `days` days with a report, oldest first (one
    query for all of them)."""
    newest = Window(RowNumber(), partition_by=[F("pattern_id")], order_by=F("day").desc())
    rows = (PatternDay.objects.filter(pattern_id__in=pattern_ids).annotate(newest=newest).filter(newest__lte=days)
            .values_list("pattern_id", "day", "sessions_affected"))
    out: dict[int, list[tuple[date, int]]] = {pk: [] for pk in pattern_ids}
    for pk, day, count in rows:
        out[pk].append((day, count))
    return {pk: sorted(found) for pk, found in out.items()}


def trend(tracked: TrackedPattern, days: int = 14) -> list[tuple[date, int]]:
    """(day, sessions affected) of its last `days` days with a report."""
    return trends([tracked.pk], days)[tracked.pk]
