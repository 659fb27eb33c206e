"""The renderer version in every clip fingerprint derives from the code that draws the pixels: old clips are never current."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from django.conf import settings

from replay_render import encode, models
from replay_render.version import (
    PIXEL_PARTS,
    WHOLE_FILES,
    VersionSourceError,
    compute_renderer_version,
    renderer_version,
)

ENCODER = {"codecs": encode.CODECS, "keyframe_seconds": encode.KEYFRAME_SECONDS, "container": encode.CONTAINER_PARAMS}


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of the files the version is computed from (project files under code/, rrweb under node_modules/)."""
    for relative in (*WHOLE_FILES, *PIXEL_PARTS):
        target = tmp_path / "code" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(settings.BASE_DIR) / relative, target)
    package = tmp_path / "node_modules" / "rrweb" / "package.json"
    package.parent.mkdir(parents=True)
    shutil.copy(Path(settings.NODE_MODULES) / "rrweb" / "package.json", package)
    return tmp_path


def version_of(sources: Path, encoder: dict = ENCODER) -> str:
    """The renderer version computed over the copied sources."""
    return compute_renderer_version(sources / "code", sources / "node_modules", encoder)


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a copied file (it must be there)."""
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new, 1))


def test_the_version_is_the_hash_of_this_checkout(sources: Path) -> None:
    assert version_of(sources) == renderer_version()
    assert len(renderer_version()) == 64


def test_changing_the_replay_page_changes_the_version_and_the_fingerprint(sources: Path, monkeypatch) -> None:
    edit(sources / "code/templates/replay_render/replay.html", "caret-color: transparent", "caret-color: red")
    changed = version_of(sources)
    assert changed != renderer_version()

    start, end = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 1, 0, 0, 10, tzinfo=timezone.utc)
    options = {"footer": True, "skip_inactive": False, "codec": "vp9", "max_width": 1440}
    current = models.clip_fingerprint(7, start, end, 1, options)
    monkeypatch.setattr(models, "renderer_version", lambda: changed)
    assert models.clip_fingerprint(7, start, end, 1, options) != current


@pytest.mark.parametrize("relative, old, new", [
    ("replay_render/capture.py", "FOOTER_HEIGHT = 26", "FOOTER_HEIGHT = 30"),
    ("replay_render/timeline.py", "keep_ms: int = 1000", "keep_ms: int = 2000"),
    ("replay_render/rendering.py", "s idle skipped", "s skipped"),  # frame_specs: footer text
    ("replay_render/browser.py", '"--hide-scrollbars",', ""),  # a Chromium flag
])
def test_pixel_deciding_code_changes_the_version(sources: Path, relative: str, old: str, new: str) -> None:
    edit(sources / "code" / relative, old, new)
    assert version_of(sources) != renderer_version()


def test_rrweb_and_encoder_settings_change_the_version(sources: Path) -> None:
    package = sources / "node_modules/rrweb/package.json"
    manifest = json.loads(package.read_text())
    package.write_text(json.dumps({**manifest, "version": "9.9.9"}))
    assert version_of(sources) != renderer_version()
    package.write_text(json.dumps(manifest))
    assert version_of(sources, {**ENCODER, "keyframe_seconds": 10}) != renderer_version()


def test_code_that_draws_nothing_leaves_clips_current(sources: Path) -> None:
    edit(sources / "code/replay_render/rendering.py", "the session has no recording in this window",
         "no recording here")  # a failure message in render()
    edit(sources / "code/replay_render/browser.py", "Chromium not found at", "No Chromium at")
    assert version_of(sources) == renderer_version()


def test_a_renamed_pixel_function_is_reported(sources: Path) -> None:
    edit(sources / "code/replay_render/rendering.py", "def frame_specs(", "def plan_specs(")
    with pytest.raises(VersionSourceError, match="frame_specs"):
        version_of(sources)
