"""Benchmark of the centre's own metrics (issue 17): a corridor display of two units as the
example has it today, beside the same display with fifty configured metrics on a page of its
own (forty entered — thirty of the unit alone, ten keyed by a label of three values — and ten
derived from them, on five cards), every one of them with a value.

The demo's feeds poll both units into an embedded live store of a temporary folder at 10.30
of a working day (time-machine), the fifty metrics are written as a feed's would be, and
then, in this process, for each configuration:

  1. model_build_ms: the display's read model built afresh (dashboard/readmodel.build: every
     tile, the derived values, the limits, freshness, escalation) — median of 60;
  2. board_render_ms: that model drawn as the page's components (layouts/components.board) —
     median of 20;
  3. unchanged_poll_cpu_us: the server's CPU for one poll of a screen whose board has not
     changed (the model from the cache, its etag compared: what layouts/display.py
     fresh_board does before answering "nothing new") — mean of 5,000, process CPU time.

A display of fifty more figures has more tiles to make (201 against 61): its build is
compared per tile. `*_ratio` is fifty metrics against today's display, side by side in the
same run; target ≤ 1.2 for the model build per tile, the unchanged poll, and today's display
in a configuration that defines the fifty for other displays (`defined_elsewhere_*`: what
the centre's own metrics cost a display that does not show them). `--save-baseline` makes this run the
baseline (bench/baseline-ownmetrics.json). Run with `./dev bench` or
`python bench/ownmetrics.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import time_machine  # noqa: E402

from bench.report import report  # noqa: E402
from collectors.base import poll  # noqa: E402
from collectors.demo.feeds import DemoCollector  # noqa: E402
from dashboard.config import Config, parse_config  # noqa: E402
from dashboard.domain.readings import Reading  # noqa: E402
from dashboard.domain.readmodel import ModelCache, build  # noqa: E402
from dashboard.storage import embedded  # noqa: E402
from dashboard.storage.livestore import LiveStore  # noqa: E402
from layouts.components import board  # noqa: E402

TZ = ZoneInfo("Europe/Helsinki")
AT = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)  # a Tuesday morning
UNITS = ("vastaanotto", "laboratorio")
FEEDS = ("queue", "callback", "staffing", "appointments", "flow")
TARGETS = {"model_build_per_tile_ratio": 1.2, "unchanged_poll_ratio": 1.2, "defined_elsewhere_build_ratio": 1.2,
           "defined_elsewhere_poll_ratio": 1.2}
LABELS = ("a", "b", "c")


def today_config() -> str:
    out = ['[site]\nname = "Benchmark"\n']
    for code in UNITS:
        out.append(f'[[units]]\ncode = "{code}"\nname = "{code.title()}"\nname_sv = "{code.title()}"\n')
    out.append(f'[[displays]]\nid = "kaytava"\ntitle = "Käytävä"\nunits = {list(UNITS)!r}\npages = ["overview"]\n'
               .replace("'", '"'))
    for feed in FEEDS:
        out.append(f'[[sources]]\nname = "demo-{feed}"\nkind = "demo"\nfeed = "{feed}"\npoll_seconds = 600\n'
                   f'units = {list(UNITS)!r}\n'.replace("'", '"'))
    out.append('[[sources]]\nname = "omat"\nkind = "metrics"\naddress = "http://127.0.0.1:9/rows.csv"\n'
               'poll_seconds = 600\n')
    out.append('[[escalation.rules]]\nmetric = "queue.longest_wait_min"\nabove = 30\nlevel = 2\n')
    return "\n".join(out)


def own_metrics() -> tuple[str, list[tuple[str, str]]]:
    """Fifty metrics on five cards and a page, and the (metric, key) pairs that take values."""
    out: list[str] = []
    entered: list[tuple[str, str]] = []
    for i in range(30):
        kind = 'kind = "count"' if i % 3 == 0 else ""
        out.append(f'[[metrics]]\nid = "own.m{i:02d}"\nname = "Mittari {i}"\nname_sv = "Mätare {i}"\n'
                   f'card = "c{i // 10}"\n{kind}\n')
        entered.append((f"own.m{i:02d}", ""))
    for i in range(30, 40):
        out.append(f'[[metrics]]\nid = "own.m{i:02d}"\nname = "Mittari {i}"\nname_sv = "Mätare {i}"\n'
                   f'keyed_by = "label"\ncard = "c3"\n')
        entered += [(f"own.m{i:02d}", k) for k in LABELS]
    for i in range(40, 50):
        a, b = f"own.m{(i - 40) * 2:02d}", f"own.m{(i - 40) * 2 + 1:02d}"
        limit = 'good = "up"\nlimits = [{ from = 2024-01-01, value = 0.5 }]\n' if i % 2 else ""
        out.append(f'[[metrics]]\nid = "own.m{i:02d}"\nname = "Laskettu {i}"\nname_sv = "Beräknad {i}"\n'
                   f'kind = "ratio"\ndecimals = 2\nderived = "{a} / ({b} + 1)"\ncard = "c4"\n{limit}')
    for c in range(5):
        out.append(f'[[cards]]\nid = "c{c}"\nname = "Kortti {c}"\nname_sv = "Kort {c}"\n')
    out.append('[[pages]]\nid = "omat"\ncards = ["c0", "c1", "c2", "c3", "c4"]\n')
    return "\n".join(out), entered


def timed(fn, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(config: Config, store: LiveStore) -> dict[str, float]:
    d = config.display("kaytava")
    model = build(config, d, store, None)
    builds = timed(lambda: build(config, d, store, None), 60)
    renders = timed(lambda: board(config, d, model.data), 20)
    cache = ModelCache(config, store, None)
    etag = cache.get(d.id).etag
    n = 5000
    cpu0 = time.process_time()
    for _ in range(n):
        if cache.get(d.id).etag != etag:
            raise AssertionError("the board changed while nothing did")
    cpu = (time.process_time() - cpu0) / n * 1e6
    return {"model_build_ms": statistics.median(builds), "board_render_ms": statistics.median(renders),
            "unchanged_poll_cpu_us": cpu, "tiles": float(len(model.data["tiles"]))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save-baseline", action="store_true")
    args = parser.parse_args()
    text = today_config()
    own, entered = own_metrics()
    today = parse_config(text, "today.toml")
    fifty = parse_config(text.replace('pages = ["overview"]', 'pages = ["overview", "omat"]') + "\n" + own,
                         "fifty.toml")
    # the fifty on another display of their own: today's corridor display shows none of them
    elsewhere = parse_config(text + "\n" + own + '\n[[displays]]\nid = "omat"\ntitle = "Omat"\n'
                             f'units = {list(UNITS)!r}\npages = ["omat"]\n'.replace("'", '"'), "elsewhere.toml")
    assert len(fifty.own_metrics()) == 50
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        store = LiveStore.open(None, data, "bench-own:")
        try:
            with time_machine.travel(AT, tick=False):
                for source in today.sources:
                    if source.kind == "demo":
                        assert poll(DemoCollector(source, TZ), store, today).ok
                store.write_readings("omat", [Reading(m, u, k, 3 + i % 17, AT, "omat")
                                              for u in UNITS for i, (m, k) in enumerate(entered)], {"state": "ok"})
                base = measure(today, store)
                with_own = measure(fifty, store)
                beside = measure(elsewhere, store)
        finally:
            store.delete_everything()
            embedded.stop(data)
    assert with_own["tiles"] - base["tiles"] >= 2 * 50, (base, with_own)  # every own metric has a tile
    assert beside["tiles"] == base["tiles"], (base, beside)
    results = {f"today_{k}": v for k, v in base.items()} | {f"fifty_{k}": v for k, v in with_own.items()} | {
        "model_build_ratio": with_own["model_build_ms"] / base["model_build_ms"],
        "model_build_per_tile_ratio": (with_own["model_build_ms"] / with_own["tiles"])
        / (base["model_build_ms"] / base["tiles"]),
        "board_render_ratio": with_own["board_render_ms"] / base["board_render_ms"],
        "unchanged_poll_ratio": with_own["unchanged_poll_cpu_us"] / base["unchanged_poll_cpu_us"],
        "defined_elsewhere_build_ratio": beside["model_build_ms"] / base["model_build_ms"],
        "defined_elsewhere_poll_ratio": beside["unchanged_poll_cpu_us"] / base["unchanged_poll_cpu_us"],
    }
    return report("Own metrics: fifty configured metrics on a display, beside today's", results, TARGETS,
                  ROOT / "bench" / "baseline-ownmetrics.json", args.save_baseline)


if __name__ == "__main__":
    sys.exit(main())
