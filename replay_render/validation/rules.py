"""The rule-based validator: what the replay itself says about a flagged moment, without any model.

It reads the page text the renderer captured frame by frame (Clip.page_texts), the rrweb events of
the window and the URLs the session visited afterwards, and answers three questions: is error text
visible on the page at or after the moment, did the page change, and did the user go on and
complete the flow. Everything it reports says that it is rule-based.
"""
from __future__ import annotations

import re
from typing import Any

from replay_render.timeline import INCREMENTAL_SNAPSHOT, META, SOURCE_MUTATION, activity_timestamps, clicks
from replay_render.validation.verdict import Observation

LABEL = "Rule-based validation (no video model)"

ERROR_WORDS = re.compile(
    r"\b(error|failed|failure|fails|unable to|cannot|can't|could not|couldn't|invalid|declined|denied|"
    r"try again|went wrong|timed out|timeout|unavailable|not found|problem|rejected|forbidden|"
    r"internal server|service unavailable|500|502|503|504|"
    r"please check|check your|is required|are required|must be|incorrect|not valid|isn't valid)\b",
    re.IGNORECASE,
)
SUCCESS_WORDS = re.compile(
    r"\b(thank you|thanks for|success|successful|successfully|confirmed|confirmation|order placed|"
    r"order received|receipt|complete|completed|all set|you're in|welcome aboard|done)\b",
    re.IGNORECASE,
)
# Pages that mean the flow finished: thank-you / confirmation pages, and an order's own page (/order/1234,
# /orders/ab-12), which shops show once an order exists.
SUCCESS_URL = re.compile(
    r"(thank|success|confirm|complete|receipt|order[-_/]?(placed|received|done)|done|/orders?/[\w-]*\d[\w-]*)", re.I
)


def error_lines(text: str) -> list[str]:
    """Lines of page text that read like an error message."""
    return [" ".join(line.split()) for line in text.splitlines() if ERROR_WORDS.search(line)]


def success_lines(text: str) -> list[str]:
    """Lines of page text that read like a success or confirmation message."""
    return [" ".join(line.split()) for line in text.splitlines() if SUCCESS_WORDS.search(line)]


def _text_at(page_texts: list[dict[str, Any]], at_ms: int) -> str:
    """The page text as it was at `at_ms` (the last capture at or before it)."""
    text = ""
    for entry in page_texts:
        if entry["t"] <= at_ms:
            text = entry["text"]
        else:
            break
    return text


def observe(
    moment_ms: int,
    page_texts: list[dict[str, Any]],
    window_events: list[dict[str, Any]],
    later_urls: list[str],
    *,
    moment_url: str = "",
) -> Observation:
    """What the replay shows around the moment, as an Observation the verdict can use."""
    before = _text_at(page_texts, moment_ms - 1)
    after_texts = [e["text"] for e in page_texts if e["t"] >= moment_ms]
    last_text = page_texts[-1]["text"] if page_texts else ""
    errors_before = set(error_lines(before))
    # Error words already on the page when the window opens (a "Report an error" link, an old banner)
    # are furniture, not evidence about this moment.
    furniture = set(error_lines(page_texts[0]["text"])) if page_texts else set()
    errors_after: list[str] = []
    for text in after_texts or [before]:
        for line in error_lines(text):
            if line not in errors_after and line not in furniture:
                errors_after.append(line)
    new_errors = [line for line in errors_after if line not in errors_before]

    after_events = [e for e in window_events if e.get("timestamp", 0) >= moment_ms]
    activity_after = activity_timestamps(after_events)
    # Clicks after the flagged one (it is at the moment itself, so strictly later).
    clicks_after = [c for c in clicks(after_events) if c["timestamp"] > moment_ms]
    mutations_after = sum(
        1 for e in after_events
        if e.get("type") == INCREMENTAL_SNAPSHOT and (e.get("data") or {}).get("source") == SOURCE_MUTATION
    )
    urls_in_window = [str((e.get("data") or {}).get("href") or "") for e in after_events if e.get("type") == META]
    page_changed = bool(after_texts and any(t != before for t in after_texts)) or any(
        u and u != moment_url for u in urls_in_window
    )
    visited = [u for u in [*urls_in_window, *later_urls] if u and u != moment_url]
    # Success text counts only when it is new: a checkout page's own "Complete purchase" button is not success.
    new_success = [line for line in success_lines(last_text) if line not in set(success_lines(before))]
    completed = any(SUCCESS_URL.search(u) for u in visited) or bool(new_success and not error_lines(last_text))
    error_visible = bool(errors_after)
    static = not activity_after and not page_changed and mutations_after == 0

    # Error text on screen and the user did not get anywhere: blocked. Completing the flow: not blocked.
    # Anything else (no error text, or errors while the user moved on) is left to a person or a model.
    # Clicking on and on while the page stays the same is what a dead control looks like.
    clicking_in_vain = len(clicks_after) >= 2 and not page_changed and not visited
    if completed:
        blocked = "no"
    elif error_visible and (new_errors or not activity_after or not visited):
        blocked = "yes"
    elif clicking_in_vain:
        blocked = "yes"
    else:
        blocked = "unclear"

    parts = []
    if new_errors:
        parts.append(f"error text appeared after the moment: {' | '.join(new_errors[:3])!r}")
    elif errors_after:
        parts.append(f"error text visible: {' | '.join(errors_after[:3])!r}")
    else:
        parts.append("no error text visible on the page")
    parts.append("the page changed afterwards" if page_changed else "the page did not change afterwards")
    parts.append(f"{len(activity_after)} user input events after the moment" if activity_after
                 else "no user activity after the moment")
    if clicking_in_vain and not completed:
        parts.append(f"the user clicked {len(clicks_after)} more times without the page changing")
    if completed:
        parts.append("the user went on and completed the flow")
    elif visited:
        parts.append(f"the user went on to {visited[0]}")
    description = f"{LABEL}: " + "; ".join(parts) + "."

    return Observation(
        description=description,
        error_visible=error_visible,
        error_text=" | ".join((new_errors or errors_after)[:3]),
        user_blocked=blocked,
        workaround=False,
        completed=completed,
        static=static,
        signals={
            "rule_based": True,
            "error_lines_after": errors_after[:10],
            "error_lines_already_there": sorted(furniture)[:10],
            "new_error_lines": new_errors[:10],
            "page_changed": page_changed,
            "activity_after": len(activity_after),
            "clicks_after": len(clicks_after),
            "mutations_after": mutations_after,
            "later_urls": visited[:10],
            "completed": completed,
        },
    )
