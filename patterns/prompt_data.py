"""What the pattern prompts see: summaries and patterns as compact CSV tables inside a delimited data block.

Sessions, key actions and patterns get short aliases (s1, e1, p1) in order of appearance; the alias maps
back to summary ids, event ids and patterns stay out of the prompt. Text that came from end users (URLs,
page text, messages) is data: markers are stripped from it so nothing can close the block early.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from patterns.summary_view import Moment, flagged, moments

DATA_OPEN = "<<<REPORT_DATA"
DATA_CLOSE = "REPORT_DATA>>>"
MAX_TEXT = 300


def clean(text: Any, limit: int = MAX_TEXT) -> str:
    """One line of data: whitespace collapsed, block markers removed, length capped."""
    value = " ".join(str(text if text is not None else "").split())
    for marker in (DATA_OPEN, DATA_CLOSE, "<<<", ">>>"):
        value = value.replace(marker, "")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A CSV table (header + rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def flags_text(action: dict[str, Any]) -> str:
    """The flags of a key action, `|`-joined (empty when none)."""
    flags = [str(action["exception"])] if action.get("exception") else []
    flags += [name for name in ("abandonment", "confusion") if action.get(name)]
    return "|".join(flags)


@dataclass
class Block:
    """A data block and the alias maps needed to read the model's answer."""

    text: str
    sessions: dict[str, int] = field(default_factory=dict)  # s1 -> summary id
    events: dict[str, tuple[int, str]] = field(default_factory=dict)  # e1 -> (summary id, event id)
    flagged_events: set[str] = field(default_factory=set)
    patterns: dict[str, int] = field(default_factory=dict)  # p1 -> index in the patterns list


def _delimit(parts: list[str]) -> str:
    """Tables wrapped in the data markers."""
    return f"{DATA_OPEN}\n" + "\n".join(parts).rstrip("\n") + f"\n{DATA_CLOSE}"


def session_tables(summary_id: int, summary: dict[str, Any], alias: str, next_event: int,
                   block: Block) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]], int]:
    """Rows of one session for the sessions, segments and key-actions tables; returns the next event number."""
    outcome = summary.get("session_outcome") or {}
    sessions = [[alias, round(float(summary.get("session_duration_s") or 0)), str(bool(outcome.get("success"))).lower(),
                 clean(outcome.get("description"))]]
    segments = [[alias, seg.get("index", i), clean(seg.get("name"), 80),
                 str(bool((seg.get("outcome") or {}).get("success", True))).lower(),
                 clean((seg.get("outcome") or {}).get("summary"), 200)]
                for i, seg in enumerate(summary.get("segments", []))]
    actions = []
    for moment in moments(summary, summary_id):
        event_alias = f"e{next_event}"
        next_event += 1
        block.events[event_alias] = (summary_id, moment.event_id)
        if moment.flag:
            block.flagged_events.add(event_alias)
        actions.append([event_alias, alias, moment.segment.get("index", 0),
                        round(float(moment.action.get("seconds_from_start") or 0), 1), flags_text(moment.action),
                        clean(moment.action.get("description"))])
    return sessions, segments, actions, next_event


def summaries_block(items: list[tuple[int, dict[str, Any]]]) -> Block:
    """The extraction input: every session's outcome, segments and key actions."""
    block = Block(text="")
    sessions, segments, actions = [], [], []
    next_event = 1
    for n, (summary_id, summary) in enumerate(items, 1):
        alias = f"s{n}"
        block.sessions[alias] = summary_id
        s_rows, g_rows, a_rows, next_event = session_tables(summary_id, summary, alias, next_event, block)
        sessions += s_rows
        segments += g_rows
        actions += a_rows
    block.text = _delimit([
        "Sessions:", table(["session", "duration_s", "success", "outcome"], sessions),
        "Segments:", table(["session", "segment", "name", "success", "summary"], segments),
        "Key actions:", table(["id", "session", "segment", "t", "flags", "description"], actions),
    ])
    return block


def session_text(summary: dict[str, Any]) -> str:
    """One session's rows as the extraction prompt shows them (for counting its tokens)."""
    block = Block(text="")
    s_rows, g_rows, a_rows, _ = session_tables(0, summary, "s1", 1, block)
    return table([], s_rows) + table([], g_rows) + table([], a_rows)


def pattern_rows(patterns: list[dict[str, Any]], block: Block) -> list[list[Any]]:
    """Rows of the patterns table (aliases p1, p2, ... in list order)."""
    rows = []
    for i, pattern in enumerate(patterns):
        alias = f"p{i + 1}"
        block.patterns[alias] = i
        rows.append([alias, clean(pattern.get("name"), 80), clean(pattern.get("description")),
                     clean("; ".join(pattern.get("indicators") or []), 300), len(pattern.get("sessions") or [])])
    return rows


def patterns_block(patterns: list[dict[str, Any]]) -> Block:
    """The combine input: every pattern found in the chunks, with how many sessions back it."""
    block = Block(text="")
    rows = pattern_rows(patterns, block)
    block.text = _delimit(["Patterns:", table(["id", "name", "description", "indicators", "sessions"], rows)])
    return block


def assignment_block(patterns: list[dict[str, Any]], items: list[tuple[int, dict[str, Any]]]) -> Block:
    """The assignment input: the patterns, then the flagged moments of these sessions with what came before."""
    block = Block(text="")
    rows = pattern_rows(patterns, block)
    moment_rows = []
    next_event = 1
    for n, (summary_id, summary) in enumerate(items, 1):
        alias = f"s{n}"
        block.sessions[alias] = summary_id
        everything = moments(summary, summary_id)
        for moment in flagged(summary, summary_id):
            event_alias = f"e{next_event}"
            next_event += 1
            block.events[event_alias] = (summary_id, moment.event_id)
            block.flagged_events.add(event_alias)
            previous: Moment | None = everything[moment.position - 1] if moment.position else None
            moment_rows.append([event_alias, alias, clean(moment.segment.get("name"), 80),
                                round(float(moment.action.get("seconds_from_start") or 0), 1),
                                flags_text(moment.action), clean(moment.action.get("description")),
                                clean(previous.action.get("description"), 150) if previous else ""])
    block.text = _delimit([
        "Patterns:", table(["id", "name", "description", "indicators", "sessions"], rows),
        "Moments:", table(["id", "session", "segment", "t", "flags", "description", "before"], moment_rows),
    ])
    return block
