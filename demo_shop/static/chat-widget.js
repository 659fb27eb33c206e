/* "ChatBuddy" third-party support widget, as a vendor would ship it. Build: __WIDGET_BUILD__ */
(function () {
  var BUILD = "__WIDGET_BUILD__";
  var state = { open: false, presence: { agentStatus: "online", agents: 3 } };

  function render() {
    var root = document.getElementById("chat-widget");
    if (!root) {
      root = document.createElement("div");
      root.id = "chat-widget";
      document.body.appendChild(root);
    }
    root.innerHTML = '<div class="bubble" title="Chat with us">?</div>' +
      (state.open ? '<div class="panel"><b>Need help?</b><p class="muted">Our team usually answers within a few minutes.</p>' +
        '<button class="secondary chat-close">Close</button></div>' : "");
    root.querySelector(".bubble").onclick = function () { state.open = !state.open; render(); };
    var close = root.querySelector(".chat-close");
    if (close) close.onclick = function () { state.open = false; render(); };
  }

  function readPresence(payload) {
    // The broken build lost the "presence" envelope in a refactor; the widget keeps working from its cache.
    var presence = BUILD === "broken" ? payload.presence : payload;
    return presence.agentStatus;
  }

  function pollPresence() {
    setTimeout(pollPresence, 12000 + Math.floor(Math.random() * 14000));
    var status = readPresence(BUILD === "broken" ? {} : state.presence);
    if (status !== state.presence.agentStatus) { state.presence.agentStatus = status; }
  }

  function boot() {
    render();
    setTimeout(pollPresence, 1500 + Math.floor(Math.random() * 2500));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
})();
