"""A report's life between phases: who may move it on, failure thresholds, phase records, the end.

Every move is a compare-and-set on (report, run, phase, status): of two callbacks for the same phase (a
resumed run and a late one) exactly one moves the report on, and a cancelled or superseded run moves nothing.
"""
from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.utils import timezone

from patterns import progress
from patterns.models import Report

Status, Phase = Report.Status, Report.Phase
# The record name of each phase in Report.phases (and in recap.group_report/1).
RECORD = {Phase.SUMMARIZING: "summaries", Phase.EXTRACTING: "extraction", Phase.COMBINING: "combine",
          Phase.ASSIGNING: "assignment", Phase.VALIDATING: "validation"}
MAX_LISTED = 50  # failures / skips listed per phase (the counts are always complete)
MAX_RESUMES = 3  # a phase that stalls this many times ends the report instead of looping


def summaries_needed() -> float:
    """Share of summaries that must succeed (1 - RECAP_REPORT_SUMMARY_FAILURE_RATIO; default 50 %)."""
    return 1 - float(getattr(settings, "RECAP_REPORT_SUMMARY_FAILURE_RATIO", 0.5))


def chunks_needed() -> float:
    """Share of later items (chunks, examples) that must succeed (1 - RECAP_STAGE_FAILURE_RATIO; default 75 %)."""
    return 1 - float(getattr(settings, "RECAP_STAGE_FAILURE_RATIO", 0.25))


def meets(ok: int, total: int, needed: float) -> bool:
    """True when ok of total reaches the threshold (nothing to do always does)."""
    return total == 0 or ok >= math.ceil(needed * total - 1e-9)


def current(report_id: int, run: int, statuses: tuple[str, ...] = (Status.RUNNING,)) -> Report | None:
    """The report if this run is still the live one (not cancelled, not superseded by a resume)."""
    return Report.objects.filter(pk=report_id, run=run, status__in=statuses).select_related("project").first()


def phase_record(report: Report, phase: str, *, total: int, done: int, failed: list[tuple[str, str]] | None = None,
                 skipped: list[tuple[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    """Report.phases with one phase's counts, failures and skips (with reasons), time and model usage set."""
    failed, skipped = failed or [], skipped or []
    name = RECORD[phase]
    usage = progress.usage(report.pk, name)
    state = progress.read(report.pk)
    seconds = round(time.time() - state.phase_started, 1) if state.phase == phase and state.phase_started else None
    record = {
        "total": total, "done": done, "failed": len(failed), "skipped": len(skipped),
        "failures": [{"item": item, "reason": reason} for item, reason in failed[:MAX_LISTED]],
        "skips": [{"item": item, "reason": reason} for item, reason in skipped[:MAX_LISTED]],
        "seconds": seconds, "model_calls": usage["calls"], "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"], "cost_usd": usage["cost"], **extra,
    }
    return {**report.phases, name: record}


def usage_totals(phases: dict[str, Any]) -> dict[str, Any]:
    """The report's model usage: the sum of its phases'."""
    records = [phases.get(name) or {} for name in RECORD.values()]
    costs = [r["cost_usd"] for r in records if r.get("cost_usd") is not None]
    return {
        "llm_calls": sum(int(r.get("model_calls") or 0) for r in records),
        "input_tokens": sum(int(r.get("input_tokens") or 0) for r in records),
        "output_tokens": sum(int(r.get("output_tokens") or 0) for r in records),
        "cost_usd": round(sum(costs), 6) if costs else None,
    }


def move(report: Report, to_phase: str, **fields: Any) -> bool:
    """Move the report from its current phase to the next (saving fields with it); False when another
    callback did it already or the run is no longer live."""
    if "phases" in fields:
        fields.update(usage_totals(fields["phases"]))
    moved = Report.objects.filter(pk=report.pk, run=report.run, phase=report.phase, status=Status.RUNNING).update(
        phase=to_phase, updated_at=timezone.now(), **fields)
    if moved:
        for name, value in fields.items():
            setattr(report, name, value)
        report.phase = to_phase
    return bool(moved)


def note_partial(state: dict[str, Any], reason: str) -> dict[str, Any]:
    """A pipeline_state with one more reason why the result is partial."""
    return {**state, "partial": [*state.get("partial", []), reason]}


def finish(report: Report, status: str, message: str, **fields: Any) -> bool:
    """End the report (from the phase it is in) with a status and a sentence saying why; once only."""
    if "phases" in fields:
        fields.update(usage_totals(fields["phases"]))
    workers = progress.workers(report.pk)
    ended = Report.objects.filter(pk=report.pk, run=report.run, phase=report.phase,
                                  status__in=(Status.QUEUED, Status.RUNNING)).update(
        status=status, message=message, finished_at=timezone.now(), updated_at=timezone.now(),
        workers=workers or report.workers, **fields)
    if ended:
        progress.touch(report.pk, status=status, message=message)
    return bool(ended)


def final_status(report: Report) -> str:
    """Succeeded, or partial when a phase fell below its threshold or failed."""
    return Status.PARTIAL if report.pipeline_state.get("partial") else Status.SUCCEEDED
