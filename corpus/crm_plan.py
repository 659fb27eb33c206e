"""Which journeys the CRM dataset holds: clean sessions, noise-only sessions, and each fault blocking or not."""
from __future__ import annotations

import random

from corpus.crm_visit import CLOSES_TAB, GIVES_UP, RECOVERS
from corpus.truth import JourneySpec
from demo_crm.faults import DEAD_ICON_BUTTON, INVALID_FIELD, RETRIED_REQUEST, SAVE_FAILS, SLOW_VIEW, WIDGET_NOISE

NOISE_MIXES = ([WIDGET_NOISE], [RETRIED_REQUEST], [WIDGET_NOISE, RETRIED_REQUEST])

# Idle-gap scale per journey: form work is brisk, reading through quotes is not.
PACE = {"create_customer": 0.7, "edit_customer": 0.7, "create_quote": 0.7, "export_quote_pdf": 0.8,
        "close_ticket": 0.7, "review_pipeline": 0.9, "update_bank_details": 0.8, "check_customer": 1.0}

# Longest first, so parallel slots finish at about the same time.
LENGTH_ORDER = ["review_pipeline", "close_ticket", "create_quote", "create_customer", "edit_customer",
                "export_quote_pdf", "update_bank_details", "check_customer"]

# (journey, variant) per fault: blocking variants first (giving up for another section, or closing the tab), then
# the ones who get there.
FAULTY = {
    SAVE_FAILS: [("create_customer", GIVES_UP), ("edit_customer", CLOSES_TAB), ("create_quote", GIVES_UP),
                 ("update_bank_details", CLOSES_TAB),
                 ("create_customer", RECOVERS), ("edit_customer", RECOVERS), ("create_quote", RECOVERS),
                 ("update_bank_details", RECOVERS)],
    DEAD_ICON_BUTTON: [("export_quote_pdf", GIVES_UP), ("export_quote_pdf", CLOSES_TAB), ("close_ticket", GIVES_UP),
                       ("close_ticket", CLOSES_TAB),
                       ("export_quote_pdf", RECOVERS), ("export_quote_pdf", RECOVERS), ("close_ticket", RECOVERS),
                       ("close_ticket", RECOVERS)],
    SLOW_VIEW: [("review_pipeline", GIVES_UP), ("check_customer", CLOSES_TAB), ("export_quote_pdf", GIVES_UP),
                ("close_ticket", CLOSES_TAB),
                ("review_pipeline", RECOVERS), ("check_customer", RECOVERS), ("export_quote_pdf", RECOVERS),
                ("close_ticket", RECOVERS)],
    INVALID_FIELD: [("create_customer", GIVES_UP), ("create_customer", CLOSES_TAB), ("edit_customer", GIVES_UP),
                    ("update_bank_details", CLOSES_TAB),
                    ("create_customer", RECOVERS), ("create_customer", RECOVERS), ("edit_customer", RECOVERS),
                    ("update_bank_details", RECOVERS)],
}


def crm_plan(seed: int = 4711) -> list[JourneySpec]:
    """The 56 journeys of the CRM dataset; noise-only sessions are common, as in real products."""
    rng = random.Random(seed)
    entries: list[tuple[str, list[str], str]] = []

    def noise(chance: float) -> list[str]:
        """A noise mix with the given chance, else none."""
        return list(rng.choice(NOISE_MIXES)) if rng.random() < chance else []

    # 10 clean sessions, with the successful create flows among them.
    for journey in ["create_customer", "create_customer", "edit_customer", "create_quote", "export_quote_pdf",
                    "close_ticket", "review_pipeline", "review_pipeline", "update_bank_details", "check_customer"]:
        entries.append((journey, [], ""))
    # 14 noise-only sessions: the user gets what they came for; exceptions and retried calls happen underneath.
    for journey in ["create_customer", "create_customer", "edit_customer", "edit_customer", "create_quote",
                    "export_quote_pdf", "export_quote_pdf", "close_ticket", "close_ticket", "review_pipeline",
                    "review_pipeline", "update_bank_details", "check_customer", "check_customer"]:
        entries.append((journey, list(NOISE_MIXES[len(entries) % 3]), ""))
    # 8 sessions per fault, half of them blocking.
    for fault, plays in FAULTY.items():
        for journey, variant in plays:
            entries.append((journey, [fault] + noise(0.4), variant))

    specs = [JourneySpec(journey, sorted(set(faults)), seed=seed * 1000 + i, variant=variant, pace=PACE[journey])
             for i, (journey, faults, variant) in enumerate(entries)]
    for spec in [s for s in specs if s.journey == "review_pipeline" and not s.faults][:2]:
        spec.pace = 2.0  # the longest visits: someone reading quotes closely
    return sorted(specs, key=lambda s: LENGTH_ORDER.index(s.journey))
