"""After a navigation the new page shows its own scroll position, never the previous page's."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from replay_render.encode import read_video
from replay_render.models import Clip
from replay_render.rendering import render_clip
from replay_render.sample import store_recording
from summaries.models import Organization, Project, ms_to_datetime
from tests.rrweb_builder import Page, el, page, scroll, set_attributes

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

T0 = 1_767_000_000_000
BLUE, GREEN, RED, GREY = (40, 80, 200), (0, 160, 0), (200, 0, 0), (221, 221, 221)


def tall_page(t: int, path: str, top: tuple[int, int, int]) -> Page:
    """A 3000 px page whose first 300 px are `top`, grey below, with a red band at 1500-1800 px."""
    def band(colour: tuple[int, int, int], height: int) -> dict:
        """A full-width block of one colour."""
        return el("div", {"style": f"height:{height}px;background:rgb{colour}"})

    body = el("body", {"style": "margin:0"}, band(top, 300), band(GREY, 1200), band(RED, 300), band(GREY, 1200),
              key="body")
    return page(t, f"http://shop.test{path}", (400, 300), [], body)


def top_colour(frame: np.ndarray) -> tuple[int, ...]:
    """The mean colour of the frame's top 100 px."""
    return tuple(int(v) for v in frame[10:100, 10:390].reshape(-1, 3).mean(axis=0))


def near(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    """Within video-compression distance of the expected colour."""
    return max(abs(a - b) for a, b in zip(colour, expected)) < 40


def test_the_next_page_starts_at_its_own_scroll_position() -> None:
    org = Organization.objects.create(name="Acme", slug="acme")
    project = Project.objects.create(organization=org, name="Shop")
    first = tall_page(T0, "/list", BLUE)
    second = tall_page(T0 + 1800, "/item", GREEN)
    events = [
        *first.events,
        # A DOM change then a scroll in one fast-forward: rrweb keeps that scroll on its virtual document.
        set_attributes(T0 + 500, first.ids["body"], class_="loaded"),
        scroll(T0 + 510, 1, 1200),
        *second.events,  # navigation: the next page's snapshot was taken at the top
        set_attributes(T0 + 2500, second.ids["body"], class_="loaded"),
        # Later the user scrolls the new page to its red band: the recording's own scroll is shown.
        set_attributes(T0 + 3490, second.ids["body"], class_="reading"),
        scroll(T0 + 3500, 1, 1500),
    ]
    session = store_recording(project, "navigation-1", events)
    start = ms_to_datetime(T0)
    clip = render_clip(session, start, start + timedelta(seconds=5), fps=1, footer=False)
    assert clip.state == Clip.State.DONE, clip.failure_reason

    _, frames = read_video(Path(clip.file.path))
    shown = [top_colour(frame) for frame in frames]
    # t = 0 s: page 1 at the top; 1 s: scrolled by the user; 2 s: page 2 at the top, 3 s: still (a DOM
    # change on page 2 must not bring page 1's 1200 px back); 4 s: page 2 where its user scrolled it.
    expected = [BLUE, GREY, GREEN, GREEN, RED]
    assert [near(colour, colour_expected) for colour, colour_expected in zip(shown, expected)] == [True] * 5, shown
