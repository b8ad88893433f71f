"""/history: the manager's view of what happened. Pick units, metrics (and, if wanted, single
queues, professions or resources) and a date range; see daily or hourly figures, two periods
side by side, arrivals by weekday and hour, how often call-backs were returned the same working day (access to care itself:
layouts/accesspage.py);
export what is shown as CSV or XLSX, or print it.

Every figure comes from the hourly and daily rollups (dashboard/storage/rollups.py), never from the
raw changes, so a two-year view reads thousands of rows, not millions. A day's figure is what
a manager can defend: for a level (people waiting, staff present) its time-weighted mean over
the unit's opening hours that day, shown beside the day's maximum and the value at closing;
for a count (arrivals) the day's total. Each chart says which it is.

The page reads as one page, in the person's language (dashboard/translate.py): charts in its
own colours, dates and numbers on the axes and in the hover texts as the language writes them
(a Plotly locale made from Babel's names, given to the chart with its definition in
`config.locales`, so no script of ours is needed under the CSP; the decimal separator by
`layout.separators`), and every number written with `dashboard.i18n.number`. The comparison's
change is the difference of the two numbers shown beside it.
"""

from __future__ import annotations

import html as htmlmod
import json
import urllib.parse
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import dash
import plotly.graph_objects as go
from babel.dates import get_day_names, get_month_names
from dash import ALL, Input, Output, State, dcc, html
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from dashboard.config import Config
from dashboard.domain import actions as escalation_actions
from dashboard.domain import metrics as metric_defs
from dashboard.domain.metrics import LABEL_FI
from dashboard.export import (
    Cell,
    Names,
    Part,
    compare_headers,
    compare_rows,
    daily_figure,
    is_complete,
    plain_number,
    range_text,
    report_headers,
    report_rows,
    report_words,
    shown,
    shown_change,
    table_csv,
    table_xlsx,
)
from dashboard.i18n import LOCALES, clock_time, number
from dashboard.storage import audit, regionhistory, rollups
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import N_, _, gettext_in, lang
from dashboard.web import access, auth
from dashboard.web.shiftlead import ACTION_STATES, Acknowledger, action_key
from layouts.staffbar import staff_bar
from layouts.widgets import answer_actions, date_range_props, dropdown_labels

ESCALATION = "escalation.level"  # recorded per unit (key ""), like a metric
METRICS = {**{k: v for k, v in LABEL_FI.items() if k != "capacity.total"}, ESCALATION: N_("Valmiustaso")}
KEYED_BY_FI = {"queue": N_("jono"), "profession": N_("ammattiryhmä"), "resource": N_("tila")}
MAX_DAYS = 3 * 366
MAX_KEYS = 100
MAX_XLSX_ROWS = 60_000  # openpyxl writes about 12,000 rows a second here

# component ids
UNITS, METRIC_IDS, KEYS, RANGE, GRAIN, COMPARE = ("history-units", "history-metrics", "history-keys",
                                                  "history-range", "history-grain", "history-compare")
CONTENT, LINKS, ERROR = "history-content", "history-links", "history-error"
# the open escalation actions a manager acknowledges (as the tablet's, dashboard/web/shiftlead.py)
ACTIONS, ACTION_RESULT, ACTIONS_SHOWN, ACTIONS_REFRESH = ("history-actions", "history-action-result",
                                                          "history-actions-shown", "history-actions-refresh")
ACTION_DONE, ACTION_SKIP, ACTION_NOTE = "history-action-done", "history-action-skip", "history-action-note"

# the page's colours (layouts/assets/display.css: --bg, --card, --ink, --muted, --line)
BG, CARD, INK, MUTED, LINE = "#0e1620", "#172331", "#f2f6fa", "#b4c2d0", "#2f4053"
# lines on the dark card: light, told apart by hue, none of them the status colours
COLOURS = ["#7cc4ff", "#c9a7ff", "#4fd1c5", "#ff9ecf", "#e6e9ee", "#a3b8ff", "#9be37d", "#d9b38c"]
# the decimal separator and the one between thousands, as each language writes numbers
SEPARATORS = {"fi": ", ", "sv": ", ", "en": ".,"}
# each language's dates in d3's formats: a day, a time, an hour's tick, a day's hover
FORMATS = {
    "fi": {"date": "%-d.%-m.%Y", "time": "%H.%M.%S", "hour_tick": "%-d.%-m. klo %-H", "day_tick": "%-d.%-m.",
           "at": "klo %H.%M", "clock": "klo"},
    "sv": {"date": "%-d.%-m.%Y", "time": "%H.%M.%S", "hour_tick": "%-d.%-m. kl. %-H", "day_tick": "%-d.%-m.",
           "at": "kl. %H.%M", "clock": "kl."},
    # English: ISO dates, as the English downloads and headings write them (unambiguous both sides of the Atlantic)
    "en": {"date": "%Y-%m-%d", "time": "%H:%M:%S", "hour_tick": "%b %-d, %H:00", "day_tick": "%b %-d",
           "at": "%H:%M", "clock": ""},
}
SERIES_HEIGHT, HEATMAP_HEIGHT = 360, 300


def weekdays() -> list[str]:
    """Monday to Sunday, abbreviated in the request's language ("ma", "mån", "Mon")."""
    names = get_day_names("abbreviated", "format", LOCALES[lang()])
    return [names[i] for i in range(7)]


def plotly_locale() -> dict[str, Any]:
    """A Plotly locale of the request's language: day and month names (from Babel, as the rest
    of the page's words are), date formats, and the chart's own buttons in the language."""
    locale, f = LOCALES[lang()], FORMATS[lang()]
    days = get_day_names("wide", "stand-alone", locale)
    short_days = get_day_names("abbreviated", "format", locale)
    sunday_first = [6, 0, 1, 2, 3, 4, 5]  # Babel counts from Monday, d3 from Sunday
    return {
        "dictionary": {
            "Autoscale": _("Sovita"), "Reset axes": _("Palauta akselit"), "Zoom": _("Rajaa"),
            "Pan": _("Siirrä"), "Zoom in": _("Lähennä"), "Zoom out": _("Loitonna"),
            "Download plot as png": _("Lataa kuva (PNG)"), "Download plot": _("Lataa kuva"),
            "Box Select": _("Valitse alue"), "Lasso Select": _("Valitse vapaasti"),
            "Double-click to zoom back out": _("Palaa kaksoisnapsautuksella"),
            "Show closest data on hover": _("Näytä lähin arvo"),
            "Compare data on hover": _("Vertaa arvoja"),
            "Toggle Spike Lines": _("Apuviivat"), "Produced with Plotly": _("Tehty Plotlylla"),
        },
        "format": {
            "days": [days[i] for i in sunday_first],
            "shortDays": [short_days[i] for i in sunday_first],
            "months": list(get_month_names("wide", "stand-alone", locale).values()),
            "shortMonths": list(get_month_names("abbreviated", "stand-alone", locale).values()),
            "date": f["date"], "time": f["time"], "dateTime": f"%a {f['date']} {f['clock']} {f['time']}".replace("  ", " "),
            "periods": ["AM", "PM"] if lang() == "en" else ["", ""],
            "decimal": SEPARATORS[lang()][0], "thousands": SEPARATORS[lang()][1],
        },
    }


def graph_config() -> dict[str, Any]:
    """A chart's settings in the request's language."""
    return {"displaylogo": False, "locale": lang(), "locales": {lang(): plotly_locale()},
            "modeBarButtonsToRemove": ["select2d", "lasso2d"],
            "toImageButtonOptions": {"filename": _("ohjaustaulu-historia")}}


def date_ticks() -> list[dict[str, Any]]:
    """Dates on a time axis: the step decides the form (d3 formats, names from the locale)."""
    f = FORMATS[lang()]
    return [
        {"dtickrange": [None, 86_400_000], "value": f["hour_tick"]},
        {"dtickrange": [86_400_000, "M1"], "value": f["day_tick"]},
        {"dtickrange": ["M1", "M12"], "value": "%b %Y"},
        {"dtickrange": ["M12", None], "value": "%Y"},
    ]


def metric_name(metric: str) -> str:
    """A metric as the page names it, in the request's language: the centre's own by its
    configured name."""
    if metric in METRICS:
        return _(METRICS[metric])
    m = metric_defs.get(metric)
    return m.name(lang()) if m is not None and not m.builtin else metric


def own_metrics(config: Config) -> list[str]:
    """The centre's own metrics the history has: all but the derived ones, which are computed
    for the walls from their inputs and never recorded (their inputs are here)."""
    return [k for k, m in config.own_metrics().items() if m.derived is None and not m.series]


def derived_names(config: Config) -> list[str]:
    """The derived metrics' names, in the request's language (the page says they are not here)."""
    return [m.name(lang()) for m in config.own_metrics().values() if m.derived is not None]


def metric_ids(config: Config) -> list[str]:
    """Every metric the page offers: the built-in ones, then the centre's own."""
    return [*METRICS, *own_metrics(config)]


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
    keys: list[str] = field(default_factory=list)  # single queues, professions, resources; [] = all
    compare: tuple[date, date] | None = None  # the period to compare with (A; the chosen one is B)

    def params(self) -> str:
        p: dict[str, Any] = {"units": ",".join(self.units), "metrics": ",".join(self.metrics),
                             "start": self.start.isoformat(), "end": self.end.isoformat(), "grain": self.grain}
        if self.keys:
            p["keys"] = self.keys  # one parameter each: a key may hold a comma
        if self.compare:
            p["cstart"], p["cend"] = self.compare[0].isoformat(), self.compare[1].isoformat()
        return urllib.parse.urlencode(p, doseq=True)


class BadQuery(ValueError):
    pass


def _names(value: Any) -> list[Any]:
    return [x for x in (value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []) if x]


def _period(first: Any, last: Any) -> tuple[date, date]:
    d0, d1 = date.fromisoformat(str(first)[:10]), date.fromisoformat(str(last)[:10])
    if d1 < d0:
        raise BadQuery(_("loppu on ennen alkua"))
    if (d1 - d0).days > MAX_DAYS:
        raise BadQuery(_("enintään kolme vuotta kerralla"))
    return d0, d1


def parse_query(config: Config, units: Any, metrics: Any, start: Any, end: Any, grain: Any,
                keys: Any = None, compare: tuple[Any, Any] | None = None,
                allowed: Collection[str] | None = None) -> Query:
    """The choices, checked; every problem named (in the person's language). `allowed`: the
    units the person may read (access.visible_units; None: every configured unit)."""
    problems = []
    codes = {u.code for u in config.units}
    unit_list, metric_list, key_list = _names(units), _names(metrics), _names(keys)
    # a hostile request may send anything: only names are names
    if not all(isinstance(x, str) for x in unit_list + metric_list + key_list):
        unit_list, metric_list = [u for u in unit_list if isinstance(u, str)], [m for m in metric_list if isinstance(m, str)]
        key_list = [k for k in key_list if isinstance(k, str)]
        problems.append(_("Yksiköt, mittarit ja tarkenteet: anna nimet tekstinä"))
    if not unit_list or any(u not in codes for u in unit_list):
        problems.append(_("Yksiköt: valitse vähintään yksi tunnettu yksikkö"))
    elif allowed is not None and (outside := [u for u in unit_list if u not in allowed]):
        problems.append(out_of_scope(config, outside))
    if not metric_list or any(m not in METRICS and m not in own_metrics(config) for m in metric_list):
        problems.append(_("Mittarit: valitse vähintään yksi tunnettu mittari"))
    if len(key_list) > MAX_KEYS or any(len(k) > 200 for k in key_list):
        problems.append(_("Tarkenteet: enintään {n}, kukin enintään 200 merkkiä", n=MAX_KEYS))
    d0 = d1 = date.today()
    try:
        d0, d1 = _period(start, end)
    except BadQuery as err:
        problems.append(_("Aikaväli: {problem}", problem=err))
    except ValueError:
        problems.append(_("Aikaväli: anna alku- ja loppupäivä"))
    other = None
    if compare is not None and any(compare):
        try:
            other = _period(*compare)
        except BadQuery as err:
            problems.append(_("Vertailujakso: {problem}", problem=err))
        except ValueError:
            problems.append(_("Vertailujakso: anna alku- ja loppupäivä"))
    if not isinstance(grain, str) or grain not in ("hour", "day"):
        problems.append(_("Tarkkuus: tunti tai päivä"))
    if problems:
        raise BadQuery("; ".join(problems))
    return Query(unit_list, metric_list, d0, d1, str(grain), sorted(set(key_list)), other)


def out_of_scope(config: Config, outside: list[str]) -> str:
    """"Yksiköt: Strandin vastaanotto ei kuulu tunnuksesi yksiköihin" (the first few named)."""
    return _("Yksiköt: {units} ei kuulu tunnuksesi yksiköihin",
             units=", ".join(unit_name(config, u) for u in outside[:3]) + (" …" if len(outside) > 3 else ""))


def kind_of(metric: str) -> str:
    m = metric_defs.get(metric)
    return m.kind if m else "gauge"


def unit_name(config: Config, code: str) -> str:
    """A unit's name in the request's language (its Swedish name where it has one)."""
    return config.unit(code).name_in(lang())


def names(config: Config, lang: str = "fi") -> Names:
    """Names beside the codes in the downloads, in the language: the units', the metrics',
    each unit's opening hours."""
    own = config.own_metrics()
    return Names(units={u.code: u.name_in(lang) for u in config.units},
                 metrics={**{m: gettext_in(lang, label) for m, label in METRICS.items()},
                          **{m: own[m].name(lang) for m in own_metrics(config)}},
                 hours={u.code: config.hours(u.code).text() for u in config.units},
                 kinds={m: kind_of(m) for m in metric_ids(config)})


def keyed_by(metric: str) -> str | None:
    m = metric_defs.get(metric)
    return m.keyed_by if m else None


def key_filter(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """The rows of the chosen keys. A choice narrows only its own kind: choosing the queue
    "lääkärin vastaanotto" leaves the other queues out, not the professions' staff figures."""
    if not keys:
        return rows
    chosen = set(keys)
    kinds = {keyed_by(r["metric"]) for r in rows if r["key"] in chosen}
    return [r for r in rows if r["key"] in chosen or keyed_by(r["metric"]) not in kinds]


def key_options(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, str]]:
    """The keys the rows have, each with what it is ("lääkäri (ammattiryhmä)"), and the
    chosen ones even when the rows have none of them (a choice does not vanish silently)."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["key"]:
            kind = keyed_by(r["metric"]) or ""
            found[r["key"]].add(_(KEYED_BY_FI[kind]) if kind in KEYED_BY_FI else _("tarkenne"))
    for k in keys:
        found.setdefault(k, set())
    return [{"label": f"{k} ({', '.join(sorted(found[k]))})" if found[k] else k, "value": k} for k in sorted(found)]


# ---------------------------------------------------------------- figures


def _layout(height: int) -> dict[str, Any]:
    grid = {"gridcolor": LINE, "zerolinecolor": LINE, "linecolor": LINE, "tickcolor": LINE,
            "tickfont": {"color": MUTED}, "title": {"font": {"color": MUTED}}}
    return {
        "template": "none",  # nothing of Plotly's own look (white, its colours) under ours
        "height": height, "paper_bgcolor": CARD, "plot_bgcolor": CARD, "colorway": COLOURS,
        "font": {"family": '"DejaVu Sans", "Liberation Sans", Arial, sans-serif', "color": INK, "size": 14},
        "separators": SEPARATORS[lang()], "margin": {"l": 56, "r": 16, "t": 56, "b": 40},
        "hoverlabel": {"bgcolor": BG, "bordercolor": MUTED, "font": {"color": INK, "size": 15}},
        "legend": {"orientation": "h", "y": -0.14, "font": {"color": INK}},
        "xaxis": grid, "yaxis": {**grid, "rangemode": "tozero"},
    }


def closing_hour(hours: str) -> str:
    """"16" of "8–16"."""
    return hours.rsplit("\u2013", 1)[-1]


def figure_title(metric: str, grain: str, hours: set[str]) -> str:
    """What a chart shows, in its title: "Henkilöstö paikalla, keskiarvo aukioloaikana 8–16"."""
    label, kind = metric_name(metric), kind_of(metric)
    if grain == "hour":
        return (_("{metric}, kertymä tunnin lopussa", metric=label) if kind == "count"
                else _("{metric}, tunnin keskiarvo", metric=label))
    if kind == "count":
        return _("{metric}, yhteensä päivässä", metric=label)
    if len(hours) == 1:
        return _("{metric}, keskiarvo aukioloaikana {hours}", metric=label, hours=next(iter(hours)))
    return _("{metric}, keskiarvo aukioloaikana", metric=label)


def explanation(grain: str) -> str:
    """What the day's (or hour's) figures are, once above the charts."""
    if grain == "hour":
        return _("Tunnin luku on mittarin aikapainotettu keskiarvo tunnin ajalta (arvo on voimassa, kunnes se "
                 "muuttuu); määrillä (saapuneet, käynnit) päivän kertymä tunnin lopussa. Avoin ympyrä: tunti on "
                 "kesken.")
    return _("Päivän luku on mittarin aikapainotettu keskiarvo yksikön aukioloaikana (arkipäivinä, ellei yksikkö "
             "ole auki joka päivä; suljettuna päivänä ei lukua); määrillä (saapuneet, käynnit) päivän "
             "yhteismäärä. Pisteen kohdalla näkyvät myös päivän suurin arvo aukioloaikana ja arvo "
             "sulkemishetkellä. Avoin ympyrä: päivä on kesken.")


def ctx_hours(config: Config, unit: str) -> str:
    return config.hours(unit).text()


def _x(r: dict[str, Any], grain: str) -> str:
    return r["period"][:10] if grain == "day" else r["period"][:16].replace("T", " ")


def metric_figure(config: Config, metric: str, rows: list[dict[str, Any]], grain: str, now: datetime) -> go.Figure:
    """One chart of one metric: a line per unit and key, the day's (or hour's) figure."""
    kind = kind_of(metric)
    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        lines.setdefault((r["unit"], r["key"]), []).append(r)
    hours = {u: (rs[0].get("hours") or ctx_hours(config, u)) for (u, _k), rs in lines.items()}
    one_unit = len({u for u, _k in lines}) == 1
    same_hours = set(hours.values())
    fig = go.Figure(layout=_layout(SERIES_HEIGHT))
    for (unit, key), rs in lines.items():
        name = " · ".join(x for x in (None if one_unit and key else unit_name(config, unit), key) if x)
        if grain == "day" and kind != "count" and len(same_hours) > 1:
            name += f" ({hours[unit]})"
        xs, y, custom, done = _with_gaps(rs, *_points(rs, grain, kind, now), grain)
        fig.add_scatter(
            x=xs, y=y, customdata=custom, name=name, mode="lines+markers",
            meta={"metric": metric, "unit": unit, "key": key},  # for machines, as the wall's data-* attributes
            connectgaps=False, line={"width": 2},
            marker={"size": [7 if d else 11 for d in done], "symbol": ["circle" if d else "circle-open" for d in done],
                    "line": {"width": 2}},
            hovertemplate=_hover(grain, kind, hours[unit]))
    fig.update_layout(title={"text": figure_title(metric, grain, same_hours), "x": 0.01, "font": {"size": 18}},
                      uirevision=f"history-{metric}", showlegend=True,
                      xaxis={"type": "date", "tickformatstops": date_ticks(), "hoverformat": _hover_day(grain)})
    return fig


def _points(rs: list[dict[str, Any]], grain: str, kind: str, now: datetime) -> tuple[list[Any], list[list[str]], list[bool]]:
    """The y values, the hover's texts (numbers as the page writes them) and whether each
    point is final (a day or hour that is over)."""
    y: list[Any] = []
    custom: list[list[str]] = []
    done: list[bool] = []
    for r in rs:
        if grain == "day":
            value = daily_figure(r, kind)
            final = is_complete(r, now.date())
            extra = [number(plain_number(r.get("open_max", r.get("max"))), lang()),
                     number(plain_number(r.get("at_close")) if final else None, lang())]  # not closed yet
        else:
            value = plain_number(r.get("last")) if kind == "count" else r.get("mean")
            final = datetime.fromisoformat(r["period"]) + timedelta(hours=1) <= now
            extra = [number(r.get("min"), lang()), number(r.get("max"), lang())]
        y.append(value)
        done.append(final)
        custom.append([number(value, lang()), *extra, "" if final else _(" (kesken)")])
    return y, custom, done


def _with_gaps(rs: list[dict[str, Any]], y: list[Any], custom: list[list[str]], done: list[bool],
               grain: str) -> tuple[list[str], list[Any], list[list[str]], list[bool]]:
    """The points with an empty one where periods are missing (nothing was in force: an
    outage, a closed day of a plan), so the line breaks there instead of bridging the gap."""
    step = timedelta(days=1) if grain == "day" else timedelta(hours=1)
    longest = timedelta(hours=25) if grain == "day" else step  # a day may have 25 hours
    xs: list[str] = []
    out_y: list[Any] = []
    out_c: list[list[str]] = []
    out_d: list[bool] = []
    before: datetime | None = None
    for r, value, texts, final in zip(rs, y, custom, done, strict=True):
        at = datetime.fromisoformat(r["period"])
        if before is not None and at - before > longest:
            gap = before + step
            xs.append(gap.date().isoformat() if grain == "day" else gap.isoformat()[:16].replace("T", " "))
            out_y.append(None)
            out_c.append(["–", "–", "–", ""])
            out_d.append(True)
        xs.append(_x(r, grain))
        out_y.append(value)
        out_c.append(texts)
        out_d.append(final)
        before = at
    return xs, out_y, out_c, out_d


def _hover_day(grain: str) -> str:
    """A point's day (and hour) in a hover, as the request's language writes it."""
    f = FORMATS[lang()]
    return f"%a {f['date']}" if grain == "day" else f"%a {f['date']} {f['at']}"


def _hover(grain: str, kind: str, hours: str) -> str:
    head = f"%{{x|{_hover_day(grain)}}}%{{customdata[3]}}<br>"
    if grain == "hour":
        body = (_("kertymä tunnin lopussa: {value}", value="%{customdata[0]}") if kind == "count" else
                _("tunnin keskiarvo: {value}", value="%{customdata[0]}") + "<br>"
                + _("pienin–suurin: {low}–{high}", low="%{customdata[1]}", high="%{customdata[2]}"))
    elif kind == "count":
        body = _("yhteensä päivässä: {value}", value="%{customdata[0]}")
    else:
        body = (_("keskiarvo aukioloaikana {hours}: {value}", hours=hours, value="%{customdata[0]}") + "<br>"
                + _("suurin aukioloaikana: {value}", value="%{customdata[1]}") + "<br>"
                + _("sulkemishetkellä (klo {hour}): {value}", hour=closing_hour(hours), value="%{customdata[2]}"))
    return head + body + "<extra>%{fullData.name}</extra>"


def series_figures(config: Config, q: Query, rows: list[dict[str, Any]], now: datetime) -> list[Any]:
    """A chart per metric, in the order chosen, each in a <figure> with its caption."""
    by_metric: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_metric[r["metric"]].append(r)
    out: list[Any] = []
    for i, metric in enumerate(q.metrics):
        rs = by_metric.get(metric, [])
        body: Any = (dcc.Graph(figure=metric_figure(config, metric, rs, q.grain, now), id=f"history-series-{i}",
                               config=graph_config(), style={"height": f"{SERIES_HEIGHT}px"}) if rs else
                     html.P(_("{metric}: ei tietoja valitulta ajalta.", metric=metric_name(metric)), className="msg"))
        title = figure_title(metric, q.grain, {r.get("hours") or ctx_hours(config, r["unit"]) for r in rs})
        out.append(html.Figure(body, className="history-figure", style={"margin": "0 0 20px 0"},
                               **{"data-metric": metric, "data-rows": str(len(rs)), "aria-label": title}))
    return out


def heatmap_figure(cells: list[dict[str, Any]]) -> go.Figure:
    hours = sorted({c["hour"] for c in cells})
    z = [[next((c["mean"] for c in cells if c["weekday"] == wd and c["hour"] == h), None) for h in hours]
         for wd in range(5)]
    x = [f"{int(h)}\u2013{int(h) + 1}" for h in hours]
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=weekdays()[:5], colorscale=[[0, "#1d3147"], [0.5, "#3f7fbf"], [1, "#bfe3ff"]],
        colorbar={"title": {"text": _("saap./h"), "font": {"color": MUTED}}, "tickfont": {"color": MUTED}},
        hovertemplate=_("{day} klo {hours}", day="%{y}", hours="%{x}") + "<br>"
        + _("keskimäärin {n} saapunutta", n="%{z:.1f}") + "<extra></extra>", xgap=2, ygap=2),
        layout=_layout(HEATMAP_HEIGHT))
    fig.update_layout(title={"text": _("Saapuneet tunneittain, arkipäivien keskiarvo"), "x": 0.01, "font": {"size": 18}},
                      yaxis={"autorange": "reversed", "rangemode": None, "gridcolor": CARD},
                      xaxis={"title": {"text": _("klo")}, "type": "category", "gridcolor": CARD})
    return fig


# ---------------------------------------------------------------- tables


def compliance_text(x: dict[str, Any] | None) -> str:
    """"92 % (23/25 arkipv)": how often a limit was met, or that there are no data."""
    if not x or not x["days"]:
        return _("ei tietoa")
    return _("{share} % ({met}/{days} arkipv)", share=number(100 * x["share"], lang()), met=x["met"], days=x["days"])


def compliance_of(ctx: HistoryContext, units: list[str], start: date, end: date) -> dict[str, dict[str, Any]]:
    """Each unit's compliance on its open days, at its own closing time (the rollups know the hours)."""
    return rollups.compliance(ctx.history, ctx.config.zones(), units, start, end)


def compliance_table(config: Config, result: dict[str, dict[str, Any]]) -> html.Table:
    cell = compliance_text
    rows = [html.Tr([html.Td(unit_name(config, u)), html.Td(cell(v.get("callback_same_day")))],
                    className="compliance-row", **{"data-unit": u})
            for u, v in result.items()]
    return html.Table([html.Thead(html.Tr([html.Th(_("Yksikkö")), html.Th(_("Takaisinsoitot palautettu samana arkipäivänä"))])),
                       html.Tbody(rows)], className="history-table")


def change_text(a: float | int | None, b: float | int | None) -> str:
    """"-0,6 (-24 %)": B − A of the figures as shown (2,5 → 1,9), never of hidden decimals."""
    change, pct = shown_change(a, b)
    if change is None:
        return "–"
    if change == 0:
        return "±0"
    return f"{'+' if change > 0 else '-'}{number(abs(change), lang())}" + (f" ({pct:+d} %)" if pct is not None else "")


def unfinished(period: tuple[date, date], today: date) -> str:
    if not period[0] <= today <= period[1]:
        return ""
    return _(" ({day} kesken)", day=today.isoformat() if lang() == "en" else f"{today.day}.{today.month}.")


def compare_table(config: Config, rows: list[dict[str, Any]], a: tuple[date, date] | None = None,
                  b: tuple[date, date] | None = None, today: date | None = None) -> html.Table:
    """The two periods side by side: the mean of the days' figures in each (days without a
    figure left out) and the change between the numbers shown."""
    def head(label: str, p: tuple[date, date] | None) -> str:
        return label if p is None else f"{label} {range_text(*p, lang())}" + (unfinished(p, today) if today else "")

    def days(n: Any) -> html.Span:
        return html.Span(_(" · {n} pv", n=n) if n is not None else "", className="rowcount")

    body = [html.Tr([html.Td(unit_name(config, r["unit"])), html.Td(metric_name(r["metric"])),
                     html.Td(r["key"]),
                     html.Td([html.Span(number(shown(r["a_mean"]), lang()), className="a"), days(r.get("a_days"))]),
                     html.Td([html.Span(number(shown(r["b_mean"]), lang()), className="b"), days(r.get("b_days"))]),
                     html.Td(change_text(r["a_mean"], r["b_mean"]), className="change")],
                    className="compare-row", **{"data-metric": r["metric"], "data-unit": r["unit"], "data-key": r["key"]})
            for r in rows]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in (
        _("Yksikkö"), _("Mittari"), _("Tarkenne"), head("A", a), head("B", b), _("Muutos B − A"))])),
        html.Tbody(body)], className="history-table", id="history-compare-table")


def _fig(value: float | int | None, decimals: int = 1) -> str:
    return "–" if value is None else number(round(value, decimals) if decimals else round(value), lang())


@dataclass(frozen=True)
class Regional:
    """The sites side by side over a period's ended days: for the page, the XLSX and print."""

    head: list[str]
    rows: list[dict[str, Any]]
    said: str
    explain: str

    def texts(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """A row's figures as the page writes them, by figure."""
        r = row
        return [("waiting_mean", _fig(r["waiting_mean"])), ("longest_wait_max", _fig(r["longest_wait_max"], 0)),
                ("staff_present_pct", "–" if r["staff_present_pct"] is None else f"{_fig(r['staff_present_pct'], 0)} %"),
                ("arrivals", _fig(r["arrivals"], 0)), ("level_max", _fig(r["level_max"], 0)),
                ("escalation_days", _fig(r["escalation_days"], 0)),
                ("callback_share", compliance_text({"days": r["callback_days"], "met": r["callback_met"],
                                                    "share": r["callback_share"]})),
                ("days", str(r["days"]))]

    def cells(self, row: dict[str, Any]) -> list[Cell]:
        """A row for a spreadsheet: numbers as numbers, rounded as the page shows them."""
        r = row

        def rounded(key: str, decimals: int = 0) -> float | int | None:
            v = r[key]
            return None if v is None else round(v, decimals) if decimals else round(v)

        share = r["callback_share"]
        return [r["name"], rounded("waiting_mean", 1), rounded("longest_wait_max"), rounded("staff_present_pct"),
                rounded("arrivals"), rounded("level_max"), rounded("escalation_days"),
                None if share is None else round(share * 100), r["days"]]


def regional(ctx: HistoryContext, start: date, end: date, at: datetime) -> Regional | None:
    """The sites within the person's scope side by side (dashboard/storage/regionhistory.py gives the
    rules); None for a scope of one site."""
    mine = access.visible_units(ctx.config)
    of = ctx.config.unit_sites()
    if len({of[u] for u in mine}) < 2:
        return None
    last = regionhistory.last_day(end, at.date())
    found = regionhistory.rows(ctx.history, ctx.config, mine, start, end, at.date())
    names = {x.code: x.name_in(lang()) for x in ctx.config.area}
    head = [_("Toimipiste"), _("Jonossa keskimäärin"), _("Pisin odotus (min)"), _("Henkilöstöä paikalla suunnitellusta"),
            _("Saapuneet"), _("Korkein valmiustaso"), _("Päiviä tasolla 3–4"), _("Takaisinsoitot samana päivänä"),
            _("Päiviä tiedoissa")]
    said = (_("Päättyneet päivät {period}; tämä päivä ei ole mukana, ennen kuin se on päättynyt.",
              period=range_text(start, last, lang())) if last >= start
            else _("Jakso ei sisällä vielä yhtään päättynyttä päivää."))
    explain = _("Jonossa: yksiköiden ja jonojen summa kunakin päivänä aukioloaikana, päivien keskiarvo. "
                "Pisin odotus: suurin aukioloaikana. Henkilöstö: paikalla olleet suunnitelluista päivinä, "
                "joilta on kumpikin luku. Saapuneet: päivien summat. Valmiustaso: korkein, ja päivät, "
                "joina jokin yksikkö oli tasolla 3 tai 4. Eniten apua tarvitsevat ensin.")
    return Regional(head, [{**r, "name": names[r["site"]]} for r in found], said, explain)


def region_table(ctx: HistoryContext, start: date, end: date, at: datetime) -> list[Any]:
    """The sites side by side over the chosen period's ended days, for the sites within the
    person's scope; nothing for one site."""
    region = regional(ctx, start, end, at)
    if region is None:
        return []
    body = [html.Tr([html.Td(r["name"]), *(html.Td(text, **{"data-figure": key, "data-value": _raw(r[key])})
                                           for key, text in region.texts(r))],
                    className="region-history-row", **{"data-site": r["site"]}) for r in region.rows]
    return [
        html.H2(_("Toimipisteittäin")),
        html.P([region.said, " ", region.explain], className="rowcount", id="history-region-explain"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in region.head])), html.Tbody(body)],
                   className="history-table", id="history-region-table"),
    ]


def _raw(value: Any) -> str:
    return "" if value is None else str(round(value, 4) if isinstance(value, float) else value)


# ---------------------------------------------------------------- the page


def layout(ctx: HistoryContext, **_query: Any) -> html.Div:
    access.require("history")
    today = ctx.store.clock(ctx.config.tz).now().date()
    mine = access.visible_units(ctx.config)
    units = [{"label": unit_name(ctx.config, u), "value": u} for u in mine]
    labels = dropdown_labels(lang())
    p = auth.current.get()
    return html.Div([
        staff_bar(p, "/history"),
        html.Header([html.H1(_("Historia"))], className="tablet-head"),
        html.Div([
            html.Label([html.Span(_("Yksiköt")), dcc.Dropdown(units, mine[:1], multi=True, id=UNITS,
                                                              labels=labels)], className="field"),
            html.Label([html.Span(_("Mittarit")),
                        dcc.Dropdown([{"label": metric_name(k), "value": k} for k in metric_ids(ctx.config)],
                                     ["queue.waiting", "staff.present"], multi=True, id=METRIC_IDS, labels=labels)],
                       className="field"),
            *([html.P(_("Laskettuja mittareita ({metrics}) ei tallenneta historiaan: ne lasketaan näytöille "
                        "muista luvuista, jotka ovat valittavissa tässä.", metrics="; ".join(derived)),
                      className="rowcount", id="history-derived")] if (derived := derived_names(ctx.config)) else []),
            html.Label([html.Span(_("Tarkenne: jono, ammattiryhmä tai tila")),
                        dcc.Dropdown([], [], multi=True, id=KEYS, placeholder=_("kaikki"), labels=labels)],
                       className="field"),
            html.Label([html.Span(_("Aikaväli")), dcc.DatePickerRange(id=RANGE, start_date=today - timedelta(days=27),
                                                                      end_date=today, **date_range_props(lang()))],
                       className="field"),
            html.Fieldset([html.Legend(_("Tarkkuus")),
                           dcc.RadioItems([{"label": _("päivä"), "value": "day"}, {"label": _("tunti"), "value": "hour"}],
                                          "day", id=GRAIN, inline=True)], className="field"),
            html.Label([html.Span(_("Vertaa jaksoon (A)")),
                        dcc.DatePickerRange(id=COMPARE, start_date=today - timedelta(days=55),
                                            end_date=today - timedelta(days=28), **date_range_props(lang()))],
                       className="field"),
        ], className="history-controls"),
        # the open actions under the choices, not above them: the list grows and shrinks as
        # levels change, and the choices (an open calendar) stay where the finger is
        *actions_panel(ctx),
        html.Div(id=LINKS, className="history-links"),
        html.Div(id=ERROR, role="alert"),
        dcc.Loading(html.Div(id=CONTENT)),
    ], className="history")


# ---------------------------------------------------------------- open escalation actions

def acknowledger(ctx: HistoryContext) -> Acknowledger:
    """The request's person as one who acknowledges actions: their scope and role decide."""
    p = access.require("history")
    assert p.user is not None
    return Acknowledger(ctx.config, ctx.store, ctx.history, p.user, lang())


def actions_view(ctx: HistoryContext, who: Acknowledger) -> html.Div:
    """The open actions of the current episodes in the person's scope that are theirs to
    acknowledge (their role's and those below): unit, level, what to do, when it is due or
    that it is late, and a note and the two answers; once acknowledged, who said what."""
    now, rows, shown = who.now(), [], []
    for x in who.open_actions():
        tz = ctx.config.tz_of(x.unit)
        due = clock_time(x.due.astimezone(tz), lang())
        key = action_key(x)
        state = x.ack["state"] if x.ack else ("overdue" if x.overdue(now) else "open")
        if x.ack:
            at = clock_time(datetime.fromisoformat(x.ack["at"]).astimezone(tz), lang())
            cells = [html.Td(_("{state}: {who}, {time}", state=_(ACTION_STATES[x.ack["state"]]), who=x.ack["by"],
                                 time=at)), html.Td(x.ack.get("note") or "")]
        else:
            late = x.overdue(now)
            cells = [html.Td(_("myöhässä, piti kuitata {time} mennessä", time=due) if late
                             else _("kuitattava {time} mennessä", time=due), className="late" if late else "due"),
                     html.Td([html.Label([html.Span(_("Huomautus"), className="action-note-label"),
                                         dcc.Input(id={"type": ACTION_NOTE, "id": key}, type="text", maxLength=200)]),
                              html.Button(_(ACTION_STATES["done"]), id={"type": ACTION_DONE, "id": key},
                                          className="button small"),
                              html.Button(_(ACTION_STATES["not_needed"]), id={"type": ACTION_SKIP, "id": key},
                                          className="button small secondary")], className="action-answer")]
        shown.append(f"{key}:{state}")
        rows.append(html.Tr([html.Td(unit_name(ctx.config, x.unit)), html.Td(str(x.action.level)),
                             html.Td(x.text(lang())), *cells],
                            className="action-row", **{"data-unit": x.unit, "data-action": x.action.id,
                                                       "data-episode": x.episode, "data-state": state}))
    head = [_("Yksikkö"), _("Taso"), _("Toimenpide"), _("Kuittaus"), _("Huomautus")]
    return html.Div([dcc.Store(id=ACTIONS_SHOWN, data=shown),
                     html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                                className="history-table action-table") if rows
                     else html.P(_("Ei avoimia toimenpiteitä."), className="rowcount")])


def actions_panel(ctx: HistoryContext) -> list[Any]:
    """The panel of open actions, redrawn every 15 s as the tablet's; none when the centre
    has configured no actions."""
    if not ctx.config.escalation.actions:
        return []
    return [html.Section([
        html.H2(_("Avoimet toimenpiteet")),
        html.Div(actions_view(ctx, acknowledger(ctx)), id=ACTIONS),
        html.Div(id=ACTION_RESULT, role="status"),
        dcc.Interval(id=ACTIONS_REFRESH, interval=15_000),
    ], className="history-actions-panel", id="history-actions-panel")]


def so_far(rows: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """Hours and days still to come are not shown or exported as if they had happened."""
    return [r for r in rows if datetime.fromisoformat(r["period"]) <= at]


def rows_of(ctx: HistoryContext, q: Query, period: tuple[date, date], grain: str,
            at: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All rows of the choice (for the key choices) and those of the chosen keys, in the
    order the metrics were chosen (the charts' order)."""
    every = so_far(rollups.series(ctx.history, ctx.config.zones(), q.metrics, q.units, period[0], period[1],
                                  grain, now=at), at)  # type: ignore[arg-type]
    order = {m: i for i, m in enumerate(q.metrics)}
    every.sort(key=lambda r: order.get(r["metric"], len(order)))  # stable: units, keys, periods stay in order
    return every, key_filter(every, q.keys)


def compared(ctx: HistoryContext, q: Query, at: datetime) -> list[dict[str, Any]]:
    """The comparison of the chosen period (B) with `q.compare` (A), for the chosen keys;
    today's figure as it stands at `at`."""
    assert q.compare is not None
    return key_filter(rollups.compare(ctx.history, ctx.config.zones(), q.metrics, q.units, q.compare,
                                      (q.start, q.end), now=at), q.keys)


def content(ctx: HistoryContext, q: Query, at: datetime) -> tuple[list[Any], list[dict[str, str]]]:
    """What the page shows for a choice at `at`, and the key choices the data offer."""
    every, rows = rows_of(ctx, q, (q.start, q.end), q.grain, at)
    period = range_text(q.start, q.end, lang()) + unfinished((q.start, q.end), at.date())
    parts: list[Any] = [
        html.H2(_("Päivittäin {period}", period=period) if q.grain == "day" else _("Tunneittain {period}", period=period)),
        html.P(explanation(q.grain), className="rowcount", id="history-explain"),
        html.Div(series_figures(ctx.config, q, rows, at), id="history-series"),
        html.P(_("{n} riviä", n=len(rows)), className="rowcount", **{"data-rows": str(len(rows))}),
    ]
    if q.compare:
        parts += [html.H2(_("Vertailu: päivän lukujen keskiarvo jaksoilla A {a} ja B {b}",
                            a=range_text(*q.compare, lang()), b=range_text(q.start, q.end, lang()))),
                  compare_table(ctx.config, compared(ctx, q, at), q.compare, (q.start, q.end), at.date())]
    parts += [
        html.H2(_("Saapuneet viikonpäivittäin ja tunneittain")),
        dcc.Graph(figure=heatmap_figure(rollups.arrivals_heatmap(ctx.history, ctx.config.zones(), q.units, q.start, q.end)),
                  id="history-heatmap", config=graph_config(), style={"height": f"{HEATMAP_HEIGHT}px"}),
        html.H2(_("Takaisinsoitot samana arkipäivänä")),
        html.P(_("Aukiolopäivä täyttyy, kun yksikön sulkemishetkellä ei ole yhtään palauttamatonta "
                 "takaisinsoittopyyntöä."), className="rowcount"),
        compliance_table(ctx.config, compliance_of(ctx, q.units, q.start, q.end)),
        *region_table(ctx, q.start, q.end, at),
        *episodes_table(ctx, q.units, q.start, q.end, at),
        html.P([html.A(_("Hoitoon pääsy tapauksittain: määräajassa, jakaumat, kehitys ja ennuste →"),
                       href="/history/access", id="history-access-link")]),
    ]
    return parts, key_options(every, q.keys)


def level_episodes(ctx: HistoryContext, unit: str, first: date, last: date,
                   at: datetime) -> list[escalation_actions.PastEpisode]:
    """The unit's escalation episodes that touch the days `first`..`last` (its site's days),
    from the recorded escalation.level series: the history outlives the live store."""
    tz = ctx.config.tz_of(unit)
    begin = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    finish = min(datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz), at)
    levels = []
    for r in ctx.history.changes("escalation.level", unit):
        try:
            levels.append((r.observed_at, int(float(json.loads(r.value)))))
        except (TypeError, ValueError):
            continue
    return [e for e in escalation_actions.episodes_of(levels)
            if e.start < finish and (e.end is None or e.end >= begin)]


def episodes_table(ctx: HistoryContext, units: list[str], first: date, last: date, at: datetime) -> list[Any]:
    """A row per unit's episode and action: when the episode began and ended, its highest
    level, and each action it called for with who acknowledged it, when and in how many
    minutes (the audit log's `escalation-action` entries)."""
    if not ctx.config.escalation.actions:
        return []
    acks = [a for a in audit.entries(ctx.history, limit=20_000, action="escalation-action")
            if isinstance(a.get("after"), dict)]
    rows = []
    for unit in units:
        tz = ctx.config.tz_of(unit)

        def when(moment: datetime | None, tz: Any = tz) -> str:
            return "–" if moment is None else f"{moment.astimezone(tz):%d.%m.} {clock_time(moment.astimezone(tz), lang())}"

        for e in level_episodes(ctx, unit, first, last, at):
            # an acknowledgement belongs to the episode in force at its moment (a minute's
            # slack: the series is written every 30 s, the live episode at once)
            lo, hi = e.start - timedelta(minutes=2), (e.end or at) + timedelta(minutes=1)
            mine = [a for a in acks if a["details"].get("unit") == unit
                    and lo <= datetime.fromisoformat(a["after"]["at"]) <= hi]
            for act in escalation_actions.for_unit(ctx.config, unit, e.peak) or [None]:
                ack = next((a for a in reversed(mine) if act is not None and a["details"].get("action") == act.id), None)
                said = act.text_sv if act is not None and lang() == "sv" and act.text_sv else (act.text if act else "–")
                state = _(ACK_WORDS[ack["after"]["state"]]) if ack else ("–" if act is None else _("ei kuitattu"))
                rows.append(html.Tr([
                    html.Td(unit_name(ctx.config, unit)), html.Td(when(e.start)), html.Td(when(e.end)),
                    html.Td(str(e.peak)), html.Td(said), html.Td(state),
                    html.Td(f"{ack['who']}, {when(datetime.fromisoformat(ack['after']['at']))}" if ack else "–"),
                    html.Td(number(ack["details"].get("minutes"), lang()) if ack else "–"),
                    html.Td(ack["after"].get("note") or "" if ack else "")],
                    className="episode-row", **{"data-unit": unit, "data-start": e.start.isoformat(),
                                                "data-action": act.id if act else "",
                                                "data-state": ack["after"]["state"] if ack else "open",
                                                "data-minutes": str(ack["details"].get("minutes")) if ack else ""}))
    head = [_("Yksikkö"), _("Alkoi"), _("Päättyi"), _("Korkein taso"), _("Toimenpide"), _("Kuittaus"),
            _("Kuittasi"), _("Minuuttia kuittaukseen"), _("Huomautus")]
    return [html.H2(_("Valmiustasot ja toimenpiteet")),
            html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                       className="history-table", id="history-episodes") if rows
            else html.P(_("Ei kohonneita valmiustasoja tällä aikavälillä."), className="rowcount",
                        id="history-episodes")]


ACK_WORDS = {"done": N_("tehty"), "not_needed": N_("ei tarpeen")}


def download_parts(ctx: HistoryContext, q: Query, at: datetime, lang: str) -> list[Part]:
    """The chosen period's rows and, when the page compares, the comparison period's."""
    words = report_words(lang)
    parts = [Part(f"{words['selected']} {range_text(q.start, q.end, lang)}",
                  rows_of(ctx, q, (q.start, q.end), q.grain, at)[1])]
    if q.compare:
        parts.append(Part(f"{words['comparison']} {range_text(*q.compare, lang)}",
                          rows_of(ctx, q, q.compare, q.grain, at)[1]))
    return parts


class TooMany(ValueError):
    pass


def download(ctx: HistoryContext, q: Query, kind: str, at: datetime, lang: str) -> tuple[bytes, int]:
    """The CSV or XLSX of a choice and its number of rows; TooMany for an XLSX too long to write."""
    parts = download_parts(ctx, q, at, lang)
    count = sum(len(p.rows) for p in parts)
    if kind == "xlsx" and count > MAX_XLSX_ROWS:
        raise TooMany(_("XLSX: {count} riviä, enintään {limit}: valitse päivätarkkuus tai lyhyempi aikaväli, "
                        "tai lataa CSV", count=count, limit=MAX_XLSX_ROWS))
    who = names(ctx.config, lang)
    headers, rows = report_headers(q.grain, lang), report_rows(parts, q.grain, who, lang, at)
    if kind == "csv":
        return table_csv(headers, rows, lang), count
    sheets: list[tuple[str, list[str], list[list[Cell]]]] = [(report_words(lang)["sheet"], headers, rows)]
    if q.compare:
        sheets.append((report_words(lang)["compare_sheet"], compare_headers(lang, q.compare, (q.start, q.end)),
                       compare_rows(compared(ctx, q, at), who)))
    region = regional(ctx, q.start, q.end, at)
    if region is not None:  # the sites side by side, as the page shows them (a person of several sites)
        head = [*region.head[:7], f"{region.head[7]} (%)", region.head[8]]
        sheets.append((_("Toimipisteittäin"), head, [region.cells(r) for r in region.rows]))
    return table_xlsx(sheets, lang), count


def printed(ctx: HistoryContext, q: Query, at: datetime) -> str:
    """The print view of a choice: always by day."""
    day_q = Query(q.units, q.metrics, q.start, q.end, "day", q.keys, q.compare)
    return print_page(ctx.config, day_q, download_parts(ctx, day_q, at, lang())[0],
                      compliance_of(ctx, q.units, q.start, q.end), compared(ctx, q, at) if q.compare else None, at,
                      regional(ctx, q.start, q.end, at))


def register(app: dash.Dash, ctx: HistoryContext) -> None:
    config, history = ctx.config, ctx.history
    dash.register_page("history", path="/history", layout=lambda **q: layout(ctx, **q),
                       title=lambda **kw: _("Ohjaustaulu – historia"))

    def now() -> datetime:
        return ctx.store.clock(config.tz).now()

    @app.callback(Output(CONTENT, "children"), Output(LINKS, "children"), Output(ERROR, "children"),
                  Output(KEYS, "options"),
                  Input(UNITS, "value"), Input(METRIC_IDS, "value"), Input(KEYS, "value"), Input(RANGE, "start_date"),
                  Input(RANGE, "end_date"), Input(GRAIN, "value"), Input(COMPARE, "start_date"),
                  Input(COMPARE, "end_date"))
    def show(units: list[str], metrics: list[str], keys: list[str], start: str, end: str, grain: str,
             b0: str | None, b1: str | None) -> Any:
        access.require("history")
        try:
            q = parse_query(config, units, metrics, start, end, grain, keys, (b0, b1) if b0 and b1 else None,
                            allowed=access.visible_units(config))
        except BadQuery as err:
            return dash.no_update, dash.no_update, html.P(str(err), className="msg msg--error"), dash.no_update
        parts, options = content(ctx, q, now())
        links = [html.A(_("Lataa CSV"), href=f"/history/export.csv?{q.params()}", className="button", id="history-csv"),
                 html.A(_("Lataa XLSX"), href=f"/history/export.xlsx?{q.params()}", className="button", id="history-xlsx"),
                 html.A(_("Tulostettava näkymä"), href=f"/history/print?{q.params()}", className="button secondary",
                        target="_blank", id="history-print")]
        return parts, links, "", options

    # one callback for the panel (as the tablet's): a tap acknowledges; the refresh redraws
    # only when what the panel shows has changed, so that a note being typed is not wiped
    @app.callback(Output(ACTIONS, "children"), Output(ACTION_RESULT, "children"),
                  Input({"type": ACTION_DONE, "id": ALL}, "n_clicks"),
                  Input({"type": ACTION_SKIP, "id": ALL}, "n_clicks"),
                  Input(ACTIONS_REFRESH, "n_intervals"),
                  State({"type": ACTION_NOTE, "id": ALL}, "value"), State(ACTIONS_SHOWN, "data"),
                  prevent_initial_call=True)
    def actions(_done: list[Any], _skip: list[Any], _n: Any, _notes: list[Any], shown: Any) -> Any:
        who = acknowledger(ctx)
        return answer_actions(lambda: actions_view(ctx, who), shown,
                              lambda trig, notes: who.acknowledge_tap(trig, notes, ACTION_DONE))

    server: Any = app.server

    def query_of(request: Request) -> Query:
        qp = request.query_params
        compare = (qp.get("cstart"), qp.get("cend")) if qp.get("cstart") or qp.get("cend") else None
        return parse_query(config, qp.get("units", ""), qp.get("metrics", ""), qp.get("start"), qp.get("end"),
                           qp.get("grain", "day"), qp.getlist("keys"), compare, allowed=access.visible_units(config))

    @server.get("/history/export.{kind}")
    def export(kind: str, request: Request) -> Response:
        access.require("history")
        try:
            q = query_of(request)
        except BadQuery as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        if kind not in ("csv", "xlsx"):
            return JSONResponse({"error": _("vienti: csv tai xlsx, ei {kind!r}", kind=kind[:20])}, status_code=404)
        try:
            data, count = download(ctx, q, kind, now(), lang())
        except TooMany as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        from dashboard.storage import audit

        audit.record(history, auth.who(), "export", {"kind": kind, "query": q.params(), "rows": count})
        return file_response(data, kind, f"ohjaustaulu-{q.start}-{q.end}")

    @server.get("/history/print")
    def printable(request: Request) -> Response:
        access.require("history")
        try:
            q = query_of(request)
        except BadQuery as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return HTMLResponse(printed(ctx, q, now()))


def file_response(data: bytes, kind: str, name: str) -> Response:
    """A download: a CSV or an XLSX file named `name`."""
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    if kind == "csv":
        return Response(data, media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(data, headers=disposition,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def print_page(config: Config, q: Query, part: Part, comp: dict[str, dict[str, Any]],
               comparison: list[dict[str, Any]] | None, at: datetime, region: Regional | None = None) -> str:
    """The printable report, in the request's language: the same names, dates and figures as
    the page and the downloads."""
    esc = htmlmod.escape
    language = lang()
    who = names(config, language)
    today = at.date()

    def fig(v: Any) -> str:
        return number(v, language) if isinstance(v, int | float) else "–"

    def named(name: str, code: str) -> str:
        return f"{esc(name)} <small>{esc(code)}</small>" if name != code else esc(code)

    def period_of(first: date, last: date) -> str:
        return range_text(first, last, language)

    body = "".join(
        f"<tr><td>{esc(period_of(d, d))}</td><td>{named(uname, unit)}</td><td>{named(mname, metric)}</td>"
        f"<td>{esc(key)}</td><td>{fig(figure)}</td><td>{esc(what)}</td><td>{fig(mx)}</td><td>{fig(close)}</td>"
        f"<td>{esc(state)}</td></tr>"
        for _p, d, unit, uname, metric, mname, key, _h, figure, what, mx, close, state, _s
        in report_rows([part], "day", who, language, at))
    comp_rows = "".join(
        f"<tr><td>{esc(unit_name(config, u))}</td>"
        + f"<td>{esc(compliance_text(v.get('callback_same_day')))}</td>"
        + "</tr>" for u, v in comp.items())
    days = esc(_("pv"))
    compare_html = ""
    if comparison is not None and q.compare:
        lines = "".join(
            f"<tr><td>{named(who.units.get(r['unit'], r['unit']), r['unit'])}</td>"
            f"<td>{named(metric_name(r['metric']), r['metric'])}</td><td>{esc(r['key'])}</td>"
            f"<td>{fig(shown(r['a_mean']))} <small>{r.get('a_days', '')} {days}</small></td>"
            f"<td>{fig(shown(r['b_mean']))} <small>{r.get('b_days', '')} {days}</small></td>"
            f"<td>{esc(change_text(r['a_mean'], r['b_mean']))}</td></tr>" for r in comparison)
        head = [esc(x) for x in (_("Vertailu: päivän lukujen keskiarvo"), _("Yksikkö"), _("Mittari"), _("Tarkenne"),
                                 _("Muutos B − A"))]
        compare_html = (
            f"<h2>{head[0]}</h2><table><tr><th>{head[1]}</th><th>{head[2]}</th><th>{head[3]}</th>"
            f"<th>A {esc(period_of(*q.compare))}{esc(unfinished(q.compare, today))}</th>"
            f"<th>B {esc(period_of(q.start, q.end))}{esc(unfinished((q.start, q.end), today))}</th>"
            f"<th>{head[4]}</th></tr>{lines}</table>")
    region_html = ""
    if region is not None:
        lines = "".join(f"<tr><td>{esc(r['name'])}</td>" + "".join(f"<td>{esc(t)}</td>" for _k, t in region.texts(r))
                        + "</tr>" for r in region.rows)
        heads_ = "".join(f"<th>{esc(h)}</th>" for h in region.head)
        title = esc(_("Toimipisteittäin"))
        region_html = (f"<h2>{title}</h2><p>{esc(region.said)} {esc(region.explain)}</p>"
                       f"<table><tr>{heads_}</tr>{lines}</table>")
    keys = " " + esc(_("Tarkenteet: {keys}.", keys=", ".join(q.keys))) if q.keys else ""
    period = period_of(q.start, q.end)
    units = esc(_("Yksiköt: {units}.", units=", ".join(unit_name(config, u) for u in q.units)))
    about = esc(_("Päivän luku on mittarin aikapainotettu keskiarvo yksikön aukioloaikana (suurin arvo ja arvo "
                  "sulkemishetkellä rinnalla); määrät (saapuneet, käynnit) ovat päivän yhteismääriä. Tulostettu "
                  "{day} {time}. Tulosta selaimen tulostuskomennolla (Ctrl+P).",
                  day=period_of(today, today), time=clock_time(at, language)))
    heads = "".join(f"<th>{esc(_(h))}</th>" for h in PRINT_HEADS)
    # (texts to translate outside the f-string: Babel reads no call inside one on Python 3.11)
    words = {k: esc(v) for k, v in {
        "title": _("Ohjaustaulu – raportti {period}", period=period), "callbacks": _("Takaisinsoitot samana arkipäivänä"),
        "unit": _("Yksikkö"), "returned": _("Takaisinsoitot palautettu samana arkipäivänä"), "daily": _("Päivittäin")}.items()}
    return f"""<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">
<title>{words["title"]}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;color:#111;background:#fff;margin:24px}}
table{{border-collapse:collapse;width:100%;margin-bottom:24px}}th,td{{border-bottom:1px solid #bbb;padding:4px 8px;text-align:left}}
small{{color:#555}}@media print{{a{{display:none}}}}</style></head><body>
<h1>{esc(config.site.name)}: {esc(period)}</h1>
<p>{units}{keys} {about}</p>
<h2>{words["callbacks"]}</h2><table><tr><th>{words["unit"]}</th>
<th>{words["returned"]}</th></tr>{comp_rows}</table>
{compare_html}
{region_html}
<h2>{words["daily"]}</h2><table><tr>{heads}</tr>{body}</table></body></html>"""


PRINT_HEADS = (N_("Päivä"), N_("Yksikkö"), N_("Mittari"), N_("Tarkenne"), N_("Päivän luku"), N_("Luku on"),
               N_("Suurin aukioloaikana"), N_("Sulkemishetkellä"), N_("Tila"))
