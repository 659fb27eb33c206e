"""The one place Recap talks to language and video models: litellm with retries, timeouts, usage and cost.

Nothing else in the project imports litellm. Any provider litellm supports works (OpenAI, Anthropic,
Gemini, Ollama, vLLM or any OpenAI-compatible URL): the model comes from RECAP_LLM_MODEL /
RECAP_VIDEO_MODEL, an optional base URL from RECAP_LLM_API_BASE, keys from the provider's usual env vars.
"""
from __future__ import annotations

import base64
import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_any, \
    wait_random_exponential

log = logging.getLogger(__name__)
T = TypeVar("T")
_import_lock = threading.Lock()
# The monotonic time by which the work in progress must be done (a summary's deadline); None: no deadline.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("recap_llm_deadline", default=None)


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Model calls inside end by `at` (time.monotonic()): each call's timeout is cut to the time left and no
    retry starts after it. Celery's time limits do not reach a threads pool; this does."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (None when there is none)."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()


def _past_deadline(state: RetryCallState) -> bool:
    """A retry stop: the deadline has passed."""
    left = time_left()
    return left is not None and left <= 1


class LLMError(RuntimeError):
    """A model call failed for good (after retries, or for a reason retrying cannot fix)."""

    def __init__(self, message: str, usage: "LLMUsage | None" = None) -> None:
        """An error with the usage spent before it happened."""
        super().__init__(message)
        self.usage = usage or LLMUsage()


class OutputRejected(ValueError):
    """The model answered, but the answer is unusable (unparseable, wrong shape, invented ids): retry."""


@dataclass
class LLMUsage:
    """What model calls cost: calls, attempts, tokens, and dollars when litellm knows the model's price."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0

    def add(self, other: "LLMUsage") -> None:
        """Accumulate another usage into this one."""
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.seconds += other.seconds
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd


@dataclass
class LLMResult(Generic[T]):
    """A successful completion: the raw text, the parsed value, and the usage of every attempt."""

    text: str
    value: T
    usage: LLMUsage = field(default_factory=LLMUsage)


@dataclass(frozen=True)
class Media:
    """An image or video clip to send to a multi-modal model."""

    data: bytes
    mime_type: str  # image/png, image/jpeg, video/webm, video/mp4, ...

    def data_url(self) -> str:
        """The content as a base64 data URL."""
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode()}"


def _litellm():
    """litellm, imported on first use (slow import) with the offline cost map."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with _import_lock:
        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        logging.getLogger("LiteLLM").setLevel(logging.WARNING)
    return litellm


def _setting(name: str, default: Any) -> Any:
    """A Django setting when Django is configured, else the default."""
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except Exception:  # used outside Django (benchmarks, scripts)
        return default


def configured_model() -> str:
    """The summary model from RECAP_LLM_MODEL ('' means: use the rule engine)."""
    return str(_setting("RECAP_LLM_MODEL", "") or "")


def configured_video_model() -> str:
    """The video model from RECAP_VIDEO_MODEL ('' means: no video model)."""
    return str(_setting("RECAP_VIDEO_MODEL", "") or "")


def _retryable(exc: BaseException) -> bool:
    """Rate limits, server errors, timeouts, dropped connections and unusable answers are worth another try."""
    if isinstance(exc, OutputRejected):
        return True
    litellm = _litellm()
    retry_types = (
        litellm.RateLimitError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
        litellm.Timeout,
        litellm.APIConnectionError,
    )
    if isinstance(exc, retry_types):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def _describe(exc: BaseException, model: str) -> str:
    """A message a person can act on."""
    litellm = _litellm()
    if isinstance(exc, litellm.AuthenticationError):
        return f"the model provider rejected the credentials for {model!r}; set the provider's API key env var"
    if isinstance(exc, litellm.NotFoundError):
        return f"the model {model!r} was not found at the provider; check RECAP_LLM_MODEL / RECAP_LLM_API_BASE"
    if isinstance(exc, litellm.RateLimitError):
        return f"{model!r} kept answering 'rate limited' (429) after retries; lower concurrency or raise your quota"
    if isinstance(exc, litellm.Timeout):
        return f"{model!r} did not answer within the per-call timeout (RECAP_LLM_TIMEOUT) after retries"
    if isinstance(exc, OutputRejected):
        return f"{model!r} kept giving unusable answers: {exc}"
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return f"calling {model!r} failed: {text[:300]}"


def _usage_of(response: Any, model: str, seconds: float) -> LLMUsage:
    """Tokens and cost of one response (cost None when litellm does not know the model's price)."""
    usage = getattr(response, "usage", None)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    cost = None
    try:
        cost = float(_litellm().completion_cost(completion_response=response, model=model))
    except Exception:  # unknown model or provider without a price: leave the cost empty rather than guess
        cost = None
    return LLMUsage(calls=1, input_tokens=prompt, output_tokens=completion, cost_usd=cost, seconds=seconds)


def complete(
    messages: list[dict[str, Any]],
    *,
    parse: Callable[[str], T] | None = None,
    model: str | None = None,
    api_base: str | None = None,
    timeout: float | None = None,
    max_attempts: int | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> LLMResult[T]:
    """One chat completion with retries (exponential backoff + jitter); `parse` may raise OutputRejected to retry.

    Raises LLMError with the usage spent so far when every attempt failed or the failure cannot be retried.
    """
    litellm = _litellm()
    model = model or configured_model()
    if not model:
        raise LLMError("no model configured: set RECAP_LLM_MODEL (or use the rule engine)")
    api_base = api_base if api_base is not None else (_setting("RECAP_LLM_API_BASE", "") or None)
    timeout = float(timeout if timeout is not None else _setting("RECAP_LLM_TIMEOUT", 600.0))
    attempts = int(max_attempts or _setting("RECAP_LLM_MAX_ATTEMPTS", 3))
    wait_base = float(_setting("RECAP_LLM_RETRY_WAIT", 2.0))
    total = LLMUsage()

    def one_call() -> LLMResult[T]:
        left = time_left()
        if left is not None and left <= 1:
            raise LLMError(f"the deadline passed before calling {model!r} (RECAP_SUMMARY_DEADLINE_SECONDS)")
        kwargs: dict[str, Any] = {"model": model, "messages": messages, "num_retries": 0, "max_retries": 0,
                                  "timeout": timeout if left is None else min(timeout, left)}
        if api_base:
            kwargs["api_base"] = api_base
            # OpenAI-compatible servers (vLLM, proxies) often need no key, but the client insists on one.
            if model.startswith(("openai/", "hosted_vllm/")) and not os.environ.get("OPENAI_API_KEY"):
                kwargs["api_key"] = os.environ.get("RECAP_LLM_API_KEY", "not-needed")
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        started = time.monotonic()
        response = litellm.completion(**kwargs)
        usage = _usage_of(response, model, time.monotonic() - started)
        total.add(usage)
        text = response.choices[0].message.content or ""
        if isinstance(text, list):  # some providers return content parts
            text = "".join(str(p.get("text", "")) for p in text if isinstance(p, dict))
        value = parse(text) if parse is not None else text  # type: ignore[assignment]
        return LLMResult(text=text, value=value, usage=total)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("model call to %s failed (attempt %d/%d): %s; retrying", model, state.attempt_number, attempts,
                    str(exc).splitlines()[0][:200] if exc else "")

    retrying = Retrying(
        stop=stop_any(stop_after_attempt(attempts), _past_deadline),
        wait=wait_random_exponential(multiplier=wait_base, max=max(wait_base, 60.0)),
        retry=retry_if_exception(_retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(one_call)
    except Exception as exc:  # every failure leaves with a readable message and the usage spent
        raise LLMError(_describe(exc, model), usage=total) from exc


def describe_media(
    prompt: str,
    media: list[Media],
    *,
    system: str = "",
    model: str | None = None,
    parse: Callable[[str], T] | None = None,
    **options: Any,
) -> LLMResult[T]:
    """Ask a multi-modal model about images or video clips (e.g. a rendered replay clip); same retries as complete()."""
    parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    for item in media:
        if item.mime_type.startswith("image/"):
            parts.append({"type": "image_url", "image_url": {"url": item.data_url()}})
        else:
            parts.append({"type": "file", "file": {"file_data": item.data_url(), "format": item.mime_type}})
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": parts})
    return complete(messages, parse=parse, model=model or configured_video_model(), **options)
