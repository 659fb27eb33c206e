"""Blocking patterns' examples are checked on rendered clips (render queue, then the validator) and the verdicts
land on the report."""
from __future__ import annotations

import pytest

from patterns.models import PatternExample
from replay_render.models import Clip
from tests.report_helpers import run_report, shop_project, store_sessions
from tests.summary_sessions import payment_fails_and_user_leaves, payment_fails_once_then_works

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_one_clip_per_blocking_pattern_is_rendered_and_judged(rules_worker):
    project = shop_project()
    store_sessions(project, [payment_fails_and_user_leaves] * 3 + [payment_fails_once_then_works] * 2)
    report = run_report(project, clips_per_pattern=1, timeout=300)
    assert report.status == "succeeded", report.message
    blocking = report.patterns.get(kind="blocking")
    checked = PatternExample.objects.filter(pattern=blocking).exclude(verdict="")
    assert checked.count() == 1 and report.phases["validation"]["done"] == 1
    example = checked.get()
    assert example.clip is not None and example.clip.state == Clip.State.DONE
    assert example.verdict in ("confirmed", "denied", "inconclusive") and "rule-based" in example.verdict_note
    assert blocking.confirmed + blocking.denied + blocking.inconclusive == 1
    # the non-blocking pattern is not sent to video
    assert not PatternExample.objects.filter(pattern__report=report, pattern__kind="non-blocking").exclude(verdict="")
