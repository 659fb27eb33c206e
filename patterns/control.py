"""Creating, starting, re-running and cancelling reports (used by the command, the admin and pages)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from patterns import progress
from patterns.models import Report
from patterns.prompts import MAX_FOCUS
from summaries.models import Project, Session
from summaries.summarize import choose_engine

Status, Phase = Report.Status, Report.Phase
NO_WORKER_HINT_AFTER = 20
PRINT_EVERY = 3.0


def default_max_sessions() -> int:
    """RECAP_REPORT_MAX_SESSIONS (default 300)."""
    return int(getattr(settings, "RECAP_REPORT_MAX_SESSIONS", 300))


def create_report(project: Project, *, engine: str | None = None, model: str | None = None, focus: str = "",
                  trigger: str = Report.Trigger.COMMAND, created_by: Any = None, title: str = "",
                  sessions: list[Session] | None = None, **selection: Any) -> Report:
    """A new queued report of the project: explicit sessions, or a filter (since, until, url_contains,
    min_active_seconds, identified_only, max_sessions). Raises ValueError for an unusable engine."""
    engine, model = choose_engine(engine, model)
    focus = " ".join((focus or "").split())[:MAX_FOCUS]
    if "max_sessions" not in selection or not selection["max_sessions"]:
        selection["max_sessions"] = default_max_sessions()
    return Report.objects.create(
        organization=project.organization, project=project, title=title or f"{project.name} report",
        session_ids=[s.pk for s in sessions] if sessions else [], focus=focus, engine=engine, model=model,
        trigger=trigger, created_by=created_by, **selection)


def start(report: Report) -> Report:
    """Queue the report from its first phase with a new run (a running one is left alone)."""
    from patterns.tasks import start_report

    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status == Status.RUNNING:
            return locked
        locked.run += 1
        locked.status, locked.phase = Status.QUEUED, Phase.SELECTING
        locked.message, locked.started_at, locked.finished_at = "", timezone.now(), None
        locked.phases = {}
        locked.pipeline_state = {}
        locked.save()
    progress.clear(locked.pk)
    progress.touch(locked.pk, status=Status.QUEUED)
    transaction.on_commit(lambda: start_report.delay(locked.pk, locked.run))
    return locked


def rerun(report: Report, add_sessions: list[Session] | None = None) -> Report:
    """Run a report again (finished or not), optionally with more sessions; cached work is reused."""
    if add_sessions:
        ids = list(report.session_ids) or list(report.selected)
        ids += [s.pk for s in add_sessions if s.pk not in ids and s.project_id == report.project_id]
        Report.objects.filter(pk=report.pk).update(session_ids=ids)
        report.refresh_from_db()
    if report.status == Status.RUNNING:
        cancel(report, "superseded by a re-run")
        report.refresh_from_db()
    return start(report)


def cancel(report: Report, reason: str = "cancelled") -> bool:
    """Stop a queued or running report: queued work items see it and do nothing (no model call)."""
    stopped = Report.objects.filter(pk=report.pk, status__in=(Status.QUEUED, Status.RUNNING)).update(
        status=Status.CANCELLED, message=reason[:1].upper() + reason[1:] + ".", finished_at=timezone.now())
    if stopped:
        progress.touch(report.pk, status=Status.CANCELLED)
    return bool(stopped)


def phase_line(name: str, record: dict[str, Any]) -> str:
    """`summaries done: 7/9 (2 skipped)`: a finished phase's counts."""
    extra = [f"{record[k]} {k}" for k in ("failed", "skipped") if record.get(k)]
    line = f"{name} done: {record.get('done', 0)}/{record.get('total', 0)}" + (f" ({', '.join(extra)})" if extra else "")
    return line + (f"; {record['note']}" if record.get("note") else "")


def wait_for(report: Report, say: Callable[[str], Any], timeout: float = 3600, poll: float = 1.0) -> Report:
    """Print a line whenever the report's progress changes; return the report once it has ended."""
    started = time.monotonic()
    last, last_phase, said_at = "", "", 0.0
    hinted = False
    told: set[str] = set()
    while True:
        report.refresh_from_db()
        for name, record in (report.phases or {}).items():  # each phase's outcome once, even a phase done between polls
            if name not in told and isinstance(record, dict):
                told.add(name)
                say(f"  {phase_line(name, record)}")
        if report.is_final:
            return report
        state = progress.read(report.pk)
        line = state.line()
        # A line when the phase changes, else at most every few seconds: progress, not a flood.
        if line != last and (state.phase != last_phase or time.monotonic() - said_at >= PRINT_EVERY):
            say(f"  {line}")
            last, last_phase, said_at = line, state.phase, time.monotonic()
        waited = time.monotonic() - started
        if report.status == Report.Status.QUEUED and waited > NO_WORKER_HINT_AFTER and not hinted:
            say("  (no worker has picked the report up yet: start them with `manage.py serve`, or a worker on the "
                "default and llm queues)")
            hinted = True
        if waited > timeout:
            raise TimeoutError(f"Report {report.pk} did not finish within {timeout:.0f} s ({line}); it keeps running "
                               f"on the workers: `manage.py report show {report.pk}`.")
        time.sleep(poll)
