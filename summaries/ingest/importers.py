"""Importing data people already have: PostHog event JSONL, rrweb JSON recordings, PostHog recording exports.

Every importer turns its input into the same normalized events capture produces (`$snapshot`
events carry the rrweb data), stores them as a raw batch of kind `import` and processes it at
once, in this process: no worker is needed, and importing the same file twice adds nothing.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from django.utils import timezone as dj_timezone

from summaries.ingest.batches import process_batch, store_batch
from summaries.ingest.payload import SNAPSHOT_EVENT, check_payload, iso, unwrap
from summaries.ingest.rrweb import is_rrweb_event
from summaries.models import Project, RawBatch, Session

EVENTS_PER_BATCH = 1000
RRWEB_EVENTS_PER_CHUNK = 2000
MAX_EVENT_BYTES = 2 * 1024 * 1024


class ImportFailed(ValueError):
    """A file we cannot import, with the reason."""


@dataclass
class ImportSummary:
    """What an import did, for the final report."""

    files: int = 0
    sessions: set[str] = field(default_factory=set)
    events_imported: int = 0
    events_already_there: int = 0
    events_without_session: int = 0
    recording_chunks: int = 0
    recording_chunks_already_there: int = 0
    rrweb_events: int = 0
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary as printable lines."""
        out = [
            f"files read: {self.files}",
            f"sessions touched: {len(self.sessions)}",
            f"events imported: {self.events_imported} (already there: {self.events_already_there}, "
            f"without a session: {self.events_without_session})",
            f"recording chunks imported: {self.recording_chunks} with {self.rrweb_events} rrweb events "
            f"(already there: {self.recording_chunks_already_there})",
            f"skipped: {len(self.skipped)}",
        ]
        out += [f"  - {reason}" for reason in self.skipped[:50]]
        if len(self.skipped) > 50:
            out.append(f"  ... and {len(self.skipped) - 50} more")
        return out


def resolve_project(value: str) -> Project:
    """A project by numeric id or by capture token."""
    project = None
    if value.isdigit():
        project = Project.objects.filter(pk=int(value)).first()
    if project is None:
        project = Project.objects.filter(capture_token=value).first()
    if project is None:
        raise ImportFailed(f"no project with id or capture token {value!r}")
    return project


def ingest_events(project: Project, events: list[dict], *, source: str, summary: ImportSummary) -> None:
    """Check raw posthog-style events, store them as an import batch and process it now."""
    for event in events:
        # An event without a uuid gets one derived from its content, so importing it again finds it.
        if isinstance(event, dict) and not event.get("uuid"):
            event["uuid"] = str(_uuid_from(json.dumps(event, sort_keys=True, default=str)))
    checked = check_payload(events, received_at=dj_timezone.now(), max_event_bytes=MAX_EVENT_BYTES)
    summary.skipped += [f"{source}: {reason}" for reason in checked.rejected]
    if not checked.lines:
        return
    batch = store_batch(project, checked.lines, kind=RawBatch.Kind.IMPORT, source=source,
                        rejected=len(checked.rejected), enqueue=False)
    result = process_batch(batch.pk)
    if result is None:
        return
    summary.events_imported += result.events_added
    summary.events_already_there += result.events_duplicate
    summary.events_without_session += result.events_without_session
    summary.recording_chunks += result.chunks_added
    summary.recording_chunks_already_there += result.chunks_duplicate
    summary.rrweb_events += result.rrweb_events_added
    summary.sessions |= result.sessions
    # An import brings everything there is: its sessions are complete (capture arriving later re-opens them).
    Session.objects.filter(project=project, session_id__in=result.sessions).update(
        ingestion_state=Session.IngestionState.COMPLETE)


def snapshot_events(rrweb: list[dict], *, session_id: str, window_id: str, distinct_id: str) -> list[dict]:
    """rrweb events as `$snapshot` events (one per run of events, so chunks stay a readable size)."""
    ordered = sorted(rrweb, key=lambda e: e.get("timestamp", 0))
    out = []
    for start in range(0, len(ordered), RRWEB_EVENTS_PER_CHUNK):
        part = ordered[start:start + RRWEB_EVENTS_PER_CHUNK]
        out.append({
            "event": SNAPSHOT_EVENT,
            "distinct_id": distinct_id,
            "timestamp": iso(datetime.fromtimestamp(part[0]["timestamp"] / 1000, tz=timezone.utc)),
            "properties": {"$session_id": session_id, "$window_id": window_id, "$snapshot_data": part},
        })
    return out


def open_text(path: Path) -> io.TextIOBase:
    """A file as text, gunzipped when it is gzip (by its magic bytes)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def iter_jsonl_events(path: Path, summary: ImportSummary) -> Iterator[dict]:
    """Events from a JSONL file: one event per line (a list or a `{"batch": [...]}` line also works)."""
    with open_text(path) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                items, _ = unwrap(json.loads(line))
            except (json.JSONDecodeError, ValueError) as exc:
                summary.skipped.append(f"{path.name} line {number}: {exc}")
                continue
            yield from items


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to `size` items."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_jsonl(project: Project, path: Path, summary: ImportSummary, progress: Any = None) -> None:
    """PostHog events as /batch/ sends them, one per line, `$snapshot` included."""
    for number, events in enumerate(batched(iter_jsonl_events(path, summary), EVENTS_PER_BATCH)):
        ingest_events(project, events, source=f"import:{path.name}#{number}", summary=summary)
        if progress is not None:
            progress.update(len(events))


def file_session_id(path: Path, content: bytes) -> str:
    """A stable session id for a recording file that carries none: the same file maps to the same session."""
    return "import-" + hashlib.sha256(content).hexdigest()[:20]


def person_fields(person: Any) -> tuple[str, dict]:
    """(distinct id, properties) of a PostHog person object, if any."""
    if not isinstance(person, dict):
        return "", {}
    ids = person.get("distinct_ids") or []
    distinct_id = str(ids[0]) if isinstance(ids, list) and ids else str(person.get("distinct_id") or "")
    properties = person.get("properties") if isinstance(person.get("properties"), dict) else {}
    return distinct_id, properties


def recording_events(session_id: str, windows: dict[str, list[dict]], *, distinct_id: str,
                     person_properties: dict) -> list[dict]:
    """`$snapshot` events for each window, plus an `$identify` carrying the person's properties, if known."""
    events: list[dict] = []
    for window_id, rrweb in windows.items():
        events += snapshot_events(rrweb, session_id=session_id, window_id=window_id,
                                  distinct_id=distinct_id or "imported")
    if person_properties and events:
        first = min(e["timestamp"] for e in events)
        identity = f"{session_id}:{distinct_id}:{json.dumps(person_properties, sort_keys=True)}"
        events.append({
            "event": "$identify",
            "uuid": str(_uuid_from(identity)),
            "distinct_id": distinct_id or "imported",
            "timestamp": first,
            "properties": {"$session_id": session_id, "$set": person_properties, "$is_identified": True},
        })
    return events


def _uuid_from(text: str) -> uuid.UUID:
    """A deterministic uuid (so a re-import finds the same event)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "recap-import:" + text)


def split_export(doc: dict, fallback_session: str) -> tuple[str, dict[str, list[dict]], Any]:
    """(session id, rrweb events by window, person) of a PostHog recording export file.

    Two shapes are known: version "2023-04-28" {data: {id, person, snapshots: [rrweb event + windowId]}}
    and version "2022-12-02" {data: {person, snapshotsByWindowId: {window: [rrweb events]}}}.
    """
    data = doc.get("data")
    if not isinstance(data, dict):
        raise ImportFailed("PostHog export has no `data` object")
    windows: dict[str, list[dict]] = {}
    if isinstance(data.get("snapshots"), list):
        for item in data["snapshots"]:
            if not isinstance(item, dict):
                continue
            window = str(item.get("windowId") or item.get("window_id") or "")
            event = {k: v for k, v in item.items() if k not in ("windowId", "window_id")}
            windows.setdefault(window, []).append(event)
    elif isinstance(data.get("snapshotsByWindowId"), dict):
        for window, items in data["snapshotsByWindowId"].items():
            windows[str(window)] = list(items) if isinstance(items, list) else []
    else:
        raise ImportFailed("PostHog export has neither `snapshots` nor `snapshotsByWindowId`")
    return str(data.get("id") or fallback_session), windows, data.get("person")


def import_json(project: Project, path: Path, summary: ImportSummary, progress: Any = None) -> None:
    """A JSON file: an rrweb event array (one recording), a PostHog recording export, or a list of events."""
    content = path.read_bytes()
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(f"{path.name} is not JSON: {exc}") from exc
    fallback = file_session_id(path, content)
    if isinstance(doc, dict) and "version" in doc and isinstance(doc.get("data"), dict):
        session_id, windows, person = split_export(doc, fallback)
        distinct_id, properties = person_fields(person)
    elif isinstance(doc, dict) and isinstance(doc.get("events"), list) and all(map(is_rrweb_event, doc["events"])):
        session_id, windows = str(doc.get("session_id") or fallback), {str(doc.get("window_id") or ""): doc["events"]}
        distinct_id, properties = str(doc.get("distinct_id") or ""), {}
    elif isinstance(doc, list) and doc and all(map(is_rrweb_event, doc)):
        session_id, windows, distinct_id, properties = fallback, {"": doc}, "", {}
    elif isinstance(doc, (list, dict)):
        items, _ = unwrap(doc)
        for number, events in enumerate(batched(items, EVENTS_PER_BATCH)):
            ingest_events(project, events, source=f"import:{path.name}#{number}", summary=summary)
            if progress is not None:
                progress.update(len(events))
        return
    else:
        raise ImportFailed(f"{path.name}: expected rrweb events, a PostHog export or PostHog events")
    invalid = sum(1 for items in windows.values() for e in items if not is_rrweb_event(e))
    if invalid:
        summary.skipped.append(f"{path.name}: {invalid} item(s) are not rrweb events")
    windows = {w: [e for e in items if is_rrweb_event(e)] for w, items in windows.items()}
    windows = {w: items for w, items in windows.items() if items}
    if not windows:
        raise ImportFailed(f"{path.name}: the recording has no rrweb events")
    events = recording_events(session_id, windows, distinct_id=distinct_id, person_properties=properties)
    ingest_events(project, events, source=f"import:{path.name}", summary=summary)
    if progress is not None:
        progress.update(sum(len(items) for items in windows.values()))


def import_path(project: Project, path: Path, summary: ImportSummary, progress: Any = None) -> None:
    """Import one file, choosing the reader by its name (.jsonl / .ndjson, optionally .gz, else JSON)."""
    summary.files += 1
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        import_jsonl(project, path, summary, progress)
    else:
        import_json(project, path, summary, progress)


def expand_paths(paths: Iterable[str]) -> list[Path]:
    """Files given directly, and the .json/.jsonl(.gz) files inside given folders."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and
                          p.name.lower().removesuffix(".gz").endswith((".json", ".jsonl", ".ndjson")))
        elif path.is_file():
            out.append(path)
        else:
            raise ImportFailed(f"{raw}: no such file or folder")
    return out
