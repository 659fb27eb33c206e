"""Monthly caps of a sweep: what was spent this month, what is left, and the sentence that says a cap stopped it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import F

from sweeps.models import Sweep, SweepUsage


def month_of(moment: datetime) -> date:
    """The first day of the moment's month."""
    return moment.date().replace(day=1)


def usage(sweep: Sweep, moment: datetime) -> SweepUsage:
    """The sweep's usage row of the moment's month (created empty)."""
    row, _ = SweepUsage.objects.get_or_create(sweep=sweep, month=month_of(moment),
                                              defaults={"organization_id": sweep.organization_id})
    return row


@dataclass
class Allowance:
    """How many summaries the month still allows (None: no summary cap), or why nothing more is allowed."""

    summaries: int | None
    stopped_by: str = ""


def summary_cap_sentence(sweep: Sweep, row: SweepUsage) -> str:
    """The sentence saying the monthly summary cap stopped the work."""
    return (f"monthly summary cap reached: {row.summaries:,} of {sweep.monthly_summary_cap:,} summaries in "
            f"{row.month:%B %Y}")


def allowance(sweep: Sweep, row: SweepUsage) -> Allowance:
    """What the monthly caps leave for this tick, given the month's usage row."""
    month = f"{row.month:%B %Y}"
    if sweep.monthly_token_cap and row.tokens >= sweep.monthly_token_cap:
        return Allowance(0, f"monthly token cap reached: {row.tokens:,} of {sweep.monthly_token_cap:,} tokens "
                            f"used in {month}")
    if sweep.monthly_cost_cap_usd and row.cost_usd >= sweep.monthly_cost_cap_usd:
        return Allowance(0, f"monthly spend cap reached: ${row.cost_usd:.2f} of ${sweep.monthly_cost_cap_usd:.2f} "
                            f"spent in {month}")
    if sweep.monthly_summary_cap:
        left = max(0, sweep.monthly_summary_cap - row.summaries)
        if not left:
            return Allowance(0, summary_cap_sentence(sweep, row))
        return Allowance(left)
    return Allowance(None)


def add_summaries(row: SweepUsage, count: int) -> None:
    """Count summaries queued this month (on the usage row the tick holds, and in memory)."""
    if count:
        SweepUsage.objects.filter(pk=row.pk).update(summaries=F("summaries") + count)
        row.summaries += count


def add_spend(sweep: Sweep, moment: datetime, tokens: int, cost: Decimal) -> None:
    """Count model tokens and dollars spent this month."""
    if tokens or cost:
        SweepUsage.objects.filter(pk=usage(sweep, moment).pk).update(tokens=F("tokens") + tokens,
                                                                      cost_usd=F("cost_usd") + cost)
