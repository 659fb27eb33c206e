"""Version ids of the pattern phases, derived from the code and prompt templates that produce their results.

A cached intermediate is keyed by the version of what made it, so a change to the grouping code or to a
prompt is never served results made by the old one; nobody has to remember to bump a number.
"""
from __future__ import annotations

from summaries.analysis.versions import code_version

# Modules whose code decides what a phase returns for a given input.
SHARED = tuple(f"patterns/{name}" for name in (
    "summary_view.py", "naming.py", "chunking.py", "extraction.py", "combine.py", "assignment.py"))
RULES = ("patterns/fingerprint.py", "patterns/rule_names.py", "summaries/analysis/routes.py")
LLM = ("patterns/prompt_data.py", "patterns/llm_output.py", "patterns/asking.py", "patterns/prompts")


def version_for(engine: str) -> str:
    """The version of an engine's pattern phases: `rules-<hash>` or `llm-<hash>` of the code (and prompts)."""
    return code_version("rules", *SHARED, *RULES) if engine == "rules" else code_version("llm", *SHARED, *LLM)
