"""One tick of a sweep: claim new qualifying sessions, queue their summaries, record what was skipped and why."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from patterns.prompts import MAX_FOCUS
from summaries.analysis.rules import RULES_VERSION
from summaries.prompts import PROMPT_VERSION
from summaries.summarize import SummaryFailed, choose_engine
from sweeps import caps
from sweeps.models import Sweep, SweepClaim, SweepTick, SweepUsage, engine_key
from sweeps.qualify import Engine, new_sessions, sort_out

State = SweepClaim.State


def max_attempts() -> int:
    """RECAP_SWEEP_MAX_ATTEMPTS (default 3): a session whose summary failed this often is not retried."""
    return max(1, int(getattr(settings, "RECAP_SWEEP_MAX_ATTEMPTS", 3)))


def stale_after() -> timedelta:
    """RECAP_SWEEP_CLAIM_STALE_MINUTES (default 60): a claim queued this long lost its task and is queued again."""
    return timedelta(minutes=max(1, int(getattr(settings, "RECAP_SWEEP_CLAIM_STALE_MINUTES", 60))))


def candidate_limit(sweep: Sweep) -> int:
    """New sessions a tick sorts out: four times its cap (room for the skipped ones) and 500 more."""
    return sweep.cap_per_tick * 4 + 500


@dataclass
class TickResult:
    """What a tick did, as the command prints it."""

    tick_id: int | None
    queued: int = 0
    reused: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    capped: str = ""
    message: str = ""
    claims: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The result as data (the command's --json)."""
        return {"tick": self.tick_id, "queued": self.queued, "reused": self.reused, "skipped": self.skipped,
                "skip_reasons": self.reasons, "capped": self.capped, "message": self.message}


def resolve_engine(sweep: Sweep) -> Engine:
    """The sweep's engine, model and focus as the summaries are keyed; raises ValueError when unusable."""
    try:
        engine, model = choose_engine(None if sweep.engine == Sweep.Engine.AUTO else sweep.engine,
                                      sweep.model or None)
    except SummaryFailed as exc:
        raise ValueError(str(exc)) from exc
    focus = " ".join(sweep.focus.split())[:MAX_FOCUS] if engine == "llm" else ""  # as the rolling report asks
    version = RULES_VERSION if engine == "rules" else PROMPT_VERSION
    return Engine(engine, model, focus, version, engine_key(engine, model, focus))


def _set_state(sweep: Sweep, state: str, message: str, now: datetime) -> None:
    """Record where the sweep stands (an update, so the settings signal does not fire)."""
    Sweep.objects.filter(pk=sweep.pk).update(state=state, status_message=message, last_tick_at=now)
    sweep.state, sweep.status_message, sweep.last_tick_at = state, message, now


def _retry_filter() -> Q:
    """Claims to queue again: failed ones under the attempt limit, and queued ones whose task was lost."""
    stale = timezone.now() - stale_after()
    return Q(state=State.FAILED, attempts__lt=max_attempts()) | Q(state=State.QUEUED, updated_at__lt=stale)


def _retakes(sweep: Sweep, tick: SweepTick, key: str, now: datetime, room: int) -> list[int]:
    """Take this engine's claims to retry for this tick (a conditional update: two ticks never take the same one)."""
    ids = list(SweepClaim.objects.filter(_retry_filter(), sweep=sweep, engine_key=key).order_by("updated_at")
               .values_list("pk", flat=True)[:room])
    if not ids:
        return []
    SweepClaim.objects.filter(_retry_filter(), pk__in=ids).update(state=State.QUEUED, tick=tick, day=now.date(),
                                                                  updated_at=timezone.now())
    return list(SweepClaim.objects.filter(pk__in=ids, tick=tick, state=State.QUEUED).values_list("pk", flat=True))


def _claim(sweep: Sweep, tick: SweepTick, key: str, sessions: list, state: str, now: datetime,
           reasons: dict[int, str] | None = None, summaries: dict[int, int] | None = None) -> list[int]:
    """Insert claims (a session another tick claimed first is left to it); the ids this tick holds."""
    rows = [SweepClaim(organization_id=sweep.organization_id, sweep=sweep, session_id=s.pk, engine_key=key, tick=tick,
                       day=now.date(), state=state, reason=(reasons or {}).get(s.pk, ""),
                       summary_id=(summaries or {}).get(s.pk)) for s in sessions]
    if not rows:
        return []
    SweepClaim.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return list(SweepClaim.objects.filter(tick=tick, state=state, session_id__in=[s.pk for s in sessions])
                .values_list("pk", flat=True))


def _plan(sweep: Sweep, tick: SweepTick, engine: Engine, usage: SweepUsage, now: datetime,
          all_time: bool) -> TickResult:
    """Claim what this tick does and count it against the month (the caller holds the month's usage row)."""
    allowed = caps.allowance(sweep, usage)
    room = sweep.cap_per_tick if allowed.summaries is None else min(sweep.cap_per_tick, allowed.summaries)
    retaken = _retakes(sweep, tick, engine.key, now, room) if room else []
    room = max(0, room - len(retaken))
    found = sort_out(sweep, new_sessions(sweep, engine, now, all_time), limit=candidate_limit(sweep))
    reasons: Counter[str] = Counter(reason for _, reason in found.temporary)
    reasons.update(reason for _, reason in found.permanent)
    _claim(sweep, tick, engine.key, [s for s, _ in found.permanent], State.SKIPPED, now,
           reasons={s.pk: r for s, r in found.permanent})
    reused = _claim(sweep, tick, engine.key, [s for s, _ in found.reused], State.DONE, now,
                    summaries={s.pk: pk for s, pk in found.reused})
    taking, over = found.ready[:room], found.ready[room:]
    ids = retaken + _claim(sweep, tick, engine.key, taking, State.QUEUED, now)
    caps.add_summaries(usage, len(ids))
    capped = allowed.stopped_by
    if not capped and over and allowed.summaries is not None and len(ids) >= allowed.summaries:
        capped = caps.summary_cap_sentence(sweep, usage)
    if over:
        reasons[capped or f"over the cap of {sweep.cap_per_tick} per tick (next tick)"] += len(over)
    skipped = sum(reasons.values())
    message = f"queued {len(ids)}, skipped {skipped}" + (f"; stopped: {capped}" if capped else "")
    SweepTick.objects.filter(pk=tick.pk).update(queued=len(ids), reused=len(reused), skipped=skipped,
                                                skip_reasons=dict(reasons), capped=bool(capped), message=message,
                                                finished_at=None if ids else timezone.now())
    _set_state(sweep, Sweep.State.CAPPED if capped else Sweep.State.OK,
               (f"Stopped: {capped}. " if capped else "") + f"Last tick: {message}.", now)
    return TickResult(tick.pk, len(ids), len(reused), skipped, dict(reasons), capped, message, ids)


def run_tick(sweep: Sweep, *, now: datetime | None = None, all_time: bool = False,
             trigger: str = SweepTick.Trigger.BEAT) -> TickResult:
    """Run one tick at `now` (default: the current time) and queue its summaries; never queues work twice.

    Claims and the month's count are written in one transaction holding the month's usage row, so ticks of one
    sweep at once take turns (and never exceed a cap together); the summaries are queued once it committed. If
    queueing fails, the claims stay queued and a tick retakes them after RECAP_SWEEP_CLAIM_STALE_MINUTES.
    """
    from sweeps.dispatch import dispatch

    now = now or timezone.now()
    if not sweep.enabled:
        _set_state(sweep, Sweep.State.DISABLED, "The sweep is disabled.", now)
        return TickResult(None, message="The sweep is disabled.")
    try:
        engine = resolve_engine(sweep)
    except ValueError as exc:
        _set_state(sweep, Sweep.State.ERROR, f"Cannot summarize: {exc}", now)
        return TickResult(None, message=f"Cannot summarize: {exc}")
    usage_pk = caps.usage(sweep, now).pk
    with transaction.atomic():
        usage = SweepUsage.objects.select_for_update().get(pk=usage_pk)
        tick = SweepTick.objects.create(organization_id=sweep.organization_id, sweep=sweep, trigger=trigger,
                                        clock=now, all_time=all_time, engine=engine.engine, model=engine.model)
        result = _plan(sweep, tick, engine, usage, now, all_time)
    if result.claims:
        dispatch(tick.pk, result.claims, engine)
    return result
