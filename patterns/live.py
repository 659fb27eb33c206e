"""The progress a report page polls: phase, counts, per-session states, pattern names so far; failures once it ends."""
from __future__ import annotations

from typing import Any

from patterns import progress
from patterns.models import Report
from patterns.report_page import failures

MAX_SESSIONS_LISTED = 500


def payload(report: Report) -> dict[str, Any]:
    """What the page needs to redraw its progress box."""
    state = progress.read(report.pk, with_sessions=not report.is_final)
    sessions = sorted(state.sessions.items())[:MAX_SESSIONS_LISTED]
    return {
        "id": report.pk,
        "status": report.status,
        "final": report.is_final,
        "phase": state.phase or report.phase,
        "phase_label": report.get_phase_display(),
        "counts": {"total": state.total, "done": state.done, "failed": state.failed, "skipped": state.skipped},
        "line": state.line(),
        "sessions": [{"session": name, "state": value} for name, value in sessions],
        "sessions_total": len(state.sessions),
        "patterns_found": state.patterns_found,
        "message": report.message,
        "failures": failures(report) if report.is_final else [],
    }
