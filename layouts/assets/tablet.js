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
