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
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from dash import html

from dashboard.config import BUILTIN_PAGES, Config, Display, Hours
from dashboard.domain.escalation import LEVEL_NAMES
from dashboard.domain.metrics import Metric
from dashboard.i18n import clock_time, fixed, minutes_ago, number, t, until_time
from layouts.patch import plain, with_ids

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
        # when a fresh value turns stale by itself: the screen greys it then on its own clock,
        # whatever reaches it (assets/display.js); empty when not fresh
        "data-fresh-until": (x.get("fresh_until") or "") if x else "",
    }
    if x:
        attrs["data-source"] = x["source"]
        if x.get("bound"):
            attrs["data-bound"] = x["bound"]
    return attrs


# the unit word a bound value is said with: "> 90 pv"
BOUND_UNIT = {"appointments.t3_days": "days_short"}


def tile(tiles: Tiles, metric: str, unit: str, key: str, langs: list[str], *,
         cls: str = "", text: Words | None = None, public: bool = False, derived: bool = False) -> html.Span:
    """One value with its freshness. A stale value is greyed and struck through, a missing
    one is a dash; the row it sits in says in words how old (`row_note`), so that neither
    relies on colour alone. A manual value has a ✎ (who entered it in its title, never on a
    public screen); a value that is only a lower bound reads "> 90 pv". A `derived` text (the
    waiting room's estimate from several tiles) is shown even when this tile has no value."""
    x = tiles.get((metric, unit, key))
    attrs = _attrs(metric, unit, key, x)
    if derived and text is not None and (x is None or x["status"] == "unavailable"):
        return html.Span([html.Span(text, className="num")], className=f"tile tile--derived {cls}", **attrs)
    if x is None or x["status"] == "unavailable":
        return html.Span(html.Span("–", className="num"), className=f"tile tile--unavailable {cls}",
                         title=t(langs[0], "no_data"), **attrs)
    updated = datetime.fromisoformat(x["updated_at"])
    badge = []
    if x.get("manual") or x.get("entered_by"):
        badge = [html.Span("✎", className="manual", title="" if public else x.get("entered_by") or "")]
    shown: Words = number(x["value"], langs[0]) if text is None else text
    bound = []
    if x.get("bound") == "above" and text is None:
        shown = [html.Span(">", className="gt"), shown]
        if metric in BOUND_UNIT:
            bound = [html.Span(say(langs, BOUND_UNIT[metric]), className="unitword")]
    corrected = " tile--corrected" if x.get("corrects") else ""
    return html.Span(
        [html.Span(shown, className="num"), *bound, *badge],
        className=f"tile tile--{x['status']}{corrected} {cls}",
        title=f"{x['source']} {clock_time(updated, langs[0])}",
        **attrs,
    )


def correction_notes(found: list[dict[str, Any] | None], langs: list[str], tz: tzinfo) -> list[html.Div]:
    """"✎ korjattu klo 12.00 asti" under a row with a shift lead's correction in force (one
    line per distinct end; the corrected value itself carries the ✎)."""
    ends = sorted({x["valid_until"] for x in found
                   if x and x.get("corrects") and x.get("valid_until") and x["status"] != "unavailable"})
    return [
        html.Div(say_each(langs, {lang: t(lang, "corrected_until",
                                         time=until_time(datetime.fromisoformat(end).astimezone(tz), lang))
                                  for lang in langs}),
                 className="corrnote", **{"data-valid-until": end})
        for end in ends
    ]


def row_note(tiles: Tiles, wanted: list[tuple[str, str, str]], langs: list[str], now: datetime,
             tz: tzinfo | None = None) -> list[html.Div]:
    """Under a row whose values are old: "◷ päivitetty 7 min sitten" (from its oldest value;
    the page keeps the minutes current), or "ei tietoa" when a value has never arrived; and
    under a row with a correction in force, until when it stands."""
    found = [tiles.get(w) for w in wanted]
    notes = correction_notes(found, langs, tz or now.tzinfo or UTC)
    return _age_note(found, langs, now) + notes


def _age_note(found: list[dict[str, Any] | None], langs: list[str], now: datetime) -> list[html.Div]:
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
RATE_METRICS = ("queue.estimated_wait_min", "queue.called_last_hour", "queue.points_open")
RATE_WORDS = {"queue.estimated_wait_min": "estimate_min", "queue.called_last_hour": "called_hour",
              "queue.points_open": "points_open"}
STAFF_METRICS = ("staff.present", "staff.planned", "appointments.free_today", "appointments.free_3wd",
                 "appointments.t3_days")
FLOW_METRICS = ("flow.arrivals_today", "flow.completed_today", "flow.no_shows_today", "flow.arrivals_by_hour")

# -- cards -----------------------------------------------------------------------------------


def queue_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    langs = d.languages
    cards = []
    for unit in d.units:
        rows = [queue_row(config, tiles, unit, q, langs, now) for q in keys(tiles, "queue.waiting", unit)]
        if ("callback.pending", unit, "") in tiles:
            rows.append(html.Div(
                [
                    html.Div(say(langs, "callbacks"), className="row-label"),
                    figure(tile(tiles, "callback.pending", unit, "", langs, cls="big"), say(langs, "pending")),
                    figure(tile(tiles, "callback.oldest_min", unit, "", langs), say(langs, "oldest_min")),
                    *row_note(tiles, [(m, unit, "") for m in ("callback.pending", "callback.oldest_min")], langs, now, config.tz_of(unit)),
                ],
                className="row qrow",
            ))
        if rows:
            cards.append(card(config, unit, "queues", langs, rows))
    return cards


def queue_row(config: Config, tiles: Tiles, unit: str, q: str, langs: list[str], now: datetime) -> html.Div:
    """A queue on a staff display: how many wait, the longest and the mean wait; and under
    them, where the queue system says so, the estimate for a person joining now, the calls
    of the last hour and the service points open."""
    more = [m for m in RATE_METRICS if (m, unit, q) in tiles]
    figures = []
    for m in more:
        x = tiles[(m, unit, q)]
        caption = say(langs, RATE_WORDS[m])
        rng = x.get("range") if m == "queue.estimated_wait_min" and x["status"] != "unavailable" else None
        if isinstance(rng, list | tuple) and len(rng) == 2:  # the point large, its range in words
            caption = [html.Span(caption), html.Span(f"{number(rng[0], langs[0])}–{number(rng[1], langs[0])}",
                                                     className="range")]
        figures.append(figure(tile(tiles, m, unit, q, langs), caption, cls="inline"))
    # one line under the row, each caption beside its number: the row stays short enough
    # that a unit's queues still fit one column
    second = [html.Div(figures, className="qmore")] if figures else []
    return html.Div(
        [
            html.Div(key_name(config, q, langs), className="row-label"),
            figure(tile(tiles, "queue.waiting", unit, q, langs, cls="big"), say(langs, "waiting")),
            figure(tile(tiles, "queue.longest_wait_min", unit, q, langs), say(langs, "longest_min")),
            figure(tile(tiles, "queue.avg_wait_min", unit, q, langs), say(langs, "average_min")),
            *second,
            *row_note(tiles, [(m, unit, q) for m in (*QUEUE_METRICS, *more)], langs, now, config.tz_of(unit)),
        ],
        className="row qrow",
    )


@dataclass(frozen=True)
class Queue:
    """What the queue's tiles say, as far as they are known (None: no usable tile)."""

    waiting: float | None = None
    longest: float | None = None  # minutes the longest-waiting person has waited so far
    mean: float | None = None  # mean wait of those called in the last hour
    called: float | None = None  # people called in the last hour
    points: float | None = None  # service points calling now
    estimate: float | None = None  # the estimate of a person joining now
    spread: tuple[float, float] | None = None  # the estimate's range, when it is wide

    def rate_minutes(self) -> float | None:
        """Until a person joining now is called, at the last hour's rate of calls: everyone
        ahead, then them (as dashboard/domain/waits.py counts). None: not known, or nobody called."""
        if self.waiting is None or not self.called or self.called <= 0:
            return None
        return (self.waiting + 1) * 60 / self.called

    def stalled(self) -> bool:
        """People wait and nobody is being called: none in the last hour, or no point open."""
        return bool(self.waiting) and ((self.called is not None and self.called <= 0)
                                       or (self.points is not None and self.points <= 0))

    def calls_slow(self) -> bool:
        """People wait and the last hour's calls would not reach a person joining now within
        five minutes (or nobody is being called at all)."""
        rate = self.rate_minutes()
        return self.stalled() or (bool(self.waiting) and rate is not None and rate >= 5)


def _up5(minutes: float) -> int:
    return max(5, 5 * math.ceil(minutes / 5 - 1e-9))


def expected_wait(q: Queue) -> tuple[str, int, int]:
    """What a patient joining now may expect, as (kind, low, high) in minutes rounded up to
    five: "empty" (nobody waits), "under" (under 5 min), "about", "range", "at_least" or
    "unknown". The queue's own estimate when there is one (the queue system's, or ours from
    the collector); else the longest of what the queue shows: the people ahead at the last
    hour's rate of calls, the longest wait so far, the mean wait of the last hour. "Under 5
    min" only while calls are known to be quick; with people waiting and nobody being called,
    only the wait so far, as a floor ("vähintään")."""
    if q.waiting is not None and q.waiting <= 0:
        return ("empty", 0, 0)
    if q.estimate is not None:
        if q.spread is not None and q.spread[1] - q.spread[0] >= 5:
            return ("range", _up5(q.spread[0]), _up5(q.spread[1]))
        if q.estimate < 5 and not q.calls_slow():
            return ("under", 0, 5)
        return ("about", _up5(q.estimate), _up5(q.estimate))
    if q.stalled():
        return ("at_least", _up5(q.longest), _up5(q.longest)) if q.longest is not None else ("unknown", 0, 0)
    rate = q.rate_minutes()
    known = [m for m in (rate, q.longest, q.mean) if m is not None]
    if not known:
        return ("unknown", 0, 0)
    minutes = max(known)
    if minutes < 5 and rate is not None:
        return ("under", 0, 5)
    return ("about", _up5(minutes), _up5(minutes))


def wait_estimate(q: Queue, langs: list[str]) -> Words:
    """The estimate in words: "Ei jonoa", "alle 5 min", "noin 15 min", "15–25 min",
    "vähintään 10 min", or a dash."""
    kind, low, high = expected_wait(q)
    if kind == "empty":
        return say(langs, "queue_empty")
    if kind == "under":
        return say(langs, "wait_under", n=5)
    if kind == "about":
        return say(langs, "wait_about", n=high)
    if kind == "range":
        return say(langs, "wait_range", low=low, high=high)
    if kind == "at_least":
        return say(langs, "wait_at_least", n=low)
    return "–"


def queue_facts(tiles: Tiles, unit: str, q: str) -> Queue:
    def value(metric: str) -> float | None:
        x = tiles.get((metric, unit, q))
        return float(x["value"]) if x and x["status"] != "unavailable" else None

    est = tiles.get(("queue.estimated_wait_min", unit, q))
    rng = est.get("range") if est and est["status"] != "unavailable" else None
    spread = (float(rng[0]), float(rng[1])) if isinstance(rng, list | tuple) and len(rng) == 2 else None
    return Queue(waiting=value("queue.waiting"), longest=value("queue.longest_wait_min"),
                 mean=value("queue.avg_wait_min"), called=value("queue.called_last_hour"),
                 points=value("queue.points_open"), estimate=value("queue.estimated_wait_min"), spread=spread)


def public_queue_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    """The waiting room: per queue, how many wait and what a person joining now may expect
    (the estimate's own tile where there is one, else the mean wait's tile says it)."""
    langs = d.languages
    cards = []
    for unit in d.units:
        rows = []
        for q in keys(tiles, "queue.waiting", unit):
            facts = queue_facts(tiles, unit, q)
            shown_by = "queue.estimated_wait_min" if facts.estimate is not None else "queue.avg_wait_min"
            rows.append(html.Div(
                [
                    html.Div(key_name(config, q, langs), className="row-label"),
                    figure(tile(tiles, "queue.waiting", unit, q, langs, cls="big", public=True),
                           say(langs, "waiting")),
                    figure(tile(tiles, shown_by, unit, q, langs, cls="estimate", text=wait_estimate(facts, langs),
                                public=True, derived=True),
                           say(langs, "wait_estimate"), cls="wide"),
                    figure(tile(tiles, "queue.longest_wait_min", unit, q, langs, public=True),
                           say(langs, "longest_min")),
                    *row_note(tiles, [(m, unit, q) for m in (*QUEUE_METRICS[:2], shown_by)
                                      if m != shown_by or (m, unit, q) in tiles], langs, now, config.tz_of(unit)),
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
                    *staff_note(tiles, unit, p, langs),
                    *row_note(tiles, [(m, unit, p) for m in STAFF_METRICS], langs, now, config.tz_of(unit)),
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
                         *row_note(tiles, [(m, unit, r) for m in ("capacity.in_use", "capacity.total")], langs, now, config.tz_of(unit))],
                        className="res",
                    )
                    for r in resources
                ],
                className="resources",
            ))
        if keys(tiles, "appointments.free_3wd", unit):
            rows.append(html.Div(say(langs, "free_3wd_means"), className="cardnote"))
        if professions or resources:
            cards.append(card(config, unit, "staff_appointments", langs, rows))
    return cards


def staff_note(tiles: Tiles, unit: str, profession: str, langs: list[str]) -> list[html.Div]:
    """Under a profession's row: how many of those present are substitutes, and the shift
    lead's remark ("lääkäri sairastunut"), as the workbook's staffing row gave them."""
    subs = tiles.get(("staff.substitutes", unit, profession))
    present = tiles.get(("staff.present", unit, profession))
    parts: list[Any] = []
    if subs is not None and subs["status"] != "unavailable":
        n = subs["value"]
        words = {0: "substitutes_none", 1: "substitute_one"}.get(n, "substitutes_n")
        parts.append(html.Span(say(langs, words, n=number(n, langs[0])),
                               className=f"tile subs tile--{subs['status']}", **_attrs("staff.substitutes", unit, profession, subs)))
    if present is not None and present.get("note") and present["status"] != "unavailable":
        if parts:
            parts.append(" · ")
        parts.append(html.Span(present["note"], className="remark"))
    return [html.Div(parts, className="staffnote")] if parts else []


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
             *row_note(tiles, [(m, unit, "") for m in FLOW_METRICS], langs, now, config.tz_of(unit))],
            className="flowfigs",
        )
        status = series["status"] if series else "unavailable"
        chart = html.Div(
            arrivals_chart(series, langs, config.hours(unit), now.astimezone(config.tz_of(unit))),
            className=f"tile chart tile--{status}",
            role="img",
            **{"aria-label": t(langs[0], "arrivals_chart")},
            **_attrs("flow.arrivals_by_hour", unit, "", series),
        )
        cards.append(card(config, unit, "flow", langs, [figures, chart]))
    return cards


ACCESS_METRICS = ("access.within_week_pct", "access.open_past_limit")


def access_cards(config: Config, d: Display, tiles: Tiles, now: datetime) -> list[html.Div]:
    """Access to care on a staff display: each unit's share within the limit this week and its
    open cases past the limit now (the figures and their rules: /history/access)."""
    langs = d.languages
    cards = []
    for unit in d.units:
        if not any((m, unit, "") in tiles for m in ACCESS_METRICS):
            continue
        share = tiles.get(("access.within_week_pct", unit, ""))
        # whole per cents on the wall (read from metres away); data-value keeps the decimal
        pct = None if share is None or share["status"] == "unavailable" else [number(round(share["value"]), langs[0]), " %"]
        figures = html.Div(
            [figure(tile(tiles, "access.within_week_pct", unit, "", langs, cls="big", text=pct),
                    say(langs, "access_within_week")),
             figure(tile(tiles, "access.open_past_limit", unit, "", langs, cls="big"), say(langs, "access_open_past")),
             *row_note(tiles, [(m, unit, "") for m in ACCESS_METRICS], langs, now, config.tz_of(unit))],
            className="flowfigs",
        )
        cards.append(card(config, unit, "access", langs, [figures, html.Div(say(langs, "access_means"), className="cardnote")]))
    return cards


MEASURE_SUFFIX = {"percent": " %", "duration": " min"}


def own_value(m: Metric, x: dict[str, Any] | None, langs: list[str]) -> Words | None:
    """A configured metric's value as its definition says: its decimals, "%" or "min"."""
    if x is None or x["status"] == "unavailable" or not isinstance(x["value"], int | float):
        return None
    return [fixed(x["value"], m.decimals, langs[0]), MEASURE_SUFFIX.get(m.measure, "")]


def limit_note(m: Metric, x: dict[str, Any] | None, langs: list[str]) -> list[html.Div]:
    """Under a value with a limit: "raja 0,65: täyttyy" or "alle rajan 0,65", in words and
    with a mark (never by colour alone)."""
    if x is None or "limit" not in x or x["status"] == "unavailable":
        return []
    limit = {lang: fixed(x["limit"], m.decimals, lang) for lang in langs}
    key = "limit_met" if x["meets"] else ("limit_above" if m.good == "down" else "limit_below")
    words = say_each(langs, {lang: t(lang, key, limit=limit[lang]) for lang in langs})
    return [html.Div([html.Span("✓ " if x["meets"] else "✗ ", className="mark"), html.Span(words)],
                     className=f"limit limit--{'met' if x['meets'] else 'not-met'}",
                     **{"data-limit": _plain(x["limit"]), "data-meets": "true" if x["meets"] else "false"})]


def _formula(config: Config, m: Metric, lang: str) -> str:
    """A derived metric's expression with the metrics' names for their ids, for people."""
    own = config.catalogue()
    text = m.derived.text
    for name in sorted(m.derived.names, key=len, reverse=True):
        other = own.get(name)
        text = text.replace(name, other.name(lang).lower() if other is not None and other.names else name)
    return text.replace("*", "×").replace("/", " / ").replace("  ", " ")


def own_cards(config: Config, d: Display, tiles: Tiles, now: datetime, card_id: str) -> list[html.Div]:
    """A [[cards]] card of the centre's own metrics, per unit that has any of them today: a
    figure per metric (a row per key of a keyed one), a limit's verdict in words, and what a
    derived figure is made of."""
    langs = d.languages
    spec = next(c for c in config.cards if c.id == card_id)
    own = config.catalogue()
    metrics = [own[m] for m in config.card_metrics(card_id) if m in own]
    cards = []
    for unit in d.units:
        if not any(k[0] == m.id and k[1] == unit for m in metrics for k in tiles):
            continue
        plain_figs: list[Any] = []
        rows: list[Any] = []
        for m in metrics:
            name = say_each(langs, {lang: m.name(lang) for lang in langs})
            if m.keyed_by is None:
                x = tiles.get((m.id, unit, ""))
                plain_figs.append(html.Div(
                    [tile(tiles, m.id, unit, "", langs, cls="big", text=own_value(m, x, langs)),
                     html.Div(name, className="cap"), *limit_note(m, x, langs)],
                    className="fig"))
            else:
                for k in keys(tiles, m.id, unit):
                    x = tiles.get((m.id, unit, k))
                    rows.append(html.Div(
                        [html.Div([name, " – ", key_name(config, k, langs)], className="row-label"),
                         tile(tiles, m.id, unit, k, langs, text=own_value(m, x, langs)),
                         *limit_note(m, x, langs),
                         *row_note(tiles, [(m.id, unit, k)], langs, now, config.tz_of(unit))],
                        className="row orow"))
        body: list[Any] = []
        if plain_figs:
            body.append(html.Div(
                [*plain_figs, *row_note(tiles, [(m.id, unit, "") for m in metrics if m.keyed_by is None],
                                        langs, now, config.tz_of(unit))],
                className="flowfigs ownfigs"))
        body += rows
        formulas = [m for m in metrics if m.derived is not None]
        if formulas:
            body.append(html.Div(say_each(langs, {lang: "; ".join(t(lang, "own_is", name=m.name(lang), formula=_formula(config, m, lang))
                                                                  for m in formulas) for lang in langs}),
                                 className="cardnote"))
        cards.append(html.Div(
            [html.H3([html.Span(unit_name(config, unit, langs), className="uname"),
                      html.Span(say_each(langs, {lang: spec.name_in(lang) for lang in langs}), className="sname")]),
             *body],
            className=f"card card--own card--{card_id}", **{"data-card-unit": unit, "data-section": card_id}))
    return cards


def section_cards(config: Config, section: str) -> Any:
    """The drawing of a card of a page's card set: a built-in one, or a [[cards]] card."""
    if section in SECTION:
        return SECTION[section]
    return lambda config, d, tiles, now: own_cards(config, d, tiles, now, section)


def chart_hours(hours: Hours, today: dict[str, Any]) -> list[int]:
    """The clock hours the chart spans: the unit's opening hours (0–24 around the clock),
    widened to any hour outside them in which somebody arrived today."""
    arrived = [int(h) for h, v in today.items() if float(v) > 0 and str(h).isdigit() and 0 <= int(h) < 24]
    first = min([hours.start, *arrived])
    last = max([hours.end - 1, *arrived])
    return list(range(first, last + 1))


def arrivals_chart(series: dict[str, Any] | None, langs: list[str], hours: Hours,
                   now: datetime) -> list[Any]:
    """Arrivals per clock hour over the unit's opening hours: a bar for today and a dotted
    mark for the typical day (same weekday, last 8 weeks). The hour in progress is hatched
    and says so ("kesken"), without the typical hour's mark: half an hour's arrivals are no
    match for a whole typical hour. Plain HTML and CSS, not a plot library: a wall chart
    needs no interaction, scales with the page, and only the bars that changed move.
    The forecast of the day (dayforecast.py), where the model has one: the hours still to
    come get an outlined band (80 %) with a line at the expected count, the legend names it
    "ennuste", and a line under the chart gives the day's expected total with its band.
    `now` is in the site's zone."""
    today = {f"{int(h):02d}": v for h, v in ((series or {}).get("value") or {}).items() if str(h).isdigit()}
    typical = {f"{int(h):02d}": v for h, v in ((series or {}).get("typical") or {}).items() if str(h).isdigit()}
    span = chart_hours(hours, today)
    labels = [f"{h:02d}" for h in span]
    current = f"{now.hour:02d}"
    live = series is not None and series.get("status") != "unavailable"
    outlook = (series or {}).get("forecast") if live else None
    ahead = {h: v for h, v in ((outlook or {}).get("hours") or {}).items() if h in labels and h >= current}
    top = max([1.0, *(float(today.get(h, 0)) for h in labels), *(float(typical[h]) for h in labels if h in typical),
               *(float(v[2]) for v in ahead.values())])

    def pct(v: float) -> str:
        return f"{100 * v / top:.1f}%"

    step = 1 if len(span) <= 12 else 3  # 24 hours: every third hour's label
    bars = []
    for h in labels:
        n = today.get(h, 0)
        running = live and h == current
        marks = [html.Div(className="bar bar--now" if running else "bar", style={"height": pct(float(n))})]
        if h in typical and not running:
            marks.append(html.Div(className="typ", style={"bottom": pct(float(typical[h]))}))
        title = f"{h}: {number(n, langs[0])}" + (f" ({t(langs[0], 'in_progress')})" if running else "")
        extra: dict[str, str] = {}
        if h in ahead:
            mid, lo, hi = ahead[h]
            marks.append(html.Div(className="fc", style={"bottom": pct(float(lo)),
                                                         "height": pct(float(hi) - float(lo))}))
            marks.append(html.Div(className="fcmid", style={"bottom": pct(float(mid))}))
            title += " – " + t(langs[0], "forecast_hour", n=number(round(mid), langs[0]),
                               lo=number(lo, langs[0]), hi=number(hi, langs[0]))
            extra["data-forecast"] = f"{_plain(mid)},{lo},{hi}"
        bars.append(html.Div(marks, className="hour hour--now" if running else "hour", title=title,
                             **{"data-hour": h}, **extra))
    legend = [html.Span(say(langs, "today"), className="key-today")]
    if typical:
        legend.append(html.Span(say(langs, "typical"), className="key-typical"))
    if live and current in labels:
        legend.append(html.Span(say(langs, "in_progress"), className="key-now"))
    if ahead:
        legend.append(html.Span(say(langs, "forecast_key"), className="key-forecast"))
    out = [html.Div(legend, className="legend"),
           html.Div(bars, className="bars", **{"data-hours": hours.text()}),
           html.Div([html.Span(h, className="" if (int(h) - span[0]) % step == 0 else "skip") for h in labels],
                    className="hours")]
    if outlook and outlook.get("total"):
        mid, lo, hi = outlook["total"]
        words = say_each(langs, {lang: t(lang, "forecast_total", n=number(mid, lang), lo=number(lo, lang),
                                         hi=number(hi, lang)) for lang in langs})
        out.append(html.Div(words, className="fctotal",
                            **{"data-forecast-total": f"{mid},{lo},{hi}",
                               "data-forecast-level": _plain(outlook.get("level", ""))}))
    return out


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
    own = config.own_metrics().get(detail["metric"])
    word = (t(lang, REASON_WORDS[detail["metric"]]) if detail["metric"] in REASON_WORDS
            else own.name(lang).lower() if own is not None else detail["metric"])
    where = unit_words(config, unit, lang)
    if detail["key"]:
        where += f", {detail['key'][:1].upper()}{detail['key'][1:]}"
    value = detail["value"] * 100 if detail["metric"] == "staff.present_ratio" else detail["value"]
    limit = detail["limit"] * 100 if detail["metric"] == "staff.present_ratio" else detail["limit"]
    pct = " %" if detail["metric"] == "staff.present_ratio" else ""
    unseen = ""
    if detail.get("unseen"):  # the professions the present ratio could not see
        names = [config.site.names_sv.get(k, k) if lang == "sv" else k for k in detail["unseen"]]
        unseen = f"; {t(lang, 'no_data')}: {', '.join(names)}"
    return (f"{where}: {word} {number(value, lang)}{pct} "
            f"({t(lang, 'limit')} {detail['op']} {number(limit, lang)}{pct}{unseen})")


def unit_words(config: Config, unit: str, lang: str) -> str:
    return config.unit(unit).name_in(lang)


def rules_beside(config: Config, unit: str, u: dict[str, Any], lang: str) -> list[str]:
    """A shift lead's level that the rules disagree with: the rules' level and why, as lines
    ("säännöt: 3 – Vastaanotto, Lääkärin vastaanotto: pisin odotus, min 65 (raja > 60)");
    nothing when they agree, or outside opening hours."""
    if u.get("source") != "manual" or u.get("closed") or u.get("rules_level") in (None, u["level"]):
        return []
    head = t(lang, "rules_level", n=u["rules_level"])
    if u.get("rules_details"):
        why = [reason_text(config, unit, detail, lang) for detail in u["rules_details"]]
    else:
        why = [f"{unit_words(config, unit, lang)}: {r}" for r in u.get("rules_reasons") or []]
    return [f"{head} – {w}" for w in why] or [f"{unit_words(config, unit, lang)}: {head}"]


def _level_updated(unit: str, u: dict[str, Any], tiles: list[dict[str, Any]]) -> str:
    """When the level began: the producer's `updated_at`; else a shift lead's `at`; else the
    newest fresh input of the unit (the rules' level is as new as what they saw)."""
    if u.get("updated_at"):
        return str(u["updated_at"])
    if u.get("source") == "manual" and u.get("at"):
        return str(u["at"])
    seen = [str(x["updated_at"]) for x in tiles if x["unit"] == unit and x["status"] == "fresh"]
    return max(seen, default="")


def unit_level(config: Config, unit: str, u: dict[str, Any], tiles: list[dict[str, Any]],
               lang: str) -> html.Span:
    """One unit's level with the page contract's facts: "Vastaanotto 2"; a shift lead's
    level with a ✎ and, when the rules say otherwise, "(säännöt: 3)"; a closed unit at
    level 1 just "suljettu"."""
    level = int(u["level"])
    status = str(u.get("status") or "fresh")
    manual = u.get("source") == "manual"
    closed = bool(u.get("closed")) and level == 1 and not manual
    attrs = {"data-metric": "escalation.level", "data-unit": unit, "data-key": "", "data-value": str(level),
             "data-status": status, "data-updated": _level_updated(unit, u, tiles),
             "data-fresh-until": str(u.get("fresh_until") or ""),
             "data-source": str(u.get("source") or "rules")}
    parts: list[Any] = [html.Span(unit_words(config, unit, lang), className="uname")]
    if closed:
        attrs["data-closed"] = "true"
        parts.append(html.Span(t(lang, "closed_unit"), className="closedword"))
    else:
        parts.append(html.Span(("✎ " if manual else "") + str(level), className="n",
                               title=LEVEL_NAMES[lang][level]))
        if rules_beside(config, unit, u, lang):
            attrs["data-rules-level"] = str(u["rules_level"])
            parts.append(html.Span(f"({t(lang, 'rules_level', n=u['rules_level'])})", className="rules"))
    acts = u.get("actions")
    if isinstance(acts, dict) and acts.get("total"):
        # "toimenpiteet 2/4 kuitattu": the raised level's actions (staff displays only)
        late = int(acts.get("overdue") or 0)
        parts.append(html.Span(t(lang, "actions_acked", k=acts["acknowledged"], n=acts["total"]),
                               className="acts" + (" acts--late" if late else ""),
                               style={"color": "var(--crit)" if late else "var(--muted)"},
                               **{"data-actions-total": str(acts["total"]),
                                  "data-actions-acknowledged": str(acts["acknowledged"]),
                                  "data-actions-overdue": str(late)}))
    shown = "closed" if closed else str(level)
    return html.Span(parts, className=f"ulvl ulvl--{shown} ulvl--{status}", **attrs)


def escalation_bar(config: Config, escalation: dict[str, Any], lang: str,
                   tiles: list[dict[str, Any]] | None = None,
                   sites: list[dict[str, Any]] | None = None) -> html.Div:
    """The level, large, by number, word and colour; each unit's level (with the page
    contract's facts); the reasons that raised it, and the rules' level beside a shift
    lead's where they disagree."""
    level = escalation["level"]
    reasons = []
    for unit, u in escalation["units"].items():
        if u["level"] == level and (level > 1 or u.get("source") == "manual"):
            if u.get("source") == "manual":
                reasons.append(f"{unit_words(config, unit, lang)}: {u['reasons'][0]} ({t(lang, 'set_by')} {u['by']})")
            else:
                reasons += [reason_text(config, unit, detail, lang) for detail in u.get("details", [])]
        reasons += rules_beside(config, unit, u, lang)
    units = [unit_level(config, unit, u, tiles or [], lang) for unit, u in escalation["units"].items()]
    if sites is not None:  # a region display: each site's level (the worst of its units')
        units = [html.Span([html.Span(r["name_sv"] if lang == "sv" else r["name"], className="uname"),
                            html.Span(str(r["level"]["value"] or "–"), className="n",
                                      **_rattrs(r["site"], "site_level", "", r["level"]))],
                           className=f"ulvl ulvl--{r['level']['value'] or 1}") for r in sites]
    return html.Div(
        [html.Div([html.Span(t(lang, "escalation"), className="cap"),
                   html.Span(str(level), className="lvl"),
                   html.Span(LEVEL_NAMES[lang][level], className="lvlname")], className="lvlbox"),
         html.Div(
             [html.Div(units, className="ulvls"),
              html.Ul([html.Li(r) for r in reasons[:3]]
                      + ([html.Li(t(lang, "more_reasons", n=len(reasons) - 3))] if len(reasons) > 3 else []),
                      className="reasons")],
             className="escside")],
        className=f"escalation escalation--{level}",
        **{"data-escalation": str(level)},
    )


IMPORTANCE_SIGN = {"kiireellinen": "‼", "tärkeä": "⚠", "info": "ℹ"}


def notice_words(n: dict[str, Any], lang: str) -> Any:
    """A notice's text in a language's turn: its Swedish text in Swedish, when it has one;
    otherwise the Finnish text, marked as Finnish for screen readers."""
    if lang == "sv" and n.get("text_sv"):
        return n["text_sv"]
    return n["text"] if lang == "fi" else html.Span(n["text"], lang="fi")


def notices_strip(notices: list[dict[str, Any]], langs: list[str]) -> html.Div:
    def said(n: dict[str, Any], lang: str) -> Any:
        if not n.get("site_name"):
            return notice_words(n, lang)
        # a display that spans sites says whose notice it is: "Harjun sote-asema: …"
        name = n["site_name_sv"] if lang == "sv" and n.get("site_name_sv") else n["site_name"]
        return [html.Span(f"{name}: ", className="nsite"), notice_words(n, lang)]

    def words(n: dict[str, Any]) -> Any:
        if len(langs) == 1:
            return said(n, langs[0])
        return [html.Span(said(n, lang), lang=lang, className="l") for lang in langs]

    items = [
        html.Div(
            [html.Span(IMPORTANCE_SIGN.get(n["importance"], "ℹ"), className="sign", **{"aria-hidden": "true"}),
             html.Span(words(n), className="ntext")],
            className=f"notice notice--{n['importance']}",
            **{"data-notice": n["id"], "data-importance": n["importance"],
               **({"data-site": n["site"]} if n.get("site") else {})},
        )
        for n in notices
    ]
    return html.Div(items, className="notices", **{"data-count": str(len(items))})


def _rattrs(site: str, name: str, key: str, x: dict[str, Any]) -> dict[str, str]:
    """A rolled-up figure's facts for machines and tests (dashboard/domain/region.py): which site,
    which figure, by which rule, its value, status and age; `data-fresh-until` lets the page
    grey it by its own clock, as a tile."""
    return {"data-site": site, "data-figure": name, "data-key": key,
            "data-value": "" if x["value"] is None else _plain(x["value"]),
            "data-status": x["status"], "data-updated": x["updated_at"] or "",
            "data-fresh-until": x.get("fresh_until") or "", "data-rollup": x["rollup"],
            "data-parts": str(x["parts"]), **({"data-bound": x["bound"]} if x.get("bound") else {})}


def rolled(site: str, name: str, x: dict[str, Any], langs: list[str], *, key: str = "",
           cls: str = "", text: Words | None = None) -> html.Span:
    """One rolled-up figure of a site, shown as a tile is (greyed when stale, a dash when
    missing)."""
    attrs = _rattrs(site, name, key, x)
    if x["value"] is None:
        return html.Span(html.Span("–", className="num"), className=f"tile tile--unavailable {cls}",
                         title=t(langs[0], "no_data"), **attrs)
    shown: Words = number(x["value"], langs[0]) if text is None else text
    if x.get("bound") == "above":
        shown = [html.Span(">", className="gt"), shown]
    return html.Span(html.Span(shown, className="num"), className=f"tile tile--{x['status']} {cls}", **attrs)


T3_SHOWN = 4


def region_cards(config: Config, d: Display, model: dict[str, Any], now: datetime) -> list[html.Div]:
    """The regional picture: a card per site, the neediest first (dashboard/domain/region.py): its
    level and why, people waiting and the waits, staff present of planned, free appointments,
    arrivals against the typical day, T3 by profession (median / worst of its units)."""
    langs = d.languages
    lang = langs[0]
    cards = []
    for row in model.get("region") or []:
        site, f = row["site"], row["figures"]
        level = row["level"]
        lvl = level["value"]
        reasons = []
        for r in level["reasons"]:
            if r.get("manual"):
                reasons.append(f"{unit_words(config, r['unit'], lang)}: {r['text']} ({t(lang, 'set_by')} {r['by']})")
            else:
                reasons.append(reason_text(config, r["unit"], r, lang))
        head = html.H3([
            html.Span(say_each(langs, {x: row["name_sv"] if x == "sv" else row["name"] for x in langs}), className="uname"),
            html.Span([html.Span(say(langs, "level_short")), " ",
                       rolled(site, "level", level, langs, cls="lvlnum")],
                      className=f"sitelvl sitelvl--{lvl or 0}", title=LEVEL_NAMES[lang][lvl] if lvl else ""),
        ])
        typical = f["arrivals_vs_typical_pct"]
        figures = html.Div([
            figure(rolled(site, "waiting", f["waiting"], langs, cls="big"), say(langs, "waiting")),
            figure(rolled(site, "longest_wait_min", f["longest_wait_min"], langs, cls="big"), say(langs, "longest_min")),
            figure(rolled(site, "mean_wait_min", f["mean_wait_min"], langs), say(langs, "average_min")),
            figure(rolled(site, "free_3wd", f["free_3wd"], langs), say(langs, "free_3wd_long")),
            figure(html.Span([rolled(site, "staff_present", f["staff_present"], langs), html.Span("/", className="sep"),
                              rolled(site, "staff_planned", f["staff_planned"], langs)], className="pair"),
                   say(langs, "present_planned")),
            figure(rolled(site, "arrivals_today", f["arrivals_today"], langs), say(langs, "arrivals")),
            figure(rolled(site, "arrivals_vs_typical_pct", typical, langs,
                          text=[number(typical["value"], lang), " %"] if typical["value"] is not None else None),
                   say(langs, "of_typical")),
        ], className="regionfigs")
        # the professions whose third free time is furthest, worst first (all of them are in
        # the snapshot; a wall has room for four)
        t3_keys = sorted(row["t3"], key=lambda k: (-(row["t3"][k]["worst"]["value"] or -1), k))
        t3 = [html.Span([html.Span(key_name(config, key, langs), className="t3key"),
                         html.Span([rolled(site, "t3_median", row["t3"][key]["median"], langs, key=key),
                                    html.Span("/", className="sep"),
                                    rolled(site, "t3_worst", row["t3"][key]["worst"], langs, key=key)], className="pair")],
                        className="t3")
              for key in t3_keys[:T3_SHOWN]]
        more = [html.Span(say(langs, "more_reasons", n=len(t3_keys) - T3_SHOWN), className="t3key")] \
            if len(t3_keys) > T3_SHOWN else []
        parts = [figures]
        if t3:
            parts.append(html.Div([html.Span(say(langs, "t3_median_worst"), className="cap"), *t3, *more],
                                  className="t3row"))
        if reasons:
            parts.append(html.Ul([html.Li(r) for r in reasons[:2]]
                                 + ([html.Li(t(lang, "more_reasons", n=len(reasons) - 2))] if len(reasons) > 2 else []),
                                 className="reasons sitereasons"))
        parts += _age_note([*f.values(), *(x[k] for x in row["t3"].values() for k in ("median", "worst"))], langs, now)
        cards.append(html.Div([head, *parts], className=f"card card--region card--level{lvl or 0}",
                              **{"data-card-site": site, "data-section": "region"}))
    return cards


SECTION = {"queues": queue_cards, "capacity": capacity_cards, "flow": flow_cards, "access": access_cards}


class CardMemo:
    """Each unit's cards of a section, drawn once as the JSON the browser holds and shared by
    every display that shows them: kept while the unit's tiles are the very same objects (the
    read model shares them: dashboard/domain/readmodel.py UnitTiles) within the same minute (the
    cards' "updated 7 min ago", which the page keeps current itself). A notice for the whole
    area then redraws its strip on 500 displays, not their 30,000 tiles. The cards with their
    ids (from their place on a board: layouts/patch.py with_ids) are kept by place too."""

    KEEP = 4  # the unit's cards as displays with other sets of its tiles (pages, mode) see them

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str, tuple[str, ...]],
                         list[tuple[str, tuple[Any, ...], list[Any], dict[tuple[str, int], list[Any]]]]] = {}
        self._lock = threading.Lock()
        self._bars: dict[str, tuple[str, tuple[Any, ...], Any]] = {}
        self.drawn = 0  # cards drawn anew (tests read it)

    def cards(self, section: str, unit: str, langs: list[str], minute: str, tiles: tuple[Any, ...],
              draw: Any, place: tuple[str, int]) -> list[Any]:
        """The unit's cards of `section`, with the ids of their place: the first is card
        `place[1]` of the cards container `place[0]`."""
        key = (section, unit, tuple(langs))
        with self._lock:
            entry = next((e for e in self._kept.get(key, ()) if e[0] == minute and len(e[1]) == len(tiles)
                          and all(a is b for a, b in zip(e[1], tiles, strict=True))), None)
        if entry is None:
            entry = (minute, tiles, plain(draw()), {})
            with self._lock:
                self.drawn += 1
                kept = self._kept.setdefault(key, [])
                kept.insert(0, entry)
                del kept[self.KEEP:]
        placed = entry[3].get(place)
        if placed is None:
            placed = [with_ids(c, f"{place[0]}.{place[1] + i}") for i, c in enumerate(entry[2])]
            with self._lock:
                entry[3][place] = placed
        return placed

    def bar(self, display: str, escalation: str, tiles: tuple[Any, ...], draw: Any) -> Any:
        """The display's escalation bar, drawn again only when its levels (`escalation`, as
        JSON) or its tiles (the reasons name their figures) are not the same."""
        with self._lock:
            kept = self._bars.get(display)
        if kept is not None and kept[0] == escalation and len(kept[1]) == len(tiles) and all(
                a is b for a, b in zip(kept[1], tiles, strict=True)):
            return kept[2]
        made = draw()
        with self._lock:
            self._bars[display] = (escalation, tiles, made)
        return made


def board_json(config: Config, d: Display, model: dict[str, Any], memo: CardMemo) -> list[Any]:
    """board() as the JSON the browser holds, with its ids (with_ids), each unit's cards from
    `memo`."""
    if "region" in d.pages:
        return with_ids(plain(board(config, d, model)))  # type: ignore[no-any-return]
    tiles = index(model["tiles"])
    mine: dict[str, list[Any]] = {}
    for x in model["tiles"]:
        mine.setdefault(x["unit"], []).append(x)
    now = datetime.fromisoformat(model["generated_at"])
    minute = model["generated_at"][:16]

    def page(sections: tuple[str, ...], at: int, kind: str, name: str) -> Any:
        container = f"b.1.{at}.0"  # board → pages → page `at` → its cards (with_ids' places)
        cards: list[Any] = []
        for section in sections:
            draw = public_queue_cards if section == "public" else section_cards(config, section)
            for unit in d.units:  # the display as if it showed this unit alone, when drawn
                cards += memo.cards(section, unit, d.languages, minute, tuple(mine.get(unit, ())),
                                    lambda unit=unit, draw=draw: draw(config, d.model_copy(update={"units": [unit]}),
                                                                      tiles, now),
                                    (container, len(cards)))
        shell = with_ids(plain(html.Div(html.Div([], className="cards"), className=f"page page--{kind}",
                                        **{"data-page": name})), f"b.1.{at}")
        shell["props"]["children"]["props"]["children"] = cards
        return shell

    if d.mode == "public":
        pages = [page(("public",), 0, "public", "queues")]
    else:
        sets = config.card_sets()
        pages = [page(sets[p], i, "own" if p not in BUILTIN_PAGES else p, p) for i, p in enumerate(d.pages)]
    # the rest (notices, as-of) drawn as always, around an empty pages container
    rest = with_ids(plain(board(config, d, model, cards=False, bar=False)))
    rest[1]["props"]["children"] = pages
    rest[1]["props"]["data-pages"] = str(len(pages))
    if d.mode == "staff":
        rest[0] = memo.bar(d.id, json.dumps(model["escalation"], sort_keys=True, default=str), tuple(model["tiles"]),
                           lambda: with_ids(plain(escalation_bar(config, model["escalation"], d.lang, model["tiles"])), "b.0"))
    return rest  # type: ignore[no-any-return]


def board(config: Config, d: Display, model: dict[str, Any], cards: bool = True,
          bar: bool = True) -> list[Any]:
    """The whole changing part of a display: its pages of cards, escalation and notices
    (`cards=False`: an empty pages container, `bar=False`: no escalation bar; board_json
    draws those from its memo)."""
    tiles = index(model["tiles"])
    langs = d.languages
    now = datetime.fromisoformat(model["generated_at"])
    pages: list[Any]
    if not cards:
        pages = []
    elif d.mode == "public":
        pages = [html.Div(html.Div(public_queue_cards(config, d, tiles, now), className="cards"),
                          className="page page--public", **{"data-page": "queues"})]
    else:
        sets = config.card_sets()
        pages = [
            html.Div(
                html.Div(region_cards(config, d, model, now) if p == "region" else
                         [c for s in sets[p] for c in section_cards(config, s)(config, d, tiles, now)],
                         className="cards"),
                className=f"page page--{'own' if p not in BUILTIN_PAGES else p}", **{"data-page": p},
            )
            for p in d.pages
        ]
    # on the display's own clock (its sites' zone), as the page's clock shows time
    as_of = datetime.fromisoformat(model["as_of"]).astimezone(config.tz_for(d.units)) if model["as_of"] else None
    return [
        escalation_bar(config, model["escalation"], d.lang, model["tiles"],
                       model.get("region") if d.pages == ["region"] else None) if d.mode == "staff" and bar else html.Div(),
        html.Div(pages, className="pages", **{"data-pages": str(len(pages))}),
        notices_strip(model["notices"], langs),
        html.Div(
            [html.Span(say(langs, "data_as_of")), " ",
             html.Span(say_each(langs, {lang: clock_time(as_of, lang) for lang in langs}) if as_of else "–",
                       className="asof-time")],
            id="as-of-text", className="asof", **{"data-as-of": model["as_of"] or ""},
        ),
    ]
