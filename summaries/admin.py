"""Admin for tenancy and captured data, every page scoped to the user's organizations (summaries.admin_scope)."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from summaries.admin_scope import OrganizationScopedAdmin, OrganizationScopedInline, is_owner, owned_organization_ids
from summaries.models import Event, Membership, Organization, Project, RecordingChunk, Session, SessionSummary

SECRET_FIELDS = ["secret_api_key"]


class CapturedDataAdmin(OrganizationScopedAdmin):
    """Rows that come from capture, imports and workers: looked at and deleted here, never typed in."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


class MembershipRulesMixin:
    """Memberships decide who sees what (and owners see secret keys): only an organization's owners change them."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and (  # type: ignore[misc]
            request.user.is_superuser or bool(owned_organization_ids(request.user)))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and (  # type: ignore[misc]
            obj is None or is_owner(request.user, _organization_id(obj)))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (  # type: ignore[misc]
            obj is None or is_owner(request.user, _organization_id(obj)))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """A new membership goes only into an organization the user owns."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name == "organization" and field is not None and not request.user.is_superuser:
            field.queryset = field.queryset.filter(pk__in=owned_organization_ids(request.user))
        return field


def _organization_id(obj: Model) -> int | None:
    """The organization of a Membership, or the Organization itself (inline permission checks get the parent)."""
    return obj.pk if isinstance(obj, Organization) else getattr(obj, "organization_id", None)


class MembershipInline(MembershipRulesMixin, OrganizationScopedInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ProjectInline(OrganizationScopedInline):
    model = Project
    extra = 0
    fields = ["name", "capture_token", "created_at"]
    readonly_fields = ["capture_token", "created_at"]


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_path = "pk"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, ProjectInline]

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        """Whoever creates an organization owns it (otherwise a staff member could not see what they made)."""
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            Membership.objects.get_or_create(user=request.user, organization=obj,
                                             defaults={"role": Membership.Role.OWNER})


@admin.register(Membership)
class MembershipAdmin(MembershipRulesMixin, OrganizationScopedAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Project)
class ProjectAdmin(OrganizationScopedAdmin):
    """Projects; the secret API key is shown to the organization's owners only."""

    list_display = ["name", "organization", "capture_token", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "capture_token", "organization__name"]
    readonly_fields = ["capture_token", "secret_api_key", "created_at"]
    autocomplete_fields = ["organization"]

    def _sees_secrets(self, request: HttpRequest, obj: Project | None) -> bool:
        return is_owner(request.user, obj.organization_id if obj is not None else None)

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return fields if self._sees_secrets(request, obj) else [f for f in fields if f not in SECRET_FIELDS]

    def get_exclude(self, request: HttpRequest, obj: Project | None = None) -> list[str]:
        excluded = list(super().get_exclude(request, obj) or [])
        return excluded if self._sees_secrets(request, obj) else excluded + SECRET_FIELDS


@admin.register(Session)
class SessionAdmin(CapturedDataAdmin):
    organization_path = "project__organization"
    list_display = [
        "session_id",
        "project",
        "distinct_id",
        "person_email",
        "start_time",
        "duration_seconds",
        "active_seconds",
        "event_count",
        "exception_count",
        "console_error_count",
        "ingestion_state",
    ]
    list_filter = ["ingestion_state", "project__organization", "project", "start_time"]
    search_fields = ["session_id", "distinct_id", "person_email", "first_url"]
    date_hierarchy = "start_time"
    list_select_related = ["project", "project__organization"]
    readonly_fields = ["created_at", "last_ingested_at"]
    raw_id_fields = ["project"]


@admin.register(Event)
class EventAdmin(CapturedDataAdmin):
    organization_path = "session__project__organization"
    list_display = ["name", "timestamp", "session", "current_url", "window_id"]
    list_filter = ["name", "session__project"]
    search_fields = ["name", "current_url", "session__session_id"]
    raw_id_fields = ["session"]
    list_select_related = ["session"]


@admin.register(RecordingChunk)
class RecordingChunkAdmin(CapturedDataAdmin):
    organization_path = "session__project__organization"
    list_display = ["session", "window_id", "first_timestamp", "last_timestamp", "event_count", "byte_size", "has_full_snapshot"]
    list_filter = ["has_full_snapshot", "session__project"]
    search_fields = ["session__session_id", "window_id"]
    raw_id_fields = ["session"]
    list_select_related = ["session"]


@admin.register(SessionSummary)
class SessionSummaryAdmin(CapturedDataAdmin):
    organization_path = "session__project__organization"
    list_display = ["session", "engine", "model", "prompt_version", "status", "llm_calls", "input_tokens",
                    "output_tokens", "cost_usd", "updated_at"]
    list_filter = ["engine", "status", "prompt_version", "session__project"]
    search_fields = ["session__session_id", "model", "focus", "error"]
    raw_id_fields = ["session"]
    list_select_related = ["session"]
    readonly_fields = ["cache_key", "input_hash", "created_at", "updated_at", "validated_at", "heartbeat_at",
                       "deadline_at"]

from summaries.ingest.admin import QuarantinedEventAdmin, RawBatchAdmin  # noqa: E402,F401 - registers capture admins
