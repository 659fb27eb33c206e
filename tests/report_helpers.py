"""Helpers for group-report tests: a real worker with the report settings, shop sessions, waiting for a report."""
from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from patterns.control import create_report, start
from patterns.models import Report
from summaries.models import Organization, Project, Session
from tests.conftest import start_worker, stop_worker, test_database_url
from tests.summary_sessions import SessionBuilder, browse

MODEL = "openai/recap-test"


def report_env(prefix: str, **extra: Any) -> dict[str, str]:
    """The environment of a worker for report tests: this run's database and Redis, its own key prefix."""
    env = dict(os.environ, DATABASE_URL=test_database_url(), RECAP_CACHE_PREFIX=prefix, RECAP_AUTO_VALIDATE="false",
               RECAP_REPORT_CLIPS_PER_PATTERN="0", RECAP_LLM_RETRY_WAIT="0.01")
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextlib.contextmanager
def report_worker(concurrency: int = 4, queues: str = "default,llm,render", pool: str = "threads",
                  **extra: Any) -> Iterator[subprocess.Popen]:
    """A real Celery worker; this process uses the same key prefix (progress, caches) and report settings."""
    from django.conf import settings

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    shared = {"RECAP_CACHE_PREFIX": prefix, "RECAP_REPORT_CLIPS_PER_PATTERN": 0, "RECAP_AUTO_VALIDATE": False,
              **{k: v for k, v in extra.items() if k.startswith("RECAP_")}}
    saved = {name: getattr(settings, name, None) for name in shared}
    for name, value in shared.items():
        kind = type(saved[name])
        setattr(settings, name, kind(value) if kind in (int, float) else value)
    proc = start_worker(report_env(prefix, **extra), queues=queues, concurrency=concurrency, pool=pool)
    try:
        yield proc
    finally:
        stop_worker(proc)
        for name, value in saved.items():
            setattr(settings, name, value)


def shop_project(name: str = "Shop") -> Project:
    """A fresh organization and project."""
    slug = f"org-{uuid.uuid4().hex[:8]}"
    org = Organization.objects.create(name=f"Org {slug}", slug=slug)
    return Project.objects.create(organization=org, name=name)


def store_sessions(project: Project, builders: list[Callable[[], SessionBuilder]]) -> list[Session]:
    """Store one session per builder."""
    return [builder().store(project) for builder in builders]


def wait_until_final(report: Report, timeout: float = 180) -> Report:
    """Poll the database until the report has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.is_final:
            return report
        time.sleep(0.3)
    raise AssertionError(f"report {report.pk} still {report.status} in phase {report.phase} after {timeout} s")


def run_report(project: Project, timeout: float = 180, **options: Any) -> Report:
    """Create, start and wait for a report of the project (all its sessions unless told otherwise)."""
    options.setdefault("max_sessions", 1000)
    return wait_until_final(start(create_report(project, **options)), timeout)


def by_name(report: Report) -> dict[tuple[str, str], Any]:
    """The report's patterns by (kind, name)."""
    return {(p.kind, p.name): p for p in report.patterns.all()}


def paying_fails_at(offset: float) -> Callable[[], SessionBuilder]:
    """A builder like payment_fails_and_user_leaves, paying `offset` s later (so its prompts differ)."""
    def build() -> SessionBuilder:
        b = SessionBuilder()
        t = browse(b) + offset
        for attempt in range(2):
            b.click(t + attempt * 8, "Pay now")
            b.request(t + attempt * 8 + 0.1, "POST", "/api/payment", 500)
            b.exception(t + attempt * 8 + 0.4, "Error", "Payment request failed: 500 Internal Server Error",
                        function="submitPayment")
        b.click(t + 14, "Continue shopping", tag="a", href="/")
        b.pageview(t + 14.5, "/", "Home")
        b.end(t + 20)
        return b
    return build


def dead_button_at(offset: float) -> Callable[[], SessionBuilder]:
    """A builder like dead_button_then_leave, trying the coupon `offset` s later."""
    def build() -> SessionBuilder:
        b = SessionBuilder()
        t = browse(b) + offset
        for i in range(3):
            b.click(t + i * 3, "Apply coupon", mutate=False, x=600, y=420)
        b.posthog_signal(t + 2.5, "$dead_click", "Apply coupon")
        b.end(t + 15)
        return b
    return build
