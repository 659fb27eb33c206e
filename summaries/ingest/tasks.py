"""Celery tasks of capture: drain a project's pending batches, process one batch, sweep, close idle sessions."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from summaries.ingest.batches import drain, max_attempts, process_batch
from summaries.models import RawBatch, Session

# A drain gives other projects' drains a turn after this long (it queues itself again if work is left).
DRAIN_SECONDS = 30.0


@shared_task(name="summaries.ingest.tasks.drain_project", acks_late=True, ignore_result=True)
def drain_project(project_id: int) -> None:
    """Process a project's pending raw batches in groups until none is left (idempotent)."""
    if not drain(project_id, DRAIN_SECONDS):
        drain_project.delay(project_id)


@shared_task(name="summaries.ingest.tasks.process_raw_batch", bind=True, acks_late=True, max_retries=5,
             ignore_result=True)
def process_raw_batch(self, batch_id: int) -> dict | None:
    """Turn a stored capture request into sessions, events and recording chunks (idempotent)."""
    try:
        result = process_batch(batch_id)
    except Exception as exc:
        batch = RawBatch.objects.filter(pk=batch_id).only("state", "attempts").first()
        if batch is not None and batch.state == RawBatch.State.PENDING and batch.attempts < max_attempts():
            raise self.retry(exc=exc, countdown=min(60, 5 * 2 ** batch.attempts))
        raise
    if result is None:
        return None
    return {"events": result.events_added, "duplicates": result.events_duplicate, "chunks": result.chunks_added}


@shared_task(name="summaries.ingest.tasks.sweep_pending_batches")
def sweep_pending_batches(older_than_seconds: int = 120) -> int:
    """Queue a drain of every project with batches still pending after a while (broker was down, worker died,
    a batch failed and waits for another attempt); returns how many projects."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    projects = list(
        RawBatch.objects.filter(state=RawBatch.State.PENDING, received_at__lt=cutoff)
        .order_by().values_list("project_id", flat=True).distinct()
    )
    for project_id in projects:
        drain_project.delay(project_id)
    return len(projects)


@shared_task(name="summaries.ingest.tasks.complete_idle_sessions")
def complete_idle_sessions() -> int:
    """Mark sessions complete once nothing has arrived for RECAP_SESSION_IDLE_MINUTES; returns how many."""
    minutes = int(getattr(settings, "RECAP_SESSION_IDLE_MINUTES", 30))
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return Session.objects.filter(
        ingestion_state=Session.IngestionState.RECEIVING, last_ingested_at__lt=cutoff
    ).update(ingestion_state=Session.IngestionState.COMPLETE)


@shared_task(name="summaries.ingest.tasks.prune_processed_batches")
def prune_processed_batches() -> int:
    """Delete processed raw batches older than RECAP_RAW_BATCH_RETENTION_DAYS (0 keeps them); failed ones stay."""
    days = int(getattr(settings, "RECAP_RAW_BATCH_RETENTION_DAYS", 14))
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = RawBatch.objects.filter(state=RawBatch.State.PROCESSED, received_at__lt=cutoff).delete()
    return deleted
