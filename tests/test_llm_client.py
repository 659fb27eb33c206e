"""The model client (summaries/llm.py) against the local OpenAI-compatible test server: retries, failures, usage."""
from __future__ import annotations

import pytest

from summaries import llm
from tests.llm_server import Hang, Reply, Status

MODEL = "openai/gpt-4o-mini"  # a model litellm knows the price of
MESSAGES = [{"role": "user", "content": "Say hello"}]


@pytest.fixture(autouse=True)
def fast_retries(settings):
    """Keep backoff tiny so the retry tests stay fast."""
    settings.RECAP_LLM_RETRY_WAIT = 0.01
    settings.RECAP_LLM_MAX_ATTEMPTS = 3


def test_answer_usage_and_cost_are_reported(llm_server):
    llm_server.script(Reply("hello", prompt_tokens=1200, completion_tokens=80))
    result = llm.complete(MESSAGES, model=MODEL, api_base=llm_server.base_url)
    assert result.text == "hello"
    assert (result.usage.calls, result.usage.input_tokens, result.usage.output_tokens) == (1, 1200, 80)
    assert result.usage.cost_usd is not None and result.usage.cost_usd > 0
    assert llm_server.requests[0].body["model"] == "gpt-4o-mini"


def test_unknown_model_has_no_cost_rather_than_a_guess(llm_server):
    llm_server.script(Reply("hello"))
    result = llm.complete(MESSAGES, model="openai/recap-local-model", api_base=llm_server.base_url)
    assert result.usage.cost_usd is None


@pytest.mark.parametrize("failure", [Status(429, "slow down"), Status(500), Status(503)])
def test_rate_limits_and_server_errors_are_retried(llm_server, failure):
    llm_server.script(failure, failure, Reply("finally"))
    result = llm.complete(MESSAGES, model=MODEL, api_base=llm_server.base_url)
    assert result.text == "finally"
    assert llm_server.call_count == 3


def test_timeout_is_retried_then_succeeds(llm_server):
    llm_server.script(Hang(3), Reply("on time"))
    result = llm.complete(MESSAGES, model=MODEL, api_base=llm_server.base_url, timeout=1)
    assert result.text == "on time"
    assert llm_server.call_count == 2


def test_gives_up_after_the_last_attempt_with_a_readable_error(llm_server):
    llm_server.script(Status(429), Status(429), Status(429), Reply("too late"))
    with pytest.raises(llm.LLMError, match="rate limited"):
        llm.complete(MESSAGES, model=MODEL, api_base=llm_server.base_url)
    assert llm_server.call_count == 3


def test_unusable_answers_are_retried_and_their_tokens_counted(llm_server):
    def parse(text: str) -> int:
        if not text.isdigit():
            raise llm.OutputRejected(f"not a number: {text!r}")
        return int(text)

    llm_server.script(Reply("forty-two", completion_tokens=5), Reply("42", completion_tokens=1))
    result = llm.complete(MESSAGES, model=MODEL, api_base=llm_server.base_url, parse=parse)
    assert result.value == 42
    assert result.usage.calls == 2 and result.usage.output_tokens == 6


def test_client_errors_are_not_retried(llm_server):
    llm_server.script(Status(400, "bad request: unknown parameter"), Reply("never sent"))
    with pytest.raises(llm.LLMError):
        llm.complete(MESSAGES, model=MODEL, api_base=llm_server.base_url)
    assert llm_server.call_count == 1


def test_no_model_configured_is_a_clear_error(settings):
    settings.RECAP_LLM_MODEL = ""
    with pytest.raises(llm.LLMError, match="RECAP_LLM_MODEL"):
        llm.complete(MESSAGES)


def test_images_and_video_reach_the_model_as_content_parts(llm_server):
    llm_server.script(Reply("a checkout page with an error banner"))
    clip = llm.Media(b"\x1aE\xdf\xa3fake-webm", "video/webm")
    frame = llm.Media(b"\x89PNG\r\n\x1a\nfake", "image/png")
    result = llm.describe_media("What happens in this clip?", [clip, frame], model=MODEL, api_base=llm_server.base_url)
    assert result.text.startswith("a checkout page")
    request = llm_server.requests[0]
    assert "What happens in this clip?" in request.text()
    parts = request.media_parts()
    assert len(parts) == 2
    sent = str(parts)
    assert clip.data_url() in sent and frame.data_url() in sent
