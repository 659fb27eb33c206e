"""manage.py import_posthog against a local stub of PostHog's public API."""
from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from summaries.ingest.posthog_api import parse_since
from summaries.models import Session
from tests.ingest_helpers import T0, compress_rrweb_event, later, make_project, rrweb_recording
from tests.posthog_stub import PostHogStub, StubRecording

pytestmark = pytest.mark.django_db


def recording(session_id: str, start_seconds: int, email: str | None = None) -> StubRecording:
    """A stub recording: two blobs in both line shapes, compressed FullSnapshot, and three events."""
    start = later(start_seconds)
    rr = rrweb_recording(start, 8)
    first, rest = rr[:3], rr[3:]
    blob_a = [json.dumps(["win-a", compress_rrweb_event(e)]) for e in first]
    blob_b = [json.dumps({"window_id": "win-a", "data": rest})]
    events = [[str(uuid.uuid4()), name, (start.replace(microsecond=0)).isoformat().replace("+00:00", "Z"),
               "person-1", json.dumps({"$session_id": session_id, "$current_url": "https://app.example/x",
                                       **({"$set": {"email": email}} if email and name == "$identify" else {})})]
              for name in ("$pageview", "$autocapture", "$identify")]
    person = {"distinct_ids": ["person-1"], "properties": {"email": email}} if email else None
    return StubRecording(session_id, start.isoformat(), "person-1", person, [blob_a, blob_b], events)


@pytest.fixture
def stub():
    """A PostHog stand-in with three recordings (listed two per page, first listing answered 429)."""
    fake = PostHogStub(project_id=42, api_key="phx_test_key", recordings=[
        recording("rec-3", 300, "amy@example.com"), recording("rec-2", 200), recording("rec-1", 100)])
    server = fake.start()
    yield fake
    server.shutdown()


def run(stub: PostHogStub, *extra: str, key: str = "phx_test_key") -> str:
    """Run import_posthog against the stub."""
    out = StringIO()
    call_command("import_posthog", "--host", stub.url, "--project-id", "42", "--api-key", key, "--no-progress",
                 *extra, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_imports_recordings_snapshots_and_events_then_skips_them(stub):
    project = make_project()
    printed = run(stub, "--project", str(project.pk))
    assert "recordings read: 3" in printed and "events imported: 10" in printed  # 3 per recording + the exported person
    assert any("offset=2" in r for r in stub.requests)  # followed `next`
    assert stub.requests[0].startswith("GET /api/projects/42/session_recordings/")  # the 429, then retried
    session = Session.objects.get(project=project, session_id="rec-3")
    assert session.person_email == "amy@example.com"
    rr = session.rrweb_events()
    expected = rrweb_recording(later(300), 8)
    assert len(rr) == len(expected) and rr[1]["type"] == 2 and isinstance(rr[1]["data"], dict)  # decompressed
    assert session.event_count == 4 and session.first_url == "https://app.example/x"
    again = run(stub, "--project", project.capture_token)
    assert "events imported: 0 (already there: 10" in again and "already there: 3)" in again


def test_limit_and_since(stub):
    project = make_project()
    assert "recordings read: 1" in run(stub, "--limit", "1")
    assert set(Session.objects.filter(project=project).values_list("session_id", flat=True)) == {"rec-3"}
    since = (T0.replace(microsecond=0) + (later(150) - T0)).isoformat()
    assert "recordings read: 2" in run(stub, "--since", since)
    assert parse_since("7d", now=T0) == T0.replace(day=13)


def test_wrong_key_is_a_clear_error(stub):
    make_project()
    stub.fail_first_listing_with_429 = False
    with pytest.raises(CommandError, match="PostHog refused the API key"):
        run(stub, key="phx_wrong")
