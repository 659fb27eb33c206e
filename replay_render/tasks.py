"""Celery tasks: rendering clips (queue `render`) and validating blocking issues on them (queue `llm`)."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_shutdown

from replay_render.browser import close_shared_browser
from replay_render.models import Clip
from replay_render.rendering import ClipRequestError, clip_for, render
from summaries.models import Session, ms_to_datetime

logger = logging.getLogger(__name__)


@shared_task(name="replay_render.tasks.render_clip")
def render_clip(
    session_pk: int,
    start_ms: int,
    end_ms: int,
    fps: int | None = None,
    footer: bool | None = None,
    skip_inactive: bool | None = None,
    codec: str | None = None,
    force: bool = False,
) -> dict[str, object]:
    """Render (or reuse) the clip of a session window; never raises for a bad recording."""
    try:
        session = Session.objects.get(pk=session_pk)
    except Session.DoesNotExist:
        return {"clip_id": None, "state": Clip.State.FAILED, "reason": f"session {session_pk} no longer exists"}
    try:
        clip = clip_for(session, ms_to_datetime(start_ms), ms_to_datetime(end_ms), fps,
                        footer=footer, skip_inactive=skip_inactive, codec=codec)
    except ClipRequestError as exc:
        return {"clip_id": None, "state": Clip.State.FAILED, "reason": str(exc)}
    clip = render(clip, force=force)
    return {"clip_id": clip.pk, "state": clip.state, "reason": clip.failure_reason}


@shared_task(name="replay_render.tasks.render_clip_by_id")
def render_clip_by_id(clip_pk: int, force: bool = False) -> dict[str, object]:
    """Render a Clip row created beforehand (admin action, validation)."""
    clip = Clip.objects.filter(pk=clip_pk).first()
    if clip is None:
        return {"clip_id": clip_pk, "state": Clip.State.FAILED, "reason": "the clip no longer exists"}
    clip = render(clip, force=force)
    return {"clip_id": clip.pk, "state": clip.state, "reason": clip.failure_reason}


@worker_process_shutdown.connect
def _close_browser_on_shutdown(**_: object) -> None:
    """A worker process that ends takes its chromium with it."""
    close_shared_browser()
