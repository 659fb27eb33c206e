"""The CRM's records: customers, quotes, tickets and settings, seeded the same way every run, kept in memory."""
from __future__ import annotations

import copy
import random
import re
import threading
from datetime import date, timedelta

COMPANIES = [
    ("Müller Haustechnik", "GmbH", "Handwerk"), ("Nordlicht Logistik", "GmbH", "Logistik"),
    ("Schreinerei Bauer", "e.K.", "Handwerk"), ("Kaiser & Söhne Metallbau", "KG", "Industrie"),
    ("Brandt Steuerberatung", "PartG", "Beratung"), ("Elbwerk Maschinenbau", "AG", "Industrie"),
    ("Sonnenhof Hotels", "GmbH", "Gastgewerbe"), ("Weber Medizintechnik", "GmbH", "Gesundheit"),
    ("Hansa Druck & Medien", "GmbH", "Medien"), ("Grünwald Gartenbau", "GbR", "Handwerk"),
    ("Alpenblick Reisen", "GmbH", "Tourismus"), ("Fischer IT-Service", "UG", "IT"),
    ("Rheinland Immobilien", "GmbH", "Immobilien"), ("Zimmermann Bäckereien", "GmbH & Co. KG", "Lebensmittel"),
    ("Lindner Elektro", "GmbH", "Handwerk"), ("Hoffmann Consulting", "GmbH", "Beratung"),
    ("Bergmann Autohaus", "GmbH", "Handel"), ("Wolf Spedition", "GmbH & Co. KG", "Logistik"),
    ("Schulz Praxisbedarf", "GmbH", "Gesundheit"), ("Keller Weinhandel", "e.K.", "Handel"),
    ("Becker Sanitär", "GmbH", "Handwerk"), ("Vogel Architekten", "PartG mbB", "Beratung"),
    ("Krüger Verpackungen", "GmbH", "Industrie"), ("Seeblick Gastronomie", "GmbH", "Gastgewerbe"),
    ("Neumann Softwarehaus", "GmbH", "IT"), ("Schwarz Fahrradmanufaktur", "GmbH", "Handel"),
    ("Hartmann Kanzlei", "PartG", "Recht"), ("Lorenz Dachdeckerei", "GmbH", "Handwerk"),
    ("Pohl Lebensmittelgroßhandel", "KG", "Lebensmittel"), ("Franke Optik", "e.K.", "Handel"),
    ("Sommer Eventtechnik", "GmbH", "Medien"), ("Kraus Kältetechnik", "GmbH", "Industrie"),
    ("Ostsee Ferienwohnungen", "GbR", "Tourismus"), ("Roth Versicherungsmakler", "GmbH", "Finanzen"),
    ("Schmitt Bürobedarf", "GmbH", "Handel"), ("Jung Physiotherapie", "PartG", "Gesundheit"),
    ("Baumann Solartechnik", "GmbH", "Energie"), ("Winter Textilreinigung", "e.K.", "Dienstleistung"),
    ("Graf Personalservice", "GmbH", "Dienstleistung"), ("Lehmann Landtechnik", "GmbH", "Handel"),
]
CITIES = [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
          ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("40213", "Düsseldorf"), ("04109", "Leipzig"),
          ("28195", "Bremen"), ("01067", "Dresden"), ("30159", "Hannover"), ("90402", "Nürnberg")]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Industriestraße", "Lindenallee", "Am Markt", "Gartenweg",
           "Hafenstraße", "Schillerstraße", "Mühlenweg", "Kirchplatz"]
FIRST = ["Anna", "Jonas", "Lea", "Felix", "Sophie", "Lukas", "Marie", "Tobias", "Julia", "Stefan", "Katrin", "Emre"]
LAST = ["Schneider", "Meyer", "Wagner", "Becker", "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Yilmaz"]
QUOTE_TITLES = ["Wartungsvertrag", "Website-Relaunch", "Jahreslizenz CRM Team", "Schulung Vertrieb",
                "Einrichtung Netzwerk", "Hosting Paket Business", "Beratungspaket Q3", "Messestand Frühjahr",
                "Austausch Serverhardware", "Support-Kontingent 20 h"]
ITEMS = [("Beratung (Stunde)", 12000), ("Lizenz pro Nutzer / Jahr", 34800), ("Einrichtungspauschale", 89000),
         ("Schulung (Tag)", 145000), ("Wartung (Monat)", 45000), ("Hardware-Paket", 230000), ("Reisekosten", 18500)]
TICKET_SUBJECTS = ["Rechnung doppelt erhalten", "Login funktioniert nicht", "Export nach DATEV bricht ab",
                   "Adresse in Angebot falsch", "Frage zur Lizenzverlängerung", "Benutzer anlegen",
                   "E-Mail-Vorlage anpassen", "Datenimport aus Excel", "Zahlung nicht zugeordnet",
                   "Schnittstelle zu Shop", "Passwort zurücksetzen", "Angebot als PDF fehlt Logo"]
TICKET_MESSAGES = ["Guten Tag, seit gestern tritt das Problem bei mehreren Kollegen auf. Können Sie sich das ansehen?",
                   "Hallo, wir bräuchten hier kurzfristig Unterstützung. Vielen Dank!",
                   "Anbei die Details aus unserer Buchhaltung. Bitte um Rückmeldung bis Freitag.",
                   "Ich habe es mit einem anderen Browser versucht, leider mit demselben Ergebnis."]
CUSTOMER_STATUS = ["Aktiv", "Aktiv", "Aktiv", "Inaktiv", "Neu"]
QUOTE_STATUS = ["Entwurf", "Versendet", "Versendet", "Angenommen", "Abgelehnt"]
PAYMENT = {"Angenommen": ["Erfolgreich", "Erfolgreich", "Fehlgeschlagen", "Ausstehend"], "Versendet": ["—"],
           "Entwurf": ["—"], "Abgelehnt": ["—"]}
TICKET_STATUS = ["Offen", "Offen", "In Bearbeitung", "Abgeschlossen"]
PRIORITY = ["Niedrig", "Normal", "Normal", "Hoch", "Dringend"]

FIRST_CUSTOMER, FIRST_QUOTE, FIRST_TICKET = 1001, 5101, 7001

VAT_ID = re.compile(r"^DE\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PLZ = re.compile(r"^\d{5}$")


def _vat(rng: random.Random) -> str:
    """A made-up German VAT ID."""
    return "DE" + "".join(str(rng.randint(0, 9)) for _ in range(9))


def _person(rng: random.Random) -> dict[str, str]:
    """A made-up contact person."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {"name": f"{first} {last}", "email": f"{first[0].lower()}.{last.lower()}@example.de",
            "telefon": f"+49 {rng.randint(30, 911)} {rng.randint(100000, 9999999)}"}


def seed_records(seed: int = 1024) -> dict[str, dict[int, dict]]:
    """The records a fresh CRM starts with: 40 customers, 36 quotes, 30 tickets."""
    rng = random.Random(seed)
    today = date.today()
    customers: dict[int, dict] = {}
    for offset, (name, form, branch) in enumerate(COMPANIES):
        plz, city = rng.choice(CITIES)
        cid = FIRST_CUSTOMER + offset
        customers[cid] = {
            "id": cid, "name": f"{name} {form}", "branche": branch,
            "strasse": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            "plz": plz, "ort": city, "ust_id": _vat(rng), "status": rng.choice(CUSTOMER_STATUS),
            "umsatz_cents": rng.choice([0, 50300, 450000, 1289050, 2375000, 880000, 6120000, 99900]),
            "kunde_seit": (today - timedelta(days=rng.randint(30, 2400))).isoformat(), "kontakt": _person(rng),
            "notiz": rng.choice(["", "Bevorzugt Kontakt per E-Mail.", "Rahmenvertrag läuft bis Jahresende.",
                                 "Ansprechpartner wechselt im Herbst."]),
        }
    quotes: dict[int, dict] = {}
    for offset in range(36):
        qid = FIRST_QUOTE + offset
        status = rng.choice(QUOTE_STATUS)
        positions = [{"text": text, "menge": rng.choice([1, 1, 2, 5, 10]), "einzelpreis_cents": price}
                     for text, price in rng.sample(ITEMS, k=rng.randint(1, 3))]
        quotes[qid] = {
            "id": qid, "nummer": f"A-{today.year}-{qid - 5000:04d}", "kunde_id": rng.choice(list(customers)),
            "titel": rng.choice(QUOTE_TITLES), "status": status, "zahlung": rng.choice(PAYMENT[status]),
            "positionen": positions, "gueltig_bis": (today + timedelta(days=rng.randint(-20, 60))).isoformat(),
            "erstellt": (today - timedelta(days=rng.randint(1, 120))).isoformat(),
        }
    tickets: dict[int, dict] = {}
    for offset in range(30):
        tid = FIRST_TICKET + offset
        contact = _person(rng)
        tickets[tid] = {
            "id": tid, "betreff": rng.choice(TICKET_SUBJECTS), "kunde_id": rng.choice(list(customers)),
            "status": rng.choice(TICKET_STATUS), "prioritaet": rng.choice(PRIORITY), "archiviert": False,
            "erstellt": (today - timedelta(days=rng.randint(0, 40))).isoformat(),
            "nachrichten": [{"von": contact["name"], "text": rng.choice(TICKET_MESSAGES)}],
        }
    settings = {0: {"firma": "Kontora Demo GmbH", "ust_id": "DE298374615", "iban": "DE89 3704 0044 0532 0130 00",
                    "bic": "COBADEFFXXX", "strasse": "Torstraße 12", "plz": "10119", "ort": "Berlin",
                    "name": "Miriam Vogt", "email": "m.vogt@kontora-demo.de"}}
    return {"kunden": customers, "angebote": quotes, "tickets": tickets, "einstellungen": settings}


def quote_total(quote: dict) -> int:
    """A quote's net total in cents."""
    return sum(p["menge"] * p["einzelpreis_cents"] for p in quote["positionen"])


def normalise_vat_id(value: str, strict: bool) -> str | None:
    """The VAT ID as stored, or None when it is not valid; lenient mode forgives spaces and lower case."""
    value = value.strip()
    if not strict:
        value = re.sub(r"[\s.-]", "", value).upper()
    return value if VAT_ID.match(value) else None


def customer_errors(data: dict, strict_vat: bool) -> dict[str, str]:
    """Field errors of a customer form, in the words the form shows."""
    errors: dict[str, str] = {}
    if not str(data.get("name", "")).strip():
        errors["name"] = "Bitte geben Sie den Firmennamen ein."
    if data.get("ust_id") and normalise_vat_id(str(data["ust_id"]), strict_vat) is None:
        errors["ust_id"] = "Bitte geben Sie eine gültige USt-IdNr. ein"
    if data.get("plz") and not PLZ.match(str(data["plz"]).strip()):
        errors["plz"] = "Die Postleitzahl besteht aus fünf Ziffern."
    email = str((data.get("kontakt") or {}).get("email", "")).strip()
    if email and not EMAIL.match(email):
        errors["email"] = "Bitte geben Sie eine gültige E-Mail-Adresse ein."
    return errors


class RecordStore:
    """Every record of one running CRM; created and edited records live as long as the server."""

    def __init__(self, seed: int = 1024) -> None:
        """A store with the seeded records."""
        self._lock = threading.Lock()
        self._data = seed_records(seed)

    def all(self, kind: str) -> list[dict]:
        """Copies of every record of a kind, newest id first."""
        with self._lock:
            return [copy.deepcopy(r) for _, r in sorted(self._data[kind].items(), reverse=True)]

    def get(self, kind: str, record_id: int) -> dict | None:
        """A copy of one record, or None."""
        with self._lock:
            found = self._data[kind].get(record_id)
            return copy.deepcopy(found) if found else None

    def create(self, kind: str, fields: dict) -> dict:
        """Store a new record under the next free id."""
        with self._lock:
            record_id = max(self._data[kind]) + 1
            record = {**fields, "id": record_id}
            self._data[kind][record_id] = record
            return copy.deepcopy(record)

    def update(self, kind: str, record_id: int, fields: dict) -> dict | None:
        """Change fields of a record; None when it does not exist."""
        with self._lock:
            record = self._data[kind].get(record_id)
            if record is None:
                return None
            record.update(fields)
            return copy.deepcopy(record)
