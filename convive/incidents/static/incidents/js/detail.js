/* Convive incident page: a small map of the incident's place over its city's territories. */
(function () {
  "use strict";

  var M = window.ConviveMap;
  var config = M.config();
  var node = document.getElementById("detail-map");
  if (!node || !config.point) { return; }
  var map = M.create(node, config);
  if (!map) { return; }
  var where = [config.point.lat, config.point.lon];
  M.drawTerritories(map, config, function () { return true; });
  map.setView(where, 14);
  L.marker(where, { icon: M.pin(config) }).addTo(map);
}());
