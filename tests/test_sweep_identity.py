"""Rolling reports after ticks (real workers, simulated clock): a pattern keeps its identity from day to day."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from patterns.models import Pattern, Report
from summaries.models import Membership
from sweeps.identity import match, trend
from sweeps.models import RollingReport, TrackedPattern
from sweeps.tick import run_tick
from tests.report_helpers import shop_project
from tests.summary_sessions import clean_purchase_with_noise, payment_fails_and_user_leaves
from tests.sweep_helpers import T0, store_built, sweep_for, wait_for_rolling

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def member_client(organization) -> Client:
    """A signed-in member of the organization."""
    user = get_user_model().objects.create_user(f"member-{organization.pk}", password="pw")
    Membership.objects.create(user=user, organization=organization)
    client = Client()
    client.force_login(user)
    return client


def test_a_pattern_found_again_the_next_day_keeps_its_identity_and_its_trend_grows(rules_worker):
    project = shop_project()
    store_built(project, [payment_fails_and_user_leaves] * 2 + [clean_purchase_with_noise], T0 - timedelta(hours=2))
    sweep = sweep_for(project)
    assert run_tick(sweep, now=T0).queued == 3
    wait_for_rolling(sweep)
    first = RollingReport.objects.get(sweep=sweep, day=T0.date())
    assert first.report.trigger == Report.Trigger.SWEEP and first.report.status == "succeeded"
    payment = TrackedPattern.objects.get(project=project, kind="blocking")
    assert (payment.first_seen, payment.last_seen) == (T0.date(), T0.date())
    assert payment.key == first.report.patterns.get(kind="blocking").fingerprint
    next_day = T0 + timedelta(days=1)
    store_built(project, [payment_fails_and_user_leaves] * 3, next_day - timedelta(hours=1))
    assert run_tick(sweep, now=next_day).queued == 3
    wait_for_rolling(sweep)
    second = RollingReport.objects.get(sweep=sweep, day=next_day.date())
    assert second.report_id != first.report_id
    again = TrackedPattern.objects.get(project=project, kind="blocking")
    assert again.pk == payment.pk and (again.first_seen, again.last_seen) == (T0.date(), next_day.date())
    assert trend(again) == [(T0.date(), 2), (next_day.date(), 3)]
    # its card shows the trend to the organization's members, and nothing to anyone else
    url = reverse("sweeps:project_patterns", args=[project.pk])
    page = member_client(project.organization).get(url).content.decode()
    assert f'id="pattern-{again.pk}"' in page and "sessions per day: 11-02: 2 · 11-03: 3" in page
    assert member_client(shop_project().organization).get(url).status_code == 404
    # a model's pattern is matched through its examples' rule fingerprints, whatever it is called
    llm = Pattern(report=second.report, fingerprint="llm:x", name="Checkout broken", kind="blocking",
                  severity="high", rule_based=False)
    assert match(llm, set(again.rule_fingerprints), [again], set()) == again
    assert match(llm, {"rules:blocking:other"}, [again], set()) is None
    renamed = Pattern(report=second.report, fingerprint="llm:y", name=again.name + "s", kind="blocking",
                      description=again.description, severity="high", rule_based=False)
    assert match(renamed, set(), [again], set()) == again  # no fingerprints: by name and description
