"""Helpers for capture tests: a project, posthog-js shaped events and rrweb recordings."""
from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone

from summaries.models import Organization, Project

T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=timezone.utc)


def make_project(name: str = "Shop") -> Project:
    """An organization with one project."""
    org = Organization.objects.create(name=f"Org {name}", slug=f"org-{uuid.uuid4().hex[:10]}")
    return Project.objects.create(organization=org, name=name)


def ms(at: datetime) -> int:
    """Epoch milliseconds."""
    return int(at.timestamp() * 1000)


def ph_event(name: str, at: datetime, session: str = "sess-1", *, token: str = "", distinct_id: str = "anon-1",
             url: str = "https://shop.test/", window: str = "win-1", **props: object) -> dict:
    """An event as posthog-js sends it."""
    properties = {"$session_id": session, "$window_id": window, "$current_url": url, "distinct_id": distinct_id,
                  **props}
    if token:
        properties["token"] = token
    return {"uuid": str(uuid.uuid4()), "event": name, "properties": properties,
            "timestamp": at.isoformat().replace("+00:00", "Z")}


def rrweb_recording(start: datetime, seconds: int = 20, *, href: str = "https://shop.test/",
                    active_until: int | None = None) -> list[dict]:
    """A small rrweb recording: Meta, FullSnapshot, then a mouse move per second (activity) and a click."""
    t = ms(start)
    events = [
        {"type": 4, "timestamp": t, "data": {"href": href, "width": 1200, "height": 800}},
        {"type": 2, "timestamp": t + 10, "data": {"node": {"type": 0, "childNodes": [], "id": 1},
                                                   "initialOffset": {"left": 0, "top": 0}}},
    ]
    last_active = seconds if active_until is None else active_until
    for second in range(1, last_active + 1):
        events.append({"type": 3, "timestamp": t + second * 1000,
                       "data": {"source": 1, "positions": [{"x": second, "y": 5, "id": 1, "timeOffset": 0}]}})
    events.append({"type": 3, "timestamp": t + 1500, "data": {"source": 2, "type": 2, "id": 1, "x": 3, "y": 4}})
    events.append({"type": 3, "timestamp": t + seconds * 1000,
                   "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": []}})
    return events


def snapshot_event(events: list[dict], at: datetime, session: str = "sess-1", *, window: str = "win-1",
                   token: str = "", distinct_id: str = "anon-1") -> dict:
    """A `$snapshot` event carrying rrweb events, as posthog-js posts to /s/."""
    props = {"$session_id": session, "$window_id": window, "$snapshot_data": events,
             "$snapshot_bytes": len(json.dumps(events)), "distinct_id": distinct_id, "$lib": "web"}
    if token:
        props["token"] = token
    return {"uuid": str(uuid.uuid4()), "event": "$snapshot", "properties": props,
            "timestamp": at.isoformat().replace("+00:00", "Z")}


def gz(obj: object) -> bytes:
    """JSON then gzip, as posthog-js sends bodies."""
    return gzip.compress(json.dumps(obj).encode())


def later(seconds: float) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def compress_rrweb_event(event: dict) -> dict:
    """posthog-js's per-event compression (`cv: "2024-10"`): FullSnapshot data and Mutation fields gzipped, as
    latin-1 strings."""
    def pack(value: object) -> str:
        return gzip.compress(json.dumps(value).encode()).decode("latin-1")

    kind, data = event.get("type"), event.get("data")
    if kind == 2:
        return {**event, "data": pack(data), "cv": "2024-10"}
    if kind == 3 and isinstance(data, dict) and data.get("source") == 0:
        packed = {name: pack(data.get(name, [])) for name in ("texts", "attributes", "removes", "adds")}
        return {**event, "data": {**data, **packed}, "cv": "2024-10"}
    return event
