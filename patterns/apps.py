"""App config for patterns."""
from __future__ import annotations

from django.apps import AppConfig


class PatternsConfig(AppConfig):
    """Group reports across sessions."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "patterns"
    verbose_name = "Group reports"
