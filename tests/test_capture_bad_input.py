"""Each hostile body class on its own: a 4xx naming it or the events stored clean, never a 500 or a lost batch."""
from __future__ import annotations

import base64
import gzip
import json
import tracemalloc
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from summaries.ingest.batches import process_batch
from summaries.ingest.importers import ImportSummary, import_path
from summaries.models import Event, QuarantinedEvent, RawBatch, Session
from tests.ingest_helpers import gz, later, make_project, ph_event

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    """Batches are processed by the tests themselves."""
    monkeypatch.setattr("summaries.ingest.batches.request_processing", lambda project_id: None)


def post(client: Client, path: str, body: bytes | str, content_type: str = "text/plain"):
    """POST as a browser on another origin would."""
    return client.post(path, body, content_type=content_type, HTTP_ORIGIN=ORIGIN)


def process_all() -> None:
    """Process every stored batch."""
    for pk in RawBatch.objects.values_list("pk", flat=True):
        process_batch(pk)


def refused(answer, status: int, words: str) -> None:
    """A JSON refusal with CORS headers whose detail names the problem."""
    assert answer.status_code == status, answer.content[:300]
    assert answer["Access-Control-Allow-Origin"] == ORIGIN
    assert words in answer.json()["detail"], answer.json()


@pytest.mark.parametrize("where", ["$session_id", "distinct_id", "$current_url", "$window_id", "email", "key"])
def test_a_nul_character_anywhere_is_stripped_and_the_event_stored(client, where):
    project = make_project()
    event = ph_event("$pageview", later(1), token=project.capture_token, session="sess-\x00-1")
    event["properties"].update({"$session_id": "sess-1", "email": "ann@shop.test"})
    if where == "distinct_id":
        event["distinct_id"] = "anon\x00-1"
    elif where == "key":
        event["properties"]["we\x00ird"] = "value\x00"
    else:
        event["properties"][where] = {"$session_id": "sess-\x001", "$current_url": "https://shop.test/\x00a",
                                      "$window_id": "win\x00-1", "email": "ann\x00@shop.test"}[where]
    neighbour = ph_event("$autocapture", later(2), token=project.capture_token)
    answer = post(client, "/e/", gz([event, neighbour]))
    assert answer.status_code == 200 and answer.json()["accepted"] == 2
    process_all()
    assert Event.objects.count() == 2 and RawBatch.objects.get().state == RawBatch.State.PROCESSED
    stored = Event.objects.get(name="$pageview")
    assert "\x00" not in json.dumps(stored.properties) + stored.current_url + stored.window_id
    assert Session.objects.get().session_id == "sess-1"


def test_nan_infinity_and_overflowing_numbers_become_null(client):
    project = make_project()
    text = json.dumps([ph_event("$pageview", later(1), token=project.capture_token)])
    text = text.replace('"$session_id"', '"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999, "$session_id"', 1)
    assert post(client, "/e/", text, "application/json").status_code == 200
    process_all()
    props = Event.objects.get().properties
    assert props["a"] is props["b"] is props["c"] is props["d"] is None


def test_literal_backslash_u0000_text_is_kept_as_written(client):
    project = make_project()
    event = ph_event("$pageview", later(1), token=project.capture_token, note="C:\\u0000 and \\\\u0000")
    assert post(client, "/e/", gz([event])).status_code == 200
    process_all()
    assert Event.objects.get().properties["note"] == "C:\\u0000 and \\\\u0000"


def test_lone_surrogates_are_replaced(client):
    project = make_project()
    text = json.dumps([ph_event("$pageview", later(1), token=project.capture_token, title="x")])
    text = text.replace('"title": "x"', '"title": "a\\ud800b", "\\udfff": 1')
    assert post(client, "/e/", gz(json.loads(text))).status_code == 200
    process_all()
    props = Event.objects.get().properties
    assert props["title"] == "a\ufffdb" and props["\ufffd"] == 1


def test_json_nested_a_thousand_deep_is_400(client):
    project = make_project()
    deep = "[" * 1000 + "]" * 1000
    refused(post(client, f"/e/?token={project.capture_token}", deep, "application/json"), 400, "too deeply")
    refused(post(client, "/flags/", '{"token": ' + deep + "}", "application/json"), 401, "unknown project token")


def test_an_integer_over_4300_digits_is_400(client):
    project = make_project()
    refused(post(client, f"/e/?token={project.capture_token}", "[" + "7" * 5000 + "]", "application/json"), 400,
            "JSON cannot carry")


def test_form_body_with_json_beyond_latin_1_is_accepted(client):
    project = make_project()
    event = ph_event("$pageview", later(1), token=project.capture_token, title="Zürich € 𝄞 東京")
    from urllib.parse import quote

    answer = post(client, "/e/", "data=" + quote(json.dumps([event], ensure_ascii=False)),
                  "application/x-www-form-urlencoded")
    assert answer.status_code == 200
    process_all()
    assert Event.objects.get().properties["title"] == "Zürich € 𝄞 東京"


@pytest.mark.parametrize("garbage", ["NoTlZsTrInG", "////", "A", "🙂"])
def test_lz64_garbage_is_400(client, garbage):
    refused(post(client, "/e/", f"data={garbage}&compression=lz64", "application/x-www-form-urlencoded"), 400,
            "lz64")


def test_out_of_range_times_are_refused_per_event(client):
    project = make_project()
    good = ph_event("$pageview", later(1), token=project.capture_token)
    far = {**ph_event("x", later(1)), "timestamp": "9999-12-31T23:59:59-23:59"}
    ancient = {**ph_event("y", later(1)), "timestamp": 1}
    huge_offset = {k: v for k, v in ph_event("z", later(1)).items() if k != "timestamp"} | {"offset": 1e300}
    answer = post(client, "/e/", gz([good, far, ancient, huge_offset]))
    assert answer.status_code == 200
    body = answer.json()
    assert body["accepted"] == 1 and body["rejected"] == 3
    assert sum("between 2000 and 2100" in e for e in body["errors"]) == 2 and "outside 2000-2100" in body["errors"][2]


def test_get_data_with_a_plus_sign_is_decoded_once(client):
    project = make_project()
    # "~~~" encodes to base64 as "fn5+": the "+" must survive the query string untouched.
    event = ph_event("$pageview", later(1), token=project.capture_token, q="~~~" * 10)
    data = base64.b64encode(json.dumps(event).encode()).decode()
    assert "+" in data
    answer = client.get("/e/?data=" + data.replace("+", "%2B"), HTTP_ORIGIN=ORIGIN)
    assert answer.status_code == 200, answer.content
    raw_plus = client.get("/e/?data=" + data, HTTP_ORIGIN=ORIGIN)  # an SDK that did not escape the "+"
    assert raw_plus.status_code == 200, raw_plus.content


def test_more_events_than_allowed_in_one_request_is_413(client, settings):
    settings.RECAP_CAPTURE_MAX_EVENTS = 100
    project = make_project()
    events = [ph_event("$pageview", later(i), token=project.capture_token) for i in range(101)]
    refused(post(client, "/e/", gz(events)), 413, "more than 100 events")
    assert post(client, "/e/", gz(events[:100])).status_code == 200


def test_the_same_event_id_in_two_projects_is_stored_in_both(client, tmp_path):
    first, second = make_project("one"), make_project("two")
    shared = str(uuid.uuid4())
    for project in (first, second):
        event = ph_event("$pageview", later(1), token=project.capture_token)
        assert post(client, "/e/", gz([{**event, "uuid": shared}])).status_code == 200
    process_all()
    assert Event.objects.filter(uuid=shared).count() == 2
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(json.dumps(ph_event("$autocapture", later(i), session="imp")) for i in range(5)))
    for project in (first, second):
        summary = ImportSummary()
        import_path(project, export, summary)
        assert summary.events_imported == 5, summary.lines()
    assert Event.objects.filter(session__session_id="imp").count() == 10


def test_a_batch_stored_before_cleaning_keeps_its_good_events_and_quarantines_the_bad(client):
    project = make_project()
    good = ph_event("$pageview", later(1), note="nul\x00inside")
    bad_time = {**ph_event("late", later(2)), "timestamp": "3000-01-01T00:00:00Z"}
    not_event = ["not", "an", "event"]
    legacy = gzip.compress(json.dumps([good, bad_time, not_event]).encode())  # the JSON-list payload of old batches
    batch = RawBatch.objects.create(project=project, payload=legacy, event_count=3)
    result = process_batch(batch.pk)
    assert result.events_added == 1 and result.events_quarantined == 2
    assert RawBatch.objects.get(pk=batch.pk).state == RawBatch.State.PROCESSED
    assert Event.objects.get().properties["note"] in ("nulinside", "nul\x00inside")  # Postgres needs it stripped
    reasons = sorted(QuarantinedEvent.objects.values_list("reason", flat=True))
    assert any("timestamp" in r for r in reasons) and any("not an event" in r for r in reasons)
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    listing = staff.get("/admin/summaries/quarantinedevent/").content.decode()
    assert "timestamp" in listing and "not an event" in listing


def test_a_20_mb_request_peaks_under_four_times_its_size(client):
    project = make_project()
    filler = "product description " * 85
    events = [ph_event("$autocapture", later(i % 600), token=project.capture_token, text=filler, n=i)
              for i in range(9500)]
    body = json.dumps(events).encode()
    assert 15 * MB < len(body) < 20 * MB
    packed = gzip.compress(body, 1)
    del events, body
    tracemalloc.start()
    answer = post(client, "/e/", packed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert answer.status_code == 200 and answer.json()["accepted"] == 9500
    size = len(gzip.decompress(packed))
    assert peak <= 4 * size, f"peak {peak / MB:.0f} MB for a {size / MB:.0f} MB request"


def test_a_large_recording_is_read_one_rrweb_event_at_a_time(client):
    project = make_project()
    node = {"type": 2, "tagName": "div", "attributes": {"class": "row"}, "childNodes": [
        {"type": 3, "textContent": "Product name \ud800 and a short description", "id": 0}], "id": 0}
    rrweb = [{"type": 3, "timestamp": 1795497992000 + i, "data": {"source": 0, "adds": [
        {"parentId": 1, "nextId": None, "node": {**node, "id": i}} for _ in range(6)], "removes": [], "texts": [],
        "attributes": []}} for i in range(4000)]
    body = json.dumps([{"event": "$snapshot", "distinct_id": "a", "timestamp": later(1).isoformat(), "properties": {
        "$session_id": "rec", "$window_id": "w", "token": project.capture_token, "$snapshot_data": rrweb}}]).encode()
    assert len(body) > 2 * MB
    packed = gzip.compress(body, 1)
    tracemalloc.start()
    answer = post(client, "/s/", packed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    assert peak <= 4 * len(body), f"peak {peak / len(body):.1f}x the body"
    process_all()
    stored = Session.objects.get(session_id="rec").rrweb_events()
    assert len(stored) == 4000 and stored[0]["data"]["adds"][0]["node"]["childNodes"][0]["textContent"] == (
        "Product name \ud800 and a short description")
