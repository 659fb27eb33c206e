"""Phase 1's input: which sessions a report analyses, and which it skips (with the reason) instead of failing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from patterns.models import Report
from summaries.models import Session


@dataclass
class Selection:
    """Sessions to summarize, and sessions left out with why."""

    sessions: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def filtered(report: Report) -> QuerySet:
    """The report's filter as a queryset of its project's sessions, most recent first."""
    sessions = Session.objects.filter(project=report.project)
    if report.since:
        sessions = sessions.filter(start_time__gte=report.since)
    if report.until:
        sessions = sessions.filter(start_time__lt=report.until)
    if report.min_active_seconds:
        sessions = sessions.filter(active_seconds__gte=report.min_active_seconds)
    if report.identified_only:
        sessions = sessions.filter(~Q(person_email="") | Q(events__name="$identify")).distinct()
    if report.url_contains:
        sessions = sessions.filter(Q(first_url__icontains=report.url_contains)
                                   | Q(events__current_url__icontains=report.url_contains)).distinct()
    return sessions.order_by("-start_time", "-pk")


def skip_reason(session: Session, idle_cutoff) -> str:
    """Why a session cannot be summarized yet ('' when it can)."""
    if session.event_count == 0 and session.recording_event_count == 0:
        return "no events"
    if (session.ingestion_state == Session.IngestionState.RECEIVING and session.last_ingested_at is not None
            and session.last_ingested_at > idle_cutoff):
        return "still receiving data"
    return ""


def select(report: Report) -> Selection:
    """The sessions of the report: its explicit list (same project only) or its filter; incomplete ones skipped."""
    if report.session_ids:
        sessions = Session.objects.filter(project=report.project, pk__in=report.session_ids)
        sessions = sessions.order_by("-start_time", "-pk")
    else:
        sessions = filtered(report)
    minutes = int(getattr(settings, "RECAP_SESSION_IDLE_MINUTES", 30))
    cutoff = timezone.now() - timedelta(minutes=minutes)
    out = Selection()
    fields = ("pk", "event_count", "recording_event_count", "ingestion_state", "last_ingested_at", "start_time")
    limit = None if report.session_ids else report.max_sessions
    for session in sessions.only(*fields)[:limit]:
        reason = skip_reason(session, cutoff)
        if reason:
            out.skipped.append((session.pk, reason))
        else:
            out.sessions.append(session.pk)
    return out
