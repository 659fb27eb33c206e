"""Files only Recap's own user may read: var/ is 0700; secrets and the embedded database are created 0600."""
from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create the folder (and parents) if needed and make it 0700 (older installs made it world-readable)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Make sure the file exists and is 0600, created with that mode so it is never readable by others."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a new secret file, 0600 from the moment it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
