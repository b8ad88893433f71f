"""The workbook's T3 beyond the horizon: "> 90" in the Ajanvaraus sheet (and its Swedish and
English names) is the number written with bound "above", read from a real .xlsx file."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from dashboard.config import Config
from dashboard.workbook import reader
from dashboard.workbook.parse import Parsed, parse

HEAD = {
    "fi": ("Ajanvaraus", ["Päivä", "Yksikkö", "Ammattiryhmä", "Vapaat ajat tänään",
                          "Vapaat ajat 3 arkipäivää", "T3 (päivää)"]),
    "sv": ("Tidsbokning", ["Dag", "Enhet", "Yrkesgrupp", "Lediga tider idag", "Lediga tider 3 vardagar",
                           "T3 (dagar)"]),
    "en": ("Appointments", ["Date", "Unit", "Profession", "Free today", "Free in 3 working days", "T3 (days)"]),
}


def read(lang: str, t3_cells: list[object], config: Config) -> Parsed:
    """A real .xlsx with one appointments row per T3 cell, read and validated as an upload is."""
    sheet, head = HEAD[lang]
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(head)
    for i, t3 in enumerate(t3_cells):
        ws.append(["23.11.2026", "vastaanotto", f"ammatti {i}", 0, 1, t3])
    out = io.BytesIO()
    wb.save(out)
    return parse(reader.read(out.getvalue()), config, lang)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_t3_beyond_the_horizon_is_the_number_written_with_bound_above(config: Config, lang: str):
    parsed = read(lang, ["> 90", ">90", "  >  60,5 ", 12, "2,5", 0], config)
    assert parsed.errors == []
    got = [(r.values["t3_days"], r.values.get("t3_days_bound")) for r in parsed.rows]
    assert got == [(90, "above"), (90, "above"), (60.5, "above"), (12, None), (2.5, None), (0, None)]
    assert all(type(r.values["t3_days"]) is float for r in parsed.rows)  # a plain number, nothing more


@pytest.mark.parametrize("cell", [">", "> -5", ">= 90", "≥ 90", "< 3", "> > 90", "> yli", "> inf", "-1", "yli 90"])
def test_anything_else_beside_a_number_is_refused_in_its_cell(config: Config, cell: str):
    parsed = read("fi", [cell], config)
    assert parsed.rows == []
    [problem] = parsed.errors
    assert (problem.sheet, problem.row, problem.column, problem.value) == ("Ajanvaraus", 2, "T3 (päivää)", cell)
    assert "0 tai suurempi" in problem.message


def test_only_t3_takes_a_bound(config: Config):
    sheet, head = HEAD["fi"]
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(head)
    ws.append(["23.11.2026", "vastaanotto", "lääkäri", "> 3", ">5", 7])
    out = io.BytesIO()
    wb.save(out)
    parsed = parse(reader.read(out.getvalue()), config, "fi")
    assert {p.column for p in parsed.errors} == {"Vapaat ajat tänään", "Vapaat ajat 3 arkipäivää"}
