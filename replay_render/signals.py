"""Signals: queue video validation when a summary with blocking key actions succeeds (replay_render depends on
summaries, not the reverse), and remove a clip's file with its row."""
from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from replay_render.models import Clip
from summaries.models import SessionSummary

logger = logging.getLogger(__name__)


@receiver(post_save, sender=SessionSummary, dispatch_uid="replay_render.validate_on_summary")
def validate_new_summary(sender: type, instance: SessionSummary, update_fields: Any = None, **_: Any) -> None:
    """A freshly succeeded summary with unvalidated blocking actions gets validate_blocking_issues queued."""
    if not getattr(settings, "RECAP_AUTO_VALIDATE", True):
        return
    if update_fields and "validated_at" in update_fields:
        return  # our own write-back (apply_validation)
    if instance.status != SessionSummary.Status.SUCCEEDED or not instance.summary:
        return
    if not any(not a.get("validation") for a in instance.blocking_key_actions):
        return

    def queue() -> None:
        """Queue validation once the summary is committed."""
        from replay_render.tasks import validate_blocking_issues

        try:
            validate_blocking_issues.delay(instance.pk)
        except Exception:  # the broker being down must not fail the summary's save
            logger.exception("could not queue validation of summary %s", instance.pk)

    transaction.on_commit(queue)


@receiver(post_delete, sender=Clip, dispatch_uid="replay_render.delete_clip_file")
def delete_clip_file(sender: type, instance: Clip, **_: Any) -> None:
    """A deleted clip (or one of a deleted session) takes its webm out of storage too."""
    if instance.file:
        try:
            instance.file.delete(save=False)
        except OSError:  # storage unreachable: the orphan file is harmless, the row is gone either way
            logger.warning("could not delete %s from storage", instance.file.name)
