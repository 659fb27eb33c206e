"""The journeys record what their labels claim: real posthog-js in Chromium, captured by a live Recap."""
from __future__ import annotations

import asyncio
import os
from datetime import datetime

import pytest
from django.conf import settings

from corpus.browser import SHOP_HOST
from corpus.evidence import clicks_between, exceptions, mutations_between, network_requests
from corpus.export import session_events, wait_until_processed
from corpus.journeys import GIVES_UP
from corpus.recap_server import RecapServer, recording_env
from corpus.runner import play_all
from corpus.truth import JourneySpec, label_row
from demo_shop.faults import DEAD_BUTTON, PAYMENT_500, RETRIED_API, WIDGET_EXCEPTION
from demo_shop.server import ShopConfig, start_in_thread
from summaries.models import Organization, Project, Session
from tests import conftest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ms(value: datetime) -> float:
    """A datetime as epoch milliseconds."""
    return value.timestamp() * 1000


@pytest.fixture
def recorded(transactional_db, tmp_path):
    """Three short journeys (payment 500, dead button given up, noise only) recorded through a live Recap."""
    org = Organization.objects.create(name="Corpus test", slug="corpus-test")
    project = Project.objects.create(organization=org, name="Shop")
    # The same var dir (media, embedded Redis if any) and database as this test process, so it reads what Recap wrote.
    env = recording_env(settings.VAR_DIR, dict(os.environ, DATABASE_URL=conftest.test_database_url()), keep_services=True)
    server = RecapServer(env, log_dir=tmp_path / "logs").start()
    shop = start_in_thread(ShopConfig(posthog_host=server.url, posthog_token=project.capture_token))
    specs = [
        JourneySpec("buy_product", [PAYMENT_500], seed=7, pace=0.08),
        JourneySpec("search_browse", [DEAD_BUTTON], seed=8, variant=GIVES_UP, pace=0.08),
        JourneySpec("quick_look", [WIDGET_EXCEPTION, RETRIED_API], seed=9, pace=0.3),
    ]
    try:
        records = asyncio.run(play_all(f"http://{SHOP_HOST}:{shop.port}", specs, parallel=3))
        for record in records:
            assert not record.error, f"{record.spec.name} broke: {record.error}"
            assert len(record.session_ids) == 1
        wait_until_processed(project, [r.session_ids[0] for r in records], timeout=120)
        out = {}
        for record in records:
            session = Session.objects.get(project=project, session_id=record.session_ids[0])
            out[record.spec.journey] = (label_row(record, session.session_id, session.start_time.timestamp()),
                                        session, session_events(session))
        yield out
    finally:
        shop.shutdown()
        server.stop()


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
