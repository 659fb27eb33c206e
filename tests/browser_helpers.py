"""Helpers for page tests in a real headless Chromium (pyppeteer): launch, sign in with a session cookie, tiny clips."""
from __future__ import annotations

import contextlib
import io
import os
from collections.abc import AsyncIterator
from typing import Any

from django.test import Client

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium that may autoplay muted video; closed on exit."""
    from pyppeteer import launch

    browser = await launch(
        executablePath=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync",
              "--disable-background-networking", "--disable-component-update", "--window-size=1200,900",
              "--autoplay-policy=no-user-gesture-required"],
        handleSIGINT=False, handleSIGTERM=False, handleSIGHUP=False)
    try:
        yield browser
    finally:
        await browser.close()


def session_cookie(user: Any) -> str:
    """A signed-in session id for the user (call outside the event loop: it writes to the database)."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def signed_in_page(browser: Any, base_url: str, cookie: str) -> Any:
    """A new tab carrying a session cookie from session_cookie (as if the user had signed in)."""
    page = await browser.newPage()
    await page.setViewport({"width": 1200, "height": 900})
    await page.setCookie({"name": "sessionid", "value": cookie, "url": base_url})
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    return page


async def fetch_text(page: Any, url: str) -> str:
    """Fetch a URL from inside the page (its cookies), returning the body; raises on a non-200 answer."""
    result = await page.evaluate("""async (url) => { const r = await fetch(url, {credentials: 'same-origin'});
        return {status: r.status, text: await r.text()}; }""", url)
    if result["status"] != 200:
        raise AssertionError(f"{url} answered {result['status']}")
    return result["text"]


def tiny_webm(seconds: int = 6, fps: int = 4) -> bytes:
    """A small real webm (a moving bar) for <video> tests."""
    from PIL import Image

    from replay_render.encode import encode_webm_bytes

    frames = []
    for i in range(seconds * fps):
        image = Image.new("RGB", (160, 96), (240, 240, 240))
        image.paste((53, 87, 201), (i * 5 % 150, 30, i * 5 % 150 + 10, 60))
        out = io.BytesIO()
        image.save(out, format="PNG")
        frames.append(out.getvalue())
    return encode_webm_bytes(frames, fps, codec="vp8")
