"""What a flagged key action's problem is, as facts: kind, route, control, request and message.

Computed in code from the prepared input for every engine, so group reports fingerprint the same problem the
same way whichever engine (or model) flagged it. The rule engine also says which kind of problem it saw; for a
model's key action the kind is read from the rows at and right after the flagged one.
"""
from __future__ import annotations

from typing import Any

from summaries.analysis.prompt_data import PromptInput, Row
from summaries.analysis.routes import route_template

USER_ACTIONS = ("click", "submit", "change")
# Rows that show a problem by themselves, and the problem kind each stands for.
PROBLEM_KINDS = {
    "request_failed": "request_failed",
    "field_invalid": "field_invalid",
    "dead_click": "dead_click",
    "rageclick": "dead_click",
    "loading_left": "loading_left",
    "slow_request": "slow",
    "exception": "exception",
}
# A problem this soon after a user action belongs to it.
NEAR_MS = 5000


def _problem_kind(row: Row) -> str:
    """The problem a row shows by itself ("" for an ordinary row)."""
    if row.kind == "text_shown":
        return "error_text" if row.facts.get("tone") == "error" else ""
    return PROBLEM_KINDS.get(row.kind, "")


def _request(row: Row) -> tuple[str, int | None]:
    """("METHOD /route/:id", status) of a request row, or ("", None)."""
    url = row.facts.get("request_url") or ""
    if not url:
        return "", None
    method = str(row.facts.get("method") or "").upper()
    return f"{method} {route_template(url)}".strip(), row.facts.get("status")


def _message(row: Row) -> str:
    """The text a problem row carries: the error shown, the field's message, the exception."""
    return str(row.facts.get("text") or (row.detail if row.kind == "exception" else "") or "")


def problem_facts(prepared: PromptInput, row: Row, kind: str = "") -> dict[str, Any]:
    """The problem behind a flagged row: the row itself when it shows one, else the first one right after it."""
    rows = prepared.rows
    index = next((i for i, r in enumerate(rows) if r.event_id == row.event_id), 0)
    after = [r for r in rows[index + 1:] if r.timestamp_ms - row.timestamp_ms <= NEAR_MS and r.path == row.path]
    problem = row if _problem_kind(row) else next((r for r in after if _problem_kind(r)), row)
    control = row
    if not row.target or row.kind not in USER_ACTIONS and row.kind not in ("dead_click", "rageclick"):
        control = next((r for r in reversed(rows[:index]) if r.kind in USER_ACTIONS
                        and row.timestamp_ms - r.timestamp_ms <= NEAR_MS and r.path == row.path), row)
    request, status = _request(problem)
    if not request:
        request, status = next((_request(r) for r in [row, *after] if r.kind == "request_failed"), ("", None))
    return {
        "kind": kind or _problem_kind(problem) or problem.kind,
        "route": route_template(row.url),
        "control": control.target,
        "request": request,
        "status": status,
        "message": _message(problem),
    }
