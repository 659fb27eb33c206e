/* Demo shop front end: analytics set-up, cart in localStorage, and one small controller per page. */
(function () {
  "use strict";
  var SHOP = window.SHOP || { faults: [] };
  function hasFault(name) { return (SHOP.faults || []).indexOf(name) >= 0; }

  if (window.posthog && SHOP.posthogToken) {
    // Network timing from resource timing only (no payload capture): posthog-js then also records requests that
    // started before its recorder (a slow listing, say); with payload capture it drops every fetch it did not wrap.
    window.posthog.init(SHOP.posthogToken, {
      api_host: SHOP.posthogHost,
      person_profiles: "identified_only",
      capture_pageview: true,
      capture_pageleave: true,
      capture_dead_clicks: true,
      capture_exceptions: true,
      capture_performance: { network_timing: true, web_vitals: true },
      enable_recording_console_log: true,
      session_recording: { recordHeaders: false, recordBody: false },
    });
  }

  // ---- helpers ------------------------------------------------------------------------------------------
  function $(sel, root) { return (root || document).querySelector(sel); }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function money(cents) { return "\u00a3" + (cents / 100).toFixed(2); }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.text().then(function (text) {
        if (!r.ok) { throw new Error("HTTP " + r.status + " from " + url + ": " + text.slice(0, 200)); }
        return JSON.parse(text);
      });
    });
  }
  function postJSON(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (d) { return { ok: r.ok, status: r.status, data: d }; }); });
  }
  function toast(text) {
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = text;
    document.body.appendChild(el);
    setTimeout(function () { el.remove(); }, 2600);
  }

  // ---- cart ---------------------------------------------------------------------------------------------
  var CART_KEY = "shop_cart";
  function readCart() { try { return JSON.parse(localStorage.getItem(CART_KEY)) || []; } catch (e) { return []; } }
  function writeCart(items) { localStorage.setItem(CART_KEY, JSON.stringify(items)); updateBadge(); }
  function addToCart(product, qty) {
    var items = readCart();
    var line = items.filter(function (i) { return i.id === product.id; })[0];
    if (line) { line.qty += qty; } else { items.push({ id: product.id, name: product.name, price_cents: product.price_cents, qty: qty }); }
    writeCart(items);
    toast("Added " + qty + " \u00d7 " + product.name + " to your cart");
  }
  function updateBadge() {
    var count = readCart().reduce(function (n, i) { return n + i.qty; }, 0);
    var el = $("#cart-count");
    if (el) { el.textContent = String(count); }
  }
  function cartTotal(items) { return items.reduce(function (n, i) { return n + i.qty * i.price_cents; }, 0); }

  // ---- shared widgets -----------------------------------------------------------------------------------
  function productCard(p) {
    return '<div class="card" data-product-id="' + p.id + '">' +
      '<a class="swatch" href="/product/' + p.id + '" style="background:' + esc(p.colour) + '">' + esc(p.name.charAt(0)) + "</a>" +
      '<div class="body"><a class="name" href="/product/' + p.id + '">' + esc(p.name) + "</a>" +
      '<span class="muted">' + esc(p.category) + "</span>" +
      '<div class="row"><span class="price">' + money(p.price_cents) + "</span>" +
      '<button class="quick-add" data-id="' + p.id + '" title="Add one to your cart">+ Add</button></div></div></div>';
  }
  function renderGrid(el, products) {
    el.innerHTML = products.length ? products.map(productCard).join("") : '<p class="muted">No products match.</p>';
    Array.prototype.forEach.call(el.querySelectorAll(".quick-add"), function (btn) {
      btn.addEventListener("click", function () {
        var p = products.filter(function (x) { return String(x.id) === btn.dataset.id; })[0];
        addToCart(p, 1);
      });
    });
  }
  function loadRecommendations(el, seed) {
    // Flaky upstream: retry on our own, quickly, so the shopper never notices.
    var attempt = 1;
    // Recommendations are below the main content: fetch them once the page has settled.
    setTimeout(go, 3000 + Math.floor(Math.random() * 1500));
    function go() {
      getJSON("/api/recommendations?seed=" + seed + "&attempt=" + attempt)
        .then(function (d) { renderGrid(el, d.results); })
        .catch(function () {
          if (attempt < 3) { attempt += 1; setTimeout(go, 300 + Math.floor(Math.random() * 400)); }
          else { el.innerHTML = '<p class="muted">No recommendations right now.</p>'; }
        });
    }
  }

  // ---- pages --------------------------------------------------------------------------------------------
  var pages = {};

  pages.index = function () {
    loadRecommendations($("#recommendations"), new Date().getMinutes());
    getJSON("/api/products").then(function (d) { renderGrid($("#products"), d.results.slice(0, 8)); });
  };

  pages.listing = function () {
    var path = location.pathname.split("/").filter(Boolean);
    var params = new URLSearchParams(location.search);
    var url, title;
    if (path[0] === "category") {
      url = "/api/products?category=" + encodeURIComponent(path[1] || "");
      title = (path[1] || "all").replace(/^./, function (c) { return c.toUpperCase(); });
    } else {
      var q = params.get("q") || "";
      $("#search-input").value = q;
      url = "/api/search?q=" + encodeURIComponent(q);
      title = 'Results for \u201c' + q + '\u201d';
    }
    $("#listing-title").textContent = title;
    var products = [];
    getJSON(url).then(function (d) { products = d.results; renderGrid($("#products"), products); })
      .catch(function () { $("#products").innerHTML = '<p class="muted">We could not load products. Please refresh.</p>'; });
    $("#sort").addEventListener("change", function (e) {
      var sorted = products.slice();
      if (e.target.value === "price-asc") { sorted.sort(function (a, b) { return a.price_cents - b.price_cents; }); }
      if (e.target.value === "price-desc") { sorted.sort(function (a, b) { return b.price_cents - a.price_cents; }); }
      renderGrid($("#products"), sorted);
    });
  };

  pages.product = function () {
    var id = location.pathname.split("/").filter(Boolean)[1];
    loadRecommendations($("#recommendations"), Number(id) || 0);
    getJSON("/api/products/" + encodeURIComponent(id)).then(function (p) {
      document.title = p.name + " \u00b7 Hearth & Trail";
      $("#product").innerHTML = '<div class="product">' +
        '<div class="swatch" style="background:' + esc(p.colour) + '">' + esc(p.name.charAt(0)) + "</div>" +
        "<div><h1>" + esc(p.name) + '</h1><div class="price">' + money(p.price_cents) + "</div>" +
        "<p>" + esc(p.blurb) + "</p>" +
        '<p class="muted">In stock \u00b7 Delivered in 2\u20134 working days</p>' +
        '<div class="stepper"><button class="qty-minus" aria-label="One fewer">\u2212</button><span id="qty">1</span>' +
        '<button class="qty-plus" aria-label="One more">+</button></div>' +
        '<button id="add-to-cart">Add to cart</button>' +
        "<details><summary>Delivery and returns</summary><p>Free delivery over \u00a350. Return anything within 30 days.</p></details>" +
        '<div class="reviews"><h2>Reviews</h2><blockquote>\u201cExactly as described, and it arrived quickly.\u201d</blockquote>' +
        "<blockquote>\u201cGood quality for the price. Would buy again.\u201d</blockquote></div></div></div>";
      var qty = 1;
      $(".qty-minus").addEventListener("click", function () { qty = Math.max(1, qty - 1); $("#qty").textContent = qty; });
      $(".qty-plus").addEventListener("click", function () { qty = Math.min(9, qty + 1); $("#qty").textContent = qty; });
      if (!hasFault("dead_button")) {
        $("#add-to-cart").addEventListener("click", function () { addToCart(p, qty); });
      }
    }).catch(function () { $("#product").innerHTML = "<h1>Product not found</h1>"; });
  };

  pages.cart = function () {
    function render() {
      var items = readCart();
      var el = $("#cart");
      if (!items.length) {
        el.innerHTML = '<p>Your cart is empty. <a href="/">Continue shopping</a></p>';
        return;
      }
      el.innerHTML = '<table class="cart"><thead><tr><th>Product</th><th>Quantity</th><th>Price</th><th></th></tr></thead><tbody>' +
        items.map(function (i) {
          return '<tr data-id="' + i.id + '"><td><a href="/product/' + i.id + '">' + esc(i.name) + "</a></td>" +
            '<td><div class="stepper"><button class="qty-minus">\u2212</button><span>' + i.qty + '</span><button class="qty-plus">+</button></div></td>' +
            "<td>" + money(i.qty * i.price_cents) + '</td><td><a href="#" class="remove">Remove</a></td></tr>';
        }).join("") + "</tbody></table>" +
        '<div class="totals">Subtotal: <b id="subtotal">' + money(cartTotal(items)) + "</b></div>" +
        '<p class="totals"><a class="button secondary" href="/">Continue shopping</a> <a class="button" id="checkout-button" href="/checkout">Checkout</a></p>';
      Array.prototype.forEach.call(el.querySelectorAll("tr[data-id]"), function (row) {
        var id = Number(row.dataset.id);
        function change(delta) {
          var all = readCart();
          all.forEach(function (i) { if (i.id === id) { i.qty += delta; } });
          writeCart(all.filter(function (i) { return i.qty > 0; }));
          render();
        }
        row.querySelector(".qty-minus").addEventListener("click", function () { change(-1); });
        row.querySelector(".qty-plus").addEventListener("click", function () { change(1); });
        row.querySelector(".remove").addEventListener("click", function (e) { e.preventDefault(); change(-1000); });
      });
    }
    render();
  };

  var CLEAR_RULES = {
    name: [/\S/, "Enter your full name."],
    email: [/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "Enter an email address like name@example.com."],
    address: [/\S/, "Enter the first line of your address."],
    city: [/\S/, "Enter your town or city."],
    postcode: [/^[A-Za-z0-9 ]{3,10}$/, "Enter a postcode, for example SW1A 1AA."],
    phone: [/^\+?[\d\s()-]{7,18}$/, "Enter a phone number, for example 020 7946 0958."],
    card: [/^(\d\s?){16}$/, "Enter the 16 digits on the front of your card."],
    expiry: [/^(0[1-9]|1[0-2])\/\d{2}$/, "Enter the expiry date as MM/YY, for example 08/28."],
    cvc: [/^\d{3}$/, "Enter the 3 digits on the back of your card."],
  };

  pages.checkout = function () {
    var items = readCart();
    var form = $("#checkout-form");
    var banner = $("#form-banner");
    $("#order-summary").textContent = items.length
      ? items.length + " item(s), total " + money(cartTotal(items))
      : "Your cart is empty.";
    function showBanner(text) { banner.textContent = text; banner.hidden = false; }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      banner.hidden = true;
      var bad = [];
      Object.keys(CLEAR_RULES).forEach(function (name) {
        var field = form.elements[name];
        var rule = CLEAR_RULES[name][0];
        if (name === "phone" && hasFault("confusing_validation")) { rule = /^\d{10,11}$/; }
        var ok = rule.test(field.value.trim());
        var box = field.parentNode;
        box.classList.remove("invalid");
        box.querySelector(".error").textContent = "";
        if (!ok) { bad.push(name); }
        if (!ok && !hasFault("confusing_validation")) {
          box.classList.add("invalid");
          box.querySelector(".error").textContent = CLEAR_RULES[name][1];
        }
      });
      if (bad.length) {
        showBanner(hasFault("confusing_validation") ? "Please check your details." : "Please correct the highlighted fields.");
        return;
      }
      if (!readCart().length) { showBanner("Your cart is empty."); return; }
      var button = $("#pay-button");
      button.disabled = true;
      button.textContent = "Processing\u2026";
      postJSON("/api/checkout/pay", { items: readCart(), email: form.elements.email.value }).then(function (res) {
        button.disabled = false;
        button.textContent = "Pay now";
        if (res.ok) {
          var orders = JSON.parse(localStorage.getItem("shop_orders") || "[]");
          orders.push({ id: res.data.order_id, total: cartTotal(readCart()), at: new Date().toISOString() });
          localStorage.setItem("shop_orders", JSON.stringify(orders));
          writeCart([]);
          location.href = "/order/" + res.data.order_id;
        } else {
          showBanner("Payment failed. We could not take your payment. Please try again or use a different card.");
        }
      }).catch(function () {
        button.disabled = false;
        button.textContent = "Pay now";
        showBanner("Payment failed. Check your connection and try again.");
      });
    });
  };

  pages.order = function () {
    var id = location.pathname.split("/").filter(Boolean)[1] || "";
    $("#order").innerHTML = '<div class="banner ok"><h1>Thank you!</h1><p>Your order <b>' + esc(id) +
      "</b> is confirmed. We sent the receipt to your email.</p></div><p><a class=\"button\" href=\"/\">Keep shopping</a> " +
      '<a class="button secondary" href="/account">See your orders</a></p>';
  };

  pages.account = function () {
    var el = $("#account");
    function user() { try { return JSON.parse(localStorage.getItem("shop_user")); } catch (e) { return null; } }
    function render() {
      var u = user();
      if (!u) {
        el.innerHTML = '<form class="checkout" id="login-form" novalidate><div class="banner error" id="login-banner" hidden></div>' +
          '<div class="field wide"><label for="login-email">Email</label><input id="login-email" type="email"></div>' +
          '<div class="field wide"><label for="login-password">Password</label><input id="login-password" type="password"></div>' +
          '<div class="field wide"><button type="submit" id="login-button">Sign in</button></div></form>';
        $("#login-form").addEventListener("submit", function (e) {
          e.preventDefault();
          postJSON("/api/account/login", { email: $("#login-email").value, password: $("#login-password").value }).then(function (res) {
            if (!res.ok) { var b = $("#login-banner"); b.textContent = res.data.error || "Could not sign in."; b.hidden = false; return; }
            localStorage.setItem("shop_user", JSON.stringify(res.data));
            if (window.posthog && window.posthog.identify) { window.posthog.identify(res.data.email, { email: res.data.email }); }
            render();
          });
        });
        return;
      }
      var orders = JSON.parse(localStorage.getItem("shop_orders") || "[]");
      el.innerHTML = "<p>Signed in as <b>" + esc(u.email) + '</b> \u00b7 <a href="#" id="sign-out">Sign out</a></p>' +
        "<h2>Your orders</h2>" + (orders.length ? "<ul>" + orders.map(function (o) { return "<li>Order " + esc(o.id) + " \u00b7 " + money(o.total) + "</li>"; }).join("") + "</ul>" : '<p class="muted">No orders yet.</p>') +
        '<h2>Delivery address</h2><form class="checkout" id="address-form"><div class="banner ok" id="address-banner" hidden>Address saved.</div>' +
        '<div class="field wide"><label for="acct-address">Address</label><input id="acct-address"></div>' +
        '<div class="field"><label for="acct-city">City</label><input id="acct-city"></div>' +
        '<div class="field"><label for="acct-postcode">Postcode</label><input id="acct-postcode"></div>' +
        '<div class="field wide"><button type="submit" id="save-address">Save address</button></div></form>';
      $("#sign-out").addEventListener("click", function (e) {
        e.preventDefault(); localStorage.removeItem("shop_user");
        render();
      });
      $("#address-form").addEventListener("submit", function (e) {
        e.preventDefault();
        postJSON("/api/account/address", { address: $("#acct-address").value, city: $("#acct-city").value, postcode: $("#acct-postcode").value })
          .then(function () { $("#address-banner").hidden = false; });
      });
    }
    render();
  };

  updateBadge();
  var page = document.body.dataset.page;
  if (pages[page]) { pages[page](); }
})();
