"""Counting prompt tokens offline with tiktoken, using the encodings litellm ships."""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

DEFAULT_ENCODING = "o200k_base"


@functools.cache
def _encoding(name: str):
    """A tiktoken encoding loaded from litellm's bundled files (tiktoken cannot download here)."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        spec = importlib.util.find_spec("litellm")
        if spec and spec.origin:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(Path(spec.origin).parent / "litellm_core_utils" / "tokenizers")
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Tokens of text in a GPT-4o-family encoding (a close proxy for other providers' tokenizers)."""
    try:
        return len(_encoding(encoding).encode(text, disallowed_special=()))
    except Exception:  # no encoding file available: a rough 4-characters-per-token estimate
        return max(1, len(text) // 4)
