"""What a recorded session shows, read from its PostHog events: network requests, exceptions, clicks, mutations.

Used to check that each journey's labels are borne out by what posthog-js actually recorded.
"""
from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

FULL_SNAPSHOT, INCREMENTAL, PLUGIN = 2, 3, 6
MUTATION, MOUSE_INTERACTION = 0, 2
CLICK = 2


@dataclass(frozen=True)
class Request:
    """One network request from the rrweb/network@1 plugin data."""

    url: str
    method: str
    status: int | None
    at_ms: float
    duration_ms: float = 0.0


def read_sessions(path: Path) -> dict[str, list[dict]]:
    """Events of a PostHog event JSONL(.gz) file, grouped by `$session_id`."""
    sessions: dict[str, list[dict]] = defaultdict(list)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                event = json.loads(line)
                sid = (event.get("properties") or {}).get("$session_id")
                if sid:
                    sessions[sid].append(event)
    return dict(sessions)


def rrweb_events(events: list[dict]) -> list[dict]:
    """All rrweb events of a session's `$snapshot` events, time-ordered."""
    out = [item for e in events if e.get("event") == "$snapshot"
           for item in (e["properties"].get("$snapshot_data") or []) if isinstance(item, dict)]
    return sorted(out, key=lambda r: r.get("timestamp", 0))


def network_requests(events: list[dict]) -> list[Request]:
    """Requests posthog-js's network plugin recorded (status from the fetch wrapper or resource timing)."""
    found = []
    for item in rrweb_events(events):
        if item.get("type") != PLUGIN or item.get("data", {}).get("plugin") != "rrweb/network@1":
            continue
        for req in item["data"].get("payload", {}).get("requests", []):
            status = req.get("status") or req.get("responseStatus")
            duration = req.get("duration")
            if duration is None and req.get("endTime") is not None and req.get("startTime") is not None:
                duration = req["endTime"] - req["startTime"]
            found.append(Request(str(req.get("name", "")), str(req.get("method") or "GET"),
                                 int(status) if status else None, float(req.get("timestamp") or item["timestamp"]),
                                 float(duration or 0.0)))
    return found


def exceptions(events: list[dict]) -> list[dict]:
    """`$exception` events' first exception entries ({type, value, ...})."""
    out = []
    for e in events:
        if e.get("event") == "$exception":
            entries = e["properties"].get("$exception_list") or [{}]
            out.append(entries[0])
    return out


def clicks_between(events: list[dict], start_ms: float, end_ms: float) -> list[dict]:
    """rrweb click interactions in [start_ms, end_ms]."""
    return [r for r in rrweb_events(events)
            if r.get("type") == INCREMENTAL and r["data"].get("source") == MOUSE_INTERACTION
            and r["data"].get("type") == CLICK and start_ms <= r["timestamp"] <= end_ms]


def mutations_between(events: list[dict], start_ms: float, end_ms: float) -> list[dict]:
    """rrweb DOM mutations (and full snapshots, i.e. page loads) in [start_ms, end_ms]."""
    return [r for r in rrweb_events(events)
            if start_ms <= r.get("timestamp", 0) <= end_ms
            and (r.get("type") == FULL_SNAPSHOT or (r.get("type") == INCREMENTAL and r["data"].get("source") == MUTATION))]


def start_ms(events: list[dict]) -> float:
    """The session's first recorded moment (earliest event or rrweb timestamp), in ms."""
    times = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp() * 1000 for e in events]
    times += [r["timestamp"] for r in rrweb_events(events) if "timestamp" in r]
    return min(times)


def attribute_changes(events: list[dict], name: str) -> list[tuple[float, int, str | None]]:
    """(ms, node id, new value) of every recorded change of one attribute (rrweb records only real changes)."""
    return [(r["timestamp"], change["id"], change["attributes"][name])
            for r in rrweb_events(events)
            if r.get("type") == INCREMENTAL and r["data"].get("source") == MUTATION
            for change in r["data"].get("attributes") or [] if name in (change.get("attributes") or {})]


def nodes_added(events: list[dict], attribute: str, value: str) -> list[float]:
    """Times (ms) at which an element with attribute=value entered the page (a full snapshot or a mutation)."""
    found = []

    def walk(node: dict, at: float) -> None:
        """Collect matches in a serialized node and its children."""
        if (node.get("attributes") or {}).get(attribute) == value:
            found.append(at)
        for child in node.get("childNodes") or []:
            walk(child, at)

    for r in rrweb_events(events):
        if r.get("type") == FULL_SNAPSHOT:
            walk(r["data"].get("node") or {}, r["timestamp"])
        elif r.get("type") == INCREMENTAL and r["data"].get("source") == MUTATION:
            for add in r["data"].get("adds") or []:
                walk(add.get("node") or {}, r["timestamp"])
    return found
