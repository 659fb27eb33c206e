"""Stored summaries: engine choice, caching, the summarize command and task, the org-scoped page, validation updates."""
from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from summaries.models import Membership, Organization, Project, SessionSummary
from summaries.summarize import SummaryFailed, choose_engine, summarize_session
from tests.summary_sessions import SessionBuilder, browse, payment_fails_and_user_leaves


@pytest.fixture
def project(db):
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Shop")


def test_engine_is_rules_without_a_model_and_llm_with_one(settings):
    settings.RECAP_LLM_MODEL = ""
    assert choose_engine() == ("rules", "")
    settings.RECAP_LLM_MODEL = "openai/gpt-4.1"
    assert choose_engine() == ("llm", "openai/gpt-4.1")
    assert choose_engine("rules") == ("rules", "")
    settings.RECAP_LLM_MODEL = ""
    with pytest.raises(SummaryFailed, match="RECAP_LLM_MODEL"):
        choose_engine("llm")


def test_rule_summary_is_stored_once_per_input(project):
    session = payment_fails_and_user_leaves().store(project)
    first = summarize_session(session)
    again = summarize_session(session)
    assert first.pk == again.pk and first.engine == "rules" and first.status == "succeeded"
    assert first.llm_calls == 0 and first.cost_usd is None and first.prompt_tokens > 0
    assert first.summary["stats"]["blocking_count"] == 1
    # New data for the session changes the input hash: a new summary row.
    from summaries.models import Event, ms_to_datetime

    Event.objects.create(session=session, timestamp=ms_to_datetime(session.events.last().timestamp.timestamp() * 1000 + 500),
                         name="$pageview", current_url="https://shop.test/help", properties={})
    assert summarize_session(session).pk != first.pk


def test_summarize_command_prints_a_readable_rule_based_summary(project):
    session = payment_fails_and_user_leaves().store(project)
    out = StringIO()
    call_command("summarize", session.session_id, stdout=out)
    text = out.getvalue()
    assert text.startswith("Rule-based summary (no LLM)")
    assert "NOT ACHIEVED" in text and "BLOCKING" in text and "Checkout" in text
    with pytest.raises(CommandError, match="no session"):
        call_command("summarize", "does-not-exist")


def test_apply_validation_updates_allowed_fields_and_keeps_evidence(project):
    session = payment_fails_and_user_leaves().store(project)
    row = summarize_session(session)
    (issue,) = row.blocking_key_actions
    ignored = row.apply_validation(issue["event_id"], "confirmed", changes={
        "key_action.description": "Payment error banner shown twice; user left",
        "session_outcome.description": "Could not pay",
        "summary.engine": "hacked",
    }, evidence={"clip": "clips/1.webm", "transcript": "Error: payment failed"})
    assert ignored == ["summary.engine"]
    stored = SessionSummary.objects.get(pk=row.pk)
    (action,) = stored.blocking_key_actions
    assert action["description"] == "Payment error banner shown twice; user left"
    assert action["validation"]["verdict"] == "confirmed" and action["validation"]["evidence"]["clip"] == "clips/1.webm"
    assert stored.summary["session_outcome"]["description"] == "Could not pay"
    assert stored.summary["stats"]["validated_count"] == 1 and stored.validated_at is not None
    row.apply_validation(issue["event_id"], "denied", changes={"key_action.exception": "non-blocking"})
    stored.refresh_from_db()
    assert stored.summary["stats"]["blocking_count"] == 0 and stored.summary["stats"]["non_blocking_count"] == 1


def test_summary_page_is_for_members_only_and_escapes_user_text(client, project):
    b = SessionBuilder()
    t = browse(b)
    b.click(t, "<script>alert(1)</script>Pay")
    b.request(t + 0.1, "POST", "/api/payment", 500)
    b.end(t + 5)
    session = b.store(project)
    summarize_session(session)
    users = get_user_model().objects
    member = users.create_user("member", password="pw")
    Membership.objects.create(user=member, organization=project.organization)
    outsider = users.create_user("outsider", password="pw")
    Membership.objects.create(user=outsider, organization=Organization.objects.create(name="Other", slug="other"))
    url = f"/sessions/{session.pk}/summary/"

    assert client.get(url).status_code == 302  # sign in first
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(member)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Rule-based" in html and "Goal not reached" in html and "blocking" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.slow
def test_summarize_task_runs_on_a_real_llm_queue_worker_and_is_idempotent(transactional_db):
    import os

    from summaries.tasks import summarize_session as task
    from tests.conftest import start_worker, stop_worker, test_database_url

    org = Organization.objects.create(name="Acme", slug="acme")
    project = Project.objects.create(organization=org, name="Shop")
    session = payment_fails_and_user_leaves().store(project)
    # Only the llm queue: the task must be routed there. Video validation is another app's business here.
    env = dict(os.environ, DATABASE_URL=test_database_url(), RECAP_AUTO_VALIDATE="false")
    worker = start_worker(env, queues="llm")
    try:
        results = [task.delay(session.pk).get(timeout=60) for _ in range(2)]
        assert results[0]["status"] == results[1]["status"] == "succeeded"
        assert results[0]["summary_id"] == results[1]["summary_id"]
        assert SessionSummary.objects.filter(session=session).count() == 1
        assert task.delay(10**9).get(timeout=60)["status"] == "failed"
    finally:
        stop_worker(worker)
