"""User activity, defined once: which recorded events are the user's, idle gaps, active seconds, idle periods.

Capture figures (`Session.active_seconds`), the prompt's idle rows and the clip timeline's idle skipping all
use these functions, with the gap from one setting, RECAP_INACTIVITY_SECONDS.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

INCREMENTAL_SNAPSHOT = 3
# rrweb incremental sources made by the user (PostHog's list): mouse move, mouse interaction, scroll, viewport
# resize, input, touch move, media interaction, drag. Mutations, style changes, console logs are the page's.
ACTIVITY_SOURCES = frozenset({1, 2, 3, 4, 5, 6, 7, 12})
DEFAULT_IDLE_GAP_SECONDS = 10.0


def idle_gap_ms() -> int:
    """The idle gap in milliseconds: no activity for at least this long is idle (RECAP_INACTIVITY_SECONDS)."""
    from django.conf import settings

    seconds = getattr(settings, "RECAP_INACTIVITY_SECONDS", DEFAULT_IDLE_GAP_SECONDS) if settings.configured \
        else DEFAULT_IDLE_GAP_SECONDS
    return max(1, int(float(seconds) * 1000))


def is_activity(event: Any) -> bool:
    """True for an rrweb event made by the user (an incremental snapshot of an activity source)."""
    if not isinstance(event, dict) or event.get("type") != INCREMENTAL_SNAPSHOT:
        return False
    data = event.get("data")
    return isinstance(data, dict) and data.get("source") in ACTIVITY_SOURCES


def activity_times(rrweb_events: Iterable[dict[str, Any]]) -> list[int]:
    """Instants (epoch ms) of user activity in a recording, in the order given."""
    return [int(e.get("timestamp") or 0) for e in rrweb_events if is_activity(e)]


def activity_segments(times: Iterable[int], gap_ms: int | None = None) -> list[list[int]]:
    """Runs of activity [[start, end], ...]: consecutive instants closer than the idle gap join one run."""
    return merge_segments([[int(t), int(t)] for t in times], gap_ms)


def merge_segments(segments: Iterable[Iterable[int]], gap_ms: int | None = None) -> list[list[int]]:
    """Merge activity runs (from any number of recording parts) whose gap is shorter than the idle gap; sorted."""
    gap = idle_gap_ms() if gap_ms is None else gap_ms
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in segments):
        if merged and start - merged[-1][1] < gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def segments_seconds(segments: Iterable[Iterable[int]]) -> float:
    """Seconds covered by merged activity runs."""
    return sum(int(end) - int(start) for start, end in segments) / 1000


def active_seconds(times: Iterable[int], gap_ms: int | None = None) -> float:
    """Seconds of activity: the time between consecutive activity instants closer than the idle gap."""
    return segments_seconds(activity_segments(times, gap_ms))


def idle_periods(times: Iterable[int], start_ms: int, end_ms: int, gap_ms: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of every stretch of at least the idle gap without activity, before the first and after the
    last activity included, within [start_ms, end_ms]."""
    gap = idle_gap_ms() if gap_ms is None else gap_ms
    points = sorted(t for t in times if start_ms <= t <= end_ms)
    edges = [start_ms, *points, end_ms]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b - a >= gap]
