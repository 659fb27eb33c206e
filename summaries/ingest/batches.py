"""Raw batches: storing an accepted request, processing pending ones in groups, attempts and errors, reprocessing."""
from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from summaries.ingest.binding import insert
from summaries.ingest.processing import ProcessResult, process_events
from summaries.ingest.ratelimit import redis_client, redis_key
from summaries.models import Project, RawBatch

log = logging.getLogger(__name__)
# A group is processed in one transaction: big enough to share its statements, small enough to stay short.
GROUP_BATCHES = 200
GROUP_BYTES = 16 * 1024 * 1024
# While this flag is set a drain task is queued or running for the project, so requests queue no other.
DRAIN_FLAG_SECONDS = 60


def store_batch(
    project: Project, lines: list[bytes], *, kind: str, source: str, rejected: int = 0,
    sent_at: datetime | None = None, user_agent: str = "", enqueue: bool = True,
) -> RawBatch:
    """Save accepted events (JSON lines) compressed, before the client hears 200, and ask for processing."""
    payload, size = RawBatch.pack(lines)
    batch = insert(RawBatch(
        project=project, kind=kind, source=source[:300], payload=payload, payload_bytes=size,
        event_count=len(lines), rejected_count=rejected, sent_at=sent_at,
        user_agent=user_agent[:400],
    ))
    if enqueue:
        transaction.on_commit(lambda: request_processing(project.pk))
    return batch


def drain_flag(project_id: int) -> str:
    """The cache key saying a drain of this project is queued or running."""
    return f"capture-drain:{project_id}"


def request_processing(project_id: int) -> None:
    """Queue a drain of the project's pending batches unless one is already queued or running.

    One publish per drain instead of one task per request keeps capture cheap at hundreds of requests a
    second. If Redis is down the batch stays pending and the beat sweep picks it up.
    """
    from summaries.ingest.tasks import drain_project

    try:
        if redis_client().set(redis_key(drain_flag(project_id)), 1, nx=True, ex=DRAIN_FLAG_SECONDS):
            drain_project.delay(project_id)
    except Exception:  # noqa: BLE001 - the batch is safe in the database; never fail the capture request
        log.exception("could not queue processing of project %s; its batches stay pending for the sweep",
                      project_id)


def release_drain(project_id: int) -> None:
    """Clear the drain flag (the drain looks for work once more afterwards, so nothing waits for the sweep)."""
    try:
        redis_client().delete(redis_key(drain_flag(project_id)))
    except Exception:  # noqa: BLE001 - the flag expires by itself
        log.warning("could not clear the drain flag of project %s", project_id, exc_info=True)


def enqueue_batch(batch_id: int) -> None:
    """Queue processing of one batch; if the broker is down the batch stays pending for the sweep."""
    from summaries.ingest.tasks import process_raw_batch

    try:
        process_raw_batch.delay(batch_id)
    except Exception:  # noqa: BLE001 - the batch is safe in the database
        log.exception("could not queue raw batch %s; it stays pending for the sweep", batch_id)


def max_attempts() -> int:
    """How many times a batch is tried before it is marked failed."""
    return int(getattr(settings, "RECAP_CAPTURE_MAX_ATTEMPTS", 3))


def _events_of(batches: list[RawBatch]) -> Iterable[tuple[int, Iterable[object]]]:
    """(batch id, its events read one at a time) for process_events."""
    return ((batch.pk, batch.iter_events()) for batch in batches)


def process_batch(batch_id: int, *, force: bool = False) -> ProcessResult | None:
    """Process one raw batch; idempotent. Returns None when it was already processed (and not forced).

    The rows it adds and the batch's `processed` mark are committed together. On error the batch
    keeps the error text; it returns to pending until it has failed `max_attempts()` times, then
    it is marked failed (visible and reprocessable in the admin). The exception is re-raised so a
    Celery caller can retry.
    """
    try:
        with transaction.atomic():
            batch = RawBatch.objects.select_for_update().filter(pk=batch_id).first()
            if batch is None:
                log.warning("raw batch %s no longer exists", batch_id)
                return None
            if batch.state == RawBatch.State.PROCESSED and not force:
                return None
            result = process_events(batch.project_id, _events_of([batch]))
            RawBatch.objects.filter(pk=batch.pk).update(
                state=RawBatch.State.PROCESSED, error="", processed_at=timezone.now(), attempts=batch.attempts + 1
            )
            return result
    except Exception as exc:
        record_failure(batch_id, exc)
        raise


def record_failure(batch_id: int, exc: BaseException) -> None:
    """Keep the error on the batch: pending again, or failed after max_attempts()."""
    attempts = (RawBatch.objects.filter(pk=batch_id).values_list("attempts", flat=True).first() or 0) + 1
    final = attempts >= max_attempts()
    RawBatch.objects.filter(pk=batch_id).update(
        attempts=attempts,
        state=RawBatch.State.FAILED if final else RawBatch.State.PENDING,
        error=f"attempt {attempts}: {exc!r}\n{''.join(traceback.format_exception(exc, limit=8))}"[:20000],
    )


def _claim(project_id: int, exclude: set[int]) -> list[RawBatch]:
    """Lock the oldest pending batches of a project (skipping ones another worker holds), up to a group's size."""
    candidates = (RawBatch.objects.filter(project_id=project_id, state=RawBatch.State.PENDING)
                  .exclude(pk__in=exclude).order_by("received_at", "pk")
                  .values_list("pk", "payload_bytes")[:GROUP_BATCHES])
    ids, total = [], 0
    for pk, size in candidates:
        if ids and total + size > GROUP_BYTES:
            break
        ids.append(pk)
        total += size
    if not ids:
        return []
    return list(RawBatch.objects.select_for_update(skip_locked=True)
                .filter(pk__in=ids, state=RawBatch.State.PENDING).order_by("received_at", "pk"))


def process_pending(project_id: int, exclude: set[int] | None = None) -> tuple[int, set[int]]:
    """Process the next group of a project's pending batches in one transaction.

    Returns (batches handled, ids of those that failed and stay pending). Should the group fail, each of its
    batches is processed alone, so a batch that keeps failing is set aside (pending with its error, then
    failed after max_attempts()) and the others are stored. Ids in `exclude` are left alone.
    """
    exclude = exclude or set()
    try:
        with transaction.atomic():
            batches = _claim(project_id, exclude)
            if not batches:
                return 0, set()
            process_events(project_id, _events_of(batches))
            RawBatch.objects.filter(pk__in=[b.pk for b in batches]).update(
                state=RawBatch.State.PROCESSED, error="", processed_at=timezone.now(),
            )
            return len(batches), set()
    except Exception:  # noqa: BLE001 - find the batch that fails; the rest go through one by one
        log.warning("a group of batches of project %s failed; processing them one by one", project_id,
                    exc_info=True)
    with transaction.atomic():
        ids = [b.pk for b in _claim(project_id, exclude)]
    failed = set()
    for batch_id in ids:
        try:
            process_batch(batch_id)
        except Exception:  # noqa: BLE001 - kept on the batch by process_batch
            log.warning("raw batch %s failed", batch_id, exc_info=True)
            failed.add(batch_id)
    return len(ids), failed


def drain(project_id: int, seconds: float) -> bool:
    """Process a project's pending batches, group after group, for up to `seconds`; True when none is left.

    Batches that fail are not tried again in the same drain (the next drain or the sweep retries them).
    """
    deadline = time.monotonic() + seconds
    failed: set[int] = set()
    while time.monotonic() < deadline:
        handled, new_failures = process_pending(project_id, failed)
        failed |= new_failures
        if handled:
            continue
        release_drain(project_id)
        # A request that stored a batch while the flag was still set queued no drain: look once more.
        handled, new_failures = process_pending(project_id, failed)
        failed |= new_failures
        if not handled:
            return True
    return False


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
