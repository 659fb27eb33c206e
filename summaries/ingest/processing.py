"""Turning accepted events into Session / Event / RecordingChunk rows, idempotently, many raw batches at once.

A group of raw batches of one project is read one event at a time, its new events inserted in one statement,
its recordings stored as one chunk per (batch, window), and each touched session's figures extended by what
was really added (a resent event adds nothing). An event that cannot be stored is quarantined with its reason;
its neighbours are stored.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from summaries.ingest.assembly import ChunkFigures, EventFigures, SessionFigures, assemble, email_in, extend, \
    is_identified
from summaries.ingest.binding import bound_cursor
from summaries.ingest.payload import SNAPSHOT_EVENT, clean_event, in_range, parse_timestamp
from summaries.ingest.rrweb import RecordingError, decompress_event, is_rrweb_event, recording_stats
from summaries.ingest.sanitize import clean_text
from summaries.models import Event, QuarantinedEvent, RecordingChunk, Session, datetime_to_ms, ms_to_datetime

log = logging.getLogger(__name__)
SESSION_FIGURES = [
    *SessionFigures.__dataclass_fields__, "first_url", "first_url_at", "distinct_id", "person_email",
    "last_ingested_at", "ingestion_state",
]


@dataclass
class ProcessResult:
    """What processing did."""

    events_added: int = 0
    events_duplicate: int = 0
    events_without_session: int = 0
    events_quarantined: int = 0
    chunks_added: int = 0
    chunks_duplicate: int = 0
    rrweb_events_added: int = 0
    rrweb_events_invalid: int = 0
    sessions: set[str] = field(default_factory=set)


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


@dataclass
class _Row:
    """An analytics event on its way to the events table."""

    batch_id: int | None
    session_id: str
    uuid: uuid.UUID
    at: datetime
    name: str
    window_id: str
    current_url: str
    properties: dict

    def clean(self) -> None:
        """Strip what the database refuses (NUL, lone surrogates, NaN) from every field."""
        self.name, self.window_id, self.current_url = map(clean_text, (self.name, self.window_id, self.current_url))
        clean_event({"event": self.name, "properties": self.properties}, text=True, numbers=True)

    def as_event(self) -> dict:
        """The row as an event again (for quarantine)."""
        return {"event": self.name, "uuid": str(self.uuid), "timestamp": self.at.isoformat(),
                "properties": self.properties}

    def document(self, session_pk: int) -> dict:
        """The row as jsonb_to_recordset reads it."""
        return {"session_id": session_pk, "uuid": str(self.uuid), "timestamp": self.at.isoformat(),
                "name": self.name, "window_id": self.window_id, "current_url": self.current_url,
                "properties": self.properties}


@dataclass
class _Group:
    """The events of a group of raw batches, sorted out: rows per session, rrweb data per (batch, window)."""

    rows: dict[tuple[str, uuid.UUID], _Row] = field(default_factory=dict)
    snapshots: dict[tuple[int | None, str, str], list] = field(default_factory=lambda: defaultdict(list))
    incoming: dict[str, _Incoming] = field(default_factory=lambda: defaultdict(_Incoming))
    quarantine: list[QuarantinedEvent] = field(default_factory=list)
    seen_rows: int = 0
    refused_rows: int = 0
    result: ProcessResult = field(default_factory=ProcessResult)

    def hold(self, project_id: int, batch_id: int | None, event: object, reason: str, *, whole: bool = True) -> None:
        """Keep an event (or, not `whole`, the bad part of one) that cannot be stored, with why."""
        name = event.get("event") if isinstance(event, dict) else ""
        self.quarantine.append(QuarantinedEvent(
            project_id=project_id, raw_batch_id=batch_id, name=clean_text(name if isinstance(name, str) else "")[:200],
            reason=clean_text(reason)[:2000], event=QuarantinedEvent.describe(event),
        ))
        self.result.events_quarantined += whole

    def add(self, project_id: int, batch_id: int | None, event: object) -> None:
        """Sort one accepted event into rows or rrweb data; quarantine it when it is not an event."""
        if not isinstance(event, dict) or not isinstance(event.get("event"), str) \
                or not isinstance(event.get("properties"), dict):
            self.hold(project_id, batch_id, event, "not an event object with a name and properties")
            return
        props = event["properties"]
        sid = props.get("$session_id")
        if not sid:
            self.result.events_without_session += 1
            return
        at = in_range(parse_timestamp(event.get("timestamp")))
        if not isinstance(sid, str) or len(sid) > 200 or at is None:
            self.hold(project_id, batch_id, event,
                      "`$session_id` is not a string of up to 200 characters, or `timestamp` is not a time")
            return
        window = str(props.get("$window_id") or "")[:200]
        distinct_id = str(event.get("distinct_id") or "")[:200]
        if event["event"] == SNAPSHOT_EVENT:
            data = props.get("$snapshot_data")
            self.snapshots[(batch_id, sid, window)].extend(data if isinstance(data, list) else [])
            self.incoming[sid].offer_identity(distinct_id, "", at, False)
            return
        try:
            event_uuid = uuid.UUID(str(event.get("uuid")))
        except ValueError:
            self.hold(project_id, batch_id, event, "`uuid` is not a UUID")
            return
        url = props.get("$current_url")
        url = url[:2048] if isinstance(url, str) else ""
        self.seen_rows += 1
        self.rows[(sid, event_uuid)] = _Row(batch_id, sid, event_uuid, at, event["event"][:200], window, url, props)
        self.incoming[sid].offer_url(url, at)
        self.incoming[sid].offer_identity(distinct_id, email_in(props), at, is_identified(event["event"], props))

    @property
    def session_ids(self) -> set[str]:
        """Every session the group touches."""
        return {sid for sid, _ in self.rows} | {sid for _, sid, _ in self.snapshots}


@dataclass
class _Added:
    """What a group really added to one session."""

    events: list[_Row] = field(default_factory=list)
    chunks: list[ChunkFigures] = field(default_factory=list)

    def event_figures(self) -> EventFigures:
        """Aggregates of the added events."""
        times = [row.at for row in self.events]
        return EventFigures(
            first=min(times, default=None), last=max(times, default=None), count=len(self.events),
            exceptions=sum(1 for row in self.events if row.name == "$exception"),
            autocapture_clicks=sum(1 for row in self.events if row.name == "$autocapture"
                                   and row.properties.get("$event_type") == "click"),
        )


def recording_source_key(session_id: str, window_id: str, events: list[dict]) -> str:
    """A content hash: the same rrweb events of the same window are stored once, however often they arrive."""
    digest = hashlib.sha256(f"{session_id}\n{window_id}\n".encode())
    digest.update(json.dumps(events, separators=(",", ":"), sort_keys=True, default=str).encode())
    return "sha256:" + digest.hexdigest()[:48]


def _insert_sql() -> str:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING of events sent as one JSON document (Postgres).

    One short, cacheable statement with one parameter: Django's bulk_create would send UNNEST arrays (escaping
    every JSON document into an array literal) and a VALUES list would be parsed anew for every size.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    return (
        f"INSERT INTO {table} (session_id, uuid, timestamp, name, window_id, current_url, properties) "
        "SELECT session_id, uuid, timestamp, name, window_id, current_url, properties "
        "FROM jsonb_to_recordset(%s::jsonb) AS row(session_id bigint, uuid uuid, timestamp timestamptz, "
        "name text, window_id text, current_url text, properties jsonb) ON CONFLICT DO NOTHING "
        "RETURNING session_id, uuid"
    )


def _insert_rows(rows: list[_Row], sessions: dict[str, Session]) -> list[_Row]:
    """Insert rows not stored yet; returns the ones that were inserted (a resent event is not)."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        document = json.dumps([row.document(sessions[row.session_id].pk) for row in rows],
                              separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        with bound_cursor() as cursor:
            cursor.execute(_insert_sql(), [document])
            inserted = {(pk, value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
                        for pk, value in cursor.fetchall()}
        return [row for row in rows if (sessions[row.session_id].pk, row.uuid) in inserted]
    # SQLite: write transactions are exclusive, so "not there yet" stays true until the insert.
    pks = {sessions[row.session_id].pk for row in rows}
    present = set(Event.objects.filter(session_id__in=pks, uuid__in=[row.uuid for row in rows])
                  .values_list("session_id", "uuid"))
    fresh = [row for row in rows if (sessions[row.session_id].pk, row.uuid) not in present]
    Event.objects.bulk_create([
        Event(session=sessions[row.session_id], uuid=row.uuid, timestamp=row.at, name=row.name,
              window_id=row.window_id, current_url=row.current_url, properties=row.properties)
        for row in fresh
    ], ignore_conflicts=True, batch_size=500)
    return fresh


def _insert_events(project_id: int, group: _Group, sessions: dict[str, Session]) -> list[_Row]:
    """All rows in one statement; if the database refuses it, row by row, cleaning and then quarantining the
    rows it still refuses, so one bad event never keeps the others out."""
    rows = list(group.rows.values())
    try:
        with transaction.atomic():
            return _insert_rows(rows, sessions)
    except (DatabaseError, ValueError) as exc:
        log.warning("inserting %d events at once failed (%s); inserting them one by one", len(rows), exc)
    inserted: list[_Row] = []
    for row in rows:
        for attempt in ("as sent", "cleaned"):
            try:
                with transaction.atomic():
                    inserted += _insert_rows([row], sessions)
                break
            except (DatabaseError, ValueError) as exc:
                if attempt == "cleaned":
                    group.hold(project_id, row.batch_id, row.as_event(), f"the database refused the event: {exc}")
                    group.refused_rows += 1
                else:
                    row.clean()
    return inserted


def _lock_sessions(project_id: int, session_ids: set[str]) -> dict[str, Session]:
    """Get or create the sessions, locked for this transaction (in pk order, so workers do not deadlock)."""
    def locked(ids: set[str]) -> dict[str, Session]:
        rows = Session.objects.select_for_update().filter(project_id=project_id, session_id__in=ids).order_by("pk")
        return {s.session_id: s for s in rows}

    sessions = locked(session_ids)
    missing = session_ids - set(sessions)
    if missing:
        Session.objects.bulk_create(
            [Session(project_id=project_id, session_id=sid) for sid in sorted(missing)], ignore_conflicts=True
        )
        sessions |= locked(missing)
    return sessions


def _store_recordings(project_id: int, group: _Group, sessions: dict[str, Session]) -> dict[str, list[ChunkFigures]]:
    """Write one chunk per (batch, session, window), unless the same content is already stored.

    rrweb items that are not rrweb events, or cannot be decompressed, are dropped and quarantined together,
    one row per window, so a recording with a few bad events keeps the rest. The caller holds the sessions'
    locks, so "not stored yet" stays true until the rows are inserted, all in one statement.
    """
    result = group.result
    prepared: list[tuple[str, str, str, list[dict]]] = []
    for (batch_id, sid, window_id), raw_events in group.snapshots.items():
        events: list[dict] = []
        bad: list[tuple[object, str]] = []
        for raw in raw_events:
            if not is_rrweb_event(raw):
                bad.append((raw, "not an rrweb event (numeric type, epoch-ms timestamp in 2000-2100)"))
                continue
            try:
                events.append(decompress_event(raw))
            except (RecordingError, RecursionError) as exc:
                bad.append((raw, f"cannot be decoded: {exc}"))
        if bad:
            result.rrweb_events_invalid += len(bad)
            group.hold(project_id, batch_id, {"event": SNAPSHOT_EVENT, "$session_id": sid, "$window_id": window_id,
                                              "dropped": [item for item, _ in bad[:5]]},
                       f"{len(bad)} rrweb item(s) dropped from the recording; first: {bad[0][1]}", whole=False)
        if events:
            prepared.append((sid, window_id, recording_source_key(sid, window_id, raw_events), events))
    if not prepared:
        return {}
    stored = set(RecordingChunk.objects.filter(
        session__in={sessions[sid].pk for sid, _, _, _ in prepared}, source_key__in=[p[2] for p in prepared],
    ).values_list("session_id", "source_key"))
    chunks: list[RecordingChunk] = []
    owners: list[str] = []
    for sid, window_id, key, events in prepared:
        if (sessions[sid].pk, key) in stored:  # stored before, or earlier in this group (a resent request)
            result.chunks_duplicate += 1
            continue
        stored.add((sessions[sid].pk, key))
        stats = recording_stats(events)
        if stats.first_url_ms is not None:
            group.incoming[sid].offer_url(stats.first_url, ms_to_datetime(stats.first_url_ms))
        chunks.append(RecordingChunk.prepare(sessions[sid], window_id, events, source_key=key, **stats.as_fields()))
        owners.append(sid)
        result.rrweb_events_added += len(events)
    RecordingChunk.objects.bulk_create(chunks)
    result.chunks_added += len(chunks)
    added: dict[str, list[ChunkFigures]] = defaultdict(list)
    for sid, chunk in zip(owners, chunks):
        added[sid].append(ChunkFigures(chunk.first_timestamp, chunk.last_timestamp, chunk.event_count,
                                       chunk.activity_segments, chunk.click_count, chunk.keypress_count,
                                       chunk.mouse_activity_count, chunk.console_error_count))
    return added


def recompute(sessions: list[Session]) -> dict[int, SessionFigures]:
    """Sessions' figures from all their stored rows (when extending is not enough, or nothing is known yet)."""
    pks = [s.pk for s in sessions]
    aggregates = {
        row["session_id"]: row
        for row in Event.objects.filter(session_id__in=pks).values("session_id").annotate(
            first=Min("timestamp"), last=Max("timestamp"), n=Count("id"),
            exceptions=Count("id", filter=Q(name="$exception")),
            clicks=Count("id", filter=Q(name="$autocapture", **{"properties__$event_type": "click"})),
        )
    }
    chunks: dict[int, list[ChunkFigures]] = defaultdict(list)
    for row in RecordingChunk.objects.filter(session_id__in=pks).values_list(
        "session_id", "first_timestamp", "last_timestamp", "event_count", "activity_segments",
        "click_count", "keypress_count", "mouse_activity_count", "console_error_count",
    ):
        chunks[row[0]].append(ChunkFigures(*row[1:]))
    times: dict[int, list[int]] = defaultdict(list)
    for pk, ts in Event.objects.filter(session_id__in=[pk for pk in pks if pk not in chunks]).values_list(
            "session_id", "timestamp"):
        times[pk].append(datetime_to_ms(ts))
    figures = {}
    for pk in pks:
        row = aggregates.get(pk, {})
        events = EventFigures(row.get("first"), row.get("last"), row.get("n", 0), row.get("exceptions", 0),
                              row.get("clicks", 0))
        figures[pk] = assemble(events, chunks.get(pk, []), times.get(pk, []))
    return figures


def _update_sessions(sessions: dict[str, Session], group: _Group, rows: list[_Row],
                     chunks: dict[str, list[ChunkFigures]]) -> None:
    """Extend each session's figures by what was added (recomputing the few that need it) and save them."""
    added: dict[str, _Added] = defaultdict(_Added)
    for row in rows:
        added[row.session_id].events.append(row)
    for sid, items in chunks.items():
        added[sid].chunks = items
    figures: dict[str, SessionFigures] = {}
    stale = []
    for sid, session in sessions.items():
        new = added[sid]
        known = None if session.activity_segments is None else SessionFigures.of(session)
        extended = known and extend(known, new.event_figures(), new.chunks,
                                    [datetime_to_ms(row.at) for row in new.events])
        if extended:
            figures[sid] = extended
        else:
            stale.append(session)
    recomputed = recompute(stale) if stale else {}
    now = timezone.now()
    for sid, session in sessions.items():
        figure = figures.get(sid) or recomputed[session.pk]
        seen = group.incoming[sid]
        previous_end = session.end_time
        for name, value in vars(figure).items():
            setattr(session, name, value)
        if seen.first_url_at and (session.first_url_at is None or seen.first_url_at < session.first_url_at):
            session.first_url, session.first_url_at = seen.first_url, seen.first_url_at
        # An identified id always replaces the anonymous one; anonymous ids only fill an empty field,
        # so late anonymous data never undoes an identification.
        if seen.latest_distinct_id and (seen.identified or not session.distinct_id):
            session.distinct_id = seen.latest_distinct_id
        if seen.email and (not session.person_email or previous_end is None or seen.email_at >= previous_end):
            session.person_email = seen.email[:254]
        if added[sid].events or added[sid].chunks:
            session.last_ingested_at = now
            session.ingestion_state = Session.IngestionState.RECEIVING
        session.save(update_fields=SESSION_FIGURES)


def process_events(project_id: int, batches: Iterable[tuple[int | None, Iterable[object]]]) -> ProcessResult:
    """Store the events of raw batches of one project, given as (batch id, events); safe to run again.

    The caller holds a transaction (and the batches' locks); rows, quarantined events and session figures
    are written in it.
    """
    group = _Group()
    for batch_id, events in batches:
        try:
            for event in events:
                group.add(project_id, batch_id, event)
        except (OSError, EOFError, ValueError) as exc:  # a payload that breaks off: keep what was read
            group.hold(project_id, batch_id, None, f"the rest of the batch cannot be read: {exc}")
    result = group.result
    session_ids = group.session_ids
    if session_ids:
        sessions = _lock_sessions(project_id, session_ids)
        rows = _insert_events(project_id, group, sessions)
        chunks = _store_recordings(project_id, group, sessions)
        _update_sessions(sessions, group, rows, chunks)
        result.events_added = len(rows)
        result.events_duplicate = group.seen_rows - len(rows) - group.refused_rows
        result.sessions = session_ids
    if group.quarantine:
        QuarantinedEvent.objects.bulk_create(group.quarantine)
    return result
