"""One journey in progress on a sample app: the person's browser, the app's URL, the record being written."""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from corpus.browser import BrowserLog
from corpus.human import Shopper
from corpus.truth import JourneyRecord


@dataclass
class Visit:
    """The person (a Shopper driving the page), where the app lives, the record, the seeded rng, the browser's log."""

    shopper: Shopper
    app_url: str
    record: JourneyRecord
    rng: random.Random
    log: BrowserLog | None = None

    @property
    def faults(self) -> set[str]:
        """The faults injected into this session."""
        return set(self.record.spec.faults)

    @property
    def variant(self) -> str:
        """How the person reacts to a fault that leaves a choice (gives up, works around it, ...)."""
        return self.record.spec.variant

    def url(self, path: str) -> str:
        """An absolute URL of the app."""
        return self.app_url.rstrip("/") + path

    async def remember_session(self) -> None:
        """Note posthog-js's session id (it can only be read once posthog has loaded)."""
        page = self.shopper.page
        for _ in range(50):
            sid = await page.evaluate("() => window.posthog && window.posthog.get_session_id ? window.posthog.get_session_id() : null")
            if sid:
                if sid not in self.record.session_ids:
                    self.record.session_ids.append(sid)
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("posthog-js did not start on the page (no session id after 10 s)")

    async def leave(self) -> None:
        """Stop: let posthog-js flush, then close the tab's page as a person closes a tab."""
        await asyncio.sleep(2.5)
        await self.shopper.page.goto("about:blank")
        await asyncio.sleep(1.5)
