"""A project's Reports tab: its reports a page at a time, and the "New report" form that starts one."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from patterns.forms import NewReportForm
from patterns.models import Pattern, Report
from summaries.models import Project
from summaries.views import visible_project

REPORTS_PER_PAGE = 20


def report_rows(project: Project) -> QuerySet:
    """The project's reports, newest first, each with its top pattern and pattern count (no query per row)."""
    top = Pattern.objects.filter(report=OuterRef("pk")).order_by("rank")
    counted = Pattern.objects.filter(report=OuterRef("pk")).order_by().values("report").annotate(n=Count("pk"))
    return (Report.objects.filter(project=project).select_related("created_by")
            .annotate(top_pattern=Subquery(top.values("name")[:1]), top_severity=Subquery(top.values("severity")[:1]),
                      pattern_total=Subquery(counted.values("n")))
            .order_by("-created_at", "-pk"))


@login_required
@require_http_methods(["GET", "POST"])
def project_reports(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the Reports tab; POST: start a new report from the form and open its page."""
    project = visible_project(request.user, pk)
    form = NewReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        report = form.launch(project, request.user)
        if report is not None:
            return redirect(report.get_absolute_url())
    page = Paginator(report_rows(project), REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "patterns/project_reports.html", {"project": project, "page": page, "form": form,
                                                             "tab": "reports"},
                  status=400 if request.method == "POST" else 200)
