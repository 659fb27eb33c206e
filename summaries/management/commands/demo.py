"""The main job on the embedded defaults: set up, load the sample sessions, summarize and validate them, serve."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config.processes import ProcessGroup
from summaries.bootstrap import ensure_demo_install
from summaries.ingest.importers import (
    ImportFailed,
    ImportSummary,
    expand_paths,
    import_path,
)
from summaries.management.commands.serve import start_processes
from summaries.models import Project, Session

LABELS_FILE = "labels.jsonl"


def sample_session_ids(sample_dir: Path) -> list[str]:
    """The session ids the sample's labels file lists (one labelled session per line)."""
    labels = sample_dir / LABELS_FILE
    if not labels.exists():
        return []
    return [json.loads(line)["session_id"] for line in labels.read_text().splitlines() if line.strip()]


def load_sample_sessions(project: Project, sample_dir: Path) -> ImportSummary | None:
    """Import the bundled sessions into the project; None when they are all there already (re-runs are cheap)."""
    wanted = sample_session_ids(sample_dir)
    if wanted and Session.objects.filter(project=project, session_id__in=wanted).count() == len(wanted):
        return None
    # Only the folder's own files: a sub-folder holds another dataset (sample_data/crm/, the held-out CRM set).
    files = [p for p in expand_paths([str(sample_dir)]) if p.parent == sample_dir and p.name != LABELS_FILE]
    if not files:
        raise CommandError(f"No sample sessions in {sample_dir}: expected sessions.jsonl.gz there "
                           "(regenerate it with `python -m corpus.generate --out sample_data`).")
    summary = ImportSummary()
    for path in files:
        try:
            import_path(project, path, summary)
        except (ImportFailed, OSError) as exc:
            raise CommandError(f"Could not import {path}: {exc}") from exc
    return summary


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class Command(BaseCommand):
    """manage.py demo: the README's first command ends here."""

    help = ("Set up the embedded install, load the bundled sample sessions, summarize them on the workers, check "
            "their blocking issues on rendered clips, print where to look, and serve.")

    def add_arguments(self, parser) -> None:
        """--no-serve, --port, --sample-dir."""
        parser.add_argument("--no-serve", action="store_true", help="stop after the job instead of serving")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sample-dir", type=Path, default=settings.BASE_DIR / "sample_data",
                            help="folder with the sessions to load (default: the bundled sample_data/)")
        parser.add_argument("--job-timeout", type=float, default=1800, help="seconds the main job may take")

    def handle(self, *args, **opts) -> None:
        """Migrate, set up the demo install, load the sample sessions, print the URL, serve."""
        call_command("migrate", interactive=False, verbosity=0)
        install = ensure_demo_install(settings.VAR_DIR)
        base = f"http://127.0.0.1:{opts['port']}"
        self.stdout.write(f"Organization {install.organization.name!r}, project {install.project.name!r} "
                          f"(capture token {install.project.capture_token}).")
        started = time.monotonic()
        self.stdout.write(f"Loading the sample sessions from {opts['sample_dir']} ...")
        summary = load_sample_sessions(install.project, opts["sample_dir"])
        sessions = Session.objects.filter(project=install.project).count()
        if summary is None:
            self.stdout.write(f"The {sessions} sample sessions are already loaded.")
        else:
            self.stdout.write(f"Loaded {len(summary.sessions)} sessions ({summary.events_imported} events, "
                              f"{summary.recording_chunks} recording chunks) in {time.monotonic() - started:.0f} s.")
            for reason in summary.skipped[:10]:
                self.stdout.write(self.style.WARNING(f"  skipped: {reason}"))
        group = self.run_main_job(install.project, opts)
        try:
            self.after_main_job(install.project, opts, base)
        except BaseException:
            group.stop()
            raise
        result_url = f"{base}/projects/{install.project.pk}/"
        self.stdout.write(f"Sign in as {install.username} / {install.password} (kept in {settings.VAR_DIR / 'admin_password'}).")
        self.stdout.write(self.style.SUCCESS(f"Open {result_url}"))
        if opts["no_serve"]:
            group.stop()
            return
        self.stdout.write(f"Serving until Ctrl-C; process logs in {settings.VAR_DIR / 'logs'}/.")
        failure = group.wait_until_signalled()
        group.stop()
        if failure:
            raise CommandError(f"stopped: {failure} (see {settings.VAR_DIR / 'logs'}/)")

    def after_main_job(self, project: Project, opts: dict, base: str) -> None:
        """A hook for apps that extend the demo (the workers still run); nothing here."""

    def run_main_job(self, project: Project, opts: dict) -> ProcessGroup:
        """Start the workers (and the web server unless --no-serve), summarize and validate every session on them."""
        from config.workers import pipeline_busy
        from summaries.demo_job import queue_summaries, wait_for_job

        only = ["worker", "render-worker"] if opts["no_serve"] else None
        if not opts["no_serve"] and not port_is_free(opts["port"]):
            raise CommandError(f"Port {opts['port']} is in use: stop what runs there or pass --port N.")
        group = start_processes("127.0.0.1", opts["port"], only=only, log_dir=settings.VAR_DIR / "logs")
        started = time.monotonic()
        try:
            queued = queue_summaries(project)
            self.stdout.write(f"Summarizing {queued} session{'s' if queued != 1 else ''} on the workers "
                              "(blocking issues are then checked on rendered clips) ...")
            state = wait_for_job(project, busy=pipeline_busy, report=lambda p: self.stdout.write(f"  {p.line()}"),
                                 timeout=opts["job_timeout"])
        except BaseException:
            group.stop()
            raise
        self.stdout.write(f"Done in {time.monotonic() - started:.0f} s: {state.summarized} sessions summarized, "
                          f"{state.validated} of {state.blocking} blocking issues checked on video.")
        return group
