/* Kontora CRM front end: analytics set-up, a small history router, and one view per route. */
(function () {
  "use strict";
  var CFG = window.KONTORA || { features: {} };
  var FEATURES = CFG.features || {};

  if (window.posthog && CFG.posthogToken) {
    // No header or body capture: posthog-js then takes network timing from resource timing entries, which also
    // covers requests started before its recorder was ready.
    window.posthog.init(CFG.posthogToken, {
      api_host: CFG.posthogHost,
      person_profiles: "identified_only",
      capture_pageview: "history_change",
      capture_pageleave: true,
      capture_dead_clicks: true,
      capture_exceptions: true,
      rageclick: true,
      capture_performance: { network_timing: true, web_vitals: true },
      session_recording: { recordHeaders: false, recordBody: false },
    });
  }

  // ---- helpers ------------------------------------------------------------------------------------------
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
  var EUR_DE = new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" });
  var NUM_DE = new Intl.NumberFormat("de-DE", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var NUM_EN = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function euro(cents) { return EUR_DE.format(cents / 100); }
  function euroShort(cents) { return "\u20ac " + NUM_DE.format(cents / 100); }
  // The quotes list still comes from the old reporting module, which formats amounts the English way.
  function amountLegacy(cents) { return NUM_EN.format(cents / 100); }
  function dateDe(iso) {
    var p = String(iso || "").split("-");
    return p.length === 3 ? p[2] + "." + p[1] + "." + p[0] : String(iso || "");
  }
  function badge(status) {
    var slug = String(status).toLowerCase().replace(/[^a-zäöü]+/g, "-");
    return '<span class="badge badge-' + esc(slug) + '">' + esc(status) + "</span>";
  }
  var ICONS = {
    pencil: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>',
    trash: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>',
    pdf: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 3h9l4 4v14H6zM14 3v5h5M12 11v6m-3-3 3 3 3-3" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>',
    archive: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 5h18v4H3zM5 9v10h14V9M10 13h4" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>',
    save: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 4h11l3 3v13H5zM8 4v5h7V4M8 20v-6h8v6" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>',
    link: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1m2 4a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>',
  };
  function iconButton(icon, label, attrs) {
    return '<button type="button" class="icon-btn" aria-label="' + esc(label) + '" title="' + esc(label) + '" ' + (attrs || "") + ">" + ICONS[icon] + "</button>";
  }

  // ---- API ----------------------------------------------------------------------------------------------
  function request(method, url, body, signal, attempt) {
    attempt = attempt || 1;
    var options = { method: method, signal: signal, headers: { Accept: "application/json", "X-Retry-Attempt": String(attempt) } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (r) {
      if (r.status === 503 && method === "GET" && attempt < 3) {
        // The gateway sheds load with 503s; an immediate retry nearly always gets through, so nobody sees them.
        // The answer is read first so the connection is free again.
        return r.text().then(function () { return wait(250 + Math.random() * 400); })
          .then(function () { return request(method, url, body, signal, attempt + 1); });
      }
      return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  // ---- toasts -------------------------------------------------------------------------------------------
  function toast(text, kind) {
    var el = document.createElement("div");
    var error = kind === "error";
    el.className = "toast " + (error ? "toast-error" : "toast-ok");
    el.setAttribute("role", error ? "alert" : "status");
    el.innerHTML = '<span class="toast-text"></span><button type="button" class="toast-close" aria-label="Meldung schließen">\u00d7</button>';
    $(".toast-text", el).textContent = text;
    $(".toast-close", el).addEventListener("click", function () { el.remove(); });
    $("#toasts").appendChild(el);
    setTimeout(function () { el.remove(); }, error ? 9000 : 4500);
  }

  // ---- views: shared pieces -----------------------------------------------------------------------------
  var view = $("#view");
  function showLoading() {
    view.setAttribute("aria-busy", "true");
    view.innerHTML = '<div class="loading"><span class="spinner" role="progressbar" aria-label="Wird geladen"></span>' +
      "<span>Wird geladen\u2026</span></div>";
  }
  function show(title, html) {
    document.title = title + " \u00b7 Kontora";
    view.innerHTML = html;
    view.setAttribute("aria-busy", "false");
  }
  function load(ctx, url) {
    showLoading();
    return request("GET", url, undefined, ctx.signal).then(function (res) {
      if (!res.ok) {
        show("Fehler", '<div class="empty"><h1>Das hat nicht geklappt</h1><p>' + esc(res.data.fehler || "Die Daten konnten nicht geladen werden.") +
          '</p><a class="button secondary" href="/uebersicht" data-link>Zur Übersicht</a></div>');
        throw new Error("HTTP " + res.status + " for " + url);
      }
      return res.data;
    });
  }
  function ignoreAborts(error) {
    if (error && error.name === "AbortError") { return; }
    if (window.console) { console.warn(error); }
  }

  // A menu ("⋯") opened by a button; items call actions by name.
  function bindMenus(root, actions) {
    $all("[data-menu]", root).forEach(function (button) {
      var menu = $("#" + button.getAttribute("aria-controls"));
      button.addEventListener("click", function (e) {
        e.stopPropagation();
        var open = menu.hidden;
        closeMenus();
        menu.hidden = !open;
        button.setAttribute("aria-expanded", String(open));
      });
      $all("[role=menuitem]", menu).forEach(function (item) {
        item.addEventListener("click", function () {
          closeMenus();
          actions[item.dataset.action]();
        });
      });
    });
  }
  // Touches only what is open: a click elsewhere must not change the page when nothing was open.
  function closeMenus() {
    $all("[role=menu]:not([hidden])").forEach(function (m) { m.hidden = true; });
    $all('[data-menu][aria-expanded="true"]').forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
    var panel = $("#notifications-panel");
    if (panel && !panel.hidden) { panel.hidden = true; $("#notifications-button").setAttribute("aria-expanded", "false"); }
  }
  document.addEventListener("click", closeMenus);

  // Toolbar actions v2 (behind a flag while it rolls out) registers handlers on the shared action bar, which
  // detail pages do not render yet; v1 binds each toolbar button directly.
  var actionBar = { handlers: {}, register: function (actions) { this.handlers = actions; } };
  function bindToolbar(root, actions) {
    if (FEATURES.toolbarActionsV2) {
      actionBar.register(actions);
      var bar = $("#action-bar");
      if (bar) { bar.addEventListener("click", function (e) { var b = e.target.closest("[data-action]"); if (b) actions[b.dataset.action](); }); }
      return;
    }
    $all(".toolbar [data-action]", root).forEach(function (button) {
      button.addEventListener("click", function () { actions[button.dataset.action](button); });
    });
  }

  // Form fields with their error text linked by aria-describedby.
  function field(name, label, value, opts) {
    opts = opts || {};
    var id = "f-" + name;
    var control = opts.options
      ? '<select id="' + id + '" name="' + name + '">' + opts.options.map(function (o) {
        var val = Array.isArray(o) ? o[0] : o, text = Array.isArray(o) ? o[1] : o;
        return '<option value="' + esc(val) + '"' + (String(val) === String(value) ? " selected" : "") + ">" + esc(text) + "</option>";
      }).join("") + "</select>"
      : '<input id="' + id + '" name="' + name + '" value="' + esc(value || "") + '"' + (opts.placeholder ? ' placeholder="' + esc(opts.placeholder) + '"' : "") +
        (opts.type ? ' type="' + opts.type + '"' : "") + (opts.required ? ' aria-required="true"' : "") + ">";
    return '<div class="field' + (opts.wide ? " wide" : "") + '"><label for="' + id + '">' + esc(label) + (opts.required ? " *" : "") + "</label>" + control +
      (opts.hint ? '<p class="hint" id="' + id + '-hint">' + esc(opts.hint) + "</p>" : "") + '<p class="field-error" id="' + id + '-error" hidden></p></div>';
  }
  function clearErrors(form) {
    $all("[aria-invalid]", form).forEach(function (el) { el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
    $all(".field-error", form).forEach(function (el) { el.hidden = true; el.textContent = ""; });
    var summary = $(".form-summary", form);
    if (summary) { summary.hidden = true; }
  }
  function showErrors(form, errors) {
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var input = form.elements[name];
      if (!input) { return; }
      var error = $("#f-" + name + "-error", form);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "f-" + name + "-error");
      error.textContent = errors[name];
      error.hidden = false;
      first = first || input;
    });
    var summary = $(".form-summary", form);
    if (summary) { summary.textContent = "Bitte prüfen Sie die markierten Felder."; summary.hidden = false; }
    if (first) { first.focus(); }
  }
  function setSaving(form, saving) {
    form.setAttribute("aria-busy", String(saving));
    $all("button[type=submit]", form).forEach(function (b) {
      b.disabled = saving;
      if (b.dataset.label) { b.textContent = saving ? "Wird gespeichert\u2026" : b.dataset.label; }
    });
  }
  // Submit a form's data; 422 marks fields, 5xx says so in an alert toast; resolves with the saved record.
  function save(form, method, url, body) {
    clearErrors(form);
    setSaving(form, true);
    return request(method, url, body).then(function (res) {
      setSaving(form, false);
      if (res.ok) { toast("Gespeichert"); return res.data; }
      if (res.status === 422) { showErrors(form, res.data.felder || {}); }
      else { toast("Speichern fehlgeschlagen. Bitte erneut versuchen.", "error"); }
      return null;
    }, function () {
      setSaving(form, false);
      toast("Keine Verbindung zum Server. Bitte erneut versuchen.", "error");
      return null;
    });
  }
  function formActions(cancelHref) {
    return '<div class="form-actions"><button type="submit" class="button" data-label="Speichern" id="save-button">Speichern</button>' +
      '<a class="button secondary" href="' + cancelHref + '" data-link>Abbrechen</a></div>';
  }

  // ---- Übersicht ----------------------------------------------------------------------------------------
  function viewOverview(ctx) {
    load(ctx, "/api/uebersicht").then(function (d) {
      show("Übersicht", '<div class="page-head"><h1>Guten Tag, Miriam</h1><div class="actions">' +
        '<a class="button secondary" href="/angebote/neu" data-link>Neues Angebot</a> <a class="button" href="/kunden/neu" data-link>Neuer Kunde</a></div></div>' +
        '<div class="kpis"><div class="kpi"><span>Offene Angebote</span><b>' + d.offene_angebote + "</b><small>" + euroShort(d.offene_summe_cents) + "</small></div>" +
        '<div class="kpi"><span>Umsatz (Monat)</span><b>' + euro(d.umsatz_monat_cents) + "</b><small>netto</small></div>" +
        '<div class="kpi"><span>Offene Tickets</span><b>' + d.offene_tickets + '</b><small><a href="/tickets" data-link>Alle ansehen</a></small></div></div>' +
        '<section class="card"><h2>Letzte Aktivitäten</h2><table class="table"><tbody>' +
        d.aktivitaeten.map(function (a) { return "<tr><td>" + esc(a.text) + "</td><td>" + badge(a.status) + "</td></tr>"; }).join("") +
        "</tbody></table></section>");
    }).catch(ignoreAborts);
  }

  // ---- Kunden -------------------------------------------------------------------------------------------
  function viewCustomers(ctx) {
    var q = new URLSearchParams(location.search).get("q") || "";
    load(ctx, "/api/kunden").then(function (d) {
      var all = d.ergebnisse;
      show("Kunden", '<div class="page-head"><h1>Kunden</h1><div class="actions"><a class="button" id="new-customer" href="/kunden/neu" data-link>+ Neuer Kunde</a></div></div>' +
        '<div class="filters"><input id="filter-q" type="search" placeholder="Name, Ort oder Ansprechpartner" aria-label="Kunden filtern" value="' + esc(q) + '">' +
        '<select id="filter-status" aria-label="Status"><option value="">Alle Status</option><option>Aktiv</option><option>Neu</option><option>Inaktiv</option></select>' +
        '<span class="muted" id="result-count"></span></div>' +
        '<table class="table" id="customers"><thead><tr><th>Firma</th><th>Ort</th><th>Branche</th><th>Ansprechpartner</th><th class="num">Umsatz lfd. Jahr</th><th>Status</th></tr></thead><tbody></tbody></table>');
      function render() {
        var text = $("#filter-q").value.trim().toLowerCase();
        var status = $("#filter-status").value;
        var rows = all.filter(function (c) {
          var hay = (c.name + " " + c.ort + " " + c.ansprechpartner).toLowerCase();
          return (!text || hay.indexOf(text) >= 0) && (!status || c.status === status);
        });
        $("#customers tbody").innerHTML = rows.map(function (c) {
          return '<tr data-id="' + c.id + '"><td><a href="/kunden/' + c.id + '" data-link>' + esc(c.name) + "</a></td><td>" + esc(c.ort) + "</td><td>" + esc(c.branche) +
            "</td><td>" + esc(c.ansprechpartner) + '</td><td class="num">' + euro(c.umsatz_cents || 0) + "</td><td>" + badge(c.status) + "</td></tr>";
        }).join("") || '<tr><td colspan="6" class="muted">Keine Kunden gefunden.</td></tr>';
        $("#result-count").textContent = rows.length + " von " + all.length + " Kunden";
      }
      var timer = null;
      $("#filter-q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 250); });
      $("#filter-status").addEventListener("change", render);
      render();
    }).catch(ignoreAborts);
  }

  function viewCustomer(ctx) {
    var id = ctx.params[0];
    load(ctx, "/api/kunden/" + id).then(function (c) {
      var k = c.kontakt || {};
      show(c.name, '<div class="page-head"><div><a class="crumb" href="/kunden" data-link>Kunden</a><h1>' + esc(c.name) + " " + badge(c.status) + "</h1></div>" +
        '<div class="toolbar"><a class="icon-btn" href="/kunden/' + c.id + '/bearbeiten" data-link aria-label="Bearbeiten" title="Bearbeiten">\u270e</a>' +
        iconButton("trash", "Löschen", 'data-action="delete"') +
        '<button type="button" class="icon-btn" data-menu aria-label="Weitere Aktionen" aria-haspopup="menu" aria-expanded="false" aria-controls="customer-menu">\u22ef</button>' +
        '<div class="menu" role="menu" id="customer-menu" hidden><button type="button" role="menuitem" data-action="copyLink">Link kopieren</button>' +
        '<button type="button" role="menuitem" data-action="delete">Löschen</button></div></div></div>' +
        '<div class="grid2"><section class="card"><h2>Stammdaten</h2><dl>' +
        "<dt>Adresse</dt><dd>" + esc(c.strasse) + "<br>" + esc(c.plz) + " " + esc(c.ort) + "</dd>" +
        "<dt>USt-IdNr.</dt><dd>" + esc(c.ust_id || "\u2014") + "</dd><dt>Branche</dt><dd>" + esc(c.branche) + "</dd>" +
        "<dt>Kunde seit</dt><dd>" + dateDe(c.kunde_seit) + "</dd><dt>Umsatz lfd. Jahr</dt><dd>" + euro(c.umsatz_cents || 0) + "</dd></dl></section>" +
        '<section class="card"><h2>Ansprechpartner</h2><dl><dt>Name</dt><dd id="contact-name">' + esc(k.name) + "</dd><dt>E-Mail</dt><dd>" + esc(k.email) +
        "</dd><dt>Telefon</dt><dd>" + esc(k.telefon) + "</dd></dl>" + (c.notiz ? '<p class="note">' + esc(c.notiz) + "</p>" : "") + "</section></div>" +
        '<section class="card"><h2>Angebote</h2>' + (c.angebote.length ? '<table class="table"><tbody>' + c.angebote.map(function (q) {
          return '<tr><td><a href="/angebote/' + q.id + '" data-link>' + esc(q.nummer) + "</a></td><td>" + esc(q.titel) + '</td><td class="num">' + euroShort(q.summe_cents) + "</td><td>" + badge(q.status) + "</td></tr>";
        }).join("") + "</tbody></table>" : '<p class="muted">Noch keine Angebote.</p>') + "</section>" +
        '<section class="card"><h2>Tickets</h2>' + (c.tickets.length ? '<ul class="plain">' + c.tickets.map(function (t) {
          return '<li><a href="/tickets/' + t.id + '" data-link>#' + t.id + " " + esc(t.betreff) + "</a> " + badge(t.status) + "</li>";
        }).join("") + "</ul>" : '<p class="muted">Keine Tickets.</p>') + "</section>");
      var actions = {
        copyLink: function () { if (navigator.clipboard) { navigator.clipboard.writeText(location.href).catch(function () {}); } toast("Link kopiert"); },
        delete: function () { toast("Kunden mit Angeboten können nicht gelöscht werden. Bitte archivieren Sie die Angebote zuerst.", "error"); },
      };
      bindToolbar(view, actions);
      bindMenus(view, actions);
    }).catch(ignoreAborts);
  }

  var BRANCHES = ["Beratung", "Dienstleistung", "Energie", "Finanzen", "Gastgewerbe", "Gesundheit", "Handel", "Handwerk",
    "Immobilien", "Industrie", "IT", "Lebensmittel", "Logistik", "Medien", "Recht", "Tourismus"];

  function viewCustomerForm(ctx) {
    var id = ctx.params[0];
    var ready = id ? load(ctx, "/api/kunden/" + id) : Promise.resolve({ kontakt: {}, branche: "Handel" });
    ready.then(function (c) {
      var k = c.kontakt || {};
      var title = id ? "Kunde bearbeiten" : "Neuer Kunde";
      show(title, '<div class="page-head"><div><a class="crumb" href="' + (id ? "/kunden/" + id : "/kunden") + '" data-link>' + (id ? esc(c.name) : "Kunden") + "</a><h1>" + title + "</h1></div></div>" +
        '<form class="form card" id="customer-form" novalidate><div class="form-head"><p class="form-summary" hidden></p>' +
        '<button type="submit" class="icon-btn" aria-label="Speichern" title="Speichern">' + ICONS.save + "</button></div>" +
        "<h2>Firma</h2>" + field("name", "Firmenname", c.name, { required: true, wide: true }) +
        field("branche", "Branche", c.branche, { options: BRANCHES }) +
        (id ? field("status", "Status", c.status, { options: ["Aktiv", "Neu", "Inaktiv"] }) : "") +
        field("strasse", "Straße und Hausnummer", c.strasse, { wide: true }) + field("plz", "PLZ", c.plz) + field("ort", "Ort", c.ort) +
        field("ust_id", "USt-IdNr.", c.ust_id, { hint: "z. B. DE123456789" }) +
        "<h2>Ansprechpartner</h2>" + field("kontakt_name", "Name", k.name) + field("email", "E-Mail", k.email, { type: "email" }) +
        field("telefon", "Telefon", k.telefon, { type: "tel" }) + formActions(id ? "/kunden/" + id : "/kunden") + "</form>");
      var form = $("#customer-form");
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        clearErrors(form);
        if (!form.elements.name.value.trim()) { showErrors(form, { name: "Bitte geben Sie den Firmennamen ein." }); return; }
        var el = form.elements;
        var body = {
          name: el.name.value.trim(), branche: el.branche.value, strasse: el.strasse.value.trim(), plz: el.plz.value.trim(),
          ort: el.ort.value.trim(), ust_id: el.ust_id.value.trim(),
          kontakt: { name: el.kontakt_name.value.trim(), email: el.email.value.trim(), telefon: el.telefon.value.trim() },
        };
        if (id) { body.status = el.status.value; }
        save(form, id ? "PUT" : "POST", id ? "/api/kunden/" + id : "/api/kunden", body).then(function (saved) {
          if (saved) { navigate("/kunden/" + saved.id); }
        });
      });
    }).catch(ignoreAborts);
  }

  // ---- Angebote -----------------------------------------------------------------------------------------
  function viewQuotes(ctx) {
    load(ctx, "/api/angebote").then(function (d) {
      var all = d.ergebnisse;
      var tabs = ["Alle", "Entwurf", "Versendet", "Angenommen", "Abgelehnt"];
      show("Angebote", '<div class="page-head"><h1>Angebote</h1><div class="actions"><a class="button" id="new-quote" href="/angebote/neu" data-link>+ Neues Angebot</a></div></div>' +
        '<div class="tabs" role="group" aria-label="Status">' + tabs.map(function (t, i) {
          return '<button type="button" class="tab" data-status="' + (i ? t : "") + '" aria-pressed="' + (i ? "false" : "true") + '">' + t + "</button>";
        }).join("") + "</div>" +
        '<table class="table" id="quotes"><thead><tr><th>Nummer</th><th>Kunde</th><th>Titel</th><th class="num">Betrag (EUR)</th><th>Gültig bis</th><th>Status</th><th>Zahlung</th></tr></thead><tbody></tbody></table>');
      function render(status) {
        $("#quotes tbody").innerHTML = all.filter(function (q) { return !status || q.status === status; }).map(function (q) {
          return '<tr data-id="' + q.id + '"><td><a href="/angebote/' + q.id + '" data-link>' + esc(q.nummer) + "</a></td><td>" + esc(q.kunde) + "</td><td>" + esc(q.titel) +
            '</td><td class="num">' + amountLegacy(q.summe_cents) + "</td><td>" + dateDe(q.gueltig_bis) + "</td><td>" + badge(q.status) + "</td><td>" +
            (q.zahlung === "\u2014" ? '<span class="muted">\u2014</span>' : badge(q.zahlung)) + "</td></tr>";
        }).join("");
      }
      $all(".tab", view).forEach(function (tab) {
        tab.addEventListener("click", function () {
          $all(".tab", view).forEach(function (t) { t.setAttribute("aria-pressed", String(t === tab)); });
          render(tab.dataset.status);
        });
      });
      render("");
    }).catch(ignoreAborts);
  }

  function viewQuote(ctx) {
    var id = ctx.params[0];
    load(ctx, "/api/angebote/" + id).then(function (q) {
      show("Angebot " + q.nummer, '<div class="page-head"><div><a class="crumb" href="/angebote" data-link>Angebote</a><h1>Angebot ' + esc(q.nummer) + " " + badge(q.status) + "</h1>" +
        '<p class="muted">' + esc(q.titel) + ' \u00b7 <a href="/kunden/' + q.kunde.id + '" data-link>' + esc(q.kunde.name) + "</a></p></div>" +
        '<div class="toolbar">' + iconButton("pdf", "Als PDF exportieren", 'data-action="exportPdf" id="export-pdf"') +
        iconButton("link", "Link kopieren", 'data-action="copyLink"') +
        '<button type="button" class="icon-btn" data-menu id="quote-menu-button" aria-label="Weitere Aktionen" aria-haspopup="menu" aria-expanded="false" aria-controls="quote-menu">\u22ef</button>' +
        '<div class="menu" role="menu" id="quote-menu" hidden><button type="button" role="menuitem" data-action="exportPdf">Als PDF exportieren</button>' +
        '<button type="button" role="menuitem" data-action="copyLink">Link kopieren</button></div></div></div>' +
        '<section class="card"><table class="table"><thead><tr><th>Position</th><th class="num">Menge</th><th class="num">Einzelpreis</th><th class="num">Gesamt</th></tr></thead><tbody>' +
        q.positionen.map(function (p) {
          return "<tr><td>" + esc(p.text) + '</td><td class="num">' + p.menge + '</td><td class="num">' + euro(p.einzelpreis_cents) + '</td><td class="num">' + euro(p.menge * p.einzelpreis_cents) + "</td></tr>";
        }).join("") + '</tbody><tfoot><tr><td colspan="3">Summe netto</td><td class="num"><b id="quote-total">' + euro(q.summe_cents) + "</b></td></tr>" +
        '<tr><td colspan="3">zzgl. 19 % USt.</td><td class="num">' + euro(Math.round(q.summe_cents * 0.19)) + "</td></tr></tfoot></table>" +
        '<dl class="inline"><dt>Gültig bis</dt><dd>' + dateDe(q.gueltig_bis) + "</dd><dt>Erstellt</dt><dd>" + dateDe(q.erstellt) + "</dd><dt>Zahlung</dt><dd>" + esc(q.zahlung) + "</dd></dl></section>");
      var busy = false;
      var actions = {
        exportPdf: function () {
          if (busy) { return; }
          busy = true;
          var button = $("#export-pdf");
          button.setAttribute("aria-busy", "true");
          request("POST", "/api/angebote/" + q.id + "/pdf", {}).then(function (res) {
            busy = false;
            button.removeAttribute("aria-busy");
            if (res.ok) { toast("PDF erstellt: " + res.data.datei + " (" + res.data.groesse_kb + " KB)"); }
            else { toast("Der PDF-Export ist gerade nicht möglich.", "error"); }
          });
        },
        copyLink: function () { if (navigator.clipboard) { navigator.clipboard.writeText(location.href).catch(function () {}); } toast("Link kopiert"); },
      };
      bindToolbar(view, actions);
      bindMenus(view, actions);
    }).catch(ignoreAborts);
  }

  function positionRow(index) {
    return '<tr class="position"><td><input name="text" aria-label="Beschreibung Position ' + index + '"></td>' +
      '<td><input name="menge" value="1" inputmode="numeric" aria-label="Menge Position ' + index + '"></td>' +
      '<td><input name="preis" inputmode="decimal" placeholder="0,00" aria-label="Einzelpreis Position ' + index + '"></td>' +
      "<td>" + iconButton("trash", "Position entfernen", "data-remove") + "</td></tr>";
  }
  function parseEuro(text) {
    var cleaned = String(text).replace(/[^\d,.-]/g, "").replace(/\./g, "").replace(",", ".");
    var value = parseFloat(cleaned);
    return isNaN(value) ? 0 : Math.round(value * 100);
  }

  function viewQuoteForm(ctx) {
    load(ctx, "/api/kunden").then(function (d) {
      var customers = d.ergebnisse.slice().sort(function (a, b) { return a.name.localeCompare(b.name, "de"); });
      show("Neues Angebot", '<div class="page-head"><div><a class="crumb" href="/angebote" data-link>Angebote</a><h1>Neues Angebot</h1></div></div>' +
        '<form class="form card" id="quote-form" novalidate><div class="form-head"><p class="form-summary" hidden></p></div>' +
        field("kunde_id", "Kunde", "", { options: [["", "Bitte wählen\u2026"]].concat(customers.map(function (c) { return [c.id, c.name]; })), wide: true }) +
        field("titel", "Titel", "", { wide: true, required: true }) + field("gueltig_bis", "Gültig bis", "", { placeholder: "TT.MM.JJJJ" }) +
        '<h2>Positionen</h2><table class="table positions"><thead><tr><th>Beschreibung</th><th>Menge</th><th>Einzelpreis (€)</th><th></th></tr></thead><tbody>' + positionRow(1) + "</tbody></table>" +
        '<p class="field-error" id="f-positionen-error" hidden></p><input type="hidden" name="positionen">' +
        '<p><button type="button" class="button secondary" id="add-position">+ Position hinzufügen</button> <span class="muted">Summe netto: <b id="form-total">' + euro(0) + "</b></span></p>" +
        formActions("/angebote") + "</form>");
      var form = $("#quote-form");
      function positions() {
        return $all("tr.position", form).map(function (row) {
          return { text: $("[name=text]", row).value.trim(), menge: parseInt($("[name=menge]", row).value, 10) || 1, einzelpreis_cents: parseEuro($("[name=preis]", row).value) };
        });
      }
      function updateTotal() {
        $("#form-total").textContent = euro(positions().reduce(function (n, p) { return n + p.menge * p.einzelpreis_cents; }, 0));
      }
      form.addEventListener("input", updateTotal);
      form.addEventListener("click", function (e) {
        var remove = e.target.closest("[data-remove]");
        if (remove && $all("tr.position", form).length > 1) { remove.closest("tr").remove(); updateTotal(); }
      });
      $("#add-position").addEventListener("click", function () {
        $(".positions tbody", form).insertAdjacentHTML("beforeend", positionRow($all("tr.position", form).length + 1));
      });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        clearErrors(form);
        var due = form.elements.gueltig_bis.value.trim();
        var m = due.match(/^(\d{1,2})\.(\d{1,2})\.(\d{4})$/);
        if (due && !m) { showErrors(form, { gueltig_bis: "Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein." }); return; }
        var body = {
          kunde_id: parseInt(form.elements.kunde_id.value, 10) || null, titel: form.elements.titel.value.trim(),
          gueltig_bis: m ? m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2) : "",
          positionen: positions().filter(function (p) { return p.text; }),
        };
        save(form, "POST", "/api/angebote", body).then(function (saved) { if (saved) { navigate("/angebote/" + saved.id); } });
      });
    }).catch(ignoreAborts);
  }

  // ---- Tickets ------------------------------------------------------------------------------------------
  function viewTickets(ctx) {
    load(ctx, "/api/tickets").then(function (d) {
      var all = d.ergebnisse;
      show("Tickets", '<div class="page-head"><h1>Tickets</h1></div><div class="filters">' +
        '<select id="ticket-status" aria-label="Status"><option value="">Alle Status</option><option>Offen</option><option>In Bearbeitung</option><option>Abgeschlossen</option></select>' +
        '<select id="ticket-priority" aria-label="Priorität"><option value="">Alle Prioritäten</option><option>Dringend</option><option>Hoch</option><option>Normal</option><option>Niedrig</option></select></div>' +
        '<table class="table" id="tickets"><thead><tr><th>Nr.</th><th>Betreff</th><th>Kunde</th><th>Priorität</th><th>Status</th><th>Erstellt</th></tr></thead><tbody></tbody></table>');
      function render() {
        var status = $("#ticket-status").value, prio = $("#ticket-priority").value;
        $("#tickets tbody").innerHTML = all.filter(function (t) { return (!status || t.status === status) && (!prio || t.prioritaet === prio); }).map(function (t) {
          return '<tr data-id="' + t.id + '"><td>#' + t.id + '</td><td><a href="/tickets/' + t.id + '" data-link>' + esc(t.betreff) + "</a></td><td>" + esc(t.kunde) +
            '</td><td><span class="prio prio-' + esc(t.prioritaet.toLowerCase()) + '">' + esc(t.prioritaet) + "</span></td><td>" + badge(t.status) + "</td><td>" + dateDe(t.erstellt) + "</td></tr>";
        }).join("") || '<tr><td colspan="6" class="muted">Keine Tickets.</td></tr>';
      }
      $("#ticket-status").addEventListener("change", render);
      $("#ticket-priority").addEventListener("change", render);
      render();
    }).catch(ignoreAborts);
  }

  function viewTicket(ctx) {
    var id = ctx.params[0];
    load(ctx, "/api/tickets/" + id).then(function (t) {
      function thread(messages) {
        return messages.map(function (m) { return '<article class="message"><b>' + esc(m.von) + "</b><p>" + esc(m.text) + "</p></article>"; }).join("");
      }
      show("#" + t.id + " " + t.betreff, '<div class="page-head"><div><a class="crumb" href="/tickets" data-link>Tickets</a><h1>#' + t.id + " " + esc(t.betreff) + "</h1>" +
        '<p class="muted"><a href="/kunden/' + t.kunde.id + '" data-link>' + esc(t.kunde.name) + "</a> \u00b7 Priorität " + esc(t.prioritaet) + "</p></div>" +
        '<div class="toolbar">' + iconButton("archive", "Archivieren", 'data-action="archive" id="archive-ticket"') +
        '<button type="button" class="icon-btn" data-menu id="ticket-menu-button" aria-label="Weitere Aktionen" aria-haspopup="menu" aria-expanded="false" aria-controls="ticket-menu">\u22ef</button>' +
        '<div class="menu" role="menu" id="ticket-menu" hidden><button type="button" role="menuitem" data-action="archive">Archivieren</button>' +
        '<button type="button" role="menuitem" data-action="copyLink">Link kopieren</button></div></div></div>' +
        '<div class="grid2 wide-left"><section class="card"><h2>Verlauf</h2><div id="thread">' + thread(t.nachrichten) + "</div>" +
        '<form id="reply-form" class="reply"><label for="reply-text">Antwort</label><textarea id="reply-text" rows="4" placeholder="Antwort an den Kunden\u2026"></textarea>' +
        '<button type="submit" class="button" id="send-reply">Antwort senden</button></form></section>' +
        '<section class="card"><h2>Details</h2>' + field("status", "Status", t.status, { options: ["Offen", "In Bearbeitung", "Abgeschlossen"] }) +
        "<dl><dt>Status</dt><dd id=\"ticket-status-badge\">" + badge(t.status) + "</dd><dt>Erstellt</dt><dd>" + dateDe(t.erstellt) + "</dd></dl></section></div>");
      $("#reply-form").addEventListener("submit", function (e) {
        e.preventDefault();
        var text = $("#reply-text").value.trim();
        if (!text) { return; }
        $("#send-reply").disabled = true;
        request("POST", "/api/tickets/" + t.id + "/antworten", { text: text }).then(function (res) {
          $("#send-reply").disabled = false;
          if (!res.ok) { toast("Antwort konnte nicht gesendet werden.", "error"); return; }
          $("#thread").innerHTML = thread(res.data.nachrichten);
          $("#reply-text").value = "";
          toast("Antwort gesendet");
        });
      });
      $("#f-status").addEventListener("change", function (e) {
        request("PUT", "/api/tickets/" + t.id, { status: e.target.value }).then(function (res) {
          if (!res.ok) { toast("Speichern fehlgeschlagen. Bitte erneut versuchen.", "error"); return; }
          $("#ticket-status-badge").innerHTML = badge(res.data.status);
          toast("Status geändert");
        });
      });
      var actions = {
        archive: function () {
          request("POST", "/api/tickets/" + t.id + "/archivieren", {}).then(function (res) {
            if (!res.ok) { toast("Archivieren fehlgeschlagen.", "error"); return; }
            toast("Ticket #" + t.id + " archiviert");
            navigate("/tickets");
          });
        },
        copyLink: function () { if (navigator.clipboard) { navigator.clipboard.writeText(location.href).catch(function () {}); } toast("Link kopiert"); },
      };
      bindToolbar(view, actions);
      bindMenus(view, actions);
    }).catch(ignoreAborts);
  }

  // ---- Einstellungen ------------------------------------------------------------------------------------
  var IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;
  function viewSettings(ctx) {
    load(ctx, "/api/einstellungen").then(function (s) {
      show("Einstellungen", '<div class="page-head"><h1>Einstellungen</h1></div><div class="tabs" role="tablist">' +
        '<button type="button" role="tab" class="tab" id="tab-firma" aria-selected="true" aria-controls="panel-firma">Firma</button>' +
        '<button type="button" role="tab" class="tab" id="tab-profil" aria-selected="false" aria-controls="panel-profil">Profil</button>' +
        '<button type="button" role="tab" class="tab" id="tab-integrationen" aria-selected="false" aria-controls="panel-integrationen">Integrationen</button></div>' +
        '<section role="tabpanel" id="panel-firma" aria-labelledby="tab-firma"><form class="form card" id="company-form" novalidate><div class="form-head"><p class="form-summary" hidden></p>' +
        '<button type="submit" class="icon-btn" aria-label="Speichern" title="Speichern">' + ICONS.save + "</button></div>" +
        field("firma", "Firmenname", s.firma, { wide: true }) + field("ust_id", "USt-IdNr.", s.ust_id) +
        field("strasse", "Straße", s.strasse, { wide: true }) + field("plz", "PLZ", s.plz) + field("ort", "Ort", s.ort) +
        "<h2>Bankverbindung</h2>" + field("iban", "IBAN", s.iban, { wide: true }) + field("bic", "BIC", s.bic) + formActions("/uebersicht") + "</form></section>" +
        '<section role="tabpanel" id="panel-profil" aria-labelledby="tab-profil" hidden><div class="card"><dl><dt>Name</dt><dd>' + esc(s.name) + "</dd><dt>E-Mail</dt><dd>" + esc(s.email) +
        "</dd><dt>Rolle</dt><dd>Administratorin</dd></dl></div></section>" +
        '<section role="tabpanel" id="panel-integrationen" aria-labelledby="tab-integrationen" hidden><div class="card"><h2>Synchronisation</h2><table class="table"><thead><tr><th>Dienst</th><th>Zeitpunkt</th><th>Ergebnis</th></tr></thead><tbody>' +
        s.synchronisation.map(function (r) { return "<tr><td>" + esc(r.dienst) + "</td><td>" + esc(r.zeitpunkt) + "</td><td>" + badge(r.status) + "</td></tr>"; }).join("") +
        "</tbody></table></div></section>");
      $all("[role=tab]", view).forEach(function (tab) {
        tab.addEventListener("click", function () {
          $all("[role=tab]", view).forEach(function (t) {
            t.setAttribute("aria-selected", String(t === tab));
            $("#" + t.getAttribute("aria-controls")).hidden = t !== tab;
          });
        });
      });
      var form = $("#company-form");
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        clearErrors(form);
        var raw = form.elements.iban.value.trim().toUpperCase();
        // The strict check (a rollout behind a flag) tests the IBAN as typed, so the usual groups of four fail.
        var iban = FEATURES.strictIbanCheck ? raw : raw.replace(/\s+/g, "");
        if (!IBAN.test(iban)) { showErrors(form, { iban: "Bitte geben Sie eine gültige IBAN ein" }); return; }
        var body = {};
        ["firma", "ust_id", "strasse", "plz", "ort", "iban", "bic"].forEach(function (k) { body[k] = form.elements[k].value.trim(); });
        save(form, "PUT", "/api/einstellungen", body);
      });
    }).catch(ignoreAborts);
  }

  function viewNotFound() {
    show("Nicht gefunden", '<div class="empty"><h1>Seite nicht gefunden</h1><p>Diese Adresse gibt es in Kontora nicht.</p><a class="button" href="/uebersicht" data-link>Zur Übersicht</a></div>');
  }

  // ---- notifications ------------------------------------------------------------------------------------
  function refreshNotifications() {
    request("GET", "/api/benachrichtigungen").then(function (res) {
      if (!res.ok) { return; }
      var count = $("#notifications-count");
      count.textContent = String(res.data.ungelesen);
      count.hidden = !res.data.ungelesen;
      $("#notifications-panel").innerHTML = "<h3>Benachrichtigungen</h3><ul>" + res.data.eintraege.map(function (n) {
        return "<li>" + esc(n.text) + ' <span class="muted">' + esc(n.wann) + "</span></li>";
      }).join("") + "</ul>";
    }).catch(function () {});
  }
  $("#notifications-button").addEventListener("click", function (e) {
    e.stopPropagation();
    var panel = $("#notifications-panel");
    var open = panel.hidden;
    closeMenus();
    panel.hidden = !open;
    this.setAttribute("aria-expanded", String(open));
  });
  $("#global-search").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("#global-search-input").value.trim();
    navigate("/kunden" + (q ? "?q=" + encodeURIComponent(q) : ""));
  });

  // ---- router -------------------------------------------------------------------------------------------
  var ROUTES = [
    [/^\/uebersicht$/, viewOverview],
    [/^\/kunden$/, viewCustomers],
    [/^\/kunden\/neu$/, viewCustomerForm],
    [/^\/kunden\/(\d+)$/, viewCustomer],
    [/^\/kunden\/(\d+)\/bearbeiten$/, viewCustomerForm],
    [/^\/angebote$/, viewQuotes],
    [/^\/angebote\/neu$/, viewQuoteForm],
    [/^\/angebote\/(\d+)$/, viewQuote],
    [/^\/tickets$/, viewTickets],
    [/^\/tickets\/(\d+)$/, viewTicket],
    [/^\/einstellungen$/, viewSettings],
  ];
  var current = null;

  function navigate(path) {
    history.pushState({}, "", path);
    route();
  }
  function route() {
    // Leaving a view cancels whatever it was still loading.
    if (current) { current.abort(); }
    current = new AbortController();
    var path = location.pathname.replace(/\/+$/, "") || "/";
    if (path === "/") {
      history.replaceState({}, "", "/uebersicht");
      path = "/uebersicht";
    }
    var section = path.split("/")[1];
    $all(".sidebar nav a").forEach(function (a) {
      if (a.dataset.section === section) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
    });
    closeMenus();
    refreshNotifications();
    window.scrollTo(0, 0);
    for (var i = 0; i < ROUTES.length; i++) {
      var match = path.match(ROUTES[i][0]);
      if (match) {
        ROUTES[i][1]({ params: match.slice(1), signal: current.signal });
        return;
      }
    }
    viewNotFound();
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-link]");
    if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) { return; }
    e.preventDefault();
    if (link.getAttribute("href") !== location.pathname + location.search) { navigate(link.getAttribute("href")); }
  });
  window.addEventListener("popstate", route);
  route();
})();
