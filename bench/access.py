"""Benchmark of access to care (issue 15): two years of cases for 30 units (about 1.5 million
cases), the access page's figures and the nightly refit of the forecasts, on SQLite (a
temporary file) and PostgreSQL (a schema of its own, `bench_<random>`, dropped at the end;
OHJAUSTAULU_BENCH_DATABASE_URL overrides the URL).

Data: from a seeded RNG, the same for the same `--today` and `--scale`. Two years of working
days ending today; 30 units of sizes 0.5–1.5, each with one service of the shipped rules
(config/ohjaustaulu.toml `[[access.rules]]`) and every third unit a second one (a fifth of
its cases); about 100 contacts per unit and working day, more on Mondays and in the flu
season, fewer on Fridays and in July. Each case: contact on a working day; assessment 0–5
working days later (70 % the same day); social services a decision 1–14 days after that; the
start of treatment or service on a working day a lognormal number of days after the
assessment (or decision) — medians of 6 days in primary care, 25 in oral health, 12 in mental
health, 14 in social services, slower in the summer and at the turn of the year, a long tail
past the limits; about 10 % urgent (assessed the same day, started within a working day);
ages in all four groups (2 % unknown); a date after today is not reached yet, so about 3 % of
the cases are open (the recent ones, and 0.3 % never started). Written in the order a source
reports them: by contact day, the units of a day together.

Load: the product path is `write_cases` (dashboard/domain/accessfigures.py) in batches of 10,000;
its rate into empty tables is measured on the first `--sample` cases. If at that rate all the
cases would take longer than `--max-write-s`, the rest are BULK-INSERTED (COPY on PostgreSQL,
one executemany on SQLite) from the very rows `write_cases` stores (`_case_row`,
`_judgement_rows`), the access page's counts are made again from them (`recount`, what an
upgrade or a change of rules does), and the output says so. After the load PostgreSQL gets VACUUM (ANALYZE),
what autovacuum does after a big load; SQLite is left as the product leaves it (no ANALYZE).

Measured, after a warm-up, on each database:
  1. the access page for one unit and a year (`view`, by month; the unit changes each run),
     `--repeat` times: target p95 ≤ 0.5 s
  2. the access page for all units and a quarter (`view`, by week), `--repeat` times:
     target p95 ≤ 1 s
  3. the nightly refit of every forecast (`refit_forecasts`: the 30 units and all units
     together), `--refits` times: target ≤ 60 s (the slowest run)
  4. (no target) the nightly compaction of the counts after 5. (`compact_counts`), in s
  5. (no target) the rates of `write_cases` in cases/s: into empty tables (`fresh`), for
     the whole load when it went that way (`load`), and, after the measurements, a batch of
     10,000 into the full tables (`full`: half of them open cases reported again with a
     start, half new).

Prints the figures beside the targets and the baseline (bench/baseline-access.json) with the
ratio; `--save-baseline` (at full scale only) makes this run the baseline. A missed target is
reported, not failed: the exit status is non-zero only on an error. `--scale 0.1` for a quick
look (a tenth of the cases). Run with `./dev bench` or `python bench/access.py`.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Date, func, select, text  # noqa: E402

from bench.report import report  # noqa: E402
from dashboard.config import load_config  # noqa: E402
from dashboard.domain import accessfigures  # noqa: E402
from dashboard.domain.accessfigures import refit_forecasts, view, write_cases  # noqa: E402
from dashboard.domain.carecases import Case, RuleVersion, case_key  # noqa: E402
from dashboard.domain.clock import is_working_day  # noqa: E402
from dashboard.storage.history import History, make_engine  # noqa: E402
from dashboard.storage.rollups import _bulk_insert  # noqa: E402
from dashboard.storage.tables import (  # noqa: E402
    AccessCase,
    AccessClosedCount,
    AccessJudgement,
    AccessStartCount,
    UtcDateTime,
)

BASELINE = ROOT / "bench" / "baseline-access.json"
CONFIG = ROOT / "config" / "ohjaustaulu.toml"
UNITS = [f"yks{i:02d}" for i in range(1, 31)]
TOTAL = 1_500_000  # cases at scale 1
DAYS = 730  # two years back from today
SEED = 20261202
SOURCE = "bench-potilastieto"
SECRET = b"bench-access-secret"
BATCH = 10_000  # cases per write_cases call
BULK = 50_000  # cases per bulk transaction
TARGETS = {f"{name}_{db}_s": target for db in ("sqlite", "postgresql") for name, target in
           (("view_unit_year_p95", 0.5), ("view_all_quarter_p95", 1.0), ("refit_all_max", 60.0))}

AGE_GROUPS = ("<23", "23-74", ">=75", "unknown")
# per service: the share of its cases in each age group, and the median days to the start
PROFILES: dict[str, tuple[tuple[float, ...], float]] = {
    "perusterveydenhuolto": ((0.18, 0.55, 0.25, 0.02), 6.0),
    "suun_terveydenhuolto": ((0.30, 0.50, 0.18, 0.02), 25.0),
    "mielenterveys": ((0.50, 0.47, 0.02, 0.01), 12.0),
    "sosiaalipalvelut": ((0.05, 0.35, 0.58, 0.02), 14.0),
}
DEFAULT_PROFILE = ((0.2, 0.5, 0.28, 0.02), 14.0)
MAIN_CYCLE = ("perusterveydenhuolto", "suun_terveydenhuolto", "perusterveydenhuolto",
              "mielenterveys", "sosiaalipalvelut")
ASSESS_WD = (0, 1, 2, 3, 4, 5)
ASSESS_WEIGHTS = (70, 12, 7, 5, 3, 3)  # working days from contact to assessment
URGENT = 0.10
NEVER = 0.003  # non-urgent cases never started (open, long past the limit)
SIGMA = 0.8  # of the lognormal days to the start

CASE_COLUMNS = ("id", "source", "case_key", "unit", "service", "age_group", "urgent", "contact",
                "assessment", "decision", "start", "days_to_start", "start_week", "start_month",
                "reported_at")
JUDGEMENT_COLUMNS = ("case_id", "unit", "service", "age_group", "urgent", "measure", "rule_id",
                     "begin", "end", "deadline", "within", "days", "end_week", "end_month")


# --- the cases ------------------------------------------------------------------------------


def unit_services(index: int, services: Sequence[str]) -> list[tuple[str, float]]:
    """A unit's services and the share of its cases in each (cumulative)."""
    cycle = [s for s in MAIN_CYCLE if s in services] or list(services)
    main = cycle[index % len(cycle)]
    if index % 3 or len(set(services)) < 2:
        return [(main, 1.0)]
    others = [s for s in cycle[index % len(cycle) + 1:] + cycle if s != main]
    return [(main, 0.8), (others[0], 1.0)]


def unit_size(index: int) -> float:
    return 0.5 + ((index * 7) % 11) / 10  # 0.5 … 1.5


def day_factor(day: date) -> float:
    weekday = (1.25, 1.0, 1.0, 0.95, 0.8)[day.weekday()]
    season = {1: 1.1, 2: 1.1, 6: 0.85, 7: 0.55, 8: 0.85, 12: 0.9}.get(day.month, 1.0)
    return weekday * season


def slow(day: date) -> float:
    """Summer holidays and the turn of the year make the waits longer."""
    if day.month == 7 or (day.month == 6 and day.day > 20) or (day.month == 8 and day.day < 10):
        return 1.8
    if (day.month == 12 and day.day > 18) or (day.month == 1 and day.day < 7):
        return 1.4
    return 1.0


class Calendar:
    """Working days around the two years, by index (for 'N working days later')."""

    def __init__(self, first: date, last: date):
        self.days: list[date] = []
        self.index: dict[date, int] = {}  # any date -> the index of it or the next working day
        day = first
        while day <= last:
            if is_working_day(day):
                self.days.append(day)
            self.index[day] = len(self.days) if not is_working_day(day) else len(self.days) - 1
            day += timedelta(days=1)

    def on_or_after(self, day: date) -> date:
        return self.days[self.index[day]]

    def later(self, day: date, working_days: int) -> date:
        return self.days[self.index[day] + working_days]


def generate(today: date, scale: float, services: Sequence[str]) -> list[list[Case]]:
    """Every unit's cases, in order of contact."""
    first = today - timedelta(days=DAYS)
    cal = Calendar(first, today + timedelta(days=800))
    contact_days = [d for d in cal.days if d <= today]
    sizes = [unit_size(i) for i in range(len(UNITS))]
    base = TOTAL * scale / (sum(sizes) * sum(day_factor(d) for d in contact_days))
    out = []
    for index, unit in enumerate(UNITS):
        rng = random.Random(f"{SEED}:{unit}")
        mix = unit_services(index, services)
        cases: list[Case] = []
        for day in contact_days:
            mean = base * sizes[index] * day_factor(day)
            for n in range(max(0, round(rng.gauss(mean, math.sqrt(mean))))):
                r = rng.random()
                service = next(s for s, upto in mix if r < upto)
                ages, median = PROFILES.get(service, DEFAULT_PROFILE)
                age = rng.choices(AGE_GROUPS, ages)[0]
                urgent = rng.random() < URGENT
                assessed = day if urgent else cal.later(day, rng.choices(ASSESS_WD, ASSESS_WEIGHTS)[0])
                decision: date | None = None
                if service == "sosiaalipalvelut":
                    decision = cal.on_or_after(assessed + timedelta(days=rng.randint(1, 14)))
                begin = decision or assessed
                assessment: date | None = assessed
                start: date | None
                if urgent:
                    start = cal.later(begin, rng.random() < 0.4)
                elif rng.random() < NEVER:
                    start = None
                else:
                    days = int(rng.lognormvariate(math.log(median * slow(begin)), SIGMA))
                    start = cal.on_or_after(begin + timedelta(days=min(days, 700)))
                # what the system knows today: a date not reached yet is empty
                if assessed > today:
                    assessment = decision = start = None
                if decision is not None and decision > today:
                    decision = start = None
                if start is not None and start > today:
                    start = None
                key = case_key(SECRET, f"{unit}:{day.isoformat()}:{n}")
                cases.append(Case(key, unit, service, age, urgent, day, assessment, decision, start))
        out.append(cases)
    return out


# --- loading --------------------------------------------------------------------------------


def bulk_rows(cases: Sequence[Case], first_id: int, rules: list[RuleVersion],
              now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows write_cases stores for these new cases (ids from `first_id`)."""
    case_rows: list[tuple[Any, ...]] = []
    judgement_rows: list[tuple[Any, ...]] = []
    for i, case in enumerate(cases):
        row = accessfigures._case_row(SOURCE, case, now)
        row["id"] = first_id + i
        case_rows.append(tuple(row[c] for c in CASE_COLUMNS))
        judgement_rows.extend(tuple(j[c] for c in JUDGEMENT_COLUMNS)
                              for j in accessfigures._judgement_rows(first_id + i, case, rules))
    return case_rows, judgement_rows


def sqlite_binder(table: Any, columns: Sequence[str], dialect: Any) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Values as SQLAlchemy stores them on SQLite (dates and instants as text): a date is its
    ISO text, an instant goes through the column type's own processor."""
    procs = {c: table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns}
    date_proc = next(p for c, p in procs.items() if isinstance(table.c[c].type, Date))
    assert date_proc(date(2026, 1, 2)) == "2026-01-02"  # what the fast path below writes
    instant = next((p for c, p in procs.items() if isinstance(table.c[c].type, UtcDateTime)), None)

    def bind(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v.isoformat() if type(v) is date else
                     instant(v) if instant is not None and type(v) is datetime else v for v in row)
    return bind


def load(history: History, db: str, cases: list[Case], rules: list[RuleVersion], now: datetime,
         sample: int, mode: str, max_write_s: float, results: dict[str, float]) -> None:
    """write_cases for the first `sample` cases, then (mode auto) on for as long as the rest
    would still fit in `max_write_s` at the rate of the latest batch; the rest bulk-inserted."""
    total = len(cases)
    t0 = time.perf_counter()
    done = 0
    wrote_s = last_rate = 0.0
    while done < total:
        if done >= sample and mode != "write_cases":
            if mode == "bulk":
                break
            # auto: at the rate of the latest batch (into the tables as they now are)
            if last_rate and wrote_s + (total - done) / last_rate > max_write_s:
                break
        if done == sample and done < total:
            print(f"{db}: write_cases (batches of {BATCH:,}): {done:,} cases into empty tables in "
                  f"{wrote_s:.1f} s = {done / wrote_s:,.0f} cases/s", flush=True)
        batch = cases[done:min(done + BATCH, sample) if done < sample else done + BATCH]
        t = time.perf_counter()
        write_cases(history, SOURCE, batch, rules, now)
        took = time.perf_counter() - t
        wrote_s += took
        last_rate = len(batch) / took
        done += len(batch)
        if done <= sample:
            results[f"write_cases_fresh_{db}_cases_per_s"] = done / wrote_s
        if done % 200_000 < BATCH:
            print(f"{db}:   {done:,} cases, {wrote_s:.0f} s", flush=True)
    if done == total:
        results[f"write_cases_load_{db}_cases_per_s"] = total / wrote_s
        print(f"{db}: write_cases (batches of {BATCH:,}): all {total:,} cases in {wrote_s:.1f} s = "
              f"{total / wrote_s:,.0f} cases/s", flush=True)
    else:
        print(f"{db}: write_cases: {done:,} cases in {wrote_s:.1f} s, the latest batch at "
              f"{last_rate:,.0f} cases/s: the other {total - done:,} would take over "
              f"{max_write_s:.0f} s in all, so they are BULK-INSERTED (COPY / executemany) from "
              "write_cases' own rows (_case_row, _judgement_rows)", flush=True)
        t = time.perf_counter()
        with history.engine.connect() as conn:
            next_id = (conn.execute(select(func.max(AccessCase.id))).scalar() or 0) + 1
        dialect = history.engine.dialect
        bind_case = bind_judgement = None
        if dialect.name == "sqlite":
            bind_case = sqlite_binder(AccessCase.__table__, CASE_COLUMNS, dialect)
            bind_judgement = sqlite_binder(AccessJudgement.__table__, JUDGEMENT_COLUMNS, dialect)
        bulk_cases = total - done
        while done < total:
            chunk = cases[done:done + BULK]
            case_rows, judgement_rows = bulk_rows(chunk, next_id, rules, now)
            if bind_case is not None and bind_judgement is not None:
                case_rows = [bind_case(r) for r in case_rows]
                judgement_rows = [bind_judgement(r) for r in judgement_rows]
            with history.engine.begin() as conn:
                _bulk_insert(conn, "access_cases", CASE_COLUMNS, case_rows)
                _bulk_insert(conn, "access_judgements", JUDGEMENT_COLUMNS, judgement_rows)
            next_id += len(chunk)
            done += len(chunk)
        if dialect.name == "postgresql":  # the ids were given: the sequence goes on after them
            with history.engine.begin() as conn:
                conn.execute(text("SELECT setval(pg_get_serial_sequence('access_cases', 'id'), "
                                  "(SELECT max(id) FROM access_cases))"))
        bulk_s = time.perf_counter() - t
        results[f"bulk_{db}_cases_per_s"] = bulk_cases / bulk_s
        print(f"{db}: bulk: {bulk_cases:,} cases in {bulk_s:.1f} s = {bulk_cases / bulk_s:,.0f} "
              "cases/s (the rows built in Python included)", flush=True)
        t = time.perf_counter()
        accessfigures.recount(history)  # the counts of the page, as after an upgrade or a change of rules
        results[f"recount_{db}_s"] = time.perf_counter() - t
        print(f"{db}: the access page's counts made again from all the judgements in "
              f"{results[f'recount_{db}_s']:.1f} s", flush=True)
    if history.engine.dialect.name == "postgresql":  # what autovacuum does after a big load
        with history.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) access_cases"))
            conn.execute(text("VACUUM (ANALYZE) access_judgements"))
            conn.execute(text("VACUUM (ANALYZE) access_closed_counts"))
            conn.execute(text("VACUUM (ANALYZE) access_start_counts"))
    results[f"load_{db}_s"] = time.perf_counter() - t0


# --- measuring ------------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def timed(fn: Callable[[int], Any], repeat: int, warm_up: bool = True) -> list[float]:
    if warm_up:
        fn(repeat)  # not counted
    samples = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return samples


def measure(history: History, db: str, today: date, edges: Sequence[int], cases: list[Case],
            rules: list[RuleVersion], repeat: int, refits: int, results: dict[str, float]) -> None:
    year, quarter = today - timedelta(days=365), today - timedelta(days=91)
    s = timed(lambda i: view(history, [UNITS[i % len(UNITS)]], year, today, "month", today, edges),
              repeat)
    results[f"view_unit_year_median_{db}_s"] = statistics.median(s)
    results[f"view_unit_year_p95_{db}_s"] = p95(s)
    print(f"{db}: one unit, a year: median {statistics.median(s):.3f} s, p95 {p95(s):.3f} s",
          flush=True)
    s = timed(lambda i: view(history, None, quarter, today, "week", today, edges), repeat)
    results[f"view_all_quarter_median_{db}_s"] = statistics.median(s)
    results[f"view_all_quarter_p95_{db}_s"] = p95(s)
    print(f"{db}: all units, a quarter: median {statistics.median(s):.3f} s, p95 {p95(s):.3f} s",
          flush=True)
    fitted: list[int] = []
    s = timed(lambda i: fitted.append(refit_forecasts(history, UNITS, today)), refits, warm_up=False)
    results[f"refit_all_median_{db}_s"] = statistics.median(s)
    results[f"refit_all_max_{db}_s"] = max(s)
    results["refit_series"] = fitted[-1]
    print(f"{db}: refit of {fitted[-1]} forecast series: {', '.join(f'{x:.1f}' for x in s)} s",
          flush=True)

    # the poll path on the full tables: 5,000 cases reported again (a start reached), 5,000 new
    now = datetime.now(UTC)
    still_open = [c for c in cases if c.start is None]
    again = still_open[::max(1, len(still_open) // 5000)][:5000]
    again = [Case(c.key, c.unit, c.service, c.age_group, c.urgent, c.contact, c.assessment or today,
                  c.decision, today) for c in again]
    new = [Case(case_key(SECRET, f"new:{i}"), UNITS[i % len(UNITS)], c.service, c.age_group,
                c.urgent, today, today, None, None) for i, c in enumerate(cases[:5000])]
    t0 = time.perf_counter()
    write_cases(history, SOURCE, again + new, rules, now)
    took = time.perf_counter() - t0
    results[f"write_cases_full_{db}_cases_per_s"] = len(again + new) / took
    print(f"{db}: write_cases of {len(again):,} cases reported again and {len(new):,} new into the full "
          f"tables: {took:.2f} s = {len(again + new) / took:,.0f} cases/s", flush=True)
    t0 = time.perf_counter()
    removed = accessfigures.compact_counts(history)
    results[f"compact_counts_{db}_s"] = time.perf_counter() - t0
    with history.engine.connect() as conn:
        rows = sum(conn.execute(select(func.count()).select_from(m)).scalar() or 0
                   for m in (AccessClosedCount, AccessStartCount))
    print(f"{db}: the nightly compaction of the counts after it: {removed:,} rows summed away in "
          f"{results[f'compact_counts_{db}_s']:.2f} s; {rows:,} count rows in all", flush=True)


def counts(history: History, results: dict[str, float]) -> None:
    with history.engine.connect() as conn:
        results["cases"] = conn.execute(select(func.count()).select_from(AccessCase)).scalar() or 0
        results["judgements"] = conn.execute(select(func.count()).select_from(AccessJudgement)).scalar() or 0
        results["open_share"] = (conn.execute(select(func.count()).select_from(AccessCase)
                                              .where(AccessCase.start.is_(None))).scalar() or 0) / results["cases"]
        results["urgent_share"] = (conn.execute(select(func.count()).select_from(AccessCase)
                                                .where(AccessCase.urgent == 1)).scalar() or 0) / results["cases"]


def run(db: str, url: str, folder: Path, cases: list[Case], rules: list[RuleVersion],
        edges: Sequence[int], today: date, args: argparse.Namespace, results: dict[str, float]) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    history: History | None = None
    try:
        history = History.open(None, folder) if db == "sqlite" else History.open(url, folder, schema)
        # the rules' fingerprint, as a real start would have stored it (nothing to judge again)
        accessfigures.ensure_judged(history, rules)
        now = datetime.now(UTC)
        load(history, db, cases, rules, now, args.sample, args.load, args.max_write_s, results)
        counts(history, results)
        print(f"{db}: loaded in {results[f'load_{db}_s']:.1f} s: {results['cases']:,.0f} cases, "
              f"{results['judgements']:,.0f} judgements ({results['open_share']:.1%} open, "
              f"{results['urgent_share']:.1%} urgent); measuring", flush=True)
        measure(history, db, today, edges, cases, rules, args.repeat, args.refits, results)
    finally:
        if history is not None:
            history.engine.dispose()
        if db == "postgresql":
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-baseline", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0, help="share of the 1.5 M cases (0.1: a quick look)")
    ap.add_argument("--repeat", type=int, default=20, help="runs of each page view")
    ap.add_argument("--refits", type=int, default=3, help="runs of the nightly refit")
    ap.add_argument("--today", type=date.fromisoformat, default=None, help="the last day (default: today)")
    ap.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both")
    ap.add_argument("--load", choices=("auto", "write_cases", "bulk"), default="auto")
    ap.add_argument("--sample", type=int, default=20_000, help="cases loaded with write_cases first")
    ap.add_argument("--max-write-s", type=float, default=180.0,
                    help="auto: go on with write_cases while all the cases would take at most this")
    args, _ = ap.parse_known_args()
    if args.save_baseline and args.scale != 1.0:
        print("--save-baseline is for a full-scale run (no --scale)", file=sys.stderr)
        return 2
    url = os.environ.get("OHJAUSTAULU_BENCH_DATABASE_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    config = load_config(CONFIG)
    rules = config.access.versions()
    edges = list(config.access.bins)
    today = args.today or date.today()
    results: dict[str, float] = {}
    t0 = time.perf_counter()
    per_unit = generate(today, args.scale, sorted(config.access.services))
    # in the order a source reports them: by day, the units' cases of a day together
    cases = sorted((c for unit_cases in per_unit for c in unit_cases), key=lambda c: (c.contact, c.unit))
    del per_unit
    results["generate_s"] = time.perf_counter() - t0
    print(f"generated {len(cases):,} cases of {len(UNITS)} units, {today - timedelta(days=DAYS)} to "
          f"{today}, in {results['generate_s']:.1f} s (scale {args.scale:g})", flush=True)
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        if db not in ("sqlite", "postgresql"):
            print(f"unknown database {db!r}", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="bench-access-") as tmp:
            run(db, url, Path(tmp), cases, rules, edges, today, args, results)
    results = {k: results[k] for k in sorted(results, key=_order)}
    targets = {k: t for k, t in TARGETS.items() if k in results}  # of the databases run
    report(f"Access-to-care benchmark (cases, the access page, the forecasts' refit; scale "
           f"{args.scale:g})", results, targets, BASELINE, args.save_baseline)
    return 0  # figures are reported, not asserted: a missed target is not an error


def _order(key: str) -> tuple[int, str]:
    for i, prefix in enumerate(("generate", "cases", "judgements", "open", "urgent", "write_cases_fresh",
                                "write_cases_load", "bulk", "load", "view_unit", "view_all", "refit",
                                "write_cases_full")):
        if key.startswith(prefix):
            return i, key
    return 99, key


if __name__ == "__main__":
    sys.exit(main())
