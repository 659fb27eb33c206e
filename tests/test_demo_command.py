"""`manage.py demo --no-serve` on a fresh embedded install: loads the sample, summarizes and validates on real workers,
then groups the issues into a ranked report and prints its top patterns and where to look."""
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
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def var_dir(tmp_path):
    """A fresh embedded install's folder; its embedded Redis is shut down afterwards (it outlives the command)."""
    path = tmp_path / "var"
    yield path
    embedded_redis.stop(path)


@pytest.mark.timeout(900)  # two full demo runs, each on real workers with Chromium
def test_demo_loads_the_sample_sessions_and_prints_the_url(var_dir):
    env = embedded_env(var_dir)
    labelled = [json.loads(line)["session_id"]
                for line in (ROOT / "sample_data" / "labels.jsonl").read_text().splitlines() if line.strip()]

    first = run_demo(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"Loaded {len(labelled)} sessions" in first.stdout, first.stdout
    url = re.search(r"Open (http://127\.0\.0\.1:8765/projects/(\d+)/)", first.stdout)
    assert url, first.stdout
    project_id = int(url.group(2))
    blocking_labelled = sum(1 for line in (ROOT / "sample_data" / "labels.jsonl").read_text().splitlines()
                            if line.strip() and json.loads(line)["blocking"])
    with sqlite3.connect(var_dir / "recap.sqlite3") as db:
        stored = {row[0] for row in db.execute(
            "select session_id from summaries_session where project_id = ? and recording_event_count > 0", (project_id,))}
        summarized = db.execute("select count(distinct session_id) from summaries_sessionsummary "
                                "where status = 'succeeded'").fetchone()[0]
        clips = db.execute("select count(*) from replay_render_clip where state = 'done'").fetchone()[0]
    assert stored == set(labelled)
    # the main job ran on real workers: every session summarized, blocking issues checked on rendered clips
    assert summarized == len(labelled)
    assert "Done in" in first.stdout and f"{len(labelled)} sessions summarized" in first.stdout
    checked = re.search(r"(\d+) of (\d+) blocking issues checked on video", first.stdout)
    assert checked and checked.group(1) == checked.group(2) and int(checked.group(2)) >= blocking_labelled * 0.9
    assert clips >= int(checked.group(1)) > 0
    # then a group report over the sample sessions, its top patterns and the page to open
    report = re.search(r"Open http://127\.0\.0\.1:8765/reports/(\d+)/", first.stdout)
    assert report and f"Group report {report.group(1)} over the {len(labelled)} sample sessions" in first.stdout
    assert re.search(rf"Report {report.group(1)} succeeded in \d+ s: \d+ patterns \(\d+ blocking\) in "
                     rf"{len(labelled)} sessions", first.stdout), first.stdout
    top = first.stdout[first.stdout.index("Top patterns:"):]
    assert "1. [critical] blocking:" in top and "video: confirmed" in top
    with sqlite3.connect(var_dir / "recap.sqlite3") as db:
        status, analysed = db.execute("select status, sessions_analysed from patterns_report where id = ?",
                                      (int(report.group(1)),)).fetchone()
        blocking_patterns = db.execute("select count(*) from patterns_pattern where kind = 'blocking'").fetchone()[0]
    assert (status, analysed) == ("succeeded", len(labelled)) and blocking_patterns >= 3

    again = run_demo(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"The {len(labelled)} sample sessions are already loaded." in again.stdout
    assert "Summarizing 0 sessions" in again.stdout  # a re-run makes no new summary
    assert url.group(1) in again.stdout
    assert f"Report {report.group(1)} succeeded" in again.stdout  # the same report, run again from what it has
