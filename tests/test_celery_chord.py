"""A chord across the default, llm and render queues completes through a real broker and real workers."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import embedded_redis
from tests.conftest import ROOT, embedded_env, start_worker, stop_worker


def run_check(env: dict[str, str], timeout: int = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check_workers", "--rounds", "3", "--timeout", str(timeout)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout + 60)


@pytest.mark.skipif("REDIS_URL" not in os.environ, reason="no Redis on 127.0.0.1:6379")
def test_chord_through_real_redis(tmp_path: Path) -> None:
    env = dict(os.environ, RECAP_VAR_DIR=str(tmp_path))
    worker = start_worker(env)
    try:
        out = run_check(env)
    finally:
        stop_worker(worker)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all queues served: default, llm, render" in out.stdout
    assert out.stdout.count("answered by") == 9


def test_chord_through_embedded_redis(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    worker = start_worker(env)
    try:
        out = run_check(env)
    finally:
        stop_worker(worker)
        embedded_redis.stop(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all queues served: default, llm, render" in out.stdout


def test_missing_render_worker_is_reported(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    worker = start_worker(env, queues="default,llm")
    try:
        out = run_check(env, timeout=4)
    finally:
        stop_worker(worker)
        embedded_redis.stop(tmp_path)
    assert out.returncode != 0
    assert "has no running worker" in out.stderr
