"""Human pacing for a scripted shopper: mouse paths, typing rhythm, scrolling, reading pauses, back navigation."""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from pyppeteer.errors import TimeoutError as PageTimeout
from pyppeteer.page import Page


log = logging.getLogger("corpus.shopper")


class Shopper:
    """Drives one page the way a person would, at a pace scaled by `pace` (1.0 = real time)."""

    def __init__(self, page: Page, rng: random.Random, pace: float = 1.0) -> None:
        """A shopper on a page, with its own random rhythm."""
        self.page = page
        self.rng = rng
        self.pace = pace
        self.x, self.y = 640.0, 400.0
        # Hands do not speed up as much as minds: micro-pauses shrink less than idle gaps when pace is low.
        self.quick = max(pace, 0.25)

    # -- time -------------------------------------------------------------------------------------------------
    async def pause(self, low: float, high: float) -> None:
        """Wait a human-scale moment (scaled by pace)."""
        await asyncio.sleep(self.rng.uniform(low, high) * self.pace)

    async def idle(self, low: float, high: float) -> None:
        """Stay idle: reading, thinking, looking away; the mouse drifts a little now and then."""
        end = time.monotonic() + self.rng.uniform(low, high) * self.pace
        while (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, self.rng.uniform(2.0, 9.0)))
            if time.monotonic() < end and self.rng.random() < 0.35:
                await self.move(self.x + self.rng.uniform(-60, 60), self.y + self.rng.uniform(-40, 40))

    async def read(self, low: float = 2.0, high: float = 8.0) -> None:
        """Read the page: a pause with an occasional small scroll."""
        await self.pause(low / 2, high / 2)
        if self.rng.random() < 0.6:
            await self.scroll(self.rng.randint(150, 500))
        await self.pause(low / 2, high / 2)

    # -- mouse ------------------------------------------------------------------------------------------------
    async def move(self, x: float, y: float) -> None:
        """Move the mouse along a slightly curved path in small steps."""
        x = min(max(x, 2), 1278)
        y = min(max(y, 2), 798)
        mid_x = (self.x + x) / 2 + self.rng.uniform(-80, 80)
        mid_y = (self.y + y) / 2 + self.rng.uniform(-50, 50)
        for tx, ty in ((mid_x, mid_y), (x, y)):
            distance = ((tx - self.x) ** 2 + (ty - self.y) ** 2) ** 0.5
            await self.page.mouse.move(tx, ty, {"steps": max(3, int(distance / 35))})
            self.x, self.y = tx, ty
            await asyncio.sleep(self.rng.uniform(0.02, 0.08) * self.quick)

    async def scroll(self, dy: int) -> None:
        """Scroll by dy pixels in a few wheel-sized steps."""
        steps = max(1, abs(dy) // 120)
        for _ in range(steps):
            await self.page.evaluate(f"window.scrollBy(0, {120 if dy > 0 else -120})")
            await asyncio.sleep(self.rng.uniform(0.05, 0.2))

    async def _box(self, selector: str, timeout: float = 15.0) -> dict:
        """Bring an element into view and return its bounding box in viewport pixels."""
        element = await self.page.waitForSelector(selector, {"visible": True, "timeout": int(timeout * 1000)})
        off_screen = await self.page.evaluate(
            "(el) => { const r = el.getBoundingClientRect(); return r.top < 60 || r.bottom > innerHeight - 20; }", element)
        if off_screen:
            await self.page.evaluate("(el) => el.scrollIntoView({block: 'center', behavior: 'smooth'})", element)
        await asyncio.sleep(self.rng.uniform(0.4, 0.8) * self.quick)
        # A smooth scroll takes a moment: aim only once the element has stopped moving.
        box = await element.boundingBox()
        for _ in range(20):
            await asyncio.sleep(0.1)
            again = await element.boundingBox()
            if again == box:
                break
            box = again
        if box is None:
            raise RuntimeError(f"{selector} is not visible")
        return box

    async def hover(self, selector: str) -> None:
        """Move the mouse onto an element."""
        box = await self._box(selector)
        await self.move(box["x"] + box["width"] * self.rng.uniform(0.3, 0.7),
                        box["y"] + box["height"] * self.rng.uniform(0.3, 0.7))

    async def click(self, selector: str, navigates: bool = False) -> float:
        """Move to an element and click it; returns the wall-clock time of the click."""
        log.debug("click %s%s", selector, " (navigates)" if navigates else "")
        await self.hover(selector)
        await self.pause(0.15, 0.6)
        for _ in range(3):
            # A busy machine can stall a smooth scroll mid-way and move the target from under the mouse: re-aim,
            # as a person does, rather than click whatever is there now.
            if await self.on_target(selector):
                break
            await self.hover(selector)
        waiter = asyncio.ensure_future(self.page.waitForNavigation({"timeout": 30000})) if navigates else None
        clicked_at = time.time()
        await self.page.mouse.down()
        await asyncio.sleep(self.rng.uniform(0.05, 0.13))
        await self.page.mouse.up()
        if waiter is not None:
            await waiter
            await self.settle()
        return clicked_at

    async def on_target(self, selector: str) -> bool:
        """Whether the mouse is over the element (read from the page, which it does not change)."""
        return bool(await self.evaluate(
            f"() => {{ const target = document.querySelector({json.dumps(selector)});"
            f" const under = document.elementFromPoint({self.x}, {self.y});"
            " return !target || (!!under && target.contains(under)); }", default=True))

    async def click_in_place(self, times: int = 3) -> int:
        """Click where the mouse is, several times in quick succession (a burst of frustration); returns how many."""
        for _ in range(times):
            await self.page.mouse.down()
            await asyncio.sleep(self.rng.uniform(0.04, 0.09))
            await self.page.mouse.up()
            await asyncio.sleep(self.rng.uniform(0.12, 0.3))
        return times

    async def click_again(self, selector: str) -> int:
        """Click a button that did nothing again, one to three more times, now and then in a burst; returns how many."""
        clicks = 0
        for _ in range(self.rng.randint(1, 3)):
            await self.pause(1.5, 4)
            if self.rng.random() < 0.5:
                clicks += await self.click_in_place(3)
            else:
                await self.click(selector)
                clicks += 1
        return clicks

    async def click_nth(self, selector: str, index: int, navigates: bool = False) -> float:
        """Click the index-th element matching selector."""
        tag = f"corpus-pick-{self.rng.randint(0, 10**9)}"
        await self.page.evaluate(
            "(sel, i, tag) => { const els = document.querySelectorAll(sel); els[Math.min(i, els.length - 1)].dataset.pick = tag; }",
            selector, index, tag)
        return await self.click(f'[data-pick="{tag}"]', navigates=navigates)

    # -- keyboard ---------------------------------------------------------------------------------------------
    async def type(self, selector: str, text: str, typo_chance: float = 0.04) -> None:
        """Click into a field and type with an uneven rhythm, fixing the odd typo."""
        await self.click(selector)
        for char in text:
            if char.isalpha() and self.rng.random() < typo_chance:
                await self.page.keyboard.type(self.rng.choice("asdfghjkl"))
                await asyncio.sleep(self.rng.uniform(0.15, 0.4))
                await self.page.keyboard.press("Backspace")
            await self.page.keyboard.type(char)
            delay = self.rng.uniform(0.06, 0.2)
            if char == " " and self.rng.random() < 0.2:
                delay += self.rng.uniform(0.3, 0.9)
            await asyncio.sleep(delay * self.quick)

    async def clear_and_type(self, selector: str, text: str) -> None:
        """Select a field's content, delete it, and type anew."""
        await self.click(selector)
        await self.page.evaluate("(sel) => document.querySelector(sel).select()", selector)
        await asyncio.sleep(self.rng.uniform(0.2, 0.5))
        await self.page.keyboard.press("Backspace")
        await self.type(selector, text, typo_chance=0.0)

    async def press(self, key: str, navigates: bool = False) -> None:
        """Press a key (Enter to submit a search, say)."""
        waiter = asyncio.ensure_future(self.page.waitForNavigation({"timeout": 30000})) if navigates else None
        await self.page.keyboard.press(key)
        if waiter is not None:
            await waiter
            await self.settle()

    # -- navigation -------------------------------------------------------------------------------------------
    async def goto(self, url: str) -> None:
        """Open a URL as if typed or followed from elsewhere."""
        await self.page.goto(url, {"waitUntil": "load", "timeout": 30000})
        await self.settle()

    async def back(self) -> None:
        """Browser back button."""
        log.debug("back from %s", self.page.url)
        await self.page.goBack({"waitUntil": "load", "timeout": 30000})
        await self.settle()

    async def settle(self) -> None:
        """Give a freshly loaded page a moment, as a person would before acting."""
        await asyncio.sleep(self.rng.uniform(0.6, 1.4) * max(self.pace, 0.5))

    async def wait_for(self, selector: str, timeout: float = 20.0) -> bool:
        """Wait until an element is visible; False on timeout."""
        log.debug("wait for %s", selector)
        # pyppeteer's own wait can hang when a navigation replaces the page under it, hence the outer timeout.
        try:
            await asyncio.wait_for(
                self.page.waitForSelector(selector, {"visible": True, "timeout": int(timeout * 1000)}), timeout + 2)
            return True
        except (PageTimeout, asyncio.TimeoutError):
            return False

    async def evaluate(self, script: str, default=None, timeout: float = 5.0):
        """Run a script in the page; `default` when the page is navigating away or does not answer."""
        try:
            return await asyncio.wait_for(self.page.evaluate(script), timeout)
        except Exception:  # mid-navigation the execution context disappears; the caller just polls again
            return default
