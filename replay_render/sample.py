"""The real rrweb recording that ships with rrweb-player (a React demo, 81 s), for demos, tests and benchmarks."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings


def player_sample_path() -> Path:
    """Where npm put rrweb-player's sample recording."""
    return Path(settings.NODE_MODULES) / "rrweb-player" / "dist" / "events.js"


def load_player_sample(path: Path | None = None) -> list[dict]:
    """The sample's rrweb events: the file is JavaScript assigning an array literal, which is JSON."""
    source = (path or player_sample_path()).read_text()
    start = source.index("[", source.index("events"))
    end = source.rindex("]") + 1
    events = json.loads(source[start:end])
    if not isinstance(events, list) or not events:
        raise ValueError(f"{path or player_sample_path()} holds no rrweb events")
    return events


def store_recording(project, session_id: str, events: list[dict], *, chunk_events: int = 100):
    """Create a Session from rrweb events and store them as recording chunks through the real models."""
    from summaries.models import RecordingChunk, Session, ms_to_datetime

    ordered = sorted(events, key=lambda e: e.get("timestamp", 0))
    start, end = ordered[0]["timestamp"], ordered[-1]["timestamp"]
    session = Session.objects.create(
        project=project,
        session_id=session_id,
        start_time=ms_to_datetime(start),
        end_time=ms_to_datetime(end),
        duration_seconds=(end - start) / 1000,
        recording_event_count=len(ordered),
        first_url=next((str(e["data"].get("href", "")) for e in ordered if e.get("type") == 4), "")[:2048],
        ingestion_state=Session.IngestionState.COMPLETE,
    )
    for offset in range(0, len(ordered), chunk_events):
        RecordingChunk.store(session, "window-1", ordered[offset:offset + chunk_events])
    return session
