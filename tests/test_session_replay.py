"""The session page replays the whole recording with rrweb-player served by Recap: key actions as timeline markers
that seek, ?t=SECONDS deep links, the recording JSON escaped and for the organization's members only."""
from __future__ import annotations

import asyncio
import json

import pytest
from django.test import Client

from replay_render.sample import load_player_sample, store_recording
from summaries.models import SessionSummary
from tests.browser_helpers import chromium, session_cookie, signed_in_page
from tests.page_helpers import HOSTILE, member, organization, signed_in

MARKS = [(12.0, "blocking", "Pay failed " + HOSTILE), (40.0, None, "Opened the cart")]


def replay_session(org):
    """The rrweb-player sample recording (81 s) as a session of the org, with a summary flagging two key actions."""
    session = store_recording(org.projects.first(), "replay-1", load_player_sample())
    actions = [{"event_id": f"e{i}", "seconds_from_start": t, "exception": flag, "description": text,
                "abandonment": False, "confusion": False} for i, (t, flag, text) in enumerate(MARKS)]
    SessionSummary.objects.create(session=session, engine="rules", prompt_version="rules/x", input_hash="h",
                                  cache_key=f"k-{session.pk}", status="succeeded", summary={
                                      "rule_based": True, "stats": {}, "session_outcome": {"success": True},
                                      "segments": [{"index": 0, "name": "Shop", "outcome": {"success": True},
                                                    "key_actions": actions}]})
    return session


@pytest.mark.django_db
def test_the_page_loads_the_player_from_recap_and_the_recording_is_scoped() -> None:
    org = organization("Acme")
    session = replay_session(org)
    client = signed_in(member(org))
    response = client.get(f"/sessions/{session.pk}/summary/")
    assert "font-src 'self' data:" in response["Content-Security-Policy"]  # remote assets of the recording blocked
    page = response.content.decode()
    assert 'src="/assets/rrweb-player.js"' in page and 'href="/assets/rrweb-player.css"' in page
    assert "http://" not in page.split("<main>")[1].split("replay-markers")[0]  # no remote asset
    assert "Pay failed \\u003Cscript\\u003E" in page  # markers are data inside json_script, escaped
    script = client.get("/assets/rrweb-player.js")
    assert script.status_code == 200 and b"rrwebPlayer" in script.content
    assert client.get("/assets/other.js").status_code == 404
    body = client.get(f"/sessions/{session.pk}/recording.json").content.decode()
    data = json.loads(body)
    assert len(data["events"]) == len(load_player_sample()) and "<" not in body
    url = f"/sessions/{session.pk}/recording.json"
    assert signed_in(member(organization("Globex"))).get(url).status_code == 404
    for target in (url, "/assets/rrweb-player.js"):
        anonymous = Client().get(target)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


async def drive(base: str, url: str, cookie: str) -> dict:
    """Open the replay at ?t=30, then click the marker at 40 s; report the replayer's time after each."""
    async with chromium() as browser:
        page = await signed_in_page(browser, base, cookie)
        requested: list[str] = []
        page.on("requestfinished", lambda request: requested.append(request.url))  # the recording names a web font
        await page.goto(f"{base}{url}?t=30", waitUntil="load")
        await page.waitForFunction("() => window.recapReplay && document.querySelector('.rr-player')", timeout=20000)
        now = "() => (window.recapReplay.sessionStart - window.recapReplay.first) / 1000 + " \
              "window.recapReplay.player.getReplayer().getCurrentTime() / 1000"
        seen = {"deep_link": await page.evaluate(now)}
        seen["markers"] = await page.evaluate("() => [...document.querySelectorAll('#replay-markers-bar button')]"
                                              ".map(b => [Number(b.dataset.t), b.className])")
        await page.click('#replay-markers-bar button[data-t="40"]')
        await asyncio.sleep(0.3)
        seen["marker"] = await page.evaluate(now)
        seen["errors"] = page.errors
        seen["remote"] = [u for u in requested if not u.startswith((base, "data:", "blob:", "about:"))]
    return seen


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_replay_deep_link_and_markers_seek_in_chromium(live_server) -> None:
    org = organization("Acme")
    session = replay_session(org)
    seen = asyncio.run(drive(live_server.url, f"/sessions/{session.pk}/summary/", session_cookie(member(org))))
    assert seen["markers"] == [[12, "blocking"], [40, "action"]]
    assert abs(seen["deep_link"] - 30) < 1.0, seen
    assert abs(seen["marker"] - 40) < 1.0, seen
    assert seen["errors"] == [] and seen["remote"] == []
