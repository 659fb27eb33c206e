"""The user's flow: what each action tried to do, whether it worked, and whether a problem was ever got past.

An attempt is a user action (a click, a submit, or a page the user opened) with what it set off: requests and
their status, texts the page showed and where, fields marked invalid, a DOM reaction or a new route. Its
intent is the control acted on, its form and the route of the page (ids masked). An attempt failed when a
request it set off failed, an error appeared where messages appear (an alert, a toast, a status region, the
form itself), a field was marked aria-invalid, or a control the user insisted on never reacted.

A problem is blocking when its intent never succeeded afterwards: the user retried and failed again, or left
(another route, a closed tab, the session's end, a long idle). It is non-blocking when the same intent later
worked (the request answered 2xx, the form led on to another page, a confirmation answered that action, the
control reacted) or the user did it another way (a control with the same words that worked). A confirmation
counts only when it answers an attempt, never because a word appears somewhere later. A loading indicator
still up when the user left after >= 3 s is a blocking abandonment unless the user came back and it loaded.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from summaries.analysis.prompt_data import PromptInput, Row
from summaries.analysis.routes import route_template, route_words
from summaries.analysis.wording import words

USER_ACTIONS = ("click", "submit", "change")
# Requests started this soon after an action were set off by it; texts this soon answer it.
REQUEST_MS = 1500
ANSWER_MS = 8000
INVALID_MS = 3000
# A page view this soon after a click was caused by it (links and submits may take longer to load the next page).
CAUSED_VIEW_MS = 1500
CAUSED_LOAD_MS = 8000
# A click and the submit it causes share a moment.
SAME_MOMENT_MS = 400
# Idle this long after a problem means the user stopped.
GAVE_UP_IDLE_MS = 60_000
# Targets whose clicks often change nothing visible by design: native dropdowns, fields, labels, the page.
NO_REACTION_EXPECTED = frozenset({"select", "option", "input", "textarea", "label", "html", "body", ""})
MESSAGE_PLACES = ("alert", "status", "toast", "dialog", "form", "page")
# Control names made only of these say nothing about what the control does.
GENERIC_WORDS = frozenset({"ok", "yes", "no", "ja", "nein", "oui", "non", "si", "sim", "não", "the", "to", "a",
                           "an", "of", "and", "und", "et", "y", "e", "de", "la", "le", "el", "der", "die", "das"})


def _tag(target: str) -> str:
    """The tag a target starts with (button, a, input[text], select...)."""
    return target.split(":", 1)[0].split("[", 1)[0]


def _named(target: str) -> bool:
    """True when a target carries a name, not just a tag."""
    return ":" in target and bool(target.split(":", 1)[1].strip())


@dataclass
class Attempt:
    """One thing the user did and what came of it."""

    action: Row
    kind: str  # click | submit | view
    control: str
    form: str
    route: str
    effects: list[Row] = field(default_factory=list)
    requests: list[list] = field(default_factory=list)
    navigated_to: str = ""
    reaction: str = "none"
    outcome: str = "neutral"  # failed | ok | neutral
    failure: Row | None = None
    failure_kind: str = ""  # request_failed | error_text | field_invalid | dead_click
    success: str = ""

    @property
    def at(self) -> int:
        """When it happened (epoch ms)."""
        return self.action.timestamp_ms

    @property
    def failure_signature(self) -> tuple[str, str]:
        """How it failed: a failed call (by route), a message the page gave (whatever its words: validation
        messages change as the user edits), or a control that did not react."""
        row = self.failure
        if row is None:
            return "", ""
        if self.failure_kind in ("error_text", "field_invalid"):
            return "message", ""
        if self.failure_kind == "request_failed":
            return "request", str(row.facts.get("route") or "")
        return self.failure_kind, self.control

    def same_intent(self, other: Attempt) -> bool:
        """The same thing tried again: same route and the same named control or form, or the same failed call."""
        if self.route != other.route:
            return False
        if _named(self.control) and self.control == other.control:
            return True
        if self.form and self.form == other.form:
            return True
        if self.kind == other.kind == "view":
            return True
        failed = {r.facts.get("route") for r in other.effects if r.kind == "request_failed"}
        called = {req[0] for req in self.requests} | {r.facts.get("route") for r in self.effects
                                                       if r.kind == "request_failed"}
        return bool(failed & called) and not self.navigated_to

    def related(self, other: Attempt) -> bool:
        """Another control that says it does the same thing: at least half the words of the shorter name shared
        ("+ Add" for "Add to cart"), on the same route unless the control did something (not just navigate)."""
        if not (_named(self.control) and _named(other.control)) or self.control == other.control:
            return False
        mine = {w for w in words(self.control.split(":", 1)[-1]) - GENERIC_WORDS if len(w) >= 3}
        theirs = {w for w in words(other.control.split(":", 1)[-1]) - GENERIC_WORDS if len(w) >= 3}
        if not mine or not theirs or len(mine & theirs) < 0.5 * min(len(mine), len(theirs)):
            return False
        return self.route == other.route or not self.navigated_to


class Timeline:
    """A session's rows (time-ordered) with their timestamps, for cutting time windows quickly."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.times = [r.timestamp_ms for r in rows]

    def between(self, start: int, end: int) -> list[Row]:
        """Rows with start <= timestamp < end."""
        return self.rows[bisect.bisect_left(self.times, start):bisect.bisect_left(self.times, end)]


def _build_attempts(rows: list[Row]) -> list[Attempt]:
    """Attempts in time order: clicks and submits (a click and its submit are one), and pages opened directly."""
    attempts: list[Attempt] = []
    for row in rows:
        if row.kind in ("click", "submit"):
            last = attempts[-1] if attempts else None
            if last is not None and last.kind in ("click", "submit") and row.timestamp_ms - last.at <= SAME_MOMENT_MS \
                    and row.path == last.action.path and row.kind != last.kind:
                if row.kind == "submit":
                    last.kind, last.form = "submit", last.form or row.facts.get("form") or row.target
                continue
            form = row.facts.get("form") or (row.target if row.kind == "submit" else "")
            attempts.append(Attempt(row, row.kind, row.target if row.kind == "click" else "", str(form or ""),
                                    route_template(row.url)))
        elif row.kind == "pageview":
            caused = any(a.kind in ("click", "submit") and 0 <= row.timestamp_ms - a.at <= CAUSED_VIEW_MS
                         for a in attempts[-3:])
            if not caused:
                attempts.append(Attempt(row, "view", "", "", route_template(row.url)))
    return attempts


def background_failures(rows: list[Row]) -> set[str]:
    """Routes of calls that also fail when the user did nothing (polling, widgets): never a user's failure."""
    actions = [r.timestamp_ms for r in rows if r.kind in USER_ACTIONS or r.kind == "pageview"]

    def after_an_action(ts: int) -> bool:
        i = bisect.bisect_right(actions, ts)
        return bool(i) and ts - actions[i - 1] <= 3000

    return {str(r.facts.get("route")) for r in rows if r.kind == "request_failed" and not after_an_action(r.timestamp_ms)}


def _judge(attempt: Attempt, timeline: Timeline, next_at: int, background: set[str]) -> None:
    """Fill in what an attempt set off and whether it failed, worked or neither."""
    start = attempt.at
    window = timeline.between(start, min(next_at, start + ANSWER_MS)) if next_at > start else []
    attempt.requests = list(attempt.action.facts.get("requests") or [])
    attempt.reaction = str(attempt.action.facts.get("reaction") or "none")
    failed_requests = [r for r in timeline.between(start - 100, start + (3000 if attempt.kind == "view"
                                                                         else REQUEST_MS) + 1)
                       if r.kind == "request_failed" and not r.facts.get("auto_recovered")
                       and not r.facts.get("aborted_at_leave")
                       and r.facts.get("first_party", True) and r.facts.get("route") not in background]
    errors = [r for r in window if r.kind == "text_shown" and r.facts.get("tone") == "error"
              and r.facts.get("where") in MESSAGE_PLACES]
    invalid = [r for r in window if r.kind == "field_invalid" and r.timestamp_ms - start <= INVALID_MS]
    dead = [r for r in timeline.between(start - 600, start + 601) if r.kind == "dead_click"
            and (r.target == attempt.control or not _named(r.target))]
    reach = CAUSED_LOAD_MS if attempt.kind != "click" or attempt.action.facts.get("href") else CAUSED_VIEW_MS
    views = [r for r in window if r.kind == "pageview" and route_template(r.url) != attempt.route
             and r.timestamp_ms - start <= reach]
    confirmations = [r for r in window if r.kind == "text_shown" and r.facts.get("tone") != "error"
                     and (r.facts.get("where") in ("status", "toast") or r.facts.get("tone") == "success")
                     and r.facts.get("where") not in ("list", "widget")]
    if views:
        attempt.navigated_to = route_template(views[0].url)
    if failed_requests and (attempt.kind == "view" or attempt.navigated_to) and not errors:
        # Opening a page: a failed call matters when the page said so, or when it was the page's own data.
        page_words = route_words(attempt.navigated_to or attempt.route)
        failed_requests = [r for r in failed_requests if route_words(str(r.facts.get("route") or "")) & page_words]
    attempt.effects = failed_requests + errors + invalid + dead + views + confirmations
    if failed_requests:
        attempt.outcome, attempt.failure, attempt.failure_kind = "failed", failed_requests[0], "request_failed"
    elif invalid:
        attempt.outcome, attempt.failure, attempt.failure_kind = "failed", invalid[0], "field_invalid"
    elif errors:
        attempt.outcome, attempt.failure, attempt.failure_kind = "failed", errors[0], "error_text"
    elif attempt.kind == "click" and (dead or attempt.reaction == "none") and not views \
            and _tag(attempt.control) not in NO_REACTION_EXPECTED and not attempt.action.facts.get("href"):
        attempt.outcome, attempt.failure, attempt.failure_kind = "failed", (dead[0] if dead else attempt.action), \
            "dead_click"
    elif views:
        attempt.outcome, attempt.success = "ok", f"went on to {attempt.navigated_to}"
    elif confirmations:
        attempt.outcome, attempt.success = "ok", f'the page answered "{confirmations[0].facts.get("text", "")}"'
    elif attempt.requests and all(isinstance(s, int) and 200 <= s < 400 for _, s in attempt.requests):
        attempt.outcome, attempt.success = "ok", "its request answered " + ", ".join(
            f"{route} {status}" for route, status in attempt.requests[:2])
    elif attempt.reaction != "none":
        attempt.success = "the page reacted"


@dataclass
class Incident:
    """A problem on the user's path: the failed attempts of one intent and how it ended."""

    attempts: list[Attempt]
    kind: str  # request_failed | error_text | field_invalid | dead_click | failing_form | loading_left
    recovered: bool = False
    resolution: str = ""
    left: str = ""
    loading: Row | None = None

    @property
    def first(self) -> Row:
        """The row that shows the problem first (the failed request, the error, the dead click, the wait)."""
        if self.loading is not None:
            return self.loading
        attempt = self.attempts[0]
        return attempt.failure or attempt.action

    @property
    def trigger(self) -> Row | None:
        """What the user did when it first went wrong."""
        return self.attempts[0].action if self.attempts else None

    @property
    def path(self) -> str:
        """The URL path where it happened."""
        return self.first.path

    @property
    def rows(self) -> list[Row]:
        """Every row showing the problem, one per failed attempt."""
        if self.loading is not None:
            return [self.loading]
        return [a.failure or a.action for a in self.attempts]

    @property
    def blocking(self) -> bool:
        """Blocking unless the user got through afterwards."""
        return not self.recovered

    @property
    def abandoned(self) -> bool:
        """The user left without getting through."""
        return not self.recovered

    @property
    def confused(self) -> bool:
        """The user tried again, or clicked something that never reacted."""
        return len(self.attempts) > 1 or self.kind in ("dead_click", "failing_form", "field_invalid")


def _how_left(rows: list[Row], after: int, route: str) -> str:
    """How the user left after a moment: another route, the tab, a long idle, or the session's end."""
    for row in rows:
        if row.timestamp_ms <= after:
            continue
        if row.kind == "pageview" and route_template(row.url) != route:
            return f"left for {route_template(row.url)}"
        if row.kind == "pageleave":
            return "left the page (tab closed or navigated away)"
        if row.kind == "idle" and row.facts.get("end_ms", 0) - row.timestamp_ms >= GAVE_UP_IDLE_MS:
            return f"stopped for {(row.facts['end_ms'] - row.timestamp_ms) // 1000} s"
    return "the session ended there"


def _resolve(incident: Incident, later: list[Attempt], rows: list[Row]) -> None:
    """Decide whether the incident's intent later worked, or how the user left."""
    last = incident.attempts[-1]
    for attempt in later:
        if attempt.same_intent(last):
            if attempt.outcome == "ok":
                incident.recovered, incident.resolution = True, f"a later attempt worked: {attempt.success}"
                return
            if incident.kind == "dead_click" and attempt.outcome == "neutral" and attempt.reaction != "none":
                incident.recovered, incident.resolution = True, "the control reacted on a later try"
                return
        elif attempt.related(last) and attempt.outcome == "ok":
            incident.recovered = True
            incident.resolution = f"did it another way ({attempt.control.split(':', 1)[-1]}): {attempt.success}"
            return
    incident.left = _how_left(rows, last.at, last.route)


def _dead_counts(incident: Incident, rows: list[Row]) -> bool:
    """A dead control counts when the user insisted: clicked it again or rage-clicked it."""
    if len(incident.attempts) >= 2:
        return True
    first = incident.attempts[0]
    return any(r.kind == "rageclick" and abs(r.timestamp_ms - first.at) <= 3000 for r in rows)


def _failing_forms(attempts: list[Attempt]) -> list[Incident]:
    """Submits of one form repeated without it ever leading anywhere (no error, no new page, no answer)."""
    found: list[Incident] = []
    by_form: dict[tuple[str, str], list[Attempt]] = {}
    for attempt in attempts:
        if attempt.kind != "submit" or not attempt.form:
            continue
        key = (attempt.route, attempt.form)
        if attempt.outcome != "neutral":
            by_form.pop(key, None)
            continue
        tries = by_form.setdefault(key, [])
        if tries and attempt.at - tries[-1].at <= 1500:
            continue
        tries.append(attempt)
        if len(tries) == 2:
            found.append(Incident(attempts=tries, kind="failing_form"))
    return found


def _loading_incidents(rows: list[Row], attempts: list[Attempt]) -> list[Incident]:
    """Waits the user left while the loading indicator was still up (blocking unless they came back to it).

    A user who meanwhile got on with something else on the page (an action that worked or visibly reacted) was
    not waiting for it: that indicator was not in their way."""
    found = []
    for row in rows:
        if row.kind != "loading_left":
            continue
        left_ms = int(row.facts.get("left_ms") or row.timestamp_ms)
        if any(row.timestamp_ms < a.at < left_ms - 1500 and a.kind != "view" and not a.navigated_to
               and (a.outcome == "ok" or a.reaction != "none") for a in attempts):
            continue
        route = route_template(row.url)
        holder = Attempt(row, "view", "", "", route)
        incident = Incident(attempts=[holder], kind="loading_left", loading=row)
        returned = [r for r in rows if r.kind == "pageview" and r.timestamp_ms > left_ms
                    and route_template(r.url) == route]
        for view in returned:
            again = any(r.kind == "loading_left" and 0 <= r.timestamp_ms - view.timestamp_ms <= 3000 for r in rows)
            if not again:
                incident.recovered, incident.resolution = True, "came back later and it loaded"
                break
        if not incident.recovered:
            how = row.facts.get("left_how")
            incident.left = {"route": "left for another page", "pageleave": "left the page (tab closed or navigated "
                             "away)", "end": "the session ended there"}.get(str(how), "left")
        found.append(incident)
    return found


def judged_attempts(prepared: PromptInput) -> list[Attempt]:
    """Every attempt of the session with what it set off and its outcome."""
    timeline = Timeline(prepared.rows)
    attempts = _build_attempts(prepared.rows)
    background = background_failures(prepared.rows)
    for i, attempt in enumerate(attempts):
        _judge(attempt, timeline, attempts[i + 1].at if i + 1 < len(attempts) else prepared.end_ms + 1, background)
    return attempts


def find_incidents(prepared: PromptInput) -> list[Incident]:
    """Problems on the user's path, grouped by intent and judged blocking or non-blocking."""
    rows = prepared.rows
    attempts = judged_attempts(prepared)
    incidents: list[Incident] = []
    open_by_intent: list[Incident] = []
    for i, attempt in enumerate(attempts):
        if attempt.outcome == "ok":
            open_by_intent = [inc for inc in open_by_intent
                              if not (attempt.same_intent(inc.attempts[-1]) or attempt.related(inc.attempts[-1]))]
            continue
        if attempt.outcome != "failed":
            continue
        current = next((inc for inc in reversed(open_by_intent) if attempt.same_intent(inc.attempts[-1])), None)
        if current is not None and current.attempts[-1].failure_signature == attempt.failure_signature:
            current.attempts.append(attempt)
            continue
        if current is not None:
            # The same thing tried again failed differently: the user got past the first problem into another.
            current.recovered = True
            current.resolution = "a later attempt got past it and met another problem"
            open_by_intent.remove(current)
        incident = Incident(attempts=[attempt], kind=attempt.failure_kind)
        incidents.append(incident)
        open_by_intent.append(incident)
    incidents = [inc for inc in incidents if inc.kind != "dead_click" or _dead_counts(inc, rows)]
    incidents += _failing_forms(attempts)
    for incident in incidents:
        if not incident.recovered:
            last = incident.attempts[-1]
            _resolve(incident, [a for a in attempts if a.at > last.at], rows)
    incidents += _loading_incidents(rows, attempts)
    incidents.sort(key=lambda inc: inc.first.timestamp_ms)
    return incidents


# A flagged moment and a problem or attempt this close are the same thing.
MOMENT_MS = 5000


@dataclass(frozen=True)
class MomentReading:
    """What the flow says about a flagged moment: the problem there (if any) and whether the user got through."""

    problem: str  # the incident's kind, or "" when nothing on the user's path failed near the moment
    got_through: bool
    how: str  # how the user got through, or how they left
    attempts: int = 0
    control: str = ""


def read_moment(prepared: PromptInput, moment_ms: int) -> MomentReading:
    """The problem nearest a flagged moment and how it ended; with none, whether the user went on fine."""
    incidents = find_incidents(prepared)
    near = [inc for inc in incidents
            if any(abs(r.timestamp_ms - moment_ms) <= MOMENT_MS for r in inc.rows + [inc.trigger] if r is not None)]
    if near:
        incident = min(near, key=lambda inc: min(abs(r.timestamp_ms - moment_ms) for r in inc.rows))
        how = incident.resolution if incident.recovered else incident.left
        return MomentReading(incident.kind, incident.recovered, how, len(incident.attempts),
                             incident.attempts[0].control if incident.attempts else "")
    attempts = judged_attempts(prepared)
    later = [a for a in attempts if a.at >= moment_ms - MOMENT_MS and a.outcome == "ok"]
    if later:
        return MomentReading("", True, f"nothing the user did failed there; later {later[0].success}")
    return MomentReading("", False, "nothing the user did failed there, and nothing they did later worked")
