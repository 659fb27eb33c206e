"""Which journeys the bundled dataset holds: clean sessions, noise-only sessions, and every fault, mixed."""
from __future__ import annotations

import random

from corpus.journeys import GIVES_UP, WORKAROUND
from corpus.truth import JourneySpec
from demo_shop.faults import (
    CONFUSING_VALIDATION,
    DEAD_BUTTON,
    PAYMENT_500,
    RETRIED_API,
    SLOW_PAGE,
    WIDGET_EXCEPTION,
)

NOISE_MIXES = ([WIDGET_EXCEPTION], [RETRIED_API], [WIDGET_EXCEPTION, RETRIED_API])

# Idle-gap scale per journey: most sessions last about a minute, a few wander for several minutes.
PACE = {"gift_shortlist": 1.0, "browse_compare": 0.6, "buy_product": 0.5, "quick_add_buy": 0.5,
        "search_browse": 0.6, "update_address": 0.7, "quick_look": 1.0}

# Longest first, so parallel slots finish at about the same time.
LENGTH_ORDER = ["gift_shortlist", "browse_compare", "buy_product", "quick_add_buy", "search_browse",
                "update_address", "quick_look"]


def dataset_plan(seed: int = 2026) -> list[JourneySpec]:
    """The 66 journeys of the sample dataset; noise-only sessions are common, as in real products."""
    rng = random.Random(seed)
    entries: list[tuple[str, list[str], str]] = []

    def noise(chance: float) -> list[str]:
        """A noise mix with the given chance, else none."""
        return list(rng.choice(NOISE_MIXES)) if rng.random() < chance else []

    # 12 clean sessions.
    for journey in ["buy_product", "buy_product", "buy_product", "quick_add_buy", "browse_compare", "search_browse",
                    "search_browse", "update_address", "quick_look", "quick_look", "quick_look", "gift_shortlist"]:
        entries.append((journey, [], ""))
    # 20 noise-only sessions: the user gets what they came for; exceptions and retried calls happen underneath.
    for journey in ["buy_product", "buy_product", "buy_product", "buy_product", "quick_add_buy", "quick_add_buy",
                    "browse_compare", "browse_compare", "search_browse", "search_browse", "update_address",
                    "update_address", "quick_look", "quick_look", "quick_look", "quick_look", "gift_shortlist",
                    "gift_shortlist", "buy_product", "search_browse"]:
        entries.append((journey, list(NOISE_MIXES[len(entries) % 3]), ""))
    # 8 failed payments.
    for journey in ["buy_product"] * 5 + ["quick_add_buy"] * 3:
        entries.append((journey, [PAYMENT_500] + noise(0.5), ""))
    # 10 dead buttons: half give up (blocking), half find the listing's quick add (non-blocking).
    for journey in ["buy_product", "buy_product", "buy_product", "search_browse", "search_browse"]:
        entries.append((journey, [DEAD_BUTTON] + noise(0.4), GIVES_UP))
    for journey in ["buy_product", "buy_product", "search_browse", "search_browse", "gift_shortlist"]:
        entries.append((journey, [DEAD_BUTTON] + noise(0.4), WORKAROUND))
    # 8 confusing validation messages: half give up, half work out what the form wants.
    for journey in ["buy_product", "buy_product", "quick_add_buy", "quick_add_buy"]:
        entries.append((journey, [CONFUSING_VALIDATION] + noise(0.4), GIVES_UP))
    for journey in ["buy_product", "buy_product", "quick_add_buy", "quick_add_buy"]:
        entries.append((journey, [CONFUSING_VALIDATION] + noise(0.4), WORKAROUND))
    # 8 slow pages (the shopper waits).
    for journey in ["browse_compare", "browse_compare", "browse_compare", "buy_product", "buy_product",
                    "search_browse", "search_browse", "gift_shortlist"]:
        entries.append((journey, [SLOW_PAGE] + noise(0.3), ""))

    specs = [JourneySpec(journey, sorted(set(faults)), seed=seed * 1000 + i, variant=variant, pace=PACE[journey])
             for i, (journey, faults, variant) in enumerate(entries)]
    for spec in [s for s in specs if s.journey == "gift_shortlist"][:2]:
        spec.pace = 1.4  # the longest visits
    return sorted(specs, key=lambda s: LENGTH_ORDER.index(s.journey))
