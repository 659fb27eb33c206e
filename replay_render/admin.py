"""Admin for replay clips: state, figures, the webm (played through an admin-only URL), and re-rendering."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from replay_render.models import Clip
from summaries.admin_scope import OrganizationScopedAdmin


@admin.register(Clip)
class ClipAdmin(OrganizationScopedAdmin):
    """Clips with their render figures; failed ones show why. Scoped to the user's organizations."""

    organization_path = "session__project__organization"
    list_display = ["id", "session", "start_time", "fps", "state", "failure", "frame_count", "byte_size",
                    "render_seconds", "created_at"]
    list_filter = ["state", "failure", "fps"]
    search_fields = ["session__session_id", "fingerprint"]
    raw_id_fields = ["session"]
    readonly_fields = [f.name for f in Clip._meta.fields if f.name != "id"] + ["video"]
    actions = ["render_again"]

    def get_urls(self):  # noqa: ANN201 - Django's signature
        """The admin's own route to a clip's webm (the public one is for organization members only)."""
        own = [path("<int:pk>/webm/", self.admin_site.admin_view(self.webm), name="replay_render_clip_webm")]
        return own + super().get_urls()

    def webm(self, request: HttpRequest, pk: int) -> FileResponse:
        """Stream a clip's webm to staff allowed to view clips of its organization."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        clip = self.get_queryset(request).filter(pk=pk).first()
        if clip is None or not clip.is_ready:
            raise Http404("no rendered clip")
        return FileResponse(clip.file.open("rb"), content_type="video/webm")

    @admin.display(description="Video")
    def video(self, clip: Clip) -> str:
        """An inline player for a rendered clip."""
        if not clip.is_ready:
            return "-"
        return format_html('<video src="{}" controls width="480"></video>',
                           reverse("admin:replay_render_clip_webm", args=[clip.pk]))

    @admin.action(description="Render again (queue render)")
    def render_again(self, request: HttpRequest, queryset: QuerySet[Clip]) -> None:
        """Queue the selected clips for a fresh render on the render workers."""
        from replay_render.tasks import render_clip_by_id

        for clip in queryset:
            render_clip_by_id.delay(clip.pk, force=True)
        self.message_user(request, f"{queryset.count()} clip(s) queued for rendering.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Clips are rendered, not typed in."""
        return False
