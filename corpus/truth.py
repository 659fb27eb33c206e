"""Ground truth of one journey, and the labels file rows built from it once Recap knows the session's start."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from corpus.browser import Observation

BLOCKING = "blocking"
NON_BLOCKING = "non_blocking"
NOISE = "noise"

OUTCOMES = ("completed", "abandoned", "failed")


@dataclass
class Mark:
    """One labelled moment: what kind of issue, how much it mattered, and when (wall clock, seconds)."""

    kind: str
    severity: str
    wall_time: float
    description: str


@dataclass
class JourneySpec:
    """What to play: which journey, with which faults, which variant, from which seed, at which pace."""

    journey: str
    faults: list[str]
    seed: int
    variant: str = ""
    pace: float = 1.0

    @property
    def name(self) -> str:
        """A short readable name for logs."""
        extra = f"/{self.variant}" if self.variant else ""
        return f"{self.journey}{extra}[{'+'.join(self.faults) or 'clean'}]#{self.seed}"


@dataclass
class JourneyRecord:
    """What happened in one played journey: its goal, outcome, labelled moments and what the browser saw."""

    spec: JourneySpec
    goal: str = ""
    outcome: str = "completed"
    marks: list[Mark] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    error: str = ""

    def mark(self, kind: str, severity: str, wall_time: float, description: str) -> None:
        """Label a moment the journey itself caused or saw."""
        self.marks.append(Mark(kind, severity, wall_time, description))

    def to_json(self) -> dict:
        """The record as plain JSON."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> JourneyRecord:
        """Read a record written by to_json."""
        spec = JourneySpec(**data["spec"])
        return cls(
            spec=spec, goal=data["goal"], outcome=data["outcome"],
            marks=[Mark(**m) for m in data["marks"]],
            observations=[Observation(**o) for o in data["observations"]],
            session_ids=list(data["session_ids"]), started_at=data["started_at"], ended_at=data["ended_at"],
            error=data.get("error", ""),
        )


SLOW_REQUEST_SECONDS = 3.0


def marks_from_observations(observations: list[Observation], faults: list[str] | set[str]) -> list[Mark]:
    """Label what the browser saw of the injected faults: slow listings, retried calls, payment 500s, widget errors.

    Only injected faults count (a listing slowed by a busy machine is not a labelled slow page). One mark per
    kind and episode: the widget throws every ~20 s, which is one piece of noise, not dozens.
    """
    marks = _marks_from_observations(observations)
    return [m for m in marks if m.kind in set(faults)]


def _marks_from_observations(observations: list[Observation]) -> list[Mark]:
    """Every mark the observations support, before filtering by the injected faults."""
    marks: list[Mark] = []
    errors = [o for o in observations if o.kind == "pageerror"]
    if errors:
        marks.append(Mark("widget_exception", NOISE, errors[0].wall_time,
                          f"The chat widget threw {len(errors)} uncaught TypeError(s) (reading 'agentStatus'); "
                          "nothing on the page changed."))
    responses = sorted((o for o in observations if o.kind == "response"), key=lambda o: o.wall_time)
    retried = [o for o in responses if "/api/recommendations" in o.url and o.status >= 500]
    if retried:
        marks.append(Mark("retried_api", NOISE, retried[0].wall_time,
                          f"The recommendations API answered {retried[0].status} {len(retried)} time(s); "
                          "the page retried it automatically within a second and showed the products."))
    for slow in (o for o in responses if o.duration >= SLOW_REQUEST_SECONDS
                 and ("/api/search" in o.url or "/api/products?" in o.url or o.url.endswith("/api/products"))):
        marks.append(Mark("slow_page", NON_BLOCKING, slow.wall_time,
                          f"The product list took {slow.duration:.1f} s to load (spinner shown); the shopper waited."))
    failed_payments = [o for o in responses if "/api/checkout/pay" in o.url and o.status >= 500]
    if failed_payments:
        first = failed_payments[0]
        marks.append(Mark("payment_500", BLOCKING, first.wall_time + first.duration,
                          f"Paying failed: the payment API answered {first.status} "
                          f"({len(failed_payments)} attempt(s)) and the page showed 'Payment failed'."))
    return marks


def label_row(record: JourneyRecord, session_id: str, session_start: float,
              observed: Callable[[JourneyRecord], list[Mark]] | None = None) -> dict:
    """The labels-file row of one session; times are seconds from the session's first recorded event.

    `observed` labels what the browser saw in the app's terms (default: the shop's).
    """
    seen = observed(record) if observed else marks_from_observations(record.observations, record.spec.faults)
    buckets: dict[str, list[dict]] = {BLOCKING: [], NON_BLOCKING: [], NOISE: []}
    for mark in sorted(record.marks + seen, key=lambda m: m.wall_time):
        buckets[mark.severity].append({
            "kind": mark.kind,
            "t": round(max(0.0, mark.wall_time - session_start), 2),
            "description": mark.description,
        })
    return {
        "session_id": session_id,
        "journey": record.spec.journey,
        "goal": record.goal,
        "outcome": record.outcome,
        "blocking": buckets[BLOCKING],
        "non_blocking": buckets[NON_BLOCKING],
        "noise": buckets[NOISE],
        "faults": sorted(record.spec.faults),
    }
