"""The processes of a one-machine install (web, workers, beat), supervised and stopped as one group."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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
    """Child processes supervised together: one that dies is started again (with a growing pause); one that
    keeps dying stops the group, so a broken install says so instead of looping."""

    def __init__(self, specs: dict[str, list[str]], log_dir: Path | None = None, *, max_restarts: int = 5,
                 restart_window: float = 120.0) -> None:
        self.specs = specs
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, list[float]] = {}
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        # Checks run on every supervision tick (the embedded Redis is started again when found dead).
        self.watchers: list[Callable[[], None]] = []

    def start(self) -> None:
        """Start every process in its own session (so a stop reaches its children too)."""
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.specs:
            self._spawn(name)

    def _spawn(self, name: str) -> None:
        cmd = self.specs[name]
        if self.log_dir is None:
            self.procs[name] = subprocess.Popen(cmd, start_new_session=True)
            return
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the handle
            self.procs[name] = subprocess.Popen(cmd, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)

    def supervise(self) -> str:
        """Start again every process that exited; '' or, when one died too often, why the group must stop."""
        now = time.monotonic()
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                continue
            recent = [t for t in self.restarts.get(name, []) if now - t < self.restart_window]
            if len(recent) >= self.max_restarts:
                return (f"{name} exited with code {proc.returncode} {len(recent) + 1} times within "
                        f"{self.restart_window:.0f} s; giving up")
            pause = min(30.0, 2.0 ** len(recent) - 1)  # 0 s the first time, then 1, 3, 7, 15 s
            print(f"{name} exited with code {proc.returncode}; starting it again in {pause:.0f} s", file=sys.stderr,
                  flush=True)
            time.sleep(pause)
            self.restarts[name] = [*recent, now]
            self._spawn(name)
        for watch in self.watchers:
            try:
                watch()
            except Exception as exc:  # noqa: BLE001 - a watcher failing must not take the group down
                print(f"supervision check failed: {exc}", file=sys.stderr, flush=True)
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
        """Supervise until Ctrl-C / SIGTERM, or until a process keeps dying; return that failure, if any."""
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            failure = self.supervise()
            if failure:
                return failure
            time.sleep(0.5)
        return ""
