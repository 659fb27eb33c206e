"""Real posthog-js in headless Chromium, pointed at a live Recap server: events and a recording arrive intact."""
from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test.testcases import LiveServerThread

from summaries.ingest import batches
from summaries.ingest.batches import process_batch
from summaries.models import RawBatch, Session
from tests.conftest import ROOT
from tests.ingest_helpers import make_project

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Test shop</title>
<script src="/posthog/array.js"></script>
<script>
  posthog.init(%(token)s, {
    api_host: %(api)s,
    capture_pageview: true,
    autocapture: true,
    capture_exceptions: true,
    session_recording: {maskAllInputs: false},
  });
</script>
<style>body{font-family:sans-serif} #promo{width:300px;height:120px;background:#ddd;margin:20px;cursor:pointer}</style>
</head><body>
<h1>Test shop</h1>
<button id="add">Add to cart</button>
<input id="email" type="text" placeholder="Your email">
<div id="promo">Spring sale banner</div>
<button id="pay" onclick="throw new Error('payment widget exploded')">Pay now</button>
</body></html>
"""


@pytest.fixture
def recap_server(transactional_db) -> Iterator[str]:
    """The whole Django app on a real port (no static-files handler: posthog-js loads /static/ from Recap)."""
    thread = LiveServerThread("127.0.0.1", lambda app: app)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()


@pytest.fixture
def shop_server(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A plain web server for the test page and posthog-js from node_modules (a different origin than Recap)."""
    (tmp_path / "posthog").symlink_to(ROOT / "node_modules" / "posthog-js" / "dist")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield tmp_path, server.server_address[1]
    finally:
        server.shutdown()


async def drive_browser(page_url: str) -> list[str]:
    """Open the shop, click, type, rage-click, hit an uncaught exception; returns the capture requests seen."""
    from pyppeteer import launch

    browser = await launch(
        executablePath=CHROMIUM,
        headless=True,
        ignoreDefaultArgs=["--enable-automation"],  # it sets navigator.webdriver; posthog-js drops bot traffic
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
              "--disable-blink-features=AutomationControlled", f"--user-agent={USER_AGENT}",
              "--host-resolver-rules=MAP app.test 127.0.0.1", "--window-size=1200,800"],
        handleSIGINT=False, handleSIGTERM=False, handleSIGHUP=False,
    )
    requests: list[str] = []
    try:
        page = await browser.newPage()
        await page.setViewport({"width": 1200, "height": 800})
        page.on("request", lambda req: requests.append(f"{req.method} {req.url}"))
        await page.goto(page_url, waitUntil="networkidle0", timeout=30000)
        # The recorder is loaded lazily; wait until it has started.
        await page.waitForFunction(
            "() => window.posthog && window.posthog.sessionRecordingStarted && window.posthog.sessionRecordingStarted()",
            timeout=20000,
        )
        await page.click("#add")
        await page.click("#email")
        await page.keyboard.type("ada@example.com", delay=30)
        await page.keyboard.press("Tab")
        box = await (await page.querySelector("#promo")).boundingBox()
        x, y = box["x"] + 50, box["y"] + 40
        for _ in range(4):  # rage click: clicks within 30 px and 1 s of each other, on something clickable-looking
            await page.mouse.click(x, y)
            await asyncio.sleep(0.08)
        await page.click("#pay")
        await page.evaluate("() => fetch('/api/cart-total?id=7').catch(() => null)")  # a 404, for network timing
        await page.evaluate("() => posthog.identify('user-42', {email: 'ada@example.com'})")
        await page.mouse.move(10, 10)
        await asyncio.sleep(6)  # posthog-js flushes its queues every few seconds
        await page.goto("about:blank")  # unload: the SDK sends what is left
        await asyncio.sleep(1)
    finally:
        await browser.close()
    return requests


def test_posthog_js_capture_end_to_end(recap_server: str, shop_server, monkeypatch) -> None:
    """posthog-js from npm sends events and an rrweb recording that Recap stores and can replay."""
    monkeypatch.setattr(batches, "request_processing", lambda project_id: None)  # processed below, no worker needed
    project = make_project("Browser shop")
    root, port = shop_server
    (root / "index.html").write_text(PAGE % {"token": json.dumps(project.capture_token),
                                             "api": json.dumps(recap_server)})
    requests = asyncio.run(drive_browser(f"http://app.test:{port}/index.html"))

    paths = " ".join(requests)
    assert f"/array/{project.capture_token}/config" in paths, requests
    assert "lazy-recorder.js" in paths, requests  # the recorder is served by Recap from node_modules
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not RawBatch.objects.filter(kind=RawBatch.Kind.RECORDINGS).exists():
        time.sleep(0.5)
    stored = list(RawBatch.objects.filter(project=project).values_list("pk", flat=True))
    assert stored, f"no capture request was stored; browser requests: {requests}"
    for batch_id in stored:
        process_batch(batch_id)
    assert set(RawBatch.objects.values_list("state", flat=True)) == {RawBatch.State.PROCESSED}

    session = Session.objects.get(project=project)
    names = set(session.events.values_list("name", flat=True))
    assert {"$pageview", "$autocapture", "$rageclick", "$exception"} <= names, names
    exception = session.events.get(name="$exception").properties
    assert "payment widget exploded" in json.dumps(exception["$exception_list"])
    assert session.events.filter(name="$autocapture", properties__contains={"$event_type": "click"}).exists()
    assert session.person_email == "ada@example.com"
    assert session.distinct_id == "user-42"
    assert session.first_url.startswith(f"http://app.test:{port}/index.html")

    rrweb = session.rrweb_events()
    types = [e["type"] for e in rrweb]
    assert 4 in types and 2 in types, types[:20]
    meta = next(e for e in rrweb if e["type"] == 4)
    assert meta["data"]["width"] == 1200
    full = next(e for e in rrweb if e["type"] == 2)
    assert isinstance(full["data"], dict) and "node" in full["data"], "FullSnapshot was not decompressed"
    assert "Test shop" in json.dumps(full["data"])
    sources = {e["data"].get("source") for e in rrweb if e["type"] == 3}
    assert {2, 5} <= sources, sources  # mouse interactions and input
    typed = [e for e in rrweb if e["type"] == 3 and e["data"].get("source") == 5]
    assert any("ada@example.com" in str(e["data"].get("text")) for e in typed)
    assert timestamps_sorted(rrweb)
    network = [r for e in rrweb if e["type"] == 6 and e["data"].get("plugin") == "rrweb/network@1"
               for r in e["data"]["payload"].get("requests", [])]
    assert any("/api/cart-total?id=7" in r.get("name", "") for r in network), "network timing is not recorded"
    assert session.click_count >= 6
    assert 0 < session.active_seconds <= session.duration_seconds
    assert session.recording_event_count == len(rrweb)


def timestamps_sorted(events: list[dict]) -> bool:
    """True when rrweb events are in time order."""
    stamps = [e["timestamp"] for e in events]
    return stamps == sorted(stamps)
