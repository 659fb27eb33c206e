"""Pages of the summaries app: the home page and a project's sessions overview."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
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


def is_member(user, organization) -> bool:
    """The pages' tenancy rule: superusers see everything, others their organizations' data only."""
    return user.is_superuser or organization.memberships.filter(user=user).exists()


def visible_project(user, pk: int) -> Project:
    """The project if the user belongs to its organization (superusers see all); 404 otherwise."""
    project = get_object_or_404(Project.objects.select_related("organization"), pk=pk)
    if is_member(user, project.organization):
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


SESSIONS_PER_PAGE = 50


def latest_summaries(session_ids: list[int]) -> dict[int, SessionSummary]:
    """The latest succeeded summary of the current version of each session, in one query."""
    latest: dict[int, SessionSummary] = {}
    finished = SessionSummary.objects.current().filter(session_id__in=session_ids,
                                                       status=SessionSummary.Status.SUCCEEDED)
    for row in finished.order_by("session_id", "-updated_at"):
        latest.setdefault(row.session_id, row)
    return latest


def overview_rows(sessions: list[Session]) -> list[SessionRow]:
    """The sessions with their latest current summary and flagged issues; blocking first, then newest."""
    latest = latest_summaries([s.pk for s in sessions])
    rows = []
    for session in sessions:
        summary = latest.get(session.pk)
        issues = flagged_actions(summary.summary) if summary and summary.summary else []
        rows.append(SessionRow(session, summary, issues))
    rows.sort(key=lambda r: (-r.blocking, -len(r.issues)))
    return rows


def project_totals(project: Project) -> dict[str, Any]:
    """Counts over every session of the project, computed in the database (no row is loaded)."""
    newest = SessionSummary.objects.current().filter(session_id=OuterRef("session_id"),
                                                     status=SessionSummary.Status.SUCCEEDED).order_by("-updated_at")
    latest = SessionSummary.objects.filter(session__project=project, pk=Subquery(newest.values("pk")[:1]))
    counts = latest.aggregate(
        summarized=Count("pk"),
        with_blocking=Count("pk", filter=Q(summary__stats__blocking_count__gt=0)),
        failed_outcome=Count("pk", filter=Q(summary__session_outcome__success=False)),
        validated=Sum(Cast(KeyTextTransform("validated_count", KeyTransform("stats", "summary")), IntegerField())),
        rule_based=Count("pk", filter=Q(engine="rules")),
    )
    return {"sessions": project.sessions.count(), "summarized": counts["summarized"],
            "with_blocking": counts["with_blocking"], "failed_outcome": counts["failed_outcome"],
            "validated": counts["validated"] or 0, "rule_based": bool(counts["rule_based"])}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's organizations and projects, with how to point posthog-js at each."""
    return render(request, "summaries/home.html", {"projects": projects_for(request.user), "base_url": request.build_absolute_uri("/").rstrip("/")})


@login_required
def project_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's sessions, a page at a time (newest first, blocking issues first on the page), with totals."""
    project = visible_project(request.user, pk)
    newest = project.sessions.order_by("-start_time", "-pk")
    page = Paginator(newest, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "summaries/project.html", {"project": project, "rows": overview_rows(list(page)),
                                                      "page": page, "totals": project_totals(project),
                                                      "tab": "sessions"})
