"""Clips through the product's edges: the render queue on a real prefork worker, and the org-scoped clip URL."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from replay_render.models import Clip
from replay_render.rendering import render_clip
from replay_render.sample import load_player_sample, store_recording
from summaries.models import Membership, Organization, Project, datetime_to_ms
from tests import conftest

pytestmark = pytest.mark.browser


@pytest.fixture
def project() -> Project:
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Demo")


@pytest.mark.django_db(transaction=True)
def test_render_task_runs_on_a_prefork_render_worker(project: Project) -> None:
    from replay_render.tasks import render_clip as render_task

    session = store_recording(project, "queued-1", load_player_sample())
    start = datetime_to_ms(session.start_time) + 15_000
    # Only the render queue, prefork like production: the task must be routed there and its
    # browser loop must work inside a forked child process.
    worker = conftest.start_worker(dict(os.environ, DATABASE_URL=conftest.test_database_url()), queues="render", concurrency=1,
                          pool="prefork")
    try:
        answer = render_task.delay(session.pk, start, start + 3000, 1).get(timeout=120)
        again = render_task.delay(session.pk, start, start + 3000, 1).get(timeout=60)
    finally:
        conftest.stop_worker(worker)
    assert answer["state"] == Clip.State.DONE, answer
    clip = Clip.objects.get(pk=answer["clip_id"])
    assert clip.frame_count == 3 and clip.byte_size > 0
    assert again["clip_id"] == clip.pk  # the cache: no second render
    clip.refresh_from_db()
    assert clip.attempts == 1


@pytest.mark.django_db
def test_clip_file_is_served_only_to_members_of_its_organization(project: Project) -> None:
    session = store_recording(project, "served-1", load_player_sample())
    clip = render_clip(session, session.start_time, session.start_time + timedelta(seconds=1), fps=1, footer=False)
    assert clip.state == Clip.State.DONE
    url = f"/clips/{clip.pk}.webm"
    users = get_user_model().objects
    member, outsider = users.create_user("mia", password="pw-123456"), users.create_user("otto", password="pw-123456")
    Membership.objects.create(user=member, organization=project.organization)
    other_org = Organization.objects.create(name="Other", slug="other")
    Membership.objects.create(user=outsider, organization=other_org)

    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]

    client = Client()
    client.force_login(outsider)
    assert client.get(url).status_code == 404

    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "video/webm"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x1a\x45\xdf\xa3"  # EBML header: a webm/matroska file
    assert len(body) == clip.byte_size
    assert client.get(f"/clips/{clip.pk + 999}.webm").status_code == 404


@pytest.mark.django_db
def test_admin_shows_the_clip_with_its_player(project: Project) -> None:
    session = store_recording(project, "admin-1", load_player_sample())
    clip = render_clip(session, session.start_time, session.start_time + timedelta(seconds=1), fps=1, footer=False)
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/replay_render/clip/{clip.pk}/change/")
    assert page.status_code == 200 and f"/admin/replay_render/clip/{clip.pk}/webm/" in page.content.decode()
    video = client.get(f"/admin/replay_render/clip/{clip.pk}/webm/")
    assert video.status_code == 200 and b"".join(video.streaming_content)[:4] == b"\x1a\x45\xdf\xa3"
    assert Client().get(f"/admin/replay_render/clip/{clip.pk}/webm/").status_code == 302  # not signed in
