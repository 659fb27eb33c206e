"""The rule engine: a deterministic summary in the same schema as the LLM's, with no model call.

Segments come from navigation and long inactivity; key actions from clicks, inputs, submits and problems.
Problems and their weight come from the user's flow (summaries.analysis.flows): a problem is blocking when
what the user was trying to do never worked afterwards, non-blocking when it later did (or the user did it
another way). Errors off the user's path (background exceptions, requests the app retried by itself, texts in
lists or third-party widgets) are not problems. Waits the user sat through are non-blocking.
"""
from __future__ import annotations

import re
from typing import Any

from summaries.analysis.flows import USER_ACTIONS, Incident, find_incidents
from summaries.analysis.prompt_data import PromptInput, Row
from summaries.analysis.versions import code_version

RULES_VERSION = code_version("rules", "summaries/analysis")
# A new segment starts after this much inactivity even on the same page.
SEGMENT_IDLE_MS = 60_000
MAX_KEY_ACTIONS_PER_SEGMENT = 10


# --- segments and key actions -------------------------------------------------------------------------------


def page_name(path: str, title: str = "") -> str:
    """A readable page name from a title (without the site-name suffix) or URL path."""
    title = re.split(r"\s[·|—–-]\s", title or "")[0].strip()
    if title:
        return title
    parts = [p for p in (path or "/").split("/") if p and not re.fullmatch(r"[\d\-a-f]{6,}|\d+", p)]
    if not parts:
        return "Home page"
    return " ".join(parts[-2:]).replace("-", " ").replace("_", " ").capitalize() + " page"


def split_segments(prepared: PromptInput) -> list[list[Row]]:
    """Rows grouped by page visit; a long idle stretch also starts a new segment."""
    segments: list[list[Row]] = []
    current: list[Row] = []
    current_path = None
    for row in prepared.rows:
        new_page = row.kind == "pageview" and row.path != current_path
        long_idle = row.kind == "idle" and row.facts.get("end_ms", 0) - row.timestamp_ms >= SEGMENT_IDLE_MS
        if current and (new_page or (long_idle and any(r.kind in USER_ACTIONS for r in current))):
            segments.append(current)
            current = []
        if row.kind == "pageview" or (current_path is None and row.path):
            current_path = row.path
        current.append(row)
    if current:
        segments.append(current)
    return segments


def pretty_target(target: str) -> str:
    """`button:Pay now` as `button "Pay now"` for people."""
    tag, _, label = target.partition(":")
    return f'{tag} "{label}"' if label else (tag or "the page")


def describe_row(row: Row) -> str:
    """What a row means, in one short sentence."""
    target = pretty_target(row.target)
    if row.kind == "click":
        return f"Clicked {target}" + (f" ({row.detail})" if row.detail else "")
    if row.kind == "submit":
        return f"Submitted {target}"
    if row.kind == "change":
        return f"Changed {target}"
    if row.kind == "pageview":
        return f"Opened {row.path or row.url}"
    if row.kind == "request_failed":
        return f"Request failed: {row.detail}"
    if row.kind == "exception":
        return f"Error: {row.detail}"
    if row.kind == "text_shown":
        where, _, text = row.detail.partition(": ")
        return f'The page showed "{text}" ({where})'
    if row.kind == "field_invalid":
        return f"{pretty_target(row.target)} was marked invalid" + (f': "{row.detail}"' if row.detail else "")
    if row.kind == "loading_left":
        return f"Left while loading: {row.detail}"
    if row.kind == "dead_click":
        return f"Clicked {target} and nothing happened"
    if row.kind == "rageclick":
        return f"Clicked {target} repeatedly in frustration"
    return f"{row.kind}" + (f": {row.detail}" if row.detail else "")


def _incident_description(incident: Incident) -> str:
    """What went wrong, what the user did, and how it ended."""
    first = incident.first
    if incident.kind == "failing_form":
        text = f"Submitted {pretty_target(incident.trigger.target if incident.trigger else '')} without getting further"
    elif incident.kind == "dead_click":
        text = f"Clicked {pretty_target(incident.attempts[0].control)} and nothing happened"
    else:
        text = describe_row(first)
    trigger = incident.trigger
    if trigger is not None and trigger is not first and trigger.kind in USER_ACTIONS and incident.kind not in (
            "dead_click", "failing_form"):
        said = describe_row(trigger)
        text += f" after {said[0].lower()}{said[1:]}"
    if len(incident.attempts) > 1:
        text += f"; failed on {len(incident.attempts)} attempts"
    if incident.recovered:
        text += f"; the user got through ({incident.resolution})"
    else:
        text += f"; the user did not get through ({incident.left})"
    return text


def summarize_with_rules(prepared: PromptInput) -> dict[str, Any]:
    """A validated, grounded summary (model-output shape) built deterministically from prepared input."""
    incidents = find_incidents(prepared)
    by_row = {i.first.event_id: i for i in incidents}
    segments_rows = split_segments(prepared)
    segments, key_actions, outcomes = [], [], {}
    for index, seg_rows in enumerate(segments_rows):
        path = next((r.path for r in seg_rows if r.path), "")
        title = next((r.detail for r in seg_rows if r.kind == "pageview" and r.detail), "")
        segments.append({
            "index": index,
            "name": page_name(path, title),
            "start_event_id": seg_rows[0].event_id,
            "end_event_id": seg_rows[-1].event_id,
        })
        flagged, ordinary = [], []
        last_action = None
        for row in seg_rows:
            incident = by_row.get(row.event_id)
            if incident is not None:
                flagged.append({
                    "segment_index": index,
                    "event_id": row.event_id,
                    "description": _incident_description(incident),
                    "abandonment": incident.abandoned,
                    "confusion": incident.confused,
                    "exception": "blocking" if incident.blocking else "non-blocking",
                    "problem_kind": incident.kind,
                })
            elif row.kind == "slow_request":
                # The user waited; it slowed them down but never counts as blocking on its own.
                flagged.append({
                    "segment_index": index,
                    "event_id": row.event_id,
                    "description": f"Waited: {row.detail}",
                    "abandonment": False,
                    "confusion": False,
                    "exception": "non-blocking",
                    "problem_kind": "slow",
                })
            elif row.kind in USER_ACTIONS or row.facts.get("custom"):
                if last_action is not None and last_action.kind == row.kind and last_action.target == row.target \
                        and row.timestamp_ms - last_action.timestamp_ms < 3000:
                    continue
                last_action = row
                ordinary.append({
                    "segment_index": index,
                    "event_id": row.event_id,
                    "description": describe_row(row),
                    "abandonment": False,
                    "confusion": False,
                    "exception": None,
                })
        room = max(0, MAX_KEY_ACTIONS_PER_SEGMENT - len(flagged))
        if len(ordinary) > room:
            step = len(ordinary) / room if room else 0
            ordinary = [ordinary[int(i * step)] for i in range(room)] if room else []
        key_actions += flagged + ordinary
        seg_ids = {r.event_id for r in seg_rows}
        blocking_here = [i for i in incidents if i.first.event_id in seg_ids and i.blocking]
        non_blocking_here = [i for i in incidents if i.first.event_id in seg_ids and not i.blocking]
        actions_here = sum(1 for r in seg_rows if r.kind in USER_ACTIONS)
        summary = f"{actions_here} interaction(s) on {path or 'the page'}"
        if blocking_here:
            summary += "; blocked: " + "; ".join(describe_row(i.first) for i in blocking_here)
        if non_blocking_here:
            summary += "; got past: " + "; ".join(describe_row(i.first) for i in non_blocking_here)
        outcomes[index] = {"success": not blocking_here, "summary": summary + " (rule-based)"}
    blocking = [i for i in incidents if i.blocking]
    pages = []
    for seg in segments:
        if not pages or pages[-1] != seg["name"]:
            pages.append(seg["name"])
    journey = " -> ".join(pages[:8]) + (" -> ..." if len(pages) > 8 else "")
    if blocking:
        description = (f"Rule-based: the user went {journey} and was blocked: "
                       + "; ".join(_incident_description(i) for i in blocking) + ".")
    elif incidents:
        description = f"Rule-based: the user went {journey}; problems met were worked around."
    else:
        description = f"Rule-based: the user went {journey} with no problem on their path."
    return {
        "segments": segments,
        "key_actions": key_actions,
        "segment_outcomes": outcomes,
        "session_outcome": {"success": not blocking, "description": description},
        "grounding": {"referenced_ids": len(key_actions) + 2 * len(segments), "invented_ids": [], "invented_ratio": 0.0},
    }


CROSS_CHECK_WINDOW_MS = 10_000


def cross_check(summary: dict[str, Any], prepared: PromptInput) -> dict[str, Any]:
    """Annotate an LLM summary with what the rule engine found, so unbacked claims stand out.

    Each blocking / non-blocking key action gets `rule_check`: "agrees" (the rules flag a problem of the same
    weight within 10 s), "rules: non-blocking" / "rules: blocking" (a problem of another weight), or
    "rules: nothing" (the rules see no problem there). `summary["cross_check"]` lists the rules' blocking
    moments and how many the model missed.
    """
    incidents = find_incidents(prepared)
    moments = [(i.first.timestamp_ms, i) for i in incidents]
    model_blocking_times = []
    for seg in summary["segments"]:
        for action in seg["key_actions"]:
            if not action["exception"]:
                continue
            near = [i for t, i in moments if abs(t - action["timestamp_ms"]) <= CROSS_CHECK_WINDOW_MS]
            if not near:
                verdict = "rules: nothing"
            elif any(("blocking" if i.blocking else "non-blocking") == action["exception"] for i in near):
                verdict = "agrees"
            else:
                verdict = "rules: " + ("blocking" if near[0].blocking else "non-blocking")
            action["rule_check"] = verdict
            if action["exception"] == "blocking":
                model_blocking_times.append(action["timestamp_ms"])
    rule_blocking = [i for i in incidents if i.blocking]
    summary["cross_check"] = {
        "engine": RULES_VERSION,
        "rule_blocking": [
            {"event_id": i.first.event_id, "seconds_from_start": prepared.seconds(i.first.timestamp_ms),
             "description": _incident_description(i)}
            for i in rule_blocking
        ],
        "missed_by_model": sum(
            1 for i in rule_blocking
            if not any(abs(i.first.timestamp_ms - t) <= CROSS_CHECK_WINDOW_MS for t in model_blocking_times)
        ),
        "unbacked_model_blocking": sum(
            1 for t in model_blocking_times
            if not any(abs(i.first.timestamp_ms - t) <= CROSS_CHECK_WINDOW_MS for i in rule_blocking)
        ),
    }
    return summary
