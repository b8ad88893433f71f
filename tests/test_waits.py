"""The waiting-room estimate (dashboard/domain/waits.py) against queues simulated here, slowly and
obviously, minute by minute."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from bench import waits as bench
from dashboard.domain.waits import QueueMemory, estimate_wait

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
STEP = 0.5  # minutes


def fifo(arrivals: list[float], points: int, service: float, until: float,
         closed: tuple[int, float, float] | None = None) -> list[float]:
    """Each person's call time: the queue walked half a minute at a time; a free point calls
    the first in line and is busy for `service` minutes. `closed` = (points, from, to): that
    many points are closed then (they finish whom they serve and call nobody)."""
    called = [math.inf] * len(arrivals)
    free_at = [0.0] * points
    t = 0.0
    while t <= until:
        shut = closed[0] if closed and closed[1] <= t < closed[2] else 0
        for p in range(points - shut):
            if free_at[p] <= t:
                line = [i for i, a in enumerate(arrivals) if a <= t and called[i] == math.inf]
                if line:
                    called[line[0]] = t
                    free_at[p] = t + service
        t += STEP
    return called


def feed_at(t: float, arrivals: list[float], called: list[float]) -> dict[str, float]:
    """What a queue system says at `t`: those waiting, called in the last hour, the longest
    wait so far, and the mean wait of those called in the last hour (today's rule)."""
    waiting = [a for a, c in zip(arrivals, called, strict=True) if a <= t < c]
    recent = [c - a for a, c in zip(arrivals, called, strict=True) if t - 60 < c <= t]
    return {"waiting": len(waiting), "called": len(recent),
            "longest": max((t - a for a in waiting), default=0.0),
            "mean_wait": statistics.fmean(recent) if recent else math.nan}


def test_seven_ahead_with_a_call_every_three_minutes_is_not_under_five():
    # Two points, six minutes a visit, one call every three minutes: for an hour each
    # newcomer was called at once (the old rule's mean wait: 0, "alle 5 min"); then eight
    # people came in ten minutes.
    arrivals = [3.0 * i for i in range(21)] + [50.0, 52.0, 53.0, 55.0, 56.0, 58.0, 59.5]
    arrivals.sort()
    joiner = len(arrivals)
    arrivals.append(60.0)
    called = fifo(arrivals, points=2, service=6.0, until=200)
    said = feed_at(60.0 - 1e-9, arrivals[:joiner], called[:joiner])
    assert said["waiting"] >= 7 and said["mean_wait"] < 5  # the old rule: "alle 5 min"
    actual = called[joiner] - 60.0
    estimate = estimate_wait(said["waiting"], said["called"], 2, said["longest"])
    assert estimate is not None
    assert estimate.minutes >= 10
    assert actual - 3 <= estimate.minutes <= actual + 6, (estimate, actual)
    assert estimate.low <= actual <= estimate.high


@pytest.mark.parametrize("points,service", [(1, 4.0), (2, 6.0), (3, 10.0), (4, 5.0)])
def test_a_steady_queue_is_estimated_within_a_few_minutes(points: int, service: float):
    # Arrivals a little faster than the points serve: the queue grows all morning. At each
    # quarter hour a person joins; their estimate is held against the wait they then have.
    rng = random.Random(f"steady-{points}-{service}")
    gap = service / points / 1.15
    arrivals = sorted(rng.uniform(i * gap, (i + 1) * gap) for i in range(int(180 / gap)))
    called = fifo(arrivals, points, service, until=600)
    for t in (75.0, 90.0, 105.0, 120.0, 135.0, 150.0):
        i = next(i for i, a in enumerate(arrivals) if a >= t)  # the person joining at t
        said = feed_at(arrivals[i] - 1e-9, arrivals[:i], called[:i])
        estimate = estimate_wait(said["waiting"], said["called"], points, said["longest"])
        assert estimate is not None
        actual = called[i] - arrivals[i]
        assert abs(estimate.minutes - actual) <= max(5, 0.2 * actual), (t, estimate, actual)


def test_the_estimate_is_rounded_up_to_whole_minutes():
    assert estimate_wait(3, 30, None, None).minutes == 8  # 4 calls at 2 min each
    assert estimate_wait(2, 35, None, None).minutes == math.ceil(3 * 60 / 35)  # 5.14 -> 6


def test_fewer_points_open_slow_the_estimate_and_widen_the_range():
    steady = estimate_wait(10, 40, 4, 12, points_last_hour=4)
    lunch = estimate_wait(10, 40, 2, 12, points_last_hour=4)
    assert steady is not None and lunch is not None
    assert steady.minutes == math.ceil(11 * 60 / 40)
    assert lunch.minutes == math.ceil(11 * 60 / 20)  # half the points: half the rate
    assert steady.range is None  # forty calls in the hour: the point says it
    assert lunch.range is not None and lunch.range[0] <= steady.minutes < lunch.minutes <= lunch.range[1]


def test_few_calls_make_the_range_wide():
    few = estimate_wait(3, 4, None, None)
    assert few is not None and few.range is not None
    low, high = few.range
    assert low < few.minutes < high and high - low >= 30


def test_no_figure_when_nobody_calls():
    assert estimate_wait(5, 12, 0, 20) is None  # every point closed
    assert estimate_wait(5, 0, 2, 20) is None  # not one call in the hour: no rate
    assert estimate_wait(5, None, 2, 20) is None  # the feed says nothing of calls
    assert estimate_wait(0, 0, 2, 0).minutes == 0  # nobody waits: no wait


def test_a_stalled_queue_is_held_up_by_the_longest_wait():
    # thirty calls in the hour, but the head of the queue has waited 40 minutes since
    stalled = estimate_wait(2, 30, None, 40)
    assert stalled is not None and stalled.minutes >= 20


def test_the_collector_memory_reads_the_morning_and_lunch():
    memory = QueueMemory()
    key = ("laboratorio", "näytteenotto")
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    assert memory.estimate(key, at(0), 0, 0, 4, 0).minutes == 0  # before opening: idle
    # fifteen minutes after opening: 20 calls are fifteen minutes' worth, not an hour's
    morning = memory.estimate(key, at(15), 9, 20, 4, 6)
    assert morning is not None and morning.minutes == math.ceil(10 * 15 / 20)
    for minute in range(16, 75):  # a steady hour of four points
        memory.estimate(key, at(minute), 9, 40, 4, 10)
    assert memory.estimate(key, at(75), 9, 40, 4, 10).minutes == math.ceil(10 * 60 / 40)
    for minute in range(76, 90):  # then two go to lunch
        memory.estimate(key, at(minute), 9, 40, 2, 10)
    lunch = memory.estimate(key, at(90), 9, 40, 2, 10)
    assert lunch is not None and lunch.range is not None
    mean_points = (46 * 4 + 14 * 2) / 60  # the hour before 90: four points until 76, then two
    assert lunch.minutes == math.ceil(10 * 60 / (40 * 2 / mean_points))


def test_a_collector_that_remembers_nothing_errs_long_not_short():
    # Just started at 7.15: it cannot know the queue opened at 7, so it reads the hour whole.
    fresh = QueueMemory().estimate(("lab", "q"), T0, 9, 20, 4, 6)
    knowing = estimate_wait(9, 20, 4, 6, window_min=15)
    assert fresh is not None and knowing is not None and fresh.minutes > knowing.minutes


def test_busy_laboratory_days_meet_the_targets():
    # A week of bench/waits.py's simulated laboratory: what each person was told as they
    # joined against the wait they then had.
    rows = [r for day in range(7) for r in bench.told(bench.simulate_day(random.Random(f"test-{day}")))]
    new = bench.figures("new", [(r.actual, r.new) for r in rows])
    old = bench.figures("today", [(r.actual, r.today) for r in rows])
    assert new["new_told_10min_too_little_share"] <= 0.05
    assert new["new_abs_error_p90_min"] <= 15
    assert old["today_told_10min_too_little_share"] > 0.1  # the simulation is a busy one
    # the independent recomputation of one figure: the share told ten minutes too little
    shown = [(r.actual, r.new) for r in rows if r.new is not None]
    assert new["new_told_10min_too_little_share"] == sum(a >= n + 10 for a, n in shown) / len(shown)
