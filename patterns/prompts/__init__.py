"""Prompt templates of the pattern phases (extract, combine, assign), each with an example answer."""
from __future__ import annotations

from pathlib import Path
from string import Template

from patterns.prompt_data import DATA_CLOSE, DATA_OPEN, clean

HERE = Path(__file__).resolve().parent
STAGES = ("extract", "combine", "assign")
MAX_FOCUS = 500


def _template(name: str) -> Template:
    """A template file of this folder ($placeholders)."""
    return Template((HERE / name).read_text())


def example_output(stage: str) -> str:
    """The example answer shown to the model for a stage."""
    return (HERE / f"{stage}_example.yaml").read_text()


def focus_text(focus: str) -> str:
    """The focus paragraph (empty without a focus)."""
    focus = clean(focus, MAX_FOCUS)
    if not focus:
        return ""
    return _template("focus.txt").substitute(focus=focus, data_open=DATA_OPEN, data_close=DATA_CLOSE)


def messages(stage: str, data_block: str, focus: str = "") -> list[dict[str, str]]:
    """The chat messages of a stage: instructions (with the example and focus), then the data block."""
    system = _template(f"{stage}_system.txt").substitute(
        data_open=DATA_OPEN, data_close=DATA_CLOSE, example=example_output(stage), focus=focus_text(focus))
    return [{"role": "system", "content": system},
            {"role": "user", "content": _template("user.txt").substitute(data=data_block)}]
