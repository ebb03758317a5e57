/* Convive: what pages that keep themselves current without a reload share (the incident page,
 * the field-unit page). Nothing here runs by itself; the pages call window.ConviveLive.
 *
 * A page is made of parts: elements with data-live-part="name". A refresh brings the same parts
 * rendered again by the server, and each one replaces the page's part of the same name.
 *
 * - A part marked data-live-guard holds forms a person writes in. While someone is writing in
 *   one (a field differs from what the server sent, the focus is in a field, or the server sent
 *   the form back with errors: data-bound), the part is not replaced: its text and the versions
 *   it carries stay as they were, the page is told (hooks.onKept) so that it can say the thing
 *   changed meanwhile, and the fresh part is put in place as soon as nothing is being written.
 *   Replacing only when nobody writes is what keeps the forms' hidden versions current (no
 *   spurious 409) without ever throwing away what a person typed.
 * - Which <details> were open and which control had the focus carry over to the new part.
 * - A part whose text changed flashes briefly (.live-changed, incidents/css/live.css).
 * - poller() asks a URL with If-None-Match: the server answers 304 without a body while nothing
 *   changed, which costs a phone on a poor connection next to nothing.
 */
(function () {
  "use strict";

  var pending = []; // [{old, fresh, hooks}] parts kept while someone writes in them
  var wholes = []; // [{root, fresh, hooks}] a page whose set of parts changed, kept likewise

  function isWritable(element) {
    var type = (element.type || "").toLowerCase();
    return !/^(hidden|submit|button|reset|image)$/.test(type) && !element.disabled;
  }

  function selectChanged(select) {
    var options = select.options;
    if (select.multiple) {
      for (var i = 0; i < options.length; i += 1) {
        if (options[i].selected !== options[i].defaultSelected) { return true; }
      }
      return false;
    }
    var initial = 0; // with no option marked selected, a single select starts on the first
    for (var j = 0; j < options.length; j += 1) {
      if (options[j].defaultSelected) { initial = j; }
    }
    return options.length > 0 && select.selectedIndex !== initial;
  }

  /* Whether someone is writing in ``form``. */
  function isEditing(form) {
    if (form.closest("[data-bound]")) { return true; }
    var active = document.activeElement;
    var elements = form.elements;
    for (var i = 0; i < elements.length; i += 1) {
      var element = elements[i];
      if (!isWritable(element)) { continue; }
      if (element === active) { return true; }
      var type = (element.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (element.checked !== element.defaultChecked) { return true; }
      } else if (element.tagName === "SELECT") {
        if (selectChanged(element)) { return true; }
      } else if (element.value !== element.defaultValue) {
        return true;
      }
    }
    return false;
  }

  /* The form someone is writing in inside ``root``, or null. */
  function editedForm(root) {
    var forms = root.querySelectorAll("form");
    for (var i = 0; i < forms.length; i += 1) {
      if (isEditing(forms[i])) { return forms[i]; }
    }
    return null;
  }

  /* What a part shows and sends, leaving out what differs on every render (CSRF tokens) and
   * what the person did to it (open <details>, notices added here). */
  function signature(element) {
    var copy = element.cloneNode(true);
    copy.querySelectorAll("[data-live-notice]").forEach(function (node) { node.remove(); });
    copy.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (node) { node.setAttribute("value", ""); });
    [copy].concat(Array.prototype.slice.call(copy.querySelectorAll("[open], .live-changed"))).forEach(function (node) {
      node.removeAttribute("open");
      node.classList.remove("live-changed");
      if (!node.getAttribute("class")) { node.removeAttribute("class"); }
    });
    return copy.outerHTML.replace(/\s+/g, " ");
  }

  function words(element) {
    return (element.textContent || "").replace(/\s+/g, " ").trim();
  }

  function parts(root) {
    var found = {};
    root.querySelectorAll("[data-live-part]").forEach(function (node) {
      found[node.getAttribute("data-live-part")] = node;
    });
    return found;
  }

  function parse(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html; // the site's own server-rendered fragment
    return holder;
  }

  /* Where the focus was, as something the fresh part can be asked for. */
  function focusKey(old) {
    var active = document.activeElement;
    if (!active || !old.contains(active) || active === old) { return null; }
    if (active.id) { return { selector: "#" + CSS.escape(active.id) }; }
    var named = active.closest("[data-testid]");
    if (!named || !old.contains(named)) { return null; }
    var selector = "[data-testid=\"" + CSS.escape(named.getAttribute("data-testid")) + "\"]";
    return named === active ? { selector: selector } : { selector: selector, tag: active.tagName };
  }

  function restoreFocus(fresh, key) {
    if (!key) { return; }
    var target = fresh.matches(key.selector) ? fresh : fresh.querySelector(key.selector);
    if (target && key.tag && target.tagName !== key.tag) { target = target.querySelector(key.tag); }
    if (target && typeof target.focus === "function") { target.focus({ preventScroll: true }); }
  }

  function openDetails(root) {
    var open = [];
    root.querySelectorAll("details[open][data-testid]").forEach(function (node) {
      open.push(node.getAttribute("data-testid"));
    });
    return open;
  }

  function reopen(root, open) {
    open.forEach(function (name) {
      var node = root.querySelector("details[data-testid=\"" + CSS.escape(name) + "\"]");
      if (node) { node.open = true; }
    });
  }

  function flash(node) {
    node.classList.remove("live-changed");
    void node.offsetWidth; // restart the animation when it runs again
    node.classList.add("live-changed");
    window.setTimeout(function () { node.classList.remove("live-changed"); }, 3000);
  }

  /* Put ``fresh`` in the place of ``old``, keeping the person's place; true if the text changed. */
  function replace(old, fresh) {
    var changed = words(old) !== words(fresh);
    var open = openDetails(old);
    var key = focusKey(old);
    old.replaceWith(fresh);
    reopen(fresh, open);
    restoreFocus(fresh, key);
    if (changed) { flash(fresh); }
    return changed;
  }

  function matchingForm(fresh, form) {
    var action = form.getAttribute("action");
    return action ? fresh.querySelector("form[action=\"" + CSS.escape(action) + "\"]") : null;
  }

  function keep(old, fresh, hooks) {
    pending = pending.filter(function (entry) { return entry.old !== old; });
    pending.push({ old: old, fresh: fresh, hooks: hooks });
    var form = editedForm(old);
    if (hooks && hooks.onKept && form) { hooks.onKept(old, form, matchingForm(fresh, form)); }
  }

  /* Put the server's ``html`` in place under ``root``: part by part, or all of ``root`` when
   * the set of parts changed. Returns the names of the parts whose text changed. */
  function update(root, html, hooks) {
    var holder = parse(html);
    var fresh = parts(holder);
    var current = parts(root);
    var names = Object.keys(fresh);
    var same = names.length === Object.keys(current).length && names.every(function (name) { return current[name]; });
    if (!same) {
      wholes = wholes.filter(function (entry) { return entry.root !== root; });
      if (editedForm(root)) {
        wholes.push({ root: root, fresh: holder, hooks: hooks });
        return [];
      }
      root.replaceChildren.apply(root, Array.prototype.slice.call(holder.childNodes));
      return names;
    }
    var changed = [];
    names.forEach(function (name) {
      var old = current[name];
      pending = pending.filter(function (entry) { return entry.old !== old; });
      if (signature(old) === signature(fresh[name])) { return; }
      if (old.hasAttribute("data-live-guard") && editedForm(old)) {
        keep(old, fresh[name], hooks);
        return;
      }
      if (replace(old, fresh[name])) { changed.push(name); }
    });
    return changed;
  }

  /* Put in place what was kept while someone wrote, once nobody does. */
  function settle() {
    pending = pending.filter(function (entry) {
      if (!entry.old.isConnected) { return false; }
      if (editedForm(entry.old)) { return true; }
      replace(entry.old, entry.fresh);
      if (entry.hooks && entry.hooks.onSettled) { entry.hooks.onSettled(entry.fresh); }
      return false;
    });
    wholes = wholes.filter(function (entry) {
      if (editedForm(entry.root)) { return true; }
      entry.root.replaceChildren.apply(entry.root, Array.prototype.slice.call(entry.fresh.childNodes));
      if (entry.hooks && entry.hooks.onSettled) { entry.hooks.onSettled(entry.root); }
      return false;
    });
  }

  function settleSoon() {
    // After the event: focus has moved, a field was cleared, a form was reset.
    window.setTimeout(settle, 0);
  }

  ["input", "change", "focusout", "reset"].forEach(function (name) {
    document.addEventListener(name, settleSoon, true);
  });

  /* Ask ``options.url`` now and then (or when told to, ``now()``), with the ETag it last gave.
   * options: seconds, etag, accept, onResponse(response) -> promise, onGone(), onOffline(bool). */
  function poller(options) {
    var etag = options.etag || "";
    var seconds = Math.max(0.2, Number(options.seconds) || 15);
    var timer = null;
    var busy = false;
    var again = false;
    var polling = false;
    var gone = false;

    function schedule() {
      if (!polling || gone || timer !== null || document.visibilityState === "hidden") { return; }
      timer = window.setTimeout(function () { timer = null; now(); }, seconds * 1000);
    }

    function finish() {
      busy = false;
      if (again) { again = false; now(); } else { schedule(); }
    }

    function now() {
      if (gone) { return; }
      if (busy) { again = true; return; }
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
      busy = true;
      var headers = { Accept: options.accept || "*/*" };
      if (etag) { headers["If-None-Match"] = etag; }
      // A redirect means the session ended (the login page): not something to show here.
      fetch(options.url, { credentials: "same-origin", cache: "no-store", redirect: "manual", headers: headers })
        .then(function (response) {
          if (options.onOffline) { options.onOffline(false); }
          if (response.status === 304) { return null; }
          if (response.type === "opaqueredirect" || [401, 403, 404, 410].indexOf(response.status) >= 0) {
            gone = true;
            if (options.onGone) { options.onGone(); }
            return null;
          }
          if (!response.ok) { return null; }
          var tag = response.headers.get("ETag");
          return Promise.resolve(options.onResponse(response)).then(function () {
            if (tag) { etag = tag; }
          });
        })
        .catch(function () { if (options.onOffline) { options.onOffline(true); } })
        .then(finish);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        if (polling) { now(); }
      } else if (timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
    });

    return {
      now: now,
      start: function () { polling = true; schedule(); },
      stop: function () {
        polling = false;
        if (timer !== null) { window.clearTimeout(timer); timer = null; }
      }
    };
  }

  window.ConviveLive = { update: update, poller: poller };
}());
