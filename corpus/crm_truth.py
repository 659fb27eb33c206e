"""Labels the CRM's browser observations support: failed saves, slow views, retried notifications, widget errors.

The journeys themselves label what only they know (a dead icon button, a rejected value); whether a failed save or
a slow view was blocking follows from what the person did next, which the journey's outcome records.
"""
from __future__ import annotations

import re

from corpus.browser import Observation
from corpus.crm_visit import SLOW_TARGET
from corpus.truth import BLOCKING, NOISE, NON_BLOCKING, SLOW_REQUEST_SECONDS, JourneyRecord, Mark
from demo_crm.faults import RETRIED_REQUEST, SAVE_FAILS, SLOW_VIEW, WIDGET_NOISE

# The API paths behind each view that can be slow, and the requests that save a record.
VIEW_API = {"kunden": r"/api/kunden$", "kunde": r"/api/kunden/\d+$", "angebote": r"/api/angebote$",
            "tickets": r"/api/tickets$"}
VIEW_NAME = {"kunden": "customer list", "kunde": "customer page", "angebote": "quote list", "tickets": "ticket list"}
SAVE_API = re.compile(r"/api/(kunden(/\d+)?|angebote|einstellungen|tickets/\d+)$")
SAVE_WHAT = {"kunden": "the customer", "angebote": "the quote", "einstellungen": "the settings", "tickets": "the ticket"}
AFTERWARDS = {"gives_up": "gave up and went to another section", "closes_tab": "gave up and closed the tab"}


def _path(url: str) -> str:
    """A URL's path, without query string."""
    return re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0]


def crm_observed_marks(record: JourneyRecord) -> list[Mark]:
    """Every mark the browser's observations support for the faults the journey was given."""
    faults = set(record.spec.faults)
    observed = sorted(record.observations, key=lambda o: o.wall_time)
    after = AFTERWARDS.get(record.spec.variant, "")
    marks: list[Mark] = []
    if WIDGET_NOISE in faults:
        errors = [o for o in observed if o.kind == "pageerror"]
        if errors:
            marks.append(Mark(WIDGET_NOISE, NOISE, errors[0].wall_time,
                              f"The TippBox tips widget threw {len(errors)} uncaught TypeError(s) (reading 'locale'); "
                              "nothing on the page changed."))
    if RETRIED_REQUEST in faults:
        retried = [o for o in observed if o.kind == "response" and o.status == 503
                   and _path(o.url) == "/api/benachrichtigungen"]
        if retried:
            marks.append(Mark(RETRIED_REQUEST, NOISE, retried[0].wall_time,
                              f"The notifications API answered 503 {len(retried)} time(s); the app retried each "
                              "at once and showed the notifications."))
    if SAVE_FAILS in faults:
        marks += _failed_saves(observed, record.outcome == "completed", after)
    if SLOW_VIEW in faults and record.spec.journey in SLOW_TARGET:
        marks += _slow_views(observed, SLOW_TARGET[record.spec.journey])
    return marks


def _failed_saves(observed: list[Observation], recovered: bool, after: str) -> list[Mark]:
    """One mark at the first failed save's answer: non-blocking when a later save worked, else blocking."""
    saves = [o for o in observed if o.kind == "response" and o.method in ("POST", "PUT") and SAVE_API.search(_path(o.url))]
    failed = [o for o in saves if o.status >= 500]
    if not failed:
        return []
    first = failed[0]
    what = SAVE_WHAT[_path(first.url).split("/")[2]]
    said = (f"Saving {what} failed: {first.method} {_path(first.url)} answered {first.status} "
            f"({len(failed)} failed attempt(s)) and the app showed 'Speichern fehlgeschlagen. Bitte erneut versuchen.'")
    if recovered:
        return [Mark(SAVE_FAILS, NON_BLOCKING, first.wall_time + first.duration,
                     said + "; the user tried again later and the save went through.")]
    return [Mark(SAVE_FAILS, BLOCKING, first.wall_time + first.duration, said + f"; the user {after or 'gave up'}.")]


def _slow_views(observed: list[Observation], view: str) -> list[Mark]:
    """A mark per slow load of the view, when it started: non-blocking if it arrived, blocking if the user left."""
    pattern = re.compile(VIEW_API[view])
    name = VIEW_NAME[view]
    marks = []
    for o in observed:
        if not pattern.search(_path(o.url)) or o.duration < SLOW_REQUEST_SECONDS:
            continue
        if o.kind == "response" and o.status == 200:
            marks.append(Mark(SLOW_VIEW, NON_BLOCKING, o.wall_time,
                              f"The {name} took {o.duration:.1f} s to load (GET {_path(o.url)}; spinner and 'Wird geladen…' "
                              "meanwhile); the user waited until it showed."))
        elif o.kind in ("requestfailed", "unfinished"):
            marks.append(Mark(SLOW_VIEW, BLOCKING, o.wall_time,
                              f"The {name} was still loading after {o.duration:.1f} s (GET {_path(o.url)}; spinner and "
                              "'Wird geladen…'); the user left before it arrived."))
    return marks
