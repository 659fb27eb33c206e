"""Stored single-session summaries: one row per (session, engine + model, prompt version, focus, input hash)."""
from __future__ import annotations

import hashlib
from typing import Any

from django.db import models, transaction

from summaries.models.captured import Session


def summary_cache_key(session_pk: int, engine: str, model: str, prompt_version: str, focus: str, input_hash: str) -> str:
    """The identity of a summary: asking again with the same key returns the stored row."""
    raw = "\x1f".join([str(session_pk), engine, model, prompt_version, focus.strip(), input_hash])
    return hashlib.sha256(raw.encode()).hexdigest()


def current_versions() -> tuple[str, ...]:
    """The version ids of summaries made by the code and prompts running now (rule engine, LLM prompts)."""
    from summaries.analysis.rules import RULES_VERSION
    from summaries.prompts import PROMPT_VERSION

    return RULES_VERSION, PROMPT_VERSION


class SessionSummaryQuerySet(models.QuerySet):
    """Summaries, with a filter for those made by the current code and prompts."""

    def current(self) -> SessionSummaryQuerySet:
        """Only summaries whose version is the one running now; older ones are history, never served as current."""
        return self.filter(prompt_version__in=current_versions())


class SessionSummary(models.Model):
    """What one session's user tried to do and how it went; the `summary` JSON is described in
    `summaries.analysis.schema` (schema id "recap.session_summary/1")."""

    class Engine(models.TextChoices):
        RULES = "rules", "Rule-based"
        LLM = "llm", "LLM"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="summaries")
    engine = models.CharField(max_length=10, choices=Engine.choices)
    model = models.CharField(max_length=200, blank=True, default="", help_text="litellm model name; empty for rules")
    prompt_version = models.CharField(max_length=60)
    focus = models.TextField(blank=True, default="", help_text="Optional question the summary should answer")
    input_hash = models.CharField(max_length=64, help_text="sha256 of the prepared input")
    cache_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    summary = models.JSONField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0, help_text="Tokens of the prepared input (tiktoken)")
    input_tokens = models.PositiveIntegerField(default=0, help_text="Input tokens billed over all model calls")
    output_tokens = models.PositiveIntegerField(default=0, help_text="Output tokens billed over all model calls")
    cost_usd = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, help_text="litellm's figure; empty when it does not know the model"
    )
    llm_calls = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    validated_at = models.DateTimeField(null=True, blank=True, help_text="Last video validation applied")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the run in progress; a stale one means its worker died"
    )
    deadline_at = models.DateTimeField(null=True, blank=True, help_text="When the run in progress must give up")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionSummaryQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["session", "status", "-updated_at"], name="summary_session_status"),
        ]
        ordering = ["-updated_at"]
        verbose_name_plural = "session summaries"

    def __str__(self) -> str:
        return f"{self.session_id} {self.engine}{'/' + self.model if self.model else ''} {self.status}"

    @property
    def is_current(self) -> bool:
        """True when made by the code and prompts running now."""
        return self.prompt_version in current_versions()

    @property
    def rule_based(self) -> bool:
        """True when the rule engine wrote it."""
        return self.engine == self.Engine.RULES

    @property
    def blocking_key_actions(self) -> list[dict[str, Any]]:
        """The key actions flagged blocking (what video validation checks)."""
        from summaries.analysis.schema import blocking_key_actions

        return blocking_key_actions(self.summary) if self.summary else []

    def apply_validation(
        self,
        event_id: str,
        verdict: str,
        *,
        changes: dict[str, Any] | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> list[str]:
        """Record a video verdict on one key action (and allowed changes) under a row lock; return ignored paths."""
        from django.utils import timezone

        from summaries.analysis.schema import apply_validation

        with transaction.atomic():
            row = SessionSummary.objects.select_for_update().get(pk=self.pk)
            if not row.summary:
                raise ValueError(f"summary {self.pk} has no content to validate (status {row.status})")
            updated, ignored = apply_validation(row.summary, event_id, verdict, changes=changes, evidence=evidence)
            row.summary = updated
            row.validated_at = timezone.now()
            row.save(update_fields=["summary", "validated_at", "updated_at"])
        self.summary, self.validated_at = row.summary, row.validated_at
        return ignored
