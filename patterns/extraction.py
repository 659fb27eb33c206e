"""Phase 2, extraction: the patterns one chunk of summaries shows, by fingerprint (rules) or by a model (llm)."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from patterns import llm_output
from patterns.asking import StageResult, ask
from patterns.fingerprint import family, fingerprint
from patterns.prompt_data import summaries_block
from patterns.summary_view import flagged, moments

Item = tuple[int, dict[str, Any]]  # (summary id, summary as written)


def extract_with_rules(items: list[Item]) -> StageResult:
    """Every fingerprint of the chunk's flagged moments, with its evidence and where it was seen."""
    groups: dict[str, dict[str, Any]] = {}
    places: dict[str, dict[str, Counter]] = defaultdict(lambda: {"routes": Counter(), "controls": Counter(),
                                                                 "requests": Counter()})
    for summary_id, summary in items:
        for moment in flagged(summary, summary_id):
            fp = fingerprint(moment.action)
            if fp is None:
                continue
            group = groups.get(fp.key) or groups.setdefault(fp.key, {
                "key": fp.key, "facts": fp.as_dict(), "family": family(fp, moment.action["problem"]).as_dict(),
                "evidence": [], "sessions": []})
            group["evidence"].append([summary_id, moment.event_id])
            if summary_id not in group["sessions"]:
                group["sessions"].append(summary_id)
            problem = moment.action.get("problem") or {}
            for name, fact in (("routes", "route"), ("controls", "control"), ("requests", "request")):
                if problem.get(fact):
                    places[fp.key][name][str(problem[fact])] += 1
    for key, group in groups.items():
        group.update({name: dict(counter) for name, counter in places[key].items()})
    return StageResult({"patterns": list(groups.values())})


def descriptions(items: list[Item]) -> dict[tuple[int, str], str]:
    """(summary id, event id) -> the key action's description."""
    return {(summary_id, m.event_id): str(m.action.get("description") or "")
            for summary_id, summary in items for m in moments(summary, summary_id)}


def extract_with_llm(items: list[Item], model: str, focus: str = "") -> StageResult:
    """Ask the model for the chunk's patterns; the answer is validated and grounded (retried when unusable)."""
    block = summaries_block(items)
    if not block.flagged_events:
        return StageResult({"patterns": []})  # nothing flagged in these sessions: no pattern can come of it
    describe = descriptions(items)
    return ask("extract", block.text, "patterns",
               lambda answer: llm_output.extracted_patterns(answer, block, describe), model, focus)
