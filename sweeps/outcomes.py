"""A claim's outcome once its summary task answered: done, empty, failed (retried) or given up; spend counted."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F

from summaries.models import SessionSummary
from sweeps import caps
from sweeps.models import SweepClaim, SweepTick
from sweeps.tick import max_attempts

State = SweepClaim.State


def _count_spend(claim: SweepClaim, summary: SessionSummary | None) -> None:
    """Add what the summary cost since last counted to the month of the claim's tick."""
    if summary is None:
        return
    tokens = summary.input_tokens + summary.output_tokens - claim.tokens_counted
    cost = (summary.cost_usd or Decimal("0")) - claim.cost_counted
    if tokens > 0 or cost > 0:
        moment = claim.tick.clock if claim.tick else claim.created_at
        caps.add_spend(claim.sweep, moment, max(tokens, 0), max(cost, Decimal("0")))
        SweepClaim.objects.filter(pk=claim.pk).update(tokens_counted=F("tokens_counted") + max(tokens, 0),
                                                      cost_counted=F("cost_counted") + max(cost, Decimal("0")))


def record(claim_pk: int, result: dict[str, Any]) -> str:
    """Store the claim's outcome from the summary task's answer; returns the new state ('' while it still runs,
    `gone` when the claim was deleted)."""
    claim = SweepClaim.objects.select_related("sweep", "tick", "session").filter(pk=claim_pk).first()
    if claim is None:
        return "gone"
    result = result if isinstance(result, dict) else {"status": "failed", "error": f"unexpected answer {result!r}"}
    summary = SessionSummary.objects.filter(pk=result.get("summary_id")).first() if result.get("summary_id") else None
    status = summary.status if summary is not None and result.get("status") != "failed" else result.get("status")
    if status in (SessionSummary.Status.RUNNING, SessionSummary.Status.PENDING):
        return ""
    _count_spend(claim, summary)
    failed = status != SessionSummary.Status.SUCCEEDED
    if failed:
        attempts = claim.attempts + 1
        state = State.GAVE_UP if attempts >= max_attempts() else State.FAILED
        reason = str(result.get("error") or (summary.error if summary else "") or "the summary failed")[:2000]
    else:
        attempts = claim.attempts
        empty = claim.session.event_count == 0 and claim.session.recording_event_count == 0
        state, reason = (State.EMPTY, "no events") if empty else (State.DONE, "")
    SweepClaim.objects.filter(pk=claim.pk, state=State.QUEUED).update(state=state, attempts=attempts, reason=reason,
                                                                      summary=summary)
    if claim.tick_id:
        SweepTick.objects.filter(pk=claim.tick_id).update(finished=F("finished") + 1,
                                                          failed=F("failed") + (1 if failed else 0))
    return state
