"""A report as plain text for the terminal: outcome, phases, then the ranked patterns with where to look."""
from __future__ import annotations

from patterns.models import Report
from patterns.phases import RECORD
from summaries.analysis.text import _mmss


def phases_lines(report: Report) -> list[str]:
    """One line per phase: counts, time, model calls, and the first failures with their reasons."""
    lines = []
    for name in RECORD.values():
        record = report.phases.get(name)
        if not record:
            continue
        seconds = f", {record['seconds']:.1f} s" if record.get("seconds") is not None else ""
        line = (f"  {name}: {record.get('done', 0)}/{record.get('total', 0)} done, {record.get('failed', 0)} failed, "
                f"{record.get('skipped', 0)} skipped{seconds}, {record.get('model_calls', 0)} model calls")
        if record.get("reused"):
            line += f" (reused: {record['reused']})"
        lines.append(line)
        for failure in record.get("failures", [])[:5]:
            lines.append(f"    failed {failure['item']}: {failure['reason'][:200]}")
        for skip in record.get("skips", [])[:5]:
            lines.append(f"    skipped {skip['item']}: {skip['reason'][:200]}")
    return lines


def report_text(report: Report, top: int | None = None, examples: int = 3) -> str:
    """The report: who made it, how it ended, its phases and its ranked patterns (the first `top`)."""
    lines = [f"Report {report.pk} · {report.label} · {report.project.name}: {report.status.upper()}"
             + (f" — {report.message}" if report.message else "")]
    if report.focus:
        lines.append(f"Focus: {report.focus}")
    lines += phases_lines(report)
    if report.llm_calls:
        cost = f", ${float(report.cost_usd):.4f}" if report.cost_usd is not None else ""
        lines.append(f"  model usage: {report.llm_calls} calls, {report.input_tokens} input + "
                     f"{report.output_tokens} output tokens{cost}")
    patterns = list(report.patterns.order_by("rank"))
    shown = patterns[:top] if top else patterns
    if patterns:
        lines.append("")
        lines.append(f"Patterns ({len(patterns)}, most severe first):")
    for p in shown:
        verdicts = ""
        if p.validated:
            verdicts = f"; on video: {p.confirmed} confirmed, {p.denied} denied, {p.inconclusive} inconclusive"
        lines.append(f"{p.rank:>3}. [{p.severity}] {p.kind}: {p.name} — {p.sessions_affected} session"
                     f"{'s' if p.sessions_affected != 1 else ''} ({p.share_of_sessions:.0%}), {p.occurrences} "
                     f"moment{'s' if p.occurrences != 1 else ''}{verdicts}")
        if p.description:
            lines.append(f"       {p.description}")
        for example in p.examples.select_related("session").order_by("timestamp", "pk")[:examples]:
            verdict = f" [{example.verdict}]" if example.verdict else ""
            lines.append(f"       - session {example.session.session_id} at {_mmss(example.seconds_from_start)}: "
                         f"{example.description[:140]}{verdict}")
    if len(shown) < len(patterns):
        lines.append(f"  ... and {len(patterns) - len(shown)} more")
    lines.append("")
    lines.append(f"Report page: {report.public_url()}")
    return "\n".join(lines)
