"""The CRM's HTTP server: the single-page app's shell and assets, posthog-js, and a JSON API that injects faults."""
from __future__ import annotations

import json
import random
import secrets
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo_common.web import DemoHandler, DemoServer
from demo_crm import records
from demo_crm.faults import (
    DEAD_ICON_BUTTON,
    INVALID_FIELD,
    RETRIED_REQUEST,
    SAVE_FAILS,
    SLOW_VIEW,
    WIDGET_NOISE,
    faults_from_cookie_header,
    parse_faults,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
REPO_ROOT = Path(__file__).resolve().parent.parent
POSTHOG_BUNDLE = REPO_ROOT / "node_modules" / "posthog-js" / "dist" / "array.full.js"
SESSION_COOKIE = "kontora_sid"


@dataclass
class CrmConfig:
    """Where the CRM sends analytics, and the faults of sessions that bring no fault cookie."""

    posthog_host: str
    posthog_token: str
    default_faults: str = ""


class CrmHandler(DemoHandler):
    """Serves one request of the CRM."""

    server: CrmServer
    not_found = {"fehler": "Nicht gefunden"}

    def handle_one_request(self) -> None:
        """Serve a request; a browser that went away mid-answer (a view left while loading) is not an error."""
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- plumbing ---------------------------------------------------------------------------------------------
    @property
    def faults(self) -> dict[str, tuple[str, ...]]:
        """Faults chosen for this browser session (cookie), or the server's defaults."""
        return faults_from_cookie_header(self.headers.get("Cookie")) or parse_faults(self.server.config.default_faults)

    @property
    def session_key(self) -> str:
        """The browser session's id from its session cookie ("" before the shell has set one)."""
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie") or "")
        except Exception:  # a malformed cookie only means no session yet
            return ""
        morsel = cookie.get(SESSION_COOKIE)
        return morsel.value if morsel else ""

    # -- routing ----------------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        """The shell for every app route, assets, and read-only API calls."""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        if parts[:1] == ["api"]:
            self.api_get(parts[1:], query)
        elif parts[:1] == ["static"] and len(parts) == 2:
            self.send_file(STATIC_DIR / Path(parts[1]).name)
        elif url.path == "/vendor/posthog.js":
            self.send_file(POSTHOG_BUNDLE)
        elif url.path == "/vendor/tippbox/widget.js":
            build = "2.3.1-rc2" if WIDGET_NOISE in self.faults else "2.3.0"
            self.send_file(STATIC_DIR / "tippbox-widget.js", cache=False, replace={"__TIPPBOX_BUILD__": build})
        elif url.path == "/app-config.js":
            self.app_config_script()
        elif url.path == "/favicon.ico":
            self.send_body(204, b"", "image/x-icon", cache=True)
        else:
            self.shell()

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        """API calls that create something or start an action."""
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        body = self.read_json()
        if parts == ["api", "kunden"]:
            self.save_customer(None, body)
        elif parts == ["api", "angebote"]:
            self.save_quote(body)
        elif len(parts) == 4 and parts[:2] == ["api", "angebote"] and parts[3] == "pdf":
            self.export_pdf(parts[2])
        elif len(parts) == 4 and parts[:2] == ["api", "tickets"] and parts[3] == "antworten":
            self.reply_to_ticket(parts[2], body)
        elif len(parts) == 4 and parts[:2] == ["api", "tickets"] and parts[3] == "archivieren":
            self.archive_ticket(parts[2])
        else:
            self.send_json(404, self.not_found)

    def do_PUT(self) -> None:  # noqa: N802 - http.server naming
        """API calls that change a record."""
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        body = self.read_json()
        if len(parts) == 3 and parts[:2] == ["api", "kunden"]:
            self.save_customer(parts[2], body)
        elif len(parts) == 3 and parts[:2] == ["api", "tickets"]:
            self.update_ticket(parts[2], body)
        elif parts == ["api", "einstellungen"]:
            self.save_settings(body)
        else:
            self.send_json(404, self.not_found)

    # -- pages and scripts ------------------------------------------------------------------------------------
    def shell(self) -> None:
        """The app's one HTML page; it also starts the browser's session (a cookie, as a signed-in app would)."""
        headers = {}
        if not self.session_key:
            headers["Set-Cookie"] = f"{SESSION_COOKIE}={secrets.token_hex(12)}; Path=/; HttpOnly; SameSite=Lax"
        self.send_body(200, (STATIC_DIR / "index.html").read_bytes(), "text/html; charset=utf-8", headers=headers)

    def app_config_script(self) -> None:
        """Analytics target and the feature flags of this session (two of them ship bugs, see faults.py)."""
        config = self.server.config
        payload = {
            "posthogHost": config.posthog_host,
            "posthogToken": config.posthog_token,
            "release": "2025.06.1",
            "features": {"toolbarActionsV2": DEAD_ICON_BUTTON in self.faults,
                         "strictIbanCheck": INVALID_FIELD in self.faults},
        }
        self.send_body(200, f"window.KONTORA = {json.dumps(payload)};\n".encode(), "text/javascript; charset=utf-8")

    # -- reading ----------------------------------------------------------------------------------------------
    def api_get(self, parts: list[str], query: dict[str, str]) -> None:
        """Read-only JSON API."""
        store = self.server.store
        record_id = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else None
        if parts == ["kunden"]:
            self.maybe_slow("kunden")
            self.send_json(200, {"ergebnisse": [customer_row(c) for c in store.all("kunden")]})
        elif parts[:1] == ["kunden"] and record_id is not None:
            self.maybe_slow("kunde")
            customer = store.get("kunden", record_id)
            if customer is None:
                self.send_json(404, {"fehler": "Diesen Kunden gibt es nicht."})
                return
            customer["angebote"] = [quote_row(q, customer) for q in store.all("angebote") if q["kunde_id"] == record_id]
            customer["tickets"] = [ticket_row(t, customer) for t in store.all("tickets") if t["kunde_id"] == record_id]
            self.send_json(200, customer)
        elif parts == ["angebote"]:
            self.maybe_slow("angebote")
            names = {c["id"]: c for c in store.all("kunden")}
            self.send_json(200, {"ergebnisse": [quote_row(q, names.get(q["kunde_id"])) for q in store.all("angebote")]})
        elif parts[:1] == ["angebote"] and record_id is not None:
            quote = store.get("angebote", record_id)
            if quote is None:
                self.send_json(404, {"fehler": "Dieses Angebot gibt es nicht."})
                return
            quote["kunde"] = customer_row(store.get("kunden", quote["kunde_id"]) or {})
            quote["summe_cents"] = records.quote_total(quote)
            self.send_json(200, quote)
        elif parts == ["tickets"]:
            self.maybe_slow("tickets")
            names = {c["id"]: c for c in store.all("kunden")}
            rows = [ticket_row(t, names.get(t["kunde_id"])) for t in store.all("tickets") if not t["archiviert"]]
            self.send_json(200, {"ergebnisse": rows})
        elif parts[:1] == ["tickets"] and record_id is not None:
            ticket = store.get("tickets", record_id)
            if ticket is None:
                self.send_json(404, {"fehler": "Dieses Ticket gibt es nicht."})
                return
            ticket["kunde"] = customer_row(store.get("kunden", ticket["kunde_id"]) or {})
            self.send_json(200, ticket)
        elif parts == ["uebersicht"]:
            self.send_json(200, overview(store))
        elif parts == ["einstellungen"]:
            self.send_json(200, {**store.get("einstellungen", 0), "synchronisation": SYNC_LOG})
        elif parts == ["benachrichtigungen"]:
            # A flaky gateway in front of the notifications service: each first attempt fails, the page retries.
            if RETRIED_REQUEST in self.faults and self.headers.get("X-Retry-Attempt", "1") == "1":
                self.send_json(503, {"fehler": "Dienst vorübergehend nicht erreichbar"})
                return
            self.send_json(200, {"ungelesen": 3, "eintraege": NOTIFICATIONS})
        else:
            self.send_json(404, self.not_found)

    def maybe_slow(self, view: str) -> None:
        """Hold a view's data for the seconds the slow_view fault names, when it names this view."""
        args = self.faults.get(SLOW_VIEW)
        if args and args[0] == view:
            seconds = float(args[1]) if len(args) > 1 else 6.0
            time.sleep(seconds * random.uniform(0.9, 1.1))

    # -- writing ----------------------------------------------------------------------------------------------
    def failed_save(self) -> bool:
        """Answer 500 when this save fails (every save with plain save_fails, the first N with save_fails:N)."""
        args = self.faults.get(SAVE_FAILS)
        if args is None:
            return False
        attempts = self.server.count_save(self.session_key)
        if args and args[0].isdigit() and attempts > int(args[0]):
            return False
        self.send_json(500, {"fehler": "internal_error", "detail": "could not write record"})
        return True

    def rejected(self, errors: dict[str, str]) -> bool:
        """Answer 422 naming the fields, when there are errors."""
        if errors:
            self.send_json(422, {"fehler": "Bitte prüfen Sie die markierten Felder.", "felder": errors})
        return bool(errors)

    def save_customer(self, raw_id: str | None, body: dict) -> None:
        """Create (no id) or update a customer; 422 with field errors, or 500 with the save_fails fault."""
        time.sleep(random.uniform(0.3, 0.8))
        store = self.server.store
        errors = records.customer_errors(body, strict_vat=INVALID_FIELD in self.faults)
        if self.rejected(errors) or self.failed_save():
            return
        fields = {key: body[key] for key in CUSTOMER_FIELDS if key in body}
        if fields.get("ust_id"):
            fields["ust_id"] = records.normalise_vat_id(fields["ust_id"], strict=False)
        if raw_id is None:
            fields.setdefault("status", "Neu")
            fields.update(umsatz_cents=0, kunde_seit=time.strftime("%Y-%m-%d"), notiz="")
            self.send_json(201, store.create("kunden", fields))
            return
        saved = store.update("kunden", int(raw_id), fields) if raw_id.isdigit() else None
        self.send_json(200, saved) if saved else self.send_json(404, {"fehler": "Diesen Kunden gibt es nicht."})

    def save_quote(self, body: dict) -> None:
        """Create a quote from a customer, a title and positions."""
        time.sleep(random.uniform(0.3, 0.8))
        store = self.server.store
        errors: dict[str, str] = {}
        customer_id = body.get("kunde_id")
        if not isinstance(customer_id, int) or store.get("kunden", customer_id) is None:
            errors["kunde_id"] = "Bitte wählen Sie einen Kunden aus."
        if not str(body.get("titel", "")).strip():
            errors["titel"] = "Bitte geben Sie einen Titel ein."
        positions = [p for p in body.get("positionen") or [] if isinstance(p, dict) and str(p.get("text", "")).strip()]
        if not positions:
            errors["positionen"] = "Ein Angebot braucht mindestens eine Position."
        if self.rejected(errors) or self.failed_save():
            return
        number = max(q["id"] for q in store.all("angebote")) + 1 - 5000
        quote = store.create("angebote", {
            "nummer": f"A-{time.strftime('%Y')}-{number:04d}", "kunde_id": customer_id, "titel": str(body["titel"]).strip(),
            "status": "Entwurf", "zahlung": "—", "gueltig_bis": str(body.get("gueltig_bis") or ""),
            "erstellt": time.strftime("%Y-%m-%d"),
            "positionen": [{"text": str(p["text"]), "menge": int(p.get("menge") or 1),
                            "einzelpreis_cents": int(p.get("einzelpreis_cents") or 0)} for p in positions],
        })
        self.send_json(201, quote)

    def export_pdf(self, raw_id: str) -> None:
        """Render a quote as PDF (here: name the file it would be)."""
        quote = self.server.store.get("angebote", int(raw_id)) if raw_id.isdigit() else None
        if quote is None:
            self.send_json(404, {"fehler": "Dieses Angebot gibt es nicht."})
            return
        time.sleep(random.uniform(0.6, 1.4))
        self.send_json(200, {"datei": f"Angebot_{quote['nummer']}.pdf", "groesse_kb": random.randint(60, 240)})

    def reply_to_ticket(self, raw_id: str, body: dict) -> None:
        """Add an answer to a ticket's thread."""
        text = str(body.get("text", "")).strip()
        ticket = self.server.store.get("tickets", int(raw_id)) if raw_id.isdigit() else None
        if ticket is None:
            self.send_json(404, self.not_found)
            return
        if self.rejected({} if text else {"text": "Bitte geben Sie eine Antwort ein."}):
            return
        time.sleep(random.uniform(0.2, 0.6))
        messages = ticket["nachrichten"] + [{"von": "Miriam Vogt", "text": text}]
        self.send_json(200, self.server.store.update("tickets", ticket["id"], {"nachrichten": messages}))

    def update_ticket(self, raw_id: str, body: dict) -> None:
        """Change a ticket's status or priority."""
        fields = {k: body[k] for k in ("status", "prioritaet") if k in body}
        if self.failed_save():
            return
        saved = self.server.store.update("tickets", int(raw_id), fields) if raw_id.isdigit() else None
        self.send_json(200, saved) if saved else self.send_json(404, self.not_found)

    def archive_ticket(self, raw_id: str) -> None:
        """Move a ticket out of the list."""
        saved = self.server.store.update("tickets", int(raw_id), {"archiviert": True}) if raw_id.isdigit() else None
        time.sleep(random.uniform(0.2, 0.5))
        self.send_json(200, {"archiviert": True}) if saved else self.send_json(404, self.not_found)

    def save_settings(self, body: dict) -> None:
        """Save the company settings; the server accepts IBANs with or without spaces."""
        time.sleep(random.uniform(0.3, 0.8))
        iban = str(body.get("iban", "")).replace(" ", "").upper()
        valid = not iban or (iban[:2].isalpha() and iban[2:].isalnum() and 15 <= len(iban) <= 34)
        if self.rejected({} if valid else {"iban": "Bitte geben Sie eine gültige IBAN ein"}) or self.failed_save():
            return
        fields = {k: str(body[k]) for k in SETTINGS_FIELDS if k in body}
        self.send_json(200, self.server.store.update("einstellungen", 0, fields))


CUSTOMER_FIELDS = ("name", "branche", "strasse", "plz", "ort", "ust_id", "status", "kontakt")
SETTINGS_FIELDS = ("firma", "ust_id", "iban", "bic", "strasse", "plz", "ort", "name", "email")
SYNC_LOG = [
    {"dienst": "DATEV-Export", "zeitpunkt": "heute, 06:00", "status": "Erfolgreich"},
    {"dienst": "Newsletter-Abgleich", "zeitpunkt": "gestern, 22:15", "status": "Fehlgeschlagen"},
    {"dienst": "DATEV-Export", "zeitpunkt": "gestern, 06:00", "status": "Erfolgreich"},
    {"dienst": "Kalender-Sync", "zeitpunkt": "vorgestern, 18:40", "status": "Abgeschlossen"},
]
NOTIFICATIONS = [
    {"text": "Ein Angebot wurde angenommen", "wann": "vor 2 Std."},
    {"text": "Eine Zahlung ist fehlgeschlagen", "wann": "gestern"},
    {"text": "Neues Ticket von Weber Medizintechnik GmbH", "wann": "gestern"},
]


def customer_row(customer: dict) -> dict:
    """The columns of a customer in lists."""
    return {k: customer.get(k) for k in ("id", "name", "ort", "branche", "status", "umsatz_cents")} | {
        "ansprechpartner": (customer.get("kontakt") or {}).get("name", "")}


def quote_row(quote: dict, customer: dict | None) -> dict:
    """The columns of a quote in lists."""
    return {k: quote[k] for k in ("id", "nummer", "titel", "status", "zahlung", "gueltig_bis")} | {
        "kunde": (customer or {}).get("name", ""), "summe_cents": records.quote_total(quote)}


def ticket_row(ticket: dict, customer: dict | None) -> dict:
    """The columns of a ticket in lists."""
    return {k: ticket[k] for k in ("id", "betreff", "status", "prioritaet", "erstellt")} | {
        "kunde": (customer or {}).get("name", "")}


def overview(store: records.RecordStore) -> dict:
    """The dashboard's figures and recent activity."""
    quotes = store.all("angebote")
    open_quotes = [q for q in quotes if q["status"] in ("Entwurf", "Versendet")]
    won = [q for q in quotes if q["status"] == "Angenommen"]
    return {
        "offene_angebote": len(open_quotes),
        "offene_summe_cents": sum(records.quote_total(q) for q in open_quotes),
        "umsatz_monat_cents": sum(records.quote_total(q) for q in won[:6]),
        "offene_tickets": sum(1 for t in store.all("tickets") if t["status"] != "Abgeschlossen" and not t["archiviert"]),
        "aktivitaeten": [
            {"text": f"Angebot {q['nummer']} · Zahlung {q['zahlung'].lower()}", "status": q["zahlung"]}
            for q in won[:4]
        ] + [{"text": "DATEV-Export", "status": "Erfolgreich"}, {"text": "Newsletter-Abgleich", "status": "Fehlgeschlagen"}],
    }


class CrmServer(DemoServer):
    """The CRM, listening on one port, with its records and each browser session's save attempts."""

    def __init__(self, address: tuple[str, int], config: CrmConfig) -> None:
        """Bind the CRM to an address with its config and fresh records."""
        super().__init__(address, CrmHandler)
        self.config = config
        self.store = records.RecordStore()
        self._saves: dict[str, int] = {}
        self._saves_lock = threading.Lock()

    def count_save(self, session_key: str) -> int:
        """Count one more save attempt of a browser session; returns how many it has made."""
        with self._saves_lock:
            self._saves[session_key] = self._saves.get(session_key, 0) + 1
            return self._saves[session_key]


def start_in_thread(config: CrmConfig, host: str = "127.0.0.1", port: int = 0) -> CrmServer:
    """Start the CRM on a background thread (port 0 picks a free port); stop it with .shutdown()."""
    return CrmServer((host, port), config).start_in_thread("demo-crm")
