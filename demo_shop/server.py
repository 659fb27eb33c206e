"""The shop's HTTP server: pages, static assets, posthog-js, and a JSON API that injects the session's faults."""
from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo_common.web import DemoHandler, DemoServer
from demo_shop import catalog
from demo_shop.faults import (
    CONFUSING_VALIDATION,
    DEAD_BUTTON,
    PAYMENT_500,
    RETRIED_API,
    SLOW_PAGE,
    WIDGET_EXCEPTION,
    faults_from_cookie_header,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
REPO_ROOT = Path(__file__).resolve().parent.parent
POSTHOG_BUNDLE = REPO_ROOT / "node_modules" / "posthog-js" / "dist" / "array.full.js"

# Pages are plain HTML files; the path decides which one, the page's script reads the rest of the URL.
PAGES = {
    "": "index.html",
    "search": "listing.html",
    "category": "listing.html",
    "product": "product.html",
    "cart": "cart.html",
    "checkout": "checkout.html",
    "order": "order.html",
    "account": "account.html",
}

# Faults the page's own script must know about (the rest happen on the server).
CLIENT_FAULTS = {DEAD_BUTTON, CONFUSING_VALIDATION}


@dataclass
class ShopConfig:
    """Where the shop sends analytics, and how slow a slow page is."""

    posthog_host: str
    posthog_token: str
    slow_seconds: tuple[float, float] = (5.0, 8.0)
    retry_fail_status: int = 503
    default_faults: frozenset[str] = field(default_factory=frozenset)


def render_page(name: str) -> bytes:
    """A page's HTML with the shared header and scripts put in."""
    html = (STATIC_DIR / name).read_text()
    html = html.replace("<!--HEADER-->", (STATIC_DIR / "_header.html").read_text())
    html = html.replace("<!--SCRIPTS-->", (STATIC_DIR / "_scripts.html").read_text())
    return html.encode()


class ShopHandler(DemoHandler):
    """Serves one request of the shop."""

    server: ShopServer

    # -- plumbing ---------------------------------------------------------------------------------------------
    @property
    def faults(self) -> frozenset[str]:
        """Faults chosen for this browser session (cookie), or the server's defaults."""
        return faults_from_cookie_header(self.headers.get("Cookie")) or self.server.config.default_faults

    # -- routing ----------------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        """Pages, assets and read-only API calls."""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        head = parts[0] if parts else ""
        if head == "api":
            self.api_get(parts[1:], query)
        elif head == "static" and len(parts) == 2:
            self.send_file(STATIC_DIR / Path(parts[1]).name)
        elif url.path == "/vendor/posthog.js":
            self.send_file(POSTHOG_BUNDLE)
        elif url.path == "/shop-config.js":
            self.shop_config_script()
        elif url.path == "/widgets/chat.js":
            self.chat_widget_script()
        elif url.path == "/favicon.ico":
            self.send_body(204, b"", "image/x-icon", cache=True)
        elif head in PAGES:
            self.send_body(200, render_page(PAGES[head]), "text/html; charset=utf-8")
        else:
            self.send_body(404, render_page("404.html"), "text/html; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        """API calls that change something."""
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        body = self.read_json()
        if parts == ["api", "checkout", "pay"]:
            self.pay(body)
        elif parts == ["api", "account", "login"]:
            email = str(body.get("email", "")).strip()
            if "@" not in email or not body.get("password"):
                self.send_json(400, {"error": "Enter your email address and password."})
            else:
                self.send_json(200, {"email": email, "name": email.split("@")[0].title()})
        elif parts == ["api", "account", "address"]:
            self.send_json(200, {"saved": True})
        elif parts == ["api", "newsletter"]:
            self.send_json(200, {"subscribed": True})
        else:
            self.send_json(404, {"error": "not found"})

    # -- API --------------------------------------------------------------------------------------------------
    def api_get(self, parts: list[str], query: dict[str, str]) -> None:
        """Read-only JSON API."""
        if parts == ["products"]:
            self.maybe_slow()
            products = catalog.in_category(query.get("category", ""))
            self.send_json(200, {"results": [p.as_json() for p in products], "categories": catalog.CATEGORIES})
        elif len(parts) == 2 and parts[0] == "products":
            product = catalog.BY_ID.get(int(parts[1])) if parts[1].isdigit() else None
            if product is None:
                self.send_json(404, {"error": "This product does not exist."})
            else:
                self.send_json(200, product.as_json())
        elif parts == ["search"]:
            self.maybe_slow()
            q = query.get("q", "")
            self.send_json(200, {"query": q, "results": [p.as_json() for p in catalog.search(q)]})
        elif parts == ["recommendations"]:
            # The first attempt of each page load fails; the page retries on its own a moment later.
            if RETRIED_API in self.faults and query.get("attempt", "1") == "1":
                self.send_json(self.server.config.retry_fail_status, {"error": "temporarily unavailable"})
                return
            seed = int(query.get("seed", "0") or 0)
            self.send_json(200, {"results": [p.as_json() for p in catalog.recommendations(seed)]})
        else:
            self.send_json(404, {"error": "not found"})

    def maybe_slow(self) -> None:
        """Hold a listing request for several seconds when the session has the slow_page fault."""
        if SLOW_PAGE in self.faults:
            low, high = self.server.config.slow_seconds
            time.sleep(random.uniform(low, high))

    def pay(self, body: dict) -> None:
        """Take a payment, or fail with 500 when the session has the payment_500 fault."""
        items = body.get("items") or []
        if not isinstance(items, list) or not items:
            self.send_json(400, {"error": "Your cart is empty."})
            return
        time.sleep(random.uniform(0.6, 1.4))  # the payment provider takes a moment
        if PAYMENT_500 in self.faults:
            self.send_json(500, {"error": "payment_provider_error", "detail": "upstream gateway timeout"})
            return
        order_id = uuid.uuid4().hex[:8].upper()
        self.send_json(200, {"order_id": order_id, "status": "paid"})

    # -- generated scripts ------------------------------------------------------------------------------------
    def shop_config_script(self) -> None:
        """Tell the page where analytics go and which client-side faults are on."""
        config = self.server.config
        payload = {
            "posthogHost": config.posthog_host,
            "posthogToken": config.posthog_token,
            "faults": sorted(self.faults & CLIENT_FAULTS),
        }
        self.send_body(200, f"window.SHOP = {json.dumps(payload)};\n".encode(), "text/javascript; charset=utf-8")

    def chat_widget_script(self) -> None:
        """The third-party chat widget; the broken build throws on load and on a timer."""
        source = (STATIC_DIR / "chat-widget.js").read_text()
        source = source.replace("__WIDGET_BUILD__", "broken" if WIDGET_EXCEPTION in self.faults else "stable")
        self.send_body(200, source.encode(), "text/javascript; charset=utf-8")


class ShopServer(DemoServer):
    """The shop, listening on one port."""

    def __init__(self, address: tuple[str, int], config: ShopConfig) -> None:
        """Bind the shop to an address with its config."""
        super().__init__(address, ShopHandler)
        self.config = config


def start_in_thread(config: ShopConfig, host: str = "127.0.0.1", port: int = 0) -> ShopServer:
    """Start the shop on a background thread (port 0 picks a free port); stop it with .shutdown()."""
    return ShopServer((host, port), config).start_in_thread("demo-shop")
