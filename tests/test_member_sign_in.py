"""Members who are not staff sign in on Recap's own page and read their organization's pages, nothing else."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from summaries.models import Membership, Organization, Project, Session
from tests.ingest_helpers import T0

pytestmark = pytest.mark.django_db


def test_a_member_signs_in_reads_their_pages_and_signs_out() -> None:
    mine = Project.objects.create(organization=Organization.objects.create(name="Mine", slug="mine"), name="Shop")
    theirs = Project.objects.create(organization=Organization.objects.create(name="Theirs", slug="theirs"),
                                    name="Other shop")
    session = Session.objects.create(project=mine, session_id="s-1", start_time=T0)
    user = get_user_model().objects.create_user("mia", password="a-long-pass-9")
    Membership.objects.create(user=user, organization=mine.organization, role="viewer")
    client = Client()

    first = client.get(f"/projects/{mine.pk}/")
    assert first.status_code == 302 and first["Location"] == f"/login/?next=/projects/{mine.pk}/"
    page = client.get(first["Location"])
    assert page.status_code == 200 and b"Sign in" in page.content and b"/admin/" not in page.content
    wrong = client.post("/login/", {"username": "mia", "password": "nope", "next": f"/projects/{mine.pk}/"})
    assert wrong.status_code == 200 and b"didn't match" in wrong.content
    signed_in = client.post("/login/", {"username": "mia", "password": "a-long-pass-9", "next": f"/projects/{mine.pk}/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == f"/projects/{mine.pk}/"

    assert b"s-1" in client.get(f"/projects/{mine.pk}/").content
    assert client.get(f"/sessions/{session.pk}/summary/").status_code == 200
    home = client.get("/").content
    assert b"Shop" in home and b"Other shop" not in home and b'href="/admin/"' not in home
    assert client.get(f"/projects/{theirs.pk}/").status_code == 404
    assert client.get("/admin/").status_code == 302  # the admin is for staff

    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get(f"/projects/{mine.pk}/").status_code == 302
