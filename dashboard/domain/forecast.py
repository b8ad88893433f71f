"""Forecasts of the weekly access-to-care series, with a band that says how far off they may be.

Two weekly series are forecast for each unit on the managers' access-to-care page:

* the share of the week's cases that started treatment within the legal limit (0..1; a week
  without cases has no share and is passed as None), and
* the number of open cases past their limit at the end of each week (0, 1, 2, ...).

How the line is drawn. The forecast follows the recent level of the series and, where that
helps, its recent direction. Each new week moves the level part of the way towards what was
seen (how far: the smoothing weight α); the direction is updated the same way (β), and it is
damped (φ) so that a rise or fall is not carried on for ever: the further ahead, the flatter
the line. This is Holt's linear trend method with damping. When the direction adds nothing
beyond noise the trend is left out, and the line is flat at the current level (simple
exponential smoothing). The weights are chosen from a small fixed grid as the ones that, week
by week over the history, would have best forecast the following week; a trend is kept only
if it beats the flat line by more than its extra parameters are worth (Akaike's criterion).
A week without a value (no cases) leaves the level and direction as they were.

What the band means. The band is not a formula: it is how wrong this method has been on this
very series. The method is replayed from every earlier week of the history ("if we had made
the forecast then, from the weeks before"), and its misses one, two, ... weeks ahead are
collected. (To keep the nightly refit quick, the replay uses the weights chosen on the whole
history; `backtest` below chooses them again at every week.) At each step ahead the band is the forecast plus or minus the miss that 80 %
of those misses stayed within (at the default level 0.8). In plain words: in back-tests on
this series, 8 of 10 later weeks fell inside it. It is never narrower further ahead than
nearer. A share's band is kept within 0..1 and a count's at or above 0. `backtest` checks
the claim honestly: it makes the whole forecast (weights and band) from each earlier week
using only the weeks before, and counts how many of the weeks that followed fell inside.

Limits. With fewer than `MIN_WEEKS` weeks that have a value there is no forecast (None): the
page says there is too little history. With a short history the band rests on few misses and
is rougher; where there are too few misses several weeks ahead, the band is widened from the
nearest step ahead that has enough, by the square root of the distance. A sudden change that
the history never showed (a new way of working, a merger of units) is outside what the band
promises.

Cost: one refit of two years of weeks is a few milliseconds of pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

Kind = Literal["share", "count"]

MIN_WEEKS = 8  # weeks with a value: fewer and there is no forecast
MIN_ORIGIN = 4  # weeks with a value before a back-test forecast is made (and the start slope)
MIN_ERRORS = 4  # back-test misses at a step ahead for its own band; fewer: widened from nearer
ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8)  # level weights tried
BETAS = (0.05, 0.1, 0.2)  # trend weights tried (as a share of α's correction)
PHIS = (0.8, 0.9, 0.98)  # damping tried
SES_PARAMETERS = 2  # α and the start level
HOLT_PARAMETERS = 5  # α, β, φ, the start level and slope


@dataclass(frozen=True)
class Forecast:
    """`points[i]`, `low[i]`, `high[i]`: the forecast and its band i + 1 weeks after the last
    week passed (that week counts even when it had no value)."""

    points: list[float]
    low: list[float]
    high: list[float]
    method: str
    level: float
    fitted_on: int  # weeks with a value that the forecast rests on


class Coverage(TypedDict):
    """What `backtest` found: the share of held-out weeks inside the band."""

    level: float  # the band's promised share
    overall: float | None  # over all steps ahead; None when nothing could be checked
    per_horizon: list[float | None]  # [h - 1]: h weeks ahead
    checked: int  # held-out weeks (with a value) compared with a band, over all steps ahead
    checked_per_horizon: list[int]
    origins: int  # the weeks a forecast was made from


@dataclass(frozen=True)
class _Model:
    alpha: float
    beta: float  # 0: no trend
    phi: float  # 1.0 when there is no trend (unused then)

    @property
    def trend(self) -> bool:
        return self.beta > 0

    def describe(self) -> str:
        if not self.trend:
            return f"simple exponential smoothing, α={self.alpha:g}"
        return f"Holt's damped trend, α={self.alpha:g} β={self.beta:g} φ={self.phi:g}"


def _check(values: Sequence[float | None], horizon: int, level: float, kind: Kind) -> None:
    if kind not in ("share", "count"):
        raise ValueError(f"kind must be 'share' or 'count', not {kind!r}")
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    for value in values:
        if value is None:
            continue
        if not math.isfinite(value):
            raise ValueError(f"not a number: {value!r}")
        if kind == "share" and not 0 <= value <= 1:
            raise ValueError(f"a share outside 0..1: {value!r}")
        if kind == "count" and value < 0:
            raise ValueError(f"a negative count: {value!r}")


def _start(values: Sequence[float | None]) -> tuple[int, float, float]:
    """Where the recursion starts (the first week with a value), its level (that value) and
    slope (least squares over the first `MIN_ORIGIN` weeks with a value)."""
    seen = [(i, v) for i, v in enumerate(values) if v is not None][:MIN_ORIGIN]
    first = seen[0][0]
    xs = [float(i) for i, _ in seen]
    ys = [v for _, v in seen]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return first, seen[0][1], slope


def _squared_error(values: Sequence[float | None], model: _Model, first: int, level: float,
                   slope: float) -> float:
    """The sum of squared one-week-ahead errors over the weeks after `first` (the fit's loss)."""
    alpha, ab, phi = model.alpha, model.alpha * model.beta, model.phi
    b = slope if model.trend else 0.0
    if not model.trend:
        phi = 1.0
    sse = 0.0
    for i in range(first + 1, len(values)):
        y = values[i]
        pb = phi * b
        if y is None:
            level += pb
            b = pb
            continue
        e = y - level - pb
        sse += e * e
        level += pb + alpha * e
        b = pb + ab * e
    return sse


def _states(values: Sequence[float | None], model: _Model, first: int, level: float,
            slope: float) -> list[tuple[float, float]]:
    """[t]: (level, slope) after the weeks before t, for t in first + 1 .. len(values)."""
    alpha, ab, phi = model.alpha, model.alpha * model.beta, model.phi
    b = slope if model.trend else 0.0
    if not model.trend:
        phi = 1.0
    out = [(0.0, 0.0)] * (first + 1)
    out[first] = (math.nan, math.nan)  # no state before the first value
    out.append((level, b))
    for i in range(first + 1, len(values)):
        y = values[i]
        pb = phi * b
        if y is None:
            level += pb
            b = pb
        else:
            e = y - level - pb
            level += pb + alpha * e
            b = pb + ab * e
        out.append((level, b))
    return out


def _ahead(model: _Model, horizon: int) -> list[float]:
    """[h - 1]: what a slope of 1 adds h weeks ahead (φ + φ² + ... + φʰ; 0 without a trend)."""
    if not model.trend:
        return [0.0] * horizon
    out, total, power = [], 0.0, 1.0
    for _ in range(horizon):
        power *= model.phi
        total += power
        out.append(total)
    return out


def _select(values: Sequence[float | None], first: int, level: float, slope: float,
            observed: int) -> _Model:
    """The grid's best flat model and best trend model by one-week-ahead squared error; the
    trend model only when Akaike's criterion prefers it."""
    flat = [_Model(a, 0.0, 1.0) for a in ALPHAS]
    holts = [_Model(a, b, p) for a in ALPHAS for b in BETAS for p in PHIS]
    sse_ses, best_ses = min(((_squared_error(values, m, first, level, slope), m) for m in flat),
                            key=lambda s: s[0])
    sse_holt, best_holt = min(((_squared_error(values, m, first, level, slope), m)
                               for m in holts), key=lambda s: s[0])
    n = observed - 1  # one-week-ahead errors
    if sse_ses <= 0 or n <= HOLT_PARAMETERS:
        return best_ses
    if sse_holt <= 0:
        return best_holt
    aic_ses = n * math.log(sse_ses / n) + 2 * SES_PARAMETERS
    aic_holt = n * math.log(sse_holt / n) + 2 * HOLT_PARAMETERS
    return best_holt if aic_holt < aic_ses else best_ses


def _quantile(errors: list[float], level: float) -> float:
    """The ⌈level·(m + 1)⌉-th smallest of m misses (the largest when that is beyond m): the
    finite-sample rule under which a new miss like the old ones is within it at least `level`
    of the time."""
    ordered = sorted(errors)
    k = math.ceil(level * (len(ordered) + 1) - 1e-9)
    return ordered[min(k, len(ordered)) - 1]


def _half_widths(values: Sequence[float | None], model: _Model, first: int, level0: float,
                 slope: float, horizon: int, level: float) -> tuple[list[float], int]:
    """The band's half-width h weeks ahead from the rolling-origin back-test, never narrowing
    as h grows; and the number of origins."""
    states = _states(values, model, first, level0, slope)
    ahead = _ahead(model, horizon)
    misses: list[list[float]] = [[] for _ in range(horizon)]
    seen = 0
    origins = 0
    n = len(values)
    for t in range(n):
        if t > 0 and values[t - 1] is not None:
            seen += 1
        if seen < MIN_ORIGIN:
            continue
        origins += 1
        lv, b = states[t]
        for h in range(1, min(horizon, n - t) + 1):
            y = values[t + h - 1]
            if y is not None:
                misses[h - 1].append(abs(y - (lv + ahead[h - 1] * b)))
    widths: list[float] = []
    anchor_h, anchor = 0, 0.0
    for h in range(1, horizon + 1):
        if len(misses[h - 1]) >= MIN_ERRORS:
            width = _quantile(misses[h - 1], level)
            anchor_h, anchor = h, width
        else:  # too few misses this far ahead: widen from the furthest step that has enough
            width = anchor * math.sqrt(h / anchor_h)
        widths.append(max(width, widths[-1]) if widths else width)
    return widths, origins


def _clip(x: float, kind: Kind) -> float:
    return min(max(x, 0.0), 1.0) if kind == "share" else max(x, 0.0)


def forecast(values: Sequence[float | None], horizon: int = 8, level: float = 0.8, *,
             kind: Kind) -> Forecast | None:
    """The next `horizon` weeks of a weekly series, oldest week first, with a band meant to
    hold `level` of the weeks to come (see the module's docstring).

    `values` are shares (0..1, None for a week without cases) when `kind` is "share", counts
    (≥ 0) when "count". The forecast starts the week after the last entry. Returns None when
    fewer than `MIN_WEEKS` (8) weeks have a value: too little history for a forecast.
    Raises ValueError for a value that is not a number or outside the kind's range.
    """
    _check(values, horizon, level, kind)
    observed = sum(v is not None for v in values)
    if observed < MIN_WEEKS:
        return None
    first, level0, slope = _start(values)
    model = _select(values, first, level0, slope, observed)
    widths, origins = _half_widths(values, model, first, level0, slope, horizon, level)
    lv, b = _states(values, model, first, level0, slope)[len(values)]
    raw = [lv + a * b for a in _ahead(model, horizon)]
    percent = f"{level * 100:g} %"
    return Forecast(
        points=[_clip(p, kind) for p in raw],
        low=[_clip(p - w, kind) for p, w in zip(raw, widths, strict=True)],
        high=[_clip(p + w, kind) for p, w in zip(raw, widths, strict=True)],
        method=(f"{model.describe()}; band: {percent} of back-test errors at each horizon "
                f"(forecasts from {origins} earlier weeks)"),
        level=level,
        fitted_on=observed,
    )


def backtest(values: Sequence[float | None], horizon: int = 8, level: float = 0.8, *,
             kind: Kind) -> Coverage:
    """How often the band held on this series: from every week t that has enough history, the
    whole forecast (weights and band) is made from the weeks before t only, and each later
    week with a value, h weeks ahead (h ≤ `horizon`), is checked against the band at h.

    Slower than `forecast` (one forecast per week of history): for tests and benchmarks.
    """
    _check(values, horizon, level, kind)
    inside = [0] * horizon
    checked = [0] * horizon
    origins = 0
    for t in range(1, len(values)):
        made = forecast(values[:t], horizon, level, kind=kind)
        if made is None:
            continue
        origins += 1
        for h in range(1, min(horizon, len(values) - t) + 1):
            y = values[t + h - 1]
            if y is None:
                continue
            checked[h - 1] += 1
            inside[h - 1] += made.low[h - 1] <= y <= made.high[h - 1]
    total = sum(checked)
    return Coverage(
        level=level,
        overall=sum(inside) / total if total else None,
        per_horizon=[i / c if c else None for i, c in zip(inside, checked, strict=True)],
        checked=total,
        checked_per_horizon=checked,
        origins=origins,
    )
