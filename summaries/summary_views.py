"""The session summary page: one session's stored summary, visible to members of its organization only."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from summaries.models import Session, SessionSummary


def visible_session(user, pk: int) -> Session:
    """The session if the user belongs to its organization (superusers see all); 404 otherwise, never a hint."""
    session = get_object_or_404(Session.objects.select_related("project__organization"), pk=pk)
    if user.is_superuser or session.project.organization.memberships.filter(user=user).exists():
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
    return render(request, "summaries/session.html", {
        "session": session,
        "row": chosen,
        "summary": chosen.summary if chosen is not None and chosen.summary else None,
        "others": list(summaries[:20]),
    })
