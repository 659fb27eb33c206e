"""Clip files for signed-in members of the clip's organization (nobody else learns that a clip exists)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from replay_render.models import Clip
from summaries.models import Membership


def readable_clip(user, pk: int) -> Clip:
    """The clip if `user` is a member of its organization and it is rendered; else Http404."""
    clip = Clip.objects.select_related("session__project").filter(pk=pk).first()
    if clip is None or not Membership.objects.filter(
        user=user, organization_id=clip.session.project.organization_id
    ).exists():
        raise Http404("no such clip")
    if not clip.is_ready:
        raise Http404("this clip is not rendered (yet)")
    return clip


@login_required
def clip_file(request: HttpRequest, pk: int) -> FileResponse:
    """Stream the clip's webm (inline, so a <video> element can play it)."""
    clip = readable_clip(request.user, pk)
    try:
        handle = clip.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("the clip's file is missing from storage") from exc
    response = FileResponse(handle, content_type="video/webm", filename=f"clip-{clip.pk}.webm")
    response["Content-Disposition"] = f'inline; filename="clip-{clip.pk}.webm"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
