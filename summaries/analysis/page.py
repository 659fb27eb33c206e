"""What the page showed, read from the rrweb recording through a light DOM mirror.

The mirror follows FullSnapshots and Mutations (removes, adds, texts, attributes, in rrweb's order) and
reports, in any language:
  - texts that appeared, and where: an alert, a status / live region, a toast, a dialog, inside a form, in a
    list or table, in a third-party widget, or elsewhere on the page; with a tone taken from ARIA roles and
    CSS class tokens first, words only as support;
  - fields marked aria-invalid, with the message linked by aria-describedby / aria-errormessage;
  - loading indicators (aria-busy, an indeterminate role=progressbar, spinner/skeleton classes, with loading
    words as support) and how long each stayed;
  - clicks with the clicked control's name (aria-label, title, visible text, then id/name) and form;
  - the times of DOM mutations and page loads (for "did the page react to the click").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from summaries.analysis.elements import TOOLTIP_ATTRS
from summaries.analysis.wording import (
    ERROR_CLASSES,
    HIDING_CLASSES,
    LOADING_CLASSES,
    SUCCESS_CLASSES,
    TOAST_CLASSES,
    class_tokens,
    reads_as_error,
    reads_as_loading,
    reads_as_success,
)

FULL_SNAPSHOT, INCREMENTAL, META = 2, 3, 4
SRC_MUTATION, SRC_INTERACTION, SRC_SCROLL, SRC_SELECTION = 0, 2, 3, 14
CLICK = 2
ELEMENT, TEXT = 2, 3
MAX_TEXT = 200
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "meta", "link", "title"})
INTERACTIVE_TAGS = frozenset({"button", "a", "input", "select", "textarea", "label", "option", "summary"})
INTERACTIVE_ROLES = frozenset({"button", "link", "menuitem", "tab", "checkbox", "switch", "option", "radio"})
LIST_TAGS = frozenset({"li", "tr", "td", "th", "table", "tbody", "ul", "ol", "dl", "dd"})
# Third-party widgets name their containers after themselves: these stems inside a class or id token.
WIDGET_STEMS = ("widget", "chat", "intercom", "helpdesk", "zendesk", "hubspot", "crisp", "drift", "beacon",
                "launcher", "cookie", "consent", "tipps", "tips")
# More text nodes than this in one added subtree is a rendered view, not a message.
VIEW_TEXT_NODES = 12


@dataclass
class Node:
    """One mirrored DOM node."""

    id: int
    type: int
    parent: int | None = None
    tag: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    children: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class TextShown:
    """A text that appeared on the page, where it appeared and its tone."""

    timestamp_ms: int
    text: str
    where: str  # alert | status | toast | dialog | form | list | widget | page
    tone: str  # error | success | neutral
    tone_from: str  # role | class | words | "" : what decided the tone
    form: str = ""
    top: int = 0  # id of the body child holding it
    node: int = 0


@dataclass(frozen=True)
class FieldInvalid:
    """A field marked aria-invalid="true"."""

    timestamp_ms: int
    field: str
    message: str
    form: str = ""
    node: int = 0


@dataclass
class Loading:
    """A loading indicator on screen from start to end (None: still there when the recording stops)."""

    start_ms: int
    end_ms: int | None
    label: str
    evidence: str  # aria-busy | progressbar | class+words | class
    top: int = 0
    ended_by: str = ""  # removed | hidden | page_load | "" (still there)
    at_page_load: bool = False  # already there in the page's first snapshot

    @property
    def strong(self) -> bool:
        """Evidence enough to say the user was kept waiting: ARIA state, or a loading class with loading words,
        or an indicator the app put up after the page loaded (a CSS-hidden spinner in the page source is not)."""
        if self.evidence in ("aria-busy", "progressbar", "class+words"):
            return True
        return self.evidence == "class" and not self.at_page_load

    def seconds(self, until_ms: int | None = None) -> float:
        """How long it stayed (until until_ms when it never went away)."""
        end = self.end_ms if self.end_ms is not None else until_ms
        return max(0, (end or self.start_ms) - self.start_ms) / 1000


@dataclass(frozen=True)
class PageClick:
    """A click in the recording, with its control's name, tag and form."""

    timestamp_ms: int
    x: float
    y: float
    node: int
    tag: str
    name: str
    form: str = ""
    top: int = 0


@dataclass
class PageSignals:
    """Everything the mirror saw over one recording."""

    texts: list[TextShown] = field(default_factory=list)
    invalid: list[FieldInvalid] = field(default_factory=list)
    loading: list[Loading] = field(default_factory=list)
    clicks: list[PageClick] = field(default_factory=list)
    mutations: list[int] = field(default_factory=list)
    scrolls: list[int] = field(default_factory=list)
    loads: list[int] = field(default_factory=list)
    hrefs: list[tuple[int, str]] = field(default_factory=list)

    def app_tops(self) -> set[int]:
        """Body children holding the app (where the user clicked), when the page has a few such roots; empty when
        the body is flat (every element its own child of body) or too few clicks tell."""
        placed = [c.top for c in self.clicks if c.top]
        tops = set(placed)
        if len(placed) < 3 or len(tops) > 3 or len(placed) < 2 * len(tops):
            return set()  # too few clicks, or each in its own body child: nothing says which is the app
        return tops


def is_glyph(text: str) -> bool:
    """True for a label with no letters or digits ("✎", "🗑", "×", "⋯", "+"): not a name people recognise."""
    return not any(ch.isalnum() for ch in text or "")


def _collapse(text: str, limit: int = MAX_TEXT) -> str:
    """Whitespace collapsed, cut to limit."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Mirror:
    """The DOM as rrweb rebuilds it, with just enough to read texts, roles, states and names."""

    def __init__(self) -> None:
        self.nodes: dict[int, Node] = {}
        self.body: int | None = None

    # -- building ------------------------------------------------------------------------------------------
    def reset(self, root: dict[str, Any]) -> None:
        """Start over from a FullSnapshot's node tree."""
        self.nodes.clear()
        self.body = None
        self.add(root, None, None)

    def add(self, serialized: dict[str, Any], parent: int | None, next_id: int | None) -> list[int]:
        """Insert a serialized subtree under parent (before next_id when given); returns the new node ids."""
        added: list[int] = []
        stack: list[tuple[dict[str, Any], int | None, int | None]] = [(serialized, parent, next_id)]
        while stack:
            current, parent_id, before = stack.pop()
            if not isinstance(current, dict) or not isinstance(current.get("id"), int):
                continue
            node = Node(current["id"], int(current.get("type") or 0), parent_id,
                        str(current.get("tagName") or "").lower(),
                        dict(current.get("attributes") or {}) if isinstance(current.get("attributes"), dict) else {},
                        str(current.get("textContent") or "") if current.get("type") == TEXT else "")
            old = self.nodes.get(node.id)
            if old is not None:
                self._detach(old)
            self.nodes[node.id] = node
            added.append(node.id)
            if node.tag == "body":
                self.body = node.id
            holder = self.nodes.get(parent_id) if parent_id is not None else None
            if holder is not None:
                if before is not None and before in holder.children:
                    holder.children.insert(holder.children.index(before), node.id)
                else:
                    holder.children.append(node.id)
            for child in reversed(current.get("childNodes") or []):
                stack.append((child, node.id, None))
        return added

    def _detach(self, node: Node) -> None:
        """Unlink a node from its parent's children."""
        holder = self.nodes.get(node.parent) if node.parent is not None else None
        if holder is not None and node.id in holder.children:
            holder.children.remove(node.id)

    def remove(self, node_id: int) -> None:
        """Drop a node and its subtree."""
        node = self.nodes.get(node_id)
        if node is None:
            return
        self._detach(node)
        stack = [node_id]
        while stack:
            current = self.nodes.pop(stack.pop(), None)
            if current is not None:
                stack.extend(current.children)

    # -- reading -------------------------------------------------------------------------------------------
    def ancestors(self, node_id: int, limit: int = 40) -> list[Node]:
        """The node and its ancestors, nearest first."""
        out = []
        current = self.nodes.get(node_id)
        while current is not None and len(out) < limit:
            out.append(current)
            current = self.nodes.get(current.parent) if current.parent is not None else None
        return out

    def element_of(self, node_id: int) -> Node | None:
        """The node itself when it is an element, else its parent element."""
        node = self.nodes.get(node_id)
        if node is None:
            return None
        if node.type == ELEMENT:
            return node
        return self.nodes.get(node.parent) if node.parent is not None else None

    def text_of(self, node_id: int, limit: int = MAX_TEXT, max_nodes: int = 400) -> str:
        """Visible text under a node, whitespace collapsed and bounded."""
        parts: list[str] = []
        stack = [node_id]
        seen = 0
        while stack and seen < max_nodes and sum(len(p) for p in parts) < limit * 2:
            node = self.nodes.get(stack.pop())
            seen += 1
            if node is None:
                continue
            if node.type == TEXT:
                if node.text.strip():
                    parts.append(node.text)
                continue
            if node.tag in INVISIBLE_TAGS or _hidden_here(node):
                continue
            stack.extend(reversed(node.children))
        return _collapse(" ".join(parts), limit)

    def text_nodes_under(self, node_id: int, cap: int = VIEW_TEXT_NODES + 1) -> int:
        """How many non-empty text nodes a subtree holds (stops counting at cap)."""
        count, stack = 0, [node_id]
        while stack and count < cap:
            node = self.nodes.get(stack.pop())
            if node is None:
                continue
            if node.type == TEXT and node.text.strip():
                count += 1
            stack.extend(node.children)
        return count

    def subtree(self, node_id: int, cap: int = 5000) -> list[Node]:
        """The nodes under a node (itself first), bounded."""
        out: list[Node] = []
        stack = [node_id]
        while stack and len(out) < cap:
            node = self.nodes.get(stack.pop())
            if node is not None:
                out.append(node)
                stack.extend(node.children)
        return out

    def visible(self, node_id: int) -> bool:
        """False when the node or an ancestor is hidden (hidden attribute, aria-hidden, display/visibility)."""
        return not any(_hidden_here(n) or n.tag in INVISIBLE_TAGS for n in self.ancestors(node_id))

    def top_of(self, node_id: int) -> int:
        """The body child a node sits in (0 when unknown)."""
        chain = self.ancestors(node_id)
        for i, node in enumerate(chain):
            if node.parent == self.body and self.body is not None:
                return node.id
            if node.id == self.body:
                return chain[i - 1].id if i else 0
        return 0

    def form_of(self, node_id: int) -> str:
        """A key for the form a node belongs to: its id, name, action or class; "" outside forms."""
        for node in self.ancestors(node_id):
            if node.tag == "form" or node.attrs.get("role") == "form":
                attrs = node.attrs
                return str(attrs.get("id") or attrs.get("name") or attrs.get("aria-label") or attrs.get("action")
                           or attrs.get("class") or f"form{node.id}")
        return ""

    def control_of(self, node_id: int) -> Node | None:
        """The interactive element a click landed on: the node or its nearest interactive ancestor."""
        for depth, node in enumerate(self.ancestors(node_id, limit=10)):
            if node.type != ELEMENT:
                continue
            if node.tag in INTERACTIVE_TAGS or node.attrs.get("role") in INTERACTIVE_ROLES \
                    or "onclick" in node.attrs or node.attrs.get("tabindex") == "0":
                return node
        return self.element_of(node_id)

    def name_of(self, node: Node) -> str:
        """The name people recognise: aria-label, title, visible text (never a lone glyph), then id or name."""
        attrs = node.attrs
        for value in (attrs.get("aria-label"), attrs.get("title"), *(attrs.get(k) for k in TOOLTIP_ATTRS)):
            if value and not is_glyph(str(value)):
                return _collapse(str(value), 60)
        labelled = attrs.get("aria-labelledby")
        if labelled:
            text = " ".join(self.text_of(n.id, 60) for n in self.nodes.values()
                            if n.attrs.get("id") in str(labelled).split())
            if text and not is_glyph(text):
                return _collapse(text, 60)
        text = self.text_of(node.id, 60)
        if text and not is_glyph(text):
            return text
        if node.tag == "input" and attrs.get("value") and attrs.get("type") in ("submit", "button"):
            return _collapse(str(attrs["value"]), 60)
        for value in (attrs.get("id"), attrs.get("name"), attrs.get("alt"), attrs.get("placeholder")):
            if value:
                return _collapse(str(value), 60)
        return text

    def field_name(self, node: Node) -> str:
        """A form field's name: its label (aria-label, label[for], wrapping label), else name or id."""
        attrs = node.attrs
        if attrs.get("aria-label"):
            return _collapse(str(attrs["aria-label"]), 60)
        field_id = attrs.get("id")
        if field_id:
            for other in self.nodes.values():
                if other.tag == "label" and other.attrs.get("for") == field_id:
                    text = self.text_of(other.id, 60)
                    if text:
                        return text
        for ancestor in self.ancestors(node.id, limit=4)[1:]:
            if ancestor.tag == "label":
                text = self.text_of(ancestor.id, 60)
                if text:
                    return text
        return _collapse(str(attrs.get("name") or field_id or attrs.get("placeholder") or node.tag), 60)

    def by_html_id(self, html_ids: str) -> list[Node]:
        """Elements whose id attribute is one of the space-separated ids."""
        wanted = set(str(html_ids).split())
        return [n for n in self.nodes.values() if n.type == ELEMENT and n.attrs.get("id") in wanted]


FIELD_TAGS = frozenset({"input", "select", "textarea"})


def _marked_invalid(node: Node) -> bool:
    """True when a field says it is invalid: aria-invalid="true", or an invalid/error class on the field itself."""
    if str(node.attrs.get("aria-invalid") or "").lower() == "true":
        return True
    return node.tag in FIELD_TAGS and bool(class_tokens(str(node.attrs.get("class") or "")) & {"invalid", "error"})


def _hidden_here(node: Node) -> bool:
    """True when this element itself is hidden."""
    if node.type != ELEMENT:
        return False
    attrs = node.attrs
    if "hidden" in attrs and attrs.get("hidden") not in (False, None):
        return True
    if str(attrs.get("aria-hidden") or "").lower() == "true":
        return True
    style = attrs.get("style")
    if style and ("none" in style or "hidden" in style):
        style = str(style).replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
    classes = attrs.get("class")
    return bool(classes) and bool(_class_names(str(classes)) & HIDING_CLASSES)


@lru_cache(maxsize=8192)
def _class_names(value: str) -> frozenset[str]:
    """The class names of a class attribute, lower-cased."""
    return frozenset(value.lower().split())


def _region_kind(node: Node) -> str:
    """What kind of message region an element itself is (alert, status, dialog, toast) or ""."""
    if node.type != ELEMENT:
        return ""
    role = str(node.attrs.get("role") or "").lower()
    live = str(node.attrs.get("aria-live") or "").lower()
    if role in ("alert", "alertdialog") or live == "assertive":
        return "alert"
    if role in ("status", "log") or live == "polite" or node.tag == "output":
        return "status"
    if role == "dialog" or node.tag == "dialog" or str(node.attrs.get("aria-modal") or "") == "true":
        return "dialog"
    if class_tokens(str(node.attrs.get("class") or "")) & TOAST_CLASSES:
        return "toast"
    return ""


def _region(mirror: Mirror, node_id: int) -> tuple[Node | None, str]:
    """The message region holding a node, nearest first: (its element, alert|status|toast|dialog) or (None, "")."""
    for node in mirror.ancestors(node_id, limit=12):
        kind = _region_kind(node)
        if kind:
            return node, kind
    return None, ""


def _place(mirror: Mirror, node_id: int, clicked_tops: set[int]) -> str:
    """Where a non-region text sits: form, list, widget or page."""
    chain = mirror.ancestors(node_id, limit=30)
    tokens: set[str] = set()
    for node in chain:
        tokens |= class_tokens(str(node.attrs.get("class") or "")) | class_tokens(str(node.attrs.get("id") or ""))
    if any(stem in token for token in tokens for stem in WIDGET_STEMS) or "tip" in tokens:
        return "widget"
    top = mirror.top_of(node_id)
    if clicked_tops and top and top not in clicked_tops and not any(n.tag in ("main", "form") for n in chain):
        return "widget"
    if any(n.tag == "form" or n.attrs.get("role") == "form" for n in chain):
        return "form"
    if any(n.tag in LIST_TAGS or n.attrs.get("role") in ("row", "cell", "gridcell", "listitem") for n in chain[:8]):
        return "list"
    return "page"


def _tone(mirror: Mirror, node_id: int, where: str, text: str) -> tuple[str, str]:
    """(error|success|neutral, what decided it): ARIA role first, class tokens next, words only as support."""
    if where == "alert":
        return ("success", "words") if reads_as_success(text) else ("error", "role")
    for node in mirror.ancestors(node_id, limit=8):
        tokens = class_tokens(str(node.attrs.get("class") or ""))
        if tokens & ERROR_CLASSES:
            return "error", "class"
        if tokens & SUCCESS_CLASSES:
            return "success", "class"
    if reads_as_error(text):
        return "error", "words"
    if reads_as_success(text):
        return "success", "words"
    return "neutral", ""


def _loading_evidence(node: Node, mirror: Mirror) -> str:
    """Why an element is a loading indicator (aria-busy, progressbar, class+words, class) or "".

    Loading words alone never make one: they only add to a loading class."""
    if node.type != ELEMENT or not node.attrs:
        return ""
    if str(node.attrs.get("aria-busy") or "").lower() == "true":
        return "aria-busy"
    if str(node.attrs.get("role") or "").lower() == "progressbar" and "aria-valuenow" not in node.attrs:
        return "progressbar"  # indeterminate: something is loading (a determinate one shows progress made)
    if node.attrs.get("class") and class_tokens(str(node.attrs["class"])) & LOADING_CLASSES:
        return "class+words" if reads_as_loading(mirror.text_of(node.id, 80)) else "class"
    return ""


class PageReader:
    """Feeds rrweb events through the mirror and collects PageSignals."""

    def __init__(self) -> None:
        self.mirror = Mirror()
        self.signals = PageSignals()
        self.open_loads: dict[int, Loading] = {}
        self.invalid_now: set[int] = set()
        self.gone: set[str] = set()

    # -- loading -------------------------------------------------------------------------------------------
    def _watch_loading(self, node_ids: list[int], ts: int, *, at_page_load: bool = False) -> None:
        """Start a Loading for every new visible indicator among these elements (or their text's element)."""
        for node_id in node_ids:
            element = self.mirror.element_of(node_id)
            if element is None or element.id in self.open_loads:
                continue
            evidence = _loading_evidence(element, self.mirror)
            if not evidence or not self.mirror.visible(element.id):
                continue
            label = self.mirror.text_of(element.id, 60) or str(element.attrs.get("aria-label") or "") or evidence
            self.open_loads[element.id] = Loading(ts, None, label, evidence, self.mirror.top_of(element.id),
                                                  at_page_load=at_page_load)

    def _end_loading(self, ts: int, reason: str) -> None:
        """Close indicators that are gone, hidden or no longer busy."""
        for node_id, load in list(self.open_loads.items()):
            node = self.mirror.nodes.get(node_id)
            gone = node is None
            if not gone and load.evidence == "aria-busy" and str(node.attrs.get("aria-busy") or "").lower() != "true":
                gone = True
            if not gone and not _loading_evidence(node, self.mirror):
                gone = True
            if not gone and not self.mirror.visible(node_id):
                load.end_ms, load.ended_by = ts, "hidden"
                self.signals.loading.append(self.open_loads.pop(node_id))
                continue
            if gone:
                load.end_ms, load.ended_by = ts, reason
                self.signals.loading.append(self.open_loads.pop(node_id))

    # -- events --------------------------------------------------------------------------------------------
    def feed(self, event: dict[str, Any]) -> None:
        """Apply one rrweb event."""
        ts = int(event.get("timestamp") or 0)
        kind = event.get("type")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if kind == META:
            self.signals.loads.append(ts)
            if data.get("href"):
                self.signals.hrefs.append((ts, str(data["href"])))
            return
        if kind == FULL_SNAPSHOT and isinstance(data.get("node"), dict):
            self.signals.loads.append(ts)
            for load in self.open_loads.values():
                load.end_ms, load.ended_by = ts, "page_load"
                self.signals.loading.append(load)
            self.open_loads.clear()
            self.invalid_now.clear()
            self.mirror.reset(data["node"])
            self._watch_loading([n.id for n in self.mirror.nodes.values() if n.type == ELEMENT and n.attrs], ts,
                                at_page_load=True)
            return
        if kind != INCREMENTAL:
            return
        source = data.get("source")
        if source == SRC_MUTATION:
            self._mutation(ts, data)
        elif source in (SRC_SCROLL, SRC_SELECTION):
            self.signals.scrolls.append(ts)
        elif source == SRC_INTERACTION and data.get("type") == CLICK:
            self._click(ts, data)

    def _click(self, ts: int, data: dict[str, Any]) -> None:
        """Record a click with its control's name and form."""
        node_id = int(data.get("id") or 0)
        control = self.mirror.control_of(node_id)
        tag = control.tag if control is not None else ""
        name = self.mirror.name_of(control) if control is not None else ""
        self.signals.clicks.append(PageClick(
            ts, float(data.get("x") or 0), float(data.get("y") or 0), node_id, tag, name,
            self.mirror.form_of(node_id), self.mirror.top_of(node_id)))

    def _mutation(self, ts: int, data: dict[str, Any]) -> None:
        """Apply a mutation and note what it showed."""
        mirror = self.mirror
        if data.get("adds") or data.get("removes") or data.get("texts") or data.get("attributes"):
            self.signals.mutations.append(ts)
        # What was on screen before this change: the same text put back (a re-rendered list) is not news.
        self.gone = set()
        for removal in data.get("removes") or []:
            if isinstance(removal, dict) and isinstance(removal.get("id"), int):
                self._remember_texts(removal["id"])
                mirror.remove(removal["id"])
        shown: list[int] = []
        added: list[int] = []
        for add in data.get("adds") or []:
            if not isinstance(add, dict) or not isinstance(add.get("node"), dict):
                continue
            parent = add.get("parentId")
            next_id = add.get("nextId")
            new_ids = mirror.add(add["node"], parent if isinstance(parent, int) else None,
                                 next_id if isinstance(next_id, int) else None)
            added += new_ids
            if new_ids:
                shown.append(new_ids[0])
        for change in data.get("texts") or []:
            if isinstance(change, dict) and isinstance(change.get("id"), int):
                node = mirror.nodes.get(change["id"])
                if node is not None and node.text != str(change.get("value") or ""):
                    self._remember_texts(node.id)
                    node.text = str(change.get("value") or "")
                    shown.append(node.id)
        for change in data.get("attributes") or []:
            if not isinstance(change, dict) or not isinstance(change.get("id"), int):
                continue
            node = mirror.nodes.get(change["id"])
            if node is None or not isinstance(change.get("attributes"), dict):
                continue
            was_visible = mirror.visible(node.id)
            for key, value in change["attributes"].items():
                if value is None:
                    node.attrs.pop(key, None)
                else:
                    node.attrs[key] = value if not isinstance(value, dict) else " ".join(
                        f"{k}:{v}" for k, v in value.items() if v is not False)
            keys = set(change["attributes"])
            if keys & {"hidden", "style", "aria-hidden", "class", "open"} and not was_visible and mirror.visible(node.id):
                shown.append(node.id)
            if "aria-invalid" in keys or ("class" in keys and node.tag in FIELD_TAGS):
                self._invalid_changed(ts, node)
            if keys & {"aria-busy", "role", "class"}:
                added.append(node.id)
        self._end_loading(ts, "removed")
        self._watch_loading(added, ts)
        self._texts(ts, shown)

    def _remember_texts(self, node_id: int) -> None:
        """Note the visible texts under a node about to go (each text and its element's whole text)."""
        mirror = self.mirror
        if node_id not in mirror.nodes or not mirror.visible(node_id):
            return
        for node in mirror.subtree(node_id, cap=2000):
            if node.type == TEXT and node.text.strip():
                self.gone.add(_collapse(node.text))
                if node.parent is not None:
                    for holder in mirror.ancestors(node.parent, limit=3):
                        self.gone.add(mirror.text_of(holder.id, MAX_TEXT + 1))

    def _invalid_changed(self, ts: int, node: Node) -> None:
        """A field was marked invalid (aria-invalid, or an invalid/error class on the field): note it and its message."""
        if not _marked_invalid(node):
            self.invalid_now.discard(node.id)
            return
        if node.id in self.invalid_now:
            return
        self.invalid_now.add(node.id)
        message = ""
        for key in ("aria-errormessage", "aria-describedby"):
            if node.attrs.get(key):
                message = " ".join(self.mirror.text_of(n.id, 120) for n in self.mirror.by_html_id(node.attrs[key]))
                if message.strip():
                    break
        if not message.strip():
            message = self._feedback_near(node)
        self.signals.invalid.append(FieldInvalid(ts, self.mirror.field_name(node), _collapse(message, 160),
                                                 self.mirror.form_of(node.id), node.id))

    def _feedback_near(self, node: Node) -> str:
        """The error message next to a field: a sibling (or the wrapper's sibling) with an error or invalid class."""
        mirror = self.mirror
        for holder in mirror.ancestors(node.id, limit=3)[1:]:
            for child_id in holder.children:
                child = mirror.nodes.get(child_id)
                if child is not None and child.id != node.id and child.type == ELEMENT \
                        and class_tokens(str(child.attrs.get("class") or "")) & ERROR_CLASSES:
                    text = mirror.text_of(child.id, 160)
                    if text:
                        return text
        return ""

    def _texts(self, ts: int, node_ids: list[int]) -> None:
        """Texts shown by these nodes: messages in regions always; small inline texts; never whole views."""
        mirror = self.mirror
        seen: set[int] = set()
        # Many texts shown at once (a list of cards, a new view) are content; only their message regions count.
        budget, view = VIEW_TEXT_NODES + 1, False
        for node_id in node_ids:
            budget -= mirror.text_nodes_under(node_id, budget)
            if budget <= 0:
                view = True
                break
        for node_id in node_ids:
            node = mirror.nodes.get(node_id)
            if node is None or not mirror.visible(node_id):
                continue
            region, where = _region(mirror, node_id)
            if region is not None and where != "dialog":
                if region.id not in seen:
                    seen.add(region.id)
                    self._note(ts, region, where)
                continue
            if view:
                for inner in mirror.subtree(node_id):
                    kind = _region_kind(inner)
                    if kind and kind != "dialog" and inner.id not in seen and mirror.visible(inner.id):
                        seen.add(inner.id)
                        self._note(ts, inner, kind)
                continue
            # An inline text: its element when that is a small message, else just the text that changed.
            element = node if node.type == ELEMENT else mirror.element_of(node_id)
            if element is None or element.tag in ("body", "html") or len(mirror.text_of(element.id, 1000)) > MAX_TEXT:
                element = node
            if element.id not in seen:
                seen.add(element.id)
                # In a dialog the text is said to be there; a dialog is a container, its messages are its parts.
                self._note(ts, element, where if where == "dialog" else "")

    def _note(self, ts: int, holder: Node, where: str) -> None:
        """Record the text of a holder (region, element or text node) if it says something short."""
        text = self.mirror.text_of(holder.id, MAX_TEXT + 1)
        if len(text) < 2 or len(text) > MAX_TEXT or reads_as_loading(text):
            return
        if where not in ("alert", "status", "toast") and text in self.gone:
            return  # re-rendered content; a region announcing the same words again is a new announcement
        self.signals.texts.append(TextShown(ts, text, where or "", "", "", self.mirror.form_of(holder.id),
                                            self.mirror.top_of(holder.id), holder.id))

    def finish(self) -> PageSignals:
        """Close what is still open and settle each text's place and tone."""
        for load in self.open_loads.values():
            self.signals.loading.append(load)
        self.open_loads.clear()
        self.signals.loading.sort(key=lambda load: load.start_ms)
        return self.signals


def read_page(rrweb_events: list[dict[str, Any]]) -> PageSignals:
    """PageSignals of a recording (events in any order; the windows of several tabs are read in time order)."""
    reader = PageReader()
    classify: list[tuple[TextShown, str, str]] = []
    for event in sorted(rrweb_events, key=lambda e: e.get("timestamp") or 0):
        before = len(reader.signals.texts)
        reader.feed(event)
        for i in range(before, len(reader.signals.texts)):
            shown = reader.signals.texts[i]
            node_id = shown.node
            place = shown.where or ""
            if not place:
                # Settled now, while the node is in the mirror; widgets are told apart once all clicks are known.
                place = _place(reader.mirror, node_id, set())
                place = "?" + place
            tone, tone_from = _tone(reader.mirror, node_id, place.lstrip("?"), shown.text)
            classify.append((shown, place, f"{tone}|{tone_from}"))
    signals = reader.finish()
    tops = signals.app_tops()
    settled = []
    for shown, place, tone in classify:
        where = place
        if place.startswith("?"):
            where = place[1:]
            if tops and shown.top and shown.top not in tops and where in ("page", "list"):
                where = "widget"
        tone_value, tone_from = tone.split("|")
        settled.append(TextShown(shown.timestamp_ms, shown.text, where, tone_value, tone_from, shown.form,
                                 shown.top, shown.node))
    signals.texts = settled
    return signals
