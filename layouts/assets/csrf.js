/* Every state-changing request of a signed-in person carries the session's CSRF token
 * (dashboard/auth.py): Dash's own requests get it here, from the same-site cookie. */
(function () {
  "use strict";
  function token() {
    var m = document.cookie.match(/(?:^|;\s*)ohjaustaulu_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : null;
  }
  var original = window.fetch.bind(window);
  window.fetch = function (input, init) {
    init = init || {};
    var method = (init.method || (input && input.method) || "GET").toUpperCase();
    var t = token();
    if (t && method !== "GET" && method !== "HEAD") {
      var headers = new Headers(init.headers || (input && input.headers) || {});
      headers.set("X-CSRF-Token", t);
      init = Object.assign({}, init, { headers: headers });
    }
    return original(input, init);
  };
})();
