"""Session assembly, pure: a session's start/end/duration/activity/counts from its events and recording chunks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from summaries.ingest.rrweb import merge_segments

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_KEYS = ("email", "$email", "Email", "user_email")


@dataclass
class ChunkFigures:
    """The per-chunk numbers kept on RecordingChunk rows (no blob needed)."""

    first: datetime
    last: datetime
    event_count: int
    activity_segments: list[list[int]] = field(default_factory=list)
    click_count: int = 0
    keypress_count: int = 0
    mouse_activity_count: int = 0
    console_error_count: int = 0


@dataclass
class EventFigures:
    """Aggregates of a session's analytics events (from one database query)."""

    first: datetime | None = None
    last: datetime | None = None
    count: int = 0
    exceptions: int = 0
    autocapture_clicks: int = 0


@dataclass
class SessionFigures:
    """The session columns assembly computes."""

    start_time: datetime | None
    end_time: datetime | None
    duration_seconds: float
    active_seconds: float
    event_count: int
    exception_count: int
    click_count: int
    keypress_count: int
    mouse_activity_count: int
    console_error_count: int
    recording_event_count: int


def activity_from_timestamps(times_ms: list[int]) -> float:
    """Active seconds when there is no recording: each event is a moment of activity, 5 s gaps split."""
    segments = merge_segments([[t, t] for t in times_ms])
    return sum(end - start for start, end in segments) / 1000


def assemble(events: EventFigures, chunks: list[ChunkFigures], events_active_seconds: float = 0.0) -> SessionFigures:
    """Combine event aggregates and chunk figures into the session's figures.

    Start/end cover both events and recording; active seconds follow rrweb's definition
    (incremental snapshots of sources 1-5, gaps over 5 s are inactive) when there is a
    recording, else `events_active_seconds` (the analytics events' timestamps taken the same way,
    see activity_from_timestamps) is used.
    """
    bounds = [t for t in (events.first, events.last) if t is not None]
    for chunk in chunks:
        bounds += [chunk.first, chunk.last]
    start = min(bounds) if bounds else None
    end = max(bounds) if bounds else None
    if chunks:
        segments = [seg for chunk in chunks for seg in chunk.activity_segments]
        active = sum(e - s for s, e in merge_segments(segments)) / 1000
        clicks = sum(c.click_count for c in chunks)
        keypresses = sum(c.keypress_count for c in chunks)
    else:
        active = events_active_seconds
        clicks = events.autocapture_clicks
        keypresses = 0
    duration = (end - start).total_seconds() if start and end else 0.0
    return SessionFigures(
        start_time=start,
        end_time=end,
        duration_seconds=round(duration, 3),
        active_seconds=round(min(active, duration), 3),
        event_count=events.count,
        exception_count=events.exceptions,
        click_count=clicks,
        keypress_count=keypresses,
        mouse_activity_count=sum(c.mouse_activity_count for c in chunks),
        console_error_count=sum(c.console_error_count for c in chunks),
        recording_event_count=sum(c.event_count for c in chunks),
    )


def email_in(properties: dict) -> str:
    """An identified person's email from an event's properties ($set, $set_once, or the event itself)."""
    for holder in (properties.get("$set"), properties.get("$set_once"), properties):
        if isinstance(holder, dict):
            for key in EMAIL_KEYS:
                value = holder.get(key)
                if isinstance(value, str) and len(value) <= 254 and EMAIL_RE.match(value.strip()):
                    return value.strip()
    return ""


def is_identified(name: str, properties: dict) -> bool:
    """True when an event belongs to an identified person ($identify, or posthog-js's identified flags)."""
    return (
        name == "$identify"
        or properties.get("$is_identified") is True
        or bool(properties.get("$anon_distinct_id"))
        or bool(email_in(properties))
    )
