/* Convive command centre: a Leaflet map drawn from the site's own territories GeoJSON (tiles only
 * when the site sets MAP_TILE_URL). Shared by the console, the call form and the incident page. */
(function () {
  "use strict";

  function config() {
    var node = document.getElementById("console-config");
    return node ? JSON.parse(node.textContent) : {};
  }

  function escapeHtml(value) {
    var div = document.createElement("div");
    div.textContent = value == null ? "" : String(value);
    return div.innerHTML;
  }

  function create(node, settings, options) {
    if (!window.L || !node) { return null; }
    var section = node.closest(".js-only") || node;
    section.hidden = false;
    node.hidden = false;
    var map = L.map(node, Object.assign({ attributionControl: Boolean(settings.tiles), scrollWheelZoom: false, zoomSnap: 0.5 }, options || {}));
    map.setView([0, 0], 2);
    map.createPane("territories").style.zIndex = 350; // under the markers, whenever it loads
    if (settings.tiles) {
      map.attributionControl.setPrefix(false);
      L.tileLayer(settings.tiles.url, { attribution: escapeHtml(settings.tiles.attribution || ""), maxZoom: 19 }).addTo(map);
    }
    return map;
  }

  /* Draw the territories; fit them unless ``keepView`` says the map already shows what matters. */
  function drawTerritories(map, settings, keepView) {
    var bounds = null;
    return Promise.all((settings.layers || []).map(function (layer) {
      return fetch(layer.url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var drawn = L.geoJSON(data, { interactive: false, pane: "territories", style: { color: "#0b4f6c", weight: 1.2, fillColor: "#9fc7d8", fillOpacity: 0.3 } }).addTo(map);
          var layerBounds = drawn.getBounds();
          if (layerBounds.isValid()) { bounds = bounds ? bounds.extend(layerBounds) : layerBounds; }
        })
        .catch(function () { return null; });
    })).then(function () {
      if (bounds && !(keepView && keepView())) { map.fitBounds(bounds); }
    });
  }

  function pin(settings) {
    return L.icon({
      iconUrl: settings.icon.url, iconRetinaUrl: settings.icon.retina, shadowUrl: settings.icon.shadow,
      iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41]
    });
  }

  var PRIORITY_COLOURS = { 1: "#a4161a", 2: "#b8410e", 3: "#8a5a00", 4: "#4a5560" };

  window.ConviveMap = {
    config: config, create: create, drawTerritories: drawTerritories, pin: pin,
    escapeHtml: escapeHtml, priorityColour: function (p) { return PRIORITY_COLOURS[p] || "#4a5560"; }
  };
}());
