"""Which new sessions a tick may summarize, and why the others are left out (permanently or for now)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from summaries.models import Event, Session, SessionSummary
from sweeps.models import Sweep, SweepClaim

FIELDS = ("pk", "session_id", "ingestion_state", "active_seconds", "event_count", "recording_event_count",
          "start_time")


@dataclass(frozen=True)
class Engine:
    """The summaries a sweep asks for: engine, model, focus and the prompt version of the running code."""

    engine: str
    model: str
    focus: str
    version: str
    key: str


@dataclass
class Candidates:
    """New sessions sorted out: to summarize, already summarized, skipped for good or for now (with reasons)."""

    ready: list[Session] = field(default_factory=list)
    reused: list[tuple[Session, int]] = field(default_factory=list)
    permanent: list[tuple[Session, str]] = field(default_factory=list)
    temporary: list[tuple[Session, str]] = field(default_factory=list)


def sampled_in(session_id: str, rate: float) -> bool:
    """A stable draw per session: the same session is in or out of a sample rate on every tick."""
    if rate >= 1:
        return True
    return int(hashlib.sha256(session_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < rate


def new_sessions(sweep: Sweep, engine: Engine, now: datetime, all_time: bool) -> QuerySet:
    """The project's sessions in the window that no claim of this engine holds, with their summary (if any)."""
    sessions = Session.objects.filter(project_id=sweep.project_id)
    if not all_time:
        sessions = sessions.filter(start_time__gte=now - timedelta(hours=sweep.lookback_hours))
    claimed = SweepClaim.objects.filter(session=OuterRef("pk"), engine_key=engine.key)
    finished = SessionSummary.objects.filter(session=OuterRef("pk"), engine=engine.engine, model=engine.model,
                                             focus=engine.focus, prompt_version=engine.version,
                                             status=SessionSummary.Status.SUCCEEDED).order_by("-updated_at")
    sessions = sessions.filter(~Exists(claimed)).annotate(summary_pk=finished.values("pk")[:1])
    if sweep.url_contains:
        on_page = Event.objects.filter(session=OuterRef("pk"), current_url__icontains=sweep.url_contains)
        sessions = sessions.annotate(url_ok=Q(first_url__icontains=sweep.url_contains) | Exists(on_page))
    return sessions.only(*FIELDS).order_by("start_time", "pk")


def permanent_reason(sweep: Sweep, session: Session) -> str:
    """Why a complete session never qualifies under these settings ('' when it does)."""
    if session.active_seconds < sweep.min_active_seconds:
        return f"active less than {sweep.min_active_seconds:g} s"
    if sweep.max_active_seconds and session.active_seconds > sweep.max_active_seconds:
        return f"active more than {sweep.max_active_seconds:g} s"
    if session.event_count < sweep.min_events:
        return f"fewer than {sweep.min_events} events"
    if sweep.url_contains and not getattr(session, "url_ok", True):
        return f"no page URL contains {sweep.url_contains!r}"
    if not sampled_in(session.session_id, sweep.sample_rate):
        return f"left out by the {sweep.sample_rate:.0%} sample"
    return ""


def sort_out(sweep: Sweep, sessions: QuerySet, limit: int) -> Candidates:
    """Sort up to `limit` new sessions into ready, reused and skipped (incomplete ones are skipped for now)."""
    out = Candidates()
    for session in sessions[:limit]:
        if sweep.complete_only and session.ingestion_state != Session.IngestionState.COMPLETE:
            out.temporary.append((session, "still receiving data"))
            continue
        reason = permanent_reason(sweep, session)
        if reason:
            out.permanent.append((session, reason))
        elif session.summary_pk:
            out.reused.append((session, session.summary_pk))
        else:
            out.ready.append(session)
    return out
