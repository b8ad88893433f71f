/* Ohjaustaulu wall display: everything that runs in the browser.
 * - turns: the cards that do not fit the screen wait for their turn; pages and languages
 *   take turns too (one timer, rotate_seconds)
 * - body[data-connection] online/offline and body[data-store] ok/unavailable: /ready, asked
 *   when a data request fails (and every 5 s when no poll has answered); retries back off;
 *   updates pause while either is lost and resume without a reload
 * - a full reload only at the quiet hour (or after a deployment), and only once the server
 *   answers both /health and this page's own address: never onto an error page
 * - heartbeat: display id, page, version and data age to /api/heartbeat; its answer sets
 *   the page's clock right (a TV's own clock may be minutes off)
 * - a fresh figure turns stale on the page itself when its data-fresh-until has passed,
 *   whatever reaches the page (a server that cannot read the live store says nothing)
 * - clock (the demo's shifted clock too), "updated N min ago", night (dim or off)
 * The page never shows an error: the last values stay on screen. */
(function () {
  "use strict";
  var S = {
    meta: null, online: true, live: true, lastOk: Date.now(), offlineSince: null, delay: 2000, checking: false, healthTimer: null,
    page: 0, start: "0:0", turns: {}, lang: 0, loadedAt: Date.now(), reloading: false,
    screen: null, lastTurnAt: Date.now(), skew: 0,
  };
  var HEALTH_EVERY = 5000, BACKOFF_MAX = 4000;  // back within 4 s of the server or store: 500 screens ask 125 times a second meanwhile

  function meta() {
    if (S.meta) return S.meta;
    var el = document.getElementById("display-meta");
    S.meta = el ? JSON.parse(el.getAttribute("data-meta")) : null;
    return S.meta;
  }
  function root() { return document.querySelector(".display[data-display]"); }
  function lang() { var m = meta(); return m ? m.langs[S.lang % m.langs.length] : "fi"; }
  function text(key) { var m = meta(); return m.texts[lang()][key]; }

  // -- time ---------------------------------------------------------------------------------
  function realNow() { return Date.now() + S.skew; }  // the server's time, as near as we know it
  function now() {
    var c = meta() && meta().clock;
    if (c && c.anchor_real) {
      var real0 = Date.parse(c.anchor_real), shown0 = Date.parse(c.anchor_shown);
      return new Date(shown0 + (realNow() - real0) * parseFloat(c.speed || "1"));
    }
    return new Date(realNow());
  }
  function parts(d) {  // date and hour in the site's time zone
    var f = new Intl.DateTimeFormat("en-CA", { timeZone: meta().tz, year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    var p = {};
    f.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
    return { date: p.year + "-" + p.month + "-" + p.day, hour: parseInt(p.hour, 10), minute: parseInt(p.minute, 10) };
  }
  function clockText(d) {
    var l = lang(), p = parts(d);
    var hm = String(p.hour).padStart(2, "0") + (l === "en" ? ":" : ".") + String(p.minute).padStart(2, "0");
    return l === "en" ? hm : (l === "sv" ? "kl. " : "klo ") + hm;
  }
  function tickClock() {
    var el = document.getElementById("clock");
    if (el) el.textContent = clockText(now());
    expire();
  }
  // A fresh figure is fresh until its data-fresh-until (the server sets it, empty for any
  // other status): past that it is stale here and now, greyed by its data-status, even when
  // no update reaches the page. New data that arrives sets it right again.
  var EXPIRE_GRACE = 2000;  // the server's own "stale" normally arrives first
  function expire() {
    var t = now().getTime();
    document.querySelectorAll("[data-fresh-until]").forEach(function (el) {
      var until = el.getAttribute("data-fresh-until");
      if (!until) return;
      var want = t < Date.parse(until) + EXPIRE_GRACE ? "fresh" : "stale";
      if (el.getAttribute("data-status") !== want) el.setAttribute("data-status", want);
    });
  }
  function ages() {  // "päivitetty N min sitten" on stale tiles
    var t = now().getTime();
    document.querySelectorAll(".age[data-since]").forEach(function (el) {
      var n = Math.max(0, Math.floor((t - Date.parse(el.getAttribute("data-since"))) / 60000));
      var s = n ? text("updated_ago").replace("{n}", n) : text("updated_recent");
      if (el.textContent !== s) el.textContent = s;
    });
  }

  // -- night --------------------------------------------------------------------------------
  function isNight() {
    var m = meta(), p = parts(now());
    if (m.closed_days.indexOf(p.date) >= 0) return true;
    return p.hour < m.opening_hours[0] || p.hour >= m.opening_hours[1];
  }
  function night() {
    var m = meta(), r = root();
    if (!r) return;
    var mode = m.night !== "on" && isNight() ? m.night : "";
    r.classList.toggle("night-dim", mode === "dim");
    r.classList.toggle("night-off", mode === "off");
    if (mode) document.body.setAttribute("data-night", mode);
    else document.body.removeAttribute("data-night");
  }

  // -- turns: cards, pages, languages ---------------------------------------------------------
  function pages() { return Array.prototype.slice.call(document.querySelectorAll(".pages > .page")); }

  // A turn starts at a card and, for a card taller than the whole page, at one of its parts
  // (rows): "card:part". Show from there as many cards as fit, and of a card that does not fit
  // even alone as many parts as fit; return where the next turn starts (or null). A single
  // part too big for the screen is shown alone rather than never.
  function partsOf(card) { return card.querySelectorAll(":scope > .row:not(.shead), :scope > .resources, :scope > .flowfigs, :scope > .chart, :scope > .cardnote, :scope > .t3row, :scope > .sitereasons"); }
  function outside(el, box) {
    var r = el.getBoundingClientRect();
    return r.right > box.right + 1 || r.bottom > box.bottom + 1;
  }
  function fit(page, start) {
    var cards = page.querySelectorAll(".card"), box = page.getBoundingClientRect();
    var at = start.split(":"), c0 = +at[0], p0 = +at[1], i, j, end = null;
    for (i = 0; i < cards.length; i++) {
      cards[i].classList.toggle("earlier", i < c0);
      cards[i].classList.remove("later");
      var ps = partsOf(cards[i]);
      for (j = 0; j < ps.length; j++) {
        ps[j].classList.toggle("earlier", i === c0 && j < p0);
        ps[j].classList.remove("later");
      }
    }
    for (i = c0; i < cards.length && end === null; i++) {
      if (!outside(cards[i], box)) continue;
      if (i > c0) { end = i + ":0"; break; }
      var parts = partsOf(cards[i]);  // the first card does not fit alone: split it
      for (j = p0 + 1; j < parts.length; j++) if (outside(parts[j], box)) { end = i + ":" + j; break; }
      if (end === null && i + 1 < cards.length) end = (i + 1) + ":0";
    }
    if (end === null) return null;
    var e = end.split(":"), ce = +e[0], pe = +e[1];
    for (i = 0; i < cards.length; i++) {
      if (i > ce || (i === ce && pe === 0)) cards[i].classList.add("later");
      if (i === ce && pe > 0) {
        var rest = partsOf(cards[i]);
        for (j = pe; j < rest.length; j++) rest[j].classList.add("later");
      }
    }
    return end;
  }
  function turnsOf(page) {  // the start of each turn of a page
    var starts = ["0:0"], next = fit(page, "0:0");
    while (next !== null && starts.length < 50) { starts.push(next); next = fit(page, next); }
    return starts;
  }
  function layout() {
    var ps = pages();
    if (!ps.length) return;
    if (S.page >= ps.length) { S.page = 0; S.start = "0:0"; }
    ps.forEach(function (p, i) { p.classList.toggle("active", i === S.page); });
    var starts = turnsOf(ps[S.page]);
    S.turns[S.page] = starts.length;
    if (starts.indexOf(S.start) < 0) S.start = "0:0";
    fit(ps[S.page], S.start);
    var total = 0, before = 0;
    ps.forEach(function (p, i) {
      var n = S.turns[i] || 1;
      if (i < S.page) before += n;
      total += n;
    });
    var at = before + starts.indexOf(S.start) + 1, ind = document.getElementById("page-indicator");
    if (ind) ind.textContent = total > 1 ? at + "/" + total : "";
    var r = root();
    if (r) {
      r.setAttribute("data-turn", String(at));
      r.setAttribute("data-turns", String(total));
    }
  }
  function setLang() {
    var r = root(), l = lang();
    if (r) r.setAttribute("data-lang-active", l);
    document.documentElement.setAttribute("lang", l);
    tickClock();
    ages();
  }
  function turn() {  // the next turn: more cards, else the next page, else the next language
    var ps = pages(), m = meta();
    if (!ps.length || !m) return;
    var starts = turnsOf(ps[S.page]), k = starts.indexOf(S.start);
    if (k >= 0 && k + 1 < starts.length) {
      S.start = starts[k + 1];
    } else {
      S.start = "0:0";
      S.page = (S.page + 1) % ps.length;
      if (S.page === 0 && m.langs.length > 1) { S.lang = (S.lang + 1) % m.langs.length; setLang(); }
    }
    S.lastTurnAt = Date.now();
    layout();
  }

  // -- connection -----------------------------------------------------------------------------
  function setProps(id, props) {  // for components that draw nothing (dcc.Interval)
    var dc = window.dash_clientside;
    try { if (dc && dc.set_props) dc.set_props(id, props); } catch (e) { /* not on this page */ }
  }
  // online: the server answers; live: it can read the live store (Redis). Either lost, the
  // last values stay on screen under a banner that says which, and since when.
  function setState(online, live) {
    var banner = document.getElementById("offline-banner");
    var was = S.online && S.live, ok = online && live;
    if (online === S.online && live === S.live && document.body.hasAttribute("data-connection")) return;
    var changed = (online !== S.online) || (live !== S.live);
    S.online = online;
    S.live = live;
    document.body.setAttribute("data-connection", online ? "online" : "offline");
    document.body.setAttribute("data-store", online && !live ? "unavailable" : "ok");
    if (!ok) {
      if (was || changed) S.offlineSince = S.offlineSince || now();  // on the clock the page shows
      if (banner) {
        banner.textContent = text(online ? "no_live_data" : "offline").replace("{since}", clockText(S.offlineSince));
        banner.hidden = false;
      }
      if (meta().updates === "poll") setProps("tick", { disabled: true });  // no point asking meanwhile
    } else {
      S.offlineSince = null;
      if (banner) banner.hidden = true;
      if (meta().updates === "poll") setProps("tick", { disabled: false });
      // push mode: the stream ended with the old server; let its one-shot interval fire
      // once more, which starts the stream again on the new one
      else {
        S.streams = (S.streams || 1) + 1;
        setProps("stream", { max_intervals: S.streams });
      }
      heartbeat();
    }
  }
  function scheduleHealth(ms) {
    clearTimeout(S.healthTimer);
    S.healthTimer = setTimeout(checkConnection, ms);
  }
  function checkConnection() {
    if (S.checking) return;
    // a poll answered just now says as much as a check would: 300 screens, no extra requests
    if (S.online && S.live && meta() && meta().updates === "poll" && Date.now() - S.lastOk < HEALTH_EVERY) {
      scheduleHealth(HEALTH_EVERY);
      return;
    }
    S.checking = true;
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, 4000);
    origFetch("/ready", { cache: "no-store", signal: ctl.signal })
      .then(function (r) { return r.json(); })  // 503 too: it says what is missing
      .then(function (ready) {
        if (!ready || typeof ready.redis !== "string") throw new Error("not our server");
        var live = ready.redis === "ok";
        setState(true, live);
        S.delay = live ? 2000 : Math.min(S.delay * 2, BACKOFF_MAX);
      })
      .catch(function () { setState(false, S.live); S.delay = Math.min(S.delay * 2, BACKOFF_MAX); })
      .finally(function () {
        clearTimeout(timer);
        S.checking = false;
        scheduleHealth(S.online && S.live ? HEALTH_EVERY : S.delay);
      });
  }
  // A data request that fails is the quickest sign of a lost server: ask at once.
  var origFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var p = origFetch(input, init);
    if (url.indexOf("_dash-update-component") >= 0) {
      p.then(function (r) {
        if (r.status >= 500) scheduleHealth(0);
        else S.lastOk = Date.now();
      }, function () { scheduleHealth(0); });
    }
    return p;
  };

  // -- reloads: only at the quiet hour or after a deployment, and only onto a working page ----
  function safeReload() {
    if (S.reloading) return;
    S.reloading = true;
    origFetch("/health", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("health " + r.status); return origFetch(location.href, { cache: "no-store" }); })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error("page " + r.status)); })
      .then(function (html) {
        if (html.indexOf("_dash-config") < 0) throw new Error("not our page");
        location.reload();
      })
      .catch(function () { S.reloading = false; });  // try again at the next check
  }
  function quietHour() {
    var m = meta();
    var hour = parts(new Date(realNow())).hour;  // real time, site zone
    if (S.online && hour === m.reload_hour && Date.now() - S.loadedAt > 2 * 3600 * 1000) safeReload();
  }

  // -- heartbeat --------------------------------------------------------------------------------
  function screenId() {
    if (S.screen) return S.screen;
    var q = new URLSearchParams(location.search).get("screen");
    try {
      S.screen = q || localStorage.getItem("ohjaustaulu-screen");
      if (!S.screen) {
        S.screen = "s-" + Math.random().toString(36).slice(2, 10);
        localStorage.setItem("ohjaustaulu-screen", S.screen);
      }
    } catch (e) { S.screen = q || "s-" + Math.random().toString(36).slice(2, 10); }
    return S.screen;
  }
  function dataAge() {
    var asOf = document.body.getAttribute("data-as-of");
    return asOf ? Math.max(0, Math.round((now() - Date.parse(asOf)) / 1000)) : null;
  }
  function heartbeat() {
    var m = meta(), r = root();
    if (!m || !r) return;
    var active = document.querySelector(".pages > .page.active") || document.querySelector(".pages > .page");
    var body = {
      screen: screenId(), display: m.display, version: m.version, lang: lang(),
      page: active ? active.getAttribute("data-page") : null, turn: r.getAttribute("data-turn"),
      data_as_of: document.body.getAttribute("data-as-of") || null, data_age_s: dataAge(),
      connection: document.body.getAttribute("data-connection"),
      night: document.body.getAttribute("data-night") || null,
      size: window.innerWidth + "x" + window.innerHeight,
    };
    var sent = Date.now();
    origFetch("/api/heartbeat", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), cache: "no-store", keepalive: true })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (ans) {
        if (ans && ans.server_time) {  // the server's clock, half the round trip ago
          var back = Date.now(), at = Date.parse(ans.server_time);
          if (!isNaN(at) && back - sent < 5000) { S.skew = at - (sent + back) / 2; expire(); }
        }
        if (ans && ans.version && ans.version !== m.version) safeReload();
      })
      .catch(function () { /* the connection check says so on screen */ });
  }

  // -- after each update ------------------------------------------------------------------------
  function setAsOf() {
    var el = document.getElementById("as-of-text");
    if (el) document.body.setAttribute("data-as-of", el.getAttribute("data-as-of") || "");
  }
  window.dash_clientside = window.dash_clientside || {};
  // After an update: the current turn fitted again (values change widths and rows come and
  // go), once per frame however many updates arrived in it. The whole rotation is measured
  // again only when the board itself was replaced, at each turn and on resize.
  function settle() {
    S.settling = false;
    setAsOf();
    expire();
    if (!S.started) return;
    var board = document.getElementById("board"), first = board && board.firstElementChild;
    if (first !== S.boardFirst) { S.boardFirst = first; layout(); }
    else {
      var ps = pages();
      if (ps[S.page]) fit(ps[S.page], S.start);
    }
    ages();
  }
  function scheduleSettle() {
    if (!S.settling) { S.settling = true; requestAnimationFrame(settle); }
  }
  window.dash_clientside.ohjaustaulu = {
    // only the elements whose props changed, updated in place (layouts/patch.py)
    applyChanges: function (changes) {
      if (changes) {
        changes.forEach(function (c) {
          if (document.getElementById(c[0])) window.dash_clientside.set_props(c[0], c[1]);
        });
        scheduleSettle();
      }
      return window.dash_clientside.no_update;
    },
    afterUpdate: function () {
      scheduleSettle();
      return window.dash_clientside.no_update;
    },
  };

  // The page came from the server just now: it is online until /health says otherwise.
  document.body.setAttribute("data-connection", "online");
  document.body.setAttribute("data-store", "ok");

  function start() {
    if (S.started || !document.getElementById("display-meta")) return false;
    var m = meta(), r = root();
    S.started = true;
    document.body.setAttribute("data-display", m.display);
    if (r) r.setAttribute("data-lang-active", lang());
    document.documentElement.setAttribute("lang", lang());
    setState(true, true);
    setAsOf();
    S.boardFirst = document.getElementById("board") && document.getElementById("board").firstElementChild;
    layout();
    tickClock();
    ages();
    night();
    setInterval(tickClock, 1000);
    setInterval(ages, 15000);
    setInterval(night, 30000);
    setInterval(quietHour, 60000);
    setInterval(function () {
      var ps = pages(), many = ps.length > 1 || m.langs.length > 1 || (S.turns[S.page] || 1) > 1;
      if (many && Date.now() - S.lastTurnAt >= m.rotate_seconds * 1000 - 50) turn();
    }, 250);
    window.addEventListener("resize", layout);
    scheduleHealth(HEALTH_EVERY);
    setTimeout(heartbeat, 1000);
    setInterval(heartbeat, (m.heartbeat_seconds || 30) * 1000);
    return true;
  }
  window.ohjaustaulu = { state: S, turn: turn, layout: layout, night: night, safeReload: safeReload, heartbeat: heartbeat, now: now };

  // The display's layout arrives through the pages router: start the moment it is in the
  // document (other pages never have it, and cost nothing).
  function watchForDisplay() {
    if (start()) return;
    var observer = new MutationObserver(function () { if (start()) observer.disconnect(); });
    observer.observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchForDisplay);
  else watchForDisplay();

  // Dash keeps an undo history of every change to a callback's input that did not come from
  // the server: each poll timer's tick (dcc.Interval's n_intervals) is one, every 2 s, and the
  // list is never cut (plotly/dash#727, open since 2019), so a screen that runs for weeks would
  // hold hundreds of thousands of entries and copy the whole list at every tick. Nothing here
  // shows undo/redo; Dash itself reads only the last entry (to revert after a failed
  // callback). Every page keeps the last KEEP_HISTORY entries.
  var KEEP_HISTORY = 5;
  setInterval(function () {
    (window.dash_stores || []).forEach(function (store) {
      var h = store.getState().history, past = h && h.past;
      if (past && past.length > KEEP_HISTORY) past.splice(0, past.length - KEEP_HISTORY);
    });
  }, 5000);
})();
