"""rrweb events as posthog-js sends them: per-event decompression and the activity figures of a recording."""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from summaries.analysis.activity import ACTIVITY_SOURCES, activity_segments
from summaries.ingest.sanitize import plausible_ms

# rrweb event types and incremental sources we look at.
FULL_SNAPSHOT = 2
INCREMENTAL_SNAPSHOT = 3
META = 4
PLUGIN = 6
SOURCE_MUTATION = 0
SOURCE_MOUSE_MOVE = 1
SOURCE_MOUSE_INTERACTION = 2
SOURCE_INPUT = 5
SOURCE_STYLESHEET_RULE = 8
MOUSE_CLICK = 2

COMPRESSED_VERSION = "2024-10"
MUTATION_FIELDS = ("texts", "attributes", "removes", "adds")
STYLESHEET_FIELDS = ("adds", "removes")


class RecordingError(ValueError):
    """An rrweb event we cannot decode."""


def _inflate_field(value: Any, max_bytes: int) -> Any:
    """A compressed field (gzip bytes carried as a latin-1 string) back to JSON; other values unchanged."""
    if not isinstance(value, str):
        return value
    raw = value.encode("latin-1")
    if raw[:2] != b"\x1f\x8b":
        raise RecordingError("compressed rrweb field is not gzip data")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise RecordingError(f"compressed rrweb field cannot be decompressed: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise RecordingError(f"compressed rrweb field decompresses to more than {max_bytes} bytes")
    try:
        return json.loads(out)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError("compressed rrweb field is not JSON once decompressed") from exc


def decompress_event(event: dict, max_bytes: int = 25 * 1024 * 1024) -> dict:
    """An rrweb event with posthog-js's per-event compression (`cv: "2024-10"`) undone; others unchanged.

    posthog-js gzips the FullSnapshot `data`, a Mutation's texts/attributes/removes/adds and a
    StyleSheetRule's adds/removes, each carried as a latin-1 string.
    """
    if event.get("cv") != COMPRESSED_VERSION:
        return event
    out = {k: v for k, v in event.items() if k != "cv"}
    kind = out.get("type")
    if kind == FULL_SNAPSHOT:
        out["data"] = _inflate_field(out.get("data"), max_bytes)
    elif kind == INCREMENTAL_SNAPSHOT and isinstance(out.get("data"), dict):
        data = dict(out["data"])
        names = MUTATION_FIELDS if data.get("source") == SOURCE_MUTATION else STYLESHEET_FIELDS
        if data.get("source") in (SOURCE_MUTATION, SOURCE_STYLESHEET_RULE):
            for name in names:
                if name in data:
                    data[name] = _inflate_field(data[name], max_bytes)
        out["data"] = data
    return out


def is_rrweb_event(event: Any) -> bool:
    """True for a dict shaped like an rrweb event (numeric type, a plausible epoch-ms timestamp)."""
    return (
        isinstance(event, dict)
        and isinstance(event.get("type"), int)
        and not isinstance(event.get("type"), bool)
        and isinstance(event.get("timestamp"), (int, float))
        and not isinstance(event.get("timestamp"), bool)
        and plausible_ms(event["timestamp"])
    )


@dataclass
class RecordingStats:
    """What a run of rrweb events says about the user, kept per chunk so sessions can be re-aggregated."""

    activity_segments: list[list[int]] = field(default_factory=list)
    click_count: int = 0
    keypress_count: int = 0
    mouse_activity_count: int = 0
    console_error_count: int = 0
    first_url: str = ""
    first_url_ms: int | None = None

    def as_fields(self) -> dict:
        """The RecordingChunk columns these stats fill."""
        return {
            "activity_segments": self.activity_segments,
            "click_count": self.click_count,
            "keypress_count": self.keypress_count,
            "mouse_activity_count": self.mouse_activity_count,
            "console_error_count": self.console_error_count,
            "first_url": self.first_url[:2048],
        }


def recording_stats(events: list[dict]) -> RecordingStats:
    """Activity segments (split at idle gaps), clicks, key presses, mouse activity, console errors, first URL."""
    stats = RecordingStats()
    points: list[int] = []
    for event in sorted(events, key=lambda e: e.get("timestamp", 0)):
        kind = event.get("type")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        ts = int(event.get("timestamp", 0))
        if kind == META and data.get("href") and (stats.first_url_ms is None or ts < stats.first_url_ms):
            stats.first_url, stats.first_url_ms = str(data["href"]), ts
        elif kind == INCREMENTAL_SNAPSHOT:
            source = data.get("source")
            if source in ACTIVITY_SOURCES:
                points.append(ts)
            if source == SOURCE_MOUSE_INTERACTION:
                stats.mouse_activity_count += 1
                if data.get("type") == MOUSE_CLICK:
                    stats.click_count += 1
            elif source == SOURCE_MOUSE_MOVE:
                stats.mouse_activity_count += 1
            elif source == SOURCE_INPUT:
                stats.keypress_count += 1
        elif kind == PLUGIN and str(data.get("plugin", "")).startswith("rrweb/console"):
            payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
            if payload.get("level") == "error":
                stats.console_error_count += 1
    stats.activity_segments = activity_segments(points)
    return stats
