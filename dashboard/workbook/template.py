"""The empty control-board workbook, in the configured language: one sheet per table with its
header row, drop-down lists for units, professions, importance and yes/no, readable column
widths, and a help sheet with an example row for each table.

The sheet of the centre's own metrics (Muut mittarit) is there only when the configuration
has own metrics a person enters (not derived ones): without them every row of it would be an
error, and a hurried person's workbook is not cluttered with a sheet that takes nothing. Its
drop-down list offers those metrics by name, and the help sheet lists every own metric with
its key, unit of measure and how long a value stands."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from dashboard.config import Config
from dashboard.domain.metrics import Metric
from dashboard.i18n import number
from dashboard.workbook.schema import (
    ALL_UNITS,
    COMMON_PROFESSIONS,
    HELP_SHEET,
    IMPORTANCE_WORDS,
    KEYED_BY,
    OWN,
    SHEETS,
    YESNO_WORDS,
)

ROWS = 200  # rows prepared with drop-down lists
HEAD_FILL = PatternFill("solid", fgColor="1F4E79")

HELP = {
    "fi": [
        "Täytä välilehdet ja tallenna tiedosto (.xlsx tai .ods). Lataa se tabletilla tai tallenna seurattuun kansioon.",
        "Tyhjät rivit ja ylimääräiset sarakkeet ovat sallittuja. Desimaalipilkku käy. Päivä: 23.11.2026 tai 23.11. (tämä vuosi); tyhjä päivä on tiedoston päivä. Kellonaika: 8.30, 08:30 tai 13.",
        "Yksikön voi kirjoittaa koodina, nimenä tai sen muulla nimellä (asetukset). Tiedotteen yksikkö voi olla 'kaikki'. Tiedotteen teksti on enintään 200 merkkiä.",
        "Tiedosto otetaan käyttöön kokonaan tai ei lainkaan: virheet näytetään kaikki kerralla riveineen.",
    ],
    "sv": [
        "Fyll i flikarna och spara filen (.xlsx eller .ods). Ladda upp den med surfplattan eller spara den i den bevakade mappen.",
        "Tomma rader och extra kolumner är tillåtna. Decimalkomma går bra. Datum: 23.11.2026 eller 23.11. (i år); en tom dag är filens dag. Klockslag: 8.30, 08:30 eller 13.",
        "Enheten kan skrivas som kod, namn eller annat namn (inställningar). Ett meddelandes enhet kan vara 'alla'. Meddelandets text är högst 200 tecken.",
        "Filen tas i bruk helt eller inte alls: alla fel visas på en gång med sina rader.",
    ],
    "en": [
        "Fill in the sheets and save the file (.xlsx or .ods). Upload it on the tablet or save it into the watched folder.",
        "Blank rows and extra columns are fine. A decimal comma is fine. Date: 23.11.2026 or 23.11. (this year); a blank day is the file's day. Time: 8.30, 08:30 or 13.",
        "A unit may be written as its code, its name or another name of it (configuration). A notice's unit may be 'all'. A notice's text is at most 200 characters.",
        "The file is applied whole or not at all: every problem is shown at once, with its row.",
    ],
}
EXAMPLES = {
    "staffing": ["23.11.2026", "{unit}", "sairaanhoitaja", 8, 7, 1, ""],
    "appointments": ["23.11.2026", "{unit}", "lääkäri", 12, 40, 2],
    "queues": ["9.30", "{unit}", "Päivystys", 6, 35, 20],
    "capacity": ["23.11.2026", "{unit}", "Vastaanottohuoneet", 14, 18],
    "notices": ["23.11.2026 8.00", "23.11.2026 16.00", "{all}", "Laboratorio suljettu klo 14 alkaen.", "{info}", "{yes}"],
}
# the own metrics' help: the sheet's rules, then a line for each metric
OWN_HELP = {
    "fi": {
        "intro": "Yksi arvo riville. Päivä tai kellonaika: päivä (arvo on voimassa tuonnista alkaen), tämän päivän "
                 "kellonaika tai molemmat. Mittarin voi kirjoittaa nimenä tai tunnuksena. Tarkenne kirjoitetaan vain "
                 "mittarille, jolla se on; muuten sarake jätetään tyhjäksi. Laskettuja mittareita ei kirjoiteta.",
        "metrics": "Mittarit:", "key": "tarkenne", "none": "ei (vain yksikkö)", "e.g.": "esim.",
        "count": "lukumäärä tänään, kokonaisluku", "level": "lukuarvo", "duration": "minuutteja",
        "ratio": "suhdeluku", "percent": "prosentteja (%)", "decimals": "desimaaleja: {n}",
        "hours": "voimassa {h} t", "day": "voimassa päivän loppuun", "derived": "lasketaan: {expr} – ei kirjoiteta",
    },
    "sv": {
        "intro": "Ett värde per rad. Dag eller klockslag: en dag (värdet gäller från importen), ett klockslag i dag "
                 "eller båda. Mätaren kan skrivas med namn eller id. Precisering skrivs bara för en mätare som har "
                 "en; annars lämnas kolumnen tom. Beräknade mätare skrivs inte in.",
        "metrics": "Mätare:", "key": "precisering", "none": "ingen (bara enhet)", "e.g.": "t.ex.",
        "count": "antal i dag, heltal", "level": "tal", "duration": "minuter",
        "ratio": "kvot", "percent": "procent (%)", "decimals": "decimaler: {n}",
        "hours": "gäller {h} h", "day": "gäller dagen ut", "derived": "beräknas: {expr} – skrivs inte in",
    },
    "en": {
        "intro": "One value per row. Date or time: a date (the value stands from the import), a time of today or "
                 "both. A metric may be written by its name or its id. A key is written only for a metric that has "
                 "one; otherwise leave the column empty. Computed metrics are not entered.",
        "metrics": "Metrics:", "key": "key", "none": "none (unit only)", "e.g.": "e.g.",
        "count": "count today, whole number", "level": "number", "duration": "minutes",
        "ratio": "ratio", "percent": "percent (%)", "decimals": "decimals: {n}",
        "hours": "stands {h} h", "day": "stands to the end of the day", "derived": "computed: {expr} – not entered",
    },
}
OWN_EXAMPLE_KEYS = {"queue": "Päivystys", "profession": "sairaanhoitaja", "resource": "Vastaanottohuoneet",
                    "label": "A"}
OWN_EXAMPLE_TIMES = ["23.11.2026", "9.30", "23.11.2026 14.00"]


# the figure of each sheet whose keys (queues, professions, resources) the centre's own
# examples are taken from, and where in the example row the unit and the key stand
EXAMPLE_FROM = {"staffing": "staff.planned", "appointments": "appointments.free_today", "queues": "queue.waiting",
                "capacity": "capacity.total"}


def seen_keys(readings: Any) -> dict[str, list[tuple[str, str]]]:
    """(unit, key) of each metric in the live store's readings (LiveStore.all_readings), for
    the template's examples: the centre's own queues, professions and resources."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for rs in readings.values():
        for r in rs:
            if r.metric in EXAMPLE_FROM.values() and r.key:
                seen.setdefault(r.metric, set()).add((r.unit, r.key))
    return {m: sorted(v) for m, v in seen.items()}


def centre_example(config: Config, sheet: str, lang: str, seen: dict[str, list[tuple[str, str]]]) -> list[object] | None:
    """A sheet's example row with one of the centre's own units and keys (the first seen in
    the live store), or None when none is known: the generic example then."""
    pairs = [(u, k) for u, k in seen.get(EXAMPLE_FROM.get(sheet, ""), []) if any(x.code == u for x in config.units)]
    if not pairs:
        return None
    unit, key = pairs[0]
    row = list(EXAMPLES[sheet])
    row[1] = config.unit(unit).name_in(lang)
    row[2] = key[:1].upper() + key[1:]
    return row


def template(config: Config, lang: str, seen: dict[str, list[tuple[str, str]]] | None = None) -> bytes:
    """The empty workbook in `lang`; `seen`: the keys in the live store (seen_keys), whose
    first ones the help's examples use."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    units = [u.name_in(lang) for u in config.units]
    entered = entered_metrics(config)
    sheets = [s for s in SHEETS if s is not OWN or entered]
    lists = wb.create_sheet("_listat")
    lists.sheet_state = "hidden"
    columns = {
        "unit": units,
        "unit_or_all": [ALL_UNITS[lang], *units],
        "profession": COMMON_PROFESSIONS,
        "importance": IMPORTANCE_WORDS[lang],
        "yesno": YESNO_WORDS[lang],
        "metric": [m.name(lang) for m in entered],
        "key": list(dict.fromkeys(k for m in entered for k in m.keys)),
    }
    columns = {name: values for name, values in columns.items() if values}
    ranges = {}
    for i, (name, values) in enumerate(columns.items(), start=1):
        letter = chr(ord("A") + i - 1)
        for r, value in enumerate(values, start=1):
            lists.cell(r, i, value)
        ranges[name] = f"_listat!${letter}$1:${letter}${len(values)}"

    for sheet in sheets:
        ws = wb.create_sheet(sheet.names[lang])
        for j, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(1, j, column.names[lang])
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = HEAD_FILL
            cell.alignment = Alignment(vertical="center")
            ws.column_dimensions[cell.column_letter].width = column.width
            kind = column.key if column.key in ("profession", "key") else column.kind
            if kind in ranges:
                strict = kind not in ("profession", "key")  # suggestion lists: any text allowed
                dv = DataValidation(type="list", formula1=ranges[kind], allow_blank=True,
                                    showErrorMessage=strict)
                ws.add_data_validation(dv)
                dv.add(f"{cell.column_letter}2:{cell.column_letter}{ROWS + 1}")
        ws.freeze_panes = "A2"

    help_ws = wb.create_sheet(HELP_SHEET[lang], 0)
    help_ws.column_dimensions["A"].width = 120
    help_ws.cell(1, 1, "Ohjaustaulu").font = Font(bold=True, size=14)
    for r, line in enumerate(HELP[lang], start=2):
        help_ws.cell(r, 1, line).alignment = Alignment(wrap_text=True)
    r = len(HELP[lang]) + 3
    fill = {"unit": units[0], "all": ALL_UNITS[lang], "info": IMPORTANCE_WORDS[lang][0],
            "yes": YESNO_WORDS[lang][0]}
    for sheet in sheets:
        help_ws.cell(r, 1, sheet.names[lang]).font = Font(bold=True)
        header = " | ".join(c.names[lang] for c in sheet.columns)
        help_ws.cell(r + 1, 1, header)
        if sheet is OWN:
            examples = [" | ".join(map(str, row)) for row in own_examples(config, entered, lang)]
        else:
            own = centre_example(config, sheet.key, lang, seen or {})
            examples = [" | ".join(str(v).format(**fill) for v in (own or EXAMPLES[sheet.key]))]
        for i, example in enumerate(examples, start=2):
            help_ws.cell(r + i, 1, example).font = Font(italic=True, color="555555")
        r += len(examples) + 3
    if entered:
        _own_help(help_ws, r - 1, config, lang)
    wb.active = 1
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def entered_metrics(config: Config) -> list[Metric]:
    """The centre's own metrics a person enters: every one but the derived."""
    return [m for m in config.own_metrics().values() if m.derived is None]


def own_examples(config: Config, entered: list[Metric], lang: str) -> list[list[object]]:
    """Up to three example rows of the configuration's own metrics, a unit's first (so the
    examples show several units where there are several), each in a unit that shows it."""
    firsts: dict[str, str] = {}
    for m in entered:
        firsts.setdefault(_example_unit(config, m.id), m.id)
    chosen = list(dict.fromkeys([*firsts.values(), *(m.id for m in entered)]))[:3]
    by_id = {m.id: m for m in entered}
    rows: list[list[object]] = []
    for i, m in enumerate(by_id[c] for c in chosen):
        unit = next(u for u in config.units if u.code == _example_unit(config, m.id))
        key = (m.keys[0] if m.keys else OWN_EXAMPLE_KEYS[m.keyed_by]) if m.keyed_by else ""
        value = number(19.5 if m.decimals else (4 if m.kind == "count" else 21), lang)
        rows.append([OWN_EXAMPLE_TIMES[i], unit.name_in(lang), m.name(lang), key, value])
    return rows


def _example_unit(config: Config, metric: str) -> str:
    """A unit an own metric belongs to, as far as the configuration tells: the unit its card
    is named for, else the first unit of a display that shows it, else the first unit."""
    spec = next((s for s in config.metrics if s.id == metric), None)
    codes = [u.code for u in config.units]
    if spec is not None and spec.card in codes:
        return spec.card
    shown = next((d.units for d in config.displays if d.units and metric in config.shown_metrics(d)), None)
    return shown[0] if shown else codes[0]


def _own_help(ws: Worksheet, r: int, config: Config, lang: str) -> None:
    """The own metrics' rules from row `r`, and a line for each metric: name, id, key, unit
    of measure and how long a value stands; the derived ones said to be computed."""
    words = OWN_HELP[lang]
    ws.cell(r, 1, words["intro"]).alignment = Alignment(wrap_text=True)
    ws.cell(r + 1, 1, words["metrics"]).font = Font(bold=True)
    r += 2
    for m in config.own_metrics().values():
        ws.cell(r, 1, f"{m.name(lang)} ({m.id}) – " + " – ".join(_described(m, lang))).alignment = \
            Alignment(wrap_text=True)
        r += 1


def _described(m: Metric, lang: str) -> list[str]:
    words = OWN_HELP[lang]
    if m.derived is not None:
        return [words["derived"].format(expr=m.derived.text)]
    key = KEYED_BY[m.keyed_by][lang] if m.keyed_by else words["none"]
    if m.keyed_by and m.keys:
        key += f" ({words['e.g.']} {', '.join(m.keys[:5])})"
    measure = words[m.measure] if m.measure in words else words["level"]
    if m.decimals:
        measure += ", " + words["decimals"].format(n=m.decimals)
    hours = words["hours"].format(h=number(m.manual_hours, lang)) if m.manual_hours else words["day"]
    return [f"{words['key']}: {key}", measure, hours]
