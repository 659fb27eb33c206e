"""The session page embeds the clip each validated issue was checked on."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from summaries.models import Membership, Organization, Project, Session, SessionSummary, ms_to_datetime

pytestmark = pytest.mark.django_db


def test_validated_issue_shows_its_clip_and_how_it_was_judged() -> None:
    org = Organization.objects.create(name="Acme", slug="acme")
    session = Session.objects.create(project=Project.objects.create(organization=org, name="Shop"), session_id="s1",
                                     start_time=ms_to_datetime(1_000_000))
    action = {"event_id": "ab12cd34", "exception": "blocking", "seconds_from_start": 12.0, "timestamp_ms": 1_012_000,
              "description": "Payment failed", "abandonment": True, "confusion": False,
              "validation": {"verdict": "confirmed", "evidence": {"rule_based": True, "clip_url": "/clips/9.webm",
                                                                   "description": "error text <visible>"}}}
    summary = {"rule_based": True, "label": "Rule-based summary (no LLM)", "stats": {},
               "segments": [{"index": 0, "name": "Checkout", "outcome": {"success": False, "summary": "failed"},
                             "key_actions": [action, {**action, "event_id": "ffff0000", "validation": None}]}],
               "session_outcome": {"success": False, "description": "Could not pay"}}
    SessionSummary.objects.create(session=session, engine="rules", prompt_version="rules/1", input_hash="h",
                                  cache_key="k", status="succeeded", summary=summary)
    user = get_user_model().objects.create_user("ann")
    Membership.objects.create(user=user, organization=org)
    client = Client()
    client.force_login(user)
    page = client.get(f"/sessions/{session.pk}/summary/").content.decode()
    assert page.count("<video") == 1 and 'src="/clips/9.webm"' in page
    assert "Rule-based validation: error text &lt;visible&gt;" in page
