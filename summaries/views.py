"""Pages of the summaries app: the home page and a project's sessions overview."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from summaries.models import Project, Session, SessionSummary


def projects_for(user) -> "list[Project]":
    """The projects of every organization the user belongs to (superusers see all)."""
    projects = Project.objects.select_related("organization")
    if not user.is_superuser:
        projects = projects.filter(organization__memberships__user=user)
    return list(
        projects.annotate(session_total=Count("sessions"), last_session=Max("sessions__start_time")).order_by(
            "organization__name", "name"
        )
    )


def visible_project(user, pk: int) -> Project:
    """The project if the user belongs to its organization (superusers see all); 404 otherwise."""
    project = get_object_or_404(Project.objects.select_related("organization"), pk=pk)
    if user.is_superuser or project.organization.memberships.filter(user=user).exists():
        return project
    raise Http404("No such project")


@dataclass
class SessionRow:
    """One line of the overview: a session, its latest finished summary and the issues it flags."""

    session: Session
    summary: SessionSummary | None
    issues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocking(self) -> int:
        """How many of its issues are (still) blocking."""
        return sum(1 for issue in self.issues if issue["exception"] == "blocking")


def flagged_actions(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Key actions with an exception flag, in time order, each with its segment's name."""
    found = []
    for segment in summary.get("segments", []):
        for action in segment.get("key_actions", []):
            if action.get("exception"):
                found.append({**action, "segment_name": segment.get("name", "")})
    return sorted(found, key=lambda a: a.get("timestamp_ms", 0))


def overview_rows(project: Project) -> list[SessionRow]:
    """Every session of the project with its latest succeeded summary of the current version; blocking first."""
    sessions = list(project.sessions.order_by("-start_time"))
    latest: dict[int, SessionSummary] = {}
    finished = SessionSummary.objects.current().filter(session__project=project, status=SessionSummary.Status.SUCCEEDED)
    for row in finished.order_by("session_id", "-updated_at"):
        latest.setdefault(row.session_id, row)
    rows = []
    for session in sessions:
        summary = latest.get(session.pk)
        issues = flagged_actions(summary.summary) if summary and summary.summary else []
        rows.append(SessionRow(session, summary, issues))
    rows.sort(key=lambda r: (-r.blocking, -len(r.issues)))
    return rows


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's organizations and projects, with how to point posthog-js at each."""
    return render(request, "summaries/home.html", {"projects": projects_for(request.user), "base_url": request.build_absolute_uri("/").rstrip("/")})


@login_required
def project_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's sessions: how each went and what blocked users, with validation verdicts and clips."""
    project = visible_project(request.user, pk)
    rows = overview_rows(project)
    summarized = [r for r in rows if r.summary]
    totals = {
        "sessions": len(rows),
        "summarized": len(summarized),
        "with_blocking": sum(1 for r in rows if r.blocking),
        "failed_outcome": sum(1 for r in summarized if not (r.summary.summary or {}).get("session_outcome", {}).get("success", True)),
        "confirmed": sum(1 for r in rows for i in r.issues if (i.get("validation") or {}).get("verdict") == "confirmed"),
        "rule_based": any(r.summary.rule_based for r in summarized),
    }
    return render(request, "summaries/project.html", {"project": project, "rows": rows, "totals": totals})
