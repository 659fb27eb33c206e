"""Faults the CRM can inject into one browser session, chosen by the `crm_faults` cookie.

A cookie value is a dot-separated list of `name` or `name:arg:arg` items, e.g. `save_fails:1.widget_noise` or
`slow_view:angebote:40`; unknown names are ignored. The arguments say how a fault plays out (how many saves fail,
which view is slow and for how long), so one fault name covers the variants a journey needs.
"""
from __future__ import annotations

from http.cookies import SimpleCookie

FAULT_COOKIE = "crm_faults"

SAVE_FAILS = "save_fails"
"""Saving a record answers 500; `save_fails:N` fails only the session's first N saves, plain `save_fails` every one."""
DEAD_ICON_BUTTON = "dead_icon_button"
"""The icon-only toolbar actions (PDF export of a quote, archiving a ticket) do nothing; the "⋯" menu still works."""
SLOW_VIEW = "slow_view"
"""`slow_view:<view>:<seconds>`: one view's data (kunden, kunde, angebote, tickets) takes that long to arrive."""
INVALID_FIELD = "invalid_field"
"""A strict check rejects a VAT ID (server, 422) or an IBAN (in the page) written with spaces."""
WIDGET_NOISE = "widget_noise"
"""The third-party tips widget throws uncaught TypeErrors on a timer; nothing visible changes."""
RETRIED_REQUEST = "retried_request"
"""The notifications API answers 503 to each first attempt; the page retries it within a second."""

ALL_FAULTS = (SAVE_FAILS, DEAD_ICON_BUTTON, SLOW_VIEW, INVALID_FIELD, WIDGET_NOISE, RETRIED_REQUEST)
SLOW_VIEWS = ("kunden", "kunde", "angebote", "tickets")


def parse_faults(value: str | None) -> dict[str, tuple[str, ...]]:
    """Known fault names in a cookie value, each with its arguments."""
    faults: dict[str, tuple[str, ...]] = {}
    for item in (value or "").replace(",", ".").split("."):
        name, *args = item.strip().split(":")
        if name in ALL_FAULTS:
            faults[name] = tuple(args)
    return faults


def faults_from_cookie_header(header: str | None) -> dict[str, tuple[str, ...]]:
    """The faults set for a request by its Cookie header."""
    if not header:
        return {}
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed cookie from a browser must not break the app
        return {}
    morsel = cookie.get(FAULT_COOKIE)
    return parse_faults(morsel.value if morsel else None)


def cookie_value(faults: dict[str, tuple[str, ...]]) -> str:
    """The cookie value that selects these faults with their arguments."""
    return ".".join(":".join((name, *args)) for name, args in sorted(faults.items()) if name in ALL_FAULTS)
