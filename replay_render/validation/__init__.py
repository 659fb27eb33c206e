"""Video validation of blocking issues: clip each blocking key action, look at it, record the verdict.

With RECAP_VIDEO_MODEL set, the video model describes the clip; without one, the rule-based
validator reads the replay (page text frame by frame, events, where the user went next). Either
way the verdict and its evidence (description, clip, model or "rule-based") are written to the
summary through SessionSummary.apply_validation, which only lets allowed fields change.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

from replay_render.models import Clip
from replay_render.rendering import clip_for, clip_window, render
from replay_render.validation import rules
from replay_render.validation.verdict import Observation, decide
from summaries.analysis.versions import code_version
from summaries.models import SessionSummary, ms_to_datetime

logger = logging.getLogger(__name__)
# The validator's rules and the flow analysis they read: a verdict by older code is redone.
VALIDATOR_VERSION = code_version("validator", "replay_render/validation", "summaries/analysis")


@dataclass
class ActionOutcome:
    """What happened to one blocking key action."""

    event_id: str
    clip_id: int | None
    state: str  # validated | clip_failed | model_failed | gone
    verdict: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For task results and logs."""
        return asdict(self)


def pending_actions(summary: SessionSummary, *, force: bool = False) -> list[dict[str, Any]]:
    """Blocking key actions still to validate: never validated, or by an older validator (all of them with force)."""
    return [a for a in summary.blocking_key_actions
            if force or not a.get("validation")
            or (a["validation"].get("evidence") or {}).get("validator_version") != VALIDATOR_VERSION]


def clip_for_action(summary: SessionSummary, action: dict[str, Any], fps: int | None = None) -> Clip:
    """The (cached or new) clip around a key action's moment: the default window and fps, the action's tab."""
    start, end = clip_window(ms_to_datetime(int(action["timestamp_ms"])))
    window_id = ""
    if action.get("event_uuid"):
        try:
            window_id = (
                summary.session.events.filter(uuid=action["event_uuid"]).values_list("window_id", flat=True).first()
                or ""
            )
        except (ValueError, ValidationError):  # not a uuid: show the busiest tab
            window_id = ""
    return clip_for(summary.session, start, end, fps, window_id=window_id)


def observe_with_rules(summary: SessionSummary, action: dict[str, Any], clip: Clip) -> Observation:
    """The rule-based validator's observation of a rendered clip, read with the session's flow."""
    from summaries.analysis.flows import read_moment
    from summaries.analysis.page import read_page
    from summaries.summarize import load_prepared

    moment_ms = int(action["timestamp_ms"])
    window_events = summary.session.rrweb_events(clip.start_time, clip.end_time, from_full_snapshot=True)
    flow = read_moment(load_prepared(summary.session), moment_ms)
    return rules.observe(moment_ms, clip.page_texts, window_events, flow, page=read_page(window_events),
                         until_ms=int(clip.frame_times[-1]) if clip.frame_times else None)


def validate_action(
    summary: SessionSummary, action: dict[str, Any], clip: Clip, *, model: str | None = None
) -> ActionOutcome:
    """Look at one blocking key action's clip and record the verdict on the summary."""
    from summaries.llm import LLMError, configured_video_model

    event_id = str(action["event_id"])
    if not clip.is_ready:
        # The summary keeps its unvalidated flag; the clip row says why.
        return ActionOutcome(event_id, clip.pk, "clip_failed", reason=clip.failure_reason or clip.state)
    model = configured_video_model() if model is None else model
    clip_url = reverse("replay_render:clip_file", args=[clip.pk])
    if model:
        from replay_render.validation.video import ask_video_model

        try:
            observation, facts = ask_video_model(clip, action, model)
        except LLMError as exc:
            logger.warning("video validation of %s in summary %s failed: %s", event_id, summary.pk, exc)
            return ActionOutcome(event_id, clip.pk, "model_failed", reason=str(exc))
        evidence: dict[str, Any] = {"method": "video-model", "rule_based": False, "model": model,
                                    "validator_version": VALIDATOR_VERSION, **facts}
        # The rule-based reading of the same replay, kept next to the model's as a cross-check.
        ruled = observe_with_rules(summary, action, clip)
        ruled_verdict = decide(ruled, action, last_segment=False).verdict
        evidence["rule_check"] = {
            "verdict": ruled_verdict,
            "description": ruled.description,
            "agrees": ruled_verdict == decide(observation, action).verdict,
        }
    else:
        observation = observe_with_rules(summary, action, clip)
        evidence = {"method": "rule-based", "rule_based": True, "label": rules.LABEL, "model": "",
                    "validator_version": VALIDATOR_VERSION}

    segments = (summary.summary or {}).get("segments", [])
    last_segment = bool(segments) and action.get("segment_index") == segments[-1].get("index")
    verdict = decide(observation, action, last_segment=last_segment)
    changes = dict(verdict.changes)
    if "key_action.exception" in changes and not changes["key_action.exception"]:
        del changes["key_action.exception"]  # never erase an issue: blocking goes to non-blocking at most
    evidence.update(
        description=observation.description,
        reason=verdict.reason,
        observation=observation.as_dict(),
        clip_id=clip.pk,
        clip_url=clip_url,
        clip_window=[clip.frame_times[0] if clip.frame_times else None, clip.frame_times[-1] if clip.frame_times else None],
    )
    try:
        ignored = summary.apply_validation(event_id, verdict.verdict, changes=changes, evidence=evidence)
    except KeyError:
        return ActionOutcome(event_id, clip.pk, "gone", reason="the summary no longer has this key action")
    if ignored:
        logger.warning("summary %s ignored validation changes %s", summary.pk, ignored)
    return ActionOutcome(event_id, clip.pk, "validated", verdict=verdict.verdict, reason=verdict.reason)


def validate_summary(summary: SessionSummary, *, force: bool = False, model: str | None = None) -> list[ActionOutcome]:
    """Validate every pending blocking key action in this process (renders the clips here too)."""
    outcomes = []
    for action in pending_actions(summary, force=force):
        clip = render(clip_for_action(summary, action))
        outcomes.append(validate_action(summary, action, clip, model=model))
    return outcomes
