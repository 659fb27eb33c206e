"""Celery tasks of the summaries app: summarizing one session on the `llm` queue, and re-queueing abandoned runs."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)
# A summary row created but not picked up for this long lost its task (a worker died before running it).
PENDING_GRACE = timedelta(minutes=10)


@shared_task(name="summaries.tasks.summarize_session", acks_late=True, ignore_result=False)
def summarize_session(session_pk: int, engine: str | None = None, focus: str = "", model: str | None = None) -> dict:
    """Summarize a stored session (by primary key); idempotent: a stored summary for the same inputs is reused.

    Returns {"summary_id", "status", "error"}; a failure is stored on the summary row, not raised, so one
    bad session never fails a batch (the caller counts failures against its threshold). A run already alive
    elsewhere (its heartbeat is fresh) is left alone: the answer says `running`.
    """
    from summaries.models import Session
    from summaries.summarize import SummaryFailed
    from summaries.summarize import summarize_session as run

    try:
        session = Session.objects.select_related("project").get(pk=session_pk)
    except Session.DoesNotExist:
        return {"summary_id": None, "status": "failed", "error": f"session {session_pk} does not exist"}
    try:
        row = run(session, engine=engine, model=model, focus=focus)
    except SummaryFailed as exc:
        log.warning("summary of session %s failed: %s", session.session_id, exc)
        row = session.summaries.order_by("-updated_at").first()
        return {"summary_id": row.pk if row else None, "status": "failed", "error": str(exc)}
    return {"summary_id": row.pk, "status": row.status, "error": row.error}


@shared_task(name="summaries.tasks.resume_summary", acks_late=True, ignore_result=True)
def resume_summary(summary_pk: int) -> dict | None:
    """Run an abandoned summary again; if the session changed since, the new summary supersedes the old row."""
    from summaries.models import SessionSummary

    row = SessionSummary.objects.filter(pk=summary_pk).first()
    if row is None or row.status in (SessionSummary.Status.SUCCEEDED, SessionSummary.Status.FAILED):
        return None
    result = summarize_session(row.session_id, row.engine, row.focus, row.model or None)
    if result["summary_id"] != row.pk:
        SessionSummary.objects.filter(pk=row.pk).exclude(status=SessionSummary.Status.SUCCEEDED).update(
            status=SessionSummary.Status.FAILED,
            error=f"superseded by summary {result['summary_id']}: the session changed while it was abandoned")
    return result


@shared_task(name="summaries.tasks.requeue_abandoned_summaries")
def requeue_abandoned_summaries() -> int:
    """Queue again summaries whose worker died: running with a stopped heartbeat, or created and never run.

    Beat runs this every minute, so a killed worker's summaries resume within minutes instead of waiting for
    the broker to give its messages back. Returns how many were queued.
    """
    from summaries.heartbeat import stale_after
    from summaries.models import SessionSummary

    now = timezone.now()
    stale = now - stale_after()
    running_dead = Q(status=SessionSummary.Status.RUNNING) & (
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, updated_at__lt=stale))
    never_run = Q(status=SessionSummary.Status.PENDING, updated_at__lt=now - PENDING_GRACE)
    ids = list(SessionSummary.objects.filter(running_dead | never_run).order_by("pk").values_list("pk", flat=True)[:500])
    for pk in ids:
        # Pending again, marked now: the next sweep leaves it to the queued task unless that is lost as well.
        SessionSummary.objects.filter(pk=pk).update(status=SessionSummary.Status.PENDING, updated_at=now,
                                                    error="its worker stopped; queued again")
        resume_summary.delay(pk)
    if ids:
        log.warning("re-queued %d summaries abandoned by a worker that stopped", len(ids))
    return len(ids)
