"""Prompt templates for session summaries, with the version id that is part of every summary's cache key."""
from __future__ import annotations

from pathlib import Path
from string import Template

from summaries.analysis.prompt_data import DATA_CLOSE, DATA_OPEN
from summaries.analysis.versions import code_version

# The templates, and the code that prepares the data block and reads the answer.
PROMPT_VERSION = code_version("session-summary", "summaries/prompts", "summaries/analysis", "summaries/summarize.py")
HERE = Path(__file__).resolve().parent


def template(name: str) -> Template:
    """A prompt template file of this folder ($placeholders)."""
    return Template((HERE / name).read_text())


def example_output() -> str:
    """The example answer shown to the model."""
    return (HERE / "session_summary_example.yaml").read_text()


def system_prompt(focus: str = "") -> str:
    """The instructions: how to read the data block and what to answer."""
    focus_text = ""
    if focus.strip():
        focus_text = template("focus.txt").substitute(focus=" ".join(focus.split())[:500])
    return template("session_summary_system.txt").substitute(
        data_open=DATA_OPEN, data_close=DATA_CLOSE, example=example_output(), focus=focus_text
    )


def user_prompt(data_block: str, *, neighbours: str = "") -> str:
    """The message carrying the session's delimited data (and, for a part of a long session, its neighbours)."""
    return template("session_summary_user.txt").substitute(data=data_block, neighbours=neighbours)
