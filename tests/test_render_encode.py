"""Encoded clips are faithful: each decoded frame shows its own screenshot, with no residue of the one before."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from replay_render.encode import ClipEncoder, read_video

HEADLINES = ["Payment failed", "Order placed", "Your cart", "Sign in", "Not found", "Thank you", "Address",
             "Card declined", "Welcome", "Saved"]
# Page backgrounds that change with the content, dark ones included (grey: colour subsampling is not the point).
BACKGROUNDS = [255, 245, 255, 30, 255, 220, 255, 255, 90, 255]


def sharply_changing_pages(size: tuple[int, int] = (640, 360)) -> list[np.ndarray]:
    """Ten screenshots a second apart: a big headline replaced, order numbers and amounts changed."""
    big, small = ImageFont.load_default(size=64), ImageFont.load_default(size=18)
    pages = []
    for n, (headline, grey) in enumerate(zip(HEADLINES, BACKGROUNDS)):
        ink = (255, 255, 255) if grey < 128 else (0, 0, 0)
        image = Image.new("RGB", size, (grey, grey, grey))
        draw = ImageDraw.Draw(image)
        draw.text((30 + 12 * n, 40), headline, font=big, fill=ink)
        for line in range(6):
            draw.text((30, 180 + 26 * line), f"Order {1000 + 7 * n + line}  total {13 * n + line},00 EUR",
                      font=small, fill=ink)
        pages.append(np.asarray(image))
    return pages


@pytest.mark.parametrize("codec", ["vp9", "vp8"])
def test_each_frame_shows_its_screenshot_without_residue_of_the_previous(codec: str, tmp_path: Path) -> None:
    pages = sharply_changing_pages()
    encoder = ClipEncoder(tmp_path / "clip.webm", (640, 360), 1, codec=codec)
    for screenshot in pages:
        encoder.add(screenshot)
    encoder.close()
    _, decoded = read_video(tmp_path / "clip.webm")
    assert len(decoded) == len(pages)

    for n, (source, frame) in enumerate(zip(pages, decoded)):
        error = np.abs(source.astype(int) - frame.astype(int)).max(axis=2)
        assert error.max() <= 64 and error.mean() <= 1.5, (n, error.max(), error.mean())
        if n:
            # Where the page changed, the frame is nearer the new screenshot than the old one: no ghost.
            before = pages[n - 1].astype(int)
            changed = np.abs(before - source).max(axis=2) > 64
            ghost = (np.abs(before - frame).max(axis=2) < error) & changed
            assert not ghost.any(), (n, int(ghost.sum()))
