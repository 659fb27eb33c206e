"""An LLM-engine report through real workers, Redis and the local model double: calls per phase, caching,
focus, failing calls, cancelling."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from patterns.control import cancel, create_report, rerun, start
from summaries.models import SessionSummary
from tests.llm_answers import prompt_digest, responder, stage
from tests.llm_server import LLMTestServer, Status
from tests.report_helpers import MODEL, report_worker, run_report, shop_project, store_sessions, wait_until_final
from tests.summary_sessions import clean_purchase_with_noise, dead_button_then_leave, payment_fails_and_user_leaves

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ATTEMPTS = 2


@pytest.fixture(scope="module")
def double():
    """The model double for the module's worker."""
    with LLMTestServer() as server:
        yield server


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, double):
    """One real worker pointed at the double: small extraction chunks and assignment chunks of 2 summaries."""
    with report_worker(concurrency=4, RECAP_LLM_MODEL=MODEL, RECAP_LLM_API_BASE=double.base_url,
                       RECAP_LLM_MAX_ATTEMPTS=ATTEMPTS, RECAP_REPORT_CHUNK_TOKENS=900,
                       RECAP_REPORT_ASSIGN_CHUNK=2) as proc:
        yield proc


@pytest.fixture
def llm(double, worker):
    """The double with a fresh log, answering every prompt of the pipeline by rule."""
    double.requests.clear()
    double.default = responder()
    return double


def calls(server: LLMTestServer) -> Counter:
    """Chat calls received, by pipeline stage."""
    return Counter(stage(r.body) for r in server.requests)


def shop(project, n: int = 6) -> list:
    """Sessions where paying fails and where a button is dead, and a clean one."""
    builders = [payment_fails_and_user_leaves, dead_button_then_leave] * (n // 2) + [clean_purchase_with_noise]
    return store_sessions(project, builders)


def test_calls_per_phase_and_none_when_run_again(llm):
    project = shop_project()
    shop(project)
    report = run_report(project, engine="llm", model=MODEL)
    assert report.status == "succeeded", report.message
    seen = calls(llm)
    phases = report.phases
    assert seen["summary"] == 7 == phases["summaries"]["model_calls"]
    assert seen["extract"] == phases["extraction"]["model_calls"] >= 2  # several chunks...
    assert seen["combine"] == phases["combine"]["model_calls"] == 1  # ...so their patterns are combined once
    assert seen["assign"] == phases["assignment"]["model_calls"] <= phases["assignment"]["total"] == 4
    assert report.llm_calls == len(llm.requests) and report.input_tokens > 0
    paying = report.patterns.get(kind="blocking", sessions_affected=3)
    # each session failed to pay twice: every moment counts, one example per session
    assert paying.occurrences == 6 and paying.examples.count() == 3
    assert not report.rule_based and report.patterns.exists() and not report.patterns.filter(rule_based=True).exists()
    # every moment of an example is a flagged key action of its session's summary, with its own neighbours
    for example in report.patterns.first().examples.all():
        assert example.event_id not in [n["event_id"] for n in example.before + example.after]
    made = len(llm.requests)
    assert wait_until_final(rerun(report)).llm_calls == 0
    assert run_report(project, engine="llm", model=MODEL).llm_calls == 0  # a new report of the same sessions
    assert len(llm.requests) == made
    # adding sessions summarizes only the new ones
    added = store_sessions(project, [payment_fails_and_user_leaves, dead_button_then_leave])
    grown = wait_until_final(rerun(report, add_sessions=added))
    assert grown.status == "succeeded" and grown.phases["summaries"]["model_calls"] == 2
    assert calls(llm)["summary"] == 7 + 2


def test_the_focus_question_changes_prompts_and_cache_keys(llm):
    project = shop_project()
    shop(project, 4)
    plain = run_report(project, engine="llm", model=MODEL)
    before = len(llm.requests)
    focused = run_report(project, engine="llm", model=MODEL, focus="What stops people from paying?")
    assert plain.status == focused.status == "succeeded"
    later = llm.requests[before:]
    assert Counter(stage(r.body) for r in later)["summary"] == 5  # new cache keys: asked again
    pattern_prompts = [r for r in later if stage(r.body) in ("extract", "assign")]
    assert pattern_prompts and all("What stops people from paying?" in r.text() for r in pattern_prompts)
    assert SessionSummary.objects.filter(focus="What stops people from paying?").count() == 5


def every_fourth_prompt() -> Callable[[dict], bool]:
    """fails(body) for the double: the 4th, 8th, ... distinct prompt it receives fails at every attempt (a quarter
    of the calls, never two prompts in a row, so two chunks of one phase never both fail)."""
    order: dict[str, int] = {}
    lock = threading.Lock()

    def fails(body: dict) -> bool:
        with lock:
            position = order.setdefault(prompt_digest(body), len(order) + 1)
        return position % 4 == 0

    return fails


def test_a_quarter_of_calls_failing_completes_and_lists_them(llm):
    project = shop_project()
    shop(project, 10)
    llm.default = responder(fails=every_fourth_prompt())
    report = run_report(project, engine="llm", model=MODEL)
    assert report.status in ("succeeded", "partial"), report.message
    failed_prompts = {prompt_digest(r.body) for r in llm.requests if r.status == 500}
    assert failed_prompts, "the double failed no call"
    assert sum(1 for r in llm.requests if r.status == 500) == ATTEMPTS * len(failed_prompts)  # retried, then given up
    listed = [f for record in report.phases.values() for f in record.get("failures", [])]
    assert len(listed) == len(failed_prompts)
    assert all("scripted failure" in f["reason"] or "500" in f["reason"] for f in listed)
    assert report.phases["summaries"]["failed"] == sum(1 for r in llm.requests if r.status == 500
                                                        and stage(r.body) == "summary") // ATTEMPTS


def test_every_call_failing_ends_the_report_once(llm):
    project = shop_project()
    shop(project, 4)
    llm.default = Status(500, "the model is down")
    report = run_report(project, engine="llm", model=MODEL)
    assert report.status == "failed" and "Only 0 of 5 sessions could be summarized" in report.message
    assert "the model is down" in report.message or "500" in report.message
    assert len(llm.requests) == 5 * ATTEMPTS
    time.sleep(3)
    report.refresh_from_db()
    assert report.status == "failed" and len(llm.requests) == 5 * ATTEMPTS  # no loop, no retry of the report


def test_cancelling_stops_queued_work(llm):
    project = shop_project()
    shop(project, 10)
    llm.default = responder(delay=1.0)
    report = start(create_report(project, engine="llm", model=MODEL, max_sessions=100))
    deadline = time.monotonic() + 60
    while not llm.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cancel(report)
    time.sleep(1.5)
    settled = len(llm.requests)
    assert settled <= 4 + 4  # at most what the 4 worker threads had started, and their next pick
    time.sleep(4)
    report.refresh_from_db()
    assert len(llm.requests) == settled and report.status == "cancelled" and not report.patterns.exists()
