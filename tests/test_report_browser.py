"""The report page in a real Chromium, signed in as a member: filter, search, more examples, play a clip at the
moment, download and parse each export."""
from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile

from replay_render.models import Clip
from tests.browser_helpers import chromium, fetch_text, session_cookie, signed_in_page, tiny_webm
from tests.page_helpers import finished_report, member, organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def with_clip(report) -> Clip:
    """Give the first example of the first pattern a real rendered clip that starts 2 s before the moment."""
    example = report.patterns.get(rank=1).examples.order_by("timestamp", "pk").first()
    clip = Clip.objects.create(session=example.session, start_time=example.timestamp - timedelta(seconds=2),
                               end_time=example.timestamp + timedelta(seconds=4), fingerprint="b" * 64, state="done",
                               codec="vp8", duration_seconds=6)
    clip.file.save("clip.webm", ContentFile(tiny_webm()))
    example.clip = clip
    example.save()
    return clip


async def visible_names(page) -> list[str]:
    """Pattern names shown, in order."""
    return await page.evaluate("() => [...document.querySelectorAll('.pattern-name')].map(e => e.textContent)")


async def drive(base: str, url: str, card: str, cookie: str) -> dict:
    """Open the report, filter, search, show more, play the clip, download every export."""
    seen: dict = {}
    async with chromium() as browser:
        page = await signed_in_page(browser, base, cookie)
        await page.goto(base + url, waitUntil="load")
        seen["default"] = await visible_names(page)
        await asyncio.gather(page.waitForNavigation(), page.click('#kind-tabs a[data-kind="confusion"]'))
        seen["confusion"] = await visible_names(page)
        await asyncio.gather(page.waitForNavigation(), page.click('#kind-tabs a[data-kind="all"]'))
        await page.type('#find input[name="q"]', "pattern 5")
        await asyncio.gather(page.waitForNavigation(), page.click("#find button"))
        seen["search"] = await visible_names(page)
        await page.goto(base + url, waitUntil="load")
        count = f"() => document.querySelectorAll('{card} .example:not([hidden])').length"
        seen["shown"] = [await page.evaluate(count)]
        await page.click(f"{card} button.more")
        seen["shown"].append(await page.evaluate(count))
        await page.evaluate(f"() => {{ const v = document.querySelector('{card} video'); v.muted = true; v.play(); }}")
        await page.waitForFunction(f"() => document.querySelector('{card} video').readyState >= 2", timeout=15000)
        first = await page.evaluate(f"() => document.querySelector('{card} video').currentTime")
        await page.waitForFunction(f"() => document.querySelector('{card} video').currentTime > {first} + 0.3",
                                   timeout=15000)
        seen["clip"] = (first, await page.evaluate(f"() => document.querySelector('{card} video').readyState"))
        links = await page.evaluate("() => [...document.querySelectorAll('.downloads a')].map(a => a.href)")
        seen["exports"] = {link.rsplit(".", 1)[1]: await fetch_text(page, link) for link in links}
        seen["errors"] = page.errors
    return seen


def test_member_filters_searches_plays_a_clip_and_downloads_exports(live_server) -> None:
    report = finished_report(organization("Acme"), patterns=6, examples=5)
    with_clip(report)
    card = "#pattern-%d" % report.patterns.get(rank=1).pk
    seen = asyncio.run(drive(live_server.url, report.get_absolute_url(), card, session_cookie(member(report.organization))))
    assert [n.split(".")[0] for n in seen["default"]] == ["1", "2", "6"]
    assert [n.split(".")[0] for n in seen["confusion"]] == ["4"]
    assert [n.split(".")[0] for n in seen["search"]] == ["5"]
    assert seen["shown"] == [3, 5]
    assert seen["clip"][0] >= 1.9 and seen["clip"][1] >= 2  # starts at the moment (2 s into the clip)
    assert json.loads(seen["exports"]["json"])["report"]["id"] == report.pk
    assert len(list(csv.DictReader(io.StringIO(seen["exports"]["csv"])))) == 30
    assert seen["exports"]["md"].count("\n## ") == 6
    assert seen["errors"] == []


async def watch_running(base: str, url: str, cookie: str, advance, finish) -> dict:
    """Open a running report, let the progress advance, then end the report; the page redraws and then reloads."""
    seen: dict = {}
    loop = asyncio.get_running_loop()
    async with chromium() as browser:
        page = await signed_in_page(browser, base, cookie)
        await page.goto(base + url, waitUntil="load")
        seen["first"] = await page.evaluate("() => document.getElementById('progress-line').textContent")
        await loop.run_in_executor(None, advance)
        await page.waitForFunction("() => document.getElementById('progress-found').textContent.includes('<img')",
                                   timeout=10000)
        seen["injected"] = await page.evaluate("() => document.querySelectorAll('#progress img, #progress b').length")
        seen["sessions"] = await page.evaluate("() => document.querySelectorAll('#progress-sessions tr').length")
        await loop.run_in_executor(None, finish)
        seen["failures"] = ""
        for _ in range(50):  # the page reloads itself once the polled JSON says the report ended
            await asyncio.sleep(0.2)
            try:
                seen["failures"] = await page.evaluate(
                    "() => document.getElementById('progress') ? '' : document.getElementById('failures').textContent")
            except Exception:  # navigating
                continue
            if seen["failures"]:
                break
        seen["errors"] = page.errors
    return seen


def test_the_page_follows_a_running_report_then_lists_its_failures(live_server) -> None:
    from django.db import connection

    from patterns import progress
    from patterns.models import Report

    report = finished_report(organization("Acme"), patterns=2, examples=2)
    Report.objects.filter(pk=report.pk).update(status="running", phase="summarizing", finished_at=None)
    progress.set_phase(report.pk, "summaries", total=4)

    def advance() -> None:
        progress.session_state(report.pk, {"s-1": "summarized", "s-2 <b>bold</b>": "failed: <img src=x>"})
        progress.found(report.pk, ['Pay fails <img src=x onerror="window.pwned=1">'])

    def finish() -> None:
        Report.objects.filter(pk=report.pk).update(status="partial", message="1 summary failed.")
        connection.close()

    try:
        seen = asyncio.run(watch_running(live_server.url, report.get_absolute_url(),
                                         session_cookie(member(report.organization)), advance, finish))
    finally:
        progress.clear(report.pk)
    assert seen["first"].startswith("summaries: 0/4")
    assert seen["injected"] == 0 and seen["sessions"] == 2  # end-user text drawn as text
    assert "timeout <b>" in seen["failures"] and seen["errors"] == []
