"""Pages of the summaries app: the home page listing the signed-in user's projects."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from summaries.models import Project


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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's organizations and projects, with how to point posthog-js at each."""
    return render(request, "summaries/home.html", {"projects": projects_for(request.user), "base_url": request.build_absolute_uri("/").rstrip("/")})
