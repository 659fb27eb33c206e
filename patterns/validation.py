"""Checking blocking patterns on video: which examples to look at, and their verdicts copied onto the report.

The clips and verdicts themselves come from replay_render (a clip per moment on the `render` queue, then the
video model or the rule-based validator); a verdict lives on the session's summary, so a moment checked
once, by a report or by the validation that follows every summary, is never checked again.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction

from patterns.models import Pattern, PatternExample, Report
from replay_render.models import Clip
from summaries.analysis.schema import find_key_action


def current_action(example: PatternExample) -> dict[str, Any] | None:
    """The example's key action as its summary says now (after any validation), or None if it is gone."""
    summary = example.summary.summary if example.summary else None
    if not summary:
        return None
    try:
        segment, action = find_key_action(summary, example.event_id)
    except KeyError:
        return None
    return dict(action, segment_index=segment["index"], segment_name=segment["name"])


def examples_to_check(report: Report) -> list[PatternExample]:
    """Up to the report's clips_per_pattern examples of each blocking pattern, earliest sessions first."""
    per_pattern = report.clips_per_pattern
    if not per_pattern:
        return []
    chosen: list[PatternExample] = []
    for pattern in report.patterns.filter(kind=Pattern.Kind.BLOCKING).order_by("rank"):
        examples = list(pattern.examples.select_related("summary", "session").order_by("timestamp", "pk"))
        # Moments checked already cost nothing: take those first.
        examples.sort(key=lambda e: 0 if (current_action(e) or {}).get("validation") else 1)
        chosen += examples[:per_pattern]
    return chosen


def _verdict(action: dict[str, Any] | None) -> tuple[str, str, int | None]:
    """(verdict, note, clip id) of a validated key action; ('', '', None) when unchecked."""
    validation = (action or {}).get("validation") or {}
    if not validation:
        return "", "", None
    evidence = validation.get("evidence") or {}
    label = "rule-based" if evidence.get("rule_based") else (evidence.get("model") or "video model")
    note = f"{label}: {evidence.get('description') or evidence.get('reason') or ''}".strip()
    return str(validation.get("verdict") or ""), note, evidence.get("clip_id")


def refresh_verdicts(report: Report) -> None:
    """Copy every example's current verdict from its summary, and recount each pattern's verdicts."""
    with transaction.atomic():
        for pattern in report.patterns.all():
            counts = {"confirmed": 0, "denied": 0, "inconclusive": 0}
            for example in pattern.examples.select_related("summary"):
                verdict, note, clip_id = _verdict(current_action(example))
                if verdict and (verdict, note, clip_id) != (example.verdict, example.verdict_note, example.clip_id):
                    example.verdict, example.verdict_note = verdict, note[:2000]
                    example.clip_id = clip_id if clip_id and Clip.objects.filter(pk=clip_id).exists() else None
                    example.save(update_fields=["verdict", "verdict_note", "clip"])
                if example.verdict in counts:
                    counts[example.verdict] += 1
            if (pattern.confirmed, pattern.denied, pattern.inconclusive) != tuple(counts.values()):
                Pattern.objects.filter(pk=pattern.pk).update(**counts)


def note_failure(example_id: int, reason: str) -> None:
    """Say on the example why it could not be checked."""
    PatternExample.objects.filter(pk=example_id, verdict="").update(verdict_note=f"not checked: {reason}"[:2000])
