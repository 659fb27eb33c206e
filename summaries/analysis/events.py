"""The analytics events of one session in the plain shape the analysis works on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Events that never help explain what a user did (flag checks, identity bookkeeping, SDK internals).
DROPPED_EVENT_NAMES = frozenset(
    {
        "$feature_flag_called",
        "$set",
        "$identify",
        "$groupidentify",
        "$create_alias",
        "$opt_in",
        "$snapshot",
        "$web_vitals",
        "$pageview_id",
        "$$heatmap",
        "$heatmap",
        "$performance_event",
        "$session_recording_start",
        "survey shown",
    }
)


@dataclass(frozen=True)
class InputEvent:
    """One analytics event: who/where/when and its properties, as captured by posthog-js."""

    uuid: str
    timestamp_ms: int
    name: str
    window_id: str = ""
    url: str = ""
    properties: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def event_type(self) -> str:
        """The autocapture interaction (click, change, submit) or empty."""
        return str(self.properties.get("$event_type") or "")

    @property
    def path(self) -> str:
        """The URL path without query or fragment, for grouping pages."""
        return url_path(self.url)


def url_path(url: str) -> str:
    """The path of a URL ('/' when there is none)."""
    if not url:
        return ""
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return url


def event_from_row(row: Any) -> InputEvent:
    """An InputEvent from an Event model row or a dict with the same fields."""
    get = row.get if isinstance(row, dict) else lambda k, d=None: getattr(row, k, d)
    ts = get("timestamp")
    if hasattr(ts, "timestamp"):
        ts_ms = int(round(ts.timestamp() * 1000))
    else:
        ts_ms = int(ts or 0)
    props = get("properties") or {}
    return InputEvent(
        uuid=str(get("uuid")),
        timestamp_ms=ts_ms,
        name=str(get("name") or ""),
        window_id=str(get("window_id") or props.get("$window_id") or ""),
        url=str(get("current_url") or props.get("$current_url") or ""),
        properties=dict(props),
    )


def select_events(
    events: list[InputEvent],
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    margin_ms: int = 100_000,
    max_events: int = 6000,
) -> list[InputEvent]:
    """The events worth analysing, time-ordered: drop bookkeeping events and anything far outside the session."""
    kept = [e for e in events if e.name not in DROPPED_EVENT_NAMES]
    if start_ms is not None:
        kept = [e for e in kept if e.timestamp_ms >= start_ms - margin_ms]
    if end_ms is not None:
        kept = [e for e in kept if e.timestamp_ms <= end_ms + margin_ms]
    kept.sort(key=lambda e: (e.timestamp_ms, e.uuid))
    return kept[:max_events]
