"""The shop's catalogue: products, categories and search over them."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Product:
    """One product on sale."""

    id: int
    slug: str
    name: str
    category: str
    price_cents: int
    colour: str
    blurb: str
    stock: int = 20

    def as_json(self) -> dict:
        """The product as the JSON API returns it."""
        data = asdict(self)
        data["price"] = f"{self.price_cents / 100:.2f}"
        return data


CATEGORIES = {
    "kitchen": "Kitchen",
    "outdoor": "Outdoor",
    "office": "Office",
    "home": "Home",
}

PRODUCTS: list[Product] = [
    Product(1, "pour-over-kettle", "Pour-over kettle", "kitchen", 4900, "#c0392b",
            "A gooseneck kettle with a thermometer in the lid, for slow, even pours."),
    Product(2, "cast-iron-skillet", "Cast iron skillet 26 cm", "kitchen", 3900, "#2c3e50",
            "Pre-seasoned, oven safe, and heavy enough to last a lifetime."),
    Product(3, "chef-knife", "Chef's knife 20 cm", "kitchen", 7900, "#7f8c8d",
            "Forged steel blade with a walnut handle. Sharpened by hand."),
    Product(4, "ceramic-mugs", "Ceramic mugs, set of 4", "kitchen", 2800, "#e67e22",
            "Stoneware mugs glazed in four earthy colours. Dishwasher safe."),
    Product(5, "bamboo-board", "Bamboo cutting board", "kitchen", 2200, "#d4ac0d",
            "A large end-grain board that is kind to your knives."),
    Product(6, "trail-backpack", "Trail backpack 28 L", "outdoor", 8900, "#16a085",
            "Light day pack with a rain cover and a hydration sleeve."),
    Product(7, "camping-lantern", "Rechargeable camping lantern", "outdoor", 3400, "#f1c40f",
            "Three brightness levels, 40 hours of light, charges over USB-C."),
    Product(8, "insulated-bottle", "Insulated bottle 750 ml", "outdoor", 2500, "#2980b9",
            "Keeps drinks cold for 24 hours or hot for 12."),
    Product(9, "picnic-blanket", "Waterproof picnic blanket", "outdoor", 3100, "#8e44ad",
            "Soft fleece on top, waterproof backing, folds into its own strap."),
    Product(10, "standing-desk-mat", "Standing desk mat", "office", 5900, "#34495e",
             "Cushioned anti-fatigue mat with bevelled edges."),
    Product(11, "desk-lamp", "LED desk lamp", "office", 4500, "#95a5a6",
             "Dimmable warm-to-cool light with a wireless charging base."),
    Product(12, "notebook-set", "Dot-grid notebooks, set of 3", "office", 1800, "#1abc9c",
             "A5 notebooks with 120 g paper that takes fountain pen ink."),
    Product(13, "ergonomic-mouse", "Ergonomic vertical mouse", "office", 3900, "#566573",
             "A vertical grip that keeps your wrist in a handshake position."),
    Product(14, "linen-cushion", "Linen cushion cover", "home", 2400, "#a04000",
             "Washed linen in terracotta, with a hidden zip."),
    Product(15, "wool-throw", "Merino wool throw", "home", 9900, "#6e2c00",
             "A warm, light throw knitted from soft merino."),
    Product(16, "plant-pot", "Glazed plant pot 18 cm", "home", 2100, "#239b56",
             "Frost-proof ceramic pot with a drainage hole and saucer."),
    Product(17, "scented-candle", "Fig and cedar candle", "home", 2600, "#784212",
             "Soy wax candle with a 50-hour burn time."),
    Product(18, "wall-clock", "Minimal wall clock", "home", 3300, "#212f3d",
             "A silent sweep movement in an oak frame."),
]

BY_ID = {p.id: p for p in PRODUCTS}


def search(query: str) -> list[Product]:
    """Products whose name, category or blurb contains every word of the query."""
    words = [w for w in query.lower().split() if w]
    if not words:
        return []
    found = []
    for product in PRODUCTS:
        text = f"{product.name} {product.category} {product.blurb}".lower()
        if all(w in text for w in words):
            found.append(product)
    return found


def in_category(category: str) -> list[Product]:
    """Products of one category (all products for an unknown or empty category)."""
    if category not in CATEGORIES:
        return list(PRODUCTS)
    return [p for p in PRODUCTS if p.category == category]


def recommendations(seed: int, count: int = 4) -> list[Product]:
    """A deterministic handful of products to recommend, rotating with the seed."""
    start = seed % len(PRODUCTS)
    return [PRODUCTS[(start + 5 * i) % len(PRODUCTS)] for i in range(count)]
