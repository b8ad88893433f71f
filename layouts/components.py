"""Display components: small pure functions from the read model to Dash components.

Every element that shows one metric value is a *tile* and carries the facts of PRODUCT.md
as attributes: data-metric, data-unit, data-key, data-value (plain number, dot decimal;
JSON for a series), data-status and data-updated. The visible text is for people.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from dashboard.config import Config, Display
from dashboard.escalation import LEVEL_NAMES
from dashboard.i18n import clock_time, number, t

Tiles = dict[tuple[str, str, str], dict[str, Any]]


def index(tiles: list[dict[str, Any]]) -> Tiles:
    return {(x["metric"], x["unit"], x["key"]): x for x in tiles}


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def tile(
    tiles: Tiles, metric: str, unit: str, key: str, lang: str, *, cls: str = "", suffix: str = ""
) -> html.Span:
    """One value with its freshness: a stale value is greyed and says from when."""
    x = tiles.get((metric, unit, key))
    if x is None or x["status"] == "unavailable":
        attrs = {"data-metric": metric, "data-unit": unit, "data-key": key,
                 "data-value": _plain(x["value"]) if x else "", "data-status": "unavailable",
                 "data-updated": x["updated_at"] if x else ""}
        return html.Span(
            [html.Span("–", className="num"), html.Span(t(lang, "no_data"), className="age")],
            className=f"tile tile--unavailable {cls}", **attrs,
        )
    updated = datetime.fromisoformat(x["updated_at"])
    badge = []
    if x["status"] == "stale":
        badge = [html.Span(f"⏸ {clock_time(updated, lang)}", className="age",
                           title=t(lang, "stale_since"))]
    elif x.get("entered_by"):
        badge = [html.Span("✎", className="manual", title=x["entered_by"])]
    return html.Span(
        [html.Span(number(x["value"], lang), className="num"),
         *([html.Span(suffix, className="unit")] if suffix else []), *badge],
        className=f"tile tile--{x['status']} {cls}",
        title=f"{x['source']} {clock_time(updated, lang)}",
        **{
            "data-metric": metric,
            "data-unit": unit,
            "data-key": key,
            "data-value": _plain(x["value"]),
            "data-status": x["status"],
            "data-updated": x["updated_at"],
            "data-source": x["source"],
        },
    )


def keys(tiles: Tiles, metric: str, unit: str) -> list[str]:
    return sorted({k for (m, u, k) in tiles if m == metric and u == unit})


def label(key: str) -> str:
    return key[:1].upper() + key[1:]


def unit_name(config: Config, code: str, lang: str) -> str:
    u = config.unit(code)
    return u.name_sv if lang == "sv" else u.name


# -- sections --------------------------------------------------------------------------------


def queues_section(config: Config, d: Display, tiles: Tiles) -> html.Section:
    lang = d.language
    cards = []
    for unit in d.units:
        rows = [
            html.Div(
                [
                    html.Div(label(q), className="row-label"),
                    html.Div([tile(tiles, "queue.waiting", unit, q, lang, cls="big"),
                              html.Span(t(lang, "waiting"), className="cap")], className="cell"),
                    html.Div([tile(tiles, "queue.longest_wait_min", unit, q, lang, suffix="min"),
                              html.Span(t(lang, "longest"), className="cap")], className="cell"),
                    html.Div([tile(tiles, "queue.avg_wait_min", unit, q, lang, suffix="min"),
                              html.Span(t(lang, "average"), className="cap")], className="cell"),
                ],
                className="qrow",
            )
            for q in keys(tiles, "queue.waiting", unit)
        ]
        if ("callback.pending", unit, "") in tiles:
            rows.append(
                html.Div(
                    [
                        html.Div(t(lang, "callbacks"), className="row-label"),
                        html.Div([tile(tiles, "callback.pending", unit, "", lang, cls="big"),
                                  html.Span(t(lang, "pending"), className="cap")], className="cell"),
                        html.Div([tile(tiles, "callback.oldest_min", unit, "", lang, suffix="min"),
                                  html.Span(t(lang, "oldest"), className="cap")], className="cell"),
                    ],
                    className="qrow",
                )
            )
        if rows:
            cards.append(card(config, unit, lang, rows))
    return html.Section([html.H2(t(lang, "queues")), html.Div(cards, className="cards")],
                        className="section queues")


def capacity_section(config: Config, d: Display, tiles: Tiles) -> html.Section:
    lang = d.language
    cards = []
    for unit in d.units:
        professions = sorted(set(keys(tiles, "staff.planned", unit)) | set(keys(tiles, "appointments.free_today", unit)))
        head = html.Div(
            [html.Div(""), html.Div(t(lang, "present_planned"), className="cap"),
             html.Div(t(lang, "free_today"), className="cap"), html.Div(t(lang, "free_3wd"), className="cap"),
             html.Div(t(lang, "t3"), className="cap")],
            className="srow shead",
        )
        rows = [head] + [
            html.Div(
                [
                    html.Div(label(p), className="row-label"),
                    html.Div([tile(tiles, "staff.present", unit, p, lang, cls="big"),
                              html.Span(" / ", className="sep"),
                              tile(tiles, "staff.planned", unit, p, lang)], className="cell"),
                    html.Div(tile(tiles, "appointments.free_today", unit, p, lang), className="cell"),
                    html.Div(tile(tiles, "appointments.free_3wd", unit, p, lang), className="cell"),
                    html.Div(tile(tiles, "appointments.t3_days", unit, p, lang), className="cell"),
                ],
                className="srow",
            )
            for p in professions
        ]
        resources = keys(tiles, "capacity.total", unit)
        if resources:
            rows.append(
                html.Div(
                    [
                        html.Div(
                            [html.Span(label(r), className="row-label"),
                             tile(tiles, "capacity.in_use", unit, r, lang),
                             html.Span(" / ", className="sep"),
                             tile(tiles, "capacity.total", unit, r, lang),
                             html.Span(t(lang, "in_use"), className="cap")],
                            className="res",
                        )
                        for r in resources
                    ],
                    className="resources",
                )
            )
        if professions or resources:
            cards.append(card(config, unit, lang, rows))
    return html.Section([html.H2(f"{t(lang, 'staff')} · {t(lang, 'appointments')}"),
                         html.Div(cards, className="cards")], className="section capacity")


def flow_section(config: Config, d: Display, tiles: Tiles) -> html.Section:
    lang = d.language
    cards = []
    for unit in d.units:
        if ("flow.arrivals_today", unit, "") not in tiles:
            continue
        series = tiles.get(("flow.arrivals_by_hour", unit, ""))
        figures = html.Div(
            [
                html.Div([tile(tiles, "flow.arrivals_today", unit, "", lang, cls="big"),
                          html.Span(t(lang, "arrivals"), className="cap")], className="cell"),
                html.Div([tile(tiles, "flow.completed_today", unit, "", lang, cls="big"),
                          html.Span(t(lang, "completed"), className="cap")], className="cell"),
                html.Div([tile(tiles, "flow.no_shows_today", unit, "", lang, cls="big"),
                          html.Span(t(lang, "no_shows"), className="cap")], className="cell"),
            ],
            className="flowfigs",
        )
        chart = html.Div(
            arrivals_chart(series, lang, unit),
            className=f"tile chart tile--{series['status'] if series else 'unavailable'}",
            **{
                "data-metric": "flow.arrivals_by_hour",
                "data-unit": unit,
                "data-key": "",
                "data-value": _plain(series["value"]) if series else "",
                "data-status": series["status"] if series else "unavailable",
                "data-updated": series["updated_at"] if series else "",
                "data-source": series["source"] if series else "",
            },
        )
        cards.append(card(config, unit, lang, [figures, chart]))
    return html.Section([html.H2(t(lang, "flow")), html.Div(cards, className="cards")],
                        className="section flow")


def arrivals_chart(series: dict[str, Any] | None, lang: str, unit: str) -> dcc.Graph:
    hours = [f"{h:02d}" for h in range(7, 18)]
    today = (series or {}).get("value") or {}
    typical = (series or {}).get("typical") or {}
    fig = go.Figure()
    fig.add_bar(x=hours, y=[today.get(h, 0) for h in hours], name=t(lang, "today"),
                marker_color="#4ea1ff")
    if typical:
        fig.add_scatter(x=hours, y=[typical.get(h, 0) for h in hours], name=t(lang, "typical"),
                        mode="lines+markers", line={"color": "#f5c542", "width": 4, "dash": "dot"})
    fig.update_layout(
        uirevision=unit, margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=230,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"color": "#e8eef5", "size": 20}, showlegend=True,
        legend={"orientation": "h", "y": 1.15, "x": 0},
        xaxis={"fixedrange": True}, yaxis={"fixedrange": True, "gridcolor": "#33414f"},
    )
    return dcc.Graph(figure=fig, config={"staticPlot": True}, className="graph")


def card(config: Config, unit: str, lang: str, body: list[Any]) -> html.Div:
    return html.Div([html.H3(unit_name(config, unit, lang)), *body], className="card",
                    **{"data-card-unit": unit})


def notices_strip(notices: list[dict[str, Any]], lang: str) -> html.Div:
    items = [
        html.Div(
            [html.Span(n["text"], className="ntext")],
            className=f"notice notice--{n['importance']}",
            **{"data-notice": n["id"], "data-importance": n["importance"]},
        )
        for n in notices
    ]
    return html.Div(items, className="notices", **{"data-count": str(len(items))})


def escalation_badge(escalation: dict[str, Any], lang: str) -> html.Div:
    level = escalation["level"]
    reasons = [r for u in escalation["units"].values() if u["level"] == level for r in u["reasons"]]
    return html.Div(
        [html.Span(t(lang, "escalation"), className="cap"),
         html.Span(str(level), className="lvl"),
         html.Span(LEVEL_NAMES[lang][level], className="lvlname")],
        className=f"escalation escalation--{level}",
        title="; ".join(reasons),
        **{"data-escalation": str(level)},
    )


PAGE_SECTIONS = {
    "overview": ("queues", "capacity", "flow"),
    "queues": ("queues",),
    "capacity": ("capacity",),
    "flow": ("flow",),
}
SECTION = {"queues": queues_section, "capacity": capacity_section, "flow": flow_section}


def board(config: Config, d: Display, model: dict[str, Any]) -> list[Any]:
    """The whole changing part of a display: its pages, notices and escalation level."""
    tiles = index(model["tiles"])
    lang = d.language
    if d.mode == "public":
        pages = [html.Div([queues_section(config, d, tiles)], className="page public", **{"data-page": "queues"})]
    else:
        pages = [
            html.Div([SECTION[s](config, d, tiles) for s in PAGE_SECTIONS[p]],
                     className=f"page page--{p}", **{"data-page": p})
            for p in d.pages
        ]
    header_bits = [escalation_badge(model["escalation"], lang)] if d.mode == "staff" else []
    as_of = datetime.fromisoformat(model["as_of"]) if model["as_of"] else None
    return [
        html.Div(header_bits, className="board-head"),
        html.Div(pages, className="pages", **{"data-pages": str(len(pages))}),
        notices_strip(model["notices"], lang),
        html.Div(
            f"{t(lang, 'data_as_of')} {clock_time(as_of, lang) if as_of else '–'}",
            id="as-of-text", className="asof", **{"data-as-of": model["as_of"] or ""},
        ),
    ]

