"""The report page and the admin show a report to its organization only; the JSON points at the page."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from patterns.models import Pattern, PatternExample, Report
from patterns.report_json import SCHEMA_ID, report_json
from summaries.models import Membership, Organization, Project, Session

pytestmark = pytest.mark.django_db


def make_report(org_name: str) -> Report:
    """A finished report with one pattern and one example in a new organization."""
    org = Organization.objects.create(name=org_name, slug=org_name.lower())
    project = Project.objects.create(organization=org, name=f"{org_name} app")
    session = Session.objects.create(project=project, session_id=f"{org_name}-session-1", start_time=timezone.now())
    report = Report.objects.create(organization=org, project=project, title=f"{org_name} weekly", status="succeeded",
                                   phase="done", sessions_analysed=4, message="1 pattern (1 blocking) in 4 sessions.")
    pattern = Pattern.objects.create(report=report, rank=1, fingerprint="rules:blocking:abc", name="Checkout pay request fails",
                                     description="Rule-based: the payment request failed.", severity="critical",
                                     kind="blocking", indicators=["POST /api/pay answers 5xx", "on /checkout"],
                                     rule_based=True, occurrences=3, sessions_affected=2, share_of_sessions=0.5,
                                     segment_success_ratio=0.0)
    PatternExample.objects.create(pattern=pattern, session=session, event_id="ab12cd34", timestamp=timezone.now(),
                                  seconds_from_start=51.2, kind="blocking", description="Request failed: /api/pay 500",
                                  before=[{"event_id": "00aa11bb", "seconds_from_start": 50.0,
                                           "description": "Submitted the payment form", "flag": ""}])
    return report


def member(org: Organization, name: str, staff: bool = False):
    """A user belonging to an organization (optionally staff allowed to view reports in the admin)."""
    user = get_user_model().objects.create_user(name, f"{name}@example.com", "pw-12345-long", is_staff=staff)
    Membership.objects.create(user=user, organization=org)
    if staff:
        user.user_permissions.add(*Permission.objects.filter(codename__in=["view_report", "view_pattern",
                                                                           "view_patternexample"]))
    return user


def test_members_see_the_ranked_patterns_and_nobody_else_learns_the_report_exists():
    ours, theirs = make_report("Acme"), make_report("Globex")
    assert ours.get_absolute_url() == f"/reports/{ours.pk}/"
    client = Client()
    assert client.get(ours.get_absolute_url()).status_code == 302  # sign in first
    client.force_login(member(ours.organization, "ann"))
    page = client.get(ours.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "Checkout pay request fails" in text and "Acme-session-1" in text and "Submitted the payment form" in text
    assert "rule-based" in text
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get("/reports/999999/").status_code == 404


def test_the_admin_lists_only_the_staff_members_organizations():
    ours, theirs = make_report("Acme"), make_report("Globex")
    client = Client()
    client.force_login(member(ours.organization, "bob", staff=True))
    listing = client.get("/admin/patterns/report/").content.decode()
    assert "Acme weekly" in listing and "Globex weekly" not in listing
    assert client.get(f"/admin/patterns/report/{theirs.pk}/change/").status_code in (302, 404)
    patterns = client.get("/admin/patterns/pattern/").content.decode()
    assert patterns.count("Checkout pay request fails") == 1
    assert client.get("/admin/patterns/patternexample/").status_code == 200


def test_the_json_is_the_documented_schema_with_the_page_url(settings):
    settings.RECAP_BASE_URL = "https://recap.example.com"
    report = make_report("Acme")
    data = report_json(report)
    assert data["schema"] == SCHEMA_ID
    assert data["report"]["url"] == f"https://recap.example.com/reports/{report.pk}/"
    (pattern,) = data["patterns"]
    assert pattern["stats"] == {"occurrences": 3, "sessions_affected": 2, "share_of_sessions": 0.5,
                                "segment_success_ratio": 0.0, "examples": 1,
                                "validated": {"confirmed": 0, "denied": 0, "inconclusive": 0}, "validated_share": 0.0}
    (example,) = pattern["examples"]
    assert example["session_id"] == "Acme-session-1" and example["seconds_from_start"] == 51.2
    assert example["before"][0]["event_id"] == "00aa11bb" and example["verdict"] is None
