"""Admin for tenancy and captured data."""
from __future__ import annotations

from django.contrib import admin

from summaries.models import Event, Membership, Organization, Project, RecordingChunk, Session
from summaries.models import SessionSummary


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    fields = ["name", "capture_token", "created_at"]
    readonly_fields = ["capture_token", "created_at"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, ProjectInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "capture_token", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "capture_token", "organization__name"]
    readonly_fields = ["capture_token", "secret_api_key", "created_at"]
    autocomplete_fields = ["organization"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
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
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "timestamp", "session", "current_url", "window_id"]
    list_filter = ["name", "session__project"]
    search_fields = ["uuid", "name", "current_url", "session__session_id"]
    raw_id_fields = ["session"]
    list_select_related = ["session"]


@admin.register(RecordingChunk)
class RecordingChunkAdmin(admin.ModelAdmin):
    list_display = ["session", "window_id", "first_timestamp", "last_timestamp", "event_count", "byte_size", "has_full_snapshot"]
    list_filter = ["has_full_snapshot", "session__project"]
    search_fields = ["session__session_id", "window_id"]
    raw_id_fields = ["session"]
    list_select_related = ["session"]


@admin.register(SessionSummary)
class SessionSummaryAdmin(admin.ModelAdmin):
    list_display = ["session", "engine", "model", "prompt_version", "status", "llm_calls", "input_tokens",
                    "output_tokens", "cost_usd", "updated_at"]
    list_filter = ["engine", "status", "prompt_version", "session__project"]
    search_fields = ["session__session_id", "model", "focus", "error"]
    raw_id_fields = ["session"]
    list_select_related = ["session"]
    readonly_fields = ["cache_key", "input_hash", "created_at", "updated_at", "validated_at"]

from summaries.ingest.admin import RawBatchAdmin  # noqa: E402,F401 - registers the raw capture batch admin
