"""Rendering a Clip: find or create the cached row, capture the replay, encode it, store the webm.

Every failure ends as a Clip in state `failed` with a reason a person can act on; nothing here
raises for a bad recording, so a task that calls it can never crash-loop.
"""
from __future__ import annotations

import heapq
import logging
import queue
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db.models import F, Max, Q, Sum
from django.utils import timezone

from replay_render.browser import BrowserUnavailable, RenderBrowser, shared_browser
from replay_render.capture import CaptureError, CaptureResult, FrameSpec, start_capture
from replay_render.encode import ClipEncoder, EncodeError
from replay_render.models import Clip, clip_fingerprint
from replay_render.timeline import (
    FramePlan,
    RecordingError,
    activity_timestamps,
    first_full_snapshot_ms,
    page_urls,
    plan_frames,
    validate_events,
    viewport_size,
)
from summaries.models import Session, datetime_to_ms, ms_to_datetime

logger = logging.getLogger(__name__)

MAX_FPS = 10


class ClipRequestError(ValueError):
    """The clip asked for is not possible (bad fps, empty or too long window); the message says why."""


@dataclass(frozen=True)
class RenderOptions:
    """Everything besides the window that changes how a clip looks: part of its cache key."""

    footer: bool
    skip_inactive: bool
    codec: str
    max_width: int = 1440  # wider pages are scaled down to this many pixels
    timecode: bool = False  # a machine-readable clock in the footer (benchmarks and tests)
    window_id: str = ""  # the browser tab to show when the session has several

    def as_dict(self) -> dict[str, object]:
        """The options as stored on the Clip row (timecode only when on, so ordinary cache keys never change)."""
        options: dict[str, object] = {"footer": self.footer, "skip_inactive": self.skip_inactive, "codec": self.codec,
                                      "max_width": self.max_width}
        if self.timecode:
            options["timecode"] = True
        if self.window_id:
            options["window_id"] = self.window_id
        return options


def clip_window(at: datetime, before: float | None = None, after: float | None = None) -> tuple[datetime, datetime]:
    """The default window around a moment: a couple of seconds before, several after."""
    before = settings.RECAP_CLIP_BEFORE_SECONDS if before is None else before
    after = settings.RECAP_CLIP_AFTER_SECONDS if after is None else after
    return at - timedelta(seconds=before), at + timedelta(seconds=after)


def clip_for(
    session: Session,
    start: datetime,
    end: datetime,
    fps: int | None = None,
    *,
    footer: bool | None = None,
    skip_inactive: bool | None = None,
    codec: str | None = None,
    timecode: bool = False,
    window_id: str = "",
    max_width: int | None = None,
) -> Clip:
    """The Clip row for these parameters: the cached one if it exists, else a new pending one."""
    fps = settings.RECAP_CLIP_FPS if fps is None else int(fps)
    if not 1 <= fps <= MAX_FPS:
        raise ClipRequestError(f"fps must be between 1 and {MAX_FPS}, got {fps}")
    if end <= start:
        raise ClipRequestError("the clip window must end after it starts")
    length = (end - start).total_seconds()
    if length > settings.RECAP_CLIP_MAX_SECONDS:
        raise ClipRequestError(
            f"a clip of {length:.0f} s is longer than RECAP_CLIP_MAX_SECONDS ({settings.RECAP_CLIP_MAX_SECONDS:.0f} s)"
        )
    codec = codec or settings.RECAP_CLIP_CODEC
    if codec not in ("vp8", "vp9"):
        raise ClipRequestError(f"codec must be vp8 or vp9, got {codec!r}")
    options = RenderOptions(
        footer=settings.RECAP_CLIP_FOOTER if footer is None else footer,
        skip_inactive=(length > settings.RECAP_CLIP_SKIP_INACTIVE_AFTER) if skip_inactive is None else skip_inactive,
        codec=codec,
        max_width=int(max_width or settings.RECAP_CLIP_MAX_WIDTH),
        timecode=timecode,
        window_id=window_id or "",
    )
    fingerprint = clip_fingerprint(session.pk, start, end, fps, options.as_dict())
    clip, _ = Clip.objects.get_or_create(
        fingerprint=fingerprint,
        defaults={"session": session, "start_time": start, "end_time": end, "fps": fps, "options": options.as_dict()},
    )
    return clip


def clip_events(session: Session, start: datetime, end: datetime, window_id: str = "") -> list[dict]:
    """The rrweb events a clip replays: back to the last FullSnapshot, and of one browser tab only.

    A session recorded in several tabs has one recording per tab; interleaving them would rebuild
    two different pages in one replayer. The tab is the one asked for, else the busiest in the window.
    """
    overlapping = session.recording_chunks.filter(last_timestamp__gte=start, first_timestamp__lte=end)
    windows = list(
        overlapping.values("window_id").annotate(events=Sum("event_count")).order_by("-events", "window_id")
    )
    if len(windows) <= 1:
        return session.rrweb_events(start, end, from_full_snapshot=True)
    known = {w["window_id"] for w in windows}
    chosen = window_id if window_id in known else windows[0]["window_id"]
    chunks = session.recording_chunks.filter(window_id=chosen)
    anchor = (
        chunks.filter(has_full_snapshot=True, first_timestamp__lte=start)
        .order_by("-first_timestamp")
        .values_list("first_timestamp", flat=True)
        .first()
    )
    begin = min(start, anchor) if anchor is not None else start
    begin_ms, end_ms = datetime_to_ms(begin), datetime_to_ms(end)
    streams = [c.read_events() for c in chunks.filter(last_timestamp__gte=begin, first_timestamp__lte=end)
               .order_by("first_timestamp", "pk")]
    merged = heapq.merge(*streams, key=lambda e: e.get("timestamp", 0))
    return [e for e in merged if begin_ms <= e.get("timestamp", 0) <= end_ms]


def _claim(clip: Clip, force: bool) -> bool:
    """Atomically move the clip to `rendering`; False when another worker holds it or it needs no work."""
    stale_before = timezone.now() - timedelta(seconds=settings.RECAP_CLIP_TIMEOUT * 3 + 60)
    claimable = Q(state=Clip.State.PENDING) | Q(state=Clip.State.RENDERING, updated_at__lt=stale_before)
    if force:
        claimable |= Q(state__in=[Clip.State.DONE, Clip.State.FAILED])
    elif clip.can_retry(settings.RECAP_CLIP_MAX_ATTEMPTS):
        claimable |= Q(state=Clip.State.FAILED)
    elif clip.state == Clip.State.DONE and not _file_exists(clip):
        claimable |= Q(state=Clip.State.DONE)  # the cached file was deleted from storage: render it again
    claimed = Clip.objects.filter(claimable, pk=clip.pk).update(
        state=Clip.State.RENDERING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    clip.refresh_from_db()
    return bool(claimed)


def _file_exists(clip: Clip) -> bool:
    """True when the clip has a file and storage still holds it."""
    return bool(clip.file) and clip.file.storage.exists(clip.file.name)


def _fail(clip: Clip, failure: str, reason: str, started: float) -> Clip:
    """Mark the clip failed with its kind and reason; returns it."""
    logger.warning("clip %s failed (%s): %s", clip.pk, failure, reason)
    clip.state = Clip.State.FAILED
    clip.failure = failure
    clip.failure_reason = reason
    clip.render_seconds = time.perf_counter() - started
    clip.save(update_fields=["state", "failure", "failure_reason", "render_seconds", "updated_at"])
    return clip


def _footer_time(at_ms: int, session_start_ms: int) -> str:
    """The footer's clock: wall time of the instant and its offset from the session start."""
    offset = max(0, at_ms - session_start_ms) // 1000
    return f"{ms_to_datetime(at_ms):%H:%M:%S} UTC   +{offset // 60}:{offset % 60:02d}"


def frame_specs(
    events: list[dict], start_ms: int, end_ms: int, fps: int, *, session_start_ms: int, skip_inactive: bool
) -> tuple[FramePlan, list[FrameSpec], tuple[int, int]]:
    """The clip's frames (recording instants), what each frame's footer says, and the page size."""
    # Before the first FullSnapshot there is no page to show; the clip starts where the page exists.
    snapshot_ms = first_full_snapshot_ms(events) or start_ms
    plan = plan_frames(max(start_ms, snapshot_ms), end_ms, fps, activity=activity_timestamps(events),
                       skip_inactive=skip_inactive)
    urls = page_urls(events)
    # The first frame after a cut says how much idle time was jumped over.
    resumed = {cut_to: cut_to - cut_from for cut_from, cut_to in plan.skipped_ranges}
    specs = [
        FrameSpec(
            f.timestamp_ms,
            _footer_time(f.timestamp_ms, session_start_ms)
            + (f"   » {resumed[f.timestamp_ms] / 1000:.0f} s idle skipped" if f.timestamp_ms in resumed else ""),
            urls(f.timestamp_ms),
        )
        for f in plan.frames
    ]
    return plan, specs, viewport_size(events, until_ms=end_ms)


def _capture_to_webm(
    browser: RenderBrowser, events: list[dict], specs: list[FrameSpec], viewport: tuple[int, int], clip: Clip,
    path: Path, timeout: float,
) -> tuple[CaptureResult, int]:
    """Capture the frames and encode them to `path` at the same time (ffmpeg and chromium work in parallel)."""
    images: queue.Queue[bytes] = queue.Queue()
    result, future = start_capture(
        browser, events, specs, viewport, footer=bool(clip.options.get("footer", True)), fps=clip.fps,
        timeout=timeout, on_image=images.put, timecode=bool(clip.options.get("timecode")),
        max_width=int(clip.options.get("max_width") or 0) or None,
    )
    encoder = ClipEncoder(path, (result.width, result.height), clip.fps, codec=str(clip.options.get("codec") or "vp9"))
    try:
        deadline = time.monotonic() + timeout + 30
        while encoder.frame_count < len(specs):
            try:
                encoder.add(images.get(timeout=0.05))
            except queue.Empty:
                if future.done():
                    future.result()  # raises the capture's error, if any
                    if images.empty():
                        raise CaptureError("the capture ended before every frame was taken") from None
                if time.monotonic() > deadline:
                    raise TimeoutError from None
        future.result(timeout=max(1.0, deadline - time.monotonic()))
        byte_size = encoder.close()
    except BaseException:
        encoder.abort()
        raise
    return result, byte_size


def render(clip: Clip, *, browser: RenderBrowser | None = None, force: bool = False) -> Clip:
    """Render the clip unless a usable result is cached; always returns the clip (done or failed)."""
    if not _claim(clip, force):
        return clip
    started = time.perf_counter()
    session = clip.session
    try:
        events = clip_events(session, clip.start_time, clip.end_time, str(clip.options.get("window_id") or ""))
    except (OSError, ValueError) as exc:
        return _fail(clip, Clip.Failure.CORRUPT, f"the recording could not be read from storage: {exc}", started)
    recording_end = session.recording_chunks.aggregate(end=Max("last_timestamp"))["end"]
    if not events or recording_end is None or recording_end < clip.start_time:
        return _fail(clip, Clip.Failure.NO_RECORDING, "the session has no recording in this window", started)
    try:
        validate_events(events)
    except RecordingError as exc:
        failure = Clip.Failure.NO_FULL_SNAPSHOT if "FullSnapshot before" in str(exc) else Clip.Failure.CORRUPT
        return _fail(clip, failure, str(exc), started)

    start_ms, end_ms = datetime_to_ms(clip.start_time), datetime_to_ms(clip.end_time)
    if (first_full_snapshot_ms(events) or start_ms) >= end_ms:
        return _fail(clip, Clip.Failure.NO_FULL_SNAPSHOT,
                     "the recording's first FullSnapshot comes after this window, so the page cannot be rebuilt",
                     started)
    session_start_ms = datetime_to_ms(session.start_time) if session.start_time else int(events[0]["timestamp"])
    plan, specs, viewport = frame_specs(events, start_ms, end_ms, clip.fps, session_start_ms=session_start_ms,
                                        skip_inactive=bool(clip.options.get("skip_inactive")))
    browser = browser or shared_browser()
    timeout = settings.RECAP_CLIP_TIMEOUT

    with tempfile.TemporaryDirectory(prefix="recap-clip-") as workdir:
        path = Path(workdir) / f"clip-{clip.pk}.webm"
        try:
            result, byte_size = _capture_to_webm(browser, events, specs, viewport, clip, path, timeout)
        except TimeoutError:
            return _fail(clip, Clip.Failure.TIMEOUT,
                         f"rendering took longer than RECAP_CLIP_TIMEOUT ({timeout:.0f} s); the page was closed",
                         started)
        except CaptureError as exc:
            return _fail(clip, Clip.Failure.CORRUPT, str(exc), started)
        except BrowserUnavailable as exc:
            return _fail(clip, Clip.Failure.BROWSER, str(exc), started)
        except EncodeError as exc:
            return _fail(clip, Clip.Failure.ENCODE, str(exc), started)
        except Exception as exc:  # pyppeteer's errors when chromium crashes mid-clip (NetworkError, PageError, ...)
            logger.exception("clip %s: the browser failed", clip.pk)
            browser.mark_broken()
            return _fail(clip, Clip.Failure.BROWSER, f"the browser failed while rendering: {exc}", started)
        if clip.file:
            clip.file.delete(save=False)
        with path.open("rb") as fh:
            clip.file.save(f"clip-{clip.pk}-{clip.fingerprint[:12]}.webm", File(fh), save=False)

    clip.state = Clip.State.DONE
    clip.failure, clip.failure_reason = Clip.Failure.NONE, ""
    clip.codec = str(clip.options.get("codec") or "vp9")
    clip.width, clip.height = result.width, result.height
    clip.frame_count = len(specs)
    clip.duration_seconds = plan.duration_seconds
    clip.byte_size = byte_size
    clip.frame_times = [f.timestamp_ms for f in plan.frames]
    clip.page_texts = result.page_texts
    clip.skipped_seconds = plan.skipped_ms / 1000
    clip.blocked_request_count = len(result.blocked_requests)
    clip.render_seconds = time.perf_counter() - started
    clip.rendered_at = timezone.now()
    clip.save()
    logger.info("clip %s rendered: %d frames (%d unchanged, reused), %d bytes in %.2f s", clip.pk,
                clip.frame_count, result.reused_frames, byte_size, clip.render_seconds)
    return clip


def render_clip(
    session: Session, start: datetime, end: datetime, fps: int | None = None, *, force: bool = False, **options
) -> Clip:
    """Find or render the clip of a session window (the synchronous entry point)."""
    return render(clip_for(session, start, end, fps, **options), force=force)
