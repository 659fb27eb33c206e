"""The bundled sample dataset: its labels follow the contract, it mixes every fault, and it imports cleanly."""
from __future__ import annotations

import json

import pytest

from corpus.evidence import clicks_between, exceptions, network_requests, read_sessions, start_ms
from corpus.stats import dataset_stats
from tests.conftest import ROOT
from tests.corpus_sessions import import_dataset

SAMPLE = ROOT / "sample_data"
SESSIONS = SAMPLE / "sessions.jsonl.gz"
LABELS = SAMPLE / "labels.jsonl"
KEYS = {"session_id", "journey", "goal", "outcome", "blocking", "non_blocking", "noise", "faults"}
WHERE = {  # kind -> the buckets it may appear in
    "payment_500": {"blocking"},
    "dead_button": {"blocking", "non_blocking"},
    "confusing_validation": {"blocking", "non_blocking"},
    "slow_page": {"non_blocking"},
    "widget_exception": {"noise"},
    "retried_api": {"noise"},
}


def labels() -> list[dict]:
    """The labels file's rows."""
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]


def test_labels_follow_the_contract():
    rows = labels()
    assert len({r["session_id"] for r in rows}) == len(rows)
    for row in rows:
        assert set(row) == KEYS, row["session_id"]
        assert row["outcome"] in {"completed", "abandoned", "failed"}
        for bucket in ("blocking", "non_blocking", "noise"):
            for item in row[bucket]:
                assert set(item) == {"kind", "t", "description"}
                assert bucket in WHERE[item["kind"]], (row["session_id"], item)
                assert isinstance(item["t"], float | int) and item["t"] >= 0 and item["description"]
        kinds = {i["kind"] for b in ("blocking", "non_blocking", "noise") for i in row[b]}
        assert kinds <= set(row["faults"]), f"{row['session_id']} is labelled with a fault it was not given"
        if row["blocking"]:
            assert row["outcome"] in {"abandoned", "failed"}, row["session_id"]


def test_dataset_mixes_every_fault_with_clean_and_noise_only_sessions():
    stats = dataset_stats(SESSIONS, LABELS)
    assert stats["sessions"] >= 60
    assert stats["sessions_in_events_file"] == stats["sessions"]
    assert stats["bytes"] < 20 * 1024 * 1024
    assert stats["duration_seconds"]["min"] >= 15
    assert 40 <= stats["duration_seconds"]["median"] <= 150
    assert stats["duration_seconds"]["over_3_minutes"] >= 3
    assert stats["noise_only"] >= stats["sessions"] // 4
    assert stats["clean"] >= 5
    seen = {label.split(" ")[0] for label in stats["labels_by_kind"]}
    assert seen == set(WHERE)
    assert {"dead_button (blocking)", "dead_button (non_blocking)", "confusing_validation (blocking)",
            "confusing_validation (non_blocking)"} <= set(stats["labels_by_kind"])


@pytest.mark.django_db
def test_dataset_imports_cleanly():
    sessions = import_dataset(SESSIONS, "Sample")
    rows = labels()
    assert set(sessions) == {r["session_id"] for r in rows}
    for row in rows:
        session = sessions[row["session_id"]]
        assert session.event_count > 0 and session.recording_event_count > 0, row["session_id"]
        duration = (session.end_time - session.start_time).total_seconds()
        for bucket in ("blocking", "non_blocking", "noise"):
            for item in row[bucket]:
                assert item["t"] <= duration + 1, (row["session_id"], item, duration)
        if any(i["kind"] == "widget_exception" for i in row["noise"]):
            assert session.exception_count > 0, row["session_id"]


def test_labels_are_borne_out_by_the_recordings():
    sessions = read_sessions(SESSIONS)
    slow_seen = slow_total = 0
    for row in labels():
        events = sessions[row["session_id"]]
        t0 = start_ms(events)
        requests = network_requests(events)
        for bucket in ("blocking", "non_blocking", "noise"):
            for item in row[bucket]:
                at = t0 + item["t"] * 1000
                where = (row["session_id"], item)
                if item["kind"] == "payment_500":
                    assert any("/api/checkout/pay" in r.url and r.status == 500 and abs(r.at_ms - at) < 4000
                               for r in requests), where
                elif item["kind"] == "retried_api":
                    assert any("/api/recommendations" in r.url and r.status == 503 for r in requests), where
                elif item["kind"] == "widget_exception":
                    assert any("agentStatus" in (e.get("value") or "") for e in exceptions(events)), where
                elif item["kind"] == "dead_button":
                    assert clicks_between(events, at - 1000, at + 1000), where
                elif item["kind"] == "slow_page":
                    slow_total += 1
                    slow_seen += any(r.duration_ms >= 3000 and abs(r.at_ms - at) < 3000 for r in requests)
    assert slow_total and slow_seen == slow_total, f"only {slow_seen} of {slow_total} slow pages show a slow request"
