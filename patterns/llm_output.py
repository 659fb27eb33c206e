"""The models' answers in the pattern phases: YAML checked against its schema, ids grounded, numbers left to code.

Extraction (per chunk)::

    patterns: [{name, description, severity: low|medium|high|critical, indicators: [2-5 str], evidence: [e ids]}]

Combine::

    patterns: [{name, description, indicators: [2-5 str], merged_from: [p ids]}]

Assignment (per chunk of 10 summaries)::

    assignments: [{event_id: e id, pattern_id: p id}]

Ids the data block does not contain are invented: they are dropped, and when more than 15 % of the ids an
answer cites are invented the answer is rejected (the call is retried). Which sessions back a pattern, and so
whether it has the 2 it needs, is computed from its evidence; a combined pattern's severity is the most common
of what it merged (ties go to the lower one); one moment goes to one pattern, the first claim wins.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from patterns.naming import fit_words
from patterns.prompt_data import Block

MAX_INVENTED_RATIO = 0.15
MIN_SESSIONS = 2
MAX_PER_CHUNK = 10
MAX_COMBINED = 20
SEVERITIES = ("low", "medium", "high", "critical")  # in increasing order


class OutputError(ValueError):
    """The answer is unusable (not YAML, wrong shape, too many invented ids); worth another call."""


def parse_yaml(text: str, top: str) -> Any:
    """The list (or, for assignments, list or mapping) under `top` in a YAML answer (code fences tolerated)."""
    body = text.strip()
    if "```" in body:
        parts = body.split("```")
        body = max(parts[1::2] or [body], key=len)
        if body.startswith(("yaml", "yml")):
            body = body.split("\n", 1)[1] if "\n" in body else ""
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise OutputError(f"the answer is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if isinstance(data, list) and top != "assignments":
        data = {top: data}
    allowed = (list, dict, type(None)) if top == "assignments" else (list, type(None))
    if not isinstance(data, dict) or not isinstance(data.get(top, []), allowed):
        raise OutputError(f"the answer is not a YAML mapping with a `{top}` list")
    return data.get(top) or []


def _ids(value: Any) -> list[str]:
    """A list of ids from a YAML list or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).replace(";", ",").split(",") if part.strip()]


def severity(value: Any) -> str:
    """low / medium / high / critical (anything else reads as medium)."""
    text = str(value or "").strip().lower()
    return text if text in SEVERITIES else "medium"


def _texts(value: Any, limit: int) -> list[str]:
    """Non-empty strings of a YAML list (a single string becomes a list of one)."""
    items = value if isinstance(value, list) else ([value] if value else [])
    return [" ".join(str(i).split()) for i in items if str(i).strip()][:limit]


def _check_invented(invented: int, referenced: int, what: str) -> None:
    """Reject an answer that invented too many ids."""
    if referenced and invented / referenced > MAX_INVENTED_RATIO:
        raise OutputError(f"{invented} of {referenced} {what} ids in the answer are not in the data "
                          f"({invented / referenced:.0%} > {MAX_INVENTED_RATIO:.0%})")


def _pattern_text(item: dict[str, Any], where: str) -> dict[str, Any]:
    """Name, description and indicators of a pattern entry."""
    name = " ".join(str(item.get("name") or "").split())
    if not name:
        raise OutputError(f"{where} has no name")
    return {"name": fit_words(name), "description": " ".join(str(item.get("description") or "").split()),
            "indicators": _texts(item.get("indicators"), 5)}


def _pad_indicators(pattern: dict[str, Any], descriptions: list[str]) -> None:
    """Fewer than 2 indicators: add what its first moments say (data, not invention)."""
    for text in descriptions:
        if len(pattern["indicators"]) >= 2:
            break
        sign = f'seen as "{text[:120]}"'
        if text and sign not in pattern["indicators"]:
            pattern["indicators"].append(sign)


def extracted_patterns(items: list[Any], block: Block, describe: dict[tuple[int, str], str]) -> list[dict[str, Any]]:
    """Validated extraction output: patterns with their evidence as (summary id, event id) and backing sessions."""
    referenced = invented = 0
    patterns = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise OutputError(f"pattern {i + 1} is not a mapping")
        pattern = _pattern_text(item, f"pattern {i + 1}")
        refs: list[list[Any]] = []
        for alias in _ids(item.get("evidence")):
            referenced += 1
            if alias not in block.events:
                invented += 1
                continue
            ref = list(block.events[alias])
            if ref not in refs:
                refs.append(ref)
        pattern["severity"] = severity(item.get("severity"))
        pattern["evidence"] = refs
        pattern["sessions"] = sorted({summary_id for summary_id, _ in refs})
        _pad_indicators(pattern, [describe.get(tuple(r), "") for r in refs])
        patterns.append(pattern)
    _check_invented(invented, referenced, "event")
    backed = [p for p in patterns if len(p["sessions"]) >= MIN_SESSIONS]
    backed.sort(key=lambda p: -len(p["sessions"]))  # stable: the model's order among equals
    return backed[:MAX_PER_CHUNK]


def merged_severity(values: list[str]) -> str:
    """The most common severity; a tie goes to the lower one."""
    counts = Counter(values)
    best = max(counts.values())
    return min((v for v, n in counts.items() if n == best), key=SEVERITIES.index)


def combined_patterns(items: list[Any], inputs: list[dict[str, Any]], block: Block) -> list[dict[str, Any]]:
    """Validated combine output: merged patterns (severity and sessions computed from what they merged);
    input patterns the answer left out are kept as they were."""
    referenced = invented = 0
    used: set[int] = set()
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise OutputError(f"combined pattern {i + 1} is not a mapping")
        pattern = _pattern_text(item, f"combined pattern {i + 1}")
        members = []
        for alias in _ids(item.get("merged_from")):
            referenced += 1
            if alias not in block.patterns:
                invented += 1
                continue
            index = block.patterns[alias]
            if index not in used:
                used.add(index)
                members.append(inputs[index])
        if not members:
            continue
        pattern["severity"] = merged_severity([m["severity"] for m in members])
        pattern["evidence"] = [ref for m in members for ref in m["evidence"]]
        pattern["sessions"] = sorted({s for m in members for s in m["sessions"]})
        pattern["indicators"] = pattern["indicators"] or members[0]["indicators"]
        if len(pattern["indicators"]) < 2:
            pattern["indicators"] = (pattern["indicators"] + [x for m in members for x in m["indicators"]
                                                              if x not in pattern["indicators"]])[:5]
        out.append(pattern)
    _check_invented(invented, referenced, "pattern")
    out += [dict(p) for i, p in enumerate(inputs) if i not in used]
    backed = [p for p in out if len(p["sessions"]) >= MIN_SESSIONS]
    backed.sort(key=lambda p: -len(p["sessions"]))
    return backed[:MAX_COMBINED]


def assignments(items: Any, block: Block) -> list[list[Any]]:
    """Validated assignment output: [summary id, event id, pattern index]; one moment, one pattern, first wins."""
    if isinstance(items, dict):  # {e3: p1, ...}
        items = [{"event_id": k, "pattern_id": v} for k, v in items.items()]
    referenced = invented = 0
    taken: set[str] = set()
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        event = str(item.get("event_id") or item.get("moment") or item.get("id") or "").strip()
        pattern = str(item.get("pattern_id") or item.get("pattern") or "").strip()
        if not event or pattern.lower() in ("", "none", "null", "-"):
            continue
        referenced += 1
        if event not in block.events or pattern not in block.patterns:
            invented += 1
            continue
        if event not in block.flagged_events or event in taken:
            continue  # only flagged moments are assigned, and each to one pattern
        taken.add(event)
        summary_id, event_id = block.events[event]
        out.append([summary_id, event_id, block.patterns[pattern]])
    _check_invented(invented, referenced, "moment or pattern")
    return out
