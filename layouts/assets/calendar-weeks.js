/* ISO week numbers in Dash's date picker (issue 16: Finnish managers think in weeks; Dash 4's
 * DatePickerRange has no such setting). Each calendar month table gets a first column "vk"
 * (sv "v.", en "wk") with the ISO 8601 week of each row, its rows being Monday-first
 * (layouts/widgets.py date_range_props). React reuses the table's rows when the month changes,
 * so the numbers are worked out again on every change of the calendar, from the month header
 * ("marraskuu 2026") and the days' columns; a cell is written only when its
 * text differs, so this observer's own writes settle at once. The month arrows get their
 * names in the page's language too. */
(function () {
  "use strict";
  // a wall screen has no date pickers: no observer of its every update there
  if (location.pathname.indexOf("/display/") === 0) return;
  var HEAD = {fi: ["vk", "viikko"], sv: ["v.", "vecka"], en: ["wk", "week"]};
  // the month arrows' names, which Dash writes in English only
  var NAV = {fi: {"Previous month": "Edellinen kuukausi", "Next month": "Seuraava kuukausi"},
             sv: {"Previous month": "Föregående månad", "Next month": "Nästa månad"}};

  function pageLang() { return (document.documentElement.getAttribute("lang") || "fi").slice(0, 2); }

  function monthNames(lang) {
    var names = [], f = new Intl.DateTimeFormat(lang, {month: "long", timeZone: "UTC"});
    var own = window.dateFns && window.dateFns.locale && window.dateFns.locale[lang];
    for (var i = 0; i < 12; i++) {
      var d = new Date(Date.UTC(2026, i, 15));
      names.push([f.format(d).toLowerCase(), own ? String(own.localize.month(i)).toLowerCase() : ""]);
    }
    return names;
  }

  function monthOf(header, lang) {  // "marraskuu 2026" -> [2026, 10]
    var text = (header.textContent || "").trim().toLowerCase();
    var m = text.match(/^(.*\S)\s+(\d{4})$/);
    if (!m) return null;
    var names = monthNames(lang);
    for (var i = 0; i < 12; i++) {
      if (names[i].indexOf(m[1]) >= 0) return [parseInt(m[2], 10), i];
    }
    return null;
  }

  function isoWeek(day) {
    var d = new Date(day.getTime());
    var dow = d.getUTCDay() || 7;  // Monday 1 ... Sunday 7
    d.setUTCDate(d.getUTCDate() + 4 - dow);  // the Thursday of its week decides the year
    var jan1 = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
    return Math.ceil(((d - jan1) / 86400000 + 1) / 7);
  }

  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  function cell(row, tag, cls) {
    var first = row.firstElementChild;
    if (first && first.classList.contains(cls)) return first;
    var c = document.createElement(tag);
    c.className = cls;
    row.insertBefore(c, first);
    return c;
  }

  function number(table, lang) {
    var words = HEAD[lang] || HEAD.fi;
    var header = table.querySelector(".dash-datepicker-calendar-month-header");
    var ym = header && monthOf(header, lang);
    if (!ym) return;
    if (header.getAttribute("colspan") !== "8") header.setAttribute("colspan", "8");
    var headRows = table.tHead ? table.tHead.rows : [];
    if (headRows.length > 1) {
      var th = cell(headRows[headRows.length - 1], "th", "dash-datepicker-week-number");
      setText(th, words[0]);
      if (th.getAttribute("abbr") !== words[1]) { th.setAttribute("abbr", words[1]); th.setAttribute("scope", "col"); }
    }
    // each row's Monday, from the first day of the month shown and its column; a row of the
    // next month's days only (a six-row calendar) follows on from the rows above it
    var rows = table.querySelectorAll("tr.dash-datepicker-calendar-week"), monday = null;
    for (var r = 0; r < rows.length && monday === null; r++) {
      var days = rows[r].querySelectorAll("td");
      for (var i = 0; i < days.length; i++) {
        if (days[i].classList.contains("dash-datepicker-calendar-date-inside")) {
          monday = Date.UTC(ym[0], ym[1], parseInt(days[i].textContent, 10) - i) - r * 7 * 86400000;
          break;
        }
      }
    }
    if (monday === null) return;
    for (var k = 0; k < rows.length; k++) {
      var c = cell(rows[k], "th", "dash-datepicker-week-number");
      if (c.getAttribute("scope") !== "row") c.setAttribute("scope", "row");
      // a padding row whose days Dash leaves empty gets no number either
      var shown = (rows[k].querySelector("td") || {}).textContent;
      var week = shown ? String(isoWeek(new Date(monday + k * 7 * 86400000))) : "";
      setText(c, week);
      if (!week) { c.removeAttribute("aria-label"); c.removeAttribute("data-week"); continue; }
      var label = words[1] + " " + week;
      if (c.getAttribute("aria-label") !== label) c.setAttribute("aria-label", label);
      if (c.getAttribute("data-week") !== week) c.setAttribute("data-week", week);
    }
  }

  function all() {
    var tables = document.querySelectorAll("table.dash-datepicker-calendar");
    if (!tables.length) return;
    var lang = pageLang();
    var nav = document.querySelectorAll("button.dash-datepicker-month-nav");
    for (var n = 0; n < nav.length; n++) {
      var said = nav[n].getAttribute("data-dash-label") || nav[n].getAttribute("aria-label");
      var own = NAV[lang] && NAV[lang][said];
      if (own && nav[n].getAttribute("aria-label") !== own) {
        nav[n].setAttribute("data-dash-label", said);
        nav[n].setAttribute("aria-label", own);
      }
    }
    for (var i = 0; i < tables.length; i++) number(tables[i], lang);
  }

  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; all(); });
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
