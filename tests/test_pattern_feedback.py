"""Feedback on patterns: thumbs up or "not an issue" with who and when; "not an issue" collapses the fingerprint in
later reports of the project (never deletes it, and it can be shown); members of the organization only."""
from __future__ import annotations

import pytest
from django.test import Client

from patterns.models import PatternFeedback
from tests.page_helpers import finished_report, member, organization, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """Organization Acme with one project."""
    return organization("Acme")


def card(page: str, pattern_pk: int) -> str:
    """The HTML of one pattern card."""
    start = page.index(f'id="pattern-{pattern_pk}"')
    end = page.find('<div class="card pattern', start)
    return page[start:end if end > 0 else len(page)]


def test_thumbs_up_is_stored_with_who_and_when_and_can_be_taken_back(org) -> None:
    report = finished_report(org, patterns=2, examples=1)
    pattern = report.patterns.get(rank=1)
    user = member(org, "ann")
    client = signed_in(user)
    response = client.post(f"/reports/{report.pk}/patterns/{pattern.pk}/feedback",
                           {"verdict": "useful", "next": f"/reports/{report.pk}/?kind=all"})
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/?kind=all#pattern-{pattern.pk}"
    feedback = PatternFeedback.objects.get()
    assert (feedback.user, feedback.verdict, feedback.fingerprint, feedback.project_id) == (
        user, "useful", pattern.fingerprint, report.project_id) and feedback.created_at
    html = card(client.get(report.get_absolute_url()).content.decode(), pattern.pk)
    assert 'value="useful" aria-pressed="true"' in html and "Useful (1)" in html and "Take back" in html
    client.post(f"/reports/{report.pk}/patterns/{pattern.pk}/feedback", {"verdict": "", "next": "https://evil.example/"})
    assert not PatternFeedback.objects.exists()
    assert client.post(f"/reports/{report.pk}/patterns/{pattern.pk}/feedback", {"verdict": "meh"}).status_code == 400


def test_not_an_issue_collapses_the_fingerprint_in_later_reports_of_the_project(org) -> None:
    first = finished_report(org, patterns=2, examples=1, title="First")
    client = signed_in(member(org, "ann"))
    flagged = first.patterns.get(rank=1)
    client.post(f"/reports/{first.pk}/patterns/{flagged.pk}/feedback", {"verdict": "not_an_issue"})
    later = finished_report(org, patterns=2, examples=1, title="Later")
    other_project = finished_report(organization("Globex"), patterns=2, examples=1)
    page = client.get(later.get_absolute_url()).content.decode()
    same = later.patterns.get(fingerprint=flagged.fingerprint)
    html = card(page, same.pk)
    assert '<details class="dismissal">' in html and "marked “not an issue” by ann" in html
    assert "Pattern 1 blocking" in html  # collapsed, still there: opening the details shows it
    assert '<details class="dismissal">' not in card(page, later.patterns.get(rank=2).pk)
    theirs = signed_in(member(other_project.organization)).get(other_project.get_absolute_url()).content.decode()
    assert '<details class="dismissal">' not in theirs


def test_feedback_is_org_scoped(org) -> None:
    report = finished_report(org, patterns=1, examples=1)
    pattern = report.patterns.get()
    url = f"/reports/{report.pk}/patterns/{pattern.pk}/feedback"
    assert signed_in(member(organization("Globex"))).post(url, {"verdict": "useful"}).status_code == 404
    anonymous = Client().post(url, {"verdict": "useful"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    other = finished_report(org, patterns=1, examples=1)
    wrong = f"/reports/{report.pk}/patterns/{other.patterns.get().pk}/feedback"
    assert signed_in(member(org)).post(wrong, {"verdict": "useful"}).status_code == 404
    assert signed_in(member(org)).get(url).status_code == 405
    assert not PatternFeedback.objects.exists()
