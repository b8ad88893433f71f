"""Acceptance: a care home's own metrics, end to end, as the centre would use them.

The centre adds a care home ("Hoivakoti Koivula", open around the clock) beside its
reception, and three metrics of its own in TOML: vaccinations given today (a count), the
occupancy of its places (derived: 100 × in use / total, with an escalation rule on it) and
its staffing ratio (derived: care staff FTE / clients, with the law's dated limits). Then,
on Thursday 3.12.2026 from 10.00 (the site's clock pinned in the live store, so the command
line processes read the same time as this one does with time_machine):

1. the workbook template is written by `ohjaustaulu template`, its "Muut mittarit" sheet
   filled in a hurry (units and metrics by name, "19,5", "8.30", a blank row) and imported
   with `ohjaustaulu import` (and the same rows as a Calc .ods pass a dry run);
2. a `metrics` feed (CSV over HTTP) is polled with `ohjaustaulu collect --once`;
3. the figures are found on the wall (the drawn board's tiles, the derived values recomputed
   here, the limit in words in Finnish and Swedish, the level the rule raises), in
   `ohjaustaulu snapshot --json`, on the shift lead's tablet (with a correction of the
   count), in the history page's day figures and in its CSV and XLSX downloads.

Every expected figure is computed here from the inputs written above, the slow obvious way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dash import html
from openpyxl import load_workbook

from collectors.historywriter import drain
from dashboard.config import Config, load_config
from dashboard.domain.readmodel import build
from dashboard.storage import rollups
from dashboard.translate import speaking
from dashboard.web.accounts import User
from dashboard.web.shiftlead import ShiftLead
from layouts import history as page
from layouts.components import board, index, reason_text
from layouts.patch import plain
from layouts.tablet import TabletContext, board_view
from tests.conftest import Backend, cli, drawn_rows
from tests.security.test_workbooks import ods, ods_cell, ods_row
from tests.servers import Feed
from tests.siteclock import pin_site_clock
from tests.test_own_metrics import props

pytestmark = pytest.mark.store
TZ = ZoneInfo("Europe/Helsinki")
DAY = date(2026, 12, 3)  # a Thursday, no holiday
MORNING = datetime.combine(DAY, time(10, 0), tzinfo=TZ)  # the import and the feed's poll
EIGHT_THIRTY = MORNING.replace(hour=8, minute=30)  # the sheet's morning figures
CORRECTED = MORNING + timedelta(minutes=20)  # the shift lead's correction
ASKED = MORNING + timedelta(minutes=30)  # the history page is read
HOME = "hoivakoti"

CONFIG = """
[site]
name = "Koivulan sote-keskus"
name_sv = "Björkby social- och hälsocentral"
timezone = "Europe/Helsinki"
opening_hours = [8, 16]

[[units]]
code = "vastaanotto"
name = "Vastaanotto"
name_sv = "Mottagning"

[[units]]
code = "hoivakoti"
name = "Hoivakoti Koivula"
name_sv = "Vårdhemmet Koivula"
opening_hours = "always"
open_days = "every"

[[displays]]
id = "hoivakoti"
title = "Hoivakoti"
units = ["hoivakoti", "vastaanotto"]
pages = ["hoito"]
language = ["fi", "sv"]

[[sources]]
name = "hoitojarjestelma"
kind = "metrics"
address = "{address}"
poll_seconds = 900
units = ["hoivakoti"]

[[metrics]]
id = "home.vaccinations_today"
name = "Rokotukset tänään"
name_sv = "Vaccinationer i dag"
kind = "count"
good = "up"
card = "hoivakoti"

[[metrics]]
id = "home.places_in_use"
name = "Paikat käytössä"
name_sv = "Platser i bruk"
card = "hoivakoti"

[[metrics]]
id = "home.places_total"
name = "Paikkoja yhteensä"
name_sv = "Platser totalt"
card = "hoivakoti"

[[metrics]]
id = "home.occupancy_pct"
name = "Käyttöaste, %"
name_sv = "Beläggning, %"
kind = "percent"
good = "down"
derived = "100 * home.places_in_use / home.places_total"
card = "hoivakoti"

[[metrics]]
id = "home.care_staff_fte"
name = "Hoitotyön henkilöstö, htv"
name_sv = "Vårdpersonal, åv"
decimals = 1
card = "hoivakoti"

[[metrics]]
id = "home.clients"
name = "Asiakkaita"
name_sv = "Klienter"
card = "hoivakoti"

[[metrics]]
id = "home.staffing_ratio"
name = "Henkilöstömitoitus"
name_sv = "Personaldimensionering"
kind = "ratio"
decimals = 2
good = "up"
derived = "home.care_staff_fte / home.clients"
card = "hoivakoti"
limits = [
  { from = 2023-12-01, value = 0.65, law = "VanhPL 20 §" },
  { from = 2028-01-01, value = 0.7, law = "VanhPL 20 §" },
]

[[cards]]
id = "hoivakoti"
name = "Hoivakoti"
name_sv = "Vårdhemmet"

[[pages]]
id = "hoito"
cards = ["hoivakoti"]

[[escalation.rules]]
metric = "home.occupancy_pct"
above = 95
level = 3
units = ["hoivakoti"]
hours = "always"
"""

NAMES = {  # metric: (Finnish, Swedish), as configured above
    "home.vaccinations_today": ("Rokotukset tänään", "Vaccinationer i dag"),
    "home.places_in_use": ("Paikat käytössä", "Platser i bruk"),
    "home.places_total": ("Paikkoja yhteensä", "Platser totalt"),
    "home.occupancy_pct": ("Käyttöaste, %", "Beläggning, %"),
    "home.care_staff_fte": ("Hoitotyön henkilöstö, htv", "Vårdpersonal, åv"),
    "home.clients": ("Asiakkaita", "Klienter"),
    "home.staffing_ratio": ("Henkilöstömitoitus", "Personaldimensionering"),
}

# the "Muut mittarit" sheet as a hurried person fills it: names, not codes; text numbers with
# a decimal comma; a time of today, or today's date alone (then: the moment of the import)
SHEET_ROWS: list[list[Any]] = [
    ["8.30", "Hoivakoti Koivula", "Hoitotyön henkilöstö, htv", "", "19,5"],
    [],
    ["8.30", " hoivakoti koivula", "Asiakkaita", None, 30],
    ["8.30", "Hoivakoti Koivula", "Paikat käytössä", "", "20"],
    [DAY.strftime("%-d.%-m.%Y"), "Hoivakoti Koivula", "Paikkoja yhteensä", "", 24],
    ["9.15", "Hoivakoti Koivula", "Rokotukset tänään", "", 6],
]
# the care home's system reports the places in use and the vaccinations since
FEED_CSV = "unit,metric,key,value\nhoivakoti,home.places_in_use,,23\nhoivakoti,home.vaccinations_today,,9\n"

# every value that reached the live store, (metric: [(time, value), ...]) in time order
ENTERED: dict[str, list[tuple[datetime, Fraction]]] = {
    "home.care_staff_fte": [(EIGHT_THIRTY, Fraction("19.5"))],
    "home.clients": [(EIGHT_THIRTY, Fraction(30))],
    "home.places_in_use": [(EIGHT_THIRTY, Fraction(20)), (MORNING, Fraction(23))],
    "home.places_total": [(MORNING, Fraction(24))],
    "home.vaccinations_today": [(MORNING.replace(hour=9, minute=15), Fraction(6)), (MORNING, Fraction(9)),
                                (CORRECTED, Fraction(11))],
}
SHOWN_AT_10 = {  # what the wall shows at 10.00: a fresh feed value before a workbook value
    "home.care_staff_fte": Fraction("19.5"), "home.clients": Fraction(30), "home.places_in_use": Fraction(23),
    "home.places_total": Fraction(24), "home.vaccinations_today": Fraction(9),
}
UPDATED_AT_10 = {  # each figure's time on the wall at 10.00; a derived one's is its newest input's
    "home.care_staff_fte": EIGHT_THIRTY, "home.clients": EIGHT_THIRTY, "home.staffing_ratio": EIGHT_THIRTY,
    "home.places_in_use": MORNING, "home.places_total": MORNING, "home.occupancy_pct": MORNING,
    "home.vaccinations_today": MORNING,
}


# -- the slow, obvious versions ------------------------------------------------------------------

def half_up(x: Fraction, decimals: int) -> Fraction:
    """x rounded to `decimals` as a person rounds (no value here lies on a half)."""
    scale = 10**decimals
    return Fraction(int(x * scale + Fraction(1, 2)), scale)


def occupancy(in_use: Fraction, total: Fraction) -> Fraction:
    return half_up(100 * in_use / total, 0)


def staffing_ratio(fte: Fraction, clients: Fraction) -> Fraction:
    return half_up(fte / clients, 2)


def ratio_limit(day: date) -> Fraction:
    return Fraction("0.7") if day >= date(2028, 1, 1) else Fraction("0.65")  # VanhPL 20 §, from 1.12.2023


def plain_text(x: Fraction) -> str:
    """A figure as the page contract's attributes write it: 96, 19.5, 0.65."""
    return str(x.numerator) if x.denominator == 1 else str(float(x))


def day_mean_so_far(changes: list[tuple[datetime, Fraction]], at: datetime) -> Fraction:
    """A level's day figure on the history page while the day is under way: the mean of the
    value in force minute by minute over the (round the clock) opening hours, from the day's
    start up to the end of the hour in progress at `at` (that hour at its value now)."""
    end = at.replace(minute=0) + timedelta(hours=1)
    total, minutes = Fraction(0), 0
    moment = datetime.combine(at.date(), time(0), tzinfo=TZ)
    while moment < end:
        in_force = [v for t, v in changes if t <= moment]
        if in_force:
            total += in_force[-1]
            minutes += 1
        moment += timedelta(minutes=1)
    return total / minutes


# -- the steps -----------------------------------------------------------------------------------

def write_config(tmp_path: Path, feed: Feed) -> Path:
    path = tmp_path / "ohjaustaulu.toml"
    path.write_text(CONFIG.replace("{address}", feed.url), encoding="utf-8")
    return path


def fill_and_import(tmp_path: Path, config: Path, env: dict[str, str]) -> None:
    blank = tmp_path / "tyokirja.xlsx"
    made = cli("template", str(blank), "--config", str(config), env=env)
    assert made.returncode == 0, made.stderr
    book = load_workbook(blank)
    # its drop-down list offers the metrics a person enters, by name; the derived ones not
    lists = [[v for v in column if v] for column in book["_listat"].iter_cols(values_only=True)]
    assert [fi for m, (fi, _) in NAMES.items() if m not in ("home.occupancy_pct", "home.staffing_ratio")] in lists
    sheet = book["Muut mittarit"]
    for row in SHEET_ROWS:
        sheet.append(row)
    filled = tmp_path / "hoivakoti-aamu.xlsx"
    book.save(filled)
    # the same rows as LibreOffice Calc saves them: they pass the same checks (a dry run)
    calc = tmp_path / "hoivakoti-aamu.ods"
    head = ["Päivä tai kellonaika", "Yksikkö", "Mittari", "Tarkenne", "Arvo"]
    calc.write_bytes(ods('<table:table table:name="Muut mittarit">'
                         + "".join(ods_row("".join(ods_cell(v if isinstance(v, int | str) else "") for v in row))
                                   for row in [head, *SHEET_ROWS]) + "</table:table>"))
    dry = cli("import", str(calc), "--dry-run", "--json", "--user", "hoitaja", "--config", str(config), env=env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert json.loads(dry.stdout)["counts"]["Muut mittarit"] == 5
    done = cli("import", str(filled), "--json", "--user", "hoitaja", "--config", str(config), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (report["ok"], report["applied"], report["errors"], report["warnings"]) == (True, True, [], [])
    assert report["counts"]["Muut mittarit"] == 5  # the blank row is no row


def collect(config: Path, env: dict[str, str]) -> None:
    polled = cli("collect", "--once", "--source", "hoitojarjestelma", "--config", str(config), env=env)
    assert polled.returncode == 0, polled.stdout + polled.stderr
    assert "hoitojarjestelma: ok items=2" in polled.stdout, polled.stdout


def check_live_store(backend: Backend) -> None:
    got: dict[tuple[str, str], tuple[str, Any]] = {}
    for source, readings in backend.store.all_readings().items():
        for rd in readings:
            assert rd.unit == HOME and rd.key == ""
            got[(rd.metric, source)] = (rd.observed_at.astimezone(TZ).strftime("%H.%M"), rd.value)
    assert got == {
        ("home.care_staff_fte", "tyokirja"): ("08.30", 19.5), ("home.clients", "tyokirja"): ("08.30", 30),
        ("home.places_in_use", "tyokirja"): ("08.30", 20), ("home.places_total", "tyokirja"): ("10.00", 24),
        ("home.vaccinations_today", "tyokirja"): ("09.15", 6),
        ("home.places_in_use", "hoitojarjestelma"): ("10.00", 23),
        ("home.vaccinations_today", "hoitojarjestelma"): ("10.00", 9),
    }


def expected_tiles() -> dict[str, Fraction]:
    v = SHOWN_AT_10
    return {**v, "home.occupancy_pct": occupancy(v["home.places_in_use"], v["home.places_total"]),
            "home.staffing_ratio": staffing_ratio(v["home.care_staff_fte"], v["home.clients"])}


def check_wall(cfg: Config, backend: Backend) -> None:
    d = cfg.display(HOME)
    model = build(cfg, d, backend.store, None).data
    tiles = index(model["tiles"])
    want = expected_tiles()
    assert want["home.occupancy_pct"] == 96 and want["home.staffing_ratio"] == Fraction("0.65")  # 95.8; 0.65
    assert {k for k in tiles if k[1] == HOME} == {(m, HOME, "") for m in want}
    for metric, value in want.items():
        t = tiles[(metric, HOME, "")]
        assert (Fraction(str(t["value"])), t["status"]) == (value, "fresh"), metric
    assert tiles[("home.occupancy_pct", HOME, "")]["updated_at"] == MORNING.isoformat()  # the newest input's
    assert tiles[("home.occupancy_pct", HOME, "")]["source"] == "derived"
    assert tiles[("home.vaccinations_today", HOME, "")]["source"] == "hoitojarjestelma"  # fresh feed first
    ratio = tiles[("home.staffing_ratio", HOME, "")]
    limit = ratio_limit(DAY)
    assert (Fraction(str(ratio["limit"])), ratio["meets"]) == (limit, want["home.staffing_ratio"] >= limit)
    assert ratio["meets"] is True  # 19.5 / 30 = 0.65 exactly: the limit is met, not missed
    assert "limit" not in tiles[("home.occupancy_pct", HOME, "")]
    # the rule: occupancy 96 > 95 raises the care home to 3; the reception has no such rule
    levels = model["escalation"]["units"]
    assert (levels[HOME]["level"], levels["vastaanotto"]["level"]) == (3, 1)
    detail = levels[HOME]["details"][0]
    assert reason_text(cfg, HOME, detail, "fi").startswith("Hoivakoti Koivula: käyttöaste, % 96")
    assert reason_text(cfg, HOME, detail, "sv").startswith("Vårdhemmet Koivula: beläggning, % 96")
    # every tile is drawn with the page contract's attributes, as the model has it
    drawn = plain(board(cfg, d, model))
    elements = {(p["data-metric"], p["data-unit"], p["data-key"]): p for p in props(drawn) if "data-metric" in p}
    drawn_levels = {unit: elements.pop(("escalation.level", unit, ""))["data-value"] for unit in (HOME, "vastaanotto")}
    assert drawn_levels == {HOME: "3", "vastaanotto": "1"}
    assert set(elements) == {(m, HOME, "") for m in want}  # the reception has no figure of these today
    for (metric, unit, key), e in elements.items():
        t = tiles[(metric, unit, key)]
        assert (e["data-value"], e["data-status"], e["data-updated"]) == (
            plain_text(want[metric]), t["status"], t["updated_at"]), metric
        assert e["data-updated"] == UPDATED_AT_10[metric].isoformat(), metric
    text = json.dumps(drawn, ensure_ascii=False)
    for words in ("raja 0,65: täyttyy", "gräns 0,65: uppfylls",
                  "Käyttöaste, % = 100 × paikat käytössä / paikkoja yhteensä",
                  "Beläggning, % = 100 × platser i bruk / platser totalt",
                  "Henkilöstömitoitus = hoitotyön henkilöstö, htv / asiakkaita",
                  "Personaldimensionering = vårdpersonal, åv / klienter",
                  "Hoivakoti Koivula", "Vårdhemmet Koivula", *(n for pair in NAMES.values() for n in pair)):
        assert words in text, words
    assert '"data-limit": "0.65"' in text and '"data-meets": "true"' in text
    assert "alle rajan" not in text and "under gränsen" not in text


def check_snapshot(config: Path, env: dict[str, str]) -> None:
    made = cli("snapshot", "--display", HOME, "--json", "--config", str(config), env=env)
    assert made.returncode == 0, made.stderr
    snap = json.loads(made.stdout)
    tiles = {t["metric"]: t for t in snap["tiles"] if t["unit"] == HOME}
    want = expected_tiles()
    assert {m: Fraction(str(t["value"])) for m, t in tiles.items()} == want
    assert (tiles["home.staffing_ratio"]["limit"], tiles["home.staffing_ratio"]["meets"]) == (0.65, True)
    assert tiles["home.occupancy_pct"]["source"] == "derived"
    assert snap["escalation"]["units"][HOME]["level"] == 3
    [source] = snap["sources"]
    assert (source["name"], source["state"], source["items_read"], source["items_unmapped"]) == (
        "hoitojarjestelma", "ok", 2, 0)


def board_rows(cfg: Config, backend: Backend, lead: ShiftLead) -> dict[str, dict[str, Any]]:
    ctx = TabletContext(cfg, backend.store, backend.history, backend.data_dir)
    with speaking(lead.lang):
        rows = drawn_rows(board_view(ctx, lead), "board-row")
    return {str(r["attrs"]["data-metric"]): r for r in rows if r["attrs"]["data-unit"] == HOME}  # type: ignore[index]


def check_tablet(cfg: Config, backend: Backend) -> None:
    nurse = User("hoitaja", "shift_lead", (HOME,))
    fi, sv = (ShiftLead(cfg, backend.store, backend.history, nurse, lang) for lang in ("fi", "sv"))
    for lead, i in ((fi, 0), (sv, 1)):
        rows = board_rows(cfg, backend, lead)
        assert {m: r["texts"][1] for m, r in rows.items()} == {m: names[i] for m, names in NAMES.items()}
    rd = fi.correct(HOME, "home.vaccinations_today", "", "11", "day")
    assert (rd.value, rd.observed_at) == (11, CORRECTED)
    row = board_rows(cfg, backend, fi)["home.vaccinations_today"]
    assert (row["attrs"]["data-value"], row["attrs"]["data-corrects"]) == ("11", "9")
    assert "board-row--corrected" in str(row["attrs"]["class"])
    model = build(cfg, cfg.display(HOME), backend.store, None).data
    wall = index(model["tiles"])[("home.vaccinations_today", HOME, "")]
    assert (wall["value"], wall["source"], wall["corrects"]["value"]) == (11, "tabletti", 9)


def check_history(cfg: Config, backend: Backend) -> page.HistoryContext:
    drain(backend.store, backend.history)
    rollups.rebuild(backend.history, cfg.zones(), cfg.hours_specs())
    ctx = page.HistoryContext(cfg, backend.store, backend.history)
    recorded = [m for m in NAMES if m in ENTERED]
    q = page.parse_query(cfg, [HOME], recorded, DAY.isoformat(), DAY.isoformat(), "day")
    with speaking("fi"):
        parts, _ = page.content(ctx, q, ASKED)
    figures = {}
    for node in walk(html.Div(parts)):
        if type(node).__name__ == "Graph" and str(node.id).startswith("history-series-"):
            for trace in node.figure.data:
                figures[trace.meta["metric"]] = dict(zip(trace.x, trace.y, strict=True))[DAY.isoformat()]
    assert {m: Fraction(str(v)) for m, v in figures.items()} == day_figures()
    # the derived ones are not recorded: not asked for either
    for derived in ("home.occupancy_pct", "home.staffing_ratio"):
        with pytest.raises(page.BadQuery):
            page.parse_query(cfg, [HOME], [derived], DAY.isoformat(), DAY.isoformat(), "day")
    return ctx


def day_figures() -> dict[str, Fraction]:
    """The day's figure of each recorded metric at ASKED: a count's last value of the day, a
    level's mean (rounded to 3 decimals, as the page gives it)."""
    out = {}
    for metric, changes in ENTERED.items():
        if metric == "home.vaccinations_today":
            out[metric] = changes[-1][1]
        else:
            out[metric] = half_up(day_mean_so_far(changes, ASKED), 3)
    assert out["home.vaccinations_today"] == 11 and out["home.places_in_use"] == Fraction("21.2")
    return out


def walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from walk(child)


def check_downloads(cfg: Config, ctx: page.HistoryContext) -> None:
    recorded = [m for m in NAMES if m in ENTERED]
    q = page.parse_query(cfg, [HOME], recorded, DAY.isoformat(), DAY.isoformat(), "day")
    want = day_figures()
    for lang, i in (("fi", 0), ("sv", 1)):
        with speaking(lang):
            data, count = page.download(ctx, q, "csv", ASKED, lang)
            book, _ = page.download(ctx, q, "xlsx", ASKED, lang)
        lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))[1:]
        assert count == len(lines) == len(recorded)
        # unit, unit's name, metric, its configured name, the day's figure (a decimal comma), the
        # number of changes that day
        assert {(r[2], r[3], r[4], r[5], Fraction(r[8].replace(",", ".")), int(r[13])) for r in lines} == {
            (HOME, ("Hoivakoti Koivula", "Vårdhemmet Koivula")[i], m, NAMES[m][i], want[m], len(ENTERED[m]))
            for m in recorded}
        # what each figure is, by its kind: the count's day total, the others' mean over 0–24
        what = {r[4]: r[9] for r in lines}
        assert what["home.vaccinations_today"] == ("yhteensä päivässä", "summa för dagen")[i]
        assert what["home.places_in_use"] == ("keskiarvo aukioloaikana 0–24", "medelvärde under öppettiden 0–24")[i]
        sheet = load_workbook(io.BytesIO(book)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))[1:]
        assert {(r[4], r[5], Fraction(str(r[8]))) for r in rows} == {(m, NAMES[m][i], want[m]) for m in recorded}


# -- the test ------------------------------------------------------------------------------------

def test_a_care_homes_own_metrics_go_from_workbook_and_feed_to_wall_tablet_history_and_exports(
        backend: Backend, tmp_path: Path) -> None:
    feed = Feed()
    feed.content_type = "text/csv; charset=utf-8"
    feed.body = FEED_CSV.encode()
    try:
        config = write_config(tmp_path, feed)
        env = backend.cli_env()
        checked = cli("check-config", "--config", str(config), env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        cfg = load_config(config)
        pin_site_clock(backend.store, MORNING, stopped=True)  # the commands' clock: 10.00 and standing
        with time_machine.travel(MORNING, tick=False) as traveller:
            fill_and_import(tmp_path, config, env)
            collect(config, env)
            check_live_store(backend)
            check_wall(cfg, backend)
            check_snapshot(config, env)
            pin_site_clock(backend.store, CORRECTED, stopped=True)
            traveller.move_to(CORRECTED)
            check_tablet(cfg, backend)
            traveller.move_to(ASKED)
            ctx = check_history(cfg, backend)
            check_downloads(cfg, ctx)
    finally:
        feed.stop()
