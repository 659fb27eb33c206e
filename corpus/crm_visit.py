"""A person at work in the Kontora CRM: reading views, saving forms, and reacting to what goes wrong."""
from __future__ import annotations

import asyncio
import random
import time

from corpus.truth import BLOCKING, NON_BLOCKING, JourneySpec
from corpus.visit import Visit
from demo_crm.faults import DEAD_ICON_BUTTON, INVALID_FIELD, SAVE_FAILS, SLOW_VIEW, cookie_value

GIVES_UP = "gives_up"
"""Gives up on the flow and goes to another section of the app, browsing there."""
CLOSES_TAB = "closes_tab"
"""Gives up on the flow and closes the tab."""
RECOVERS = "recovers"
"""Gets there after the problem: retries later, finds the other way, corrects the value, or waits."""

# Which view is slow in a journey with the slow_view fault (the one the journey cannot do without).
SLOW_TARGET = {"review_pipeline": "angebote", "export_quote_pdf": "angebote", "close_ticket": "tickets",
               "check_customer": "kunde"}
# Slow enough that nobody waits it out, or slow but bearable.
STUCK_SECONDS, SLOW_SECONDS = 45, (5, 6, 7, 8)

SECTIONS = ("uebersicht", "kunden", "angebote", "tickets", "einstellungen")


def fault_cookie(spec: JourneySpec) -> str:
    """The crm_faults cookie of a journey: its faults with the arguments its variant needs."""
    rng = random.Random(spec.seed)
    faults: dict[str, tuple[str, ...]] = {}
    for name in spec.faults:
        args: tuple[str, ...] = ()
        if name == SAVE_FAILS and spec.variant == RECOVERS:
            args = (str(rng.choice([1, 1, 2])),)  # the first save(s) fail, a later one works
        elif name == SLOW_VIEW:
            seconds = STUCK_SECONDS if spec.variant in (GIVES_UP, CLOSES_TAB) else rng.choice(SLOW_SECONDS)
            args = (SLOW_TARGET[spec.journey], str(seconds))
        faults[name] = args
    return cookie_value(faults)


class CrmVisit(Visit):
    """One CRM journey in progress, with ways to tell what the app did."""

    @property
    def gives_up(self) -> bool:
        """Whether this person abandons the flow when a fault gets in the way."""
        return self.variant in (GIVES_UP, CLOSES_TAB)

    # -- what the page shows ----------------------------------------------------------------------------------
    async def view_loaded(self) -> bool:
        """Whether the current view has finished loading."""
        return bool(await self.shopper.evaluate(
            "() => document.querySelector('#view').getAttribute('aria-busy') === 'false'", default=False))

    async def view_ready(self, timeout: float = 30.0) -> None:
        """Wait for the current view to finish loading; a person fidgets meanwhile."""
        s = self.shopper
        deadline = time.monotonic() + timeout
        while not await self.view_loaded():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the view at {s.page.url} never finished loading")
            await asyncio.sleep(0.4)
            if self.rng.random() < 0.15:
                await s.move(s.x + self.rng.uniform(-100, 100), s.y + self.rng.uniform(-60, 60))

    async def wait_out_slow_view(self) -> bool:
        """Wait for a view that may be slow; someone who gives up leaves after 4-12 s. True once it loaded."""
        s = self.shopper
        patience = self.rng.uniform(4, 12) if self.gives_up and SLOW_VIEW in self.faults else 40.0
        started = time.monotonic()
        while not await self.view_loaded():
            if time.monotonic() - started > patience:
                return False
            await asyncio.sleep(0.5)
            if self.rng.random() < 0.2:
                await s.move(s.x + self.rng.uniform(-140, 140), s.y + self.rng.uniform(-90, 90))
            elif self.rng.random() < 0.05:
                await s.scroll(self.rng.choice([-240, 240]))
        return True

    async def path(self) -> str:
        """The app's current path."""
        return await self.shopper.evaluate("() => location.pathname", default="")

    async def wait_for_path(self, pattern: str, timeout: float = 15.0) -> bool:
        """Wait until the path matches a regular expression (the router pushed a new URL)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.shopper.evaluate(f"() => /{pattern}/.test(location.pathname)", default=False):
                return True
            await asyncio.sleep(0.25)
        return False

    async def seen_toasts(self) -> None:
        """Remember the toasts on screen now, so new_toast reports only later ones (kept in JS, not in the DOM)."""
        await self.shopper.evaluate(
            "() => { const seen = window.__corpusSeen = window.__corpusSeen || new WeakSet();"
            " document.querySelectorAll('#toasts .toast').forEach(t => seen.add(t)); }")

    async def new_toast(self, timeout: float) -> tuple[str, str] | None:
        """The (role, text) of the next toast not seen before, or None when none shows up in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = await self.shopper.evaluate(
                "() => { const seen = window.__corpusSeen = window.__corpusSeen || new WeakSet();"
                " const t = [...document.querySelectorAll('#toasts .toast')].find(t => !seen.has(t));"
                " if (!t) return null; seen.add(t);"
                " return [t.getAttribute('role'), t.querySelector('.toast-text').textContent]; }")
            if found:
                return found[0], found[1]
            await asyncio.sleep(0.2)
        return None

    async def toasts_gone(self, timeout: float = 12.0) -> None:
        """Wait until no toast is on screen (a person reads on while one fades)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not await self.shopper.evaluate("() => document.querySelectorAll('#toasts .toast').length", default=0):
                return
            await asyncio.sleep(0.5)

    async def save_outcome(self, timeout: float = 15.0) -> str:
        """After pressing save: "saved", "error" (an alert toast), "invalid" (a field marked invalid) or ""."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            toast = await self.new_toast(timeout=0.3)
            if toast:
                return "error" if toast[0] == "alert" else "saved"
            invalid = await self.shopper.evaluate(
                "() => !!document.querySelector('form:not([aria-busy=true]) [aria-invalid=true]')", default=False)
            if invalid:
                return "invalid"
        return ""

    # -- moving around ----------------------------------------------------------------------------------------
    async def open_section(self, section: str) -> float:
        """Click a section in the sidebar; returns when the click happened (the view may still be loading)."""
        return await self.shopper.click(f'.sidebar a[data-section="{section}"]')

    async def land(self, path: str = "/uebersicht") -> None:
        """Open the app (a bookmark or the start page) and look around."""
        s = self.shopper
        await s.goto(self.url(path))
        await self.remember_session()
        await self.view_ready()
        await s.read(2, 6)

    async def open_row(self, table: str, path_prefix: str) -> None:
        """Open one of the records listed in a table, chosen at random."""
        s = self.shopper
        # Aim by the row's own link (hrefs are unique), so the page is not marked up for the pick.
        hrefs = await s.evaluate(
            f"() => [...document.querySelectorAll('{table} tbody a[data-link]')].map(a => a.getAttribute('href'))",
            default=[])
        if not hrefs:
            return
        await s.click(f'{table} tbody a[href="{self.rng.choice(hrefs)}"]')
        await self.wait_for_path(f"^{path_prefix}\\d+$")

    async def browse_elsewhere(self, avoid: set[str]) -> None:
        """After giving up: go to another section, look around there, maybe open a record."""
        s = self.shopper
        section = self.rng.choice([x for x in SECTIONS if x not in avoid and x != "einstellungen"])
        await self.open_section(section)
        await self.view_ready()
        await s.read(3, 9)
        tables = {"kunden": ("#customers", "/kunden/"), "angebote": ("#quotes", "/angebote/"),
                  "tickets": ("#tickets", "/tickets/")}
        if section in tables and self.rng.random() < 0.7:
            await self.open_row(*tables[section])
            await self.view_ready()
            await s.read(4, 12)
        await s.idle(2, 8)

    # -- reacting to faults -----------------------------------------------------------------------------------
    async def press_save(self, icon_chance: float = 0.3) -> float:
        """Press the form's "Speichern" button, or now and then the floppy icon at the top of the form."""
        s = self.shopper
        icon_button = '.form-head button[aria-label="Speichern"]'
        icon = await s.evaluate(f"() => !!document.querySelector('{icon_button}')", default=False)
        await self.seen_toasts()
        if icon and self.rng.random() < icon_chance:
            return await s.click(icon_button)
        return await s.click("#save-button")

    async def save_form(self, correct: tuple[str, str] | None = None, bad_values: list[str] | None = None,
                        what: str = "the record") -> bool:
        """Save a filled form and react like a person to what comes back; True once it is saved.

        `correct` is (field selector, value the strict check accepts), `bad_values` other spellings a person
        tries first, for a form whose check rejects what they typed.
        """
        clicked = await self.press_save()
        outcome = await self.save_outcome()
        if outcome == "saved":
            return True
        if outcome == "error":
            return await self._after_failed_save()
        if outcome == "invalid" and INVALID_FIELD in self.faults and correct:
            return await self._after_rejected_value(clicked, correct, bad_values or [], what)
        raise RuntimeError(f"saving {what} ended with {outcome or 'nothing'} (faults {sorted(self.faults)})")

    async def _after_failed_save(self) -> bool:
        """An error toast after saving: try again a bit later (until it works), or give up after a retry or two."""
        s = self.shopper
        if SAVE_FAILS not in self.faults:
            raise RuntimeError("saving failed although the session has no save_fails fault")
        retries = 4 if not self.gives_up else self.rng.randint(1, 2)
        for _ in range(retries):
            await s.idle(3, 10)  # reads the message, checks the form, waits a moment
            if self.rng.random() < 0.4:
                await s.scroll(self.rng.choice([-300, 300]))
            await self.press_save(icon_chance=0.5)
            outcome = await self.save_outcome()
            if outcome == "saved":
                if self.gives_up:
                    raise RuntimeError("a save worked although every save should fail")
                return True
            if outcome != "error":
                raise RuntimeError(f"a retried save ended with {outcome or 'nothing'}")
        if not self.gives_up:
            raise RuntimeError("saves kept failing although they should recover")
        await s.idle(3, 9)
        return False

    async def _after_rejected_value(self, first_rejected: float, correct: tuple[str, str], bad_values: list[str],
                                    what: str) -> bool:
        """A field marked invalid: retype it the way the check wants, or try other spellings and give up."""
        s = self.shopper
        selector, good = correct
        label = await s.evaluate(f"() => document.querySelector('label[for=\"{selector[1:]}\"]').textContent",
                                 default="field")
        message = await s.evaluate(f"() => document.querySelector('{selector}-error').textContent", default="")
        tries = 1
        attempts = bad_values[: (self.rng.randint(1, 2) if self.gives_up else self.rng.randint(0, 1))]
        for value in attempts:
            await s.idle(2, 7)
            await s.clear_and_type(selector, value)
            await s.pause(0.5, 2)
            await self.press_save()
            tries += 1
            if await self.save_outcome() != "invalid":
                raise RuntimeError(f"{value!r} was accepted although the strict check should reject it")
        if self.gives_up:
            await s.idle(4, 10)
            self.record.mark(INVALID_FIELD, BLOCKING, first_rejected,
                             f"Saving {what} was rejected: the {label} field was marked invalid ('{message}') "
                             f"after {tries} attempt(s) with spaces in the value; the message does not say what is "
                             "wrong, and the user gave up.")
            return False
        await s.idle(3, 8)
        await s.clear_and_type(selector, good)
        await s.pause(0.5, 2)
        await self.press_save()
        tries += 1
        if await self.save_outcome() != "saved":
            raise RuntimeError(f"the corrected value {good!r} was not saved")
        self.record.mark(INVALID_FIELD, NON_BLOCKING, first_rejected,
                         f"Saving {what} was rejected: the {label} field was marked invalid ('{message}') because the "
                         f"value had spaces; after {tries - 1} rejected attempt(s) the user typed it without spaces "
                         "and saved.")
        return True

    async def use_icon_action(self, button: str, menu_button: str, menu_item: str, what: str) -> bool:
        """Click an icon-only toolbar action and wait for its toast; with a dead button, react. True when done."""
        s = self.shopper
        await self.toasts_gone()
        await self.seen_toasts()
        first_click = await s.click(button)
        if await self.new_toast(timeout=4.0):
            return True
        if DEAD_ICON_BUTTON not in self.faults:
            raise RuntimeError(f"{what} did nothing although the toolbar works")
        clicks = 1 + await s.click_again(button)
        await s.idle(3, 8)
        if self.gives_up:
            self.record.mark(DEAD_ICON_BUTTON, BLOCKING, first_click,
                             f"The icon button {what} did nothing ({clicks} clicks, no request, no change on the "
                             "page); the user gave up.")
            return False
        await s.click(menu_button)
        await s.pause(0.8, 2.5)
        await self.seen_toasts()
        await s.click(menu_item)
        if not await self.new_toast(timeout=6.0):
            raise RuntimeError(f"{what} from the '⋯' menu did not work either")
        self.record.mark(DEAD_ICON_BUTTON, NON_BLOCKING, first_click,
                         f"The icon button {what} did nothing ({clicks} clicks, no request, no change on the page); "
                         "the user found the same action in the '⋯' menu and it worked.")
        return True
