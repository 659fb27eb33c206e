"""Admin of sweeps: settings per project, ticks with their skip reasons, claims and monthly usage (org-scoped)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from summaries.admin_scope import OrganizationScopedAdmin, OrganizationScopedInline
from summaries.summarize import SummaryFailed, choose_engine
from sweeps import caps
from sweeps.identity import trend
from sweeps.models import (
    Alert, AlertChannel, AlertPolicy, Delivery, PatternDay, RollingReport, Sweep, SweepClaim, SweepTick, SweepUsage,
    TrackedPattern,
)


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


class SweepForm(forms.ModelForm):
    """The engine and model are checked before the sweep is saved (an llm sweep needs a model)."""

    class Meta:
        """Every editable field."""
        model = Sweep
        exclude = ["organization"]

    def clean(self) -> dict[str, Any]:
        """Refuse an engine that cannot summarize."""
        data = super().clean()
        if data.get("engine") and data["engine"] != Sweep.Engine.AUTO:
            try:
                choose_engine(data["engine"], data.get("model") or None)
            except (ValueError, SummaryFailed) as exc:
                raise ValidationError(str(exc)) from exc
        return data


@admin.register(Sweep)
class SweepAdmin(OrganizationScopedAdmin):
    """A project's sweep: saving it updates its beat entry; the state says when a cap stopped it."""

    organization_path = "organization"
    form = SweepForm
    list_display = ["project", "enabled", "engine", "cadence_minutes", "state", "status_message", "month_usage",
                    "last_tick_at"]
    list_filter = ["state", "enabled", "engine"]
    search_fields = ["project__name"]
    readonly_fields = ["state", "status_message", "last_tick_at", "month_usage", "periodic_task"]
    exclude = ["organization"]
    inlines = [TickInline]
    actions = ["tick_now"]
    fieldsets = [
        (None, {"fields": ["project", "enabled", "cadence_minutes", "engine", "model", "focus", "rolling_report"]}),
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
            tick.delay(sweep.pk, SweepTick.Trigger.ADMIN)
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


class PatternDayInline(ReadOnlyMixin, OrganizationScopedInline):
    """Sessions affected per day."""

    model = PatternDay
    organization_path = "organization"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["day", "sessions_affected", "sessions_analysed", "share_of_sessions", "report"]
    readonly_fields = fields


@admin.register(TrackedPattern)
class TrackedPatternAdmin(OrganizationScopedAdmin):
    """Patterns with a stable identity: first and last seen, the trend; mark one fixed to hear when it is back."""

    organization_path = "organization"
    list_display = ["name", "project", "severity", "kind", "first_seen", "last_seen", "trend_line", "fixed_at"]
    list_filter = ["severity", "kind", "project"]
    search_fields = ["name", "key"]
    readonly_fields = ["project", "key", "name", "description", "severity", "kind", "rule_fingerprints",
                       "first_seen", "last_seen", "checks", "last_alerted", "trend_line"]
    exclude = ["organization"]
    inlines = [PatternDayInline]
    actions = ["mark_fixed", "mark_not_fixed"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Patterns come from reports only."""
        return False

    @admin.display(description="sessions per day")
    def trend_line(self, obj: TrackedPattern) -> str:
        """The last 14 days with a report, oldest first: `11-02: 2 · 11-03: 3`."""
        return " · ".join(f"{day:%m-%d}: {count}" for day, count in trend(obj)) or "-"

    @admin.action(description="Mark fixed (alert when it comes back)")
    def mark_fixed(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Record the fix time."""
        count = queryset.update(fixed_at=timezone.now())
        messages.info(request, f"{count} pattern(s) marked fixed.")

    @admin.action(description="Mark not fixed")
    def mark_not_fixed(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Clear the fix time."""
        queryset.update(fixed_at=None)


@admin.register(RollingReport)
class RollingReportAdmin(ReadOnlyMixin, OrganizationScopedAdmin):
    """Each sweep day's report."""

    organization_path = "organization"
    list_display = ["sweep", "day", "report", "dirty", "tracked_run", "updated_at"]
    list_select_related = ["sweep__project__organization", "report__project"]  # the report may be null


class ChannelInline(OrganizationScopedInline):
    """The policy's channels (the webhook secret signs every payload)."""

    model = AlertChannel
    organization_path = "organization"
    extra = 0
    fields = ["kind", "name", "url", "emails", "secret", "enabled"]


@admin.register(AlertPolicy)
class AlertPolicyAdmin(OrganizationScopedAdmin):
    """Alert rules of a project and where they go."""

    organization_path = "organization"
    list_display = ["project", "enabled", "new_pattern_severity", "spike_factor", "spike_min_sessions",
                    "cooldown_hours", "digest"]
    exclude = ["organization"]
    inlines = [ChannelInline]


class DeliveryInline(ReadOnlyMixin, OrganizationScopedInline):
    """Where the alert went and how each attempt ended."""

    model = Delivery
    organization_path = "organization"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["channel", "delivery_id", "status", "attempts", "response_code", "error", "log", "sent_at"]
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(ReadOnlyMixin, OrganizationScopedAdmin):
    """Alerts fired, with their deliveries."""

    organization_path = "organization"
    list_display = ["title", "project", "kind", "created_at"]
    list_filter = ["kind"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, OrganizationScopedAdmin):
    """The delivery log: every alert sent to every channel, its attempts and answers."""

    organization_path = "organization"
    list_display = ["delivery_id", "alert", "channel", "status", "attempts", "response_code", "error", "sent_at"]
    list_select_related = ["alert", "channel"]  # the channel may be null
    list_filter = ["status"]
    actions = ["send_again"]

    @admin.action(description="Send again")
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Queue failed deliveries once more (same delivery id, so receivers can dedupe)."""
        from sweeps.tasks import deliver

        ids = list(queryset.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.PENDING, attempts=0)
        for pk in ids:
            deliver.delay(pk)
        messages.info(request, f"Queued {len(ids)} deliveries again.")
