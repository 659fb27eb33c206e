"""Alert rules per project, their channels, the alerts fired and every delivery attempt (the delivery log)."""
from __future__ import annotations

import secrets
import uuid

from django.db import models

from patterns.models import Pattern
from summaries.models import Organization, Project
from sweeps.models.identity import TrackedPattern


def new_signing_secret() -> str:
    """A random secret for webhook signatures."""
    return secrets.token_urlsafe(32)


class AlertPolicy(models.Model):
    """When a project's patterns raise an alert, how noise is kept down, and the digest."""

    class Digest(models.TextChoices):
        """How often the top patterns are sent."""
        OFF = "off", "Off"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly (Mondays)"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alert_policies")
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="alert_policy")
    enabled = models.BooleanField(default=True)
    new_pattern_severity = models.CharField(max_length=10, choices=Pattern.Severity.choices, default="high",
                                            help_text="Alert on a new pattern at or above this severity")
    spike_factor = models.FloatField(default=2.0, help_text="k: share of sessions >= k x the trailing baseline")
    spike_min_sessions = models.PositiveIntegerField(default=5, help_text="N: and at least this many sessions")
    baseline_days = models.PositiveIntegerField(default=7, help_text="Days of the trailing baseline")
    back_after_fixed = models.BooleanField(default=True, help_text="Alert when a pattern marked fixed is seen again")
    cooldown_hours = models.PositiveIntegerField(default=24, help_text="At most one alert per pattern in this time")
    checks_needed = models.PositiveSmallIntegerField(default=1, help_text="N of the last M checks must meet a spike")
    checks_window = models.PositiveSmallIntegerField(default=1, help_text="M: the checks looked at")
    digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.OFF)
    digest_top = models.PositiveSmallIntegerField(default=5, help_text="Patterns in a digest")

    class Meta:
        """By project."""
        verbose_name_plural = "alert policies"

    def __str__(self) -> str:
        """Project."""
        return f"Alerts of {self.project}"

    def save(self, *args, **kwargs) -> None:
        """The organization is always the project's."""
        self.organization_id = self.project.organization_id
        super().save(*args, **kwargs)


class AlertChannel(models.Model):
    """Where a project's alerts go: a generic webhook, a Slack incoming webhook or e-mail addresses."""

    class Kind(models.TextChoices):
        """The channel's protocol."""
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        SLACK = "slack", "Slack incoming webhook"
        EMAIL = "email", "E-mail"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alert_channels")
    policy = models.ForeignKey(AlertPolicy, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="", help_text="Webhook or Slack URL")
    secret = models.CharField(max_length=200, blank=True, default=new_signing_secret,
                              help_text="HMAC-SHA256 key of the webhook signature")
    emails = models.TextField(blank=True, default="", help_text="E-mail addresses, one per line or comma-separated")
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        """Kind and name."""
        return f"{self.get_kind_display()} {self.name or self.url or self.emails}"[:120]

    def save(self, *args, **kwargs) -> None:
        """The organization is always the policy's."""
        self.organization_id = self.policy.organization_id
        super().save(*args, **kwargs)

    def recipients(self) -> list[str]:
        """The e-mail addresses."""
        return [a.strip() for a in self.emails.replace(",", "\n").splitlines() if a.strip()]


class Alert(models.Model):
    """One alert (or digest, or test message) with the payload every channel gets; fired once per dedupe key."""

    class Kind(models.TextChoices):
        """What happened."""
        NEW = "new_pattern", "New pattern"
        SPIKE = "spike", "Spike"
        BACK = "back_after_fix", "Back after fix"
        DIGEST = "digest", "Digest"
        TEST = "test", "Test"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alerts")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alerts")
    pattern = models.ForeignKey(TrackedPattern, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    text = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, blank=True, help_text="The versioned JSON the webhook receives")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        """Newest first."""
        ordering = ["-created_at"]

    def __str__(self) -> str:
        """Title."""
        return self.title


class Delivery(models.Model):
    """One alert sent to one channel: its delivery id, attempts and outcome (the delivery log)."""

    class Status(models.TextChoices):
        """Pending is retried with backoff; sent and failed are final."""
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alert_deliveries")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, null=True, on_delete=models.SET_NULL, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, help_text="Sent as X-Recap-Delivery (dedupe)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    log = models.JSONField(default=list, blank=True, help_text="Every attempt: time, answer or error")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        """Newest first; one delivery per alert and channel."""
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["alert", "channel"], name="one_delivery_per_channel")]

    def __str__(self) -> str:
        """Delivery id and status."""
        return f"{self.delivery_id} {self.status}"
