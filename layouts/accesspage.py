"""/history/access: access to care (hoitoon pääsy) as the law and THL measure it, case by case
(dashboard/carecases.py, dashboard/accessfigures.py). For managers: the share of cases within
the limit of the rule version that judged them (its id and law beside every figure), the
median and 90th percentile of days, THL's bins of days from assessment to treatment, the open
cases already past their limit, urgent cases apart, the weekly trend with its forecast and
band, and the reference figures imported from Sotkanet. Every table downloads as CSV (one
table) or XLSX (all of them), and prints.

Nothing of it reaches a public display; the page and its downloads ask for the `history`
permission where the figures are made.
"""

from __future__ import annotations

import html as htmlmod
import re
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from dashboard import access, accessfigures, auth
from dashboard.accessfigures import ALL, Group, View
from dashboard.carecases import AGE_GROUP_TEXT, Limit, bin_edges_text
from dashboard.config import AccessRule, Config
from dashboard.export import Cell, range_text, table_csv, table_xlsx
from dashboard.i18n import number
from layouts.history import (
    COLOURS,
    DROPDOWN_LABELS,
    GRAPH_CONFIG,
    HistoryContext,
    _layout,
    file_response,
)
from layouts.staffbar import staff_bar
from layouts.widgets import date_range_props

PATH = "/history/access"
UNITS, RANGE, PERIOD = "access-units", "access-range", "access-period"
CONTENT, LINKS, ERROR = "access-content", "access-links", "access-error"
MAX_DAYS = 3 * 366
MEASURE_FI = {  # the measured interval, from → to
    "contact_to_assessment": "yhteydenotto → hoidon tarpeen arvio",
    "assessment_to_start": "arvio → hoidon alku",
    "decision_to_start": "päätös → palvelun alku",
    "contact_to_start": "yhteydenotto → palvelun alku",
}
SERVICE_FI = {"perusterveydenhuolto": "Perusterveydenhuolto", "suun_terveydenhuolto": "Suun terveydenhuolto",
              "mielenterveys": "Mielenterveyspalvelut (terapiatakuu)", "sosiaalipalvelut": "Sosiaalipalvelut"}
EXPLAIN = (
    "Tapaus on yhden ihmisen polku yhdessä palvelussa. Alkaneet: tapaukset, joiden mitattava väli päättyi "
    "jaksolla (esim. hoito alkoi). Määräajassa: niistä osuus, jotka päättyivät viimeistään sen säännön "
    "määräpäivänä, joka oli voimassa välin alkaessa palvelulle ja ikäryhmälle (sääntö ja laki rivillä). "
    "Mediaani ja 90 %: kalenteripäivät välin alusta loppuun. Jakauma: alkaneet kalenteripäivinä arviosta "
    "hoidon alkuun (THL:n luokat). Yli määräajan nyt: avoimet tapaukset, joiden määräpäivä on ennen tätä "
    "päivää. Kiireelliset lasketaan erikseen, eikä niitä arvioida kiireettömän hoidon määräajoin. "
    "Arkipäivät ovat maanantaista perjantaihin ilman arkipyhiä.")


@dataclass
class AccessQuery:
    units: list[str]
    start: date
    end: date
    period: str  # "week" or "month"

    def params(self) -> str:
        return urllib.parse.urlencode({"units": ",".join(self.units), "start": self.start.isoformat(),
                                       "end": self.end.isoformat(), "period": self.period})


class BadQuery(ValueError):
    pass


def parse_query(config: Config, units: Any, start: Any, end: Any, period: Any) -> AccessQuery:
    """The choices, checked; every problem named in Finnish (the managers' language)."""
    problems = []
    codes = {u.code for u in config.units}
    names = [x for x in (units.split(",") if isinstance(units, str) else units if isinstance(units, list) else []) if x]
    if not names or not all(isinstance(u, str) and u in codes for u in names):
        problems.append("Yksiköt: valitse vähintään yksi tunnettu yksikkö")
    d0 = d1 = date.today()
    try:
        d0, d1 = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
        if d1 < d0:
            problems.append("Aikaväli: loppu on ennen alkua")
        elif (d1 - d0).days > MAX_DAYS:
            problems.append("Aikaväli: enintään kolme vuotta kerralla")
    except ValueError:
        problems.append("Aikaväli: anna alku- ja loppupäivä")
    if period not in ("week", "month"):
        problems.append("Jakso: viikko tai kuukausi")
    if problems:
        raise BadQuery("; ".join(problems))
    return AccessQuery([str(u) for u in names], d0, d1, str(period))


# ---------------------------------------------------------------- words and numbers


def rules_by_id(config: Config) -> dict[str, AccessRule]:
    return {r.id: r for r in config.access.rules}


def rule_text(config: Config, rule_id: str | None) -> str:
    rule = rules_by_id(config).get(rule_id or "")
    if rule is None:
        return rule_id or "–"
    return f"{rule.id}: {Limit.parse(rule.limit).text()} ({rule.law})"


def fi_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.day}.{d.month}.{d.year}"


def pct(share: float | None) -> str:
    return "–" if share is None else f"{number(round(100 * share, 1), 'fi')} %"


def days_text(value: float | None) -> str:
    return "–" if value is None else number(round(value, 1), "fi")


def unit_name(config: Config, code: str | None) -> str:
    return next((u.name for u in config.units if u.code == code), code or "kaikki")


def service_name(code: str | None) -> str:
    return SERVICE_FI.get(code or "", code or "–")


def period_text(day: date | None, period: str) -> str:
    if day is None:
        return "–"
    if period == "week":
        return f"vk {day.isocalendar()[1]}/{day.isocalendar()[0]} ({day.day}.{day.month}.)"
    return f"{day.month}/{day.year}"


def _order(g: Group) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in (g.period, g.unit, g.service, g.age_group, g.measure, g.rule_id))


# ---------------------------------------------------------------- tables (cells for the page and the downloads)


def summary_table(config: Config, v: View, with_period: bool = False, period: str = "week") -> tuple[list[str], list[tuple[Cell, ...]]]:
    figures = v.by_period if with_period else v.summary
    head = (["Jakso"] if with_period else []) + ["Yksikkö", "Palvelu", "Ikäryhmä", "Mitattava väli", "Sääntö", "Laki",
                                                  "Alkaneet", "Määräajassa", "Määräajassa %", "Mediaani pv", "90 % pv"]
    rows = []
    for g in sorted(figures, key=_order):
        f = figures[g]
        rule = rules_by_id(config).get(g.rule_id or "")
        rows.append(((period_text(g.period, period),) if with_period else ()) + (
            unit_name(config, g.unit), service_name(g.service), AGE_GROUP_TEXT.get(g.age_group or "", g.age_group),
            MEASURE_FI.get(g.measure or "", g.measure), f"{g.rule_id} ({Limit.parse(rule.limit).text()})" if rule else g.rule_id,
            rule.law if rule else "", f.started, f.within,
            None if f.share is None else round(100 * f.share, 1),
            None if f.median is None else round(f.median, 1), None if f.p90 is None else round(f.p90, 1)))
    return head, rows


def bins_table(config: Config, v: View) -> tuple[list[str], list[tuple[Cell, ...]]]:
    edges = tuple(config.access.bins)
    head = ["Yksikkö", "Palvelu", *[f"{b} pv" for b in bin_edges_text(edges)], "Yhteensä"]
    rows = [(unit_name(config, g.unit), service_name(g.service), *counts, sum(counts))
            for g, counts in sorted(v.bins.items(), key=lambda x: _order(x[0]))]
    return head, rows


def open_table(config: Config, v: View, today: date) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = ["Yksikkö", "Palvelu", "Ikäryhmä", "Mitattava väli", "Sääntö", "Yli määräajan nyt",
            "Vanhin määräpäivä", "Päiviä yli (vanhin)"]
    rows = [(unit_name(config, g.unit), service_name(g.service), AGE_GROUP_TEXT.get(g.age_group or "", g.age_group),
             MEASURE_FI.get(g.measure or "", g.measure), g.rule_id, o.count, o.oldest_deadline,
             (today - o.oldest_deadline).days)
            for g, o in sorted(v.open_past.items(), key=lambda x: _order(x[0]))]
    return head, rows


def urgent_table(config: Config, v: View) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = ["Yksikkö", "Palvelu", "Mitattava väli", "Kiireellisiä alkaneita", "Mediaani pv"]
    rows = [(unit_name(config, g.unit), service_name(g.service), MEASURE_FI.get(g.measure or "", g.measure),
             f.started, None if f.median is None else round(f.median, 1))
            for g, f in sorted(v.urgent.items(), key=lambda x: _order(x[0]))]
    return head, rows


def weeks_table(v: View) -> tuple[list[str], list[tuple[Cell, ...]]]:
    opened = dict(v.open_weeks)
    head = ["Viikko alkaen", "Alkaneet", "Määräajassa", "Määräajassa %", "Yli määräajan viikon lopussa"]
    rows = [(week, started, within, round(100 * within / started, 1) if started else None, opened.get(week))
            for week, started, within in v.weeks]
    return head, rows


def reference_table(refs: list[Any]) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = ["Indikaattori", "Alue", "Vuosi tai kuukausi", "Arvo", "Lähde (tiedosto)", "Tuotu"]
    rows = [(r.indicator, r.region, r.period, r.value, f"THL Sotkanet: {r.source_file}", r.imported_at.date())
            for r in refs]
    return head, rows


def forecast_table(fc: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = ["Sarja", "Viikko alkaen", "Ennuste", "Väli alaraja", "Väli yläraja", "Menetelmä"]
    rows: list[tuple[Cell, ...]] = []
    for series, body in sorted(fc.items()):
        if body.get("too_little"):
            continue
        scale = 100 if series == "share" else 1
        for week, p, lo, hi in zip(body["weeks"], body["points"], body["low"], body["high"], strict=False):
            rows.append(("määräajassa %" if series == "share" else "yli määräajan", date.fromisoformat(week),
                         round(scale * p, 1), round(scale * lo, 1), round(scale * hi, 1), body["method"]))
    return head, rows


TABLES = ("summary", "periods", "bins", "open", "urgent", "weeks", "forecast", "reference")
SHEETS = {"summary": "Määräajassa", "periods": "Jaksoittain", "bins": "Jakauma", "open": "Yli määräajan",
          "urgent": "Kiireelliset", "weeks": "Viikoittain", "forecast": "Ennuste", "reference": "Vertailu"}


@dataclass
class Made:
    view: View
    forecasts: dict[str, dict[str, Any]]
    forecast_scope: str | None  # the unit (or ALL) the forecast is of; None: a selection of several
    references: list[Any]
    today: date


def make(ctx: HistoryContext, q: AccessQuery, today: date) -> Made:
    config = ctx.config
    every = len(q.units) == len(config.units)
    v = accessfigures.view(ctx.history, None if every else q.units, q.start, min(q.end, today), q.period, today,
                           config.access.bins)
    scope = ALL if every else q.units[0] if len(q.units) == 1 else None
    fc = accessfigures.forecasts(ctx.history, scope) if scope else {}
    return Made(v, fc, scope, accessfigures.references(ctx.history), today)


def tables(config: Config, m: Made, period: str) -> dict[str, tuple[list[str], list[tuple[Cell, ...]]]]:
    return {"summary": summary_table(config, m.view), "periods": summary_table(config, m.view, True, period),
            "bins": bins_table(config, m.view), "open": open_table(config, m.view, m.today),
            "urgent": urgent_table(config, m.view), "weeks": weeks_table(m.view),
            "forecast": forecast_table(m.forecasts), "reference": reference_table(m.references)}


def html_table(head: list[str], rows: list[tuple[Cell, ...]], table_id: str, attrs: list[dict[str, str]] | None = None,
               under: dict[int, int] | None = None) -> html.Div:
    """A table of cells as the page shows them. `under` puts a column in small print under
    another one ({the column: the one it goes under}): the service under the unit, the law
    under the rule, so a wide table still fits a manager's screen."""
    under = under or {}

    def cell(c: Cell) -> str:
        if c is None:
            return "–"
        if isinstance(c, date):
            return f"{c.day}.{c.month}.{c.year}"
        if isinstance(c, float | int):
            return number(c, "fi")
        return str(c)

    below = {above: col for col, above in under.items()}

    def tds(row: tuple[Cell, ...]) -> list[Any]:
        out: list[Any] = []
        for i, c in enumerate(row):
            if i in under:
                continue
            if i in below:
                out.append(html.Td([cell(c), html.Br(), html.Small(cell(row[below[i]]), className="law")]))
            else:
                out.append(html.Td(cell(c), className="num" if isinstance(c, int | float) else None))
        return out

    heads = [f"{h} / {head[below[i]].lower()}" if i in below else h for i, h in enumerate(head) if i not in under]
    body = [html.Tr(tds(row), **(attrs[i] if attrs else {})) for i, row in enumerate(rows)]
    return html.Div(html.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(body)],
                               className="history-table access-table", id=table_id), className="table-scroll")


def summary_attrs(m: Made) -> list[dict[str, str]]:
    """Each summary row's facts as attributes, for machines and tests (as the display's tiles)."""
    out = []
    for g in sorted(m.view.summary, key=_order):
        f = m.view.summary[g]
        out.append({"data-unit": g.unit or "", "data-service": g.service or "", "data-age": g.age_group or "",
                    "data-measure": g.measure or "", "data-rule": g.rule_id or "", "data-started": str(f.started),
                    "data-within": str(f.within), "data-share": "" if f.share is None else f"{f.share:.6f}",
                    "data-median": "" if f.median is None else f"{f.median:g}",
                    "data-p90": "" if f.p90 is None else f"{f.p90:g}", "className": "access-row"})
    return out


# ---------------------------------------------------------------- the trend with its forecast


def trend_figure(m: Made, series: str) -> go.Figure:
    """A weekly series and, where there is one, its forecast with the band, marked as such."""
    if series == "share":
        xs = [w for w, s, _ in m.view.weeks if s]
        ys = [round(100 * wi / s, 1) for _, s, wi in m.view.weeks if s]
        title, unit = "Määräajassa alkaneet viikoittain, %", "%"
    else:
        xs = [w for w, _ in m.view.open_weeks]
        ys = [n for _, n in m.view.open_weeks]
        title, unit = "Avoimet yli määräajan viikon lopussa", "tapausta"
    fig = go.Figure(layout=_layout(320))
    fig.add_trace(go.Scatter(x=xs, y=ys, name="toteutunut", mode="lines+markers", line={"color": COLOURS[0]},
                             hovertemplate="vk alkaen %{x|%-d.%-m.%Y}: %{y}" + f" {unit}<extra></extra>"))
    body = m.forecasts.get("share" if series == "share" else "open_past")
    if body and not body.get("too_little"):
        scale = 100 if series == "share" else 1
        weeks = [date.fromisoformat(w) for w in body["weeks"]]
        hi = [scale * x for x in body["high"]]
        lo = [scale * x for x in body["low"]]
        fig.add_trace(go.Scatter(x=weeks + weeks[::-1], y=hi + lo[::-1], fill="toself", name=f"ennusteen {round(100 * body['level'])} %:n väli",
                                 fillcolor="rgba(201,167,255,0.25)", line={"width": 0}, mode="lines", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=weeks, y=[scale * p for p in body["points"]], name="ennuste", mode="lines",
                                 line={"color": COLOURS[1], "dash": "dash"},
                                 hovertemplate="ennuste, vk alkaen %{x|%-d.%-m.%Y}: %{y:.1f}" + f" {unit}<extra></extra>"))
    fig.update_layout(title={"text": title, "x": 0.01, "font": {"size": 18}},
                      yaxis={"range": [0, 100]} if series == "share" else {"rangemode": "tozero"},
                      xaxis={"tickformat": "%-d.%-m.%Y"})
    return fig


def method_fi(method: str) -> str:
    """The forecast's method in Finnish (dashboard/forecast.py says it in English)."""
    out = method.replace("simple exponential smoothing", "eksponentiaalinen tasoitus (ei trendiä)")
    out = out.replace("Holt's damped trend", "Holtin vaimennettu trendi")
    out = re.sub(r"band: (\d+) % of back-test errors at each horizon \(forecasts from (\d+) earlier weeks\)",
                 r"väli: \1 % takautuvien kokeilujen virheistä kullakin etäisyydellä (\2 aiemmasta viikosta)", out)
    return out


def forecast_note(m: Made) -> str:
    if m.forecast_scope is None:
        return "Ennuste lasketaan yksikölle tai kaikille yksiköille yhdessä: valitse yksi yksikkö tai kaikki."
    body = m.forecasts.get("share")
    if not body:
        return "Ennustetta ei ole vielä laskettu (se lasketaan öisin ja pian käynnistyksen jälkeen)."
    if body.get("too_little"):
        return "Ennustetta ei näytetä: historiaa on liian vähän (alle 8 viikkoa, joilla on tapauksia)."
    fitted = body["fitted_at"]
    return (f"Ennuste (katkoviiva) seuraaville 8 viikolle ja sen {round(100 * body['level'])} %:n väli: takautuvissa "
            f"kokeiluissa tällä sarjalla 8 viikkoa 10:stä osui väliin. Laskettu {fitted.day}.{fitted.month}.{fitted.year} "
            f"viikkoihin {fi_date(body['fitted_to'])} asti; menetelmä: {method_fi(body['method'])}.")


def content(ctx: HistoryContext, q: AccessQuery, today: date) -> list[Any]:
    config = ctx.config
    m = make(ctx, q, today)
    t = tables(config, m, q.period)
    if not config.access.rules:
        return [html.P("Hoitoon pääsyn sääntöjä ([[access.rules]]) ei ole määritelty.", className="msg")]

    def csv_link(name: str) -> html.A:
        return html.A("CSV", href=f"{PATH}/export.csv?{q.params()}&table={name}", className="csv-link",
                      id=f"access-csv-{name}")

    return [
        html.P(EXPLAIN, className="rowcount", id="access-explain"),
        html.H2(["Määräajassa ", range_text(q.start, min(q.end, today)), " ", csv_link("summary")]),
        html_table(*t["summary"], "access-summary", summary_attrs(m), under={1: 0, 5: 4}),
        html.H2(["Yli määräajan avoinna nyt ", csv_link("open")]),
        html_table(*t["open"], "access-open", under={1: 0}) if t["open"][1] else html.P("Ei avoimia tapauksia yli määräajan.", className="msg"),
        html.H2(["Jakauma: päivät arviosta hoidon tai palvelun alkuun ", csv_link("bins")]),
        html_table(*t["bins"], "access-bins", under={1: 0}),
        html.H2(["Kehitys ja ennuste ", csv_link("weeks")]),
        html.P(forecast_note(m), className="rowcount", id="access-forecast-note"),
        dcc.Graph(figure=trend_figure(m, "share"), id="access-trend-share", config=GRAPH_CONFIG),
        dcc.Graph(figure=trend_figure(m, "open"), id="access-trend-open", config=GRAPH_CONFIG),
        html.H2(["Kiireelliset (erikseen) ", csv_link("urgent")]),
        html_table(*t["urgent"], "access-urgent", under={1: 0}),
        html.H2(["Vertailu: THL Sotkanet ", csv_link("reference")]),
        html_table(*t["reference"], "access-reference") if t["reference"][1] else html.P(
            "Vertailulukuja ei ole tuotu (ohjaustaulu reference import TIEDOSTO).", className="msg"),
        html.Details([html.Summary(f"Jaksoittain ({'viikot' if q.period == 'week' else 'kuukaudet'})"),
                      html.P(csv_link("periods")), html_table(*t["periods"], "access-periods", under={2: 1, 6: 5})]),
    ]


def layout(ctx: HistoryContext, **_query: Any) -> html.Div:
    access.require("history")
    today = ctx.store.clock(ctx.config.tz).now().date()
    units = [{"label": u.name, "value": u.code} for u in ctx.config.units]
    p = auth.current.get()
    return html.Div([
        staff_bar(p, "/history/access"),
        html.Header([html.H1("Hoitoon pääsy")], className="tablet-head"),
        html.Div([
            html.Label([html.Span("Yksiköt"), dcc.Dropdown(units, [u.code for u in ctx.config.units], multi=True,
                                                           id=UNITS, labels=DROPDOWN_LABELS)], className="field"),
            html.Label([html.Span("Aikaväli"), dcc.DatePickerRange(id=RANGE, start_date=today - timedelta(weeks=26),
                                                                   end_date=today, **date_range_props("fi"))],
                       className="field"),
            html.Fieldset([html.Legend("Jakso"), dcc.RadioItems([{"label": "viikko", "value": "week"},
                                                            {"label": "kuukausi", "value": "month"}],
                                                           "month", id=PERIOD, inline=True)], className="field"),
        ], className="history-controls"),
        html.Div(id=LINKS, className="history-links"),
        html.Div(id=ERROR, role="alert"),
        dcc.Loading(html.Div(id=CONTENT)),
    ], className="history")


def download(ctx: HistoryContext, q: AccessQuery, kind: str, table: str, today: date) -> bytes:
    t = tables(ctx.config, make(ctx, q, today), q.period)
    if kind == "csv":
        return table_csv(*t[table], ctx.config.site.language)
    return table_xlsx([(SHEETS[name], *t[name]) for name in TABLES], ctx.config.site.language)


def printed(ctx: HistoryContext, q: AccessQuery, at: datetime) -> str:
    esc = htmlmod.escape
    m = make(ctx, q, at.date())
    t = tables(ctx.config, m, q.period)

    def cell(c: Cell) -> str:
        if c is None:
            return "–"
        if isinstance(c, date):
            return f"{c.day}.{c.month}.{c.year}"
        return esc(number(c, "fi") if isinstance(c, float | int) else str(c))

    def table(name: str) -> str:
        head, rows = t[name]
        return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")

    period = range_text(q.start, min(q.end, at.date()))
    units = ", ".join(unit_name(ctx.config, u) for u in q.units)
    return f"""<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8">
<title>Hoitoon pääsy {esc(period)}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;color:#111;background:#fff;margin:24px}}
table{{border-collapse:collapse;width:100%;margin-bottom:24px}}th,td{{border-bottom:1px solid #bbb;padding:4px 8px;text-align:left}}
</style></head><body><h1>{esc(ctx.config.site.name)}: hoitoon pääsy {esc(period)}</h1>
<p>Yksiköt: {esc(units)}. {esc(EXPLAIN)} Tulostettu {at.day}.{at.month}.{at.year} klo {at:%H.%M}.</p>
<h2>Määräajassa</h2>{table("summary")}<h2>Yli määräajan avoinna nyt</h2>{table("open")}
<h2>Jakauma: päivät arviosta alkuun</h2>{table("bins")}<h2>Kiireelliset</h2>{table("urgent")}
<h2>Viikoittain</h2>{table("weeks")}<h2>Ennuste</h2><p>{esc(forecast_note(m))}</p>{table("forecast")}
<h2>Vertailu: THL Sotkanet</h2>{table("reference")}</body></html>"""


def register(app: dash.Dash, ctx: HistoryContext) -> None:
    config = ctx.config
    dash.register_page("access", path=PATH, layout=lambda **q: layout(ctx, **q), title="Ohjaustaulu – hoitoon pääsy")

    def now() -> datetime:
        return ctx.store.clock(config.tz).now()

    @app.callback(Output(CONTENT, "children"), Output(LINKS, "children"), Output(ERROR, "children"),
                  Input(UNITS, "value"), Input(RANGE, "start_date"), Input(RANGE, "end_date"), Input(PERIOD, "value"))
    def show(units: list[str], start: str, end: str, period: str) -> Any:
        access.require("history")
        try:
            q = parse_query(config, units, start, end, period)
        except BadQuery as err:
            return dash.no_update, dash.no_update, html.P(str(err), className="msg msg--error")
        links = [html.A("Lataa XLSX (kaikki taulukot)", href=f"{PATH}/export.xlsx?{q.params()}", className="button",
                        id="access-xlsx"),
                 html.A("Tulostettava näkymä", href=f"{PATH}/print?{q.params()}", className="button secondary",
                        target="_blank", id="access-print")]
        return content(ctx, q, now().date()), links, ""

    server: Any = app.server

    def query_of(request: Request) -> AccessQuery:
        qp = request.query_params
        return parse_query(config, qp.get("units", ""), qp.get("start"), qp.get("end"), qp.get("period", "month"))

    @server.get(PATH + "/export.{kind}")
    def export(kind: str, request: Request) -> Response:
        access.require("history")
        try:
            q = query_of(request)
        except BadQuery as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        table = request.query_params.get("table", "summary")
        if kind not in ("csv", "xlsx"):
            return JSONResponse({"error": f"export: csv or xlsx, not {kind!r}"}, status_code=404)
        if table not in TABLES:
            return JSONResponse({"error": f"Taulukko: jokin näistä: {', '.join(TABLES)}"}, status_code=400)
        data = download(ctx, q, kind, table, now().date())
        from dashboard import audit

        audit.record(ctx.history, auth.who(), "export", {"kind": kind, "page": "access", "table": table,
                                                         "query": q.params()})
        return file_response(data, kind, f"hoitoonpaasy-{q.start}-{q.end}" + (f"-{table}" if kind == "csv" else ""))

    @server.get(PATH + "/print")
    def printable(request: Request) -> Response:
        access.require("history")
        try:
            q = query_of(request)
        except BadQuery as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return HTMLResponse(printed(ctx, q, now()))

