"""Report exports: JSON, CSV and Markdown downloads for the report's organization only, and the command."""
from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from patterns.exports import CSV_COLUMNS
from patterns.report_json import SCHEMA_ID
from tests.page_helpers import HOSTILE, finished_report, member, organization, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def report():
    """A finished report with 3 patterns of 4 examples each."""
    return finished_report(organization("Acme"), patterns=3, examples=4)


def test_each_export_downloads_and_parses(report) -> None:
    client = signed_in(member(report.organization))
    page = client.get(report.get_absolute_url()).content.decode()
    for fmt in ("json", "csv", "md"):
        assert f'href="/reports/{report.pk}/export.{fmt}"' in page

    response = client.get(f"/reports/{report.pk}/export.json")
    assert response["Content-Disposition"] == f'attachment; filename="recap-report-{report.pk}.json"'
    data = json.loads(response.content)
    assert data["schema"] == SCHEMA_ID and len(data["patterns"]) == 3
    assert data["patterns"][0]["name"].endswith(HOSTILE)

    response = client.get(f"/reports/{report.pk}/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 12 and list(rows[0]) == CSV_COLUMNS
    assert {r["pattern_rank"] for r in rows} == {"1", "2", "3"}
    assert rows[0]["session_id"] == f"{report.organization.slug}-s0" and rows[0]["verdict"] == "confirmed"
    assert rows[0]["description"] == f"moment 0 {HOSTILE}"

    text = client.get(f"/reports/{report.pk}/export.md").content.decode()
    assert text.startswith("# Weekly\n") and text.count("\n## ") == 3
    assert "<script>" not in text and r"\<script\>" in text  # end-user text is inert Markdown
    assert f"/sessions/{report.patterns.first().examples.first().session_id}/summary/?t=10)" in text


def test_csv_cells_never_start_a_formula(report) -> None:
    pattern = report.patterns.first()
    example = pattern.examples.first()
    example.description = '=HYPERLINK("http://evil","x")'
    example.save()
    body = signed_in(member(report.organization)).get(f"/reports/{report.pk}/export.csv").content.decode()
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["event_id"] == example.event_id)
    assert row["description"] == "'" + example.description


def test_exports_are_org_scoped(report) -> None:
    outsider = signed_in(member(organization("Globex")))
    for fmt in ("json", "csv", "md"):
        url = f"/reports/{report.pk}/export.{fmt}"
        assert outsider.get(url).status_code == 404
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert signed_in(member(report.organization)).get(f"/reports/{report.pk}/export.xml").status_code == 404


def test_the_command_prints_each_format(report, capsys) -> None:
    call_command("report", "show", str(report.pk), "--format", "json")
    assert json.loads(capsys.readouterr().out)["report"]["id"] == report.pk
    call_command("report", "show", str(report.pk), "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 12
    call_command("report", "show", str(report.pk), "--format", "md")
    assert capsys.readouterr().out.count("\n## ") == 3
