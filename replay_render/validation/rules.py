"""The rule-based validator: what the replay itself says about a flagged moment, without any model.

It reads the page text the renderer captured frame by frame (Clip.page_texts), what the recording's DOM showed
in the clip's window (where a text appeared, loading indicators), and the user's flow over the whole session
(summaries.analysis.flows: did what they were trying to do work later). On the same principles as the rule
engine:
  - error text counts only when it is new (not on the page before the moment), visible in the frames, and tied
    to the moment (it appears within the clip, after the moment); numbers are never read as statuses, words only
    support, and text in lists or third-party widgets is not a message;
  - "denied" when the user got through afterwards; "confirmed" only when the blocked state is visible (an error,
    a control that never reacted, a loading indicator still up) and the user did not get through; otherwise
    inconclusive.
Its description says what was read (page text at frame times, the requests, the flow), never what a video
showed: no video model looked.
"""
from __future__ import annotations

from typing import Any

from replay_render.timeline import activity_timestamps, clicks
from replay_render.validation.verdict import Observation
from summaries.analysis.flows import MomentReading
from summaries.analysis.page import PageSignals
from summaries.analysis.wording import reads_as_error

LABEL = "Rule-based validation (no video model)"
# Error text appearing this long after the moment still answers it (a slow request failing).
TIED_MS = 8000
# A control that reacts shows it by then.
REACTION_MS = 2500


def error_lines(text: str) -> list[str]:
    """Lines of page text that read like an error message (words as support; digits never count)."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and reads_as_error(line)]


def _text_at(page_texts: list[dict[str, Any]], at_ms: int) -> str:
    """The page text as it was at `at_ms` (the last capture at or before it)."""
    text = ""
    for entry in page_texts:
        if entry["t"] <= at_ms:
            text = entry["text"]
        else:
            break
    return text


def _content_line(line: str, page: PageSignals | None) -> bool:
    """True when the recording placed this text in a list or a widget: content, not a message to the user."""
    if page is None:
        return False
    places = {t.where for t in page.texts if line in t.text or t.text in line}
    return bool(places) and places <= {"list", "widget"}


def observe(
    moment_ms: int,
    page_texts: list[dict[str, Any]],
    window_events: list[dict[str, Any]],
    flow: MomentReading,
    *,
    page: PageSignals | None = None,
    until_ms: int | None = None,
) -> Observation:
    """What the replay shows around the moment (read until `until_ms`, the clip's last frame), as an Observation."""
    before = _text_at(page_texts, moment_ms - 1)
    captured_before = page_texts[0]["t"] if page_texts else moment_ms
    after = [e for e in page_texts if moment_ms <= e["t"] <= moment_ms + TIED_MS]
    known = set(error_lines(before)) | (set(error_lines(page_texts[0]["text"])) if page_texts else set())
    new_errors: list[str] = []
    for entry in after:
        for line in error_lines(entry["text"]):
            if line not in known and line not in new_errors and not _content_line(line, page):
                new_errors.append(line)

    after_events = [e for e in window_events if e.get("timestamp", 0) >= moment_ms]
    activity_after = activity_timestamps(after_events)
    clicks_after = [c for c in clicks(after_events) if c["timestamp"] > moment_ms]
    # Page text is captured when it changes: unchanged since the moment means unchanged until the last frame.
    last_ms = max([until_ms or 0] + [e["t"] for e in page_texts]) if page_texts else (until_ms or moment_ms)
    page_changed = any(e["text"] != before for e in page_texts if e["t"] >= moment_ms)
    unchanged_for = 0.0 if page_changed or not page_texts else max(0.0, (last_ms - moment_ms) / 1000)
    loading_up = [load for load in (page.loading if page else [])
                  if load.strong and load.start_ms <= moment_ms + REACTION_MS
                  and (load.end_ms is None or load.end_ms >= last_ms)]

    blocked_sign = ""
    if new_errors:
        blocked_sign = f"error text appeared after the moment: {' | '.join(new_errors[:3])!r}"
    elif flow.problem == "dead_click" and unchanged_for * 1000 >= REACTION_MS:
        blocked_sign = f"the page text did not change for {unchanged_for:.1f} s after the click"
    elif flow.problem == "loading_left" and loading_up:
        blocked_sign = f'the loading indicator "{loading_up[0].label}" was still up at the end of the clip'
    elif flow.problem == "failing_form" and not page_changed:
        blocked_sign = "the page did not change after the form was sent"
    static = not activity_after and not page_changed

    if flow.got_through:
        blocked = "no"
    elif flow.problem and blocked_sign:
        blocked = "yes"
    else:
        blocked = "unclear"

    parts = [f"page text read from {(captured_before - moment_ms) / 1000:+.1f} s to {(last_ms - moment_ms) / 1000:+.1f} s "
             f"around the moment ({len(page_texts)} change(s))"]
    parts.append(blocked_sign or "no new error text, and no control or loading state that stayed stuck")
    parts.append(f"{len(activity_after)} user input events and {len(clicks_after)} clicks after the moment"
                 if activity_after else "no user activity after the moment")
    if flow.problem:
        parts.append(f"the session's flow: {flow.problem.replace('_', ' ')} after {flow.attempts} attempt(s); the user "
                     + ("got through" if flow.got_through else "did not get through") + f" ({flow.how})")
    else:
        parts.append(f"the session's flow: {flow.how}")
    description = f"{LABEL}: " + "; ".join(parts) + "."

    return Observation(
        description=description,
        error_visible=bool(new_errors),
        error_text=" | ".join(new_errors[:3]),
        user_blocked=blocked,
        workaround=False,
        completed=flow.got_through,
        static=static,
        source="rule-based",
        signals={
            "rule_based": True,
            "new_error_lines": new_errors[:10],
            "error_lines_already_there": sorted(known)[:10],
            "page_changed": page_changed,
            "unchanged_for_s": unchanged_for,
            "loading_still_up": bool(loading_up),
            "activity_after": len(activity_after),
            "clicks_after": len(clicks_after),
            "flow_problem": flow.problem,
            "flow_got_through": flow.got_through,
            "flow": flow.how,
            "completed": flow.got_through,
        },
    )
