"""The forecast of the day: the arrivals still to come today, per clock hour and in total,
each with an 80 % band, from the same weekday's past days (as the typical day: the previous
8 weeks, public holidays left out) and the day so far.

The method, a gamma–Poisson (negative binomial) model:

* Each past day gives its final arrivals per clock hour; the typical hour μ_h is their mean
  (an hour a day does not name counts as 0).
* A day is the typical day times a day factor θ (a busy day is busy all day: flu, a
  colleague's closed station, snow) with mean 1, and its hours' counts are Poisson given θ.
  θ's spread is read from the past days' totals: their variance beyond Poisson's,
  φ = max(0, (s² − m) / m²), widened by what n days cannot know about the typical day itself
  (the typical total's own relative variance, (1/m + φ)/n). θ ~ Gamma(α, α), α = 1/φ.
* The day so far updates θ: A arrivals where the typical day had T by this moment (whole
  past hours and the elapsed part of this one, arrivals spread evenly within an hour) give
  θ | A ~ Gamma(α + A, α + T): a day running 20 % busy lifts the rest of it, the more so
  the more of the day has been seen and the steadier the past days were.
* Arrivals still to come in an hour whose typical rest is M are then negative binomial
  with mean M (α + A)/(α + T); the rest of the day likewise with M the sum of the rest
  (one θ for every hour: the day total's band is that of the sum, not a sum of bands).
* Hours are lumpier than one day factor explains (a bus, a school's break): ψ, an hour's
  own relative variance beyond Poisson, is read from the past days' hours against each
  day's own total (hour_spread) and added to the band's variance as ψ Σ e² over the hours
  e it spans, by lowering the negative binomial's shape with its mean kept (moment-matched).
  The band runs from the 10th to the 90th percentile (equal tails of 80 %); the hour in
  progress is its arrivals so far plus that.

Why this and not the past days' own percentiles per hour: 8 days give a 10th and a 90th
percentile that are almost their minimum and maximum, and bands that miss 30–40 % of the
time; nor the plain Poisson band around the typical day, which ignores that days differ and
does not learn from the morning. bench/dayforecast.py back-tests all three on the demo's
seeded weeks and on two years of synthetic days whose busy days are busy all day.

Pure functions of the past days, today's counts and the moment they are from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

LEVEL = 0.8
# beyond this the day factor is taken as fixed (counts Poisson): α of 10⁸ is no spread
MAX_SHAPE = 1e8


def typical_day(past: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean arrivals per clock hour ("08") over the past days; an hour a day does not name
    counts as 0 that day."""
    hours = sorted({h for day in past for h in map(_hour, day) if h is not None})
    n = len(past)
    return {f"{h:02d}": sum(_count(day, h) for day in past) / n for h in hours} if n else {}


def spread(past: Sequence[Mapping[str, float]]) -> float:
    """φ, the relative variance of the day factor: the past totals' variance beyond Poisson's,
    widened by what n days cannot know about the typical day."""
    totals = [sum(_count(day, h) for h in range(24)) for day in past]
    n, m = len(totals), sum(totals) / len(totals) if totals else 0.0
    if n == 0 or m <= 0:
        return 0.0
    var = sum((x - m) ** 2 for x in totals) / (n - 1) if n > 1 else m
    between = max(0.0, (var - m) / m**2)
    return between + (1 / m + between) / n


def hour_spread(past: Sequence[Mapping[str, float]], typical: Mapping[str, float]) -> float:
    """ψ, each hour's own relative variance beyond Poisson's once its day's factor is known:
    a clinic's hours are lumpier than a day-wide factor explains (a bus, a school's break).
    From the past days: each hour's count x against its share e of that day's own total,
    ψ = max(0, Σ((x − e)² − e) / Σ e²), the sum of squares widened by H/(H − 1) for the
    day's factor read from the same hours."""
    m = sum(typical.values())
    hours = [(int(h), mu) for h, mu in typical.items() if mu > 0]
    if m <= 0 or len(hours) < 2:
        return 0.0
    num = den = 0.0
    for day in past:
        theta = sum(_count(day, h) for h in range(24)) / m
        for h, mu in hours:
            e = theta * mu
            num += (_count(day, h) - e) ** 2 * len(hours) / (len(hours) - 1) - e
            den += e * e
    return max(0.0, num / den) if den > 0 else 0.0


def forecast(past: Sequence[Mapping[str, float]], today: Mapping[str, float], at: datetime,
             level: float = LEVEL) -> dict[str, Any] | None:
    """The rest of today from `today`'s counts per clock hour as they were at `at` (local
    time of the unit's site): {"hours": {"14": [mid, lo, hi], ...}, "total": [mid, lo, hi],
    "level", "days"} — mid the expected arrivals, whole (a wall chart's forecast moves when
    one more arrival is expected, not at every tenth), lo–hi the band; the hour in progress as a whole hour (its arrivals so far
    included). None without past days, or when no typical hour is left today."""
    typical = typical_day(past)
    if not typical or not any(typical.values()):
        return None
    hour, part = at.hour, (at.minute * 60 + at.second + at.microsecond / 1e6) / 3600
    rest = {h: mu * (1 - part if int(h) == hour else 1.0) for h, mu in typical.items()
            if int(h) >= hour and mu > 0}
    if not rest:
        return None
    seen = sum(mu for h, mu in typical.items() if int(h) < hour) + part * typical.get(f"{hour:02d}", 0.0)
    arrived = sum(_count(today, h) for h in range(24))
    phi = spread(past)
    shape = min(MAX_SHAPE, 1 / phi) if phi > 0 else MAX_SHAPE
    r, rate = shape + arrived, shape + seen
    lo_p, hi_p = (1 - level) / 2, (1 + level) / 2

    psi = hour_spread(past, typical)

    def band(parts: Sequence[float]) -> tuple[float, int, int]:
        """The rest of `parts` (typical arrivals of the hours it spans): the day factor's
        negative binomial, its shape lowered so that its variance also holds the hours' own
        (ψ Σ e², moment-matched; mean unchanged)."""
        expected_rest = sum(parts)
        mean = expected_rest * r / rate
        shape = r
        if psi > 0 and expected_rest > 0:
            shape = 1 / (1 / r + psi * sum(e * e for e in parts) / expected_rest**2)
        lo, hi = quantiles(_predictive(shape, rate * shape / r, expected_rest), (lo_p, hi_p))
        return mean, lo, hi

    hours: dict[str, list[float]] = {}
    for h, m in sorted(rest.items()):
        mean, lo, hi = band([m])
        so_far = int(_count(today, int(h))) if int(h) == hour else 0
        hours[h] = [round(so_far + mean), so_far + lo, so_far + hi]
    mean, lo, hi = band(list(rest.values()))
    return {"hours": hours, "total": [round(arrived + mean), int(arrived + lo), int(arrived + hi)],
            "level": level, "days": len(past)}


def quantiles(logpmf: Callable[[int], float], probs: Sequence[float]) -> list[int]:
    """The smallest k with P(X ≤ k) ≥ p, for each p (ascending) of a distribution on 0, 1, 2…"""
    out: list[int] = []
    total, k = 0.0, 0
    for p in probs:
        while True:
            total += math.exp(logpmf(k))
            if total >= p - 1e-12:
                break
            k += 1
            if k > 10_000_000:  # not reached for any count a day has
                raise ValueError("quantile out of reach")
        out.append(k)
        total -= math.exp(logpmf(k))  # k again for the next p
    return out


def _predictive(shape: float, rate: float, expected: float) -> Callable[[int], float]:
    """log P(X = k) for X | θ ~ Poisson(θ·expected), θ ~ Gamma(shape, rate): negative binomial;
    Poisson with mean expected·shape/rate when the shape is beyond telling apart."""
    mean = expected * shape / rate
    if mean <= 0:
        return lambda k: 0.0 if k == 0 else -math.inf
    if shape >= MAX_SHAPE:
        return lambda k: k * math.log(mean) - mean - math.lgamma(k + 1)
    q = expected / (rate + expected)
    base = shape * math.log1p(-q) - math.lgamma(shape)
    return lambda k: math.lgamma(shape + k) - math.lgamma(k + 1) + base + k * math.log(q)


def _hour(h: object) -> int | None:
    text = str(h)
    return int(text) if text.isdigit() and 0 <= int(text) < 24 else None


def _count(day: Mapping[str, float], hour: int) -> float:
    """An hour's count whether the series names it "08" or "8"."""
    for name in (f"{hour:02d}", str(hour)):
        value = day.get(name)
        if isinstance(value, int | float):
            return float(value)
    return 0.0
