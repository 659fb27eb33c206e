"""App config for patterns."""
from __future__ import annotations

from django.apps import AppConfig


class PatternsConfig(AppConfig):
    """Group reports across sessions."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "patterns"
    verbose_name = "Group reports"

    def ready(self) -> None:
        """Every admin is loaded by now: add the report actions to the Session and Project admins."""
        from patterns.admin_actions import install

        install()
