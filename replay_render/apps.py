"""App config for replay_render."""
from __future__ import annotations

from django.apps import AppConfig


class ReplayRenderConfig(AppConfig):
    """rrweb replay to webm clips; video validation."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "replay_render"
    verbose_name = "Replay clips"

    def ready(self) -> None:
        """Connect the signal that queues validation of new summaries."""
        from replay_render import signals  # noqa: F401
