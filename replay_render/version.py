"""The renderer version: a sha256 of everything that decides a clip's pixels, part of every clip's cache key.

What is hashed (paths relative to the project root):
- `replay_render/capture.py`, `encode.py` (with its encoder settings) and `timeline.py`, whole;
- from `rendering.py`, only the functions in PIXEL_PARTS (which events are replayed, which
  instants become frames, footer text, how capture and encoder are driven), so that editing a failure
  message or the cache bookkeeping does not throw every clip away;
- from `browser.py`, the Chromium flags (CHROMIUM_ARGS);
- the replay page `templates/replay_render/replay.html`;
- the rrweb version in `node_modules/rrweb/package.json` (its bundle and cursor CSS replay the page);
- the encoder settings as used (`encode.CODECS`, keyframe interval, container flags).

Nothing is bumped by hand: change any of these and clips rendered before no longer match a new
fingerprint, so they are rendered again instead of being served as current. The hash is computed once
per process (a few small files).
"""
from __future__ import annotations

import ast
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

WHOLE_FILES = (
    "replay_render/capture.py",
    "replay_render/encode.py",
    "replay_render/timeline.py",
    "templates/replay_render/replay.html",
)
# The parts of modules that also do other things which decide pixels: {path: top-level names}.
PIXEL_PARTS = {
    "replay_render/rendering.py": ("clip_events", "frame_specs", "_footer_time", "_capture_to_webm"),
    "replay_render/browser.py": ("CHROMIUM_ARGS",),
}


class VersionSourceError(RuntimeError):
    """A file or definition the renderer version is computed from is missing."""


def top_level_source(source: str, names: tuple[str, ...], path: str) -> str:
    """The source text of the named top-level functions, classes and assignments, in the order given."""
    tree = ast.parse(source)
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined = [t.id for t in targets if isinstance(t, ast.Name)]
        else:
            continue
        for name in defined:
            if name in names:
                found[name] = ast.get_source_segment(source, node) or ""
    missing = [name for name in names if name not in found]
    if missing:
        raise VersionSourceError(f"{path} no longer defines {', '.join(missing)}: update replay_render/version.py")
    return "\n".join(found[name] for name in names)


def compute_renderer_version(root: Path, node_modules: Path, encoder: dict) -> str:
    """The version over the renderer files under `root`, rrweb under `node_modules` and these encoder settings."""
    digest = hashlib.sha256()

    def add(label: str, text: str) -> None:
        """Hash one labelled part (the label keeps parts from running into each other)."""
        digest.update(f"\0{label}\0{len(text)}\0".encode())
        digest.update(text.encode())

    try:
        for path in WHOLE_FILES:
            add(path, (root / path).read_text())
        for path, names in PIXEL_PARTS.items():
            add(path, top_level_source((root / path).read_text(), names, path))
        rrweb = json.loads((node_modules / "rrweb" / "package.json").read_text())
    except OSError as exc:
        raise VersionSourceError(f"cannot compute the renderer version: {exc}") from exc
    add("rrweb", str(rrweb.get("version", "")))
    add("encoder", json.dumps(encoder, sort_keys=True))
    return digest.hexdigest()


@lru_cache(maxsize=1)
def renderer_version() -> str:
    """This installation's renderer version (computed once per process)."""
    from replay_render import encode  # numpy and Pillow: only when a fingerprint is needed

    settings_used = {"codecs": encode.CODECS, "keyframe_seconds": encode.KEYFRAME_SECONDS,
                     "container": encode.CONTAINER_PARAMS}
    return compute_renderer_version(Path(settings.BASE_DIR), Path(settings.NODE_MODULES), settings_used)
