"""Benchmark of a sweep tick: 10,000 stored sessions of which 50 are new, then a tick with nothing new.

    .venv/bin/python bench/bench_sweeps.py [--sessions 10000] [--new 50] [--database recap_bench_sweeps] [--redis-db 9]

A fresh Postgres database gets one project with `--sessions` complete sessions spread over 30 days: all but `--new`
already swept (a succeeded rule summary and a done claim each, as after earlier ticks), `--new` not yet. A tick
ignoring the lookback window (the worst case: every stored session is in it) then selects, claims and queues the new
ones (targets: < 2 s; its queries are counted), and a second tick finds nothing new (target: < 200 ms). Queued
summaries go to the bench's Redis db and are not run (no worker): the bench measures the tick, not the summaries.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database: str, redis_db: int) -> None:
    """A fresh Postgres database and Redis db; Django configured on them."""
    for sql in (f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True, capture_output=True)
    os.environ.update({"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
                       "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
                       "RECAP_CACHE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"})
    os.environ.pop("RECAP_LLM_MODEL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


def store(total: int, new: int):
    """The project, its sessions, and summaries and done claims of all but the `new` most recent ones."""
    from django.utils import timezone

    from summaries.analysis.rules import RULES_VERSION
    from summaries.models import Organization, Project, Session, SessionSummary
    from sweeps.models import Sweep, SweepClaim
    from sweeps.tick import resolve_engine

    org = Organization.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:6]}")
    project = Project.objects.create(organization=org, name="Bench shop")
    sweep = Sweep.objects.create(project=project, engine="rules", cap_per_tick=200, rolling_report=False)
    now = timezone.now()
    step = timedelta(days=30) / total
    sessions = Session.objects.bulk_create([
        Session(project=project, session_id=f"bench-{i}", start_time=now - timedelta(days=30) + i * step,
                end_time=now - timedelta(days=30) + i * step + timedelta(minutes=2), active_seconds=60, event_count=12,
                first_url="https://shop.test/", ingestion_state=Session.IngestionState.COMPLETE)
        for i in range(total)], batch_size=2000)
    old = sessions[: total - new]
    engine = resolve_engine(sweep)
    summaries = SessionSummary.objects.bulk_create([
        SessionSummary(session=s, engine="rules", prompt_version=RULES_VERSION, input_hash="h",
                       cache_key=f"bench-{s.pk}", status=SessionSummary.Status.SUCCEEDED, summary={"segments": []})
        for s in old], batch_size=2000)
    SweepClaim.objects.bulk_create([
        SweepClaim(organization=org, sweep=sweep, session=s, engine_key=engine.key, day=s.start_time.date(),
                   state=SweepClaim.State.DONE, summary=row) for s, row in zip(old, summaries)], batch_size=2000)
    return sweep


def timed_tick(sweep, label: str) -> None:
    """Run one tick (all time) and print its wall time and queries, and those of selecting the new sessions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sweeps.qualify import new_sessions, sort_out
    from sweeps.tick import candidate_limit, resolve_engine, run_tick

    with CaptureQueriesContext(connection) as selecting:
        started = time.perf_counter()
        found = sort_out(sweep, new_sessions(sweep, resolve_engine(sweep), timezone.now(), True),
                         limit=candidate_limit(sweep))
        select_s = time.perf_counter() - started
    with CaptureQueriesContext(connection) as ticking:
        started = time.perf_counter()
        result = run_tick(sweep, all_time=True)
        tick_s = time.perf_counter() - started
    print(f"{label}: selecting {len(found.ready)} new sessions: {select_s * 1000:.0f} ms, "
          f"{len(selecting.captured_queries)} queries")
    print(f"{label}: whole tick (select, claim, queue): {tick_s * 1000:.0f} ms, {len(ticking.captured_queries)} "
          f"queries -> {result.message}")


def main() -> None:
    """Store, then time a tick with new sessions and one without."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=50)
    parser.add_argument("--database", default="recap_bench_sweeps")
    parser.add_argument("--redis-db", type=int, default=9)
    args = parser.parse_args()
    setup(args.database, args.redis_db)
    started = time.perf_counter()
    sweep = store(args.sessions, args.new)
    print(f"stored {args.sessions:,} sessions ({args.sessions - args.new:,} already swept) in "
          f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.2f}")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timed_tick(sweep, f"tick over {args.new} new (target < 2 s)")
    timed_tick(sweep, "tick over 0 new (target < 200 ms)")


if __name__ == "__main__":
    main()
