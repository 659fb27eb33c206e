"""Rendering a real recorded session to a webm: playable, the right length and size, cached, and on the command line."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from replay_render.encode import read_video
from replay_render.models import Clip
from replay_render.rendering import ClipRequestError, clip_for, render, render_clip
from replay_render.sample import load_player_sample, store_recording
from summaries.models import Organization, Project, Session

pytestmark = [pytest.mark.django_db, pytest.mark.browser]


@pytest.fixture
def project() -> Project:
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Demo")


@pytest.fixture
def sample_session(project: Project) -> Session:
    """rrweb-player's real 81 s recording, stored as three chunks of the session."""
    return store_recording(project, "sample-1", load_player_sample(), chunk_events=100)


def test_real_render_is_a_playable_webm(sample_session: Session) -> None:
    start = sample_session.start_time + timedelta(seconds=20)
    clip = render_clip(sample_session, start, start + timedelta(seconds=4), fps=2)

    assert clip.state == Clip.State.DONE, clip.failure_reason
    local = Path(clip.file.path)
    assert local.name.endswith(".webm")
    assert f"org-{sample_session.project.organization_id}/project-{sample_session.project_id}/clips/" in clip.file.name
    info, frames = read_video(local)
    # The replay's page is 1166x705 (Meta event), rounded up to even for the encoder; the footer adds 26 px.
    assert (info.width, info.height) == (1166, 706 + 26) == (clip.width, clip.height)
    assert info.frame_count == clip.frame_count == 8
    assert info.duration_seconds == pytest.approx(4.0, abs=0.05)
    assert clip.byte_size == local.stat().st_size > 1000
    assert clip.frame_times == [int(start.timestamp() * 1000) + 500 * n for n in range(8)]
    # Frames show a page, not a blank screen: the editor's white area and dark text are both present.
    middle = frames[4]
    assert middle[40:500, :].mean() > 150 and middle[40:500, :].min() < 80
    # The footer strip is dark with light text (time and URL).
    footer = middle[-26:, :]
    assert footer.mean() < 60 and footer.max() > 150


def test_same_parameters_reuse_the_cached_clip(sample_session: Session) -> None:
    start = sample_session.start_time + timedelta(seconds=30)
    end = start + timedelta(seconds=2)
    first = render_clip(sample_session, start, end, fps=1, footer=False)
    assert first.state == Clip.State.DONE
    again = render_clip(sample_session, start, end, fps=1, footer=False)
    assert again.pk == first.pk
    assert again.rendered_at == first.rendered_at and again.attempts == 1
    other = render_clip(sample_session, start, end, fps=2, footer=False)
    assert other.pk != first.pk and other.frame_count == 4
    assert first.height == 706 and other.height == 706  # no footer strip


def test_window_before_the_first_snapshot_starts_at_the_page(sample_session: Session) -> None:
    moment = sample_session.start_time  # the default window starts 2 s before the recording does
    start, end = moment - timedelta(seconds=2), moment + timedelta(seconds=3)
    clip = render_clip(sample_session, start, end, fps=1)
    assert clip.state == Clip.State.DONE
    assert clip.frame_count == 3
    assert clip.frame_times[0] >= int(sample_session.start_time.timestamp() * 1000)


def test_long_clip_skips_inactivity(sample_session: Session) -> None:
    start = sample_session.start_time
    clip = render_clip(sample_session, start, start + timedelta(seconds=60), fps=1, skip_inactive=True)
    assert clip.state == Clip.State.DONE
    assert clip.skipped_seconds > 5
    # Each kept stretch gets a whole number of frames: up to half a frame of rounding per stretch.
    assert abs(clip.frame_count - (60 - clip.skipped_seconds)) <= 1.5
    info, _ = read_video(Path(clip.file.path))
    assert info.frame_count == clip.frame_count
    # Frame times still go forward; the jumps are where idle time was cut.
    assert clip.frame_times == sorted(clip.frame_times)
    gaps = np.diff(clip.frame_times)
    assert gaps.max() > 5000 and gaps.min() == 1000


def test_bad_requests_are_refused(sample_session: Session) -> None:
    start = sample_session.start_time
    with pytest.raises(ClipRequestError, match="fps"):
        clip_for(sample_session, start, start + timedelta(seconds=5), fps=30)
    with pytest.raises(ClipRequestError, match="end after"):
        clip_for(sample_session, start, start, fps=1)


def test_render_clip_command_writes_a_webm(sample_session: Session, tmp_path: Path, capsys) -> None:
    out = tmp_path / "moment.webm"
    call_command("render_clip", "sample-1", "--at", "40", "--fps", "1", "--before", "1", "--after", "2",
                 "--out", str(out))
    info, _ = read_video(out)
    assert info.frame_count == 3 and info.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert "3 frames at 1 fps" in capsys.readouterr().out
    clip = Clip.objects.get(session=sample_session)
    assert clip.state == Clip.State.DONE and render(clip).pk == clip.pk
