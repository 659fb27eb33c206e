"""Admin for replay clips: state, figures, the webm, and re-rendering."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from replay_render.models import Clip


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    """Clips with their render figures; failed ones show why."""

    list_display = ["id", "session", "start_time", "fps", "state", "failure", "frame_count", "byte_size",
                    "render_seconds", "created_at"]
    list_filter = ["state", "failure", "fps"]
    search_fields = ["session__session_id", "fingerprint"]
    raw_id_fields = ["session"]
    readonly_fields = [f.name for f in Clip._meta.fields if f.name != "id"] + ["video"]
    actions = ["render_again"]

    @admin.display(description="Video")
    def video(self, clip: Clip) -> str:
        """An inline player for a rendered clip."""
        if not clip.is_ready:
            return "-"
        return format_html('<video src="{}" controls width="480"></video>',
                           reverse("replay_render:clip_file", args=[clip.pk]))

    @admin.action(description="Render again (queue render)")
    def render_again(self, request: HttpRequest, queryset: QuerySet[Clip]) -> None:
        """Queue the selected clips for a fresh render on the render workers."""
        from replay_render.tasks import render_clip_by_id

        for clip in queryset:
            render_clip_by_id.delay(clip.pk, force=True)
        self.message_user(request, f"{queryset.count()} clip(s) queued for rendering.", messages.SUCCESS)
