/* Convive call-taking form: the call's times from this browser's clock, type-ahead for the type
 * with its protocol questions, the place from the city's known places (type-ahead), a map click
 * or typed coordinates, with its territory,
 * and possible duplicates nearby with a "link to this one" choice. Without it the form still works:
 * a <select> for the type, every type's questions listed, and the server's time for the call. */
(function () {
  "use strict";

  var M = window.ConviveMap;
  var config = M.config();
  var text = config.text || {};
  var form = document.querySelector("[data-call-form]");
  if (!form) { return; }
  var fields = form.elements;
  var select = fields.type;
  var search = form.querySelector("[data-type-search]");
  var priorityNote = form.querySelector("[data-type-priority]");
  var status = form.querySelector("[data-place-status]");
  var duplicatesBox = form.querySelector("[data-duplicates]");
  var map = null;
  var marker = null;
  var byName = {};
  var byCode = {};

  function format(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function fold(value) {
    return String(value || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim().toLowerCase();
  }

  /* The call was received and answered when this form opened (unless the server kept them). */
  if (!form.querySelector(".errorlist")) {
    var opened = new Date().toISOString();
    fields.received_at.value = opened;
    fields.answered_at.value = opened;
  }

  (config.types || []).forEach(function (type) { byName[fold(type.name)] = type; byCode[type.code] = type; });

  function chooseType(type) {
    select.value = type ? type.code : "";
    form.querySelectorAll("[data-protocol-type]").forEach(function (fieldset) {
      fieldset.hidden = !type || fieldset.getAttribute("data-protocol-type") !== type.code;
    });
    if (priorityNote) { priorityNote.textContent = type ? "P" + type.priority : ""; }
    findDuplicates();
  }

  function matchType(value) {
    var wanted = fold(value);
    if (!wanted) { return null; }
    if (byName[wanted]) { return byName[wanted]; }
    var starts = Object.keys(byName).filter(function (name) { return name.indexOf(wanted) === 0; });
    return starts.length === 1 ? byName[starts[0]] : null;
  }

  if (search && select) {
    search.closest(".js-only").hidden = false;
    var selectField = form.querySelector("[data-type-select]");
    var errors = selectField.querySelector(".errorlist");
    if (errors) { search.parentNode.appendChild(errors.cloneNode(true)); }
    selectField.hidden = true;
    if (select.value && byCode[select.value]) { search.value = byCode[select.value].name; }
    search.addEventListener("input", function () {
      var type = matchType(search.value);
      if (type && fold(type.name) === fold(search.value)) { chooseType(type); }
    });
    search.addEventListener("change", function () {
      var type = matchType(search.value);
      if (type) { search.value = type.name; }
      chooseType(type);
    });
    if (!search.value) { search.focus(); }
  }
  chooseType(byCode[select.value] || null);

  function point() {
    var lat = parseFloat(fields.lat.value);
    var lon = parseFloat(fields.lon.value);
    return isNaN(lat) || isNaN(lon) ? null : { lat: lat, lon: lon };
  }

  function locate(where) {
    var layers = (config.layers || []).slice();
    if (!layers.length) { return; }
    fetch(layers[0].locate + "?lat=" + where.lat + "&lon=" + where.lon, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { data: [] }; })
      .then(function (body) {
        var names = (body.data || []).map(function (t) { return t.name; });
        status.textContent = names.length ? format(text.in, { name: names.join(" · ") }) : text.outside;
      })
      .catch(function () { return null; });
  }

  function renderDuplicates(rows) {
    duplicatesBox.textContent = "";
    var chosen = fields.duplicate_of.value;
    if (!rows.length) { return; }
    var title = document.createElement("p");
    title.textContent = text.duplicates;
    duplicatesBox.appendChild(title);
    var list = document.createElement("ul");
    rows.forEach(function (row) {
      var li = document.createElement("li");
      var what = document.createElement("span");
      what.textContent = row.reference + " · " + row.type_name + " · " + (row.place || "") + " · " + row.status_label;
      li.appendChild(what);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.setAttribute("data-testid", "link-duplicate");
      var linked = String(row.incident_id) === chosen;
      button.textContent = linked ? text.unlink : text.link;
      button.addEventListener("click", function () {
        fields.duplicate_of.value = linked ? "" : row.incident_id;
        renderDuplicates(rows);
      });
      li.appendChild(button);
      if (linked) {
        var note = document.createElement("strong");
        note.textContent = format(text.linked, { reference: row.reference });
        li.appendChild(note);
      }
      list.appendChild(li);
    });
    duplicatesBox.appendChild(list);
  }

  var lastQuery = "";
  function findDuplicates() {
    var where = point();
    if (!where || !select.value || !config.duplicates) { if (duplicatesBox) { duplicatesBox.textContent = ""; } return; }
    var query = "?type=" + encodeURIComponent(select.value) + "&lat=" + where.lat + "&lon=" + where.lon;
    if (query === lastQuery) { return; }
    lastQuery = query;
    fetch(config.duplicates + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { data: [] }; })
      .then(function (body) { renderDuplicates(body.data || []); })
      .catch(function () { return null; });
  }

  function placeChanged(fromMap) {
    if (placeHint) { placeHint.textContent = ""; }  // a new point: no longer a place's centre
    var where = point();
    if (!where) { status.textContent = ""; return; }
    if (map) {
      if (!marker) {
        marker = L.marker([where.lat, where.lon], { icon: M.pin(config), title: text.pin }).addTo(map);
      } else {
        marker.setLatLng([where.lat, where.lon]);
      }
      if (!fromMap) { map.setView([where.lat, where.lon], Math.max(map.getZoom(), 13)); }
    }
    locate(where);
    findDuplicates();
  }

  /* Type-ahead for the place: the city's neighbourhoods, localities, quadrants and justice
   * services (convive.incidents.places), asked while typing the address. Arrow keys move, Enter
   * chooses (it fills the point and the territory), Escape closes; typed text stays as it is. */
  var address = fields.address;
  var placeList = null;
  var placeHint = null;
  var placeRows = [];
  var placeActive = -1;
  var placeTimer = null;
  var placeAsked = "";

  function closePlaces() {
    if (!placeList) { return; }
    placeList.hidden = true;
    placeList.textContent = "";
    placeRows = [];
    placeActive = -1;
    address.setAttribute("aria-expanded", "false");
    address.removeAttribute("aria-activedescendant");
  }

  function markActive() {
    Array.prototype.forEach.call(placeList.children, function (li, index) {
      li.setAttribute("aria-selected", index === placeActive ? "true" : "false");
    });
    if (placeActive >= 0) { address.setAttribute("aria-activedescendant", "place-option-" + placeActive); }
  }

  function choosePlace(index) {
    var row = placeRows[index];
    if (!row) { return; }
    address.value = row.address;
    fields.lat.value = Number(row.lat).toFixed(6);
    fields.lon.value = Number(row.lon).toFixed(6);
    placeAsked = address.value.trim();
    closePlaces();
    placeChanged(false);
    placeHint.textContent = row.precise ? "" : text.place_area;
  }

  function renderPlaces(rows) {
    closePlaces();
    placeRows = rows;
    if (!rows.length) { return; }
    rows.forEach(function (row, index) {
      var li = document.createElement("li");
      li.id = "place-option-" + index;
      li.setAttribute("role", "option");
      li.setAttribute("data-testid", "place-option");
      var name = document.createElement("strong");
      name.textContent = row.name;
      var detail = document.createElement("span");
      detail.textContent = row.detail;
      li.appendChild(name);
      li.appendChild(detail);
      // mousedown, not click: it comes before the field's blur closes the list.
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choosePlace(index); });
      placeList.appendChild(li);
    });
    placeActive = 0;
    placeList.hidden = false;
    address.setAttribute("aria-expanded", "true");
    markActive();
  }

  function askPlaces() {
    var wanted = address.value.trim();
    if (wanted.length < 2) { placeAsked = ""; closePlaces(); return; }
    if (wanted === placeAsked) { return; }
    placeAsked = wanted;
    fetch(config.places + "?q=" + encodeURIComponent(wanted), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { data: [] }; })
      .then(function (body) { if (address.value.trim() === wanted) { renderPlaces(body.data || []); } })
      .catch(function () { return null; });
  }

  if (address && config.places) {
    placeList = document.createElement("ul");
    placeList.className = "place-options";
    placeList.id = "place-options";
    placeList.hidden = true;
    placeList.setAttribute("role", "listbox");
    placeList.setAttribute("data-testid", "place-options");
    placeList.setAttribute("aria-label", text.places || "");
    address.insertAdjacentElement("afterend", placeList);
    placeHint = document.createElement("p");
    placeHint.className = "help place-hint";
    placeHint.setAttribute("data-testid", "place-hint");
    placeList.insertAdjacentElement("afterend", placeHint);
    address.setAttribute("role", "combobox");
    address.setAttribute("aria-autocomplete", "list");
    address.setAttribute("aria-controls", "place-options");
    address.setAttribute("aria-expanded", "false");
    address.setAttribute("autocomplete", "off");
    address.addEventListener("input", function () {
      window.clearTimeout(placeTimer);
      placeTimer = window.setTimeout(askPlaces, 150);
    });
    address.addEventListener("keydown", function (event) {
      if (placeList.hidden || !placeRows.length) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        placeActive = (placeActive + step + placeRows.length) % placeRows.length;
        markActive();
      } else if (event.key === "Enter") {
        event.preventDefault();  // choose the place, do not send the form
        choosePlace(placeActive);
      } else if (event.key === "Escape") {
        event.preventDefault();
        closePlaces();
      }
    });
    address.addEventListener("blur", function () { window.setTimeout(closePlaces, 100); });
  }

  fields.lat.addEventListener("change", function () { placeChanged(false); });
  fields.lon.addEventListener("change", function () { placeChanged(false); });

  // Not a tab stop: the keyboard goes from the type straight to the address and coordinates.
  map = M.create(document.getElementById("call-map"), config, { keyboard: false, zoomControl: false, scrollWheelZoom: true });
  if (map) {
    M.drawTerritories(map, config, function () { return Boolean(point()); });
    map.on("click", function (event) {
      fields.lat.value = event.latlng.lat.toFixed(6);
      fields.lon.value = event.latlng.lng.toFixed(6);
      placeChanged(true);
    });
  }
  if (point()) { placeChanged(false); }
}());
