"""The CRM sample dataset: its labels follow the contract, it mixes every fault, it imports cleanly, and every label
is borne out by what posthog-js recorded."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from corpus.evidence import (
    attribute_changes,
    clicks_between,
    exceptions,
    mutations_between,
    network_requests,
    nodes_added,
    read_sessions,
    start_ms,
)
from corpus.stats import dataset_stats
from demo_crm.faults import ALL_FAULTS, FAULT_COOKIE
from tests.conftest import ROOT
from tests.corpus_sessions import import_dataset

SAMPLE = ROOT / "sample_data" / "crm"
SESSIONS = SAMPLE / "sessions.jsonl.gz"
LABELS = SAMPLE / "labels.jsonl"
KEYS = {"session_id", "journey", "goal", "outcome", "blocking", "non_blocking", "noise", "faults"}
PROBLEMS = ("save_fails", "dead_icon_button", "slow_view", "invalid_field")
WHERE = {kind: {"blocking", "non_blocking"} for kind in PROBLEMS} | {"widget_noise": {"noise"}, "retried_request": {"noise"}}
BUCKETS = ("blocking", "non_blocking", "noise")
SAVE_API = re.compile(r"/api/(kunden(/\d+)?|angebote|einstellungen|tickets/\d+)$")
VIEW_API = re.compile(r"/api/(kunden(/\d+)?|angebote|tickets)$")


def labels() -> list[dict]:
    """The labels file's rows."""
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]


def items(row: dict) -> list[tuple[str, dict]]:
    """(bucket, item) of every labelled moment of a row."""
    return [(bucket, item) for bucket in BUCKETS for item in row[bucket]]


def path(url: str) -> str:
    """A URL's path."""
    return re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0]


def event_ms(event: dict) -> float:
    """An event's timestamp in epoch ms."""
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp() * 1000


def saved_after(events: list[dict], at_ms: float) -> bool:
    """Whether a success toast (role=status) appeared after a moment: the save went through.

    Network timing cannot tell a save from a read of the same URL (resource timing has no method), the toast can.
    """
    return any(ms > at_ms for ms in nodes_added(events, "role", "status"))


@pytest.fixture(scope="module")
def sessions() -> dict[str, list[dict]]:
    """The dataset's events by session."""
    return read_sessions(SESSIONS)


def test_labels_follow_the_contract():
    rows = labels()
    assert len({r["session_id"] for r in rows}) == len(rows)
    for row in rows:
        sid = row["session_id"]
        assert set(row) == KEYS, sid
        assert row["outcome"] in {"completed", "abandoned", "failed"} and row["goal"], sid
        assert set(row["faults"]) <= set(ALL_FAULTS), sid
        for bucket, item in items(row):
            assert set(item) == {"kind", "t", "description"}
            assert bucket in WHERE[item["kind"]], (sid, item)
            assert isinstance(item["t"], float | int) and item["t"] >= 0 and item["description"]
        kinds = {item["kind"] for _, item in items(row)}
        # Labelled only with faults the session was given, and every given fault did happen.
        assert kinds == set(row["faults"]), (sid, kinds, row["faults"])
        # Blocking means the goal was not reached, and a goal missed had something blocking in the way.
        assert bool(row["blocking"]) == (row["outcome"] != "completed"), sid
        assert sum(1 for i in row["blocking"] + row["non_blocking"] if i["kind"] != "slow_view") <= 1, sid


def test_dataset_mixes_every_fault_with_clean_and_noise_only_sessions():
    stats = dataset_stats(SESSIONS, LABELS)
    assert 48 <= stats["sessions"] <= 60
    assert stats["sessions_in_events_file"] == stats["sessions"]
    assert stats["bytes"] < 8 * 1024 * 1024
    durations = stats["duration_seconds"]
    assert durations["min"] >= 20 and durations["max"] <= 5 * 60
    assert 40 <= durations["median"] <= 150
    assert durations["over_3_minutes"] >= 1
    assert stats["noise_only"] >= 10 and stats["clean"] >= 8
    for kind in PROBLEMS:
        rows = labels()
        blocking = sum(1 for r in rows if any(i["kind"] == kind for i in r["blocking"]))
        recovered = sum(1 for r in rows if any(i["kind"] == kind for i in r["non_blocking"]) and not r["blocking"])
        assert blocking >= 3 and recovered >= 3, (kind, blocking, recovered)
    assert {"widget_noise (noise)", "retried_request (noise)"} <= set(stats["labels_by_kind"])


def test_sessions_look_like_a_single_page_app_at_work(sessions):
    """Client-side routing, successful create flows, and people leaving a blocked flow for another section or
    by closing the tab; fault choices never show in a recorded URL."""
    created = went_elsewhere = closed_tab = 0
    for row in labels():
        events = sessions[row["session_id"]]
        urls = [e["properties"].get("$current_url", "") for e in events if e["event"] == "$pageview"]
        assert not any(FAULT_COOKIE in u or any(f in u for f in ALL_FAULTS) for u in urls), row["session_id"]
        snapshots = [r for e in events if e["event"] == "$snapshot" for r in e["properties"]["$snapshot_data"]
                     if r.get("type") == 2]
        assert len(snapshots) == 1, f"{row['session_id']}: a full page load after the first ({len(snapshots)})"
        paths = [path(u) for u in urls]
        if row["outcome"] == "completed" and "/kunden/neu" in paths:
            after = paths[paths.index("/kunden/neu") + 1:]
            created += any(re.fullmatch(r"/kunden/\d+", p) for p in after)
        if row["blocking"]:
            # A moment later than the label, so a view opened by the blocked click itself counts as "there".
            blocked_at = start_ms(events) + row["blocking"][0]["t"] * 1000 + 1000
            here = section_at(events, blocked_at)
            later = [section(e) for e in events if e["event"] == "$pageview" and event_ms(e) > blocked_at]
            went_elsewhere += any(s != here for s in later)
            closed_tab += not later
    assert created >= 4 and went_elsewhere >= 5 and closed_tab >= 5, (created, went_elsewhere, closed_tab)


def section(pageview: dict) -> str:
    """The app section (first path segment) a pageview shows."""
    return path(pageview["properties"].get("$current_url", "")).split("/")[1]


def section_at(events: list[dict], at_ms: float) -> str:
    """The app section on screen at a moment."""
    views = [e for e in events if e["event"] == "$pageview" and event_ms(e) <= at_ms]
    return section(views[-1]) if views else ""


@pytest.mark.django_db
def test_dataset_imports_cleanly():
    imported = import_dataset(SESSIONS, "CRM sample")
    rows = labels()
    assert set(imported) == {r["session_id"] for r in rows}
    for row in rows:
        session = imported[row["session_id"]]
        assert session.event_count > 0 and session.recording_event_count > 0, row["session_id"]
        duration = (session.end_time - session.start_time).total_seconds()
        for _, item in items(row):
            assert item["t"] <= duration + 1, (row["session_id"], item, duration)
        if "widget_noise" in row["faults"]:
            assert session.exception_count > 0, row["session_id"]


def test_failed_saves_are_in_the_network_data(sessions):
    for row in labels():
        events = sessions[row["session_id"]]
        t0, requests = start_ms(events), network_requests(events)
        for bucket, item in items(row):
            if item["kind"] != "save_fails":
                continue
            at = t0 + item["t"] * 1000
            failed = [r for r in requests if SAVE_API.search(path(r.url)) and r.status == 500 and abs(r.at_ms - at) < 4000]
            assert failed, (row["session_id"], item)
            assert saved_after(events, at) == (bucket == "non_blocking"), (row["session_id"], item)


def test_dead_icon_buttons_were_clicked_and_nothing_happened(sessions):
    for row in labels():
        events = sessions[row["session_id"]]
        t0 = start_ms(events)
        for _, item in items(row):
            if item["kind"] != "dead_icon_button":
                continue
            at = t0 + item["t"] * 1000
            clicks = clicks_between(events, at - 1000, at + 1000)
            assert clicks, (row["session_id"], item)
            clicked = clicks[0]["timestamp"]
            assert mutations_between(events, clicked, clicked + 2500) == [], (row["session_id"], item)
            assert not [r for r in network_requests(events) if "/api/" in r.url and clicked <= r.at_ms <= clicked + 2500]
            dead = [e for e in events if e["event"] == "$dead_click" and abs(event_ms(e) - clicked) < 5000]
            assert dead and "aria-label" in dead[0]["properties"].get("$elements_chain", ""), row["session_id"]


def test_slow_views_show_a_loading_state_for_at_least_three_seconds(sessions):
    for row in labels():
        events = sessions[row["session_id"]]
        t0, requests = start_ms(events), network_requests(events)
        busy = attribute_changes(events, "aria-busy")
        spinners = nodes_added(events, "role", "progressbar")
        for bucket, item in items(row):
            if item["kind"] != "slow_view":
                continue
            at = t0 + item["t"] * 1000
            where = (row["session_id"], item)
            assert any(abs(s - at) < 1500 for s in spinners), where
            started = [(ms, node) for ms, node, value in busy if value == "true" and abs(ms - at) < 1500]
            assert started, where
            ms, node = started[0]
            done = [m for m, n, value in busy if n == node and value == "false" and m > ms]
            assert not done or done[0] - ms >= 3000, where
            slow = [r for r in requests
                    if VIEW_API.search(path(r.url)) and abs(r.at_ms - at) < 2000 and r.duration_ms >= 3000]
            if bucket == "non_blocking":
                assert done and any(r.status == 200 for r in slow), where
            else:
                # Left while loading: the request was cancelled by the app (no status) or still open at the end.
                assert not any(r.status for r in slow), where
                assert slow or not done, where


def test_rejected_values_are_marked_invalid_with_a_message(sessions):
    for row in labels():
        events = sessions[row["session_id"]]
        t0 = start_ms(events)
        invalid = attribute_changes(events, "aria-invalid")
        described = attribute_changes(events, "aria-describedby")
        for bucket, item in items(row):
            if item["kind"] != "invalid_field":
                continue
            at = t0 + item["t"] * 1000
            marked = [(ms, node) for ms, node, value in invalid if value == "true" and at <= ms <= at + 4000]
            assert marked, (row["session_id"], item)
            ms, node = marked[0]
            assert any(n == node and v and v.endswith("-error") and abs(m - ms) < 50 for m, n, v in described)
            assert saved_after(events, at) == (bucket == "non_blocking"), (row["session_id"], item)


def test_noise_is_in_the_recordings(sessions):
    for row in labels():
        events = sessions[row["session_id"]]
        t0 = start_ms(events)
        for _, item in items(row):
            at = t0 + item["t"] * 1000
            if item["kind"] == "widget_noise":
                captured = [e for e in events if e["event"] == "$exception"]
                assert captured and all("locale" in (x.get("value") or "") for x in exceptions(events)), row["session_id"]
                assert abs(event_ms(captured[0]) - at) < 3000, (row["session_id"], item)
            elif item["kind"] == "retried_request":
                calls = [r for r in network_requests(events) if path(r.url) == "/api/benachrichtigungen"]
                failed = [r for r in calls if r.status == 503]
                # A first failure before the session's first recorded event is labelled at its start (t = 0).
                assert failed and abs(max(failed[0].at_ms, t0) - at) < 1500, (row["session_id"], item)
                # Each failure has its own successful retry, sent at once (a busy page may take a few seconds).
                for first, then in zip(calls, calls[1:]):
                    if first.status == 503:
                        assert then.status == 200 and then.at_ms - first.at_ms < 5000, (row["session_id"], first, then)
