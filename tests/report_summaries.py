"""Small stored-summary dicts (schema recap.session_summary/1 shape) for pure tests of the report phases."""
from __future__ import annotations

from typing import Any

from summaries.analysis.schema import recompute_stats

START_MS = 1_763_900_000_000


def action(event_id: str, t: float, description: str, exception: str | None = None, *, abandonment: bool = False,
           confusion: bool = False, problem: dict[str, Any] | None = None) -> dict[str, Any]:
    """A key action at t seconds."""
    flagged = exception or abandonment or confusion
    return {"event_id": event_id, "event_uuid": f"00000000-0000-4000-8000-{event_id.rjust(12, '0')}",
            "event": "click", "timestamp_ms": START_MS + int(t * 1000), "seconds_from_start": t, "url": "https://a.test/x",
            "description": description, "abandonment": abandonment, "confusion": confusion, "exception": exception,
            "problem": (problem or {"kind": "request_failed", "route": "/checkout", "control": "form:pay",
                                   "request": "POST /api/pay", "status": 500, "message": ""}) if flagged else None,
            "validation": None}


def summary(*segments: tuple[str, bool, list[dict[str, Any]]], success: bool = True) -> dict[str, Any]:
    """A summary of segments (name, success, key actions), with its derived numbers."""
    return recompute_stats({
        "schema": "recap.session_summary/1", "session_duration_s": 120.0, "session_start_ms": START_MS,
        "session_end_ms": START_MS + 120_000,
        "segments": [{"index": i, "name": name, "outcome": {"success": ok, "summary": f"{name} went {'well' if ok else 'wrong'}"},
                      "start_ms": min(a["timestamp_ms"] for a in actions), "end_ms": max(a["timestamp_ms"] for a in actions),
                      "key_actions": actions} for i, (name, ok, actions) in enumerate(segments)],
        "session_outcome": {"success": success, "description": "The user tried to buy."},
    })


def paying_fails(prefix: str) -> dict[str, Any]:
    """Browse, then payment fails twice (two blocking moments) and the user leaves."""
    return summary(
        ("Product", True, [action(f"{prefix}01", 5, "Opened product"), action(f"{prefix}02", 9, "Added to cart")]),
        ("Checkout", False, [action(f"{prefix}03", 20, "Clicked Pay now"),
                             action(f"{prefix}04", 21, "Payment request failed", "blocking", abandonment=True),
                             action(f"{prefix}05", 30, "Clicked Pay now again"),
                             action(f"{prefix}06", 31, "Payment request failed again", "blocking", abandonment=True),
                             action(f"{prefix}07", 40, "Left checkout")]),
        success=False)
