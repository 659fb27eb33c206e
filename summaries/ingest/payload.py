"""Capture payloads: find the events and the project token in a decoded body, check each event, normalize it."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from summaries.ingest.bodies import SNAPSHOT_KEYS, BodyError, BodyTooLarge, RrwebList, StreamedBody, json_bytes
from summaries.ingest.projects import valid_token
from summaries.ingest.sanitize import EARLIEST, LATEST, clean

SNAPSHOT_EVENT = "$snapshot"
MAX_REASONS_SHOWN = 10


@dataclass
class CapturePayload:
    """The outcome of checking one request: accepted events (serialized, one JSON line each), and why others
    were refused."""

    token: str = ""
    lines: list[bytes] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    sent_at: datetime | None = None


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 string or epoch milliseconds to an aware UTC datetime; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value and len(value) <= 64:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        try:
            return parsed.astimezone(timezone.utc)
        except (OverflowError, ValueError):  # year 1 or 9999 with an offset
            return None
    return None


def in_range(value: datetime | None) -> datetime | None:
    """The time when a session can have it (2000-2100), else None."""
    return value if value is not None and EARLIEST <= value < LATEST else None


def iso(value: datetime) -> str:
    """UTC ISO-8601 with milliseconds, the form stored in raw batches."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unwrap(body: Any) -> tuple[list[Any], dict]:
    """The list of events in a parsed body, and the envelope around it (empty for a bare list)."""
    if isinstance(body, list):
        return body, {}
    if isinstance(body, dict):
        if "batch" in body:
            if not isinstance(body["batch"], list):
                raise BodyError("`batch` must be a list of events")
            return body["batch"], body
        if "event" in body:
            return [body], {}
        if "data" in body and isinstance(body["data"], list):
            return body["data"], body
        raise BodyError("JSON object has neither `batch` (a list of events) nor `event`")
    raise BodyError(f"expected a JSON event, a list of events or {{\"batch\": [...]}}, got {type(body).__name__}")


def find_token(envelope: dict, own_tokens: list[str], query_token: str = "") -> str:
    """The project token: envelope `api_key`/`token`, the query string, or the first event that has one."""
    for key in ("api_key", "token"):
        if envelope.get(key):
            return valid_token(envelope[key])
    if query_token:
        return valid_token(query_token)
    return next((token for token in own_tokens if token), "")


def event_token(event: dict) -> str:
    """The token an event itself carries, if any."""
    props = event.get("properties") if isinstance(event.get("properties"), dict) else {}
    for candidate in (event.get("api_key"), event.get("token"), props.get("token")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return ""


def clean_event(event: dict, *, text: bool, numbers: bool) -> None:
    """Make an event storable in place; a `$snapshot`'s rrweb data keeps its text (compressed fields are binary
    carried as latin-1 text, NUL included), only its numbers are made finite."""
    props = event.get("properties")
    payload: dict[str, Any] = {}
    if event.get("event") == SNAPSHOT_EVENT and isinstance(props, dict):
        payload = {key: props.pop(key) for key in SNAPSHOT_KEYS if key in props}
    if text or numbers:
        clean(event, text=text)
    if payload:
        if numbers:
            clean(payload, text=False)
        event["properties"].update(payload)


def encode_event(event: dict) -> bytes | bytearray:
    """One normalized event as a JSON line, an RrwebList spliced in as sent; ValueError when it cannot be one."""
    props = event.get("properties")
    rrweb = props.get("$snapshot_data") if isinstance(props, dict) else None
    try:
        if not isinstance(rrweb, RrwebList):
            return json_bytes(event)
        marker = f"rrweb-{uuid.uuid4()}"
        head, tail = json_bytes({**event, "properties": {**props, "$snapshot_data": marker}}).split(
            f'"{marker}"'.encode(), 1)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"cannot be stored as JSON: {exc}") from None
    # Sized once and filled piece by piece (each piece let go as it is copied): the recording exists in memory
    # once more while its line is written, never twice.
    line = bytearray(len(head) + len(tail) + 2 + sum(map(len, rrweb)) + max(0, len(rrweb) - 1))
    view = memoryview(line)
    view[:len(head) + 1] = head + b"["
    at = len(head) + 1
    rrweb.reverse()
    while rrweb:
        piece = rrweb.pop()
        view[at:at + len(piece)] = piece
        at += len(piece)
        if rrweb:
            view[at:at + 1] = b","
            at += 1
    view[at:] = b"]" + tail
    view.release()
    return line


def event_time(event: dict, received_at: datetime, where: str) -> datetime:
    """When an event happened: its `timestamp`, else received time minus its `offset` (ms), else received time."""
    if event.get("timestamp") not in (None, ""):
        when = in_range(parse_timestamp(event["timestamp"]))
        if when is None:
            raise ValueError(f"{where}: `timestamp` is not an ISO-8601 time between 2000 and 2100: "
                             f"{str(event['timestamp'])[:60]!r}")
        return when
    offset = event.get("offset")
    if isinstance(offset, (int, float)) and not isinstance(offset, bool):
        try:
            when = in_range(received_at - timedelta(milliseconds=offset))
        except (OverflowError, ValueError):
            when = None
        if when is None:
            raise ValueError(f"{where}: `offset` {str(offset)[:30]} ms puts the event outside 2000-2100")
        return when
    return received_at


def normalize_event(event: Any, *, index: int, received_at: datetime, text: bool = True, numbers: bool = True) -> dict:
    """One event checked and put in the stored form; raises ValueError with a reason naming the problem.

    `text` / `numbers` say whether the body may hold NUL characters, lone surrogates or non-finite numbers.
    """
    where = f"event {index}"
    if not isinstance(event, dict):
        raise ValueError(f"{where}: expected an object, got {type(event).__name__}")
    clean_event(event, text=text, numbers=numbers)
    name = event.get("event")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: missing `event` (the event name, a string)")
    if len(name) > 200:
        raise ValueError(f"{where}: event name is longer than 200 characters")
    where = f"event {index} ({name[:40]})"
    props = event.get("properties", {})
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise ValueError(f"{where}: `properties` must be an object, got {type(props).__name__}")
    distinct_id = event.get("distinct_id", props.get("distinct_id", props.get("$distinct_id")))
    if isinstance(distinct_id, (int, float)) and not isinstance(distinct_id, bool):
        distinct_id = str(distinct_id)
    if not isinstance(distinct_id, str) or not distinct_id.strip():
        raise ValueError(f"{where}: missing `distinct_id`")
    raw_uuid = event.get("uuid")
    if raw_uuid in (None, ""):
        event_uuid = str(uuid.uuid4())
    else:
        try:
            event_uuid = str(uuid.UUID(str(raw_uuid)[:100]))
        except ValueError:
            raise ValueError(f"{where}: `uuid` is not a UUID: {str(raw_uuid)[:60]!r}") from None
    when = event_time(event, received_at, where)
    session_id = props.get("$session_id")
    if session_id is not None and not isinstance(session_id, str):
        raise ValueError(f"{where}: `$session_id` must be a string")
    if session_id and len(session_id) > 200:
        raise ValueError(f"{where}: `$session_id` is longer than 200 characters")
    if name == SNAPSHOT_EVENT:
        data = props.get("$snapshot_data", props.get("$snapshot_items"))
        if not session_id:
            raise ValueError(f"{where}: a $snapshot needs `$session_id`")
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ValueError(f"{where}: `$snapshot_data` must be a list of rrweb events")
        props = {k: v for k, v in props.items() if k != "$snapshot_items"} | {"$snapshot_data": data}
    for key in ("$set", "$set_once"):
        if isinstance(event.get(key), dict) and key not in props:
            props = {**props, key: event[key]}
    props.pop("token", None)
    return {
        "uuid": event_uuid,
        "event": name,
        "distinct_id": distinct_id.strip()[:200],
        "timestamp": iso(when),
        "properties": props,
    }


def check_payload(
    body: StreamedBody | list | dict,
    *,
    received_at: datetime,
    max_event_bytes: int,
    max_events: int | None = None,
    query_token: str = "",
    query_sent_at: str = "",
    suspect: tuple[bool, bool] = (True, True),
) -> CapturePayload:
    """Check a body: the token, and each event (valid ones kept as JSON lines, others listed with a reason).

    A StreamedBody is read one event at a time and each is released once serialized, so a large request is
    never held as parsed objects. `suspect` (sanitize.suspects of the JSON text) says whether events need
    cleaning; by default every event is cleaned. More than `max_events` events refuse the whole request (BodyTooLarge).
    """
    needs_text, needs_numbers = suspect
    if isinstance(body, StreamedBody):
        events: Iterable[Any] = body
    else:
        events, envelope = unwrap(body)
    result = CapturePayload()
    own_tokens: list[str] = []
    for index, raw in enumerate(events):
        if max_events is not None and index >= max_events:
            raise BodyTooLarge(f"more than {max_events} events in one request; send them in smaller batches")
        try:
            own = event_token(raw) if isinstance(raw, dict) else ""
            event = normalize_event(raw, index=index, received_at=received_at, text=needs_text,
                                    numbers=needs_numbers)
            line = encode_event(event)
            if event["event"] != SNAPSHOT_EVENT and len(line) > max_event_bytes:
                raise ValueError(f"event {index} ({event['event'][:40]}): {len(line)} bytes, "
                                 f"over the {max_event_bytes} byte event limit")
        except ValueError as exc:
            result.rejected.append(str(exc) if str(exc).startswith("event ") else f"event {index}: {exc}")
            continue
        result.lines.append(line)
        own_tokens.append(valid_token(own) if own else "")
    if isinstance(body, StreamedBody):
        envelope = body.envelope
    result.token = find_token(envelope, own_tokens, query_token)
    if any(own and own != result.token for own in own_tokens):
        kept = [(line, own) for line, own in zip(result.lines, own_tokens) if not own or own == result.token]
        result.rejected += [f"event with token {own[:24]!r}: token differs from the batch's token"
                            for own in own_tokens if own and own != result.token]
        result.lines = [line for line, _ in kept]
    result.sent_at = in_range(parse_timestamp(envelope.get("sent_at"))) or (
        in_range(parse_timestamp(int(query_sent_at))) if query_sent_at.isdigit() and len(query_sent_at) <= 16
        else None
    )
    return result
