"""The history page's downloads: rows of `dashboard.storage.rollups.series` as CSV or XLSX.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboard.translate import N_, gettext_in

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


# ---------------------------------------------------------------- the history page's report
#
# What the history page downloads and prints: the rows it shows, with names for people beside
# the codes (unit, metric), the day's figure as the page shows it and what it is ("keskiarvo
# aukioloaikana 8–16", or the day's total of a count), dates as on the screen (3.11.2026;
# hours 3.11.2026 14.00) and, when the page compares two periods, the comparison period's rows
# too, each row saying which period it belongs to. `to_csv`/`to_xlsx` above stay the plain
# rollup rows (the benchmark's and the rollup tests' format).

# the report's words in Finnish, each shown in the report's language from the catalogues
# (dashboard/locale): a download says what the page says
REPORT_TEXT: dict[str, str] = {
    "period": N_("Jakso"),
    "day": N_("Päivä"),
    "starts": N_("Alkaa"),
    "unit": N_("Yksikkö"),
    "unit_name": N_("Yksikön nimi"),
    "metric": N_("Mittari"),
    "metric_name": N_("Mittarin nimi"),
    "key": N_("Tarkenne"),
    "hours": N_("Aukioloaika"),
    "figure": N_("Päivän luku"),
    "what": N_("Luku on"),
    "open_max": N_("Suurin aukioloaikana"),
    "at_close": N_("Sulkemishetkellä"),
    "mean": N_("Keskiarvo"),
    "min": N_("Pienin"),
    "max": N_("Suurin"),
    "last": N_("Tunnin lopussa"),
    "state": N_("Tila"),
    "samples": N_("Muutoksia"),
    "selected": N_("valittu"),
    "comparison": N_("vertailu"),
    "incomplete": N_("kesken"),
    "complete": N_("valmis"),
    "closed": N_("suljettu"),
    "open_mean": N_("keskiarvo aukioloaikana {hours}"),
    "day_mean": N_("päivän keskiarvo"),
    "total": N_("yhteensä päivässä"),
    "sheet": N_("Historia"),
    "compare_sheet": N_("Vertailu"),
    "a": N_("Vertailujakso"),
    "b": N_("Valittu jakso"),
    "a_days": N_("Päiviä (vertailu)"),
    "b_days": N_("Päiviä (valittu)"),
    "change": N_("Muutos"),
    "change_pct": N_("Muutos, %"),
}


@cache  # the catalogues are read once (dashboard.translate): a report's rows ask per row
def report_words(lang: str) -> Mapping[str, str]:
    """The report's words in `lang` (fi, sv or en), read-only."""
    return MappingProxyType({key: gettext_in(lang, text) for key, text in REPORT_TEXT.items()})
DAY_COLUMNS = ("period", "day", "unit", "unit_name", "metric", "metric_name", "key", "hours",
               "figure", "what", "open_max", "at_close", "state", "samples")
HOUR_COLUMNS = ("period", "starts", "unit", "unit_name", "metric", "metric_name", "key",
                "mean", "min", "max", "last", "state", "samples")
COMPARE_COLUMNS = ("unit", "unit_name", "metric", "metric_name", "key", "a", "a_days", "b",
                   "b_days", "change", "change_pct")
_DAY_EXCEL = {"fi": "d.m.yyyy", "sv": "d.m.yyyy", "en": "yyyy-mm-dd"}
_HOUR_EXCEL = {"fi": "d.m.yyyy hh.mm", "sv": "d.m.yyyy hh.mm", "en": "yyyy-mm-dd hh:mm"}


def day_text(day: date, lang: str) -> str:
    """A date as the page shows it: 3.11.2026 (fi, sv), 2026-11-03 (en)."""
    return day.isoformat() if lang == "en" else f"{day.day}.{day.month}.{day.year}"


def hour_text(moment: datetime, lang: str) -> str:
    """An hour's start as the page shows it: 3.11.2026 14.00 (fi, sv), 2026-11-03 14:00 (en)."""
    sep = ":" if lang == "en" else "."
    return f"{day_text(moment.date(), lang)} {moment.hour:02d}{sep}{moment.minute:02d}"


def range_text(first: date, last: date, lang: str = "fi") -> str:
    """A period as the page writes it: 4.11.–1.12.2026, 28.12.2026–3.1.2027, 3.11.2026."""
    if lang == "en":
        return first.isoformat() if first == last else f"{first.isoformat()}–{last.isoformat()}"
    if first == last:
        return day_text(first, lang)
    if first.year == last.year:
        return f"{first.day}.{first.month}.–{day_text(last, lang)}"
    return f"{day_text(first, lang)}–{day_text(last, lang)}"


def plain_number(value: Any) -> float | int | None:
    """A value as a number when it is one (JSON text of a number too), else None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def daily_figure(row: dict[str, Any], kind: str) -> float | int | None:
    """The figure a day's row stands for: a count's total for the day (its value at the day's
    end); for a level, its time-weighted mean over the unit's opening hours (None on a day it
    is closed), or the mean over the day's recorded hours where the rollups have no opening
    hours' figures."""
    if "figure" in row:  # the rollups' own (dashboard.storage.rollups.series)
        return plain_number(row["figure"])
    if kind == "count":
        return plain_number(row.get("last"))
    return row["open_mean"] if "open_mean" in row else row.get("mean")


def figure_words(row: dict[str, Any], kind: str, hours: str, lang: str) -> str:
    """What `daily_figure` is, in words: "keskiarvo aukioloaikana 8–16", "yhteensä päivässä"."""
    words = report_words(_lang(lang))
    if kind == "count":
        return words["total"]
    if "open_mean" in row:
        return words["open_mean"].format(hours=row.get("hours") or hours)
    return words["day_mean"]


def is_complete(row: dict[str, Any], today: date) -> bool:
    """A day's row is final once its day is over (the rollups' own word where they give it)."""
    if "complete" in row:
        return bool(row["complete"])
    return date.fromisoformat(row["period"][:10]) < today


@dataclass(frozen=True)
class Names:
    """Names for people beside the codes, in the download's language."""

    units: Mapping[str, str]
    metrics: Mapping[str, str]
    hours: Mapping[str, str]  # unit → its opening hours, "8–16"
    kinds: Mapping[str, str] = field(default_factory=dict)  # metric → gauge, today, count

    def kind(self, metric: str) -> str:
        return self.kinds.get(metric, "gauge")


@dataclass(frozen=True)
class Part:
    """One period of a download: its words ("valittu 4.11.–1.12.2026") and its rows."""

    label: str
    rows: Sequence[dict[str, Any]]


Cell = str | int | float | date | datetime | None


def report_headers(grain: str, lang: str) -> list[str]:
    words = report_words(_lang(lang))
    return [words[c] for c in (DAY_COLUMNS if grain == "day" else HOUR_COLUMNS)]


def report_rows(parts: Sequence[Part], grain: str, names: Names, lang: str,
                now: datetime) -> list[tuple[Cell, ...]]:
    """The cells of a download, a tuple per row: text, numbers, and the day (a date) or the
    hour's local start (a datetime without offset) for the writer to write as the language
    writes them."""
    words = report_words(_lang(lang))
    today = now.date()
    out: list[tuple[Cell, ...]] = []
    hours_seen: dict[str, tuple[datetime, bool]] = {}  # an hour's local start, and whether it is over
    for part in parts:
        for r in part.rows:
            unit, metric = r["unit"], r["metric"]
            common = (names.units.get(unit, unit), metric, names.metrics.get(metric, metric), r["key"])
            if grain == "day":
                kind, hours = names.kind(metric), names.hours.get(unit, "")
                figure = daily_figure(r, kind)
                done = is_complete(r, today)
                closed = kind != "count" and figure is None and "open_mean" in r
                state = words["complete"] if done else words["incomplete"]
                out.append((part.label, date.fromisoformat(r["period"][:10]), unit, *common,
                            r.get("hours") or hours, figure, figure_words(r, kind, hours, lang),
                            None if kind == "count" else plain_number(r.get("open_max", r.get("max"))),
                            None if kind == "count" or not done else plain_number(r.get("at_close")),
                            f"{state}, {words['closed']}" if closed else state, r.get("samples")))
            else:
                hour = hours_seen.get(r["period"])
                if hour is None:
                    start = datetime.fromisoformat(r["period"])
                    hour = hours_seen[r["period"]] = (start.replace(tzinfo=None), start + timedelta(hours=1) <= now)
                local, done = hour
                out.append((part.label, local, unit, *common, r.get("mean"),
                            r.get("min"), r.get("max"), plain_number(r.get("last")),
                            words["complete"] if done else words["incomplete"], r.get("samples")))
    return out


def compare_headers(lang: str, a: tuple[date, date], b: tuple[date, date]) -> list[str]:
    words = report_words(_lang(lang))
    head = [words[c] for c in COMPARE_COLUMNS]
    head[5] = f"{words['a']} {range_text(*a, lang)}"
    head[7] = f"{words['b']} {range_text(*b, lang)}"
    return head


def shown(value: float | int | None) -> float | None:
    """A figure as the page shows it: one decimal. Changes are computed from these, so that
    the change a person reads is the difference of the numbers beside it."""
    return None if value is None else round(float(value), 1)


def shown_change(a: float | int | None, b: float | int | None) -> tuple[float | None, int | None]:
    """B − A from the shown figures, and in per cent of the shown A (None where A shows 0)."""
    sa, sb = shown(a), shown(b)
    if sa is None or sb is None:
        return None, None
    change = round(sb - sa, 1)
    return change, (round(change / sa * 100) if sa else None)


def compare_rows(rows: Sequence[dict[str, Any]], names: Names) -> list[tuple[Cell, ...]]:
    out: list[tuple[Cell, ...]] = []
    for r in rows:
        change, pct = shown_change(r.get("a_mean"), r.get("b_mean"))
        out.append((r["unit"], names.units.get(r["unit"], r["unit"]), r["metric"],
                    names.metrics.get(r["metric"], r["metric"]), r["key"], shown(r.get("a_mean")),
                    r.get("a_days"), shown(r.get("b_mean")), r.get("b_days"), change, pct))
    return out


def _report_cell_text(lang: str) -> tuple[Callable[[Cell], str], dict[Any, str]]:
    """A cell's CSV text in the language's conventions, text never a live formula; and the
    texts made so far, by value."""
    comma = lang in ("fi", "sv")
    seen: dict[Any, str] = {None: ""}

    def text(value: Cell) -> str:
        known = seen.get(value)  # (a datetime never equals a date: they do not collide)
        if known is not None:
            return known
        if isinstance(value, datetime):
            shown_text = hour_text(value, lang)
        elif isinstance(value, date):
            shown_text = day_text(value, lang)
        elif isinstance(value, int | float):
            shown_text = _number_text(value, comma)  # a number's text stays a number, -0,5 too
        else:
            shown_text = inert(str(value))
        if len(seen) < 100_000:
            seen[value] = shown_text
        return shown_text

    return text, seen


def table_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]], lang: str) -> bytes:
    """A table as the history page's CSV: UTF-8 with a BOM, `;`, the language's decimal mark
    and dates, every text cell inert."""
    text, seen = _report_cell_text(_lang(lang))
    known = seen.get  # a cell seen before costs a lookup, not a call
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([inert(h) for h in headers])
    writer.writerows([[t if (t := known(c)) is not None else text(c) for c in row] for row in rows])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def table_xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]], lang: str) -> bytes:
    """Tables as an Excel workbook, a sheet each: numbers as numbers, days and hours as dates
    shown as on the page, text cells that stay text; headers bold and frozen."""
    lang = _lang(lang)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title[:31])
        widths = [len(h) for h in headers]
        for row in rows[:2000]:  # widths from a sample: enough to be readable
            for i, c in enumerate(row):
                size = 16 if isinstance(c, datetime) else 10 if isinstance(c, date) else len(str(c or ""))
                widths[i] = max(widths[i], size)
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 10), 60)
        ws.freeze_panes = "A2"
        head = []
        for h in headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            head.append(cell)
        ws.append(head)
        for row in rows:
            ws.append([_xlsx_cell(ws, c, lang) for c in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(ws: Any, value: Cell, lang: str) -> Any:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = _HOUR_EXCEL[lang]
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = _DAY_EXCEL[lang]
        return cell
    if isinstance(value, str):
        return _xlsx_text(ws, value)
    return value
