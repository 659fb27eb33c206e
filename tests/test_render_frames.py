"""Frames show the recorded DOM at the right instant, and the recorded site's remote assets never delay a render."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from replay_render.encode import read_video
from replay_render.models import Clip
from replay_render.rendering import render_clip
from replay_render.sample import store_recording
from summaries.models import Organization, Project, ms_to_datetime
from tests.test_render_recorder import record_in_chromium

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

GREEN = np.array([0, 200, 0])

PAGE = """<!doctype html><html><head><style>
 body { margin: 0; background: #fff; font: 16px sans-serif; }
 #banner { position: absolute; left: 40px; top: 60px; width: 240px; height: 120px; background: rgb(0, 200, 0); }
</style></head><body><h1 style="margin:8px">Checkout</h1></body></html>"""


@pytest.fixture
def project() -> Project:
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Shop")


def _is_green(frame: np.ndarray) -> bool:
    """True when the banner's area (60..180, 40..280 in page pixels) is the banner's green."""
    patch = frame[80:160, 60:260].reshape(-1, 3).mean(axis=0)
    return bool(np.abs(patch - GREEN).max() < 40)


def test_text_inserted_by_a_mutation_appears_only_in_later_frames(project: Project) -> None:
    async def insert_banner_later(page: Any) -> None:
        """Wait, insert the green banner, wait."""
        await asyncio.sleep(1.2)
        await page.evaluate("""() => {
            const div = document.createElement('div');
            div.id = 'banner'; div.textContent = 'Payment failed';
            document.body.appendChild(div);
            window.__insertedAt = Date.now();
        }""")
        await asyncio.sleep(1.2)

    events = record_in_chromium(PAGE, insert_banner_later, viewport=(480, 270))
    inserted_at = next(
        e["timestamp"] for e in events
        if e["type"] == 3 and e["data"]["source"] == 0 and "Payment failed" in str(e["data"]["adds"])
    )
    session = store_recording(project, "mutation-1", events, chunk_events=3)
    # A window from 1 s before the insertion to 1 s after: at 5 fps, frame 5 falls exactly on it.
    start = ms_to_datetime(inserted_at - 1000)
    clip = render_clip(session, start, start + timedelta(seconds=2), fps=5, footer=False)
    assert clip.state == Clip.State.DONE, clip.failure_reason

    info, frames = read_video(Path(clip.file.path))
    assert info.frame_count == len(clip.frame_times) == 10 and clip.frame_times[5] == inserted_at
    shown = [_is_green(frame) for frame in frames]
    assert shown == [False] * 5 + [True] * 5


@pytest.fixture
def slow_asset_server() -> Iterator[dict[str, Any]]:
    """A 127.0.0.1 server that answers every request only after 8 s, counting hits."""
    state: dict[str, Any] = {"hits": 0, "slow": False}

    class Handler(BaseHTTPRequestHandler):
        """Counts requests and answers slowly when asked to."""
        def log_message(self, *args: Any) -> None:
            """Keep test output clean."""
            return

        def do_GET(self) -> None:
            """Answer any path (slowly when the fixture says so)."""
            state["hits"] += 1
            if state["slow"]:
                time.sleep(8)
            body = b"body{}" if self.path.endswith(".css") else b"x"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_remote_assets_are_blocked_without_delay(project: Project, slow_asset_server: dict[str, Any]) -> None:
    base = slow_asset_server["url"]
    page = f"""<!doctype html><html><head>
      <link rel="stylesheet" href="{base}/site.css">
      <style>@font-face {{ font-family: Brand; src: url({base}/brand.woff2); }} h1 {{ font-family: Brand; }}</style>
      </head><body><h1>Shop</h1><img src="{base}/hero.png" width="100" height="50">
      <script src="{base}/tracker.js"></script></body></html>"""
    events = record_in_chromium(page, None, viewport=(400, 240))
    session = store_recording(project, "assets-1", events)
    slow_asset_server["hits"] = 0
    slow_asset_server["slow"] = True  # were the renderer to fetch anything, each request would take 8 s

    start = ms_to_datetime(events[0]["timestamp"])
    began = time.monotonic()
    clip = render_clip(session, start, start + timedelta(seconds=1), fps=1, footer=False)
    elapsed = time.monotonic() - began

    assert clip.state == Clip.State.DONE, clip.failure_reason
    assert slow_asset_server["hits"] == 0
    assert clip.blocked_request_count >= 2  # at least the stylesheet and the image
    assert elapsed < 7.5  # below the 8 s any real request would have cost


def test_frame_n_shows_start_plus_n_over_fps(project: Project) -> None:
    """Zero drift: the replayer's own clock, drawn as a time code into each frame, is exactly the frame's instant."""
    from replay_render.capture import FOOTER_HEIGHT, read_timecode
    from replay_render.sample import load_player_sample

    events = load_player_sample()
    session = store_recording(project, "timecode-1", events)
    start = session.start_time + timedelta(seconds=30)
    clip = render_clip(session, start, start + timedelta(seconds=2), fps=5, timecode=True)
    assert clip.state == Clip.State.DONE, clip.failure_reason
    _, frames = read_video(Path(clip.file.path))
    first = events[0]["timestamp"]
    shown = [read_timecode(frame, clip.height - FOOTER_HEIGHT) for frame in frames]
    # seek(t) applies events at or before t, so the replayer's clock reads t - first + 1.
    expected = [int(start.timestamp() * 1000) + 200 * n - first + 1 for n in range(10)]
    assert shown == expected


def test_a_session_with_two_tabs_shows_one_tab_per_clip(project: Project) -> None:
    """Interleaving two tabs' recordings would rebuild two pages in one replayer: a clip shows one tab."""
    from summaries.models import RecordingChunk

    cart = record_in_chromium("<html><body><h1>Your cart</h1><p>2 items</p></body></html>", None,
                              path="/cart", viewport=(400, 240))
    help_page = record_in_chromium("<html><body><h1>Help centre</h1><p>Contact us</p></body></html>", None,
                                   path="/help", viewport=(400, 240))
    shift = cart[0]["timestamp"] - help_page[0]["timestamp"] + 100  # the help tab opens 0.1 s later
    help_page = [dict(e, timestamp=e["timestamp"] + shift) for e in help_page]
    session = store_recording(project, "two-tabs", cart)
    RecordingChunk.store(session, "help-tab", help_page)
    start = ms_to_datetime(cart[0]["timestamp"])

    help_clip = render_clip(session, start, start + timedelta(seconds=1), fps=1, footer=False, window_id="help-tab")
    assert help_clip.state == Clip.State.DONE, help_clip.failure_reason
    assert "Help centre" in help_clip.page_texts[-1]["text"] and "cart" not in help_clip.page_texts[-1]["text"]
    cart_clip = render_clip(session, start, start + timedelta(seconds=1), fps=1, footer=False, window_id="window-1")
    assert "Your cart" in cart_clip.page_texts[-1]["text"] and "Help" not in cart_clip.page_texts[-1]["text"]


def test_wide_pages_are_scaled_down_not_cropped(project: Project) -> None:
    """A page wider than RECAP_CLIP_MAX_WIDTH keeps its recorded layout and is rasterised at a smaller scale."""
    page = """<!doctype html><html><body style="margin:0;background:#fff">
      <div style="position:absolute;left:0;top:0;width:800px;height:200px;background:rgb(0,200,0)"></div>
      <div style="position:absolute;left:800px;top:0;width:800px;height:200px;background:rgb(0,0,220)"></div>
      </body></html>"""
    events = record_in_chromium(page, None, viewport=(1600, 300))
    session = store_recording(project, "wide-1", events)
    start = ms_to_datetime(events[0]["timestamp"])
    clip = render_clip(session, start, start + timedelta(seconds=1), fps=1, max_width=800)
    assert clip.state == Clip.State.DONE, clip.failure_reason
    info, frames = read_video(Path(clip.file.path))
    assert (info.width, info.height) == (clip.width, clip.height) == (800, 164)  # (300 + 26 footer) / 2, even
    frame = frames[0].astype(int)
    assert np.abs(frame[50, 200] - [0, 200, 0]).max() < 40  # left half of the page: green
    assert np.abs(frame[50, 600] - [0, 0, 220]).max() < 40  # right half, scaled into view: blue
