"""What the rrweb recording says about the user's activity: when they moved, typed or scrolled, and the mouse path.

What the page showed (texts, states, loading, clicks' controls) is read by summaries.analysis.page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from summaries.analysis.activity import ACTIVITY_SOURCES as ACTIVE_SOURCES  # noqa: F401 - the one definition
from summaries.analysis.activity import activity_times, idle_periods, is_activity  # noqa: F401

# rrweb EventType / IncrementalSource / MouseInteraction numbers.
FULL_SNAPSHOT, INCREMENTAL, META, PLUGIN = 2, 3, 4, 6
SRC_MUTATION, SRC_MOUSEMOVE, SRC_INTERACTION, SRC_SCROLL, SRC_RESIZE, SRC_INPUT = 0, 1, 2, 3, 4, 5
SRC_TOUCHMOVE, SRC_MEDIA, SRC_DRAG, SRC_SELECTION = 6, 7, 12, 14
CLICK = 2


@dataclass(frozen=True)
class Inactivity:
    """A stretch with no user activity."""

    start_ms: int
    end_ms: int

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end_ms - self.start_ms) / 1000


def inactivity_periods(
    times: list[int], start_ms: int, end_ms: int, *, threshold_ms: int | None = None
) -> list[Inactivity]:
    """Idle stretches (summaries.analysis.activity.idle_periods) as Inactivity rows."""
    return [Inactivity(a, b) for a, b in idle_periods(times, start_ms, end_ms, threshold_ms)]


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
