"""Builders of realistic posthog-js-shaped sessions (analytics events + rrweb recording) for summary tests.

Events follow what posthog-js 1.4xx sends ($pageview, $autocapture with $elements, $exception with
$exception_list, $rageclick, $dead_click, custom events); the recording carries rrweb snapshots, mouse
activity, clicks on real node ids, DOM mutations and `rrweb/network@1` request timings.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from summaries.analysis.events import InputEvent

START_MS = 1_763_900_000_000
HOST = "https://shop.test"


@dataclass
class SessionBuilder:
    """A session written action by action, in seconds from its start."""

    session_id: str = field(default_factory=lambda: f"sess-{uuid.uuid4().hex[:12]}")
    window_id: str = "win-1"
    start_ms: int = START_MS
    events: list[dict[str, Any]] = field(default_factory=list)
    rrweb: list[dict[str, Any]] = field(default_factory=list)
    path: str = "/"
    _next_node: int = 100
    _seq: int = 0

    def ms(self, t: float) -> int:
        """Epoch ms of t seconds into the session."""
        return self.start_ms + int(round(t * 1000))

    def _event(self, t: float, name: str, **props: Any) -> dict[str, Any]:
        self._seq += 1
        event = {
            "uuid": str(uuid.UUID(int=(hash((self.session_id, self._seq)) & (2**122 - 1)) | (4 << 76))),
            "timestamp": self.ms(t),
            "name": name,
            "window_id": self.window_id,
            "current_url": HOST + self.path,
            "properties": {"$session_id": self.session_id, "$window_id": self.window_id,
                           "$current_url": HOST + self.path, "$pathname": self.path, "$lib": "web",
                           "$browser": "Chrome", **props},
        }
        self.events.append(event)
        return event

    def _node(self) -> int:
        self._next_node += 1
        return self._next_node

    def _move(self, t: float, x: float, y: float) -> None:
        self.rrweb.append({"type": 3, "timestamp": self.ms(t) - 300, "data": {"source": 1, "positions": [
            {"x": x - 40, "y": y - 20, "id": 1, "timeOffset": -200}, {"x": x, "y": y, "id": 1, "timeOffset": 0}]}})

    def _mutate(self, t: float, text: str = "2 items") -> None:
        self.rrweb.append({"type": 3, "timestamp": self.ms(t), "data": {"source": 0, "texts": [], "attributes": [],
                           "removes": [], "adds": [{"parentId": 5, "nextId": None, "node": {
                               "type": 3, "textContent": text, "id": self._node()}}]}})

    def _add(self, t: float, node: dict[str, Any], parent: int = 5) -> None:
        """A DOM mutation adding a serialized node under a parent."""
        self.rrweb.append({"type": 3, "timestamp": self.ms(t), "data": {"source": 0, "texts": [], "attributes": [],
                           "removes": [], "adds": [{"parentId": parent, "nextId": None, "node": node}]}})

    def _element(self, tag: str, attributes: dict[str, Any], text: str = "", children: list | None = None) -> dict:
        """A serialized element with a text child."""
        kids = [{"type": 3, "textContent": text, "id": self._node()}] if text else []
        return {"type": 2, "tagName": tag, "id": self._node(), "attributes": attributes,
                "childNodes": kids + (children or [])}

    def message(self, t: float, text: str, **attributes: Any) -> int:
        """Text appearing on the page (a banner, a toast): a DOM mutation adding an element with the text."""
        node = self._element("div", attributes or {"class": "banner"}, text)
        self._add(t, node)
        return node["id"]

    def announce(self, t: float, text: str, role: str = "status") -> None:
        """A message announced in an ARIA live region (role=status for news, role=alert for errors)."""
        self._add(t, self._element("div", {"role": role, "class": "toast"}, text))

    def remove(self, t: float, node: int) -> None:
        """A DOM node taken away."""
        self.rrweb.append({"type": 3, "timestamp": self.ms(t), "data": {"source": 0, "texts": [], "attributes": [],
                           "adds": [], "removes": [{"parentId": 5, "id": node}]}})

    def busy(self, t: float, seconds: float | None, text: str = "Wird geladen…") -> None:
        """A view marked aria-busy with a progressbar; cleared after `seconds` (None: never)."""
        holder = self._element("section", {"aria-busy": "true"}, children=[
            self._element("div", {"role": "progressbar", "class": "spinner"}, text)])
        self._add(t, holder)
        if seconds is not None:
            self.remove(t + seconds, holder["id"])
            self._add(t + seconds, self._element("table", {}, children=[
                self._element("tr", {}, children=[self._element("td", {}, f"Zeile {i}")]) for i in range(15)]))

    def badges(self, t: float, texts: list[str]) -> None:
        """A freshly rendered list whose rows carry status badges."""
        rows = [self._element("tr", {}, children=[self._element("td", {}, f"Kunde {i}"),
                                                  self._element("td", {}, children=[
                                                      self._element("span", {"class": "badge"}, badge)])])
                for i, badge in enumerate(texts)]
        self._add(t, self._element("table", {"class": "list"}, children=rows))

    def widget_tip(self, t: float, text: str) -> None:
        """A third-party help widget showing a tip in its own corner of the page."""
        self._add(t, self._element("div", {"id": "helpwidget-root", "class": "hw-bubble"}, text))

    def invalid(self, t: float, label: str, message: str) -> None:
        """A form field marked aria-invalid with a message linked by aria-describedby."""
        field, note = self._node(), f"err-{self._node()}"
        self._add(t - 0.05, {"type": 2, "tagName": "input", "id": field, "attributes": {"name": label, "type": "text"},
                             "childNodes": []})
        self._add(t, self._element("p", {"id": note, "class": "hint"}, message))
        self.rrweb.append({"type": 3, "timestamp": self.ms(t) + 1, "data": {"source": 0, "texts": [], "adds": [],
                           "removes": [], "attributes": [{"id": field, "attributes": {
                               "aria-invalid": "true", "aria-describedby": note}}]}})

    def spa_view(self, t: float, path: str, title: str = "") -> "SessionBuilder":
        """Client-side navigation: a $pageview, no new snapshot (the single-page app re-renders itself)."""
        self.path = path
        self._event(t, "$pageview", **({"title": title} if title else {}))
        return self

    def loading(self, t: float, seconds: float, text: str = "Loading products…") -> None:
        """A loading indicator added at t and replaced by content `seconds` later."""
        holder, label = self._node(), self._node()
        self.rrweb.append({"type": 3, "timestamp": self.ms(t), "data": {"source": 0, "texts": [], "attributes": [],
                           "removes": [], "adds": [{"parentId": 5, "nextId": None, "node": {
                               "type": 2, "tagName": "div", "id": holder, "attributes": {"class": "spinner"},
                               "childNodes": [{"type": 3, "textContent": text, "id": label}]}}]}})
        self.rrweb.append({"type": 3, "timestamp": self.ms(t + seconds), "data": {"source": 0, "texts": [],
                           "attributes": [], "adds": [], "removes": [{"parentId": 5, "id": holder}]}})

    def pageview(self, t: float, path: str, title: str = "") -> "SessionBuilder":
        """Open a page: a $pageview and a fresh rrweb Meta + FullSnapshot."""
        self.path = path
        props = {"title": title} if title else {}
        self._event(t, "$pageview", **props)
        self.rrweb.append({"type": 4, "timestamp": self.ms(t), "data": {"href": HOST + path, "width": 1280, "height": 800}})
        self.rrweb.append({"type": 2, "timestamp": self.ms(t), "data": {"node": {"type": 0, "id": 1, "childNodes": [
            {"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [
                {"type": 2, "id": 5, "tagName": "body", "attributes": {}, "childNodes": []}]}]}}})
        return self

    def click(self, t: float, text: str, *, tag: str = "button", href: str = "", mutate: bool = True,
              x: float = 400, y: float = 300, autocapture: bool = True, event_type: str = "click",
              attrs: dict[str, str] | None = None) -> int:
        """A click: autocapture event, mouse movement, rrweb click on a node, and a DOM change unless dead."""
        node = self._node()
        attributes = dict(attrs or {}, **({"href": href} if href else {}))
        self.rrweb.append({"type": 3, "timestamp": self.ms(t) - 1, "data": {"source": 0, "texts": [], "attributes": [],
                           "removes": [], "adds": [{"parentId": 5, "nextId": None, "node": {
                               "type": 2, "tagName": tag, "id": node, "attributes": attributes,
                               "childNodes": [{"type": 3, "textContent": text, "id": self._node()}]}}]}})
        self._move(t, x, y)
        self.rrweb.append({"type": 3, "timestamp": self.ms(t), "data": {"source": 2, "type": 2, "id": node, "x": x, "y": y}})
        if mutate:
            self._mutate(t + 0.3)
        if autocapture:
            element = {"tag_name": tag, "$el_text": text, "attr__class": "btn", "nth_child": 1, "nth_of_type": 1}
            element.update({f"attr__{k}": v for k, v in (attrs or {}).items()})
            if href:
                element["attr__href"] = href
            self._event(t, "$autocapture", **{"$event_type": event_type, "$elements": [
                element, {"tag_name": "div", "attr__class": "content"}, {"tag_name": "body"}]})
        return node

    def submit(self, t: float, text: str = "form") -> None:
        """A form submit autocapture event."""
        self._move(t, 420, 320)
        self._event(t, "$autocapture", **{"$event_type": "submit", "$elements": [
            {"tag_name": "form", "$el_text": text, "attr__id": "checkout-form"}, {"tag_name": "body"}]})

    def type_into(self, t: float, label: str) -> None:
        """Typing in an input: rrweb input events and an autocapture change."""
        for i in range(3):
            self.rrweb.append({"type": 3, "timestamp": self.ms(t) + i * 150, "data": {"source": 5, "text": "***",
                                                                                   "isChecked": False, "id": 7}})
        self._event(t + 0.5, "$autocapture", **{"$event_type": "change", "$elements": [
            {"tag_name": "input", "attr__name": label, "attr__type": "text"}, {"tag_name": "form"}]})

    def scroll(self, t: float) -> None:
        """Some scrolling (user activity)."""
        self.rrweb.append({"type": 3, "timestamp": self.ms(t), "data": {"source": 3, "id": 1, "x": 0, "y": 400}})

    def request(self, t: float, method: str, path: str, status: int, duration: float = 120) -> None:
        """A network request recorded by the rrweb network plugin."""
        start = self.ms(t)
        self.rrweb.append({"type": 6, "timestamp": start + int(duration), "data": {"plugin": "rrweb/network@1", "payload": {
            "requests": [{"name": path if path.startswith("http") else HOST + path, "method": method, "status": status, "timestamp": start,
                          "startTime": 1000.0, "endTime": 1000.0 + duration, "initiatorType": "fetch"}]}}})

    def exception(self, t: float, type_: str, value: str, *, frames: int = 2, filename: str = "app.js",
                  function: str = "render") -> None:
        """An uncaught exception as posthog-js captures it."""
        self._event(t, "$exception", **{"$exception_list": [{"type": type_, "value": value, "mechanism": {
            "handled": False, "type": "onerror"}, "stacktrace": {"type": "raw", "frames": [
                {"filename": f"{HOST}/static/{filename}", "function": f"{function}{i}", "lineno": 10 + i}
                for i in range(frames)]}}]})

    def custom(self, t: float, name: str, **props: Any) -> None:
        """A product's own event."""
        self._event(t, name, **props)

    def posthog_signal(self, t: float, name: str, text: str, tag: str = "button") -> None:
        """A $rageclick or $dead_click sent by posthog-js."""
        self._event(t, name, **{"$elements": [{"tag_name": tag, "$el_text": text}, {"tag_name": "body"}]})

    def end(self, t: float) -> "SessionBuilder":
        """Mark the end of the session with a pageleave and a last mouse movement."""
        self._move(t - 0.5, 10, 10)
        self._event(t, "$pageleave")
        return self

    # -- outputs ----------------------------------------------------------------------------------------------
    def input_events(self) -> list[InputEvent]:
        """The events as the analysis sees them."""
        return [InputEvent(e["uuid"], e["timestamp"], e["name"], e["window_id"], e["current_url"], e["properties"])
                for e in self.events]

    def rrweb_events(self) -> list[dict[str, Any]]:
        """The recording, time-ordered."""
        return sorted(self.rrweb, key=lambda e: e["timestamp"])

    def store(self, project) -> Any:
        """Save as Session + Event + RecordingChunk rows of a project; returns the Session."""
        from summaries.models import Event, RecordingChunk, Session, ms_to_datetime

        times = [e["timestamp"] for e in self.events] + [e["timestamp"] for e in self.rrweb]
        session = Session.objects.create(
            project=project, session_id=self.session_id, distinct_id="user-1",
            start_time=ms_to_datetime(min(times)), end_time=ms_to_datetime(max(times)),
            duration_seconds=(max(times) - min(times)) / 1000, event_count=len(self.events),
            first_url=HOST + "/", ingestion_state=Session.IngestionState.COMPLETE,
        )
        Event.objects.bulk_create([
            Event(session=session, uuid=e["uuid"], timestamp=datetime.fromtimestamp(e["timestamp"] / 1000, tz=timezone.utc),
                  name=e["name"], window_id=e["window_id"], current_url=e["current_url"], properties=e["properties"])
            for e in self.events
        ])
        RecordingChunk.store(session, self.window_id, self.rrweb_events())
        return session


def browse(b: SessionBuilder, t: float = 0.0) -> float:
    """A shopper opens the shop, searches and opens a product; returns the time reached."""
    b.pageview(t, "/", "Home")
    b.scroll(t + 2)
    b.click(t + 4, "Running shoes", tag="a", href="/category/running")
    b.pageview(t + 4.5, "/category/running", "Running shoes")
    b.scroll(t + 7)
    b.click(t + 9, "Trail Runner 2", tag="a", href="/product/trail-runner-2")
    b.pageview(t + 9.5, "/product/trail-runner-2", "Trail Runner 2")
    b.click(t + 13, "Add to cart")
    b.request(t + 13.05, "POST", "/api/cart", 200)
    b.custom(t + 13.3, "product_added", product="trail-runner-2")
    b.click(t + 16, "Checkout", tag="a", href="/checkout")
    b.pageview(t + 16.5, "/checkout", "Checkout")
    b.type_into(t + 18, "email")
    b.type_into(t + 21, "card")
    return t + 24


def payment_fails_and_user_leaves() -> SessionBuilder:
    """Payment answers 500 on every attempt; the user gives up: one blocking issue at ~24 s."""
    b = SessionBuilder()
    t = browse(b)
    b.click(t, "Pay now")
    b.request(t + 0.1, "POST", "/api/payment", 500)
    b.exception(t + 0.4, "Error", "Payment request failed: 500 Internal Server Error", function="submitPayment")
    b.click(t + 8, "Pay now")
    b.request(t + 8.1, "POST", "/api/payment", 500)
    b.exception(t + 8.4, "Error", "Payment request failed: 500 Internal Server Error", function="submitPayment")
    b.click(t + 14, "Continue shopping", tag="a", href="/")
    b.pageview(t + 14.5, "/", "Home")
    b.end(t + 20)
    return b


def payment_fails_once_then_works() -> SessionBuilder:
    """Payment fails, the user tries again and it works: a non-blocking issue."""
    b = SessionBuilder()
    t = browse(b)
    b.click(t, "Pay now")
    b.request(t + 0.1, "POST", "/api/payment", 500)
    b.exception(t + 0.4, "Error", "Payment request failed: 500 Internal Server Error", function="submitPayment")
    b.click(t + 7, "Pay now")
    b.request(t + 7.1, "POST", "/api/payment", 200)
    b.pageview(t + 8, "/order/confirmation", "Thank you")
    b.custom(t + 8.2, "order_completed", total=129)
    b.end(t + 14)
    return b


def clean_purchase_with_noise(widget_text: str = "Chat with us") -> SessionBuilder:
    """A successful purchase with background noise: third-party widget errors, an avalanche, an auto-retried call."""
    b = SessionBuilder()
    b.pageview(0, "/", "Home")
    for i in range(12):  # a third-party widget throwing on a timer
        b.exception(1 + i * 2.5, "TypeError", "Cannot read properties of undefined (reading 'config')",
                    filename="widget.vendor.js", function="w")
    t = browse(b, 0.5)
    b.click(6, widget_text, tag="div")
    b.request(t - 3, "GET", "/api/recommendations", 503, duration=40)
    b.request(t - 2.6, "GET", "/api/recommendations", 200)
    b.click(t, "Pay now")
    b.request(t + 0.1, "POST", "/api/payment", 200)
    b.pageview(t + 1, "/order/confirmation", "Thank you")
    b.custom(t + 1.2, "order_completed", total=129)
    b.end(t + 6)
    return b


def dead_button_then_leave() -> SessionBuilder:
    """'Apply coupon' does nothing; the user clicks it several times and leaves: blocking."""
    b = SessionBuilder()
    t = browse(b)
    for i in range(3):
        b.click(t + i * 3, "Apply coupon", mutate=False, x=600, y=420)
    b.posthog_signal(t + 2.5, "$dead_click", "Apply coupon")
    b.end(t + 15)
    return b


def dead_add_to_cart_worked_around() -> SessionBuilder:
    """'Add to cart' is dead; the shopper goes back and uses quick add on the listing, then buys: non-blocking."""
    b = SessionBuilder()
    b.pageview(0, "/", "Home")
    b.click(3, "Kettles", tag="a", href="/category/kettles")
    b.pageview(3.5, "/category/kettles", "Kettles")
    b.click(6, "Copper Kettle", tag="a", href="/product/copper-kettle")
    b.pageview(6.5, "/product/copper-kettle", "Copper Kettle")
    b.click(10, "Add to cart", mutate=False, x=500, y=400)
    b.click(13, "Add to cart", mutate=False, x=502, y=401)
    b.pageview(20, "/category/kettles", "Kettles")
    b.click(23, "+ Add")
    b.request(23.05, "POST", "/api/cart", 200)
    b.click(26, "Cart", tag="a", href="/cart")
    b.pageview(26.5, "/cart", "Cart")
    b.end(32)
    return b


def confusing_validation(gives_up: bool) -> SessionBuilder:
    """Checkout says only 'Please check your details'; the shopper retries, then leaves or finally pays."""
    b = SessionBuilder()
    t = browse(b)
    b.click(t, "Pay now")
    b.submit(t, "Pay now")
    b.message(t + 0.2, "Please check your details.")
    b.click(t + 9, "Pay now")
    b.submit(t + 9, "Pay now")
    b.message(t + 9.2, "Please check your details.")
    if gives_up:
        b.end(t + 20)
        return b
    b.type_into(t + 14, "phone")
    b.click(t + 18, "Pay now")
    b.submit(t + 18, "Pay now")
    b.request(t + 18.1, "POST", "/api/checkout/pay", 200)
    b.pageview(t + 19, "/order/A123", "Order confirmed")
    b.end(t + 25)
    return b
