"""Group reports: a Report over many sessions, its ranked Patterns and one PatternExample per session and pattern."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from replay_render.models import Clip
from summaries.models import Organization, Project, Session, SessionSummary


def default_clips_per_pattern() -> int:
    """RECAP_REPORT_CLIPS_PER_PATTERN (default 3)."""
    return max(0, int(getattr(settings, "RECAP_REPORT_CLIPS_PER_PATTERN", 3)))


class Report(models.Model):
    """One run of the four-phase pipeline over a selection of sessions; results are its Pattern rows."""

    class Status(models.TextChoices):
        """Where the report stands; succeeded, partial, failed and cancelled are final."""
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Phase(models.TextChoices):
        """The pipeline's phases, in order."""
        SELECTING = "selecting", "Selecting sessions"
        SUMMARIZING = "summarizing", "Summarizing sessions"
        EXTRACTING = "extracting", "Extracting patterns"
        COMBINING = "combining", "Combining patterns"
        ASSIGNING = "assigning", "Assigning moments to patterns"
        FINALIZING = "finalizing", "Computing statistics"
        VALIDATING = "validating", "Checking examples on video"
        DONE = "done", "Done"

    class Trigger(models.TextChoices):
        """What started the report."""
        ADMIN = "admin", "Admin"
        PAGE = "page", "Report page"
        SWEEP = "sweep", "Scheduled sweep"
        COMMAND = "command", "Command line"

    class Engine(models.TextChoices):
        """Who groups the issues: the deterministic rules or a model."""
        RULES = "rules", "Rule-based"
        LLM = "llm", "LLM"

    FINAL = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.CANCELLED)

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reports")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    title = models.CharField(max_length=200, blank=True, default="")
    # The selection: explicit sessions, or a filter (resolved when the report starts).
    session_ids = models.JSONField(default=list, blank=True,
                                   help_text="Explicit selection (Session primary keys); empty: use the filter")
    since = models.DateTimeField(null=True, blank=True, help_text="Filter: sessions started at or after")
    until = models.DateTimeField(null=True, blank=True, help_text="Filter: sessions started before")
    url_contains = models.CharField(max_length=500, blank=True, default="",
                                    help_text="Filter: a page URL of the session contains this")
    min_active_seconds = models.FloatField(default=0, help_text="Filter: at least this much user activity")
    identified_only = models.BooleanField(default=False, help_text="Filter: only sessions of identified people")
    max_sessions = models.PositiveIntegerField(default=300, help_text="Most recent sessions kept by the filter")
    focus = models.TextField(blank=True, default="",
                             help_text="Optional question the report should answer (<= 500 characters)")
    engine = models.CharField(max_length=10, choices=Engine.choices, default=Engine.RULES)
    model = models.CharField(max_length=200, blank=True, default="", help_text="litellm model; empty for rules")
    clips_per_pattern = models.PositiveSmallIntegerField(
        default=default_clips_per_pattern, help_text="Examples of each blocking pattern checked on video (0: none)")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.SELECTING)
    phases = models.JSONField(default=dict, blank=True,
                              help_text="Per phase: total, done, failed, skipped, failures and skips with reasons, "
                                        "seconds, model calls")
    selected = models.JSONField(default=list, blank=True, help_text="Session primary keys the report analyses")
    pipeline_state = models.JSONField(default=dict, blank=True,
                                      help_text="What later phases pick up: summary ids, keys of intermediate "
                                                "results, reasons the result is partial, resumes per phase")
    message = models.TextField(blank=True, default="", help_text="The outcome in a sentence (why partial or failed)")
    run = models.PositiveIntegerField(default=0, help_text="Incremented by every start and resume; tasks of older "
                                                           "runs stop")
    input_digest = models.CharField(max_length=64, blank=True, default="",
                                    help_text="What the stored patterns were computed from (a re-run with the same "
                                              "input reuses them)")
    versions = models.JSONField(default=dict, blank=True, help_text="Code/prompt versions that made the result")
    workers = models.JSONField(default=dict, blank=True, help_text="Items done per worker host")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.ADMIN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="reports")
    sessions_analysed = models.PositiveIntegerField(default=0, help_text="Sessions with a summary in the report")
    llm_calls = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True,
                                   help_text="litellm's figure; empty when it does not know the model")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """Newest first."""
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="report_status_updated")]

    def __str__(self) -> str:
        """Report id, title and status."""
        return f"Report {self.pk}: {self.title or self.project.name} ({self.status})"

    def get_absolute_url(self) -> str:
        """The report's page."""
        return reverse("patterns:report", args=[self.pk])

    def public_url(self) -> str:
        """The report page's full URL (RECAP_BASE_URL)."""
        return settings.RECAP_BASE_URL + self.get_absolute_url()

    @property
    def rule_based(self) -> bool:
        """True when the rule engine made it."""
        return self.engine == self.Engine.RULES

    @property
    def label(self) -> str:
        """Who made it, in words every output shows."""
        return "Rule-based report (no LLM)" if self.rule_based else f"LLM report ({self.model})"

    @property
    def is_final(self) -> bool:
        """True once the report stopped (whatever the outcome)."""
        return self.status in self.FINAL

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (None while it runs)."""
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 1)
        return None

    def selection_description(self) -> dict[str, Any]:
        """The selection as data: explicit sessions or the filter."""
        if self.session_ids:
            return {"sessions": len(self.session_ids)}
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "url_contains": self.url_contains,
            "min_active_seconds": self.min_active_seconds,
            "identified_only": self.identified_only,
            "max_sessions": self.max_sessions,
        }


class Pattern(models.Model):
    """One recurring problem across the report's sessions; every number is computed in code."""

    class Severity(models.TextChoices):
        """How much it hurts; the report sorts critical first."""
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Kind(models.TextChoices):
        """What the flagged moments are."""
        BLOCKING = "blocking", "Blocking"
        NON_BLOCKING = "non-blocking", "Non-blocking"
        CONFUSION = "confusion", "Confusion"
        ABANDONMENT = "abandonment", "Abandonment"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="patterns")
    rank = models.PositiveIntegerField(default=0, help_text="1 = first in the report")
    fingerprint = models.CharField(max_length=80, help_text="Stable identity of the problem across reports")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    indicators = models.JSONField(default=list, blank=True)
    rule_based = models.BooleanField(default=False)
    occurrences = models.PositiveIntegerField(default=0, help_text="Flagged moments assigned to it")
    sessions_affected = models.PositiveIntegerField(default=0)
    share_of_sessions = models.FloatField(default=0, help_text="Sessions affected / sessions analysed")
    segment_success_ratio = models.FloatField(null=True, blank=True,
                                              help_text="Share of its (session, segment) pairs that succeeded")
    confirmed = models.PositiveIntegerField(default=0, help_text="Examples confirmed on video")
    denied = models.PositiveIntegerField(default=0, help_text="Examples denied on video")
    inconclusive = models.PositiveIntegerField(default=0, help_text="Examples the video could not settle")

    class Meta:
        """One row per fingerprint per report; report order."""
        ordering = ["report", "rank"]
        constraints = [models.UniqueConstraint(fields=["report", "fingerprint"], name="one_pattern_per_fingerprint")]

    def __str__(self) -> str:
        """Rank, severity and name."""
        return f"#{self.rank} [{self.severity}] {self.name}"

    @property
    def validated(self) -> int:
        """Examples with a video verdict."""
        return self.confirmed + self.denied + self.inconclusive


class PatternExample(models.Model):
    """The moment one session shows a pattern (one per session per pattern), with the context to check it."""

    class Verdict(models.TextChoices):
        """The video verdict of the example's moment."""
        NONE = "", "Not checked"
        CONFIRMED = "confirmed", "Confirmed"
        DENIED = "denied", "Denied"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    pattern = models.ForeignKey(Pattern, on_delete=models.CASCADE, related_name="examples")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="pattern_examples")
    summary = models.ForeignKey(SessionSummary, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="pattern_examples")
    event_id = models.CharField(max_length=16, help_text="The key action's short id in its summary")
    event_uuid = models.CharField(max_length=64, blank=True, default="",
                                  help_text="Analytics event uuid (empty for moments computed from the recording)")
    timestamp = models.DateTimeField()
    seconds_from_start = models.FloatField(default=0)
    kind = models.CharField(max_length=12, choices=Pattern.Kind.choices)
    description = models.TextField(blank=True, default="")
    url = models.URLField(max_length=2048, blank=True, default="")
    segment_index = models.PositiveIntegerField(default=0)
    segment_name = models.CharField(max_length=300, blank=True, default="")
    segment_success = models.BooleanField(default=True)
    segment_summary = models.TextField(blank=True, default="")
    before = models.JSONField(default=list, blank=True, help_text="Up to 3 key actions before, each with its own ids")
    after = models.JSONField(default=list, blank=True, help_text="Up to 3 key actions after, each with its own ids")
    clip = models.ForeignKey(Clip, null=True, blank=True, on_delete=models.SET_NULL, related_name="pattern_examples")
    verdict = models.CharField(max_length=12, choices=Verdict.choices, default=Verdict.NONE, blank=True)
    verdict_note = models.TextField(blank=True, default="", help_text="What the validation saw, or why it could not")

    class Meta:
        """One example per session per pattern."""
        ordering = ["pattern", "timestamp"]
        constraints = [models.UniqueConstraint(fields=["pattern", "session"], name="one_example_per_session")]

    def __str__(self) -> str:
        """Session and moment."""
        return f"{self.session.session_id} @ {self.seconds_from_start:.0f} s"


class PatternFeedback(models.Model):
    """A member's word on a pattern (useful, or not an issue), with who and when; "not an issue" on a fingerprint
    collapses that problem in later reports of the project."""

    class Verdict(models.TextChoices):
        """Thumbs up, or not an issue."""
        USEFUL = "useful", "Useful"
        NOT_AN_ISSUE = "not_an_issue", "Not an issue"

    pattern = models.ForeignKey(Pattern, on_delete=models.CASCADE, related_name="feedback")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pattern_feedback")
    fingerprint = models.CharField(max_length=80, help_text="The pattern's fingerprint (its identity across reports)")
    verdict = models.CharField(max_length=14, choices=Verdict.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="pattern_feedback")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """One word per member per pattern; looked up by project and fingerprint."""
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["pattern", "user"], name="one_feedback_per_user_and_pattern")]
        indexes = [models.Index(fields=["project", "fingerprint", "verdict"], name="feedback_project_fingerprint")]

    def __str__(self) -> str:
        """Verdict on the pattern, by whom."""
        return f"{self.get_verdict_display()}: {self.pattern.name} ({self.user})"
