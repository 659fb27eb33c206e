"""manage.py import_sessions PATH... --project <id or token>: import event JSONL, rrweb JSON and PostHog exports."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from summaries.ingest.importers import ImportFailed, ImportSummary, expand_paths, import_path, resolve_project


class Command(BaseCommand):
    """Import sessions from files, synchronously (no worker needed); re-importing a file adds nothing."""

    help = (
        "Import sessions from files: PostHog events as JSONL (.jsonl/.ndjson, optionally .gz, $snapshot included), "
        "rrweb JSON event arrays (one recording per file) and PostHog's recording export JSON. Folders are searched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Paths and the target project."""
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument("--project", required=True, help="project id or capture token")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: object, **options: object) -> None:
        """Import every file, then print what was imported and skipped."""
        try:
            project = resolve_project(str(options["project"]))
            paths = expand_paths(options["paths"])  # type: ignore[arg-type]
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        summary = ImportSummary()
        with tqdm(total=None, unit=" events", disable=bool(options["no_progress"]), file=self.stderr) as bar:
            for path in paths:
                bar.set_description(path.name[:40])
                try:
                    import_path(project, path, summary, bar)
                except (ImportFailed, OSError) as exc:
                    summary.skipped.append(f"{path}: {exc}")
        self.stdout.write(f"Imported into {project}:")
        for line in summary.lines():
            self.stdout.write("  " + line)
