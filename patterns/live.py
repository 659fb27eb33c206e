"""The progress a report page polls: phase, counts, per-session states, pattern names so far; failures once it ends."""
from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from patterns import progress
from patterns.models import Report
from patterns.report_page import failures

MAX_SESSIONS_LISTED = 500
# Characters that could end a <script> or start markup if the JSON ever lands in HTML: JSON escapes them.
UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def payload(report: Report) -> dict[str, Any]:
    """What the page needs to redraw its progress box."""
    state = progress.read(report.pk, with_sessions=not report.is_final)
    sessions = sorted(state.sessions.items())[:MAX_SESSIONS_LISTED]
    return {
        "id": report.pk,
        "status": report.status,
        "final": report.is_final,
        "phase": state.phase or report.phase,
        "phase_label": Report.Phase(report.phase).label if report.phase in Report.Phase.values else report.phase,
        "counts": {"total": state.total, "done": state.done, "failed": state.failed, "skipped": state.skipped},
        "line": state.line(),
        "sessions": [{"session": name, "state": value} for name, value in sessions],
        "sessions_total": len(state.sessions),
        "patterns_found": state.patterns_found,
        "message": report.message,
        "failures": failures(report) if report.is_final else [],
    }


def json_response(data: Any) -> HttpResponse:
    """JSON with <, >, & and line separators escaped (still valid JSON; inert if it is ever put in HTML)."""
    body = json.dumps(data, ensure_ascii=False).translate(UNSAFE)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
