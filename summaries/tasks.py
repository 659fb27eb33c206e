"""Celery tasks of the summaries app: summarizing one session on the `llm` queue."""
from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="summaries.tasks.summarize_session", acks_late=True, ignore_result=False)
def summarize_session(session_pk: int, engine: str | None = None, focus: str = "", model: str | None = None) -> dict:
    """Summarize a stored session (by primary key); idempotent: a stored summary for the same inputs is reused.

    Returns {"summary_id", "status", "error"}; a failure is stored on the summary row, not raised, so one
    bad session never fails a batch (the caller counts failures against its threshold).
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
