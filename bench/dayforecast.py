"""Back-test of the forecast of the day (dashboard/domain/dayforecast.py): how often the
truth fell inside the 80 % band, and how far the expected day total was from the day's
real total, beside the plain typical-day line.

Two histories, every working day that has 8 weeks before it:

  * demo: the demo's own simulated days (collectors/demo/simulator.py, the days `demo`
    seeds), its 8 units over the 16 weeks to END — 8 weeks of test days, each with the 8
    weeks before it as history. Its arrivals are Poisson around a fixed weekday profile.
  * synthetic: two years of one busier unit whose days differ the way real ones do: a day
    factor (busy all day, CV 25 %), a winter season (+20 %), each hour's own noise (CV
    15 %), weekday levels, public holidays closed (and left out of the history).

Each test day is cut every half hour from 08.00 to 15.30; at each cut the forecast is made
from the counts so far and compared with the day's final counts:

  *_hour_coverage_pct    the hours still to come (the hour in progress as a whole hour)
                         whose count fell inside their band; aim 75–85 %
  *_total_coverage_pct   the cuts whose day total fell inside the total's band; aim 75–85 %
  *_total_mae            mean absolute error of the expected day total
  *_typical_mae          the same for the plain typical-day line: the day so far plus the
                         typical day's remaining hours (what a reader of the chart adds up)
  *_mae_vs_typical       the ratio of the two (below 1: the forecast is nearer)
  *_empirical_*_pct      coverage of the past days' own 10th–90th percentiles (per hour, and
                         of the totals), the band the method did not choose
  *_poisson_*_pct        coverage of a Poisson band around the typical day (no day factor,
                         nothing learnt from the morning), the other band not chosen
  *_total_miss_pp        |total coverage − 80| in percentage points: the target (≤ 5)

`--save-baseline` makes this run the baseline (bench/baseline-dayforecast.json). Run with
`./dev bench` or `python bench/dayforecast.py`.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from collectors.demo import simulator  # noqa: E402
from dashboard.domain.clock import is_public_holiday, is_working_day  # noqa: E402
from dashboard.domain.dayforecast import _predictive, forecast, quantiles, typical_day  # noqa: E402

TZ = ZoneInfo("Europe/Helsinki")
END = date(2026, 11, 27)  # a Friday: the demo's 16 weeks to it
CUTS = [time(h, m) for h in range(8, 16) for m in (0, 30)]
TARGETS = {"demo_total_miss_pp": 5.0, "synthetic_total_miss_pp": 5.0}

Series = Mapping[str, float]
# (the day's final counts per hour, its counts so far at a moment)
Day = tuple[Series, Callable[[datetime], Series]]


def same_weekdays(days: Mapping[date, Series], day: date) -> list[Series]:
    """The history the wall reads: the same weekday 1–8 weeks back, holidays and days
    without data left out."""
    back = [day - timedelta(weeks=w) for w in range(1, 9)]
    return [days[d] for d in back if not is_public_holiday(d) and d in days]


def evaluate(days: Mapping[date, Day], tests: Sequence[date], prefix: str) -> dict[str, float]:
    final = {d: v[0] for d, v in days.items()}
    hour_in = hour_n = total_in = total_n = 0
    err: list[float] = []
    err_typ: list[float] = []
    emp_h = emp_t = poi_h = poi_t = 0
    for day in tests:
        past = same_weekdays(final, day)
        if len(past) < 8:
            continue
        truth, so_far_at = days[day]
        typical = typical_day(past)
        totals = sorted(sum(p.values()) for p in past)
        for cut in CUTS:
            at = datetime.combine(day, cut, tzinfo=TZ)
            today = so_far_at(at)
            fc = forecast(past, today, at)
            if fc is None:
                continue
            arrived = sum(today.values())
            true_total = sum(truth.values())
            for h, (_mid, lo, hi) in fc["hours"].items():
                x = truth.get(h, 0)
                hour_n += 1
                hour_in += lo <= x <= hi
                counts = [p.get(h, 0) for p in past]
                q = statistics.quantiles(counts, n=10, method="inclusive")
                emp_h += q[0] <= x <= q[-1]
                part = (cut.hour * 60 + cut.minute) / 60 - int(h) if int(h) == cut.hour else 0.0
                rest = typical[h] * (1 - part)
                c = today.get(h, 0) if int(h) == cut.hour else 0
                plo, phi = quantiles(_predictive(1e9, 1e9, rest), (0.1, 0.9))
                poi_h += c + plo <= x <= c + phi
            total_n += 1
            lo, hi = fc["total"][1], fc["total"][2]
            total_in += lo <= true_total <= hi
            err.append(abs(fc["total"][0] - true_total))
            rest_typ = sum(typical[h] * (1 - ((cut.minute / 60) if int(h) == cut.hour else 0))
                           for h in fc["hours"])
            err_typ.append(abs(arrived + rest_typ - true_total))
            q = statistics.quantiles(totals, n=10, method="inclusive")
            emp_t += max(q[0], arrived) <= true_total <= q[-1]
            plo, phi = quantiles(_predictive(1e9, 1e9, rest_typ), (0.1, 0.9))
            poi_t += arrived + plo <= true_total <= arrived + phi
    mae, mae_typ = statistics.fmean(err), statistics.fmean(err_typ)
    total_cov = 100 * total_in / total_n
    return {
        f"{prefix}_cuts": float(total_n),
        f"{prefix}_hour_coverage_pct": 100 * hour_in / hour_n,
        f"{prefix}_total_coverage_pct": total_cov,
        f"{prefix}_total_mae": mae,
        f"{prefix}_typical_mae": mae_typ,
        f"{prefix}_mae_vs_typical": mae / mae_typ,
        f"{prefix}_empirical_hour_pct": 100 * emp_h / hour_n,
        f"{prefix}_empirical_total_pct": 100 * emp_t / total_n,
        f"{prefix}_poisson_hour_pct": 100 * poi_h / hour_n,
        f"{prefix}_poisson_total_pct": 100 * poi_t / total_n,
        f"{prefix}_total_miss_pp": abs(total_cov - 80),
    }


def demo_days(unit: str) -> dict[date, Day]:
    out: dict[date, Day] = {}
    for back in range(16 * 7):
        day = END - timedelta(days=back)
        if is_working_day(day):
            out[day] = (simulator.arrival_hours(unit, day, TZ),
                        lambda at, u=unit: simulator.flow(u, at, TZ)["arrivals_by_hour"])  # type: ignore[misc]
    return out


def demo() -> dict[str, float]:
    merged: dict[str, list[float]] = {}
    per_unit = []
    for unit in sorted(simulator.UNITS):
        days = demo_days(unit)
        tests = [d for d in days if d > END - timedelta(weeks=8)]
        per_unit.append(evaluate(days, tests, "demo"))
    for r in per_unit:
        for k, v in r.items():
            merged.setdefault(k, []).append(v)
    # every unit weighs by its cuts (the units have the same days, so the same number of cuts)
    out = {k: statistics.fmean(v) for k, v in merged.items()}
    out["demo_cuts"] = sum(merged["demo_cuts"])
    out["demo_total_miss_pp"] = abs(out["demo_total_coverage_pct"] - 80)
    return out


PROFILE = {8: 1.7, 9: 1.5, 10: 1.2, 11: 0.75, 12: 0.6, 13: 1.0, 14: 0.8, 15: 0.5}
WEEKDAY = [1.15, 1.0, 0.95, 1.0, 0.9]


def synthetic_days(start: date, weeks: int, per_day: float = 120.0, seed: int = 7) -> dict[date, Day]:
    rng = random.Random(seed)
    total = sum(PROFILE.values())
    out: dict[date, Day] = {}
    for back in range(weeks * 7):
        day = start + timedelta(days=back)
        if not is_working_day(day):
            continue
        season = 1 + 0.2 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365)
        factor = rng.gammavariate(16, 1 / 16)  # CV 25 %
        times: list[float] = []
        for hour, weight in PROFILE.items():
            mean = per_day * WEEKDAY[day.weekday()] * season * factor * weight / total
            mean *= rng.gammavariate(44, 1 / 44)  # CV 15 %
            times += [hour + rng.random() for _ in range(_poisson(rng, mean))]
        out[day] = (_by_hour(times, 24.0), lambda at, t=times: _by_hour(t, at.hour + at.minute / 60))
    return out


def _by_hour(times: Sequence[float], until: float) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in times:
        if x <= until:
            out[f"{int(x):02d}"] = out.get(f"{int(x):02d}", 0) + 1
    return dict(sorted(out.items()))


def _poisson(rng: random.Random, mean: float) -> int:
    k, p, limit = 0, rng.random(), math.exp(-mean)
    while p > limit:
        p *= rng.random()
        k += 1
    return k


def synthetic() -> dict[str, float]:
    start = date(2024, 1, 1)
    days = synthetic_days(start, 104)
    tests = [d for d in days if d >= start + timedelta(weeks=8) and not is_public_holiday(d)]
    return evaluate(days, tests, "synthetic")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--save-baseline", action="store_true")
    args = ap.parse_args()
    results = {**demo(), **synthetic()}
    return report("Forecast of the day: back-test", {k: round(v, 3) for k, v in results.items()}, TARGETS,
                  ROOT / "bench" / "baseline-dayforecast.json", args.save_baseline)


if __name__ == "__main__":
    sys.exit(main())
