"""Frustration signals: rage clicks, dead clicks, error clicks and thrashed cursors.

posthog-js sends `$rageclick` and `$dead_click` itself when enabled; when a session has none of a kind
they are computed from the recording with the published thresholds (REFERENCE.md section 3).
"""
from __future__ import annotations

from dataclasses import dataclass

from summaries.analysis.page import PageClick

# Tags whose clicks legitimately change nothing visible right away (or open native UI): not dead clicks.
NO_MUTATION_EXPECTED = frozenset({"select", "option", "input", "textarea", "label", "html", "body"})


@dataclass(frozen=True)
class SignalThresholds:
    """Tunable thresholds of the computed signals."""

    rage_clicks: int = 3
    rage_distance_px: float = 30.0
    rage_interval_ms: int = 1000
    dead_click_mutation_ms: int = 2500
    dead_click_scroll_ms: int = 100
    error_click_ms: int = 2000
    thrash_reversals: int = 10
    thrash_window_ms: int = 2000


@dataclass(frozen=True)
class Signal:
    """One frustration signal at a moment, on a target."""

    kind: str  # rageclick | dead_click | error_click | thrashed_cursor
    timestamp_ms: int
    target: str = ""
    detail: str = ""


def _label(click: PageClick) -> str:
    """A short name for a click target from the recording."""
    if click.tag and click.name:
        return f"{click.tag}:{click.name}"
    return click.tag or f"node{click.node}"


def rage_clicks(clicks: list[PageClick], t: SignalThresholds = SignalThresholds()) -> list[Signal]:
    """Runs of >= N clicks, each within the distance and interval of the previous one."""
    out: list[Signal] = []
    run: list[PageClick] = []
    for click in sorted(clicks, key=lambda c: c.timestamp_ms):
        if run:
            prev = run[-1]
            close = abs(click.x - prev.x) <= t.rage_distance_px and abs(click.y - prev.y) <= t.rage_distance_px
            if close and click.timestamp_ms - prev.timestamp_ms <= t.rage_interval_ms:
                run.append(click)
                continue
            if len(run) >= t.rage_clicks:
                out.append(Signal("rageclick", run[0].timestamp_ms, _label(run[0]), f"{len(run)} clicks"))
        run = [click]
    if len(run) >= t.rage_clicks:
        out.append(Signal("rageclick", run[0].timestamp_ms, _label(run[0]), f"{len(run)} clicks"))
    return out


def dead_clicks(
    clicks: list[PageClick],
    mutations: list[int],
    scrolls: list[int],
    loads: list[int],
    t: SignalThresholds = SignalThresholds(),
) -> list[Signal]:
    """Clicks followed by no DOM change, page load, scroll or selection change within the thresholds."""
    import bisect

    def any_between(times: list[int], start: int, end: int) -> bool:
        i = bisect.bisect_right(times, start)
        return i < len(times) and times[i] <= end

    mutations, scrolls, loads = sorted(mutations), sorted(scrolls), sorted(loads)
    out = []
    for click in clicks:
        if click.tag in NO_MUTATION_EXPECTED:
            continue
        ts = click.timestamp_ms
        if any_between(mutations, ts - 1, ts + t.dead_click_mutation_ms):
            continue
        if any_between(loads, ts - 1, ts + t.dead_click_mutation_ms):
            continue
        if any_between(scrolls, ts - 1, ts + t.dead_click_scroll_ms):
            continue
        out.append(Signal("dead_click", ts, _label(click)))
    return out


def error_clicks(click_times: list[tuple[int, str]], error_times: list[int], t: SignalThresholds = SignalThresholds()) -> list[Signal]:
    """Clicks followed by an error (exception or failed request) within the threshold."""
    out = []
    errors = sorted(error_times)
    for ts, target in click_times:
        if any(ts <= e <= ts + t.error_click_ms for e in errors):
            out.append(Signal("error_click", ts, target))
    return out


def thrashed_cursor(positions: list[tuple[int, float, float]], t: SignalThresholds = SignalThresholds()) -> list[Signal]:
    """Moments with >= N direction reversals on one axis within the window."""
    out: list[Signal] = []
    for axis in (1, 2):
        reversals: list[int] = []
        last_dir = 0
        for (t0, *p0), (t1, *p1) in zip(positions, positions[1:]):
            delta = p1[axis - 1] - p0[axis - 1]
            direction = (delta > 0) - (delta < 0)
            if direction and last_dir and direction != last_dir:
                reversals.append(t1)
            if direction:
                last_dir = direction
        start = 0
        for end in range(len(reversals)):
            while reversals[end] - reversals[start] > t.thrash_window_ms:
                start += 1
            if end - start + 1 >= t.thrash_reversals:
                moment = reversals[start]
                if not out or moment - out[-1].timestamp_ms > t.thrash_window_ms:
                    out.append(Signal("thrashed_cursor", moment, "", "x" if axis == 1 else "y"))
    out.sort(key=lambda s: s.timestamp_ms)
    return out
