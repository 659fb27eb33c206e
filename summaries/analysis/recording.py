"""What the rrweb recording says about a session: activity, clicks, mutations, and the page's node tags."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from summaries.analysis.activity import ACTIVITY_SOURCES as ACTIVE_SOURCES  # noqa: F401 - the one definition
from summaries.analysis.activity import activity_times, idle_periods, is_activity  # noqa: F401

# rrweb EventType / IncrementalSource / MouseInteraction numbers.
FULL_SNAPSHOT, INCREMENTAL, META, PLUGIN = 2, 3, 4, 6
SRC_MUTATION, SRC_MOUSEMOVE, SRC_INTERACTION, SRC_SCROLL, SRC_RESIZE, SRC_INPUT = 0, 1, 2, 3, 4, 5
SRC_TOUCHMOVE, SRC_MEDIA, SRC_DRAG, SRC_SELECTION = 6, 7, 12, 14
CLICK = 2


@dataclass(frozen=True)
class Click:
    """A click seen in the recording."""

    timestamp_ms: int
    x: float
    y: float
    node_id: int
    tag: str = ""
    text: str = ""


@dataclass(frozen=True)
class Inactivity:
    """A stretch with no user activity."""

    start_ms: int
    end_ms: int

    @property
    def seconds(self) -> float:
        """Its length in seconds."""
        return (self.end_ms - self.start_ms) / 1000


def inactivity_periods(
    times: list[int], start_ms: int, end_ms: int, *, threshold_ms: int | None = None
) -> list[Inactivity]:
    """Idle stretches (summaries.analysis.activity.idle_periods) as Inactivity rows."""
    return [Inactivity(a, b) for a, b in idle_periods(times, start_ms, end_ms, threshold_ms)]


class NodeIndex:
    """Tag and short text of every DOM node seen in snapshots and mutations (enough to name a click target)."""

    def __init__(self) -> None:
        """An empty index."""
        self.tags: dict[int, str] = {}
        self.parents: dict[int, int] = {}
        self.texts: dict[int, str] = {}
        self.attrs: dict[int, dict[str, Any]] = {}

    def add(self, node: dict[str, Any], parent: int | None = None) -> None:
        """Index a serialized node and its children."""
        stack = [(node, parent)]
        while stack:
            current, parent_id = stack.pop()
            if not isinstance(current, dict):
                continue
            node_id = current.get("id")
            if isinstance(node_id, int):
                if parent_id is not None:
                    self.parents[node_id] = parent_id
                if current.get("type") == 2:
                    self.tags[node_id] = str(current.get("tagName") or "").lower()
                    self.attrs[node_id] = current.get("attributes") or {}
                elif current.get("type") == 3 and parent_id is not None:
                    text = " ".join(str(current.get("textContent") or "").split())
                    if text and parent_id not in self.texts:
                        self.texts[parent_id] = text[:60]
            for child in current.get("childNodes") or []:
                stack.append((child, node_id if isinstance(node_id, int) else parent_id))

    def feed(self, event: dict[str, Any]) -> None:
        """Update the index from a FullSnapshot or a Mutation event."""
        data = event.get("data") or {}
        if event.get("type") == FULL_SNAPSHOT and isinstance(data.get("node"), dict):
            self.add(data["node"])
        elif event.get("type") == INCREMENTAL and data.get("source") == SRC_MUTATION:
            for add in data.get("adds") or []:
                if isinstance(add, dict) and isinstance(add.get("node"), dict):
                    self.add(add["node"], add.get("parentId"))

    def interactive_tag(self, node_id: int) -> tuple[str, str]:
        """(tag, text) of the node or its nearest interactive ancestor."""
        current, depth, text = node_id, 0, ""
        while current is not None and depth < 8:
            tag = self.tags.get(current, "")
            text = text or self.texts.get(current, "")
            if tag in {"button", "a", "input", "select", "textarea", "label", "option", "summary"}:
                return tag, text
            current = self.parents.get(current)
            depth += 1
        return self.tags.get(node_id, ""), text


def clicks_and_mutations(rrweb_events: list[dict[str, Any]]) -> tuple[list[Click], list[int], list[int], list[int]]:
    """Clicks (with their target's tag), and times of mutations, scroll/selection changes and page loads."""
    index = NodeIndex()
    clicks: list[Click] = []
    mutations: list[int] = []
    scrolls: list[int] = []
    loads: list[int] = []
    for event in sorted(rrweb_events, key=lambda e: e.get("timestamp") or 0):
        ts = int(event.get("timestamp") or 0)
        kind = event.get("type")
        data = event.get("data") or {}
        if kind in (FULL_SNAPSHOT, META):
            loads.append(ts)
        index.feed(event)
        if kind != INCREMENTAL:
            continue
        source = data.get("source")
        if source == SRC_MUTATION:
            if data.get("adds") or data.get("removes") or data.get("texts") or data.get("attributes"):
                mutations.append(ts)
        elif source in (SRC_SCROLL, SRC_SELECTION):
            scrolls.append(ts)
        elif source == SRC_INTERACTION and data.get("type") == CLICK:
            node_id = int(data.get("id") or 0)
            tag, text = index.interactive_tag(node_id)
            clicks.append(Click(ts, float(data.get("x") or 0), float(data.get("y") or 0), node_id, tag, text))
    return clicks, mutations, scrolls, loads


def mouse_positions(rrweb_events: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    """(time, x, y) of every recorded mouse position."""
    out = []
    for event in rrweb_events:
        data = event.get("data") or {}
        if event.get("type") == INCREMENTAL and data.get("source") in (SRC_MOUSEMOVE, SRC_TOUCHMOVE, SRC_DRAG):
            base = int(event.get("timestamp") or 0)
            for pos in data.get("positions") or []:
                if isinstance(pos, dict):
                    out.append((base + int(pos.get("timeOffset") or 0), float(pos.get("x") or 0), float(pos.get("y") or 0)))
    out.sort()
    return out


ERROR_TEXT = re.compile(
    r"\b(error|failed|failure|could ?n[o']t|unable to|invalid|please (check|correct|try)|went wrong|try again|"
    r"not found|denied|declined|expired|is required|timed? ?out)\b",
    re.IGNORECASE,
)
MAX_MESSAGE_CHARS = 200
# Confirmations are short ("Added to your cart", "Address saved"); longer text is page content.
MAX_CONFIRMATION_CHARS = 100


def _texts_of(node: dict[str, Any]) -> list[str]:
    """Text content under a serialized node (bounded)."""
    out, stack = [], [node]
    while stack and len(out) < 20:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        if current.get("type") == 3 and current.get("textContent"):
            out.append(str(current["textContent"]))
        stack.extend(reversed(current.get("childNodes") or []))
    return out


SUCCESS_TEXT = re.compile(
    r"\b(added|saved|success(fully)?|thank you|thanks for|confirmed|updated|order placed|sent|welcome back)\b",
    re.IGNORECASE,
)


def page_messages(rrweb_events: list[dict[str, Any]], pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """(time, text) of short messages matching a pattern that appeared on the page (DOM text added or changed)."""
    found: list[tuple[int, str]] = []
    for event in rrweb_events:
        data = event.get("data") or {}
        if event.get("type") != INCREMENTAL or data.get("source") != SRC_MUTATION:
            continue
        texts = [str(t.get("value") or "") for t in data.get("texts") or [] if isinstance(t, dict)]
        for add in data.get("adds") or []:
            if isinstance(add, dict) and isinstance(add.get("node"), dict):
                texts += _texts_of(add["node"])
        ts = int(event.get("timestamp") or 0)
        for text in texts:
            text = " ".join(text.split())
            if 3 <= len(text) <= MAX_MESSAGE_CHARS and pattern.search(text):
                if not found or found[-1] != (ts, text):
                    found.append((ts, text))
    return found


def error_messages(rrweb_events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Error-looking messages the page showed."""
    return page_messages(rrweb_events, ERROR_TEXT)


def success_messages(rrweb_events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Confirmation-looking messages the page showed (and that do not also read as errors)."""
    return [(ts, text) for ts, text in page_messages(rrweb_events, SUCCESS_TEXT)
            if len(text) <= MAX_CONFIRMATION_CHARS and not ERROR_TEXT.search(text)]


LOADING_TEXT = re.compile(r"^(loading|please wait|fetching)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SlowLoad:
    """A loading indicator the user looked at for a while."""

    start_ms: int
    end_ms: int
    text: str

    @property
    def seconds(self) -> float:
        """How long it stayed."""
        return (self.end_ms - self.start_ms) / 1000


def slow_loads(rrweb_events: list[dict[str, Any]], *, threshold_ms: int = 3000) -> list[SlowLoad]:
    """Loading indicators ("Loading products…") that stayed on screen at least threshold_ms before being removed."""
    shown: dict[int, tuple[int, str]] = {}  # node id (text node or its parent) -> (since, text)
    found: list[SlowLoad] = []

    def watch(node: dict[str, Any], parent: int | None, ts: int) -> None:
        stack = [(node, parent)]
        while stack:
            current, parent_id = stack.pop()
            if not isinstance(current, dict):
                continue
            node_id = current.get("id")
            text = " ".join(str(current.get("textContent") or "").split())
            if current.get("type") == 3 and text and LOADING_TEXT.search(text) and len(text) <= 60:
                for key in (node_id, parent_id):
                    if isinstance(key, int):
                        shown[key] = (ts, text)
            for child in current.get("childNodes") or []:
                stack.append((child, node_id if isinstance(node_id, int) else parent_id))

    for event in sorted(rrweb_events, key=lambda e: e.get("timestamp") or 0):
        ts = int(event.get("timestamp") or 0)
        data = event.get("data") or {}
        if event.get("type") == FULL_SNAPSHOT and isinstance(data.get("node"), dict):
            shown.clear()
            watch(data["node"], None, ts)
        elif event.get("type") == INCREMENTAL and data.get("source") == SRC_MUTATION:
            gone = [r.get("id") for r in data.get("removes") or [] if isinstance(r, dict)]
            gone += [t.get("id") for t in data.get("texts") or [] if isinstance(t, dict)]
            for node_id in gone:
                if node_id in shown:
                    since, text = shown.pop(node_id)
                    for other in [k for k, v in shown.items() if v == (since, text)]:
                        shown.pop(other)
                    if ts - since >= threshold_ms:
                        found.append(SlowLoad(since, ts, text))
            for add in data.get("adds") or []:
                if isinstance(add, dict) and isinstance(add.get("node"), dict):
                    watch(add["node"], add.get("parentId"), ts)
    return found
