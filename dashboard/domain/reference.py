"""Reference figures from THL's Sotkanet indicator bank, for `ohjaustaulu reference import
FILE`: managers set our access-to-care figures beside the wellbeing area's and the whole
country's.

`read_reference(data, filename)` reads one file whole and returns its rows, or raises one
`ReferenceError` listing every problem found (line, column, the value found, what was
expected; in Finnish, Swedish and English). A file is applied whole or not at all.
`load_reference` does the same and also says what was skipped and how the file was read.

The shapes read (see the module's tests for each, written byte for byte):

- **Sotkanet's REST CSV** (`https://sotkanet.fi/rest/1.1/csv?indicator=…&years=…&genders=…`):
  `indicator;region;year;gender;primary value;absolute value`, `;` between fields, a header
  line, indicator and region as numeric ids. The decimal separator has been seen as both `.`
  and `,` in clients' code, so both are read. `absolute value` (the count behind a rate) is
  recognised and not read.
- **Sotkanet's REST JSON** (`https://sotkanet.fi/rest/1.1/json?…`): a list of flat records
  `{"indicator": 5081, "region": 658, "year": 2024, "gender": "total", "value": 12.3,
  "absValue": 41}`; the ids are kept as text (`indicator_id`, `region`). A record may also
  carry `month`.
- **A table saved from the web service or a spreadsheet**: `;`, `,` or tab between fields
  (found from the header line), UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's
  "Unicode text"), else Windows-1252 (Latin-1); column names in Finnish, Swedish or English,
  in any case, in any order, unknown columns ignored; title lines before the header (up to
  `HEADER_SEARCH` lines) and note lines after the data (source, footnotes) are kept as
  `notes`, not read as data.

Columns (any of the names; `_`, `-` and `.` count as spaces, a trailing "(…)" is ignored):
indicator `indikaattori / indikator / indicator`, its id `id / indikaattorin id / indicator
id / indikator id`, region `alue / område / region`, year `vuosi / år / year`, month
`kuukausi / månad / month` (optional), gender `sukupuoli / kön / gender / sex` (optional),
value `arvo / värde / value / primary value`. Required: region, year, value and the
indicator or its id. Where the indicator column holds only digits (as in the REST CSV) and
there is no id column, the digits are the id too.

Choices:
- **Gender**: only the figure for the whole population is kept. Rows for men or women only
  are skipped and counted (`skipped_gender`): the comparison on the board is of whole
  populations, and keeping them would give one indicator, region and period three values.
  With a gender column a kept row has `gender="total"`; an empty gender cell, or no gender
  column, gives `gender=None`. An unknown gender is a problem.
- **No value** (an empty cell, `.`, `..`, `...`, `…`; JSON `null`): the row is skipped and
  counted (`skipped_no_value`). A file that gives no value at all is refused.
- **Numbers**: `12.3` and `12,3` (the comma is always the decimal separator), a sign, the
  minus sign `−`, spaces between thousands (`1 234,5`). Nothing else: no exponent, no
  `nan`/`inf`, no formula — a cell is read as text and never evaluated (`=1+2` is "not a
  number"). Text such as `=HYPERLINK(…)` in a name stays the text it is; whoever writes it
  into a spreadsheet again must neutralise it (`dashboard.export.inert`).
- **Period**: `"2024"`, or `"2024-03"` from a month column (`3`, `03`, `2024-03`, `2024M03`)
  or a year cell `2024-03` / `2024M03`. Years 1900–2100.
- **Repeats**: the same indicator, region and period twice with the same value is read once
  (`duplicates`); with a different value it is a problem.

Guards against hostile files: a file over `MAX_BYTES` (20 MB) is refused before it is
decoded or parsed; a spreadsheet (.xlsx/.ods/.xls) is refused by its magic bytes; at most
`MAX_ROWS` data rows; a cell over `MAX_CELL` characters is a problem (and the csv module's
own field limit, left at its default as it is process-wide, stops a runaway quoted cell);
names are trimmed, control and format characters (bidi overrides, zero-width) removed,
and over `MAX_TEXT` characters a problem; at most `MAX_PROBLEMS` problems are listed (the
rest counted); a JSON nesting too deep to parse is a problem, not a crash.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 20 * 1024 * 1024  # "20 MB"
MAX_ROWS = 200_000
MAX_CELL = 1_000
MAX_TEXT = 300
MAX_PROBLEMS = 1_000
MAX_NOTES = 20
HEADER_SEARCH = 50
YEARS = (1900, 2100)
DELIMITERS = (";", ",", "\t")
SPREADSHEET_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

FIELDS = ("indicator", "indicator_id", "region", "year", "month", "gender", "value")
ALIASES: dict[str, frozenset[str]] = {
    "indicator": frozenset({"indikaattori", "indikator", "indicator", "indikaattorin nimi",
                            "indikatorns namn", "indicator name", "indicator title"}),
    "indicator_id": frozenset({"id", "indikaattorin id", "indikaattori id", "indikaattorin numero",
                               "indikator id", "indikatorns id", "indicator id"}),
    "region": frozenset({"alue", "område", "region", "alueen nimi", "områdets namn", "region name"}),
    "year": frozenset({"vuosi", "år", "year"}),
    "month": frozenset({"kuukausi", "månad", "month"}),
    "gender": frozenset({"sukupuoli", "kön", "gender", "sex"}),
    "value": frozenset({"arvo", "värde", "value", "primary value"}),
}
# Known, and deliberately not read: the count behind a rate.
IGNORED = frozenset({"absolute value", "absvalue", "abs value", "absoluuttinen arvo",
                     "absolut värde", "absolutvärde"})
REQUIRED = ("region", "year", "value")

TOTAL = frozenset({"total", "totalt", "yhteensä", "molemmat sukupuolet", "molemmat", "kaikki",
                   "sukupuolet yhteensä", "båda könen", "bägge könen", "both sexes", "all"})
MEN = frozenset({"male", "males", "men", "man", "män", "mies", "miehet", "pojat", "pojkar", "boys"})
WOMEN = frozenset({"female", "females", "women", "woman", "kvinna", "kvinnor", "nainen", "naiset",
                   "tytöt", "flickor", "girls"})
NO_VALUE = frozenset({"", ".", "..", "...", "…"})

_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?")
_YEAR = re.compile(r"(\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4})(?:-|M|m)(\d{1,2})")
_MONTH = re.compile(r"\d{1,2}")
_ID = re.compile(r"\d{1,12}")
_SPACES = re.compile(r"\s+")

# -- messages -------------------------------------------------------------------------------

EXPECTED: dict[str, dict[str, str]] = {
    "size": {
        "en": "a file of at most {limit} MB ({bytes} bytes)",
        "fi": "enintään {limit} Mt:n tiedosto ({bytes} tavua)",
        "sv": "en fil på högst {limit} MB ({bytes} byte)",
    },
    "spreadsheet": {
        "en": "a CSV or JSON file (this is a spreadsheet: save it as CSV)",
        "fi": "CSV- tai JSON-tiedosto (tämä on taulukkolaskentatiedosto: tallenna se CSV-muodossa)",
        "sv": "en CSV- eller JSON-fil (detta är ett kalkylblad: spara det som CSV)",
    },
    "empty": {
        "en": "a file with a header line and data",
        "fi": "tiedosto, jossa on otsikkorivi ja tietoja",
        "sv": "en fil med en rubrikrad och data",
    },
    "encoding": {
        "en": "text in UTF-16 as its byte order mark says",
        "fi": "UTF-16-tekstiä, kuten tiedoston alun tavujärjestysmerkki kertoo",
        "sv": "text i UTF-16 som byteordningsmärket säger",
    },
    "header": {
        "en": "a header line within the first {n} lines naming the columns: {columns}",
        "fi": "otsikkorivi {n} ensimmäisen rivin joukossa, jossa sarakkeiden nimet: {columns}",
        "sv": "en rubrikrad bland de {n} första raderna med kolumnernas namn: {columns}",
    },
    "column": {
        "en": "a column named {names}",
        "fi": "sarake nimeltä {names}",
        "sv": "en kolumn med namnet {names}",
    },
    "indicator_column": {
        "en": "a column for the indicator ({names}) or its id ({ids})",
        "fi": "sarake indikaattorille ({names}) tai sen tunnisteelle ({ids})",
        "sv": "en kolumn för indikatorn ({names}) eller dess id ({ids})",
    },
    "one_column": {
        "en": "one column only for {field} (also column {other})",
        "fi": "vain yksi sarake kentälle {field} (myös sarake {other})",
        "sv": "bara en kolumn för {field} (även kolumn {other})",
    },
    "csv": {
        "en": "well-formed CSV ({detail})",
        "fi": "eheää CSV:tä ({detail})",
        "sv": "korrekt CSV ({detail})",
    },
    "rows": {
        "en": "at most {limit} data rows",
        "fi": "enintään {limit} tietoriviä",
        "sv": "högst {limit} datarader",
    },
    "fields": {
        "en": "at most {n} fields, as in the header (in a comma-separated file a decimal comma must be inside quotes)",
        "fi": "enintään {n} kenttää kuten otsikkorivillä (pilkuin erotetussa tiedostossa desimaalipilkun on oltava lainausmerkeissä)",
        "sv": "högst {n} fält som i rubrikraden (i en kommaseparerad fil måste ett decimalkomma stå inom citattecken)",
    },
    "cell": {
        "en": "a cell of at most {limit} characters",
        "fi": "enintään {limit} merkin solu",
        "sv": "en cell på högst {limit} tecken",
    },
    "text": {
        "en": "a name or id (not empty)",
        "fi": "nimi tai tunniste (ei tyhjä)",
        "sv": "ett namn eller id (inte tomt)",
    },
    "text_length": {
        "en": "at most {limit} characters",
        "fi": "enintään {limit} merkkiä",
        "sv": "högst {limit} tecken",
    },
    "id": {
        "en": "a numeric id such as 5081",
        "fi": "numeerinen tunniste, esim. 5081",
        "sv": "ett numeriskt id, t.ex. 5081",
    },
    "year": {
        "en": "a year such as 2024 ({low}–{high}), or 2024-03",
        "fi": "vuosi, esim. 2024 ({low}–{high}), tai 2024-03",
        "sv": "ett år, t.ex. 2024 ({low}–{high}), eller 2024-03",
    },
    "month": {
        "en": "a month 1–12 or 2024-03 (of the row's year)",
        "fi": "kuukausi 1–12 tai 2024-03 (rivin vuodelta)",
        "sv": "en månad 1–12 eller 2024-03 (radens år)",
    },
    "gender": {
        "en": "a gender: total, men or women (yhteensä, miehet, naiset)",
        "fi": "sukupuoli: yhteensä, miehet tai naiset",
        "sv": "ett kön: totalt, män eller kvinnor",
    },
    "value": {
        "en": "a number such as 12.3 or 12,3 (empty or .. when there is no value)",
        "fi": "luku, esim. 12,3 tai 12.3 (tyhjä tai .., kun arvoa ei ole)",
        "sv": "ett tal, t.ex. 12,3 eller 12.3 (tomt eller .. när värde saknas)",
    },
    "note_in_data": {
        "en": "a data row (lines of text only before the header or after the data)",
        "fi": "tietorivi (tekstirivejä vain ennen otsikkoriviä tai tietojen jälkeen)",
        "sv": "en datarad (textrader bara före rubrikraden eller efter data)",
    },
    "duplicate": {
        "en": "one value for an indicator, region and period (line {first_line} has {value})",
        "fi": "yksi arvo indikaattorille, alueelle ja ajanjaksolle (rivillä {first_line} on {value})",
        "sv": "ett värde per indikator, område och period (rad {first_line} har {value})",
    },
    "json": {
        "en": "JSON: a list of records such as [{{\"indicator\": 5081, \"region\": 658, \"year\": 2024, \"value\": 12.3}}] ({detail})",
        "fi": "JSON: tietueiden lista, esim. [{{\"indicator\": 5081, \"region\": 658, \"year\": 2024, \"value\": 12.3}}] ({detail})",
        "sv": "JSON: en lista av poster, t.ex. [{{\"indicator\": 5081, \"region\": 658, \"year\": 2024, \"value\": 12.3}}] ({detail})",
    },
    "record": {
        "en": "a record: an object with indicator, region, year and value",
        "fi": "tietue: olio, jossa indicator, region, year ja value",
        "sv": "en post: ett objekt med indicator, region, year och value",
    },
    "some_value": {
        "en": "at least one value for the whole population ({no_value} rows had no value, {gender} were for men or women only)",
        "fi": "vähintään yksi arvo koko väestölle ({no_value} rivillä ei ollut arvoa, {gender} koski vain miehiä tai naisia)",
        "sv": "minst ett värde för hela befolkningen ({no_value} rader saknade värde, {gender} gällde bara män eller kvinnor)",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "line": {"en": "line {n}", "fi": "rivi {n}", "sv": "rad {n}"},
    "record": {"en": "record {n}", "fi": "tietue {n}", "sv": "post {n}"},
    "column": {"en": "column {c}", "fi": "sarake {c}", "sv": "kolumn {c}"},
    "key": {"en": "field {c}", "fi": "kenttä {c}", "sv": "fält {c}"},
    "file": {"en": "the file", "fi": "tiedosto", "sv": "filen"},
    "found": {"en": "found {v}", "fi": "löytyi {v}", "sv": "hittades {v}"},
    "missing": {"en": "nothing found", "fi": "puuttuu", "sv": "saknas"},
    "expected": {"en": "expected {x}", "fi": "odotettiin: {x}", "sv": "förväntades: {x}"},
    "summary": {
        "en": "{file}: {n} problem(s), nothing was imported",
        "fi": "{file}: {n} ongelma(a), mitään ei tuotu",
        "sv": "{file}: {n} problem, inget importerades",
    },
    "more": {
        "en": "… and {n} more problem(s)",
        "fi": "… ja {n} muuta ongelmaa",
        "sv": "… och {n} problem till",
    },
}
LANGS = ("fi", "sv", "en")


def _lang(lang: str) -> str:
    return lang if lang in LANGS else "en"


def _shown(value: str, limit: int = 80) -> str:
    """A value as a message shows it: quoted, control and format characters escaped (no
    terminal escapes or bidi tricks reach a log or a screen), long ones shortened."""
    out = []
    for ch in value[:limit]:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + ("…" if len(value) > limit else "") + "'"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file. `line` is the file's line (1 = the first line), or for
    JSON the record's number in the list (`in_json`); `column` is the column's name as the
    header writes it, or the JSON key; `found` what was there (None: nothing); `expected`
    names the message of what was expected, `params` its parameters."""

    line: int | None
    column: str | None
    found: str | None
    expected: str
    params: tuple[tuple[str, str], ...] = ()
    in_json: bool = False

    def expected_text(self, lang: str = "en") -> str:
        return EXPECTED[self.expected][_lang(lang)].format(**dict(self.params))

    def text(self, lang: str = "en") -> str:
        lang = _lang(lang)
        where = []
        if self.line is not None:
            where.append(WORDS["record" if self.in_json else "line"][lang].format(n=self.line))
        if self.column is not None:
            where.append(WORDS["key" if self.in_json else "column"][lang].format(c=_shown(self.column, 40)[1:-1]))
        place = ", ".join(where) or WORDS["file"][lang]
        found = (WORDS["found"][lang].format(v=_shown(self.found)) if self.found is not None
                 else WORDS["missing"][lang])
        return f"{place}: {found}; {WORDS['expected'][lang].format(x=self.expected_text(lang))}"

    @property
    def message(self) -> str:
        return self.text("en")

    @property
    def message_fi(self) -> str:
        return self.text("fi")

    @property
    def message_sv(self) -> str:
        return self.text("sv")


class ReferenceError(Exception):  # shadows the builtin here; ReferenceFileError is the same class
    """Everything wrong with one file, raised once: nothing of the file is to be applied.
    `problems` lists them in file order (at most MAX_PROBLEMS; `more` counts the rest)."""

    def __init__(self, problems: Iterable[Problem], filename: str = "", more: int = 0):
        self.problems: list[Problem] = list(problems)
        self.filename = filename
        self.more = more
        super().__init__(self.text("en"))

    @property
    def count(self) -> int:
        return len(self.problems) + self.more

    def text(self, lang: str = "en") -> str:
        lang = _lang(lang)
        name = _shown(self.filename, 120)[1:-1] if self.filename else WORDS["file"][lang]
        lines = [WORDS["summary"][lang].format(file=name, n=self.count)]
        lines += ["  " + p.text(lang) for p in self.problems]
        if self.more:
            lines.append("  " + WORDS["more"][lang].format(n=self.more))
        return "\n".join(lines)

    @property
    def message(self) -> str:
        return self.text("en")

    @property
    def message_fi(self) -> str:
        return self.text("fi")


ReferenceFileError = ReferenceError  # the same class, by a name that does not shadow the builtin


@dataclass(frozen=True)
class ReferenceRow:
    indicator: str
    indicator_id: str | None
    region: str
    period: str  # "2024" or "2024-03"
    value: float
    gender: str | None


@dataclass(frozen=True)
class ReferenceImport:
    """What one file gave: its rows, and what was skipped and how it was read."""

    rows: tuple[ReferenceRow, ...]
    shape: str  # "csv" or "json"
    encoding: str  # "utf-8", "utf-16", "cp1252" or "latin-1"
    delimiter: str | None  # for CSV
    skipped_no_value: int = 0
    skipped_gender: int = 0
    duplicates: int = 0
    notes: tuple[str, ...] = ()  # title lines and footnotes, trimmed


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0

    def add(self, line: int | None, column: str | None, found: str | None, expected: str,
            in_json: bool = False, **params: object) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            self.more += 1
            return
        self.items.append(Problem(line, column, found, expected,
                                  tuple((k, str(v)) for k, v in params.items()), in_json))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass
class _Tally:
    rows: list[ReferenceRow] = field(default_factory=list)
    seen: dict[tuple[str, str, str], tuple[int, float]] = field(default_factory=dict)
    no_value: int = 0
    gender: int = 0
    duplicates: int = 0
    data_rows: int = 0


# -- public ---------------------------------------------------------------------------------

def read_reference(data: bytes, filename: str) -> list[ReferenceRow]:
    """The rows of one Sotkanet export (CSV or JSON), or ReferenceError listing every problem."""
    return list(load_reference(data, filename).rows)


def load_reference(data: bytes, filename: str) -> ReferenceImport:
    """As read_reference, with what was skipped (no value; men or women only; repeats), the
    file's notes and how it was read."""
    problems = _Problems()
    if len(data) > MAX_BYTES:
        problems.add(None, None, f"{len(data):,} bytes".replace(",", " "), "size",
                     limit=MAX_BYTES // (1024 * 1024), bytes=f"{MAX_BYTES:,}".replace(",", " "))
        raise ReferenceError(problems.items, filename)
    if data.startswith(SPREADSHEET_MAGIC) or filename.lower().endswith((".xlsx", ".xls", ".ods")):
        problems.add(None, None, filename, "spreadsheet")
        raise ReferenceError(problems.items, filename)
    text, encoding = _decode(data, problems)
    if problems:
        raise ReferenceError(problems.items, filename)
    if not text.strip():
        problems.add(None, None, None, "empty")
        raise ReferenceError(problems.items, filename)
    tally = _Tally()
    notes: list[str] = []
    delimiter: str | None = None
    if text.lstrip()[:1] in ("[", "{"):
        shape = "json"
        _read_json(text, tally, problems)
    else:
        shape = "csv"
        delimiter, notes = _read_csv(text, tally, problems)
    if not problems and not tally.rows:
        problems.add(None, None, None, "some_value", no_value=tally.no_value, gender=tally.gender)
    if problems:
        raise ReferenceError(problems.items, filename, problems.more)
    return ReferenceImport(tuple(tally.rows), shape, encoding, delimiter, tally.no_value,
                           tally.gender, tally.duplicates, tuple(notes))


# -- decoding -------------------------------------------------------------------------------

def _decode(data: bytes, problems: _Problems) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            problems.add(None, None, None, "encoding")
            return "", "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


# -- cells ----------------------------------------------------------------------------------

def _clean(value: str) -> str:
    """Trimmed text: control and format characters (bidi overrides, zero-width) removed, runs
    of white space one space."""
    if not value.isprintable():
        value = "".join(" " if ch.isspace() else ch for ch in value
                        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join(value.split())


def _normal_name(value: str) -> str:
    name = _clean(value).casefold()
    name = re.sub(r"\s*\([^)]*\)$", "", name)
    name = re.sub(r"[_.\-]+", " ", name)
    return _SPACES.sub(" ", name).strip()


def _field_of(name: str) -> str | None:
    normal = _normal_name(name)
    for key, names in ALIASES.items():
        if normal in names:
            return key
    return None


def _number(raw: str) -> float | None | str:
    """The number in a cell; None for no value; "bad" when it is not a number."""
    text = _clean(raw).replace("\u2212", "-")
    if text in NO_VALUE:
        return None
    if _GROUPED.fullmatch(text):
        text = text.replace(" ", "")
    if not _NUMBER.fullmatch(text):
        return "bad"
    number = float(text.replace(",", "."))
    return number if math.isfinite(number) else "bad"


def _period(year_raw: str) -> str | None:
    """"2024" or "2024-03" from a year cell ("2024", "2024-03", "2024M03"); None if it is none."""
    year_text = _clean(year_raw)
    if m := _YEAR.fullmatch(year_text):
        year, month = int(m.group(1)), None
    elif m := _YEAR_MONTH.fullmatch(year_text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            return None
    else:
        return None
    if not YEARS[0] <= year <= YEARS[1]:
        return None
    return f"{year:04d}" if month is None else f"{year:04d}-{month:02d}"


def _month(period: str, month_raw: str) -> str | None:
    """The period with the month cell's month; None when the cell is not a month of the year."""
    text = _clean(month_raw)
    if not text:
        return period
    year = period[:4]
    if _MONTH.fullmatch(text):
        month = int(text)
    elif (m := _YEAR_MONTH.fullmatch(text)) and m.group(1) == year:
        month = int(m.group(2))
    else:
        return None
    if not 1 <= month <= 12:
        return None
    full = f"{year}-{month:02d}"
    if len(period) > 4 and period != full:
        return None
    return full


def _gender(raw: str) -> str | None:
    """'total', 'men', 'women', '' (empty) or None (unknown)."""
    text = _clean(raw).casefold()
    if not text:
        return ""
    if text in TOTAL:
        return "total"
    if text in MEN:
        return "men"
    if text in WOMEN:
        return "women"
    return None


class _Row:
    """One data row's cells by field, checked; problems go to the file's list."""

    def __init__(self, problems: _Problems, line: int, names: Mapping[str, str], in_json: bool):
        self.problems = problems
        self.line = line
        self.names = names
        self.in_json = in_json
        self.bad = False

    def problem(self, key: str, found: str | None, expected: str, **params: object) -> None:
        self.bad = True
        self.problems.add(self.line, self.names.get(key, key), found, expected, self.in_json, **params)

    def text(self, key: str, raw: str | None) -> str | None:
        text = _clean(raw or "")
        if not text:
            self.problem(key, raw or None, "text")
            return None
        if len(text) > MAX_TEXT:
            self.problem(key, text, "text_length", limit=MAX_TEXT)
            return None
        return text

    def _indicator(self, cells: Mapping[str, str | None]) -> tuple[str | None, str | None]:
        indicator_id = None
        if "indicator_id" in cells:
            id_text = _clean(cells["indicator_id"] or "")
            if id_text and not _ID.fullmatch(id_text):
                self.problem("indicator_id", cells["indicator_id"], "id")
            elif id_text:
                indicator_id = id_text
        indicator = None
        if "indicator" in cells:
            if _clean(cells["indicator"] or "") or indicator_id is None:
                indicator = self.text("indicator", cells["indicator"])
            if indicator is not None and "indicator_id" not in cells and _ID.fullmatch(indicator):
                indicator_id = indicator  # the REST shapes: the indicator column is its id
        elif "indicator_id" in cells and indicator_id is None and not self.bad:
            self.problem("indicator_id", cells["indicator_id"] or None, "text")
        return indicator, indicator_id

    def _period(self, cells: Mapping[str, str | None]) -> str | None:
        if "year" not in cells:
            return None
        year_raw = cells["year"]
        period = _period(year_raw) if year_raw is not None else None
        if period is None:
            self.problem("year", year_raw or None, "year", low=YEARS[0], high=YEARS[1])
            return None
        month_raw = cells.get("month")
        if month_raw is None:
            return period
        with_month = _month(period, month_raw)
        if with_month is None:
            self.problem("month", month_raw, "month")
        return with_month

    def build(self, cells: Mapping[str, str | None], tally: _Tally) -> None:
        """Check the row and add it to the tally (or count it skipped)."""
        tally.data_rows += 1
        indicator, indicator_id = self._indicator(cells)
        region = self.text("region", cells["region"]) if "region" in cells else None
        period = self._period(cells)
        gender = None
        if "gender" in cells:
            gender = _gender(cells["gender"] or "")
            if gender is None:
                self.problem("gender", cells["gender"], "gender")
        value: float | None | str = None
        if "value" in cells:
            value_raw = cells["value"]
            value = _number(value_raw) if value_raw is not None else None
            if value == "bad":
                self.problem("value", value_raw, "value")
        if self.bad or self.problems:
            return  # the file is refused anyway: go on only to find its other problems
        if gender in ("men", "women"):
            tally.gender += 1
            return
        if value is None:
            tally.no_value += 1
            return
        name = indicator if indicator is not None else indicator_id
        if not isinstance(value, float) or name is None or region is None or period is None:
            return  # a required column is missing: that is a problem already listed
        key = (indicator_id or name, region, period)
        if key in tally.seen:
            first_line, first_value = tally.seen[key]
            if first_value == value:
                tally.duplicates += 1
                return
            self.problem("value", cells.get("value"), "duplicate", first_line=first_line,
                         value=_number_text(first_value))
            return
        tally.seen[key] = (self.line, value)
        tally.rows.append(ReferenceRow(name, indicator_id, region, period, value,
                                       "total" if gender == "total" else None))


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


# -- CSV ------------------------------------------------------------------------------------

class _CsvError(Exception):
    def __init__(self, line: int, detail: str):
        super().__init__(detail)
        self.line = line
        self.detail = detail


def _records(text: str, delimiter: str) -> Iterable[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each CSV record; a csv.Error comes up as _CsvError
    with its line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, skipinitialspace=False, strict=False)
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise _CsvError(last + 1, str(err)[:200]) from None
        first, last = last + 1, reader.line_num
        yield first, last, row


def _header_score(row: list[str]) -> int:
    return len({f for cell in row if len(cell) <= MAX_CELL and (f := _field_of(cell))})


def _find_header(text: str) -> tuple[str, int, int, list[str]] | None:
    """(delimiter, the header's line, its record number, its cells): of the first lines, the
    first that names at least two of our columns, by whichever delimiter finds it first."""
    best: tuple[int, int, str, int, list[str]] | None = None  # (line, -score, delimiter, index, row)
    for delimiter in DELIMITERS:
        try:
            for index, (line, _, row) in enumerate(itertools.islice(_records(text, delimiter), HEADER_SEARCH)):
                score = _header_score(row)
                if score >= 2:
                    candidate = (line, -score, delimiter, index, row)
                    if best is None or candidate[:2] < best[:2]:
                        best = candidate
                    break
        except _CsvError:
            continue
    if best is None:
        return None
    return best[2], best[0], best[3], best[4]


def _names(key: str) -> str:
    return " / ".join(sorted(ALIASES[key]))


def _note_like(row: list[str], columns: Mapping[str, int]) -> bool:
    """A line of text, not data: no year and no value, or one cell that is neither."""
    def cell(key: str) -> str:
        position = columns.get(key)
        return row[position].strip() if position is not None and position < len(row) else ""

    filled = [c for c in row if c.strip()]
    if not cell("year") and not cell("value"):
        return True
    return len(filled) == 1 and _period(filled[0]) is None and _number(filled[0]) == "bad"


def _read_csv(text: str, tally: _Tally, problems: _Problems) -> tuple[str | None, list[str]]:
    notes: list[str] = []
    found = _find_header(text)
    if found is None:
        lines = text.splitlines()
        columns_text = "; ".join(_names(k) for k in ("indicator", "region", "year", "value"))
        problems.add(1, None, _clean(lines[0][:MAX_TEXT]) if lines else None, "header", n=HEADER_SEARCH,
                     columns=columns_text)
        return None, notes
    delimiter, header_line, header_index, header = found
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    for position, cell in enumerate(header):
        key = _field_of(cell)
        if key is None:
            continue
        if key in columns:
            problems.add(header_line, _clean(cell), cell, "one_column", field=key, other=names[key])
            continue
        columns[key] = position
        names[key] = _clean(cell)
    header_text = delimiter.join(_clean(c) for c in header)
    for key in REQUIRED:
        if key not in columns:
            problems.add(header_line, None, header_text, "column", names=_names(key))
    if "indicator" not in columns and "indicator_id" not in columns:
        problems.add(header_line, None, header_text, "indicator_column", names=_names("indicator"),
                     ids=_names("indicator_id"))
    width = len(header)
    pending: list[tuple[int, str]] = []  # lines of text after data rows: notes, if data does not follow
    data_lines = 0
    try:
        for index, (line, last_line, row) in enumerate(_records(text, delimiter)):
            if index < header_index:
                note = _clean(" ".join(c for c in row if c.strip()))
                if note and not note.casefold().startswith("sep=") and len(notes) < MAX_NOTES:
                    notes.append(note[:MAX_TEXT])
                continue
            if index == header_index or not any(c.strip() for c in row):
                continue
            long_cell = next((c for c in row if len(c) > MAX_CELL), None)
            if long_cell is not None:
                problems.add(line, None, long_cell, "cell", limit=MAX_CELL)
                continue
            if last_line == line and _note_like(row, columns):  # a note is one line
                pending.append((line, _clean(" ".join(c for c in row if c.strip()))))
                continue
            for note_line, note in pending:
                problems.add(note_line, None, note, "note_in_data")
            pending.clear()
            data_lines += 1
            if data_lines > MAX_ROWS:
                problems.add(line, None, None, "rows", limit=MAX_ROWS)
                return delimiter, notes
            if len(row) > width and any(c.strip() for c in row[width:]):
                problems.add(line, None, delimiter.join(row), "fields", n=width)
                continue
            cells = {key: (row[pos] if pos < len(row) else "") for key, pos in columns.items()}
            _Row(problems, line, names, in_json=False).build(cells, tally)
    except _CsvError as err:
        problems.add(err.line, None, None, "csv", detail=err.detail)
    for _, note in pending:
        if len(notes) < MAX_NOTES:
            notes.append(note[:MAX_TEXT])
    if not problems and data_lines == 0:
        problems.add(header_line, None, header_text, "empty")
    return delimiter, notes


# -- JSON -----------------------------------------------------------------------------------

JSON_KEYS = {key: key for key in FIELDS}
JSON_EXPECTED = {"indicator": "id", "region": "text", "year": "year", "month": "month",
                 "gender": "gender", "value": "value"}


def _json_cell(value: Any) -> tuple[str | None, str | None]:
    """(cell text, None) of a JSON scalar, (None, None) for null; (None, why) for what no
    cell can be: an object, a list, true/false, a non-finite number, an overlong text."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return (value, None) if len(value) <= MAX_CELL else (None, "cell")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, "kind"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, "kind"
        return (str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)), None
    return str(value), None


def _read_json(text: str, tally: _Tally, problems: _Problems) -> None:
    try:
        body = json.loads(text)
    except RecursionError:
        problems.add(None, None, None, "json", detail="nested too deep")
        return
    except ValueError as err:
        problems.add(None, None, None, "json", detail=str(err)[:200])
        return
    if not isinstance(body, list):
        problems.add(None, None, type(body).__name__, "json", detail="not a list")
        return
    if len(body) > MAX_ROWS:
        problems.add(None, None, str(len(body)), "rows", limit=MAX_ROWS)
        return
    if not body:
        problems.add(None, None, "[]", "empty")
        return
    for number, record in enumerate(body, start=1):
        if not isinstance(record, dict):
            problems.add(number, None, _short_json(record), "record", in_json=True)
            continue
        row = _Row(problems, number, JSON_KEYS, in_json=True)
        cells: dict[str, str | None] = {}
        for key in ("indicator", "region", "year", "month", "gender", "value"):
            if key in ("month", "gender") and record.get(key) is None:
                continue  # optional
            cell, why = _json_cell(record.get(key))
            if why == "cell":
                row.problem(key, _short_json(record.get(key)), "cell", limit=MAX_CELL)
            elif why is not None:
                params: dict[str, object] = {"low": YEARS[0], "high": YEARS[1]} if key == "year" else {}
                row.problem(key, _short_json(record.get(key)), JSON_EXPECTED[key], **params)
            cells[key] = cell
        if not row.bad:
            row.build(cells, tally)
        else:
            tally.data_rows += 1


def _short_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:200]
    except (TypeError, ValueError, RecursionError):
        return type(value).__name__
