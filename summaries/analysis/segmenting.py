"""Long sessions: split the event table into parts that fit the context budget, with digests of neighbours."""
from __future__ import annotations

from collections import Counter
from typing import Any

from summaries.analysis.prompt_data import PromptInput, Row, prompt_data_block, rows_to_csv
from summaries.analysis.tokens import count_tokens

# Room kept for instructions, the example, mappings and the answer.
PROMPT_OVERHEAD_TOKENS = 6000


def fits(prepared: PromptInput, budget_tokens: int) -> bool:
    """True when the whole session fits in one call."""
    return prepared.token_count + PROMPT_OVERHEAD_TOKENS <= budget_tokens


def split_rows(prepared: PromptInput, budget_tokens: int) -> list[list[Row]]:
    """Consecutive parts of the rows, each under the budget, cut preferably at a page view or idle row."""
    limit = max(500, budget_tokens - PROMPT_OVERHEAD_TOKENS - count_tokens(prompt_data_block(prepared, rows_csv="")))
    parts: list[list[Row]] = []
    current: list[Row] = []
    current_tokens = 0
    last_break = 0
    for row in prepared.rows:
        line_tokens = count_tokens(rows_to_csv(prepared, [row]).split("\n", 1)[1])
        if current and current_tokens + line_tokens > limit:
            cut = last_break if last_break > len(current) // 2 else len(current)
            parts.append(current[:cut])
            current = current[cut:]
            current_tokens = sum(count_tokens(rows_to_csv(prepared, [r]).split("\n", 1)[1]) for r in current)
            last_break = 0
        if row.kind in ("pageview", "idle") and current:
            last_break = len(current)
        current.append(row)
        current_tokens += line_tokens
    if current:
        parts.append(current)
    return parts


def digest(prepared: PromptInput, rows: list[Row]) -> str:
    """A few lines on a part of the session: when, where, what kinds of events, the last actions."""
    if not rows:
        return "nothing (this is the edge of the session)"
    url_rev = {v: k for k, v in prepared.url_aliases.items()}
    kinds = Counter(r.kind for r in rows)
    pages = []
    for r in rows:
        alias = url_rev.get(r.url, "")
        if alias and alias not in pages:
            pages.append(alias)
    actions = [f"{r.kind} {r.target}".strip() for r in rows if r.kind in ("click", "submit", "change", "pageview")][-5:]
    return (
        f"t {prepared.seconds(rows[0].timestamp_ms)}-{prepared.seconds(rows[-1].timestamp_ms)} s; pages "
        f"{', '.join(pages[:6]) or 'unknown'}; events: "
        + ", ".join(f"{n} {k}" for k, n in kinds.most_common(6))
        + (f"; last actions: {'; '.join(actions)}" if actions else "")
    )


def part_view(prepared: PromptInput, rows: list[Row]) -> PromptInput:
    """A PromptInput restricted to some rows (same aliases and metadata), for grounding a part's answer."""
    view = PromptInput(
        session_id=prepared.session_id, start_ms=prepared.start_ms, end_ms=prepared.end_ms, rows=rows,
        url_aliases=prepared.url_aliases, window_aliases=prepared.window_aliases,
        target_aliases=prepared.target_aliases, metadata=prepared.metadata, stats=prepared.stats,
    )
    view.csv_text = rows_to_csv(prepared, rows)
    view.input_hash = prepared.input_hash
    return view


def merge_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One grounded answer from the parts' grounded answers (segments re-indexed in order)."""
    segments, actions, outcomes = [], [], {}
    referenced, invented = 0, []
    for part in parts:
        offset = len(segments)
        mapping = {}
        for seg in sorted(part["segments"], key=lambda s: s["index"]):
            mapping[seg["index"]] = len(segments)
            segments.append(dict(seg, index=len(segments)))
        for action in part["key_actions"]:
            actions.append(dict(action, segment_index=mapping.get(action["segment_index"], offset)))
        for idx, outcome in part["segment_outcomes"].items():
            if idx in mapping:
                outcomes[mapping[idx]] = outcome
        referenced += part["grounding"]["referenced_ids"]
        invented += part["grounding"]["invented_ids"]
    return {
        "segments": segments,
        "key_actions": actions,
        "segment_outcomes": outcomes,
        "session_outcome": parts[-1]["session_outcome"],
        "grounding": {"referenced_ids": referenced, "invented_ids": invented,
                      "invented_ratio": round(len(invented) / referenced, 3) if referenced else 0.0},
    }
