"""A report as JSON, schema id "recap.group_report/1" (what `manage.py report ... --json FILE` writes).

    {
      "schema": "recap.group_report/1",
      "report": {
        "id": int, "url": str,                      # the report page (RECAP_BASE_URL + /reports/<id>/)
        "title": str, "organization": str, "project": {"id": int, "name": str},
        "status": "queued" | "running" | "succeeded" | "partial" | "failed" | "cancelled",
        "phase": str, "message": str,               # why it is partial / failed; "No recurring problem in N sessions."
        "engine": "rules" | "llm", "model": str, "rule_based": bool, "label": str, "focus": str,
        "clips_per_pattern": int,                   # examples of each blocking pattern checked on video
        "trigger": "admin" | "page" | "sweep" | "command", "created_by": str | null,
        "created_at": ISO, "started_at": ISO | null, "finished_at": ISO | null, "duration_s": float | null,
        "selection": {"sessions": int} | {"since", "until", "url_contains", "min_active_seconds",
                                          "identified_only", "max_sessions"},
        "sessions": {"selected": int, "analysed": int, "skipped": int, "failed": int},
        "llm": {"calls": int, "input_tokens": int, "output_tokens": int, "cost_usd": float | null},
        "versions": {"engine": str},                # version of the grouping code / prompts that made it
        "workers": {node: items done}
      },
      "phases": [{                                  # summaries, extraction, combine, assignment, validation
        "name": str, "total": int, "done": int, "failed": int, "skipped": int, "seconds": float | null,
        "model_calls": int, "input_tokens": int, "output_tokens": int, "cost_usd": float | null,
        "failures": [{"item": str, "reason": str}], "skips": [{"item": str, "reason": str}]}],
      "patterns": [{                                # ranked: severity, then sessions affected
        "rank": int, "fingerprint": str, "name": str, "description": str,
        "kind": "blocking" | "non-blocking" | "confusion" | "abandonment",
        "severity": "critical" | "high" | "medium" | "low", "indicators": [str], "rule_based": bool,
        "stats": {"occurrences": int, "sessions_affected": int, "share_of_sessions": float,
                  "segment_success_ratio": float | null, "examples": int,
                  "validated": {"confirmed": int, "denied": int, "inconclusive": int}, "validated_share": float | null},
        "examples": [{                              # one per session, earliest moment
          "session_id": str,                        # as captured (posthog $session_id)
          "session_url": str,                       # the session's summary page
          "event_id": str, "event_uuid": str | null, "time": ISO, "seconds_from_start": float,
          "kind": str, "description": str, "url": str,
          "segment": {"index": int, "name": str, "success": bool, "summary": str},
          "before": [{"event_id", "event_uuid", "seconds_from_start", "description", "flag"}],   # up to 3
          "after": [...same],                                                                     # up to 3
          "verdict": "confirmed" | "denied" | "inconclusive" | null, "verdict_note": str, "clip_url": str | null}]
      }]
    }
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from patterns.models import Pattern, PatternExample, Report
from patterns.phases import RECORD

SCHEMA_ID = "recap.group_report/1"


def _iso(value: Any) -> str | None:
    """A datetime as ISO 8601 (None stays None)."""
    return value.isoformat() if value else None


def examples_in_order() -> QuerySet:
    """Examples in time order with their session and clip."""
    return PatternExample.objects.select_related("session", "clip").order_by("timestamp", "pk")


def pattern_json(pattern: Pattern) -> dict[str, Any]:
    """One ranked pattern with its statistics and examples (report_json prefetches them in time order)."""
    base = settings.RECAP_BASE_URL
    examples = list(pattern.examples.all())
    return {
        "rank": pattern.rank,
        "fingerprint": pattern.fingerprint,
        "name": pattern.name,
        "description": pattern.description,
        "kind": pattern.kind,
        "severity": pattern.severity,
        "indicators": pattern.indicators,
        "rule_based": pattern.rule_based,
        "stats": {
            "occurrences": pattern.occurrences,
            "sessions_affected": pattern.sessions_affected,
            "share_of_sessions": round(pattern.share_of_sessions, 4),
            "segment_success_ratio": pattern.segment_success_ratio,
            "examples": len(examples),
            "validated": {"confirmed": pattern.confirmed, "denied": pattern.denied,
                          "inconclusive": pattern.inconclusive},
            "validated_share": round(pattern.validated / len(examples), 2) if examples else None,
        },
        "examples": [{
            "session_id": e.session.session_id,
            "session_url": base + reverse("summaries:session_summary", args=[e.session_id]),
            "event_id": e.event_id,
            "event_uuid": e.event_uuid or None,
            "time": _iso(e.timestamp),
            "seconds_from_start": e.seconds_from_start,
            "kind": e.kind,
            "description": e.description,
            "url": e.url,
            "segment": {"index": e.segment_index, "name": e.segment_name, "success": e.segment_success,
                        "summary": e.segment_summary},
            "before": e.before,
            "after": e.after,
            "verdict": e.verdict or None,
            "verdict_note": e.verdict_note,
            "clip_url": base + reverse("replay_render:clip_file", args=[e.clip_id]) if e.clip_id else None,
        } for e in examples],
    }


def report_json(report: Report) -> dict[str, Any]:
    """The whole report in the recap.group_report/1 schema."""
    summaries = report.phases.get("summaries") or {}
    phases = []
    for name in RECORD.values():
        record = report.phases.get(name)
        if record:
            phases.append({"name": name, **{k: v for k, v in record.items() if k != "name"}})
    return {
        "schema": SCHEMA_ID,
        "report": {
            "id": report.pk,
            "url": report.public_url(),
            "title": report.title,
            "organization": report.organization.name,
            "project": {"id": report.project_id, "name": report.project.name},
            "status": report.status,
            "phase": report.phase,
            "message": report.message,
            "engine": report.engine,
            "model": report.model,
            "rule_based": report.rule_based,
            "label": report.label,
            "focus": report.focus,
            "clips_per_pattern": report.clips_per_pattern,
            "trigger": report.trigger,
            "created_by": report.created_by.get_username() if report.created_by else None,
            "created_at": _iso(report.created_at),
            "started_at": _iso(report.started_at),
            "finished_at": _iso(report.finished_at),
            "duration_s": report.duration_seconds,
            "selection": report.selection_description(),
            "sessions": {"selected": int(summaries.get("total") or 0), "analysed": report.sessions_analysed,
                         "skipped": int(summaries.get("skipped") or 0), "failed": int(summaries.get("failed") or 0)},
            "llm": {"calls": report.llm_calls, "input_tokens": report.input_tokens,
                    "output_tokens": report.output_tokens,
                    "cost_usd": float(report.cost_usd) if report.cost_usd is not None else None},
            "versions": report.versions,
            "workers": report.workers,
        },
        "phases": phases,
        "patterns": [pattern_json(p) for p in report.patterns.order_by("rank").prefetch_related(
            Prefetch("examples", queryset=examples_in_order()))],
    }
