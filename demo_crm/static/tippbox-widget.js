/* TippBox in-app tips widget, as the vendor ships it. Build __TIPPBOX_BUILD__ */
(function () {
  var BUILD = "__TIPPBOX_BUILD__";
  var TIPS = [
    "Tipp: Überprüfen Sie Ihre Filter, um schneller zu finden",
    "Tip: check your filters",
    "Tipp: Mit der Suche oben finden Sie jeden Kunden in Sekunden",
  ];
  var session = { user: BUILD === "2.3.0" ? { locale: "de-DE" } : undefined, seen: 0 };

  function render() {
    var box = document.createElement("aside");
    box.className = "tippbox";
    box.setAttribute("aria-label", "Tipps");
    box.innerHTML = '<span class="tippbox-text"></span><button type="button" class="tippbox-close" aria-label="Tipp ausblenden">\u00d7</button>';
    box.querySelector(".tippbox-text").textContent = TIPS[Math.floor(Math.random() * TIPS.length)];
    box.querySelector(".tippbox-close").onclick = function () { box.remove(); };
    document.body.appendChild(box);
  }

  function heartbeat() {
    setTimeout(heartbeat, 15000 + Math.floor(Math.random() * 15000));
    session.seen += 1;
    // 2.3.1-rc2 reads the locale before the user profile has arrived (it never does for anonymous visitors).
    var locale = session.user.locale;
    if (locale && window.navigator.sendBeacon && session.seen > 1000) { window.navigator.sendBeacon("/tippbox/ping", locale); }
  }

  function boot() {
    render();
    setTimeout(heartbeat, 2000 + Math.floor(Math.random() * 3000));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
})();
