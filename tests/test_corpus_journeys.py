"""The journeys record what their labels claim: real posthog-js in Chromium, captured by a live Recap."""
from __future__ import annotations

import pytest

from corpus.apps import SHOP
from corpus.evidence import clicks_between, exceptions, mutations_between, network_requests
from corpus.journeys import GIVES_UP
from corpus.truth import JourneySpec
from demo_shop.faults import DEAD_BUTTON, PAYMENT_500, RETRIED_API, WIDGET_EXCEPTION
from tests.corpus_recording import ms, recorded_journeys

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def recorded(transactional_db, tmp_path):
    """Three short journeys (payment 500, dead button given up, noise only) recorded through a live Recap."""
    specs = [
        JourneySpec("buy_product", [PAYMENT_500], seed=7, pace=0.08),
        JourneySpec("search_browse", [DEAD_BUTTON], seed=8, variant=GIVES_UP, pace=0.08),
        JourneySpec("quick_look", [WIDGET_EXCEPTION, RETRIED_API], seed=9, pace=0.3),
    ]
    with recorded_journeys(SHOP, specs, tmp_path, parallel=3) as out:
        yield out


def test_journeys_record_what_their_labels_claim(recorded):
    # A failed payment: blocking in the labels, and the 500 is in posthog-js's network data at that moment.
    label, session, events = recorded["buy_product"]
    assert label["outcome"] == "failed"
    assert [b["kind"] for b in label["blocking"]] == ["payment_500"]
    seen_at = ms(session.start_time) + label["blocking"][0]["t"] * 1000
    failed = [r for r in network_requests(events) if "/api/checkout/pay" in r.url and r.status == 500]
    assert failed, "the payment API's 500 is missing from the recording's network data"
    assert abs(failed[0].at_ms - seen_at) < 4000
    assert label["noise"] == [] and label["non_blocking"] == []

    # A dead button given up: the click is recorded and no DOM mutation follows it for 2.5 s.
    label, session, events = recorded["search_browse"]
    assert label["outcome"] == "abandoned"
    assert [b["kind"] for b in label["blocking"]] == ["dead_button"]
    clicked_at = ms(session.start_time) + label["blocking"][0]["t"] * 1000
    assert clicks_between(events, clicked_at - 1000, clicked_at + 1000), "the click on the dead button is not recorded"
    assert mutations_between(events, clicked_at, clicked_at + 2500) == []
    assert any(e["event"] == "$dead_click" for e in events), "posthog-js did not see a dead click either"

    # Noise only: the widget's exceptions are captured, the 503 is retried at once, nothing is blocking.
    label, session, events = recorded["quick_look"]
    assert label["outcome"] == "completed" and label["blocking"] == [] and label["non_blocking"] == []
    assert {n["kind"] for n in label["noise"]} == {"widget_exception", "retried_api"}
    captured = exceptions(events)
    assert captured and all("agentStatus" in (e.get("value") or "") for e in captured)
    assert session.exception_count == len(captured)
    requests = [r for r in network_requests(events) if "/api/recommendations" in r.url]
    failed = [r for r in requests if r.status == 503]
    assert failed, "the failing recommendations call is missing from the network data"
    retried = [r for r in requests if r.status == 200 and 0 < r.at_ms - failed[0].at_ms < 1500]
    assert retried, "the retry did not follow within a second or so"
