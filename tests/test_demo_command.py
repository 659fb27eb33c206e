"""`manage.py demo --no-serve` on a fresh embedded install: loads the bundled sample sessions and prints the URL."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys

import pytest

from config import embedded_redis
from tests.conftest import ROOT, embedded_env

pytestmark = pytest.mark.slow


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the demo command as a user would, without serving."""
    return subprocess.run([sys.executable, "manage.py", "demo", "--no-serve", "--port", "8765"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.fixture
def var_dir(tmp_path):
    """A fresh embedded install's folder; its embedded Redis is shut down afterwards (it outlives the command)."""
    path = tmp_path / "var"
    yield path
    embedded_redis.stop(path)


def test_demo_loads_the_sample_sessions_and_prints_the_url(var_dir):
    env = embedded_env(var_dir)
    labelled = [json.loads(line)["session_id"]
                for line in (ROOT / "sample_data" / "labels.jsonl").read_text().splitlines() if line.strip()]

    first = run_demo(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"Loaded {len(labelled)} sessions" in first.stdout, first.stdout
    url = re.search(r"Open (http://127\.0\.0\.1:8765/\S+)", first.stdout)
    assert url, first.stdout
    with sqlite3.connect(var_dir / "recap.sqlite3") as db:
        project_id = int(re.search(r"project__id__exact=(\d+)", url.group(1)).group(1))
        stored = {row[0] for row in db.execute(
            "select session_id from summaries_session where project_id = ? and recording_event_count > 0", (project_id,))}
    assert stored == set(labelled)

    again = run_demo(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"The {len(labelled)} sample sessions are already loaded." in again.stdout
    assert url.group(1) in again.stdout
