"""A worker SIGKILLed in the middle of a report: the next worker resumes it, and no finished model call is made again."""
from __future__ import annotations

import time

import pytest

from patterns.control import create_report, start
from tests.conftest import start_worker, stop_worker
from tests.llm_answers import prompt_digest, responder, stage
from tests.report_helpers import (
    MODEL, dead_button_at, paying_fails_at, report_env, shop_project, store_sessions, wait_until_final,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
STALL = 3


def test_a_killed_worker_is_resumed_without_repeating_finished_calls(llm_server, settings):
    settings.RECAP_CACHE_PREFIX = prefix = f"test-resume-{time.monotonic_ns()}"
    settings.RECAP_REPORT_STALL_SECONDS, settings.RECAP_REPORT_CLIPS_PER_PATTERN = STALL, 0
    env = report_env(prefix, RECAP_LLM_MODEL=MODEL, RECAP_LLM_API_BASE=llm_server.base_url,
                     RECAP_REPORT_STALL_SECONDS=STALL, RECAP_REPORT_ASSIGN_CHUNK=1, RECAP_REPORT_CHUNK_TOKENS=900)
    llm_server.default = responder(delay=0.4)
    project = shop_project()
    # moments at different times in each session, so no two work items send the same prompt
    store_sessions(project, [paying_fails_at(i * 1.5) for i in range(4)] + [dead_button_at(i * 1.5) for i in range(4)])
    first = start_worker(env, concurrency=2)
    try:
        report = start(create_report(project, engine="llm", model=MODEL, max_sessions=100))
        deadline = time.monotonic() + 120
        # killed while a model call is in flight: that item dies with the worker and has to be resumed
        while not (sum(1 for r in llm_server.requests if stage(r.body) == "assign" and r.answered_at) >= 2
                   and any(stage(r.body) == "assign" and not r.answered_at for r in llm_server.requests)):
            assert time.monotonic() < deadline, "the report never reached assignment"
            time.sleep(0.02)
        killed_at = time.time()
        first.kill()  # SIGKILL: no goodbye, its tasks stay unacknowledged, its leases stop being renewed
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            stop_worker(first)
    report.refresh_from_db()
    assert report.status == "running" and report.phase == "assigning"
    second = start_worker(env, concurrency=2)  # on start it looks for reports a dead worker left behind
    try:
        report = wait_until_final(report, timeout=120)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nsecond worker's log:\n" + "".join(list(second.lines)[-80:])) from exc
    finally:
        stop_worker(second)
    assert report.status == "succeeded", report.message
    assert report.pipeline_state["resumes"] == {"assigning": 1} and report.patterns.exists()
    finished_before = {prompt_digest(r.body) for r in llm_server.requests
                       if r.answered_at and r.answered_at < killed_at - 0.5 and r.status == 200}
    asked_after = [prompt_digest(r.body) for r in llm_server.requests if r.received_at > killed_at]
    assert asked_after, "nothing was left to do after the kill"
    assert not finished_before & set(asked_after)  # no finished call made again
    assert len(asked_after) == len(set(asked_after))
    # every prompt was answered successfully exactly once, except those cut off by the kill
    answered = [prompt_digest(r.body) for r in llm_server.requests if r.status == 200]
    repeated = {d for d in answered if answered.count(d) > 1}
    in_flight = {prompt_digest(r.body) for r in llm_server.requests if r.received_at <= killed_at
                 and (r.answered_at is None or r.answered_at >= killed_at - 0.5)}
    assert repeated <= in_flight
