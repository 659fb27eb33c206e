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
# Family kinds whose faces are one problem for the people reading a report: the endpoints, controls or pages are
# listed in the pattern, which keeps one identity as faces come and go.
GROUPED_BY_FAMILY = {"request_failed", "input_rejected", "dead_click", "loading_left"}


def combine_rule_patterns(chunk_results: list[dict[str, Any]]) -> StageResult:
    """Rules: chunks' groups with the same fingerprint become one; structural problems (failing saves or loads,
    rejected input, dead clicks, pages left while loading) are grouped by family whatever the endpoint, control or
    page, and any other fingerprint seen in fewer than 2 sessions joins its family; patterns are named from their
    facts (one face: its own name) and kept with >= 2 sessions. Each lists the fingerprints it holds (`members`)."""
    faces: dict[str, dict[str, Any]] = {}
    for result in chunk_results:
        for group in result.get("patterns", []):
            face = faces.setdefault(group["key"], _empty_group(group["key"], group["facts"], group["family"]))
            _absorb(face, group)
    groups: dict[str, dict[str, Any]] = {}
    for key, face in faces.items():
        broad = Fingerprint(**face["family"])
        if broad.kind in GROUPED_BY_FAMILY or len(face["sessions"]) < MIN_SESSIONS:
            into = groups.setdefault(broad.key, _empty_group(broad.key, broad.as_dict()))
        else:
            into = groups.setdefault(key, _empty_group(key, face["facts"]))
        _absorb(into, face)
    patterns = []
    for group in sorted(groups.values(), key=lambda g: (-len(g["sessions"]), g["key"])):
        if len(group["sessions"]) < MIN_SESSIONS:
            continue
        only = faces[group["members"][0]] if len(group["members"]) == 1 else None
        fp = Fingerprint(**(only or group)["facts"])
        routes = [r for r, _ in group["routes"].most_common()]
        controls = [c for c, _ in group["controls"].most_common()]
        requests = [q for q, _ in group["requests"].most_common()]
        places = [{"route": r} for r in routes[:3]] + [{"request": q} for q in requests[:2]]
        patterns.append({
            "key": group["key"],
            "members": group["members"],
            "facts": fp.as_dict(),
            "name": rule_name(fp),
            "description": rule_description(fp, routes, controls, requests),
            "indicators": rule_indicators(fp, places),
            "severity": None,  # decided with the statistics (kind, share of sessions, failed segments)
            "evidence": group["evidence"],
            "sessions": group["sessions"],
        })
    return StageResult({"patterns": patterns})


def _empty_group(key: str, facts: dict[str, Any], family: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pattern being gathered: its identity (and family), the fingerprints it holds, evidence and places."""
    return {"key": key, "facts": facts, "family": family or facts, "members": [], "evidence": [], "sessions": [],
            "routes": Counter(), "controls": Counter(), "requests": Counter()}


def _absorb(into: dict[str, Any], group: dict[str, Any]) -> None:
    """Add one group's fingerprints, evidence, sessions and places to another."""
    for member in group.get("members") or [group["key"]]:
        if member not in into["members"]:
            into["members"].append(member)
    into["evidence"] += group["evidence"]
    into["sessions"] = sorted(set(into["sessions"]) | set(group["sessions"]))
    for name in ("routes", "controls", "requests"):
        into[name].update(group.get(name) or {})


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
