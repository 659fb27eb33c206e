"""The daily or weekly digest: a project's top tracked patterns of the period, on the alert channels."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Sum

from sweeps.alerts.delivery import fire
from sweeps.alerts.payloads import pattern_data
from sweeps.models import Alert, AlertPolicy, PatternDay, TrackedPattern


def period(policy: AlertPolicy, today: date) -> tuple[date, date] | None:
    """[start, end) of the period a digest sent today covers (None: no digest due today)."""
    if policy.digest == AlertPolicy.Digest.DAILY:
        return today - timedelta(days=1), today
    if policy.digest == AlertPolicy.Digest.WEEKLY and today.weekday() == 0:
        return today - timedelta(days=7), today
    return None


def send_digest(policy: AlertPolicy, now: datetime) -> Alert | None:
    """Send the policy's digest if one is due and not sent yet."""
    span = period(policy, now.date())
    if span is None:
        return None
    start, end = span
    rows = (PatternDay.objects.filter(pattern__project_id=policy.project_id, day__gte=start, day__lt=end)
            .values("pattern").annotate(sessions=Sum("sessions_affected")).order_by("-sessions")[:policy.digest_top])
    totals = {row["pattern"]: row["sessions"] for row in rows}
    patterns = sorted(TrackedPattern.objects.filter(pk__in=totals),
                      key=lambda t: -totals[t.pk])
    label = f"{start}" if end - start == timedelta(days=1) else f"{start} to {end - timedelta(days=1)}"
    lines = [f"{i}. [{t.severity}] {t.name}: {totals[t.pk]} sessions" for i, t in enumerate(patterns, 1)]
    text = "\n".join(lines) or "No pattern in this period."
    payload = {"period": {"start": start.isoformat(), "end": end.isoformat()},
               "patterns": [{**pattern_data(t), "sessions": totals[t.pk]} for t in patterns]}
    return fire(policy, Alert.Kind.DIGEST, f"digest:{policy.pk}:{policy.digest}:{start}",
                f"{policy.project.name}: top patterns {label}", text, payload)
