"""Turning accepted events into Session / Event / RecordingChunk rows, idempotently."""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from summaries.ingest.assembly import (
    ChunkFigures,
    EventFigures,
    activity_from_timestamps,
    assemble,
    email_in,
    is_identified,
)
from summaries.ingest.payload import SNAPSHOT_EVENT, parse_timestamp
from summaries.ingest.rrweb import (
    INACTIVITY_GAP_MS,
    RecordingError,
    decompress_event,
    is_rrweb_event,
    recording_stats,
)
from summaries.models import Event, Project, RecordingChunk, Session, datetime_to_ms, ms_to_datetime

log = logging.getLogger(__name__)
SESSION_FIGURES = [
    "start_time", "end_time", "duration_seconds", "active_seconds", "event_count", "exception_count",
    "click_count", "keypress_count", "mouse_activity_count", "console_error_count", "recording_event_count",
    "first_url", "first_url_at", "distinct_id", "person_email", "last_ingested_at", "ingestion_state",
]


@dataclass
class ProcessResult:
    """What processing a batch did."""

    events_added: int = 0
    events_duplicate: int = 0
    events_without_session: int = 0
    chunks_added: int = 0
    chunks_duplicate: int = 0
    rrweb_events_added: int = 0
    rrweb_events_invalid: int = 0
    sessions: set[str] = field(default_factory=set)

    def merge(self, other: "ProcessResult") -> None:
        """Add another result's counts to this one."""
        for name in ("events_added", "events_duplicate", "events_without_session", "chunks_added",
                     "chunks_duplicate", "rrweb_events_added", "rrweb_events_invalid"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sessions |= other.sessions


@dataclass
class _Incoming:
    """Per-session facts about the incoming events that the database aggregates cannot give cheaply."""

    first_url: str = ""
    first_url_at: datetime | None = None
    latest_at: datetime | None = None
    latest_distinct_id: str = ""
    identified: bool = False
    email: str = ""
    email_at: datetime | None = None

    def offer_url(self, url: str, at: datetime) -> None:
        """Keep the earliest URL seen."""
        if url and (self.first_url_at is None or at < self.first_url_at):
            self.first_url, self.first_url_at = url[:2048], at

    def offer_identity(self, distinct_id: str, email: str, at: datetime, identified: bool) -> None:
        """Keep the latest distinct id (an identified one beats any anonymous one) and the latest email."""
        better = identified and not self.identified
        same_kind = identified == self.identified
        if distinct_id and (better or (same_kind and (self.latest_at is None or at >= self.latest_at))):
            self.latest_distinct_id, self.latest_at, self.identified = distinct_id, at, identified
        if email and (self.email_at is None or at >= self.email_at):
            self.email, self.email_at = email, at


def recording_source_key(session_id: str, window_id: str, events: list[dict]) -> str:
    """A content hash: the same rrweb events of the same window are stored once, however often they arrive."""
    digest = hashlib.sha256(f"{session_id}\n{window_id}\n".encode())
    digest.update(json.dumps(events, separators=(",", ":"), sort_keys=True).encode())
    return "sha256:" + digest.hexdigest()[:48]


def insert_events(rows: list[Event]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING of many events.

    On Postgres the rows travel as one JSON document expanded by `jsonb_to_recordset`: one short,
    cacheable statement with one parameter. Django's bulk_create would send UNNEST arrays (escaping
    every JSON document into an array literal) and a multi-row VALUES list would make the driver
    parse a statement with hundreds of placeholders on every call; both cost more CPU than the insert.
    """
    if connection.vendor != "postgresql":
        Event.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        return
    table = connection.ops.quote_name(Event._meta.db_table)
    document = json.dumps(
        [{"session_id": row.session_id, "uuid": str(row.uuid), "timestamp": row.timestamp.isoformat(),
          "name": row.name, "window_id": row.window_id, "current_url": row.current_url,
          "properties": row.properties} for row in rows],
        separators=(",", ":"), ensure_ascii=False,
    ).replace("\\u0000", "")  # jsonb refuses NUL characters; a stray one must not fail the whole batch
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_id, uuid, timestamp, name, window_id, current_url, properties) "
            "SELECT session_id, uuid, timestamp, name, window_id, current_url, properties "
            "FROM jsonb_to_recordset(%s::jsonb) AS row(session_id bigint, uuid uuid, timestamp timestamptz, "
            "name text, window_id text, current_url text, properties jsonb) ON CONFLICT DO NOTHING",
            [document],
        )


def events_active_seconds(session_pks: list[int]) -> dict[int, float]:
    """Active seconds from analytics events alone (sessions without a recording): gaps of up to 5 s count.

    On Postgres the gaps are summed by the database (a window function), so no rows travel.
    """
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Event._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT session_id, COALESCE(SUM(CASE WHEN gap <= %s THEN gap ELSE 0 END), 0) FROM ("
                "  SELECT session_id, EXTRACT(EPOCH FROM timestamp - LAG(timestamp) OVER ("
                f"   PARTITION BY session_id ORDER BY timestamp)) AS gap FROM {table} WHERE session_id = ANY(%s)"
                ") AS gaps GROUP BY session_id",
                [INACTIVITY_GAP_MS / 1000, list(session_pks)],
            )
            return {pk: float(seconds) for pk, seconds in cursor.fetchall()}
    times: dict[int, list[int]] = defaultdict(list)
    for pk, ts in Event.objects.filter(session_id__in=session_pks).values_list("session_id", "timestamp"):
        times[pk].append(datetime_to_ms(ts))
    return {pk: activity_from_timestamps(values) for pk, values in times.items()}


def _lock_sessions(project: Project, session_ids: set[str]) -> dict[str, Session]:
    """Get or create the sessions, locked for this transaction (in pk order, so workers do not deadlock)."""
    def locked(ids: set[str]) -> dict[str, Session]:
        rows = Session.objects.select_for_update().filter(project=project, session_id__in=ids).order_by("pk")
        return {s.session_id: s for s in rows}

    sessions = locked(session_ids)
    missing = session_ids - set(sessions)
    if missing:
        Session.objects.bulk_create(
            [Session(project=project, session_id=sid) for sid in sorted(missing)], ignore_conflicts=True
        )
        sessions |= locked(missing)
    return sessions


def _store_recordings(
    sessions: dict[str, Session], snapshots: dict[tuple[str, str], list[dict]], incoming: dict[str, _Incoming],
    result: ProcessResult,
) -> set[str]:
    """Write one chunk per (session, window) of this batch, unless the same content is already stored.

    Returns the session ids that got a new chunk.
    """
    grown: set[str] = set()
    for (sid, window_id), raw_events in snapshots.items():
        session = sessions[sid]
        events: list[dict] = []
        for raw in raw_events:
            if not is_rrweb_event(raw):
                result.rrweb_events_invalid += 1
                continue
            try:
                events.append(decompress_event(raw))
            except RecordingError as exc:
                log.warning("session %s: dropping an rrweb event that cannot be decoded: %s", sid, exc)
                result.rrweb_events_invalid += 1
        if not events:
            continue
        key = recording_source_key(sid, window_id, raw_events)
        if RecordingChunk.objects.filter(session=session, source_key=key).exists():
            result.chunks_duplicate += 1
            continue
        stats = recording_stats(events)
        if stats.first_url_ms is not None:
            incoming[sid].offer_url(stats.first_url, ms_to_datetime(stats.first_url_ms))
        try:
            with transaction.atomic():
                RecordingChunk.store(session, window_id, events, source_key=key, **stats.as_fields())
        except IntegrityError:  # stored by a concurrent run of the same batch
            result.chunks_duplicate += 1
            continue
        result.chunks_added += 1
        result.rrweb_events_added += len(events)
        grown.add(sid)
    return grown


def _reassemble(
    sessions: dict[str, Session], incoming: dict[str, _Incoming], changed: set[str], counts_before: dict[str, int]
) -> None:
    """Recompute the sessions' figures from their rows (idempotent, order independent) and save them.

    A session counts as changed (re-opened, last_ingested_at bumped) when it got a new chunk (`changed`)
    or its event count grew.
    """
    pks = [s.pk for s in sessions.values()]
    event_rows = {
        row["session_id"]: row
        for row in Event.objects.filter(session_id__in=pks)
        .values("session_id")
        .annotate(
            first=Min("timestamp"),
            last=Max("timestamp"),
            n=Count("id"),
            exceptions=Count("id", filter=Q(name="$exception")),
            clicks=Count("id", filter=Q(name="$autocapture", **{"properties__$event_type": "click"})),
        )
    }
    chunk_rows: dict[int, list[ChunkFigures]] = defaultdict(list)
    for row in RecordingChunk.objects.filter(session_id__in=pks).values_list(
        "session_id", "first_timestamp", "last_timestamp", "event_count", "activity_segments",
        "click_count", "keypress_count", "mouse_activity_count", "console_error_count",
    ):
        chunk_rows[row[0]].append(ChunkFigures(*row[1:]))
    without_recording = [pk for pk in pks if pk not in chunk_rows]
    events_active = events_active_seconds(without_recording) if without_recording else {}
    now = timezone.now()
    to_save = []
    for sid, session in sessions.items():
        row = event_rows.get(session.pk, {})
        figures = assemble(
            EventFigures(row.get("first"), row.get("last"), row.get("n", 0), row.get("exceptions", 0),
                         row.get("clicks", 0)),
            chunk_rows.get(session.pk, []),
            events_active.get(session.pk, 0.0),
        )
        seen = incoming[sid]
        previous_end = session.end_time
        for name, value in vars(figures).items():
            setattr(session, name, value)
        if seen.first_url_at and (session.first_url_at is None or seen.first_url_at < session.first_url_at):
            session.first_url, session.first_url_at = seen.first_url, seen.first_url_at
        # An identified id always replaces the anonymous one; anonymous ids only fill an empty field,
        # so late anonymous data never undoes an identification.
        if seen.latest_distinct_id and (seen.identified or not session.distinct_id):
            session.distinct_id = seen.latest_distinct_id
        if seen.email and (not session.person_email or previous_end is None or seen.email_at >= previous_end):
            session.person_email = seen.email
        if sid in changed or session.event_count > counts_before.get(sid, session.event_count):
            session.last_ingested_at = now
            session.ingestion_state = Session.IngestionState.RECEIVING
        to_save.append(session)
    for session in to_save:  # usually one session per batch: a plain UPDATE is cheaper than bulk_update's CASEs
        session.save(update_fields=SESSION_FIGURES)


def process_events(project: Project, events: list[dict]) -> ProcessResult:
    """Store normalized events (analytics and `$snapshot`) of one project; safe to run again on the same input."""
    result = ProcessResult()
    analytics: dict[str, list[dict]] = defaultdict(list)
    snapshots: dict[tuple[str, str], list[dict]] = defaultdict(list)
    incoming: dict[str, _Incoming] = defaultdict(_Incoming)
    for event in events:
        props = event.get("properties") or {}
        sid = props.get("$session_id")
        if not sid:
            result.events_without_session += 1
            continue
        at = parse_timestamp(event.get("timestamp")) or timezone.now()
        event["_at"] = at
        if event["event"] == SNAPSHOT_EVENT:
            snapshots[(sid, str(props.get("$window_id") or "")[:200])].extend(props.get("$snapshot_data") or [])
            incoming[sid].offer_identity(str(event.get("distinct_id") or ""), "", at, False)
        else:
            analytics[sid].append(event)
            url = props.get("$current_url")
            if isinstance(url, str):
                incoming[sid].offer_url(url, at)
            incoming[sid].offer_identity(
                str(event.get("distinct_id") or ""), email_in(props), at, is_identified(event["event"], props)
            )
    session_ids = set(analytics) | {sid for sid, _ in snapshots}
    if not session_ids:
        return result
    with transaction.atomic():
        sessions = _lock_sessions(project, session_ids)
        rows = []
        for sid, items in analytics.items():
            for event in items:
                props = event["properties"]
                url = props.get("$current_url")
                rows.append(Event(
                    session=sessions[sid],
                    uuid=event["uuid"],
                    timestamp=event["_at"],
                    name=event["event"],
                    window_id=str(props.get("$window_id") or "")[:200],
                    current_url=url[:2048] if isinstance(url, str) else "",
                    properties=props,
                ))
        if rows:
            unique = {_as_uuid(row.uuid): row for row in rows}
            # ON CONFLICT DO NOTHING: a retried request or a reprocessed batch adds nothing. What was really
            # added is read from the (locked) sessions' event counts once they are recomputed.
            insert_events(list(unique.values()))
        counts_before = {sid: sessions[sid].event_count for sid in analytics}
        changed = _store_recordings(sessions, snapshots, incoming, result)
        _reassemble(sessions, incoming, changed, counts_before)
        for sid, count in counts_before.items():
            added = sessions[sid].event_count - count
            result.events_added += added
            result.events_duplicate += len(analytics[sid]) - added
    result.sessions = session_ids
    for event in events:
        event.pop("_at", None)
    return result


def _as_uuid(value: object) -> uuid.UUID:
    """A UUID object from a uuid string or UUID."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
