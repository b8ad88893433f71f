"""The wait of a person joining a queue now, from what a queue system says of it.

The wall used to show the mean wait of those called in the last hour. That figure ignores how
many wait: with seven people ahead it read "alle 5 min" because the last hour's patients had
come to an empty room. A person joining now is called after everyone ahead of them and then
themselves, so their wait is the time the service points take to make that many calls:

    wait ≈ (people ahead + 1) / calls per minute now

where the rate of calls is the last hour's, scaled by the service points open now against
those open during the hour (lunch halves the points, and with them the rate). The head of
the queue has already waited `longest` minutes; the estimate is never under half of that
(the hour's calls may have outrun a queue that stalled since). With nobody waiting it is 0,
as the wall says ("ei jonoa"); with people waiting and no rate to read (no call in the hour,
no point open) there is no figure rather than a guess.

The estimate is a point (rounded up to whole minutes) and a range [low, high] from the
uncertainty of the rate: few calls in the hour, or points that changed within it, make it
wide, and the wall shows it then. The queue system's own estimate is preferred where a feed
sends one (the collector passes it through); this module is what we compute without one.
`QueueMemory` is what a collector keeps between polls for it (points over the hour, and the
morning's shorter first hour).

bench/waits.py compares this with the old rule on simulated days of a busy laboratory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

HOUR = 60.0  # minutes: the window of `called_last_hour`
Z = 1.28  # the rate's range: roughly its 80 % interval (a Poisson count's normal bound)
MIN_WINDOW = 10.0  # minutes: a rate is never read from less than this
FLOOR_SHARE = 0.5  # of the longest wait so far: the least a person joining is told
CHANGED = 0.2  # points open now against the hour's mean: a change of a fifth or more
WIDE_MIN, WIDE_SHARE = 10, 0.6  # a range this wide (minutes, or share of the point) is shown


@dataclass(frozen=True)
class Estimate:
    minutes: int  # the point estimate, rounded up
    low: int
    high: int
    wide: bool  # whether the range says more than the point (the wall shows it then)

    @property
    def range(self) -> tuple[int, int] | None:
        return (self.low, self.high) if self.wide else None


def _up(minutes: float) -> int:
    # 0.0001 keeps 12.000000001 from floating-point noise at 12
    return max(0, math.ceil(minutes - 1e-4))


def estimate_wait(
    waiting: float,
    called_last_hour: float | None,
    points_open: float | None = None,
    longest_wait_min: float | None = None,
    *,
    points_last_hour: float | None = None,
    window_min: float = HOUR,
) -> Estimate | None:
    """The wait of a person joining now (minutes), or None where it cannot be said: no rate
    of calls known, or no service point open while people wait.

    `points_last_hour` is the mean number of points open over the hour the calls were
    counted in (where known; a change of points makes the range wide); `window_min` is how
    much of that hour the queue was open (the first hour of the morning is shorter)."""
    ahead = max(int(waiting), 0)
    if ahead == 0:  # the next free point calls them, as the wall says: "ei jonoa"
        return Estimate(0, 0, 0, False)
    if points_open is not None and points_open <= 0:
        return None  # nobody calls now: no figure is honest
    if called_last_hour is None:
        return None
    window = max(min(window_min, HOUR), MIN_WINDOW)
    calls = max(called_last_hour, 0.0)
    if calls <= 0:
        return None  # no rate to read a wait from
    scale = points_open / points_last_hour if points_open and points_last_hour else 1.0
    changed = abs(scale - 1.0) >= CHANGED
    needed = ahead + 1  # calls until theirs
    # A count of calls is a Poisson figure, its range ±Z·√n. Where the points changed within
    # the hour, the rate now lies between the hour's own and the one scaled to the points.
    spread = Z * math.sqrt(calls)
    rates = [max(calls - spread, 0.5) / window, (calls + spread + 1) / window]
    rates = [r * s for r in rates for s in ({scale, 1.0} if changed else {scale})]
    point = needed / (calls / window * scale)
    low, high = needed / max(rates), needed / min(rates)
    # In a steady queue a person joining waits about as long as the head of the queue has:
    # an estimate under half of that says the hour's calls outran the queue (calls stalled
    # behind long visits), so the longest wait so far holds the figure up.
    if longest_wait_min:
        floor = FLOOR_SHARE * longest_wait_min
        point, high = max(point, floor), max(high, floor)
    p, lo, hi = _up(point), _up(min(low, point)), _up(high)
    wide = changed or hi - lo >= max(WIDE_MIN, WIDE_SHARE * p)
    return Estimate(p, lo, hi, wide)


@dataclass
class _Seen:
    points: list[tuple[datetime, float]]  # (polled at, points open), the last hour's
    idle_at: datetime | None = None  # last seen with nobody waiting and no call in the hour


class QueueMemory:
    """What a collector remembers of each queue between its polls, for the estimate: the
    points open over the last hour (their mean against now's says whether they changed) and
    when the queue was last idle (the morning's first hour of calls is shorter than an hour).

    A collector that has just started remembers nothing: it takes the points as unchanged
    and the hour as whole, which reads the rate low and the wait long, never short."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], _Seen] = {}

    def estimate(self, key: tuple[str, str], now: datetime, waiting: float,
                 called_last_hour: float | None, points_open: float | None,
                 longest_wait_min: float | None) -> Estimate | None:
        seen = self._queues.setdefault(key, _Seen([]))
        hour_ago = now - timedelta(minutes=HOUR)
        if points_open is not None:  # the hour's polls, and the one standing at its start
            before = [(t, p) for t, p in seen.points if t <= hour_ago][-1:]
            seen.points = before + [(t, p) for t, p in seen.points if t > hour_ago] + [(now, points_open)]
        if waiting <= 0 and not called_last_hour:
            seen.idle_at = now
        since = hour_ago  # the calls counted, and the points that made them, are since then
        if seen.idle_at is not None and seen.idle_at > hour_ago:
            since = seen.idle_at
        return estimate_wait(waiting, called_last_hour, points_open, longest_wait_min,
                             points_last_hour=_time_mean(seen.points, since),
                             window_min=(now - since).total_seconds() / 60)


def _time_mean(samples: list[tuple[datetime, float]], since: datetime) -> float | None:
    """The time-weighted mean, from `since`, of polled values each standing until the next."""
    if len(samples) < 2:
        return samples[0][1] if samples else None
    spans = [((b - max(a, since)).total_seconds(), v) for (a, v), (b, _) in pairwise(samples)]
    total = sum(s for s, _ in spans if s > 0)
    return sum(s * v for s, v in spans if s > 0) / total if total > 0 else samples[-1][1]
