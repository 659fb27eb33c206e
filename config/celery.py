"""The Celery app: configured from Django settings (CELERY_*), tasks discovered in every app."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("recap")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["summaries.ingest"])  # capture tasks live in summaries/ingest/tasks.py
app.autodiscover_tasks(["config"], related_name="workers")
