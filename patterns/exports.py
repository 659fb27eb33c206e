"""A report as a download: JSON (recap.group_report/1), CSV (one row per pattern example) or ticket-ready Markdown."""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from patterns.models import Report
from patterns.report_json import report_json
from summaries.analysis.text import _mmss

FORMATS = {
    "json": ("application/json; charset=utf-8", "json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "md": ("text/markdown; charset=utf-8", "md"),
}
CSV_COLUMNS = ["report_id", "pattern_rank", "pattern_name", "severity", "kind", "fingerprint", "sessions_affected",
               "share_of_sessions", "occurrences", "session_id", "session_url", "seconds_from_start", "time",
               "event_id", "description", "url", "segment_name", "segment_success", "verdict", "verdict_note",
               "clip_url"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (text starting with = + - @ gets a leading ')."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_csv(data: dict[str, Any]) -> str:
    """One row per pattern example (a pattern without examples gets one row with empty example columns)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for pattern in data["patterns"]:
        base = {"report_id": data["report"]["id"], "pattern_rank": pattern["rank"], "pattern_name": pattern["name"],
                "severity": pattern["severity"], "kind": pattern["kind"], "fingerprint": pattern["fingerprint"],
                "sessions_affected": pattern["stats"]["sessions_affected"],
                "share_of_sessions": pattern["stats"]["share_of_sessions"],
                "occurrences": pattern["stats"]["occurrences"]}
        for example in pattern["examples"] or [{}]:
            row = dict(base)
            if example:
                row.update({
                    "session_id": example["session_id"], "session_url": example["session_url"],
                    "seconds_from_start": example["seconds_from_start"], "time": example["time"],
                    "event_id": example["event_id"], "description": example["description"], "url": example["url"],
                    "segment_name": example["segment"]["name"], "segment_success": example["segment"]["success"],
                    "verdict": example["verdict"] or "", "verdict_note": example["verdict_note"],
                    "clip_url": example["clip_url"] or ""})
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return out.getvalue()


def md(text: Any) -> str:
    """End-user text as inert Markdown: one line, special characters backslash-escaped."""
    return MD_SPECIAL.sub(r"\\\1", " ".join(str(text or "").split()))


def export_markdown(data: dict[str, Any], examples_per_pattern: int = 5) -> str:
    """The report ready to paste into a ticket: header, then each pattern with its numbers and example links."""
    head = data["report"]
    sessions = head["sessions"]
    lines = [f"# {md(head['title'] or 'Group report')}", "",
             f"- Report: {head['url']}",
             f"- Project: {md(head['organization'])} / {md(head['project']['name'])}",
             f"- Status: {head['status']} · {md(head['label'])}",
             f"- Sessions: {sessions['analysed']} analysed, {sessions['skipped']} skipped, {sessions['failed']} failed"]
    if head["focus"]:
        lines.append(f"- Focus: {md(head['focus'])}")
    if head["message"]:
        lines.append(f"- Outcome: {md(head['message'])}")
    lines.append("")
    if not data["patterns"]:
        lines.append("No recurring problem found.")
    for pattern in data["patterns"]:
        stats = pattern["stats"]
        validated = stats["validated"]
        lines += [f"## {pattern['rank']}. {md(pattern['name'])}", "",
                  f"**{pattern['severity']}** · {pattern['kind']} · {stats['sessions_affected']} sessions "
                  f"({round(stats['share_of_sessions'] * 100)} %) · {stats['occurrences']} occurrences · "
                  f"on video: {validated['confirmed']} confirmed, {validated['denied']} denied, "
                  f"{validated['inconclusive']} inconclusive", ""]
        if pattern["description"]:
            lines += [md(pattern["description"]), ""]
        lines += [f"- {md(indicator)}" for indicator in pattern["indicators"]]
        if pattern["examples"]:
            lines += ["", "Examples:", ""]
            for example in pattern["examples"][:examples_per_pattern]:
                seconds = example["seconds_from_start"]
                link = f"{example['session_url']}?t={int(seconds)}"
                verdict = f" · video: {example['verdict']}" if example["verdict"] else ""
                clip = f" · [clip]({example['clip_url']})" if example["clip_url"] else ""
                lines.append(f"- [{md(example['session_id'])} at {_mmss(seconds)}]({link}): "
                             f"{md(example['description'])}{verdict}{clip}")
            more = len(pattern["examples"]) - examples_per_pattern
            if more > 0:
                lines.append(f"- … and {more} more in the report")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export(report: Report, fmt: str) -> str:
    """The report in one of FORMATS (json, csv, md)."""
    data = report_json(report)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    if fmt == "csv":
        return export_csv(data)
    if fmt == "md":
        return export_markdown(data)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def filename(report: Report, fmt: str) -> str:
    """recap-report-<id>.<ext>."""
    return f"recap-report-{report.pk}.{FORMATS[fmt][1]}"
