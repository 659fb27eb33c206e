"""Session assembly, pure: a session's start/end/duration/activity/counts from its events and recording chunks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from summaries.analysis.activity import merge_segments, segments_seconds

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

    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_seconds: float = 0.0
    active_seconds: float = 0.0
    event_count: int = 0
    exception_count: int = 0
    click_count: int = 0
    keypress_count: int = 0
    mouse_activity_count: int = 0
    console_error_count: int = 0
    recording_event_count: int = 0
    activity_segments: list[list[int]] = field(default_factory=list)

    @classmethod
    def of(cls, row: object) -> "SessionFigures":
        """The figures a Session row holds now."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def extend(
    current: SessionFigures, events: EventFigures, chunks: list[ChunkFigures], event_times_ms: list[int]
) -> SessionFigures | None:
    """The figures once new events and recording chunks are added; None when they must be recomputed instead.

    Start/end cover events and recording. With a recording, activity and clicks come from it (see
    summaries.analysis.activity); without one, each analytics event is a moment of activity and autocapture
    clicks are the clicks. A session that had events but no recording and now gets its first chunk switches
    from one to the other, which only a full recompute can do (None).
    """
    if chunks and current.recording_event_count == 0 and current.event_count > 0:
        return None
    bounds = [t for t in (current.start_time, current.end_time, events.first, events.last) if t is not None]
    for chunk in chunks:
        bounds += [chunk.first, chunk.last]
    start = min(bounds) if bounds else None
    end = max(bounds) if bounds else None
    recorded = current.recording_event_count + sum(c.event_count for c in chunks)
    if recorded:
        new_segments = [seg for chunk in chunks for seg in chunk.activity_segments]
        clicks = current.click_count + sum(c.click_count for c in chunks)
    else:
        new_segments = [[t, t] for t in event_times_ms]
        clicks = current.click_count + events.autocapture_clicks
    segments = merge_segments([*current.activity_segments, *new_segments])
    duration = (end - start).total_seconds() if start and end else 0.0
    return SessionFigures(
        start_time=start,
        end_time=end,
        duration_seconds=round(duration, 3),
        active_seconds=round(min(segments_seconds(segments), duration), 3),
        event_count=current.event_count + events.count,
        exception_count=current.exception_count + events.exceptions,
        click_count=clicks,
        keypress_count=current.keypress_count + sum(c.keypress_count for c in chunks),
        mouse_activity_count=current.mouse_activity_count + sum(c.mouse_activity_count for c in chunks),
        console_error_count=current.console_error_count + sum(c.console_error_count for c in chunks),
        recording_event_count=recorded,
        activity_segments=segments,
    )


def assemble(events: EventFigures, chunks: list[ChunkFigures], event_times_ms: list[int]) -> SessionFigures:
    """A session's figures from all its event aggregates, chunks and (without a recording) event times."""
    figures = extend(SessionFigures(), events, chunks, [] if chunks else event_times_ms)
    assert figures is not None  # an empty start never needs a recompute
    return figures


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
