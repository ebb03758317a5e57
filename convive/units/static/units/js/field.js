/* Convive field-unit page: the phone follows its units without a reload.
 *
 * While the page is visible it asks field_live every data-poll-seconds (15 s) with the ETag it
 * holds: 304 without a body while nothing changed, which suits a phone on a poor connection; it
 * asks at once when the page becomes visible again. What changed replaces the units' parts
 * (incidents/js/live.js): the incident, the centre's notes, the step buttons with the unit's
 * current version. The reason for going out of service is never cleared while being written.
 * A new incident pulses, is announced, and makes the phone vibrate where the browser allows it
 * (only after the person has touched the page: browsers refuse it before). Without JavaScript the
 * page shows the same on reload.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-field-live]");
  var Live = window.ConviveLive;
  if (!root || !Live || !window.fetch) { return; }
  var statusNode = document.querySelector("[data-live-status]");
  var announcer = document.querySelector("[data-live-announce]");

  /* The incident each unit is on: {part name: incident id or ""}. */
  function assigned() {
    var found = {};
    root.querySelectorAll("[data-live-part][data-incident-id]").forEach(function (node) {
      found[node.getAttribute("data-live-part")] = node.getAttribute("data-incident-id");
    });
    return found;
  }

  function vibrate() {
    var activation = navigator.userActivation;
    if (!navigator.vibrate || (activation && !activation.hasBeenActive)) { return; }
    try { navigator.vibrate([250, 120, 250]); } catch (error) { /* not allowed: the flash says it */ }
  }

  function dispatched(part) {
    var box = part.querySelector(".field-incident");
    if (box) {
      box.classList.remove("live-dispatched");
      void box.offsetWidth;
      box.classList.add("live-dispatched");
      window.setTimeout(function () { box.classList.remove("live-dispatched"); }, 3500);
    }
    if (announcer) { announcer.textContent = part.getAttribute("data-announce") || ""; }
    vibrate();
  }

  function kept(part, form) {
    var notice = form.querySelector("[data-live-notice]");
    if (notice) { return; }
    notice = document.createElement("p");
    notice.className = "notice live-notice";
    notice.setAttribute("role", "alert");
    notice.setAttribute("data-live-notice", "");
    notice.setAttribute("data-testid", "live-notice");
    notice.textContent = root.getAttribute("data-kept-text") || "";
    form.insertBefore(notice, form.firstChild);
  }

  function apply(data) {
    if (!data || typeof data.html !== "string") { return; }
    var before = assigned();
    Live.update(root, data.html, { onKept: kept });
    var after = assigned();
    Object.keys(after).forEach(function (name) {
      if (after[name] && after[name] !== before[name]) {
        var part = root.querySelector("[data-live-part=\"" + CSS.escape(name) + "\"]");
        if (part) { dispatched(part); }
      }
    });
  }

  var poller = Live.poller({
    url: root.getAttribute("data-live-url"),
    seconds: parseFloat(root.getAttribute("data-poll-seconds")) || 15,
    etag: root.getAttribute("data-etag") || "",
    accept: "application/json",
    onResponse: function (response) { return response.json().then(apply); },
    onOffline: function (offline) {
      if (statusNode) { statusNode.textContent = offline ? root.getAttribute("data-offline-text") : ""; }
    }
  });
  poller.start();
}());
