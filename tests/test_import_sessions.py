"""manage.py import_sessions: event JSONL (gzip too), rrweb JSON arrays, PostHog recording exports."""
from __future__ import annotations

import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from summaries.models import Event, RawBatch, Session
from tests.conftest import ROOT
from tests.ingest_helpers import T0, later, make_project, ph_event, rrweb_recording, snapshot_event

pytestmark = pytest.mark.django_db


def real_recording() -> list[dict]:
    """The real 81 s recording that ships with rrweb-player (272 events)."""
    text = (ROOT / "node_modules" / "rrweb-player" / "dist" / "events.js").read_text()
    return json.loads(text[text.index("["):text.rindex("]") + 1])


def run(*args: str) -> str:
    """Run import_sessions, return what it printed."""
    out = StringIO()
    call_command("import_sessions", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_jsonl_of_posthog_events_with_snapshots_gzip_and_reimport(tmp_path: Path):
    project = make_project()
    events = [ph_event("$pageview", later(0)), ph_event("$autocapture", later(3), **{"$event_type": "click"}),
              snapshot_event(rrweb_recording(T0, 6), later(6)), ph_event("$pageleave", later(7))]
    plain = tmp_path / "events.jsonl"
    plain.write_text("\n".join(json.dumps(e) for e in events) + "\n{not json\n")
    no_uuid = [dict(e) for e in events[:1]]
    del no_uuid[0]["uuid"]
    packed = tmp_path / "more.jsonl.gz"
    packed.write_bytes(gzip.compress((json.dumps(no_uuid[0]) + "\n").encode()))

    printed = run(str(plain), str(packed), "--project", str(project.pk))
    assert "files read: 2" in printed
    assert "events imported: 4 (already there: 0" in printed  # 3 from the first file, 1 without uuid
    assert "recording chunks imported: 1 with" in printed
    assert "events.jsonl line 5" in printed  # the broken line is reported, not fatal
    session = Session.objects.get(project=project)
    assert session.event_count == 4 and session.recording_event_count == len(rrweb_recording(T0, 6))
    assert session.click_count == 1

    again = run(str(plain), str(packed), "--project", project.capture_token)
    assert "events imported: 0 (already there: 4" in again
    assert "recording chunks imported: 0 with 0 rrweb events (already there: 1)" in again
    assert Event.objects.count() == 4
    assert set(RawBatch.objects.values_list("kind", "state").distinct()) == {("import", "processed")}


def test_rrweb_json_array_is_one_recording(tmp_path: Path):
    project = make_project()
    recording = real_recording()
    path = tmp_path / "demo-recording.json"
    path.write_text(json.dumps(recording))
    printed = run(str(tmp_path), "--project", str(project.pk))
    assert f"with {len(recording)} rrweb events" in printed and "sessions touched: 1" in printed
    session = Session.objects.get(project=project)
    assert session.session_id.startswith("import-")
    assert session.recording_event_count == 272 and session.first_url == "https://demoit.app/e/react#ReactHooks.js"
    assert 75 <= session.duration_seconds <= 85
    assert 0 < session.active_seconds < session.duration_seconds
    stored = session.rrweb_events()
    assert [e["timestamp"] for e in stored] == sorted(e["timestamp"] for e in recording)
    assert stored[0]["type"] == 4 and any(e["type"] == 2 for e in stored)
    assert "already there: 1" in run(str(path), "--project", str(project.pk))


def test_posthog_ui_export_both_versions(tmp_path: Path):
    project = make_project()
    recording = rrweb_recording(T0, 12)
    v2 = {"version": "2023-04-28", "data": {
        "id": "0192-recording-a",
        "person": {"distinct_ids": ["user-9"], "properties": {"email": "lin@example.com"}},
        "snapshots": [{**e, "windowId": "w1" if i % 2 else "w2"} for i, e in enumerate(recording)],
    }}
    v1 = {"version": "2022-12-02", "data": {
        "person": None, "snapshotsByWindowId": {"w1": rrweb_recording(later(100), 4)}}}
    (tmp_path / "a.json").write_text(json.dumps(v2))
    (tmp_path / "b.json").write_text(json.dumps(v1))
    printed = run(str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--project", str(project.pk))
    assert "sessions touched: 2" in printed
    exported = Session.objects.get(project=project, session_id="0192-recording-a")
    assert exported.person_email == "lin@example.com" and exported.distinct_id == "user-9"
    assert exported.recording_chunks.count() == 2  # one per window
    assert exported.recording_event_count == len(recording)
    assert sorted(e["timestamp"] for e in exported.rrweb_events()) == sorted(e["timestamp"] for e in recording)


def test_bad_files_are_reported_and_unknown_project_refused(tmp_path: Path):
    project = make_project()
    (tmp_path / "broken.json").write_text("{oops")
    (tmp_path / "empty-export.json").write_text(json.dumps({"version": "2023-04-28", "data": {"x": 1}}))
    printed = run(str(tmp_path), "--project", str(project.pk))
    assert "broken.json is not JSON" in printed and "neither `snapshots` nor `snapshotsByWindowId`" in printed
    with pytest.raises(CommandError, match="no project with id or capture token 'phc_missing'"):
        run(str(tmp_path), "--project", "phc_missing")
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nope.json"), "--project", str(project.pk))
