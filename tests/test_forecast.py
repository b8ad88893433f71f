"""dashboard/domain/forecast.py: forecasts of the weekly access-to-care series and their bands.

The series are synthetic but shaped like the real ones: the share of cases started within the
legal limit (around 0.85, lower in the summer weeks 27-31 and at Christmas, from a binomial
draw over the week's cases, None in a week without cases) and the count of open cases past
their limit (a slow upward drift with noise). All draws use fixed seeds.
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics

import pytest

from dashboard.domain.forecast import MIN_WEEKS, Forecast, backtest, forecast

# -- series -------------------------------------------------------------------------------------


def iso_week(i: int) -> int:
    """Week number (1..52) of week i of a series that starts in week 1."""
    return i % 52 + 1


def expected_share(week: int) -> float:
    if 27 <= week <= 31:  # summer: staff on holiday
        return 0.70
    if week in (51, 52, 1):  # Christmas and New Year
        return 0.72
    return 0.85


def share_series(seed: int, weeks: int = 104, empty_every: int = 0) -> list[float | None]:
    """Shares of cases started in time, from 15..40 cases a week drawn one by one; with
    `empty_every`, every that many weeks has no cases (None)."""
    rng = random.Random(seed)
    out: list[float | None] = []
    for i in range(weeks):
        cases = 0 if empty_every and i % empty_every == empty_every - 1 else rng.randint(15, 40)
        if cases == 0:
            out.append(None)
            continue
        p = expected_share(iso_week(i))
        out.append(sum(rng.random() < p for _ in range(cases)) / cases)
    return out


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means here."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def count_series(seed: int, weeks: int = 104) -> list[float | None]:
    """Open cases past their limit: about 12, drifting up by 0.1 a week, Poisson noise."""
    rng = random.Random(seed)
    return [float(poisson(rng, 12 + 0.1 * i)) for i in range(weeks)]


def widths(f: Forecast) -> list[float]:
    return [hi - lo for lo, hi in zip(f.low, f.high, strict=True)]


def made(values: list[float | None], **kwargs: object) -> Forecast:
    f = forecast(values, **kwargs)  # type: ignore[arg-type]
    assert f is not None
    return f


# -- shape of the answer ------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [1, 4, 8, 13])
def test_a_forecast_has_horizon_points_each_with_a_band(horizon: int) -> None:
    values = share_series(1)
    f = made(values, horizon=horizon, kind="share")
    assert len(f.points) == len(f.low) == len(f.high) == horizon
    for lo, p, hi in zip(f.low, f.points, f.high, strict=True):
        assert 0 <= lo <= p <= hi <= 1
    assert any(hi > lo for lo, hi in zip(f.low, f.high, strict=True))  # a band, not a line
    assert f.level == 0.8
    assert f.fitted_on == 104


def test_the_share_forecast_is_near_the_series_usual_level() -> None:
    values = share_series(2, weeks=100)
    f = made(values, kind="share")
    # The series ends in week 48, after ordinary weeks (before Christmas): near 0.85, and the
    # band is neither a sliver nor the whole 0..1.
    assert all(0.75 < p < 0.92 for p in f.points)
    assert all(0.05 < w < 0.5 for w in widths(f))


def test_the_method_is_described() -> None:
    f = made(count_series(3), kind="count", level=0.8)
    assert "α=" in f.method
    assert "80 %" in f.method and "back-test" in f.method
    f90 = made(count_series(3), kind="count", level=0.9)
    assert "90 %" in f90.method


def test_the_forecast_is_frozen_and_deterministic() -> None:
    values = share_series(4, empty_every=9)
    f = made(values, kind="share")
    assert made(list(values), kind="share") == f
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.points = []  # type: ignore[misc]


def test_a_higher_level_gives_a_band_at_least_as_wide() -> None:
    values = count_series(5)
    narrow, wide = made(values, kind="count", level=0.5), made(values, kind="count", level=0.95)
    assert narrow.points == wide.points
    assert all(w >= n for n, w in zip(widths(narrow), widths(wide), strict=True))
    assert sum(widths(wide)) > sum(widths(narrow))


# -- the band -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_the_band_never_narrows_further_ahead(seed: int) -> None:
    # Counts near 40 are never clipped at 0, so the band's width is the back-test's.
    rng = random.Random(seed)
    weeks = rng.choice([10, 14, 30, 104])
    values: list[float | None] = [float(poisson(rng, 40)) for _ in range(weeks)]
    f = made(values, horizon=12, kind="count")
    assert min(f.low) > 0
    w = widths(f)
    assert all(b >= a - 1e-12 for a, b in zip(w, w[1:], strict=False)), w


def test_the_share_band_never_narrows_where_it_is_not_clipped() -> None:
    # Before clipping the band is the point ± a half-width; a side that is not clipped shows it.
    sides = 0
    for seed in range(8):
        f = made(share_series(seed, weeks=60 + 7 * seed), horizon=10, kind="share")
        below = [p - lo for lo, p in zip(f.low, f.points, strict=True) if lo > 0]
        above = [hi - p for p, hi in zip(f.points, f.high, strict=True) if hi < 1]
        for side in (below, above):
            assert all(b >= a - 1e-12 for a, b in zip(side, side[1:], strict=False)), side
            sides += len(side)
    assert sides > 100  # most sides were checked


def test_a_share_band_is_clipped_at_1() -> None:
    # A unit where nearly every case starts in time: the band's top would pass 1.
    rng = random.Random(6)
    values: list[float | None] = [
        sum(rng.random() < 0.97 for _ in range(12)) / 12 for _ in range(80)]
    f = made(values, kind="share")
    assert all(0 <= lo <= p <= hi <= 1 for lo, p, hi in zip(f.low, f.points, f.high, strict=True))
    assert max(f.high) == 1.0
    # It was clipped, not merely close: the band below the point is wider than the room above.
    assert any(p - lo > 1 - p for lo, p in zip(f.low, f.points, strict=True))


def test_a_count_band_is_clipped_at_0() -> None:
    rng = random.Random(7)
    values: list[float | None] = [float(poisson(rng, 0.6)) for _ in range(80)]
    f = made(values, kind="count")
    assert all(0 <= lo <= p <= hi for lo, p, hi in zip(f.low, f.points, f.high, strict=True))
    assert min(f.low) == 0.0
    assert any(p - lo < hi - p for lo, p, hi in zip(f.low, f.points, f.high, strict=True))


def test_a_count_falling_to_zero_is_not_forecast_below_zero() -> None:
    values: list[float | None] = [float(40 - 2 * i) for i in range(20)]  # 40, 38, ..., 2
    f = made(values, kind="count")
    assert f.points[0] < 2  # the fall goes on ...
    assert f.points[-1] == 0.0  # ... to zero, and no further
    assert all(p >= 0 and lo >= 0 for p, lo in zip(f.points, f.low, strict=True))


# -- weeks without cases, short and flat series -------------------------------------------------


def test_weeks_without_cases_are_skipped_not_counted_as_zero() -> None:
    values = share_series(8, weeks=104, empty_every=4)  # a quarter of the weeks: None
    assert values.count(None) == 26
    f = made(values, kind="share")
    assert f.fitted_on == 78
    # Read as 0 the empty weeks would drag the forecast far below the usual 0.85.
    assert all(0.75 < p < 0.92 for p in f.points)


def test_empty_weeks_at_the_end_carry_the_model_forward_without_updating() -> None:
    values = count_series(9, weeks=70)
    padded = values + [None, None, None]
    f, g = made(values, horizon=11, kind="count"), made(padded, horizon=8, kind="count")
    assert g.fitted_on == f.fitted_on == 70
    # Three weeks without a value: the padded forecast's first week is the plain one's fourth.
    assert g.points == pytest.approx(f.points[3:], abs=1e-9)


def test_empty_weeks_at_the_start_are_ignored() -> None:
    values = share_series(10, weeks=60)
    f, g = made(values, kind="share"), made([*[None] * 5, *values], kind="share")
    assert g.points == pytest.approx(f.points, abs=1e-12)
    assert g.fitted_on == f.fitted_on


@pytest.mark.parametrize(("constant", "kind"), [(0.9, "share"), (1.0, "share"), (5.0, "count"),
                                                (0.0, "count")])
def test_a_constant_series_is_forecast_as_that_constant(constant: float, kind: str) -> None:
    values: list[float | None] = [constant] * 30
    values[7] = values[19] = None
    f = made(values, kind=kind)
    assert f.points == pytest.approx([constant] * 8, abs=1e-12)
    assert all(lo <= p <= hi for lo, p, hi in zip(f.low, f.points, f.high, strict=True))
    assert all(w < 1e-9 for w in widths(f))  # it never moved: no miss to widen the band


def test_too_little_history_gives_no_forecast() -> None:
    assert MIN_WEEKS == 8
    rng = random.Random(11)
    seven: list[float | None] = [rng.uniform(0.7, 0.95) for _ in range(7)]
    assert forecast([], kind="share") is None
    assert forecast(seven, kind="share") is None
    assert forecast([None, *seven[:3], None, None, *seven[3:], None], kind="share") is None
    eight = [*seven, 0.8]
    f = made(eight, kind="share")
    assert f.fitted_on == 8
    assert len(f.points) == 8 and all(hi > lo for lo, hi in zip(f.low, f.high, strict=True))
    assert made([None, *eight[:4], None, *eight[4:]], kind="share").fitted_on == 8


def test_bad_input_is_refused() -> None:
    ok: list[float | None] = [0.8] * 10
    with pytest.raises(ValueError):
        forecast([*ok, 1.2], kind="share")
    with pytest.raises(ValueError):
        forecast([*ok, -1.0], kind="count")
    with pytest.raises(ValueError):
        forecast([*ok, math.nan], kind="share")
    with pytest.raises(ValueError):
        forecast(ok, level=1.0, kind="share")
    with pytest.raises(ValueError):
        forecast(ok, horizon=0, kind="share")
    with pytest.raises(ValueError):
        forecast(ok, kind="rate")  # type: ignore[arg-type]


# -- trends -------------------------------------------------------------------------------------


def test_a_rising_count_is_forecast_to_rise() -> None:
    rng = random.Random(12)
    values: list[float | None] = [
        float(max(0, round(5 + 0.6 * i + rng.gauss(0, 1.5)))) for i in range(60)]
    f = made(values, kind="count")
    recent = statistics.fmean(v for v in values[-4:] if v is not None)
    assert "trend" in f.method
    assert f.points[0] > recent
    assert all(b > a for a, b in zip(f.points, f.points[1:], strict=False))
    assert f.points[-1] > 5 + 0.6 * 60  # above where the line was at the first forecast week


def test_a_falling_share_is_forecast_to_fall() -> None:
    rng = random.Random(13)
    values: list[float | None] = [
        min(1.0, max(0.0, 0.95 - 0.006 * i + rng.gauss(0, 0.01))) for i in range(50)]
    f = made(values, kind="share")
    assert "trend" in f.method
    assert f.points[0] < statistics.fmean(v for v in values[-4:] if v is not None)
    assert all(b < a for a, b in zip(f.points, f.points[1:], strict=False))


def test_a_flat_noisy_series_gets_no_invented_trend() -> None:
    rng = random.Random(14)
    values: list[float | None] = [rng.gauss(20, 3) for _ in range(104)]
    f = made(values, kind="count")
    assert max(f.points) - min(f.points) < 1.0
    assert abs(f.points[0] - 20) < 3


# -- does the band hold? ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_on_a_stationary_series_80_percent_bands_hold_about_80_percent(seed: int) -> None:
    rng = random.Random(seed)
    sigma = 0.04
    values: list[float | None] = [min(1.0, max(0.0, rng.gauss(0.85, sigma))) for _ in range(200)]
    coverage = backtest(values, horizon=8, level=0.8, kind="share")
    assert coverage["overall"] is not None
    assert 0.65 <= coverage["overall"] <= 0.95, coverage
    assert all(c is not None and 0.6 <= c <= 0.97 for c in coverage["per_horizon"]), coverage
    # Not by a band too wide to miss: N(0, σ)'s 80 % half-width is 1.28 σ; the forecast's own
    # level is uncertain too, so somewhat more, but not twice as much.
    f = made(values, kind="share")
    assert all(1.0 * sigma < w / 2 < 2.0 * sigma for w in widths(f)), widths(f)


def test_on_a_stationary_count_the_band_holds_at_other_levels_too() -> None:
    rng = random.Random(24)
    values: list[float | None] = [float(poisson(rng, 8)) for _ in range(160)]
    for level, lowest, highest in [(0.5, 0.38, 0.7), (0.8, 0.65, 0.95), (0.95, 0.85, 1.0)]:
        overall = backtest(values, level=level, kind="count")["overall"]
        assert overall is not None and lowest <= overall <= highest, (level, overall)


def test_the_realistic_series_bands_hold() -> None:
    for values, kind in [(share_series(31), "share"), (share_series(32, empty_every=7), "share"),
                         (count_series(33), "count"), (count_series(34), "count")]:
        coverage = backtest(values, kind=kind)  # type: ignore[arg-type]
        assert coverage["overall"] is not None and 0.65 <= coverage["overall"] <= 0.95, coverage


def test_backtest_counts_coverage_as_the_slow_obvious_loop_does() -> None:
    values = share_series(41, weeks=45, empty_every=6)
    horizon, level = 5, 0.8
    coverage = backtest(values, horizon=horizon, level=level, kind="share")

    hits = {h: 0 for h in range(1, horizon + 1)}
    tried = {h: 0 for h in range(1, horizon + 1)}
    origins = 0
    for t in range(len(values) + 1):
        history = values[:t]
        f = forecast(history, horizon=horizon, level=level, kind="share")
        if f is None:
            continue
        if t == len(values):
            break  # nothing after the last week to check
        origins += 1
        for h in range(1, horizon + 1):
            week = t + h - 1
            if week >= len(values) or values[week] is None:
                continue
            actual = values[week]
            assert actual is not None
            tried[h] += 1
            if f.low[h - 1] <= actual <= f.high[h - 1]:
                hits[h] += 1

    assert coverage["origins"] == origins
    assert coverage["checked_per_horizon"] == [tried[h] for h in range(1, horizon + 1)]
    assert coverage["checked"] == sum(tried.values())
    assert coverage["per_horizon"] == pytest.approx(
        [hits[h] / tried[h] for h in range(1, horizon + 1)])
    assert coverage["overall"] == pytest.approx(sum(hits.values()) / sum(tried.values()))
    assert 0 < sum(hits.values()) < sum(tried.values())  # a check that could have gone either way


def test_backtest_of_a_short_series_checks_nothing() -> None:
    coverage = backtest([0.8, 0.9, None, 0.85, 0.7, 0.9, 0.8, 0.82], kind="share")
    assert coverage["overall"] is None
    assert coverage["checked"] == 0 and coverage["origins"] == 0
    assert coverage["per_horizon"] == [None] * 8
