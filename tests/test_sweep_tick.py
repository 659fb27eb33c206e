"""Sweep ticks through real workers on a simulated clock: every session once, no double work, caps, the command."""
from __future__ import annotations

import json
import threading
from decimal import Decimal
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from summaries.models import Membership, Session, SessionSummary
from sweeps.models import Sweep, SweepClaim, SweepUsage
from sweeps.tick import resolve_engine, run_tick
from tests.report_helpers import shop_project
from tests.sweep_helpers import T0, bulk_sessions, sweep_for, wait_for_claims

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
# 1,100 sessions, 300 of them without events, in 10 ticks; bench/bench_sweeps.py runs ticks over 10,000 sessions.
WITH_EVENTS, WITHOUT_EVENTS, TICKS = 800, 300, 10


def test_ten_ticks_summarize_every_session_exactly_once(rules_worker):
    project = shop_project()
    total = WITH_EVENTS + WITHOUT_EVENTS
    bulk_sessions(project, WITH_EVENTS, T0 - timedelta(hours=20))
    bulk_sessions(project, WITHOUT_EVENTS, T0 - timedelta(hours=15), events=False, prefix="empty")
    sweep = sweep_for(project, cap_per_tick=total // TICKS, lookback_hours=48, rolling_report=False)
    for hour in range(TICKS):
        result = run_tick(sweep, now=T0 + timedelta(hours=hour))
        assert result.queued == total // TICKS and not result.capped
    wait_for_claims(sweep)
    summaries = SessionSummary.objects.filter(session__project=project)
    assert summaries.count() == total and summaries.filter(status="succeeded").count() == total
    assert not summaries.values("session").annotate(n=Count("pk")).filter(n__gt=1).exists()
    claims = SweepClaim.objects.filter(sweep=sweep)
    assert claims.filter(state="done").count() == WITH_EVENTS and claims.filter(state="empty").count() == WITHOUT_EVENTS
    for hour in (10, 11):  # later ticks queue nothing: empty sessions are never picked again
        later = run_tick(sweep, now=T0 + timedelta(hours=hour))
        assert (later.queued, later.skipped) == (0, 0)
    assert SessionSummary.objects.filter(session__project=project).count() == total


def test_two_ticks_at_once_do_not_double_work(rules_worker):
    project = shop_project()
    bulk_sessions(project, 60, T0 - timedelta(hours=2))
    sweep = sweep_for(project, cap_per_tick=100, rolling_report=False)
    results = []

    def tick() -> None:
        try:
            results.append(run_tick(Sweep.objects.get(pk=sweep.pk), now=T0))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.queued for r in results) == 60
    wait_for_claims(sweep)
    assert SessionSummary.objects.filter(session__project=project).count() == 60
    assert SweepClaim.objects.filter(sweep=sweep).count() == 60


def test_the_monthly_cap_stops_work_and_says_so(rules_worker):
    project = shop_project()
    bulk_sessions(project, 12, T0 - timedelta(hours=2))
    sweep = sweep_for(project, monthly_summary_cap=5, rolling_report=False)
    first = run_tick(sweep, now=T0)
    assert first.queued == 5 and first.capped.startswith("monthly summary cap reached: 5 of 5 summaries")
    assert first.reasons == {first.capped: 7}
    second = run_tick(sweep, now=T0 + timedelta(hours=1))
    assert second.queued == 0 and "monthly summary cap reached" in second.capped
    sweep.refresh_from_db()
    assert sweep.state == "capped" and sweep.status_message.startswith("Stopped: monthly summary cap reached")
    member = get_user_model().objects.create_user("member-cap", password="pw")
    Membership.objects.create(user=member, organization=project.organization)
    client = Client()
    client.force_login(member)
    page = client.get(reverse("summaries:project_overview", args=[project.pk])).content.decode()
    assert "Stopped by a cap" in page and "Stopped: monthly summary cap reached: 5 of 5 summaries" in page
    wait_for_claims(sweep)
    next_month = run_tick(sweep, now=T0 + timedelta(days=30), all_time=True)  # December: the cap counts again
    assert next_month.queued == 5
    wait_for_claims(sweep)


def test_skip_reasons_beat_entry_and_the_command(rules_worker, tmp_path):
    project = shop_project()
    now = timezone.now()  # the command runs on the real clock
    bulk_sessions(project, 3, now - timedelta(hours=1))
    short, receiving = bulk_sessions(project, 2, now - timedelta(hours=1), prefix="odd")
    Session.objects.filter(pk=short.pk).update(active_seconds=2)
    Session.objects.filter(pk=receiving.pk).update(ingestion_state="receiving")
    bulk_sessions(project, 2, now - timedelta(days=5), prefix="old")
    sweep = sweep_for(project, cadence_minutes=30, rolling_report=False)
    task = PeriodicTask.objects.get(pk=sweep.periodic_task_id)
    assert task.task == "sweeps.tasks.tick" and json.loads(task.args) == [sweep.pk] and task.interval.every == 30
    sweep.enabled = False
    sweep.save()
    assert not PeriodicTask.objects.get(pk=task.pk).enabled
    Sweep.objects.filter(pk=sweep.pk).update(enabled=True)
    out, target = StringIO(), tmp_path / "tick.json"
    call_command("sweep", "--project", project.capture_token, "--once", "--json", str(target), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "queued 3, skipped 2"
    assert "  1 still receiving data" in lines and "  1 active less than 10 s" in lines
    assert json.loads(target.read_text())["queued"] == 3
    out = StringIO()
    call_command("sweep", "--project", str(project.pk), "--once", "--all-time", stdout=out)
    assert out.getvalue().splitlines()[0] == "queued 2, skipped 1"  # the old ones; the short one is skipped for good
    wait_for_claims(Sweep.objects.get(pk=sweep.pk))
    sweep.delete()
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_failed_summaries_are_retried_up_to_three_times_and_lost_ones_requeued(rules_worker):
    project = shop_project()
    failed, given_up, lost, fresh = bulk_sessions(project, 4, T0 - timedelta(hours=1))
    sweep = sweep_for(project, rolling_report=False)
    key = resolve_engine(sweep).key
    long_ago = timezone.now() - timedelta(hours=3)
    for session, state, attempts in ((failed, "failed", 1), (given_up, "gave_up", 3), (lost, "queued", 0)):
        claim = SweepClaim.objects.create(organization=project.organization, sweep=sweep, session=session,
                                          engine_key=key, day=T0.date(), state=state, attempts=attempts)
        SweepClaim.objects.filter(pk=claim.pk).update(updated_at=long_ago)  # a queued claim this old lost its task
    result = run_tick(sweep, now=T0)
    assert result.queued == 3  # the failed one, the lost one and the new one; never the one that failed 3 times
    wait_for_claims(sweep)
    states = dict(SweepClaim.objects.filter(sweep=sweep).values_list("session_id", "state"))
    assert states == {failed.pk: "done", given_up.pk: "gave_up", lost.pk: "done", fresh.pk: "done"}
    assert not SessionSummary.objects.filter(session=given_up).exists()


def test_the_token_and_spend_caps_stop_work_and_say_so():
    project = shop_project()
    bulk_sessions(project, 3, T0 - timedelta(hours=1))
    sweep = sweep_for(project, monthly_token_cap=1000, monthly_cost_cap_usd=Decimal("5"), rolling_report=False)
    SweepUsage.objects.create(organization=project.organization, sweep=sweep, month=T0.date().replace(day=1),
                              summaries=40, tokens=1200, cost_usd=Decimal("1.5"))
    result = run_tick(sweep, now=T0)
    assert result.queued == 0
    assert result.capped == "monthly token cap reached: 1,200 of 1,000 tokens used in November 2026"
    assert result.reasons == {result.capped: 3}
    SweepUsage.objects.filter(sweep=sweep).update(tokens=10, cost_usd=Decimal("5.20"))
    result = run_tick(sweep, now=T0 + timedelta(hours=1))
    assert result.capped == "monthly spend cap reached: $5.20 of $5.00 spent in November 2026"
    sweep.refresh_from_db()
    assert sweep.state == "capped" and "monthly spend cap reached" in sweep.status_message
