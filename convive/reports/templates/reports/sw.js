/* Convive report page service worker (served by convive.reports.views.service_worker).
   Scope /report/. The report page and its assets are kept on the phone, so that a report can be
   written with no connection (static/reports/js/queue.js keeps it until it can be sent).
   Static files: cache first (their names change with their content in production). The report
   pages and the territories map: network first, the cached copy when the network fails or is
   too slow. Nothing else is cached: tracking pages and photos are never kept here. */
"use strict";

var VERSION = "{{ version }}";
var CACHE = "convive-report-" + VERSION;
var PAGES = {{ pages_json|safe }};
var ASSETS = {{ assets_json|safe }};
var STATIC_PREFIX = "{{ static_prefix }}";
var NAVIGATION_TIMEOUT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // One by one: a missing file must not stop the rest from being kept.
      return Promise.all(PAGES.concat(ASSETS).map(function (url) {
        return cache.add(new Request(url, { credentials: "same-origin" })).catch(function () { return null; });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("convive-report-") === 0 && key !== CACHE;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function cacheFirst(request) {
  return caches.match(request).then(function (cached) {
    if (cached) { return cached; }
    return fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

function networkFirst(request, key, timeoutMs, keep) {
  var network = fetch(request).then(function (response) {
    if (response.ok && keep) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  });
  var fallback = function () {
    return caches.match(key).then(function (cached) { return cached || network; });
  };
  if (!timeoutMs) { return network.catch(fallback); }
  var slow = new Promise(function (resolve) { setTimeout(resolve, timeoutMs); }).then(function () {
    return caches.match(key).then(function (cached) { return cached || network; });
  });
  return Promise.race([network, slow]).catch(fallback);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && PAGES.indexOf(url.pathname) !== -1) {
    // Only the plain page is kept (not "?category=..." variants, which preselect a category).
    event.respondWith(networkFirst(request, url.pathname, NAVIGATION_TIMEOUT_MS, url.search === ""));
  } else if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(cacheFirst(request));
  } else if (ASSETS.indexOf(url.pathname + url.search) !== -1) {
    event.respondWith(networkFirst(request, url.pathname + url.search, 0, true));
  }
});
