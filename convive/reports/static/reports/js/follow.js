/* Convive: the report page follows the command centre's response by itself.
 *
 * While the incident an SOS (or a promoted report) became is open and the page is visible, ask
 * every few seconds whether what the citizen sees changed: the request carries the version the
 * page shows and is answered 204 (nothing new, no body: cheap on a phone) or with the new section,
 * which replaces the old one. When the response ends, the page reloads (the report closed with
 * it and may be rated now), unless the citizen is writing something. Without JavaScript the page
 * shows the same thing on reload.
 */
(function () {
  "use strict";

  var timer = null;

  function section() { return document.getElementById("incident-status"); }

  function typing() {
    return Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"), function (field) {
      return field.value.trim() !== "";
    });
  }

  function schedule() {
    var node = section();
    if (timer !== null || !node || !node.dataset.liveUrl) { return; }
    var seconds = parseFloat(node.dataset.liveSeconds) || 20;
    timer = window.setTimeout(function () { timer = null; poll(); }, seconds * 1000);
  }

  function poll() {
    var node = section();
    if (!node || !node.dataset.liveUrl) { return; }
    if (document.visibilityState === "hidden") { return; }  // resumed on visibilitychange
    var url = node.dataset.liveUrl + "?v=" + encodeURIComponent(node.dataset.version || "");
    fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.status !== 200) { return null; }
      return response.text();
    }).then(function (html) {
      if (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#incident-status");
        if (!fresh) { return; }
        if (!fresh.dataset.liveUrl && !typing()) {
          // The response ended: the report itself changed too (closed, and it may be rated now).
          window.location.replace(window.location.pathname);  // without "?new=1": not new now
          return;
        }
        node.replaceWith(fresh);
      }
    }).catch(function () { /* offline: try again later */ }).then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { poll(); }
  });
  schedule();
})();
