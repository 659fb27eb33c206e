"""Rows for the event table from what the recording shows, and what each click set off.

Everything here is evidence that holds on any app and in any language: requests and their status, texts the
page showed and where (alert, status, toast, dialog, form, list, widget, page), fields marked aria-invalid,
loading indicators and whether the user left while one was up, and whether the page reacted to a click.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from summaries.analysis.elements import clip
from summaries.analysis.network import NetworkRequest
from summaries.analysis.page import PageSignals
from summaries.analysis.routes import route_template

# Requests the recorder makes for analytics itself: never the product's failures.
ANALYTICS_PATHS = re.compile(r"^/(e|s|batch|capture|decide|flags|i/v0/e|array/[^/]+/config(\.js)?)/?$")
STATIC_PATH = re.compile(r"\.(js|mjs|css|png|jpe?g|gif|svg|webp|ico|woff2?|ttf|otf|map|mp4|webm)$", re.IGNORECASE)
PAGE_INITIATORS = frozenset({"navigation", "script", "link", "css", "img", "image", "font", "other", "iframe"})
# What a click set off: requests starting this soon after it, a DOM change or a new page this soon.
REQUEST_AFTER_MS = 1500
REACTION_MS = 2500
# A new page this soon after a link click was its doing; after a button, only sooner (later is the user's back
# button or typing an address, which posthog-js does not see as a click).
NAVIGATION_MS = 4000
BUTTON_NAVIGATION_MS = 1500
# A loading indicator appearing this close to a slow request's start is that request's wait, not another one.
SAME_WAIT_MS = 1500
# A call aborted this close to the user leaving was cut short by the leaving.
ABORT_MS = 1000
# Places whose texts are messages to the user; texts elsewhere (form, page, list, widget) only when their tone
# was read from classes or words, with where they appeared saying what they are.
MESSAGE_PLACES = ("alert", "status", "toast", "dialog")

Derive = Callable[..., Any]


def is_app_request(req: NetworkRequest) -> bool:
    """A call the app made for data (fetch/XHR to an API), not the page's own assets or analytics."""
    path = urlsplit(req.url).path if req.url else ""
    if ANALYTICS_PATHS.match(path or "") or STATIC_PATH.search(path or ""):
        return False
    return req.initiator not in PAGE_INITIATORS


def request_display(request_url: str, page_url: str) -> str:
    """A request URL as its path when it goes to the page's own origin (shorter), else shortened in full."""
    from summaries.analysis.prompt_data import shorten_url

    try:
        req, page = urlsplit(request_url), urlsplit(page_url)
    except ValueError:
        return shorten_url(request_url, 120)
    if req.netloc and req.netloc == page.netloc:
        return shorten_url(req._replace(scheme="", netloc="", fragment="").geturl(), 120)
    return shorten_url(request_url, 120)


def text_rows(signals: PageSignals, derive: Derive) -> int:
    """A `text_shown` row per message the page showed, saying where it appeared; returns how many."""
    count = 0
    last: dict[tuple[str, str], int] = {}
    # A field's message is said on its field_invalid row.
    field_messages = [(f.message, f.timestamp_ms) for f in signals.invalid if f.message]
    for shown in signals.texts:
        if any(text == shown.text and abs(at - shown.timestamp_ms) <= SAME_WAIT_MS for text, at in field_messages):
            continue
        if shown.where not in MESSAGE_PLACES and shown.tone == "neutral":
            continue  # page content that says nothing about how things went
        key = (shown.where, shown.text)
        if shown.timestamp_ms - last.get(key, -10_000) < 1000:
            continue
        last[key] = shown.timestamp_ms
        count += 1
        derive(f"text:{shown.timestamp_ms}:{shown.node}:{shown.text}", shown.timestamp_ms, "text_shown", "recording",
               detail=f"{shown.where}: {clip(shown.text, 120)}",
               facts={"where": shown.where, "tone": shown.tone, "tone_from": shown.tone_from, "text": shown.text,
                      "form": shown.form, "top": shown.top})
    return count


def invalid_rows(signals: PageSignals, derive: Derive) -> int:
    """A `field_invalid` row per field the page marked aria-invalid; returns how many."""
    for field in signals.invalid:
        derive(f"invalid:{field.timestamp_ms}:{field.node}", field.timestamp_ms, "field_invalid", "recording",
               target=f"input:{field.field}", detail=clip(field.message, 120),
               facts={"field": field.field, "text": field.message, "form": field.form, "tone": "error"})
    return len(signals.invalid)


@dataclass(frozen=True)
class Leave:
    """A moment the user left what they were looking at: another route, the tab, or the recording's end."""

    timestamp_ms: int
    how: str  # route | pageleave | end


def leaves(analytics_rows: list[Any], end_ms: int) -> list[Leave]:
    """Moments the user left the page they were on: a page view of another route, a page leave, the end."""
    out: list[Leave] = []
    route = None
    for row in analytics_rows:
        if row.kind == "pageview" and row.url:
            current = route_template(row.url)
            if route is not None and current != route:
                out.append(Leave(row.timestamp_ms, "route"))
            route = current
        elif row.kind == "pageleave":
            out.append(Leave(row.timestamp_ms, "pageleave"))
    out.append(Leave(end_ms, "end"))
    return out


def aborted_at_leave(req: NetworkRequest, moments: list[Leave]) -> Leave | None:
    """The leave that cut a call short: it ended without a status (aborted) as the user left, else None."""
    if req.status not in (0, None) or req.duration_ms is None:
        return None
    end = req.timestamp_ms + req.duration_ms
    return next((m for m in moments if abs(m.timestamp_ms - end) <= ABORT_MS and m.how != "end"), None)


def wait_rows(signals: PageSignals, requests: list[NetworkRequest], analytics_rows: list[Any], end_ms: int,
              derive: Derive, slow_ms: int, page_at: Callable[[int], str]) -> tuple[int, int]:
    """`slow_request` rows for waits the user sat through, `loading_left` rows for the ones they left; counts."""
    slow = left = 0
    slow_starts: list[int] = []
    for req in requests:
        if req.failed or (req.duration_ms or 0) < slow_ms or not is_app_request(req):
            continue
        slow += 1
        slow_starts.append(req.timestamp_ms)
        derive(f"slow:{req.timestamp_ms}:{req.endpoint}", req.timestamp_ms, "slow_request", "recording",
               detail=f"{req.method} {request_display(req.url, page_at(req.timestamp_ms))} took "
                      f"{req.duration_ms / 1000:.1f}s".strip(),
               facts={"endpoint": req.endpoint, "route": route_template(req.url), "duration_ms": req.duration_ms})
    moments = leaves(analytics_rows, end_ms)
    app_tops = signals.app_tops()
    last_start = None
    left_starts: list[int] = []
    for load in signals.loading:
        if app_tops and load.top and load.top not in app_tops:
            continue  # a widget's spinner: not what the user waited for
        if not load.strong:
            continue  # a placeholder in the page source, or words alone: not evidence of a wait
        if last_start is not None and load.start_ms - last_start <= SAME_WAIT_MS:
            continue  # several indicators put up together (a spinner and skeleton rows) are one wait
        last_start = load.start_ms
        leave = next((m for m in moments if m.timestamp_ms > load.start_ms), None)
        ended = load.end_ms if load.end_ms is not None else end_ms
        waited_ms = (min(ended, leave.timestamp_ms) if leave else ended) - load.start_ms
        if waited_ms < slow_ms:
            continue
        # Still up when the user left: the indicator went with the page, or was still there at the end.
        still_up = leave is not None and (load.end_ms is None or load.end_ms >= leave.timestamp_ms - 300)
        if still_up:
            left += 1
            left_starts.append(load.start_ms)
            derive(f"left:{load.start_ms}", load.start_ms, "loading_left", "recording",
                   detail=f'"{clip(load.label, 40)}" still on screen when the user left after {waited_ms / 1000:.1f}s',
                   facts={"waited_ms": waited_ms, "left_ms": leave.timestamp_ms, "left_how": leave.how,
                          "evidence": load.evidence})
            continue
        if any(abs(t - load.start_ms) <= SAME_WAIT_MS for t in slow_starts):
            continue  # the wait of a slow request already listed
        slow += 1
        derive(f"load:{load.start_ms}:{ended}", load.start_ms, "slow_request", "recording",
               detail=f'"{clip(load.label, 40)}" shown for {waited_ms / 1000:.1f}s',
               facts={"waited_ms": waited_ms})
    # A call the user set off and left before it answered (aborted as they went), with no indicator to see.
    actions = [r.timestamp_ms for r in analytics_rows if r.kind in ("click", "submit", "pageview")]
    for req in requests:
        leave = aborted_at_leave(req, moments) if is_app_request(req) else None
        if leave is None or leave.timestamp_ms - req.timestamp_ms < slow_ms:
            continue
        if not any(0 <= req.timestamp_ms - t <= REQUEST_AFTER_MS for t in actions):
            continue  # not something the user asked for (a poll, a stream)
        if any(abs(req.timestamp_ms - t) <= SAME_WAIT_MS for t in left_starts):
            continue
        left += 1
        waited_ms = leave.timestamp_ms - req.timestamp_ms
        derive(f"left-call:{req.timestamp_ms}:{req.endpoint}", req.timestamp_ms, "loading_left", "recording",
               detail=f"{request_display(req.url, page_at(req.timestamp_ms))} was still running when the user left "
                      f"after {waited_ms / 1000:.1f}s",
               facts={"waited_ms": waited_ms, "left_ms": leave.timestamp_ms, "left_how": leave.how,
                      "evidence": "request"})
    return slow, left


def click_effects(click_rows: list[Any], signals: PageSignals, requests: list[NetworkRequest],
                  analytics_rows: list[Any]) -> None:
    """Note on each click row what it set off: `requests` [[route, status]], `reaction`, `form` if unknown."""
    mutations = sorted(signals.mutations)
    loads = sorted(signals.loads + [r.timestamp_ms for r in analytics_rows if r.kind in ("pageview", "pageleave")])
    app_requests = [r for r in requests if is_app_request(r)]
    starts = [r.timestamp_ms for r in app_requests]
    page_clicks = sorted(signals.clicks, key=lambda c: c.timestamp_ms)
    click_times = [c.timestamp_ms for c in page_clicks]
    for row in click_rows:
        ts = row.timestamp_ms
        lo, hi = bisect.bisect_left(starts, ts - 100), bisect.bisect_right(starts, ts + REQUEST_AFTER_MS)
        row.facts["requests"] = [[route_template(r.url), r.status] for r in app_requests[lo:hi]]
        reaction = "none"
        reach = NAVIGATION_MS if row.facts.get("href") else BUTTON_NAVIGATION_MS
        if _any_between(loads, ts, ts + reach) and any(
                r.kind == "pageview" and ts < r.timestamp_ms <= ts + reach and r.url != row.url
                for r in analytics_rows):
            reaction = "navigation"
        elif _any_between(mutations, ts - 1, ts + REACTION_MS) or row.facts["requests"]:
            reaction = "dom"
        row.facts["reaction"] = reaction
        i = bisect.bisect_left(click_times, ts - 400)
        near = [c for c in page_clicks[i:i + 4] if abs(c.timestamp_ms - ts) <= 400]
        if near and not row.facts.get("form"):
            row.facts["form"] = min(near, key=lambda c: abs(c.timestamp_ms - ts)).form


def _any_between(times: list[int], start: int, end: int) -> bool:
    """True when a sorted list has a value in (start, end]."""
    i = bisect.bisect_right(times, start)
    return i < len(times) and times[i] <= end
