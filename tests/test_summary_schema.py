"""The summary schema: parsing and validating model YAML, grounding ids, derived numbers, validation updates."""
from __future__ import annotations

import pytest
import yaml

from summaries.analysis import schema
from summaries.analysis.prompt_data import prepare_session
from tests.summary_sessions import payment_fails_and_user_leaves


@pytest.fixture(scope="module")
def prepared():
    b = payment_fails_and_user_leaves()
    return prepare_session(b.session_id, b.input_events(), b.rrweb_events())


def answer_for(prepared, *, extra_ids=(), exception="blocking") -> dict:
    ids = [r.event_id for r in prepared.rows]
    failed = next(r.event_id for r in prepared.rows if r.kind == "request_failed")
    events = [{"event_id": i, "description": "x", "abandonment": False, "confusion": False, "exception": None}
              for i in ids[1:5]]
    events.append({"event_id": failed, "description": "payment failed", "abandonment": "yes", "confusion": False,
                   "exception": exception})
    events += [{"event_id": i, "description": "made up", "abandonment": False, "confusion": False, "exception": None}
               for i in extra_ids]
    half = len(ids) // 2
    return {
        "segments": [{"index": 0, "name": "Browsing", "start_event_id": ids[0], "end_event_id": ids[half - 1]},
                     {"index": 1, "name": "Paying", "start_event_id": ids[half], "end_event_id": ids[-1]}],
        "key_actions": [{"segment_index": 0, "events": events[:4]}, {"segment_index": 1, "events": events[4:]}],
        "segment_outcomes": [{"segment_index": 0, "success": True, "summary": "found shoes"},
                             {"segment_index": 1, "success": False, "summary": "could not pay"}],
        "session_outcome": {"success": False, "description": "no order"},
    }


def test_yaml_in_a_code_fence_parses():
    assert schema.parse_model_output("```yaml\nsession_outcome:\n  success: true\n```") == {
        "session_outcome": {"success": True}}


@pytest.mark.parametrize("text, message", [
    ("segments: [unclosed", "not valid YAML"),
    ("- just\n- a list", "not a YAML mapping"),
])
def test_unparseable_answers_are_rejected(text, message):
    with pytest.raises(schema.OutputError, match=message):
        schema.parse_model_output(text)


@pytest.mark.parametrize("mutate, message", [
    (lambda a: a.pop("segments"), "no segments"),
    (lambda a: a.pop("session_outcome"), "no session_outcome"),
    (lambda a: a["key_actions"][1]["events"][0].update(exception="catastrophic"), "null, blocking or non-blocking"),
    (lambda a: a["key_actions"][1]["events"][0].update(confusion="maybe"), "true or false"),
])
def test_wrong_shapes_are_rejected(prepared, mutate, message):
    answer = answer_for(prepared)
    mutate(answer)
    with pytest.raises(schema.OutputError, match=message):
        schema.validate_output(answer)


def test_grounding_drops_invented_ids_up_to_the_limit(prepared):
    ok = schema.ground(schema.validate_output(answer_for(prepared, extra_ids=["deadbeef"])), prepared)
    assert ok["grounding"]["invented_ids"] == ["deadbeef"]
    assert all(a["event_id"] != "deadbeef" for a in ok["key_actions"])
    with pytest.raises(schema.OutputError, match="do not exist"):
        schema.ground(schema.validate_output(answer_for(prepared, extra_ids=["deadbeef", "feedface"])), prepared)


def test_numbers_are_computed_in_code_and_times_resolved_from_ids(prepared):
    validated = schema.validate_output(yaml.safe_load(yaml.safe_dump(answer_for(prepared))))
    summary = schema.build_summary(schema.ground(validated, prepared), prepared, engine="llm", model="m",
                                   prompt_version="v")
    first, second = summary["segments"]
    assert first["start_ms"] == prepared.start_ms and second["end_ms"] == prepared.rows[-1].timestamp_ms
    total_ms = prepared.end_ms - prepared.start_ms
    assert second["share_of_session_pct"] == round(100 * (second["end_ms"] - second["start_ms"]) / total_ms, 1)
    assert first["event_count"] + second["event_count"] == len(prepared.rows)
    (blocking,) = schema.blocking_key_actions(summary)
    row = prepared.ids[blocking["event_id"]]
    assert blocking["timestamp_ms"] == row.timestamp_ms and blocking["event"] == "request_failed"
    assert blocking["abandonment"] is True and blocking["segment_name"] == "Paying"
    assert summary["stats"]["blocking_count"] == 1 and summary["stats"]["failed_segment_count"] == 1


def test_apply_validation_changes_only_allowed_fields(prepared):
    summary = schema.build_summary(schema.ground(schema.validate_output(answer_for(prepared)), prepared), prepared,
                                   engine="llm", model="m")
    (blocking,) = schema.blocking_key_actions(summary)
    updated, ignored = schema.apply_validation(summary, blocking["event_id"], "denied", changes={
        "key_action.exception": "non-blocking",
        "segment.outcome.success": True,
        "key_action.timestamp_ms": 0,
        "key_action.confusion": "perhaps",
    }, evidence={"frames": 12})
    assert sorted(ignored) == ["key_action.confusion", "key_action.timestamp_ms"]
    assert summary["stats"]["blocking_count"] == 1  # the original is untouched
    assert updated["stats"]["blocking_count"] == 0 and updated["stats"]["failed_segment_count"] == 0
    seg, action = schema.find_key_action(updated, blocking["event_id"])
    assert action["validation"]["previous"] == {"key_action.exception": "blocking", "segment.outcome.success": False}
    assert action["timestamp_ms"] == blocking["timestamp_ms"]
    with pytest.raises(ValueError, match="verdict"):
        schema.apply_validation(summary, blocking["event_id"], "probably")
    with pytest.raises(KeyError):
        schema.apply_validation(summary, "00000000", "confirmed")
