"""Raw batches become sessions: idempotent, order independent, failures kept and reprocessable."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from summaries.ingest import batches
from summaries.ingest.batches import process_batch, store_batch
from summaries.ingest.payload import check_payload
from summaries.models import Event, RawBatch, RecordingChunk, Session
from tests.ingest_helpers import T0, later, make_project, ph_event, rrweb_recording, snapshot_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    """Batches are processed by the tests themselves."""
    monkeypatch.setattr(batches, "request_processing", lambda project_id: None)


def accept(project, events: list[dict], kind: str = RawBatch.Kind.EVENTS) -> RawBatch:
    """What a capture request does: check the events, store them raw."""
    checked = check_payload(events, received_at=T0, max_event_bytes=2 * 1024 * 1024)
    assert not checked.rejected, checked.rejected
    return store_batch(project, checked.lines, kind=kind, source="/test/")


def session_state(session: Session) -> tuple:
    """The session figures a user sees."""
    session.refresh_from_db()
    return (session.start_time, session.end_time, session.duration_seconds, session.active_seconds,
            session.event_count, session.click_count, session.exception_count, session.recording_event_count,
            session.first_url, session.distinct_id, session.person_email)


def test_processing_a_batch_twice_adds_nothing():
    project = make_project()
    batch = accept(project, [ph_event("$pageview", later(0)), ph_event("$exception", later(4)),
                             snapshot_event(rrweb_recording(T0, 10), later(10))])
    first = process_batch(batch.pk)
    assert first.events_added == 2 and first.chunks_added == 1
    session = Session.objects.get()
    before = session_state(session)
    assert process_batch(batch.pk) is None  # already processed: skipped
    again = process_batch(batch.pk, force=True)
    assert again.events_added == 0 and again.events_duplicate == 2 and again.chunks_duplicate == 1
    assert Event.objects.count() == 2 and RecordingChunk.objects.count() == 1
    assert session_state(session) == before


def test_a_retried_request_with_the_same_uuids_and_snapshot_is_stored_once():
    project = make_project()
    events = [ph_event("$pageview", later(0)), snapshot_event(rrweb_recording(T0, 5), later(5))]
    for _ in range(2):  # posthog-js retries a request it thinks failed
        process_batch(accept(project, [dict(e) for e in events]).pk)
    assert Event.objects.count() == 1 and RecordingChunk.objects.count() == 1
    assert Session.objects.get().recording_event_count == len(rrweb_recording(T0, 5))


def test_session_figures_from_events_and_recording():
    project = make_project()
    # Active 0-10 s, idle 10-40 s, active again 40-45 s: the 30 s gap is not active time.
    early = rrweb_recording(T0, 10)
    late = [e for e in rrweb_recording(later(40), 5) if e["type"] == 3]
    process_batch(accept(project, [
        ph_event("$pageview", later(0), url="https://shop.test/home"),
        ph_event("$autocapture", later(2), **{"$event_type": "click"}),
        ph_event("$exception", later(41)),
        ph_event("$identify", later(42), distinct_id="user-7", **{"$set": {"email": "grace@example.com"}}),
        snapshot_event(early, later(10)),
        snapshot_event(late, later(45), window="win-2"),
    ]).pk)
    session = Session.objects.get()
    assert session.start_time == T0 and session.end_time == later(45)
    assert session.duration_seconds == 45
    assert session.active_seconds == pytest.approx(9 + 4, abs=0.01)  # 1..10 s and 41..45 s of mouse moves
    assert session.event_count == 4 and session.exception_count == 1
    assert session.click_count == 2  # one rrweb click per recording part
    assert session.first_url == "https://shop.test/home"  # at the same instant, the pageview URL wins over Meta
    assert session.distinct_id == "user-7" and session.person_email == "grace@example.com"
    assert session.recording_event_count == len(early) + len(late)


def test_late_and_out_of_order_data_gives_the_same_session():
    parts = [
        [ph_event("$pageview", later(0), url="https://shop.test/a")],
        [ph_event("$autocapture", later(20), url="https://shop.test/b", **{"$event_type": "click"})],
        [snapshot_event(rrweb_recording(later(5), 10, href="https://shop.test/a"), later(15))],
        [ph_event("$pageleave", later(60), url="https://shop.test/c", distinct_id="user-1", **{"$is_identified": True})],
    ]
    in_order, shuffled = make_project("in order"), make_project("shuffled")
    for part in parts:
        process_batch(accept(in_order, [dict(e, uuid=None) for e in part]).pk)
    for part in reversed(parts):  # the last request arrives first, the first one last
        process_batch(accept(shuffled, [dict(e, uuid=None) for e in part]).pk)
    a = session_state(Session.objects.get(project=in_order))
    b = session_state(Session.objects.get(project=shuffled))
    assert a == b
    assert a[0] == T0 and a[1] == later(60) and a[8] == "https://shop.test/a" and a[9] == "user-1"


def test_events_without_session_are_counted_not_lost():
    project = make_project()
    event = ph_event("server_side", later(1))
    del event["properties"]["$session_id"]
    batch = accept(project, [event])
    result = process_batch(batch.pk)
    assert result.events_without_session == 1 and not Session.objects.exists()
    assert RawBatch.objects.get(pk=batch.pk).events()[0]["event"] == "server_side"


def test_failing_batch_keeps_its_error_then_is_marked_failed_and_can_be_reprocessed(monkeypatch, settings):
    settings.RECAP_CAPTURE_MAX_ATTEMPTS = 2
    project = make_project()
    batch = accept(project, [ph_event("$pageview", later(0))])

    def broken(project, events):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(batches, "process_events", broken)
    for expected in (RawBatch.State.PENDING, RawBatch.State.FAILED):
        with pytest.raises(RuntimeError):
            process_batch(batch.pk)
        batch.refresh_from_db()
        assert batch.state == expected and "database fell over" in batch.error
    assert batch.attempts == 2 and not Event.objects.exists()
    monkeypatch.undo()
    monkeypatch.setattr(batches, "request_processing", lambda project_id: None)

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    from django.test import Client

    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/summaries/rawbatch/?state__exact=failed")
    assert listing.status_code == 200 and b"database fell over" in listing.content
    detail = client.get(f"/admin/summaries/rawbatch/{batch.pk}/change/")
    assert detail.status_code == 200 and b"$pageview" in detail.content
    r = client.post("/admin/summaries/rawbatch/", {"action": "reprocess_batches", "_selected_action": [batch.pk]},
                    follow=True)
    assert b"1 batch(es) processed, 0 failed" in r.content
    batch.refresh_from_db()
    assert batch.state == RawBatch.State.PROCESSED and batch.error == ""
    assert Event.objects.filter(session__project=project).count() == 1


def test_reprocess_command_runs_failed_batches(capsys):
    project = make_project()
    batch = accept(project, [ph_event("$pageview", later(0))])
    RawBatch.objects.filter(pk=batch.pk).update(state=RawBatch.State.FAILED, error="boom")
    call_command("reprocess_batches")
    assert "1 batch(es) processed, 0 failed" in capsys.readouterr().out
    assert RawBatch.objects.get(pk=batch.pk).state == RawBatch.State.PROCESSED


def test_recording_access_reads_only_the_chunks_needed(django_assert_max_num_queries, monkeypatch):
    project = make_project()
    for minute in range(3):
        process_batch(accept(project, [snapshot_event(rrweb_recording(later(minute * 60), 20), later(minute * 60 + 20))],
                             RawBatch.Kind.RECORDINGS).pk)
    session = Session.objects.get()
    opened: list[int] = []
    original = RecordingChunk.iter_events

    def spy(chunk):
        opened.append(chunk.pk)
        return original(chunk)

    monkeypatch.setattr(RecordingChunk, "iter_events", spy)
    middle = session.rrweb_events(later(65), later(70))
    assert len(opened) == 1
    assert middle and all(later(65).timestamp() * 1000 <= e["timestamp"] <= later(70).timestamp() * 1000
                          for e in middle)
    opened.clear()
    everything = session.rrweb_events()
    assert len(opened) == 3 and [e["timestamp"] for e in everything] == sorted(e["timestamp"] for e in everything)


def test_sweep_requeues_old_pending_batches_and_idle_sessions_complete(monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    from summaries.ingest import tasks

    project = make_project()
    old = accept(project, [ph_event("$pageview", later(0))])
    fresh = accept(project, [ph_event("$pageview", later(1), session="sess-2")])
    RawBatch.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    queued: list[int] = []
    monkeypatch.setattr(tasks.drain_project, "delay", queued.append)
    assert tasks.sweep_pending_batches() == 1 and queued == [project.pk]

    process_batch(old.pk)
    process_batch(fresh.pk)
    settings.RECAP_SESSION_IDLE_MINUTES = 30
    Session.objects.filter(session_id="sess-1").update(last_ingested_at=timezone.now() - timedelta(minutes=31))
    assert tasks.complete_idle_sessions() == 1
    states = dict(Session.objects.values_list("session_id", "ingestion_state"))
    assert states == {"sess-1": "complete", "sess-2": "receiving"}
    # Late data re-opens a completed session.
    process_batch(accept(project, [ph_event("$autocapture", later(90))]).pk)
    assert Session.objects.get(session_id="sess-1").ingestion_state == "receiving"


def test_old_processed_batches_are_pruned_failed_ones_kept(settings):
    from datetime import timedelta

    from django.utils import timezone

    from summaries.ingest.tasks import prune_processed_batches

    settings.RECAP_RAW_BATCH_RETENTION_DAYS = 14
    project = make_project()
    old_done, old_failed, recent = (accept(project, [ph_event("$pageview", later(i))]) for i in range(3))
    process_batch(old_done.pk)
    process_batch(recent.pk)
    RawBatch.objects.filter(pk=old_failed.pk).update(state=RawBatch.State.FAILED)
    RawBatch.objects.filter(pk__in=[old_done.pk, old_failed.pk]).update(received_at=timezone.now() - timedelta(days=15))
    assert prune_processed_batches() == 1
    assert set(RawBatch.objects.values_list("pk", flat=True)) == {old_failed.pk, recent.pk}
    assert Event.objects.count() == 2  # pruning raw batches never touches sessions or events


def test_odd_text_in_properties_is_stored():
    project = make_project()
    event = ph_event("$autocapture", later(1), **{"$el_text": "caf\u00e9 \u2603 nul\u0000here", "nested": {"a": [1, None]}})
    process_batch(accept(project, [event]).pk)
    stored = Event.objects.get().properties
    assert stored["$el_text"] in {"caf\u00e9 \u2603 nulhere", "caf\u00e9 \u2603 nul\u0000here"}
    assert stored["nested"] == {"a": [1, None]}


def test_active_seconds_without_a_recording_come_from_event_gaps(settings):
    from summaries.analysis.activity import active_seconds
    from summaries.ingest.processing import recompute

    settings.RECAP_INACTIVITY_SECONDS = 10
    project = make_project()
    offsets = [0, 2, 4, 9, 30, 31, 36.5, 46.5]  # gaps 2, 2, 5 (count), 21 (idle), 1, 5.5 (count), 10 (idle)
    process_batch(accept(project, [ph_event("$autocapture", later(t)) for t in offsets[:4]]).pk)
    process_batch(accept(project, [ph_event("$autocapture", later(t)) for t in offsets[4:]]).pk)
    session = Session.objects.get()
    assert session.active_seconds == pytest.approx(15.5)  # extended batch by batch ...
    assert recompute([session])[session.pk].active_seconds == pytest.approx(15.5)  # ... as from all rows
    assert active_seconds([int(t * 1000) for t in offsets]) == pytest.approx(15.5)


def test_garbage_rrweb_events_are_dropped_and_the_rest_stored():
    project = make_project()
    good = rrweb_recording(T0, 3)
    junk = [{"type": 3, "timestamp": 1e20, "data": {}}, {"type": "x", "timestamp": 5}, "nope", {"timestamp": 1}]
    result = process_batch(accept(project, [snapshot_event(good + junk, later(3), window="w" * 300)],
                                  RawBatch.Kind.RECORDINGS).pk)
    assert result.rrweb_events_added == len(good) and result.rrweb_events_invalid == len(junk)
    chunk = RecordingChunk.objects.get()
    assert chunk.window_id == "w" * 200


def test_reprocessing_many_batches_from_the_admin_queues_them(monkeypatch):
    from django.test import Client

    from summaries.ingest import admin as ingest_admin

    project = make_project()
    ids = [accept(project, [ph_event("$pageview", later(i), session=f"s{i}")]).pk for i in range(ingest_admin.SYNC_LIMIT + 1)]
    RawBatch.objects.filter(pk__in=ids).update(state=RawBatch.State.FAILED, attempts=3)
    queued: list[int] = []
    monkeypatch.setattr(ingest_admin, "enqueue_batch", queued.append)
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root2", "r2@example.com", "pw"))
    r = client.post("/admin/summaries/rawbatch/", {"action": "reprocess_batches", "_selected_action": ids}, follow=True)
    assert f"{len(ids)} batches queued".encode() in r.content
    assert sorted(queued) == sorted(ids)
    assert set(RawBatch.objects.values_list("state", "attempts")) == {("pending", 0)}
