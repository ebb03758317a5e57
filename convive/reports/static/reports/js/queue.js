/* Convive: the offline queue of reports (IndexedDB) and the service worker of /report/.
 *
 * A report written without a connection, or whose sending failed on the network, is kept on the
 * phone whole: its fields, its idempotency key and its photos (as Blobs). It is sent again when
 * the phone is back online (the "online" event, every page load, and a timer while some wait),
 * with the SAME idempotency key, so that a retry, a double tap or a reconnection makes exactly one
 * report. Loaded (deferred) by every report page; window.ConviveQueue is used by report.js.
 */
(function () {
  "use strict";

  var DB_NAME = "convive-reports";
  var STORE = "outbox";
  var RETRY_MS = 30000;
  var configNode = document.getElementById("report-config");
  var config = configNode ? JSON.parse(configNode.textContent) : {};
  var text = config.text || {};
  var flushing = false;
  var retryTimer = null;

  document.documentElement.classList.add("js");
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (node) {
    node.hidden = false;
  });

  // --- IndexedDB ---------------------------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = window.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function allItems() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }

  function putItem(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function deleteItem(key) { return withStore("readwrite", function (store) { store.delete(key); }); }

  // --- Turning a form into a stored submission and back --------------------------------------

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* Every field of the form; files become {name, type, blob} (empty file inputs are skipped). */
  function itemFromForm(form) {
    var entries = [];
    var data = new FormData(form);
    data.forEach(function (value, name) {
      if (typeof value === "string") {
        if (name !== "csrfmiddlewaretoken") { entries.push({ name: name, value: value }); }
      } else if (value && value.size > 0) {
        entries.push({ name: name, file: { name: value.name || "photo.jpg", type: value.type, blob: value.slice(0, value.size, value.type) } });
      }
    });
    var key = form.elements.idempotency_key.value;
    return {
      key: key,
      action: form.getAttribute("action") || window.location.pathname,
      entries: entries,
      createdAt: Date.now(),
      state: "queued",
      sos: form.hasAttribute("data-sos"),
      errors: []
    };
  }

  function formDataFromItem(item, token) {
    var data = new FormData();
    item.entries.forEach(function (entry) {
      if (entry.file) {
        data.append(entry.name, entry.file.blob, entry.file.name);
      } else {
        data.append(entry.name, entry.value);
      }
    });
    data.append("csrfmiddlewaretoken", token);
    return data;
  }

  // --- Sending ------------------------------------------------------------------------------

  /* A fresh CSRF token from the report page, when the one we hold is refused (cookie renewed). */
  function freshToken() {
    return fetch(config.scope || "/report/", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var input = doc.querySelector("input[name=csrfmiddlewaretoken]");
        return input ? input.value : "";
      });
  }

  /* One POST of a stored submission. Resolves to {kind: sent|invalid|later|offline, ...}. */
  function send(item, token, retried) {
    return fetch(item.action, {
      method: "POST",
      body: formDataFromItem(item, token),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      if (response.status === 403 && !retried) {
        return freshToken().then(function (fresh) { return send(item, fresh, true); });
      }
      var retryAfter = parseInt(response.headers.get("Retry-After") || "0", 10);
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.ok) { return { kind: "sent", body: body }; }
        // Busy (a rate limit says when to come back) or broken server: keep it and retry.
        // A 429 without Retry-After is a refusal (an account barred from reporting) instead.
        if ((response.status === 429 && retryAfter > 0) || response.status >= 500) {
          return { kind: "later", retryAfter: retryAfter, body: body };
        }
        return { kind: "invalid", status: response.status, body: body };
      });
    }, function () {
      return { kind: "offline" };
    });
  }

  function scheduleRetry(seconds) {
    if (retryTimer) { window.clearTimeout(retryTimer); }
    retryTimer = window.setTimeout(flush, Math.max(seconds * 1000, RETRY_MS));
  }

  /* Send every queued submission, oldest first; stop at the first network failure. */
  function flush() {
    if (flushing || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    return allItems().then(function (items) {
      var queued = items.filter(function (item) { return item.state === "queued"; });
      return queued.reduce(function (chain, item) {
        return chain.then(function (stop) {
          if (stop) { return true; }
          return send(item, csrfToken()).then(function (result) { return settle(item, result); });
        });
      }, Promise.resolve(false));
    }).catch(function () { return null; }).then(function () {
      flushing = false;
      return render();
    });
  }

  /* What to do with a stored submission after one attempt; true stops the flush. */
  function settle(item, result) {
    if (result.kind === "sent") {
      return deleteItem(item.key).then(function () { announceSent(result.body); return false; });
    }
    if (result.kind === "invalid") {
      item.state = "failed";
      item.errors = (result.body.errors || []).map(function (e) { return e.message; });
      if (!item.errors.length) { item.errors = [result.body.error || text.error]; }
      return putItem(item).then(function () { return false; });
    }
    scheduleRetry(result.retryAfter || 0);
    return true;
  }

  // --- What the person sees --------------------------------------------------------------

  var statusBox = document.getElementById("queue-status");
  var sentBoxes = [];

  function paragraph(content, className) {
    var p = document.createElement("p");
    if (className) { p.className = className; }
    p.textContent = content;
    return p;
  }

  function announceSent(body) {
    var box = document.createElement("div");
    box.className = "queue-status sent";
    box.setAttribute("role", "status");
    box.setAttribute("data-testid", "queue-sent");
    box.appendChild(paragraph(text.sent));
    var code = paragraph(body.display_code, "tracking-code");
    code.setAttribute("data-testid", "queued-code");
    box.appendChild(code);
    var link = document.createElement("a");
    link.href = body.url;
    link.textContent = text.follow;
    link.setAttribute("data-testid", "queued-follow");
    box.appendChild(link);
    sentBoxes.push(box);
    if (statusBox && statusBox.parentNode) {
      statusBox.parentNode.insertBefore(box, statusBox);
    }
  }

  function button(label, handler) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "small secondary";
    b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }

  function describe(item) {
    var parts = [];
    item.entries.forEach(function (entry) {
      if (entry.name === "description" && entry.value) { parts.push(entry.value.slice(0, 80)); }
      if (entry.name === "address" && entry.value) { parts.push(entry.value.slice(0, 60)); }
    });
    return new Date(item.createdAt).toLocaleString() + (parts.length ? " · " + parts.join(" · ") : "");
  }

  function render() {
    if (!statusBox) { return Promise.resolve(); }
    return allItems().then(function (items) {
      statusBox.textContent = "";
      statusBox.className = "queue-status";
      var queued = items.filter(function (item) { return item.state === "queued"; });
      var failed = items.filter(function (item) { return item.state === "failed"; });
      if (queued.length) {
        var sos = queued.some(function (item) { return item.sos; });
        statusBox.appendChild(paragraph(sos ? text.saved_sos : text.saved))
          .setAttribute("data-testid", "queue-saved");
        statusBox.appendChild(paragraph(text.queued + " " + queued.length));
      }
      failed.forEach(function (item) {
        statusBox.classList.add("failed");
        statusBox.appendChild(paragraph(text.failed + " " + describe(item)));
        item.errors.forEach(function (message) { statusBox.appendChild(paragraph("• " + message)); });
        if (window.ConviveQueue.restore && window.ConviveQueue.restore(item, true)) {
          statusBox.appendChild(button(text.edit, function () {
            window.ConviveQueue.restore(item, false);
            deleteItem(item.key).then(render);
          }));
        }
        statusBox.appendChild(button(text.discard, function () { deleteItem(item.key).then(render); }));
      });
      statusBox.hidden = !queued.length && !failed.length;
    }).catch(function () { statusBox.hidden = true; });
  }

  // --- The public face, for report.js ---------------------------------------------------

  /* Send a form now, or keep it if the network fails. Resolves to the outcome for the page. */
  function submit(form) {
    var item = itemFromForm(form);
    var keep = function () {
      return putItem(item).then(function () { render(); return { kind: "queued" }; });
    };
    if (!navigator.onLine) { return keep(); }
    return send(item, csrfToken()).then(function (result) {
      if (result.kind === "offline" || result.kind === "later") {
        return keep().then(function (outcome) {
          scheduleRetry(result.retryAfter || 0);
          return outcome;
        });
      }
      return result;
    });
  }

  window.ConviveQueue = { submit: submit, flush: flush, render: render, restore: null };

  window.addEventListener("online", flush);
  flush();

  if ("serviceWorker" in navigator && config.sw) {
    navigator.serviceWorker.register(config.sw, { scope: config.scope }).catch(function () {
      return null; // the page works without it; only the offline shell is lost
    });
  }
})();
