"""A worker killed mid-summaries: every summary is done within minutes, none is sent to the model twice at once."""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from summaries.models import Organization, Project, SessionSummary
from summaries.tasks import requeue_abandoned_summaries, summarize_session
from tests.conftest import start_worker, stop_worker
from tests.conftest import test_database_url as database_url
from tests.llm_server import Reply
from tests.summary_sessions import payment_fails_and_user_leaves
from tests.test_summary_llm import MODEL, answer

SESSIONS = 6


def focus_of(text: str) -> str:
    """Which test case a prompt belongs to (each summary asks its own focus)."""
    found = re.search(r"case-\d+", text)
    return found.group(0) if found else ""


def wait_for(condition, timeout: float, poll: float = 0.5) -> bool:
    """Poll until condition() is true or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


@pytest.mark.slow
def test_sigkill_mid_summaries_every_summary_done_within_minutes_none_billed_twice(transactional_db, llm_server,
                                                                                     settings):
    settings.RECAP_SUMMARY_HEARTBEAT_SECONDS = 1  # the sweep here reads the heartbeat the workers are told to use
    project = Project.objects.create(organization=Organization.objects.create(name="Acme", slug="acme"), name="Shop")
    sessions = [payment_fails_and_user_leaves().store(project) for _ in range(SESSIONS)]
    llm_server.default = Reply(answer, delay=4)  # slow enough to be killed in the middle of a call
    env = dict(os.environ, DATABASE_URL=database_url(), RECAP_LLM_MODEL=MODEL,
               RECAP_LLM_API_BASE=llm_server.base_url, RECAP_AUTO_VALIDATE="false", RECAP_LLM_MAX_ATTEMPTS="1",
               RECAP_SUMMARY_HEARTBEAT_SECONDS="1")
    worker = start_worker(env, queues="llm", concurrency=3)
    replacement = None
    try:
        for index, session in enumerate(sessions):
            summarize_session.delay(session.pk, None, f"case-{index}")
        assert wait_for(lambda: SessionSummary.objects.filter(status="running").count() == 3
                        and llm_server.call_count == 3, 60), "three summaries never ran at once"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at, sent_before = time.monotonic(), len(llm_server.requests)
        replacement = start_worker(env, queues="llm", concurrency=3)

        def all_done() -> bool:
            requeue_abandoned_summaries()  # what beat runs every minute
            return SessionSummary.objects.filter(status="succeeded").count() == SESSIONS

        assert wait_for(all_done, 240, poll=2), list(SessionSummary.objects.values_list("status", "error"))
        assert time.monotonic() - killed_at < 300
    finally:
        if replacement is not None:
            stop_worker(replacement)
        if worker.poll() is None:
            stop_worker(worker)
    rows = SessionSummary.objects.all()
    assert rows.count() == SESSIONS and all(row.llm_calls == 1 for row in rows)  # each run billed once
    before = [focus_of(r.text()) for r in llm_server.requests[:sent_before]]
    after = [focus_of(r.text()) for r in llm_server.requests[sent_before:]]
    for index in range(SESSIONS):
        case = f"case-{index}"
        # Never two calls for one summary while a worker lived; a call cut by the kill is sent once more.
        assert before.count(case) <= 1 and after.count(case) <= 1 and before.count(case) + after.count(case) >= 1


@pytest.mark.django_db
def test_a_live_run_is_never_taken_over_a_silent_one_is_resumed(settings, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from summaries import tasks
    from summaries.summarize import summarize_session as run

    settings.RECAP_SUMMARY_HEARTBEAT_SECONDS = 15
    project = Project.objects.create(organization=Organization.objects.create(name="Acme", slug="acme"), name="Shop")
    session = payment_fails_and_user_leaves().store(project)
    row = run(session, engine="rules")
    SessionSummary.objects.filter(pk=row.pk).update(status="running", heartbeat_at=timezone.now(), summary=None)
    assert run(session, engine="rules").status == "running"  # alive elsewhere: not run twice
    assert run(session, engine="rules", force=True).status == "running"  # not even when forced
    queued: list[int] = []
    monkeypatch.setattr(tasks.resume_summary, "delay", queued.append)
    assert tasks.requeue_abandoned_summaries() == 0
    SessionSummary.objects.filter(pk=row.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert tasks.requeue_abandoned_summaries() == 1 and queued == [row.pk]
    assert SessionSummary.objects.get(pk=row.pk).status == "pending"
    assert tasks.requeue_abandoned_summaries() == 0  # queued once, not every minute
    tasks.resume_summary(row.pk)
    done = SessionSummary.objects.get(pk=row.pk)
    assert done.status == "succeeded" and done.summary and done.heartbeat_at is not None and done.deadline_at


def test_the_deadline_cuts_model_calls_and_stops_retries(settings, llm_server):
    from summaries import llm
    from tests.llm_server import Hang

    settings.RECAP_LLM_API_BASE = llm_server.base_url
    settings.RECAP_LLM_TIMEOUT = 600
    settings.RECAP_LLM_MAX_ATTEMPTS = 3
    settings.RECAP_LLM_RETRY_WAIT = 0.01
    llm_server.script(Hang(30), Hang(30), Hang(30))
    llm._litellm()  # importing litellm takes seconds; not what is measured
    started = time.monotonic()
    with llm.deadline(started + 4), pytest.raises(llm.LLMError):
        llm.complete([{"role": "user", "content": "hi"}], model=MODEL)
    assert time.monotonic() - started < 12 and llm_server.call_count <= 2
