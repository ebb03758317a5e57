/* Convive live console: the queue of open incidents, the unit board and the map, kept current
 * over the websocket (/ws/console/) by version; when it drops, it reconnects with backoff and
 * catches up from queue.json?since=<last updated_at>; without websockets it polls every 10 s.
 * "n" opens a new call. Without this script the page is a plain list with a refresh link. */
(function () {
  "use strict";

  var M = window.ConviveMap;
  var config = M.config();
  var text = config.text || {};
  var incidents = {};
  var units = {};
  var lastUpdated = config.now || "";
  var map = null;
  var incidentLayer = null;
  var unitLayer = null;
  var statusNode = document.querySelector("[data-live-status]");
  var body = document.querySelector("[data-queue-body]");
  var board = document.querySelector("[data-unit-board]");
  var count = document.querySelector("[data-queue-count]");
  var socket = null;
  var backoff = 1000;
  var pollTimer = null;
  var fresh = {};

  function format(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function setStatus(message, live) {
    if (!statusNode) { return; }
    statusNode.textContent = message || "";
    statusNode.classList.toggle("live", Boolean(live));
  }

  function age(iso) {
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) { return Math.round(seconds) + " s"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min"; }
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  function labels() {
    var heads = document.querySelectorAll(".queue-table thead th");
    return Array.prototype.map.call(heads, function (th) { return th.textContent; });
  }

  function cell(tr, label, content) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (typeof content === "string") { td.textContent = content; } else { td.appendChild(content); }
    tr.appendChild(td);
    return td;
  }

  function pill(className, content) {
    var span = document.createElement("span");
    span.className = "pill " + className;
    span.textContent = content;
    return span;
  }

  function renderQueue() {
    if (!body) { return; }
    var names = labels();
    var rows = Object.keys(incidents).map(function (id) { return incidents[id]; })
      .filter(function (row) { return row.open; })
      .sort(function (a, b) { return a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at); });
    body.textContent = "";
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-incident-id", row.incident_id);
      tr.className = "priority-row-" + row.priority + (fresh[row.incident_id] ? " fresh" : "");
      var priority = pill("priority priority-" + row.priority, "P" + row.priority);
      priority.setAttribute("data-testid", "priority");
      cell(tr, names[0], priority);
      var link = document.createElement("a");
      link.href = row.url;
      link.textContent = row.reference;
      cell(tr, names[1], link);
      cell(tr, names[2], row.type_name || "");
      cell(tr, names[3], row.place || "");
      cell(tr, names[4], pill("status-" + row.status, row.status_label || row.status));
      var time = document.createElement("time");
      time.setAttribute("datetime", row.created_at);
      time.setAttribute("data-age", "");
      time.textContent = age(row.created_at);
      cell(tr, names[5], time);
      body.appendChild(tr);
    });
    fresh = {};
    if (!rows.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = cell(empty, "", text.empty || "");
      td.colSpan = 6;
      body.appendChild(empty);
    }
    if (count) { count.textContent = rows.length; }
    drawIncidents(rows);
  }

  function renderUnits() {
    if (!board) { return; }
    var rows = Object.keys(units).map(function (id) { return units[id]; })
      .sort(function (a, b) { return String(a.call_sign).localeCompare(String(b.call_sign)); });
    if (!rows.length) { drawUnits(rows); return; }
    board.textContent = "";
    rows.forEach(function (row) {
      var li = document.createElement("li");
      li.setAttribute("data-unit-id", row.unit_id);
      var strong = document.createElement("strong");
      strong.textContent = row.call_sign;
      li.appendChild(strong);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(pill("unit-status-" + row.status, row.status_label || row.status));
      if (row.institution) {
        var muted = document.createElement("span");
        muted.className = "muted";
        muted.textContent = " " + row.institution;
        li.appendChild(muted);
      }
      board.appendChild(li);
    });
    drawUnits(rows);
  }

  function drawIncidents(rows) {
    if (!incidentLayer) { return; }
    incidentLayer.clearLayers();
    rows.forEach(function (row) {
      if (row.lat == null || row.lon == null) { return; }
      L.circleMarker([row.lat, row.lon], { radius: 11, color: "#fff", weight: 2, fillColor: M.priorityColour(row.priority), fillOpacity: 0.95 })
        .bindTooltip(M.escapeHtml(row.reference + " · " + (row.type_name || "")))
        .on("click", function () { window.location.href = row.url; })
        .addTo(incidentLayer);
    });
  }

  function drawUnits(rows) {
    if (!unitLayer) { return; }
    unitLayer.clearLayers();
    rows.forEach(function (row) {
      if (row.lat == null || row.lon == null) { return; }
      var colour = row.status === "available" ? "#1e6b3a" : "#0b4f6c";
      L.circleMarker([row.lat, row.lon], { radius: 5, color: colour, weight: 3, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(M.escapeHtml(row.call_sign + " · " + (row.status_label || row.status)))
        .addTo(unitLayer);
    });
  }

  /* Apply an incident as the server sent it, if it is newer than what the page holds. */
  function applyIncident(row) {
    var id = row.incident_id;
    var known = incidents[id];
    if (known && known.version >= row.version) { return false; }
    if (!known) { fresh[id] = true; }
    incidents[id] = Object.assign({}, known || {}, row);
    if (row.open === undefined) { incidents[id].open = row.status !== "closed"; }
    if (!incidents[id].url && config.detail) { incidents[id].url = config.detail.replace("/0/", "/" + id + "/"); }
    if (row.updated_at && row.updated_at > lastUpdated) { lastUpdated = row.updated_at; }
    return true;
  }

  function applyUnit(row) {
    var known = units[row.unit_id];
    if (known && known.version > row.version) { return false; }
    if (row.active === false) { delete units[row.unit_id]; return true; }
    var labels = text.unit_status || {};
    units[row.unit_id] = Object.assign({}, known || {}, row, {
      status_label: row.status_label || labels[row.status] || row.status,
      institution: row.institution || (known && known.institution) || ""
    });
    return true;
  }

  /* A batch of AVL positions: [unit_id, lon, lat, at]; only the map changes. */
  function moveUnits(positions) {
    var moved = false;
    (positions || []).forEach(function (position) {
      var known = units[position[0]];
      if (!known) { return; }
      known.lon = position[1];
      known.lat = position[2];
      moved = true;
    });
    if (moved) { drawUnits(Object.keys(units).map(function (id) { return units[id]; })); }
  }

  function fromEvent(event) {
    /* An IncidentChanged event lacks the labels the page shows; keep those it had. */
    var known = incidents[event.incident_id] || {};
    return {
      incident_id: event.incident_id, reference: event.reference, version: event.version,
      status: event.status, status_label: known.status === event.status ? known.status_label : (text.status && text.status[event.status]) || event.status,
      priority: event.priority, type_name: event.type_name, place: event.address || known.place || "",
      summary: event.summary, lon: event.lon, lat: event.lat, open: event.status !== "closed",
      created_at: event.created_at, updated_at: event.updated_at, url: known.url
    };
  }

  function catchUp(since) {
    var url = config.queue + (since ? "?since=" + encodeURIComponent(since) : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (!since) {
          /* A full list: whatever is not in it has left the queue (closed, merged, out of sight). */
          Object.keys(incidents).forEach(function (id) { incidents[id].open = false; });
        }
        data.data.forEach(function (row) {
          if (!since && incidents[row.incident_id]) { incidents[row.incident_id].version = 0; }
          applyIncident(row);
        });
        (data.units || []).forEach(applyUnit);
        renderQueue();
        renderUnits();
      })
      .catch(function () { return null; });
  }

  function startPolling() {
    if (pollTimer) { return; }
    pollTimer = window.setInterval(function () { catchUp(""); }, (config.poll_seconds || 10) * 1000);
  }

  function stopPolling() {
    if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    if (!config.websocket || !window.WebSocket) { setStatus(text.polling); startPolling(); return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + config.websocket);
    } catch (error) {
      setStatus(text.polling);
      startPolling();
      return;
    }
    socket.addEventListener("open", function () {
      backoff = 1000;
      stopPolling();
      setStatus(text.live, true);
      catchUp(lastUpdated);
    });
    socket.addEventListener("message", function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      if (!data || !data.event) { return; }
      if (data.type === "incident.changed" && applyIncident(fromEvent(data.event))) { renderQueue(); }
      if (data.type === "unit.changed" && applyUnit(data.event)) { renderUnits(); }
      if (data.type === "units.moved") { moveUnits(data.event.positions); }
    });
    socket.addEventListener("close", function () {
      setStatus(text.offline);
      startPolling();
      // 1 s, 2 s, 4 s... up to a minute, with jitter so that consoles do not come back together.
      window.setTimeout(connect, backoff + Math.random() * 1000);
      backoff = Math.min(backoff * 2, 60000);
    });
  }

  function shortcuts() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "n" || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var target = event.target;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
      event.preventDefault();
      window.location.href = config.new_call;
    });
  }

  function setupMap() {
    map = M.create(document.getElementById("console-map"), config);
    if (!map) { return; }
    M.drawTerritories(map, config);
    incidentLayer = L.layerGroup().addTo(map);
    unitLayer = L.layerGroup().addTo(map);
  }

  (config.incidents || []).forEach(applyIncident);
  (config.units || []).forEach(applyUnit);
  fresh = {};
  setupMap();
  renderQueue();
  renderUnits();
  shortcuts();
  connect();
  window.setInterval(function () {
    document.querySelectorAll("time[data-age]").forEach(function (node) {
      node.textContent = age(node.getAttribute("datetime"));
    });
  }, 15000);
}());
