"""App config for sweeps."""
from __future__ import annotations

from django.apps import AppConfig


class SweepsConfig(AppConfig):
    """Scheduled sweeps, rolling reports, pattern identity and alerts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sweeps"
    verbose_name = "Sweeps and alerts"

    def ready(self) -> None:
        """Keep each sweep's beat entry in sync with its settings."""
        from sweeps import signals  # noqa: F401
