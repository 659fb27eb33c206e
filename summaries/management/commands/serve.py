"""Run the whole embedded install: web server, workers for every queue, and beat, until Ctrl-C."""
from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config import embedded_redis
from config.processes import PROCESS_NAMES, ProcessGroup, process_specs


def start_processes(host: str, port: int, only: list[str] | None = None, web_workers: int = 2,
                    render_concurrency: int | None = None, log_dir: Path | None = None) -> ProcessGroup:
    """Start the chosen processes of the embedded install (the database is migrated already)."""
    if only is None or "web" in only:
        call_command("collectstatic", interactive=False, verbosity=0)
    specs = process_specs(host, port, web_workers, render_concurrency or os.cpu_count() or 1, settings.VAR_DIR)
    if only:
        specs = {name: cmd for name, cmd in specs.items() if name in only}
    (settings.VAR_DIR / "celerybeat.pid").unlink(missing_ok=True)
    group = ProcessGroup(specs, log_dir)
    if settings.EMBEDDED_REDIS:  # every process needs it: start it again if it died
        group.watchers.append(lambda: embedded_redis.ensure_running(settings.VAR_DIR))
    group.start()
    return group


class Command(BaseCommand):
    help = ("Run web server, workers (default+llm, render) and beat together, starting again any that dies; "
            "Ctrl-C stops them all.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("RECAP_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("RECAP_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--render-concurrency", type=int, default=os.cpu_count() or 1)
        parser.add_argument("--only", action="append", choices=PROCESS_NAMES,
                            help="run only these processes (repeatable)")

    def handle(self, *args, **opts) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        group = start_processes(opts["host"], opts["port"], opts["only"], opts["web_workers"], opts["render_concurrency"])
        self.stdout.write(self.style.SUCCESS(
            f"Recap is running: http://{opts['host']}:{opts['port']}/  ({', '.join(group.procs)}; Ctrl-C stops)"
        ))
        failure = group.wait_until_signalled()
        group.stop()
        if failure:
            raise SystemExit(f"stopped: {failure}")
