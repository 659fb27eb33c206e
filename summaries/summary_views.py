"""The session summary page: one session's stored summary, visible to members of its organization only."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from summaries.models import Session, SessionSummary
from summaries.views import is_member

# The replayed page is rebuilt inside this page: whatever the recording references stays off the network,
# as in rendering (only Recap's own URLs, data: and blob: load).
REPLAY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                 "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
                 "frame-src 'self' about: blob:; object-src 'none'; base-uri 'self'; form-action 'self'")


def visible_session(user, pk: int) -> Session:
    """The session if the user belongs to its organization (superusers see all); 404 otherwise, never a hint."""
    session = get_object_or_404(Session.objects.select_related("project__organization"), pk=pk)
    if is_member(user, session.project.organization):
        return session
    raise Http404("No such session")


@login_required
@require_http_methods(["GET", "POST"])
def session_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the latest summary of a session (or a chosen one); POST asks for a new one on the llm queue."""
    session = visible_session(request.user, pk)
    if request.method == "POST":
        from summaries.tasks import summarize_session

        engine = request.POST.get("engine") or None
        summarize_session.delay(session.pk, engine if engine in ("rules", "llm") else None,
                                request.POST.get("focus", "")[:500])
        return redirect("summaries:session_summary", pk=session.pk)
    summaries = session.summaries.order_by("-updated_at")
    chosen = None
    if request.GET.get("summary"):
        try:
            chosen = summaries.filter(pk=int(request.GET["summary"])).first()
        except ValueError:
            chosen = None
    if chosen is None:
        succeeded = summaries.filter(status=SessionSummary.Status.SUCCEEDED)
        chosen = succeeded.current().first() or succeeded.first() or summaries.first()
    summary = chosen.summary if chosen is not None and chosen.summary else None
    response = render(request, "summaries/session.html", {
        "session": session,
        "row": chosen,
        "summary": summary,
        "others": list(summaries[:20]),
        "has_recording": session.recording_chunks.exists(),
        "markers": replay_markers(summary),
    })
    response["Content-Security-Policy"] = REPLAY_POLICY
    return response


def replay_markers(summary: dict | None) -> list[dict]:
    """The summary's key actions as replay timeline markers: seconds from the start, label and kind."""
    markers = []
    for segment in (summary or {}).get("segments", []):
        for action in segment.get("key_actions", []):
            kind = action.get("exception") or ("abandonment" if action.get("abandonment") else
                                                "confusion" if action.get("confusion") else "action")
            markers.append({"t": float(action.get("seconds_from_start") or 0), "kind": kind,
                            "label": str(action.get("description", ""))[:160]})
    return sorted(markers, key=lambda m: m["t"])
