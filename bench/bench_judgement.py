"""Benchmark of Recap's judgement on every bundled sample app: the rule engine and the rule validator.

    .venv/bin/python bench/bench_judgement.py [--corpus DIR ...] [--skip-validator]

Imports each corpus (sample_data/ — the shop the rules were tuned on — and sample_data/crm/ — a German
single-page app held out from tuning) into a throw-away embedded install, then prints, per app:
  - the rule engine: blocking precision and recall, session outcomes right, noise-only sessions flagged blocking,
    per kind what was flagged and how (`manage.py evaluate`), and the time it took;
  - the rule validator: real blockers confirmed, claims about problems that blocked nobody confirmed / denied,
    per kind (`manage.py evaluate_validator`: a rendered clip per labelled moment), and the time it took.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: Path) -> None:
    """An embedded install in var_dir (never the developer's database)."""
    for name in ("DATABASE_URL", "REDIS_URL", "RECAP_LLM_MODEL", "RECAP_VIDEO_MODEL"):
        os.environ.pop(name, None)
    os.environ["RECAP_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def main() -> None:
    """Score every corpus and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", default=[], help="a corpus folder (default: every bundled one)")
    parser.add_argument("--skip-validator", action="store_true", help="leave out the validator (no clips rendered)")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="recap-bench-judgement-"))
    setup_django(var_dir)
    from django.core.management import call_command

    from config import embedded_redis
    from replay_render.browser import close_shared_browser
    from summaries.corpora import bundled_corpora, corpus_project

    folders = [Path(p) for p in args.corpus] or bundled_corpora()
    try:
        for folder in folders:
            started = time.monotonic()
            project = corpus_project(folder)
            imported = time.monotonic() - started
            print(f"\n=== {folder}: {project.sessions.count()} sessions (imported in {imported:.1f} s) ===")
            started = time.monotonic()
            call_command("evaluate", "--corpus", str(folder), "--engine", "rules")
            print(f"(rule engine over every session: {time.monotonic() - started:.1f} s)")
            if not args.skip_validator:
                started = time.monotonic()
                call_command("evaluate_validator", "--corpus", str(folder))
                print(f"(validator, a clip per labelled moment: {time.monotonic() - started:.1f} s)")
    finally:
        close_shared_browser()
        embedded_redis.stop(var_dir)


if __name__ == "__main__":
    main()
