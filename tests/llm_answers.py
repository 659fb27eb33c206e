"""Answers a model would give, built from the request by rule: for the LLM test double in report tests and benches.

Session summaries flag failed requests (blocking), error messages (non-blocking, confusion), dead and rage clicks
(confusion) and slow requests (non-blocking); the pattern phases group flagged moments by their description's
first words, merge patterns of the same name and assign moments to the pattern named like them. Every id in
an answer comes from the request, so answers pass grounding.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from typing import Any

import yaml

from patterns.prompt_data import DATA_CLOSE, DATA_OPEN
from summaries.analysis.prompt_data import DATA_CLOSE as SESSION_CLOSE
from summaries.analysis.prompt_data import DATA_OPEN as SESSION_OPEN
from tests.llm_server import Reply, Status

FLAGS = {
    "request_failed": {"exception": "blocking", "abandonment": True, "confusion": False},
    "error_shown": {"exception": "non-blocking", "abandonment": False, "confusion": True},
    "dead_click": {"exception": None, "abandonment": False, "confusion": True},
    "rageclick": {"exception": None, "abandonment": False, "confusion": True},
    "slow_request": {"exception": "non-blocking", "abandonment": False, "confusion": False},
}


def request_text(body: dict[str, Any]) -> str:
    """All text of a chat request's messages."""
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content")
        parts.append(content if isinstance(content, str) else
                     " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict)))
    return "\n".join(parts)


def stage(body: dict[str, Any]) -> str:
    """Which prompt this is: summary, extract, combine, assign (or other)."""
    user = str((body.get("messages") or [{}])[-1].get("content") or "")
    if SESSION_OPEN in user and "id,t," in user:
        return "summary"
    if DATA_OPEN not in user:
        return "other"
    if "Key actions:" in user:
        return "extract"
    if "Moments:" in user:
        return "assign"
    return "combine"


def _tables(body: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The CSV tables of a report prompt's data block, by title."""
    user = str(body["messages"][-1]["content"])
    data = user[user.index(DATA_OPEN) + len(DATA_OPEN): user.index(DATA_CLOSE)]
    tables: dict[str, list[dict[str, str]]] = {}
    parts = re.split(r"^([A-Z][\w ]*):$", data, flags=re.MULTILINE)
    for title, content in zip(parts[1::2], parts[2::2]):
        tables[title] = list(csv.DictReader(io.StringIO(content.strip())))
    return tables


def pattern_name(description: str) -> str:
    """The double's pattern of a moment: its description's first 5 words, numbers and punctuation dropped."""
    words = re.sub(r"[^a-z/ ]+", " ", description.lower()).split()
    words = [w for w in words if w not in {"the", "a", "an"}][:5]
    while len(words) < 3:
        words.append("problem")
    return " ".join(words)


def summary_answer(body: dict[str, Any]) -> str:
    """A session summary flagging the problem rows of the session's event table."""
    text = str(body["messages"][-1]["content"])
    data = text[text.index(SESSION_OPEN): text.rindex(SESSION_CLOSE)]
    rows = list(csv.DictReader(io.StringIO(data[data.index("id,t,"):].strip())))
    events = []
    for row in rows:
        if row["event"] in FLAGS:
            events.append({"event_id": row["id"], "description": f"{row['event'].replace('_', ' ')}: {row['detail']}",
                           **FLAGS[row["event"]]})
        elif row["event"] in ("click", "submit") and len(events) < 40:
            events.append({"event_id": row["id"], "description": f"{row['event']} {row['target']}",
                           "exception": None, "abandonment": False, "confusion": False})
    blocked = any(e["exception"] == "blocking" for e in events)
    answer = {
        "segments": [{"index": 0, "name": "Visit", "start_event_id": rows[0]["id"], "end_event_id": rows[-1]["id"]}],
        "key_actions": [{"segment_index": 0, "events": events}],
        "segment_outcomes": [{"segment_index": 0, "success": not blocked, "summary": "the visit"}],
        "session_outcome": {"success": not blocked, "description": "The user browsed the shop."},
    }
    return yaml.safe_dump(answer, sort_keys=False)


def extract_answer(body: dict[str, Any]) -> str:
    """Patterns: flagged moments grouped by name, kept when 2+ sessions show them."""
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _tables(body).get("Key actions", []):
        if row["flags"]:
            groups[pattern_name(row["description"])].append(row)
    patterns = []
    for name, rows in groups.items():
        if len({r["session"] for r in rows}) < 2:
            continue
        patterns.append({"name": name, "description": f"Users meet: {rows[0]['description']}",
                         "severity": "critical" if "blocking" in rows[0]["flags"].split("|") else "medium",
                         "indicators": [f"flags {rows[0]['flags']}", rows[0]["description"][:80]],
                         "evidence": [r["id"] for r in rows]})
    return yaml.safe_dump({"patterns": patterns[:10]}, sort_keys=False)


def combine_answer(body: dict[str, Any]) -> str:
    """Patterns of the same name merged."""
    merged: dict[str, dict[str, Any]] = {}
    for row in _tables(body).get("Patterns", []):
        into = merged.setdefault(row["name"], {"name": row["name"], "description": row["description"],
                                               "indicators": row["indicators"].split("; ")[:5], "merged_from": []})
        into["merged_from"].append(row["id"])
    return yaml.safe_dump({"patterns": list(merged.values())[:20]}, sort_keys=False)


def assign_answer(body: dict[str, Any]) -> str:
    """Each moment to the pattern named like it."""
    tables = _tables(body)
    by_name = {row["name"]: row["id"] for row in tables.get("Patterns", [])}
    out = [{"event_id": row["id"], "pattern_id": by_name[pattern_name(row["description"])]}
           for row in tables.get("Moments", []) if pattern_name(row["description"]) in by_name]
    return yaml.safe_dump({"assignments": out}, sort_keys=False)


ANSWERS = {"summary": summary_answer, "extract": extract_answer, "combine": combine_answer, "assign": assign_answer}


def answer(body: dict[str, Any]) -> str:
    """The answer to any prompt of the pipeline."""
    return ANSWERS.get(stage(body), lambda _: "ok")(body)


def prompt_digest(body: dict[str, Any]) -> str:
    """A stable id of a request's content."""
    return hashlib.sha256(request_text(body).encode()).hexdigest()


def responder(delay: float = 0.0, fails=None):
    """The double's default step: `answer` after `delay` s, or a 500 when `fails(body)` says so."""
    def step(body: dict[str, Any]) -> Reply | Status:
        if fails is not None and fails(body):
            return Status(500, "scripted failure")
        return Reply(answer, delay=delay)
    return step
