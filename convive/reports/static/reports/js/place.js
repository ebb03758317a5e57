/* Convive: where it happens. A "use my location" button (navigator.geolocation) and, on the report
 * page, a Leaflet map that draws the city's territories from the site's own GeoJSON (no tile
 * server needed; tiles only when the site sets MAP_TILE_URL). A tap or a dragged pin fills the
 * latitude/longitude fields that the form sends; without this script the citizen writes an address.
 * Fires "convive:place" on the form whenever the point changes.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("report-config");
  var config = configNode ? JSON.parse(configNode.textContent) : {};
  var text = config.text || {};

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function escapeHtml(value) {
    var div = document.createElement("div");
    div.textContent = value;
    return div.innerHTML;
  }

  function makeMap(node, onPick) {
    var map = L.map(node, {
      attributionControl: Boolean(config.tiles),
      dragging: !L.Browser.mobile, // one finger scrolls the page; two fingers zoom the map
      scrollWheelZoom: false,
      zoomSnap: 0.5
    });
    map.setView([0, 0], 2);
    if (config.tiles) {
      map.attributionControl.setPrefix(false);
      L.tileLayer(config.tiles.url, { attribution: escapeHtml(config.tiles.attribution || ""), maxZoom: 19 }).addTo(map);
    }
    map.on("click", function (event) { onPick(event.latlng.lat, event.latlng.lng, "pin"); });
    return map;
  }

  function drawTerritories(map, hasPoint) {
    var bounds = null;
    return Promise.all((config.layers || []).map(function (layer) {
      return fetch(layer.url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var drawn = L.geoJSON(data, {
            interactive: false,
            style: { color: "#0b4f6c", weight: 1.5, fillColor: "#9fc7d8", fillOpacity: 0.35 }
          }).addTo(map);
          var layerBounds = drawn.getBounds();
          if (layerBounds.isValid()) {
            bounds = bounds ? bounds.extend(layerBounds) : layerBounds;
          }
        })
        .catch(function () { return null; });
    })).then(function () {
      if (bounds && !hasPoint()) { map.fitBounds(bounds); }
    });
  }

  function pinIcon() {
    return L.icon({
      iconUrl: config.icon.url,
      iconRetinaUrl: config.icon.retina,
      shadowUrl: config.icon.shadow,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      shadowSize: [41, 41]
    });
  }

  /* The name of the territory at the point, from the site (silently nothing when offline). */
  function describePoint(lat, lon, status) {
    var layers = (config.layers || []).slice();
    var next = function () {
      var layer = layers.shift();
      if (!layer) { status.textContent = text.outside; return null; }
      var url = layer.locate + "?lat=" + lat + "&lon=" + lon;
      return fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { data: [] }; })
        .then(function (body) {
          if (body.data && body.data.length) {
            status.textContent = format(text.in, { name: body.data[0].name });
            return null;
          }
          return next();
        });
    };
    if (layers.length && navigator.onLine) { next().catch(function () { return null; }); }
  }

  function setupPlace(fieldset) {
    var form = fieldset.closest("form");
    var lat = form.elements.lat;
    var lon = form.elements.lon;
    var address = form.elements.address;
    var status = fieldset.querySelector("[data-place-status]");
    var mapNode = fieldset.querySelector(".report-map");
    var map = null;
    var marker = null;

    function hasPoint() { return lat.value !== "" && lon.value !== ""; }

    function checkPlace() {
      address.setCustomValidity(hasPoint() || address.value.trim() ? "" : text.place_needed);
    }

    function setPoint(latValue, lonValue, source, accuracy) {
      lat.value = Number(latValue).toFixed(6);
      lon.value = Number(lonValue).toFixed(6);
      checkPlace();
      if (source === "gps") {
        status.textContent = format(text.gps_ok, { metres: Math.round(accuracy || 0) });
      } else if (source === "pin") {
        status.textContent = text.pin;
      }
      if (map) {
        var point = [Number(lat.value), Number(lon.value)];
        if (!marker) {
          marker = L.marker(point, { draggable: true, icon: pinIcon(), title: text.pin }).addTo(map);
          marker.on("dragend", function () {
            var moved = marker.getLatLng();
            setPoint(moved.lat, moved.lng, "pin");
          });
        } else {
          marker.setLatLng(point);
        }
        // With street tiles, come close; with the territories alone, a closer view shows nothing.
        if (source === "gps") { map.setView(point, config.tiles ? 17 : Math.max(map.getZoom(), 12)); }
      }
      describePoint(lat.value, lon.value, status);
      form.dispatchEvent(new CustomEvent("convive:place", { bubbles: true }));
    }

    var gps = fieldset.querySelector("[data-gps]");
    if (gps) {
      if (!navigator.geolocation) {
        gps.hidden = true;
      } else {
        gps.addEventListener("click", function () {
          status.textContent = text.gps_wait;
          gps.disabled = true;
          navigator.geolocation.getCurrentPosition(function (position) {
            gps.disabled = false;
            setPoint(position.coords.latitude, position.coords.longitude, "gps", position.coords.accuracy);
          }, function () {
            gps.disabled = false;
            status.textContent = text.gps_denied;
          }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
        });
      }
    }

    if (mapNode && window.L) {
      mapNode.hidden = false;
      map = makeMap(mapNode, setPoint);
      drawTerritories(map, hasPoint);
    } else if (mapNode) {
      mapNode.hidden = true; // Leaflet did not load: the address and the GPS button remain
    }

    [lat, lon].forEach(function (input) {
      input.addEventListener("change", function () {
        if (hasPoint()) { setPoint(lat.value, lon.value, "typed"); } else { checkPlace(); }
      });
    });
    address.addEventListener("input", checkPlace);
    if (hasPoint()) { setPoint(lat.value, lon.value, "typed"); } else { checkPlace(); }
    fieldset.addEventListener("convive:reset", function () {
      if (marker) { map.removeLayer(marker); marker = null; }
      status.textContent = "";
      checkPlace();
    });
    if (map) {
      // Sizes change when the page reflows (fonts, errors above the map): keep the map whole.
      window.addEventListener("resize", function () { map.invalidateSize(); });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("fieldset.place"), setupPlace);
})();
