"""Fuzzing every capture endpoint (seeded, bounded): only 2xx/4xx answers, and every valid event accepted is stored."""
from __future__ import annotations

import uuid

import pytest
from django.test import Client

from summaries.ingest.batches import drain
from summaries.models import Event, QuarantinedEvent, RawBatch
from tests.capture_fuzz import requests
from tests.ingest_helpers import make_project

pytestmark = pytest.mark.django_db
SEED, COUNT = 20261202, 1500


def test_fuzzed_requests_get_no_5xx_and_every_accepted_valid_event_is_stored(monkeypatch, settings):
    settings.RECAP_CAPTURE_RATE_LIMIT = 0
    monkeypatch.setattr("summaries.ingest.batches.request_processing", lambda project_id: None)
    project = make_project("fuzz")
    client = Client(HTTP_ORIGIN="https://shop.example")
    expected: set[uuid.UUID] = set()
    statuses: dict[int, int] = {}
    for number, request in enumerate(requests(SEED, COUNT, project.capture_token)):
        if request.method == "GET":
            answer = client.get(request.path, request.query)
        else:
            path = request.path + ("?" + "&".join(f"{k}={v}" for k, v in request.query.items()) if request.query else "")
            answer = client.generic("POST", path, request.body, content_type=request.content_type)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        where = f"request {number} {request.method} {request.path} {request.body[:120]!r}: {answer.content[:300]!r}"
        assert answer.status_code < 500, where
        assert answer["Access-Control-Allow-Origin"] == "https://shop.example", where
        if answer.status_code >= 400:
            assert answer.json()["detail"], where
        if answer.status_code == 200 and request.valid_uuids:
            body = answer.json()
            assert body["accepted"] >= len(request.valid_uuids), where
            expected |= {uuid.UUID(u) for u in request.valid_uuids}
    assert statuses.get(200, 0) > COUNT / 4 and statuses.get(400, 0) > COUNT / 10, statuses
    assert drain(project.pk, 300)
    assert not RawBatch.objects.exclude(state=RawBatch.State.PROCESSED).exists()
    stored = set(Event.objects.filter(session__project=project).values_list("uuid", flat=True))
    assert expected and expected <= stored, f"{len(expected - stored)} of {len(expected)} valid events lost"
    # The rrweb junk mixed into recordings is set aside with its reason, never an analytics event.
    assert not QuarantinedEvent.objects.exclude(name="$snapshot").exists()
