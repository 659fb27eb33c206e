"""Phase 1 for one session: its summary for the report's engine and focus, stored or new (summaries app).

Summaries are cached in the database per (session, engine + model, version, focus, input), so a session a
report has seen before costs nothing, and adding sessions to a selection summarizes only the new ones.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from patterns.leases import exclusive, stall_seconds
from summaries.models import Session, SessionSummary
from summaries.summarize import SummaryFailed, summarize_session

USAGE_FIELDS = ("llm_calls", "input_tokens", "output_tokens", "cost_usd")


@dataclass
class SummaryOutcome:
    """What phase 1 got for a session, and the model usage it cost now."""

    summary_id: int | None
    ok: bool
    reason: str = ""
    usage: dict[str, Any] = field(default_factory=dict)


def _spent(session: Session, engine: str, model: str, focus: str) -> dict[str, Any]:
    """Model usage recorded so far on the session's summaries of this engine, model and focus."""
    rows = SessionSummary.objects.filter(session=session, engine=engine, model=model, focus=focus)
    return rows.aggregate(**{name: Sum(name) for name in USAGE_FIELDS})


def _difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Usage made between two readings."""
    cost = None
    if after.get("cost_usd") is not None:
        cost = float(after["cost_usd"] or 0) - float(before.get("cost_usd") or 0)
    return {"calls": int(after.get("llm_calls") or 0) - int(before.get("llm_calls") or 0),
            "input_tokens": int(after.get("input_tokens") or 0) - int(before.get("input_tokens") or 0),
            "output_tokens": int(after.get("output_tokens") or 0) - int(before.get("output_tokens") or 0),
            "cost": cost if cost else None}


def _finished(row: SessionSummary, session: Session, engine: str, model: str, focus: str) -> SessionSummary:
    """Wait for a summary another worker is making; take it over when its worker stopped updating it."""
    while row.status == SessionSummary.Status.RUNNING:
        if row.updated_at < timezone.now() - timedelta(seconds=stall_seconds()):
            return summarize_session(session, engine=engine, model=model, focus=focus, force=True)
        time.sleep(1)
        row.refresh_from_db()
    return row


def _summarize(session: Session, engine: str, model: str, focus: str) -> SummaryOutcome:
    """Summarize (or find the stored summary); usage is what this call spent on the model."""
    costly = engine != "rules"  # the rule engine spends nothing: no need to read what was spent
    before = _spent(session, engine, model, focus) if costly else {}

    def spent() -> dict[str, Any]:
        """Model usage since `before`."""
        return _difference(before, _spent(session, engine, model, focus)) if costly else {}

    try:
        row = summarize_session(session, engine=engine, model=model or None, focus=focus)
        row = _finished(row, session, engine, model, focus)
    except SummaryFailed as exc:
        return SummaryOutcome(None, False, str(exc), spent())
    except Exception as exc:  # one bad session never takes the report down
        return SummaryOutcome(None, False, f"{exc.__class__.__name__}: {exc}", spent())
    if row.status != SessionSummary.Status.SUCCEEDED or not row.summary:
        return SummaryOutcome(row.pk, False, row.error or f"the summary ended {row.status}", spent())
    return SummaryOutcome(row.pk, True, "", spent())


def summary_for(session: Session, engine: str, model: str, focus: str) -> SummaryOutcome:
    """The session's summary (made now if needed); a failure is an outcome with its reason, never an exception.

    A model summary is made under a lease, so two reports (or a resumed one) never pay for it twice; the rule
    engine's cost nothing to repeat and go without.
    """
    if engine == "rules":
        return _summarize(session, engine, model, focus)
    with exclusive(f"summary:{session.pk}:{engine}:{model}:{hashlib.sha256(focus.encode()).hexdigest()[:12]}",
                   ready=lambda: False):
        return _summarize(session, engine, model, focus)
