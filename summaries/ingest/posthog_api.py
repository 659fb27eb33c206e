"""Pulling recordings, their snapshots and their events out of a PostHog instance through its public API.

Endpoints used (personal API key as `Authorization: Bearer <key>`, scopes session_recording:read, query:read):

1. `GET  /api/projects/<id>/session_recordings/?limit=&date_from=` - recordings, newest first; pages via `next`.
2. `GET  /api/projects/<id>/session_recordings/<session>/snapshots?blob_v2=true` - the recording's sources.
3. `GET  /api/projects/<id>/session_recordings/<session>/snapshots?source=blob_v2&start_blob_key=K&end_blob_key=K`
   (or `source=<name>&blob_key=K` for older sources, `source=realtime` for the last minutes) - JSON lines, each
   `[window_id, rrweb event]` or `{"window_id": ..., "data": [rrweb events]}`; events may carry `cv: "2024-10"`.
4. `POST /api/projects/<id>/query/` with a HogQLQuery selecting the session's events
   (uuid, event, timestamp, distinct_id, properties).
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from summaries.ingest.payload import parse_timestamp

EVENTS_QUERY = (
    "SELECT uuid, event, timestamp, distinct_id, properties FROM events "
    "WHERE `$session_id` = {session_id} ORDER BY timestamp ASC LIMIT {limit}"
)
MAX_EVENTS_PER_SESSION = 50_000


class PostHogAPIError(RuntimeError):
    """PostHog answered with an error we cannot work around."""


@dataclass
class RecordingListing:
    """One recording as PostHog lists it."""

    session_id: str
    distinct_id: str
    start_time: datetime | None
    person: dict | None


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """`--since`: an ISO date/time, or a relative `7d` / `12h`."""
    if not value:
        return None
    now = now or datetime.now(timezone.utc)
    text = value.strip().lower()
    if text[:-1].isdigit() and text[-1] in "dh":
        amount = int(text[:-1])
        return now - (timedelta(days=amount) if text[-1] == "d" else timedelta(hours=amount))
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError(f"--since must be an ISO date (2026-11-01) or like 7d / 12h, got {value!r}")
    return parsed


class PostHogClient:
    """A small client for the endpoints above, with retries on 429 / 5xx."""

    def __init__(self, host: str, project_id: int, api_key: str, *, timeout: float = 60.0,
                 attempts: int = 4, transport: httpx.BaseTransport | None = None) -> None:
        """Connect to `host` (e.g. https://us.posthog.com) for one project."""
        self.base = host.rstrip("/")
        self.project_id = project_id
        self.attempts = attempts
        self.http = httpx.Client(
            base_url=self.base, timeout=timeout, transport=transport, follow_redirects=True,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json",
                     "User-Agent": "recap-import/1"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried with backoff on 429 and 5xx; other errors raise PostHogAPIError."""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise PostHogAPIError(f"{method} {url}: {exc}") from exc
                time.sleep(min(10.0, 0.5 * 2 ** attempt))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.attempts:
                    break
                wait = response.headers.get("Retry-After", "")
                time.sleep(min(30.0, float(wait)) if wait.replace(".", "", 1).isdigit() else 0.5 * 2 ** attempt)
                continue
            if response.status_code in (401, 403):
                raise PostHogAPIError(f"PostHog refused the API key ({response.status_code}): use a personal API "
                                      "key with session_recording:read and query:read scopes")
            if response.status_code >= 400:
                raise PostHogAPIError(f"{method} {url}: HTTP {response.status_code}: {response.text[:300]}")
            return response
        raise PostHogAPIError(f"{method} {url}: HTTP {response.status_code} after {self.attempts} attempts")

    def recordings(self, *, since: datetime | None = None, limit: int | None = None) -> Iterator[RecordingListing]:
        """Recordings, newest first, at most `limit`."""
        params: dict[str, Any] = {"limit": min(limit or 100, 100)}
        if since is not None:
            params["date_from"] = since.isoformat()
        url: str | None = f"/api/projects/{self.project_id}/session_recordings/"
        seen = 0
        while url:
            # httpx replaces a URL's query with `params` when given: the `next` URL carries its own.
            body = self.request("GET", url, params=params or None).json()
            params = {}
            for item in body.get("results", []):
                start = parse_timestamp(item.get("start_time"))
                if since is not None and start is not None and start < since:
                    continue
                yield RecordingListing(str(item["id"]), str(item.get("distinct_id") or ""), start,
                                       item.get("person") if isinstance(item.get("person"), dict) else None)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            url = body.get("next") or None

    def snapshot_sources(self, session_id: str) -> list[dict]:
        """Where the recording's data can be loaded from."""
        url = f"/api/projects/{self.project_id}/session_recordings/{session_id}/snapshots"
        return list(self.request("GET", url, params={"blob_v2": "true"}).json().get("sources", []))

    def snapshots(self, session_id: str) -> dict[str, list[dict]]:
        """All rrweb events of the recording, by window id (blob sources, or realtime when there is no blob)."""
        url = f"/api/projects/{self.project_id}/session_recordings/{session_id}/snapshots"
        windows: dict[str, list[dict]] = {}
        sources = self.snapshot_sources(session_id)
        blobs = [s for s in sources if str(s.get("source", "")).startswith("blob")]
        for source in blobs or [s for s in sources if s.get("source") == "realtime"]:
            kind = str(source.get("source"))
            params: dict[str, Any] = {"source": kind}
            if kind == "blob_v2":
                params |= {"start_blob_key": source.get("blob_key"), "end_blob_key": source.get("blob_key")}
            elif source.get("blob_key") is not None:
                params["blob_key"] = source.get("blob_key")
            text = self.request("GET", url, params=params).text
            for window, event in parse_snapshot_lines(text):
                windows.setdefault(window, []).append(event)
        return windows

    def events(self, session_id: str) -> list[dict]:
        """The session's analytics events, as capture would have received them."""
        query = {"kind": "HogQLQuery", "query": EVENTS_QUERY.replace("{limit}", str(MAX_EVENTS_PER_SESSION)),
                 "values": {"session_id": session_id}}
        body = self.request("POST", f"/api/projects/{self.project_id}/query/", json={"query": query}).json()
        columns = body.get("columns") or ["uuid", "event", "timestamp", "distinct_id", "properties"]
        out = []
        for row in body.get("results", []):
            record = dict(zip(columns, row))
            props = record.get("properties")
            if isinstance(props, str):
                try:
                    props = json.loads(props)
                except json.JSONDecodeError:
                    props = {}
            if not isinstance(props, dict):
                props = {}
            props.setdefault("$session_id", session_id)
            out.append({"uuid": record.get("uuid"), "event": record.get("event"),
                        "timestamp": record.get("timestamp"), "distinct_id": record.get("distinct_id"),
                        "properties": props})
        return out


def parse_snapshot_lines(text: str) -> Iterator[tuple[str, dict]]:
    """(window id, rrweb event) pairs from a snapshot source's JSON lines (both known line shapes)."""
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict):
            yield str(item[0] or ""), item[1]
        elif isinstance(item, dict) and isinstance(item.get("data"), list):
            window = str(item.get("window_id") or "")
            for event in item["data"]:
                if isinstance(event, dict):
                    yield window, event
        elif isinstance(item, dict) and "type" in item:
            yield "", item
