"""Chromium set up so posthog-js treats it as a person's browser, with made-up hosts for the sample apps and Recap."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from pyppeteer import launch
from pyppeteer.browser import Browser
from pyppeteer.page import Page

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
SHOP_HOST = "shop.test"
CRM_HOST = "app.kontora.test"
RECAP_HOST = "recap.test"
VIEWPORT = {"width": 1280, "height": 800}


async def launch_browser() -> Browser:
    """Start headless Chromium that does not look automated (posthog-js drops events from bots)."""
    return await launch(
        executablePath=CHROMIUM,
        headless=True,
        # pyppeteer adds --enable-automation, which sets navigator.webdriver; posthog-js then discards everything.
        ignoreDefaultArgs=["--enable-automation"],
        args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
            "--disable-blink-features=AutomationControlled",
            f"--user-agent={USER_AGENT}",
            # posthog-js turns network timing off on localhost, so every site gets a name of its own.
            f"--host-resolver-rules=MAP {SHOP_HOST} 127.0.0.1, MAP {CRM_HOST} 127.0.0.1, MAP {RECAP_HOST} 127.0.0.1",
            f"--window-size={VIEWPORT['width']},{VIEWPORT['height']}",
            "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows",
        ],
        handleSIGINT=False, handleSIGTERM=False, handleSIGHUP=False,
        autoClose=False,
    )


@dataclass
class Observation:
    """Something the browser saw that the ground truth may need: an uncaught error, a failed or slow request,
    a request that was cancelled (`requestfailed`) or never answered before the journey ended (`unfinished`)."""

    kind: str  # "pageerror" | "response" | "requestfailed" | "unfinished"
    wall_time: float
    url: str = ""
    status: int = 0
    method: str = ""
    duration: float = 0.0
    message: str = ""


@dataclass
class BrowserLog:
    """What one page observed, with wall-clock times (the same clock posthog-js stamps events with)."""

    observations: list[Observation] = field(default_factory=list)
    _started: dict[str, tuple[float, str, str]] = field(default_factory=dict)

    def attach(self, page: Page) -> None:
        """Listen to the page's uncaught errors and API requests."""
        page.on("pageerror", self._on_error)
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)

    def _on_error(self, error) -> None:
        """An uncaught exception in the page."""
        self.observations.append(Observation("pageerror", time.time(), message=str(error)))

    def _on_request(self, request) -> None:
        """Note when an API request started (keyed by pyppeteer's request id)."""
        if "/api/" in request.url:
            self._started[request._requestId] = (time.time(), request.url, request.method)

    def _on_response(self, response) -> None:
        """An API response: its status and how long it took since the request started."""
        request = response.request
        if "/api/" not in response.url:
            return
        started = self._started.pop(request._requestId, (time.time(),))[0]
        self.observations.append(Observation(
            "response", started, url=response.url, status=response.status, method=request.method,
            duration=time.time() - started,
        ))

    def _on_failed(self, request) -> None:
        """An API request that got no response: cancelled by the page, or the connection failed."""
        started = self._started.pop(request._requestId, None)
        if started is not None:
            self.observations.append(Observation(
                "requestfailed", started[0], url=started[1], method=started[2], duration=time.time() - started[0],
                message=str((request.failure() or {}).get("errorText", "")),
            ))

    def close(self) -> None:
        """Record the API requests still waiting for an answer when the journey ended."""
        now = time.time()
        for started, url, method in self._started.values():
            self.observations.append(Observation("unfinished", started, url=url, method=method, duration=now - started))
        self._started.clear()


async def new_shopper_page(browser: Browser, app_url: str, fault_cookie: str,
                           cookie_name: str = "shop_faults") -> tuple[Page, BrowserLog, object]:
    """A fresh incognito context (its own cookies and storage, so its own posthog session) with faults set."""
    context = await browser.createIncognitoBrowserContext()
    page = await context.newPage()
    await page.setViewport(VIEWPORT)
    log = BrowserLog()
    log.attach(page)
    if fault_cookie:
        await page.setCookie({"name": cookie_name, "value": fault_cookie, "url": app_url})
    return page, log, context
