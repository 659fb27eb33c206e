"""Queue a tick's summaries: the summaries app's task on the `llm` queue, each chained to recording its claim."""
from __future__ import annotations

from celery import chain, chord

from summaries.tasks import summarize_session
from sweeps.models import SweepClaim
from sweeps.qualify import Engine


def dispatch(tick_id: int, claim_ids: list[int], engine: Engine) -> None:
    """One chain per claim (summarize, then record the outcome), all in a chord that ends the tick (or, when one of
    its tasks raised, closes it with the reason; claims left queued are retaken after the stale delay)."""
    from sweeps.tasks import after_tick, record_claim, tick_broken

    pairs = SweepClaim.objects.filter(pk__in=claim_ids).values_list("pk", "session_id")
    header = [chain(summarize_session.si(session_pk, engine.engine, engine.focus, engine.model or None),
                    record_claim.s(claim_pk)) for claim_pk, session_pk in pairs]
    chord(header)(after_tick.s(tick_id).on_error(tick_broken.si(tick_id)))
