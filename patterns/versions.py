"""Version ids of the pattern phases, derived from the code and prompt templates that produce their results.

A cached intermediate is keyed by the version of what made it, so a change to the grouping code or to a
prompt is never served results made by the old one; nobody has to remember to bump a number.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Modules whose code decides what a phase returns for a given input.
SHARED = ("summary_view.py", "naming.py", "chunking.py", "extraction.py", "combine.py", "assignment.py")
RULES = ("fingerprint.py", "rule_names.py")
LLM = ("prompt_data.py", "llm_output.py", "asking.py")


def _hash_files(paths: list[Path]) -> str:
    """sha256 over the files' names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@functools.cache
def rules_version() -> str:
    """The rule engine's grouping version: `rules-<hash of its code>`."""
    return "rules-" + _hash_files([HERE / name for name in SHARED + RULES])


@functools.cache
def prompts_version() -> str:
    """The LLM engine's version: `llm-<hash of its code, prompt templates and examples>`."""
    templates = sorted(p for p in (HERE / "prompts").iterdir() if p.is_file() and p.suffix in (".txt", ".yaml", ".py"))
    return "llm-" + _hash_files([HERE / name for name in SHARED + LLM] + templates)


def version_for(engine: str) -> str:
    """The version of an engine's pattern phases."""
    return rules_version() if engine == "rules" else prompts_version()
