"""From what was seen at a flagged moment to a verdict and the summary fields it may change.

Pure functions: an Observation (from the video model or the rule-based validator) in, a Verdict out.
The one rule that matters most: a workaround does not erase an issue. A blocking exception that the
user got past becomes non-blocking; it never becomes null.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CONFIRMED, DENIED, INCONCLUSIVE = "confirmed", "denied", "inconclusive"


@dataclass
class Observation:
    """What is visible around a flagged moment, in the terms the verdict needs."""

    description: str
    error_visible: bool = False
    error_text: str = ""
    user_blocked: str = "unclear"  # yes | no | unclear
    workaround: bool = False  # the user got past the problem another way
    completed: bool = False  # the user went on and completed the flow
    static: bool = False  # nothing happened on screen
    source: str = "video-model"  # video-model | rule-based: who looked, and so what the reasons may claim
    signals: dict[str, Any] = field(default_factory=dict)

    @property
    def seen_by(self) -> str:
        """How a reason names where its evidence comes from (only a video model watched a video)."""
        return "the video model saw" if self.source == "video-model" else "the replay's page text and requests show"

    def as_dict(self) -> dict[str, Any]:
        """The observation as stored in the evidence."""
        return asdict(self)


@dataclass
class Verdict:
    """The decision on one blocking key action and the summary changes that follow from it."""

    verdict: str
    reason: str
    changes: dict[str, Any] = field(default_factory=dict)


def _clip(text: str, limit: int = 200) -> str:
    """Whitespace collapsed and cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decide(observation: Observation, action: dict[str, Any], *, last_segment: bool = False) -> Verdict:
    """Confirmed, denied or inconclusive for a key action flagged blocking, with the allowed changes.

    - blocked and not past it: confirmed; the segment failed (and the session, when it ended there).
    - got past it (workaround, completed the flow) or plainly not blocked: denied as *blocking*; the
      exception stays on record as non-blocking and the segment's outcome follows what was seen.
    - nothing to go on (static screen, unclear): inconclusive; nothing changes.
    """
    original = str(action.get("description") or "").strip()
    seen = _clip(observation.error_text or observation.description, 160)
    tag = "video" if observation.source == "video-model" else "replay"
    if observation.workaround or observation.completed:
        how = "completed the flow" if observation.completed else "worked around it"
        changes: dict[str, Any] = {
            "key_action.exception": "non-blocking",
            "key_action.description": f"{original} ({tag}: the user {how}; the problem remains: {seen})"
            if observation.error_visible else f"{original} ({tag}: the user {how})",
            "segment.outcome.success": True,
        }
        return Verdict(DENIED, f"{observation.seen_by} the user {how}, so it did not block them", changes)
    # An error on screen followed by nothing at all is what being blocked looks like; a static screen
    # without an error says nothing.
    if observation.user_blocked == "yes" and (observation.error_visible or not observation.static):
        changes = {
            "key_action.description": f"{original} ({tag}: {seen})" if seen else original,
            "segment.outcome.success": False,
        }
        if last_segment:
            changes["session_outcome.success"] = False
        return Verdict(CONFIRMED, f"{observation.seen_by} the user blocked by it", changes)
    if observation.user_blocked == "no" and not observation.static:
        changes = {
            "key_action.exception": "non-blocking",
            "key_action.description": f"{original} ({tag}: no blocking problem visible)",
        }
        return Verdict(DENIED, f"{observation.seen_by} the user was not blocked", changes)
    if observation.static:
        reason = "static - no user activity"
    elif observation.source == "video-model":
        reason = "the video does not show whether it blocked the user"
    else:
        reason = "the replay does not show whether it blocked the user"
    return Verdict(INCONCLUSIVE, reason, {})
