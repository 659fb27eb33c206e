"""Cache honesty: results carry a version derived from the code that made them, and older ones are not current."""
from __future__ import annotations

import pytest

from summaries.analysis.rules import RULES_VERSION
from summaries.analysis.versions import code_version
from summaries.models import Organization, Project, SessionSummary
from summaries.prompts import PROMPT_VERSION
from summaries.summarize import latest_summary, summarize_session
from tests.summary_sessions import payment_fails_and_user_leaves


def test_a_change_to_the_code_or_a_template_gives_a_new_version(tmp_path) -> None:
    (tmp_path / "rules.py").write_text("THRESHOLD = 5\n")
    (tmp_path / "prompt.txt").write_text("Summarize the session.\n")
    before = code_version("t", str(tmp_path))
    assert code_version("t", str(tmp_path)) == before
    (tmp_path / "prompt.txt").write_text("Summarize the session briefly.\n")
    code_version.cache_clear()
    assert code_version("t", str(tmp_path)) != before
    assert RULES_VERSION.startswith("rules-") and PROMPT_VERSION.startswith("session-summary-")
    assert RULES_VERSION != "rules-v1" and len(RULES_VERSION) == len("rules-") + 12


@pytest.mark.django_db
def test_a_summary_made_by_older_rules_is_never_served_as_current() -> None:
    project = Project.objects.create(organization=Organization.objects.create(name="A", slug="a"), name="Shop")
    session = payment_fails_and_user_leaves().store(project)
    old = summarize_session(session, engine="rules")
    SessionSummary.objects.filter(pk=old.pk).update(prompt_version="rules-0123456789ab", cache_key="old")
    assert latest_summary(session) is None
    assert not SessionSummary.objects.get(pk=old.pk).is_current
    fresh = summarize_session(session, engine="rules")
    assert fresh.pk != old.pk and fresh.prompt_version == RULES_VERSION and fresh.is_current
    assert latest_summary(session) == fresh
