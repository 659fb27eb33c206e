"""Shared fixtures: real Celery workers against the test database, and embedded-default environments."""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.llm_server import llm_server  # noqa: F401  (the OpenAI-compatible test double, as a fixture for every test)

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django created for this run."""
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return f"postgres://{conf.get('USER') or 'postgres'}@{host}:{port}/{conf['NAME']}"


def embedded_env(var_dir: Path) -> dict[str, str]:
    """Environment of a process on the embedded defaults (SQLite + embedded Redis) under var_dir."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["RECAP_VAR_DIR"] = str(var_dir)
    return env


def start_worker(env: dict[str, str], queues: str = "default,llm,render", concurrency: int = 4,
                 pool: str = "threads") -> subprocess.Popen:
    """Start a real Celery worker process; returns once it reports ready."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-P", pool,
         "-c", str(concurrency), "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h", "-l", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 60
    lines: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if " ready." in line:
            _drain(proc, lines)
            return proc
    proc.kill()
    raise RuntimeError("Celery worker did not start:\n" + "".join(lines[-40:]))


def _drain(proc: subprocess.Popen, lines: list[str]) -> None:
    """Keep reading the worker's output (the last 2,000 lines stay in `proc.lines`): a full pipe would block it."""
    tail: collections.deque[str] = collections.deque(lines, maxlen=2000)
    proc.lines = tail  # type: ignore[attr-defined]

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            tail.append(line)

    threading.Thread(target=read, name=f"worker-{proc.pid}-output", daemon=True).start()


def stop_worker(proc: subprocess.Popen) -> None:
    """Stop a worker started by start_worker."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session", autouse=True)
def stop_embedded_redis_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Embedded Redis servers outlive the processes that start them: stop every one this run started."""
    yield
    pids = []
    for root in (tmp_path_factory.getbasetemp(), Path(os.environ["RECAP_VAR_DIR"])):
        for pidfile in root.rglob("redis.pid"):
            try:
                pids.append(int(pidfile.read_text().strip()))
                os.kill(pids[-1], signal.SIGTERM)
            except (ValueError, OSError):
                pass  # already gone, or not a pid
    time.sleep(1)
    for pid in pids:  # test data need not be saved: don't let a failed save keep a server alive
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def live_worker(transactional_db) -> Iterator[subprocess.Popen]:
    """A real Celery worker on every queue, using this run's broker and test database."""
    env = dict(os.environ, DATABASE_URL=test_database_url())
    proc = start_worker(env)
    try:
        yield proc
    finally:
        stop_worker(proc)


@pytest.fixture(scope="module")
def rules_worker(django_db_setup, django_db_blocker) -> Iterator[subprocess.Popen]:
    """One real prefork worker (2 processes, every queue) for a module's rule-engine report tests; it stops with the
    module, so it never takes the tasks of another module's worker (whose settings differ)."""
    from tests.report_helpers import report_worker

    with report_worker(concurrency=2, pool="prefork") as proc:
        yield proc
