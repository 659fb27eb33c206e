"""Phase 4, assignment: which flagged moment of a chunk of summaries belongs to which pattern."""
from __future__ import annotations

from typing import Any

from patterns import llm_output
from patterns.asking import StageResult, ask
from patterns.extraction import Item
from patterns.fingerprint import fingerprint
from patterns.prompt_data import assignment_block
from patterns.summary_view import flagged


def assign_with_rules(items: list[Item], patterns: list[dict[str, Any]]) -> StageResult:
    """Rules: a moment belongs to the pattern holding its fingerprint."""
    index = {key: i for i, p in enumerate(patterns) for key in p.get("members") or [p["key"]]}
    out = []
    for summary_id, summary in items:
        for moment in flagged(summary, summary_id):
            fp = fingerprint(moment.action)
            if fp is not None and fp.key in index:
                out.append([summary_id, moment.event_id, index[fp.key]])
    return StageResult({"assignments": out})


def assign_with_llm(items: list[Item], patterns: list[dict[str, Any]], model: str, focus: str = "") -> StageResult:
    """Ask the model which flagged moments belong to which pattern (only flagged moments; one pattern each)."""
    block = assignment_block(patterns, items)
    if not block.flagged_events or not patterns:
        return StageResult({"assignments": []})  # nothing to assign: no call
    return ask("assign", block.text, "assignments", lambda answer: llm_output.assignments(answer, block), model, focus)
