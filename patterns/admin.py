"""Admin for group reports, patterns and examples; staff see only their organizations' rows."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from patterns import progress
from patterns.control import cancel, rerun, start
from patterns.models import Pattern, PatternExample, PatternFeedback, Report
from summaries.admin_scope import OrganizationScopedAdmin, OrganizationScopedInline
from summaries.summarize import SummaryFailed, choose_engine

RESULT_FIELDS = ["status", "phase", "message", "run", "sessions_analysed", "phases", "selected", "llm_calls",
                 "input_tokens", "output_tokens", "cost_usd", "versions", "workers", "input_digest",
                 "pipeline_state", "created_by", "created_at", "started_at", "finished_at", "page"]


class ReportForm(forms.ModelForm):
    """The add form: the engine and model are checked (and the model defaulted) before anything is queued."""

    class Meta:
        """All editable fields."""
        model = Report
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        """An llm report needs a model (RECAP_LLM_MODEL or the field)."""
        data = super().clean()
        try:
            data["engine"], data["model"] = choose_engine(data.get("engine"), data.get("model") or None)
        except (ValueError, SummaryFailed) as exc:
            raise ValidationError(str(exc)) from exc
        return data


class PatternInline(OrganizationScopedInline):
    """The report's ranked patterns."""

    model = Pattern
    organization_path = "report__organization"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["rank", "severity", "kind", "name", "sessions_affected", "occurrences", "share_of_sessions",
              "confirmed", "denied", "inconclusive"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Patterns come from the pipeline only."""
        return False


@admin.register(Report)
class ReportAdmin(OrganizationScopedAdmin):
    """Reports: adding one starts it; actions re-run or cancel."""

    organization_path = "organization"
    form = ReportForm
    list_display = ["id", "title", "project", "engine", "status", "phase", "progress_line", "sessions_analysed",
                    "pattern_count", "llm_calls", "cost_usd", "trigger", "created_at", "open_page"]
    list_select_related = ["project", "project__organization"]
    list_filter = ["status", "engine", "trigger", "organization"]
    search_fields = ["title", "project__name", "focus"]
    readonly_fields = RESULT_FIELDS
    inlines = [PatternInline]
    actions = ["rerun_reports", "cancel_reports"]
    fieldsets = [
        (None, {"fields": ["project", "title", "engine", "model", "focus", "clips_per_pattern"]}),
        ("Selection", {"fields": ["session_ids", "since", "until", "url_contains", "min_active_seconds",
                                  "identified_only", "max_sessions"]}),
        ("Result", {"fields": RESULT_FIELDS}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Scoped rows with their pattern count (one query for the whole list)."""
        return super().get_queryset(request).annotate(pattern_total=Count("patterns"))

    @admin.display(description="patterns", ordering="pattern_total")
    def pattern_count(self, obj: Report) -> int:
        """How many patterns the report found."""
        return obj.pattern_total if hasattr(obj, "pattern_total") else obj.patterns.count()

    @admin.display(description="progress")
    def progress_line(self, obj: Report) -> str:
        """While it runs: the phase's counts and patterns so far (from Redis); empty once it ended."""
        return "" if obj.is_final else progress.read(obj.pk).line()

    @admin.display(description="page")
    def open_page(self, obj: Report) -> str:
        """A link to the report's page."""
        return format_html('<a href="{}">open</a>', obj.get_absolute_url())

    @admin.display(description="report page")
    def page(self, obj: Report) -> str:
        """A link to the report's page."""
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url()) if obj.pk else "-"

    def save_model(self, request: HttpRequest, obj: Report, form: Any, change: bool) -> None:
        """A new report belongs to its project's organization, records who made it, and starts."""
        if not change:
            obj.organization = obj.project.organization
            obj.trigger = Report.Trigger.ADMIN
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            start(obj)
            messages.info(request, f"Report {obj.pk} queued on the workers.")

    @admin.action(description="Run again (cached work is reused)")
    def rerun_reports(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Re-run the selected reports."""
        for report in queryset:
            rerun(report)
        messages.info(request, f"{queryset.count()} report(s) queued again.")

    @admin.action(description="Cancel (queued work will not run)")
    def cancel_reports(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Cancel the selected reports."""
        stopped = sum(1 for report in queryset if cancel(report))
        messages.info(request, f"{stopped} report(s) cancelled.")


class ExampleInline(OrganizationScopedInline):
    """A pattern's examples, one per session."""

    model = PatternExample
    organization_path = "pattern__report__organization"
    extra = 0
    can_delete = False
    fields = ["session", "seconds_from_start", "kind", "description", "segment_name", "segment_success", "verdict",
              "clip"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Examples come from the pipeline only."""
        return False


@admin.register(Pattern)
class PatternAdmin(OrganizationScopedAdmin):
    """Patterns with their statistics and examples (read-only)."""

    organization_path = "report__organization"
    list_display = ["name", "report", "rank", "severity", "kind", "sessions_affected", "occurrences",
                    "share_of_sessions", "confirmed", "denied"]
    list_filter = ["severity", "kind", "rule_based"]
    list_select_related = ["report__project"]
    search_fields = ["name", "description", "fingerprint"]
    readonly_fields = [f.name for f in Pattern._meta.fields]
    inlines = [ExampleInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Patterns come from the pipeline only."""
        return False


@admin.register(PatternExample)
class PatternExampleAdmin(OrganizationScopedAdmin):
    """Examples: the moment, its context and its verdict (read-only)."""

    organization_path = "pattern__report__organization"
    list_display = ["pattern", "session", "seconds_from_start", "kind", "verdict"]
    list_filter = ["kind", "verdict"]
    list_select_related = ["pattern", "session"]
    search_fields = ["session__session_id", "description", "event_id", "event_uuid"]
    readonly_fields = [f.name for f in PatternExample._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Examples come from the pipeline only."""
        return False


@admin.register(PatternFeedback)
class PatternFeedbackAdmin(OrganizationScopedAdmin):
    """Who said what about which pattern, and when (read-only)."""

    organization_path = "project__organization"
    list_display = ["pattern", "verdict", "user", "project", "created_at"]
    list_filter = ["verdict"]
    list_select_related = ["pattern", "user", "project"]
    search_fields = ["fingerprint", "pattern__name"]
    readonly_fields = [f.name for f in PatternFeedback._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Feedback comes from the report page."""
        return False
