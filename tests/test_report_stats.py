"""Numbers computed in code: one example per session, neighbours with their own ids, ranking, chunks, input stability."""
from __future__ import annotations

from summaries.analysis.schema import apply_validation

from patterns.chunking import by_count, by_tokens
from patterns.stats import SummaryInput, majority_kind, rank, rule_severity
from patterns.summary_view import as_written, summary_digest
from tests.report_summaries import action, paying_fails, summary

PAY = {"name": "Payment fails", "description": "d", "indicators": ["a", "b"], "severity": "critical"}


def dead(prefix: str) -> dict:
    """A session where a button is dead once."""
    return summary(("Product", True, [action(f"{prefix}01", 2, "Opened product"),
                                      action(f"{prefix}02", 4, "Add to cart did nothing", confusion=True),
                                      action(f"{prefix}03", 8, "Went back")]))


def inputs() -> dict[int, SummaryInput]:
    """Two sessions where paying fails twice, two where a button is dead once."""
    return {1: SummaryInput(1, 101, paying_fails("a")), 2: SummaryInput(2, 102, paying_fails("b")),
            3: SummaryInput(3, 103, dead("c")), 4: SummaryInput(4, 104, dead("d"))}


def test_one_example_per_session_while_every_moment_counts():
    (pattern,) = rank([PAY], [[1, "a04", 0], [1, "a06", 0], [2, "b04", 0], [2, "b06", 0]], inputs(), analysed=3,
                      rule_based=False)
    assert (pattern.occurrences, pattern.sessions_affected, pattern.share_of_sessions) == (4, 2, 0.6667)
    assert [e["event_id"] for e in pattern.examples] == ["a04", "b04"]  # the first moment of each session
    assert pattern.segment_success_ratio == 0.0 and pattern.kind == "blocking" and pattern.severity == "critical"


def test_neighbours_carry_their_own_ids_not_the_examples():
    (pattern,) = rank([PAY], [[1, "a06", 0], [2, "b04", 0]], inputs(), analysed=3, rule_based=False)
    example = pattern.examples[0]
    assert example["event_id"] == "a06" and example["segment_name"] == "Checkout" and not example["segment_success"]
    assert [n["event_id"] for n in example["before"]] == ["a03", "a04", "a05"]
    assert [n["event_id"] for n in example["after"]] == ["a07"]
    assert [n["event_uuid"] for n in example["before"]] == [action(i, 0, "").get("event_uuid") for i in ("a03", "a04", "a05")]
    assert [n["seconds_from_start"] for n in example["before"]] == [20, 21, 30]
    assert example["before"][1]["flag"] == "blocking" and example["after"][0]["flag"] == ""


def test_patterns_rank_by_severity_then_sessions_and_unassigned_ones_drop():
    patterns = [dict(PAY, severity="medium"), {"name": "Dead add to cart", "severity": "high", "indicators": []},
                {"name": "Never assigned anywhere", "severity": "critical", "indicators": []}]
    ranked = rank(patterns, [[1, "a04", 0], [2, "b04", 0], [3, "c02", 1], [4, "d02", 1], [1, "a06", 2]], inputs(),
                  analysed=4, rule_based=False)
    # the third pattern was assigned one session only: not recurring
    assert [p.name for p in ranked] == ["Dead add to cart", "Payment fails"]
    assert ranked[0].kind == "confusion" and ranked[0].segment_success_ratio == 1.0
    assert all(p.fingerprint.startswith("llm:") for p in ranked)


def test_kinds_and_rule_severities():
    assert majority_kind(["non-blocking", "blocking"]) == "blocking"
    assert majority_kind(["non-blocking", "non-blocking", "blocking"]) == "non-blocking"
    assert rule_severity("blocking", 0.12, 0.0) == "critical" and rule_severity("blocking", 0.05, 0.0) == "high"
    assert rule_severity("non-blocking", 0.12, 1.0) == "medium" and rule_severity("non-blocking", 0.02, 0.9) == "low"
    assert rule_severity("abandonment", 0.02, 0.2) == "high"


def test_a_video_verdict_does_not_change_the_reports_input():
    original = paying_fails("a")
    checked, _ = apply_validation(original, "a04", "denied", changes={"key_action.exception": "non-blocking",
                                                                      "segment.outcome.success": True},
                                  evidence={"description": "the user paid"})
    assert checked["segments"][1]["key_actions"][1]["exception"] == "non-blocking"
    restored = as_written(checked)
    assert restored["segments"][1]["key_actions"][1]["exception"] == "blocking"
    assert restored["segments"][1]["outcome"]["success"] is False
    assert summary_digest(checked) == summary_digest(original)


def test_chunks_are_greedy_by_tokens_and_stable_when_sessions_are_added():
    planned = by_tokens([(3, 40), (1, 50), (2, 60), (4, 90), (5, 130), (6, 500)], budget=100)
    assert sorted(planned.chunks) == [[1], [2, 3], [4], [5]]  # 5 is over budget but within 4/3 of it: on its own
    assert [pk for pk, _ in planned.skipped] == [6] and "RECAP_REPORT_CHUNK_TOKENS" in planned.skipped[0][1]
    assert by_count([5, 1, 3, 2, 4], 2) == [[1, 2], [3, 4], [5]]
    assert by_count([5, 1, 3, 2, 4, 6, 7], 2)[:2] == [[1, 2], [3, 4]]
