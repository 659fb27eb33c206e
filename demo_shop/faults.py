"""Faults the shop can inject into one browser session, chosen by the `shop_faults` cookie."""
from __future__ import annotations

from http.cookies import SimpleCookie

FAULT_COOKIE = "shop_faults"

PAYMENT_500 = "payment_500"
"""The payment API answers 500 and the checkout shows a visible error."""
DEAD_BUTTON = "dead_button"
"""The product page's "Add to cart" button does nothing at all (the quick-add buttons on listings still work)."""
CONFUSING_VALIDATION = "confusing_validation"
"""Checkout rejects phone numbers with spaces or a "+" and says only "Please check your details"."""
SLOW_PAGE = "slow_page"
"""Search and category results take several seconds to load."""
WIDGET_EXCEPTION = "widget_exception"
"""The third-party chat widget throws uncaught exceptions; nothing visible changes."""
RETRIED_API = "retried_api"
"""The recommendations API fails once per page load and the page retries it automatically."""

ALL_FAULTS = (PAYMENT_500, DEAD_BUTTON, CONFUSING_VALIDATION, SLOW_PAGE, WIDGET_EXCEPTION, RETRIED_API)


def parse_faults(value: str | None) -> frozenset[str]:
    """Known fault names in a comma- or dot-separated list; unknown names are ignored."""
    if not value:
        return frozenset()
    parts = value.replace(",", ".").split(".")
    return frozenset(p.strip() for p in parts if p.strip() in ALL_FAULTS)


def faults_from_cookie_header(header: str | None) -> frozenset[str]:
    """The faults set for a request by its Cookie header."""
    if not header:
        return frozenset()
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed cookie from a browser must not break the shop
        return frozenset()
    morsel = cookie.get(FAULT_COOKIE)
    return parse_faults(morsel.value if morsel else None)


def cookie_value(faults: frozenset[str] | set[str] | list[str]) -> str:
    """The cookie value that selects these faults (dot-separated, cookie-safe)."""
    return ".".join(sorted(f for f in faults if f in ALL_FAULTS))
