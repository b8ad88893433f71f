"""Benchmark of the spine (issue 2), on this machine, in headless Chromium.

  1. cold `ohjaustaulu demo` start to the first tile with data on a display
  2. a change in the live store to the change visible on the page (p50, p95)
  3. memory of the web process (`ohjaustaulu serve`) with 10 open displays
  4. the same with `[site] updates = "poll"` and `"push"`: latency and the web process's CPU
     per display, side by side

Prints each figure beside its target and beside the baseline run (bench/baseline.json);
`--save-baseline` makes this run the baseline. Run with `./dev bench`.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from dashboard.config import load_config  # noqa: E402
from dashboard.domain.readings import Reading  # noqa: E402
from dashboard.storage.livestore import LiveStore  # noqa: E402
from tests.browser.conftest import chrome  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG, free_port, wait_for  # noqa: E402

EXE = str(Path(sys.executable).parent / "ohjaustaulu")
BASELINE = ROOT / "bench" / "baseline.json"
DISPLAY = "vastaanotto-kaytava"
TARGETS = {
    "cold_start_to_first_tile_s": 10.0,
    "change_to_screen_p95_s": 3.0,
    "web_rss_10_displays_mb": 250.0,
}

OBSERVER_JS = """
window.__seen = window.__seen || {};
if (!window.__observer) {
  window.__observer = new MutationObserver(() => {
    const el = document.querySelector('[data-metric="queue.waiting"][data-key="bench"]');
    if (el && !(el.dataset.value in window.__seen)) window.__seen[el.dataset.value] = Date.now();
  });
  window.__observer.observe(document.body, {subtree: true, childList: true, attributes: true});
}
"""


def wait_health(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:  # type: ignore[type-arg]
    def ok() -> bool:
        if proc.poll() is not None:
            raise RuntimeError("process exited")
        with urllib.request.urlopen(url + "/health", timeout=1) as r:
            return r.status == 200

    wait_for(ok, timeout=timeout, interval=0.05, what="/health")


def config_with(updates: str, path: Path) -> Path:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace('key_prefix = "ohjaustaulu:"', f'key_prefix = "ohjaustaulu:"\nupdates = "{updates}"')
    path.write_text(text, encoding="utf-8")
    return path


def env_for(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["OHJAUSTAULU_DATA"] = str(data)
    return env


def token(data: Path, config: Path) -> str:
    """The display's token, made as IT makes one."""
    return subprocess.run([EXE, "display-token", DISPLAY, "--config", str(config)], env=env_for(data),
                          capture_output=True, text=True, check=True).stdout.strip()


def cold_start(tmp: Path, browser) -> float:  # type: ignore[no-untyped-def]
    data = tmp / "cold"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    screen_token = token(data, EXAMPLE_CONFIG)  # set up by IT beforehand, not part of the start
    t0 = time.perf_counter()
    proc = subprocess.Popen([EXE, "demo", "--port", str(port), "--config", str(EXAMPLE_CONFIG)],
                            env=env_for(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_health(url, proc)
        browser.get(f"{url}/display/{DISPLAY}?token={screen_token}")
        wait_for(lambda: browser.execute_script(
            "return document.querySelector('[data-status=\"fresh\"]') !== null"),
            timeout=30, interval=0.02, what="a fresh tile")
        return time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def latency(store: LiveStore, browser, samples: int) -> list[float]:  # type: ignore[no-untyped-def]
    browser.execute_script(OBSERVER_JS)
    out = []
    for i in range(samples):
        value = 1000 + i
        now = store.clock(load_config(EXAMPLE_CONFIG).tz).now()
        sent = time.time()
        store.write_readings("bench", [Reading("queue.waiting", "vastaanotto", "bench", value, now, "bench")],
                             {"state": "ok"})
        wait_for(lambda v=value: browser.execute_script(f"return window.__seen['{v}']"), timeout=20,
                 interval=0.02, what=f"value {value} on the page")
        seen = browser.execute_script(f"return window.__seen['{value}']") / 1000
        out.append(seen - sent)
        time.sleep(random.uniform(0.2, 1.0))  # land at random points of the update cycle
    return out


def serve_run(tmp: Path, updates: str, samples: int, cpu_seconds: float) -> dict[str, float]:
    data = tmp / f"serve-{updates}"
    cfg = config_with(updates, tmp / f"{updates}.toml")
    env = env_for(data)
    collect = subprocess.Popen([EXE, "collect", "--config", str(cfg)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the demo clock is the demo's; `collect` alone runs on real time, which is fine here
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen([EXE, "serve", "--port", str(port), "--config", str(cfg)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    drivers = []
    try:
        wait_health(url, serve)
        store = LiveStore.open(None, data, "ohjaustaulu:")
        screen_token = token(data, cfg)
        for _ in range(10):
            d = chrome()
            d.get(f"{url}/display/{DISPLAY}?token={screen_token}")
            drivers.append(d)
        for d in drivers:
            wait_for(lambda d=d: d.execute_script("return document.querySelectorAll('[data-metric]').length > 0"),
                     timeout=30, what="tiles")
        lat = latency(store, drivers[0], samples)
        proc = psutil.Process(serve.pid)
        time.sleep(3)
        c0, t0 = proc.cpu_times(), time.perf_counter()
        time.sleep(cpu_seconds)
        c1, t1 = proc.cpu_times(), time.perf_counter()
        cpu = (c1.user + c1.system - c0.user - c0.system) / (t1 - t0)
        rss = proc.memory_info().rss / 2**20
        return {
            "p50_s": statistics.median(lat),
            "p95_s": statistics.quantiles(lat, n=20)[18],
            "cpu_per_display_pct": 100 * cpu / 10,
            "rss_mb": rss,
        }
    finally:
        for d in drivers:
            d.quit()
        for p in (serve, collect):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"{p.args[1]} did not stop within 20 s of SIGTERM; killed", file=sys.stderr)
                p.kill()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--cpu-seconds", type=float, default=30)
    ap.add_argument("--save-baseline", action="store_true")
    args, _ = ap.parse_known_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        browser = chrome()
        try:
            results["cold_start_to_first_tile_s"] = cold_start(tmp, browser)
        finally:
            browser.quit()
        for mode in ("poll", "push"):
            r = serve_run(tmp, mode, args.samples, args.cpu_seconds)
            for k, v in r.items():
                results[f"{mode}_{k}"] = v
    chosen = load_config(EXAMPLE_CONFIG).site.updates
    results["change_to_screen_p95_s"] = results[f"{chosen}_p95_s"]
    results["web_rss_10_displays_mb"] = results[f"{chosen}_rss_mb"]

    title = f"Spine benchmark ({platform.node()}, {psutil.cpu_count()} cores, updates = {chosen!r})"
    return report(title, results, TARGETS, BASELINE, args.save_baseline)

if __name__ == "__main__":
    sys.exit(main())
