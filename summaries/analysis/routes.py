"""Route templates: a page or request URL with its ids masked, so `/orders/1024` and `/orders/77` are one route."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

ID = ":id"
UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
HEX = re.compile(r"^[0-9a-f]{8,}$", re.IGNORECASE)
# A segment that carries a number and is long enough to be a key ("ord_8f3k2", "2024-11-30", "a1b2c3"),
# not a word with a digit in it ("v2", "b2b", "2fa").
KEYISH = re.compile(r"^(?=.*\d)[\w.~-]{4,}$")


def is_id_segment(segment: str) -> bool:
    """True when a path segment is a record's id rather than a name of the route."""
    return segment.isdigit() or bool(UUID.match(segment) or HEX.match(segment) or KEYISH.match(segment))


def route_path(url: str) -> str:
    """The path a URL routes on: its path, or the fragment of a hash-routed app (`/#/deals/12`)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0]
    path = parts.path or "/"
    if parts.fragment.startswith("/"):
        path = parts.fragment.split("?", 1)[0]
    return path


def route_template(url: str) -> str:
    """The URL's route with ids masked: `https://a.test/kunden/1024/edit?x=1` -> `/kunden/:id/edit`."""
    path = route_path(url)
    if not path:
        return ""
    segments = [ID if is_id_segment(s) else s for s in path.split("/")]
    template = "/".join(segments)
    return template if template.startswith("/") else "/" + template


def route_words(url: str) -> set[str]:
    """The named segments of a route (`/api/v2/kunden/:id/notes` -> {api, v2, kunden, notes})."""
    return {s for s in route_template(url).strip("/").split("/") if s and s != ID}


def site_of(url: str) -> str:
    """The registrable part of a URL's host (`app.acme.co.uk` -> `acme.co.uk`, `api.acme.com` -> `acme.com`)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit():
        return host
    if len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
