"""Run the whole embedded install: web server, workers for every queue, and beat, until Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def process_specs(host: str, port: int, web_workers: int, render_concurrency: int) -> dict[str, list[str]]:
    """The command line of each process the embedded install runs."""
    py = sys.executable
    celery = [py, "-m", "celery", "-A", "config"]
    return {
        "web": [py, "-m", "gunicorn", "config.wsgi", "-b", f"{host}:{port}", "-w", str(web_workers), "--threads", "4",
                "--access-logfile", "-", "--timeout", "120"],
        "worker": celery + ["worker", "-Q", "default,llm", "-P", "threads", "-c", "8", "-n", "default@%h", "-l", "INFO"],
        "render-worker": celery + ["worker", "-Q", "render", "-P", "prefork", "-c", str(render_concurrency),
                                   "-n", "render@%h", "-l", "INFO"],
        "beat": celery + ["beat", "-l", "INFO", "-S", "django_celery_beat.schedulers:DatabaseScheduler",
                          "--pidfile", str(settings.VAR_DIR / "celerybeat.pid")],
    }


class Command(BaseCommand):
    help = "Run web server, workers (default+llm, render) and beat together; Ctrl-C stops them all."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("RECAP_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("RECAP_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--render-concurrency", type=int, default=os.cpu_count() or 1)
        parser.add_argument("--only", action="append", choices=["web", "worker", "render-worker", "beat"],
                            help="run only these processes (repeatable)")

    def handle(self, *args, **opts) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        specs = process_specs(opts["host"], opts["port"], opts["web_workers"], opts["render_concurrency"])
        if opts["only"]:
            specs = {name: cmd for name, cmd in specs.items() if name in opts["only"]}
        (settings.VAR_DIR / "celerybeat.pid").unlink(missing_ok=True)
        procs = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in specs.items()}
        self.stdout.write(self.style.SUCCESS(
            f"Recap is running: http://{opts['host']}:{opts['port']}/  ({', '.join(procs)}; Ctrl-C stops)"
        ))
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        failed = ""
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    failed = f"{name} exited with code {proc.returncode}"
                    stopping = True
            time.sleep(0.5)
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if failed:
            raise SystemExit(f"stopped: {failed}")
