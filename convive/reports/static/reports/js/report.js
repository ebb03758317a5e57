/* Convive: the report and SOS forms, enhanced. Without this script they work as plain forms.
 *
 * - the chosen category shows its own questions and notice; an urgent one shows the emergency
 *   notice (call button) and asks for confirmation before anything is sent as an SOS;
 * - anonymous hides the contact fields (and they are not sent);
 * - photos are counted and measured before sending;
 * - "is it one of these?": open reports of the same category nearby, with "me too";
 * - sending goes through ConviveQueue (queue.js): sent now, or kept on the phone until online.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("report-config");
  var config = configNode ? JSON.parse(configNode.textContent) : {};
  var text = config.text || {};
  var MAX_PHOTOS = 5;
  var MAX_BYTES = 10 * 1024 * 1024;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function toggle(container, shown) {
    container.hidden = !shown;
    Array.prototype.forEach.call(container.querySelectorAll("input, select, textarea"), function (input) {
      input.disabled = !shown;
    });
  }

  // --- Category: its questions, its notice, the emergency ---------------------------------

  function setupCategory(form) {
    var select = form.elements.category;
    if (!select) { return; }
    var groups = form.querySelectorAll("fieldset.questions");
    var emergency = form.querySelector("#emergency");
    var confirm = form.elements.emergency_confirmed;
    function update() {
      var code = select.value;
      Array.prototype.forEach.call(groups, function (group) {
        var shown = group.getAttribute("data-category") === code;
        toggle(group, shown);
        Array.prototype.forEach.call(group.querySelectorAll("[data-required]"), function (input) {
          if (input.type !== "checkbox") { input.required = shown; }
        });
      });
      if (emergency) {
        var urgent = (config.urgent || []).indexOf(code) !== -1;
        emergency.hidden = !urgent;
        if (confirm) {
          confirm.required = urgent;
          if (!urgent) { confirm.checked = false; }
        }
      }
    }
    select.addEventListener("change", update);
    form.addEventListener("convive:reset", update);
    update();
  }

  // --- Anonymous or not --------------------------------------------------------------------

  function setupContact(form) {
    var anonymous = form.elements.anonymous;
    var fields = form.querySelector(".contact-fields");
    if (!anonymous || !fields) { return; }
    function update() { toggle(fields, !anonymous.checked); }
    anonymous.addEventListener("change", update);
    form.addEventListener("convive:reset", update);
    update();
  }

  // --- Photos ------------------------------------------------------------------------------

  function setupPhotos(form) {
    var inputs = form.querySelectorAll("input[type=file][data-photos]");
    var status = form.querySelector("[data-photo-status]");
    if (!inputs.length) { return; }
    function update() {
      var files = [];
      Array.prototype.forEach.call(inputs, function (input) {
        Array.prototype.push.apply(files, Array.prototype.slice.call(input.files || []));
      });
      var problem = "";
      if (files.length > MAX_PHOTOS) { problem = text.too_many_photos; }
      if (files.some(function (file) { return file.size > MAX_BYTES; })) { problem = text.photo_too_big; }
      inputs[0].setCustomValidity(problem);
      if (status) {
        status.textContent = problem || files.map(function (file) {
          return file.name + " (" + Math.round(file.size / 1024) + " KB)";
        }).join(", ");
      }
    }
    Array.prototype.forEach.call(inputs, function (input) { input.addEventListener("change", update); });
    form.addEventListener("convive:reset", update);
  }

  // --- "Is it one of these?" ---------------------------------------------------------------

  function supportRequest(id, button, item) {
    button.disabled = true;
    var token = csrfToken();
    fetch(config.support.replace("{id}", id), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ idempotency_key: newKey() })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      var p = document.createElement("p");
      p.setAttribute("role", "status");
      p.textContent = result.ok ? text.me_too_done : (result.body.error || text.error);
      item.appendChild(p);
      if (!result.ok) { button.disabled = false; }
    }).catch(function () {
      button.disabled = false;
    });
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function renderNearby(section, reports) {
    section.textContent = "";
    if (!reports.length) { section.hidden = true; return; }
    var title = document.createElement("h2");
    title.textContent = text.nearby;
    section.appendChild(title);
    var list = document.createElement("ul");
    reports.forEach(function (report) {
      var item = document.createElement("li");
      item.setAttribute("data-testid", "nearby-report");
      var about = document.createElement("p");
      var when = new Date(report.created_at).toLocaleDateString();
      var people = report.supporters_count + 1;
      var count = (people === 1 ? text.supporters_one : text.supporters_many).replace("%(count)s", people);
      about.textContent = (report.description ? report.description.slice(0, 140) + " · " : "") +
        when + " · " + report.distance_m + " m · " + count;
      item.appendChild(about);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.textContent = text.me_too;
      button.addEventListener("click", function () { supportRequest(report.id, button, item); });
      item.appendChild(button);
      list.appendChild(item);
    });
    section.appendChild(list);
    section.hidden = false;
  }

  function setupNearby(form) {
    var section = document.getElementById("nearby");
    if (!section || !config.nearby || !form.elements.category) { return; }
    var last = "";
    function look() {
      var category = form.elements.category.value;
      var lat = form.elements.lat.value;
      var lon = form.elements.lon.value;
      if (!category || lat === "" || lon === "" || !navigator.onLine) { return; }
      var query = "?category=" + encodeURIComponent(category) + "&lat=" + lat + "&lon=" + lon;
      if (query === last) { return; }
      last = query;
      fetch(config.nearby + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { data: [] }; })
        .then(function (body) { renderNearby(section, body.data || []); })
        .catch(function () { return null; });
    }
    form.addEventListener("convive:place", look);
    form.elements.category.addEventListener("change", look);
    form.addEventListener("convive:reset", function () { last = ""; renderNearby(section, []); });
  }

  // --- Errors from the server, shown where the plain form would show them -------------------

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".js-error"), function (node) {
      node.parentNode.removeChild(node);
    });
  }

  function showErrors(form, body) {
    clearErrors(form);
    var first = null;
    (body.errors || []).forEach(function (error) {
      var input = error.field ? form.elements[error.field] : null;
      if (input && input.length !== undefined && !input.tagName) { input = input[0]; }
      // A point's errors belong to the whole place, as the page without script shows them.
      var place = input && (error.field === "lat" || error.field === "lon") ? input.closest("fieldset") : null;
      var anchor = input ? (place || input.closest(".field") || input.closest("fieldset")) : null;
      var note = document.createElement(anchor ? "p" : "div");
      note.className = anchor ? "js-error field-error" : "js-error message error";
      note.setAttribute("role", "alert");
      note.textContent = error.message;
      if (input && input.closest("details")) { input.closest("details").open = true; }
      if (place) {
        var legend = place.querySelector("legend");
        place.insertBefore(note, legend ? legend.nextSibling : place.firstChild);
      } else if (anchor) {
        anchor.appendChild(note);
      } else {
        form.insertBefore(note, form.firstChild);
      }
      first = first || note;
    });
    if (!first && body.error) {
      first = document.createElement("div");
      first.className = "js-error message error";
      first.setAttribute("role", "alert");
      first.textContent = body.error;
      form.insertBefore(first, form.firstChild);
    }
    if (first) { first.scrollIntoView({ block: "center" }); }
  }

  // --- Sending -----------------------------------------------------------------------------

  function resetForm(form) {
    form.reset();
    form.elements.idempotency_key.value = newKey();
    clearErrors(form);
    Array.prototype.forEach.call(form.querySelectorAll("fieldset"), function (fieldset) {
      fieldset.dispatchEvent(new CustomEvent("convive:reset"));
    });
    form.dispatchEvent(new CustomEvent("convive:reset"));
  }

  function setupSubmit(form) {
    var submitButton = form.querySelector("button[type=submit]");
    var sending = false;
    form.addEventListener("submit", function (event) {
      if (!window.ConviveQueue) { return; } // queue.js missing: the plain form posts itself
      event.preventDefault();
      if (sending) { return; }
      sending = true;
      submitButton.disabled = true;
      var label = submitButton.textContent;
      submitButton.textContent = text.sending;
      window.ConviveQueue.submit(form).then(function (result) {
        if (result.kind === "sent") {
          window.location.assign(result.body.url);
          return;
        }
        if (result.kind === "queued") {
          resetForm(form);
          var status = document.getElementById("queue-status");
          if (status) { status.scrollIntoView({ block: "center" }); }
        } else {
          showErrors(form, result.body || {});
        }
        sending = false;
        submitButton.disabled = false;
        submitButton.textContent = label;
      }, function () {
        showErrors(form, { error: text.error });
        sending = false;
        submitButton.disabled = false;
        submitButton.textContent = label;
      });
    });
  }

  /* Put a stored submission back into this form (its errors can then be corrected). */
  function restore(item, dryRun) {
    var form = document.querySelector("form[data-offline][action='" + item.action + "']");
    if (!form) { return false; }
    if (dryRun) { return true; }
    resetForm(form);
    // Unticked boxes are not in a submission: start from none ticked, then tick what was sent.
    Array.prototype.forEach.call(form.querySelectorAll("input[type=checkbox], input[type=radio]"), function (input) {
      input.checked = false;
    });
    var files = [];
    item.entries.forEach(function (entry) {
      if (entry.file) { files.push(new File([entry.file.blob], entry.file.name, { type: entry.file.type })); return; }
      var field = form.elements[entry.name];
      if (!field) { return; }
      var inputs = field.tagName ? [field] : Array.prototype.slice.call(field);
      inputs.forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          if (input.value === entry.value) { input.checked = true; }
        } else {
          input.value = entry.value;
        }
      });
    });
    var gallery = form.querySelector("input[type=file][multiple]");
    if (files.length && gallery && window.DataTransfer) {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      gallery.files = transfer.files;
    }
    ["category", "anonymous", "lat"].forEach(function (name) {
      if (form.elements[name]) { form.elements[name].dispatchEvent(new Event("change")); }
    });
    form.scrollIntoView();
    return true;
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-offline]"), function (form) {
    // A fresh key for this copy of the form: the page may come from the phone's cache, where
    // the key written by the server was already used. Retries of this copy keep this key.
    form.elements.idempotency_key.value = newKey();
    setupCategory(form);
    setupContact(form);
    setupPhotos(form);
    setupNearby(form);
    setupSubmit(form);
  });

  Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), function (form) {
    form.addEventListener("submit", function () {
      var submitButton = form.querySelector("button[type=submit]");
      if (submitButton) { window.setTimeout(function () { submitButton.disabled = true; }, 0); }
    });
  });

  // The SOS form sits in a <details>: opening it asks for the location at once.
  var sosSend = document.getElementById("sos-send");
  if (sosSend) {
    sosSend.addEventListener("toggle", function () {
      var gps = sosSend.querySelector("[data-gps]");
      var lat = sosSend.querySelector("input[name=lat]");
      if (sosSend.open && gps && !gps.hidden && lat && lat.value === "") { gps.click(); }
    });
  }

  if (window.ConviveQueue) {
    window.ConviveQueue.restore = restore;
    window.ConviveQueue.render();
  }
})();
