"""Capture payloads: find the events and the project token in a decoded body, check each event, normalize it."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from summaries.ingest.bodies import BodyError

SNAPSHOT_EVENT = "$snapshot"
MAX_REASONS_SHOWN = 10


@dataclass
class CapturePayload:
    """The outcome of checking one request: accepted events (normalized), and why others were refused."""

    token: str = ""
    events: list[dict] = field(default_factory=list)
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
    if isinstance(value, str) and value:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    return None


def iso(value: datetime) -> str:
    """UTC ISO-8601 with milliseconds, the form stored in raw batches."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unwrap(body: Any) -> tuple[list[Any], dict]:
    """The list of events in a body, and the envelope around it (empty for a bare list)."""
    if isinstance(body, list):
        return body, {}
    if isinstance(body, dict):
        if "batch" in body:
            if not isinstance(body["batch"], list):
                raise BodyError("`batch` must be a list of events")
            return body["batch"], body
        if "event" in body:
            return [body], body
        if "data" in body and isinstance(body["data"], list):
            return body["data"], body
        raise BodyError("JSON object has neither `batch` (a list of events) nor `event`")
    raise BodyError(f"expected a JSON event, a list of events or {{\"batch\": [...]}}, got {type(body).__name__}")


def find_token(envelope: dict, events: list[Any], query_token: str = "") -> str:
    """The project token: envelope `api_key`/`token`, the query string, or the first event that has one."""
    for key in ("api_key", "token"):
        if isinstance(envelope.get(key), str) and envelope[key]:
            return envelope[key]
    if query_token:
        return query_token
    for event in events:
        if isinstance(event, dict):
            props = event.get("properties") if isinstance(event.get("properties"), dict) else {}
            for candidate in (event.get("api_key"), event.get("token"), props.get("token")):
                if isinstance(candidate, str) and candidate:
                    return candidate
    return ""


def event_token(event: dict) -> str:
    """The token an event itself carries, if any."""
    props = event.get("properties") if isinstance(event.get("properties"), dict) else {}
    for candidate in (event.get("api_key"), event.get("token"), props.get("token")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return ""


def normalize_event(
    event: Any, *, index: int, token: str, received_at: datetime, max_event_bytes: int, check_size: bool = True
) -> dict:
    """One event checked and put in the stored form; raises ValueError with a reason naming the problem."""
    where = f"event {index}"
    if not isinstance(event, dict):
        raise ValueError(f"{where}: expected an object, got {type(event).__name__}")
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
    own_token = event_token(event)
    if own_token and token and own_token != token:
        raise ValueError(f"{where}: token differs from the batch's token")
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
            event_uuid = str(uuid.UUID(str(raw_uuid)))
        except ValueError:
            raise ValueError(f"{where}: `uuid` is not a UUID: {str(raw_uuid)[:60]!r}") from None
    if event.get("timestamp") not in (None, ""):
        when = parse_timestamp(event["timestamp"])
        if when is None:
            raise ValueError(f"{where}: `timestamp` is not an ISO-8601 time: {str(event['timestamp'])[:60]!r}")
    elif isinstance(event.get("offset"), (int, float)) and not isinstance(event.get("offset"), bool):
        when = received_at - timedelta(milliseconds=event["offset"])
    else:
        when = received_at
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
    elif check_size:
        size = len(json.dumps(props, separators=(",", ":"), ensure_ascii=False))
        if size > max_event_bytes:
            raise ValueError(f"{where}: {size} bytes, over the {max_event_bytes} byte event limit")
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
    body: Any,
    *,
    received_at: datetime,
    max_event_bytes: int,
    query_token: str = "",
    query_sent_at: str = "",
    body_bytes: int | None = None,
) -> CapturePayload:
    """Check a decoded body: the token, and each event (valid ones kept, others listed with a reason).

    When the whole body (`body_bytes`) is within the event limit, no event can be over it, and
    measuring each event is skipped.
    """
    check_size = body_bytes is None or body_bytes > max_event_bytes
    raw_events, envelope = unwrap(body)
    result = CapturePayload(token=find_token(envelope, raw_events, query_token))
    result.sent_at = parse_timestamp(envelope.get("sent_at")) or (
        parse_timestamp(int(query_sent_at)) if query_sent_at.isdigit() else None
    )
    for index, event in enumerate(raw_events):
        try:
            result.events.append(
                normalize_event(
                    event,
                    index=index,
                    token=result.token,
                    received_at=received_at,
                    max_event_bytes=max_event_bytes,
                    check_size=check_size,
                )
            )
        except ValueError as exc:
            result.rejected.append(str(exc))
    return result
