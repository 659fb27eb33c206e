"""With a real Celery worker: a capture request is processed after the 200, with no help from the test."""
from __future__ import annotations

import time

import pytest

from summaries.models import RawBatch, Session
from tests.ingest_helpers import T0, gz, later, make_project, ph_event, rrweb_recording, snapshot_event


@pytest.mark.slow
def test_accepted_batches_are_processed_by_the_default_queue_worker(client, live_worker):
    project = make_project()
    events = [ph_event("$pageview", later(0), token=project.capture_token),
              ph_event("$autocapture", later(1), token=project.capture_token, **{"$event_type": "click"})]
    assert client.post("/e/", gz(events), content_type="text/plain").status_code == 200
    recording = {"api_key": project.capture_token, "batch": [snapshot_event(rrweb_recording(T0, 8), later(8))]}
    assert client.post("/s/", gz(recording), content_type="text/plain").status_code == 200
    assert RawBatch.objects.count() == 2  # stored before the answer
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and RawBatch.objects.exclude(state=RawBatch.State.PROCESSED).exists():
        time.sleep(0.3)
    assert set(RawBatch.objects.values_list("state", flat=True)) == {RawBatch.State.PROCESSED}
    session = Session.objects.get(project=project)
    assert session.event_count == 2 and session.recording_event_count == len(rrweb_recording(T0, 8))
    assert session.ingestion_state == Session.IngestionState.RECEIVING
