"""Scale-out: a report's tasks run on two workers with separate var dirs (two machines) sharing Postgres and Redis."""
from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import start_worker, stop_worker
from tests.report_helpers import report_env, run_report, shop_project, store_sessions
from tests.summary_sessions import dead_button_then_leave, payment_fails_and_user_leaves

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_two_workers_on_separate_machines_share_one_report(rules_worker, tmp_path):
    project = shop_project()
    store_sessions(project, [payment_fails_and_user_leaves, dead_button_then_leave] * 6)
    # Its own var dir (secret key, embedded files), the blobs where the other machine stores them (like S3).
    other = start_worker(report_env(settings.RECAP_CACHE_PREFIX, RECAP_VAR_DIR=tmp_path / "machine-b",
                                    MEDIA_ROOT=settings.MEDIA_ROOT), concurrency=2)
    try:
        report = run_report(project)
    finally:
        stop_worker(other)
    assert report.status == "succeeded" and report.sessions_analysed == 12
    assert len(report.workers) == 2, report.workers  # both machines did part of the work
    assert all(done > 0 for done in report.workers.values())
    assert {p.sessions_affected for p in report.patterns.filter(kind="blocking")} == {6}
