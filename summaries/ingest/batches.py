"""Raw batches: storing an accepted request, processing it (with attempts and a kept error), reprocessing."""
from __future__ import annotations

import logging
import traceback
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from summaries.ingest.processing import ProcessResult, process_events
from summaries.models import Project, RawBatch

log = logging.getLogger(__name__)


def store_batch(
    project: Project, events: list[dict], *, kind: str, source: str, rejected: int = 0,
    sent_at: datetime | None = None, user_agent: str = "", enqueue: bool = True,
) -> RawBatch:
    """Save accepted events compressed (before the client hears 200) and queue their processing after commit."""
    payload, size = RawBatch.pack(events)
    batch = RawBatch.objects.create(
        project=project, kind=kind, source=source[:300], payload=payload, payload_bytes=size,
        event_count=len(events), rejected_count=rejected, sent_at=sent_at, user_agent=user_agent[:400],
    )
    if enqueue:
        transaction.on_commit(lambda: enqueue_batch(batch.pk))
    return batch


def enqueue_batch(batch_id: int) -> None:
    """Queue processing; if the broker is down the batch stays pending and the sweep picks it up later."""
    from summaries.ingest.tasks import process_raw_batch

    try:
        process_raw_batch.delay(batch_id)
    except Exception:  # noqa: BLE001 - the batch is safe in the database; never fail the capture request
        log.exception("could not queue raw batch %s; it stays pending for the sweep", batch_id)


def max_attempts() -> int:
    """How many times a batch is tried before it is marked failed."""
    return int(getattr(settings, "RECAP_CAPTURE_MAX_ATTEMPTS", 3))


def process_batch(batch_id: int, *, force: bool = False) -> ProcessResult | None:
    """Process one raw batch; idempotent. Returns None when it was already processed (and not forced).

    The rows it adds and the batch's `processed` mark are committed together. On error the batch
    keeps the error text; it returns to pending until it has failed `max_attempts()` times, then
    it is marked failed (visible and reprocessable in the admin). The exception is re-raised so a
    Celery caller can retry.
    """
    try:
        with transaction.atomic():
            batch = RawBatch.objects.select_for_update().select_related("project").filter(pk=batch_id).first()
            if batch is None:
                log.warning("raw batch %s no longer exists", batch_id)
                return None
            if batch.state == RawBatch.State.PROCESSED and not force:
                return None
            result = process_events(batch.project, batch.events())
            RawBatch.objects.filter(pk=batch.pk).update(
                state=RawBatch.State.PROCESSED, error="", processed_at=timezone.now(), attempts=batch.attempts + 1
            )
            return result
    except Exception as exc:
        attempts = (RawBatch.objects.filter(pk=batch_id).values_list("attempts", flat=True).first() or 0) + 1
        final = attempts >= max_attempts()
        RawBatch.objects.filter(pk=batch_id).update(
            attempts=attempts,
            state=RawBatch.State.FAILED if final else RawBatch.State.PENDING,
            error=f"attempt {attempts}: {exc!r}\n{traceback.format_exc(limit=8)}"[:20000],
        )
        raise


def reprocess(batch_ids: list[int]) -> tuple[int, int]:
    """Process batches again now, in this process (admin action, command); returns (ok, failed)."""
    ok = failed = 0
    for batch_id in batch_ids:
        RawBatch.objects.filter(pk=batch_id).update(attempts=0)
        try:
            process_batch(batch_id, force=True)
            ok += 1
        except Exception:  # noqa: BLE001 - the error is kept on the batch
            failed += 1
    return ok, failed
