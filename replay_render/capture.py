"""Deterministic frame capture: rebuild the page with the rrweb Replayer in Chromium, seek, screenshot.

The replay page is served to Chromium by the worker itself through request interception (the page
lives at a made-up origin), so a render worker needs no web server; every other request (fonts,
images, scripts and stylesheets of the recorded site) is failed at once so nothing waits on the
network. No real-time playback is involved: frame n is `Replayer.pause(t_n)` then a screenshot.
"""
from __future__ import annotations

import asyncio
import base64
import bisect
import concurrent.futures
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.template.loader import render_to_string

from replay_render.browser import RenderBrowser
from replay_render.timeline import clicks

logger = logging.getLogger(__name__)

REPLAY_ORIGIN = "http://recap.replay"
REPLAY_PAGE = f"{REPLAY_ORIGIN}/replay.html"
FOOTER_HEIGHT = 26
PAGE_TEXT_LIMIT = 4000


class CaptureError(RuntimeError):
    """The replay could not be captured (the page failed to build or to seek)."""


@dataclass(frozen=True)
class FrameSpec:
    """What to show in one frame: the recording instant and the footer's text."""

    timestamp_ms: int
    time_text: str = ""
    url: str = ""


@dataclass
class CaptureResult:
    """Screenshots (JPEG bytes, one per frame) and what happened while taking them."""

    images: list[bytes]
    width: int
    height: int
    blocked_requests: list[str] = field(default_factory=list)
    reused_frames: int = 0
    scale: float = 1.0  # device pixels per CSS pixel: below 1 when the page is wider than the clip may be
    page_texts: list[dict] = field(default_factory=list)  # {"t": ms, "text": ...} whenever the text changed
    load_seconds: float = 0.0
    capture_seconds: float = 0.0


@lru_cache(maxsize=1)
def _rrweb_assets() -> dict[str, tuple[str, bytes]]:
    """rrweb's UMD bundle and CSS from node_modules, read once per process."""
    dist = Path(settings.NODE_MODULES) / "rrweb" / "dist"
    script, style = dist / "rrweb.umd.min.cjs", dist / "style.css"
    for path in (script, style):
        if not path.exists():
            raise CaptureError(f"{path} is missing: run `npm ci` (scripts/setup does) to install rrweb")
    return {
        "/rrweb/rrweb.umd.min.js": ("application/javascript; charset=utf-8", script.read_bytes()),
        "/rrweb/style.css": ("text/css; charset=utf-8", style.read_bytes()),
    }


def replay_page_html(events: list[dict], *, footer: bool, click_visible_ms: int, timecode: bool = False) -> bytes:
    """The replay page's HTML for these events (click markers, footer and time code configured)."""
    config = {"footer": footer, "clicks": clicks(events), "click_visible_ms": click_visible_ms,
              "text_limit": PAGE_TEXT_LIMIT, "timecode": timecode}
    return render_to_string(
        "replay_render/replay.html", {"config": config, "footer_height": FOOTER_HEIGHT}
    ).encode()


async def _serve(client, event: dict, assets: dict[str, tuple[str, bytes]], blocked: list[str]) -> None:
    """Answer one intercepted request: the replay page's own files, or an immediate failure."""
    request_id = event["requestId"]
    url = event["request"]["url"]
    try:
        if url.startswith(REPLAY_ORIGIN + "/"):
            found = assets.get(urlsplit(url).path)
            status, (ctype, body) = (200, found) if found else (404, ("text/plain", b"not found"))
            await client.send(
                "Fetch.fulfillRequest",
                {
                    "requestId": request_id,
                    "responseCode": status,
                    "responseHeaders": [
                        {"name": "Content-Type", "value": ctype},
                        # rrweb's bundle may be cached (V8 keeps its compiled code for the next clip's page).
                        {"name": "Cache-Control",
                         "value": "max-age=86400" if url.startswith(REPLAY_ORIGIN + "/rrweb/") else "no-store"},
                    ],
                    "body": base64.b64encode(body).decode(),
                },
            )
        elif url.startswith(("data:", "blob:", "about:")):
            await client.send("Fetch.continueRequest", {"requestId": request_id})
        else:
            blocked.append(url)
            await client.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
    except Exception as exc:  # the page may close while requests are in flight
        logger.debug("intercepted request %s not answered: %s", url, exc)


async def open_replay(
    page, events: list[dict], *, footer: bool, click_visible_ms: int, result: CaptureResult, timecode: bool = False,
    css_size: tuple[int, int] | None = None,
) -> None:
    """Serve the replay page on `page` (interception), load the events and build the Replayer."""
    client = page._client  # the page's CDP session: the Fetch domain is not wrapped by pyppeteer
    assets = dict(_rrweb_assets())
    assets["/replay.html"] = ("text/html; charset=utf-8", replay_page_html(
        events, footer=footer, click_visible_ms=click_visible_ms, timecode=timecode))
    assets["/events.json"] = ("application/json", json.dumps(events, separators=(",", ":")).encode())
    client.on("Fetch.requestPaused", lambda e: asyncio.ensure_future(_serve(client, e, assets, result.blocked_requests)))
    await client.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
    # The page keeps the recorded CSS size (the replayer iframe is not scaled, so layout is as recorded);
    # a device scale factor below 1 makes Chromium rasterise, and screenshot, fewer pixels.
    width, height = css_size or (result.width, result.height)
    await page.setViewport({"width": width, "height": height, "deviceScaleFactor": result.scale})
    # Focus decides selection colours and :focus styles; without this they would depend on whether another
    # page of the shared browser (another clip, a recorder) has focus at the moment.
    await client.send("Emulation.setFocusEmulationEnabled", {"enabled": True})

    started = time.perf_counter()
    await page.goto(REPLAY_PAGE, waitUntil="load", timeout=30_000)
    try:
        await page.evaluate("() => window.recap.load()")
    except Exception as exc:
        raise CaptureError(f"the rrweb Replayer could not rebuild the page: {_js_message(exc)}") from exc
    result.load_seconds = time.perf_counter() - started


def frame_keys(events: list[dict], frames: list[FrameSpec], click_visible_ms: int) -> list[tuple]:
    """What decides each frame's picture: events applied so far, footer text, click markers shown.

    Two neighbouring frames with the same key look the same, so the second reuses the first's
    screenshot (idle moments cost nothing). The page's own CSS animations do not count: they are
    posed on the recording's clock at the frames that are seeked (replay.html), and an idle stretch
    shows them as its first frame did.
    """
    stamps = [e.get("timestamp", 0) for e in events]
    click_times = [c["timestamp"] for c in clicks(events)]
    keys = []
    for frame in frames:
        at = frame.timestamp_ms
        shown = tuple(t for t in click_times if t <= at and at - t <= click_visible_ms)
        keys.append((bisect.bisect_right(stamps, at), frame.time_text, frame.url, shown))
    return keys


async def _capture_on_page(
    page, events: list[dict], frames: list[FrameSpec], footer: bool, click_visible_ms: int, jpeg_quality: int,
    result: CaptureResult, on_image: Callable[[bytes], None] | None, timecode: bool, css_size: tuple[int, int],
) -> None:
    """Open the replay on `page`, then seek and screenshot every frame."""
    client = page._client
    await open_replay(page, events, footer=footer, click_visible_ms=click_visible_ms, result=result,
                      timecode=timecode, css_size=css_size)

    started = time.perf_counter()
    keys = [None] * len(frames) if timecode else frame_keys(events, frames, click_visible_ms)
    image: bytes | None = None
    pages_seen = 0
    for position, frame in enumerate(frames):
        if image is not None and keys[position] is not None and keys[position] == keys[position - 1]:
            # Nothing that decides what is on screen changed since the previous frame: same picture.
            result.reused_frames += 1
            if on_image is None:
                result.images.append(image)
            else:
                on_image(image)
            continue
        try:
            text, has_page = await page.evaluate(
                "(at, t, u) => window.recap.seek(at, t, u)", frame.timestamp_ms, frame.time_text, frame.url
            )
        except Exception as exc:
            raise CaptureError(
                f"the replay failed at recording time {frame.timestamp_ms}: {_js_message(exc)}"
            ) from exc
        shot = await client.send(
            "Page.captureScreenshot", {"format": "jpeg", "quality": jpeg_quality, "optimizeForSpeed": True}
        )
        pages_seen += bool(has_page)
        if not result.page_texts or result.page_texts[-1]["text"] != text:
            result.page_texts.append({"t": frame.timestamp_ms, "text": str(text or "")})
        image = base64.b64decode(shot["data"])
        if on_image is None:
            result.images.append(image)
        else:
            on_image(image)
    result.capture_seconds = time.perf_counter() - started
    if frames and not pages_seen:
        raise CaptureError("the recording is corrupt: its FullSnapshot rebuilt no page (no <body>) in any frame")


async def _close_page(page) -> None:
    """Close a page if it is still open, waiting at most 5 s and never cancelling pyppeteer's futures."""
    if page.isClosed():
        return
    closing = asyncio.ensure_future(page.close())
    done, _ = await asyncio.wait({closing}, timeout=5)
    if done and closing.exception() is not None:
        logger.debug("closing the replay page failed: %s", closing.exception())


def _even(value: float) -> int:
    """Video encoders want even frame sizes."""
    return max(2, int(round(value / 2)) * 2)


def read_timecode(frame, footer_top: int, bits: int = 24) -> int:
    """Decode the time code square row (see replay.html) from an RGB frame: the replayer's clock in ms."""
    import numpy as np

    height, width = frame.shape[:2]
    row = frame[footer_top:height].mean(axis=2)
    # The squares are the right-most elements of the footer: find them from the right edge.
    centre_y = (height - footer_top) // 2
    value = 0
    right = width - 10  # footer padding
    for i in range(bits):
        x = right - (bits - 1 - i) * 14 - 6
        cell = row[max(0, centre_y - 3):centre_y + 3, x - 3:x + 3]
        value = value * 2 + int(np.asarray(cell).mean() > 128)
    return value


def _js_message(exc: Exception) -> str:
    """The first line of a page error, for a clip failure reason."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else exc.__class__.__name__


def start_capture(
    browser: RenderBrowser,
    events: list[dict],
    frames: list[FrameSpec],
    viewport: tuple[int, int],
    *,
    footer: bool = True,
    fps: int = 1,
    timeout: float = 120.0,
    jpeg_quality: int = 85,
    on_image: Callable[[bytes], None] | None = None,
    timecode: bool = False,
    max_width: int | None = None,
) -> tuple[CaptureResult, concurrent.futures.Future]:
    """Begin capturing on a fresh page of the shared browser; screenshots go to `on_image` as they are taken.

    Returns the result being filled and a future that completes when the page is done. The
    future raises TimeoutError when the capture takes longer than `timeout`; the page is closed
    either way and the browser stays up for the next clip.
    """
    result = CaptureResult(images=[], width=0, height=0)
    css_width, css_height = viewport[0], viewport[1] + (FOOTER_HEIGHT if footer or timecode else 0)
    result.scale = min(1.0, max_width / css_width) if max_width else 1.0
    result.width, result.height = _even(css_width * result.scale), _even(css_height * result.scale)
    click_visible_ms = int(max(1000 / max(fps, 1), 500))

    async def job() -> CaptureResult:
        """The capture on a fresh page, closed afterwards whatever happens."""
        chromium = await browser.browser()
        page = await chromium.newPage()
        work = asyncio.ensure_future(
            _capture_on_page(page, events, frames, footer, click_visible_ms, jpeg_quality, result, on_image, timecode,
                             (css_width, css_height))
        )
        try:
            # Waiting without cancelling: pyppeteer breaks its connection when a pending command's
            # future is cancelled, so a timeout closes the page and lets the capture fail by itself.
            done, _ = await asyncio.wait({work}, timeout=timeout)
            if not done:
                await _close_page(page)
                await asyncio.wait({work}, timeout=5)
                if not work.done():
                    browser.broken = True  # something hangs below the page: start afresh next time
                else:
                    work.exception()  # retrieved: the page closing under it is expected
                raise TimeoutError(f"capture took longer than {timeout:.0f} s")
            return work.result()
        finally:
            await _close_page(page)

    return result, browser.submit(job)


def capture_frames(
    browser: RenderBrowser,
    events: list[dict],
    frames: list[FrameSpec],
    viewport: tuple[int, int],
    *,
    footer: bool = True,
    fps: int = 1,
    timeout: float = 120.0,
    jpeg_quality: int = 85,
    timecode: bool = False,
) -> CaptureResult:
    """Screenshots of the replay at each frame's instant (kept in memory), taken on a fresh page."""
    result, future = start_capture(
        browser, events, frames, viewport, footer=footer, fps=fps, timeout=timeout, jpeg_quality=jpeg_quality,
        timecode=timecode,
    )
    # The outer wait is a safety net for a browser that stops answering altogether.
    future.result(timeout + 30)
    return result
