"""Render benchmark: deterministic frame-by-frame clips vs real-time screen recording at 8x (prints figures).

Uses rrweb-player's real 81 s recording (1166x705) stored through the real models in a throwaway
SQLite database, a warm browser, and the same time code (the replayer's own clock drawn as bits in
the footer) to measure what each approach actually shows in every frame.

    .venv/bin/python bench/bench_render.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    """A throwaway SQLite database and media folder; no Redis is needed."""
    var = tempfile.mkdtemp(prefix="recap-bench-render-")
    atexit.register(shutil.rmtree, var, ignore_errors=True)  # database and clips are throwaway
    os.environ["RECAP_VAR_DIR"] = var
    os.environ.pop("DATABASE_URL", None)
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"  # never contacted: no task is queued
    os.environ["RECAP_AUTO_VALIDATE"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def median(values: list[float]) -> float:
    """The middle value."""
    return statistics.median(values)


def bench_clips(session, repeat: int) -> None:
    """Wall time, bytes and frames of the deterministic renderer (warm browser, median of `repeat`)."""
    from replay_render.capture import FOOTER_HEIGHT, read_timecode
    from replay_render.encode import read_video
    from replay_render.rendering import clip_for, render

    start = session.start_time
    cases = [
        ("10 s clip @ 1 fps", start + timedelta(seconds=20), 10, 1, False),
        ("10 s clip @ 5 fps", start + timedelta(seconds=20), 10, 5, False),
        ("60 s clip @ 1 fps, inactivity skipped", start + timedelta(seconds=10), 60, 1, True),
    ]
    # Warm-up: launch chromium and import moviepy once, as a running render worker already has.
    render(clip_for(session, start + timedelta(seconds=1), start + timedelta(seconds=2), 1))
    print("\n== Deterministic capture (seek + screenshot per frame, VP9 webm), warm browser ==")
    print(f"{'case':44} {'wall s':>7} {'x realtime':>10} {'frames':>6} {'bytes':>8} {'KB/10s':>7} {'skipped s':>9} "
          f"{'max drift ms':>12}")
    for label, at, seconds, fps, skip in cases:
        clip = clip_for(session, at, at + timedelta(seconds=seconds), fps, skip_inactive=skip)
        walls = []
        for _ in range(repeat):
            began = time.perf_counter()
            clip = render(clip, force=True)
            walls.append(time.perf_counter() - began)
            assert clip.state == clip.State.DONE, clip.failure_reason
        # Drift is read from a separate render of the same window with the time code drawn in: the
        # time code changes every frame, which turns off the reuse of unchanged frames, so it is not timed.
        coded = render(clip_for(session, at, at + timedelta(seconds=seconds), fps, skip_inactive=skip, timecode=True),
                       force=True)
        _, frames = read_video(Path(coded.file.path))
        first = session_first_event_ms(session, coded)
        drift = max(abs(read_timecode(f, coded.height - FOOTER_HEIGHT) - (t - first + 1))
                    for f, t in zip(frames, coded.frame_times))
        wall = median(walls)
        # Recording time covered (frame times are recording instants, so a skipped stretch is inside the span).
        recording_seconds = (clip.frame_times[-1] - clip.frame_times[0]) / 1000 + 1 / fps
        print(f"{label:44} {wall:7.2f} {recording_seconds / wall:10.1f} {clip.frame_count:6d} {clip.byte_size:8d} "
              f"{clip.byte_size / 1024 * 10 / clip.duration_seconds:7.1f} {clip.skipped_seconds:9.1f} {drift:12d}")
        print(f"{'':44} (runs: {', '.join(f'{w:.2f}' for w in walls)} s; time-coded render {coded.render_seconds:.2f} s)")


def session_first_event_ms(session, clip) -> int:
    """The first event handed to the replayer for this clip (its clock starts there)."""
    events = session.rrweb_events(clip.start_time, clip.end_time, from_full_snapshot=True)
    return int(events[0]["timestamp"])


def bench_codecs(session) -> None:
    """VP8 vs VP9 on the same captured frames: encode time and size."""
    from replay_render.browser import shared_browser
    from replay_render.capture import FrameSpec, capture_frames
    from replay_render.encode import encode_webm
    from replay_render.timeline import plan_frames, viewport_size
    from summaries.models import datetime_to_ms

    start = datetime_to_ms(session.start_time) + 20_000
    events = session.rrweb_events(session.start_time, None, from_full_snapshot=True)
    plan = plan_frames(start, start + 10_000, 5)
    shots = capture_frames(shared_browser(), events, [FrameSpec(f.timestamp_ms, "12:00:00", "url") for f in plan.frames],
                           viewport_size(events), fps=5).images
    print("\n== Codec choice: same 10 s of frames, moviepy/ffmpeg realtime settings ==")
    print(f"{'codec':6} {'fps':>4} {'encode s':>9} {'bytes':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for fps, frames in ((1, shots[::5]), (5, shots)):
            for codec in ("vp8", "vp9"):
                times, size = [], 0
                for _ in range(3):
                    began = time.perf_counter()
                    size = encode_webm(frames, fps, Path(tmp) / f"{codec}.webm", codec=codec)
                    times.append(time.perf_counter() - began)
                print(f"{codec:6} {fps:4d} {median(times):9.2f} {size:8d}")


async def _screencast(events: list[dict], start_ms: int, speed: float, seconds: float, out_fps: int) -> dict[str, float]:
    """Play the replay in real time at `speed`, film it with CDP Page.startScreencast, measure what frames show."""
    import numpy as np
    from PIL import Image

    from replay_render.browser import shared_browser
    from replay_render.capture import FOOTER_HEIGHT, CaptureResult, open_replay, read_timecode
    from replay_render.timeline import viewport_size
    width, height = viewport_size(events)
    result = CaptureResult(images=[], width=width, height=height + FOOTER_HEIGHT)
    chromium = await shared_browser().browser()
    page = await chromium.newPage()
    received: list[tuple[float, bytes]] = []
    client = page._client
    try:
        await open_replay(page, events, footer=True, click_visible_ms=500, result=result, timecode=True)

        async def ack(session_id: int) -> None:
            """Acknowledge a screencast frame (the screencast stops without acks)."""
            try:
                await client.send("Page.screencastFrameAck", {"sessionId": session_id})
            except Exception:  # frames still in flight when the page closes
                pass

        def on_frame(event: dict) -> None:
            """Keep a screencast frame with its capture time."""
            received.append((event["metadata"]["timestamp"], base64.b64decode(event["data"])))
            asyncio.ensure_future(ack(event["sessionId"]))

        client.on("Page.screencastFrame", on_frame)
        await client.send("Page.startScreencast", {"format": "jpeg", "quality": 80, "everyNthFrame": 1})
        await asyncio.sleep(0.5)
        received.clear()
        first = int(events[0]["timestamp"])
        began = time.perf_counter()
        started_at = await page.evaluate("(at, speed) => window.recap.playRealtime(at, speed)", start_ms, speed) / 1000
        await asyncio.sleep(seconds / speed)
        await page.evaluate("() => window.recap.stopRealtime()")
        wall = time.perf_counter() - began
        await client.send("Page.stopScreencast")
        await asyncio.sleep(0.2)
    finally:
        await page.close()

    shown = []
    for stamp, jpeg in received:
        frame = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
        shown.append((stamp, read_timecode(frame, frame.shape[0] - FOOTER_HEIGHT) + first))
    # The recorded video is re-timed (ffmpeg setpts) so that wall time x speed is recording time:
    # output frame k should show start + k/out_fps; it shows whatever frame had arrived by then.
    drifts, repeats, last = [], 0, None
    for k in range(int(seconds * out_fps)):
        due = started_at + k / out_fps / speed
        arrived = [s for s in shown if s[0] <= due]
        if not arrived:
            drifts.append(float("nan"))
            continue
        frame_ts = arrived[-1]
        repeats += frame_ts is last
        last = frame_ts
        drifts.append(frame_ts[1] - (start_ms + k * 1000 / out_fps))
    valid = [abs(d) for d in drifts if d == d]
    return {
        "wall": wall,
        "frames_received": len(received),
        "frames_needed": int(seconds * out_fps),
        "missing": sum(1 for d in drifts if d != d),
        "repeated": repeats,
        "max_drift": max(valid) if valid else float("nan"),
        "mean_drift": statistics.mean(valid) if valid else float("nan"),
    }


def bench_realtime(session, repeat: int) -> None:
    """The approach being replaced: real-time playback at 8x filmed by the screencast."""
    from replay_render.browser import shared_browser
    from summaries.models import datetime_to_ms

    events = session.rrweb_events(session.start_time, None, from_full_snapshot=True)
    start_ms = datetime_to_ms(session.start_time) + 20_000
    print("\n== Real-time screen recording at 8x (CDP Page.startScreencast), 10 s of recording, 5 fps output ==")
    print("(wall = playback only; the recording would still have to be re-timed and encoded)")
    print(f"{'run':>3} {'wall s':>7} {'frames got/needed':>17} {'missing':>7} {'frozen':>6} {'max drift ms':>12} "
          f"{'mean drift ms':>13}")
    for run in range(repeat):
        figures = shared_browser().run(lambda: _screencast(events, start_ms, 8.0, 10.0, 5), timeout=120)
        print(f"{run + 1:3d} {figures['wall']:7.2f} {figures['frames_received']:8d}/{figures['frames_needed']:<8d} "
              f"{figures['missing']:7d} {figures['repeated']:6d} {figures['max_drift']:12.0f} {figures['mean_drift']:13.0f}")


def main() -> None:
    """Run every part and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from replay_render.browser import close_shared_browser
    from replay_render.sample import load_player_sample, store_recording
    from summaries.models import Organization, Project

    org = Organization.objects.create(name="Bench", slug="bench")
    project = Project.objects.create(organization=org, name="Bench")
    session = store_recording(project, "bench-sample", load_player_sample(), chunk_events=50)
    print(f"recording: rrweb-player sample, {session.recording_event_count} events, "
          f"{session.duration_seconds:.0f} s, 1166x705; cpus: {os.cpu_count()}; load avg: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        bench_clips(session, args.repeat)
        bench_codecs(session)
        bench_realtime(session, args.repeat)
    finally:
        close_shared_browser()
    print("\nTargets: 10 s @ 1 fps <= 2.5 s wall; >= 4x real time @ 5 fps; <= 100 KB per 10 s @ 1 fps; zero drift.")


if __name__ == "__main__":
    main()
