"""Shopper journeys: each plays one goal on the demo shop with human pacing and labels what it ran into."""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from corpus.truth import BLOCKING, NON_BLOCKING
from corpus.visit import Visit
from demo_shop import catalog
from demo_shop.faults import CONFUSING_VALIDATION, DEAD_BUTTON, PAYMENT_500

GIVES_UP = "gives_up"
WORKAROUND = "workaround"

SEARCH_TERMS = {
    1: "kettle", 2: "skillet", 3: "knife", 4: "mugs", 5: "cutting board", 6: "backpack", 7: "lantern",
    8: "bottle", 9: "picnic", 10: "desk mat", 11: "lamp", 12: "notebook", 13: "mouse", 14: "cushion",
    15: "throw", 16: "plant pot", 17: "candle", 18: "clock",
}
NO_RESULT_TERMS = ["yoga mat", "espresso machine", "hammock", "headphones", "tent pegs"]
FIRST_NAMES = ["Amira", "Ben", "Chloe", "Dev", "Elena", "Femi", "Grace", "Hugo", "Isla", "Jonas", "Kira", "Luca"]
LAST_NAMES = ["Patel", "Nowak", "Okafor", "Smith", "Garcia", "Khan", "Murphy", "Rossi", "Lindqvist", "Evans"]
CITIES = [("London", "N1 9GU"), ("Leeds", "LS1 4DY"), ("Bristol", "BS1 5TR"), ("Glasgow", "G2 1DU"),
          ("Cardiff", "CF10 1EP"), ("York", "YO1 7HH")]
STREETS = ["Market Street", "Hill Road", "Station Lane", "Church Walk", "Park Avenue", "Mill Close"]


class Trip(Visit):
    """One shop journey in progress, with the shop's own ways of telling what happened."""

    async def toast_appears(self, timeout: float = 2.5) -> bool:
        """True when the 'Added to your cart' toast shows up."""
        return await self.shopper.wait_for(".toast", timeout=timeout)

    async def checkout_state(self, timeout: float) -> str:
        """After pressing Pay: "order" once the confirmation page shows, the banner's text, or "" on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "/order/" in self.shopper.page.url:
                return "order"
            text = await self.shopper.evaluate(
                "() => { const b = document.querySelector('#form-banner'); return b && !b.hidden ? b.textContent : ''; }",
                default="")
            if text:
                return text
            await asyncio.sleep(0.25)
        return ""


# -- building blocks ------------------------------------------------------------------------------------------
async def land_on_home(trip: Trip) -> None:
    """Arrive at the home page and look around."""
    s = trip.shopper
    await s.goto(trip.url("/"))
    await trip.remember_session()
    await s.wait_for("#products .card", timeout=20)
    await s.read(3, 10)


async def open_listing(trip: Trip, product: catalog.Product) -> None:
    """Get to a listing containing the product: by typing a search or by the category menu."""
    s = trip.shopper
    if trip.rng.random() < 0.55:
        await s.type("#search-input", SEARCH_TERMS[product.id])
        await s.pause(0.3, 1.2)
        await s.press("Enter", navigates=True)
    else:
        await s.click(f'header nav a[href="/category/{product.category}"]', navigates=True)
    await wait_for_products(trip)


async def wait_for_products(trip: Trip) -> None:
    """Wait for the product grid; a person fidgets while a slow list loads."""
    s = trip.shopper
    deadline = time.monotonic() + 25
    while not await s.wait_for("#products .card, #products p.muted", timeout=1.5):
        if time.monotonic() > deadline:
            raise RuntimeError("the product list never loaded")
        await s.move(s.x + trip.rng.uniform(-120, 120), s.y + trip.rng.uniform(-80, 80))


async def open_product(trip: Trip, product: catalog.Product) -> None:
    """Click a product in the current listing and read its page."""
    s = trip.shopper
    await s.click(f'.card[data-product-id="{product.id}"] a.name', navigates=True)
    await s.wait_for("#add-to-cart", timeout=20)
    await s.read(4, 14)
    if trip.rng.random() < 0.4:
        await s.click("details summary")
        await s.pause(2, 6)


async def peek_other_product(trip: Trip, product: catalog.Product) -> None:
    """Look at a neighbour in the listing first, then come back with the browser's back button."""
    s = trip.shopper
    others = [p for p in catalog.in_category(product.category) if p.id != product.id]
    ids = await s.page.evaluate("() => [...document.querySelectorAll('#products .card')].map(c => Number(c.dataset.productId))")
    others = [p for p in others if p.id in ids]
    if not others:
        return
    await open_product(trip, trip.rng.choice(others))
    await s.idle(3, 12)
    await s.back()
    await wait_for_products(trip)
    await s.read(1, 4)


async def add_from_product_page(trip: Trip, product: catalog.Product) -> bool:
    """Press "Add to cart"; with a dead button, keep trying, then give up or add from the listing instead."""
    s = trip.shopper
    # The page has finished loading (its recommendations too) by the time a person decides to buy.
    await s.wait_for("#recommendations .card, #recommendations p.muted", timeout=20)
    if trip.rng.random() < 0.35:
        await s.click(".qty-plus")
        await s.pause(0.5, 1.5)
    first_click = await s.click("#add-to-cart")
    if await trip.toast_appears():
        await s.pause(1, 3)
        return True
    if DEAD_BUTTON not in trip.faults:
        raise RuntimeError("Add to cart showed no confirmation although the button works")
    # Nothing happened: click again, sometimes in a burst of frustration.
    clicks = 1 + await s.click_again("#add-to-cart")
    await s.idle(3, 9)
    if trip.variant == WORKAROUND:
        await s.back()
        await wait_for_products(trip)
        await s.pause(1, 4)
        await s.click(f'.card[data-product-id="{product.id}"] .quick-add')
        if not await trip.toast_appears():
            raise RuntimeError("quick add from the listing did not work")
        trip.record.mark(DEAD_BUTTON, NON_BLOCKING, first_click,
                         f"'Add to cart' on the {product.name} page did nothing ({clicks} clicks); "
                         "the shopper went back and used '+ Add' on the listing instead.")
        await s.pause(1, 3)
        return True
    trip.record.mark(DEAD_BUTTON, BLOCKING, first_click,
                     f"'Add to cart' on the {product.name} page did nothing ({clicks} clicks); "
                     "the shopper gave up and left.")
    return False


def person(rng: random.Random, spaced_phone: bool) -> dict[str, str]:
    """Made-up checkout details."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, postcode = rng.choice(CITIES)
    digits = f"07{rng.randint(100, 999)}{rng.randint(100000, 999999)}"
    if spaced_phone:
        phone = rng.choice([f"{digits[:5]} {digits[5:]}", f"+44 {digits[1:5]} {digits[5:]}"])
    else:
        phone = digits
    return {
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.com",
        "address": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
        "city": city,
        "postcode": postcode,
        "phone": phone,
        "card": "4242 4242 4242 4242",
        "expiry": f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}",
        "cvc": f"{rng.randint(100, 999)}",
        "digits_phone": digits,
    }


async def go_to_checkout(trip: Trip) -> None:
    """From anywhere: open the cart, maybe adjust it, and go to checkout."""
    s = trip.shopper
    await s.click("#cart-link", navigates=True)
    await s.wait_for("#checkout-button")
    await s.read(2, 7)
    if trip.rng.random() < 0.3:
        await s.click_nth("#cart .qty-plus", 0)
        await s.pause(1, 3)
    await s.click("#checkout-button", navigates=True)
    await s.wait_for("#checkout-form")
    await s.pause(1, 4)


async def checkout(trip: Trip) -> None:
    """Fill the checkout form and pay; react to confusing validation and failed payments like a person."""
    s = trip.shopper
    confusing = CONFUSING_VALIDATION in trip.faults
    details = person(trip.rng, spaced_phone=confusing or trip.rng.random() < 0.6)
    for field in ("name", "email", "address", "city", "postcode", "phone"):
        await s.type(f"#{field}", details[field])
        await s.pause(0.3, 1.5)
    await s.scroll(300)
    await s.pause(1, 4)  # find the card
    for field in ("card", "expiry", "cvc"):
        await s.type(f"#{field}", details[field], typo_chance=0.0)
        await s.pause(0.3, 1.2)
    await s.pause(1, 3)
    submitted = await s.click("#pay-button")
    banner = await trip.checkout_state(timeout=3)
    if banner.startswith("Please check your details"):
        first_error = submitted
        await s.scroll(-500)
        await s.idle(3, 9)  # reads the form again; nothing says what is wrong
        await s.clear_and_type("#email", details["email"])
        await s.pause(1, 3)
        await s.click("#pay-button")
        await s.pause(1, 2)
        await s.idle(3, 8)
        if trip.variant != WORKAROUND:
            trip.record.mark(CONFUSING_VALIDATION, BLOCKING, first_error,
                             "Checkout said only 'Please check your details.' without naming a field (the phone "
                             "number had spaces); the shopper retried, could not tell what was wrong, and left.")
            trip.record.outcome = "abandoned"
            trip.record.goal += " (gave up at checkout)"
            return
        await s.clear_and_type("#phone", details["digits_phone"])
        await s.pause(1, 3)
        trip.record.mark(CONFUSING_VALIDATION, NON_BLOCKING, first_error,
                         "Checkout said only 'Please check your details.' without naming a field (the phone "
                         "number had spaces); after several tries the shopper typed the phone without spaces.")
        submitted = await s.click("#pay-button")
    elif banner not in ("", "order") and not banner.startswith("Payment failed"):
        raise RuntimeError(f"unexpected validation message: {banner}")
    await pay_outcome(trip)


async def pay_outcome(trip: Trip) -> None:
    """Wait for the payment's result; with a failing payment API, retry once or twice, then leave."""
    s = trip.shopper
    for attempt in range(4):
        state = await trip.checkout_state(timeout=15)
        if state == "order":
            await s.settle()
            await s.wait_for("#order .banner")
            trip.record.outcome = "completed"
            await s.read(3, 8)
            return
        if not state.startswith("Payment failed"):
            raise RuntimeError(f"payment never finished (page says {state!r})")
        if PAYMENT_500 not in trip.faults:
            raise RuntimeError("payment failed without the payment_500 fault")
        if attempt >= trip.rng.randint(1, 2):
            await s.idle(4, 12)
            trip.record.outcome = "failed"
            return
        await s.idle(3, 10)
        await s.click("#pay-button")
    trip.record.outcome = "failed"


# -- journeys -------------------------------------------------------------------------------------------------
async def buy_product(trip: Trip) -> None:
    """Find one product by search or menu, add it to the cart, and pay."""
    product = trip.rng.choice(catalog.PRODUCTS)
    trip.record.goal = f"Buy the {product.name.lower()}"
    await land_on_home(trip)
    await open_listing(trip, product)
    await trip.shopper.read(2, 7)
    if trip.rng.random() < 0.4:
        await peek_other_product(trip, product)
    await open_product(trip, product)
    if not await add_from_product_page(trip, product):
        trip.record.outcome = "abandoned"
        return
    await go_to_checkout(trip)
    await checkout(trip)


async def quick_add_buy(trip: Trip) -> None:
    """Add a couple of items straight from the home page grid and pay."""
    s = trip.shopper
    trip.record.goal = "Buy a couple of items from the home page"
    await land_on_home(trip)
    await s.scroll(600)
    await s.pause(2, 6)
    count = await s.page.evaluate("() => document.querySelectorAll('#products .quick-add').length")
    for index in trip.rng.sample(range(count), k=min(count, trip.rng.randint(2, 3))):
        await s.click_nth("#products .quick-add", index)
        if not await trip.toast_appears():
            raise RuntimeError("quick add did not confirm")
        await s.pause(2, 7)
    await go_to_checkout(trip)
    await checkout(trip)


async def browse_compare(trip: Trip) -> None:
    """Compare products of one category: sort, open a few, go back and forth, read, and leave."""
    s = trip.shopper
    category = trip.rng.choice(list(catalog.CATEGORIES))
    trip.record.goal = f"Compare {catalog.CATEGORIES[category].lower()} products"
    await land_on_home(trip)
    await s.click(f'header nav a[href="/category/{category}"]', navigates=True)
    await wait_for_products(trip)
    await s.read(3, 8)
    await s.click("#sort")
    await s.pause(0.8, 2)
    await s.page.select("#sort", trip.rng.choice(["price-asc", "price-desc"]))
    await s.page.keyboard.press("Escape")
    await s.read(3, 10)
    products = catalog.in_category(category)
    for product in trip.rng.sample(products, k=min(len(products), trip.rng.randint(2, 3))):
        await open_product(trip, product)
        await s.idle(8, 35)
        await s.back()
        await wait_for_products(trip)
        await s.read(2, 6)
    trip.record.outcome = "completed"


async def search_browse(trip: Trip) -> None:
    """Look for something the shop may not have, try another search, and put the find in the cart."""
    s = trip.shopper
    product = trip.rng.choice(catalog.PRODUCTS)
    trip.record.goal = f"Find a {SEARCH_TERMS[product.id]} and put it in the cart"
    await land_on_home(trip)
    await s.type("#search-input", trip.rng.choice(NO_RESULT_TERMS))
    await s.press("Enter", navigates=True)
    await wait_for_products(trip)
    await s.idle(3, 8)
    await s.clear_and_type("#search-input", SEARCH_TERMS[product.id])
    await s.press("Enter", navigates=True)
    await wait_for_products(trip)
    await s.read(2, 6)
    await open_product(trip, product)
    if not await add_from_product_page(trip, product):
        trip.record.outcome = "abandoned"
        return
    await s.read(2, 6)
    trip.record.outcome = "completed"


async def update_address(trip: Trip) -> None:
    """Sign in and change the delivery address."""
    s = trip.shopper
    trip.record.goal = "Sign in and update the delivery address"
    details = person(trip.rng, spaced_phone=False)
    await land_on_home(trip)
    await s.click("#account-link", navigates=True)
    await s.wait_for("#login-email")
    await s.pause(1, 3)
    await s.type("#login-email", details["email"])
    await s.type("#login-password", "correct horse battery", typo_chance=0.0)
    await s.click("#login-button")
    await s.wait_for("#address-form")
    await s.read(2, 6)
    for field, key in (("#acct-address", "address"), ("#acct-city", "city"), ("#acct-postcode", "postcode")):
        await s.type(field, details[key])
        await s.pause(0.4, 1.5)
    await s.click("#save-address")
    await s.wait_for("#address-banner:not([hidden])")
    await s.idle(3, 10)
    await s.click("header .logo", navigates=True)
    await s.read(2, 6)
    trip.record.outcome = "completed"


async def gift_shortlist(trip: Trip) -> None:
    """A long, slow visit: wander through categories, read closely, and leave a shortlist in the cart."""
    s = trip.shopper
    trip.record.goal = "Shortlist gift ideas in the cart"
    await land_on_home(trip)
    await s.idle(8, 20)
    categories = trip.rng.sample(list(catalog.CATEGORIES), k=2)
    added = 0
    for category in categories:
        await s.click(f'header nav a[href="/category/{category}"]', navigates=True)
        await wait_for_products(trip)
        await s.read(4, 10)
        for product in trip.rng.sample(catalog.in_category(category), k=2):
            await open_product(trip, product)
            await s.idle(15, 45)
            if added < 2 and trip.rng.random() < 0.7:
                if await add_from_product_page(trip, product):
                    added += 1
                else:
                    trip.record.outcome = "abandoned"
                    return
                if "/category/" in s.page.url:
                    await s.read(2, 5)
                    continue
            await s.back()
            await wait_for_products(trip)
            await s.read(2, 6)
    await s.click("#cart-link", navigates=True)
    await s.read(5, 15)
    trip.record.outcome = "completed"


async def quick_look(trip: Trip) -> None:
    """A short visit: glance at the home page and one product, then leave."""
    s = trip.shopper
    trip.record.goal = "Have a quick look at what the shop sells"
    await land_on_home(trip)
    await s.scroll(trip.rng.randint(300, 800))
    await s.pause(2, 6)
    count = await s.page.evaluate("() => document.querySelectorAll('#products .card a.name').length")
    await s.click_nth("#products .card a.name", trip.rng.randrange(count), navigates=True)
    await s.wait_for("#add-to-cart")
    await s.read(3, 9)
    trip.record.outcome = "completed"


JOURNEYS: dict[str, Callable[[Trip], Awaitable[None]]] = {
    "buy_product": buy_product,
    "quick_add_buy": quick_add_buy,
    "browse_compare": browse_compare,
    "search_browse": search_browse,
    "update_address": update_address,
    "gift_shortlist": gift_shortlist,
    "quick_look": quick_look,
}
