"""The clip's timeline: which recording instants become frames, and what the page looked like around them.

Pure functions over rrweb events (dicts), testable without a browser or a database.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from summaries.analysis.activity import activity_times as activity_timestamps  # noqa: F401 - the one definition
from summaries.analysis.activity import idle_gap_ms, idle_periods

# rrweb event and incremental-source numbers (see REFERENCE.md, section 4).
FULL_SNAPSHOT = 2
INCREMENTAL_SNAPSHOT = 3
META = 4
SOURCE_MUTATION = 0
SOURCE_MOUSE_INTERACTION = 2
SOURCE_VIEWPORT_RESIZE = 4
MOUSE_CLICK_TYPES = frozenset({2, 4})  # Click, DblClick

DEFAULT_VIEWPORT = (1280, 720)


class RecordingError(ValueError):
    """The recording cannot be replayed (no FullSnapshot, malformed events); the message says why."""


@dataclass(frozen=True)
class Frame:
    """One video frame: the recording instant it shows and where it sits in the clip."""

    index: int
    timestamp_ms: int
    clip_seconds: float


@dataclass
class FramePlan:
    """All frames of a clip, plus how much idle time was cut out of it."""

    frames: list[Frame]
    fps: int
    skipped_ms: int = 0
    skipped_ranges: list[tuple[int, int]] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float:
        """Length of the encoded clip."""
        return len(self.frames) / self.fps


def validate_events(events: list[dict]) -> None:
    """Raise RecordingError unless the events look like a replayable rrweb recording."""
    if not events:
        raise RecordingError("the recording has no rrweb events in this window")
    for position, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("type"), int):
            raise RecordingError(f"rrweb event #{position} is malformed: it has no numeric 'type'")
        if not isinstance(event.get("timestamp"), (int, float)):
            raise RecordingError(f"rrweb event #{position} is malformed: it has no numeric 'timestamp'")
        if event["type"] == FULL_SNAPSHOT:
            node = (event.get("data") or {}).get("node") if isinstance(event.get("data"), dict) else None
            if not isinstance(node, dict) or not isinstance(node.get("childNodes"), list):
                raise RecordingError(f"the FullSnapshot at event #{position} is corrupt: it has no DOM tree")
    if not any(e["type"] == FULL_SNAPSHOT for e in events):
        raise RecordingError(
            "the recording has no FullSnapshot before this moment, so the page cannot be rebuilt "
            "(the recorder probably started late or its first chunk was lost)"
        )


def first_full_snapshot_ms(events: list[dict]) -> int | None:
    """Timestamp of the first FullSnapshot, or None."""
    for event in events:
        if event.get("type") == FULL_SNAPSHOT:
            return int(event["timestamp"])
    return None


def viewport_size(events: list[dict], until_ms: float | None = None) -> tuple[int, int]:
    """The largest page size seen (Meta and ViewportResize) up to until_ms: the video frame size."""
    width = height = 0
    for event in events:
        if until_ms is not None and event.get("timestamp", 0) > until_ms:
            break
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if event.get("type") == META or (
            event.get("type") == INCREMENTAL_SNAPSHOT and data.get("source") == SOURCE_VIEWPORT_RESIZE
        ):
            w, h = data.get("width"), data.get("height")
            if isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0:
                width, height = max(width, int(w)), max(height, int(h))
    if not width or not height:
        return DEFAULT_VIEWPORT
    # Video encoders want even dimensions.
    return width + width % 2, height + height % 2


def url_at(events: list[dict], at_ms: float) -> str:
    """The page URL (from the last Meta event) at a recording instant."""
    href = ""
    for event in events:
        if event.get("timestamp", 0) > at_ms:
            break
        if event.get("type") == META and isinstance(event.get("data"), dict):
            href = str(event["data"].get("href") or href)
    return href


def page_urls(events: list[dict]) -> Callable[[float], str]:
    """A fast url_at for many instants of the same events (one pass, then binary search)."""
    stamps: list[float] = []
    hrefs: list[str] = []
    for event in events:
        if event.get("type") == META and isinstance(event.get("data"), dict) and event["data"].get("href"):
            stamps.append(event.get("timestamp", 0))
            hrefs.append(str(event["data"]["href"]))

    def at(moment_ms: float) -> str:
        """The URL at one instant."""
        index = bisect.bisect_right(stamps, moment_ms)
        return hrefs[index - 1] if index else ""

    return at


def clicks(events: list[dict]) -> list[dict]:
    """Clicks of the top-level page: {timestamp, x, y}, for drawing a click marker."""
    found = []
    for e in events:
        data = e.get("data") if isinstance(e.get("data"), dict) else {}
        if (
            e.get("type") == INCREMENTAL_SNAPSHOT
            and data.get("source") == SOURCE_MOUSE_INTERACTION
            and data.get("type") in MOUSE_CLICK_TYPES
            and isinstance(data.get("x"), (int, float))
            and isinstance(data.get("y"), (int, float))
        ):
            found.append({"timestamp": int(e["timestamp"]), "x": data["x"], "y": data["y"]})
    return found


def idle_ranges(activity: list[int], start_ms: int, end_ms: int, gap_ms: int, keep_ms: int) -> list[tuple[int, int]]:
    """Idle periods inside [start, end] (summaries.analysis.activity), minus keep_ms of context each side."""
    ranges = []
    for before, after in idle_periods(activity, start_ms, end_ms, gap_ms):
        cut_from, cut_to = before + keep_ms, after - keep_ms
        if cut_to > cut_from:
            ranges.append((cut_from, cut_to))
    return ranges


def plan_frames(
    start_ms: int,
    end_ms: int,
    fps: int,
    *,
    activity: list[int] | None = None,
    skip_inactive: bool = False,
    gap_ms: int | None = None,
    keep_ms: int = 1000,
) -> FramePlan:
    """Frame n shows start + n/fps of recording time, except that idle stretches are jumped over when asked.

    Idle means what it means everywhere (summaries.analysis.activity); gap_ms defaults to RECAP_INACTIVITY_SECONDS.
    Timestamps are computed from the frame index (never accumulated), so there is no drift.
    """
    if fps < 1:
        raise ValueError("fps must be at least 1")
    if end_ms <= start_ms:
        raise ValueError("a clip must end after it starts")
    gap = idle_gap_ms() if gap_ms is None else gap_ms
    skipped = idle_ranges(activity or [], start_ms, end_ms, gap, keep_ms) if skip_inactive else []
    frames: list[Frame] = []
    step = 1000.0 / fps
    cursor = start_ms
    skipped_ms = 0
    pieces = []
    for cut_from, cut_to in skipped:
        pieces.append((cursor, cut_from))
        skipped_ms += cut_to - cut_from
        cursor = cut_to
    pieces.append((cursor, end_ms))
    for piece_start, piece_end in pieces:
        count = max(1, round((piece_end - piece_start) / step))
        for n in range(count):
            index = len(frames)
            frames.append(Frame(index, int(round(piece_start + n * step)), index / fps))
    return FramePlan(frames=frames, fps=fps, skipped_ms=skipped_ms, skipped_ranges=skipped)
