"""The rolling report of a sweep day: created on the day's first tick, re-run after each later one (never twice at
once: a tick that ends while it runs marks it dirty, and it runs again when it ends)."""
from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction

from patterns.control import create_report, start
from patterns.models import Report
from summaries.models import Session
from sweeps.models import RollingReport, Sweep, SweepClaim


def clips_per_pattern() -> int:
    """RECAP_SWEEP_CLIPS_PER_PATTERN (default 0): video checks per blocking pattern of a rolling report."""
    return max(0, int(getattr(settings, "RECAP_SWEEP_CLIPS_PER_PATTERN", 0)))


def day_sessions(sweep: Sweep, day: date) -> list[int]:
    """Sessions the sweep summarized (with content) on that day."""
    return sorted(SweepClaim.objects.filter(sweep=sweep, day=day, state=SweepClaim.State.DONE)
                  .values_list("session_id", flat=True))


def refresh(sweep: Sweep, day: date) -> Report | None:
    """Start the day's report over the day's sessions (or mark it dirty while it runs); None when there is none."""
    from sweeps.tasks import track_report

    ids = day_sessions(sweep, day)
    if not ids or not sweep.rolling_report:
        return None
    with transaction.atomic():
        rolling, _ = RollingReport.objects.select_for_update().get_or_create(
            sweep=sweep, day=day, defaults={"organization_id": sweep.organization_id})
        report = Report.objects.filter(pk=rolling.report_id).first() if rolling.report_id else None
        if report is not None and not report.is_final and report.run:
            RollingReport.objects.filter(pk=rolling.pk).update(dirty=True)
            return report
        if report is None:
            tick = sweep.ticks.order_by("-started_at").first()
            report = create_report(sweep.project, engine=tick.engine if tick else None,
                                   model=tick.model if tick else None, focus=sweep.focus,
                                   trigger=Report.Trigger.SWEEP, title=f"{sweep.project.name}: sweep of {day}",
                                   sessions=[Session(pk=pk) for pk in ids],
                                   clips_per_pattern=clips_per_pattern())
            rolling.report = report
        else:
            Report.objects.filter(pk=report.pk).update(session_ids=ids)
        rolling.dirty = False
        rolling.save()
        report = start(report)
        run = report.run
        transaction.on_commit(lambda: track_report.apply_async((report.pk, run, rolling.pk), countdown=1))
    return report
