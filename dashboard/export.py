"""The history page's downloads: rows of `dashboard.rollups.series` as CSV or XLSX.

CSV is what Excel opens with a double click in a Finnish or Swedish locale: UTF-8 with a
BOM, `;` between fields, decimal commas and local times `23.11.2026 14.00` (fi, sv); in
English decimal points and `2026-11-23 14:00`. XLSX has real numbers and dates, the header
bold and frozen and readable column widths. Times are the periods' local start (the
offset is left out, as a spreadsheet has none; the repeated hour of the autumn's DST change
appears twice, in order). Values of series metrics (an object hour → count) are written as
compact JSON text.

No text cell of any download (these, and the audit log's CSV) is ever a formula: a unit, key
or user name such as `=HYPERLINK(...)` or `-2+3` must arrive in the spreadsheet as the text
it is (OWASP "CSV injection"). `formula_like` is the one rule; `inert` applies it to a CSV
cell, `to_xlsx` to a workbook's cell. Numbers are never put through it: they are numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

COLUMNS = ("metric", "unit", "key", "period", "mean", "min", "max", "last", "samples")
HEADERS = {
    "fi": ("Mittari", "Yksikkö", "Tarkenne", "Alkaa", "Keskiarvo", "Pienin", "Suurin",
           "Viimeisin", "Muutoksia"),
    "sv": ("Mätvärde", "Enhet", "Precisering", "Börjar", "Medelvärde", "Minsta", "Största",
           "Senaste", "Ändringar"),
    "en": ("Metric", "Unit", "Key", "Starts", "Mean", "Min", "Max", "Last", "Changes"),
}
SHEET = {"fi": "Historia", "sv": "Historik", "en": "History"}
_TIME_FORMAT = {"fi": "%d.%m.%Y %H.%M", "sv": "%d.%m.%Y %H.%M", "en": "%Y-%m-%d %H:%M"}
_EXCEL_FORMAT = {"fi": "dd.mm.yyyy hh.mm", "sv": "dd.mm.yyyy hh.mm", "en": "yyyy-mm-dd hh:mm"}
# What a spreadsheet takes as the start of a formula in a text cell: OWASP's list (= + - @,
# tab, carriage return) and the full-width forms, which Excel reads as = + - @. A frozenset,
# so that the empty text is not in it.
FORMULA_START = frozenset("=+-@\t\r＝＋－＠")


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this text cell as a formula (on opening, or once edited)?"""
    return text[:1] in FORMULA_START


def inert(text: str) -> str:
    """A text cell for CSV that no spreadsheet evaluates: a leading apostrophe, as OWASP
    advises, where the text would start a formula; other text unchanged."""
    return "'" + text if formula_like(text) else text


def _xlsx_text(ws: Any, text: str) -> str | WriteOnlyCell:
    """A workbook's text cell that stays text. openpyxl would store "=…" as a formula, so such
    a text is typed a string ("s") and marked quotePrefix, not given an apostrophe: that is
    what Excel itself stores when a person types '=1. The cell shows the text as it is (no
    stray apostrophe, and a program reading the file gets the value unchanged), and editing
    the cell keeps it text instead of turning it into a formula."""
    if not formula_like(text):
        return text
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _lang(lang: str) -> str:
    if lang not in HEADERS:
        raise ValueError(f"language must be fi, sv or en, not {lang!r}")
    return lang


def _number_text(value: float | int, comma: bool) -> str:
    """A number as a spreadsheet reads it back: integral values without decimals (8, not
    8,0), others with the shortest exact decimals."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if comma else text


def _cell_text(value: Any, comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return _number_text(value, comma)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def to_csv(rows: Sequence[dict[str, Any]], lang: str) -> bytes:
    """`series()` rows as CSV for a spreadsheet in the language's conventions."""
    lang = _lang(lang)
    comma = lang in ("fi", "sv")
    time_format = _TIME_FORMAT[lang]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS[lang])
    periods: dict[str, str] = {}
    # 8 and 8.0 share a key, and both are written "8"
    numbers: dict[Any, str] = {None: ""}
    known = numbers.get

    def text(value: Any) -> str:  # the first time a value is seen; objects every time
        shown = _cell_text(value, comma)
        if not isinstance(value, int | float):  # a number's text stays a number, -0,5 too
            shown = inert(shown)
        if not isinstance(value, dict | list):
            numbers[value] = shown
        return shown

    rows_out: list[tuple[Any, ...]] = []
    append = rows_out.append
    for row in rows:
        period = row["period"]
        shown = periods.get(period)
        if shown is None:
            shown = periods[period] = datetime.fromisoformat(period).strftime(time_format)
        mean, lo, hi, last = row["mean"], row["min"], row["max"], row["last"]
        if type(last) is dict:
            last_text = text(last)
        else:
            last_text = known(last) or text(last)
        append((inert(row["metric"]), inert(row["unit"]), inert(row["key"]), shown,
                known(mean) or text(mean), known(lo) or text(lo), known(hi) or text(hi),
                last_text, row["samples"]))
    writer.writerows(rows_out)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def to_xlsx(rows: Sequence[dict[str, Any]], lang: str) -> bytes:
    """`series()` rows as an Excel workbook: numbers as numbers, periods as local date-times."""
    lang = _lang(lang)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET[lang])
    headers = HEADERS[lang]
    widths = [len(h) for h in headers]
    widths[3] = max(widths[3], 16)
    for row in rows[:2000]:  # widths from a sample: enough to be readable
        for i, col in enumerate(("metric", "unit", "key")):
            widths[i] = max(widths[i], len(str(row[col])))
        for i, col in enumerate(("mean", "min", "max", "last"), start=4):
            widths[i] = max(widths[i], len(_cell_text(row[col], False)))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 10), 60)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for title in headers:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    excel_format = _EXCEL_FORMAT[lang]
    periods: dict[str, datetime] = {}
    for row in rows:
        period = row["period"]
        local = periods.get(period)
        if local is None:
            local = periods[period] = datetime.fromisoformat(period).replace(tzinfo=None)
        when = WriteOnlyCell(ws, value=local)
        when.number_format = excel_format
        last = row["last"]
        ws.append([_xlsx_text(ws, row["metric"]), _xlsx_text(ws, row["unit"]),
                   _xlsx_text(ws, row["key"]), when, row["mean"], row["min"], row["max"],
                   last if isinstance(last, int | float) or last is None
                   else _xlsx_text(ws, _cell_text(last, False)), row["samples"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
