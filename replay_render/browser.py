"""One headless Chromium per worker process, reused across clips, driven from a private asyncio loop.

pyppeteer is asyncio code; Celery prefork workers and Django tests are synchronous. Each process
gets one background thread that runs an event loop forever, and callers submit coroutines to it.
The browser is launched lazily in the process that uses it (never inherited across a fork), is
relaunched when it crashed, and every clip gets a fresh page that is closed afterwards, also on
timeout, so a slow clip costs a page, not the worker.
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)
# pyppeteer logs every launch and shutdown at INFO, also from atexit after logging has shut down.
logging.getLogger("pyppeteer").setLevel(logging.WARNING)

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-features=site-per-process,Translate,MediaRouter",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--hide-scrollbars",
    "--mute-audio",
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--disable-frame-rate-limit",
    "--disable-gpu-vsync",
    # Animated GIF/WebP/APNG frames advance on the wall clock: every frame shows the first picture.
    "--blink-settings=imageAnimationPolicy=2",
]


PROFILE_PREFIX = "recap-chromium-"


def sweep_orphan_profiles() -> int:
    """Remove chromium profiles whose owning process is gone; returns how many were removed."""
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(PROFILE_PREFIX + "*"):
        try:
            owner = int((folder / "owner.pid").read_text())
        except (OSError, ValueError):
            # No owner file: chromium's children wrote into it after it was removed. Leave fresh ones alone.
            try:
                stale = time.time() - folder.stat().st_mtime > 600
            except OSError:
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            continue
        try:
            os.kill(owner, 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, another user's
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


class BrowserUnavailable(RuntimeError):
    """Chromium could not be started; the message says what to install or configure."""


class RenderBrowser:
    """A lazily launched Chromium plus the event-loop thread that talks to it."""

    def __init__(self, executable: str | None = None) -> None:
        """Prepare (but do not start) the loop thread and the browser."""
        self.executable = executable or settings.CHROMIUM_PATH
        self.pid = os.getpid()
        self.launches = 0
        self.broken = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._browser: Any = None
        self._profile: str | None = None
        self._start_lock = threading.Lock()
        self._launch_lock: asyncio.Lock | None = None

    # -- the loop thread -------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """Start this process's event-loop thread if it is not running."""
        with self._start_lock:
            if self._loop is None or not self._thread or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    """The loop thread: runs the event loop until stopped."""
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name="recap-render-loop", daemon=True)
                thread.start()
                ready.wait(10)
                self._loop, self._thread = loop, thread
                self._launch_lock = None
            return self._loop

    def submit(self, make: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        """Start the coroutine made by `make` on the browser loop; return a future for its result."""
        loop = self._ensure_loop()
        return asyncio.run_coroutine_threadsafe(make(), loop)  # type: ignore[arg-type]

    def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Run the coroutine made by `make` on the browser loop; wait at most `timeout` seconds."""
        future = self.submit(make)
        try:
            return future.result(timeout)
        except TimeoutError:
            # Not cancelled (that breaks pyppeteer's connection); the browser is replaced instead.
            self.broken = True
            raise

    # -- the browser ------------------------------------------------------------------------
    def _alive(self) -> bool:
        """True while the browser process runs and pyppeteer's connection is open."""
        browser = self._browser
        if browser is None:
            return False
        process = getattr(browser, "process", None)
        if process is not None and process.poll() is not None:
            return False
        connection = getattr(browser, "_connection", None)
        return bool(getattr(connection, "_connected", True))

    async def browser(self) -> Any:
        """The running browser, launched (or relaunched after a crash) on demand."""
        if self._launch_lock is None:
            self._launch_lock = asyncio.Lock()
        async with self._launch_lock:
            if self.broken or not self._alive():
                self.broken = False
                if self._browser is not None:
                    logger.warning("chromium is gone (crashed or killed); starting a new one")
                    await self._dispose()
                self._browser = await self._launch()
                self.launches += 1
            return self._browser

    async def _launch(self) -> Any:
        """Start chromium with the render flags and a throwaway profile."""
        from pyppeteer import launch

        if not (os.path.exists(self.executable) or shutil.which(self.executable)):
            raise BrowserUnavailable(
                f"Chromium not found at {self.executable!r}: install Debian's `chromium` package "
                "(scripts/setup does) or set CHROMIUM_PATH"
            )
        # Our own throwaway profile, removed when the browser goes (also after a crash); profiles left by
        # worker processes that were killed outright are swept here.
        sweep_orphan_profiles()
        self._profile = tempfile.mkdtemp(prefix=PROFILE_PREFIX)
        Path(self._profile, "owner.pid").write_text(str(os.getpid()))
        try:
            with warnings.catch_warnings():
                # pyppeteer 2.0 still passes `loop=` to websockets 10, which only deprecates it.
                warnings.simplefilter("ignore", DeprecationWarning)
                return await launch(
                    executablePath=self.executable,
                    headless=True,
                    ignoreDefaultArgs=True,
                    args=CHROMIUM_ARGS + [f"--user-data-dir={self._profile}", "about:blank"],
                    handleSIGINT=False,
                    handleSIGTERM=False,
                    handleSIGHUP=False,
                    autoClose=False,
                    loop=asyncio.get_running_loop(),
                    defaultViewport=None,
                )
        except Exception as exc:  # pyppeteer raises bare errors for a browser that dies on start
            self._remove_profile()
            raise BrowserUnavailable(f"Chromium at {self.executable!r} did not start: {exc}") from exc

    async def _dispose(self) -> None:
        """Close the browser (killing it if it does not answer) and remove its profile."""
        browser, self._browser = self._browser, None
        if browser is None:
            return
        process = getattr(browser, "process", None)
        closing = asyncio.ensure_future(browser.close())
        done, _ = await asyncio.wait({closing}, timeout=5)
        if done and closing.exception() is not None:
            logger.debug("chromium did not close politely: %s", closing.exception())
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(5)
        self._remove_profile()

    def _remove_profile(self) -> None:
        """Delete the browser's throwaway profile folder (chromium's helpers may still be writing to it)."""
        profile, self._profile = self._profile, None
        for _ in range(5):
            if not profile or not os.path.exists(profile):
                return
            shutil.rmtree(profile, ignore_errors=True)
            time.sleep(0.1)

    def mark_broken(self) -> None:
        """Forget the browser after an error that may have left it unusable; the next clip relaunches."""
        if self._loop is not None and self._browser is not None:
            try:
                self.run(self._dispose, timeout=15)
            except Exception:  # the process is killed below either way
                logger.exception("disposing of a broken chromium failed")
                process = getattr(self._browser, "process", None)
                if process is not None and process.poll() is None:
                    process.kill()
                self._browser = None
                self._remove_profile()

    def chromium_pid(self) -> int | None:
        """Process id of the running chromium, if any (tests and diagnostics)."""
        process = getattr(self._browser, "process", None)
        return process.pid if process is not None and process.poll() is None else None

    def close(self) -> None:
        """Close the browser and stop the loop thread."""
        if self._loop is None:
            return
        try:
            self.run(self._dispose, timeout=15)
        except Exception:
            logger.exception("closing chromium failed")
        loop, self._loop = self._loop, None
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)


_shared: RenderBrowser | None = None
_shared_lock = threading.Lock()


def shared_browser() -> RenderBrowser:
    """This process's browser; a forked child gets its own instead of its parent's."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.pid != os.getpid():
            _shared = RenderBrowser()
        return _shared


def close_shared_browser() -> None:
    """Close this process's browser, if it started one."""
    global _shared
    with _shared_lock:
        browser, _shared = _shared, None
    if browser is not None and browser.pid == os.getpid():
        browser.close()


atexit.register(close_shared_browser)
