"""The report page, its progress endpoint and its exports, for members of the report's organization only."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from patterns import feedback, live
from patterns.exports import FORMATS, export, filename
from patterns.models import Report
from patterns.report_page import EXAMPLES_AT_A_TIME, failures, header_counts, kind_tabs, page_patterns, parse_query
from summaries.safe_json import json_response
from summaries.views import is_member


def visible_report(user, pk: int) -> Report:
    """The report if the user belongs to its organization (superusers see all); 404 otherwise, never a hint."""
    report = get_object_or_404(Report.objects.select_related("project", "organization", "created_by"), pk=pk)
    if is_member(user, report.organization):
        return report
    raise Http404("No such report")


@login_required
def report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The ranked patterns (filtered by issue type, searched, sorted) with examples; progress while it runs."""
    report = visible_report(request.user, pk)
    query = parse_query(request.GET)
    patterns = page_patterns(report, query)
    feedback.annotate(report, patterns, request.user)
    return render(request, "patterns/report.html", {
        "report": report,
        "query": query,
        "tabs": kind_tabs(report, query),
        "patterns": patterns,
        "at_a_time": EXAMPLES_AT_A_TIME,
        "counts": header_counts(report),
        "live": None if report.is_final else live.payload(report),
        "failures": failures(report) if report.is_final else [],
        "phases": [(name, record) for name, record in report.phases.items()],
    })


@login_required
def report_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's progress as JSON (what the page polls while the report runs)."""
    return json_response(live.payload(visible_report(request.user, pk)))


@login_required
def report_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The report as a download: JSON (recap.group_report/1), CSV or Markdown."""
    report = visible_report(request.user, pk)
    if fmt not in FORMATS:
        raise Http404("No such format")
    response = HttpResponse(export(report, fmt), content_type=FORMATS[fmt][0])
    response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
    return response


@login_required
@require_POST
def pattern_feedback(request: HttpRequest, pk: int, pattern_pk: int) -> HttpResponse:
    """Record the member's thumbs up / "not an issue" (or take it back), then return to the report page."""
    report = visible_report(request.user, pk)
    pattern = get_object_or_404(report.patterns.select_related("report"), pk=pattern_pk)
    try:
        feedback.record(pattern, request.user, request.POST.get("verdict", ""))
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    back = request.POST.get("next", "")
    if not back.startswith(report.get_absolute_url()) or not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        back = report.get_absolute_url()
    return redirect(f"{back.split('#')[0]}#pattern-{pattern.pk}")
