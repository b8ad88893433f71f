"""Hourly and daily rollups, retention, the history queries and the exports (issue: history
page). Every expectation is computed by hand; each test runs on SQLite and, when configured,
on PostgreSQL (the `history` fixture)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from dashboard.domain.readings import Reading
from dashboard.export import HEADERS, to_csv, to_xlsx
from dashboard.storage import rollups
from dashboard.storage.history import History, make_engine
from dashboard.storage.rollups import arrivals_heatmap, compare, compliance, prune, rebuild, series
from dashboard.storage.tables import DailyRollup, HourlyRollup, ReadingChange

TZ = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.store
MONDAY = date(2026, 11, 23)
_ids = itertools.count()


def at(day: date, hh: int, mm: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ).replace(fold=fold)


def change(metric: str, value: Any, when: datetime, unit: str = "vo", key: str = "",
           event: str | None = None) -> tuple[str, Reading]:
    return (event or f"e{next(_ids)}", Reading(metric, unit, key, value, when, "test"))


def hours(history: History, day: date, metric: str = "queue.waiting", unit: str = "vo",
          last: date | None = None) -> list[dict[str, Any]]:
    return series(history, TZ, [metric], [unit], day, last or day, "hour")


def by_hour(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["period"][11:16] + r["period"][-6:]: r for r in rows}


def covered(history: History, table: Any = HourlyRollup) -> list[float]:
    with history.engine.connect() as conn:
        order = table.hour_start if table is HourlyRollup else table.day
        return list(conn.execute(select(table.covered_seconds).order_by(order)).scalars())


# ---------------------------------------------------------------- hourly rows


def test_a_change_inside_an_hour_gives_the_time_weighted_mean(history: History):
    # 4 in force since Friday; 10 from 08:20 Monday: the 08 hour is (4·20 + 10·40) / 60 = 8
    history.record([change("queue.waiting", 4, at(MONDAY - timedelta(days=3), 15)),
                    change("queue.waiting", 10, at(MONDAY, 8, 20))])
    rows = by_hour(hours(history, MONDAY))
    eight = rows["08:00+02:00"]
    assert eight == {"metric": "queue.waiting", "unit": "vo", "key": "", "mean": 8.0, "min": 4,
                     "max": 10, "last": 10, "samples": 1, "period": "2026-11-23T08:00:00+02:00",
                     "bound": None}
    # the 4 stood through the weekend: Monday's rows begin at midnight with it
    assert min(rows) == "00:00+02:00" and len(rows) == 24 and rows["00:00+02:00"]["mean"] == 4.0
    saturday = by_hour(hours(history, MONDAY - timedelta(days=2)))
    assert len(saturday) == 24 and {r["last"] for r in saturday.values()} == {4}


def test_the_first_change_ever_covers_only_its_part_of_the_hour(history: History):
    history.record([change("queue.waiting", 10, at(MONDAY, 8, 20))])
    (eight, *_rest) = hours(history, MONDAY)
    assert (eight["mean"], eight["min"], eight["max"]) == (10.0, 10, 10)
    assert covered(history)[0] == 40 * 60


def test_a_value_is_carried_into_later_hours_and_days_until_it_changes(history: History):
    history.record([change("queue.waiting", 4, at(MONDAY, 7, 50)),
                    change("queue.waiting", 10, at(MONDAY, 8, 20)),
                    change("queue.waiting", 2, at(MONDAY, 13, 30))])
    rows = by_hour(hours(history, MONDAY, last=MONDAY + timedelta(days=1)))
    assert rows["07:00+02:00"]["mean"] == 4.0  # 07:50–08:00 only
    assert covered(history)[0] == 600
    for hh in ("09", "10", "11", "12"):
        assert rows[f"{hh}:00+02:00"] | {"period": ""} == {
            "metric": "queue.waiting", "unit": "vo", "key": "", "period": "", "mean": 10.0,
            "min": 10, "max": 10, "last": 10, "samples": 0, "bound": None}
    assert rows["13:00+02:00"]["mean"] == 6.0  # (10·30 + 2·30) / 60
    assert rows["23:00+02:00"]["last"] == 2 and rows["23:00+02:00"]["samples"] == 0
    # the history reaches as far as anything was written: Monday, so far
    assert all(r["period"].startswith("2026-11-23") for r in rows.values())
    assert len(rows) == 17
    # a change elsewhere on Wednesday: the 2 stood all Tuesday and Wednesday, and counts there
    history.record([change("queue.waiting", 7, at(MONDAY + timedelta(days=2), 9), unit="lab")])
    tuesday = hours(history, MONDAY + timedelta(days=1), last=MONDAY + timedelta(days=2))
    assert len(tuesday) == 48 and {(r["mean"], r["last"], r["samples"]) for r in tuesday} == {(2.0, 2, 0)}


def test_a_figure_of_today_ends_with_its_day(history: History):
    history.record([change("staff.planned", 8, at(MONDAY, 7), key="lääkäri"),
                    change("flow.arrivals_today", 40, at(MONDAY, 16)),
                    change("queue.waiting", 1, at(MONDAY + timedelta(days=1), 9))])
    planned = series(history, TZ, ["staff.planned"], ["vo"], MONDAY, MONDAY + timedelta(days=1), "hour")
    assert len(planned) == 17 and all(r["period"].startswith("2026-11-23") for r in planned)
    (day,) = series(history, TZ, ["flow.arrivals_today"], ["vo"], MONDAY, MONDAY + timedelta(days=1))
    assert (day["last"], day["figure"], day["open_mean"]) == (40, 40, None)  # a count: the day's total


def test_a_manual_value_ends_at_its_valid_until(history: History):
    until = at(MONDAY, 12)
    history.record([("m1", Reading("staff.present", "vo", "lääkäri", 6, at(MONDAY, 8), "tablet",
                                   manual=True, entered_by="vv", valid_until=until)),
                    change("queue.waiting", 1, at(MONDAY + timedelta(days=1), 9))])
    rows = series(history, TZ, ["staff.present"], ["vo"], MONDAY, MONDAY + timedelta(days=1), "hour")
    assert [r["period"][11:13] for r in rows] == ["08", "09", "10", "11"]
    (day,) = series(history, TZ, ["staff.present"], ["vo"], MONDAY, MONDAY + timedelta(days=1))
    # the mean over opening hours is over the hours it was in force; nothing at closing
    assert (day["open_mean"], day["open_max"], day["at_close"]) == (6.0, 6, None)


def test_a_bound_is_kept_in_the_history(history: History):
    """T3 beyond the horizon is recorded as the horizon with its bound: the history says
    "> 90", never a plain 90 and never nothing."""
    history.record([("b1", Reading("appointments.t3_days", "vo", "lääkäri", 90, at(MONDAY, 7), "fhir",
                                   bound="above")),
                    ("b2", Reading("appointments.t3_days", "vo", "lääkäri", 12, at(MONDAY, 13), "fhir"))])
    rows = by_hour(series(history, TZ, ["appointments.t3_days"], ["vo"], MONDAY, MONDAY, "hour"))
    assert (rows["12:00+02:00"]["last"], rows["12:00+02:00"]["bound"]) == (90, "above")
    assert (rows["13:00+02:00"]["last"], rows["13:00+02:00"]["bound"]) == (12, None)
    (day,) = series(history, TZ, ["appointments.t3_days"], ["vo"], MONDAY, MONDAY)
    assert day["bound"] == "above" and day["open_max"] == 90 and day["at_close"] == 12


def test_nothing_is_in_force_after_a_null_change(history: History):
    history.record([change("queue.waiting", 5, at(MONDAY, 8)),
                    change("queue.waiting", None, at(MONDAY, 10, 30)),  # the source failed
                    change("queue.waiting", 3, at(MONDAY, 12))])  # and came back
    rows = by_hour(hours(history, MONDAY))
    assert "11:00+02:00" not in rows and rows["10:00+02:00"]["mean"] == 5.0
    assert covered(history)[2] == 30 * 60
    (day,) = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY)
    assert day["open_mean"] == round((5 * 2.5 + 3 * 4) / 6.5, 3) and day["at_close"] == 3


def test_a_change_delivered_twice_changes_nothing(history: History):
    first = [change("queue.waiting", 4, at(MONDAY, 7, 50), event="x1"),
             change("queue.waiting", 10, at(MONDAY, 8, 20), event="x2")]
    assert history.record(first) == 2
    before = hours(history, MONDAY)
    assert history.record([first[1]]) == 0
    assert history.record(first) == 0
    assert hours(history, MONDAY) == before
    assert by_hour(before)["08:00+02:00"]["samples"] == 1


def test_a_late_change_out_of_order_corrects_the_hours_it_touches(history: History):
    history.record([change("queue.waiting", 4, at(MONDAY, 7, 50)),
                    change("queue.waiting", 10, at(MONDAY, 8, 20)),
                    change("queue.waiting", 1, at(MONDAY, 11, 0))])
    history.record([change("queue.waiting", 6, at(MONDAY, 8, 40))])  # arrives late
    rows = by_hour(hours(history, MONDAY))
    eight = rows["08:00+02:00"]
    assert (eight["mean"], eight["min"], eight["max"], eight["last"], eight["samples"]) == (
        round((4 * 20 + 10 * 20 + 6 * 20) / 60, 3), 4, 10, 6, 2)
    assert rows["09:00+02:00"]["mean"] == 6.0 and rows["10:00+02:00"]["last"] == 6
    assert rows["11:00+02:00"]["mean"] == 1.0  # after the next change: unchanged


def test_a_late_change_reaches_the_first_hour_of_the_next_day_with_changes(history: History):
    tuesday = MONDAY + timedelta(days=1)
    history.record([change("queue.waiting", 4, at(MONDAY, 9)),
                    change("queue.waiting", 10, at(tuesday, 8, 20))])
    assert by_hour(hours(history, tuesday))["08:00+02:00"]["mean"] == 8.0
    history.record([change("queue.waiting", 1, at(MONDAY, 16))])  # late, the day before
    assert by_hour(hours(history, tuesday))["08:00+02:00"]["mean"] == 7.0  # (1·20 + 10·40)/60
    assert by_hour(hours(history, MONDAY))["16:00+02:00"]["last"] == 1


def test_an_earlier_first_change_of_a_day_adds_its_hours(history: History):
    history.record([change("queue.waiting", 10, at(MONDAY, 12))])
    assert len(hours(history, MONDAY)) == 12
    history.record([change("queue.waiting", 3, at(MONDAY, 9, 30))])
    rows = by_hour(hours(history, MONDAY))
    assert len(rows) == 15 and rows["11:00+02:00"]["last"] == 3


def test_keys_and_units_are_series_of_their_own(history: History):
    history.record([change("queue.waiting", 4, at(MONDAY, 8), key="Lääkäri"),
                    change("queue.waiting", 9, at(MONDAY, 8), key="hoitaja"),
                    change("queue.waiting", 1, at(MONDAY, 8), unit="lab")])
    rows = series(history, TZ, ["queue.waiting"], ["vo", "lab"], MONDAY, MONDAY, "day")
    assert [(r["unit"], r["key"], r["last"]) for r in rows] == [
        ("lab", "", 1), ("vo", "hoitaja", 9), ("vo", "lääkäri", 4)]


# ---------------------------------------------------------------- daily rows


@time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=TZ), tick=False)  # the day after: Monday is complete
def test_the_daily_row_is_made_from_the_hourly_rows(history: History):
    history.record([change("queue.waiting", 4, at(MONDAY, 12)),
                    change("queue.waiting", 10, at(MONDAY, 18)),
                    change("queue.waiting", 1, at(MONDAY, 18, 0))])  # same instant: 1 wins
    (day,) = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY, "day")
    # 12–18 at 4, 18–24 at 1: the 10 was never in force
    assert day == {"metric": "queue.waiting", "unit": "vo", "key": "", "mean": 2.5,
                   "min": 1, "max": 4, "last": 1, "samples": 3, "bound": None,
                   "period": "2026-11-23T00:00:00+02:00",
                   # over the opening hours 8–16: 12–16 at 4; at 16 the 4 was in force
                   "open_mean": 4.0, "open_max": 4, "at_close": 4, "figure": 4,
                   "hours": "8\u201316", "complete": True}
    assert covered(history, DailyRollup) == [12 * 3600]


def test_the_day_the_clocks_go_back_has_25_hours(history: History):
    sunday = date(2026, 10, 25)  # the last Sunday of October
    history.record([change("queue.waiting", 1, at(sunday, 0)),
                    change("queue.waiting", 2, at(sunday, 3, 30, fold=1))])  # the second 03:30
    rows = hours(history, sunday)
    assert len(rows) == 25
    periods = [r["period"] for r in rows]
    assert periods[3:5] == ["2026-10-25T03:00:00+03:00", "2026-10-25T03:00:00+02:00"]
    assert [r["mean"] for r in rows[3:5]] == [1.0, 1.5]
    (day,) = series(history, TZ, ["queue.waiting"], ["vo"], sunday, sunday, "day")
    assert day["period"] == "2026-10-25T00:00:00+03:00"
    assert day["mean"] == round((1 * 4.5 + 2 * 20.5) / 25, 3)
    assert covered(history, DailyRollup) == [25 * 3600]


def test_the_day_the_clocks_go_forward_has_23_hours(history: History):
    sunday = date(2027, 3, 28)
    history.record([change("queue.waiting", 1, at(sunday, 0))])
    assert len(hours(history, sunday)) == 23
    assert covered(history, DailyRollup) == [23 * 3600]


def test_a_series_metric_keeps_only_its_last_value(history: History):
    history.record([change("flow.arrivals_by_hour", {"08": 3}, at(MONDAY, 8, 30)),
                    change("flow.arrivals_by_hour", {"08": 5, "09": 2}, at(MONDAY, 9, 30))])
    rows = by_hour(hours(history, MONDAY, "flow.arrivals_by_hour"))
    assert rows["09:00+02:00"] | {"period": ""} == {
        "metric": "flow.arrivals_by_hour", "unit": "vo", "key": "", "period": "",
        "mean": None, "min": None, "max": None, "last": {"08": 5, "09": 2}, "samples": 1,
        "bound": None}
    (day,) = series(history, TZ, ["flow.arrivals_by_hour"], ["vo"], MONDAY, MONDAY, "day")
    assert day["last"] == {"08": 5, "09": 2} and day["mean"] is None and day["samples"] == 2


# ---------------------------------------------------------------- upkeep = rebuild


def reference_hours(changes: list[tuple[datetime, float]], day: date) -> dict[datetime, tuple]:
    """The rules stated slowly for one day of a gauge (see tests/test_rollups_in_force.py
    for the whole statement, with days, kinds, validity and outages)."""
    from tests.test_rollups_in_force import reference_hour

    out: dict[datetime, tuple] = {}
    h = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=TZ).astimezone(UTC)
    full = [(t, v, None) for t, v in changes]
    while h < end:
        row = reference_hour(full, h, "gauge")
        if row is not None:
            out[h] = (round(row["mean"], 3), row["min"], row["max"], row["last"], row["samples"])
        h += timedelta(hours=1)
    return out


def table_dump(history: History) -> list[tuple[Any, ...]]:
    with history.engine.connect() as conn:
        return [tuple(r) for table in ("hourly_rollups", "daily_rollups") for r in
                conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")]


def test_upkeep_in_any_order_and_batching_equals_a_rebuild_and_the_rules(history: History):
    rng = random.Random(20261123)
    days = [MONDAY + timedelta(days=i) for i in range(6)]
    changes = []
    for key in ("a", "b"):
        for _ in range(40):
            day = rng.choice(days[:5])
            when = at(day, rng.randint(6, 20), rng.randint(0, 59)) + timedelta(
                seconds=rng.choice([0, 0, 17]))
            changes.append(change("queue.waiting", rng.randint(0, 12), when, key=key))
    recorded = changes[:]
    rng.shuffle(recorded)
    i = 0
    while i < len(recorded):  # batches of 1–15 in shuffled order, some delivered twice
        n = rng.randint(1, 15)
        history.record(recorded[i:i + n])
        history.record(recorded[max(0, i - 3):i + 1])
        i += n
    incremental = series(history, TZ, ["queue.waiting"], ["vo"], days[0], days[-1], "hour")
    incremental_days = series(history, TZ, ["queue.waiting"], ["vo"], days[0], days[-1], "day")
    stored = table_dump(history)
    rebuild(history, TZ)
    assert table_dump(history) == stored  # the very same rows, down to how they are stored
    assert series(history, TZ, ["queue.waiting"], ["vo"], days[0], days[-1], "hour") == incremental
    assert series(history, TZ, ["queue.waiting"], ["vo"], days[0], days[-1], "day") == incremental_days
    # and both say what the rules say (changes in the order they were written)
    for key in ("a", "b"):
        mine = [(r.observed_at, float(json.loads(r.value))) for r in history.changes()
                if r.key == key]
        got = {datetime.fromisoformat(r["period"]).astimezone(UTC):
               (r["mean"], r["min"], r["max"], r["last"], r["samples"])
               for r in incremental if r["key"] == key}
        want: dict[datetime, tuple] = {}
        newest = max(c.observed_at for _, c in changes).astimezone(TZ).date()
        for day in days:
            if day <= newest:  # the rollups reach as far as the newest change written
                want |= reference_hours(mine, day)
        assert got == want


def test_rebuild_of_a_database_that_had_changes_before_the_rollups(history: History):
    history.record([change("queue.waiting", 4, at(MONDAY, 7, 50)),
                    change("queue.waiting", 10, at(MONDAY, 8, 20))])
    expected = hours(history, MONDAY)
    with history.engine.begin() as conn:  # as the migration leaves an old database
        conn.execute(HourlyRollup.__table__.delete())
        conn.execute(DailyRollup.__table__.delete())
        conn.execute(text("DELETE FROM rollup_state"))
    assert rollups.needs_rebuild(history, TZ)
    counts = rebuild(history, TZ)
    assert counts == {"changes": 2, "hourly": 17, "daily": 1}
    assert not rollups.needs_rebuild(history, TZ)
    assert hours(history, MONDAY) == expected


def test_migrating_a_database_that_holds_changes_asks_for_a_rebuild(backend, tmp_path: Path):  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from dashboard.storage.history import MIGRATIONS, migrate
    from tests.conftest import DATABASE_URL

    schema = None
    if backend.name == "embedded":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        schema = f"test_{uuid.uuid4().hex[:10]}"
        engine = make_engine(DATABASE_URL or "", schema)
    try:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:  # a database of the previous release, with history
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
            conn.execute(ReadingChange.__table__.insert(), [
                {"event_id": f"old{i}", "source": "s", "metric": "queue.waiting", "unit": "vo",
                 "key": "", "value": str(v), "observed_at": when, "recorded_at": when, "manual": 0}
                for i, (v, when) in enumerate([(4, at(MONDAY, 7, 50)), (10, at(MONDAY, 8, 20))])])
        migrate(engine)
        old = History(engine)
        assert rollups.needs_rebuild(old, TZ) and hours(old, MONDAY) == []
        with pytest.raises(RuntimeError, match="rebuild"):
            prune(old, 400, at(MONDAY, 12))
        rebuild(old, TZ)
        assert not rollups.needs_rebuild(old, TZ)
        assert by_hour(hours(old, MONDAY))["08:00+02:00"]["mean"] == 8.0
    finally:
        engine.dispose()
        if schema:
            cleanup = make_engine(DATABASE_URL or "")
            with cleanup.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            cleanup.dispose()


def test_another_time_zone_needs_a_rebuild(history: History):
    history.record([change("queue.waiting", 4, at(MONDAY, 0, 30))])
    stockholm = ZoneInfo("Europe/Stockholm")
    assert not rollups.needs_rebuild(history, TZ)
    assert rollups.needs_rebuild(history, stockholm)
    with pytest.raises(ValueError, match="rebuild"):
        series(history, stockholm, ["queue.waiting"], ["vo"], MONDAY, MONDAY)
    rebuild(history, stockholm)  # 00:30 in Helsinki is 23:30 on Sunday in Stockholm
    (day,) = series(history, stockholm, ["queue.waiting"], ["vo"], MONDAY - timedelta(days=1),
                    MONDAY)
    assert day["period"] == "2026-11-22T00:00:00+01:00"


# ---------------------------------------------------------------- retention


def test_prune_deletes_old_raw_changes_and_keeps_the_rollups(history: History):
    old = date(2025, 6, 2)  # a Monday, long ago
    history.record([change("queue.waiting", 4, at(old, 9)), change("queue.waiting", 6, at(old, 10)),
                    change("queue.waiting", 8, at(old, 11)), change("staff.present", 3, at(old, 9)),
                    change("queue.waiting", 10, at(MONDAY, 8, 20))])
    old_rows = series(history, TZ, ["queue.waiting", "staff.present"], ["vo"], old, old, "hour")
    recent = hours(history, MONDAY)
    now = at(MONDAY, 12)
    # older than 400 days: 4 and 6 go; 8 and 3 stay, each the value in force at the horizon
    assert prune(history, 400, now) == 2
    assert [json.loads(r.value) for r in history.changes()] == [3, 8, 10]
    assert series(history, TZ, ["queue.waiting", "staff.present"], ["vo"], old, old, "hour") == old_rows
    assert prune(history, 400, now) == 0
    # a rebuild leaves the days before the horizon as they were, and the rest as they are
    rebuild(history, TZ)
    assert series(history, TZ, ["queue.waiting", "staff.present"], ["vo"], old, old, "hour") == old_rows
    assert hours(history, MONDAY) == recent
    assert by_hour(recent)["08:00+02:00"]["mean"] == 9.333  # (8·20 + 10·40) / 60
    # a change long before the horizon is kept raw but the final rollups do not move
    history.record([change("queue.waiting", 99, at(old, 9, 30))])
    assert series(history, TZ, ["queue.waiting", "staff.present"], ["vo"], old, old, "hour") == old_rows


def test_prune_counts_whole_local_days(history: History):
    history.record([change("queue.waiting", v, at(MONDAY - timedelta(days=10), 9 + v))
                    for v in range(3)] + [change("queue.waiting", 1, at(MONDAY, 9))])
    now = at(MONDAY, 0, 5)
    # ten days back from 00:05 is 00:05 on the 13th: the horizon is that day's midnight,
    # so changes on the 13th stay
    assert prune(history, 10, now) == 0
    assert prune(history, 9, now) == 2


# ---------------------------------------------------------------- queries


def test_arrivals_heatmap_leaves_out_holidays_and_sums_units(history: History):
    wednesdays = [date(2026, 12, 30), date(2027, 1, 6), date(2027, 1, 13)]  # 6.1. is Epiphany
    history.record([
        change("flow.arrivals_by_hour", {"08": 1}, at(wednesdays[0], 12)),
        change("flow.arrivals_by_hour", {"08": 2, "09": 6}, at(wednesdays[0], 16, 30)),
        change("flow.arrivals_by_hour", {"08": 1}, at(wednesdays[0], 16, 30), unit="lab"),
        change("flow.arrivals_by_hour", {"08": 100, "09": 100}, at(wednesdays[1], 16, 30)),
        change("flow.arrivals_by_hour", {"08": 3}, at(wednesdays[2], 16, 30)),
        change("flow.arrivals_by_hour", {"10": 7}, at(date(2027, 1, 4), 16, 30)),  # a Monday
    ])
    heat = arrivals_heatmap(history, TZ, ["vo", "lab"], date(2026, 12, 28), date(2027, 1, 17))
    assert heat == [
        {"weekday": 0, "hour": "08", "mean": 0.0, "days": 1},
        {"weekday": 0, "hour": "09", "mean": 0.0, "days": 1},
        {"weekday": 0, "hour": "10", "mean": 7.0, "days": 1},
        {"weekday": 2, "hour": "08", "mean": 3.0, "days": 2},  # (2 + 1 + 3) / 2
        {"weekday": 2, "hour": "09", "mean": 3.0, "days": 2},  # (6 + 0) / 2
        {"weekday": 2, "hour": "10", "mean": 0.0, "days": 2},
    ]
    assert arrivals_heatmap(history, TZ, ["lab"], date(2027, 1, 6), date(2027, 1, 6)) == []


def test_compare_two_periods(history: History):
    history.record([
        change("queue.waiting", 4, at(MONDAY, 0)), change("queue.waiting", 6, at(MONDAY, 12)),
        change("queue.waiting", 6, at(MONDAY + timedelta(days=1), 0)),
        change("queue.waiting", 10, at(MONDAY + timedelta(days=7), 0)),
        change("queue.longest_wait_min", 30, at(MONDAY + timedelta(days=7), 0)),
        change("flow.arrivals_by_hour", {"08": 1}, at(MONDAY, 9)),
    ])
    a = (MONDAY, MONDAY + timedelta(days=6))
    b = (MONDAY + timedelta(days=7), MONDAY + timedelta(days=13))
    rows = compare(history, TZ, ["queue.waiting", "queue.longest_wait_min",
                                 "flow.arrivals_by_hour"], ["vo"], a, b)
    assert rows == [
        {"metric": "queue.longest_wait_min", "unit": "vo", "key": "", "a_mean": None,
         "a_days": 0, "b_mean": 30.0, "b_days": 1, "change": None, "change_pct": None},
        # means over opening hours 8–16: Monday (4·4 + 6·4) / 8 = 5, then 6 carried through
        # Tuesday–Friday (the weekend is closed); 10 on the Monday after (as far as the
        # history reaches)
        {"metric": "queue.waiting", "unit": "vo", "key": "", "a_mean": 5.8, "a_days": 5,
         "b_mean": 10.0, "b_days": 1, "change": 4.2, "change_pct": 72.4},
    ]


def test_callbacks_returned_the_same_working_day(history: History):
    tue, wed, thu, fri = (date(2026, 12, 22) + timedelta(days=i) for i in range(4))
    # thu is Christmas Eve, fri Christmas Day: public holidays, not counted
    history.record([
        # Tuesday: the backlog is cleared at 15:30 — met
        change("callback.pending", 5, at(tue, 8, 5)), change("callback.pending", 0, at(tue, 15, 30)),
        # Wednesday: 2 still waiting at closing, cleared only at 16:10 — not met
        change("callback.pending", 2, at(wed, 9)), change("callback.pending", 0, at(wed, 16, 10)),
        change("callback.pending", 3, at(thu, 9)),  # a holiday
        change("appointments.t3_days", 8, at(wed, 15), key="hoitaja"),  # no longer a proxy of anything
        change("appointments.t3_days", 1, at(tue, 7), unit="lab"),
    ])
    result = compliance(history, TZ, ["vo", "lab", "suun"], tue, fri)
    assert result == {"vo": {"callback_same_day": {"days": 2, "met": 1, "share": 0.5}}}
    # closing at 15 (as the rollups are kept): at 15.00 on Tuesday, 5 were still waiting
    rebuild(history, TZ, {"*": "8-15/working"})
    assert compliance(history, TZ, ["vo"], tue, tue)["vo"]["callback_same_day"] == {
        "days": 1, "met": 0, "share": 0.0}


# ---------------------------------------------------------------- exports


def sample(history: History) -> list[dict[str, Any]]:
    history.record([change("queue.waiting", 4, at(MONDAY, 7, 50)),
                    change("queue.waiting", 10, at(MONDAY, 8, 20)),
                    change("queue.waiting", 5, at(MONDAY, 8, 21)),
                    change("appointments.t3_days", 2.5, at(MONDAY, 9), key="lääkäri"),
                    change("flow.arrivals_by_hour", {"08": 5, "09": 2}, at(MONDAY, 9, 30))])
    return series(history, TZ, ["queue.waiting", "appointments.t3_days", "flow.arrivals_by_hour"],
                  ["vo"], MONDAY, MONDAY, "hour")


def _number(text: str, lang: str) -> float | int | None:
    if text == "":
        return None
    if lang != "en":
        assert "." not in text
        text = text.replace(",", ".")
    return float(text) if "." in text else int(text)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_csv_round_trip_gives_the_figures_of_series(history: History, lang: str):
    rows = sample(history)
    data = to_csv(rows, lang)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data[3:].decode("utf-8")), delimiter=";"))
    assert tuple(parsed[0]) == HEADERS[lang]
    assert len(parsed) == len(rows) + 1
    fmt = "%d.%m.%Y %H.%M" if lang != "en" else "%Y-%m-%d %H:%M"
    for row, line in zip(rows, parsed[1:], strict=True):
        metric, unit, key, period, mean, mn, mx, last, samples = line
        assert (metric, unit, key) == (row["metric"], row["unit"], row["key"])
        assert period == datetime.fromisoformat(row["period"]).strftime(fmt)
        assert [_number(v, lang) for v in (mean, mn, mx)] == [row["mean"], row["min"], row["max"]]
        if isinstance(row["last"], dict):
            assert json.loads(last) == row["last"]
        else:
            assert _number(last, lang) == row["last"]
        assert int(samples) == row["samples"]
    if lang == "fi":
        assert ";lääkäri;23.11.2026 09.00;2,5;2,5;2,5;2,5;1" in data.decode("utf-8")


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_xlsx_round_trip_gives_the_figures_of_series(history: History, lang: str):
    rows = sample(history)
    wb = load_workbook(io.BytesIO(to_xlsx(rows, lang)))
    ws = wb.active
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == list(HEADERS[lang]) and all(c.font.b for c in ws[1])
    assert all(ws.column_dimensions[col].width >= 10 for col in "ABCDEFGHI")
    read = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(read) == len(rows)
    for row, cells in zip(rows, read, strict=True):
        metric, unit, key, period, mean, mn, mx, last, samples = cells
        assert (metric, unit, key or "") == (row["metric"], row["unit"], row["key"])
        assert period == datetime.fromisoformat(row["period"]).replace(tzinfo=None)
        assert (mean, mn, mx, samples) == (row["mean"], row["min"], row["max"], row["samples"])
        assert (json.loads(last) if isinstance(row["last"], dict) else last) == row["last"]
    eight = next(c for c in ws.iter_rows(min_row=2) if c[3].value == datetime(2026, 11, 23, 8))
    assert eight[4].data_type == "n" and eight[3].is_date


# ---------------------------------------------------------------- both databases


def test_sqlite_and_postgresql_give_identical_series(tmp_path: Path):
    from tests.conftest import DATABASE_URL

    if not DATABASE_URL:
        pytest.skip("OHJAUSTAULU_TEST_DATABASE_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:10]}"
    lite = History.open(None, tmp_path / "lite")
    pg = History.open(DATABASE_URL, tmp_path / "pg", schema)
    try:
        rng = random.Random(7)
        changes = []
        for day in (date(2026, 10, 23) + timedelta(days=i) for i in range(5)):  # DST included
            for unit, key in (("vo", "lääkäri"), ("vo", "hoitaja"), ("suun_th", ""), ("Lab", "")):
                for _ in range(12):
                    when = at(day, rng.randint(7, 17), rng.randint(0, 59)) + timedelta(
                        microseconds=rng.randint(0, 999_999))
                    changes.append(change("queue.avg_wait_min", rng.random() * 40, when, unit, key))
                changes.append(change("flow.arrivals_by_hour", {"08": rng.randint(0, 9)},
                                      at(day, 16), unit))
        for h in (lite, pg):
            for i in range(0, len(changes), 37):
                h.record(changes[i:i + 37])
        args = (["queue.avg_wait_min", "flow.arrivals_by_hour"], ["vo", "suun_th", "Lab"],
                date(2026, 10, 23), date(2026, 10, 27))
        for grain in ("hour", "day"):
            a = series(lite, TZ, *args, grain)  # type: ignore[arg-type]
            b = series(pg, TZ, *args, grain)  # type: ignore[arg-type]
            assert a == b and len(a) >= 35  # 5 days × 7 series, or 25 hours a day
        assert compare(lite, TZ, args[0], args[1], (args[2], args[2]), (args[3], args[3])) == \
            compare(pg, TZ, args[0], args[1], (args[2], args[2]), (args[3], args[3]))
        with lite.engine.connect() as c1, pg.engine.connect() as c2:
            q = select(func.count()).select_from(ReadingChange)
            assert c1.execute(q).scalar() == c2.execute(q).scalar() == len(changes)
    finally:
        lite.engine.dispose()
        pg.engine.dispose()
        engine = make_engine(DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def test_todays_figures_are_those_so_far(history: History):
    """Today's hours after now carry the value now in force (as rows), but today's daily
    figure is the day so far: up to the hour in progress, no value at closing before closing."""
    history.record([change("queue.waiting", 4, at(MONDAY, 8)), change("queue.waiting", 10, at(MONDAY, 9))])
    (whole,) = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY)
    assert whole["open_mean"] == (4 + 10 * 7) / 8 and whole["at_close"] == 10
    (so_far,) = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY, now=at(MONDAY, 10, 30))
    assert so_far["open_mean"] == round((4 + 10 + 10) / 3, 3) and so_far["at_close"] is None
    assert so_far["figure"] == so_far["open_mean"] and not so_far["complete"]
    (closed,) = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY, now=at(MONDAY, 17))
    assert closed["at_close"] == 10 and closed["open_mean"] == whole["open_mean"]
    # other days are as they were
    history.record([change("queue.waiting", 2, at(MONDAY + timedelta(days=1), 8))])
    (monday,) = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY,
                       now=at(MONDAY + timedelta(days=1), 9))
    assert monday["open_mean"] == whole["open_mean"] and monday["complete"]
