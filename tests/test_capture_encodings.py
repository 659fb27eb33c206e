"""Every body encoding posthog-js (and older SDKs) use arrives as the same events."""
from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote

import lzstring
import pytest

from summaries.ingest.batches import process_batch
from summaries.ingest.rrweb import decompress_event
from summaries.models import RawBatch, Session
from tests.ingest_helpers import (
    T0, compress_rrweb_event, gz, later, make_project, ph_event, rrweb_recording, snapshot_event,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    """Batches are processed by the tests themselves."""
    monkeypatch.setattr("summaries.ingest.batches.request_processing", lambda project_id: None)


def stored_names(project) -> list[str]:
    """Event names in the project's raw batches."""
    return [e["event"] for b in RawBatch.objects.filter(project=project) for e in b.events()]


def two_events(token: str) -> list[dict]:
    """A pageview and a click with a token."""
    return [ph_event("$pageview", later(1), token=token), ph_event("$autocapture", later(2), token=token)]


def test_plain_json_list(client):
    project = make_project()
    r = client.post("/e/", json.dumps(two_events(project.capture_token)), content_type="application/json")
    assert r.status_code == 200 and r.json() == {"status": 1, "accepted": 2, "rejected": 0}
    assert stored_names(project) == ["$pageview", "$autocapture"]


def test_gzip_detected_by_magic_bytes_even_as_text_plain(client):
    project = make_project()
    r = client.post("/i/v0/e/?ver=1.449.2", gz(two_events(project.capture_token)), content_type="text/plain")
    assert r.status_code == 200, r.content
    assert stored_names(project) == ["$pageview", "$autocapture"]


def test_gzip_js_query_parameter(client):
    project = make_project()
    r = client.post("/e/?compression=gzip-js", gz(two_events(project.capture_token)), content_type="text/plain")
    assert r.status_code == 200


def test_gzip_js_query_with_a_body_that_is_not_gzip_is_a_400(client):
    project = make_project()
    r = client.post("/e/?compression=gzip-js", json.dumps(two_events(project.capture_token)),
                    content_type="text/plain")
    assert r.status_code == 400 and "not gzip" in r.json()["detail"]


def test_base64_form_body_as_send_beacon_posts_it(client):
    project = make_project()
    data = base64.b64encode(json.dumps(two_events(project.capture_token)).encode()).decode()
    r = client.post("/e/?compression=base64", "data=" + quote(data), content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200, r.content
    assert stored_names(project) == ["$pageview", "$autocapture"]


def test_form_body_with_plain_json_data(client):
    project = make_project()
    body = "data=" + quote(json.dumps(two_events(project.capture_token)))
    r = client.post("/e/", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200


def test_legacy_lz64_form_body(client):
    project = make_project()
    packed = lzstring.LZString().compressToBase64(json.dumps(two_events(project.capture_token)))
    r = client.post("/e/", f"data={quote(packed)}&compression=lz64", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200, r.content
    assert stored_names(project) == ["$pageview", "$autocapture"]


def test_get_with_data_query(client):
    project = make_project()
    data = base64.b64encode(json.dumps(ph_event("$pageview", later(1), token=project.capture_token)).encode())
    r = client.get("/e/", {"data": data.decode()})
    assert r.status_code == 200 and r.json()["accepted"] == 1


def test_envelope_with_api_key_and_batch(client):
    project = make_project()
    body = {"api_key": project.capture_token, "batch": two_events(""), "sent_at": T0.isoformat()}
    r = client.post("/batch/", gz(body), content_type="application/json")
    assert r.status_code == 200 and r.json()["accepted"] == 2
    assert RawBatch.objects.get(project=project).sent_at == T0


def test_single_event_object(client):
    project = make_project()
    r = client.post("/capture/", json.dumps(ph_event("$pageview", later(1), token=project.capture_token)),
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["accepted"] == 1


def test_concatenated_gzip_members(client):
    project = make_project()
    body = gz(two_events(project.capture_token))
    r = client.post("/e/", body + gzip.compress(b""), content_type="text/plain")
    assert r.status_code == 200


def test_per_event_compressed_rrweb_is_decompressed_when_stored(client):
    project = make_project()
    recording = rrweb_recording(T0, seconds=5)
    packed = [compress_rrweb_event(e) for e in recording]
    assert isinstance(packed[1]["data"], str) and packed[1]["cv"] == "2024-10"  # FullSnapshot data is a string
    r = client.post("/s/", gz({"api_key": project.capture_token, "batch": [snapshot_event(packed, later(6))]}),
                    content_type="text/plain")
    assert r.status_code == 200
    process_batch(RawBatch.objects.get(project=project).pk)
    stored = Session.objects.get(project=project).rrweb_events()
    assert stored == sorted(recording, key=lambda e: e["timestamp"])
    assert all("cv" not in e for e in stored)


def test_decompress_event_leaves_plain_events_alone_and_refuses_garbage():
    plain = {"type": 3, "timestamp": 1, "data": {"source": 1, "positions": []}}
    assert decompress_event(plain) is plain
    mutation = compress_rrweb_event({"type": 3, "timestamp": 2, "data": {
        "source": 0, "texts": [{"id": 1, "value": "hi"}], "attributes": [], "removes": [], "adds": []}})
    assert decompress_event(mutation)["data"]["texts"] == [{"id": 1, "value": "hi"}]
    rule = {"type": 3, "timestamp": 3, "cv": "2024-10", "data": {
        "source": 8, "id": 4, "adds": gzip.compress(b'[{"rule":"a{}"}]').decode("latin-1")}}
    assert decompress_event(rule)["data"]["adds"] == [{"rule": "a{}"}]
    broken = {"type": 2, "timestamp": 4, "cv": "2024-10", "data": "not gzip"}
    with pytest.raises(ValueError, match="not gzip"):
        decompress_event(broken)


def test_snapshot_items_spelling_is_accepted(client):
    project = make_project()
    event = snapshot_event(rrweb_recording(T0, 3), later(3))
    event["properties"]["$snapshot_items"] = event["properties"].pop("$snapshot_data")
    r = client.post("/s/", gz({"api_key": project.capture_token, "batch": [event]}), content_type="text/plain")
    assert r.status_code == 200
    process_batch(RawBatch.objects.get(project=project).pk)
    assert Session.objects.get(project=project).recording_event_count == len(rrweb_recording(T0, 3))
