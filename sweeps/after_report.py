"""What happens when a rolling report's run ends: pattern identity and trend, alerts, and a re-run if dirty."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from patterns.models import Report
from sweeps.alerts.checks import check_after_report
from sweeps.identity import track
from sweeps.models import RollingReport


def report_ended(report: Report, rolling_id: int) -> dict[str, Any]:
    """Track the ended report's patterns (a succeeded or partial one) and start it again when it went stale."""
    from sweeps.rolling import refresh

    rolling = RollingReport.objects.select_related("sweep__project").filter(pk=rolling_id).first()
    if rolling is None:
        return {"report": report.pk, "rolling": None}
    tracked = 0
    if report.status in (Report.Status.SUCCEEDED, Report.Status.PARTIAL):
        with transaction.atomic():
            seen = track(report, rolling.day)
            RollingReport.objects.filter(pk=rolling.pk).update(tracked_run=report.run)
        tracked = len(seen)
        check_after_report(rolling, seen)
    rolling.refresh_from_db()
    if rolling.dirty:
        refresh(rolling.sweep, rolling.day)
    return {"report": report.pk, "patterns": tracked}

