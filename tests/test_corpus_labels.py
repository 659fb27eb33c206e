"""Labels rows built from a journey's record: buckets, times from the session start, only injected faults."""
from __future__ import annotations

from corpus.browser import Observation
from corpus.truth import BLOCKING, NON_BLOCKING, JourneyRecord, JourneySpec, label_row

START = 1_800_000_000.0


def record(faults: list[str], observations: list[Observation], variant: str = "") -> JourneyRecord:
    """A finished journey record with the given faults and browser observations."""
    return JourneyRecord(spec=JourneySpec("buy_product", faults, seed=1, variant=variant), goal="Buy the kettle",
                         outcome="completed", observations=observations, session_ids=["s1"])


def test_failed_payment_is_blocking_at_the_moment_the_error_came_back():
    rec = record(["payment_500"], [
        Observation("response", START + 40.0, url="http://shop.test/api/checkout/pay", status=500, method="POST", duration=1.2),
        Observation("response", START + 52.0, url="http://shop.test/api/checkout/pay", status=500, method="POST", duration=0.9),
    ])
    rec.outcome = "failed"
    row = label_row(rec, "s1", START + 2.0)
    assert [(b["kind"], b["t"]) for b in row["blocking"]] == [("payment_500", 39.2)]
    assert "2 attempt(s)" in row["blocking"][0]["description"]
    assert row["non_blocking"] == [] and row["noise"] == [] and row["outcome"] == "failed"


def test_noise_only_session_has_one_entry_per_noise_kind():
    rec = record(["retried_api", "widget_exception"], [
        Observation("pageerror", START + 3.0, message="TypeError: Cannot read properties of undefined (reading 'agentStatus')"),
        Observation("pageerror", START + 20.0, message="TypeError: ..."),
        Observation("response", START + 2.0, url="http://shop.test/api/recommendations?attempt=1", status=503, duration=0.01),
        Observation("response", START + 2.5, url="http://shop.test/api/recommendations?attempt=2", status=200, duration=0.01),
    ])
    row = label_row(rec, "s1", START)
    assert row["blocking"] == [] and row["non_blocking"] == []
    assert [(n["kind"], n["t"]) for n in row["noise"]] == [("retried_api", 2.0), ("widget_exception", 3.0)]
    assert row["faults"] == ["retried_api", "widget_exception"]


def test_slowness_without_the_slow_page_fault_is_not_labelled():
    slow = Observation("response", START + 10.0, url="http://shop.test/api/search?q=lamp", status=200, duration=6.5)
    assert label_row(record([], [slow]), "s1", START)["non_blocking"] == []
    row = label_row(record(["slow_page"], [slow]), "s1", START)
    assert [(n["kind"], n["t"]) for n in row["non_blocking"]] == [("slow_page", 10.0)]


def test_journey_marks_keep_their_severity_and_times_never_go_negative():
    rec = record(["dead_button"], [], variant="workaround")
    rec.mark("dead_button", NON_BLOCKING, START + 30.5, "Add to cart did nothing")
    rec.mark("dead_button", BLOCKING, START - 5.0, "before the first recorded event")
    row = label_row(rec, "s1", START)
    assert row["non_blocking"] == [{"kind": "dead_button", "t": 30.5, "description": "Add to cart did nothing"}]
    assert row["blocking"][0]["t"] == 0.0
