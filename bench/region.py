"""Benchmark of the regional picture (issue 16): a wellbeing area of 25 sites, 200 units and
500 screens in one installation, beside the demo's three-site area.

The area is generated: 25 sites of 8 units each (their simulated days are the demo's own
units', collectors/demo/simulator.py `spec_of`), 20 displays per site (three screens in
each corridor of two units, three in each waiting room of four units, two whole-site staff
displays) and a region display of every site: 501 displays. The demo's feeds (queues, call-backs,
staffing, appointments, flow) poll every unit once into an embedded live store of a
temporary folder, at 10.30 of a working day (time-machine), and then, in this process:

  1. region_model_ms: the region display's read model built (dashboard/readmodel.build: every
     tile of 200 units, their freshness, the escalation of every unit and the roll-up of every
     site) — median and p95 of 30 builds; target ≤ 50 ms (median);
  2. region_render_ms: that model drawn as the page's components (layouts/components.board,
     the Dash JSON every screen of it gets once per change) — median;
  3. site_model_ms: one site's own staff display's model, for comparison — median;
  4. config_load_ms: the area's configuration parsed and validated (every command does it);
  5. history_quarter_{sqlite,postgresql}_ms: the regional history of a quarter (91 days) for
     the whole area (dashboard/regionhistory.rows: a row per site from 200 units' daily
     rollups, queues of two keys, staff of three professions, arrivals, escalation levels
     and call-backs: 237,000 rollup rows, written straight into the table) — median of
     5; target ≤ 1 s. PostgreSQL in a schema of its own (`bench_<random>`, dropped at the
     end; OHJAUSTAULU_BENCH_DATABASE_URL overrides the URL; skipped when none answers).

Each figure also for the demo's own area (3 sites, 8 units) as the `demo_*` rows: today's
scale beside the area's. Update latency at 500 screens with two web workers is
bench/displays.py's (`--config`).

`--save-baseline` makes this run the baseline (bench/baseline-region.json). Run with
`./dev bench` or `python bench/region.py`.
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
from dashboard.domain.readmodel import build  # noqa: E402
from dashboard.storage import embedded  # noqa: E402
from dashboard.storage.livestore import LiveStore  # noqa: E402
from layouts.components import board  # noqa: E402

TZ = ZoneInfo("Europe/Helsinki")
AT = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)  # a Tuesday morning
TARGETS = {"region_model_ms": 50.0, "history_quarter_sqlite_ms": 1000.0, "history_quarter_postgresql_ms": 1000.0}
SITES, UNITS_PER_SITE = 25, 8
FEEDS = ("queue", "callback", "staffing", "appointments", "flow")


def area_config(sites: int = SITES, per_site: int = UNITS_PER_SITE) -> str:
    """The generated area: `sites` sites of `per_site` units, 20 displays per site and a
    region display (501 at the defaults)."""
    out = ['[site]\nname = "Benchmark-alue"\n']
    units: list[str] = []
    for s in range(sites):
        out.append(f'[[sites]]\ncode = "s{s:02d}"\nname = "Sote-keskus {s + 1}"\nname_sv = "Centralen {s + 1}"\n')
    for s in range(sites):
        for u in range(per_site):
            code = f"s{s:02d}_u{u}"
            units.append(code)
            out.append(f'[[units]]\ncode = "{code}"\nsite = "s{s:02d}"\nname = "Yksikkö {s + 1}.{u + 1}"\n'
                       f'name_sv = "Enhet {s + 1}.{u + 1}"\n')
    for s in range(sites):
        mine = [f"s{s:02d}_u{u}" for u in range(per_site)]
        displays = [(f"s{s:02d}-koko", mine, "staff", '["queues", "capacity", "flow"]'),
                    (f"s{s:02d}-kanslia", mine, "staff", '["capacity"]')]
        for i in range(0, per_site, 2):  # corridors: two units each
            for copy in range(3):
                displays.append((f"s{s:02d}-kaytava{i // 2}-{copy}", mine[i:i + 2], "staff", '["overview"]'))
        for i in range(0, per_site, 4):  # waiting rooms: four units each
            for copy in range(3):
                displays.append((f"s{s:02d}-aula{i // 4}-{copy}", mine[i:i + 4], "public", '["queues"]'))
        for d, us, mode, pages in displays:
            out.append(f'[[displays]]\nid = "{d}"\ntitle = "{d}"\nunits = {us!r}\nmode = "{mode}"\npages = {pages}\n'
                       .replace("'", '"'))
    out.append(f'[[displays]]\nid = "alue"\ntitle = "Alue"\nsites = {[f"s{s:02d}" for s in range(sites)]!r}\n'
               'pages = ["region"]\n'.replace("'", '"'))
    for feed in FEEDS:
        out.append(f'[[sources]]\nname = "demo-{feed}"\nkind = "demo"\nfeed = "{feed}"\npoll_seconds = 600\n'
                   f'units = {units!r}\n'.replace("'", '"'))
    for level, above in ((2, 30), (3, 60)):
        out.append(f'[[escalation.rules]]\nmetric = "queue.longest_wait_min"\nabove = {above}\nlevel = {level}\n')
    out.append('[[escalation.rules]]\nmetric = "staff.present_ratio"\nbelow = 0.8\nlevel = 2\n')
    return "\n".join(out)


def timed(fn, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(config: Config, region: str, site_display: str, text: str, data_dir: Path) -> dict[str, float]:
    store = LiveStore.open(None, data_dir, "bench-region:")
    try:
        with time_machine.travel(AT, tick=False):
            for source in config.sources:
                if source.kind == "demo" and source.feed in FEEDS:
                    result = poll(DemoCollector(source, TZ), store, config)
                    assert result.ok, result
            d = config.display(region)
            model = build(config, d, store, None)
            assert len(model.data["region"]) == len(config.area), "a row per site"
            builds = timed(lambda: build(config, d, store, None), 30)
            renders = timed(lambda: board(config, d, model.data), 10)
            own = config.display(site_display)
            sites = timed(lambda: build(config, own, store, None), 30)
        loads = timed(lambda: parse_config(text, "area.toml"), 5)
        return {
            "region_model_ms": statistics.median(builds),
            "region_model_p95_ms": sorted(builds)[int(len(builds) * 0.95) - 1],
            "region_render_ms": statistics.median(renders),
            "site_model_ms": statistics.median(sites),
            "config_load_ms": statistics.median(loads),
            "tiles": float(len(model.data["tiles"])),
        }
    finally:
        store.delete_everything()
        embedded.stop(data_dir)


def history_quarter(config: Config, folder: Path, db: str) -> float | None:
    """The regional history of a quarter over the whole area, median of 5 (ms); None when
    PostgreSQL does not answer."""
    import json
    import os
    import random
    import uuid
    from datetime import timedelta

    from sqlalchemy import insert, text

    from dashboard.storage import regionhistory
    from dashboard.storage.history import History
    from dashboard.storage.tables import DailyRollup

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = os.environ.get("OHJAUSTAULU_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        history = History.open(None, folder) if db == "sqlite" else History.open(url, folder, schema)
    except Exception as err:  # noqa: BLE001 — no PostgreSQL here: say so and go on
        print(f"  {db}: skipped ({type(err).__name__})")
        return None
    try:
        end = AT.date() - timedelta(days=1)
        start = end - timedelta(days=90)
        series = [("queue.waiting", k) for k in ("hoitaja", "lääkäri")] + \
                 [("queue.longest_wait_min", k) for k in ("hoitaja", "lääkäri")] + \
                 [(m, k) for m in ("staff.present", "staff.planned") for k in ("lääkäri", "sairaanhoitaja", "terveydenhoitaja")] + \
                 [("flow.arrivals_today", ""), ("escalation.level", ""), ("callback.pending", "")]
        rnd = random.Random(16)
        rows = []
        day = start
        while day <= end:
            at = datetime.combine(day, datetime.min.time(), tzinfo=TZ)
            for u in config.units:
                for metric, key in series:
                    v = rnd.randint(0, 40)
                    rows.append({"metric": metric, "unit": u.code, "key": key, "day": day, "day_start": at,
                                 "last": json.dumps(v), "mean": v, "min": 0, "max": v, "covered_seconds": 86400,
                                 "samples": 10, "open_mean": v, "open_max": v, "at_close": json.dumps(v % 3),
                                 "open_seconds": 28800, "bound": None})
            day += timedelta(days=1)
        with history.engine.begin() as conn:
            for i in range(0, len(rows), 20_000):
                conn.execute(insert(DailyRollup), rows[i:i + 20_000])
        if db == "postgresql":
            with history.engine.begin() as conn:
                conn.execute(text(f'ANALYZE "{schema}".daily_rollups'))
        units = [u.code for u in config.units]
        found = regionhistory.rows(history, config, units, start, end, AT.date())
        assert len(found) == len(config.area) and all(r["days"] == 91 for r in found), found[0]
        times = timed(lambda: regionhistory.rows(history, config, units, start, end, AT.date()), 5)
        print(f"  {db}: {len(rows):,} daily rollup rows")
        return statistics.median(times)
    finally:
        if db == "postgresql":
            with history.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        history.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save-baseline", action="store_true")
    args = parser.parse_args()
    text = area_config()
    config = parse_config(text, "area.toml")
    print(f"area: {len(config.area)} sites, {len(config.units)} units, {len(config.displays)} displays", flush=True)
    demo_text = (ROOT / "config" / "ohjaustaulu.toml").read_text(encoding="utf-8")
    demo = parse_config(demo_text, "ohjaustaulu.toml")
    with tempfile.TemporaryDirectory(prefix="bench-region-") as tmp:
        results = measure(config, "alue", "s00-koko", text, Path(tmp) / "area")
        today = measure(demo, "alue", "johto", demo_text, Path(tmp) / "demo")
        for db in ("sqlite", "postgresql"):
            ms = history_quarter(config, Path(tmp) / f"history-{db}", db)
            if ms is not None:
                results[f"history_quarter_{db}_ms"] = ms
    results.update({f"demo_{k}": v for k, v in today.items()})
    return report(f"Regional picture: {len(config.area)} sites, {len(config.units)} units, "
                  f"{len(config.displays)} displays (demo_: the demo's {len(demo.area)} sites, {len(demo.units)} units)",
                  results, TARGETS, ROOT / "bench" / "baseline-region.json", args.save_baseline)


if __name__ == "__main__":
    raise SystemExit(main())
