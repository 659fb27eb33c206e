"""The rule engine: a deterministic summary in the same schema as the LLM's, with no model call.

Segments come from navigation and long inactivity; key actions from clicks, inputs, submits and problems.
A problem (failed API request, API-related exception, dead or rage click, a form that keeps failing) counts
only when it hits the user's path: right after something the user did. What follows decides its weight:
  - blocking: the user abandons that flow afterwards, or tries again and fails again;
  - non-blocking: the user still gets through (a later attempt works, or they move on to a new page);
Errors off the user's path (background exceptions, requests the app retried by itself) are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from summaries.analysis.prompt_data import PromptInput, Row

RULES_VERSION = "rules-v1"
USER_ACTIONS = ("click", "submit", "change")
PROBLEM_KINDS = ("request_failed", "error_shown", "exception", "dead_click", "rageclick", "repeated_submit")
# A problem this soon after a user action is a consequence of it.
ON_PATH_MS = 5000
# Problems this close together on one page are one incident.
INCIDENT_MS = 5000
# A new segment starts after this much inactivity even on the same page.
SEGMENT_IDLE_MS = 60_000
MAX_KEY_ACTIONS_PER_SEGMENT = 10
SUBMIT_WORDS = re.compile(
    r"pay|place|submit|continue|sign|log ?in|register|save|apply|checkout|next|confirm|create|send|order|buy|book",
    re.IGNORECASE,
)

# Problems that carry no message of their own: repeats are recognised by the target the user kept trying.
SIGNALS_WITHOUT_MESSAGE = ("dead_click", "rageclick", "repeated_submit")
# Targets whose clicks often change nothing visible by design: native dropdowns, fields, labels, page.
NO_REACTION_EXPECTED = frozenset({"select", "option", "input", "textarea", "label", "html", "body", ""})
# Custom product events whose names say a flow finished (order_completed, signed_up...) or failed.
SUCCESS_EVENT = re.compile(r"complete|success|placed|created|confirm|purchase|paid|signed.?up|submitted|added|saved",
                           re.IGNORECASE)
FAILURE_EVENT = re.compile(r"fail|error|denied|declined|invalid|reject", re.IGNORECASE)


@dataclass
class Incident:
    """One problem (possibly repeated) that hit something the user did."""

    rows: list[Row]
    trigger: Row | None
    path: str
    kind: str
    attempts: int = 1
    recovered: bool = False
    abandoned: bool = False
    workaround: str = ""
    later_rows: list[Row] = field(default_factory=list)

    @property
    def first(self) -> Row:
        """The row that best shows the problem in its first occurrence (a failed request over a retry...)."""
        start = self.rows[0].timestamp_ms
        first_burst = [r for r in self.rows if r.timestamp_ms - start <= INCIDENT_MS]
        return min(first_burst, key=lambda r: (PROBLEM_KINDS.index(r.kind), r.timestamp_ms))

    @property
    def blocking(self) -> bool:
        """Blocking unless the user got through afterwards."""
        return not self.recovered


def _is_submit_like(row: Row) -> bool:
    """A submit, or a click on something that reads like a submit button."""
    if row.kind == "submit":
        return True
    return row.kind == "click" and bool(SUBMIT_WORDS.search(row.target)) and not row.target.startswith("a:")


def _problem_rows(rows: list[Row]) -> list[Row]:
    """Rows that may be problems: failed requests the user could see, API errors, dead/rage clicks."""
    out = []
    for row in rows:
        if row.kind == "request_failed" and not row.facts.get("auto_recovered"):
            out.append(row)
        elif row.kind == "exception" and row.facts.get("api_related"):
            out.append(row)
        elif row.kind == "error_shown":
            out.append(row)
        elif row.kind in ("dead_click", "rageclick") and _target_tag(row) not in NO_REACTION_EXPECTED:
            out.append(row)
    return out


def _repeated_submits(rows: list[Row]) -> list[Row]:
    """Submit-like actions the user repeats on the same page without getting anywhere (a form that keeps failing)."""
    out: list[Row] = []
    by_page: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if row.kind == "pageview":
            by_page.clear()
        if _is_submit_like(row):
            key = (row.path, row.target)
            previous = by_page.setdefault(key, [])
            # Two submits of the same thing over 1.5 s apart with no navigation between: the first did not work.
            if previous and row.timestamp_ms - previous[-1].timestamp_ms > 1500:
                first = previous[0]
                if not any(r is first for r in out):
                    synthetic = Row(first.event_id, first.timestamp_ms, "repeated_submit", first.window, first.url,
                                    first.target, "", first.uuid, first.source, dict(first.facts))
                    out.append(synthetic)
            previous.append(row)
    return out


def _trigger_before(rows: list[Row], problem: Row) -> Row | None:
    """The user action the problem followed (same page, within ON_PATH_MS), if any."""
    if problem.kind in ("dead_click", "rageclick", "repeated_submit"):
        return problem
    best = None
    for row in rows:
        if row.timestamp_ms > problem.timestamp_ms:
            break
        if row.kind in USER_ACTIONS and problem.timestamp_ms - row.timestamp_ms <= ON_PATH_MS and row.path == problem.path:
            # A click and the submit it causes share a moment: the click is what the user did.
            if best is not None and best.timestamp_ms == row.timestamp_ms and best.kind == "click":
                continue
            best = row
    return best


def find_incidents(prepared: PromptInput) -> list[Incident]:
    """Problems on the user's path, grouped into incidents and classified blocking / non-blocking."""
    rows = prepared.rows
    problems = sorted(_problem_rows(rows) + _repeated_submits(rows), key=lambda r: r.timestamp_ms)
    incidents: list[Incident] = []
    for problem in problems:
        if problem.kind == "repeated_submit" and any(
            r.kind != "repeated_submit" and 0 <= r.timestamp_ms - problem.timestamp_ms <= ON_PATH_MS for r in problems
        ):
            continue  # the retry is explained by a real error right after the first attempt
        trigger = _trigger_before(rows, problem)
        if trigger is None:
            continue  # off the user's path: background errors, page-load noise
        current = incidents[-1] if incidents else None
        if current and current.path == problem.path and problem.timestamp_ms - current.rows[-1].timestamp_ms <= INCIDENT_MS:
            current.rows.append(problem)
            continue
        same_trigger = next(
            (i for i in reversed(incidents)
             if i.path == problem.path
             and not _navigated_between(rows, i.rows[-1].timestamp_ms, problem.timestamp_ms)
             and (_signature(problem) in {_signature(r) for r in i.rows}
                  or (problem.kind in SIGNALS_WITHOUT_MESSAGE and i.first.kind in SIGNALS_WITHOUT_MESSAGE
                      and ((i.trigger is not None and trigger.target and i.trigger.target == trigger.target)
                           or (i.trigger is not None and _is_submit_like(i.trigger) and _is_submit_like(trigger)))))),
            None,
        )
        if same_trigger is not None:
            # The user tried the same thing again and it failed again.
            same_trigger.attempts += 1
            same_trigger.rows.append(problem)
            continue
        incidents.append(Incident(rows=[problem], trigger=trigger, path=problem.path, kind=_kind(problem)))
    for incident in incidents:
        incident.kind = _kind(incident.first)
        _classify(incident, rows, problems)
    return [i for i in incidents if not _ignorable(i, rows)]


def _signature(problem: Row) -> str:
    """What makes two problems 'the same failure again': the endpoint, the message, the error, the target."""
    facts = problem.facts
    detail = facts.get("endpoint") or facts.get("text") or facts.get("fingerprint") or problem.target
    return f"{problem.kind}:{detail}"


def _kind(problem: Row) -> str:
    """What sort of problem an incident is, in product words."""
    return {
        "request_failed": "api_error",
        "error_shown": "error_message",
        "exception": "api_error",
        "dead_click": "dead_click",
        "rageclick": "rage_click",
        "repeated_submit": "failing_form",
    }.get(problem.kind, problem.kind)


def _navigated_between(rows: list[Row], start: int, end: int) -> bool:
    """True when a page view happened between two moments."""
    return any(r.kind == "pageview" and start < r.timestamp_ms < end for r in rows)


def _section(path: str) -> str:
    """The first path segment: /product/a and /product/b are the same section."""
    return (path or "/").strip("/").split("/", 1)[0]


def _classify(incident: Incident, rows: list[Row], problems: list[Row] | None = None) -> None:
    """Decide whether the user got through after the incident, or abandoned the flow.

    Getting through means: the page or the product reported success (a confirmation message, order_completed,
    signed_up...), or the user later
    reached a page they had not seen before, outside the incident page's own section (another product is a
    sibling, not progress). A workaround counts: going back and using another way in is still getting through.
    Staying put, going back for good, or the session ending is abandonment.
    """
    last = incident.rows[-1].timestamp_ms
    start = incident.first.timestamp_ms
    visited_before = {r.path for r in rows if r.timestamp_ms < start and r.path}
    after = [r for r in rows if r.timestamp_ms > last]
    incident.later_rows = after
    if incident.first.kind not in SIGNALS_WITHOUT_MESSAGE and _got_past(incident, after, problems or []):
        incident.recovered = True
        incident.workaround = "a later attempt got past this error"
        return
    for row in after:
        if row.kind == "success_shown":
            incident.recovered = True
            incident.workaround = f'the page then confirmed "{row.detail}"'
            return
        if row.facts.get("custom") and SUCCESS_EVENT.search(row.kind) and not FAILURE_EVENT.search(row.kind):
            incident.recovered = True
            incident.workaround = f"reached {row.kind}"
            return
        if (row.kind == "pageview" and row.path and row.path not in visited_before
                and _section(row.path) != _section(incident.path)):
            incident.recovered = True
            incident.workaround = f"went on to {row.path}"
            return
    incident.abandoned = True


def _got_past(incident: Incident, after: list[Row], problems: list[Row]) -> bool:
    """True when the user repeated the action and it then failed differently (a later step), i.e. this error
    no longer stood in the way. Only for errors that show on every attempt (messages, failed requests)."""
    signatures = {_signature(r) for r in incident.rows}
    trigger = incident.trigger
    if trigger is None:
        return False
    for row in after:
        if row.path != incident.path:
            return False
        same_action = row.kind in USER_ACTIONS and (
            row.target == trigger.target or (_is_submit_like(row) and _is_submit_like(trigger)))
        if not same_action:
            continue
        following = [p for p in problems if row.timestamp_ms <= p.timestamp_ms <= row.timestamp_ms + ON_PATH_MS
                     and p.kind not in SIGNALS_WITHOUT_MESSAGE]
        if following and not any(_signature(p) in signatures for p in following):
            return True
    return False


def _target_tag(row: Row) -> str:
    """The tag a row's target starts with (button, a, input[text], select...)."""
    return (row.facts.get("tag") or row.target.split(":", 1)[0]).split("[", 1)[0]


def _repeated_on_target(incident: Incident, rows: list[Row]) -> bool:
    """True when the user clicked the incident's target at least twice on that page visit, or rage-clicked."""
    if any(r.kind == "rageclick" for r in incident.rows):
        return True
    target, start = incident.first.target, incident.first.timestamp_ms
    count = 0
    for row in rows:
        if row.timestamp_ms < start - 4000:
            continue
        if row.kind == "pageview" and row.timestamp_ms > start:
            break
        if row.kind in ("click", "dead_click") and row.target == target and row.path == incident.path:
            count += 1 if row.kind == "click" else 0
    return count >= 2 or len([r for r in incident.rows if r.kind == "dead_click"]) >= 2


def _ignorable(incident: Incident, rows: list[Row]) -> bool:
    """A dead or rage click the user did not insist on, or simply moved past, is usually a false positive
    (dropdowns, carousels, text selection, steppers)."""
    if incident.kind not in ("dead_click", "rage_click"):
        return False
    if incident.recovered and incident.attempts == 1 and len(incident.rows) == 1:
        return True
    return not _repeated_on_target(incident, rows)


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
    if row.kind == "error_shown":
        return f"The page showed \"{row.detail}\""
    if row.kind == "dead_click":
        return f"Clicked {target} and nothing happened"
    if row.kind == "rageclick":
        return f"Clicked {target} repeatedly in frustration"
    if row.kind == "repeated_submit":
        return f"Tried {target} again without getting further"
    return f"{row.kind}" + (f": {row.detail}" if row.detail else "")


def _incident_description(incident: Incident) -> str:
    """What went wrong and what the user did next."""
    text = describe_row(incident.first)
    if incident.trigger is not None and incident.trigger is not incident.first and incident.trigger.kind in USER_ACTIONS:
        text += f" after {describe_row(incident.trigger)[0].lower()}{describe_row(incident.trigger)[1:]}"
    if incident.attempts > 1:
        text += f"; failed on {incident.attempts} attempts"
    if incident.recovered:
        text += f"; the user got through ({incident.workaround})"
    else:
        text += "; the user gave up on this step"
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
                    "confusion": incident.attempts > 1 or incident.kind in ("rage_click", "failing_form", "dead_click"),
                    "exception": "blocking" if incident.blocking else "non-blocking",
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
