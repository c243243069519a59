// The devices list: refresh the state badges of the devices on this page every 10 s,
// from /devices/presence, without reloading. No inline script (CSP); plain fetch.
(function () {
  "use strict";
  var INTERVAL_MS = 10000;
  var STATES = ["ok", "warning", "critical", "offline"];

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.devices tr[data-device-id]"));
  }

  function apply(device) {
    var row = document.querySelector('table.devices tr[data-device-id="' + CSS.escape(device.id) + '"]');
    if (!row) { return; }
    var badge = row.querySelector("[data-presence]");
    if (badge && STATES.indexOf(device.state) >= 0 && badge.textContent !== device.state) {
      STATES.forEach(function (s) { badge.classList.remove(s); });
      badge.classList.add(device.state);
      badge.textContent = device.state;
    }
    row.setAttribute("data-online", device.online ? "true" : "false");
  }

  function poll(table) {
    var ids = rows().map(function (row) { return row.getAttribute("data-device-id"); });
    if (!ids.length || document.hidden) { return Promise.resolve(true); }
    var url = table.getAttribute("data-presence-url") + "?ids=" + encodeURIComponent(ids.join(","));
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        // Signed out (sent to /login) or refused: stop polling until the page is reloaded.
        var json = (response.headers.get("content-type") || "").indexOf("application/json") === 0;
        if (!response.ok || response.redirected || !json) { return false; }
        return response.json().then(function (body) {
          (body.devices || []).forEach(apply);
          return true;
        });
      })
      .catch(function () { return true; });  // network blip: try again next time
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("table.devices[data-presence-url]");
    if (!table) { return; }
    var timer = window.setInterval(function () {
      poll(table).then(function (keepGoing) {
        if (!keepGoing) { window.clearInterval(timer); }
      });
    }, INTERVAL_MS);
  });
})();
