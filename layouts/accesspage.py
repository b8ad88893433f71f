"""/history/access: access to care (hoitoon pääsy) as the law and THL measure it, case by case
(dashboard/domain/carecases.py, dashboard/domain/accessfigures.py). For managers: the share of cases within
the limit of the rule version that judged them (its id and law beside every figure), the
median and 90th percentile of days, THL's bins of days from assessment to treatment, the open
cases already past their limit, urgent cases apart, the weekly trend with its forecast and
band, and the reference figures imported from Sotkanet. Every table downloads as CSV (one
table) or XLSX (all of them), and prints.

Nothing of it reaches a public display; the page and its downloads ask for the `history`
permission where the figures are made. The page, its downloads and its print view speak the
person's language (dashboard/translate.py): words through `_`, numbers and dates as the
language writes them.
"""

from __future__ import annotations

import html as htmlmod
import json
import re
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from dashboard.config import AccessRule, Config
from dashboard.domain import accessfigures
from dashboard.domain.accessfigures import ALL, Group, View
from dashboard.domain.carecases import AGE_GROUP_TEXT, Limit, bin_edges_text
from dashboard.export import Cell, day_text, range_text, table_csv, table_xlsx
from dashboard.i18n import clock_time, number
from dashboard.translate import N_, _, lang, speaking
from dashboard.web import access, auth
from layouts.history import (
    COLOURS,
    FORMATS,
    HistoryContext,
    _layout,
    file_response,
    graph_config,
    out_of_scope,
)
from layouts.staffbar import staff_bar
from layouts.widgets import date_range_props, dropdown_labels

PATH = "/history/access"
UNITS, RANGE, PERIOD = "access-units", "access-range", "access-period"
CONTENT, LINKS, ERROR = "access-content", "access-links", "access-error"
MAX_DAYS = 3 * 366
MEASURE = {  # the measured interval, from → to
    "contact_to_assessment": N_("yhteydenotto → hoidon tarpeen arvio"),
    "assessment_to_start": N_("arvio → hoidon alku"),
    "decision_to_start": N_("päätös → palvelun alku"),
    "contact_to_start": N_("yhteydenotto → palvelun alku"),
}
SERVICE = {"perusterveydenhuolto": N_("Perusterveydenhuolto"), "suun_terveydenhuolto": N_("Suun terveydenhuolto"),
           "mielenterveys": N_("Mielenterveyspalvelut (terapiatakuu)"), "sosiaalipalvelut": N_("Sosiaalipalvelut")}
EXPLAIN = N_(
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


def parse_query(config: Config, units: Any, start: Any, end: Any, period: Any,
                allowed: Collection[str] | None = None) -> AccessQuery:
    """The choices, checked; every problem named (in the person's language). `allowed`: the
    units the person may read (access.visible_units; None: every configured unit)."""
    problems = []
    codes = {u.code for u in config.units}
    names = [x for x in (units.split(",") if isinstance(units, str) else units if isinstance(units, list) else []) if x]
    if not names or not all(isinstance(u, str) and u in codes for u in names):
        problems.append(_("Yksiköt: valitse vähintään yksi tunnettu yksikkö"))
    elif allowed is not None and (outside := [u for u in names if u not in allowed]):
        problems.append(out_of_scope(config, outside))
    d0 = d1 = date.today()
    try:
        d0, d1 = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
        if d1 < d0:
            problems.append(_("Aikaväli: loppu on ennen alkua"))
        elif (d1 - d0).days > MAX_DAYS:
            problems.append(_("Aikaväli: enintään kolme vuotta kerralla"))
    except ValueError:
        problems.append(_("Aikaväli: anna alku- ja loppupäivä"))
    if period not in ("week", "month"):
        problems.append(_("Jakso: viikko tai kuukausi"))
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


def day_of(moment: date) -> str:
    """A day (of a date or a datetime) as the request's language writes it: 3.11.2026."""
    return day_text(date(moment.year, moment.month, moment.day), lang())


def cell_text(c: Cell) -> str:
    """A table's cell as the page, its print view and its tables write it."""
    if c is None:
        return "–"
    if isinstance(c, date):
        return day_of(c)
    if isinstance(c, float | int):
        return number(c, lang())
    return str(c)


def pct(share: float | None) -> str:
    return "–" if share is None else f"{number(round(100 * share, 1), lang())} %"


def days_text(value: float | None) -> str:
    return "–" if value is None else number(round(value, 1), lang())


def unit_name(config: Config, code: str | None) -> str:
    return next((u.name_in(lang()) for u in config.units if u.code == code), code or _("kaikki"))


def service_name(code: str | None) -> str:
    return _(SERVICE[code]) if code in SERVICE else code or "–"


def age_name(code: str | None) -> str | None:
    return _(AGE_GROUP_TEXT[code]) if code in AGE_GROUP_TEXT else code


def measure_name(code: str | None) -> str | None:
    return _(MEASURE[code]) if code in MEASURE else code


def period_text(day: date | None, period: str) -> str:
    if day is None:
        return "–"
    if period == "week":
        year, week, _weekday = day.isocalendar()
        return _("vk {week}/{year} ({day}.{month}.)", week=week, year=year, day=day.day, month=day.month)
    return f"{day.month}/{day.year}"


def _order(g: Group) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in (g.period, g.unit, g.service, g.age_group, g.measure, g.rule_id))


# ---------------------------------------------------------------- tables (cells for the page and the downloads)


def summary_table(config: Config, v: View, with_period: bool = False, period: str = "week") -> tuple[list[str], list[tuple[Cell, ...]]]:
    figures = v.by_period if with_period else v.summary
    head = ([_("Jakso")] if with_period else []) + [
        _("Yksikkö"), _("Palvelu"), _("Ikäryhmä"), _("Mitattava väli"), _("Sääntö"), _("Laki"), _("Alkaneet"),
        _("Määräajassa"), _("Määräajassa %"), _("Mediaani pv"), _("90 % pv")]
    rows = []
    for g in sorted(figures, key=_order):
        f = figures[g]
        rule = rules_by_id(config).get(g.rule_id or "")
        rows.append(((period_text(g.period, period),) if with_period else ()) + (
            unit_name(config, g.unit), service_name(g.service), age_name(g.age_group),
            measure_name(g.measure), f"{g.rule_id} ({Limit.parse(rule.limit).text()})" if rule else g.rule_id,
            rule.law if rule else "", f.started, f.within,
            None if f.share is None else round(100 * f.share, 1),
            None if f.median is None else round(f.median, 1), None if f.p90 is None else round(f.p90, 1)))
    return head, rows


def bins_table(config: Config, v: View) -> tuple[list[str], list[tuple[Cell, ...]]]:
    edges = tuple(config.access.bins)
    names = bin_edges_text(edges)
    names[-1] = _("yli {days}", days=edges[-1])  # "yli 90": the only word of the bins' names
    head = [_("Yksikkö"), _("Palvelu"), *[_("{days} pv", days=b) for b in names], _("Yhteensä")]
    rows = [(unit_name(config, g.unit), service_name(g.service), *counts, sum(counts))
            for g, counts in sorted(v.bins.items(), key=lambda x: _order(x[0]))]
    return head, rows


def open_table(config: Config, v: View, today: date) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = [_("Yksikkö"), _("Palvelu"), _("Ikäryhmä"), _("Mitattava väli"), _("Sääntö"), _("Yli määräajan nyt"),
            _("Vanhin määräpäivä"), _("Päiviä yli (vanhin)")]
    rows = [(unit_name(config, g.unit), service_name(g.service), age_name(g.age_group),
             measure_name(g.measure), g.rule_id, o.count, o.oldest_deadline,
             (today - o.oldest_deadline).days)
            for g, o in sorted(v.open_past.items(), key=lambda x: _order(x[0]))]
    return head, rows


def urgent_table(config: Config, v: View) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = [_("Yksikkö"), _("Palvelu"), _("Mitattava väli"), _("Kiireellisiä alkaneita"), _("Mediaani pv")]
    rows = [(unit_name(config, g.unit), service_name(g.service), measure_name(g.measure),
             f.started, None if f.median is None else round(f.median, 1))
            for g, f in sorted(v.urgent.items(), key=lambda x: _order(x[0]))]
    return head, rows


def weeks_table(v: View) -> tuple[list[str], list[tuple[Cell, ...]]]:
    opened = dict(v.open_weeks)
    head = [_("Viikko alkaen"), _("Alkaneet"), _("Määräajassa"), _("Määräajassa %"), _("Yli määräajan viikon lopussa")]
    rows = [(week, started, within, round(100 * within / started, 1) if started else None, opened.get(week))
            for week, started, within in v.weeks]
    return head, rows


def reference_table(refs: list[Any]) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = [_("Indikaattori"), _("Alue"), _("Vuosi tai kuukausi"), _("Arvo"), _("Lähde (tiedosto)"), _("Tuotu")]
    rows = [(r.indicator, r.region, r.period, r.value, f"THL Sotkanet: {r.source_file}", r.imported_at.date())
            for r in refs]
    return head, rows


def forecast_table(fc: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[Cell, ...]]]:
    head = [_("Sarja"), _("Viikko alkaen"), _("Ennuste"), _("Väli alaraja"), _("Väli yläraja"), _("Menetelmä")]
    rows: list[tuple[Cell, ...]] = []
    for series, body in sorted(fc.items()):
        if body.get("too_little"):
            continue
        scale = 100 if series == "share" else 1
        for week, p, lo, hi in zip(body["weeks"], body["points"], body["low"], body["high"], strict=False):
            rows.append((_("määräajassa %") if series == "share" else _("yli määräajan"), date.fromisoformat(week),
                         round(scale * p, 1), round(scale * lo, 1), round(scale * hi, 1), body["method"]))
    return head, rows


TABLES = ("summary", "periods", "bins", "open", "urgent", "weeks", "forecast", "reference")
SHEETS = {"summary": N_("Määräajassa"), "periods": N_("Jaksoittain"), "bins": N_("Jakauma"),
          "open": N_("Yli määräajan"), "urgent": N_("Kiireelliset"), "weeks": N_("Viikoittain"),
          "forecast": N_("Ennuste"), "reference": N_("Vertailu")}  # the XLSX's sheets: _(SHEETS[name])


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
    under the rule, so a wide table still fits a manager's screen.

    The table travels as data and is drawn by the browser (layouts/assets/tables.js, every
    text set as text), not as a Dash component per cell: Dash's renderer took 15–20 s for the
    weekly table's 4,000 components on a 2-core machine, the whole page about 1 s without."""
    under = under or {}
    below = {above: col for col, above in under.items()}

    def tds(row: tuple[Cell, ...]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i, c in enumerate(row):
            if i in under:
                continue
            if i in below:
                out.append({"text": cell_text(c), "small": cell_text(row[below[i]])})
            else:
                out.append({"text": cell_text(c), "num": isinstance(c, int | float) and not isinstance(c, bool)})
        return out

    def tr_attrs(i: int) -> dict[str, str]:
        given = dict(attrs[i]) if attrs else {}
        if "className" in given:
            given["class"] = given.pop("className")
        return given

    heads = [f"{h} / {head[below[i]].lower()}" if i in below else h for i, h in enumerate(head) if i not in under]
    table = {"id": table_id, "head": heads,
             "rows": [{"attrs": tr_attrs(i), "cells": tds(row)} for i, row in enumerate(rows)]}
    return html.Div(className="table-scroll", **{"data-table": json.dumps(table, ensure_ascii=False)})


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
    day = FORMATS.get(lang(), FORMATS["fi"])["date"]  # d3's form of a day in the request's language
    week = f"%{{x|{day}}}"  # Plotly's placeholder of the week's first day
    if series == "share":
        xs = [w for w, s, _within in m.view.weeks if s]
        ys = [round(100 * wi / s, 1) for _week, s, wi in m.view.weeks if s]
        title = _("Määräajassa alkaneet viikoittain, %")
        seen = _("vk alkaen {week}: {value} %", week=week, value="%{y}")
        ahead = _("ennuste, vk alkaen {week}: {value} %", week=week, value="%{y:.1f}")
    else:
        xs = [w for w, _n in m.view.open_weeks]
        ys = [n for _week, n in m.view.open_weeks]
        title = _("Avoimet yli määräajan viikon lopussa")
        seen = _("vk alkaen {week}: {value} tapausta", week=week, value="%{y}")
        ahead = _("ennuste, vk alkaen {week}: {value} tapausta", week=week, value="%{y:.1f}")
    fig = go.Figure(layout=_layout(320))
    fig.add_trace(go.Scatter(x=xs, y=ys, name=_("toteutunut"), mode="lines+markers", line={"color": COLOURS[0]},
                             hovertemplate=seen + "<extra></extra>"))
    body = m.forecasts.get("share" if series == "share" else "open_past")
    if body and not body.get("too_little"):
        scale = 100 if series == "share" else 1
        weeks = [date.fromisoformat(w) for w in body["weeks"]]
        hi = [scale * x for x in body["high"]]
        lo = [scale * x for x in body["low"]]
        fig.add_trace(go.Scatter(x=weeks + weeks[::-1], y=hi + lo[::-1], fill="toself", name=_("ennusteen {level} %:n väli", level=round(100 * body["level"])),
                                 fillcolor="rgba(201,167,255,0.25)", line={"width": 0}, mode="lines", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=weeks, y=[scale * p for p in body["points"]], name=_("ennuste"), mode="lines",
                                 line={"color": COLOURS[1], "dash": "dash"}, hovertemplate=ahead + "<extra></extra>"))
    fig.update_layout(title={"text": title, "x": 0.01, "font": {"size": 18}},
                      yaxis={"range": [0, 100]} if series == "share" else {"rangemode": "tozero"},
                      xaxis={"tickformat": day})
    return fig


def method_text(method: str) -> str:
    """The forecast's method in the request's language (dashboard/domain/forecast.py says it in English)."""
    out = method.replace("simple exponential smoothing", _("eksponentiaalinen tasoitus (ei trendiä)"))
    out = out.replace("Holt's damped trend", _("Holtin vaimennettu trendi"))
    return re.sub(r"band: (\d+) % of back-test errors at each horizon \(forecasts from (\d+) earlier weeks\)",
                  lambda band: _("väli: {level} % takautuvien kokeilujen virheistä kullakin etäisyydellä "
                                 "({weeks} aiemmasta viikosta)", level=band.group(1), weeks=band.group(2)), out)


def forecast_note(m: Made) -> str:
    if m.forecast_scope is None:
        return _("Ennuste lasketaan yksikölle tai kaikille yksiköille yhdessä: valitse yksi yksikkö tai kaikki.")
    body = m.forecasts.get("share")
    if not body:
        return _("Ennustetta ei ole vielä laskettu (se lasketaan öisin ja pian käynnistyksen jälkeen).")
    if body.get("too_little"):
        return _("Ennustetta ei näytetä: historiaa on liian vähän (alle 8 viikkoa, joilla on tapauksia).")
    # the band is the back-tests' errors at its level: about that share of their weeks fell inside it
    return _("Ennuste (katkoviiva) seuraaville 8 viikolle ja sen {level} %:n väli: takautuvissa kokeiluissa tällä "
             "sarjalla {level} % viikoista osui väliin. Laskettu {fitted} viikkoihin {until} asti; menetelmä: {method}.",
             level=round(100 * body["level"]), fitted=day_of(body["fitted_at"]),
             until=day_of(date.fromisoformat(body["fitted_to"])), method=method_text(body["method"]))


def content(ctx: HistoryContext, q: AccessQuery, today: date) -> list[Any]:
    config = ctx.config
    m = make(ctx, q, today)
    t = tables(config, m, q.period)
    if not config.access.rules:
        return [html.P(_("Hoitoon pääsyn sääntöjä ([[access.rules]]) ei ole määritelty."), className="msg")]

    def csv_link(name: str) -> html.A:
        return html.A("CSV", href=f"{PATH}/export.csv?{q.params()}&table={name}", className="csv-link",
                      id=f"access-csv-{name}")

    return [
        html.P(_(EXPLAIN), className="rowcount", id="access-explain"),
        html.H2([_("Määräajassa {period}", period=range_text(q.start, min(q.end, today), lang())), " ",
                 csv_link("summary")]),
        html_table(*t["summary"], "access-summary", summary_attrs(m), under={1: 0, 5: 4}),
        html.H2([_("Yli määräajan avoinna nyt"), " ", csv_link("open")]),
        html_table(*t["open"], "access-open", under={1: 0}) if t["open"][1] else html.P(
            _("Ei avoimia tapauksia yli määräajan."), className="msg"),
        html.H2([_("Jakauma: päivät arviosta hoidon tai palvelun alkuun"), " ", csv_link("bins")]),
        html_table(*t["bins"], "access-bins", under={1: 0}),
        html.H2([_("Kehitys ja ennuste"), " ", csv_link("weeks")]),
        html.P(forecast_note(m), className="rowcount", id="access-forecast-note"),
        dcc.Graph(figure=trend_figure(m, "share"), id="access-trend-share", config=graph_config()),
        dcc.Graph(figure=trend_figure(m, "open"), id="access-trend-open", config=graph_config()),
        html.H2([_("Kiireelliset (erikseen)"), " ", csv_link("urgent")]),
        html_table(*t["urgent"], "access-urgent", under={1: 0}),
        html.H2([_("Vertailu: THL Sotkanet"), " ", csv_link("reference")]),
        html_table(*t["reference"], "access-reference") if t["reference"][1] else html.P(
            _("Vertailulukuja ei ole tuotu (ohjaustaulu reference import TIEDOSTO)."), className="msg"),
        html.Details([html.Summary(_("Jaksoittain (viikot)") if q.period == "week" else _("Jaksoittain (kuukaudet)")),
                      html.P(csv_link("periods")), html_table(*t["periods"], "access-periods", under={2: 1, 6: 5})]),
    ]


def layout(ctx: HistoryContext, **_query: Any) -> html.Div:
    access.require("history")
    today = ctx.store.clock(ctx.config.tz).now().date()
    mine = access.visible_units(ctx.config)
    units = [{"label": unit_name(ctx.config, u), "value": u} for u in mine]
    p = auth.current.get()
    return html.Div([
        staff_bar(p, "/history/access"),
        html.Header([html.H1(_("Hoitoon pääsy"))], className="tablet-head"),
        html.Div([
            html.Label([html.Span(_("Yksiköt")), dcc.Dropdown(units, mine, multi=True,
                                                              id=UNITS, labels=dropdown_labels(lang()))],
                       className="field"),
            html.Label([html.Span(_("Aikaväli")), dcc.DatePickerRange(id=RANGE, start_date=today - timedelta(weeks=26),
                                                                      end_date=today, **date_range_props(lang()))],
                       className="field"),
            html.Fieldset([html.Legend(_("Jakso")), dcc.RadioItems([{"label": _("viikko"), "value": "week"},
                                                               {"label": _("kuukausi"), "value": "month"}],
                                                              "month", id=PERIOD, inline=True)], className="field"),
        ], className="history-controls"),
        html.Div(id=LINKS, className="history-links"),
        html.Div(id=ERROR, role="alert"),
        dcc.Loading(html.Div(id=CONTENT)),
    ], className="history")


def download(ctx: HistoryContext, q: AccessQuery, kind: str, table: str, today: date, language: str) -> bytes:
    """A table (CSV) or all of them (XLSX) in `language`: its words, numbers and dates."""
    with speaking(language):
        t = tables(ctx.config, make(ctx, q, today), q.period)
        if kind == "csv":
            return table_csv(*t[table], lang())
        return table_xlsx([(_(SHEETS[name]), *t[name]) for name in TABLES], lang())


def printed(ctx: HistoryContext, q: AccessQuery, at: datetime) -> str:
    esc = htmlmod.escape
    m = make(ctx, q, at.date())
    t = tables(ctx.config, m, q.period)

    def table(name: str) -> str:
        head, rows = t[name]
        return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{esc(cell_text(c))}</td>" for c in r) + "</tr>" for r in rows)
                + "</table>")

    def part(heading: str, name: str, note: str | None = None) -> str:
        return f"<h2>{esc(heading)}</h2>" + (f"<p>{esc(note)}</p>" if note is not None else "") + table(name)

    period = range_text(q.start, min(q.end, at.date()), lang())
    units = ", ".join(unit_name(ctx.config, u) for u in q.units)
    title = esc(_("Hoitoon pääsy {period}", period=period))
    heading = esc(_("{site}: hoitoon pääsy {period}", site=ctx.config.site.name, period=period))
    said = " ".join([_("Yksiköt: {units}.", units=units), _(EXPLAIN),
                     _("Tulostettu {day} {time}.", day=day_of(at), time=clock_time(at, lang()))])
    parts = "\n".join([part(_("Määräajassa"), "summary") + part(_("Yli määräajan avoinna nyt"), "open"),
                       part(_("Jakauma: päivät arviosta alkuun"), "bins") + part(_("Kiireelliset"), "urgent"),
                       part(_("Viikoittain"), "weeks") + part(_("Ennuste"), "forecast", forecast_note(m)),
                       part(_("Vertailu: THL Sotkanet"), "reference")])
    return f"""<!DOCTYPE html><html lang="{lang()}"><head><meta charset="utf-8">
<title>{title}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;color:#111;background:#fff;margin:24px}}
table{{border-collapse:collapse;width:100%;margin-bottom:24px}}th,td{{border-bottom:1px solid #bbb;padding:4px 8px;text-align:left}}
</style></head><body><h1>{heading}</h1>
<p>{esc(said)}</p>
{parts}</body></html>"""


def register(app: dash.Dash, ctx: HistoryContext) -> None:
    config = ctx.config
    dash.register_page("access", path=PATH, layout=lambda **q: layout(ctx, **q),
                       title=lambda **kw: _("Ohjaustaulu – hoitoon pääsy"))

    def now() -> datetime:
        return ctx.store.clock(config.tz).now()

    @app.callback(Output(CONTENT, "children"), Output(LINKS, "children"), Output(ERROR, "children"),
                  Input(UNITS, "value"), Input(RANGE, "start_date"), Input(RANGE, "end_date"), Input(PERIOD, "value"))
    def show(units: list[str], start: str, end: str, period: str) -> Any:
        access.require("history")
        try:
            q = parse_query(config, units, start, end, period, allowed=access.visible_units(config))
        except BadQuery as err:
            return dash.no_update, dash.no_update, html.P(str(err), className="msg msg--error")
        links = [html.A(_("Lataa XLSX (kaikki taulukot)"), href=f"{PATH}/export.xlsx?{q.params()}", className="button",
                        id="access-xlsx"),
                 html.A(_("Tulostettava näkymä"), href=f"{PATH}/print?{q.params()}", className="button secondary",
                        target="_blank", id="access-print")]
        return content(ctx, q, now().date()), links, ""

    server: Any = app.server

    def query_of(request: Request) -> AccessQuery:
        qp = request.query_params
        return parse_query(config, qp.get("units", ""), qp.get("start"), qp.get("end"), qp.get("period", "month"),
                           allowed=access.visible_units(config))

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
            return JSONResponse({"error": _("Taulukko: jokin näistä: {tables}", tables=", ".join(TABLES))},
                                status_code=400)
        data = download(ctx, q, kind, table, now().date(), lang())
        from dashboard.storage import audit

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

