"""A sweep on the LLM engine through real workers and the local model double: model spend counted against the
month, a rolling LLM report, and model patterns that keep their identity through their examples' fingerprints."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sweeps.models import RollingReport, SweepClaim, SweepUsage, TrackedPattern
from sweeps.tick import run_tick
from tests.llm_answers import responder
from tests.llm_server import LLMTestServer
from tests.report_helpers import MODEL, report_worker, shop_project
from tests.summary_sessions import clean_purchase_with_noise, dead_button_then_leave, payment_fails_and_user_leaves
from tests.sweep_helpers import T0, store_built, sweep_for, wait_for_rolling

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def double():
    """The model double for the module's worker, answering every prompt of the pipeline by rule."""
    with LLMTestServer() as server:
        server.default = responder()
        yield server


@pytest.fixture(scope="module")
def llm_worker(django_db_setup, django_db_blocker, double):
    """One real threads worker pointed at the double."""
    with report_worker(concurrency=4, RECAP_LLM_MODEL=MODEL, RECAP_LLM_API_BASE=double.base_url,
                       RECAP_LLM_MAX_ATTEMPTS=2) as proc:
        yield proc


def test_an_llm_sweep_counts_its_spend_and_its_patterns_keep_their_identity(llm_worker, double):
    project = shop_project()
    day_one = [payment_fails_and_user_leaves, dead_button_then_leave] * 2 + [clean_purchase_with_noise]
    store_built(project, day_one, T0 - timedelta(hours=2))
    sweep = sweep_for(project, engine="llm", model=MODEL, monthly_token_cap=10_000_000)
    assert run_tick(sweep, now=T0).queued == 5
    wait_for_rolling(sweep, timeout=150)
    assert SweepClaim.objects.filter(sweep=sweep, state="done").count() == 5
    usage = SweepUsage.objects.get(sweep=sweep)
    assert usage.summaries == 5 and usage.tokens > 0  # what the summaries cost, counted against the month
    first = RollingReport.objects.get(sweep=sweep, day=T0.date()).report
    assert first.engine == "llm" and first.status in ("succeeded", "partial"), first.message
    tracked = {t.pk: t for t in TrackedPattern.objects.filter(project=project)}
    assert tracked and all(t.rule_fingerprints for t in tracked.values())
    next_day = T0 + timedelta(days=1)
    store_built(project, [payment_fails_and_user_leaves] * 2 + [dead_button_then_leave] * 2,
                next_day - timedelta(hours=1))
    assert run_tick(sweep, now=next_day).queued == 4
    wait_for_rolling(sweep, timeout=150)
    second = RollingReport.objects.get(sweep=sweep, day=next_day.date()).report
    again = {t.pk: t for t in TrackedPattern.objects.filter(project=project, last_seen=next_day.date())}
    kept = set(again) & set(tracked)
    assert kept, [(t.key, t.name) for t in TrackedPattern.objects.filter(project=project)]
    for pk in kept:
        assert again[pk].first_seen == T0.date() and again[pk].days.count() == 2
    assert second.patterns.count() == len(again)
