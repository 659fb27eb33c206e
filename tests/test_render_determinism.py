"""Two renders of one clip give identical frames: nothing on screen depends on how long a capture took."""
from __future__ import annotations

import base64
import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from replay_render.encode import read_video
from replay_render.models import Clip
from replay_render.rendering import render_clip
from replay_render.sample import store_recording
from summaries.models import Organization, Project, ms_to_datetime
from tests.rrweb_builder import click, el, mouse_move, page, scroll, set_attributes, set_text, text

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

T0 = 1_767_000_000_000

# Everything that moves on the wall clock in a replayed page.
STYLE = """
html { scroll-behavior: smooth; }
@font-face { font-family: Brand; src: url(http://fonts.shop.test/brand.woff2); font-display: block; }
h1 { font: 40px Brand, sans-serif; margin: 10px; }
@keyframes spin { to { transform: rotate(360deg); } }
.spinner { width: 50px; height: 50px; border: 8px solid #ccc; border-top-color: #e33; border-radius: 50%;
  animation: spin 0.7s linear infinite; }
.button { width: 160px; height: 40px; background: rgb(30, 60, 120); transition: background 1.5s, transform 1.5s; }
.button.busy { background: rgb(240, 140, 0); transform: translateX(120px); }
@keyframes fade-in { from { opacity: 0; transform: translateY(30px); } }
@keyframes hide { to { opacity: 0; } }
.toast { background: #b00; color: #fff; padding: 12px; animation: fade-in 0.8s, hide 0.4s 1.2s forwards; }
input { font: 20px sans-serif; }
.icon { display: inline-block; width: 40px; height: 40px; background: url("data:image/svg+xml;utf8,<svg \
xmlns='http://www.w3.org/2000/svg' width='40' height='40'><circle cx='20' cy='20' r='18' fill='%2300a'/></svg>"); }
"""


def animated_gif() -> str:
    """A data URI of a GIF that flips between red and green every 100 ms."""
    frames = [Image.new("RGB", (60, 30), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    data = io.BytesIO()
    frames[0].save(data, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return "data:image/gif;base64," + base64.b64encode(data.getvalue()).decode()


def busy_page_events() -> list[dict]:
    """A 3 s recording full of animation, transitions, blocked assets, scrolling and pointer movement."""
    body = el(
        "body", {"style": "margin:0;height:2000px"},
        el("h1", {}, text("Checkout", key="title")),
        el("div", {"class": "spinner"}),
        el("div", {"class": "button"}, key="button"),
        el("img", {"src": "http://img.shop.test/hero.png", "width": "120", "height": "60", "alt": "hero"}),
        el("img", {"src": animated_gif(), "width": "60", "height": "30"}),
        el("input", {"value": "jane@example.com"}),
        el("span", {"class": "icon"}),
        el("div", {"id": "toasts"}, key="toasts"),
        el("img", {"src": "http://img.shop.test/footer.png", "loading": "lazy", "style": "margin-top:1500px"}),
        key="body",
    )
    built = page(T0, "http://shop.test/checkout", (480, 320), [el("style", {}, text(STYLE))], body)
    body_id, button = built.ids["body"], built.ids["button"]
    events = list(built.events)
    events += [mouse_move(T0 + 100 + 90 * n, 20 + 13 * n, 40 + 7 * n, body_id) for n in range(30)]
    events += [
        click(T0 + 600, 80, 160, button),
        set_attributes(T0 + 610, button, class_="button busy"),
        built.add(T0 + 1300, "toasts", el("div", {"class": "toast"}, text("Payment failed"))),
        scroll(T0 + 1900, 1, 240),
        set_text(T0 + 2300, built.ids["title"], "Payment"),
        set_attributes(T0 + 2500, button, class_="button"),
    ]
    return sorted(events, key=lambda e: e["timestamp"])


def test_two_renders_of_a_clip_are_identical() -> None:
    org = Organization.objects.create(name="Acme", slug="acme")
    project = Project.objects.create(organization=org, name="Shop")
    session = store_recording(project, "busy-1", busy_page_events())
    start = ms_to_datetime(T0)
    clip = render_clip(session, start, start + timedelta(seconds=3), fps=5)
    assert clip.state == Clip.State.DONE, clip.failure_reason
    path = Path(clip.file.path)
    first_bytes, (_, first) = path.read_bytes(), read_video(path)

    again = render_clip(session, start, start + timedelta(seconds=3), fps=5, force=True)  # past the cache
    assert again.pk == clip.pk and again.state == Clip.State.DONE, again.failure_reason
    path = Path(again.file.path)
    second_bytes, (_, second) = path.read_bytes(), read_video(path)

    assert len(first) == len(second) == 15
    differing = [n for n, (a, b) in enumerate(zip(first, second)) if not np.array_equal(a, b)]
    assert differing == []
    assert first_bytes == second_bytes  # no random ids in the container either
    # The clip is not trivially still: the page and pointer change across it.
    assert sum(not np.array_equal(a, b) for a, b in zip(first, first[1:])) >= 10
