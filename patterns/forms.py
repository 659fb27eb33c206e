"""The "New report" form of a project's Reports tab: time range, filters, focus question, engine."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from patterns.control import create_report, default_max_sessions, start
from patterns.models import Report
from patterns.prompts import MAX_FOCUS
from summaries.models import Project
from summaries.summarize import SummaryFailed

RANGES = [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("all", "All sessions")]
RANGE_DELTAS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


class NewReportForm(forms.Form):
    """What a member chooses before a report starts; `launch` creates and queues it like the admin and command."""

    range = forms.ChoiceField(choices=RANGES, initial="7d", label="Sessions")
    url_contains = forms.CharField(max_length=500, required=False, label="URL contains")
    min_active_seconds = forms.FloatField(min_value=0, initial=0, required=False, label="Min. active seconds")
    max_sessions = forms.IntegerField(min_value=1, max_value=5000, required=False, label="At most",
                                      help_text="newest sessions kept")
    focus = forms.CharField(max_length=MAX_FOCUS, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            label="Focus question")
    engine = forms.ChoiceField(choices=[("", "Default")] + list(Report.Engine.choices), required=False)

    def selection(self) -> dict[str, Any]:
        """The filter the report resolves when it starts."""
        data = self.cleaned_data
        chosen: dict[str, Any] = {"url_contains": data["url_contains"].strip(),
                                  "min_active_seconds": data["min_active_seconds"] or 0,
                                  "max_sessions": data["max_sessions"] or default_max_sessions()}
        if data["range"] in RANGE_DELTAS:
            chosen["since"] = timezone.now() - RANGE_DELTAS[data["range"]]
        return chosen

    def launch(self, project: Project, user: Any) -> Report | None:
        """Create and start the report (None, with a form error, when the engine cannot run)."""
        label = dict(RANGES)[self.cleaned_data["range"]].lower()
        try:
            report = create_report(project, engine=self.cleaned_data["engine"] or None,
                                   focus=self.cleaned_data["focus"], trigger=Report.Trigger.PAGE, created_by=user,
                                   title=f"{project.name}: {label}", **self.selection())
        except (ValueError, SummaryFailed) as exc:
            self.add_error("engine", str(exc))
            return None
        return start(report)
