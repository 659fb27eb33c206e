"""What a flagged key action's problem is, as facts: kind, route, control, request and message.

Computed in code from the prepared input for every engine, so group reports fingerprint the same problem the
same way whichever engine (or model) flagged it.
"""
from __future__ import annotations

from typing import Any

from summaries.analysis.prompt_data import PromptInput, Row
from summaries.analysis.routes import route_template

USER_ACTIONS = ("click", "submit", "change")
# Rows that show a problem by themselves (the rest are user actions or context).
PROBLEM_ROWS = ("request_failed", "error_shown", "exception", "dead_click", "rageclick", "slow_request",
                "invalid_field", "left_while_loading", "repeated_submit")
# A problem this soon after a user action belongs to it.
NEAR_MS = 5000


def _request(row: Row) -> tuple[str, int | None]:
    """("METHOD /route/:id", status) of a request row, or ("", None)."""
    url = row.facts.get("request_url") or ""
    if not url:
        return "", None
    method = str(row.facts.get("method") or "").upper()
    return f"{method} {route_template(url)}".strip(), row.facts.get("status")


def _message(row: Row) -> str:
    """The text a problem row carries: the error shown, the exception, the field's message."""
    return str(row.facts.get("text") or (row.detail if row.kind == "exception" else "") or "")


def problem_facts(prepared: PromptInput, row: Row) -> dict[str, Any]:
    """The problem behind a flagged row: the row itself when it is a problem, else the first one after it."""
    rows = prepared.rows
    index = next((i for i, r in enumerate(rows) if r.event_id == row.event_id), -1)
    problem, control = row, row
    if row.kind not in PROBLEM_ROWS:
        problem = next((r for r in rows[index + 1:] if r.kind in PROBLEM_ROWS
                        and r.timestamp_ms - row.timestamp_ms <= NEAR_MS and r.path == row.path), row)
    if not row.target:
        control = next((r for r in reversed(rows[:max(index, 0)]) if r.kind in USER_ACTIONS
                        and row.timestamp_ms - r.timestamp_ms <= NEAR_MS and r.path == row.path), row)
    request, status = _request(problem)
    if not request:
        request, status = next((_request(r) for r in rows[index + 1:]
                                if r.kind == "request_failed" and r.timestamp_ms - row.timestamp_ms <= NEAR_MS),
                               ("", None))
    return {
        "kind": problem.kind,
        "route": route_template(row.url),
        "control": control.target,
        "request": request,
        "status": status,
        "message": _message(problem),
    }
