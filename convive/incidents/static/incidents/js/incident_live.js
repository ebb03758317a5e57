/* Convive incident page: it follows the incident without a reload.
 *
 * When someone else changes the incident (a note, a dispatch, a unit's progress, a transfer, the
 * closure) or a unit the page shows, the page asks detail_live for its parts again (live.js):
 * status, facts, units and recommendations, sources, timeline and the action forms.
 *
 * How it learns of a change: the console's websocket (/ws/console/), whose incident.changed
 * events name the incident and unit.changed events the unit; when the socket is down (or the
 * site has none), it asks detail_live every few seconds instead, with the ETag it holds, so an
 * unchanged incident costs a 304.
 *
 * The forms: the priority, closing, hand-over, link and reopen forms carry the version of the
 * incident they were rendered for, and a stale version is refused (409). A dispatcher who is not
 * writing in a form gets the panel brought up to date with the rest of the page (current
 * versions, and the forms that now apply: a closed incident offers "reopen"), so the next action
 * is not refused for a change the page already shows. A dispatcher who is writing keeps the form
 * as it is, text and version, with a notice that the incident changed meanwhile (and, when the
 * form carries a version, that sending it will be refused and the page must be reloaded):
 * silently moving the version of a form being written in would let an action through that was
 * decided on the earlier state. The panel catches up as soon as nothing is being written.
 */
(function () {
  "use strict";

  var node = document.getElementById("console-config");
  var config = node ? JSON.parse(node.textContent) : {};
  var live = config.live;
  var Live = window.ConviveLive;
  if (!live || !Live || !window.fetch) { return; }
  var text = live.text || {};
  var main = document.querySelector("main") || document.body;
  var statusNode = document.querySelector("[data-live-status]");
  var announcer = document.querySelector("[data-live-announce]");
  var socket = null;
  var backoff = 1000;
  var catchUpTimer = null;

  function setStatus(message, isLive) {
    if (!statusNode) { return; }
    statusNode.textContent = message || "";
    statusNode.classList.toggle("live", Boolean(isLive));
  }

  function announce(message) {
    if (announcer) { announcer.textContent = message || ""; }
  }

  function versionOf(form) {
    var input = form && form.querySelector("input[type=hidden][name$=version]");
    return input ? input.value : null;
  }

  /* A form someone is writing in was kept as it is: say why, and what sending it will do. */
  function kept(part, form, fresh) {
    var mine = versionOf(form);
    var stale = mine !== null && (fresh === null || versionOf(fresh) !== mine);
    var notice = form.querySelector("[data-live-notice]");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "notice live-notice";
      notice.setAttribute("role", "alert");
      notice.setAttribute("data-live-notice", "");
      notice.setAttribute("data-testid", "live-notice");
      form.insertBefore(notice, form.firstChild);
    }
    notice.textContent = (stale ? text.kept_version : text.kept) + " ";
    if (stale) {
      var reload = document.createElement("a");
      reload.href = window.location.pathname;
      reload.textContent = text.reload;
      notice.appendChild(reload);
    }
  }

  var poller = Live.poller({
    url: live.url,
    seconds: live.poll_seconds,
    etag: live.etag,
    accept: "text/html",
    onResponse: function (response) {
      return response.text().then(function (html) {
        if (Live.update(main, html, { onKept: kept }).length) { announce(text.updated); }
      });
    },
    onGone: function () {
      setStatus(text.gone);
      if (socket) { socket.onclose = null; socket.close(); socket = null; }
    }
  });

  function showsUnit(unitId) {
    var units = document.querySelector("[data-live-part=units]");
    return Boolean(units && units.querySelector("[data-unit-id=\"" + Number(unitId) + "\"]"));
  }

  function refresh() {
    if (catchUpTimer !== null) { window.clearTimeout(catchUpTimer); catchUpTimer = null; }
    poller.now();
  }

  function onMessage(message) {
    var data;
    try { data = JSON.parse(message.data); } catch (error) { return; }
    if (!data || !data.event) { return; }
    var event = data.event;
    if (data.type === "incident.changed" && event.incident_id === live.incident_id) {
      refresh();
    } else if (data.type === "unit.changed" && (showsUnit(event.unit_id) || event.status === "available")) {
      // A unit on the page changed, or one became available (it may now be recommended).
      refresh();
    }
  }

  function startPolling() {
    setStatus(text.polling);
    poller.start();
  }

  function connect() {
    if (!live.websocket || !window.WebSocket) { startPolling(); return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + live.websocket);
    } catch (error) {
      startPolling();
      return;
    }
    socket.onopen = function () {
      backoff = 1000;
      poller.stop();
      setStatus(text.live, true);
      // Then catch up with what changed before the socket was open (usually a 304): a moment
      // later, at a random moment, so that pages reconnecting together after a restart do not
      // all ask at once; if the socket drops meanwhile, polling catches up instead.
      catchUpTimer = window.setTimeout(refresh, 1500 + Math.random() * 1500);
    };
    socket.onmessage = onMessage;
    socket.onclose = function () {
      if (catchUpTimer !== null) { window.clearTimeout(catchUpTimer); catchUpTimer = null; }
      startPolling();
      // 1 s, 2 s, 4 s... up to a minute, with jitter, as the console does.
      window.setTimeout(connect, backoff + Math.random() * 1000);
      backoff = Math.min(backoff * 2, 60000);
    };
  }

  connect();
}());
