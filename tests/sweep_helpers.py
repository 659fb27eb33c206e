"""Helpers for sweep tests: cheap sessions in bulk, a simulated clock, waiting for a tick's work to end."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from summaries.models import Event, Project, Session
from sweeps.models import Sweep, SweepClaim, SweepTick

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=dt_timezone.utc)
HOST = "https://shop.test"


def sweep_for(project: Project, **settings: object) -> Sweep:
    """A sweep of the project on the rules engine with these settings."""
    settings.setdefault("engine", Sweep.Engine.RULES)
    return Sweep.objects.create(project=project, **settings)


def bulk_sessions(project: Project, count: int, start: datetime, *, events: bool = True, failing: bool = False,
                  prefix: str = "s") -> list[Session]:
    """`count` complete sessions started from `start` on (one a minute), stored in two bulk inserts.

    With events: a page view and a click (a failing payment with `failing`); without: metadata only, as an import
    of a recording that never arrived leaves it.
    """
    rows = [Session(project=project, session_id=f"{prefix}-{uuid.uuid4().hex[:12]}", distinct_id="u",
                    start_time=start + timedelta(minutes=i), end_time=start + timedelta(minutes=i, seconds=40),
                    duration_seconds=40, active_seconds=30, event_count=(4 if failing else 2) if events else 0,
                    first_url=HOST + "/", ingestion_state=Session.IngestionState.COMPLETE) for i in range(count)]
    sessions = Session.objects.bulk_create(rows)
    if events:
        Event.objects.bulk_create([e for s in sessions for e in _events(s, failing)], batch_size=2000)
    return sessions


def _events(session: Session, failing: bool) -> list[Event]:
    """A page view and a click; with `failing`, a payment that answers 500 twice."""
    t = session.start_time

    def ev(seconds: float, name: str, **props: object) -> Event:
        return Event(session=session, uuid=uuid.uuid4(), timestamp=t + timedelta(seconds=seconds), name=name,
                     current_url=HOST + "/checkout", properties={"$session_id": session.session_id,
                                                                 "$current_url": HOST + "/checkout", **props})

    out = [ev(0, "$pageview", title="Checkout"),
           ev(5, "$autocapture", **{"$event_type": "click", "$el_text": "Pay now",
                                    "$elements": [{"tag_name": "button", "$el_text": "Pay now"}]})]
    if failing:
        for i in range(2):
            out.append(ev(6 + i * 8, "$exception", **{"$exception_list": [
                {"type": "Error", "value": "Payment request failed: 500 Internal Server Error"}]}))
    return out


def wait_for_claims(sweep: Sweep, timeout: float = 120) -> None:
    """Poll until no claim of the sweep is in flight and every tick has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = SweepClaim.objects.filter(sweep=sweep, state=SweepClaim.State.QUEUED).count()
        open_ticks = SweepTick.objects.filter(sweep=sweep, finished_at__isnull=True).count()
        if not busy and not open_ticks:
            return
        time.sleep(0.3)
    raise AssertionError(f"{busy} claims still queued, {open_ticks} ticks open after {timeout} s")


def store_built(project: Project, builders: list, start: datetime) -> list[Session]:
    """Store realistic sessions (tests.summary_sessions builders) started at `start`, complete and active."""
    sessions = [build().store(project) for build in builders]
    for i, session in enumerate(sessions):
        Session.objects.filter(pk=session.pk).update(active_seconds=30, start_time=start + timedelta(minutes=i))
    return sessions


def wait_for_rolling(sweep: Sweep, timeout: float = 120) -> None:
    """Poll until the sweep's work is done and the rolling report of each day it queued work ended and was tracked."""
    from patterns.models import Report
    from sweeps.models import RollingReport

    wait_for_claims(sweep, timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(RollingReport.objects.filter(sweep=sweep))
        reports = {r.pk: r for r in Report.objects.filter(pk__in=[row.report_id for row in rows])}
        days = {t.clock.date() for t in SweepTick.objects.filter(sweep=sweep, queued__gt=0)}
        done = all(not row.dirty and row.report_id in reports and reports[row.report_id].is_final
                   and row.tracked_run == reports[row.report_id].run for row in rows)
        if rows and days <= {row.day for row in rows} and done:
            return
        time.sleep(0.3)
    raise AssertionError(f"rolling reports of sweep {sweep.pk} not tracked after {timeout} s")
