"""Signals: a saved sweep updates its beat entry and lets skipped sessions be judged again; a deleted one loses it."""
from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from sweeps import schedule
from sweeps.models import Sweep, SweepClaim


@receiver(post_save, sender=Sweep, dispatch_uid="sweeps.sync_schedule")
def _saved(sender: type, instance: Sweep, created: bool, **_: Any) -> None:
    """Sync the beat entry; settings may have changed, so sessions skipped as not qualifying are judged again."""
    schedule.sync(instance)
    if not created:
        SweepClaim.objects.filter(sweep=instance, state=SweepClaim.State.SKIPPED).delete()


@receiver(post_delete, sender=Sweep, dispatch_uid="sweeps.remove_schedule")
def _deleted(sender: type, instance: Sweep, **_: Any) -> None:
    """Remove the beat entry."""
    schedule.remove(instance)
