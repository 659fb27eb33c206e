"""`manage.py sweep --project P --once [--all-time] [--json FILE]`: run one tick of a project's sweep by hand."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patterns.management.commands.report import find_project
from sweeps.models import Sweep, SweepTick
from sweeps.tick import run_tick


class Command(BaseCommand):
    """Run one sweep tick and print `queued N, skipped M`, then the skip reasons."""

    help = "Run one tick of a project's sweep (the summaries are queued to the workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--project, --once, --all-time, --json."""
        parser.add_argument("--project", required=True, help="project id or capture token")
        parser.add_argument("--once", action="store_true", help="run one tick now (the only mode)")
        parser.add_argument("--all-time", action="store_true", help="ignore the lookback window")
        parser.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the tick (the project gets default sweep settings if it has none)."""
        if not options["once"]:
            raise CommandError("say --once: ticks on a schedule are run by beat (edit the sweep in the admin)")
        project = find_project(options["project"])
        sweep = Sweep.objects.filter(project=project).first() or Sweep.objects.create(project=project)
        result = run_tick(sweep, all_time=options["all_time"], trigger=SweepTick.Trigger.COMMAND)
        if result.tick_id is None:
            raise CommandError(result.message)
        self.stdout.write(f"queued {result.queued}, skipped {result.skipped}")
        for reason, count in sorted(result.reasons.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {count} {reason}")
        if result.reused:
            self.stdout.write(f"  ({result.reused} already summarized: nothing to do)")
        if result.capped:
            self.stdout.write(f"stopped: {result.capped}")
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(result.as_dict(), indent=2))
