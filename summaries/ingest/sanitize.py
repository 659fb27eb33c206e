"""Making accepted values storable: NUL characters stripped, lone surrogates replaced, non-finite numbers nulled.

Postgres refuses NUL in text and jsonb, `NaN`/`Infinity` in jsonb, and UTF-8 cannot carry a lone surrogate; any
of them in one event used to fail its whole batch. Capture bodies are scanned once for the escapes that produce
NUL or surrogates, so the common clean body is never walked; their numbers are made finite while they are
parsed (summaries.ingest.bodies), so only values from elsewhere (imports) are walked for numbers.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

# JSON escapes of NUL and of UTF-16 surrogates (pairs are fine; a lone one cannot be encoded).
TEXT_SUSPECT = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"

# Times outside this range are not moments of a session (epoch ms; 2000-01-01 .. 2100-01-01).
EARLIEST_MS, LATEST_MS = 946_684_800_000, 4_102_444_800_000
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def suspects(text: bytes | None) -> tuple[bool, bool]:
    """(text needs cleaning, numbers need cleaning) for a JSON body parsed by summaries.ingest.bodies (whose
    numbers are finite already); None (a value from elsewhere) means both."""
    if text is None:
        return True, True
    return TEXT_SUSPECT.search(text) is not None, False


def clean_text(text: str) -> str:
    """A string with NUL characters removed and lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and SURROGATE.search(text):
        text = SURROGATE.sub(REPLACEMENT, text)
    return text


def finite(value: float) -> float | None:
    """The number, or None when it is NaN or infinite (JSON has no such numbers)."""
    return value if math.isfinite(value) else None


def clean(value: Any, *, text: bool = True) -> Any:
    """The value made storable: floats made finite, and with `text`, strings and keys cleaned (containers in place).

    Iterative, so a deeply nested value costs no recursion.
    """
    def scalar(item: Any) -> Any:
        if isinstance(item, float):
            return finite(item)
        if text and isinstance(item, str):
            return clean_text(item)
        return item

    if not isinstance(value, (dict, list)):
        return scalar(value)
    stack: list[dict | list] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, (dict, list)):
                    stack.append(item)
                elif isinstance(item, (float, str)):
                    node[index] = scalar(item)
            continue
        for key in list(node):
            item = node[key]
            if isinstance(item, (dict, list)):
                stack.append(item)
            elif isinstance(item, (float, str)):
                node[key] = scalar(item)
            if text and isinstance(key, str):
                fixed = clean_text(key)
                if fixed != key:
                    node[fixed] = node.pop(key)
    return value


def plausible_ms(value: float) -> bool:
    """True for an epoch-millisecond time inside the range sessions can have."""
    return EARLIEST_MS <= value <= LATEST_MS
