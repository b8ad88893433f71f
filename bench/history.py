"""Benchmark of the history (rollups, history page queries, CSV export) on two years of a
large health centre, on SQLite (a temporary file) and PostgreSQL (a schema of its own,
`bench_<random>`, dropped at the end; OHJAUSTAULU_BENCH_DATABASE_URL overrides the URL).

Data: two years (2.12.2024–29.11.2026) of synthetic readings for 30 units from a seeded
RNG, changing only on working days: queues (length every 15 min, waits every 30 min)
during opening hours 8–16, the call-back backlog, staff planned/present per profession,
free appointments and T3, rooms in use, and the day's flow (arrivals, completed and no-shows
as counters, arrivals per hour as a series) every 15 minutes. A value is recorded only when
it changed, as the collectors do.

Load: the raw changes are bulk-inserted (COPY on PostgreSQL, executemany on SQLite) and the
rollups computed by `dashboard.storage.rollups.rebuild()` — the code that builds them for an
existing database; `History.record()` runs the same row computation per series-day, and its
cost per live batch is measured separately. The two databases load at the same time, one
process each, so each load time is that of a shared machine (an upper bound).

Measured, each 20 times after a warm-up, p95:
  1. one unit's two-year daily view (`series`, grain day, all 16 metrics): target ≤ 0.3 s
  2. all 30 units' 90-day hourly view of the queue lengths (`series`, grain hour,
     queue.waiting — one chart of the history page): target ≤ 1 s
  3. a one-year CSV export, the hourly rows of one unit and all its metrics (`series` +
     `to_csv`, Finnish): target ≤ 2 s
  4. (no target) `History.record()` of a live batch (300 changes, 10 series of each unit),
     the arrivals heatmap and the compliance figures of a year for all units; and, 5 times,
     the one-year CSV of the daily rows of all 30 units (about twice the rows of 3)

Prints the figures beside the targets and the baseline (bench/baseline-history.json);
`--save-baseline` makes this run the baseline. Run with `./dev bench`.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from bench.report import report  # noqa: E402
from dashboard.domain.clock import is_working_day  # noqa: E402
from dashboard.domain.metrics import CATALOGUE  # noqa: E402
from dashboard.domain.readings import Reading  # noqa: E402
from dashboard.export import to_csv  # noqa: E402
from dashboard.storage.history import History, make_engine  # noqa: E402
from dashboard.storage.rollups import (  # noqa: E402
    _bulk_insert,
    arrivals_heatmap,
    compliance,
    rebuild,
    series,
)
from dashboard.storage.tables import DailyRollup, HourlyRollup, ReadingChange  # noqa: E402

BASELINE = ROOT / "bench" / "baseline-history.json"
TZ = ZoneInfo("Europe/Helsinki")
FIRST, LAST = date(2024, 12, 2), date(2026, 11, 29)
UNITS = [f"yks{i:02d}" for i in range(1, 31)]
METRICS = list(CATALOGUE)
REPEAT = 20
SEED = 20261123
TARGETS = {f"{name}_{db}_s": target for db in ("sqlite", "postgresql") for name, target in
           (("unit_2y_daily", 0.3), ("units_90d_hourly", 1.0), ("csv_1y_hourly_one_unit", 2.0))}
RAW_COLUMNS = ("event_id", "source", "metric", "unit", "key", "value", "observed_at",
               "recorded_at", "manual", "entered_by", "valid_until")

Row = tuple[Any, ...]


def generate_unit(index: int) -> list[Row]:
    """Two years of one unit's changes, as rows of reading_changes (RAW_COLUMNS)."""
    rng = random.Random(SEED * 100 + index)
    unit = UNITS[index]
    size = 0.6 + 0.15 * (index % 10)  # units from small to large
    queues = ["ajanvaraus"] + (["päivystys"] if index % 2 == 0 else [])
    professions = ["lääkäri", "sairaanhoitaja"] + (["fysioterapeutti"] if index % 3 == 0 else [])
    resources = ["huoneet"] + (["laitteet"] if index % 2 else [])
    rows: list[Row] = []
    last: dict[tuple[str, str], Any] = {}
    recorded = datetime(2026, 11, 30, tzinfo=UTC)

    def emit(metric: str, key: str, value: Any, when: datetime) -> None:
        if last.get((metric, key)) == value:
            return
        last[(metric, key)] = value
        rows.append((None, "bench", metric, unit, key, json.dumps(value, separators=(",", ":")),
                     when.astimezone(UTC), recorded, 0, None, None))

    day = FIRST
    while day <= LAST:
        if not is_working_day(day):
            day += timedelta(days=1)
            continue
        season = 1.25 if day.month in (1, 2, 12) else 0.85 if day.month in (6, 7) else 1.0
        load = size * season * (1.2 if day.weekday() == 0 else 1.0)
        base = datetime(day.year, day.month, day.day, tzinfo=TZ)

        def at(hour: float, jitter: int = 0, base: datetime = base) -> datetime:
            return base + timedelta(minutes=round(hour * 60) + (rng.randint(0, jitter) if jitter else 0))

        def busy(hour: float) -> float:  # morning peak, lunch dip
            return max(0.1, math.exp(-((hour - 9.5) ** 2) / 3) + 0.5 * math.exp(-((hour - 13.5) ** 2) / 2))

        emit("flow.arrivals_today", "", 0, at(7))
        emit("flow.completed_today", "", 0, at(7))
        emit("flow.no_shows_today", "", 0, at(7))
        for p in professions:
            planned = max(1, round(load * (4 if p == "sairaanhoitaja" else 3)))
            emit("staff.planned", p, planned, at(7.5, 5))
            present = planned - (rng.random() < 0.3)
            emit("staff.present", p, present, at(7.75, 10))
            emit("staff.present", p, present - (rng.random() < 0.5), at(12, 30))
            emit("staff.present", p, max(0, present - 1 - (rng.random() < 0.5)), at(15.25, 30))
            emit("appointments.t3_days", p, rng.choice([1, 1.5, 2, 2.5, 3, 3, 3.5, 4, 5]), at(7, 10))
            free = round(load * rng.uniform(4, 12))
            for hour in range(8, 16):
                free = max(0, free - rng.randint(0, 2))
                emit("appointments.free_today", p, free, at(hour, 14))
            for hour in (8, 12, 15):
                emit("appointments.free_3wd", p, round(load * rng.uniform(10, 40)), at(hour, 20))
        for r in resources:
            total = 6 if r == "huoneet" else 3
            emit("capacity.total", r, total, at(7, 10))
            for half in range(16, 33):
                emit("capacity.in_use", r, min(total, rng.randint(0, total)), at(half / 2, 10))
            emit("capacity.in_use", r, 0, at(16.5, 10))
        arrivals = completed = no_shows = 0
        per_hour: dict[str, int] = {}
        pending = 0
        for quarter in range(32, 65):  # 08:00 … 16:00
            hour = quarter / 4
            when = at(hour, 14)
            if quarter < 64:
                for i, q in enumerate(queues):
                    waiting = max(0, round(rng.gauss(load * busy(hour) * (6 - 3 * i), 1.5)))
                    emit("queue.waiting", q, waiting, when)
                    if quarter % 2 == 0:
                        emit("queue.longest_wait_min", q, waiting * rng.randint(4, 9), when)
                        emit("queue.avg_wait_min", q, round(waiting * rng.uniform(2, 5), 1), when)
                new = rng.randint(0, max(1, round(load * busy(hour) * 5)))
                arrivals += new
                completed = min(arrivals, completed + rng.randint(0, new + 1))
                hh = f"{int(hour):02d}"
                per_hour[hh] = per_hour.get(hh, 0) + new
                emit("flow.arrivals_today", "", arrivals, when)
                emit("flow.completed_today", "", completed, when)
                emit("flow.arrivals_by_hour", "", dict(per_hour), when)
                if quarter % 4 == 0:
                    no_shows += rng.random() < 0.3
                    emit("flow.no_shows_today", "", no_shows, when)
                if quarter % 2 == 0:
                    cleared = quarter >= 62 and rng.random() < 0.85
                    pending = 0 if cleared else max(0, pending + rng.randint(-3, 5))
                    emit("callback.pending", "", pending, when)
                    emit("callback.oldest_min", "", 0 if not pending else rng.randint(5, 240), when)
            else:  # closing: queues empty
                for q in queues:
                    emit("queue.waiting", q, 0, when)
                    emit("queue.longest_wait_min", q, 0, when)
                    emit("queue.avg_wait_min", q, 0, when)
                emit("flow.completed_today", "", arrivals - no_shows, when)
        day += timedelta(days=1)
    return rows


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def timed(fn: Callable[[int], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    fn(repeat)  # warm-up, not counted
    samples = []
    out = None
    for i in range(repeat):
        t0 = time.perf_counter()
        out = fn(i)
        samples.append(time.perf_counter() - t0)
    return p95(samples), out


def load(history: History, units_rows: list[list[Row]]) -> tuple[float, float]:
    t0 = time.perf_counter()
    with history.engine.begin() as conn:
        bind = None
        if conn.dialect.name == "sqlite":  # instants as SQLAlchemy stores them there (text)
            bind = ReadingChange.__table__.c.observed_at.type.dialect_impl(
                conn.dialect).bind_processor(conn.dialect)
        for rows in units_rows:
            if bind is not None:
                recorded = bind(rows[0][7])
                rows = [(*r[:6], bind(r[6]), recorded, *r[8:]) for r in rows]
            _bulk_insert(conn, "reading_changes", RAW_COLUMNS, rows)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rebuild(history, TZ)
    return raw_s, time.perf_counter() - t0


def measure(history: History, db: str, results: dict[str, float]) -> None:
    year = (LAST - timedelta(days=364), LAST)
    s, rows = timed(lambda i: series(history, TZ, METRICS, [UNITS[i % len(UNITS)]], FIRST, LAST,
                                     "day"))
    results[f"unit_2y_daily_{db}_s"] = s
    results["unit_2y_daily_rows"] = len(rows)
    s, rows = timed(lambda i: series(history, TZ, ["queue.waiting"], UNITS,
                                     LAST - timedelta(days=89), LAST, "hour"))
    results[f"units_90d_hourly_{db}_s"] = s
    results["units_90d_hourly_rows"] = len(rows)
    exported: list[int] = []

    def hourly_csv(i: int) -> bytes:
        rows = series(history, TZ, METRICS, [UNITS[i % len(UNITS)]], *year, "hour")
        exported.append(len(rows))
        return to_csv(rows, "fi")

    s, data = timed(hourly_csv)
    results[f"csv_1y_hourly_one_unit_{db}_s"] = s
    results["csv_1y_hourly_one_unit_rows"] = max(exported)
    results["csv_1y_hourly_one_unit_mb"] = len(data) / 1e6
    exported.clear()

    def daily_csv(i: int) -> bytes:
        rows = series(history, TZ, METRICS, UNITS, *year, "day")
        exported.append(len(rows))
        return to_csv(rows, "fi")

    s, data = timed(daily_csv, repeat=5)
    results[f"csv_1y_daily_all_units_{db}_s"] = s
    results["csv_1y_daily_all_units_rows"] = max(exported)
    results["csv_1y_daily_all_units_mb"] = len(data) / 1e6
    s, _ = timed(lambda i: arrivals_heatmap(history, TZ, UNITS, *year))
    results[f"heatmap_1y_all_units_{db}_s"] = s
    s, _ = timed(lambda i: compliance(history, TZ, UNITS, *year))
    results[f"compliance_1y_all_units_{db}_s"] = s

    def live_batch(i: int) -> int:  # 10 changes per unit, the day after the data, minute i
        when = datetime(2026, 11, 30, 8, tzinfo=TZ) + timedelta(minutes=i + 1)
        batch = [(f"live:{db}:{i}:{u}:{k}", Reading(m, u, k, i + n, when, "bench"))
                 for u in UNITS for n, (m, k) in enumerate([
                     ("queue.waiting", "ajanvaraus"), ("queue.longest_wait_min", "ajanvaraus"),
                     ("queue.avg_wait_min", "ajanvaraus"), ("callback.pending", ""),
                     ("callback.oldest_min", ""), ("flow.arrivals_today", ""),
                     ("flow.completed_today", ""), ("staff.present", "lääkäri"),
                     ("capacity.in_use", "huoneet"), ("appointments.free_today", "lääkäri")])]
        return history.record(batch)

    results[f"record_batch_300_{db}_s"], _ = timed(live_batch)


def counts(history: History, results: dict[str, float]) -> None:
    with history.engine.connect() as conn:
        for name, table in (("raw", ReadingChange), ("hourly", HourlyRollup), ("daily", DailyRollup)):
            results[f"{name}_rows"] = conn.execute(select(func.count()).select_from(table)).scalar() or 0


def load_child(db: str, url: str, schema: str, folder: str, out: Any) -> None:
    """Load one database in a process of its own (the data come from the parent, forked)."""
    history = (History.open(None, Path(folder)) if db == "sqlite"
               else History.open(url, Path(folder), schema))
    try:
        out.put((db, *load(history, DATA)))
    except BaseException as err:
        out.put((db, repr(err), 0.0))
        raise
    finally:
        history.engine.dispose()


DATA: list[list[Row]] = []


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-baseline", action="store_true")
    ap.add_argument("--units", type=int, default=len(UNITS), help="fewer units for a quick look")
    args, _ = ap.parse_known_args()
    del UNITS[args.units:]
    url = os.environ.get("OHJAUSTAULU_BENCH_DATABASE_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    results: dict[str, float] = {}
    t0 = time.perf_counter()
    DATA.extend(generate_unit(i) for i in range(len(UNITS)))
    results["generate_s"] = time.perf_counter() - t0
    print(f"generated {sum(map(len, DATA)):,} changes in {results['generate_s']:.1f} s; loading "
          "SQLite and PostgreSQL side by side", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            # the two loads run at once (one process each, the data forked to both), so
            # their times are those of a shared 2-core machine: an upper bound
            ctx = multiprocessing.get_context("fork")
            queue = ctx.Queue()
            t0 = time.perf_counter()
            children = [ctx.Process(target=load_child, args=(db, url, schema, tmp, queue))
                        for db in ("sqlite", "postgresql")]
            for child in children:
                child.start()
            loaded = [queue.get() for _ in children]
            for child in children:
                child.join()
            results["load_both_wall_s"] = time.perf_counter() - t0
            DATA.clear()
            for db, raw_s, rebuild_s in loaded:
                if isinstance(raw_s, str):
                    raise SystemExit(f"{db} did not load: {raw_s}")
                results[f"load_raw_{db}_s"], results[f"rebuild_{db}_s"] = raw_s, rebuild_s
            for db in ("sqlite", "postgresql"):
                history = (History.open(None, Path(tmp)) if db == "sqlite"
                           else History.open(url, Path(tmp), schema))
                try:
                    counts(history, results)
                    print(f"{db}: raw {results[f'load_raw_{db}_s']:.1f} s, rollups "
                          f"{results[f'rebuild_{db}_s']:.1f} s ({results['raw_rows']:,.0f} raw, "
                          f"{results['hourly_rows']:,.0f} hourly, {results['daily_rows']:,.0f} "
                          "daily rows); measuring", flush=True)
                    measure(history, db, results)
                finally:
                    history.engine.dispose()
        finally:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    return report("History benchmark (rollups, queries, export)", results, TARGETS, BASELINE,
                  args.save_baseline)


if __name__ == "__main__":
    sys.exit(main())
