"""The project page a page at a time, its Reports tab (paginated, no query per row) and the "New report" form."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from patterns.models import Pattern, Report
from summaries.models import Session
from tests.page_helpers import HOSTILE, finished_report, member, organization, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """An organization with one project."""
    return organization("Acme")


def test_the_sessions_tab_pages_with_a_fixed_number_of_queries(org, django_assert_max_num_queries) -> None:
    project = org.projects.first()
    now = timezone.now()
    Session.objects.bulk_create([Session(project=project, session_id=f"s-{i:03d}", start_time=now - timedelta(minutes=i))
                                 for i in range(120)])
    client = signed_in(member(org))
    client.get(f"/projects/{project.pk}/")
    with django_assert_max_num_queries(12):
        page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "s-000" in page and "s-049" in page and "s-050" not in page and "page 1 of 3 (120)" in page
    assert "<strong>120</strong> sessions" in page and f'href="/projects/{project.pk}/reports/"' in page
    page = client.get(f"/projects/{project.pk}/", {"page": 3}).content.decode()
    assert "s-119" in page and "s-000" not in page


def test_the_reports_tab_lists_reports_with_their_top_pattern(org, django_assert_max_num_queries) -> None:
    for i in range(24):
        Report.objects.create(organization=org, project=org.projects.first(), title=f"Old {i}", status="succeeded")
    report = finished_report(org, patterns=3, examples=1, title=f"Weekly {HOSTILE}")
    client = signed_in(member(org))
    url = f"/projects/{report.project_id}/reports/"
    client.get(url)
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    table = page[page.index('<table id="reports">'):]
    assert table.count("<tr>") == 21 and "page 1 of 2 (25)" in page  # header + 20 rows
    assert f'href="/reports/{report.pk}/"' in page and "<script>alert" not in page
    top = Pattern.objects.get(report=report, rank=1)
    assert f"{top.severity}</span> Pattern 1 blocking &lt;script&gt;" in page
    assert "Old 0" in client.get(url, {"page": 2}).content.decode()


def test_the_new_report_form_creates_and_starts_a_report(org) -> None:
    project = org.projects.first()
    user = member(org)
    client = signed_in(user)
    response = client.post(f"/projects/{project.pk}/reports/", {
        "range": "24h", "url_contains": "/checkout", "min_active_seconds": "5", "focus": "Why do  payments fail?",
        "engine": "rules"})
    report = Report.objects.get(project=project)
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    assert report.trigger == "page" and report.created_by == user and report.engine == "rules"
    assert report.status == "queued" and report.run == 1  # started like the admin and the command do
    assert report.url_contains == "/checkout" and report.min_active_seconds == 5 and report.focus == "Why do payments fail?"
    assert timedelta(hours=23.9) < timezone.now() - report.since < timedelta(hours=24.1)
    assert client.get(f"/reports/{report.pk}/").status_code == 200


def test_an_llm_report_without_a_model_is_refused_with_a_reason(org, settings) -> None:
    settings.RECAP_LLM_MODEL = ""
    project = org.projects.first()
    response = signed_in(member(org)).post(f"/projects/{project.pk}/reports/", {"range": "7d", "engine": "llm"})
    assert response.status_code == 400 and "needs a model" in response.content.decode()
    assert not Report.objects.filter(project=project).exists()


def test_the_tab_and_form_are_org_scoped(org) -> None:
    project = org.projects.first()
    url = f"/projects/{project.pk}/reports/"
    outsider = signed_in(member(organization("Globex")))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"range": "7d", "engine": "rules"}).status_code == 404
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Report.objects.exists()
