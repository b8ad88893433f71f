"""The centre's own metrics in the workbook (sheet Muut mittarit / Övriga mätare / Other
metrics): the template offers the configured ones, a filled sheet reaches the live store as
manual readings, and every wrong row is refused in its cell; a workbook without the sheet
imports as before."""

from __future__ import annotations

import datetime as dt
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook, load_workbook

from dashboard.config import Config, load_config
from dashboard.domain.readings import Reading
from dashboard.workbook.importer import Report, import_bytes
from dashboard.workbook.template import template
from tests.conftest import ROOT, Backend

TZ = ZoneInfo("Europe/Helsinki")
MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
MIDNIGHT = datetime(2026, 11, 24, 0, 0, tzinfo=TZ)
OLD_WORKBOOK = ROOT / "tests" / "fixtures" / "workbook" / "aamu-libreoffice.xlsx"
pytestmark = pytest.mark.store

UNITS = """
[site]
name = "Koivulan sote-keskus"
name_sv = "Björkby social- och hälsocentral"
timezone = "Europe/Helsinki"
language = "fi"

[[units]]
code = "osasto"
name = "Vuodeosasto"
name_sv = "Bäddavdelning"
opening_hours = "always"
open_days = "every"

[[units]]
code = "hoivakoti"
name = "Hoivakoti Koivula"
name_sv = "Vårdhemmet Koivula"
opening_hours = "always"
open_days = "every"
"""

METRICS = """
[[metrics]]
id = "ward.beds_in_use"
name = "Vuodepaikat käytössä"
name_sv = "Bäddplatser i bruk"
name_en = "Beds in use"
card = "osasto"

[[metrics]]
id = "ward.beds_total"
name = "Vuodepaikat yhteensä"
name_sv = "Bäddplatser totalt"
name_en = "Beds in total"
card = "osasto"

[[metrics]]
id = "ward.occupancy_pct"
name = "Käyttöaste, %"
name_sv = "Beläggning, %"
name_en = "Occupancy, %"
kind = "percent"
derived = "100 * ward.beds_in_use / ward.beds_total"
card = "osasto"

[[metrics]]
id = "ward.beds_freed_today"
name = "Vapautuneet paikat tänään"
name_sv = "Frigjorda platser i dag"
name_en = "Beds freed today"
kind = "count"
card = "osasto"

[[metrics]]
id = "ward.rooms_closed"
name = "Suljetut huoneet"
name_sv = "Stängda rum"
name_en = "Rooms closed"
keyed_by = "label"
keys = ["A-siipi", "B-siipi"]
card = "osasto"

[[metrics]]
id = "care.staff_fte"
name = "Hoitotyön henkilöstö, htv"
name_sv = "Vårdpersonal, åv"
name_en = "Care staff, FTE"
decimals = 1
manual_hours = 4
card = "hoivakoti"

[[cards]]
id = "osasto"
name = "Vuodepaikat"

[[cards]]
id = "hoivakoti"
name = "Henkilöstömitoitus"
"""

SHEET = {"fi": "Muut mittarit", "sv": "Övriga mätare", "en": "Other metrics"}
HEAD = {"fi": ["Päivä tai kellonaika", "Yksikkö", "Mittari", "Tarkenne", "Arvo"],
        "sv": ["Dag eller klockslag", "Enhet", "Mätare", "Precisering", "Värde"],
        "en": ["Date or time", "Unit", "Metric", "Key", "Value"]}


@pytest.fixture(autouse=True)
def monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def own(tmp_path: Path) -> Config:
    """A ward and a care home with their own metrics, from a TOML file as a centre writes it."""
    path = tmp_path / "ohjaustaulu.toml"
    path.write_text(UNITS + METRICS, encoding="utf-8")
    return load_config(path)


def run(backend: Backend, config: Config, data: bytes, name: str = "osasto.xlsx", **kw) -> Report:  # type: ignore[no-untyped-def]
    return import_bytes(data, name, "vuorovastaava", config=config, store=backend.store,
                        history=backend.history, data_dir=backend.data_dir, **kw)


def readings(backend: Backend) -> dict[tuple[str, str, str], Reading]:
    return {(r.metric, r.unit, r.key): r for rs in backend.store.all_readings().values() for r in rs}


def filled(config: Config, lang: str, rows: list[list[object]]) -> bytes:
    """The template in `lang`, its own metrics' sheet filled below the header as a person
    fills it in Excel or Calc, and saved."""
    wb = load_workbook(io.BytesIO(template(config, lang)))
    ws = wb[SHEET[lang]]
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet_only(rows: list[list[object]], lang: str = "fi") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET[lang]
    ws.append(HEAD[lang])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- the template ---------------------------------------------------------------------------

def help_lines(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    return [str(row[0]) for row in wb.worksheets[0].iter_rows(values_only=True) if row[0]]


def test_the_template_has_the_sheet_and_lists_each_metric_with_its_key_and_measure(own: Config):
    data = template(own, "fi")
    wb = load_workbook(io.BytesIO(data))
    assert [c.value for c in wb["Muut mittarit"][1]] == HEAD["fi"]
    lines = help_lines(data)
    assert "Vuodepaikat käytössä (ward.beds_in_use) – tarkenne: ei (vain yksikkö) – lukuarvo – voimassa päivän loppuun" in lines
    assert ("Suljetut huoneet (ward.rooms_closed) – tarkenne: tarkenne (esim. a-siipi, b-siipi) – lukuarvo – "
            "voimassa päivän loppuun") in lines
    assert ("Vapautuneet paikat tänään (ward.beds_freed_today) – tarkenne: ei (vain yksikkö) – "
            "lukumäärä tänään, kokonaisluku – voimassa päivän loppuun") in lines
    assert ("Hoitotyön henkilöstö, htv (care.staff_fte) – tarkenne: ei (vain yksikkö) – lukuarvo, desimaaleja: 1 – "
            "voimassa 4 t") in lines
    assert ("Käyttöaste, % (ward.occupancy_pct) – lasketaan: 100 * ward.beds_in_use / ward.beds_total – "
            "ei kirjoiteta") in lines
    # example rows of the configuration's own metrics in their own units
    assert "23.11.2026 | Vuodeosasto | Vuodepaikat käytössä |  | 21" in lines
    assert "9.30 | Hoivakoti Koivula | Hoitotyön henkilöstö, htv |  | 19,5" in lines
    # the drop-down list offers the metrics a person enters, the derived one not
    lists = [[v for v in column if v] for column in wb["_listat"].iter_cols(values_only=True)]
    metrics = next(values for values in lists if "Suljetut huoneet" in values)
    assert metrics == ["Vuodepaikat käytössä", "Vuodepaikat yhteensä", "Vapautuneet paikat tänään",
                       "Suljetut huoneet", "Hoitotyön henkilöstö, htv"]
    [rule] = [dv for dv in wb["Muut mittarit"].data_validations.dataValidation if "C2:C201" in str(dv.sqref)]
    letter = "ABCDEFGH"[lists.index(metrics)]
    assert rule.formula1 == f"_listat!${letter}$1:${letter}$5" and rule.showErrorMessage


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_template_speaks_swedish_and_english(own: Config, lang: str):
    data = template(own, lang)
    wb = load_workbook(io.BytesIO(data))
    assert [c.value for c in wb[SHEET[lang]][1]] == HEAD[lang]
    lines = help_lines(data)
    expected = {"sv": "Vårdpersonal, åv (care.staff_fte) – precisering: ingen (bara enhet) – tal, decimaler: 1 – gäller 4 h",
                "en": "Care staff, FTE (care.staff_fte) – key: none (unit only) – number, decimals: 1 – stands 4 h"}
    assert expected[lang] in lines


def test_without_own_metrics_the_template_has_no_such_sheet(tmp_path: Path):
    """Every row of it would be an error: a sheet that takes nothing is left out."""
    path = tmp_path / "ohjaustaulu.toml"
    path.write_text(UNITS, encoding="utf-8")
    wb = load_workbook(io.BytesIO(template(load_config(path), "fi")))
    assert "Muut mittarit" not in wb.sheetnames and "Henkilöstö" in wb.sheetnames
    assert not any("Muut mittarit" in line for line in help_lines(template(load_config(path), "fi")))


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_empty_template_imports_without_a_word(backend: Backend, own: Config, lang: str):
    report = run(backend, own, template(own, lang), lang=lang)
    assert report.ok and report.errors == [] and report.warnings == [], report
    assert report.counts[SHEET[lang]] == 0


# -- a filled sheet reaches the live store ---------------------------------------------------

def test_a_filled_sheet_reaches_the_live_store_as_manual_readings(backend: Backend, own: Config):
    report = run(backend, own, filled(own, "fi", [
        ["9.30", "Vuodeosasto", "Vuodepaikat käytössä", "", "20"],  # a time of today, a text number
        [dt.date(2026, 11, 23), "osasto", "ward.beds_total", None, 24],  # a date cell, the id
        ["23.11.", "vuodeosasto ", "VAPAUTUNEET PAIKAT TÄNÄÄN", "", 3],  # day without year, odd case
        [],
        ["8.00", "Vårdhemmet Koivula", "Care staff, FTE", "", "19,5"],  # Swedish unit, English name
        [dt.time(10, 15), "osasto", "Stängda rum", "A-siipi ", 2],  # a time cell, a key
    ]))
    assert report.ok and report.applied, report.errors
    assert report.counts["Muut mittarit"] == 5
    got = readings(backend)
    assert {k: r.value for k, r in got.items()} == {
        ("ward.beds_in_use", "osasto", ""): 20, ("ward.beds_total", "osasto", ""): 24,
        ("ward.beds_freed_today", "osasto", ""): 3, ("care.staff_fte", "hoivakoti", ""): 19.5,
        ("ward.rooms_closed", "osasto", "a-siipi"): 2,
    }
    in_use = got[("ward.beds_in_use", "osasto", "")]
    sha = backend.history.imports()[-1].sha256
    assert (in_use.manual, in_use.source) == (True, "tyokirja")
    assert in_use.entered_by == f"vuorovastaava (osasto.xlsx, sha256:{sha[:12]})"
    # a time is when it was seen; a day alone is of the import; no manual_hours: to midnight
    assert in_use.observed_at == datetime(2026, 11, 23, 9, 30, tzinfo=TZ) and in_use.valid_until == MIDNIGHT
    total = got[("ward.beds_total", "osasto", "")]
    assert total.observed_at == MONDAY and total.valid_until == MIDNIGHT
    # manual_hours = 4: the value stands four hours from its time
    fte = got[("care.staff_fte", "hoivakoti", "")]
    assert fte.valid_until == datetime(2026, 11, 23, 12, 0, tzinfo=TZ)
    assert type(got[("ward.beds_in_use", "osasto", "")].value) is int


def test_the_latest_row_of_a_figure_wins(backend: Backend, own: Config):
    report = run(backend, own, sheet_only([
        ["10.00", "osasto", "Vuodepaikat käytössä", "", 19],
        ["8.00", "osasto", "Vuodepaikat käytössä", "", 23],
        ["23.11.2026 10.30", "osasto", "Vuodepaikat käytössä", "", 18],
    ]))
    assert report.ok and report.applied
    rd = readings(backend)[("ward.beds_in_use", "osasto", "")]
    assert (rd.value, rd.observed_at) == (18, datetime(2026, 11, 23, 10, 30, tzinfo=TZ))


def test_a_row_of_another_day_is_not_shown_and_said_so(backend: Backend, own: Config):
    report = run(backend, own, sheet_only([["20.11.2026", "osasto", "Vuodepaikat käytössä", "", 19]]))
    assert report.ok and readings(backend) == {}
    assert report.warnings == ["Muut mittarit rivi 2: päivä 20.11.2026 ei ole tänään – ei näytetä seinällä."]


def test_a_fresh_feed_value_shadowing_a_row_is_said(backend: Backend, own: Config):
    backend.store.write_readings("mittarit", [Reading("ward.beds_in_use", "osasto", "", 22, MONDAY, "mittarit")],
                                 {"state": "ok"})
    report = run(backend, own, sheet_only([["9.30", "osasto", "Vuodepaikat käytössä", "", 20]]))
    assert report.ok and report.applied
    assert report.warnings == [
        "Muut mittarit rivi 2: Vuodepaikat käytössä 20 ei näy seinällä: mittarijärjestelmän tuore arvo 22 "
        "(klo 11.00) on voimassa. Korjaa tabletilla, jos se on väärä."]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_swedish_and_english_sheets_import(backend: Backend, own: Config, lang: str):
    name = {"sv": "Bäddplatser i bruk", "en": "Beds in use"}[lang]
    report = run(backend, own, filled(own, lang, [
        ["9.30", "Bäddavdelning", name, "", "20"],
        ["9.30", "osasto", "Suljetut huoneet", "b-siipi", 1],  # the Finnish name in any workbook
        ["9.30", "osasto", "Käyttöaste, %", "", 80],
    ]), lang=lang)
    [error] = report.errors
    assert (error["sheet"], error["row"], error["column"], error["value"]) == (SHEET[lang], 4, HEAD[lang][2], "Käyttöaste, %")
    report = run(backend, own, filled(own, lang, [
        ["9.30", "Bäddavdelning", name, "", "20"],
        ["9.30", "osasto", "Suljetut huoneet", "b-siipi", 1],
    ]), lang=lang)
    assert report.ok and report.applied and report.counts[SHEET[lang]] == 2
    assert {k: r.value for k, r in readings(backend).items()} == {
        ("ward.beds_in_use", "osasto", ""): 20, ("ward.rooms_closed", "osasto", "b-siipi"): 1}


# -- bad rows: each refused in its cell, nothing applied -------------------------------------

BAD = {
    "unknown metric": (["9.30", "osasto", "Vuodepaikat vapaana", "", 3], "Mittari", "Vuodepaikat vapaana",
                       "Tuntematon mittari: käytä mittarin nimeä tai tunnusta (Vuodepaikat käytössä, "
                       "Vuodepaikat yhteensä, Vapautuneet paikat tänään, Suljetut huoneet, Hoitotyön henkilöstö, htv)."),
    "missing key": (["9.30", "osasto", "Suljetut huoneet", "", 2], "Tarkenne", "",
                    "Tarkenne puuttuu: kirjoita mittarin Suljetut huoneet tarkenne."),
    "key of an unkeyed metric": (["9.30", "osasto", "Vuodepaikat käytössä", "A-siipi", 20], "Tarkenne", "A-siipi",
                                 "Mittarilla Vuodepaikat käytössä ei ole tarkennetta: jätä sarake tyhjäksi."),
    "derived metric": (["9.30", "osasto", "ward.occupancy_pct", "", 80], "Mittari", "ward.occupancy_pct",
                       "Käyttöaste, % lasketaan muista mittareista (Vuodepaikat käytössä, Vuodepaikat yhteensä), "
                       "eikä sitä kirjoiteta: kirjoita niiden arvot."),
    "text value": (["9.30", "osasto", "Vuodepaikat käytössä", "", "paljon"], "Arvo", "paljon",
                   "Odotettiin lukua, joka on 0 tai suurempi (desimaalipilkku käy)."),
    "negative count": (["9.30", "osasto", "Vapautuneet paikat tänään", "", "-2"], "Arvo", "-2",
                       "Odotettiin lukua, joka on 0 tai suurempi (desimaalipilkku käy)."),
    "fractional count": (["9.30", "osasto", "Vapautuneet paikat tänään", "", "2,5"], "Arvo", "2.5",
                         "Odotettiin kokonaislukua, joka on 0 tai suurempi."),
    "built-in metric": (["9.30", "osasto", "Paikalla", "lääkäri", 3], "Mittari", "Paikalla",
                        "Vakiomittari: kirjoita se välilehdelle Henkilöstö, sarakkeeseen Paikalla."),
    "built-in metric by id": (["9.30", "osasto", "queue.waiting", "päivystys", 3], "Mittari", "queue.waiting",
                              "Vakiomittari: kirjoita se välilehdelle Jonot, sarakkeeseen Jonossa."),
    "built-in metric of the systems": (["9.30", "osasto", "flow.arrivals_today", "", 3], "Mittari", "flow.arrivals_today",
                                       "Vakiomittari, joka tulee järjestelmistä: sitä ei kirjoiteta työkirjaan "
                                       "(korjaa tarvittaessa tabletilla)."),
    "no day or time": (["aamulla", "osasto", "Vuodepaikat käytössä", "", 20], "Päivä tai kellonaika", "aamulla",
                       "Odotettiin päivämäärää tai kellonaikaa, esim. 23.11.2026, 8.30 tai 23.11.2026 8.30."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_row_is_refused_in_its_cell(backend: Backend, own: Config, case: str):
    row, column, value, message = BAD[case]
    report = run(backend, own, filled(own, "fi", [["9.00", "osasto", "Vuodepaikat yhteensä", "", 24], row]))
    assert not report.ok and not report.applied
    assert report.errors == [{"sheet": "Muut mittarit", "row": 3, "column": column, "value": value, "message": message}]
    assert readings(backend) == {}  # the good row neither: a file is applied whole or not at all


def test_every_bad_row_is_reported_at_once(backend: Backend, own: Config):
    report = run(backend, own, sheet_only([row for row, *_ in BAD.values()]))
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (i, column) for i, (_, column, _, _) in enumerate(BAD.values(), start=2)]


def test_a_sheet_without_the_key_column_takes_unkeyed_metrics(backend: Backend, own: Config):
    wb = Workbook()
    ws = wb.active
    ws.title = "Muut mittarit"
    ws.append(["Päivä tai kellonaika", "Yksikkö", "Mittari", "Arvo"])
    ws.append(["9.30", "osasto", "Vuodepaikat käytössä", 20])
    ws.append(["9.30", "osasto", "Suljetut huoneet", 2])
    out = io.BytesIO()
    wb.save(out)
    report = run(backend, own, out.getvalue())
    assert report.errors == [{"sheet": "Muut mittarit", "row": 3, "column": "Tarkenne", "value": "",
                              "message": "Tarkenne puuttuu: kirjoita mittarin Suljetut huoneet tarkenne."}]


# -- workbooks made before -------------------------------------------------------------------

def test_an_old_workbook_without_the_sheet_imports_as_before(backend: Backend, config: Config):
    assert config.own_metrics()  # the example configuration has its own metrics
    report = run(backend, config, OLD_WORKBOOK.read_bytes(), "aamu.xlsx")
    assert report.ok and report.applied and report.errors == []
    assert report.counts == {"Henkilöstö": 3, "Tidsbokning": 2, "Jonot": 3, "Kapasiteetti": 1, "Tiedotteet": 2}
    assert not any("Muut mittarit" in w for w in report.warnings)


def test_a_template_made_before_the_metrics_imports(backend: Backend, own: Config, tmp_path: Path):
    path = tmp_path / "vanha.toml"
    path.write_text(UNITS, encoding="utf-8")
    old = load_workbook(io.BytesIO(template(load_config(path), "fi")))
    old["Henkilöstö"].append(["23.11.2026", "osasto", "sairaanhoitaja", 6, 5])
    out = io.BytesIO()
    old.save(out)
    report = run(backend, own, out.getvalue())
    assert report.ok and report.applied and report.warnings == []
    assert {k: r.value for k, r in readings(backend).items()} == {
        ("staff.planned", "osasto", "sairaanhoitaja"): 6, ("staff.present", "osasto", "sairaanhoitaja"): 5}


def test_a_count_with_manual_hours_ends_with_its_day(backend: Backend, tmp_path: Path):
    path = tmp_path / "ohjaustaulu.toml"
    path.write_text(UNITS + METRICS.replace('kind = "count"\n', 'kind = "count"\nmanual_hours = 6\n'), encoding="utf-8")
    config = load_config(path)
    with time_machine.travel(datetime(2026, 11, 23, 22, 0, tzinfo=TZ), tick=False):
        report = run(backend, config, sheet_only([["21.00", "osasto", "Vapautuneet paikat tänään", "", 5],
                                                  ["8.00", "osasto", "Vuodepaikat käytössä", "", 20]]))
    assert report.ok and report.applied
    got = readings(backend)
    assert got[("ward.beds_freed_today", "osasto", "")].valid_until == MIDNIGHT  # not 03.00 tomorrow
    assert got[("ward.beds_in_use", "osasto", "")].valid_until == MIDNIGHT
    assert got[("ward.beds_freed_today", "osasto", "")].observed_at + timedelta(hours=3) == MIDNIGHT


def test_a_swedish_ods_with_date_and_time_cells_imports(backend: Backend, own: Config):
    """As Calc saves one: a date cell, a time cell (a duration to the reader) and numbers."""
    from tests.security.test_workbooks import ods, ods_cell, ods_row

    def cell(kind: str, value: str) -> str:
        attr = {"date": "office:date-value", "time": "office:time-value", "float": "office:value"}[kind]
        return f'<table:table-cell office:value-type="{kind}" {attr}="{value}"><text:p>{value}</text:p></table:table-cell>'

    rows = [ods_row("".join(ods_cell(v) for v in HEAD["sv"])),
            ods_row(cell("date", "2026-11-23") + ods_cell("Bäddavdelning") + ods_cell("Bäddplatser totalt")
                    + ods_cell("") + cell("float", "24")),
            ods_row(cell("time", "PT09H30M00S") + ods_cell("Vårdhemmet Koivula") + ods_cell("Vårdpersonal, åv")
                    + ods_cell("") + cell("float", "19.5"))]
    data = ods(f'<table:table table:name="Övriga mätare">{"".join(rows)}</table:table>')
    report = run(backend, own, data, "avdelning.ods", lang="sv")
    assert report.ok and report.applied, report.errors
    got = readings(backend)
    assert got[("ward.beds_total", "osasto", "")].value == 24
    fte = got[("care.staff_fte", "hoivakoti", "")]
    assert (fte.value, fte.observed_at) == (19.5, datetime(2026, 11, 23, 9, 30, tzinfo=TZ))
