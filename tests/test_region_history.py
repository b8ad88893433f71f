"""The regional history (dashboard/storage/regionhistory.py, docs/region.md): each site's figures over
a period, recomputed here the slow, obvious way — from each unit's own daily figures, a day
and a series at a time — over two weeks shaped like real ones: weekends with only the
around-the-clock unit open, New Year's Day and Epiphany, a month's end, an afternoon when the
staffing feed was down, a site with no data at all; and the page's table as a manager reads it."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from plotly.utils import PlotlyJSONEncoder

from dashboard.config import Config, parse_config
from dashboard.domain.clock import is_working_day
from dashboard.domain.readings import Reading
from dashboard.storage import regionhistory, rollups
from tests.conftest import Backend
from tests.test_region import AREA

pytestmark = pytest.mark.store
START, END, TODAY = date(2026, 12, 28), date(2027, 1, 8), date(2027, 1, 8)  # today is left out


def area() -> Config:
    return parse_config(AREA, "alue.toml")


def weeks_of(config: Config) -> list[tuple[str, Reading]]:
    """Readings every 20 minutes, 6–22, on every day of the period and the day after it:
    queues, staff planned (a plan: only on its day) and present, arrivals (a count), the
    escalation level and call-backs; the staffing feed down (null) from 12 to 14 on 5.1."""
    rnd = random.Random(16)
    tz = config.tz
    out: list[tuple[str, Reading]] = []
    day = START - timedelta(days=1)
    while day <= TODAY:
        arrivals = {u: 0 for u in ("iso_vo", "iso_pkl", "pieni_vo")}
        for minute in range(6 * 60, 22 * 60, 20):
            at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            for unit in ("iso_vo", "iso_pkl", "pieni_vo"):
                if unit != "iso_pkl" and not is_working_day(day):
                    continue  # the feeds report closed units as nothing
                rows = [("queue.waiting", "hoitaja", rnd.randint(0, 9)), ("queue.waiting", "lääkäri", rnd.randint(0, 5)),
                        ("queue.longest_wait_min", "hoitaja", rnd.randint(0, 90)),
                        ("queue.longest_wait_min", "lääkäri", rnd.randint(0, 50)),
                        ("staff.planned", "lääkäri", 4), ("staff.planned", "hoitaja", 6),
                        ("staff.present", "lääkäri", rnd.randint(2, 4)), ("staff.present", "hoitaja", rnd.randint(3, 6)),
                        # the day's worst: pieni 1, 2, 3 or 4 by the day; iso's reception 3 for an hour on Tuesdays
                        ("escalation.level", "", (1 + day.toordinal() % 4 if unit == "pieni_vo" and minute == 10 * 60
                                                  else 3 if unit == "iso_vo" and day.weekday() == 1 and minute == 9 * 60
                                                  else 1)),
                        ("callback.pending", "", rnd.choice([0, 0, 1]) if minute < 15 * 60 else rnd.choice([0, 0, 0, 2]))]
                arrivals[unit] += rnd.randint(0, 4)
                rows.append(("flow.arrivals_today", "", arrivals[unit]))
                down = day == date(2027, 1, 5) and 12 * 60 <= minute < 14 * 60
                for metric, key, value in rows:
                    if down and metric.startswith("staff."):
                        value = None  # type: ignore[assignment]  # the feed down: nothing in force
                    ident = hashlib.sha256(f"{metric}:{unit}:{key}:{at.isoformat()}".encode()).hexdigest()[:32]
                    out.append((f"t:{ident}", Reading(metric, unit, key, value, at, "test")))  # ids: ≤ 64 characters
        day += timedelta(days=1)
    return out


@pytest.fixture
def written(backend: Backend) -> tuple[Config, Backend]:
    config = area()
    rollups.rebuild(backend.history, config.tz, config.hours_specs())
    changes = weeks_of(config)
    for i in range(0, len(changes), 5000):
        backend.history.record(changes[i:i + 5000])
    return config, backend


def slow(history: Any, config: Config, units: list[str], start: date, end: date) -> dict[str, dict[str, Any]]:
    """Each site's figures from each unit's daily figures (rollups.series, itself checked
    minute by minute in test_history_page_figures), added up one series-day at a time."""
    last = min(end, TODAY - timedelta(days=1))
    of = config.unit_sites()
    days = rollups.series(history, config.tz, ["queue.waiting", "queue.longest_wait_min", "staff.present",
                                                "staff.planned", "flow.arrivals_today", "escalation.level",
                                                "callback.pending"], units, start, last, "day", today=TODAY)
    out: dict[str, dict[str, Any]] = {}
    for site in {of[u] for u in units}:
        mine = [r for r in days if of[r["unit"]] == site]
        waiting: dict[str, float] = {}
        for r in mine:
            if r["metric"] == "queue.waiting" and r["open_mean"] is not None:
                waiting[r["period"]] = waiting.get(r["period"], 0) + r["open_mean"]
        longest = [r["open_max"] for r in mine if r["metric"] == "queue.longest_wait_min" and r["open_max"] is not None]
        present = planned = 0.0
        for r in mine:
            if r["metric"] == "staff.present" and r["open_mean"] is not None:
                plans = [p for p in mine if p["metric"] == "staff.planned" and (p["unit"], p["period"]) == (r["unit"], r["period"])
                         and p["open_mean"] is not None]
                if sum(p["open_mean"] for p in plans):
                    present += r["open_mean"]
        for r in mine:
            if r["metric"] == "staff.planned" and r["open_mean"] is not None:
                if any(p["metric"] == "staff.present" and (p["unit"], p["period"]) == (r["unit"], r["period"])
                       and p["open_mean"] is not None for p in mine):
                    planned += r["open_mean"]
        counts = [r["figure"] for r in mine if r["metric"] == "flow.arrivals_today" and r["figure"] is not None]
        level_days: dict[str, float] = {}
        for r in mine:
            if r["metric"] == "escalation.level" and r["open_max"] is not None:
                level_days[r["period"]] = max(level_days.get(r["period"], 0), r["open_max"])
        met = days_open = 0
        for r in mine:
            if r["metric"] == "callback.pending" and r["at_close"] is not None:
                hours = config.hours(r["unit"])
                if hours.every_day or is_working_day(date.fromisoformat(r["period"][:10])):
                    days_open += 1
                    met += float(r["at_close"]) == 0
        out[site] = {
            "waiting_mean": sum(waiting.values()) / len(waiting) if waiting else None,
            "longest_wait_max": max(longest) if longest else None,
            "staff_present_pct": 100 * present / planned if planned else None,
            "arrivals": sum(counts) if counts else None,
            "level_max": max(level_days.values()) if level_days else None,
            "escalation_days": sum(v >= 3 for v in level_days.values()) if level_days else None,
            "callback_share": met / days_open if days_open else None,
        }
    return out


FIGURES = ("waiting_mean", "longest_wait_max", "staff_present_pct", "arrivals", "level_max", "escalation_days",
           "callback_share")


@pytest.mark.parametrize("start,end", [(START, END), (date(2027, 1, 2), date(2027, 1, 6)),  # a weekend and Epiphany
                                       (date(2026, 12, 31), date(2026, 12, 31)),  # a month's (and year's) last day
                                       (date(2027, 1, 5), date(2027, 1, 5))])  # the staffing feed down 12–14
def test_each_sites_figures_are_the_slow_sums_of_its_units_days(written: tuple[Config, Backend], start: date, end: date):
    config, backend = written
    units = [u.code for u in config.units]
    got = {r["site"]: r for r in regionhistory.rows(backend.history, config, units, start, end, TODAY)}
    want = slow(backend.history, config, units, start, end)
    assert set(got) == {"iso", "pieni", "tyhja"}
    for site, figures in want.items():
        for f in FIGURES:
            # series() gives its figures to 4 decimals: sums of them differ in the fifth
            near = figures[f] if figures[f] is None else pytest.approx(figures[f], rel=1e-4, abs=1e-3)
            assert got[site][f] == near, (site, f, start, end, got[site][f], figures[f])
    assert all(got["tyhja"][f] is None for f in FIGURES) and got["tyhja"]["days"] == 0  # no data: no figures
    last = min(end, TODAY - timedelta(days=1))
    assert got["iso"]["days"] == (last - start).days + 1  # the emergency unit has every ended day


def test_a_weekend_counts_only_the_around_the_clock_unit_and_today_is_left_out(written: tuple[Config, Backend]):
    config, backend = written
    units = [u.code for u in config.units]
    weekend = {r["site"]: r for r in regionhistory.rows(backend.history, config, units, date(2027, 1, 2),
                                                         date(2027, 1, 3), TODAY)}
    assert weekend["pieni"]["days"] == 0 and weekend["pieni"]["waiting_mean"] is None  # closed
    assert weekend["iso"]["days"] == 2 and weekend["iso"]["waiting_mean"] is not None  # its 24/7 unit
    only_today = regionhistory.rows(backend.history, config, units, TODAY, TODAY, TODAY)
    assert all(r["days"] == 0 for r in only_today)


def test_the_rows_are_ordered_by_need_and_a_scope_limits_the_sites(written: tuple[Config, Backend]):
    config, backend = written
    found = regionhistory.rows(backend.history, config, [u.code for u in config.units], START, END, TODAY)
    assert [r["site"] for r in found] == sorted((r["site"] for r in found), key=lambda s: next(
        (-(r["escalation_days"] or 0), -(r["longest_wait_max"] or 0)) for r in found if r["site"] == s))
    assert found[0]["site"] == "pieni"  # its level stood at 3 or 4 on more days
    assert [r["site"] for r in regionhistory.rows(backend.history, config, ["iso_vo"], START, END, TODAY)] == ["iso"]


def test_the_history_page_shows_the_sites_side_by_side_for_an_area_person_only(written: tuple[Config, Backend]):
    from dashboard.i18n import number
    from dashboard.web import access
    from dashboard.web.accounts import User
    from layouts import history as page

    config, backend = written
    ctx = page.HistoryContext(config, backend.store, backend.history)
    at = datetime.combine(TODAY, time(11), tzinfo=config.tz)
    token = access.current.set(access.Principal(User("alue-johto", "manager", (), None)))
    try:
        table = page.region_table(ctx, START, END, at)
    finally:
        access.current.reset(token)
    want = slow(backend.history, config, [u.code for u in config.units], START, END)
    assert [tr["props"]["data-site"] for tr in rows_of(table)] == ["pieni", "iso", "tyhja"]
    cells = {(site, td["props"]["data-figure"]): (td["props"]["children"], td["props"]["data-value"])
             for tr in rows_of(table) if (site := tr["props"].get("data-site"))
             for td in tr["props"]["children"][1:]}
    text, value = cells[("pieni", "waiting_mean")]
    assert float(value) == pytest.approx(want["pieni"]["waiting_mean"], rel=1e-4)
    assert text == number(round(want["pieni"]["waiting_mean"], 1), "fi")  # as a Finn writes it
    assert "28.12.2026–7.1.2027" in str(table)  # the ended days, said
    token = access.current.set(access.Principal(User("iso-johto", "manager", ("iso_vo", "iso_pkl"), None)))
    try:
        assert page.region_table(ctx, START, END, at) == []  # one site in scope: nothing to compare
    finally:
        access.current.reset(token)


def rows_of(parts: list[Any]) -> list[dict[str, Any]]:
    """The table's rows as Dash sends them (props by name, whatever their order)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            if node.get("type") == "Tr" and "data-site" in node.get("props", {}):
                found.append(node)
            walk(node.get("props", {}).get("children"))

    walk(json.loads(json.dumps(parts, cls=PlotlyJSONEncoder)))
    return found


def test_the_xlsx_and_the_print_view_carry_the_sites_side_by_side_for_an_area_person_only(
        written: tuple[Config, Backend]):
    import io

    from openpyxl import load_workbook

    from dashboard.web import access
    from dashboard.web.accounts import User
    from layouts import history as page

    config, backend = written
    ctx = page.HistoryContext(config, backend.store, backend.history)
    at = datetime.combine(TODAY, time(11), tzinfo=config.tz)
    q = page.Query(["iso_vo", "pieni_vo"], ["queue.waiting"], START, END, "day")
    want = slow(backend.history, config, [u.code for u in config.units], START, END)
    token = access.current.set(access.Principal(User("alue-johto", "manager", (), None)))
    try:
        data, _count = page.download(ctx, q, "xlsx", at, "fi")
        printed = page.printed(ctx, q, at)
    finally:
        access.current.reset(token)
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Toimipisteittäin"]
    head, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert head[0] == "Toimipiste" and head[7] == "Takaisinsoitot samana päivänä (%)"
    names = {x.code: x.name for x in config.area}
    assert [r[0] for r in rows] == [names[s] for s in ("pieni", "iso", "tyhja")]  # by need, as the page
    pieni = rows[0]
    assert pieni[1] == round(want["pieni"]["waiting_mean"], 1) and pieni[2] == round(want["pieni"]["longest_wait_max"])
    assert pieni[6] == want["pieni"]["escalation_days"] and pieni[7] == round(want["pieni"]["callback_share"] * 100)
    assert rows[2][1:8] == [None] * 7  # a site with no data: empty, not zero
    assert "<h2>Toimipisteittäin</h2>" in printed and "28.12.2026–7.1.2027" in printed
    assert printed.index(names["pieni"]) < printed.index(names["iso"])
    token = access.current.set(access.Principal(User("iso-johto", "manager", ("iso_vo", "iso_pkl"), None)))
    try:  # one site in scope: nothing to compare, in either
        q = page.Query(["iso_vo"], ["queue.waiting"], START, END, "day")
        data, _count = page.download(ctx, q, "xlsx", at, "fi")
        assert "Toimipisteittäin" not in load_workbook(io.BytesIO(data), read_only=True).sheetnames
        assert "Toimipisteittäin" not in page.printed(ctx, q, at)
    finally:
        access.current.reset(token)
