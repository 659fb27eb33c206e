"""Validating blocking issues without a video model: the rule-based validator reads the replay at the moment."""
from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from replay_render.models import Clip
from replay_render.sample import store_recording
from replay_render.validation import validate_summary
from replay_render.validation.rules import observe
from replay_render.validation.verdict import CONFIRMED, DENIED, INCONCLUSIVE, Observation, decide
from summaries.analysis.flows import MomentReading
from summaries.analysis.schema import SCHEMA_ID, recompute_stats
from summaries.models import Organization, Project, Session, SessionSummary
from tests.test_render_recorder import record_in_chromium

CHECKOUT = """<!doctype html><html><body style="font: 16px sans-serif">
<h1>Checkout</h1><div id="msg"></div>
<button id="pay" style="font-size:18px" onclick="document.getElementById('msg').innerHTML =
  '<p style=&quot;color:#c00&quot;>Payment failed: card declined. Please try again.</p>'">Pay now</button>
<button id="paypal" style="font-size:18px" onclick="document.body.innerHTML =
  '<h1>Thank you!</h1><p>Your order is confirmed.</p>'">Pay with PayPal</button>
</body></html>"""


async def _blocked(page: Any) -> None:
    """Pay, see the error, try again, give up."""
    await page.click("#pay")
    await asyncio.sleep(1.0)
    await page.click("#pay")  # tries again: same error
    await asyncio.sleep(0.6)


async def _worked_around(page: Any) -> None:
    """Pay, see the error, pay with PayPal instead."""
    await page.click("#pay")
    await asyncio.sleep(1.0)
    await page.click("#paypal")
    await asyncio.sleep(0.6)


@pytest.fixture(scope="module")
def blocked_events() -> list[dict]:
    """A real rrweb recording: the user pays, sees 'Payment failed', tries again, gives up."""
    return record_in_chromium(CHECKOUT, _blocked, viewport=(560, 320))


@pytest.fixture(scope="module")
def workaround_events() -> list[dict]:
    """A real rrweb recording: the payment fails, the user pays with PayPal and gets a confirmation."""
    return record_in_chromium(CHECKOUT, _worked_around, viewport=(560, 320))


def first_click_ms(events: list[dict]) -> int:
    """The moment of the first recorded click (rrweb MouseInteraction type Click)."""
    return next(e["timestamp"] for e in events if e["type"] == 3 and e["data"]["source"] == 2 and e["data"]["type"] == 2)


def make_summary(session: Session, moment_ms: int, *, url: str = "http://shop.test/checkout") -> SessionSummary:
    """A stored summary (schema recap.session_summary/1) with one blocking key action at `moment_ms`."""
    start, end = int(session.start_time.timestamp() * 1000), int(session.end_time.timestamp() * 1000)
    summary = recompute_stats({
        "schema": SCHEMA_ID, "engine": "rules", "rule_based": True, "label": "Rule-based summary (no LLM)",
        "model": "", "prompt_version": "test", "focus": "", "session_id": session.session_id,
        "session_start_ms": start, "session_end_ms": end, "session_duration_s": (end - start) / 1000,
        "segments": [{
            "index": 0, "name": "Pay for the order", "start_event_id": "e0000001", "end_event_id": "e0000002",
            "start_ms": start, "end_ms": end, "event_count": 4,
            "outcome": {"success": False, "summary": "The payment failed."},
            "key_actions": [{
                "event_id": "abcd1234", "event_uuid": None, "event": "click", "timestamp_ms": moment_ms,
                "seconds_from_start": (moment_ms - start) / 1000, "url": url,
                "description": "Clicked 'Pay now'; the payment API returned 402", "abandonment": False,
                "confusion": False, "exception": "blocking", "validation": None,
            }],
        }],
        "session_outcome": {"success": False, "description": "The user could not pay."},
        "grounding": {"referenced_ids": 3, "invented_ids": [], "invented_ratio": 0.0},
        "input": {"rows": 4, "token_count": 100, "input_hash": "x"},
    })
    key = hashlib.sha256(f"{session.pk}-{moment_ms}".encode()).hexdigest()
    return SessionSummary.objects.create(
        session=session, engine="rules", prompt_version="test", input_hash="x", cache_key=key,
        status=SessionSummary.Status.SUCCEEDED, summary=summary,
    )


@pytest.fixture
def project() -> Project:
    """An organization with one project."""
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Shop")


def only_action(summary: SessionSummary) -> tuple[dict, dict]:
    """The summary's single segment and key action, fresh from the database."""
    summary.refresh_from_db()
    segment = summary.summary["segments"][0]
    return segment, segment["key_actions"][0]


@pytest.mark.django_db
@pytest.mark.browser
def test_rule_validator_confirms_an_error_the_user_could_not_get_past(project: Project, blocked_events) -> None:
    session = store_recording(project, "blocked-1", blocked_events)
    summary = make_summary(session, first_click_ms(blocked_events))

    [outcome] = validate_summary(summary, model="")
    assert outcome.state == "validated" and outcome.verdict == CONFIRMED

    segment, action = only_action(summary)
    validation = action["validation"]
    assert validation["verdict"] == CONFIRMED
    evidence = validation["evidence"]
    assert evidence["rule_based"] is True and evidence["method"] == "rule-based"
    assert evidence["description"].startswith("Rule-based validation")
    assert "Payment failed: card declined" in evidence["description"]
    assert action["exception"] == "blocking"
    assert segment["outcome"]["success"] is False and summary.summary["session_outcome"]["success"] is False
    clip = Clip.objects.get(pk=evidence["clip_id"])
    assert clip.state == Clip.State.DONE and evidence["clip_url"] == f"/clips/{clip.pk}.webm"
    assert summary.summary["stats"]["validated_count"] == 1 and summary.validated_at is not None


@pytest.mark.django_db
@pytest.mark.browser
def test_a_workaround_makes_the_issue_non_blocking_not_nothing(project: Project, workaround_events) -> None:
    session = store_recording(project, "workaround-1", workaround_events)
    summary = make_summary(session, first_click_ms(workaround_events))

    [outcome] = validate_summary(summary, model="")
    assert outcome.verdict == DENIED

    segment, action = only_action(summary)
    assert action["exception"] == "non-blocking"  # not None: the failure still happened
    assert "completed the flow" in action["description"]
    assert segment["outcome"]["success"] is True
    signals = action["validation"]["evidence"]["observation"]["signals"]
    assert signals["completed"] is True and "Payment failed: card declined. Please try again." in signals["new_error_lines"]
    assert action["validation"]["previous"]["key_action.exception"] == "blocking"
    assert summary.summary["stats"]["blocking_count"] == 0 and summary.summary["stats"]["non_blocking_count"] == 1


@pytest.mark.django_db
@pytest.mark.browser
def test_a_clip_that_cannot_render_leaves_the_issue_unvalidated(project: Project, blocked_events) -> None:
    session = store_recording(project, "broken-1", [e for e in blocked_events if e["type"] != 2])
    summary = make_summary(session, first_click_ms(blocked_events))

    [outcome] = validate_summary(summary, model="")
    assert outcome.state == "clip_failed" and "FullSnapshot" in outcome.reason
    _, action = only_action(summary)
    assert action["validation"] is None and action["exception"] == "blocking"
    assert summary.validated_at is None


def test_verdicts_never_erase_an_issue() -> None:
    action = {"description": "Clicked pay", "exception": "blocking"}
    for observation in (
        Observation("went on", workaround=True),
        Observation("finished", completed=True, error_visible=True, error_text="Card declined"),
        Observation("all fine", user_blocked="no"),
    ):
        verdict = decide(observation, action)
        assert verdict.verdict == DENIED
        assert verdict.changes["key_action.exception"] == "non-blocking"
    assert decide(Observation("static - no user activity", static=True, user_blocked="yes"), action).changes == {}
    stuck = decide(Observation("static", static=True, user_blocked="yes", error_visible=True, error_text="Declined"), action)
    assert stuck.verdict == CONFIRMED
    confirmed = decide(Observation("error", user_blocked="yes", error_visible=True, error_text="Card declined"),
                       action, last_segment=True)
    assert confirmed.verdict == CONFIRMED and "key_action.exception" not in confirmed.changes
    assert confirmed.changes["session_outcome.success"] is False


def test_rules_read_page_text_and_the_users_flow() -> None:
    stuck = MomentReading("error_text", False, "left for /home", 2)
    texts = [{"t": 1000, "text": "Checkout\nPay now"}, {"t": 3000, "text": "Checkout\nSomething went wrong\nPay now"}]
    blocked = observe(2000, texts, [], stuck)
    assert blocked.user_blocked == "yes" and blocked.error_text == "Something went wrong"
    verdict = decide(blocked, {"description": "pay"})
    assert verdict.verdict == CONFIRMED and "replay's page text" in verdict.reason
    assert not any(claim in verdict.reason + blocked.description for claim in ("video shows", "video model saw"))

    # New error text, but the same thing worked later: denied, whatever the words say.
    through = MomentReading("error_text", True, "a later attempt worked: went on to /order/:id", 2)
    assert decide(observe(2000, texts, [], through), {"description": "pay"}).verdict == DENIED

    # Numbers inside amounts are not statuses; a widget's tip is not an error.
    amounts = [{"t": 1000, "text": "Angebot"}, {"t": 3000, "text": "Angebot\nSumme 4,500.00 €\n€ 503,00\nHTTP/2 200"}]
    tip = [{"t": 1000, "text": "Kunden"}, {"t": 3000, "text": "Kunden\nTip: check your filters to find customers"}]
    for page_texts in (amounts, tip):
        calm = observe(2000, page_texts, [], stuck)
        assert not calm.error_visible and decide(calm, {"description": "save"}).verdict == INCONCLUSIVE

    # Error words that were on the page all along (a help link) are not evidence.
    furniture = [{"t": 1000, "text": "Checkout\nReport an error"}, {"t": 3000, "text": "Checkout\nReport an error\nPaid"}]
    assert not observe(2000, furniture, [], stuck).error_visible

    # A control that never reacted: one click is enough when the page stays the same for seconds.
    dead = MomentReading("dead_click", False, "left for /angebote", 1)
    still = [{"t": 1000 + i * 1000, "text": "Kunde 1024\nExport"} for i in range(8)]
    click = [{"type": 3, "timestamp": 2000, "data": {"source": 2, "type": 2, "x": 10, "y": 10}}]
    seen = observe(2000, still, click, dead)
    assert decide(seen, {"description": "export"}).verdict == CONFIRMED and "did not change for" in seen.description

    quiet = observe(2000, [{"t": 1000, "text": "Checkout"}], [], MomentReading("", False, "nothing failed", 0))
    assert quiet.static and decide(quiet, {"description": "pay"}).verdict == INCONCLUSIVE


@pytest.mark.django_db
@pytest.mark.browser
def test_command_validates_and_deleting_the_session_removes_clip_files(project: Project, blocked_events, capsys) -> None:
    from django.core.management import call_command

    session = store_recording(project, "command-1", blocked_events)
    summary = make_summary(session, first_click_ms(blocked_events))
    call_command("validate_blocking_issues", str(summary.pk))
    assert "abcd1234: confirmed" in capsys.readouterr().out
    call_command("validate_blocking_issues", str(summary.pk))
    assert "nothing to validate" in capsys.readouterr().out

    clip = Clip.objects.get(session=session)
    storage, name = clip.file.storage, clip.file.name
    assert storage.exists(name)
    session.delete()
    assert not Clip.objects.exists() and not storage.exists(name)
