"""Plain-words names, descriptions and indicators of rule-engine patterns, written from their fingerprints."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from patterns.fingerprint import Fingerprint
from patterns.naming import fit_words

RULE_BASED = "Rule-based"
# Path segments that say nothing about what a request does.
NOISE_SEGMENTS = {"api", "v1", "v2", "v3", "rest", "graphql", ":id", ""}


def request_words(request: str) -> str:
    """`POST /api/checkout/pay` -> `Checkout pay`: what a request is for, from its path."""
    path = request.split(" ", 1)[-1]
    parts = [p for p in re.split(r"[/_-]+", path) if p.lower() not in NOISE_SEGMENTS and not p.startswith(":")]
    words = " ".join(parts[-2:]) if parts else "API"
    return words[:1].upper() + words[1:]


def page_words(route: str) -> str:
    """`/product/:id` -> `product page`, `/` -> `home page`."""
    parts = [p for p in route.strip("/").split("/") if p and not p.startswith(":")]
    return (" ".join(parts[-2:]).replace("-", " ").replace("_", " ") or "home") + " page"


def label_of(control: str) -> tuple[str, str]:
    """(tag, label) of a control identity `button:Add to cart`."""
    tag, _, label = control.partition(":")
    return tag or "control", label


BROAD_NAMES = {
    "input_rejected": "Input rejected on several forms",
    "dead_click": "Clicks do nothing on several controls",
    "failing_form": "Several forms retried without effect",
    "loading_left": "Users leave while pages load",
    "error_text": "Errors shown on several pages",
    "exception": "Uncaught errors on several pages",
}


def broad_name(fp: Fingerprint) -> str:
    """The name of a family of problems (several endpoints, controls or pages)."""
    if fp.kind == "request_failed":
        what = "Saving" if fp.request == "write" else "Loading data"
        return fit_words(f"{what} fails on several endpoints" + (f" ({fp.status})" if fp.status else ""))
    return BROAD_NAMES.get(fp.kind) or fit_words(f"{fp.kind.replace('_', ' ').capitalize()} on several pages")


def rule_name(fp: Fingerprint) -> str:
    """The pattern's name in 3-6 plain words."""
    if fp.broad:
        return broad_name(fp)
    tag, label = label_of(fp.control)
    quoted = f'"{label}"' if label else f"the {tag}"
    if fp.kind in ("request_failed",) or (fp.kind == "exception" and fp.request):
        status = f" ({fp.status})" if fp.status else ""
        return fit_words(f"{request_words(fp.request)} request fails{status}")
    if fp.kind == "exception":
        return fit_words(f"Error: {fp.message or 'uncaught exception'}")
    if fp.kind == "error_text":
        return fit_words(f'Error "{fp.message}" shown' if fp.message else f"Error shown on {page_words(fp.route)}")
    if fp.kind == "field_invalid":
        return fit_words(f"{quoted} input rejected")
    if fp.kind == "dead_click":
        return fit_words(f"{quoted} {tag} does nothing")
    if fp.kind == "failing_form":
        return fit_words(f"{quoted} retried without effect")
    if fp.kind == "slow":
        return "Slow loading keeps users waiting"
    if fp.kind == "loading_left":
        return fit_words(f"Users leave while {page_words(fp.route)} loads")
    return fit_words(f"{fp.kind.replace('_', ' ').capitalize()} on {page_words(fp.route)}")


FLAG_WORDS = {
    "blocking": "it stopped the user",
    "non-blocking": "the user got past it",
    "abandonment": "the user gave up on the flow",
    "confusion": "the user hesitated or repeated themselves",
}


def broad_description(fp: Fingerprint, where: str, controls: list[str], requests: list[str]) -> str:
    """What a family of problems is, with the places it was seen."""
    if fp.kind == "request_failed":
        status = f" with {fp.status}" if fp.status else ""
        return (f"Requests that {'saved' if fp.request == 'write' else 'loaded'} data failed{status} "
                f"({', '.join(requests[:3]) or 'several endpoints'}) on {where}")
    if fp.kind == "input_rejected":
        return f"Input was rejected (a field marked invalid or a save answered 4xx) on {where}"
    if fp.kind == "dead_click":
        named = [f'{tag} "{label}"' if label else tag for tag, label in map(label_of, controls[:3])]
        return f"Nothing happened when the user clicked {', '.join(named) or 'controls'} on {where}"
    if fp.kind == "loading_left":
        return f"Users left {where} while they were still loading"
    return f"{fp.kind.replace('_', ' ').capitalize()} on several pages ({where})"


def rule_description(fp: Fingerprint, routes: list[str], controls: list[str], requests: list[str] | None = None) -> str:
    """One or two sentences from the fingerprint, saying that they are rule-based."""
    where = ", ".join(routes[:3]) or "an unknown page"
    tag, label = label_of(fp.control or (controls[0] if controls else ""))
    after = f' after the user used {tag} "{label}"' if label else ""
    if fp.broad:
        what = broad_description(fp, where, controls, requests or [])
    elif fp.kind == "request_failed" or (fp.kind == "exception" and fp.request):
        status = f" with {fp.status}" if fp.status else ""
        what = f"The request {fp.request or 'to the API'} failed{status}{after} on {where}"
    elif fp.kind == "exception":
        what = f'The page threw "{fp.message}"{after} on {where}'
    elif fp.kind in ("error_text", "field_invalid"):
        what = (f'The page showed "{fp.message}"{after} on {where}' if fp.message
                else f"The page showed an error on {where}")
    elif fp.kind == "dead_click":
        what = f'On {where}, nothing happened when the user clicked {tag} "{label}"'
    elif fp.kind == "failing_form":
        what = f'On {where}, the user submitted {tag} "{label}" again without getting further'
    elif fp.kind == "loading_left":
        what = f"Users left {where} while it was still loading"
    elif fp.kind == "slow":
        what = f"Pages or requests took more than a few seconds to load while the user waited (on {where})"
    else:
        what = f"{fp.kind.replace('_', ' ').capitalize()} on {where}{after}"
    return f"{RULE_BASED}: {what}; {FLAG_WORDS.get(fp.flag, fp.flag)}."


def rule_indicators(fp: Fingerprint, examples: list[dict[str, Any]]) -> list[str]:
    """2-5 observable signs: the identifying facts first, then what the moments have in common."""
    signs: list[str] = []
    if fp.request and not fp.broad:
        signs.append(f"{fp.request} answers {fp.status}" if fp.status else f"request {fp.request}")
    if fp.message:
        signs.append(f'message "{fp.message}"')
    if fp.control:
        tag, label = label_of(fp.control)
        signs.append(f'{tag} "{label}"' if label else tag)
    routes = Counter(e.get("route") or "" for e in examples if e.get("route"))
    if fp.route:
        signs.append(f"on {fp.route}")
    elif routes:
        signs.append("on " + ", ".join(r for r, _ in routes.most_common(3)))
    requests = Counter(e.get("request") or "" for e in examples if e.get("request"))
    if (fp.broad or not fp.request) and requests:
        signs.append("requests " + ", ".join(r for r, _ in requests.most_common(2)))
    signs.append(f"flagged {fp.flag} ({fp.kind.replace('_', ' ')})")
    return signs[:5] if len(signs) >= 2 else signs + ["rule-based grouping"]
