"""Hand-made rrweb recordings: a page as a FullSnapshot, and the incremental events that change it.

Writing the events directly (instead of recording a browser) gives exact timestamps and node ids, so a
test can say "the mutation at t=1.5 s" and a benchmark can build a page that changes sharply every second.
"""
from __future__ import annotations

from dataclasses import dataclass, field

META, FULL_SNAPSHOT, INCREMENTAL = 4, 2, 3
MUTATION, MOUSE_MOVE, MOUSE_INTERACTION, SCROLL = 0, 1, 2, 3
CLICK = 2


def el(tag: str, attrs: dict[str, str] | None = None, *children: dict, key: str = "") -> dict:
    """An element (children are el()/text() results); `key` names it for Page.ids."""
    return {"tag": tag, "attrs": dict(attrs or {}), "children": list(children), "key": key}


def text(value: str, key: str = "") -> dict:
    """A text node."""
    return {"text": value, "key": key}


@dataclass
class Page:
    """One page load: its Meta and FullSnapshot events, and the node ids of the keyed nodes."""

    events: list[dict]
    ids: dict[str, int] = field(default_factory=dict)
    next_id: int = 1

    def serialize(self, node: dict, *, in_style: bool = False) -> dict:
        """The rrweb-snapshot form of a node tree, with fresh ids (keys recorded in `ids`)."""
        node_id, self.next_id = self.next_id, self.next_id + 1
        if node.get("key"):
            self.ids[node["key"]] = node_id
        if "text" in node:
            return {"type": 3, "textContent": node["text"], "id": node_id, **({"isStyle": True} if in_style else {})}
        children = [self.serialize(child, in_style=node["tag"] == "style") for child in node["children"]]
        return {"type": 2, "tagName": node["tag"], "attributes": node["attrs"], "childNodes": children, "id": node_id}

    def add(self, t: int, parent: str, node: dict) -> dict:
        """A mutation appending `node` to the keyed parent."""
        return mutation(t, adds=[{"parentId": self.ids[parent], "nextId": None, "node": self.serialize(node)}])


def page(t: int, href: str, size: tuple[int, int], head: list[dict], body: dict, scroll_y: int = 0) -> Page:
    """A page loaded at `t`: Meta, then the FullSnapshot 10 ms later (scrolled to `scroll_y` when taken)."""
    built = Page(events=[], next_id=3)  # 1 and 2: the document and its doctype
    doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2}
    html = built.serialize(el("html", {}, el("head", {}, *head), body))
    document = {"type": 0, "childNodes": [doctype, html], "id": 1}
    built.events = [
        {"type": META, "data": {"href": href, "width": size[0], "height": size[1]}, "timestamp": t},
        {"type": FULL_SNAPSHOT, "data": {"node": document, "initialOffset": {"top": scroll_y, "left": 0}},
         "timestamp": t + 10},
    ]
    return built


def mutation(t: int, *, texts: list | None = None, attributes: list | None = None, adds: list | None = None,
             removes: list | None = None) -> dict:
    """An rrweb Mutation event."""
    data = {"source": MUTATION, "texts": texts or [], "attributes": attributes or [], "adds": adds or [],
            "removes": removes or []}
    return {"type": INCREMENTAL, "data": data, "timestamp": t}


def set_attributes(t: int, node_id: int, **attrs: str) -> dict:
    """A mutation setting attributes of one node (`class_` for class)."""
    return mutation(t, attributes=[{"id": node_id, "attributes": {k.rstrip("_"): v for k, v in attrs.items()}}])


def set_text(t: int, node_id: int, value: str) -> dict:
    """A mutation replacing a text node's content."""
    return mutation(t, texts=[{"id": node_id, "value": value}])


def mouse_move(t: int, x: int, y: int, node_id: int) -> dict:
    """The pointer at (x, y) over a node."""
    return {"type": INCREMENTAL, "timestamp": t,
            "data": {"source": MOUSE_MOVE, "positions": [{"x": x, "y": y, "id": node_id, "timeOffset": 0}]}}


def click(t: int, x: int, y: int, node_id: int) -> dict:
    """A click at (x, y) on a node."""
    return {"type": INCREMENTAL, "timestamp": t,
            "data": {"source": MOUSE_INTERACTION, "type": CLICK, "id": node_id, "x": x, "y": y}}


def scroll(t: int, node_id: int, y: int) -> dict:
    """A scroll of a node (the document's id scrolls the page) to `y`."""
    return {"type": INCREMENTAL, "timestamp": t, "data": {"source": SCROLL, "id": node_id, "x": 0, "y": y}}
