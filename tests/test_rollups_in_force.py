"""A value counts while it is in force (issue 13): the rollups against a slow, obvious
statement of the rules, on weeks shaped like real ones — a weekend, Christmas and New Year's
holidays, a month's and a year's end, evenings, manual values that expire, and a source's
outages recorded as "nothing in force" — for units open 8–16 on working days, 7–20 every
day, and around the clock. Incremental upkeep in random batches and order must give what a
rebuild gives, and both what the statement says. Runs on SQLite and, when configured, on
PostgreSQL (the `history` fixture).

The statement (read it beside dashboard/storage/rollups.py's docstring):
- at an instant x, the value of a series is that of its last change at or before x (changes
  at one instant in the order they were written), unless that change is "null" (nothing in
  force: an outage), its valid-until has come, or — for a figure of today (plans, today's
  counts) — x lies on a later local day than the change;
- an hour has a row when some value was in force during it: its time-weighted mean, min and
  max over the parts with a value, its last value in force, and its number of changes;
- a day's figures over opening hours (on a day the unit is open) are the time-weighted mean
  and the maximum of the values in force between opening and closing, and the value in
  force just before closing time; a count's figure is its last value of the day.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.config import Zones
from dashboard.domain.clock import is_working_day
from dashboard.domain.readings import Reading
from dashboard.storage.history import History
from dashboard.storage.rollups import rebuild, series

TZ = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.store
US = timedelta(microseconds=1)
_ids = itertools.count()
# unit -> opening hours as the rollups keep them
HOURS = {"*": "8-16/working", "vo": "8-16/working", "lab": "7-20/every", "pkl": "0-24/every"}
KIND = {"queue.waiting": "gauge", "staff.planned": "today", "flow.completed_today": "count",
        "staff.present": "gauge"}

Change = tuple[datetime, Any, datetime | None]  # when, value (None: nothing in force), valid until


def value_at(changes: list[Change], x: datetime, kind: str, tz: ZoneInfo = TZ) -> Any:
    """The value in force at instant x: the plain statement above (days: those of `tz`)."""
    effective = [c for c in changes if c[0] <= x]  # `changes` are in recording order
    if not effective:
        return None
    latest = max(c[0] for c in effective)
    t, value, until = [c for c in effective if c[0] == latest][-1]
    if value is None or (until is not None and x >= until):
        return None
    if kind != "gauge" and x.astimezone(tz).date() != t.astimezone(tz).date():
        return None
    return value


def _pieces(changes: list[Change], a: datetime, b: datetime, kind: str,
            tz: ZoneInfo = TZ) -> list[tuple[Any, float]]:
    """(value, seconds) over [a, b), cut at every change and valid-until inside it."""
    cuts = sorted({a, b} | {c[0] for c in changes if a < c[0] < b}
                  | {c[2] for c in changes if c[2] is not None and a < c[2] < b})
    return [(value_at(changes, p, kind, tz), (q - p).total_seconds()) for p, q in zip(cuts, cuts[1:], strict=False)]


def reference_hour(changes: list[Change], h: datetime, kind: str, tz: ZoneInfo = TZ) -> dict[str, Any] | None:
    he = h + timedelta(hours=1)
    pieces = [(v, s) for v, s in _pieces(changes, h, he, kind, tz) if v is not None]
    if not pieces:
        return None
    total = sum(s for _, s in pieces)
    return {"mean": sum(v * s for v, s in pieces) / total, "min": min(v for v, _ in pieces),
            "max": max(v for v, _ in pieces), "last": pieces[-1][0],
            "samples": sum(1 for c in changes if h <= c[0] < he), "covered": total}


def reference_day(changes: list[Change], day: date, unit: str, kind: str, tz: ZoneInfo = TZ) -> dict[str, Any]:
    span, _, days = HOURS[unit].partition("/")
    start, end = (int(x) for x in span.split("-"))
    if days != "every" and not is_working_day(day):
        return {"open_mean": None, "open_max": None, "at_close": None}
    a = datetime.combine(day, time(start), tzinfo=tz)
    b = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) if end == 24
         else datetime.combine(day, time(end), tzinfo=tz))
    pieces = [(v, s) for v, s in _pieces(changes, a, b, kind, tz) if v is not None]
    total = sum(s for _, s in pieces)
    return {"open_mean": round(sum(v * s for v, s in pieces) / total, 3) if total else None,
            "open_max": max((v for v, _ in pieces), default=None),
            "at_close": value_at(changes, b - US, kind, tz)}


def _random_weeks(rng: random.Random, first: date, days: int,
                  zone: dict[str, ZoneInfo] | None = None) -> list[tuple[str, Reading]]:
    """Changes as feeds, tablets and outages make them: mostly in the working day, some in
    the evening and at night, a few at the very same instant, manual values that expire,
    and "null" for a source that failed (clock times of each unit's `zone`, default TZ)."""
    out = []
    for unit in ("vo", "lab", "pkl"):
        for metric in KIND:
            for _ in range(rng.randint(15, 30)):
                day = first + timedelta(days=rng.randrange(days))
                hh = rng.choice([7, 8, 9, 10, 11, 13, 15, 16, 18, 22, 2]) if rng.random() < .3 else rng.randint(8, 15)
                when = datetime.combine(day, time(hh, rng.randint(0, 59)), tzinfo=(zone or {}).get(unit, TZ)) + timedelta(
                    seconds=rng.choice([0, 0, 0, 29]))
                key = "lääkäri" if metric.startswith("staff") else ""
                roll = rng.random()
                if roll < 0.1:
                    value: Any = None
                else:
                    value = rng.randint(0, 14)
                manual = roll > 0.85 and value is not None
                until = when + timedelta(hours=rng.choice([1, 3, 30])) if manual else None
                out.append((f"p{next(_ids)}", Reading(metric, unit, key, value, when,
                                                      "tablet" if manual else "feed", manual=manual,
                                                      entered_by="vv" if manual else None,
                                                      valid_until=until)))
    return out


def test_rollups_count_values_while_in_force_as_the_rules_say(history: History):
    # Sat 19.12. – Sun 4.1.: Christmas, New Year, Epiphany eve
    _check_against_the_statement(history, random.Random(20261221), date(2026, 12, 19), 17, TZ, {})


def test_each_unit_counts_in_its_own_sites_time_zone(history: History):
    """An area whose sites lie in three zones (issue 16): each unit's hours, days, figures of
    today and opening hours are its own zone's — over 22.10.–7.11.2026, when Europe ends
    summer time on Sunday 25.10. and New York on 1.11., with All Saints' Day (Sat 31.10.)."""
    zone = {"vo": TZ, "lab": ZoneInfo("Europe/London"), "pkl": ZoneInfo("America/New_York")}
    zones = Zones(TZ.key, (("lab", "Europe/London"), ("pkl", "America/New_York")))
    _check_against_the_statement(history, random.Random(20261025), date(2026, 10, 22), 17, zones, zone)
    # the rollups know what they were built in: a query in one zone for all is refused
    with pytest.raises(ValueError, match="rebuild"):
        series(history, TZ, ["queue.waiting"], ["lab"], date(2026, 10, 22), date(2026, 10, 23))


def _check_against_the_statement(history: History, rng: random.Random, first: date, days: int,
                                 zones: ZoneInfo | Zones, zone: dict[str, ZoneInfo]) -> None:
    TZ = zones  # noqa: N806 — the zones the rollups are built and asked in
    rebuild(history, TZ, HOURS)  # the opening hours the rollups are kept with
    written = _random_weeks(rng, first, days, zone)
    shuffled = written[:]
    rng.shuffle(shuffled)
    i = 0
    while i < len(shuffled):  # batches of 1–40, in shuffled order, some delivered twice
        n = rng.randint(1, 40)
        history.record(shuffled[i:i + n])
        history.record(shuffled[max(0, i - 2):i + 1])
        i += n
    last_day = first + timedelta(days=days)  # a day more: in a zone ahead, the newest change falls on it
    metrics, units = list(KIND), ["vo", "lab", "pkl"]
    incremental_h = series(history, TZ, metrics, units, first - timedelta(days=1), last_day, "hour")
    incremental_d = series(history, TZ, metrics, units, first - timedelta(days=1), last_day, "day")
    rebuild(history, TZ, HOURS)
    assert series(history, TZ, metrics, units, first - timedelta(days=1), last_day, "hour") == incremental_h
    assert series(history, TZ, metrics, units, first - timedelta(days=1), last_day, "day") == incremental_d

    recorded = {(r.metric, r.unit, r.key): [] for _, r in written}  # type: dict[Any, list[Change]]
    for row in history.changes():  # in the order they were written (id), as the rules say
        import json
        recorded.setdefault((row.metric, row.unit, row.key), []).append(
            (row.observed_at, json.loads(row.value), row.valid_until))
    newest_at = max(r.observed_at for _, r in written)
    got_h = {(r["metric"], r["unit"], datetime.fromisoformat(r["period"]).astimezone(UTC)): r
             for r in incremental_h}
    got_d = {(r["metric"], r["unit"], r["period"][:10]): r for r in incremental_d}
    checked_days = 0
    for (metric, unit, _key), changes in recorded.items():
        changes.sort(key=lambda c: c[0])  # stable: one instant keeps the writing order
        kind = KIND[metric]
        tz = zone.get(unit, ZoneInfo("Europe/Helsinki"))
        day = first - timedelta(days=1)
        newest = newest_at.astimezone(tz).date()  # the rollups reach to the end of its day
        while day <= newest:
            h = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
            any_hour = False
            while h < end:
                want = reference_hour(changes, h, kind, tz)
                have = got_h.get((metric, unit, h))
                if want is None:
                    assert have is None, (metric, unit, h)
                else:
                    any_hour = True
                    assert have is not None, (metric, unit, h)
                    assert (have["mean"], have["min"], have["max"], have["last"], have["samples"]) == (
                        round(want["mean"], 3), want["min"], want["max"], want["last"],
                        want["samples"]), (metric, unit, h)
                h += timedelta(hours=1)
            have_d = got_d.get((metric, unit, day.isoformat()))
            assert (have_d is not None) == any_hour, (metric, unit, day)
            if have_d is not None:
                want_d = reference_day(changes, day, unit, kind, tz)
                assert {k: have_d[k] for k in want_d} == want_d, (metric, unit, day)
                if kind == "count":
                    assert have_d["figure"] == have_d["last"]
                else:
                    assert have_d["figure"] == want_d["open_mean"]
                checked_days += 1
            day += timedelta(days=1)
    assert checked_days > 150  # the statement was really compared, day by day
