"""The forecast of the day on the flow card (dashboard/domain/dayforecast.py): recomputed the
slow, obvious way, read from the same weekdays as the typical day, and drawn in words."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.config import load_config
from dashboard.domain import dayforecast
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import unit_tiles
from dashboard.storage.history import History
from layouts.components import arrivals_chart
from layouts.patch import plain
from tests.conftest import EXAMPLE_CONFIG
from tests.test_wall import nodes, text

TZ = ZoneInfo("Europe/Helsinki")
CONFIG = load_config(EXAMPLE_CONFIG)
TODAY = date(2027, 1, 14)  # a Thursday; Christmas Eve 2026 (a Thursday) is 3 weeks back
CHRISTMAS_EVE = date(2026, 12, 24)
PAST = [  # the 8 Thursdays before TODAY but Christmas Eve: 7 days, each a little different
    {"08": 10, "09": 8, "10": 6, "11": 5, "12": 4, "13": 6, "14": 5, "15": 3},
    {"08": 12, "09": 9, "10": 7, "11": 4, "12": 3, "13": 7, "14": 4, "15": 2},
    {"08": 9, "09": 7, "10": 6, "11": 6, "12": 5, "13": 5, "14": 6, "15": 4},
    {"08": 14, "09": 11, "10": 8, "11": 6, "12": 5, "13": 8, "14": 6, "15": 3},
    {"08": 8, "09": 6, "10": 5, "11": 3, "12": 3, "13": 4, "14": 3, "15": 1},
    {"08": 11, "09": 9, "10": 7, "11": 5, "12": 4, "13": 6, "14": 5, "15": 3},
    {"08": 10, "09": 8, "10": 7, "11": 5, "12": 4, "13": 5, "14": 5, "15": 2},
]


def slow_forecast(past: list[dict[str, int]], today: dict[str, int], at: datetime) -> dict[str, Any]:
    """The method written out the long way: means, the totals' variance, the gamma posterior,
    the negative binomial's probabilities one by one from k = 0."""
    n = len(past)
    hours = sorted({h for d in past for h in d})
    mu = {h: sum(d.get(h, 0) for d in past) / n for h in hours}
    totals = [sum(d.values()) for d in past]
    m = sum(totals) / n
    s2 = sum((x - m) ** 2 for x in totals) / (n - 1)
    between = max(0.0, (s2 - m) / (m * m))
    alpha = 1 / (between + (1 / m + between) / n)
    part = (at.minute * 60 + at.second) / 3600
    seen = sum(mu[h] for h in hours if int(h) < at.hour) + part * mu.get(f"{at.hour:02d}", 0.0)
    arrived = sum(today.values())
    shape, rate = alpha + arrived, alpha + seen
    # each hour's own lumpiness: its count against its share of its own day's total
    open_hours = [h for h in hours if mu[h] > 0]
    num = den = 0.0
    for d in past:
        theta = sum(d.values()) / sum(mu.values())
        for h in open_hours:
            e = theta * mu[h]
            num += (d.get(h, 0) - e) ** 2 * len(open_hours) / (len(open_hours) - 1) - e
            den += e * e
    psi = max(0.0, num / den)

    def band(parts: list[float]) -> tuple[float, int, int]:
        expected = sum(parts)
        # the negative binomial's variance m + m²/shape, plus ψ Σe² scaled alike: a lower shape
        lower = 1 / (1 / shape + psi * sum(e * e for e in parts) / expected**2)
        q = expected / (rate * lower / shape + expected)
        p = (1 - q) ** lower  # P(0)
        cdf, k, lo = p, 0, None
        while True:
            if lo is None and cdf >= 0.1:
                lo = k
            if cdf >= 0.9:
                return expected * shape / rate, lo, k  # type: ignore[return-value]
            p *= (lower + k) / (k + 1) * q
            k += 1
            cdf += p

    out: dict[str, list[float]] = {}
    rests: list[float] = []
    for h in hours:
        if int(h) < at.hour:
            continue
        rest = mu[h] * (1 - part) if int(h) == at.hour else mu[h]
        rests.append(rest)
        mean, lo, hi = band([rest])
        c = today.get(h, 0) if int(h) == at.hour else 0
        out[h] = [round(c + mean), c + lo, c + hi]
    mean, lo, hi = band(rests)
    return {"hours": out, "total": [round(arrived + mean), arrived + lo, arrived + hi], "level": 0.8, "days": n}


def test_the_forecast_is_the_gamma_poisson_band_recomputed_the_slow_way():
    at = datetime.combine(TODAY, time(10, 20), tzinfo=TZ)
    today = {"08": 13, "09": 11, "10": 3}
    got = dayforecast.forecast(PAST, today, at)
    assert got == slow_forecast(PAST, today, at)
    assert list(got["hours"]) == ["10", "11", "12", "13", "14", "15"]  # the hour in progress too
    assert got["hours"]["10"][1] >= 3  # never fewer than have already come


# the same Thursdays with lumpy hours: a bus at 08 one week, at 09 the next (totals alike)
LUMPY = [{**d, "08": d["08"] + (6 if i % 2 else -5), "09": d["09"] + (-5 if i % 2 else 6)} for i, d in enumerate(PAST)]


def test_lumpy_hours_widen_each_hours_band_the_slow_way_too():
    at = datetime.combine(TODAY, time(8, 10), tzinfo=TZ)
    today = {"08": 4}
    assert dayforecast.hour_spread(PAST, dayforecast.typical_day(PAST)) == 0.0  # hours as Poisson as can be
    psi = dayforecast.hour_spread(LUMPY, dayforecast.typical_day(LUMPY))
    assert psi > 0.05
    got, plain = dayforecast.forecast(LUMPY, today, at), dayforecast.forecast(PAST, today, at)
    assert got == slow_forecast(LUMPY, today, at)
    assert got is not None and plain is not None
    width = {h: got["hours"][h][2] - got["hours"][h][1] for h in ("09", "13")}
    assert width["09"] > plain["hours"]["09"][2] - plain["hours"]["09"][1]


def test_the_hours_own_spread_is_found_in_days_made_with_a_known_one():
    """Three hundred days made with a day factor (CV 25 %) and each hour's own factor of CV
    30 % (ψ = 0.09), Poisson counts: the estimate finds ψ, and none in days without it."""
    import random

    rng = random.Random(7)
    profile = {8: 14.0, 9: 11.0, 10: 8.0, 11: 6.0, 12: 5.0, 13: 7.0, 14: 6.0, 15: 3.0}

    def poisson(lam: float) -> int:  # Knuth's, for the small means of an hour
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1

    def days(hour_cv: float) -> list[dict[str, float]]:
        out = []
        for _ in range(300):
            theta = rng.gammavariate(16, 1 / 16)
            out.append({f"{h:02d}": float(poisson(mu * theta * (rng.gammavariate(1 / hour_cv**2, hour_cv**2)
                                                                  if hour_cv else 1.0)))
                        for h, mu in profile.items()})
        return out

    lumpy, smooth = days(0.3), days(0.0)
    assert 0.06 < dayforecast.hour_spread(lumpy, dayforecast.typical_day(lumpy)) < 0.12
    assert dayforecast.hour_spread(smooth, dayforecast.typical_day(smooth)) < 0.015


def test_a_busy_morning_raises_the_rest_of_the_day_and_a_quiet_one_lowers_it():
    at = datetime.combine(TODAY, time(11, 0), tzinfo=TZ)
    busy = dayforecast.forecast(PAST, {"08": 16, "09": 13, "10": 10}, at)
    quiet = dayforecast.forecast(PAST, {"08": 6, "09": 5, "10": 4}, at)
    typical = dayforecast.typical_day(PAST)
    assert busy is not None and quiet is not None
    assert busy["hours"]["13"][0] > typical["13"] > quiet["hours"]["13"][0]
    for fc in (busy, quiet):
        for mid, lo, hi in fc["hours"].values():
            assert lo <= mid <= hi


def test_an_evening_after_closing_has_nothing_left_to_forecast():
    evening = datetime.combine(TODAY, time(17, 30), tzinfo=TZ)
    assert dayforecast.forecast(PAST, PAST[0], evening) is None


def test_a_day_without_history_has_no_forecast():
    at = datetime.combine(TODAY, time(9, 0), tzinfo=TZ)
    assert dayforecast.forecast([], {"08": 12}, at) is None
    assert dayforecast.forecast([{}, {}], {"08": 12}, at) is None


def test_the_band_is_poisson_when_past_days_are_all_alike():
    # identical days: no spread between days, only what 8 days cannot know of the typical day
    same = [{"09": 50}] * 8
    fc = dayforecast.forecast(same, {}, datetime.combine(TODAY, time(8, 0), tzinfo=TZ))
    assert fc is not None
    mid, lo, hi = fc["total"]
    assert mid == 50 and lo < 50 < hi
    assert hi - lo <= 2 * 1.2816 * math.sqrt(50 * (1 + 1 / 8)) + 2  # about the Poisson band, a little wider


@pytest.fixture
def history(tmp_path: Path) -> History:
    h = History.open(None, tmp_path)
    changes = []
    for i, w in enumerate(range(1, 9)):
        day = TODAY - timedelta(weeks=w)
        series = {"08": 500, "09": 500} if day == CHRISTMAS_EVE else PAST[i if day > CHRISTMAS_EVE else i - 1]
        # a day's counts as they grew: the last of the day is the day's
        changes.append((f"{day}-noon", Reading("flow.arrivals_by_hour", "vastaanotto", "", {"08": 1},
                                               datetime.combine(day, time(12), tzinfo=TZ), "virta")))
        changes.append((f"{day}-end", Reading("flow.arrivals_by_hour", "vastaanotto", "", series,
                                              datetime.combine(day, time(16, 30), tzinfo=TZ), "virta")))
    saturday = TODAY - timedelta(days=5)  # another weekday: not the same weekday, left out
    changes.append(("sat", Reading("flow.arrivals_by_hour", "vastaanotto", "", {"10": 300},
                                   datetime.combine(saturday, time(16), tzinfo=TZ), "virta")))
    h.record(changes)
    return h


def test_the_forecast_reads_the_same_weekdays_as_the_typical_day_without_the_holiday(history: History):
    past = history.same_weekday_arrivals("vastaanotto", TODAY, TZ)
    assert sorted(map(str, past)) == sorted(map(str, PAST))  # Christmas Eve and the Saturday left out
    typical = history.typical_arrivals("vastaanotto", TODAY, TZ)
    assert typical == {h: round(v, 1) for h, v in dayforecast.typical_day(list(past)).items()}


def arrivals_tile(history: History | None, counts: dict[str, int], at: datetime) -> dict[str, Any]:
    reading = Reading("flow.arrivals_by_hour", "vastaanotto", "", counts, at - timedelta(seconds=10),
                      "demo-potilasvirta")
    tiles, _ = unit_tiles(CONFIG, "vastaanotto", [("demo-potilasvirta", reading)], at, CONFIG.catalogue(),
                          False, history, CONFIG.poll_intervals(), TZ)
    return next(t for t in tiles if t["metric"] == "flow.arrivals_by_hour")


def test_the_arrivals_tile_carries_the_forecast_into_the_snapshot(history: History):
    at = datetime.combine(TODAY, time(10, 21), tzinfo=TZ)
    counts = {"08": 13, "09": 11, "10": 3}
    x = arrivals_tile(history, counts, at)
    assert x["forecast"] == slow_forecast([dict(d) for d in PAST], counts, at - timedelta(seconds=10))
    evening = datetime.combine(TODAY, time(18, 0), tzinfo=TZ)
    assert "forecast" not in arrivals_tile(history, {"08": 13}, evening)
    assert "forecast" not in arrivals_tile(None, counts, at)  # no history database: no forecast
    other = datetime.combine(TODAY + timedelta(days=1), time(10, 21), tzinfo=TZ)  # Friday: no Fridays kept
    assert "forecast" not in arrivals_tile(history, counts, other)


def drawn(series: dict[str, Any], at: datetime, langs: list[str] | None = None) -> list[dict[str, Any]]:
    tree = plain(arrivals_chart(series, langs or ["fi"], CONFIG.hours("vastaanotto"), at))
    return [p for node in tree for p in nodes(node)]


def test_the_card_marks_the_remaining_hours_and_says_the_days_total_in_words():
    at = datetime.combine(TODAY, time(10, 20), tzinfo=TZ)
    counts = {"08": 13, "09": 11, "10": 3}
    fc = dayforecast.forecast(PAST, counts, at)
    assert fc is not None
    series = {"value": counts, "typical": dayforecast.typical_day(PAST), "status": "fresh", "forecast": fc}
    props = drawn(series, at)
    marked = {p["data-hour"]: p["data-forecast"] for p in props if "data-forecast" in p}
    assert list(marked) == ["10", "11", "12", "13", "14", "15"]  # the hours still to come only
    assert marked["13"] == "{},{},{}".format(*fc["hours"]["13"])
    mid, lo, hi = fc["total"]
    line = next(p for p in props if p.get("className") == "fctotal")
    assert text(line) == f"ennuste: päivä yhteensä noin {mid} ({lo}–{hi})"
    assert line["data-forecast-total"] == f"{mid},{lo},{hi}" and line["data-forecast-level"] == "0.8"
    legend = next(p for p in props if p.get("className") == "key-forecast")
    assert text(legend) == "ennuste, 80 % väli"  # named in words, not by its colour
    sv = drawn(series, at, ["sv"])
    assert text(next(p for p in sv if p.get("className") == "fctotal")).startswith("prognos: dagen totalt cirka")


def test_a_card_without_a_forecast_says_nothing_of_one():
    at = datetime.combine(TODAY, time(10, 20), tzinfo=TZ)
    for series in ({"value": {"08": 13}, "typical": {}, "status": "fresh"},
                   {"value": {"08": 13}, "typical": dayforecast.typical_day(PAST), "status": "unavailable",
                    "forecast": dayforecast.forecast(PAST, {"08": 13}, at)}):
        props = drawn(series, at)
        assert not any("data-forecast" in p or "data-forecast-total" in p for p in props)
        assert "ennuste" not in " ".join(text(p) for p in props)
