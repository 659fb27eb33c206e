"""The project's tracked patterns page: one card per pattern with its first/last seen and its trend per day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from summaries.views import visible_project
from sweeps.identity import trends
from sweeps.models import RollingReport, Sweep, TrackedPattern


@dataclass
class Card:
    """A tracked pattern with its trend (day, sessions, bar height in %) and the day's report."""

    pattern: TrackedPattern
    days: list[tuple[date, int, int]]
    report_id: int | None


def cards(project_pk: int) -> list[Card]:
    """The project's tracked patterns, last seen first, each with its last 14 days."""
    out = []
    reports = dict(RollingReport.objects.filter(sweep__project_id=project_pk).values_list("day", "report_id"))
    patterns = list(TrackedPattern.objects.filter(project_id=project_pk).order_by("-last_seen", "name")[:100])
    by_pattern = trends([tracked.pk for tracked in patterns])
    for tracked in patterns:
        days = by_pattern[tracked.pk]
        top = max((count for _, count in days), default=0) or 1
        out.append(Card(tracked, [(day, count, max(8, round(100 * count / top))) for day, count in days],
                        reports.get(tracked.last_seen)))
    return out


@login_required
def project_patterns(request: HttpRequest, pk: int) -> HttpResponse:
    """Tracked patterns of a project the user's organization owns (404 otherwise)."""
    project = visible_project(request.user, pk)
    return render(request, "sweeps/patterns.html", {"project": project, "cards": cards(project.pk),
                                                    "sweep": Sweep.objects.filter(project=project).first()})
