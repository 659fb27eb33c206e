"""Celery tasks: rendering clips (queue `render`) and validating blocking issues on them (queue `llm`)."""
from __future__ import annotations

import logging

from celery import chain, shared_task
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


@shared_task(name="replay_render.tasks.validate_blocking_issues")
def validate_blocking_issues(summary_pk: int, force: bool = False) -> dict[str, object]:
    """Render a clip for every blocking key action (queue render), then validate each on it (queue llm)."""
    from replay_render.validation import clip_for_action, pending_actions
    from summaries.models import SessionSummary

    summary = SessionSummary.objects.select_related("session").filter(pk=summary_pk).first()
    if summary is None or not summary.summary:
        return {"summary_id": summary_pk, "queued": 0, "reason": "no summary content to validate"}
    pairs = []
    for action in pending_actions(summary, force=force):
        try:
            pairs.append([str(action["event_id"]), clip_for_action(summary, action).pk])
        except (ClipRequestError, KeyError, TypeError, ValueError) as exc:
            logger.warning("summary %s: no clip for %s: %s", summary_pk, action.get("event_id"), exc)
    if not pairs:
        return {"summary_id": summary_pk, "queued": 0, "reason": "no blocking key action to validate"}
    # One chain per action: render on the render queue, then look at it on the llm queue. Chains run in
    # parallel and each verdict is written under a row lock, so one slow model call holds up nothing else.
    for event_id, clip_pk in pairs:
        chain(render_clip_by_id.si(clip_pk), validate_key_action.si(summary_pk, event_id, clip_pk)).apply_async()
    return {"summary_id": summary_pk, "queued": len(pairs)}


@shared_task(name="replay_render.tasks.validate_key_action", bind=True, max_retries=30)
def validate_key_action(self, summary_pk: int, event_id: str, clip_pk: int) -> dict[str, object]:
    """Validate one blocking key action on its (rendered or failed) clip and record the verdict."""
    from replay_render.validation import validate_action
    from summaries.models import SessionSummary

    summary = SessionSummary.objects.select_related("session").filter(pk=summary_pk).first()
    clip = Clip.objects.filter(pk=clip_pk).first()
    action = next((a for a in summary.blocking_key_actions if a["event_id"] == event_id), None) if summary else None
    if summary is None or clip is None or action is None:
        return {"event_id": event_id, "clip_id": clip_pk, "state": "gone"}
    if clip.state in (Clip.State.PENDING, Clip.State.RENDERING):
        # Another chain is rendering the same clip (two actions at one moment): look once it is done.
        raise self.retry(countdown=10)
    return validate_action(summary, action, clip).as_dict()


@worker_process_shutdown.connect
def _close_browser_on_shutdown(**_: object) -> None:
    """A worker process that ends takes its chromium with it."""
    close_shared_browser()
