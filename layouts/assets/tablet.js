// The tablet's "Peru korjaus" buttons. A tap is turned into one request in the browser, at
// once, and written to a store; the server answers that store. Were the buttons the server
// callback's own inputs, the board drawn anew (every 15 s, after every save) would re-trigger
// that callback, and Dash drops the answer of a callback still running when it is triggered
// again: the correction would be withdrawn and nobody told.
(function () {
  "use strict";
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.tablet = {
    withdrawTap: function () {
      var dc = window.dash_clientside;
      var t = (dc.callback_context && dc.callback_context.triggered) || [];
      // buttons drawn anew carry no click: only a real tap asks
      if (t.length !== 1 || !t[0].value) return dc.no_update;
      var propId = t[0].prop_id, dot = propId.lastIndexOf(".");
      var id;
      try { id = JSON.parse(propId.slice(0, dot)); } catch (e) { return dc.no_update; }
      if (!id || typeof id.figure !== "string") return dc.no_update;
      return { figure: id.figure, at: Date.now() };
    },
  };
})();
