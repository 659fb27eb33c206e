"""App config for summaries."""
from __future__ import annotations

from django.apps import AppConfig


class SummariesConfig(AppConfig):
    """Sessions, events, recordings and their summaries."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "summaries"
    verbose_name = "Sessions and summaries"

    def ready(self) -> None:
        """Every admin is loaded by now: make the ones without an organization scope superuser-only."""
        from summaries.admin_scope import seal_admin_site

        seal_admin_site()
