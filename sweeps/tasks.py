"""Celery tasks of sweeps: the scheduled tick, recording each summary's outcome, and the tick's end."""
from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from sweeps.models import Sweep, SweepTick


@shared_task(name="sweeps.tasks.tick", acks_late=True)
def tick(sweep_id: int, trigger: str = SweepTick.Trigger.BEAT) -> dict[str, Any]:
    """Beat's entry point (and the admin's action): one tick of the sweep (a deleted sweep does nothing)."""
    from sweeps.tick import run_tick

    sweep = Sweep.objects.select_related("project").filter(pk=sweep_id).first()
    if sweep is None:
        return {"sweep": sweep_id, "missing": True}
    return run_tick(sweep, trigger=trigger).as_dict()


@shared_task(name="sweeps.tasks.record_claim", bind=True, acks_late=True, max_retries=720)
def record_claim(self, result: dict[str, Any], claim_pk: int) -> dict[str, Any]:
    """Store a claim's outcome from its summary task's answer (waits while another worker still runs it)."""
    from sweeps.outcomes import record

    state = record(claim_pk, result)
    if not state and self.request.retries < self.max_retries:
        raise self.retry(countdown=5)
    return {"claim": claim_pk, "state": state}


@shared_task(name="sweeps.tasks.after_tick", acks_late=True)
def after_tick(results: list[dict[str, Any]], tick_id: int) -> dict[str, Any]:
    """Close the tick once all its summaries ended, then bring the day's rolling report up to date."""
    SweepTick.objects.filter(pk=tick_id, finished_at__isnull=True).update(finished_at=timezone.now())
    tick_row = SweepTick.objects.select_related("sweep").filter(pk=tick_id).first()
    if tick_row is not None and tick_row.sweep.rolling_report:
        refresh_rolling_report.delay(tick_row.sweep_id, tick_row.clock.date().isoformat())
    return {"tick": tick_id, "claims": len(results or [])}


@shared_task(name="sweeps.tasks.tick_broken", acks_late=True)
def tick_broken(tick_id: int) -> None:
    """A task of the tick's chord raised: close the tick saying so, and report on what did get summarized."""
    from django.db.models import Value
    from django.db.models.functions import Concat

    SweepTick.objects.filter(pk=tick_id, finished_at__isnull=True).update(
        finished_at=timezone.now(), message=Concat("message", Value(
            "; a summary task raised: sessions left in flight are queued again by a later tick")))
    after_tick([], tick_id)


@shared_task(name="sweeps.tasks.refresh_rolling_report", acks_late=True)
def refresh_rolling_report(sweep_id: int, day: str) -> int | None:
    """Re-run the sweep's report of that day (ISO date) over the day's summarized sessions."""
    from datetime import date

    from sweeps.rolling import refresh

    sweep = Sweep.objects.select_related("project").filter(pk=sweep_id).first()
    report = refresh(sweep, date.fromisoformat(day)) if sweep else None
    return report.pk if report else None


@shared_task(name="sweeps.tasks.track_report", bind=True, acks_late=True, max_retries=None)
def track_report(self, report_id: int, run: int, rolling_id: int) -> dict[str, Any]:
    """Once the rolling report's run ended: give its patterns their identity, check alerts, run again if dirty."""
    from patterns.models import Report
    from sweeps.after_report import report_ended

    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return {"report": report_id, "gone": True}
    if report.run != run:
        if not report.pipeline_state.get("resumes"):  # started again by a later tick, whose task tracks it
            return {"report": report_id, "superseded": True}
        run = report.run  # resumed by the stalled-report watchdog: follow the new run
    if not report.is_final:
        raise self.retry(args=(report_id, run, rolling_id), countdown=min(30, 2 + self.request.retries))
    return report_ended(report, rolling_id)


@shared_task(name="sweeps.tasks.deliver", bind=True, acks_late=True, max_retries=None)
def deliver(self, delivery_pk: int) -> None:
    """Send one alert delivery; a failure is retried with backoff up to RECAP_ALERT_MAX_ATTEMPTS."""
    from sweeps.alerts.delivery import attempt

    wait = attempt(delivery_pk)
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task(name="sweeps.tasks.send_digests", acks_late=True)
def send_digests() -> int:
    """Beat, daily: send every digest due today (each once); returns how many were sent."""
    from sweeps.alerts.digest import send_digest
    from sweeps.models import AlertPolicy

    now = timezone.now()
    policies = AlertPolicy.objects.filter(enabled=True).exclude(digest=AlertPolicy.Digest.OFF).select_related("project")
    return sum(1 for policy in policies if send_digest(policy, now) is not None)
