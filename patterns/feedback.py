"""Members' feedback on patterns: thumbs up or "not an issue"; the latter collapses the fingerprint in later reports."""
from __future__ import annotations

from typing import Any

from patterns.models import Pattern, PatternFeedback, Report

Verdict = PatternFeedback.Verdict


def record(pattern: Pattern, user: Any, verdict: str) -> PatternFeedback | None:
    """Store (or replace) the user's verdict on the pattern; an empty verdict takes it back."""
    if not verdict:
        PatternFeedback.objects.filter(pattern=pattern, user=user).delete()
        return None
    if verdict not in Verdict.values:
        raise ValueError(f"unknown verdict {verdict!r}")
    feedback, _ = PatternFeedback.objects.update_or_create(
        pattern=pattern, user=user,
        defaults={"verdict": verdict, "project_id": pattern.report.project_id, "fingerprint": pattern.fingerprint})
    return feedback


def dismissals(report: Report, fingerprints: list[str]) -> dict[str, PatternFeedback]:
    """The first "not an issue" on each fingerprint in this project, from this report or an earlier one."""
    found: dict[str, PatternFeedback] = {}
    rows = (PatternFeedback.objects.filter(project_id=report.project_id, verdict=Verdict.NOT_AN_ISSUE,
                                           fingerprint__in=fingerprints,
                                           pattern__report__created_at__lte=report.created_at)
            .select_related("user").order_by("created_at"))
    for row in rows:
        found.setdefault(row.fingerprint, row)
    return found


def annotate(report: Report, patterns: list[Pattern], user: Any) -> None:
    """Give each pattern its vote counts, the user's own verdict and the dismissal that collapses it (or None)."""
    counts: dict[tuple[int, str], int] = {}
    mine: dict[int, str] = {}
    for pattern_id, verdict, user_id in PatternFeedback.objects.filter(pattern__in=patterns).values_list(
            "pattern_id", "verdict", "user_id"):
        counts[(pattern_id, verdict)] = counts.get((pattern_id, verdict), 0) + 1
        if user_id == user.pk:
            mine[pattern_id] = verdict
    dismissed = dismissals(report, [p.fingerprint for p in patterns]) if patterns else {}
    for pattern in patterns:
        pattern.useful_votes = counts.get((pattern.pk, Verdict.USEFUL), 0)
        pattern.not_an_issue_votes = counts.get((pattern.pk, Verdict.NOT_AN_ISSUE), 0)
        pattern.my_verdict = mine.get(pattern.pk, "")
        pattern.dismissal = dismissed.get(pattern.fingerprint)
