"""Validating blocking issues with a video model: the local OpenAI-compatible test server plays the model."""
from __future__ import annotations

import base64
import json
import os

import pytest

from replay_render.models import Clip
from replay_render.sample import store_recording
from replay_render.validation import validate_summary
from replay_render.validation.verdict import CONFIRMED, DENIED
from summaries.models import Organization, Project, SessionSummary
from tests import conftest
from tests.llm_server import LLMTestServer, Reply, Status
from tests.test_validation_rules import blocked_events, first_click_ms, make_summary, only_action  # noqa: F401

pytestmark = pytest.mark.browser

MODEL = "openai/recap-video-test"


def answer(**fields: object) -> str:
    """A video model's JSON answer: blocked by a payment error, unless overridden."""
    base = {"description": "The user clicks Pay now; red text appears: 'Payment failed: card declined. "
                           "Please try again.' The user clicks again; nothing else changes.",
            "error_visible": True, "error_text": "Payment failed: card declined. Please try again.",
            "user_blocked": "yes", "workaround": False, "completed": False, "static": False}
    base.update(fields)
    return json.dumps(base)


@pytest.fixture
def project() -> Project:
    """An organization with one project."""
    org = Organization.objects.create(name="Acme", slug="acme")
    return Project.objects.create(organization=org, name="Shop")


@pytest.fixture
def video_model(settings):
    """The test server configured as RECAP_VIDEO_MODEL (frames by default), with quick retries."""
    with LLMTestServer() as server:
        settings.RECAP_VIDEO_MODEL = MODEL
        settings.RECAP_LLM_API_BASE = server.base_url
        settings.RECAP_LLM_RETRY_WAIT = 0.01
        settings.RECAP_VIDEO_INPUT = "auto"
        settings.RECAP_VIDEO_MAX_FRAMES = 4
        yield server


@pytest.mark.django_db
def test_model_sees_sampled_frames_and_confirms(project: Project, blocked_events, video_model) -> None:  # noqa: F811
    video_model.script(Reply(answer()))
    session = store_recording(project, "video-1", blocked_events)
    summary = make_summary(session, first_click_ms(blocked_events))

    [outcome] = validate_summary(summary)
    assert outcome.state == "validated" and outcome.verdict == CONFIRMED

    [request] = video_model.requests
    parts = request.media_parts()
    assert len(parts) == 4 and all(p["type"] == "image_url" for p in parts)
    assert all(p["image_url"]["url"].startswith("data:image/jpeg;base64,") for p in parts)
    prompt = request.text()
    assert "<claim>" in prompt and "the payment API returned 402" in prompt and "4 frames" in prompt

    segment, action = only_action(summary)
    evidence = action["validation"]["evidence"]
    assert evidence["method"] == "video-model" and evidence["rule_based"] is False
    assert evidence["model"] == MODEL and evidence["input"] == "frames" and evidence["frames_sent"] == 4
    assert "Payment failed" in evidence["description"]
    # The rule-based reading of the same replay sits next to the model's, and here they agree.
    assert evidence["rule_check"]["verdict"] == CONFIRMED and evidence["rule_check"]["agrees"] is True
    assert "Payment failed: card declined" in evidence["rule_check"]["description"]
    assert Clip.objects.get(pk=evidence["clip_id"]).state == Clip.State.DONE
    assert action["exception"] == "blocking" and segment["outcome"]["success"] is False


@pytest.mark.django_db
def test_providers_that_take_video_get_the_webm(project: Project, blocked_events, video_model, settings) -> None:  # noqa: F811
    settings.RECAP_VIDEO_INPUT = "video"
    video_model.script(Reply(answer(user_blocked="no", error_visible=False, error_text="",
                                    description="The user pays; the page shows the order summary.")))
    session = store_recording(project, "video-2", blocked_events)
    summary = make_summary(session, first_click_ms(blocked_events))

    [outcome] = validate_summary(summary)
    assert outcome.verdict == DENIED
    [part] = video_model.requests[0].media_parts()
    assert part["type"] == "file"
    data_url = part["file"]["file_data"]
    assert data_url.startswith("data:video/webm;base64,")
    clip = Clip.objects.get(pk=outcome.clip_id)
    with clip.file.open("rb") as fh:
        assert base64.b64decode(data_url.split(",", 1)[1]) == fh.read()
    _, action = only_action(summary)
    assert action["exception"] == "non-blocking" and action["validation"]["evidence"]["input"] == "video"
    assert action["validation"]["evidence"]["rule_check"]["agrees"] is False  # the replay shows the error text


@pytest.mark.django_db
def test_unusable_answer_is_retried_and_failures_leave_the_issue_unvalidated(
    project: Project, blocked_events, video_model  # noqa: F811
) -> None:
    video_model.script(Reply("I think the user was blocked."), Reply(answer(user_blocked="unclear", static=True)))
    session = store_recording(project, "video-3", blocked_events)
    summary = make_summary(session, first_click_ms(blocked_events))
    [outcome] = validate_summary(summary)
    assert outcome.verdict == "inconclusive" and video_model.call_count == 2
    _, action = only_action(summary)
    assert action["exception"] == "blocking" and action["validation"]["verdict"] == "inconclusive"

    video_model.script(Status(500), Status(500), Status(500))
    second = make_summary(session, first_click_ms(blocked_events) + 1)
    [failed] = validate_summary(second)
    assert failed.state == "model_failed"
    _, untouched = only_action(second)
    assert untouched["validation"] is None and second.validated_at is None


@pytest.mark.django_db(transaction=True)
def test_a_new_summary_is_validated_through_the_queues(project: Project, blocked_events) -> None:  # noqa: F811
    """Saving a succeeded summary queues validate_blocking_issues; a real worker renders and validates."""
    with LLMTestServer() as server:
        server.script(Reply(answer()))
        env = dict(os.environ, DATABASE_URL=conftest.test_database_url(), RECAP_VIDEO_MODEL=MODEL,
                   RECAP_LLM_API_BASE=server.base_url, RECAP_VIDEO_MAX_FRAMES="3")
        worker = conftest.start_worker(env, queues="default,llm,render", concurrency=2)
        try:
            session = store_recording(project, "queued-video", blocked_events)
            summary = make_summary(session, first_click_ms(blocked_events))
            for _ in range(120):
                summary.refresh_from_db()
                if summary.validated_at:
                    break
                import time

                time.sleep(0.5)
        finally:
            conftest.stop_worker(worker)
    _, action = only_action(summary)
    assert action["validation"] and action["validation"]["verdict"] == CONFIRMED
    assert action["validation"]["evidence"]["model"] == MODEL and server.call_count == 1
    assert SessionSummary.objects.get(pk=summary.pk).summary["stats"]["validated_count"] == 1
