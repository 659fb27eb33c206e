"""Rolling reports per sweep day, and patterns that keep their identity across reports (first/last seen, per day)."""
from __future__ import annotations

from django.db import models

from patterns.models import Pattern, Report
from summaries.models import Organization, Project
from sweeps.models.sweep import Sweep


class RollingReport(models.Model):
    """The group report of one sweep day, re-run after each tick of that day."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rolling_reports")
    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="rolling_reports")
    day = models.DateField()
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dirty = models.BooleanField(default=False, help_text="New sessions arrived while it ran: run again when it ends")
    tracked_run = models.PositiveIntegerField(default=0, help_text="The report run whose patterns were tracked")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """One per sweep and day."""
        constraints = [models.UniqueConstraint(fields=["sweep", "day"], name="one_rolling_report_per_day")]
        ordering = ["-day"]

    def __str__(self) -> str:
        """Sweep and day."""
        return f"{self.sweep.project} {self.day}"


class TrackedPattern(models.Model):
    """A problem with a stable identity across a project's reports (see sweeps/identity.py for the matching)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tracked_patterns")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tracked_patterns")
    key = models.CharField(max_length=120, help_text="Rule fingerprint, or llm:<hash> for a model-only pattern")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    severity = models.CharField(max_length=10, choices=Pattern.Severity.choices)
    kind = models.CharField(max_length=12, choices=Pattern.Kind.choices)
    rule_fingerprints = models.JSONField(default=list, blank=True,
                                         help_text="Rule fingerprints of its examples (how model patterns match)")
    first_seen = models.DateField()
    last_seen = models.DateField()
    fixed_at = models.DateTimeField(null=True, blank=True, help_text="Marked fixed (seen again: back after fix)")
    checks = models.JSONField(default=dict, blank=True, help_text="Recent check outcomes per alert kind")
    last_alerted = models.JSONField(default=dict, blank=True, help_text="Last alert time per alert kind")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        """One identity per project and key."""
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="one_tracked_pattern_per_key")]
        ordering = ["-last_seen", "name"]

    def __str__(self) -> str:
        """Severity and name."""
        return f"[{self.severity}] {self.name}"


class PatternDay(models.Model):
    """How many sessions a tracked pattern affected on one sweep day (the trend)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="pattern_days")
    pattern = models.ForeignKey(TrackedPattern, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    sessions_affected = models.PositiveIntegerField(default=0)
    sessions_analysed = models.PositiveIntegerField(default=0)
    share_of_sessions = models.FloatField(default=0)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    report_pattern = models.ForeignKey(Pattern, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        """One row per pattern and day."""
        constraints = [models.UniqueConstraint(fields=["pattern", "day"], name="one_pattern_day")]
        ordering = ["pattern", "day"]

    def __str__(self) -> str:
        """Day and count."""
        return f"{self.day}: {self.sessions_affected}"
