"""Rule-based validation on the bundled sample corpus (real posthog-js recordings with known truth)."""
from __future__ import annotations

import copy
import gzip
import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from replay_render.validation import validate_summary
from replay_render.validation.verdict import CONFIRMED, DENIED
from summaries.models import Organization, Project, Session, SessionSummary
from summaries.summarize import summarize_session
from tests.conftest import ROOT

SAMPLE = Path(os.environ.get("RECAP_SAMPLE_DATA", ROOT / "sample_data"))
SESSIONS, LABELS = SAMPLE / "sessions.jsonl.gz", SAMPLE / "labels.jsonl"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (SESSIONS.exists() and LABELS.exists()), reason="the sample corpus has not been generated"),
]


def first(labels: list[dict], test) -> dict:
    """The first labelled session matching a condition."""
    found = next((label for label in labels if test(label)), None)
    assert found is not None, "the corpus lacks a session this test needs"
    return found


@pytest.fixture
def corpus(db, tmp_path) -> dict[str, tuple[Session, dict]]:
    """Three corpus sessions: the payment API failing, confusing validation given up, the same validation got past."""
    labels = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    chosen = {
        "payment": first(labels, lambda lab: lab["outcome"] == "failed"
                         and any(b["kind"] == "payment_500" for b in lab["blocking"])),
        "validation": first(labels, lambda lab: lab["outcome"] == "abandoned"
                            and any(b["kind"] == "confusing_validation" for b in lab["blocking"])),
        "got_past": first(labels, lambda lab: lab["outcome"] == "completed" and lab["journey"] == "buy_product"
                          and any(b["kind"] == "confusing_validation" for b in lab["non_blocking"])),
    }
    wanted = {lab["session_id"] for lab in chosen.values()}
    subset = tmp_path / "subset.jsonl"
    with gzip.open(SESSIONS, "rt") as src, subset.open("w") as dst:
        for line in src:
            if (json.loads(line).get("properties") or {}).get("$session_id") in wanted:
                dst.write(line)
    org = Organization.objects.create(name="Corpus", slug="corpus")
    project = Project.objects.create(organization=org, name="Shop")
    call_command("import_sessions", str(subset), "--project", str(project.pk), "--no-progress", stdout=StringIO())
    return {name: (Session.objects.get(session_id=lab["session_id"]), lab) for name, lab in chosen.items()}


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
