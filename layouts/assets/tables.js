/* The access page's tables (layouts/accesspage.py html_table): each comes as data in a
 * `data-table` attribute and is drawn here as a plain HTML table, because Dash's renderer
 * spent 15-20 s on a weekly table of 4,000 components on a 2-core machine. Every text is set
 * as text (never as markup), and only `class` and `data-*` attributes are taken. A table is
 * drawn again whenever its data changes (a new choice of units, range or period). */
(function () {
  "use strict";
  // a wall screen has no such tables: no observer of its every update there
  if (location.pathname.indexOf("/display/") === 0) return;
  var ATTR = /^(class|data-[a-z0-9-]+)$/;

  function draw(holder) {
    var raw = holder.getAttribute("data-table");
    if (holder._drawn === raw) return;
    holder._drawn = raw;
    var spec;
    try { spec = JSON.parse(raw); } catch (e) { return; }
    var table = document.createElement("table");
    table.className = "history-table access-table";
    table.id = spec.id;
    var head = table.createTHead().insertRow();
    spec.head.forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    });
    var body = table.createTBody();
    spec.rows.forEach(function (r) {
      var tr = body.insertRow();
      Object.keys(r.attrs || {}).forEach(function (k) { if (ATTR.test(k)) tr.setAttribute(k, r.attrs[k]); });
      r.cells.forEach(function (c) {
        var td = tr.insertCell();
        td.textContent = c.text;
        if (c.num) td.className = "num";
        if (c.small !== undefined) {
          td.appendChild(document.createElement("br"));
          var small = document.createElement("small");
          small.className = "law";
          small.textContent = c.small;
          td.appendChild(small);
        }
      });
    });
    while (holder.firstChild) holder.removeChild(holder.firstChild);
    holder.appendChild(table);
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
