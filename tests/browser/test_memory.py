"""A wall display runs for weeks: its page must not grow. 10,000 updates, accelerated, go
through the page's own update path (the changed elements' props, as the server sends them,
applied by applyChanges; every 50th update also changes the shape: a notice comes or goes);
the page's data in the JS heap after warm-up may grow at most 10 %.

The data is the heap less the code V8 compiles (a heap snapshot's "code" nodes): V8 compiles
and optimises a page's functions as they grow hot, so a wall page's code grows for minutes
after it loads and then stays (on 2026-12-04, with the live updates only: 6.2 MB after
load, 9.5 MB after three minutes, 9.6 after seven; of a minute's growth, 0.8 MB was new compiled
code). That is no leak, but it is most of what JSHeapUsedSize grew by in this test (up to 9.9 %
of its 10 %): the heap's data is the part that a leak grows."""

from __future__ import annotations

import collections
import json
import urllib.request

import pytest
import websocket

from tests.browser.conftest import Demo, chrome
from tests.conftest import FIGURES, wait_for

pytestmark = pytest.mark.browser

UPDATES_JS = """
const [count, done] = [arguments[0], arguments[arguments.length - 1]];
const apply = window.dash_clientside.ohjaustaulu.applyChanges;
const tiles = Array.from(document.querySelectorAll('.tile[data-metric]')).filter(t => t.querySelector('.num'));
const strip = document.querySelector('.notices');
const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
const asOf = document.querySelector('#as-of-text'), seen = [];
let last = null, watch = null;
(async () => {
  for (let i = 0; i < count; i++) {
    window.__updates = (window.__updates || 0) + 1;
    const n = window.__updates, at = new Date(Date.UTC(2026, 10, 23, 8, 0, n % 3600)).toISOString();
    const changes = [];
    for (let k = 0; k < 6; k++) {
      const t = tiles[(n * 7 + k * 13) % tiles.length], v = String((n + k) % 40);
      changes.push([t.id, {'data-value': v, 'data-updated': at, title: 'demo ' + at}]);
      changes.push([t.querySelector('.num').id, {children: v}]);
    }
    changes.push(['as-of-text', {'data-as-of': at}]);
    if (n % 50 === 0) {
      const notices = [];
      for (let j = 0; j < n % 3; j++) notices.push({type: 'Div', namespace: 'dash_html_components',
        props: {id: strip.id + '.' + j, className: 'notice notice--info', children: 'Tiedote ' + n + '/' + j}});
      changes.push([strip.id, {children: notices, 'data-count': String(notices.length)}]);
    }
    if (i === count - 1) {  // the page takes the last update: seen here, whatever comes after
      last = at;
      watch = new MutationObserver(() => seen.push(asOf.dataset.asOf));
      watch.observe(asOf, {attributes: true, attributeFilter: ['data-as-of']});
    }
    apply(changes);
    if (n % 10 === 0) await frame();
  }
  for (let f = 0; f < 100 && !seen.includes(last); f++) await frame();
  watch.disconnect();
  done([window.__updates, last, seen]);
})();
"""


def heap(driver, snapshot: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The page's JS heap after a garbage collection: `used` (JSHeapUsedSize), and if asked
    from a heap snapshot (DevTools protocol, over the browser's own debugging socket: its chunks
    come as events; about 4 s) the bytes of its nodes by kind, `code` (V8's compiled code) and
    `data` (the rest)."""
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    used = next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize")
    if not snapshot:
        return {"used": used}
    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    with urllib.request.urlopen(f"http://{address}/json", timeout=10) as r:
        page = next(t for t in json.load(r) if t["type"] == "page")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120, suppress_origin=True)
    try:
        ws.send(json.dumps({"id": 1, "method": "HeapProfiler.takeHeapSnapshot", "params": {"reportProgress": False}}))
        chunks = []
        while True:
            message = json.loads(ws.recv())
            if message.get("method") == "HeapProfiler.addHeapSnapshotChunk":
                chunks.append(message["params"]["chunk"])
            elif message.get("id") == 1:
                break
    finally:
        ws.close()
    taken = json.loads("".join(chunks))
    meta = taken["snapshot"]["meta"]
    fields, kinds = meta["node_fields"], meta["node_types"][0]
    width, kind_at, size_at = len(fields), fields.index("type"), fields.index("self_size")
    nodes = taken["nodes"]
    by_kind: collections.Counter[str] = collections.Counter()
    for kind, size in zip(nodes[kind_at::width], nodes[size_at::width], strict=True):
        by_kind[kinds[kind]] += size
    return {"used": used, "code": by_kind["code"], "data": sum(by_kind.values()) - by_kind["code"]}


@pytest.mark.parametrize("demo", ["embedded"], indirect=True)
# alone: a heap measured while other tests loaded both cores grew 14–26 % with the page of
# 2026-11; on 2026-12-04, not alone in a CI-like run, +9.5 % (limit 10 %, 124 s instead of 58):
# too near the limit to tell a leak from the load. Alone: 1.9–9.9 % (the whole heap; its data,
# measured since: -0.1 to +0.8 % in runs of its own, +0.4 % with both cores kept busy, +4.7 % in
# a CI-like run; +28.9 % with each update's first four changes kept: a leak).
@pytest.mark.alone
def test_ten_thousand_updates_leave_the_heap_flat(demo: Demo):
    driver = chrome()
    try:
        driver.get(demo.display_url("vastaanotto-kaytava"))
        wait_for(lambda: driver.execute_script("return !!window.ohjaustaulu && document.querySelectorAll('.tile[id]').length > 20"),
                 timeout=30, what="the display")
        # the live updates keep coming as well; these go on top of them
        driver.execute_cdp_cmd("Performance.enable", {})
        driver.execute_cdp_cmd("HeapProfiler.enable", {})
        driver.set_script_timeout(600)
        # the heap after garbage collection still wobbles by a few per cent from one moment to
        # the next: the whole heap is compared as the median of three readings at the end of the
        # warm-up (1,000 to 2,000 updates) and of three at the end (9,000 to 10,000); its data,
        # steadier, from a snapshot at 2,000 and at 10,000
        samples = []
        for i, count in enumerate((1000, 500, 500, 7000, 500, 500)):
            total, last, seen = driver.execute_async_script(UPDATES_JS, count)
            samples.append(heap(driver, snapshot=i in (2, 5)))
        before, after = samples[2]["data"], samples[5]["data"]
        assert total == 10_000
        # the updates did land: the page showed the last synthetic time (read as the page took
        # it: a live update coming after it, as they do every 2 s, shows the real time again)
        assert last.startswith("2026-11-23") and last in seen, (last, seen)
        growth = (after - before) / before
        used = [sorted(x["used"] for x in samples[:3])[1], sorted(x["used"] for x in samples[3:])[1]]
        code = [samples[2]["code"], samples[5]["code"]]
        FIGURES.append(f"JS heap, 10,000 updates: data {before / 1e6:.1f} MB after warm-up, "
                       f"{after / 1e6:.1f} MB after ({growth:+.1%}; limit +10 %); the whole heap "
                       f"{used[0] / 1e6:.1f} -> {used[1] / 1e6:.1f} MB ({(used[1] - used[0]) / used[0]:+.1%}), "
                       f"compiled code {code[0] / 1e6:.1f} -> {code[1] / 1e6:.1f} MB")
        assert growth <= 0.10, f"the heap's data grew {growth:.1%}: {before:.0f} -> {after:.0f} bytes"
        # Dash's undo history of input changes (a poll tick every 2 s is one) is cut to its last
        # few entries (display.js; plotly/dash#727): over this minute and more, tens of ticks
        ticks, past = driver.execute_script(
            "const h = window.dash_stores[0].getState().history;"
            "const n = [h.present, ...h.past].map(e => e && e.props && e.props.n_intervals);"
            "return [Math.max(...n.filter(x => typeof x === 'number')), h.past.length];")
        assert ticks is not None and ticks > 15, ticks
        assert past <= 10, f"Dash's history holds {past} entries after {ticks} ticks"
    finally:
        driver.quit()
