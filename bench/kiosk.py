"""Benchmark of the wall display page (issue 5), in headless Chromium on this machine.

  1. first contentful paint after navigation, with a cold browser cache (a screen that has
     just booted), median and worst of several loads
  2. all tiles with data after navigation (every tile on the page has a value), same loads
  3. bytes over the network per update once the page is loaded (the changed elements only),
     mean and p95 over a minute of a living demo, and the first load's weight beside them

Prints each figure beside its target and the baseline run (bench/baseline-kiosk.json);
`--save-baseline` makes this run the baseline. Run with `./dev bench`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from tests.browser.conftest import chrome, start_demo, stop_demo  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG, close_backend, make_backend, wait_for  # noqa: E402

BASELINE = ROOT / "bench" / "baseline-kiosk.json"
DISPLAY = "vastaanotto-kaytava"
TARGETS = {
    "first_contentful_paint_worst_s": 1.5,
    "all_tiles_with_data_worst_s": 3.0,
    "bytes_per_update_p95_kb": 20.0,
}

# Installed before the page's own scripts: note the moment every tile on the page has data.
WATCH_JS = """
new MutationObserver((_, obs) => {
  const tiles = document.querySelectorAll('[data-metric]');
  if (tiles.length > 10 && Array.from(tiles).every(t => t.dataset.value !== '')) {
    window.__allTiles = performance.now(); obs.disconnect();
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


def load_times(url: str, runs: int) -> tuple[list[float], list[float], float]:
    fcp, tiles, weight = [], [], 0.0
    for _ in range(runs):
        driver = chrome(network_log=True)  # a fresh profile: nothing cached
        try:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_JS})
            driver.get(url)
            wait_for(lambda d=driver: d.execute_script("return window.__allTiles"), timeout=30, what="all tiles")
            paint = driver.execute_script(
                "return performance.getEntriesByName('first-contentful-paint')[0].startTime")
            fcp.append(paint / 1000)
            tiles.append(driver.execute_script("return window.__allTiles") / 1000)
            weight = sum(e["params"]["encodedDataLength"] for e in network(driver)
                         if e["method"] == "Network.loadingFinished") / 1024
        finally:
            driver.quit()
    return fcp, tiles, weight


FRESH_JS = "return document.querySelectorAll('[data-status=fresh]').length > 10"


def network(driver) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]


def update_weights(url: str, seconds: float) -> list[float]:
    """Bytes (as sent, compressed) of each update the page received over `seconds`."""
    driver = chrome(network_log=True)
    try:
        driver.get(url)
        wait_for(lambda: driver.execute_script(FRESH_JS),
                 timeout=30, what="the display")
        time.sleep(3)
        network(driver)  # the first load's events, dropped
        time.sleep(seconds)
        updates: dict[str, bool] = {}
        sizes: dict[str, float] = {}
        for e in network(driver):
            p = e["params"]
            if e["method"] == "Network.requestWillBeSent":
                updates[p["requestId"]] = "_dash-update-component" in p["request"]["url"]
            elif e["method"] == "Network.responseReceived" and p["response"]["status"] == 204:
                updates[p["requestId"]] = False  # nothing changed: no update
            elif e["method"] == "Network.loadingFinished":
                sizes[p["requestId"]] = p["encodedDataLength"]
        return [sizes[r] / 1024 for r, is_update in updates.items() if is_update and r in sizes]
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--save-baseline", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backend = make_backend("embedded", Path(tmp) / "data")
        demo = start_demo(backend, EXAMPLE_CONFIG)
        try:
            url = demo.display_url(DISPLAY)
            load_times(url, 1)  # the server's own first request setup, not the screen's
            fcp, tiles, first_load_kb = load_times(url, args.runs)
            weights = update_weights(url, args.seconds)
        finally:
            stop_demo(demo)
            close_backend(backend)
    weights.sort()
    results = {
        "first_contentful_paint_median_s": statistics.median(fcp),
        "first_contentful_paint_worst_s": max(fcp),
        "all_tiles_with_data_median_s": statistics.median(tiles),
        "all_tiles_with_data_worst_s": max(tiles),
        "first_load_kb": first_load_kb,
        "updates_per_minute": len(weights) * 60 / args.seconds,
        "bytes_per_update_mean_kb": statistics.fmean(weights),
        "bytes_per_update_p95_kb": weights[min(len(weights) - 1, int(0.95 * len(weights)))],
    }
    return report("Wall display page (kiosk)", results, TARGETS, BASELINE, args.save_baseline)


if __name__ == "__main__":
    sys.exit(main())
