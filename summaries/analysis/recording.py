"""What the rrweb recording says about the user's activity: when they moved, typed or scrolled, and the mouse path.

What the page showed (texts, states, loading, clicks' controls) is read by summaries.analysis.page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# rrweb EventType / IncrementalSource / MouseInteraction numbers.
FULL_SNAPSHOT, INCREMENTAL, META, PLUGIN = 2, 3, 4, 6
SRC_MUTATION, SRC_MOUSEMOVE, SRC_INTERACTION, SRC_SCROLL, SRC_RESIZE, SRC_INPUT = 0, 1, 2, 3, 4, 5
SRC_TOUCHMOVE, SRC_MEDIA, SRC_DRAG, SRC_SELECTION = 6, 7, 12, 14
CLICK = 2
# PostHog counts these incremental sources as user activity.
ACTIVE_SOURCES = frozenset({1, 2, 3, 4, 5, 6, 7, 12})


@dataclass(frozen=True)
class Inactivity:
    """A stretch with no user activity."""

    start_ms: int
    end_ms: int

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end_ms - self.start_ms) / 1000


def is_activity(event: dict[str, Any]) -> bool:
    """True for rrweb events made by the user (mouse, scroll, input, touch...)."""
    return event.get("type") == INCREMENTAL and (event.get("data") or {}).get("source") in ACTIVE_SOURCES


def activity_times(rrweb_events: list[dict[str, Any]]) -> list[int]:
    """Timestamps of user activity in the recording."""
    return [int(e.get("timestamp") or 0) for e in rrweb_events if is_activity(e)]


def inactivity_periods(
    times: list[int], start_ms: int, end_ms: int, *, threshold_ms: int = 10_000
) -> list[Inactivity]:
    """Gaps of at least threshold_ms between activity (including before the first and after the last)."""
    points = sorted(t for t in times if start_ms <= t <= end_ms)
    edges = [start_ms, *points, end_ms]
    return [Inactivity(a, b) for a, b in zip(edges, edges[1:]) if b - a >= threshold_ms]


def active_seconds(times: list[int], *, threshold_ms: int = 10_000) -> float:
    """Seconds of activity: time between activity points closer than the inactivity threshold."""
    points = sorted(times)
    return sum((b - a) for a, b in zip(points, points[1:]) if b - a < threshold_ms) / 1000


def mouse_positions(rrweb_events: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    """(time, x, y) of every recorded mouse position."""
    out = []
    for event in rrweb_events:
        data = event.get("data") or {}
        if event.get("type") == INCREMENTAL and data.get("source") in (SRC_MOUSEMOVE, SRC_TOUCHMOVE, SRC_DRAG):
            base = int(event.get("timestamp") or 0)
            for pos in data.get("positions") or []:
                if isinstance(pos, dict):
                    out.append((base + int(pos.get("timeOffset") or 0), float(pos.get("x") or 0), float(pos.get("y") or 0)))
    out.sort()
    return out
