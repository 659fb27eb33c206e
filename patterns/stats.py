"""Finalize: every pattern's numbers, its examples (one per session) and the ranking, computed in code."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from patterns.fingerprint import fingerprint
from patterns.llm_output import MIN_SESSIONS, SEVERITIES
from patterns.models import Pattern, PatternExample, Report
from patterns.summary_view import Moment, moments, neighbours
from summaries.models import ms_to_datetime

# Most severe first: used to rank patterns and to break ties between kinds.
SEVERITY_RANK = {name: i for i, name in enumerate(reversed(SEVERITIES))}
KIND_RANK = {"blocking": 0, "abandonment": 1, "confusion": 2, "non-blocking": 3}
WIDESPREAD_SHARE = 0.10


@dataclass
class SummaryInput:
    """A summary as the report reads it: its id, its session and its content as written."""

    summary_id: int
    session_pk: int
    summary: dict[str, Any]


@dataclass
class RankedPattern:
    """A pattern with its statistics and examples, ready to store."""

    fingerprint: str
    name: str
    description: str
    severity: str
    kind: str
    indicators: list[str]
    rule_based: bool
    occurrences: int
    sessions_affected: int
    share_of_sessions: float
    segment_success_ratio: float | None
    examples: list[dict[str, Any]] = field(default_factory=list)


def rule_severity(kind: str, share: float, segment_success_ratio: float | None) -> str:
    """Rules: blocking starts high, abandonment medium, the rest low; widespread (>= 10 % of sessions) and
    mostly-failed segments each raise it one level."""
    level = {"blocking": 2, "abandonment": 1}.get(kind, 0)
    if share >= WIDESPREAD_SHARE:
        level += 1
    if kind != "blocking" and segment_success_ratio is not None and segment_success_ratio < 0.5:
        level += 1
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def majority_kind(flags: list[str]) -> str:
    """The most common flag of a pattern's moments; a tie goes to the more severe kind."""
    counts = Counter(flags)
    best = max(counts.values())
    return min((k for k, n in counts.items() if n == best), key=lambda k: KIND_RANK.get(k, 9))


def _llm_fingerprint(found: list[Moment], name: str) -> str:
    """An LLM pattern's stable identity: the problem facts most of its moments share (computed in code)."""
    keys = Counter(fp.key for m in found if (fp := fingerprint(m.action)) is not None)
    if keys:
        return "llm:" + keys.most_common(1)[0][0].split(":", 1)[1]
    return "llm:name:" + hashlib.sha256(" ".join(name.lower().split()).encode()).hexdigest()[:16]


def example_of(summary: SummaryInput, everything: list[Moment], target: Moment) -> dict[str, Any]:
    """One session's example of a pattern: the moment, its segment, and 3 key actions either side."""
    action = target.action
    before, after = neighbours(everything, target)
    outcome = target.segment.get("outcome") or {}
    return {
        "session_pk": summary.session_pk,
        "summary_id": summary.summary_id,
        "event_id": target.event_id,
        "event_uuid": action.get("event_uuid") or "",
        "timestamp_ms": int(action.get("timestamp_ms") or 0),
        "seconds_from_start": float(action.get("seconds_from_start") or 0),
        "kind": target.flag or "",
        "description": action.get("description") or "",
        "url": action.get("url") or "",
        "segment_index": int(target.segment.get("index") or 0),
        "segment_name": target.segment.get("name") or "",
        "segment_success": bool(outcome.get("success", True)),
        "segment_summary": outcome.get("summary") or "",
        "before": before,
        "after": after,
    }


def rank(patterns: list[dict[str, Any]], assignments: list[list[Any]], summaries: dict[int, SummaryInput],
         analysed: int, rule_based: bool) -> list[RankedPattern]:
    """Patterns with numbers and examples, sorted by severity then sessions affected; patterns assigned fewer than
    2 sessions dropped."""
    ordered = {sid: moments(s.summary, sid, s.session_pk) for sid, s in summaries.items()}  # in time order
    index = {sid: {m.event_id: m for m in found} for sid, found in ordered.items()}
    by_pattern: dict[int, list[Moment]] = {}
    for summary_id, event_id, pattern_index in assignments:
        moment = index.get(summary_id, {}).get(event_id)
        if moment is not None and moment.flag and 0 <= pattern_index < len(patterns):
            by_pattern.setdefault(pattern_index, []).append(moment)
    ranked: list[RankedPattern] = []
    for i, found in by_pattern.items():
        pattern = patterns[i]
        found.sort(key=lambda m: (m.summary_id, m.position))
        sessions = sorted({m.summary_id for m in found})
        if len(sessions) < MIN_SESSIONS:
            continue  # seen in one session only: not a recurring problem
        pairs: dict[tuple[int, int], bool] = {}
        for m in found:
            succeeded = bool((m.segment.get("outcome") or {}).get("success", True))
            pairs[(m.summary_id, int(m.segment.get("index") or 0))] = succeeded
        success_ratio = round(sum(pairs.values()) / len(pairs), 2) if pairs else None
        share = round(len(sessions) / analysed, 4) if analysed else 0.0
        kind = pattern["facts"]["flag"] if rule_based else majority_kind([m.flag for m in found])
        severity = rule_severity(kind, share, success_ratio) if rule_based else pattern.get("severity") or "medium"
        examples, seen = [], set()
        for m in found:  # the first moment of each session is its example
            if m.summary_id in seen:
                continue
            seen.add(m.summary_id)
            examples.append(example_of(summaries[m.summary_id], ordered[m.summary_id], m))
        ranked.append(RankedPattern(
            fingerprint=pattern["key"] if rule_based else _llm_fingerprint(found, pattern["name"]),
            name=pattern["name"], description=pattern.get("description") or "", severity=severity, kind=kind,
            indicators=list(pattern.get("indicators") or [])[:5], rule_based=rule_based, occurrences=len(found),
            sessions_affected=len(sessions), share_of_sessions=share, segment_success_ratio=success_ratio,
            examples=examples,
        ))
    ranked.sort(key=lambda p: (SEVERITY_RANK[p.severity], -p.sessions_affected, -p.occurrences, p.name))
    seen_fp: Counter[str] = Counter()
    for p in ranked:  # two LLM patterns may share their dominant facts: keep identities unique in a report
        seen_fp[p.fingerprint] += 1
        if seen_fp[p.fingerprint] > 1:
            p.fingerprint = f"{p.fingerprint}#{seen_fp[p.fingerprint]}"
    return ranked


def store_patterns(report: Report, ranked: list[RankedPattern]) -> list[Pattern]:
    """Replace the report's patterns and examples with these, in one transaction."""
    with transaction.atomic():
        report.patterns.all().delete()
        stored = []
        for position, p in enumerate(ranked, 1):
            row = Pattern.objects.create(
                report=report, rank=position, fingerprint=p.fingerprint, name=p.name[:200],
                description=p.description, severity=p.severity, kind=p.kind, indicators=p.indicators,
                rule_based=p.rule_based, occurrences=p.occurrences, sessions_affected=p.sessions_affected,
                share_of_sessions=p.share_of_sessions, segment_success_ratio=p.segment_success_ratio)
            PatternExample.objects.bulk_create([
                PatternExample(
                    pattern=row, session_id=e["session_pk"], summary_id=e["summary_id"], event_id=e["event_id"],
                    event_uuid=str(e["event_uuid"] or ""), timestamp=ms_to_datetime(e["timestamp_ms"]),
                    seconds_from_start=e["seconds_from_start"], kind=e["kind"], description=e["description"],
                    url=e["url"][:2048], segment_index=e["segment_index"], segment_name=e["segment_name"][:300],
                    segment_success=e["segment_success"], segment_summary=e["segment_summary"],
                    before=e["before"], after=e["after"])
                for e in p.examples
            ])
            stored.append(row)
    return stored
