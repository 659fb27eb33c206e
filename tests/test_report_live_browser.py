"""End to end in Chromium with a real worker: a staff member creates a report from the Session admin action, the
report page shows its progress from the polled JSON and reloads itself with the ranked patterns when it ends."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from patterns.models import Report
from tests.browser_helpers import chromium, fetch_text, session_cookie, signed_in_page
from tests.page_helpers import member
from tests.report_helpers import shop_project, store_sessions
from tests.summary_sessions import dead_button_then_leave, payment_fails_and_user_leaves

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


async def page_state(page) -> dict:
    """What the report page shows now (None while it navigates)."""
    try:
        return await page.evaluate("""() => ({progress: !!document.getElementById('progress'),
            line: (document.getElementById('progress-line') || {}).textContent || '',
            patterns: [...document.querySelectorAll('.pattern-name')].map(e => e.textContent)})""")
    except Exception:  # the page reloads itself when the report ends
        return {}


async def drive(base: str, project_pk: int, cookie: str) -> dict:
    """Admin action on every session of the project, the intermediate page, then watch the report page."""
    seen: dict = {"lines": []}
    async with chromium() as browser:
        page = await signed_in_page(browser, base, cookie)
        await page.goto(f"{base}/admin/summaries/session/?project__id__exact={project_pk}", waitUntil="load")
        await page.click("#action-toggle")
        await page.select('select[name="action"]', "create_group_report")
        await asyncio.gather(page.waitForNavigation(), page.click('button[name="index"]'))
        seen["intermediate"] = await page.evaluate("() => document.querySelectorAll('#content li').length")
        await page.select('select[name="engine"]', "rules")
        await page.type('textarea[name="focus"]', "Where do buyers get stuck?")
        await asyncio.gather(page.waitForNavigation(), page.click('#create-report input[type="submit"]'))
        seen["url"] = page.url
        deadline = time.monotonic() + 90
        state: dict = {}
        while time.monotonic() < deadline:
            state = await page_state(page)
            if state.get("progress") and state["line"]:
                seen["lines"].append(state["line"])
            if state and not state.get("progress") and state.get("patterns"):
                break
            await asyncio.sleep(0.3)
        seen["final"] = state
        seen["progress_json"] = json.loads(await fetch_text(page, seen["url"].split("?")[0] + "progress.json"))
        seen["errors"] = page.errors
    return seen


def test_admin_action_to_a_finished_report_page(rules_worker, live_server) -> None:
    project = shop_project()
    store_sessions(project, [payment_fails_and_user_leaves] * 2 + [dead_button_then_leave] * 2)
    cookie = session_cookie(member(project.organization, staff=True))
    seen = asyncio.run(drive(live_server.url, project.pk, cookie))
    report = Report.objects.get(project=project)
    assert seen["intermediate"] == 4
    assert seen["url"].endswith(report.get_absolute_url())
    assert report.status == "succeeded" and report.trigger == "admin" and report.focus == "Where do buyers get stuck?"
    assert any("Payment" in name for name in seen["final"]["patterns"]), seen
    assert seen["progress_json"]["final"] is True and seen["progress_json"]["status"] == "succeeded"
    assert seen["errors"] == []
