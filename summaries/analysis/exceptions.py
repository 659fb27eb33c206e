"""The exception pre-filter: keep errors that can matter to a user, collapse avalanches into one."""
from __future__ import annotations

import re
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Any

from summaries.analysis.events import InputEvent

# Words that tie an error to talking to a server: such errors usually mean a user-visible failure.
API_WORDS = re.compile(
    r"api|http|fetch|request|post|put|delete|response|xhr|ajax|graphql|socket|websocket|auth|token|login",
    re.IGNORECASE,
)
MIN_FRAMES = 5
# Errors this soon after a kept error in the same window are treated as its consequences.
AVALANCHE_MS = 1000
# Repeats of one error closer together than this are one burst; a later repeat is a new occurrence
# (for example the user trying again), which the reader should see.
REPEAT_BURST_MS = 10_000


@dataclass(frozen=True)
class ExceptionInfo:
    """The first exception of a `$exception` event, in plain fields."""

    type: str
    value: str
    handled: bool
    frames: int
    sources: tuple[str, ...]
    functions: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """A key that is equal for repeats of the same error (numbers and ids blanked out)."""
        value = re.sub(r"\d+", "N", self.value)
        value = re.sub(r"[0-9a-f]{8,}", "H", value)
        return f"{self.type}:{value[:120]}"

    @property
    def api_related(self) -> bool:
        """True when the error's type, message, files or functions talk about requests."""
        haystack = " ".join((self.type, self.value, *self.sources, *self.functions))
        return bool(API_WORDS.search(haystack))


def _file_name(source: str) -> str:
    """The file name of a stack frame's source, without scheme and host (every URL would say 'http')."""
    path = urlsplit(source).path if "://" in source else source
    return path.rsplit("/", 1)[-1]


def exception_info(properties: dict[str, Any]) -> ExceptionInfo:
    """Parse posthog-js `$exception_list` (or the older flat properties)."""
    items = properties.get("$exception_list") or []
    first = items[0] if items and isinstance(items[0], dict) else {}
    frames = ((first.get("stacktrace") or {}).get("frames") or []) if first else []
    frames = [f for f in frames if isinstance(f, dict)]
    mechanism = first.get("mechanism") or {}
    return ExceptionInfo(
        type=str(first.get("type") or properties.get("$exception_type") or "Error"),
        value=str(first.get("value") or properties.get("$exception_message") or ""),
        handled=bool(mechanism.get("handled", False)),
        frames=len(frames),
        sources=tuple(_file_name(str(f.get("filename") or f.get("abs_path") or "")) for f in frames[-8:]),
        functions=tuple(str(f.get("function") or "") for f in frames[-8:]),
    )


def passes_prefilter(info: ExceptionInfo) -> bool:
    """Keep an exception with a deep stack or one that is about requests; drop the rest as likely noise."""
    return info.frames >= MIN_FRAMES or info.api_related


@dataclass
class ExceptionGroup:
    """One kept exception plus its repeats and the errors it caused."""

    event: InputEvent
    info: ExceptionInfo
    repeats: int = 0
    caused: int = 0
    repeat_uuids: list[str] = field(default_factory=list)
    last_seen_ms: int = 0


@dataclass
class ExceptionFilterResult:
    """What the pre-filter kept, and what it dropped and why (for the metadata and for tests)."""

    kept: list[ExceptionGroup]
    dropped_as_noise: int
    collapsed: int


def filter_exceptions(events: list[InputEvent]) -> ExceptionFilterResult:
    """Pre-filter `$exception` events: drop noise, collapse repeats of a fingerprint and errors caused by one."""
    kept: list[ExceptionGroup] = []
    by_fingerprint: dict[str, ExceptionGroup] = {}
    dropped = collapsed = 0
    last_kept_at: dict[str, int] = {}
    for event in sorted((e for e in events if e.name == "$exception"), key=lambda e: e.timestamp_ms):
        info = exception_info(event.properties)
        if not passes_prefilter(info):
            dropped += 1
            continue
        group = by_fingerprint.get(info.fingerprint)
        if group is not None and event.timestamp_ms - group.last_seen_ms <= REPEAT_BURST_MS:
            group.last_seen_ms = event.timestamp_ms
            group.repeats += 1
            group.repeat_uuids.append(event.uuid)
            collapsed += 1
            continue
        window_last = last_kept_at.get(event.window_id)
        if window_last is not None and event.timestamp_ms - window_last <= AVALANCHE_MS and kept:
            # A different error right after a kept one: part of the same avalanche.
            cause = next(g for g in reversed(kept) if g.event.window_id == event.window_id)
            cause.caused += 1
            cause.repeat_uuids.append(event.uuid)
            collapsed += 1
            continue
        group = ExceptionGroup(event=event, info=info, last_seen_ms=event.timestamp_ms)
        kept.append(group)
        by_fingerprint[info.fingerprint] = group
        last_kept_at[event.window_id] = event.timestamp_ms
    return ExceptionFilterResult(kept=kept, dropped_as_noise=dropped, collapsed=collapsed)
