"""`manage.py serve` keeps going when a child dies: the worker is started again, the embedded Redis too."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config import embedded_redis
from tests.conftest import ROOT, embedded_env

pytestmark = pytest.mark.slow


def children(pid: int) -> dict[int, str]:
    """Direct children of a process: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def worker_pid(serve: subprocess.Popen) -> int | None:
    """The default+llm worker started by serve."""
    return next((pid for pid, cmd in children(serve.pid).items() if "celery" in cmd and "default,llm" in cmd), None)


def healthy(port: int) -> bool:
    """True when /healthz answers 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_for(condition, timeout: float) -> bool:
    """Poll until condition() is true or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_serve_survives_a_killed_worker_and_a_dead_embedded_redis(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--only", "web", "--only", "worker",
         "--web-workers", "1"], cwd=ROOT, env=embedded_env(var_dir), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert wait_for(lambda: healthy(port) and worker_pid(serve), 120), "serve did not start"
        first = worker_pid(serve)
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: worker_pid(serve) not in (None, first), 60), "the worker was not started again"
        assert serve.poll() is None and healthy(port)

        sock = embedded_redis.socket_path(var_dir)
        redis_pid = int((var_dir / "redis.pid").read_text())
        os.kill(redis_pid, signal.SIGKILL)
        assert wait_for(lambda: embedded_redis.is_running(sock) and int((var_dir / "redis.pid").read_text())
                        != redis_pid, 30), "the embedded Redis was not started again"
        assert wait_for(lambda: healthy(port), 30) and serve.poll() is None
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            output, _ = serve.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            output, _ = serve.communicate()
        embedded_redis.stop(var_dir)
    assert "worker exited with code" in output and "starting it again" in output
