"""The sweeps admin is org-scoped: a staff member of another organization sees none of its rows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse

from patterns.models import Report
from summaries.models import Organization, Project
from sweeps.models import (
    Alert, AlertChannel, AlertPolicy, Delivery, PatternDay, RollingReport, Sweep, SweepClaim, SweepTick, SweepUsage,
    TrackedPattern,
)
from tests.sweep_helpers import T0, bulk_sessions
from tests.test_admin_scope import admin_urls, staff

pytestmark = pytest.mark.django_db
MARK = "sweepsecret"


def test_a_staff_member_of_another_organization_sees_no_sweep_row():
    org = Organization.objects.create(name=f"Org {MARK}", slug=f"org-{MARK}")
    project = Project.objects.create(organization=org, name=f"Shop {MARK}")
    session = bulk_sessions(project, 1, T0, prefix=MARK)[0]
    sweep = Sweep.objects.create(project=project, engine="rules", status_message=f"Stopped: {MARK}")
    tick = SweepTick.objects.create(organization=org, sweep=sweep, clock=T0, message=MARK)
    report = Report.objects.create(organization=org, project=project, title=MARK)
    tracked = TrackedPattern.objects.create(organization=org, project=project, key=MARK, name=MARK, severity="high",
                                            kind="blocking", first_seen=T0.date(), last_seen=T0.date())
    policy = AlertPolicy.objects.create(project=project)
    channel = AlertChannel.objects.create(policy=policy, kind="webhook", url=f"http://127.0.0.1:1/{MARK}")
    alert = Alert.objects.create(organization=org, project=project, kind="test", dedupe_key=MARK, title=MARK)
    rows = {
        Sweep: sweep, SweepTick: tick, TrackedPattern: tracked, AlertPolicy: policy, AlertChannel: channel,
        Alert: alert,
        SweepClaim: SweepClaim.objects.create(organization=org, sweep=sweep, session=session, engine_key="k",
                                              day=T0.date(), reason=MARK),
        SweepUsage: SweepUsage.objects.create(organization=org, sweep=sweep, month=T0.date().replace(day=1)),
        PatternDay: PatternDay.objects.create(organization=org, pattern=tracked, day=T0.date() - timedelta(days=1)),
        RollingReport: RollingReport.objects.create(organization=org, sweep=sweep, day=T0.date(), report=report),
        Delivery: Delivery.objects.create(organization=org, alert=alert, channel=channel, error=MARK),
    }
    other = Organization.objects.create(name="Org B", slug="org-b")
    bob = staff("bob-sweeps", other, role="owner")
    checked = 0
    inline_only = {AlertChannel, PatternDay}  # shown inside their policy and pattern pages
    assert {m for m in rows if m not in admin.site._registry} == inline_only
    for model, obj in rows.items():
        for url in admin_urls(model, obj):
            answer = bob.get(url)
            checked += 1
            assert answer.status_code in (200, 302, 403, 404), (url, answer.status_code)
            assert MARK not in answer.content.decode(errors="replace"), url
    assert checked >= 20
    # a sweep naming another organization's project is refused (a form error), never stored
    assert bob.post(reverse("admin:sweeps_sweep_add"), {"project": project.pk, "engine": "rules"}).status_code == 200
    assert Sweep.objects.count() == 1
    alice = staff("alice-sweeps", org)
    page = alice.get(reverse("admin:sweeps_sweep_changelist")).content.decode()
    assert f"Stopped: {MARK}" in page


def test_a_member_adds_a_sweep_and_an_alert_policy_with_a_channel_in_the_admin():
    org = Organization.objects.create(name="Org C", slug="org-c")
    project = Project.objects.create(organization=org, name="Shop C")
    carol = staff("carol-sweeps", org)
    answer = carol.post(reverse("admin:sweeps_sweep_add"), {
        "project": project.pk, "enabled": "on", "cadence_minutes": 15, "engine": "rules", "model": "", "focus": "",
        "rolling_report": "on", "lookback_hours": 24, "complete_only": "on", "min_active_seconds": 10,
        "max_active_seconds": 3600, "min_events": 0, "url_contains": "", "sample_rate": 1, "cap_per_tick": 200,
        "monthly_summary_cap": 0, "monthly_token_cap": 0, "monthly_cost_cap_usd": 0,
        "ticks-TOTAL_FORMS": 0, "ticks-INITIAL_FORMS": 0, "ticks-MIN_NUM_FORMS": 0, "ticks-MAX_NUM_FORMS": 0})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    sweep = Sweep.objects.get(project=project)
    assert sweep.organization == org and sweep.periodic_task.interval.every == 15
    answer = carol.post(reverse("admin:sweeps_alertpolicy_add"), {
        "project": project.pk, "enabled": "on", "new_pattern_severity": "high", "spike_factor": 2,
        "spike_min_sessions": 5, "baseline_days": 7, "back_after_fixed": "on", "cooldown_hours": 24,
        "checks_needed": 1, "checks_window": 1, "digest": "daily", "digest_top": 5,
        "channels-TOTAL_FORMS": 1, "channels-INITIAL_FORMS": 0, "channels-MIN_NUM_FORMS": 0,
        "channels-MAX_NUM_FORMS": 1000, "channels-0-kind": "webhook", "channels-0-name": "ops",
        "channels-0-url": "http://127.0.0.1:9/hook", "channels-0-secret": "s3cret", "channels-0-emails": "",
        "channels-0-enabled": "on"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    channel = AlertChannel.objects.get(policy__project=project)
    assert channel.organization == org and channel.secret == "s3cret"
