/* Tables that travel as data in a `data-table` attribute and are drawn here as plain HTML
 * tables: the access page's (layouts/accesspage.py html_table), the tablet's board of today
 * (layouts/tablet.py board_view) and the admin page's (layouts/admin.py data_table). Dash's
 * renderer spent 15-20 s on a weekly table of 4,000 components on a 2-core machine, 7-11 s on
 * each redraw of the tablet's board of 250 rows (every 15 s: the tablet froze for most of its
 * life), and 2-3 s on each 10-s refresh of the admin page's 100 audit rows. Every text is set as text (never as
 * markup), and only `class`, `title` and `data-*` attributes are taken. A table is drawn again
 * whenever its data changes (a new choice of units, range or period; the board's new figures),
 * and not at all when it is the same. */
(function () {
  "use strict";
  // a wall screen has no such tables: no observer of its every update there
  if (location.pathname.indexOf("/display/") === 0) return;
  var ATTR = /^(class|title|data-[a-z0-9-]+)$/;

  function attrs(el, given) {
    Object.keys(given || {}).forEach(function (k) { if (ATTR.test(k)) el.setAttribute(k, String(given[k])); });
  }

  function fill(td, c) {
    td.textContent = c.text;
    if (c.num) td.className = "num";
    if (c.class) td.className = c.class;
    if (c.small !== undefined) {
      td.appendChild(document.createElement("br"));
      var small = document.createElement("small");
      small.className = "law";
      small.textContent = c.small;
      td.appendChild(small);
    }
    (c.lines || []).forEach(function (line) {  // further lines of the cell: {text, attrs}
      td.appendChild(document.createElement("br"));
      var span = document.createElement("span");
      attrs(span, line.attrs);
      span.textContent = line.text;
      td.appendChild(span);
    });
    if (c.button) {  // a button of the page's own script (tablet.js): {text, attrs}
      td.appendChild(document.createElement("br"));
      var b = document.createElement("button");
      b.type = "button";
      attrs(b, c.button.attrs);
      b.textContent = c.button.text;
      td.appendChild(b);
    }
  }

  function draw(holder) {
    var raw = holder.getAttribute("data-table");
    if (holder._drawn === raw) return;
    holder._drawn = raw;
    var spec;
    try { spec = JSON.parse(raw); } catch (e) { return; }
    var table = document.createElement("table");
    table.className = spec.class || "history-table access-table";
    if (spec.id) table.id = spec.id;
    var head = table.createTHead().insertRow();
    spec.head.forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    });
    var body = table.createTBody();
    spec.rows.forEach(function (r) {
      var tr = body.insertRow();
      attrs(tr, r.attrs);
      r.cells.forEach(function (c) { fill(tr.insertCell(), c); });
    });
    // a keyboard user's place: the button they were on (same data-figure) keeps the focus
    var was = document.activeElement, figure = null;
    if (was && holder.contains(was)) figure = was.getAttribute("data-figure");
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    holder.appendChild(table);
    if (figure !== null) {
      var again = Array.prototype.find.call(holder.querySelectorAll("button[data-figure]"),
                                            function (b) { return b.getAttribute("data-figure") === figure; });
      if (again) again.focus();
    }
  }

  function all() {
    var holders = document.querySelectorAll("[data-table]");
    for (var i = 0; i < holders.length; i++) draw(holders[i]);
  }

  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; all(); });
  }).observe(document.documentElement, {childList: true, subtree: true, attributes: true, attributeFilter: ["data-table"]});
})();
