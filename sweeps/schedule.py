"""Each sweep's django-celery-beat entry, kept in step with its cadence and whether it is enabled."""
from __future__ import annotations

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from sweeps.models import Sweep

TICK_TASK = "sweeps.tasks.tick"


def task_name(sweep: Sweep) -> str:
    """The beat entry's unique name."""
    return f"sweep-{sweep.pk}-project-{sweep.project_id}"


def sync(sweep: Sweep) -> PeriodicTask:
    """Create or update the sweep's beat entry (every `cadence_minutes`, enabled with the sweep)."""
    every, _ = IntervalSchedule.objects.get_or_create(every=max(1, sweep.cadence_minutes),
                                                      period=IntervalSchedule.MINUTES)
    task = PeriodicTask.objects.filter(pk=sweep.periodic_task_id).first() if sweep.periodic_task_id else None
    task = task or PeriodicTask.objects.filter(name=task_name(sweep)).first() or PeriodicTask(name=task_name(sweep))
    task.interval, task.crontab = every, None
    task.task, task.args, task.kwargs = TICK_TASK, json.dumps([sweep.pk]), "{}"
    task.enabled = sweep.enabled
    task.description = f"Sweep of {sweep.project}"
    task.save()
    if sweep.periodic_task_id != task.pk:
        Sweep.objects.filter(pk=sweep.pk).update(periodic_task=task)
        sweep.periodic_task = task
    return task


def remove(sweep: Sweep) -> None:
    """Delete the sweep's beat entry."""
    PeriodicTask.objects.filter(name=task_name(sweep)).delete()
    if sweep.periodic_task_id:
        PeriodicTask.objects.filter(pk=sweep.periodic_task_id).delete()
