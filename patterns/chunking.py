"""Splitting a report's summaries into work chunks: greedy by tokens for extraction, fixed size for assignment.

Summaries are taken in the order of their ids (creation order), so summaries added to a report later land
in the last chunks and the earlier chunks, and their cached results, stay the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# A summary larger than the budget gets a chunk of its own up to this factor; beyond it, it is skipped.
OVERSIZE_FACTOR = 4 / 3


@dataclass
class Chunks:
    """Chunks of summary ids, and the summaries left out with the reason."""

    chunks: list[list[int]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def by_tokens(sizes: list[tuple[int, int]], budget: int) -> Chunks:
    """Greedy chunks of (summary id, tokens) that stay within the token budget."""
    out = Chunks()
    current: list[int] = []
    used = 0
    for summary_id, tokens in sorted(sizes):
        if tokens > budget:
            if tokens <= budget * OVERSIZE_FACTOR:
                out.chunks.append([summary_id])
            else:
                out.skipped.append((summary_id, f"its summary is {tokens} tokens, more than one extraction call "
                                                f"takes ({int(budget * OVERSIZE_FACTOR)}; RECAP_REPORT_CHUNK_TOKENS)"))
            continue
        if current and used + tokens > budget:
            out.chunks.append(current)
            current, used = [], 0
        current.append(summary_id)
        used += tokens
    if current:
        out.chunks.append(current)
    return out


def by_count(summary_ids: list[int], size: int) -> list[list[int]]:
    """Chunks of at most `size` summary ids, in id order."""
    ordered = sorted(summary_ids)
    size = max(1, size)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]
