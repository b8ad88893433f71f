"""The empty control-board workbook, in the configured language: one sheet per table with its
header row, drop-down lists for units, professions, importance and yes/no, readable column
widths, and a help sheet with an example row for each table."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from dashboard.config import Config
from dashboard.workbook.schema import (
    ALL_UNITS,
    COMMON_PROFESSIONS,
    HELP_SHEET,
    IMPORTANCE_WORDS,
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


def template(config: Config, lang: str) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    units = [u.name_in(lang) for u in config.units]
    lists = wb.create_sheet("_listat")
    lists.sheet_state = "hidden"
    columns = {
        "unit": units,
        "unit_or_all": [ALL_UNITS[lang], *units],
        "profession": COMMON_PROFESSIONS,
        "importance": IMPORTANCE_WORDS[lang],
        "yesno": YESNO_WORDS[lang],
    }
    ranges = {}
    for i, (name, values) in enumerate(columns.items(), start=1):
        letter = chr(ord("A") + i - 1)
        for r, value in enumerate(values, start=1):
            lists.cell(r, i, value)
        ranges[name] = f"_listat!${letter}$1:${letter}${len(values)}"

    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.names[lang])
        for j, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(1, j, column.names[lang])
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = HEAD_FILL
            cell.alignment = Alignment(vertical="center")
            ws.column_dimensions[cell.column_letter].width = column.width
            kind = "profession" if column.key == "profession" else column.kind
            if kind in ranges:
                strict = kind != "profession"  # professions: a suggestion list, any text allowed
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
    for sheet in SHEETS:
        help_ws.cell(r, 1, sheet.names[lang]).font = Font(bold=True)
        header = " | ".join(c.names[lang] for c in sheet.columns)
        example = " | ".join(str(v).format(**fill) for v in EXAMPLES[sheet.key])
        help_ws.cell(r + 1, 1, header)
        help_ws.cell(r + 2, 1, example).font = Font(italic=True, color="555555")
        r += 4
    wb.active = 1
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
