"""What the report page shows: the issue-type filter with counts, text search, sort, and examples ready to render."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import QueryDict

from patterns.models import Pattern, PatternExample, Report

KINDS = Pattern.Kind.choices  # the issue-type tabs, in this order
SORTS = {"severity": ("rank",), "sessions": ("-sessions_affected", "rank")}
EXAMPLES_AT_A_TIME = 3
MAX_SEARCH = 200


@dataclass
class PageQuery:
    """The page's GET parameters, validated: kind (blocking by default or "all"), search text and sort."""

    kind: str = "blocking"
    q: str = ""
    sort: str = "severity"

    def url(self, **changes: str) -> str:
        """A query string for this page with some parameters changed (defaults left out)."""
        values = {"kind": self.kind, "q": self.q, "sort": self.sort, **changes}
        defaults = PageQuery()
        kept = {k: v for k, v in values.items() if v and v != getattr(defaults, k)}
        return "?" + urlencode(kept) if kept else "?"


def parse_query(params: QueryDict) -> PageQuery:
    """Unknown kinds and sorts fall back to the defaults; the search is trimmed."""
    kind = params.get("kind", "blocking")
    sort = params.get("sort", "severity")
    return PageQuery(kind=kind if kind in dict(KINDS) or kind == "all" else "blocking",
                     q=" ".join(params.get("q", "").split())[:MAX_SEARCH],
                     sort=sort if sort in SORTS else "severity")


def searched(patterns: QuerySet, text: str) -> QuerySet:
    """Patterns whose name, description or indicators contain the text (case-insensitive)."""
    if not text:
        return patterns
    return patterns.annotate(indicators_text=Cast("indicators", TextField())).filter(
        Q(name__icontains=text) | Q(description__icontains=text) | Q(indicators_text__icontains=text))


def kind_tabs(report: Report, query: PageQuery) -> list[dict[str, Any]]:
    """One tab per issue type with its count (after the search), and "all"."""
    counts = dict(searched(report.patterns.all(), query.q).values_list("kind").annotate(n=Count("pk")).order_by())
    tabs = [{"kind": kind, "label": label, "count": counts.get(kind, 0), "url": query.url(kind=kind),
             "active": query.kind == kind} for kind, label in KINDS]
    tabs.append({"kind": "all", "label": "All", "count": sum(counts.values()), "url": query.url(kind="all"),
                 "active": query.kind == "all"})
    return tabs


def decorate_example(example: PatternExample) -> PatternExample:
    """Attach what the template needs: the clip's start at the moment and the session link at the moment."""
    clip = example.clip
    example.playable = bool(clip and clip.is_ready)
    example.clip_start = round(max(0.0, (example.timestamp - clip.start_time).total_seconds()), 1) if clip else 0.0
    example.at_seconds = int(example.seconds_from_start)
    return example


def page_patterns(report: Report, query: PageQuery) -> list[Pattern]:
    """The patterns shown (filtered, searched, sorted) with their examples in two queries."""
    patterns = searched(report.patterns.all(), query.q)
    if query.kind != "all":
        patterns = patterns.filter(kind=query.kind)
    examples = PatternExample.objects.select_related("session", "clip").defer(
        "clip__frame_times", "clip__options", "session__activity_segments").order_by("timestamp", "pk")
    shown = list(patterns.order_by(*SORTS[query.sort]).prefetch_related(Prefetch("examples", queryset=examples,
                                                                               to_attr="example_list")))
    for pattern in shown:
        for example in pattern.example_list:
            decorate_example(example)
        total = len(pattern.example_list)
        pattern.examples_hidden = max(0, total - EXAMPLES_AT_A_TIME)  # behind the "More examples" button
        pattern.validated_pct = round(100 * pattern.validated / total) if total else None
    return shown


def header_counts(report: Report) -> dict[str, Any]:
    """Sessions selected, analysed, skipped and failed with reasons (from the summaries phase)."""
    record = report.phases.get("summaries") or {}
    return {"selected": int(record.get("total") or len(report.selected) or 0), "analysed": report.sessions_analysed,
            "skipped": int(record.get("skipped") or 0), "failed": int(record.get("failed") or 0)}


def failures(report: Report) -> list[dict[str, str]]:
    """Every failure and skip any phase recorded, with its phase and reason."""
    out = []
    for name, record in (report.phases or {}).items():
        if not isinstance(record, dict):
            continue
        out += [{"phase": name, "what": "failed", "item": str(f.get("item", "")), "reason": str(f.get("reason", ""))}
                for f in record.get("failures", [])]
        out += [{"phase": name, "what": "skipped", "item": str(s.get("item", "")), "reason": str(s.get("reason", ""))}
                for s in record.get("skips", [])]
    return out
