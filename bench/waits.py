"""Benchmark of the waiting-room estimate (issue 13): how far from the truth is what a person
joining the queue is told?

A simulation of our own of a busy laboratory's days (not the demo's simulator): doors open
7–15, arrivals Poisson with a rate that varies by hour (a morning peak, a quiet afternoon),
service times lognormal, five sampling points, of which two go to lunch in turns between
10.30 and 12.30, first come first served. Each person, as they join, is told

  - today's estimate: the mean wait of those called in the last hour, rounded up to five
    minutes ("alle 5 min" under five, "ei jonoa" with nobody waiting; layouts/components.py
    wait_estimate), and
  - the new one (dashboard/domain/waits.py) from what a queue feed polled every half minute knows:
    people waiting, called in the last hour, points open (and their mean over the hour, as
    the collector remembers it), the longest wait so far; and, as a third column, the same
    from a feed that says nothing of points, read by a collector that remembers nothing
    (just restarted),

and then waits as the simulation says. Printed for both, side by side: the median and the
90th percentile of the absolute error, and the share of people told at least ten minutes
too little. "alle 5 min" counts as five. Seeded, deterministic, a few seconds.

Targets (the new estimate): at most one in twenty told ten minutes too little, the 90th
percentile of the absolute error at most 15 minutes. `--save-baseline` makes this run the
baseline (bench/baseline-waits.json). Run with `./dev bench` or `python bench/waits.py`.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from collectors.demo.simulator import poisson  # noqa: E402
from dashboard.domain.waits import Estimate, QueueMemory, estimate_wait  # noqa: E402

BASELINE = ROOT / "bench" / "baseline-waits.json"
TARGETS = {"new_told_10min_too_little_share": 0.05, "new_abs_error_p90_min": 15.0}
DAYS = 40
OPEN, CLOSE = 7 * 60.0, 15 * 60.0  # minutes after midnight
# arrivals per clock hour on an ordinary day: the morning fasting-sample rush, then calm
PER_HOUR = {7: 76, 8: 68, 9: 52, 10: 42, 11: 32, 12: 28, 13: 22, 14: 15}
POINTS = 5
SERVICE_MIN = 4.6  # mean minutes at a sampling point
SERVICE_SIGMA = 0.5  # of the lognormal
# two points go to lunch in turns: (point, from, to) in minutes after midnight
LUNCH = ((3, 10.5 * 60, 11.5 * 60), (4, 10.5 * 60, 11.5 * 60), (1, 11.5 * 60, 12.5 * 60),
         (2, 11.5 * 60, 12.5 * 60))
POLL_MIN = 0.5  # the collector's poll: what the feed said at the last poll is what is told


@dataclass
class Person:
    arrived: float
    called: float = math.nan


def points_open(t: float) -> int:
    return POINTS - sum(1 for _, a, b in LUNCH if a <= t < b)


def _available(point: int, t: float) -> float:
    """The first moment ≥ t when `point` may call someone (not at lunch)."""
    for p, a, b in LUNCH:
        if p == point and a <= t < b:
            return b
    return t


def simulate_day(rng: random.Random) -> list[Person]:
    people: list[Person] = []
    for hour, mean in PER_HOUR.items():
        n = poisson(rng, mean * rng.uniform(0.85, 1.15))
        people += [Person(hour * 60 + rng.uniform(0, 60)) for _ in range(n)]
    people.sort(key=lambda p: p.arrived)
    free = [OPEN] * POINTS
    for person in people:  # first come first served: the earliest point that can call
        starts = [_available(i, max(person.arrived, free[i])) for i in range(POINTS)]
        i = min(range(POINTS), key=starts.__getitem__)
        person.called = starts[i]
        free[i] = starts[i] + rng.lognormvariate(math.log(SERVICE_MIN), SERVICE_SIGMA)
    return people




def today(waiting: int, mean_wait: float | None) -> float | None:
    """layouts/components.py wait_estimate, as minutes: "alle 5 min" counts as five."""
    if waiting <= 0:
        return 0.0
    if mean_wait is None:
        return None
    return 5.0 if mean_wait < 5 else 5.0 * math.ceil(mean_wait / 5)


@dataclass
class Told:
    actual: float  # the wait this person then had
    today: float | None
    new: float | None
    bare: float | None  # the new estimate from a feed without points, a collector without memory
    inside: bool  # the actual wait within the new range (± a minute of rounding)
    range_shown: bool


Said = tuple[float | None, Estimate | None, Estimate | None]


def polls(people: list[Person]) -> dict[int, Said]:
    """What the wall says at each poll of the day (poll number -> today's, new, bare): the
    collector polls the feed from half an hour before opening, and remembers (QueueMemory)."""
    arrived = [p.arrived for p in people]  # first come first served: called in this order too
    called = [p.called for p in people]
    waited = list(itertools.accumulate((p.called - p.arrived for p in people), initial=0.0))
    memory = QueueMemory()
    out: dict[int, Said] = {}
    for i in range(int((OPEN - 30) / POLL_MIN), int(max(called, default=CLOSE) / POLL_MIN) + 2):
        t = i * POLL_MIN
        first_waiting = bisect.bisect_right(called, t)  # everyone before has been called
        waiting = bisect.bisect_right(arrived, t) - first_waiting
        hour_from = bisect.bisect_right(called, t - 60)
        calls = first_waiting - hour_from
        mean_wait = (waited[first_waiting] - waited[hour_from]) / calls if calls else None
        longest = t - arrived[first_waiting] if waiting > 0 else 0.0
        out[i] = (today(waiting, mean_wait),
                  memory.estimate(("lab", "näytteenotto"), _at(t), waiting, calls, points_open(t), longest),
                  estimate_wait(waiting, calls, None, longest))
    return out


def _at(minutes: float) -> datetime:
    return datetime(2026, 11, 24, tzinfo=UTC) + timedelta(minutes=minutes)


def told(people: list[Person]) -> list[Told]:
    """What each person was told as they joined (the feed as last polled), and what they
    then waited."""
    said = polls(people)
    out = []
    for person in people:
        old, new, bare = said[math.floor(person.arrived / POLL_MIN)]
        actual = person.called - person.arrived
        out.append(Told(actual, old, _minutes(new), _minutes(bare),
                        new is not None and new.low - 1 <= actual <= new.high + 1,
                        new is not None and new.range is not None))
    return out


def _minutes(estimate: Estimate | None) -> float | None:
    return None if estimate is None else float(estimate.minutes)


def figures(name: str, pairs: list[tuple[float, float | None]]) -> dict[str, float]:
    shown = [(actual, est) for actual, est in pairs if est is not None]
    errors = sorted(abs(est - actual) for actual, est in shown)
    too_little = sum(1 for actual, est in shown if actual - est >= 10)
    return {
        f"{name}_abs_error_median_min": statistics.median(errors),
        f"{name}_abs_error_p90_min": errors[math.ceil(0.9 * len(errors)) - 1],
        f"{name}_told_10min_too_little_share": too_little / len(shown),
        f"{name}_no_figure_share": 1 - len(shown) / len(pairs),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-baseline", action="store_true")
    ap.add_argument("--days", type=int, default=DAYS)
    args, _ = ap.parse_known_args()
    rows: list[Told] = []
    waits: list[float] = []
    for day in range(args.days):
        people = simulate_day(random.Random(f"laboratorio-{day}"))
        rows += told(people)
        waits += [p.called - p.arrived for p in people]
    results = {**figures("today", [(r.actual, r.today) for r in rows]),
               **figures("new", [(r.actual, r.new) for r in rows]),
               "new_actual_within_range_share": sum(r.inside for r in rows) / len(rows),
               "new_range_shown_share": sum(r.range_shown for r in rows) / len(rows),
               **figures("nopoints", [(r.actual, r.bare) for r in rows]),
               "people": float(len(rows)),
               "actual_wait_mean_min": statistics.fmean(waits),
               "actual_wait_p90_min": sorted(waits)[math.ceil(0.9 * len(waits)) - 1]}
    return report("Waiting-room estimate benchmark (today's rule beside the new one)", results,
                  TARGETS, BASELINE, args.save_baseline)


if __name__ == "__main__":
    raise SystemExit(main())
