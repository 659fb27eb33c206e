"""Admin of sweeps: settings per project, ticks with their skip reasons, claims and monthly usage (org-scoped)."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from summaries.admin_scope import OrganizationScopedAdmin, OrganizationScopedInline
from sweeps import caps
from sweeps.models import Sweep, SweepClaim, SweepTick, SweepUsage


class ReadOnlyMixin:
    """Rows written by the sweep only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never added by hand."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never edited by hand."""
        return False


class TickInline(ReadOnlyMixin, OrganizationScopedInline):
    """The sweep's last ticks."""

    model = SweepTick
    organization_path = "organization"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["started_at", "clock", "trigger", "queued", "reused", "skipped", "skip_reasons", "capped", "message",
              "finished", "failed", "finished_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Newest first."""
        return super().get_queryset(request).order_by("-started_at")


@admin.register(Sweep)
class SweepAdmin(OrganizationScopedAdmin):
    """A project's sweep: saving it updates its beat entry; the state says when a cap stopped it."""

    organization_path = "organization"
    list_display = ["project", "enabled", "engine", "cadence_minutes", "state", "status_message", "month_usage",
                    "last_tick_at"]
    list_filter = ["state", "enabled", "engine"]
    search_fields = ["project__name"]
    readonly_fields = ["state", "status_message", "last_tick_at", "month_usage", "periodic_task"]
    exclude = ["organization"]
    inlines = [TickInline]
    actions = ["tick_now"]
    fieldsets = [
        (None, {"fields": ["project", "enabled", "cadence_minutes", "engine", "model", "focus"]}),
        ("Which sessions qualify", {"fields": ["lookback_hours", "complete_only", "min_active_seconds",
                                               "max_active_seconds", "min_events", "url_contains", "sample_rate"]}),
        ("Caps", {"fields": ["cap_per_tick", "monthly_summary_cap", "monthly_token_cap", "monthly_cost_cap_usd"]}),
        ("Status", {"fields": ["state", "status_message", "last_tick_at", "month_usage", "periodic_task"]}),
    ]

    @admin.display(description="this month")
    def month_usage(self, obj: Sweep) -> str:
        """Summaries, tokens and spend of the current month against the caps."""
        if obj.pk is None:
            return "-"
        row = SweepUsage.objects.filter(sweep=obj, month=caps.month_of(timezone.now())).first()
        if row is None:
            return "nothing yet"
        limit = f" of {obj.monthly_summary_cap:,}" if obj.monthly_summary_cap else ""
        return f"{row.summaries:,}{limit} summaries, {row.tokens:,} tokens, ${row.cost_usd:.2f}"

    @admin.action(description="Run a tick now")
    def tick_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Queue one tick of each selected sweep."""
        from sweeps.tasks import tick

        for sweep in queryset:
            tick.delay(sweep.pk)
        messages.info(request, f"Queued a tick of {queryset.count()} sweep(s).")


@admin.register(SweepTick)
class SweepTickAdmin(ReadOnlyMixin, OrganizationScopedAdmin):
    """Every tick: queued, skipped with reasons, caps."""

    organization_path = "organization"
    list_display = ["id", "sweep", "started_at", "trigger", "queued", "reused", "skipped", "capped", "finished",
                    "failed", "message"]
    list_filter = ["capped", "trigger"]


@admin.register(SweepClaim)
class SweepClaimAdmin(ReadOnlyMixin, OrganizationScopedAdmin):
    """Sessions a sweep took, with their state and why they were skipped or failed."""

    organization_path = "organization"
    list_display = ["id", "sweep", "session", "state", "attempts", "day", "reason", "updated_at"]
    list_filter = ["state"]
    raw_id_fields = ["session", "summary", "tick"]
    search_fields = ["session__session_id", "reason"]


@admin.register(SweepUsage)
class SweepUsageAdmin(ReadOnlyMixin, OrganizationScopedAdmin):
    """Monthly usage of each sweep."""

    organization_path = "organization"
    list_display = ["sweep", "month", "summaries", "tokens", "cost_usd"]
