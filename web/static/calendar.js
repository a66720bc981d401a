// contestbell calendar: the page works without this script. With it, the page
// - shows times in the browser's time zone (remembered in the "tz" cookie) unless the address or the cookie chose one,
// - follows /ws: on every contest change it fetches the same view again (partial=1) and swaps it in without a reload,
//   highlights the changed contest and announces the change in the aria-live region,
// - leaves empty fields out of the filter form's address,
// - shows the site pickers' search boxes (web/templates/site_choices.html): typing hides the sites whose slug and
//   name do not contain the text, and says how many match.
(function () {
  "use strict";

  var HIGHLIGHT_MS = 4000;
  var NOTICE_MS = 15000;    // the announcement's banner then leaves the screen
  var MAX_BACKOFF_MS = 30000;
  var root = document.documentElement;
  var waiting = [];       // changes heard but not yet shown
  var inFlight = null;    // the running re-fetch, if any
  var again = false;      // another re-fetch is needed once the running one ends

  function region() { return document.getElementById("calendar"); }

  function partialAddress() {
    var address = new URL(window.location.href);
    address.searchParams.set("partial", "1");
    return address.toString();
  }

  function focusedLink(old) {
    var active = document.activeElement;
    return active && old.contains(active) && active.getAttribute("href");
  }

  function swap(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var fresh = holder.content.firstElementChild;
    var old = region();
    if (!fresh || !old || fresh.id !== "calendar") { return false; }
    var href = focusedLink(old);
    old.replaceWith(fresh);
    if (href) {
      var same = Array.prototype.find.call(fresh.querySelectorAll("a[href]"), function (a) {
        return a.getAttribute("href") === href;
      });
      (same || fresh).focus();
    }
    return true;
  }

  function refresh() {
    if (inFlight) { again = true; return inFlight; }
    var batch = waiting;
    waiting = [];
    inFlight = fetch(partialAddress(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("calendar answered " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var shownBefore = batch.filter(contestElement);  // a cancelled or moved-away contest is gone after the swap
        if (swap(html)) { show(batch, shownBefore); }
      })
      .catch(function () { waiting = batch.concat(waiting); })
      .then(function () {
        inFlight = null;
        root.dataset.refreshed = String((Number(root.dataset.refreshed) || 0) + 1);
        if (again) { again = false; return refresh(); }
      });
    return inFlight;
  }

  // Where the calendar shows a contest: once in the list, on each day it runs in a month or week.
  function contestElements(change) {
    var id = change.site + ":" + change.key;
    var items = document.querySelectorAll("#calendar [data-contest]");
    return Array.prototype.filter.call(items, function (item) { return item.dataset.contest === id; });
  }

  function contestElement(change) { return contestElements(change)[0] || null; }

  function timeOf(change, element) {
    if (element && element.dataset.when) { return element.dataset.when; }
    try {
      return new Intl.DateTimeFormat(root.lang, {
        timeZone: region().dataset.zone, weekday: "short", day: "numeric", month: "short",
        hour: "2-digit", minute: "2-digit"
      }).format(new Date(change.start));
    } catch (error) {
      return change.start;
    }
  }

  function sentence(change, element) {
    var live = document.getElementById("live");
    var template = live && live.dataset[change.kind];
    if (!template) { return ""; }
    var values = { title: change.title || "", old_title: change.old_title || "", time: timeOf(change, element) };
    return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  // Highlight the changed contests and announce those this view shows (or showed: cancelled, moved away).
  function show(changes, shownBefore) {
    var said = [];
    changes.forEach(function (change) {
      var element = contestElement(change);
      if (!element && shownBefore.indexOf(change) < 0) { return; }  // another site, or outside this view
      contestElements(change).forEach(function (shown) {
        shown.classList.add("changed");
        window.setTimeout(function () { shown.classList.remove("changed"); }, HIGHLIGHT_MS);
      });
      var text = sentence(change, element);
      if (text && said.indexOf(text) < 0) { said.push(text); }
    });
    var live = document.getElementById("live");
    if (live && said.length) {
      var text = said.slice(0, 3).join(" · ");
      live.textContent = text;
      window.setTimeout(function () { if (live.textContent === text) { live.textContent = ""; } }, NOTICE_MS);
    }
  }

  function listen() {
    var delay = 1000;
    var greetedBefore = false;

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + "/ws");
      socket.addEventListener("message", function (message) {
        var data;
        try { data = JSON.parse(message.data); } catch (error) { return; }
        if (data.type === "hello") {
          delay = 1000;
          root.dataset.live = "connected";
          if (greetedBefore) { refresh(); }  // changes may have been missed while away
          greetedBefore = true;
        } else if (data.type === "change") {
          waiting.push(data);
          refresh();
        }
      });
      socket.addEventListener("close", function () {
        root.dataset.live = "reconnecting";
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      });
    }
    connect();
  }

  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { return ""; }
  }

  function adoptBrowserZone() {
    var current = region();
    var zone = browserZone();
    if (!current || current.dataset.zoneChosen === "1" || !zone) { return; }
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    var input = document.getElementById("tz");
    if (input) { input.value = zone; }
    if (zone !== current.dataset.zone) { refresh(); }
  }

  function keepAddressesShort() {
    window.addEventListener("pageshow", function () {  // back to a page whose form was sent: fields usable again
      document.querySelectorAll("form[method=get] input:disabled").forEach(function (input) { input.disabled = false; });
    });
    document.querySelectorAll("form[method=get]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("input[name]").forEach(function (input) {
          if (input.type !== "checkbox" && input.value === "") { input.disabled = true; }
        });
      });
    });
  }

  function filled(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  function searchable(picker) {
    var input = picker.querySelector("[data-site-search]");
    var status = picker.querySelector("[data-site-matches]");
    var items = picker.querySelectorAll("[data-site]");
    if (!input || !status) { return; }
    function narrow() {
      var wanted = input.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        item.hidden = wanted !== "" && item.dataset.site.indexOf(wanted) < 0;
        if (!item.hidden) { shown += 1; }
      });
      picker.querySelectorAll("[data-site-group]").forEach(function (group) {
        group.hidden = !group.querySelector("[data-site]:not([hidden])");
      });
      status.textContent = wanted === "" ? "" : shown === 0 ? status.dataset.none
        : filled(status.dataset.some, { count: shown, total: items.length });
    }
    input.addEventListener("input", narrow);
    input.addEventListener("keydown", function (event) {  // Enter in the search box does not send the form
      if (event.key === "Enter") { event.preventDefault(); }
    });
    input.closest(".site-search").hidden = false;
    if (input.value) { narrow(); }  // the browser kept what was typed (back to the page)
  }

  adoptBrowserZone();
  keepAddressesShort();
  document.querySelectorAll("[data-site-picker]").forEach(searchable);
  if ("WebSocket" in window) { listen(); }
}());
