"""Recordings that cannot be rendered fail cleanly with a reason; timeouts and chromium crashes cost one clip, not the worker."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile

from replay_render.browser import shared_browser
from replay_render.models import Clip
from replay_render.rendering import render, render_clip
from replay_render.sample import load_player_sample, store_recording
from summaries.models import Organization, Project, RecordingChunk, Session

pytestmark = [pytest.mark.django_db, pytest.mark.browser]


@pytest.fixture
def project() -> Project:
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Demo")


@pytest.fixture
def sample_events() -> list[dict]:
    return load_player_sample()


def test_recording_without_full_snapshot_fails_with_reason(project: Project, sample_events: list[dict]) -> None:
    events = [e for e in sample_events if e["type"] != 2]
    session = store_recording(project, "no-snapshot", events)
    start = session.start_time + timedelta(seconds=10)
    clip = render_clip(session, start, start + timedelta(seconds=3), fps=1)
    assert clip.state == Clip.State.FAILED
    assert clip.failure == Clip.Failure.NO_FULL_SNAPSHOT
    assert "FullSnapshot" in clip.failure_reason and not clip.file
    # Asking again does not retry a failure that is a fact about the recording.
    again = render(clip)
    assert again.attempts == 1 and again.state == Clip.State.FAILED


def test_corrupt_snapshot_fails_with_reason(project: Project, sample_events: list[dict]) -> None:
    events = [dict(e, data={"node": "garbage"}) if e["type"] == 2 else e for e in sample_events]
    session = store_recording(project, "corrupt", events)
    clip = render_clip(session, session.start_time, session.start_time + timedelta(seconds=2), fps=1)
    assert clip.state == Clip.State.FAILED and clip.failure == Clip.Failure.CORRUPT
    assert "corrupt" in clip.failure_reason


def test_snapshot_that_rebuilds_no_page_fails_with_reason(project: Project, sample_events: list[dict]) -> None:
    """Well-formed JSON the Replayer cannot turn into a page (an unknown node type) is corrupt, not a blank video."""
    bad_tree = {"node": {"type": 0, "id": 1, "childNodes": [{"type": 99, "id": 2}]}, "initialOffset": {"top": 0, "left": 0}}
    events = [dict(e, data=bad_tree) if e["type"] == 2 else e for e in sample_events]
    session = store_recording(project, "unbuildable", events)
    start = session.start_time + timedelta(seconds=20)
    clip = render_clip(session, start, start + timedelta(seconds=2), fps=1)
    assert clip.state == Clip.State.FAILED and clip.failure == Clip.Failure.CORRUPT
    assert "rebuilt no page" in clip.failure_reason and not clip.file


def test_unreadable_chunk_fails_with_reason(project: Project, sample_events: list[dict]) -> None:
    session = store_recording(project, "unreadable", sample_events)
    chunk = session.recording_chunks.first()
    chunk.blob.save("broken.jsonl.gz", ContentFile(b"\x1f\x8bthis is not gzip"), save=True)
    clip = render_clip(session, session.start_time, session.start_time + timedelta(seconds=2), fps=1)
    assert clip.state == Clip.State.FAILED and clip.failure == Clip.Failure.CORRUPT
    assert "could not be read" in clip.failure_reason


def test_window_without_recording_fails_with_reason(project: Project, sample_events: list[dict]) -> None:
    session = store_recording(project, "elsewhere", sample_events)
    later = session.end_time + timedelta(minutes=5)
    clip = render_clip(session, later, later + timedelta(seconds=5), fps=1)
    assert clip.state == Clip.State.FAILED and clip.failure == Clip.Failure.NO_RECORDING


def test_timeout_closes_the_page_not_the_browser(project: Project, sample_events: list[dict], settings) -> None:
    session = store_recording(project, "slow", sample_events)
    browser = shared_browser()
    warm = render_clip(session, session.start_time, session.start_time + timedelta(seconds=1), fps=1)
    assert warm.state == Clip.State.DONE
    pid = browser.chromium_pid()

    settings.RECAP_CLIP_TIMEOUT = 0.5
    start = session.start_time + timedelta(seconds=5)
    began = time.monotonic()
    slow = render_clip(session, start, start + timedelta(seconds=60), fps=10, skip_inactive=False)
    assert slow.state == Clip.State.FAILED and slow.failure == Clip.Failure.TIMEOUT
    assert "RECAP_CLIP_TIMEOUT" in slow.failure_reason
    assert time.monotonic() - began < 15

    settings.RECAP_CLIP_TIMEOUT = 120
    after = render_clip(session, start, start + timedelta(seconds=2), fps=1)
    assert after.state == Clip.State.DONE
    assert browser.chromium_pid() == pid  # same chromium: only the page was closed
    # A timeout is worth another attempt: rendering the failed clip again runs it.
    slow.refresh_from_db()
    assert slow.can_retry(settings.RECAP_CLIP_MAX_ATTEMPTS)


def test_chromium_crash_restarts_the_browser(project: Project, sample_events: list[dict]) -> None:
    session = store_recording(project, "crash", sample_events)
    browser = shared_browser()
    first = render_clip(session, session.start_time, session.start_time + timedelta(seconds=1), fps=1)
    assert first.state == Clip.State.DONE
    pid, launches = browser.chromium_pid(), browser.launches
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)

    start = session.start_time + timedelta(seconds=3)
    second = render_clip(session, start, start + timedelta(seconds=2), fps=1)
    assert second.state == Clip.State.DONE, second.failure_reason
    assert browser.launches == launches + 1 and browser.chromium_pid() != pid


def test_missing_session_or_bad_request_does_not_raise_in_the_task(project: Project) -> None:
    from replay_render.tasks import render_clip as render_task

    assert render_task.run(10**9, 0, 1000)["state"] == Clip.State.FAILED
    session = Session.objects.create(project=project, session_id="empty")
    answer = render_task.run(session.pk, 2000, 1000)
    assert answer["state"] == Clip.State.FAILED and "end after" in answer["reason"]
    assert not RecordingChunk.objects.exists()


def test_missing_chromium_fails_the_clip_with_what_to_install(project: Project, sample_events: list[dict]) -> None:
    from replay_render.browser import RenderBrowser
    from replay_render.rendering import clip_for

    session = store_recording(project, "no-browser", sample_events)
    clip = clip_for(session, session.start_time, session.start_time + timedelta(seconds=1), fps=1)
    nowhere = RenderBrowser(executable="/nonexistent/chromium")
    try:
        clip = render(clip, browser=nowhere)
    finally:
        nowhere.close()
    assert clip.state == Clip.State.FAILED and clip.failure == Clip.Failure.BROWSER
    assert "CHROMIUM_PATH" in clip.failure_reason and "chromium" in clip.failure_reason
    assert clip.can_retry(3)  # installing chromium fixes it: worth another attempt


def test_profiles_of_dead_workers_are_swept(tmp_path, monkeypatch) -> None:
    """A worker killed outright leaves its chromium profile behind; the next launch removes it."""
    import subprocess
    import sys
    import tempfile

    from replay_render.browser import PROFILE_PREFIX, sweep_orphan_profiles

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan, alive = tmp_path / f"{PROFILE_PREFIX}orphan", tmp_path / f"{PROFILE_PREFIX}alive"
    for folder, pid in ((orphan, gone.stdout.strip()), (alive, str(os.getpid()))):
        folder.mkdir()
        (folder / "owner.pid").write_text(pid)
    # Leftovers without an owner file (chromium's helpers wrote after the removal) go once they are old.
    leftover, fresh = tmp_path / f"{PROFILE_PREFIX}leftover", tmp_path / f"{PROFILE_PREFIX}fresh"
    leftover.mkdir()
    fresh.mkdir()
    os.utime(leftover, (0, 0))
    assert sweep_orphan_profiles() == 2
    assert not orphan.exists() and not leftover.exists() and alive.exists() and fresh.exists()
