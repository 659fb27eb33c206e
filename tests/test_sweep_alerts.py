"""Alerts: a new pattern sends one signed webhook (real workers, simulated clock) and none within the cooldown;
spikes against the baseline; back after fix; Slack, e-mail, retries with backoff, digests, `alerts test`."""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from patterns.models import Pattern, PatternExample, Report
from sweeps.alerts.checks import check_after_report
from sweeps.alerts.delivery import attempt, fire
from sweeps.alerts.digest import send_digest
from sweeps.alerts.payloads import slack_body
from sweeps.identity import Seen
from sweeps.models import Alert, AlertChannel, AlertPolicy, Delivery, PatternDay, RollingReport, TrackedPattern
from sweeps.tick import run_tick
from tests.report_helpers import shop_project
from tests.summary_sessions import clean_purchase_with_noise, payment_fails_and_user_leaves
from tests.sweep_helpers import T0, bulk_sessions, store_built, sweep_for, wait_for_rolling
from tests.webhook_receiver import receiver

pytestmark = [pytest.mark.django_db(transaction=True)]


def policy_for(project, **options) -> AlertPolicy:
    """An alert policy of the project."""
    return AlertPolicy.objects.create(project=project, **options)


def wait_for_requests(got, count: int, timeout: float = 30) -> None:
    """Poll until the receiver has `count` requests."""
    deadline = time.monotonic() + timeout
    while len(got.requests) < count and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.mark.slow
def test_a_new_pattern_sends_one_signed_webhook_and_none_again_within_the_cooldown(rules_worker):
    project = shop_project()
    store_built(project, [payment_fails_and_user_leaves] * 2 + [clean_purchase_with_noise], T0 - timedelta(hours=2))
    sweep = sweep_for(project)
    policy = policy_for(project, new_pattern_severity="high", spike_factor=1.2, spike_min_sessions=1)
    hook = AlertChannel.objects.create(policy=policy, kind="webhook", url="http://127.0.0.1:1/unused")
    with receiver() as got:
        AlertChannel.objects.filter(pk=hook.pk).update(url=got.url)
        run_tick(sweep, now=T0)
        wait_for_rolling(sweep)
        wait_for_requests(got, 1)
        assert len(got.requests) == 1
        request = got.requests[0]
        headers = {k.lower(): v for k, v in request["headers"].items()}
        expected = "sha256=" + hmac.new(hook.secret.encode(), request["body"], hashlib.sha256).hexdigest()
        assert headers["x-recap-signature"] == expected and headers["x-recap-version"] == "1"
        body = got.bodies()[0]
        assert body["schema"] == "recap.alert/1" and body["kind"] == "new_pattern"
        assert body["delivery_id"] == headers["x-recap-delivery"] == str(Delivery.objects.get().delivery_id)
        assert body["pattern"]["severity"] == "critical" and body["pattern"]["first_seen"] == T0.date().isoformat()
        # the next day (within the 24 h cooldown) the pattern spikes: no second webhook
        next_day = T0 + timedelta(hours=20)
        store_built(project, [payment_fails_and_user_leaves] * 3, next_day - timedelta(hours=1))
        run_tick(sweep, now=next_day)
        wait_for_rolling(sweep)
        time.sleep(1)
        assert len(got.requests) == 1
    tracked = TrackedPattern.objects.get(project=project, kind="blocking")
    assert [v for _, v in tracked.checks["spike"]] == [True]  # met, but cooling down
    assert Delivery.objects.get().status == "sent" and Alert.objects.count() == 1


def _day(project, sweep, day: date, analysed: int, counts: dict[TrackedPattern, int]) -> tuple[RollingReport, list]:
    """A tracked report day: a report with one pattern per tracked pattern and `analysed` sessions."""
    report = Report.objects.create(organization=project.organization, project=project, status="succeeded",
                                   sessions_analysed=analysed, trigger="sweep")
    rolling = RollingReport.objects.create(sweep=sweep, day=day, report=report, tracked_run=1,
                                           organization=project.organization)
    seen = []
    for tracked, count in counts.items():
        row = Pattern.objects.create(report=report, fingerprint=tracked.key, name=tracked.name, severity="high",
                                     kind="blocking", sessions_affected=count, share_of_sessions=count / analysed)
        PatternDay.objects.create(organization=project.organization, pattern=tracked, day=day, sessions_affected=count,
                                  sessions_analysed=analysed, share_of_sessions=count / analysed, report=report)
        seen.append(Seen(row, tracked, new=False))
    return rolling, seen


def _tracked(project, name: str) -> TrackedPattern:
    """A tracked pattern first seen a week before T0."""
    first = T0.date() - timedelta(days=7)
    return TrackedPattern.objects.create(organization=project.organization, project=project, key=f"rules:{name}",
                                         name=name, severity="high", kind="blocking", first_seen=first, last_seen=first)


def test_a_spike_fires_and_a_steady_pattern_does_not():
    project = shop_project()
    sweep = sweep_for(project)
    policy_for(project, spike_factor=2.0, spike_min_sessions=5, checks_needed=2, checks_window=3)
    spiky, steady = _tracked(project, "spiky"), _tracked(project, "steady")
    for back in range(7, 0, -1):
        _day(project, sweep, T0.date() - timedelta(days=back), 100, {spiky: 3, steady: 10})
    rolling, seen = _day(project, sweep, T0.date() - timedelta(days=1) + timedelta(days=1), 100,
                         {spiky: 9, steady: 11})
    assert check_after_report(rolling, seen) == []  # 2 of the last 3 checks needed: 1 so far
    PatternDay.objects.filter(day=T0.date()).delete()
    RollingReport.objects.filter(pk=rolling.pk).delete()
    rolling, seen = _day(project, sweep, T0.date() + timedelta(days=1), 100, {spiky: 9, steady: 11})
    fired = check_after_report(rolling, seen)
    assert [(a.kind, a.pattern) for a in fired] == [("spike", spiky)]
    assert fired[0].payload["baseline_share"] < 0.05 and fired[0].payload["share_of_sessions"] == 0.09
    few = _tracked(project, "few")  # a tripled share of a handful of sessions is not a spike (N = 5)
    rolling, seen = _day(project, sweep, T0.date() + timedelta(days=2), 100, {few: 3})
    assert check_after_report(rolling, seen) == []


def test_a_pattern_back_after_being_marked_fixed_alerts_once():
    project = shop_project()
    sweep = sweep_for(project)
    policy_for(project)
    tracked = _tracked(project, "fixed")
    TrackedPattern.objects.filter(pk=tracked.pk).update(fixed_at=T0 - timedelta(days=1))
    tracked.refresh_from_db()
    rolling, seen = _day(project, sweep, T0.date(), 10, {tracked: 2})
    session = bulk_sessions(project, 1, T0 - timedelta(hours=1), events=False)[0]
    PatternExample.objects.create(pattern=seen[0].pattern, session=session, event_id="e1", timestamp=T0,
                                  kind="blocking")
    fired = check_after_report(rolling, seen)
    assert [a.kind for a in fired] == ["back_after_fix"]
    tracked.refresh_from_db()
    assert tracked.fixed_at is None


def test_slack_payload_email_retries_with_backoff_and_the_delivery_log(settings):
    settings.RECAP_ALERT_RETRY_SECONDS = 30
    project = shop_project("Shop <b>")
    policy = policy_for(project)
    with receiver() as got:
        slack = AlertChannel.objects.create(policy=policy, kind="slack", url=got.url)
        email = AlertChannel.objects.create(policy=policy, kind="email", emails="a@example.test, b@example.test")
        alert = fire(policy, "spike", "k1", "Spike: Payment fails <500>", "Payment fails & users leave",
                     {"report_url": "http://127.0.0.1:8000/reports/1/"}, channels=[])
        body = slack_body(alert)
        assert body["text"] == alert.title and [b["type"] for b in body["blocks"]] == ["header", "section", "context"]
        assert body["blocks"][1]["text"] == {"type": "mrkdwn", "text": "Payment fails &amp; users leave"}
        assert body["blocks"][2]["elements"][0]["text"] == "<http://127.0.0.1:8000/reports/1/|Open the report>"
        got.statuses = [503]
        delivery = Delivery.objects.create(organization=project.organization, alert=alert, channel=slack)
        assert attempt(delivery.pk) == 30.0  # failed: try again in 30 s, then 60 s, ...
        assert attempt(delivery.pk) is None
        delivery.refresh_from_db()
        assert delivery.status == "sent" and delivery.attempts == 2 and len(delivery.log) == 2
        assert delivery.log[0]["outcome"].startswith("failed: HTTP 503") and got.bodies()[1] == body
    mailed = Delivery.objects.create(organization=project.organization, alert=alert, channel=email)
    attempt(mailed.pk)
    assert mail.outbox[-1].subject == "[Recap] Spike: Payment fails <500>"
    assert mail.outbox[-1].to == ["a@example.test", "b@example.test"]
    settings.RECAP_ALERT_MAX_ATTEMPTS = 2
    gone = AlertChannel.objects.create(policy=policy, kind="webhook", url="http://127.0.0.1:9/closed")
    failing = Delivery.objects.create(organization=project.organization, alert=alert, channel=gone)
    assert attempt(failing.pk) == 30.0 and attempt(failing.pk) is None
    failing.refresh_from_db()
    assert failing.status == "failed" and "ConnectError" in failing.error


def test_the_digest_and_alerts_test_command():
    project = shop_project()
    sweep = sweep_for(project)
    policy = policy_for(project, digest="daily", digest_top=1)
    big, small = _tracked(project, "big"), _tracked(project, "small")
    _day(project, sweep, T0.date() - timedelta(days=1), 50, {big: 9, small: 2})
    with receiver() as got:
        AlertChannel.objects.create(policy=policy, kind="webhook", url=got.url)
        AlertChannel.objects.create(policy=policy, kind="email", emails="team@example.test")
        digest = send_digest(policy, T0)
        assert digest.text == "1. [high] big: 9 sessions" and send_digest(policy, T0) is None  # once a day
        assert [p["name"] for p in digest.payload["patterns"]] == ["big"]
        out = StringIO()
        call_command("alerts", "test", "--project", project.capture_token, stdout=out)
        assert out.getvalue().count(": sent") == 2  # sent at once, not through the queue
        assert [b["kind"] for b in got.bodies()].count("test") == 1
