"""Recording real rrweb sessions in Chromium for the render tests (and a check that the recorder works).

Pages are served at a made-up origin by request interception, so nothing leaves the machine;
requests to 127.0.0.1 pass through (tests that need a local server use one).
"""
from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from replay_render.browser import shared_browser
from replay_render.timeline import FULL_SNAPSHOT, INCREMENTAL_SNAPSHOT, META

ROOT = Path(__file__).resolve().parent.parent
RRWEB_JS = ROOT / "node_modules" / "rrweb" / "dist" / "rrweb.umd.min.cjs"
SITE = "http://shop.test"

Scenario = Callable[[Any], Awaitable[None]]


async def _record(html: str, scenario: Scenario | None, path: str, viewport: tuple[int, int]) -> list[dict]:
    """Record `html` with rrweb in a fresh Chromium page while `scenario` runs."""
    chromium = await shared_browser().browser()
    page = await chromium.newPage()
    client = page._client
    files = {
        path: ("text/html; charset=utf-8", html.encode()),
        "/rrweb.js": ("application/javascript", RRWEB_JS.read_bytes()),
    }

    async def serve(event: dict) -> None:
        """Serve the recorded site from memory; let local requests through; fail the rest."""
        url = event["request"]["url"]
        if url.startswith(SITE + "/"):
            ctype, body = files.get(url[len(SITE):].split("?")[0], ("text/plain", b""))
            await client.send("Fetch.fulfillRequest", {
                "requestId": event["requestId"], "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": ctype}],
                "body": base64.b64encode(body).decode(),
            })
        elif url.startswith(("http://127.0.0.1", "data:")):
            await client.send("Fetch.continueRequest", {"requestId": event["requestId"]})
        else:
            await client.send("Fetch.failRequest", {"requestId": event["requestId"], "errorReason": "BlockedByClient"})

    client.on("Fetch.requestPaused", lambda e: asyncio.ensure_future(serve(e)))
    await client.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
    try:
        await page.setViewport({"width": viewport[0], "height": viewport[1]})
        await page.goto(SITE + path, waitUntil="load")
        await page.addScriptTag(url=SITE + "/rrweb.js")
        await page.evaluate("() => { window.__events = []; rrweb.record({ emit: (e) => window.__events.push(e) }); }")
        await asyncio.sleep(0.3)
        if scenario is not None:
            await scenario(page)
        await asyncio.sleep(0.3)
        return await page.evaluate("() => window.__events")
    finally:
        await page.close()


def record_in_chromium(
    html: str, scenario: Scenario | None = None, *, path: str = "/checkout", viewport: tuple[int, int] = (640, 360)
) -> list[dict]:
    """Load `html` at http://shop.test<path> in Chromium, record it with rrweb while `scenario` runs."""
    return shared_browser().run(lambda: _record(html, scenario, path, viewport), timeout=60)


@pytest.mark.browser
def test_recorder_captures_snapshot_and_mutations() -> None:
    """The recording tests rely on: a Meta with the page size, a FullSnapshot, then incremental mutations."""

    async def add_text(page: Any) -> None:
        """Append a paragraph after the snapshot."""
        await page.evaluate("() => { const p = document.createElement('p'); p.textContent = 'later'; "
                            "document.body.appendChild(p); }")

    events = record_in_chromium("<html><body><h1>Shop</h1></body></html>", add_text, viewport=(500, 300))
    types = [e["type"] for e in events]
    assert META in types and FULL_SNAPSHOT in types
    meta = next(e for e in events if e["type"] == META)
    assert (meta["data"]["width"], meta["data"]["height"]) == (500, 300)
    assert meta["data"]["href"] == "http://shop.test/checkout"
    mutations = [e for e in events if e["type"] == INCREMENTAL_SNAPSHOT and e["data"]["source"] == 0]
    assert any("later" in str(m["data"]["adds"]) for m in mutations)
