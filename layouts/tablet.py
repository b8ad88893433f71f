"""The shift lead's page, /tablet: upload the control-board workbook (touch-friendly: one
large drop zone that opens the file picker on a tap), download the empty template, and see
every problem in place — sheet, row, column, value, what was expected — in the site's
language. Corrections, notices and the escalation level arrive with the tablet issue."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from dashboard.config import Config
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.workbook.importer import Report, import_bytes
from dashboard.workbook.reader import MAX_BYTES

UPLOAD, RESULT = "wb-upload", "wb-result"
TEXT = {
    "fi": {"title": "Vuorovastaava – työkirja", "drop": "Vedä työkirja tähän tai napauta valitaksesi (.xlsx tai .ods)",
           "template": "Lataa tyhjä työkirja", "applied": "Otettu käyttöön", "rejected": "Ei otettu käyttöön: korjaa nämä ja lataa uudelleen",
           "checked": "Ei muutoksia", "rows": "riviä", "sheet": "Välilehti", "row": "Rivi", "column": "Sarake",
           "value": "Arvo", "problem": "Ongelma", "warnings": "Huomioita"},
    "sv": {"title": "Skiftansvarig – arbetsbok", "drop": "Dra arbetsboken hit eller tryck för att välja (.xlsx eller .ods)",
           "template": "Ladda ner en tom arbetsbok", "applied": "Tagen i bruk", "rejected": "Inte tagen i bruk: rätta dessa och ladda upp igen",
           "checked": "Inga ändringar", "rows": "rader", "sheet": "Flik", "row": "Rad", "column": "Kolumn",
           "value": "Värde", "problem": "Problem", "warnings": "Observera"},
    "en": {"title": "Shift lead – workbook", "drop": "Drop the workbook here or tap to choose (.xlsx or .ods)",
           "template": "Download an empty workbook", "applied": "Applied", "rejected": "Not applied: fix these and upload again",
           "checked": "No changes", "rows": "rows", "sheet": "Sheet", "row": "Row", "column": "Column",
           "value": "Value", "problem": "Problem", "warnings": "Notes"},
}


@dataclass
class TabletContext:
    config: Config
    store: LiveStore
    history: History
    data_dir: Path


def layout(ctx: TabletContext, **_query: Any) -> html.Div:
    tx = TEXT[ctx.config.site.language]
    return html.Div(
        [
            html.H1(tx["title"]),
            dcc.Upload(id=UPLOAD, children=html.Div(tx["drop"]), className="upload",
                       max_size=MAX_BYTES, multiple=False),
            html.A(tx["template"], href="/tablet/template.xlsx", className="button", download="ohjaustaulu.xlsx"),
            dcc.Loading(html.Div(id=RESULT, className="result")),
        ],
        className="tablet",
    )


def result_view(report: Report, filename: str, lang: str) -> html.Div:
    tx = TEXT[lang]
    if report.errors:
        head = tx["rejected"]
        state = "rejected"
    elif report.applied:
        head = tx["applied"]
        state = "applied"
    else:
        head = tx["checked"]
        state = "unchanged"
    counts = ", ".join(f"{sheet} {n} {tx['rows']}" for sheet, n in report.counts.items())
    parts: list[Any] = [html.H2(f"{head}: {filename}"), html.P(counts)]
    if report.errors:
        parts.append(html.Table(
            [html.Thead(html.Tr([html.Th(tx[k]) for k in ("sheet", "row", "column", "value", "problem")]))]
            + [html.Tbody([
                html.Tr([html.Td(e["sheet"]), html.Td(str(e["row"] or "")), html.Td(e["column"]),
                         html.Td(e["value"]), html.Td(e["message"])],
                        className="error-row", **{"data-sheet": e["sheet"], "data-row": str(e["row"]),
                                                   "data-column": e["column"]})
                for e in report.errors])],
            className="errors"))
    if report.warnings:
        parts += [html.H3(tx["warnings"]), html.Ul([html.Li(w, className="warning") for w in report.warnings])]
    return html.Div(parts, className=f"report report--{state}", **{"data-state": state})


def register(app: dash.Dash, ctx: TabletContext) -> None:
    dash.register_page("tablet", path="/tablet", layout=lambda **q: layout(ctx, **q), title="Ohjaustaulu – tabletti")

    @app.callback(Output(RESULT, "children"), Input(UPLOAD, "contents"), State(UPLOAD, "filename"),
                  prevent_initial_call=True)
    def upload(contents: str | None, filename: str | None) -> Any:
        if not contents:
            return dash.no_update
        data = base64.b64decode(contents.split(",", 1)[1])
        report = import_bytes(data, filename or "tyokirja.xlsx", "tabletti", config=ctx.config,
                              store=ctx.store, history=ctx.history, data_dir=ctx.data_dir)
        return result_view(report, filename or "", ctx.config.site.language)
