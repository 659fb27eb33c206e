"""A rule-engine report through real workers and Redis: every phase of the chord, progress, skips, zero patterns."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from patterns import progress
from patterns.control import rerun
from patterns.models import Report
from summaries.models import Session, SessionSummary
from tests.report_helpers import by_name, run_report, shop_project, store_sessions, wait_until_final
from tests.summary_sessions import (
    clean_purchase_with_noise, dead_button_then_leave, payment_fails_and_user_leaves, payment_fails_once_then_works,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_chord_runs_every_phase_and_the_command_prints_the_ranked_patterns(rules_worker, tmp_path):
    project = shop_project()
    store_sessions(project, [payment_fails_and_user_leaves] * 3 + [dead_button_then_leave] * 2
                   + [payment_fails_once_then_works, clean_purchase_with_noise])
    receiving = payment_fails_and_user_leaves().store(project)
    Session.objects.filter(pk=receiving.pk).update(ingestion_state="receiving", last_ingested_at=timezone.now())
    Session.objects.create(project=project, session_id="empty-one", start_time=timezone.now() - timedelta(hours=1))
    out, target = StringIO(), tmp_path / "report.json"
    call_command("report", "create", "--project", project.capture_token, "--all", "--wait", "--json", str(target),
                 stdout=out)
    printed = out.getvalue()
    report = Report.objects.get(project=project)
    assert report.status == "succeeded" and report.trigger == "command" and report.rule_based
    phases = report.phases
    assert phases["summaries"]["total"] == 9 and phases["summaries"]["done"] == 7
    assert sorted(s["reason"] for s in phases["summaries"]["skips"]) == ["no events", "still receiving data"]
    assert phases["extraction"]["done"] == phases["extraction"]["total"] == 1
    assert phases["assignment"]["done"] == 1 and phases["combine"]["note"] == "merged by fingerprint in code"
    assert report.llm_calls == 0 and report.sessions_analysed == 7
    patterns = by_name(report)
    payment = next(p for (kind, name), p in patterns.items() if kind == "blocking" and "Payment" in name)
    assert (payment.sessions_affected, payment.severity, payment.rank) == (3, "critical", 1)
    assert payment.description.startswith("Rule-based:") and payment.fingerprint.startswith("rules:blocking:")
    dead = next(p for (kind, name), p in patterns.items() if kind == "blocking" and "Apply coupon" in name)
    assert dead.sessions_affected == 2
    # one payment failure the user got past is one session only: not a recurring pattern
    assert not any(kind == "non-blocking" for kind, _ in patterns)
    # the command printed progress lines and the ranked patterns
    assert "summaries done: 7/9 (2 skipped)" in printed and "assignment done: 1/1" in printed and "1. [critical] blocking: Payment request fails (5xx)" in printed
    assert f"/reports/{report.pk}/" in printed
    data = json.loads(target.read_text())
    assert data["schema"] == "recap.group_report/1" and data["report"]["url"].endswith(f"/reports/{report.pk}/")
    assert [p["name"] for p in data["patterns"]][0] == payment.name
    example = data["patterns"][0]["examples"][0]
    assert {"session_id", "event_uuid", "time", "seconds_from_start", "description", "verdict", "before", "after"} <= set(example)
    # progress stayed in Redis for pages: phase, per-session state, patterns found, workers
    state = progress.read(report.pk, with_sessions=True)
    assert state.sessions[receiving.session_id] == "skipped: still receiving data"
    assert sum(1 for v in state.sessions.values() if v == "summarized") == 7
    assert payment.name in state.patterns_found and report.workers


def test_zero_patterns_is_a_success_and_a_rerun_reuses_everything(rules_worker):
    project = shop_project()
    store_sessions(project, [clean_purchase_with_noise, payment_fails_once_then_works, clean_purchase_with_noise])
    report = run_report(project)
    assert report.status == "succeeded" and report.patterns.count() == 0
    assert report.message == "No recurring problem in 3 sessions."
    summaries = SessionSummary.objects.count()
    again = wait_until_final(rerun(report))
    assert again.status == "succeeded" and again.run == report.run + 1
    assert SessionSummary.objects.count() == summaries  # nothing summarized twice
    assert again.phases["extraction"]["reused"]
    time.sleep(2)
    again.refresh_from_db()
    assert again.status == "succeeded" and again.run == report.run + 1  # it ended once, no loop
