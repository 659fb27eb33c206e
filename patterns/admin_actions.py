"""Admin actions that start group reports: from selected sessions (with an intermediate page) and per project."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from patterns.control import create_report, start
from patterns.models import Report
from patterns.prompts import MAX_FOCUS
from summaries.models import Project, Session
from summaries.summarize import SummaryFailed


class SessionsReportForm(forms.Form):
    """The intermediate page's choices: a focus question and the engine."""

    focus = forms.CharField(max_length=MAX_FOCUS, required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                            label="Focus question (optional)")
    engine = forms.ChoiceField(choices=[("", "Default")] + list(Report.Engine.choices), required=False)


def may_create(request: HttpRequest) -> bool:
    """True when the user may add reports (told otherwise with a message)."""
    if request.user.has_perm("patterns.add_report"):
        return True
    messages.error(request, "You may not create reports (the add report permission is missing).")
    return False


def launch(request: HttpRequest, project: Project, title: str, **options: Any) -> Report | None:
    """Create and start one report from the admin; an unusable engine becomes an error message."""
    try:
        report = create_report(project, trigger=Report.Trigger.ADMIN, created_by=request.user, title=title, **options)
    except (ValueError, SummaryFailed) as exc:
        messages.error(request, f"{project.name}: {exc}")
        return None
    return start(report)


def opened(request: HttpRequest, reports: list[Report]) -> HttpResponse | None:
    """Say what was queued; one report opens its page, several the report list."""
    if not reports:
        return None
    for report in reports:
        messages.info(request, f"Report {report.pk} queued on the workers: {report.title}.")
    if len(reports) == 1:
        return HttpResponseRedirect(reports[0].get_absolute_url())
    return HttpResponseRedirect(reverse("admin:patterns_report_changelist"))


@admin.action(description="Create a group report from the selected sessions")
def create_group_report(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    """Ask for a focus and an engine, then start one report per project of the selected sessions."""
    if not may_create(request):
        return None
    sessions = list(queryset.select_related("project__organization").order_by("project_id", "-start_time"))
    form = SessionsReportForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        reports = []
        for project in {s.project_id: s.project for s in sessions}.values():
            chosen = [s for s in sessions if s.project_id == project.pk]
            report = launch(request, project, f"{project.name}: {len(chosen)} chosen sessions", sessions=chosen,
                            focus=form.cleaned_data["focus"], engine=form.cleaned_data["engine"] or None,
                            max_sessions=len(chosen))
            if report is not None:
                reports.append(report)
        return opened(request, reports)
    return TemplateResponse(request, "admin/patterns/create_report.html", {
        **modeladmin.admin_site.each_context(request),
        "title": "Create a group report",
        "opts": modeladmin.model._meta,
        "sessions": sessions[:100],
        "more": max(0, len(sessions) - 100),
        "count": len(sessions),
        "form": form,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": [s.pk for s in sessions],
    })


def report_on_last(hours: int, label: str) -> Any:
    """A Project action: a report on each selected project's sessions of the last `hours`."""
    @admin.action(description=f"Report on the last {label}")
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if not may_create(request):
            return None
        since = timezone.now() - timedelta(hours=hours)
        reports = [report for project in queryset.select_related("organization")
                   if (report := launch(request, project, f"{project.name}: last {label}", since=since)) is not None]
        return opened(request, reports)

    action.__name__ = f"report_on_last_{hours}h"
    return action


report_on_last_24h = report_on_last(24, "24 h")
report_on_last_7d = report_on_last(24 * 7, "7 days")


def install(site: admin.AdminSite | None = None) -> None:
    """Add the actions to the Session and Project admins (summaries does not know about reports)."""
    site = site or admin.site
    for model, actions in ((Session, [create_group_report]), (Project, [report_on_last_24h, report_on_last_7d])):
        model_admin = site._registry.get(model)
        if model_admin is not None:
            model_admin.actions = [*(model_admin.actions or []), *actions]
