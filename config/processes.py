"""The processes of a one-machine install (web, workers, beat), started and stopped as one group."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROCESS_NAMES = ("web", "worker", "render-worker", "beat")


def process_specs(host: str, port: int, web_workers: int, render_concurrency: int, var_dir: Path) -> dict[str, list[str]]:
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
                          "--pidfile", str(var_dir / "celerybeat.pid")],
    }


class ProcessGroup:
    """Child processes that live and die together: one failing stops the rest."""

    def __init__(self, specs: dict[str, list[str]], log_dir: Path | None = None) -> None:
        self.specs = specs
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        """Start every process in its own session (so a stop reaches its children too)."""
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, cmd in self.specs.items():
            if self.log_dir is None:
                self.procs[name] = subprocess.Popen(cmd, start_new_session=True)
                continue
            with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the handle
                self.procs[name] = subprocess.Popen(cmd, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)

    def failed(self) -> str:
        """'' while all run; else which one exited and how."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return f"{name} exited with code {proc.returncode}"
        return ""

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every process group, then SIGKILL what is left after the grace period."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def wait_until_signalled(self) -> str:
        """Block until Ctrl-C / SIGTERM or a process exits; return the failure, if any."""
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            failure = self.failed()
            if failure:
                return failure
            time.sleep(0.5)
        return ""
