"""Rule-based validation on the bundled sample corpus (real posthog-js recordings with known truth)."""
from __future__ import annotations

import copy

import pytest

from replay_render.validation import validate_summary
from replay_render.validation.verdict import CONFIRMED, DENIED
from summaries.models import Session, SessionSummary
from summaries.summarize import summarize_session
from tests.corpus_sessions import HAVE_CORPUS, corpus_labels, first_label, import_labelled

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CORPUS, reason="the sample corpus has not been generated"),
]


@pytest.fixture
def corpus(db, tmp_path) -> dict[str, tuple[Session, dict]]:
    """Three corpus sessions: the payment API failing, confusing validation given up, the same validation got past."""
    labels = corpus_labels()
    chosen = {
        "payment": first_label(labels, lambda lab: lab["outcome"] == "failed"
                               and any(b["kind"] == "payment_500" for b in lab["blocking"])),
        "validation": first_label(labels, lambda lab: lab["outcome"] == "abandoned"
                                  and any(b["kind"] == "confusing_validation" for b in lab["blocking"])),
        "got_past": first_label(labels, lambda lab: lab["outcome"] == "completed" and lab["journey"] == "buy_product"
                                and any(b["kind"] == "confusing_validation" for b in lab["non_blocking"])),
    }
    sessions = import_labelled(chosen, tmp_path)
    return {name: (sessions[name], lab) for name, lab in chosen.items()}


def verdicts(summary: SessionSummary) -> list[dict]:
    """The validated key actions of a summary, fresh from the database."""
    summary.refresh_from_db()
    return [a for seg in summary.summary["segments"] for a in seg["key_actions"] if a.get("validation")]


def test_real_blocking_failures_are_confirmed_with_the_error_text(corpus) -> None:
    for name, quoted in (("payment", "Payment failed"), ("validation", "Please check your details.")):
        session, label = corpus[name]
        summary = summarize_session(session, engine="rules")
        assert summary.blocking_key_actions, f"the rule engine flagged nothing blocking in the {name} session"
        validate_summary(summary, model="")
        [action] = verdicts(summary)
        assert action["validation"]["verdict"] == CONFIRMED, action["validation"]["evidence"]["description"]
        assert quoted in action["validation"]["evidence"]["description"]
        assert action["exception"] == "blocking"
        truth = label["blocking"][0]["t"]
        assert abs(action["seconds_from_start"] - truth) < 5  # the clip was cut around the real failure


def test_a_false_alarm_on_a_problem_the_user_got_past_is_denied_not_erased(corpus) -> None:
    """An over-eager summary calls the confusing form blocking; the replay shows the order went through."""
    session, label = corpus["got_past"]
    truth = label["non_blocking"][0]["t"]
    rules = summarize_session(session, engine="rules")
    content = copy.deepcopy(rules.summary)
    actions = [a for seg in content["segments"] for a in seg["key_actions"]]
    claimed = min(actions, key=lambda a: abs(a["seconds_from_start"] - truth))
    claimed["exception"] = "blocking"
    over_eager = SessionSummary.objects.create(
        session=session, engine="llm", model="over-eager", prompt_version="test", input_hash="x",
        cache_key=f"over-eager-{session.pk}", status=SessionSummary.Status.SUCCEEDED, summary=content,
    )
    validate_summary(over_eager, model="")
    [action] = verdicts(over_eager)
    assert action["event_id"] == claimed["event_id"]
    assert action["validation"]["verdict"] == DENIED
    assert action["exception"] == "non-blocking"  # the confusing form stays on record
    assert action["validation"]["evidence"]["observation"]["completed"] is True
