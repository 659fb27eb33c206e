"""Starting reports from the admin: selected sessions (focus and engine on an intermediate page), a project's last
24 h / 7 days; the Report admin links to the page; a staff member acts on their organizations' rows only."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patterns.models import Report
from summaries.models import Session
from tests.page_helpers import finished_report, member, organization, signed_in

pytestmark = pytest.mark.django_db
SESSIONS = "/admin/summaries/session/"
PROJECTS = "/admin/summaries/project/"


@pytest.fixture
def acme():
    """Organization Acme with three sessions and a staff member allowed everything on reports and sessions."""
    org = organization("Acme")
    project = org.projects.first()
    for i in range(3):
        Session.objects.create(project=project, session_id=f"acme-{i}", start_time=timezone.now() - timedelta(hours=i))
    return org


def test_sessions_action_asks_for_focus_and_engine_then_starts_the_report(acme) -> None:
    user = member(acme, staff=True)
    client = signed_in(user)
    ids = [str(pk) for pk in Session.objects.filter(project__organization=acme).values_list("pk", flat=True)[:2]]
    page = client.post(SESSIONS, {"action": "create_group_report", "_selected_action": ids})
    text = page.content.decode()
    assert page.status_code == 200 and "Create a group report" in text and 'name="focus"' in text
    assert not Report.objects.exists()
    response = client.post(SESSIONS, {"action": "create_group_report", "_selected_action": ids, "apply": "1",
                                      "focus": "Why do people stop at checkout?", "engine": "rules"})
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    assert sorted(map(str, report.session_ids)) == sorted(ids) and report.trigger == "admin"
    assert report.created_by == user and report.focus == "Why do people stop at checkout?"
    assert report.engine == "rules" and report.status == "queued" and report.run == 1


def test_another_organizations_sessions_cannot_be_reported_on(acme) -> None:
    theirs = Session.objects.create(project=organization("Globex").projects.first(), session_id="globex-1",
                                    start_time=timezone.now())
    client = signed_in(member(acme, staff=True))
    client.post(SESSIONS, {"action": "create_group_report", "_selected_action": [str(theirs.pk)], "apply": "1",
                           "engine": "rules"})
    assert not Report.objects.exists()


def test_project_actions_report_on_the_last_24h_or_7_days(acme) -> None:
    client = signed_in(member(acme, staff=True))
    project = acme.projects.first()
    for action, hours in (("report_on_last_24h", 24), ("report_on_last_168h", 168)):
        response = client.post(PROJECTS, {"action": action, "_selected_action": [str(project.pk)]})
        report = Report.objects.order_by("-pk").first()
        assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
        assert abs((timezone.now() - report.since) - timedelta(hours=hours)) < timedelta(minutes=1)
        assert report.project == project and report.status == "queued" and report.session_ids == []


def test_without_the_add_permission_nothing_starts(acme) -> None:
    user = member(acme, staff=True)
    user.user_permissions.remove(Permission.objects.get(codename="add_report"))
    client = signed_in(user)
    project = acme.projects.first()
    response = client.post(PROJECTS, {"action": "report_on_last_24h", "_selected_action": [str(project.pk)]},
                           follow=True)
    assert "may not create reports" in response.content.decode() and not Report.objects.exists()


def queries(client, url: str) -> tuple[int, str]:
    """How many queries a page takes, and its text."""
    with CaptureQueriesContext(connection) as captured:
        text = client.get(url).content.decode()
    return len(captured), text


def test_the_report_list_links_each_page_without_a_query_per_row(acme) -> None:
    reports = [finished_report(acme, patterns=2, examples=1, title="R0")]
    finished_report(organization("Globex"), patterns=1, examples=1, title="Theirs")
    client = signed_in(member(acme, staff=True))
    client.get("/admin/patterns/report/")
    one, _ = queries(client, "/admin/patterns/report/")
    reports += [finished_report(acme, patterns=2, examples=1, title=f"R{i}") for i in range(1, 4)]
    four, page = queries(client, "/admin/patterns/report/")
    assert four == one
    for report in reports:
        assert f'href="/reports/{report.pk}/">open</a>' in page
    assert "Theirs" not in page
