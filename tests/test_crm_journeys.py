"""CRM journeys record what their labels claim: real posthog-js in Chromium on the single-page CRM, captured by a
live Recap."""
from __future__ import annotations

import pytest

from corpus.apps import CRM
from corpus.crm_visit import CLOSES_TAB, RECOVERS
from corpus.evidence import attribute_changes, exceptions, network_requests
from corpus.truth import JourneySpec
from demo_crm.faults import SAVE_FAILS, SLOW_VIEW, WIDGET_NOISE
from tests.corpus_recording import ms, recorded_journeys

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def recorded(transactional_db, tmp_path):
    """Two short CRM journeys (a save that fails once, a view left while loading) recorded through a live Recap."""
    specs = [
        JourneySpec("create_customer", [SAVE_FAILS], seed=11, variant=RECOVERS, pace=0.08),
        JourneySpec("check_customer", [SLOW_VIEW, WIDGET_NOISE], seed=12, variant=CLOSES_TAB, pace=0.15),
    ]
    with recorded_journeys(CRM, specs, tmp_path, parallel=2) as out:
        yield out


def test_crm_journeys_record_what_their_labels_claim(recorded):
    # A save that fails once: non-blocking at the 500, then the new customer's page; all on one page load.
    label, session, events = recorded["create_customer"]
    assert label["outcome"] == "completed" and label["blocking"] == []
    assert [i["kind"] for i in label["non_blocking"]] == ["save_fails"]
    failed_at = ms(session.start_time) + label["non_blocking"][0]["t"] * 1000
    saves = [r for r in network_requests(events) if r.url.endswith("/api/kunden") and r.status in (500, 201)]
    assert [r.status for r in saves] == [500, 201], saves
    assert abs(saves[0].at_ms - failed_at) < 4000
    paths = [e["properties"]["$pathname"] for e in events if e["event"] == "$pageview"]
    assert any(p.startswith("/kunden/1") for p in paths[paths.index("/kunden/neu"):]), paths
    assert sum(1 for e in events for r in e["properties"].get("$snapshot_data") or [] if r.get("type") == 2) == 1

    # A customer page left while loading by closing the tab: blocking, the spinner never went away, the widget's
    # errors are captured as noise.
    label, session, events = recorded["check_customer"]
    assert label["outcome"] == "abandoned"
    assert [i["kind"] for i in label["blocking"]] == ["slow_view"] and label["non_blocking"] == []
    assert [i["kind"] for i in label["noise"]] == ["widget_noise"]
    slow_at = ms(session.start_time) + label["blocking"][0]["t"] * 1000
    # the view marked busy around the label's time (the list before it may finish loading just then) and never
    # marked done again
    busy = [(at, value) for at, _, value in attribute_changes(events, "aria-busy") if at >= slow_at - 1500]
    assert any(value == "true" for _, value in busy) and busy[-1][1] == "true", busy
    assert not [r for r in network_requests(events) if "/api/kunden/" in r.url and r.at_ms >= slow_at - 1500]
    captured = exceptions(events)
    assert captured and all("locale" in (e.get("value") or "") for e in captured)
