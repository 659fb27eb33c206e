"""The project overview page: sessions with what blocked users first, members of the organization only."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from summaries.analysis.rules import RULES_VERSION
from summaries.models import Membership, Organization, Project, Session, SessionSummary, ms_to_datetime

pytestmark = pytest.mark.django_db


def summary_json(success: bool, actions: list[dict]) -> dict:
    return {
        "rule_based": True,
        "segments": [{"index": 0, "name": "Checkout", "key_actions": actions}],
        "session_outcome": {"success": success, "description": "Tried to pay" if not success else "Bought a lamp"},
        # Every summary carries its stats (summaries.analysis.schema); the page's totals are counted from them.
        "stats": {"blocking_count": sum(1 for a in actions if a.get("exception") == "blocking"),
                  "validated_count": sum(1 for a in actions if a.get("validation"))},
    }


def add_session(project: Project, sid: str, start_ms: int, summary: dict | None, version: str = RULES_VERSION) -> Session:
    session = Session.objects.create(project=project, session_id=sid, start_time=ms_to_datetime(start_ms),
                                     duration_seconds=42, distinct_id=f"user-{sid}")
    if summary is not None:
        SessionSummary.objects.create(session=session, engine="rules", prompt_version=version, input_hash=sid,
                                      cache_key=f"k-{sid}", status="succeeded", summary=summary)
    return session


@pytest.fixture
def setup() -> tuple[Project, Client]:
    org = Organization.objects.create(name="Acme", slug="acme")
    project = Project.objects.create(organization=org, name="Shop")
    user = get_user_model().objects.create_user("ann", password="pw-ann-123")
    Membership.objects.create(user=user, organization=org, role="member")
    client = Client()
    client.force_login(user)
    return project, client


def test_blocking_sessions_come_first_with_their_verdicts(setup) -> None:
    project, client = setup
    add_session(project, "clean-one", 2_000_000, summary_json(True, []))
    blocked = add_session(project, "blocked-one", 1_000_000, summary_json(False, [
        {"event_id": "ab12cd34", "exception": "blocking", "seconds_from_start": 31.0, "timestamp_ms": 1_031_000,
         "description": "Payment failed with <b>500</b>",
         "validation": {"verdict": "confirmed", "evidence": {"rule_based": True, "clip_url": "/clips/7.webm"}}},
    ]))
    add_session(project, "unsummarized", 3_000_000, None)
    # Made by older rules: never shown as what Recap says now.
    add_session(project, "stale-one", 4_000_000, summary_json(False, [
        {"event_id": "ee12cd34", "exception": "blocking", "seconds_from_start": 5.0, "timestamp_ms": 4_005_000,
         "description": "An old false alarm", "validation": None}]), version="rules-000000000000")
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "An old false alarm" not in page
    assert page.index("blocked-one") < page.index("clean-one")
    assert "1</strong> with a blocking issue" in page
    assert "confirmed (rule-based)" in page and 'href="/clips/7.webm"' in page
    assert "Payment failed with &lt;b&gt;500&lt;/b&gt;" in page  # end-user text is escaped
    assert f'href="/sessions/{blocked.pk}/summary/"' in page
    assert "not summarized yet" in page
    assert "rule-based engine" in page


def test_other_organizations_cannot_see_the_project(setup) -> None:
    project, _ = setup
    outsider = get_user_model().objects.create_user("bob")
    Membership.objects.create(user=outsider, organization=Organization.objects.create(name="Other", slug="other"))
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert Client().get(f"/projects/{project.pk}/").status_code == 302  # anonymous: sign in first


def test_home_links_each_project(setup) -> None:
    project, client = setup
    page = client.get("/").content.decode()
    assert f'href="/projects/{project.pk}/"' in page and project.capture_token in page
