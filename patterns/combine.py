"""Phase 3, combine: one list of patterns from the chunks' lists (only when there was more than one chunk)."""
from __future__ import annotations

from collections import Counter
from typing import Any

from patterns import llm_output
from patterns.asking import StageResult, ask
from patterns.fingerprint import Fingerprint
from patterns.prompt_data import patterns_block
from patterns.rule_names import rule_description, rule_indicators, rule_name

MIN_SESSIONS = llm_output.MIN_SESSIONS


def combine_rule_patterns(chunk_results: list[dict[str, Any]]) -> StageResult:
    """Rules: chunks' groups with the same fingerprint become one; named from their facts; >= 2 sessions kept."""
    merged: dict[str, dict[str, Any]] = {}
    for result in chunk_results:
        for group in result.get("patterns", []):
            into = merged.setdefault(group["key"], {"key": group["key"], "facts": group["facts"], "evidence": [],
                                                    "sessions": [], "routes": Counter(), "controls": Counter(),
                                                    "requests": Counter()})
            into["evidence"] += group["evidence"]
            into["sessions"] = sorted(set(into["sessions"]) | set(group["sessions"]))
            for name in ("routes", "controls", "requests"):
                into[name].update(group.get(name) or {})
    patterns = []
    for key, group in sorted(merged.items(), key=lambda kv: (-len(kv[1]["sessions"]), kv[0])):
        if len(group["sessions"]) < MIN_SESSIONS:
            continue
        fp = Fingerprint(**group["facts"])
        routes = [r for r, _ in group["routes"].most_common()]
        controls = [c for c, _ in group["controls"].most_common()]
        places = [{"route": r} for r in routes[:3]] + [{"request": q} for q, _ in group["requests"].most_common(2)]
        patterns.append({
            "key": key,
            "facts": group["facts"],
            "name": rule_name(fp),
            "description": rule_description(fp, routes, controls),
            "indicators": rule_indicators(fp, places),
            "severity": None,  # decided with the statistics (kind, share of sessions, failed segments)
            "evidence": group["evidence"],
            "sessions": group["sessions"],
        })
    return StageResult({"patterns": patterns})


def combine_with_llm(chunk_results: list[dict[str, Any]], model: str, focus: str = "") -> StageResult:
    """Ask the model to merge the chunks' patterns; severities and sessions are computed from what it merged."""
    inputs = [p for result in chunk_results for p in result.get("patterns", [])]
    if not inputs:
        return StageResult({"patterns": []})
    block = patterns_block(inputs)
    return ask("combine", block.text, "patterns",
               lambda answer: llm_output.combined_patterns(answer, inputs, block), model, focus)


def uncombined(chunk_results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The one chunk's patterns as they are (nothing to combine)."""
    return [p for result in chunk_results for p in result.get("patterns", [])]
