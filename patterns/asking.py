"""One model call of a pattern phase: the stage's prompt, the answer validated (retried when unusable)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from patterns import llm_output, prompts
from summaries import llm


class StageFailed(RuntimeError):
    """A phase's work item failed for good; the message says why, `usage` what it spent."""

    def __init__(self, message: str, usage: llm.LLMUsage | None = None) -> None:
        """A failure with the usage spent before it."""
        super().__init__(message)
        self.usage = usage or llm.LLMUsage()


@dataclass
class StageResult:
    """What an item of a phase produced, and the model usage it cost."""

    value: dict[str, Any]
    usage: llm.LLMUsage = field(default_factory=llm.LLMUsage)


def ask(stage: str, data_block: str, top: str, validate: Callable[[Any], Any], model: str,
        focus: str = "") -> StageResult:
    """Ask the model; `validate` turns the YAML under `top` into the result or raises OutputError (retried)."""
    def parse(text: str) -> Any:
        """The validated answer, or OutputRejected so the call is retried."""
        try:
            return validate(llm_output.parse_yaml(text, top))
        except llm_output.OutputError as exc:
            raise llm.OutputRejected(str(exc)) from exc

    try:
        result = llm.complete(prompts.messages(stage, data_block, focus), parse=parse, model=model)
    except llm.LLMError as exc:
        raise StageFailed(str(exc), exc.usage) from exc
    return StageResult({top: result.value}, result.usage)
