"""A project's sweep settings, the claim that puts a session in flight once, each tick's outcome and monthly usage."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_celery_beat.models import PeriodicTask

from summaries.models import Organization, Project, Session, SessionSummary


def _setting(name: str, default: int) -> int:
    """An integer RECAP_SWEEP_* setting."""
    return int(getattr(settings, name, default))


def default_cadence() -> int:
    """RECAP_SWEEP_CADENCE_MINUTES (default 60)."""
    return _setting("RECAP_SWEEP_CADENCE_MINUTES", 60)


def default_lookback() -> int:
    """RECAP_SWEEP_LOOKBACK_HOURS (default 24)."""
    return _setting("RECAP_SWEEP_LOOKBACK_HOURS", 24)


def default_cap_per_tick() -> int:
    """RECAP_SWEEP_CAP_PER_TICK (default 200)."""
    return _setting("RECAP_SWEEP_CAP_PER_TICK", 200)


class Sweep(models.Model):
    """How a project is swept: cadence, which sessions qualify, caps, engine; and where it stands."""

    class Engine(models.TextChoices):
        """`auto`: a model when RECAP_LLM_MODEL is set, the rules otherwise."""
        AUTO = "auto", "Automatic"
        RULES = "rules", "Rule-based"
        LLM = "llm", "LLM"

    class State(models.TextChoices):
        """The outcome of the last tick."""
        NEW = "new", "Not run yet"
        OK = "ok", "Running normally"
        CAPPED = "capped", "Stopped by a cap"
        ERROR = "error", "Error"
        DISABLED = "disabled", "Disabled"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sweeps")
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="sweep")
    enabled = models.BooleanField(default=True)
    cadence_minutes = models.PositiveIntegerField(default=default_cadence, validators=[MinValueValidator(1)],
                                                  help_text="Minutes between ticks (beat)")
    lookback_hours = models.PositiveIntegerField(default=default_lookback, validators=[MinValueValidator(1)],
                                                 help_text="Sessions started this far back qualify")
    complete_only = models.BooleanField(default=True, help_text="Only complete sessions (an imported one is complete)")
    min_active_seconds = models.FloatField(default=10, help_text="At least this much user activity")
    max_active_seconds = models.FloatField(default=3600, help_text="At most this much user activity (0: no limit)")
    min_events = models.PositiveIntegerField(default=0, help_text="At least this many analytics events")
    url_contains = models.CharField(max_length=500, blank=True, default="",
                                    help_text="A page URL of the session contains this (empty: any)")
    sample_rate = models.FloatField(default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
                                    help_text="Share of qualifying sessions summarized (stable per session)")
    cap_per_tick = models.PositiveIntegerField(default=default_cap_per_tick, help_text="Most summaries queued per tick")
    monthly_summary_cap = models.PositiveIntegerField(default=0, help_text="Summaries per calendar month (0: none)")
    monthly_token_cap = models.PositiveBigIntegerField(default=0, help_text="Model tokens per month (0: none)")
    monthly_cost_cap_usd = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"),
                                               help_text="Model spend per month in $ (0: none)")
    engine = models.CharField(max_length=10, choices=Engine.choices, default=Engine.AUTO)
    model = models.CharField(max_length=200, blank=True, default="", help_text="litellm model; empty: RECAP_LLM_MODEL")
    focus = models.TextField(blank=True, default="", help_text="Question the summaries should answer (LLM engine)")
    rolling_report = models.BooleanField(default=True, help_text="Keep a report per day, re-run after each tick")
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    status_message = models.TextField(blank=True, default="", help_text="What the last tick did, or why it stopped")
    last_tick_at = models.DateTimeField(null=True, blank=True)
    periodic_task = models.OneToOneField(PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """By project."""
        ordering = ["project__name"]

    def __str__(self) -> str:
        """Project and state."""
        return f"Sweep of {self.project} ({self.get_state_display()})"

    def save(self, *args, **kwargs) -> None:
        """The organization is always the project's."""
        self.organization_id = self.project.organization_id
        super().save(*args, **kwargs)


class SweepTick(models.Model):
    """One tick of a sweep: what it queued, what it skipped and why, and whether a cap stopped it."""

    class Trigger(models.TextChoices):
        """Who ran it."""
        BEAT = "beat", "Schedule"
        COMMAND = "command", "Command line"
        ADMIN = "admin", "Admin"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sweep_ticks")
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="ticks")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.BEAT)
    clock = models.DateTimeField(help_text="The time the tick ran as (its window and day)")
    all_time = models.BooleanField(default=False)
    engine = models.CharField(max_length=10, blank=True, default="")
    model = models.CharField(max_length=200, blank=True, default="")
    queued = models.PositiveIntegerField(default=0)
    reused = models.PositiveIntegerField(default=0, help_text="Sessions that already had a summary (no work)")
    skipped = models.PositiveIntegerField(default=0)
    skip_reasons = models.JSONField(default=dict, blank=True, help_text="{reason: sessions}")
    capped = models.BooleanField(default=False)
    message = models.TextField(blank=True, default="")
    finished = models.PositiveIntegerField(default=0, help_text="Summaries of this tick that ended (any outcome)")
    failed = models.PositiveIntegerField(default=0)
    report = models.ForeignKey("patterns.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        """Newest first."""
        ordering = ["-started_at"]

    def __str__(self) -> str:
        """The line the command prints."""
        return f"Tick {self.pk}: queued {self.queued}, skipped {self.skipped}"


def engine_key(engine: str, model: str, focus: str) -> str:
    """What a claim is for: the engine, model and focus of the summary (a new focus is new work)."""
    return f"{engine}|{model}|{hashlib.sha256(focus.encode()).hexdigest()[:12]}"[:250]


class SweepClaim(models.Model):
    """A session taken by a sweep for one engine: unique, so two ticks at once never queue the same work."""

    class State(models.TextChoices):
        """Queued is in flight; done, empty, skipped and gave-up are final; failed is retried."""
        QUEUED = "queued", "Queued"
        DONE = "done", "Summarized"
        EMPTY = "empty", "No events (empty summary)"
        FAILED = "failed", "Failed (will retry)"
        GAVE_UP = "gave_up", "Failed too often"
        SKIPPED = "skipped", "Does not qualify"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sweep_claims")
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="claims")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="sweep_claims")
    engine_key = models.CharField(max_length=250)
    tick = models.ForeignKey(SweepTick, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims")
    day = models.DateField(help_text="The sweep day whose rolling report shows it")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    reason = models.TextField(blank=True, default="", help_text="Why skipped, or the last error")
    attempts = models.PositiveSmallIntegerField(default=0)
    summary = models.ForeignKey(SessionSummary, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tokens_counted = models.PositiveBigIntegerField(default=0, help_text="Tokens already added to the month's usage")
    cost_counted = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """One claim per session and engine; the tick's lookups are indexed."""
        constraints = [models.UniqueConstraint(fields=["session", "engine_key"], name="one_sweep_claim_per_engine")]
        indexes = [models.Index(fields=["sweep", "state", "updated_at"], name="claim_sweep_state"),
                   models.Index(fields=["sweep", "day", "state"], name="claim_sweep_day")]

    def __str__(self) -> str:
        """Session and state."""
        return f"{self.session_id} {self.state}"


class SweepUsage(models.Model):
    """What a sweep spent in one calendar month (what the monthly caps compare against)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sweep_usage")
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="usage")
    month = models.DateField(help_text="First day of the month")
    summaries = models.PositiveIntegerField(default=0, help_text="Summaries queued")
    tokens = models.PositiveBigIntegerField(default=0, help_text="Input + output tokens billed")
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))

    class Meta:
        """One row per sweep and month."""
        constraints = [models.UniqueConstraint(fields=["sweep", "month"], name="one_usage_per_month")]
        ordering = ["-month"]

    def __str__(self) -> str:
        """Month and figures."""
        return f"{self.month:%Y-%m}: {self.summaries} summaries, {self.tokens} tokens, ${self.cost_usd}"
