"""Server time and query count of the report pages: a report with 20 patterns and 100 examples, a project page with
10,000 sessions (every one summarized), the Reports tab, and the progress endpoint of a running report.

    .venv/bin/python bench/bench_report_page.py [--sessions 10000] [--runs 20] [--database recap_bench_pages]
        [--redis-db 12]

Postgres database `recap_bench_pages` is created afresh; Redis keys get a fresh prefix (nothing is flushed). Each
page is requested in-process through the whole Django stack (middleware, session, templates) by a signed-in member;
the figures are the median and worst of --runs requests after one warm-up, and the queries of one request.
Target: < 300 ms of server time for the report page and the project page.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 300


def setup(database: str, redis_db: int, var_dir: Path) -> None:
    """A fresh Postgres database, a Redis db with a fresh key prefix; Django configured on them."""
    for sql in (f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True, capture_output=True)
    os.environ.update({"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
                       "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}", "RECAP_VAR_DIR": str(var_dir),
                       "RECAP_CACHE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}", "DJANGO_SETTINGS_MODULE": "config.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def summary_json(i: int) -> dict:
    """A summary of realistic shape: two segments, a few key actions, one blocking issue in every fifth session."""
    actions = [{"event_id": f"{i:04x}{k:04x}", "seconds_from_start": 5.0 * k, "timestamp_ms": 1_700_000_000_000 + k,
                "description": f"Clicked button {k} on /checkout", "exception": "blocking" if (k == 2 and i % 5 == 0)
                else None, "abandonment": False, "confusion": False, "validation": None} for k in range(6)]
    return {"rule_based": True, "session_outcome": {"success": i % 5 != 0, "description": "Bought a lamp"},
            "segments": [{"index": 0, "name": "Browse", "key_actions": actions[:3]},
                         {"index": 1, "name": "Checkout", "key_actions": actions[3:]}],
            "stats": {"blocking_count": int(i % 5 == 0), "validated_count": 0}}


def build(sessions: int) -> dict:
    """The organization, a member, the big project, a finished report (20 x 5 examples) and a running one."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from patterns import progress
    from patterns.models import Pattern, PatternExample, Report
    from summaries.analysis.rules import RULES_VERSION
    from summaries.models import Membership, Organization, Project, Session, SessionSummary

    org = Organization.objects.create(name="Bench", slug="bench")
    project = Project.objects.create(organization=org, name="Shop")
    user = get_user_model().objects.create_user("bench", password="pw-bench-1234")
    Membership.objects.create(user=user, organization=org)
    now = timezone.now()
    rows = Session.objects.bulk_create([Session(project=project, session_id=f"s-{i:05d}", distinct_id=f"u{i}",
                                                start_time=now - timedelta(minutes=i), duration_seconds=60)
                                        for i in range(sessions)], batch_size=2000)
    SessionSummary.objects.bulk_create([SessionSummary(session=s, engine="rules", prompt_version=RULES_VERSION,
                                                       input_hash=f"h{i}", cache_key=f"k{i}", status="succeeded",
                                                       summary=summary_json(i)) for i, s in enumerate(rows)],
                                       batch_size=2000)
    report = Report.objects.create(organization=org, project=project, title="Weekly", status="succeeded",
                                   phase="done", sessions_analysed=100, started_at=now, finished_at=now)
    kinds = ["blocking", "non-blocking", "confusion", "abandonment"]
    for rank in range(1, 21):
        pattern = Pattern.objects.create(report=report, rank=rank, fingerprint=f"rules:x:{rank}",
                                         name=f"Pattern {rank}", description="Rule-based: a problem " * 5,
                                         severity="high", kind=kinds[rank % 4], indicators=["POST /api/pay 500"],
                                         occurrences=9, sessions_affected=5, share_of_sessions=0.05)
        PatternExample.objects.bulk_create([PatternExample(
            pattern=pattern, session=rows[(rank * 5 + k) % 100], event_id=f"e{k}", timestamp=now,
            seconds_from_start=12.0, kind=pattern.kind, description="Request failed: /api/pay 500",
            segment_name="Checkout", before=[{"seconds_from_start": 10.0, "description": "Clicked Pay"}] * 3,
            after=[{"seconds_from_start": 14.0, "description": "Left"}] * 3) for k in range(5)])
    for i in range(30):
        Report.objects.create(organization=org, project=project, title=f"Old {i}", status="succeeded")
    running = Report.objects.create(organization=org, project=project, title="Running", status="running",
                                    phase="summarizing")
    progress.set_phase(running.pk, "summaries", total=300)
    progress.session_state(running.pk, {f"s-{i:05d}": "summarized" if i % 2 else "queued" for i in range(300)})
    progress.found(running.pk, [f"Pattern {i}" for i in range(20)])
    return {"user": user, "report": report, "project": project, "running": running}


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    """Median and worst milliseconds of `runs` GETs after a warm-up, and the queries of one GET."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(times), max(times), len(captured)


def main() -> None:
    """Build the data, measure each page, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="recap_bench_pages")
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recap-bench-pages-") as var_dir:
        setup(args.database, args.redis_db, Path(var_dir))
        from django.test import Client

        started = time.perf_counter()
        data = build(args.sessions)
        print(f"data: {args.sessions} sessions (each summarized), 20 patterns x 5 examples, 31 reports "
              f"({time.perf_counter() - started:.1f} s to build); load average {os.getloadavg()[0]:.2f}")
        client = Client()
        client.force_login(data["user"])
        report, project = data["report"], data["project"]
        pages = [("report page (20 patterns, 100 examples)", f"/reports/{report.pk}/?kind=all", True),
                 ("project page (10,000 sessions, page 1)".replace("10,000", f"{args.sessions:,}"),
                  f"/projects/{project.pk}/", True),
                 ("project page, last page", f"/projects/{project.pk}/?page=last", False),
                 ("reports tab (31 reports)", f"/projects/{project.pk}/reports/", False),
                 ("progress endpoint (300 sessions running)", f"/reports/{data['running'].pk}/progress.json", False),
                 ("export csv (100 rows)", f"/reports/{report.pk}/export.csv", False)]
        for label, url, targeted in pages:
            median, worst, queries = measure(client, url, args.runs)
            verdict = (" OK" if median < TARGET_MS else " OVER") + f" (target < {TARGET_MS} ms)" if targeted else ""
            print(f"{label:48s} median {median:7.1f} ms  worst {worst:7.1f} ms  {queries:3d} queries{verdict}")


if __name__ == "__main__":
    main()
