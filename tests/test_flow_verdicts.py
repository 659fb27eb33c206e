"""Verdicts from the user's flow on an app unlike the shop: a German single-page app with ARIA, icon buttons, toasts."""
from __future__ import annotations

from summaries.analysis.prompt_data import prepare_session
from summaries.analysis.rules import summarize_with_rules
from summaries.analysis.schema import blocking_key_actions, build_summary
from tests.summary_sessions import SessionBuilder

HOST_PATH = "/kunden"


def summarize(b: SessionBuilder) -> dict:
    prepared = prepare_session(b.session_id, b.input_events(), b.rrweb_events())
    return build_summary(summarize_with_rules(prepared), prepared, engine="rules")


def flagged(summary: dict, value: str) -> list[dict]:
    return [a for s in summary["segments"] for a in s["key_actions"] if a["exception"] == value]


def open_new_customer_form(b: SessionBuilder) -> float:
    """The app's customer list, then the "Neuer Kunde" form (client-side routes)."""
    b.pageview(0, "/kunden", "Kunden · Acme CRM")
    b.badges(0.5, ["Aktiv"] * 14)
    b.click(4, "Neuer Kunde", tag="a", href="/kunden/neu")
    b.spa_view(4.1, "/kunden/neu", "Neuer Kunde · Acme CRM")
    b.type_into(7, "firma")
    b.type_into(10, "ust_id")
    return 13


def test_a_success_badge_in_the_next_list_does_not_mean_the_failed_save_worked():
    b = SessionBuilder()
    t = open_new_customer_form(b)
    for attempt in range(2):
        at = t + attempt * 6
        b.click(at, "Speichern")
        b.request(at + 0.1, "POST", "/api/kunden", 500)
        b.announce(at + 0.6, "Speichern fehlgeschlagen. Bitte erneut versuchen.", role="alert")
    b.click(t + 15, "Angebote", tag="a", href="/angebote")
    b.spa_view(t + 15.1, "/angebote", "Angebote · Acme CRM")
    b.badges(t + 15.4, ["Erfolgreich", "Abgeschlossen", "Erfolgreich"] + ["Offen"] * 12)
    b.end(t + 30)
    summary = summarize(b)
    (issue,) = blocking_key_actions(summary)
    assert 13 <= issue["seconds_from_start"] <= 14 and issue["abandonment"]
    assert "/api/kunden" in issue["description"] and "2 attempts" in issue["description"]
    assert "left for /angebote" in issue["description"]
    assert summary["session_outcome"]["success"] is False
    assert issue["problem"] == {"kind": "request_failed", "route": "/kunden/neu", "control": "button:Speichern",
                                "request": "POST /api/kunden", "status": 500, "message": ""}


def test_a_save_that_works_on_retry_and_opens_the_new_record_is_non_blocking():
    b = SessionBuilder()
    t = open_new_customer_form(b)
    b.click(t, "Speichern")
    b.request(t + 0.1, "POST", "/api/kunden", 500)
    b.announce(t + 0.6, "Speichern fehlgeschlagen. Bitte erneut versuchen.", role="alert")
    b.click(t + 6, "Speichern")
    b.request(t + 6.1, "POST", "/api/kunden", 201)
    b.spa_view(t + 6.5, "/kunden/1024", "Muster GmbH · Acme CRM")
    b.end(t + 20)
    summary = summarize(b)
    assert blocking_key_actions(summary) == []
    (issue,) = flagged(summary, "non-blocking")
    assert "went on to /kunden/:id" in issue["description"]
    assert summary["session_outcome"]["success"] is True


def test_a_dead_icon_button_then_browsing_another_section_is_abandonment():
    b = SessionBuilder()
    b.pageview(0, "/kunden/1024", "Muster GmbH · Acme CRM")
    for i in range(3):
        b.click(3 + i * 3, "🖨", mutate=False, attrs={"aria-label": "Als PDF exportieren"})
    b.click(12, "Angebote", tag="a", href="/angebote")
    b.spa_view(12.1, "/angebote", "Angebote")
    b.click(15, "Angebot 2024-118", tag="a", href="/angebote/118")
    b.spa_view(15.1, "/angebote/118", "Angebot 2024-118")
    b.end(30)
    summary = summarize(b)
    (issue,) = blocking_key_actions(summary)
    assert 'button "Als PDF exportieren"' in issue["description"] and "🖨" not in issue["description"]
    assert issue["problem"]["kind"] == "dead_click" and issue["problem"]["control"] == "button:Als PDF exportieren"
    assert 3 <= issue["seconds_from_start"] <= 3.5 and issue["abandonment"] and issue["confusion"]


def test_a_dead_icon_button_done_from_the_menu_instead_is_non_blocking():
    b = SessionBuilder()
    b.pageview(0, "/kunden/1024", "Muster GmbH · Acme CRM")
    for i in range(2):
        b.click(3 + i * 3, "🖨", mutate=False, attrs={"title": "Als PDF exportieren"})
    b.click(9, "⋯", attrs={"aria-label": "Weitere Aktionen"})
    b.click(11, "Als PDF exportieren", attrs={"role": "menuitem"})
    b.request(11.1, "GET", "/api/kunden/1024/pdf", 200)
    b.announce(11.8, "Export gestartet")
    b.end(20)
    summary = summarize(b)
    assert blocking_key_actions(summary) == []
    (issue,) = flagged(summary, "non-blocking")
    assert "the user got through" in issue["description"] and "Export gestartet" in issue["description"]


def test_leaving_while_the_view_is_still_loading_is_blocking_and_waiting_is_not():
    left = SessionBuilder()
    left.pageview(0, "/kunden", "Kunden")
    left.click(3, "Berichte", tag="a", href="/berichte")
    left.spa_view(3.1, "/berichte", "Berichte")
    left.busy(3.2, None)
    left.scroll(6)
    left.click(9.5, "Kunden", tag="a", href="/kunden")
    left.spa_view(9.6, "/kunden", "Kunden")
    left.end(20)
    summary = summarize(left)
    (issue,) = blocking_key_actions(summary)
    assert issue["event"] == "loading_left" and 3 <= issue["seconds_from_start"] <= 3.5 and issue["abandonment"]

    waited = SessionBuilder()
    waited.pageview(0, "/kunden", "Kunden")
    waited.click(3, "Berichte", tag="a", href="/berichte")
    waited.spa_view(3.1, "/berichte", "Berichte")
    waited.busy(3.2, 7.5)
    waited.click(14, "Bericht Q3", tag="a", href="/berichte/3")
    waited.spa_view(14.1, "/berichte/3", "Bericht Q3")
    waited.end(25)
    summary = summarize(waited)
    assert blocking_key_actions(summary) == []
    (wait,) = flagged(summary, "non-blocking")
    assert "7.5s" in wait["description"]


def test_closing_the_tab_on_a_spinner_is_blocking():
    b = SessionBuilder()
    b.pageview(0, "/kunden", "Kunden")
    b.click(3, "Berichte", tag="a", href="/berichte")
    b.spa_view(3.1, "/berichte", "Berichte")
    b.busy(3.2, None)
    b.end(11)
    (issue,) = blocking_key_actions(summarize(b))
    assert issue["event"] == "loading_left"


def test_an_invalid_field_fixed_and_saved_is_non_blocking_and_given_up_is_blocking():
    def session(fixes: bool) -> SessionBuilder:
        b = SessionBuilder()
        t = open_new_customer_form(b)
        b.click(t, "Speichern")
        b.submit(t, "Speichern")
        b.invalid(t + 0.2, "ust_id", "Bitte geben Sie eine gültige USt-IdNr. ein (z. B. DE123456789).")
        if fixes:
            b.type_into(t + 5, "ust_id")
            b.click(t + 9, "Speichern")
            b.submit(t + 9, "Speichern")
            b.request(t + 9.1, "POST", "/api/kunden", 201)
            b.spa_view(t + 9.5, "/kunden/1025", "Neu GmbH")
        else:
            b.click(t + 6, "Speichern")
            b.submit(t + 6, "Speichern")
            b.invalid(t + 6.2, "ust_id", "Bitte geben Sie eine gültige USt-IdNr. ein (z. B. DE123456789).")
            b.click(t + 12, "Dashboard", tag="a", href="/")
            b.spa_view(t + 12.1, "/", "Dashboard")
        b.end(t + 25)
        return b

    fixed = summarize(session(fixes=True))
    assert blocking_key_actions(fixed) == []
    (issue,) = flagged(fixed, "non-blocking")
    assert issue["event"] == "field_invalid" and "ust_id" in issue["description"]
    gave_up = summarize(session(fixes=False))
    (issue,) = blocking_key_actions(gave_up)
    assert issue["event"] == "field_invalid" and issue["abandonment"]


def test_a_widget_tip_and_an_invisibly_retried_call_are_not_problems():
    b = SessionBuilder()
    b.pageview(0, "/kunden", "Kunden")
    for i in range(6):
        b.exception(1 + i * 4, "TypeError", "Cannot read properties of null (reading 'tipIndex')",
                    filename="tips-widget.js", function="rotate")
    b.click(5, "Filter", attrs={"aria-label": "Filter öffnen"})
    b.widget_tip(5.4, "Tipp: Überprüfen Sie Ihre Filter. Check your filters to find customers faster.")
    b.request(6, "GET", "/api/kunden?status=aktiv", 503)
    b.request(6.5, "GET", "/api/kunden?status=aktiv", 200)
    b.click(10, "Muster GmbH", tag="a", href="/kunden/1024")
    b.spa_view(10.1, "/kunden/1024", "Muster GmbH")
    b.end(20)
    summary = summarize(b)
    assert flagged(summary, "blocking") == [] and flagged(summary, "non-blocking") == []
    assert summary["session_outcome"]["success"] is True


def test_an_error_toast_announced_in_any_language_counts_when_it_answers_the_action():
    for text in ("Échec de l'enregistrement.", "No se pudo guardar.", "Não foi possível salvar.", "Save failed."):
        b = SessionBuilder()
        b.pageview(0, "/settings", "Settings")
        b.click(3, "✓", attrs={"aria-label": "Enregistrer"})
        b.message(3.4, text, **{"class": "toast"})
        b.click(8, "✓", attrs={"aria-label": "Enregistrer"})
        b.message(8.4, text, **{"class": "toast"})
        b.end(20)
        (issue,) = blocking_key_actions(summarize(b))
        assert text in issue["description"], text


def test_calls_that_fail_around_the_user_but_not_for_them_are_not_problems():
    b = SessionBuilder()
    b.pageview(0, "/kunden", "Kunden")
    for i in range(5):  # a notifications poll failing every 7 s, whatever the user does
        b.request(1 + i * 7, "GET", "/api/notifications/unread", 500, duration=30)
    b.click(8, "Muster GmbH", tag="a", href="/kunden/1024")
    b.spa_view(8.1, "/kunden/1024", "Muster GmbH")
    b.request(8.2, "GET", "/api/kunden/1024", 200)
    b.request(8.3, "GET", "https://cdn.tracker.example/collect", 403)  # a third party, blocked by the browser
    b.request(8.4, "GET", "/api/feature-hints", 404)  # an optional call the page ignores
    b.click(14, "Notiz hinzufügen")
    b.request(14.1, "POST", "/api/kunden/1024/notizen", 201)
    b.announce(14.5, "Notiz gespeichert")
    b.end(30)
    summary = summarize(b)
    assert flagged(summary, "blocking") == [] and flagged(summary, "non-blocking") == []


def test_a_page_whose_own_data_fails_to_load_is_a_problem_until_it_loads():
    b = SessionBuilder()
    b.pageview(0, "/kunden", "Kunden")
    b.click(3, "Muster GmbH", tag="a", href="/kunden/1024")
    b.spa_view(3.1, "/kunden/1024", "Muster GmbH")
    b.request(3.2, "GET", "/api/kunden/1024", 502)
    b.end(12)
    (issue,) = blocking_key_actions(summarize(b))
    assert "/api/kunden/1024" in issue["description"]


def test_a_progress_bar_showing_how_far_the_user_got_is_not_a_wait():
    b = SessionBuilder()
    b.pageview(0, "/onboarding", "Einrichtung")
    b._add(0.5, b._element("div", {"role": "progressbar", "aria-valuenow": "40"}, "Schritt 2 von 5"))
    b.click(2, "Weiter")
    b.end(15)
    summary = summarize(b)
    assert flagged(summary, "blocking") == [] and flagged(summary, "non-blocking") == []


def test_a_spinner_the_user_was_not_waiting_for_is_not_a_blocker():
    b = SessionBuilder()
    b.pageview(0, "/dashboard", "Dashboard")
    b.busy(0.5, None, text="Diagramm wird geladen…")
    b.click(2, "Aufgaben")
    b.announce(2.3, "3 Aufgaben geöffnet")
    b.click(6, "Kunden", tag="a", href="/kunden")
    b.spa_view(6.1, "/kunden", "Kunden")
    b.end(20)
    assert blocking_key_actions(summarize(b)) == []


def test_a_re_rendered_conversation_is_not_news_even_with_error_words():
    b = SessionBuilder()
    b.pageview(0, "/tickets/7002", "Ticket 7002")
    thread = b._element("ul", {"class": "thread"}, children=[
        b._element("li", {"class": "message"}, "Miriam Vogt: Wir haben das Problem behoben, bitte prüfen Sie es noch einmal.")])
    b._add(0.5, thread)
    b.type_into(3, "reply")
    b.click(6, "Antwort senden")
    b.submit(6, "Antwort senden")
    b.request(6.1, "POST", "/api/tickets/7002/antworten", 201)
    b.remove(6.3, thread["id"])
    b._add(6.3, b._element("ul", {"class": "thread"}, children=[
        b._element("li", {"class": "message"}, "Miriam Vogt: Wir haben das Problem behoben, bitte prüfen Sie es noch einmal."),
        b._element("li", {"class": "message"}, "Sie: Danke, jetzt geht es.")]))
    b.announce(6.4, "Antwort gesendet")
    b.end(15)
    summary = summarize(b)
    assert flagged(summary, "blocking") == [] and flagged(summary, "non-blocking") == []


def test_a_validation_message_that_changes_between_tries_is_still_the_same_problem():
    b = SessionBuilder()
    t = open_new_customer_form(b)
    b.click(t, "Speichern")
    b.submit(t, "Speichern")
    b.invalid(t + 0.2, "iban", "Bitte geben Sie eine gültige IBAN ein")
    b.click(t + 8, "Speichern")
    b.submit(t + 8, "Speichern")
    b.message(t + 8.2, "Bitte prüfen Sie die markierten Felder.", **{"class": "form-error"})
    b.end(t + 20)
    (issue,) = blocking_key_actions(summarize(b))
    assert issue["event"] == "field_invalid" and "2 attempts" in issue["description"]


def test_a_call_cut_short_by_the_user_leaving_is_the_wait_not_a_server_error():
    b = SessionBuilder()
    b.pageview(0, "/uebersicht", "Übersicht")
    b.click(5, "Angebote", tag="a", href="/angebote")
    b.spa_view(5.05, "/angebote", "Angebote")
    b.request(5.1, "GET", "/api/angebote", 0, duration=9000)  # aborted when the user went elsewhere
    b.scroll(8)
    b.click(14.1, "Tickets", tag="a", href="/tickets")
    b.spa_view(14.1, "/tickets", "Tickets")
    b.end(25)
    summary = summarize(b)
    (issue,) = blocking_key_actions(summary)
    assert issue["event"] == "loading_left" and "still running when the user left" in issue["description"]
    assert 5 <= issue["seconds_from_start"] <= 5.5


def test_bootstrap_conventions_in_a_hash_routed_app_count_the_same():
    """A French app with hash routes, a form in a modal, is-invalid fields, alert-danger banners, tooltip icons."""
    b = SessionBuilder()
    b.pageview(0, "/#/demandes", "Demandes")
    b.click(2, "+", attrs={"data-tooltip": "Nouvelle demande"})
    field = b._node()
    modal = b._element("div", {"class": "modal show", "role": "dialog"}, children=[
        b._element("form", {"id": "demande-form"}, children=[
            b._element("div", {"class": "mb-3"}, children=[
                {"type": 2, "tagName": "input", "id": field, "attributes": {"name": "date_debut", "class": "form-control"},
                 "childNodes": []},
                b._element("div", {"class": "invalid-feedback"}, "La date de début doit être dans le futur.")])])])
    b._add(2.3, modal)
    b.type_into(5, "date_debut")
    for attempt in range(2):
        at = 9 + attempt * 6
        b.click(at, "Envoyer")
        b.rrweb.append({"type": 3, "timestamp": b.ms(at + 0.1), "data": {"source": 0, "texts": [], "adds": [],
                        "removes": [], "attributes": [{"id": field, "attributes": {"class": "form-control is-invalid"}}]}})
        if attempt == 0:
            b.rrweb.append({"type": 3, "timestamp": b.ms(at + 3), "data": {"source": 0, "texts": [], "adds": [],
                            "removes": [], "attributes": [{"id": field, "attributes": {"class": "form-control"}}]}})
    b.click(20, "Réservations", tag="a", href="/#/reservations")
    b.spa_view(20.1, "/#/reservations", "Réservations")
    b.end(30)
    summary = summarize(b)
    (issue,) = blocking_key_actions(summary)
    assert issue["event"] == "field_invalid" and "date_debut" in issue["description"]
    assert "La date de début doit être dans le futur." in issue["description"]
    assert "left for /reservations" in issue["description"]
    named = [a for s in summary["segments"] for a in s["key_actions"] if "Nouvelle demande" in a["description"]]
    assert named, "the icon button is named by its tooltip"
