"""Display components: small pure functions from the read model to Dash components.

Every element that shows one metric value is a *tile* and carries the facts of PRODUCT.md
as attributes: data-metric, data-unit, data-key (trimmed, lower-case), data-value (plain
number, dot decimal; JSON for a series), data-status and data-updated. The visible text is
for people.

A display in several languages (a bilingual waiting room) gets every word once per
language, each in an element with its `lang`; the page shows one language at a time
(assets/display.js takes turns). Numbers are the same in Finnish and Swedish (decimal
comma), so each value is one element whatever the languages.

The board is a list of *cards* (a unit's queues, its staff and appointments, its day's
flow). The page lays them out in columns and shows as many as fit; the rest come in turn
(assets/display.js), so nothing is ever cut off or scrolled, whatever the screen.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from dash import html

from dashboard.config import Config, Display
from dashboard.escalation import LEVEL_NAMES
from dashboard.i18n import clock_time, minutes_ago, number, t

Tiles = dict[tuple[str, str, str], dict[str, Any]]
Words = str | list[html.Span]


def index(tiles: list[dict[str, Any]]) -> Tiles:
    return {(x["metric"], x["unit"], x["key"]): x for x in tiles}


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def say(langs: list[str], key: str, **kw: Any) -> Words:
    """A text in the display's language, or in each of its languages (one shown at a time)."""
    if len(langs) == 1:
        return t(langs[0], key, **kw)
    return [html.Span(t(lang, key, **kw), lang=lang, className="l") for lang in langs]


def say_each(langs: list[str], texts: dict[str, str]) -> Words:
    if len(langs) == 1:
        return texts[langs[0]]
    return [html.Span(texts[lang], lang=lang, className="l") for lang in langs]


def _attrs(metric: str, unit: str, key: str, x: dict[str, Any] | None) -> dict[str, str]:
    attrs = {
        "data-metric": metric,
        "data-unit": unit,
        "data-key": key,
        "data-value": _plain(x["value"]) if x else "",
        "data-status": x["status"] if x else "unavailable",
        "data-updated": x["updated_at"] if x else "",
    }
    if x:
        attrs["data-source"] = x["source"]
    return attrs


def tile(tiles: Tiles, metric: str, unit: str, key: str, langs: list[str], *,
         cls: str = "", text: Words | None = None) -> html.Span:
    """One value with its freshness. A stale value is greyed and struck through, a missing
    one is a dash; the row it sits in says in words how old (`row_note`), so that neither
    relies on colour alone."""
    x = tiles.get((metric, unit, key))
    attrs = _attrs(metric, unit, key, x)
    if x is None or x["status"] == "unavailable":
        return html.Span(html.Span("–", className="num"), className=f"tile tile--unavailable {cls}",
                         title=t(langs[0], "no_data"), **attrs)
    updated = datetime.fromisoformat(x["updated_at"])
    badge = [html.Span("✎", className="manual", title=x["entered_by"])] if x.get("entered_by") else []
    shown = number(x["value"], langs[0]) if text is None else text
    return html.Span(
        [html.Span(shown, className="num"), *badge],
        className=f"tile tile--{x['status']} {cls}",
        title=f"{x['source']} {clock_time(updated, langs[0])}",
        **attrs,
    )


def row_note(tiles: Tiles, wanted: list[tuple[str, str, str]], langs: list[str], now: datetime) -> list[html.Div]:
    """Under a row whose values are old: "◷ päivitetty 7 min sitten" (from its oldest value;
    the page keeps the minutes current), or "ei tietoa" when a value has never arrived."""
    found = [tiles.get(w) for w in wanted]
    stale = [x for x in found if x and x["status"] == "stale"]
    if stale:
        oldest = min(x["updated_at"] for x in stale)
        n = minutes_ago(datetime.fromisoformat(oldest), now)
        words = say(langs, "updated_ago", n=n) if n else say(langs, "updated_recent")
        return [html.Div(words, className="age rowage", **{"data-since": oldest})]
    if any(x is None or x["status"] == "unavailable" for x in found):
        return [html.Div(say(langs, "no_data"), className="age rowage nodata")]
    return []


def keys(tiles: Tiles, metric: str, unit: str) -> list[str]:
    return sorted({k for (m, u, k) in tiles if m == metric and u == unit})


def key_name(config: Config, key: str, langs: list[str]) -> Words:
    """A queue, profession or resource name; Swedish from `[site] names_sv` where given."""
    fi = key[:1].upper() + key[1:]
    sv = config.site.names_sv.get(key, fi)
    return say_each(langs, {"fi": fi, "en": fi, "sv": sv})


def unit_name(config: Config, code: str, langs: list[str]) -> Words:
    u = config.unit(code)
    return say_each(langs, {"fi": u.name, "en": u.name, "sv": u.name_sv})


def figure(content: html.Span, caption: Words, cls: str = "") -> html.Div:
    return html.Div([content, html.Div(caption, className="cap")], className=f"fig {cls}".strip())


def card(config: Config, unit: str, section: str, langs: list[str], body: list[Any]) -> html.Div:
    return html.Div(
        [html.H3([html.Span(unit_name(config, unit, langs), className="uname"),
                  html.Span(say(langs, section), className="sname")]), *body],
        className=f"card card--{section}",
        **{"data-card-unit": unit, "data-section": section},
    )


QUEUE_METRICS = ("queue.waiting", "queue.longest_wait_min", "queue.avg_wait_min")
STAFF_METRICS = ("staff.present", "staff.planned", "appointments.free_today", "appointments.free_3wd",
                 "appointments.t3_days")
FLOW_METRICS = ("flow.arrivals_today", "flow.completed_today", "flow.no_shows_today", "flow.arrivals_by_hour")

# -- cards -----------------------------------------------------------------------------------


def queue_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    langs = d.languages
    cards = []
    for unit in d.units:
        rows = [
            html.Div(
                [
                    html.Div(key_name(config, q, langs), className="row-label"),
                    figure(tile(tiles, "queue.waiting", unit, q, langs, cls="big"), say(langs, "waiting")),
                    figure(tile(tiles, "queue.longest_wait_min", unit, q, langs), say(langs, "longest_min")),
                    figure(tile(tiles, "queue.avg_wait_min", unit, q, langs), say(langs, "average_min")),
                    *row_note(tiles, [(m, unit, q) for m in QUEUE_METRICS], langs, now),
                ],
                className="row qrow",
            )
            for q in keys(tiles, "queue.waiting", unit)
        ]
        if ("callback.pending", unit, "") in tiles:
            rows.append(html.Div(
                [
                    html.Div(say(langs, "callbacks"), className="row-label"),
                    figure(tile(tiles, "callback.pending", unit, "", langs, cls="big"), say(langs, "pending")),
                    figure(tile(tiles, "callback.oldest_min", unit, "", langs), say(langs, "oldest_min")),
                    *row_note(tiles, [(m, unit, "") for m in ("callback.pending", "callback.oldest_min")], langs, now),
                ],
                className="row qrow",
            ))
        if rows:
            cards.append(card(config, unit, "queues", langs, rows))
    return cards


def wait_estimate(waiting: float | None, mean_wait: float | None, langs: list[str]) -> Words:
    """What a patient may expect: nobody waiting is "no queue"; otherwise the mean wait of
    those called in during the last hour, rounded up to five minutes."""
    if waiting is not None and waiting <= 0:
        return say(langs, "queue_empty")
    if mean_wait is None:
        return "–"
    if mean_wait < 5:
        return say(langs, "wait_under", n=5)
    return say(langs, "wait_about", n=5 * math.ceil(mean_wait / 5))


def public_queue_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    langs = d.languages
    cards = []
    for unit in d.units:
        rows = []
        for q in keys(tiles, "queue.waiting", unit):
            waiting = tiles.get(("queue.waiting", unit, q))
            mean = tiles.get(("queue.avg_wait_min", unit, q))
            usable = [x if x and x["status"] != "unavailable" else None for x in (waiting, mean)]
            estimate = wait_estimate(usable[0]["value"] if usable[0] else None,
                                     usable[1]["value"] if usable[1] else None, langs)
            rows.append(html.Div(
                [
                    html.Div(key_name(config, q, langs), className="row-label"),
                    figure(tile(tiles, "queue.waiting", unit, q, langs, cls="big"), say(langs, "waiting")),
                    figure(tile(tiles, "queue.avg_wait_min", unit, q, langs, cls="estimate", text=estimate),
                           say(langs, "wait_estimate"), cls="wide"),
                    figure(tile(tiles, "queue.longest_wait_min", unit, q, langs), say(langs, "longest_min")),
                    *row_note(tiles, [(m, unit, q) for m in QUEUE_METRICS], langs, now),
                ],
                className="row pqrow",
            ))
        if rows:
            cards.append(card(config, unit, "queues", langs, rows))
    return cards


def capacity_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    langs = d.languages
    cards = []
    for unit in d.units:
        professions = sorted(set(keys(tiles, "staff.planned", unit)) | set(keys(tiles, "appointments.free_today", unit)))
        head = html.Div(
            [html.Div(""), html.Div(say(langs, "present_planned"), className="cap"),
             html.Div(say(langs, "free_today"), className="cap"), html.Div(say(langs, "free_3wd"), className="cap"),
             html.Div(say(langs, "t3"), className="cap")],
            className="row srow shead",
        )
        rows: list[Any] = [head] + [
            html.Div(
                [
                    html.Div(key_name(config, p, langs), className="row-label"),
                    html.Div([tile(tiles, "staff.present", unit, p, langs),
                              html.Span("/", className="sep"),
                              tile(tiles, "staff.planned", unit, p, langs)], className="pair"),
                    tile(tiles, "appointments.free_today", unit, p, langs),
                    tile(tiles, "appointments.free_3wd", unit, p, langs),
                    tile(tiles, "appointments.t3_days", unit, p, langs),
                    *row_note(tiles, [(m, unit, p) for m in STAFF_METRICS], langs, now),
                ],
                className="row srow",
            )
            for p in professions
        ]
        resources = keys(tiles, "capacity.total", unit)
        if resources:
            rows.append(html.Div(
                [
                    html.Div(
                        [html.Div([key_name(config, r, langs), " ", say(langs, "in_use")], className="row-label"),
                         html.Div([tile(tiles, "capacity.in_use", unit, r, langs),
                                   html.Span("/", className="sep"),
                                   tile(tiles, "capacity.total", unit, r, langs)], className="pair"),
                         *row_note(tiles, [(m, unit, r) for m in ("capacity.in_use", "capacity.total")], langs, now)],
                        className="res",
                    )
                    for r in resources
                ],
                className="resources",
            ))
        if professions or resources:
            cards.append(card(config, unit, "staff_appointments", langs, rows))
    return cards


def flow_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    langs = d.languages
    cards = []
    for unit in d.units:
        if ("flow.arrivals_today", unit, "") not in tiles:
            continue
        series = tiles.get(("flow.arrivals_by_hour", unit, ""))
        figures = html.Div(
            [figure(tile(tiles, "flow.arrivals_today", unit, "", langs, cls="big"), say(langs, "arrivals")),
             figure(tile(tiles, "flow.completed_today", unit, "", langs, cls="big"), say(langs, "completed")),
             figure(tile(tiles, "flow.no_shows_today", unit, "", langs, cls="big"), say(langs, "no_shows")),
             *row_note(tiles, [(m, unit, "") for m in FLOW_METRICS], langs, now)],
            className="flowfigs",
        )
        status = series["status"] if series else "unavailable"
        chart = html.Div(
            arrivals_chart(series, langs),
            className=f"tile chart tile--{status}",
            role="img",
            **{"aria-label": t(langs[0], "arrivals_chart")},
            **_attrs("flow.arrivals_by_hour", unit, "", series),
        )
        cards.append(card(config, unit, "flow", langs, [figures, chart]))
    return cards


HOURS = [f"{h:02d}" for h in range(7, 18)]


def arrivals_chart(series: dict[str, Any] | None, langs: list[str]) -> list[Any]:
    """Arrivals per hour, 7–17: a bar for today and a dotted mark for the typical day (same
    weekday, last 8 weeks). Plain HTML and CSS, not a plot library: a wall chart needs no
    interaction, scales with the page, and only the bars that changed move."""
    today = (series or {}).get("value") or {}
    typical = (series or {}).get("typical") or {}
    top = max([1.0, *(float(v) for v in today.values()), *(float(v) for v in typical.values())])

    def pct(v: float) -> str:
        return f"{100 * v / top:.1f}%"

    hours = []
    for h in HOURS:
        marks = [html.Div(className="bar", style={"height": pct(float(today.get(h, 0)))})]
        if h in typical:
            marks.append(html.Div(className="typ", style={"bottom": pct(float(typical[h]))}))
        hours.append(html.Div(marks, className="hour", title=f"{h}: {today.get(h, 0)}"))
    legend = [html.Span(say(langs, "today"), className="key-today")]
    if typical:
        legend.append(html.Span(say(langs, "typical"), className="key-typical"))
    return [html.Div(legend, className="legend"), html.Div(hours, className="bars"),
            html.Div([html.Span(h) for h in HOURS], className="hours")]


# -- around the cards --------------------------------------------------------------------------


REASON_WORDS = {
    "queue.waiting": "waiting",
    "queue.longest_wait_min": "longest_min",
    "queue.avg_wait_min": "average_min",
    "callback.pending": "pending",
    "callback.oldest_min": "oldest_min",
    "staff.present_ratio": "present_ratio",
}


def reason_text(config: Config, unit: str, detail: dict[str, Any], lang: str) -> str:
    """"Vastaanotto, Lääkärin vastaanotto: pisin odotus, min 35 (raja > 30)"."""
    word = t(lang, REASON_WORDS[detail["metric"]]) if detail["metric"] in REASON_WORDS else detail["metric"]
    u = config.unit(unit)
    where = u.name_sv if lang == "sv" else u.name
    if detail["key"]:
        where += f", {detail['key'][:1].upper()}{detail['key'][1:]}"
    value = detail["value"] * 100 if detail["metric"] == "staff.present_ratio" else detail["value"]
    limit = detail["limit"] * 100 if detail["metric"] == "staff.present_ratio" else detail["limit"]
    pct = " %" if detail["metric"] == "staff.present_ratio" else ""
    return (f"{where}: {word} {number(value, lang)}{pct} "
            f"({t(lang, 'limit')} {detail['op']} {number(limit, lang)}{pct})")


def escalation_bar(config: Config, escalation: dict[str, Any], lang: str) -> html.Div:
    """The level, large, by number, word and colour, with the reasons that raised it."""
    level = escalation["level"]
    reasons = []
    for unit, u in escalation["units"].items():
        if u["level"] != level or (level == 1 and u.get("source") != "manual"):
            continue
        if u.get("source") == "manual":
            name = config.unit(unit).name_sv if lang == "sv" else config.unit(unit).name
            reasons.append(f"{name}: {u['reasons'][0]} ({t(lang, 'set_by')} {u['by']})")
        else:
            reasons += [reason_text(config, unit, detail, lang) for detail in u.get("details", [])]
    return html.Div(
        [html.Div([html.Span(t(lang, "escalation"), className="cap"),
                   html.Span(str(level), className="lvl"),
                   html.Span(LEVEL_NAMES[lang][level], className="lvlname")], className="lvlbox"),
         html.Ul([html.Li(r) for r in reasons[:3]]
                 + ([html.Li(t(lang, "more_reasons", n=len(reasons) - 3))] if len(reasons) > 3 else []),
                 className="reasons")],
        className=f"escalation escalation--{level}",
        **{"data-escalation": str(level)},
    )


IMPORTANCE_SIGN = {"kiireellinen": "‼", "tärkeä": "⚠", "info": "ℹ"}


def notices_strip(notices: list[dict[str, Any]], langs: list[str]) -> html.Div:
    items = [
        html.Div(
            [html.Span(IMPORTANCE_SIGN.get(n["importance"], "ℹ"), className="sign", **{"aria-hidden": "true"}),
             html.Span(n["text"], className="ntext")],
            className=f"notice notice--{n['importance']}",
            **{"data-notice": n["id"], "data-importance": n["importance"]},
        )
        for n in notices
    ]
    return html.Div(items, className="notices", **{"data-count": str(len(items))})


PAGE_SECTIONS = {
    "overview": ("queues", "capacity", "flow"),
    "queues": ("queues",),
    "capacity": ("capacity",),
    "flow": ("flow",),
}
SECTION = {"queues": queue_cards, "capacity": capacity_cards, "flow": flow_cards}


def board(config: Config, d: Display, model: dict[str, Any]) -> list[Any]:
    """The whole changing part of a display: its pages of cards, escalation and notices."""
    tiles = index(model["tiles"])
    langs = d.languages
    now = datetime.fromisoformat(model["generated_at"])
    if d.mode == "public":
        pages = [html.Div(html.Div(public_queue_cards(config, d, tiles, now), className="cards"),
                          className="page page--public", **{"data-page": "queues"})]
    else:
        pages = [
            html.Div(
                html.Div([c for s in PAGE_SECTIONS[p] for c in SECTION[s](config, d, tiles, now)],
                         className="cards"),
                className=f"page page--{p}", **{"data-page": p},
            )
            for p in d.pages
        ]
    as_of = datetime.fromisoformat(model["as_of"]) if model["as_of"] else None
    return [
        escalation_bar(config, model["escalation"], d.lang) if d.mode == "staff" else html.Div(),
        html.Div(pages, className="pages", **{"data-pages": str(len(pages))}),
        notices_strip(model["notices"], langs),
        html.Div(
            [html.Span(say(langs, "data_as_of")), " ",
             html.Span(say_each(langs, {lang: clock_time(as_of, lang) for lang in langs}) if as_of else "–",
                       className="asof-time")],
            id="as-of-text", className="asof", **{"data-as-of": model["as_of"] or ""},
        ),
    ]
