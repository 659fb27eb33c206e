"""Version ids derived from the code and templates that make a result, so older results are never served as current.

A cached summary or verdict carries the version of what made it; any change to those files gives a new id, so
nobody has to remember to bump a constant.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE_SUFFIXES = (".py", ".txt", ".yaml", ".yml", ".json", ".html")


def _files(where: str) -> list[Path]:
    """The source files at a path (relative to the project root, or absolute): a file, or those under a folder."""
    path = ROOT / where
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES
                  and "__pycache__" not in p.parts)


@lru_cache(maxsize=None)
def code_version(prefix: str, *paths: str) -> str:
    """`prefix-<12 hex>`: a hash over the contents (and relative names) of the files at these paths."""
    digest = hashlib.sha256()
    for where in paths:
        base = (ROOT / where).parent
        for file in _files(where):
            digest.update(str(file.relative_to(base)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return f"{prefix}-{digest.hexdigest()[:12]}"
