"""The rule engine's identity of a problem: a flagged key action's problem facts, normalised into a fingerprint.

Facts come from the summary (`problem`: kind, route, control, request, status, message; computed in code for
every engine). Normalising makes the same problem look the same in every session: ids in routes and requests
are masked (`route_template`), the status becomes its class (5xx), and variable parts of messages (emails,
URLs, hosts, IPs, uuids, hashes, dates, durations, hex and other ids, numbers, quoted values) are masked in
the order Sentry's message parameterisation uses. Which facts identify a problem depends on its kind: a
failing request is the same problem on whichever page it was sent from, a control that does not react is
defined by the control and its page, and slow loading is one symptom whatever the page.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

from summaries.analysis.routes import route_template

# (placeholder, pattern), applied in order; earlier, more specific shapes win over numbers.
MASKS: list[tuple[str, re.Pattern[str]]] = [
    ("<email>", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("<url>", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)),
    ("<host>", re.compile(r"\b(?:[a-z0-9-]+\.)+"
                          r"(?:com|net|org|io|dev|app|co|de|fr|uk|nl|eu|test|local|internal|cloud)\b", re.IGNORECASE)),
    ("<ip>", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b", re.IGNORECASE)),
    ("<uuid>", re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE)),
    ("<hash>", re.compile(r"\b(?:[0-9a-f]{40}|[0-9a-f]{32})\b", re.IGNORECASE)),
    ("<date>", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
                          r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b")),
    ("<duration>", re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds?|min|mins|minutes?|h|hours?)\b",
                              re.IGNORECASE)),
    ("<hex>", re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE)),
    ("<id>", re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[a-z])[\w-]{5,}\b", re.IGNORECASE)),
    ("<num>", re.compile(r"[-+]?\b\d+(?:[.,]\d+)*\b")),
    ("=<value>", re.compile(r"=\s*(?:'[^']*'|\"[^\"]*\")")),
]
MAX_MESSAGE = 200

# The facts that identify a problem, by problem kind; anything else is context shown in the examples.
IDENTITY: dict[str, tuple[str, ...]] = {
    "request_failed": ("request", "status", "message"),
    "exception": ("request", "status", "message"),
    "error_text": ("route", "control", "message"),
    "field_invalid": ("route", "control", "message"),
    "dead_click": ("route", "control"),
    "failing_form": ("route", "control"),
    "loading_left": ("route", "request"),
    "slow": (),
}
DEFAULT_IDENTITY = ("route", "control", "request", "status", "message")


def mask_message(text: str) -> str:
    """The message with its variable parts replaced by placeholders, whitespace collapsed."""
    text = " ".join(str(text or "").split())
    for placeholder, pattern in MASKS:
        text = pattern.sub(placeholder, text)
    return text[:MAX_MESSAGE]


def status_class(status: Any) -> str:
    """An HTTP status as its class: 500 -> 5xx, 0 -> network error, None -> ''."""
    try:
        code = int(status)
    except (TypeError, ValueError):
        return ""
    if code == 0:
        return "network error"
    return f"{code // 100}xx"


def request_identity(request: str) -> str:
    """`POST https://a.test/api/orders/17?x=1` -> `POST /api/orders/:id` (method kept when known)."""
    request = " ".join(str(request or "").split())
    if not request:
        return ""
    method, _, rest = request.partition(" ")
    if rest and method.isupper() and method.isalpha():
        return f"{method} {route_template(rest)}"
    return route_template(request)


def control_identity(control: str) -> str:
    """`button:Pay 23.50 EUR` -> `button:Pay <num> EUR`: the control's tag and its label with variable parts masked."""
    tag, sep, label = str(control or "").partition(":")
    return f"{tag}{sep}{mask_message(label)}" if sep else mask_message(tag)


def flag_kind(action: dict[str, Any]) -> str | None:
    """What a flagged key action is: blocking, non-blocking, abandonment or confusion (None: not flagged)."""
    if action.get("exception") in ("blocking", "non-blocking"):
        return str(action["exception"])
    if action.get("abandonment"):
        return "abandonment"
    if action.get("confusion"):
        return "confusion"
    return None


@dataclass(frozen=True)
class Fingerprint:
    """A normalised problem: what kind of flag, what kind of problem, and the facts that identify it."""

    flag: str
    kind: str
    route: str = ""
    control: str = ""
    request: str = ""
    status: str = ""
    message: str = ""
    broad: bool = False  # a family of problems (see `family`), not one problem

    @property
    def key(self) -> str:
        """A short stable id: `rules:<flag>:<hash of the identity>`."""
        raw = "\x1f".join([self.flag, self.kind, self.route, self.control, self.request, self.status, self.message])
        raw += "\x1fbroad" if self.broad else ""
        return f"rules:{self.flag}:{hashlib.sha256(raw.encode()).hexdigest()[:16]}"

    def as_dict(self) -> dict[str, Any]:
        """The identity as data."""
        return asdict(self)


def fingerprint(action: dict[str, Any]) -> Fingerprint | None:
    """The fingerprint of a flagged key action (None when it is not flagged or carries no problem facts)."""
    flag = flag_kind(action)
    problem = action.get("problem")
    if flag is None or not isinstance(problem, dict):
        return None
    kind = str(problem.get("kind") or action.get("event") or "problem")
    facts = {
        "route": route_template(str(problem.get("route") or "")) if problem.get("route") else "",
        "control": control_identity(str(problem.get("control") or "")),
        "request": request_identity(str(problem.get("request") or "")),
        "status": status_class(problem.get("status")),
        "message": mask_message(str(problem.get("message") or "")),
    }
    wanted = IDENTITY.get(kind, DEFAULT_IDENTITY)
    identity = {name: (value if name in wanted else "") for name, value in facts.items()}
    return Fingerprint(flag=flag, kind=kind, **identity)


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def writes(problem: dict[str, Any]) -> bool:
    """True when a failing request saved something: a write method, or (method unknown) sent by a form."""
    request = str(problem.get("request") or "")
    method = request.split(" ", 1)[0] if " " in request else ""
    return method in WRITE_METHODS if method else str(problem.get("control") or "").startswith("form")


def family(fp: Fingerprint, problem: dict[str, Any]) -> Fingerprint:
    """The broader symptom of a problem (its fingerprint and facts), whatever the page, control or endpoint: input
    rejected (a field marked invalid or a save answered 4xx), saving or loading failing by status class, clicks
    doing nothing, users leaving while a page loads... Problems too rare to be a pattern alone are pooled by it."""
    saved = writes(problem)
    if fp.kind == "field_invalid" or (fp.kind == "request_failed" and fp.status == "4xx" and saved):
        return Fingerprint(fp.flag, "input_rejected", broad=True)
    if fp.kind in ("request_failed", "exception") and fp.request:
        return Fingerprint(fp.flag, "request_failed", request="write" if saved else "read", status=fp.status,
                           broad=True)
    return Fingerprint(fp.flag, fp.kind, broad=True)
