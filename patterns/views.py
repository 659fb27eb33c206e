"""The report page: a read-only view of a report's ranked patterns and examples, for its organization's members."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from patterns import progress
from patterns.exports import FORMATS, export, filename
from patterns.models import Report


def visible_report(user, pk: int) -> Report:
    """The report if the user belongs to its organization (superusers see all); 404 otherwise, never a hint."""
    report = get_object_or_404(Report.objects.select_related("project", "organization"), pk=pk)
    if user.is_superuser or report.organization.memberships.filter(user=user).exists():
        return report
    raise Http404("No such report")


@login_required
def report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The ranked patterns with their numbers and examples; progress while the report runs."""
    report = visible_report(request.user, pk)
    patterns = list(report.patterns.order_by("rank").prefetch_related("examples__session"))
    return render(request, "patterns/report.html", {
        "report": report,
        "patterns": patterns,
        "progress": None if report.is_final else progress.read(report.pk),
        "phases": [(name, record) for name, record in report.phases.items()],
    })


@login_required
def report_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The report as a download: JSON (recap.group_report/1), CSV or Markdown."""
    report = visible_report(request.user, pk)
    if fmt not in FORMATS:
        raise Http404("No such format")
    response = HttpResponse(export(report, fmt), content_type=FORMATS[fmt][0])
    response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
