"""Which alerts a rolling report raises: a new pattern at or above a severity, a spike against the trailing
baseline, a pattern back after being marked fixed; with a cooldown per pattern and "N of the last M checks"."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.db.models import Max

from patterns.stats import SEVERITY_RANK
from sweeps.alerts.delivery import fire
from sweeps.alerts.payloads import pattern_data
from sweeps.identity import Seen
from sweeps.models import Alert, AlertPolicy, RollingReport, SweepTick, TrackedPattern


def clock_of(rolling: RollingReport) -> datetime:
    """The time the sweep's day reached (its last tick's clock): the alerts' clock, simulated or not."""
    latest = SweepTick.objects.filter(sweep=rolling.sweep, clock__date=rolling.day).aggregate(at=Max("clock"))["at"]
    return latest or datetime.combine(rolling.day, time.min, tzinfo=dt_timezone.utc)


def report_days(rolling: RollingReport, days: int) -> set[date]:
    """The trailing days (before the rolling report's) whose report had its patterns tracked."""
    start = rolling.day - timedelta(days=days)
    return set(RollingReport.objects.filter(sweep=rolling.sweep, day__gte=start, day__lt=rolling.day,
                                            tracked_run__gt=0).values_list("day", flat=True))


def baseline(tracked: TrackedPattern, days: set[date]) -> float | None:
    """Mean share of sessions over the trailing days that had a report (None: no such day)."""
    if not days:
        return None
    shares = dict(tracked.days.filter(day__in=days).values_list("day", "share_of_sessions"))
    return sum(shares.get(day, 0.0) for day in days) / len(days)


def _record_check(tracked: TrackedPattern, kind: str, met: bool, day: date, window: int) -> list[bool]:
    """Remember this day's outcome of a check (one per day, the last M kept); the recent outcomes."""
    history = {d: v for d, v in (tracked.checks.get(kind) or [])}
    history[day.isoformat()] = met
    kept = sorted(history.items())[-max(1, window):]
    tracked.checks = {**tracked.checks, kind: kept}
    TrackedPattern.objects.filter(pk=tracked.pk).update(checks=tracked.checks)
    return [v for _, v in kept]


def cooling(tracked: TrackedPattern, policy: AlertPolicy, now: datetime) -> bool:
    """True while the pattern had an alert within the cooldown."""
    last = max((datetime.fromisoformat(v) for v in (tracked.last_alerted or {}).values()), default=None)
    return last is not None and now - last < timedelta(hours=policy.cooldown_hours)


def _payload(rolling: RollingReport, seen: Seen, **extra: Any) -> dict[str, Any]:
    """The data part every channel gets: pattern, day, report link."""
    report = rolling.report
    return {"pattern": pattern_data(seen.tracked), "day": rolling.day.isoformat(),
            "sessions_affected": seen.pattern.sessions_affected, "share_of_sessions": seen.pattern.share_of_sessions,
            "report_url": report.public_url() if report else None, **extra}


def conditions(policy: AlertPolicy, rolling: RollingReport, seen: Seen,
               trailing: set[date]) -> list[tuple[str, str, str, dict]]:
    """(kind, dedupe key, title, extra payload) of each condition the pattern meets today (`trailing`: the
    baseline's report days)."""
    tracked, pattern, out = seen.tracked, seen.pattern, []
    if seen.new and SEVERITY_RANK[tracked.severity] <= SEVERITY_RANK[policy.new_pattern_severity]:  # as severe or more
        out.append((Alert.Kind.NEW, f"new:{tracked.pk}", f"New {tracked.severity} pattern: {tracked.name}", {}))
    if (policy.back_after_fixed and tracked.fixed_at
            and pattern.examples.filter(session__start_time__gt=tracked.fixed_at).exists()):
        out.append((Alert.Kind.BACK, f"back:{tracked.pk}:{tracked.fixed_at.isoformat()}",
                    f"Back after being fixed: {tracked.name}", {"fixed_at": tracked.fixed_at.isoformat()}))
    base = baseline(tracked, trailing)
    met = (base is not None and pattern.sessions_affected >= policy.spike_min_sessions
           and pattern.share_of_sessions >= policy.spike_factor * base)
    recent = _record_check(tracked, "spike", met, rolling.day, policy.checks_window)
    if met and sum(recent) >= policy.checks_needed:
        out.append((Alert.Kind.SPIKE, f"spike:{tracked.pk}:{rolling.day}",
                    f"Spike: {tracked.name} in {pattern.share_of_sessions:.0%} of sessions",
                    {"baseline_share": round(base or 0.0, 4), "factor": policy.spike_factor}))
    return out


def check_after_report(rolling: RollingReport, seen: list[Seen]) -> list[Alert]:
    """Fire the alerts the day's patterns call for (each pattern at most once per cooldown)."""
    policy = AlertPolicy.objects.filter(project_id=rolling.sweep.project_id, enabled=True).first()
    if policy is None:
        return []
    now, fired = clock_of(rolling), []
    trailing = report_days(rolling, policy.baseline_days)
    for item in seen:
        for kind, key, title, extra in conditions(policy, rolling, item, trailing):
            if cooling(item.tracked, policy, now):
                break
            text = (f"{item.tracked.name} ({item.tracked.severity}, {item.tracked.kind}): "
                    f"{item.pattern.sessions_affected} of {rolling.report.sessions_analysed} sessions on "
                    f"{rolling.day}. {item.tracked.description}").strip()
            alert = fire(policy, kind, key, title, text, _payload(rolling, item, **extra), pattern=item.tracked)
            if alert is not None:
                item.tracked.last_alerted = {**item.tracked.last_alerted, kind: now.isoformat()}
                TrackedPattern.objects.filter(pk=item.tracked.pk).update(last_alerted=item.tracked.last_alerted)
                fired.append(alert)
            if kind == Alert.Kind.BACK:
                TrackedPattern.objects.filter(pk=item.tracked.pk).update(fixed_at=None)
    return fired

