"""Encoding captured frames into a webm with moviepy (VP8 or VP9), and reading a clip back to check it."""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# Measured on replay screenshots here (bench/bench_render.py prints the figures): the earlier VP9 settings
# (crf 40) left residue of the previous frame where a page changed (a digit's old strokes, the old page's
# background tint) and smeared the cursor (max pixel error 81-161); VP8 capped at 150 kbit/s was worse.
# Now: libvpx realtime mode (fast enough to encode while frames are captured), constant quality crf 28
# tuned for screen content, no look-ahead and no alt-ref frames (their temporal filter blends
# neighbouring frames into each other: ghosts by design), a keyframe every KEYFRAME_SECONDS. About 40 KB
# per 10 s at 1 fps for a real recording (1166x732), under the 100 KB budget, with max error ~40.
CODECS: dict[str, dict[str, object]] = {
    "vp8": {
        "codec": "libvpx",
        "params": ["-deadline", "realtime", "-cpu-used", "8", "-crf", "24", "-b:v", "1M",
                   "-auto-alt-ref", "0", "-lag-in-frames", "0"],
    },
    "vp9": {
        "codec": "libvpx-vp9",
        "params": ["-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-crf", "28", "-b:v", "0",
                   "-tune-content", "screen", "-auto-alt-ref", "0", "-lag-in-frames", "0"],
    },
}
# Long clips get a keyframe now and then (players seek to them); a 10 s clip has only its first.
KEYFRAME_SECONDS = 30
# No random segment id or muxer version in the file: the same frames give the same bytes.
CONTAINER_PARAMS = ["-fflags", "+bitexact"]


class EncodeError(RuntimeError):
    """ffmpeg could not write the clip."""


@dataclass(frozen=True)
class VideoInfo:
    """What a webm file holds, read back with ffmpeg."""

    duration_seconds: float
    frame_count: int
    width: int
    height: int
    fps: float


def decode_image(data: bytes) -> np.ndarray:
    """A screenshot (JPEG/PNG bytes) as an RGB array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


class ClipEncoder:
    """Streams frames into ffmpeg (moviepy's writer) as they are captured, so encoding overlaps capture."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int, *, codec: str = "vp9", threads: int = 2) -> None:
        """Start ffmpeg writing a webm of `size` (width, height) at `fps` to `path`."""
        from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter  # heavy import: render workers only

        if codec not in CODECS:
            raise EncodeError(f"unknown codec {codec!r}: use one of {', '.join(CODECS)}")
        spec = CODECS[codec]
        self.path, self.size, self.frame_count = path, size, 0
        self._last: tuple[bytes, np.ndarray] | None = None
        self._writer = FFMPEG_VideoWriter(
            str(path), size, fps, codec=str(spec["codec"]), threads=threads,
            ffmpeg_params=[*spec["params"], "-g", str(KEYFRAME_SECONDS * fps), *CONTAINER_PARAMS,
                           "-pix_fmt", "yuv420p"],
        )

    def add(self, image: bytes | np.ndarray) -> None:
        """Append one frame (screenshot bytes or an RGB array of the clip's size)."""
        if isinstance(image, (bytes, bytearray)):
            # A reused screenshot (an idle moment) is the same bytes object: decode it once.
            if self._last is not None and self._last[0] is image:
                frame = self._last[1]
            else:
                frame = decode_image(image)
                self._last = (image, frame)
        else:
            frame = image
        frame = fit_frame(frame, self.size)
        if (frame.shape[1], frame.shape[0]) != tuple(self.size):
            raise EncodeError(f"frame {self.frame_count} is {frame.shape[1]}x{frame.shape[0]}, the clip is "
                              f"{self.size[0]}x{self.size[1]}")
        try:
            self._writer.write_frame(np.ascontiguousarray(frame, dtype=np.uint8))
        except OSError as exc:
            raise EncodeError(f"ffmpeg stopped while writing {self.path.name}: {str(exc)[:500]}") from exc
        self.frame_count += 1

    def close(self) -> int:
        """Finish the file; return its size in bytes."""
        self._writer.close()
        if not self.frame_count:
            raise EncodeError("no frames were captured, nothing to encode")
        return self.path.stat().st_size

    def abort(self) -> None:
        """Stop ffmpeg and remove the partial file."""
        try:
            self._writer.close()
        finally:
            self.path.unlink(missing_ok=True)


def fit_frame(frame: np.ndarray, size: tuple[int, int], slack: int = 4) -> np.ndarray:
    """Crop or pad (with the edge pixels) a frame within `slack` px of the clip size: scaled screenshots round."""
    width, height = size
    h, w = frame.shape[:2]
    if (w, h) == (width, height) or abs(w - width) > slack or abs(h - height) > slack:
        return frame
    frame = frame[:height, :width]
    pad_y, pad_x = height - frame.shape[0], width - frame.shape[1]
    if pad_y or pad_x:
        frame = np.pad(frame, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
    return frame


def encode_webm(images: list[bytes], fps: int, path: Path, *, codec: str = "vp9", threads: int = 2) -> int:
    """Write the screenshots as a webm at `fps` to `path`; return its size in bytes."""
    if not images:
        raise EncodeError("no frames were captured, nothing to encode")
    first = decode_image(images[0])
    encoder = ClipEncoder(path, (first.shape[1], first.shape[0]), fps, codec=codec, threads=threads)
    try:
        encoder.add(first)
        for image in images[1:]:
            encoder.add(image)
    except Exception:
        encoder.abort()
        raise
    return encoder.close()


def encode_webm_bytes(images: list[bytes], fps: int, *, codec: str = "vp9") -> bytes:
    """Encode to a temporary file and return the webm's bytes."""
    fd, name = tempfile.mkstemp(suffix=".webm", prefix="recap-clip-")
    os.close(fd)
    path = Path(name)
    try:
        encode_webm(images, fps, path, codec=codec)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def read_video(path: Path) -> tuple[VideoInfo, list[np.ndarray]]:
    """Decode a video file completely with ffmpeg: its facts and every frame (RGB arrays)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3) for raw in reader]
    fps = float(meta.get("fps") or 0)
    duration = float(meta.get("duration") or 0) or (len(frames) / fps if fps else 0.0)
    return VideoInfo(duration, len(frames), width, height, fps), frames
