"""The data model: tenancy, sessions, events and recording chunks, and their constraints."""
from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from summaries.models import Event, Membership, Organization, Project, RecordingChunk, Session, ms_to_datetime

pytestmark = pytest.mark.django_db


@pytest.fixture
def project() -> Project:
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Shop")


def test_projects_get_distinct_tokens(project: Project) -> None:
    other = Project.objects.create(organization=project.organization, name="Blog")
    assert project.capture_token.startswith("phc_") and other.capture_token.startswith("phc_")
    assert project.capture_token != other.capture_token
    assert project.secret_api_key != other.secret_api_key


def test_one_membership_per_user_and_org(project: Project) -> None:
    user = get_user_model().objects.create_user("ann")
    Membership.objects.create(user=user, organization=project.organization, role="owner")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, organization=project.organization, role="viewer")


def test_session_id_unique_per_project_only(project: Project) -> None:
    Session.objects.create(project=project, session_id="s1")
    other = Project.objects.create(organization=project.organization, name="Blog")
    Session.objects.create(project=other, session_id="s1")  # same id, other project: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(project=project, session_id="s1")


def test_event_uuid_is_unique_per_session_not_across_projects(project: Project) -> None:
    session = Session.objects.create(project=project, session_id="s1")
    first = Event.objects.create(session=session, timestamp=ms_to_datetime(1_700_000_000_000), name="$pageview")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(session=session, uuid=first.uuid, timestamp=first.timestamp, name="$pageview")
    other = Project.objects.create(organization=project.organization, name="Other")
    elsewhere = Session.objects.create(project=other, session_id="s1")
    Event.objects.create(session=elsewhere, uuid=first.uuid, timestamp=first.timestamp, name="$pageview")


def rrweb(ts: int, type_: int = 3, **data: object) -> dict:
    return {"type": type_, "timestamp": ts, "data": data}


def test_recording_chunk_is_a_gzip_blob_not_a_row(project: Project) -> None:
    session = Session.objects.create(project=project, session_id="s1")
    events = [rrweb(1000, 3, source=1), rrweb(500, 2, node={}), rrweb(400, 4, href="https://a.test", width=800, height=600)]
    chunk = RecordingChunk.store(session, "w1", events)
    chunk.refresh_from_db()
    assert chunk.event_count == 3 and chunk.has_full_snapshot
    assert chunk.first_timestamp == ms_to_datetime(400) and chunk.last_timestamp == ms_to_datetime(1000)
    assert f"org-{project.organization_id}/project-{project.pk}/" in chunk.blob.name
    with chunk.blob.open("rb") as fh:
        lines = gzip.decompress(fh.read()).decode().splitlines()
    assert [json.loads(line)["timestamp"] for line in lines] == [400, 500, 1000]
    assert chunk.byte_size == sum(len(line) + 1 for line in lines)


def test_rrweb_events_merges_windows_and_reads_only_needed_chunks(project: Project, django_assert_max_num_queries) -> None:
    session = Session.objects.create(project=project, session_id="s1")
    RecordingChunk.store(session, "w1", [rrweb(1_000, 2), rrweb(2_000), rrweb(9_000)])
    RecordingChunk.store(session, "w2", [rrweb(1_500, 2), rrweb(2_500)])
    late = RecordingChunk.store(session, "w1", [rrweb(20_000, 2), rrweb(21_000)])
    everything = session.rrweb_events()
    assert [e["timestamp"] for e in everything] == [1_000, 1_500, 2_000, 2_500, 9_000, 20_000, 21_000]
    window = session.rrweb_events(ms_to_datetime(1_800), ms_to_datetime(9_000))
    assert [e["timestamp"] for e in window] == [2_000, 2_500, 9_000]
    # the late chunk is never opened for an early window
    late.blob.storage.delete(late.blob.name)
    assert [e["timestamp"] for e in session.rrweb_events(end=ms_to_datetime(10_000))] == [1_000, 1_500, 2_000, 2_500, 9_000]


def test_rrweb_events_from_full_snapshot_widens_back(project: Project) -> None:
    session = Session.objects.create(project=project, session_id="s1")
    RecordingChunk.store(session, "w1", [rrweb(1_000, 2), rrweb(2_000)])
    RecordingChunk.store(session, "w1", [rrweb(5_000), rrweb(6_000)])
    got = session.rrweb_events(ms_to_datetime(5_500), ms_to_datetime(6_000), from_full_snapshot=True)
    assert [e["timestamp"] for e in got] == [1_000, 2_000, 5_000, 6_000]


def test_deleting_a_project_removes_its_sessions(project: Project) -> None:
    session = Session.objects.create(project=project, session_id="s1", start_time=ms_to_datetime(0))
    session.end_time = session.start_time + timedelta(seconds=5)
    session.save()
    project.delete()
    assert not Session.objects.exists()
