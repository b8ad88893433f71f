// The tablet's "Peru korjaus" buttons, drawn with the board of today (tables.js). A tap is
// turned into one request in the browser, at once, and written to a store; the server answers
// that store. Were the buttons the server callback's own inputs, the board drawn anew (every
// 15 s, after every save) would re-trigger that callback, and Dash drops the answer of a
// callback still running when it is triggered again: the correction would be withdrawn and
// nobody told. (The board is drawn by tables.js, not by Dash: Dash's renderer froze the tablet
// for 7-11 s at each redraw of its 250 rows.)
(function () {
  "use strict";
  if (location.pathname.indexOf("/display/") === 0) return;  // a wall screen has no such buttons
  document.addEventListener("click", function (e) {
    var b = e.target && e.target.closest && e.target.closest("button.withdraw[data-figure]");
    if (!b || !window.dash_clientside || !window.dash_clientside.set_props) return;
    window.dash_clientside.set_props("tablet-withdraw-tap",
                                     {data: {figure: b.getAttribute("data-figure"), at: Date.now()}});
  });
})();

// The tablet's day and time (layouts/tablet.py tablet_clock): on the units' own clock, from the
// store's clock as the server gave it (the demo's shifted day too), "ti 24.11.2026 klo 10.05".
(function () {
  "use strict";
  if (location.pathname.indexOf("/display/") === 0) return;
  var LOCALES = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" };
  function shown(el) {
    var c = {};
    try { c = JSON.parse(el.getAttribute("data-clock") || "{}"); } catch (e) { c = {}; }
    if (c.anchor_real) {
      return new Date(Date.parse(c.anchor_shown) + (Date.now() - Date.parse(c.anchor_real)) * parseFloat(c.speed || "1"));
    }
    return new Date();
  }
  function tick() {
    var el = document.getElementById("tablet-clock");
    if (!el) return;
    var tz = el.getAttribute("data-tz"), lang = el.getAttribute("data-lang") || "fi", at = shown(el), p = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: tz, year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(at).forEach(function (x) { p[x.type] = x.value; });
    var day = new Intl.DateTimeFormat(LOCALES[lang] || "fi-FI", { timeZone: tz, weekday: "short" }).format(at);
    var time = lang === "en" ? p.hour + ":" + p.minute : (lang === "sv" ? "kl. " : "klo ") + parseInt(p.hour, 10) + "." + p.minute;
    var text = day + " " + parseInt(p.day, 10) + "." + parseInt(p.month, 10) + "." + p.year + " " + time;
    if (el.textContent !== text) el.textContent = text;
  }
  setInterval(tick, 10000);
  document.addEventListener("DOMContentLoaded", tick);
})();

// The correction form's key: a choice of the keys the figure has, or "a new key" (the value
// layouts/tablet.py NEW_KEY), which shows the field where the new key is typed.
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.tablet = {
  newKeyHidden: function (key) { return key !== "+NEW"; }
};

// A tap on a row of today's board fills the correction form with that figure (its unit,
// metric, key and value), ready to be changed: no key typed by hand, so no typo makes a new row.
// The key first, with itself among the choices (a drop-down lets go of a value it does not
// offer), then the unit and the metric: the server's new choices keep a key the figure has.
// A derived figure is computed from others: a tap leaves the form as it is.
(function () {
  "use strict";
  if (location.pathname.indexOf("/display/") === 0) return;
  function keyChoices(key) {
    var api = window.dash_component_api, node = api && api.getLayout ? api.getLayout("tablet-fix-key") : null;
    var options = ((node && (node.props || node).options) || []).slice();
    if (key && !options.some(function (o) { return o && o.value === key; })) options.unshift({label: key, value: key});
    return options;
  }
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.closest || t.closest("button, a")) return;
    var tr = t.closest("tr.board-row[data-metric]");
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!tr || !set || tr.getAttribute("data-derived")) return;
    var key = tr.getAttribute("data-key") || null;
    set("tablet-fix-key", {options: keyChoices(key), value: key});
    set("tablet-fix-unit", {value: tr.getAttribute("data-unit")});
    set("tablet-fix-metric", {value: tr.getAttribute("data-metric")});
    set("tablet-fix-value", {value: tr.getAttribute("data-value")});
    var field = document.getElementById("tablet-fix-value");
    if (field) { field.scrollIntoView({block: "center"}); field.focus(); }
  });
})();

// A step that cannot be taken back at once ("Päätä nyt" on a notice) asks for a second tap: the
// first turns the button into its data-confirm text ("Vahvista") for five seconds, and only a
// tap on that reaches Dash. Caught before React's own listener, so the first tap sends nothing.
(function () {
  "use strict";
  if (location.pathname.indexOf("/display/") === 0) return;
  document.addEventListener("click", function (e) {
    var b = e.target && e.target.closest && e.target.closest("button[data-confirm]");
    if (!b) return;
    if (b.getAttribute("data-armed") === "true") {
      b.removeAttribute("data-armed");
      return;  // the second tap: on to Dash
    }
    e.stopPropagation();
    e.preventDefault();
    var was = b.textContent;
    b.setAttribute("data-armed", "true");
    b.textContent = b.getAttribute("data-confirm");
    setTimeout(function () {
      if (b.getAttribute("data-armed") === "true") { b.removeAttribute("data-armed"); b.textContent = was; }
    }, 5000);
  }, true);
})();
