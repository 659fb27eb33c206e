"""Export recorded sessions from Recap's database as PostHog event JSONL (gzip), with the labels file beside it."""
from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from corpus.truth import JourneyRecord, Mark, label_row

SESSIONS_FILE = "sessions.jsonl.gz"
LABELS_FILE = "labels.jsonl"


def wait_until_processed(project, session_ids: Iterable[str], timeout: float = 300.0, quiet: float = 4.0) -> None:
    """Wait until every raw batch is processed and the sessions have stopped changing for `quiet` seconds."""
    from summaries.models import RawBatch, Session

    wanted = set(session_ids)
    deadline = time.monotonic() + timeout
    failed_once = False
    last_state = None
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        pending = RawBatch.objects.filter(project=project).exclude(
            state__in=[RawBatch.State.PROCESSED, RawBatch.State.FAILED]).count()
        rows = list(Session.objects.filter(project=project, session_id__in=wanted)
                    .values_list("session_id", "event_count", "recording_event_count"))
        state = (pending, tuple(sorted(rows)))
        if state != last_state:
            last_state, stable_since = state, time.monotonic()
        elif pending and time.monotonic() - stable_since >= 3 * quiet:
            # A batch whose task lost a race for the SQLite write lock stays pending until a sweep; do it now.
            process_stale_batches(project)
        elif pending == 0 and len(rows) == len(wanted) and time.monotonic() - stable_since >= quiet:
            if not failed_once and RawBatch.objects.filter(project=project, state=RawBatch.State.FAILED).exists():
                failed_once = True
                process_stale_batches(project)
                continue
            return
        time.sleep(1.0)
    missing = wanted - {r[0] for r in (last_state or (0, ()))[1]}
    raise TimeoutError(f"Recap did not finish processing in {timeout:.0f} s "
                       f"({(last_state or (0,))[0]} batches pending, sessions missing: {sorted(missing)[:5]})")


def process_stale_batches(project) -> int:
    """Process the project's pending and failed batches in this process (idempotent); returns how many.

    On the embedded SQLite install, capture and the worker contend for the write lock; a batch that lost three
    times is marked failed. This throwaway install is ours, so its data is processed again rather than lost.
    """
    from summaries.ingest.batches import process_batch
    from summaries.models import RawBatch

    done = 0
    stale = RawBatch.objects.filter(project=project, state__in=[RawBatch.State.PENDING, RawBatch.State.FAILED])
    for pk in stale.values_list("pk", flat=True):
        try:
            process_batch(pk, force=True)
            done += 1
        except Exception:  # noqa: BLE001 - the batch keeps its error; the wait reports what is left
            pass
    return done


def session_events(session) -> list[dict]:
    """One session's analytics events and `$snapshot` events (one per stored chunk), time-ordered."""
    out: list[dict] = []
    for event in session.events.order_by("timestamp", "uuid"):
        props = dict(event.properties)
        out.append({
            "uuid": str(event.uuid),
            "event": event.name,
            "distinct_id": str(props.get("distinct_id") or session.distinct_id),
            "timestamp": event.timestamp.isoformat().replace("+00:00", "Z"),
            "properties": props,
        })
    for chunk in session.recording_chunks.order_by("first_timestamp", "id"):
        rrweb = chunk.read_events()
        if not rrweb:
            continue
        out.append({
            "event": "$snapshot",
            "distinct_id": session.distinct_id,
            "timestamp": chunk.first_timestamp.isoformat().replace("+00:00", "Z"),
            "properties": {"$session_id": session.session_id, "$window_id": chunk.window_id,
                           "$snapshot_data": rrweb, "$lib": "web"},
        })
    out.sort(key=lambda e: e["timestamp"])
    return out


def export_dataset(project, records: list[JourneyRecord], out_dir: Path,
                   observed: Callable[[JourneyRecord], list[Mark]] | None = None) -> dict:
    """Write sessions.jsonl.gz and labels.jsonl for the journeys that played through; returns counts.

    `observed` labels what the browser saw in the app's terms (default: the shop's; see label_row).
    """
    from summaries.models import Session

    out_dir.mkdir(parents=True, exist_ok=True)
    labels: list[dict] = []
    skipped: list[str] = []
    tmp = out_dir / (SESSIONS_FILE + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as sink:
        for record in records:
            if record.error or len(record.session_ids) != 1:
                skipped.append(f"{record.spec.name}: {record.error.splitlines()[0] if record.error else 'sessions ' + str(record.session_ids)}")
                continue
            session = Session.objects.filter(project=project, session_id=record.session_ids[0]).first()
            if session is None or not session.recording_event_count:
                skipped.append(f"{record.spec.name}: Recap has no recording for session {record.session_ids[0]}")
                continue
            for event in session_events(session):
                sink.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
            labels.append(label_row(record, session.session_id, session.start_time.timestamp(), observed))
    tmp.replace(out_dir / SESSIONS_FILE)
    (out_dir / LABELS_FILE).write_text("".join(json.dumps(row) + "\n" for row in labels))
    return {"sessions": len(labels), "skipped": skipped}
