// Live pages: elements marked data-live-refresh="order transfer" (kinds of account events)
// and data-live-account="RT..." are refreshed by htmx (the "rt:refresh" event) when the
// account's event stream (/api/v1/events, server-sent events) says something of those
// kinds changed. While the stream is down they are polled every data-poll-seconds
// instead (0: never), and refreshed once when it is back.
(function () {
  "use strict";
  var KINDS = {
    order: ["pending_new", "new", "partial_fill", "fill", "canceled", "expired", "done_for_day",
      "replaced", "rejected", "pending_cancel", "pending_replace", "order_cancel_rejected",
      "order_replace_rejected", "trade_bust", "trade_correct"],
    transfer: ["requested", "pending", "completed", "rejected", "canceled"],
    account: ["opened", "status_changed"]
  };
  var first = document.querySelector("[data-live-account]");
  if (!first || !window.htmx) return;
  var account = first.getAttribute("data-live-account");
  var pollSeconds = parseFloat(first.getAttribute("data-poll-seconds") || "0");
  var pollTimer = null;
  var pending = {};
  var wasDown = false;

  function refresh(kind) {
    var selector = '[data-live-account="' + account + '"][data-live-refresh]';
    document.querySelectorAll(selector).forEach(function (element) {
      var wanted = element.getAttribute("data-live-refresh").split(" ");
      if (kind !== null && wanted.indexOf(kind) < 0) return;
      var id = element.id;
      if (pending[id]) return;  // one refresh for a burst of events
      pending[id] = setTimeout(function () {
        delete pending[id];
        var current = document.getElementById(id);
        if (current) window.htmx.trigger(current, "rt:refresh");
      }, 50);
    });
  }
  function setState(state) { document.body.setAttribute("data-live-state", state); }
  function startPolling() {
    if (pollTimer !== null || !(pollSeconds > 0)) return;
    pollTimer = setInterval(function () { refresh(null); }, pollSeconds * 1000);
  }
  function stopPolling() {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  }
  if (!window.EventSource) { setState("polling"); startPolling(); return; }

  var source = new EventSource("/api/v1/events?accounts=" + encodeURIComponent(account));
  source.addEventListener("open", function () {
    stopPolling();
    setState("streaming");
    if (wasDown) refresh(null);  // what changed while it was down
    wasDown = false;
  });
  source.addEventListener("error", function () {
    wasDown = true;
    setState(source.readyState === EventSource.CLOSED ? "polling" : "reconnecting");
    startPolling();
  });
  Object.keys(KINDS).forEach(function (kind) {
    KINDS[kind].forEach(function (name) {
      source.addEventListener(kind + "." + name, function () { refresh(kind); });
    });
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
