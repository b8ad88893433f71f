"""Validation of a whole workbook: every problem at once, each with sheet, row (as the
spreadsheet numbers it), column (as the file names it), the value found and what was
expected, in the user's language. Nothing is applied here."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.config import Config
from dashboard.domain.metrics import CATALOGUE, LABEL_FI, Metric
from dashboard.translate import gettext_in
from dashboard.workbook.messages import msg
from dashboard.workbook.reader import RawWorkbook
from dashboard.workbook.schema import (
    ALL_UNITS,
    HELP_SHEET,
    IMPORTANCE,
    KEYED_BY,
    LANGS,
    NO,
    SHEET_METRICS,
    SHEETS,
    TEXT_MAX,
    YES,
    Column,
    Sheet,
    fold,
)

HEADER_SEARCH_ROWS = 30
ABSURD_PRESENT = 2.0  # present above twice the plan (and 2 more) gets a warning


@dataclass
class Problem:
    sheet: str
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "value": self.value, "message": self.message}


@dataclass
class Row:
    sheet: str  # our key: staffing, appointments, ...
    number: int  # the spreadsheet's row number
    # column key -> value; a value written as a bound ("> 90") is the number, and
    # "<column>_bound" says which bound it is ("above")
    values: dict[str, Any]


class Above(float):
    """A number written as "> 90": the true figure lies beyond it."""


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # sheet name as written -> rows


class Bad(Exception):
    def __init__(self, key: str, **kw: Any):
        super().__init__(key)
        self.key, self.kw = key, kw


def parse(raw: RawWorkbook, config: Config, lang: str, units: Collection[str] | None = None,
          today: date | None = None) -> Parsed:
    """`units`: the unit codes whose rows the user may give (None: every unit); a notice for
    every unit (`kaikki`) needs every unit. `today`: the file's day (default the site's
    today): a day written without its year ("1.12.") is of its year, and a row of today's
    board whose day is left blank is of that day (a warning says so)."""
    out = Parsed()
    today = today or datetime.now(config.tz).date()
    if units is not None:
        units = set(units) | ({"kaikki"} if {u.code for u in config.units} <= set(units) else set())
    by_name = {fold(s.names[lg]): s for s in SHEETS for lg in LANGS}
    help_names = {fold(n) for n in HELP_SHEET.values()} | {"_listat"}  # the template's own
    found = False
    for name, rows in raw.sheets.items():
        sheet = by_name.get(fold(name))
        if sheet is None:
            if fold(name) not in help_names:
                out.warnings.append(msg(lang, "w_extra_sheet", sheet=name))
            continue
        found = True
        _parse_sheet(sheet, name, rows, config, lang, out, units, today)
    if not found:
        names = ", ".join(s.names[lang] for s in SHEETS)
        out.errors.append(Problem("", 0, "", "", msg(lang, "no_sheets", names=names)))
    return out


def _header(sheet: Sheet, rows: list[list[Any]]) -> tuple[int, dict[int, Column], list[str]] | None:
    """The header row (index), which column index holds which column, and extra columns."""
    names = {fold(c.names[lg]): c for c in sheet.columns for lg in LANGS}
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = {j: names[fold(v)] for j, v in enumerate(row) if fold(v) in names}
        if len(mapping) >= 2:  # a header row, even if a required column is missing
            extra = [str(v) for j, v in enumerate(row) if j not in mapping and str(v).strip()]
            return i, mapping, extra
    return None


def _parse_sheet(sheet: Sheet, name: str, rows: list[list[Any]], config: Config, lang: str,
                 out: Parsed, units: Collection[str] | None = None, today: date | None = None) -> None:
    today = today or datetime.now(config.tz).date()
    header = _header(sheet, rows)
    if header is None:
        required = ", ".join(c.names[lang] for c in sheet.columns if c.required)
        out.errors.append(Problem(name, 1, "", "", msg(lang, "no_header", names=required)))
        return
    hi, mapping, extra = header
    for column in extra:
        out.warnings.append(msg(lang, "w_extra_column", sheet=name, column=column))
    present = {c.key for c in mapping.values()}
    written = {c.key: str(rows[hi][j]).strip() for j, c in mapping.items()}
    for c in sheet.columns:
        if c.required and c.key not in present:
            out.errors.append(Problem(name, hi + 1, c.names[lang], "", msg(lang, "missing_column")))
    if any(c.required and c.key not in present for c in sheet.columns):
        return
    seen: dict[tuple[Any, ...], int] = {}
    count = 0
    for i in range(hi + 1, len(rows)):
        cells = {c.key: rows[i][j] if j < len(rows[i]) else "" for j, c in mapping.items()}
        if all(_blank(v) for v in cells.values()):
            continue
        count += 1
        number = i + 1
        values: dict[str, Any] = {}
        ok = True
        for c in sheet.columns:
            if c.key not in cells:
                continue
            raw = cells[c.key]
            if c.key in ("day", "when") and _blank(raw):
                # a hurried person's board of today: the blank day is the file's, and said so
                values[c.key] = today
                out.warnings.append(msg(lang, "w_blank_day", sheet=name, row=number, day=_show(today)))
                continue
            try:
                value = _value(c, raw, config, lang, today)
            except Bad as bad:
                ok = False
                out.errors.append(Problem(name, number, written[c.key], _show(raw), msg(lang, bad.key, **bad.kw)))
                continue
            if isinstance(value, Above):
                value, values[f"{c.key}_bound"] = float(value), "above"
            values[c.key] = value
        if not ok:
            continue
        if units is not None and values["unit"] not in units:
            out.errors.append(Problem(name, number, written["unit"], _show(cells["unit"]),
                                      _not_yours(values["unit"], units, config, lang)))
            continue
        problem = _row_rules(sheet, values, written, name, number, config, lang, out)
        if problem:
            out.errors.append(problem)
            continue
        identity = tuple(values.get(k) for k in sheet.identity)
        if identity in seen:
            what = ", ".join(_show(values.get(k)) for k in sheet.identity)
            out.errors.append(Problem(name, number, written[sheet.identity[-1]], _show(values[sheet.identity[-1]]),
                                      msg(lang, "duplicate", row=seen[identity], what=what)))
            continue
        seen[identity] = number
        out.rows.append(Row(sheet.key, number, values))
    out.counts[name] = count


def _row_rules(sheet: Sheet, v: dict[str, Any], written: dict[str, str], name: str, number: int,
               config: Config, lang: str, out: Parsed) -> Problem | None:
    if sheet.key == "capacity" and v["in_use"] > v["total"]:
        return Problem(name, number, written["in_use"], _show(v["in_use"]),
                       msg(lang, "in_use_over_total", in_use=v["in_use"], total=v["total"]))
    if sheet.key == "notices" and v["ends"] <= v["starts"]:
        return Problem(name, number, written["ends"], _show(v["ends"]),
                       msg(lang, "ends_before_starts", starts=_show(v["starts"])))
    if sheet.key == "staffing" and v["present"] > ABSURD_PRESENT * v["planned"] + 2:
        out.warnings.append(msg(lang, "w_present_over_planned", sheet=name, row=number,
                                present=v["present"], planned=v["planned"]))
    if sheet.key == "own_metrics":
        return _own_row(sheet, v, written, name, number, config.own_metrics()[v["metric"]], lang)
    return None


def _own_row(sheet: Sheet, v: dict[str, Any], written: dict[str, str], name: str, number: int,
             m: Metric, lang: str) -> Problem | None:
    """A row of an own metric: its key exactly when the metric is keyed by more than its
    unit, and a count a whole number."""
    key_column = written.get("key") or sheet.column("key").names[lang]
    if m.keyed_by and not v.get("key"):
        return Problem(name, number, key_column, "", msg(lang, "key_required", metric=m.name(lang),
                                                          what=KEYED_BY[m.keyed_by][lang]))
    if not m.keyed_by and v.get("key"):
        return Problem(name, number, key_column, v["key"], msg(lang, "key_not_taken", metric=m.name(lang)))
    whole = float(v["value"]).is_integer()
    if m.kind == "count" and not whole:
        return Problem(name, number, written["value"], _show(v["value"]), msg(lang, "count"))
    v["value"] = int(v["value"]) if whole else v["value"]
    return None


# -- cells ------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H.%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H.%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _value(c: Column, raw: Any, config: Config, lang: str, today: date | None = None) -> Any:
    if _blank(raw):
        if c.required:
            raise Bad("required")
        return False if c.kind == "yesno" else None
    kind = c.kind
    if kind == "count":
        n = _number(raw, "count")
        if n < 0 or not float(n).is_integer():
            raise Bad("count")
        return int(n)
    if kind == "number":
        n = _number(raw, "number")
        if n < 0:
            raise Bad("number")
        return n
    if kind == "number_or_above":
        m = _ABOVE.match(raw) if isinstance(raw, str) else None
        n = _number(m[1] if m else raw, "number")
        if n < 0:
            raise Bad("number")
        return Above(n) if m else n
    if kind == "date":
        return _date(raw, today)
    if kind == "time":
        return _time(raw)
    if kind == "day_or_time":
        return _day_or_time(raw, today)
    if kind == "metric":
        return _own_metric(raw, config, lang)
    if kind == "datetime":
        return _datetime(raw, config.tz)
    if kind in ("unit", "unit_or_all"):
        return _unit(raw, config, lang, allow_all=kind == "unit_or_all")
    if kind == "importance":
        word = fold(raw)
        for canonical, words in IMPORTANCE.items():
            if word in words:
                return canonical
        raise Bad("importance")
    if kind == "yesno":
        word = fold(raw)
        if word in YES:
            return True
        if word in NO:
            return False
        raise Bad("yesno")
    text = " ".join(str(raw).split())
    if len(text) > TEXT_MAX:
        raise Bad("too_long", n=len(text), limit=TEXT_MAX)
    return text


def _number(raw: Any, kind: str) -> float:
    if isinstance(raw, bool):
        raise Bad(kind)
    if isinstance(raw, (int, float)):
        if not math.isfinite(float(raw)):
            raise Bad(kind)
        return float(raw)
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise Bad(kind) from None
    if not math.isfinite(number):  # "inf", "nan", 1e999: no figure
        raise Bad(kind)
    return number


_ABOVE = re.compile(r"^\s*>\s*(\S.*)$")  # "> 90", ">90": beyond 90 (not "≥", not ">=")
_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})\.?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})\.(\d{1,2})\.$")  # "1.12.": of this year
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(?:klo\s*|kl\.?\s*)?(\d{1,2})(?:[.:](\d{2}))?(?::(\d{2}))?$")


def _date(raw: Any, today: date | None = None) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    m = _DATE.match(text)
    short = _DAY_MONTH.match(text) if today is not None else None
    if m:
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
        y += 2000 if y < 100 else 0
    elif short:
        assert today is not None
        d, mo, y = int(short[1]), int(short[2]), today.year
    else:
        m = _ISO.match(text)
        if not m:
            raise Bad("date")
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    try:
        return date(y, mo, d)
    except ValueError:
        raise Bad("no_such_date") from None


def _time(raw: Any) -> time:
    if isinstance(raw, datetime):
        return raw.time().replace(second=0, microsecond=0)
    if isinstance(raw, time):
        return raw.replace(second=0, microsecond=0)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # a number typed as 8.30 in a general-format cell arrives as 8.3
        hours = int(raw)
        minutes = round((raw - hours) * 100) if raw != hours else 0
        text = f"{hours}.{minutes:02d}"
    else:
        text = fold(raw)
    m = _TIME.match(text)
    if not m:
        raise Bad("time")
    try:
        return time(int(m[1]), int(m[2] or 0))
    except ValueError:
        raise Bad("time") from None


def _datetime(raw: Any, tz: ZoneInfo) -> datetime:
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=tz, second=0, microsecond=0)
    if isinstance(raw, date):
        return datetime.combine(raw, time(0), tzinfo=tz)
    text = fold(raw)
    parts = text.replace(" klo ", " ").replace(" kl. ", " ").split()
    try:
        day = _date(parts[0])
        at = _time(parts[1]) if len(parts) > 1 else time(0)
    except Bad as bad:
        if bad.key == "no_such_date":
            raise
        raise Bad("datetime") from None
    if len(parts) > 2:
        raise Bad("datetime")
    return datetime.combine(day, at, tzinfo=tz)


def _day_or_time(raw: Any, today: date | None) -> date | time | datetime:
    """A day (the value stands from the import), a time of the file's day, or both; a
    date-time at midnight is a day (a date cell)."""
    if isinstance(raw, datetime):
        at: datetime = raw.replace(second=0, microsecond=0, tzinfo=None)
        return at.date() if at.time() == time(0) else at
    if isinstance(raw, date):
        return raw
    if isinstance(raw, timedelta) and timedelta(0) <= raw < timedelta(days=1):  # an .ods duration
        return time(int(raw.total_seconds()) // 3600, int(raw.total_seconds()) // 60 % 60)
    parts = fold(raw).replace(" klo ", " ").replace(" kl. ", " ").split()
    try:
        if len(parts) == 2:
            return datetime.combine(_date(parts[0], today), _time(parts[1]))
        if len(parts) == 1 and (_DATE.match(parts[0]) or _DAY_MONTH.match(parts[0]) or _ISO.match(parts[0])):
            return _date(parts[0], today)
        return _time(raw)
    except Bad as bad:
        if bad.key == "no_such_date":
            raise
        raise Bad("day_or_time") from None


def _own_metric(raw: Any, config: Config, lang: str) -> str:
    """One of the centre's own metrics that a person enters, by its id or its name in any
    language; a derived one, or a built-in one, is refused with where its value comes from."""
    word = fold(raw)
    own = config.own_metrics()
    for m in own.values():
        if word in {fold(m.id), *(fold(n) for n in m.names.values())}:
            if m.derived is not None:
                inputs = ", ".join(own[i].name(lang) if i in own else i for i in m.derived.names)
                raise Bad("derived_metric", metric=m.name(lang), inputs=inputs)
            return m.id
    builtin = _builtin_words().get(word)
    if builtin is not None:
        for sheet in SHEETS:
            column = next((c for c, mid in SHEET_METRICS.get(sheet.key, {}).items() if mid == builtin), None)
            if column is not None:
                raise Bad("builtin_metric", sheet=sheet.names[lang], column=sheet.column(column).names[lang])
        raise Bad("builtin_no_sheet")
    names = ", ".join(m.name(lang) for m in own.values() if m.derived is None)
    raise Bad("metric", names=names or "–")


@cache
def _builtin_words() -> dict[str, str]:
    """A built-in metric's id, its label in each language and its workbook column's names →
    the metric (so one written in the wrong sheet is sent to its own)."""
    words = {fold(mid): mid for mid in CATALOGUE}
    words |= {fold(gettext_in(lg, label)): mid for mid, label in LABEL_FI.items() for lg in LANGS}
    for sheet in SHEETS:
        for column, mid in SHEET_METRICS.get(sheet.key, {}).items():
            words |= {fold(n): mid for n in sheet.column(column).names.values()}
    return words


def _unit(raw: Any, config: Config, lang: str, allow_all: bool) -> str:
    word = fold(raw)
    if allow_all and word in {fold(w) for w in ALL_UNITS.values()}:
        return "kaikki"
    for u in config.units:
        if word in (fold(u.code), fold(u.name), fold(u.name_sv), *(fold(a) for a in u.aliases)):
            return u.code
    names = ", ".join(u.name_in(lang) for u in config.units)
    raise Bad("unit", names=names)


def _not_yours(unit: str, units: Collection[str], config: Config, lang: str) -> str:
    """As the tablet's own forms refuse: a shift lead reports for their own units only (and
    a notice for every unit, `kaikki`, only when every unit is theirs)."""
    names = {u.code: u.name_in(lang) for u in config.units}
    names["kaikki"] = ALL_UNITS.get(lang, "kaikki")
    mine = ", ".join(n for code, n in names.items() if code in units and code != "kaikki")
    return msg(lang, "not_your_unit", unit=names.get(unit, unit), names=mine or "–")


def day_end(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
