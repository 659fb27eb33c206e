"""Play journeys against a running sample app, several at once, each in its own incognito browser context."""
from __future__ import annotations

import asyncio
import json
import random
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from corpus.apps import SHOP, CorpusApp
from corpus.browser import launch_browser, new_shopper_page
from corpus.human import Shopper
from corpus.truth import JourneyRecord, JourneySpec

JOURNEY_TIMEOUT = 15 * 60


async def play(browser, app_url: str, spec: JourneySpec, app: CorpusApp = SHOP) -> JourneyRecord:
    """Play one journey in a fresh incognito context and return what happened."""
    record = JourneyRecord(spec=spec, started_at=time.time())
    page, log, context = await new_shopper_page(browser, app_url, app.fault_cookie(spec), app.fault_cookie_name)
    rng = random.Random(spec.seed)
    visit = app.visit_class(Shopper(page, rng, pace=spec.pace), app_url, record, rng, log)
    try:
        await asyncio.wait_for(app.journeys[spec.journey](visit), timeout=JOURNEY_TIMEOUT)
        await visit.remember_session()
        await visit.leave()
    except Exception as exc:  # one broken journey must not stop the others; it is reported and left out
        record.error = f"{type(exc).__name__}: {exc} (page: {page.url})\n{traceback.format_exc(limit=4)}"
    finally:
        record.ended_at = time.time()
        log.close()
        record.observations = list(log.observations)
        try:
            await context.close()
        except Exception:  # the browser may already be gone
            pass
    return record


async def play_all(app_url: str, specs: list[JourneySpec], parallel: int = 6,
                   on_done: Callable[[JourneyRecord], None] | None = None, app: CorpusApp = SHOP) -> list[JourneyRecord]:
    """Play every spec, `parallel` at a time, each worker with its own browser; records in spec order."""
    queue: asyncio.Queue[tuple[int, JourneySpec]] = asyncio.Queue()
    for item in enumerate(specs):
        queue.put_nowait(item)
    results: dict[int, JourneyRecord] = {}

    async def worker(slot: int) -> None:
        """One browser playing queued journeys one after another."""
        # Start the workers a little apart so sessions do not all begin on the same second.
        await asyncio.sleep(slot * 3.0)
        browser = await launch_browser()
        try:
            while not queue.empty():
                index, spec = queue.get_nowait()
                record = await play(browser, app_url, spec, app)
                results[index] = record
                if on_done:
                    on_done(record)
        finally:
            await browser.close()

    await asyncio.gather(*(worker(i) for i in range(max(1, min(parallel, len(specs))))))
    return [results[i] for i in range(len(specs))]


def write_records(path: Path, records: list[JourneyRecord]) -> None:
    """Write journey records as JSONL."""
    path.write_text("".join(json.dumps(r.to_json()) + "\n" for r in records))


def read_records(path: Path) -> list[JourneyRecord]:
    """Read journey records written by write_records."""
    return [JourneyRecord.from_json(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
