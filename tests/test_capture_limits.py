"""Bad input gets a clear 4xx: size limits, gzip bombs, malformed bodies, unknown tokens, rate limits; CORS."""
from __future__ import annotations

import json
import time
import tracemalloc
import zlib

import pytest
from django.core.cache import cache

from summaries.ingest.bodies import BodyTooLarge, gunzip_capped
from summaries.models import RawBatch
from tests.ingest_helpers import gz, later, make_project, ph_event, rrweb_recording, snapshot_event

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    """Nothing is processed here; the tests look at what was accepted."""
    monkeypatch.setattr("summaries.ingest.batches.request_processing", lambda project_id: None)


def gzip_bomb(inflated_bytes: int) -> bytes:
    """A small gzip stream that inflates to `inflated_bytes` zeros."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * MB
    parts = [packer.compress(block) for _ in range(inflated_bytes // MB)]
    return b"".join(parts) + packer.flush()


def test_gzip_bomb_is_refused_with_413_without_inflating_it(client):
    project = make_project()
    bomb = gzip_bomb(1024 * MB)  # 1 GB of zeros in about 1 MB
    assert len(bomb) < 2 * MB
    tracemalloc.start()
    r = client.post(f"/e/?token={project.capture_token}", bomb, content_type="text/plain")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.status_code == 413
    assert "more than 20971520 bytes" in r.json()["detail"]
    assert peak < 80 * MB, f"peak memory {peak / MB:.0f} MB: the bomb was inflated"
    assert not RawBatch.objects.exists()


def test_gunzip_capped_stops_at_the_limit():
    with pytest.raises(BodyTooLarge):
        gunzip_capped(gzip_bomb(8 * MB), 1 * MB)
    assert len(gunzip_capped(gzip_bomb(2 * MB), 2 * MB)) == 2 * MB


def test_recordings_may_be_bigger_than_event_batches(client, settings):
    settings.RECAP_CAPTURE_MAX_BATCH_BYTES = 200_000
    settings.RECAP_CAPTURE_MAX_RECORDING_BYTES = 2 * MB
    project = make_project()
    filler = [{"type": 5, "timestamp": 1 + i, "data": {"tag": "x", "payload": "y" * 1000}} for i in range(300)]
    body = gz({"api_key": project.capture_token, "batch": [snapshot_event(rrweb_recording(later(0)) + filler,
                                                                           later(1))]})
    assert client.post("/s/", body, content_type="text/plain").status_code == 200
    assert client.post("/e/", body, content_type="text/plain").status_code == 413


def test_recording_over_the_limit_is_413(client, settings):
    settings.RECAP_CAPTURE_MAX_RECORDING_BYTES = 100_000
    project = make_project()
    filler = [{"type": 5, "timestamp": i, "data": {"payload": "z" * 1000}} for i in range(200)]
    r = client.post("/s/", json.dumps({"api_key": project.capture_token, "batch": [
        snapshot_event(filler, later(1))]}), content_type="application/json")
    assert r.status_code == 413 and "100000 byte limit" in r.json()["detail"]


def test_declared_content_length_over_the_limit_is_refused_before_reading(client, settings):
    settings.RECAP_CAPTURE_MAX_BATCH_BYTES = 1000
    project = make_project()
    r = client.post(f"/e/?token={project.capture_token}", b"[" + b" " * 5000 + b"]", content_type="application/json")
    assert r.status_code == 413 and "over the 1000 byte limit" in r.json()["detail"]


def test_event_over_2_mb_is_rejected_and_the_rest_kept(client):
    project = make_project()
    big = ph_event("$autocapture", later(2), token=project.capture_token, **{"$el_text": "x" * (2 * MB + 10)})
    small = ph_event("$pageview", later(1), token=project.capture_token)
    r = client.post("/e/", gz([small, big]), content_type="text/plain")
    assert r.status_code == 200
    answer = r.json()
    assert answer["accepted"] == 1 and answer["rejected"] == 1
    assert "event 1 ($autocapture)" in answer["errors"][0] and "2097152 byte event limit" in answer["errors"][0]
    batch = RawBatch.objects.get()
    assert [e["event"] for e in batch.events()] == ["$pageview"] and batch.rejected_count == 1


def test_mixed_batch_keeps_valid_events_and_names_each_problem(client):
    project = make_project()
    good = ph_event("$pageview", later(1), token=project.capture_token)
    no_name = {"properties": {"distinct_id": "a", "token": project.capture_token}}
    bad_props = {"event": "x", "properties": ["not", "an", "object"]}
    bad_time = {**ph_event("y", later(1)), "timestamp": "yesterday-ish"}
    no_distinct = {"event": "z", "properties": {"$session_id": "s"}}
    bad_uuid = {**ph_event("w", later(1)), "uuid": "nope"}
    not_object = 42
    snapshot_without_data = {"event": "$snapshot", "properties": {"distinct_id": "a", "$session_id": "s",
                                                                  "$snapshot_data": "zzz"}}
    r = client.post("/e/", json.dumps([good, no_name, bad_props, bad_time, no_distinct, bad_uuid, not_object,
                                       snapshot_without_data]), content_type="application/json")
    answer = r.json()
    assert r.status_code == 200 and answer["accepted"] == 1 and answer["rejected"] == 7
    joined = "\n".join(answer["errors"])
    for expected in ["event 1: missing `event`", "`properties` must be an object", "`timestamp` is not an ISO-8601",
                     "missing `distinct_id`", "`uuid` is not a UUID", "event 6: expected an object, got int",
                     "`$snapshot_data` must be a list"]:
        assert expected in joined


def test_malformed_json_is_400_saying_where(client):
    project = make_project()
    r = client.post(f"/e/?token={project.capture_token}", b'[{"event": "x",', content_type="application/json")
    assert r.status_code == 400
    assert r.json()["detail"].startswith("body is not valid JSON") and "column" in r.json()["detail"]


@pytest.mark.parametrize(("body", "message"), [
    (b"", "body is empty"),
    (b'"hello"', "expected a JSON event, a list of events"),
    (b'{"batch": 3}', "`batch` must be a list"),
    (b'{"foo": 1}', "neither `batch`"),
    (b"\x1f\x8b\x08\x00garbage", "gzip body"),
    (b"data=%%%not-base64", "not valid base64"),
])
def test_undecodable_bodies_are_400_with_the_reason(client, body, message):
    project = make_project()
    r = client.post(f"/e/?token={project.capture_token}", body, content_type="text/plain")
    assert r.status_code == 400, r.content
    assert message in r.json()["detail"]


def test_all_events_invalid_is_400(client):
    project = make_project()
    r = client.post(f"/e/?token={project.capture_token}", json.dumps([{"event": ""}]), content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "no_valid_events" and r.json()["rejected"] == 1


def test_unknown_token_is_401_json_saying_so(client):
    r = client.post("/e/", gz([ph_event("$pageview", later(1), token="phc_nobody")]), content_type="text/plain")
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_api_key" and "unknown project token 'phc_nobody'" in r.json()["detail"]
    r = client.post("/e/", gz([ph_event("$pageview", later(1))]), content_type="text/plain")
    assert r.status_code == 401 and r.json()["code"] == "missing_api_key"
    assert client.get("/array/phc_nobody/config.js").status_code == 401


def test_over_the_rate_limit_answers_503_so_posthog_js_keeps_and_resends_the_data(client, settings):
    settings.RECAP_CAPTURE_RATE_LIMIT = 3
    cache.clear()
    limited, other = make_project("A"), make_project("B")
    # Start at the beginning of a minute window so the test never straddles two windows.
    time.sleep(max(0.0, 60 - time.time() % 60 + 0.05) if time.time() % 60 > 57 else 0)
    codes = [client.post("/e/", gz([ph_event("$pageview", later(i), token=limited.capture_token)]),
                         content_type="text/plain").status_code for i in range(5)]
    assert codes == [200, 200, 200, 503, 503]  # posthog-js retries a 5xx later; a 4xx it would drop
    r = client.post("/e/", gz([ph_event("$pageview", later(9), token=limited.capture_token)]), content_type="text/plain",
                    HTTP_ORIGIN="https://shop.example")
    assert r.json()["code"] == "rate_limited" and int(r["Retry-After"]) >= 1
    assert r["Access-Control-Allow-Origin"] == "https://shop.example"
    assert client.post("/e/", gz([ph_event("$pageview", later(1), token=other.capture_token)]),
                       content_type="text/plain").status_code == 200
    assert RawBatch.objects.filter(project=limited).count() == 3


def test_cors_preflight_and_credentials(client):
    project = make_project()
    pre = client.options("/i/v0/e/", HTTP_ORIGIN="http://app.test:8080",
                         HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert pre.status_code == 204
    assert pre["Access-Control-Allow-Origin"] == "http://app.test:8080"
    assert pre["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in pre["Access-Control-Allow-Methods"] and pre["Access-Control-Allow-Headers"] == "content-type"
    r = client.post("/s/", gz({"api_key": project.capture_token, "batch": [snapshot_event(rrweb_recording(later(0)),
                    later(1))]}), content_type="text/plain", HTTP_ORIGIN="https://shop.example")
    assert r.status_code == 200 and r["Access-Control-Allow-Origin"] == "https://shop.example"
    bad = client.post("/e/", b"{", content_type="text/plain", HTTP_ORIGIN="https://shop.example")
    assert bad.status_code == 400 and bad["Access-Control-Allow-Origin"] == "https://shop.example"


def test_remote_config_turns_on_what_recap_needs(client):
    project = make_project()
    config = client.get(f"/array/{project.capture_token}/config").json()
    assert config["sessionRecording"]["endpoint"] == "/s/"
    assert config["autocapture_opt_out"] is False and config["captureDeadClicks"] is True
    assert config["capturePerformance"]["network_timing"] is True
    assert config["errorTracking"]["autocaptureExceptions"] is True
    script = client.get(f"/array/{project.capture_token}/config.js").content.decode()
    assert script.startswith("(function(){window._POSTHOG_REMOTE_CONFIG") and '"endpoint": "/s/"' in script
    flags = client.post("/flags/?v=2", json.dumps({"token": project.capture_token, "distinct_id": "a"}),
                        content_type="application/json").json()
    assert flags["flags"] == {} and flags["sessionRecording"]["endpoint"] == "/s/"
    decide = client.post("/decide/?v=3", gz({"token": project.capture_token}), content_type="text/plain")
    assert decide.status_code == 200 and decide.json()["featureFlags"] == {}


def test_lazy_scripts_come_from_the_npm_package(client):
    recorder = client.get("/static/lazy-recorder.js?v=1.449.2")
    assert recorder.status_code == 200 and recorder["Content-Type"].startswith(("application/javascript",
                                                                                "text/javascript"))
    assert b"2024-10" in b"".join(recorder.streaming_content)
    assert client.get("/static/1.449.2/exception-autocapture.js").status_code == 200
    assert client.get("/static/no-such-script.js").status_code == 404
    assert client.get("/static/..%2Fpackage.json").status_code == 404


def test_uncompressed_body_over_djangos_upload_cap_is_accepted(client):
    project = make_project()
    filler = [{"type": 5, "timestamp": 1000 + i, "data": {"tag": "x", "payload": "p" * 1000}} for i in range(3000)]
    body = json.dumps({"api_key": project.capture_token, "batch": [snapshot_event(filler, later(1))]})
    assert len(body) > 3 * MB  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE is 2.5 MB
    r = client.post("/s/", body, content_type="application/json")
    assert r.status_code == 200 and r.json()["accepted"] == 1
