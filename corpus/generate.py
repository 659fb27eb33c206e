"""Regenerate a sample dataset: play the planned journeys in Chromium against a live Recap and a sample app, export.

    .venv/bin/python -m corpus.generate [--app shop|crm] [--out DIR] [--parallel 6] [--limit N] [--pace 1.0]

Starts a throwaway embedded Recap (gunicorn + an ingestion worker) under --var-dir, the sample app (the demo shop
by default, or the demo CRM) with posthog-js pointed at it, plays the journeys several at a time (each in its own
incognito context, so its own posthog session), waits until Recap has processed everything, and writes
sessions.jsonl.gz and labels.jsonl (by default to sample_data/ for the shop, sample_data/crm/ for the CRM).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", choices=["shop", "crm"], default="shop", help="which sample app to record")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the dataset (default: sample_data, or sample_data/crm for the CRM)")
    parser.add_argument("--parallel", type=int, default=6, help="journeys played at once")
    parser.add_argument("--limit", type=int, default=0, help="play only the first N planned journeys")
    parser.add_argument("--seed", type=int, default=None, help="plan seed (default: the app's own)")
    parser.add_argument("--pace", type=float, default=1.0, help="scale of every journey's planned pace (1.0 = as planned)")
    parser.add_argument("--var-dir", type=Path, default=None, help="Recap's throwaway install (default: a temp dir)")
    parser.add_argument("--export-only", action="store_true",
                        help="do not play: export again from an earlier run's --var-dir (its journeys.jsonl and database)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Record, export, and print what the dataset holds."""
    args = parse_args(argv)
    var_dir = (args.var_dir or Path(tempfile.mkdtemp(prefix="recap-corpus-"))).resolve()
    from corpus.recap_server import RecapServer, recording_env

    env = recording_env(var_dir)
    os.environ.clear()
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from corpus.apps import APPS
    from corpus.export import export_dataset, wait_until_processed
    from corpus.runner import play_all, read_records, write_records
    from summaries.models import Organization, Project

    app = APPS[args.app]
    out = args.out or app.default_out

    if args.export_only:
        if args.var_dir is None or not (var_dir / "journeys.jsonl").exists():
            raise SystemExit("--export-only needs the --var-dir of an earlier run (with its journeys.jsonl)")
        project = Project.objects.get(organization__slug="corpus", name=app.project_name)
        try:
            result = export_dataset(project, read_records(var_dir / "journeys.jsonl"), out, app.observed_marks)
        finally:
            from config import embedded_redis

            embedded_redis.stop(var_dir)
        for line in result["skipped"]:
            print("skipped:", line)
        print(describe(out))
        return 0

    specs = app.plan(app.default_seed if args.seed is None else args.seed)
    if args.limit:
        specs = specs[: args.limit]
    for spec in specs:
        spec.pace *= args.pace
    # A terminated run still stops its Recap and browsers (the finally blocks below and in the runner).
    signal.signal(signal.SIGTERM, _interrupt)
    server = RecapServer(env).start()
    org, _ = Organization.objects.get_or_create(slug="corpus", defaults={"name": "Corpus recording"})
    project, _ = Project.objects.get_or_create(organization=org, name=app.project_name)
    app_server = app.serve(server.url, project.capture_token)
    app_url = app.url(app_server)
    print(f"Recap at {server.url} (var dir {var_dir}), {app.name} at {app_url}; playing {len(specs)} journeys, "
          f"{args.parallel} at a time", flush=True)
    started = time.time()
    done = 0

    def report(record) -> None:
        """Print one finished journey."""
        nonlocal done
        done += 1
        status = "ERROR " + record.error.splitlines()[0] if record.error else record.outcome
        print(f"[{done}/{len(specs)} {time.time() - started:6.0f}s] {record.spec.name}: "
              f"{record.ended_at - record.started_at:.0f}s {status}", flush=True)

    try:
        records = asyncio.run(play_all(app_url, specs, parallel=args.parallel, on_done=report, app=app))
        retry = [r.spec for r in records if r.error]
        if retry:
            print(f"Replaying {len(retry)} failed journey(s) with new seeds", flush=True)
            for spec in retry:
                spec.seed += 100_000
            replayed = asyncio.run(play_all(app_url, retry, parallel=args.parallel, on_done=report, app=app))
            records = [r for r in records if not r.error] + replayed
        write_records(var_dir / "journeys.jsonl", records)
        session_ids = [r.session_ids[0] for r in records if not r.error and len(r.session_ids) == 1]
        wait_until_processed(project, session_ids)
        result = export_dataset(project, records, out, app.observed_marks)
    finally:
        app_server.shutdown()
        server.stop()
        from config import embedded_redis

        embedded_redis.stop(var_dir)  # the embedded Redis outlives its clients otherwise
    for line in result["skipped"]:
        print("skipped:", line)
    print(describe(out))
    return 0 if result["sessions"] else 1


def _interrupt(*_: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so clean-up runs."""
    raise KeyboardInterrupt


def describe(out_dir: Path) -> str:
    """Size, session count, durations and fault mix of a dataset folder."""
    from corpus.export import LABELS_FILE, SESSIONS_FILE
    from corpus.stats import dataset_stats

    stats = dataset_stats(out_dir / SESSIONS_FILE, out_dir / LABELS_FILE)
    return json.dumps(stats, indent=2)


if __name__ == "__main__":
    sys.exit(main())
