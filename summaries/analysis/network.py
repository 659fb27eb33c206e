"""Failed network requests, read from the recording's `rrweb/network@1` plugin events."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

NETWORK_PLUGIN = "rrweb/network@1"
# A request that failed and then succeeded again this soon, with no user action between, was retried by
# the app itself: the user never saw it.
AUTO_RETRY_MS = 3000


@dataclass(frozen=True)
class NetworkRequest:
    """One request seen by the recorder."""

    timestamp_ms: int
    method: str
    url: str
    status: int | None
    duration_ms: int | None
    initiator: str = ""

    @property
    def failed(self) -> bool:
        """Status >= 400, or a network error (status 0)."""
        return self.status is not None and (self.status >= 400 or self.status == 0)

    @property
    def endpoint(self) -> str:
        """Method and path, for matching repeats of the same call."""
        try:
            path = urlsplit(self.url).path or self.url
        except ValueError:
            path = self.url
        return f"{self.method} {path}".strip()


def _request_time(request: dict[str, Any], event_ts: int) -> int:
    """Absolute start time of a request (the plugin mixes epoch and page-relative clocks)."""
    ts = request.get("timestamp")
    if isinstance(ts, (int, float)) and ts > 1e12:
        return int(ts)
    origin, start = request.get("timeOrigin"), request.get("startTime")
    if isinstance(origin, (int, float)) and isinstance(start, (int, float)) and origin > 1e12:
        return int(origin + start)
    if isinstance(start, (int, float)) and start > 1e12:
        return int(start)
    return int(event_ts)


def network_requests(rrweb_events: list[dict[str, Any]]) -> list[NetworkRequest]:
    """All requests recorded by the network plugin, time-ordered."""
    out: list[NetworkRequest] = []
    for event in rrweb_events:
        if event.get("type") != 6:
            continue
        data = event.get("data") or {}
        if data.get("plugin") != NETWORK_PLUGIN:
            continue
        for req in (data.get("payload") or {}).get("requests") or []:
            if not isinstance(req, dict):
                continue
            status = req.get("status", req.get("responseStatus"))
            start, end = req.get("startTime"), req.get("endTime")
            duration = int(end - start) if isinstance(start, (int, float)) and isinstance(end, (int, float)) else None
            out.append(
                NetworkRequest(
                    timestamp_ms=_request_time(req, int(event.get("timestamp") or 0)),
                    method=str(req.get("method") or "").upper(),  # resource timing entries carry no method
                    url=str(req.get("name") or req.get("url") or ""),
                    status=int(status) if isinstance(status, (int, float)) else None,
                    duration_ms=duration,
                    initiator=str(req.get("initiatorType") or ""),
                )
            )
    out.sort(key=lambda r: r.timestamp_ms)
    return out


def failed_requests(
    requests: list[NetworkRequest], user_action_times: list[int] | None = None, *, ignore_hosts: tuple[str, ...] = ()
) -> list[tuple[NetworkRequest, bool]]:
    """Failed requests, each with True when the app retried it successfully by itself (invisible to the user)."""
    actions = sorted(user_action_times or [])
    out = []
    for i, req in enumerate(requests):
        if not req.failed:
            continue
        host = urlsplit(req.url).hostname or ""
        if host and any(host.endswith(h) for h in ignore_hosts):
            continue
        recovered = False
        for later in requests[i + 1 :]:
            if later.timestamp_ms - req.timestamp_ms > AUTO_RETRY_MS:
                break
            if later.endpoint == req.endpoint and not later.failed and later.status is not None:
                acted_between = any(req.timestamp_ms < t < later.timestamp_ms for t in actions)
                recovered = not acted_between
                break
        out.append((req, recovered))
    return out
