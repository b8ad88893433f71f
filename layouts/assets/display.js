/* Ohjaustaulu wall display: everything that runs in the browser.
 * - body[data-connection] online/offline from /health, with back-off; a banner says since when
 * - body[data-as-of] copied from the board after each update
 * - the clock (the demo's shifted clock too), page rotation, ages of stale tiles
 * The page never reloads itself into an error page: the last values stay on screen. */
(function () {
  "use strict";
  var state = { online: true, offlineSince: null, delay: 3000, rotateTimer: null, page: 0 };

  function meta() {
    var el = document.getElementById("display-meta");
    return el ? JSON.parse(el.getAttribute("data-meta")) : null;
  }

  function now(m) {
    var c = m && m.clock;
    if (c && c.anchor_real) {
      var real0 = Date.parse(c.anchor_real), shown0 = Date.parse(c.anchor_shown);
      return new Date(shown0 + (Date.now() - real0) * parseFloat(c.speed || "1"));
    }
    return new Date();
  }

  function clockText(m, d) {
    var locale = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" }[m.lang] || "fi-FI";
    var hm = new Intl.DateTimeFormat(locale, { timeZone: m.tz, hour: "2-digit", minute: "2-digit" })
      .format(d).replace(":", m.lang === "en" ? ":" : ".");
    return m.lang === "en" ? hm : (m.lang === "sv" ? "kl. " : "klo ") + hm;
  }

  function tickClock() {
    var m = meta(), el = document.getElementById("clock");
    if (m && el) el.textContent = clockText(m, now(m));
  }

  function setAsOf() {
    var el = document.getElementById("as-of-text");
    if (el) document.body.setAttribute("data-as-of", el.getAttribute("data-as-of") || "");
    var d = document.querySelector("[data-display]");
    if (d) document.body.setAttribute("data-display", d.getAttribute("data-display"));
  }

  function setOnline(online) {
    var m = meta(), banner = document.getElementById("offline-banner");
    if (online === state.online && document.body.hasAttribute("data-connection")) return;
    state.online = online;
    document.body.setAttribute("data-connection", online ? "online" : "offline");
    if (!online) {
      state.offlineSince = new Date();
      if (banner && m) {
        banner.textContent = m.texts.offline.replace("{since}", clockText(m, now(m)));
        banner.hidden = false;
      }
    } else if (banner) {
      banner.hidden = true;
    }
  }

  function checkConnection() {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, 4000);
    fetch("/health", { cache: "no-store", signal: ctl.signal })
      .then(function (r) { if (!r.ok) throw new Error(r.status); setOnline(true); state.delay = 3000; })
      .catch(function () { setOnline(false); state.delay = Math.min(state.delay * 2, 15000); })
      .finally(function () {
        clearTimeout(timer);
        setTimeout(checkConnection, state.online ? 5000 : state.delay);
      });
  }

  function rotate() {
    var m = meta();
    var pages = document.querySelectorAll(".pages > .page");
    if (!pages.length) return;
    if (state.page >= pages.length) state.page = 0;
    pages.forEach(function (p, i) { p.classList.toggle("active", i === state.page); });
    if (!state.rotateTimer && m && pages.length > 1) {
      state.rotateTimer = setInterval(function () {
        state.page = (state.page + 1) % document.querySelectorAll(".pages > .page").length;
        rotate();
      }, m.rotate_seconds * 1000);
    }
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.ohjaustaulu = {
    afterUpdate: function () {
      setAsOf();
      rotate();
      return window.dash_clientside.no_update;
    },
  };

  // The page came from the server just now: it is online until /health says otherwise.
  document.body.setAttribute("data-connection", "online");

  var started = false;
  function start() {
    if (started || !document.getElementById("display-meta")) return false;
    started = true;
    setOnline(true);
    setAsOf();
    rotate();
    tickClock();
    setInterval(tickClock, 1000);
    setTimeout(checkConnection, 5000);
    return true;
  }

  // The display's layout arrives through the pages router: start the moment it is in the
  // document (other pages never have it, and cost nothing).
  function watchForDisplay() {
    if (start()) return;
    var observer = new MutationObserver(function () { if (start()) observer.disconnect(); });
    observer.observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchForDisplay);
  else watchForDisplay();
})();
