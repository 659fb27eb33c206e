"""A throwaway Recap for recording: web server and an ingestion worker on an embedded install under one folder."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from corpus.browser import RECAP_HOST

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recording_env(var_dir: Path, base: dict[str, str] | None = None, keep_services: bool = False) -> dict[str, str]:
    """Environment of a Recap that answers to recap.test: embedded (SQLite + Redis under var_dir) unless
    keep_services, which keeps the DATABASE_URL / REDIS_URL of `base` (tests point it at their own database)."""
    env = dict(base or os.environ)
    if not keep_services:
        env = {k: v for k, v in env.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["RECAP_VAR_DIR"] = str(var_dir)
    env["ALLOWED_HOSTS"] = f"{RECAP_HOST},127.0.0.1,localhost"
    env["RECAP_CAPTURE_RATE_LIMIT"] = "0"  # six shoppers on one token is not abuse
    return env


class RecapServer:
    """gunicorn + a Celery worker on the `default` queue (ingestion only), stopped by stop()."""

    def __init__(self, env: dict[str, str], port: int | None = None, log_dir: Path | None = None) -> None:
        """Remember how to run; start() runs."""
        self.env = env
        self.port = port or free_port()
        self.log_dir = log_dir or Path(env["RECAP_VAR_DIR"])
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        """The URL the browser uses (posthog-js api_host)."""
        return f"http://{RECAP_HOST}:{self.port}"

    def start(self) -> RecapServer:
        """Migrate, then start the web server and the worker; returns once /healthz answers."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True)
        py = sys.executable
        commands = {
            "web": [py, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1",
                    "--threads", "12", "--timeout", "120"],
            "worker": [py, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-P", "threads", "-c", "4",
                       "-n", f"corpus-{self.port}@%h", "-l", "WARNING", "--without-gossip", "--without-mingle"],
        }
        for name, command in commands.items():
            log = (self.log_dir / f"{name}.log").open("ab")
            self.procs.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Recap did not start; see {self.log_dir}/web.log and worker.log")

    def stop(self) -> None:
        """Stop both processes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []
