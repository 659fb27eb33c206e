"""CRM journeys: each plays one goal of someone working in Kontora, with human pacing, and labels what it ran into."""
from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from corpus.crm_visit import CLOSES_TAB, CrmVisit
from demo_crm import records
from demo_crm.faults import INVALID_FIELD

SEED = records.seed_records()
CUSTOMERS = list(SEED["kunden"].values())
QUOTES = [q for q in SEED["angebote"].values() if q["status"] in ("Versendet", "Angenommen")]
NEW_COMPANIES = [("Hofmann Gerüstbau GmbH", "Handwerk"), ("Sander Feinkost e.K.", "Lebensmittel"),
                 ("Albrecht Mediendesign UG", "Medien"), ("Busch Zahntechnik GmbH", "Gesundheit"),
                 ("Peters Umzüge GmbH", "Logistik"), ("Engel Hausverwaltung GmbH", "Immobilien"),
                 ("Kuhn Kfz-Technik GmbH", "Handwerk"), ("Arnold Biohof GbR", "Lebensmittel"),
                 ("Vogt Messebau GmbH", "Medien"), ("Brauer Energieberatung PartG", "Energie"),
                 ("Haas Holzbau GmbH", "Handwerk"), ("Ludwig Laborbedarf KG", "Gesundheit")]
QUOTE_ITEMS = [("Beratung (Stunde)", "120,00"), ("Einrichtungspauschale", "890,00"), ("Schulung (Tag)", "1.450,00"),
               ("Lizenz pro Nutzer / Jahr", "348,00"), ("Wartung (Monat)", "450,00")]
QUOTE_TITLES = ["Wartungsvertrag", "Schulung Vertrieb", "Einrichtung und Lizenzen", "Supportpaket"]
REPLIES = ["Vielen Dank für Ihre Nachricht. Wir haben das Problem behoben, bitte prüfen Sie es noch einmal.",
           "Guten Tag, die Einstellung ist jetzt korrigiert. Melden Sie sich gern, falls noch etwas fehlt.",
           "Danke für den Hinweis, das ist erledigt. Viele Grüße aus dem Support"]


def vat_id(rng: random.Random) -> str:
    """A made-up German VAT ID, compact."""
    return "DE" + "".join(str(rng.randint(0, 9)) for _ in range(9))


def iban(rng: random.Random) -> str:
    """A made-up German IBAN, compact."""
    return "DE" + "".join(str(rng.randint(0, 9)) for _ in range(20))


def grouped(value: str, size: int) -> str:
    """A compact code as printed on letters: the country code and digits in groups (VAT IDs 3, IBANs 4)."""
    if size == 4:
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value[:2] + " " + " ".join(value[i:i + size] for i in range(2, len(value), size))


def other_spellings(value: str) -> list[str]:
    """Other spellings with spaces that a puzzled person tries after the first was rejected."""
    return [value[:2] + " " + value[2:], grouped(value, 4).lower(), grouped(value, 3)]


async def fill_customer(visit: CrmVisit, company: tuple[str, str], spaced_vat: bool) -> str:
    """Type a new customer's details into the form; returns the compact VAT ID."""
    s, rng = visit.shopper, visit.rng
    name, branch = company
    plz, city = rng.choice(records.CITIES)
    vat = vat_id(rng)
    first, last = rng.choice(records.FIRST), rng.choice(records.LAST)
    await s.type("#f-name", name)
    await s.pause(0.4, 1.5)
    await s.click("#f-branche")
    await s.pause(0.5, 1.5)
    await s.page.select("#f-branche", branch)
    await s.page.keyboard.press("Escape")
    await s.type("#f-strasse", f"{rng.choice(records.STREETS)} {rng.randint(1, 90)}")
    await s.type("#f-plz", plz, typo_chance=0.0)
    await s.type("#f-ort", city)
    await s.pause(0.5, 2)
    await s.type("#f-ust_id", grouped(vat, 3) if spaced_vat else vat, typo_chance=0.0)
    await s.pause(0.5, 2)
    await s.type("#f-kontakt_name", f"{first} {last}")
    await s.type("#f-email", f"{first[0].lower()}.{last.lower()}@{name.split()[0].lower()}.de", typo_chance=0.0)
    if rng.random() < 0.6:
        await s.type("#f-telefon", f"0{rng.randint(30, 911)} {rng.randint(100000, 9999999)}", typo_chance=0.0)
    await s.pause(1, 3)
    return vat


async def after_giving_up(visit: CrmVisit, here: str, outcome: str = "abandoned") -> None:
    """Leave a flow that did not work: close the tab, or go to another section and browse there."""
    visit.record.outcome = outcome
    if visit.variant == CLOSES_TAB:
        await visit.shopper.idle(1, 4)
        return
    await visit.browse_elsewhere({here})


# -- journeys -------------------------------------------------------------------------------------------------
async def create_customer(visit: CrmVisit) -> None:
    """Create a new customer from the dashboard or the customer list and look at the new record."""
    s, rng = visit.shopper, visit.rng
    company = rng.choice(NEW_COMPANIES)
    visit.record.goal = f"Create the customer {company[0]}"
    await visit.land(rng.choice(["/uebersicht", "/uebersicht", "/kunden"]))
    if await visit.path() == "/uebersicht" and rng.random() < 0.5:
        await s.click('.page-head a[href="/kunden/neu"]')
    else:
        if await visit.path() != "/kunden":
            await visit.open_section("kunden")
            await visit.view_ready()
            await s.read(2, 6)
        await s.click("#new-customer")
    await visit.view_ready()
    await s.pause(1, 3)
    strict = INVALID_FIELD in visit.faults
    vat = await fill_customer(visit, company, spaced_vat=strict or rng.random() < 0.4)
    saved = await visit.save_form(correct=("#f-ust_id", vat), bad_values=other_spellings(vat), what="the new customer")
    if not saved:
        await after_giving_up(visit, "kunden", "abandoned" if strict else "failed")
        return
    if not await visit.wait_for_path(r"^\/kunden\/\d+$"):
        raise RuntimeError("saving the customer did not open the new record")
    await visit.view_ready()
    await s.read(3, 9)
    if rng.random() < 0.4:
        await visit.open_section("kunden")
        await visit.view_ready()
        await s.read(2, 6)
    visit.record.outcome = "completed"


async def edit_customer(visit: CrmVisit) -> None:
    """Find a customer by filtering the list and update their address (and VAT ID)."""
    s, rng = visit.shopper, visit.rng
    customer = rng.choice(CUSTOMERS)
    strict = INVALID_FIELD in visit.faults
    change_vat = strict or rng.random() < 0.3
    visit.record.goal = f"Update the address{' and VAT ID' if change_vat else ''} of {customer['name']}"
    await visit.land(rng.choice(["/uebersicht", "/kunden"]))
    if await visit.path() != "/kunden":
        await visit.open_section("kunden")
        await visit.view_ready()
    await s.read(1, 4)
    await s.type("#filter-q", customer["name"].split()[0])
    await s.pause(1, 3)
    await s.click(f'#customers a[href="/kunden/{customer["id"]}"]')
    await visit.view_ready()
    await s.read(3, 8)
    await s.click('.toolbar a[aria-label="Bearbeiten"]')
    await visit.view_ready()
    await s.pause(1, 3)
    plz, city = rng.choice(records.CITIES)
    await s.clear_and_type("#f-strasse", f"{rng.choice(records.STREETS)} {rng.randint(1, 90)}")
    await s.clear_and_type("#f-plz", plz)
    await s.clear_and_type("#f-ort", city)
    vat = vat_id(rng)
    if change_vat:
        await s.pause(1, 3)
        await s.clear_and_type("#f-ust_id", grouped(vat, 3) if strict or rng.random() < 0.5 else vat)
    await s.pause(1, 3)
    saved = await visit.save_form(correct=("#f-ust_id", vat), bad_values=other_spellings(vat),
                                  what=f"the customer {customer['name']}")
    if not saved:
        await after_giving_up(visit, "kunden", "abandoned" if strict else "failed")
        return
    if not await visit.wait_for_path(rf"^\/kunden\/{customer['id']}$"):
        raise RuntimeError("saving the customer did not go back to the record")
    await visit.view_ready()
    await s.read(2, 7)
    visit.record.outcome = "completed"


async def create_quote(visit: CrmVisit) -> None:
    """Write a quote for a customer: pick the customer, add positions, save, and look at it."""
    s, rng = visit.shopper, visit.rng
    customer = rng.choice([c for c in CUSTOMERS if c["status"] != "Inaktiv"])
    visit.record.goal = f"Create a quote for {customer['name']}"
    await visit.land()
    await visit.open_section("angebote")
    await visit.view_ready()
    await s.read(2, 6)
    await s.click("#new-quote")
    await visit.view_ready()
    await s.pause(1, 3)
    await s.click("#f-kunde_id")
    await s.pause(1, 3)
    await s.page.select("#f-kunde_id", str(customer["id"]))
    await s.page.keyboard.press("Escape")
    await s.type("#f-titel", rng.choice(QUOTE_TITLES))
    due = date.today() + timedelta(days=rng.choice([14, 30, 30, 45]))
    await s.type("#f-gueltig_bis", due.strftime("%d.%m.%Y"), typo_chance=0.0)
    for row, (text, price) in enumerate(rng.sample(QUOTE_ITEMS, k=rng.randint(1, 2)), start=1):
        if row > 1:
            await s.click("#add-position")
            await s.pause(0.5, 1.5)
        base = f"tr.position:nth-child({row})"
        await s.type(f"{base} input[name=text]", text)
        await s.clear_and_type(f"{base} input[name=menge]", str(rng.choice([1, 2, 5, 10])))
        await s.type(f"{base} input[name=preis]", price, typo_chance=0.0)
        await s.pause(1, 3)
    await s.read(1, 4)
    if not await visit.save_form(what="the new quote"):
        await after_giving_up(visit, "angebote", "failed")
        return
    if not await visit.wait_for_path(r"^\/angebote\/\d+$"):
        raise RuntimeError("saving the quote did not open it")
    await visit.view_ready()
    await s.read(3, 9)
    visit.record.outcome = "completed"


async def open_quotes(visit: CrmVisit) -> bool:
    """Open the quotes list, which may be slow; False when the person gave up waiting."""
    await visit.open_section("angebote")
    return await visit.wait_out_slow_view()


async def export_quote_pdf(visit: CrmVisit) -> None:
    """Find a quote in the list and export it as PDF with the toolbar's icon button."""
    s, rng = visit.shopper, visit.rng
    quote = rng.choice(QUOTES)
    visit.record.goal = f"Export quote {quote['nummer']} as PDF"
    await visit.land()
    if not await open_quotes(visit):
        await after_giving_up(visit, "angebote")
        return
    await s.read(2, 6)
    if rng.random() < 0.6:
        await s.click(f'.tabs button[data-status="{quote["status"]}"]')
        await s.pause(1, 3)
    await s.click(f'#quotes a[href="/angebote/{quote["id"]}"]')
    await visit.view_ready()
    await s.read(3, 9)
    if not await visit.use_icon_action("#export-pdf", "#quote-menu-button", '#quote-menu [data-action="exportPdf"]',
                                       "'Als PDF exportieren' (PDF icon)"):
        await after_giving_up(visit, "angebote")
        return
    await s.read(2, 6)
    visit.record.outcome = "completed"


async def close_ticket(visit: CrmVisit) -> None:
    """Answer an open ticket, mark it done, and archive it with the toolbar's icon button."""
    s, rng = visit.shopper, visit.rng
    visit.record.goal = "Answer an open support ticket and archive it"
    await visit.land(rng.choice(["/uebersicht", "/uebersicht", "/tickets"]))
    if await visit.path() != "/tickets":
        await visit.open_section("tickets")
    if not await visit.wait_out_slow_view():
        await after_giving_up(visit, "tickets")
        return
    await s.read(2, 6)
    open_count = await s.evaluate(
        "() => [...document.querySelectorAll('#tickets tbody tr')].filter(r => r.textContent.includes('Offen')).length",
        default=0)
    if open_count and rng.random() < 0.7:
        await s.click("#ticket-status")
        await s.pause(0.6, 1.5)
        await s.page.select("#ticket-status", "Offen")
        await s.page.keyboard.press("Escape")
        await s.pause(1, 3)
    await visit.open_row("#tickets", "/tickets/")
    await visit.view_ready()
    ticket = (await visit.path()).rsplit("/", 1)[-1]
    visit.record.goal = f"Answer ticket #{ticket} and archive it"
    await s.read(4, 10)
    await s.type("#reply-text", rng.choice(REPLIES), typo_chance=0.02)
    await s.pause(1, 3)
    await visit.seen_toasts()
    await s.click("#send-reply")
    if not await visit.new_toast(timeout=6):
        raise RuntimeError("sending the reply showed nothing")
    await s.pause(1.5, 4)
    await s.click("#f-status")
    await s.pause(0.5, 1.5)
    await visit.seen_toasts()
    await s.page.select("#f-status", "Abgeschlossen")
    await s.page.keyboard.press("Escape")
    if not await visit.new_toast(timeout=6):
        raise RuntimeError("changing the status showed nothing")
    await s.read(2, 5)
    if not await visit.use_icon_action("#archive-ticket", "#ticket-menu-button", '#ticket-menu [data-action="archive"]',
                                       "'Archivieren' (archive box icon)"):
        await after_giving_up(visit, "tickets")
        return
    await visit.wait_for_path(r"^\/tickets$")
    await visit.view_ready()
    await s.read(2, 6)
    visit.record.outcome = "completed"


async def review_pipeline(visit: CrmVisit) -> None:
    """Go through the sent quotes one by one, back and forth, and read them."""
    s, rng = visit.shopper, visit.rng
    visit.record.goal = "Review the quotes sent to customers"
    await visit.land()
    await s.idle(2, 8)
    if not await open_quotes(visit):
        await after_giving_up(visit, "angebote")
        return
    for round_ in range(rng.randint(2, 3)):
        await s.read(2, 6)
        await s.click('.tabs button[data-status="Versendet"]')
        await s.read(2, 6)
        await visit.open_row("#quotes", "/angebote/")
        await visit.view_ready()
        await s.read(4, 10)
        await s.idle(4, 20)
        await s.back()
        if not await visit.wait_out_slow_view():
            await after_giving_up(visit, "angebote")
            return
    await s.read(2, 6)
    visit.record.outcome = "completed"


async def update_bank_details(visit: CrmVisit) -> None:
    """Change the company's IBAN and BIC in the settings."""
    s, rng = visit.shopper, visit.rng
    visit.record.goal = "Update the company's bank details in the settings"
    await visit.land()
    await visit.open_section("einstellungen")
    await visit.view_ready()
    await s.read(2, 6)
    strict = INVALID_FIELD in visit.faults
    compact = iban(rng)
    typed = grouped(compact, 4) if strict or rng.random() < 0.6 else compact
    await s.clear_and_type("#f-iban", typed)
    await s.pause(0.5, 2)
    await s.clear_and_type("#f-bic", rng.choice(["COBADEFFXXX", "DEUTDEDBBER", "GENODEF1S04", "BYLADEM1001"]))
    await s.pause(1, 3)
    saved = await visit.save_form(correct=("#f-iban", compact), bad_values=other_spellings(compact),
                                  what="the bank details")
    if not saved:
        await after_giving_up(visit, "einstellungen", "abandoned" if strict else "failed")
        return
    await s.read(2, 5)
    if rng.random() < 0.5:
        await s.click("#tab-integrationen")
        await s.read(3, 8)
    visit.record.outcome = "completed"


async def check_customer(visit: CrmVisit) -> None:
    """Look up a customer's contact person with the search box."""
    s, rng = visit.shopper, visit.rng
    customer = rng.choice(CUSTOMERS)
    visit.record.goal = f"Look up the contact person of {customer['name']}"
    await visit.land()
    await s.type("#global-search-input", customer["name"].split()[0])
    await s.pause(0.3, 1)
    await s.press("Enter")
    await visit.view_ready()
    await s.read(1, 4)
    await s.click(f'#customers a[href="/kunden/{customer["id"]}"]')
    if not await visit.wait_out_slow_view():
        await after_giving_up(visit, "kunden")
        return
    await s.read(3, 8)
    await s.hover("#contact-name")
    await s.idle(3, 10)
    visit.record.outcome = "completed"


JOURNEYS: dict[str, Callable[[CrmVisit], Awaitable[None]]] = {
    "create_customer": create_customer,
    "edit_customer": edit_customer,
    "create_quote": create_quote,
    "export_quote_pdf": export_quote_pdf,
    "close_ticket": close_ticket,
    "review_pipeline": review_pipeline,
    "update_bank_details": update_bank_details,
    "check_customer": check_customer,
}
