"""/history: the manager's view of what happened. Pick units, metrics and a date range; see
hourly or daily figures, arrivals by weekday and hour, two periods side by side, and how
often the access-to-care limits were met; export what is shown as CSV or XLSX, or print it.
Every figure comes from the hourly and daily rollups (dashboard/rollups.py), never from
the raw changes, so a two-year view reads thousands of rows, not millions.
"""

from __future__ import annotations

import html as htmlmod
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from dashboard import access, auth, rollups
from dashboard.config import Config
from dashboard.export import to_csv, to_xlsx
from dashboard.history import History
from dashboard.i18n import number
from dashboard.livestore import LiveStore
from dashboard.metrics import CATALOGUE, LABEL_FI

METRICS = {k: v for k, v in LABEL_FI.items() if k != "capacity.total"}
WEEKDAYS = ["ma", "ti", "ke", "to", "pe", "la", "su"]
MAX_DAYS = 3 * 366
MAX_XLSX_ROWS = 60_000  # openpyxl writes about 12,000 rows a second here


@dataclass
class HistoryContext:
    config: Config
    store: LiveStore
    history: History


@dataclass
class Query:
    units: list[str]
    metrics: list[str]
    start: date
    end: date
    grain: str

    def params(self) -> str:
        return urllib.parse.urlencode({"units": ",".join(self.units), "metrics": ",".join(self.metrics),
                                       "start": self.start.isoformat(), "end": self.end.isoformat(), "grain": self.grain})


class BadQuery(ValueError):
    pass


def parse_query(config: Config, units: Any, metrics: Any, start: Any, end: Any, grain: Any) -> Query:
    """The choices, checked; every problem named (in Finnish, the managers' language)."""
    problems = []
    codes = {u.code for u in config.units}
    unit_list = [u for u in (units.split(",") if isinstance(units, str) else units if isinstance(units, list) else []) if u]
    metric_list = [m for m in (metrics.split(",") if isinstance(metrics, str) else metrics if isinstance(metrics, list) else []) if m]
    # a hostile request may send anything: only names are names
    if not all(isinstance(x, str) for x in unit_list + metric_list):
        unit_list, metric_list = [u for u in unit_list if isinstance(u, str)], [m for m in metric_list if isinstance(m, str)]
        problems.append("Yksiköt ja mittarit: anna nimet tekstinä")
    if not unit_list or any(u not in codes for u in unit_list):
        problems.append("Yksiköt: valitse vähintään yksi tunnettu yksikkö")
    if not metric_list or any(m not in CATALOGUE for m in metric_list):
        problems.append("Mittarit: valitse vähintään yksi tunnettu mittari")
    try:
        d0, d1 = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
        if d1 < d0:
            problems.append("Aikaväli: loppu on ennen alkua")
        elif (d1 - d0).days > MAX_DAYS:
            problems.append("Aikaväli: enintään kolme vuotta kerralla")
    except ValueError:
        problems.append("Aikaväli: anna alku- ja loppupäivä")
        d0 = d1 = date.today()
    if not isinstance(grain, str) or grain not in ("hour", "day"):
        problems.append("Tarkkuus: tunti tai päivä")
    if problems:
        raise BadQuery("; ".join(problems))
    return Query(unit_list, metric_list, d0, d1, str(grain))


def unit_name(config: Config, code: str) -> str:
    return config.unit(code).name


def series_figure(config: Config, rows: list[dict[str, Any]], grain: str) -> go.Figure:
    fig = go.Figure()
    lines: dict[tuple[str, str, str], tuple[list[str], list[Any]]] = {}
    for r in rows:
        if r["mean"] is None:
            continue
        x, y = lines.setdefault((r["metric"], r["unit"], r["key"]), ([], []))
        x.append(r["period"][:16] if grain == "hour" else r["period"][:10])
        y.append(r["mean"])
    for (metric, unit, key), (x, y) in lines.items():
        label = f"{unit_name(config, unit)} · {METRICS.get(metric, metric)}" + (f" · {key}" if key else "")
        fig.add_scatter(x=x, y=y, mode="lines+markers" if len(x) < 60 else "lines", name=label)
    fig.update_layout(uirevision="history", height=420, margin={"l": 50, "r": 10, "t": 30, "b": 40},
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white",
                      # say exactly what a daily mean covers (dashboard/rollups.py)
                      yaxis_title="tunnin keskiarvo" if grain == "hour"
                      else "päivän keskiarvo (1. muutoksesta keskiyöhön)")
    return fig


def heatmap_figure(cells: list[dict[str, Any]]) -> go.Figure:
    hours = sorted({c["hour"] for c in cells})
    z = [[next((c["mean"] for c in cells if c["weekday"] == wd and c["hour"] == h), None) for h in hours]
         for wd in range(5)]
    fig = go.Figure(go.Heatmap(z=z, x=hours, y=WEEKDAYS[:5], colorscale="Blues", colorbar={"title": "saap./h"},
                               hovertemplate="%{y} klo %{x}: %{z:.1f}<extra></extra>"))
    fig.update_layout(height=300, margin={"l": 40, "r": 10, "t": 30, "b": 40}, template="plotly_white",
                      yaxis={"autorange": "reversed"})
    return fig


def compliance_text(x: dict[str, Any] | None) -> str:
    """"92 % (23/25 arkipv)": how often a limit was met, or that there are no data."""
    if not x or not x["days"]:
        return "ei tietoa"
    return f"{number(100 * x['share'], 'fi')} % ({x['met']}/{x['days']} arkipv)"


def compliance_table(config: Config, result: dict[str, dict[str, Any]]) -> html.Table:
    cell = compliance_text
    rows = [html.Tr([html.Td(unit_name(config, u)), html.Td(cell(v.get("callback_same_day"))),
                     html.Td(cell(v.get("assessment_3wd")))], className="compliance-row", **{"data-unit": u})
            for u, v in result.items()]
    return html.Table([html.Thead(html.Tr([html.Th("Yksikkö"), html.Th("Takaisinsoitto samana arkipäivänä"),
                                           html.Th("Hoidon tarpeen arvio 3 arkipäivässä (T3 ≤ 3)")])),
                       html.Tbody(rows)], className="history-table")


def compare_table(config: Config, rows: list[dict[str, Any]]) -> html.Table:
    body = [html.Tr([html.Td(unit_name(config, r["unit"])), html.Td(METRICS.get(r["metric"], r["metric"])), html.Td(r["key"]),
                     html.Td(number(r["a_mean"], "fi") if r["a_mean"] is not None else "–"),
                     html.Td(number(r["b_mean"], "fi") if r["b_mean"] is not None else "–"),
                     html.Td((f"{r['change']:+.1f}".replace(".", ",") if r["change"] is not None else "–")
                             + (f" ({r['change_pct']:+.0f} %)" if r.get("change_pct") is not None else ""))])
            for r in rows]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Yksikkö", "Mittari", "Tarkenne", "Jakso A", "Jakso B", "Muutos")])),
                       html.Tbody(body)], className="history-table")


def layout(ctx: HistoryContext, **_query: Any) -> html.Div:
    access.require("history")
    today = ctx.store.clock(ctx.config.tz).now().date()
    units = [{"label": u.name, "value": u.code} for u in ctx.config.units]
    p = auth.current.get()
    return html.Div([
        html.Header([html.H1("Historia"), html.Span(p.name if p else "", className="who")], className="tablet-head"),
        html.Div([
            html.Label([html.Span("Yksiköt"), dcc.Dropdown(units, [ctx.config.units[0].code], multi=True, id="history-units")],
                       className="field"),
            html.Label([html.Span("Mittarit"), dcc.Dropdown([{"label": v, "value": k} for k, v in METRICS.items()],
                                                           ["queue.waiting", "staff.present"], multi=True, id="history-metrics")],
                       className="field"),
            html.Label([html.Span("Aikaväli"), dcc.DatePickerRange(id="history-range", start_date=today - timedelta(days=27),
                                                                   end_date=today, display_format="D.M.YYYY",
                                                                   first_day_of_week=1)], className="field"),
            html.Label([html.Span("Tarkkuus"), dcc.RadioItems([{"label": "päivä", "value": "day"}, {"label": "tunti", "value": "hour"}],
                                                              "day", id="history-grain", inline=True)], className="field"),
            html.Label([html.Span("Vertaa jaksoon"), dcc.DatePickerRange(id="history-compare", start_date=today - timedelta(days=55),
                                                                         end_date=today - timedelta(days=28),
                                                                         display_format="D.M.YYYY", first_day_of_week=1)],
                       className="field"),
        ], className="history-controls"),
        html.Div(id="history-links", className="history-links"),
        html.Div(id="history-error", role="alert"),
        dcc.Loading(html.Div(id="history-content")),
    ], className="history")


def register(app: dash.Dash, ctx: HistoryContext) -> None:
    config, history, tz = ctx.config, ctx.history, ctx.config.tz
    dash.register_page("history", path="/history", layout=lambda **q: layout(ctx, **q), title="Ohjaustaulu – historia")

    @app.callback(Output("history-content", "children"), Output("history-links", "children"), Output("history-error", "children"),
                  Input("history-units", "value"), Input("history-metrics", "value"), Input("history-range", "start_date"),
                  Input("history-range", "end_date"), Input("history-grain", "value"), Input("history-compare", "start_date"),
                  Input("history-compare", "end_date"))
    def show(units: list[str], metrics: list[str], start: str, end: str, grain: str, b0: str | None, b1: str | None) -> Any:
        access.require("history")
        try:
            q = parse_query(config, units, metrics, start, end, grain)
        except BadQuery as err:
            return dash.no_update, dash.no_update, html.P(str(err), className="msg msg--error")
        rows = so_far(rollups.series(history, tz, q.metrics, q.units, q.start, q.end, q.grain))  # type: ignore[arg-type]
        parts: list[Any] = [
            html.H2(f"{METRICS.get(q.metrics[0], q.metrics[0])}{' ym.' if len(q.metrics) > 1 else ''}, "
                    f"{q.start:%-d.%-m.%Y}–{q.end:%-d.%-m.%Y}"),
            dcc.Graph(figure=series_figure(config, rows, q.grain), id="history-series", config={"displaylogo": False}),
            html.P(f"{len(rows)} riviä", className="rowcount", **{"data-rows": str(len(rows))}),
            html.H2("Saapuneet viikonpäivittäin ja tunneittain (arkipäivät, keskiarvo)"),
            dcc.Graph(figure=heatmap_figure(rollups.arrivals_heatmap(history, tz, q.units, q.start, q.end)),
                      id="history-heatmap", config={"displaylogo": False}),
            html.H2("Hoitoon pääsy"),
            compliance_table(config, rollups.compliance(history, tz, q.units, q.start, q.end,
                                                        tuple(config.site.opening_hours))),  # type: ignore[arg-type]
        ]
        if b0 and b1:
            try:
                a = (date.fromisoformat(b0), date.fromisoformat(b1))
                parts += [html.H2(f"Vertailu: A {a[0]:%-d.%-m.%Y}–{a[1]:%-d.%-m.%Y}, B {q.start:%-d.%-m.%Y}–{q.end:%-d.%-m.%Y}"),
                          compare_table(config, rollups.compare(history, tz, q.metrics, q.units, a, (q.start, q.end)))]
            except (TypeError, ValueError):
                pass
        links = [html.A("Lataa CSV", href=f"/history/export.csv?{q.params()}", className="button", id="history-csv"),
                 html.A("Lataa XLSX", href=f"/history/export.xlsx?{q.params()}", className="button", id="history-xlsx"),
                 html.A("Tulostettava näkymä", href=f"/history/print?{q.params()}", className="button secondary",
                        target="_blank", id="history-print")]
        return parts, links, ""

    server: Any = app.server

    def so_far(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Hours still to come today carry the current value forward in the rollups: not
        shown or exported as if they had happened."""
        now = ctx.store.clock(tz).now()
        return [r for r in rows if datetime.fromisoformat(r["period"]) <= now]

    def query_of(request: Request) -> Query:
        qp = request.query_params
        return parse_query(config, qp.get("units", ""), qp.get("metrics", ""), qp.get("start"), qp.get("end"),
                           qp.get("grain", "day"))

    @server.get("/history/export.{kind}")
    def export(kind: str, request: Request) -> Response:
        access.require("history")
        try:
            q = query_of(request)
        except BadQuery as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        if kind not in ("csv", "xlsx"):
            return JSONResponse({"error": f"export: csv or xlsx, not {kind!r}"}, status_code=404)
        rows = so_far(rollups.series(history, tz, q.metrics, q.units, q.start, q.end, q.grain))  # type: ignore[arg-type]
        if kind == "xlsx" and len(rows) > MAX_XLSX_ROWS:
            return JSONResponse({"error": f"XLSX: {len(rows)} riviä, enintään {MAX_XLSX_ROWS}: valitse päivätarkkuus "
                                          "tai lyhyempi aikaväli, tai lataa CSV"}, status_code=400)
        name = f"ohjaustaulu-{q.start.isoformat()}-{q.end.isoformat()}.{kind}"
        from dashboard import audit

        audit.record(history, auth.who(), "export", {"kind": kind, "query": q.params(), "rows": len(rows)})
        if kind == "csv":
            return Response(to_csv(rows, config.site.language), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return Response(to_xlsx(rows, config.site.language),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @server.get("/history/print")
    def printable(request: Request) -> Response:
        access.require("history")
        try:
            q = query_of(request)
        except BadQuery as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        rows = rollups.series(history, tz, q.metrics, q.units, q.start, q.end, "day")
        comp = rollups.compliance(history, tz, q.units, q.start, q.end, tuple(config.site.opening_hours))  # type: ignore[arg-type]
        esc = htmlmod.escape
        body = "".join(
            f"<tr><td>{esc(r['period'][:10])}</td><td>{esc(unit_name(config, r['unit']))}</td>"
            f"<td>{esc(METRICS.get(r['metric'], r['metric']))}</td><td>{esc(r['key'])}</td>"
            f"<td>{number(r['mean'], 'fi') if r['mean'] is not None else '–'}</td>"
            f"<td>{number(r['max'], 'fi') if r['max'] is not None else '–'}</td></tr>" for r in rows)
        comp_rows = "".join(
            f"<tr><td>{esc(unit_name(config, u))}</td>"
            + "".join(f"<td>{esc(compliance_text(v.get(k)))}</td>" for k in ("callback_same_day", "assessment_3wd"))
            + "</tr>" for u, v in comp.items())
        page = f"""<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8">
<title>Ohjaustaulu – raportti {q.start:%-d.%-m.%Y}–{q.end:%-d.%-m.%Y}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;color:#111;background:#fff;margin:24px}}
table{{border-collapse:collapse;width:100%;margin-bottom:24px}}th,td{{border-bottom:1px solid #bbb;padding:4px 8px;text-align:left}}
td:nth-child(n+5){{text-align:right}}@media print{{a{{display:none}}}}</style></head><body>
<h1>{esc(config.site.name)}: {q.start:%-d.%-m.%Y}–{q.end:%-d.%-m.%Y}</h1>
<p>Yksiköt: {esc(', '.join(unit_name(config, u) for u in q.units))}. Luvut ovat aikapainotettuja
päiväkeskiarvoja ja päivän suurimpia arvoja. Tulosta selaimen tulostuskomennolla (Ctrl+P).</p>
<h2>Hoitoon pääsy</h2><table><tr><th>Yksikkö</th><th>Takaisinsoitto samana arkipäivänä</th>
<th>Arvio 3 arkipäivässä</th></tr>{comp_rows}</table>
<h2>Päivittäin</h2><table><tr><th>Päivä</th><th>Yksikkö</th><th>Mittari</th><th>Tarkenne</th><th>Keskiarvo</th>
<th>Suurin</th></tr>{body}</table></body></html>"""
        return HTMLResponse(page)
