"""The clip timeline (pure): which instants become frames, idle skipping, page size and URL from the recording."""
from __future__ import annotations

import pytest

from replay_render.sample import load_player_sample
from replay_render.timeline import (
    RecordingError,
    activity_timestamps,
    clicks,
    plan_frames,
    url_at,
    validate_events,
    viewport_size,
)


def test_frame_n_is_start_plus_n_over_fps() -> None:
    plan = plan_frames(1_000_000, 1_010_000, 5)
    assert len(plan.frames) == 50 and plan.duration_seconds == 10
    assert [f.timestamp_ms for f in plan.frames[:3]] == [1_000_000, 1_000_200, 1_000_400]
    assert plan.frames[-1].timestamp_ms == 1_009_800
    # Computed from the index, never accumulated: 3 fps does not drift either.
    thirds = plan_frames(0, 60_000, 3)
    assert thirds.frames[-1].timestamp_ms == round(179 * 1000 / 3)


def test_idle_stretches_are_cut_keeping_context() -> None:
    activity = [1000, 2000, 20_000, 21_000]
    plan = plan_frames(0, 25_000, 1, activity=activity, skip_inactive=True)
    assert plan.skipped_ranges == [(3000, 19_000)]
    assert plan.skipped_ms == 16_000 and len(plan.frames) == 9
    times = [f.timestamp_ms for f in plan.frames]
    assert 2000 in times and 19_000 in times and not any(3000 < t < 19_000 for t in times)
    assert plan_frames(0, 25_000, 1, activity=activity).skipped_ms == 0  # only when asked


def test_bad_plans_are_refused() -> None:
    with pytest.raises(ValueError):
        plan_frames(0, 1000, 0)
    with pytest.raises(ValueError):
        plan_frames(1000, 1000, 1)


def test_real_recording_facts() -> None:
    events = load_player_sample()
    validate_events(events)
    assert viewport_size(events) == (1166, 706)  # 705 rounded up: encoders want even sizes
    assert url_at(events, events[-1]["timestamp"]) == "https://demoit.app/e/react#ReactHooks.js"
    activity = activity_timestamps(events)
    mutations = [e for e in events if e["type"] == 3 and e["data"]["source"] == 0]
    assert activity == sorted(activity) and mutations and not set(e["timestamp"] for e in mutations) <= set(activity)
    assert max(b - a for a, b in zip(activity, activity[1:])) > 5000  # the idle stretch the 60 s benchmark skips
    assert all(c["x"] >= 0 and c["y"] >= 0 for c in clicks(events)) and clicks(events)


def test_viewport_follows_resizes_and_defaults() -> None:
    events = [
        {"type": 4, "timestamp": 1, "data": {"href": "https://a.test/", "width": 800, "height": 600}},
        {"type": 3, "timestamp": 2, "data": {"source": 4, "width": 1024, "height": 500}},
    ]
    assert viewport_size(events) == (1024, 600)
    assert viewport_size(events, until_ms=1) == (800, 600)
    assert viewport_size([{"type": 2, "timestamp": 1, "data": {}}]) == (1280, 720)


def test_unreplayable_recordings_are_named() -> None:
    with pytest.raises(RecordingError, match="no rrweb events"):
        validate_events([])
    with pytest.raises(RecordingError, match="no FullSnapshot"):
        validate_events([{"type": 3, "timestamp": 5, "data": {"source": 1}}])
    with pytest.raises(RecordingError, match="malformed"):
        validate_events([{"type": "2", "timestamp": 5}])
    with pytest.raises(RecordingError, match="corrupt"):
        validate_events([{"type": 2, "timestamp": 5, "data": {"node": None}}])


def test_page_urls_matches_url_at() -> None:
    from replay_render.timeline import page_urls

    events = [
        {"type": 4, "timestamp": 10, "data": {"href": "https://a.test/1", "width": 1, "height": 1}},
        {"type": 3, "timestamp": 15, "data": {"source": 1}},
        {"type": 4, "timestamp": 20, "data": {"href": "https://a.test/2", "width": 1, "height": 1}},
    ]
    fast = page_urls(events)
    for moment in (0, 10, 12, 20, 99):
        assert fast(moment) == url_at(events, moment)
    assert fast(12) == "https://a.test/1" and fast(5) == ""
