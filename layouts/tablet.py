"""The shift lead's page, /tablet: upload the control-board workbook (touch-friendly: one
large drop zone that opens the file picker on a tap), download the empty template, and see
every problem in place — sheet, row, column, value, what was expected — in the site's
language. Corrections, notices and the escalation level arrive with the tablet issue."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import dash
from babel.dates import format_datetime
from dash import ALL, Input, Output, State, dcc, html
from dash import ctx as trigger

from dashboard.config import Config, Display
from dashboard.domain.metrics import LABEL_FI, normalise_key
from dashboard.domain.readmodel import build
from dashboard.i18n import BABEL, clock_time, number
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import N_, _, lang
from dashboard.web import access
from dashboard.web.auth import who
from dashboard.web.shiftlead import (
    ACTION_STATES,
    MAX_KEY,
    Refused,
    ShiftLead,
    Unconfirmed,
    action_key,
)
from dashboard.web.shiftlead import SOURCE as TABLET_SOURCE
from dashboard.workbook.importer import Report, import_bytes, source_name
from dashboard.workbook.reader import MAX_BYTES
from layouts.components import rules_beside
from layouts.staffbar import staff_bar
from layouts.widgets import answer_actions, dropdown_labels, message

UPLOAD, RESULT = "wb-upload", "wb-result"
WITHDRAWN = "tablet-withdraw-result"
TAP = "tablet-withdraw-tap"  # the tapped figure, set in the browser (assets/tablet.js)
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


METRIC_NAMES = LABEL_FI
VALID_NAMES = {"1h": N_("tunnin"), "4h": N_("4 tuntia"), "day": N_("päivän loppuun")}
# The key drop-down's choice "a new key": the text field beside it then names the key, and the
# request says so (a key not known is refused otherwise, dashboard/web/shiftlead.py). Upper case:
# no key is ever this (keys are lower case); assets/tablet.js knows it too.
NEW_KEY = "+NEW"
FIX_UNIT, FIX_METRIC, FIX_KEY, FIX_NEW_KEY, FIX_NEW_KEY_FIELD, FIX_VALUE, FIX_VALID, FIX_RESULT = (
    "tablet-fix-unit", "tablet-fix-metric", "tablet-fix-key", "tablet-fix-new-key", "tablet-fix-new-key-field",
    "tablet-fix-value", "tablet-fix-valid", "tablet-fix-result")
FIX_KEY_LABEL = "tablet-fix-key-label"
# what a key of the chosen metric is: its label says so (a centre's own metric may be keyed by
# a free label, neither a queue, a profession nor a resource)
KEY_KINDS = {"queue": N_("jono"), "profession": N_("ammattiryhmä"), "resource": N_("resurssi"),
             "label": N_("tunniste")}
LEVELS = {1: N_("1 Normaali"), 2: N_("2 Kohonnut"), 3: N_("3 Korkea"), 4: N_("4 Kriittinen")}
STATUS_WORDS = {"fresh": N_("ajantasainen"), "stale": N_("◷ vanha"), "unavailable": N_("– ei tietoa")}
IMPORTANCE_WORDS = {"info": N_("info"), "tärkeä": N_("tärkeä"), "kiireellinen": N_("kiireellinen")}


def lead(ctx: TabletContext) -> ShiftLead:
    p = access.require("tablet")
    assert p.user is not None
    return ShiftLead(ctx.config, ctx.store, ctx.history, p.user, lang())


def text(value: Any) -> str:
    """A form field's text; whatever else a hostile request sends in its place is no text."""
    return value if isinstance(value, str) else ""


def texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def metric_label(config: Config, metric: str) -> str:
    """A metric as the page names it, in the request's language: a built-in one by its
    translated label, the centre's own by its configured name."""
    m = config.catalogue().get(metric)
    if m is not None and not m.builtin:
        return m.name(lang())
    return _(METRIC_NAMES[metric]) if metric in METRIC_NAMES else metric


def metric_options(config: Config, sl: ShiftLead) -> list[dict[str, str]]:
    """The form's metric choices: the built-in ones, then the centre's own (none derived)."""
    allowed = sl.metrics()
    ids = [m for m in METRIC_NAMES if m in allowed] + [m for m in config.own_metrics() if m in allowed]
    return [{"label": metric_label(config, m), "value": m} for m in ids]


def key_options(sl: ShiftLead, unit: str, metric: str) -> list[dict[str, str]]:
    """The keys a figure has (its configured ones and those of today's board), and the choice
    of a new one; none for a metric of the unit alone."""
    m = sl.metrics().get(metric)
    if m is None or not m.keyed_by:
        return []
    return [*({"label": key_text(sl.config, k), "value": k} for k in sl.keys(unit, metric)),
            {"label": _("+ uusi tarkenne"), "value": NEW_KEY}]


def key_text(config: Config, key: str) -> str:
    """A key as the page's reader calls it: in Swedish from `[site] names_sv` where given."""
    return config.site.names_sv.get(key, key) if lang() == "sv" else key


def key_label(sl: ShiftLead, metric: str) -> str:
    """The key field's label: what a key of this metric is ("Tarkenne: ammattiryhmä")."""
    m = sl.metrics().get(metric)
    kind = m.keyed_by if m is not None else None
    return _("Tarkenne: {kind}", kind=_(KEY_KINDS[kind])) if kind in KEY_KINDS else _("Tarkenne")


def valid_options(config: Config, metric: str) -> tuple[list[dict[str, str]], str]:
    """The choices of how long a correction stands, and the one chosen at first. A metric
    with its own `manual_hours` stands that long at most: its choices are the shorter ones
    and that length (chosen at first); the others: an hour, four, to the day's end."""
    m = config.catalogue().get(metric)
    hours = m.manual_hours if m is not None else None
    if not hours:
        return [{"label": _(v), "value": k} for k, v in VALID_NAMES.items()], "day"
    shorter = [{"label": _(VALID_NAMES[k]), "value": k} for k, h in (("1h", 1), ("4h", 4)) if h < hours]
    return [*shorter, {"label": _("{hours} h (mittarin oletus)", hours=number(hours, lang())), "value": "metric"}], "metric"


def board_view(ctx: TabletContext, sl: ShiftLead) -> html.Div:
    """Today's figures of the shift lead's units, with where each comes from; a correction
    with the value it overrides and a button to withdraw it.

    The table travels as data and is drawn by the browser (layouts/assets/tables.js, every text
    set as text), not as a Dash component per cell: Dash's renderer froze the tablet for 7–11 s
    at each redraw of 250 rows (every 15 s), so that a shift lead's typing and taps waited."""
    view = Display(id="tabletti", title="tabletti", units=sl.units() or [ctx.config.units[0].code])
    model = build(ctx.config, view, ctx.store, ctx.history, every_metric=True)
    rows = []
    own = ctx.config.own_metrics()
    for x in model.data["tiles"]:
        if x["metric"] not in METRIC_NAMES and x["metric"] not in own:
            continue
        corrects = x.get("corrects")
        # a derived figure is shown, but a tap does not put it in the form: its inputs are corrected
        derived = x["metric"] in own and own[x["metric"]].derived is not None
        attrs = {"data-metric": x["metric"], "data-unit": x["unit"], "data-key": x["key"],
                 "data-value": str(x["value"]), "data-status": x["status"], "data-source": x["source"],
                 "class": "board-row" + (" board-row--corrected" if is_correction(x) else "")
                 + (" board-row--derived" if derived else "")}
        if derived:
            attrs["data-derived"] = "true"
        if corrects:
            attrs["data-corrects"] = str(corrects["value"])
        value = (correction_cell(ctx, x, sl.lang) if is_correction(x)
                 else {"text": number(x["value"], sl.lang), "class": "val"})
        if x.get("note"):  # the workbook's remark on a staffing row ("Huomio")
            value = {**value, "lines": [*value.get("lines", []), {"text": x["note"], "attrs": {"class": "muted note"}}]}
        rows.append({"attrs": attrs, "cells": [
            {"text": unit_label(ctx, x["unit"])}, {"text": metric_label(ctx.config, x["metric"])},
            {"text": key_text(ctx.config, x["key"])},
            # the status and, below it, where the value comes from: one column fewer, so that a
            # portrait tablet shows the whole row
            value, {"text": _(STATUS_WORDS[x["status"]]), "class": f"st st--{x['status']}",
                    "lines": [{"text": x.get("entered_by") or x["source"], "attrs": {"class": "muted src"}}]}]})
    table = {"id": "tablet-board-table", "class": "board-table", "rows": rows,
             "head": [_("Yksikkö"), _("Mittari"), _("Tarkenne"), _("Arvo"), _("Tila ja lähde")]}
    level = model.data["escalation"]["units"]
    return html.Div([
        html.H2(_("Valmiustaso")), html.Ul([level_item(ctx, u, v) for u, v in level.items()], className="levels"),
        html.H2(_("Tänään")),
        # a region that scrolls: reachable by Tab, so that the keyboard scrolls it too
        html.Div(className="scroll", tabIndex="0", role="region",
                 **{"aria-label": _("Tänään"), "data-table": json.dumps(table, ensure_ascii=False)}),
    ])


def is_correction(tile: dict[str, Any]) -> bool:
    """A tile showing a tablet correction (in force or run out, not yet withdrawn)."""
    return bool(tile.get("entered_by")) and tile["source"] == TABLET_SOURCE


def tablet_clock(ctx: TabletContext, sl: ShiftLead) -> html.Time:
    """The day and the time on the shift lead's units' clock ("ti 24.11.2026 klo 10.05"),
    kept current by assets/tablet.js from the store's clock (the demo's shifted one too)."""
    tz = ctx.config.tz_for(sl.units())
    clock = ctx.store.clock(tz)
    now = clock.now().astimezone(tz)
    text = f"{format_datetime(now, 'EEE d.M.yyyy', locale=BABEL[lang()])} {clock_time(now, lang())}"
    return html.Time(text, id="tablet-clock", className="tablet-clock", dateTime=now.isoformat(timespec="minutes"),
                     **{"data-tz": tz.key, "data-lang": lang(), "data-clock": json.dumps(clock.to_dict())})


def correction_cell(ctx: TabletContext, tile: dict[str, Any], lang: str) -> dict[str, Any]:
    """A correction's value, the value it overrides ("automaattinen: 11, klo 10.05"), until
    when it stands, and the button that withdraws it (assets/tablet.js) — in the value's own
    cell, which a portrait tablet shows without scrolling sideways."""
    lines: list[dict[str, Any]] = []
    corrects = tile.get("corrects")
    if corrects:
        what = _("työkirja") if corrects["source"] == source_name(ctx.config) else _("automaattinen")
        at = clock_time(datetime.fromisoformat(corrects["updated_at"]).astimezone(ctx.config.tz_of(tile["unit"])), lang)
        stale = _(" (vanha)") if corrects["status"] != "fresh" else ""
        lines.append({"text": f"{what}: {number(corrects['value'], lang)}, {at}{stale}",
                      "attrs": {"class": "corrects muted", "title": _("lähde {source}", source=corrects["source"])}})
    until = tile.get("valid_until")
    if until and tile["status"] == "fresh":
        at = clock_time(datetime.fromisoformat(until).astimezone(ctx.config.tz_of(tile["unit"])), lang)
        lines.append({"text": _("korjattu {time} asti", time=at), "attrs": {"class": "muted"}})
    return {"text": f"✎ {number(tile['value'], lang)}", "class": "val", "lines": lines,
            "button": {"text": _("Peru korjaus"), "attrs": {
                "class": "button small secondary withdraw",
                "data-figure": figure_id(tile["metric"], tile["unit"], tile["key"])}}}


def figure_id(metric: str, unit: str, key: str) -> str:
    """A figure as an ASCII button id: Dash matches a clicked pattern id to its value by an
    ASCII-escaped copy, so a "lääkäri" in the id would make every click look like none."""
    return quote(f"{metric}|{unit}|{key}", safe="|._-")


def figure_of(value: Any) -> tuple[str, str, str]:
    metric, unit, key = (unquote(text(value)).split("|", 2) + ["", "", ""])[:3]
    return metric, unit, key


MUTED = {"fontWeight": 400, "fontSize": "16px", "color": "#b8c4d0"}  # the board's .muted (display.css)


def level_item(ctx: TabletContext, unit: str, v: dict[str, Any]) -> html.Li:
    """A unit's level; one set by hand shows its reason and who set it, and the rules' own
    level with their reasons when they say otherwise ("säännöt: 3")."""
    manual = v.get("source") == "manual"
    line: list[Any] = [f"{unit_label(ctx, unit)}: {_(LEVELS[v['level']])}"
                       + (f" – {v['reasons'][0]} ({v['by']})" if manual and v.get("reasons") else "")]
    rules = v.get("rules_level")
    attrs = {"data-unit": unit, "data-level": str(v["level"]), "data-source": v.get("source", "rules")}
    if manual and isinstance(rules, int) and rules != v["level"]:
        # the rules' reasons in words, as the wall says them ("pisin odotus, min 65 (raja > 60)")
        said = rules_beside(ctx.config, unit, v, lang()) or [_("säännöt: {level} – ei sääntöjen ylityksiä", level=rules)]
        for text_ in said:
            line += [html.Br(), html.Span(text_, className="rules-level", style={**MUTED, "fontSize": "18px"})]
        attrs["data-rules-level"] = str(rules)
    return html.Li(line, **attrs)


def unit_label(ctx: TabletContext, code: str) -> str:
    if code == "kaikki":
        return _("Kaikki yksiköt")
    return ctx.config.unit(code).name_in(lang())


def notice_time(ctx: TabletContext, n: dict[str, Any], edge: str, now: datetime, form: bool = False) -> str:
    """A notice's start or end on its unit's clock: "klo 16.00" today, "5.12. klo 16.00" on
    another day; as the form takes it (`form`): "16.00", "5.12. 16.00"."""
    tz = ctx.config.notice_tz(n["unit"])
    at = datetime.fromisoformat(n[edge]).astimezone(tz)
    said = f"{at.hour:02d}.{at.minute:02d}" if form else clock_time(at, lang())
    return said if at.date() == now.astimezone(tz).date() else f"{at.day}.{at.month}. {said}"


def notices_view(ctx: TabletContext, sl: ShiftLead) -> html.Div:
    now = sl.now()
    items = [
        html.Li([
            html.Span(f"{n['text']}", className="ntext"),
            html.Span(" · ".join(["", unit_label(ctx, n["unit"]), _(IMPORTANCE_WORDS.get(n["importance"], n["importance"])),
                                  _("julkinen") if n.get("public") else _("henkilökunta"),
                                  *([_("alkaa {time}", time=notice_time(ctx, n, "starts", now))]
                                    if datetime.fromisoformat(n["starts"]) > now else []),
                                  _("päättyy {time}", time=notice_time(ctx, n, "ends", now))]),
                      className="nmeta"),
            *([html.Span(_("Sama teksti on jo toisessa tiedotteessa tälle yksikölle."), className="nwarn")]
              if sl.same_text(n) else []),
            html.Button(_("Muokkaa"), id={"type": "tablet-notice-edit", "id": n["id"]}, className="button small"),
            # ended only at a second tap: the first turns the button into "Vahvista" (assets/tablet.js)
            html.Button(_("Päätä nyt"), id={"type": "tablet-notice-end", "id": n["id"]}, className="button small danger",
                        **{"data-confirm": _("Vahvista")}),
        ], className="notice-item", **{"data-notice": n["id"]})
        for n in sl.notices()
    ]
    return html.Ul(items, className="notice-list") if items else html.P(_("Ei voimassa olevia tiedotteita."))


ESC_NOW, ESC_CONFIRM, ESC_PENDING = "tablet-esc-now", "tablet-esc-confirm", "tablet-esc-pending"
ACTIONS, ACTION_RESULT, ACTIONS_SHOWN = "tablet-actions", "tablet-action-result", "tablet-actions-shown"


def level_now(ctx: TabletContext, sl: ShiftLead, unit: str) -> tuple[dict[str, Any], str]:
    """The unit's level in force now and its source in words: where the form starts from."""
    if not unit:
        return {"level": 1, "source": "rules"}, ""
    v = sl.current_level(unit)
    v = {**v, "source": v.get("source") or "rules"}
    said = _("Nyt: {level}", level=_(LEVELS[int(v["level"])]))
    said += (" – " + _("asettanut {who}", who=v.get("by", "")) if v["source"] == "manual"
             else " – " + _("sääntöjen mukaan"))
    return v, said


def actions_view(ctx: TabletContext, sl: ShiftLead) -> html.Div:
    """The open actions of the lead's raised units: each with its due time and, until it is
    acknowledged, a note and the two answers; once acknowledged, who said what and when."""
    items = []
    now = sl.now()
    shown = []
    for x in sl.open_actions():
        tz = ctx.config.tz_of(x.unit)
        due = clock_time(x.due.astimezone(tz), lang())
        key = action_key(x)
        attrs = {"data-unit": x.unit, "data-action": x.action.id, "data-episode": x.episode,
                 "data-state": x.ack["state"] if x.ack else ("overdue" if x.overdue(now) else "open")}
        level_word = _("taso")
        head = [html.Span(f"{unit_label(ctx, x.unit)} · {level_word} {x.action.level}", className="nmeta"), html.Br(),
                html.Span(x.text(lang()), className="ntext")]
        if x.ack:
            at = clock_time(datetime.fromisoformat(x.ack["at"]).astimezone(tz), lang())
            said = _("{state}: {who}, {time}", state=_(ACTION_STATES[x.ack["state"]]), who=x.ack["by"], time=at)
            body = [html.Br(), html.Span(said + (f" – {x.ack['note']}" if x.ack.get("note") else ""), className="nmeta")]
        else:
            late = x.overdue(now)
            body = [html.Br(), html.Span(_("myöhässä, piti kuitata {time} mennessä", time=due) if late
                                         else _("kuitattava {time} mennessä", time=due),
                                         className="nwarn" if late else "nmeta"),
                    html.Label([html.Span(_("Huomautus")),
                                dcc.Input(id={"type": "tablet-action-note", "id": key}, type="text", maxLength=200)],
                               className="field"),
                    html.Button(_("Tehty"), id={"type": "tablet-action-done", "id": key}, className="button small"),
                    html.Button(_("Ei tarpeen"), id={"type": "tablet-action-skip", "id": key},
                                className="button small secondary")]
        shown.append(f"{key}:{attrs['data-state']}")
        items.append(html.Li([*head, *body], className="notice-item action-item", **attrs))
    return html.Div([dcc.Store(id=ACTIONS_SHOWN, data=shown),
                     html.Ul(items, className="notice-list") if items
                     else html.P(_("Ei avoimia toimenpiteitä."), className="muted")])


def layout(ctx: TabletContext, **_query: Any) -> html.Div:
    tx = TEXT[lang()]
    p = access.require("tablet")
    assert p.user is not None
    sl = ShiftLead(ctx.config, ctx.store, ctx.history, p.user, lang())
    units = [{"label": unit_label(ctx, u), "value": u} for u in sl.units()]
    first_unit = units[0]["value"] if units else ""
    valid_choices, valid_first = valid_options(ctx.config, "staff.present")
    notice_units = units + ([{"label": _("Kaikki yksiköt"), "value": "kaikki"}] if not p.user.units else [])
    closing = f"{ctx.config.site.opening_hours[1]:02d}.00"
    now_level, now_said = level_now(ctx, sl, first_unit)
    field = lambda label, comp: html.Label([html.Span(label), comp], className="field")  # noqa: E731
    # radio buttons and check boxes: a group, named by its legend (a label holds one control)
    group = lambda legend, comp: html.Fieldset([html.Legend(legend), comp], className="field")  # noqa: E731
    return html.Div(
        [
            staff_bar(p, "/tablet"),
            html.Header([html.H1(_("Vuorovastaava")), tablet_clock(ctx, sl)], className="tablet-head"),
            html.Div([
                # today's board across the page in landscape too: a whole row, its source included
                html.Section([html.Div(id=WITHDRAWN, role="status"), dcc.Store(id=TAP),
                              html.Div(board_view(ctx, sl), id="tablet-board"),
                              dcc.Interval(id="tablet-refresh", interval=15_000)], className="panel panel--wide"),
                html.Section([
                    html.H2(_("Korjaa arvo")),
                    field(_("Yksikkö"), dcc.Dropdown(units, first_unit or None, id=FIX_UNIT,
                                                     clearable=False, labels=dropdown_labels(lang()))),
                    field(_("Mittari"), dcc.Dropdown(metric_options(ctx.config, sl), "staff.present", id=FIX_METRIC,
                                                     clearable=False, labels=dropdown_labels(lang()))),
                    # the keys the figure has; a new one only by choosing so (then typed below)
                    html.Label([html.Span(key_label(sl, "staff.present"), id=FIX_KEY_LABEL),
                                dcc.Dropdown(key_options(sl, first_unit, "staff.present"), None, id=FIX_KEY,
                                             labels=dropdown_labels(lang()))], className="field"),
                    html.Div(field(_("Uusi tarkenne"), dcc.Input(id=FIX_NEW_KEY, type="text", maxLength=MAX_KEY)),
                             id=FIX_NEW_KEY_FIELD, hidden=True),
                    field(_("Uusi arvo"), dcc.Input(id=FIX_VALUE, type="text", inputMode="decimal")),
                    group(_("Voimassa"), dcc.RadioItems(valid_choices, valid_first, id=FIX_VALID, inline=True)),
                    html.Button(_("Tallenna korjaus"), id="tablet-fix-save", className="button"),
                    html.Div(id=FIX_RESULT, role="status"),
                ], className="panel"),
                html.Section([
                    html.H2(_("Tiedotteet")),
                    html.Div(notices_view(ctx, sl), id="tablet-notices"),
                    html.H3(_("Uusi tiedote"), id="tablet-notice-title"),
                    dcc.Store(id="tablet-notice-editing"),
                    field(_("Teksti (enintään 200 merkkiä)"), dcc.Textarea(id="tablet-notice-text", maxLength=200)),
                    # shown in the Swedish turns of bilingual screens; without it, the Finnish text
                    field(_("Teksti ruotsiksi (valinnainen; kaksikielisten näyttöjen ruotsinkielisellä vuorolla)"),
                          dcc.Textarea(id="tablet-notice-text-sv", maxLength=200)),
                    group(_("Yksiköt"), dcc.Checklist(notice_units, [], id="tablet-notice-units", inline=True)),
                    group(_("Tärkeys"), dcc.RadioItems([{"label": _(v), "value": k} for k, v in IMPORTANCE_WORDS.items()],
                                                       "info", id="tablet-notice-importance", inline=True)),
                    group(_("Näytetään"), dcc.Checklist([{"label": _("myös odotustilan näytöillä (julkinen)"), "value": "public"}],
                                                        [], id="tablet-notice-public")),
                    field(_("Alkaa (tyhjä: heti; 12.00 tai 5.12. 8.00)"), dcc.Input(id="tablet-notice-starts", type="text")),
                    field(_("Päättyy (16.00 tai 5.12. 16.00)"), dcc.Input(id="tablet-notice-ends", type="text", value=closing)),
                    html.Button(_("Julkaise"), id="tablet-notice-save", className="button"),
                    html.Div(id="tablet-notice-result", role="status"),
                ], className="panel"),
                html.Section([
                    html.H2(_("Aseta tai vahvista valmiustaso")),
                    field(_("Yksikkö"), dcc.Dropdown(units, units[0]["value"] if units else None, id="tablet-esc-unit",
                                                     clearable=False, labels=dropdown_labels(lang()))),
                    html.P(now_said, id=ESC_NOW, className="muted"),
                    group(_("Taso"), dcc.RadioItems([{"label": _(v), "value": k} for k, v in LEVELS.items()],
                                                    now_level["level"], id="tablet-esc-level", inline=True)),
                    field(_("Perustelu"), dcc.Input(id="tablet-esc-reason", type="text", maxLength=200)),
                    html.Button(_("Aseta taso"), id="tablet-esc-save", className="button"),
                    html.Button(_("Palauta sääntöjen mukaiseksi"), id="tablet-esc-clear", className="button secondary"),
                    # a lower level or a hand-back to the rules asks for a second tap here
                    html.Button(_("Vahvista"), id=ESC_CONFIRM, className="button danger", hidden=True),
                    dcc.Store(id=ESC_PENDING),
                    html.Div(id="tablet-esc-result", role="status"),
                ], className="panel"),
                html.Section([
                    html.H2(_("Toimenpiteet")),
                    html.Div(actions_view(ctx, sl), id=ACTIONS),
                    html.Div(id=ACTION_RESULT, role="status"),
                ], className="panel", id="tablet-actions-panel"),
                html.Section([
                    html.H2(tx["title"]),
                    # the label names Dash's file field and opens its picker on a tap (the
                    # zone's own click is off: one tap, one picker)
                    html.Label(dcc.Upload(id=UPLOAD, children=html.Div(tx["drop"]), className="upload",
                                          max_size=MAX_BYTES, multiple=False, disable_click=True)),
                    html.A(tx["template"], href="/tablet/template.xlsx", className="button", download="ohjaustaulu.xlsx"),
                    dcc.Loading(html.Div(id=RESULT, className="result")),
                ], className="panel"),
            ], className="tablet-grid"),
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
    dash.register_page("tablet", path="/tablet", layout=lambda **q: layout(ctx, **q),
                       title=lambda **kw: _("Ohjaustaulu – tabletti"))

    # the new key's field shows while the key drop-down says "a new key" (assets/tablet.js)
    app.clientside_callback(dash.ClientsideFunction("tablet", "newKeyHidden"),
                            Output(FIX_NEW_KEY_FIELD, "hidden"), Input(FIX_KEY, "value"))

    @app.callback(Output(RESULT, "children"), Input(UPLOAD, "contents"), State(UPLOAD, "filename"),
                  prevent_initial_call=True)
    def upload(contents: str | None, filename: str | None) -> Any:
        sl = lead(ctx)
        if not contents or not isinstance(contents, str):
            return dash.no_update
        name = os.path.basename(text(filename).replace("\\", "/"))[:200] or "tyokirja.xlsx"
        try:
            data = base64.b64decode(contents.split(",", 1)[1], validate=True)
        except (IndexError, ValueError):
            return message(False, _("{name}: tiedosto ei tullut perille ehjänä (base64); lataa se uudelleen", name=name))
        # the shift lead's units bound the workbook as they bound the forms
        report = import_bytes(data, name, who(), config=ctx.config, store=ctx.store, history=ctx.history,
                              data_dir=ctx.data_dir, units=sl.user.units or None, lang=lang())
        return result_view(report, name, lang())


    @app.callback(Output("tablet-board", "children"), Input("tablet-refresh", "n_intervals"),
                  Input("tablet-fix-result", "children"), Input("tablet-esc-result", "children"),
                  Input(WITHDRAWN, "children"), prevent_initial_call=True)
    def refresh(*_inputs: Any) -> Any:
        return board_view(ctx, lead(ctx))

    # A tap becomes the figure in a store in the browser (assets/tablet.js); the server answers
    # the store, which the board's redraws do not touch (tablet.js says why an in-flight answer
    # is lost otherwise).
    @app.callback(Output(WITHDRAWN, "children"), Input(TAP, "data"), prevent_initial_call=True)
    def withdraw(tap: Any) -> Any:
        if not isinstance(tap, dict) or not isinstance(tap.get("figure"), str):
            raise dash.exceptions.PreventUpdate
        sl = lead(ctx)
        metric, unit, key = figure_of(tap["figure"])
        try:
            _gone, shown = sl.withdraw(unit, metric, key)
        except Refused as err:
            return message(False, err.problems)
        now = (_("näytöillä nyt {value} ({source})", value=number(shown["value"], sl.lang), source=shown["source"])
               if shown else _("näytöillä ei nyt arvoa"))
        return message(True, _("Korjaus peruttu: {unit}, {metric} {key} – {now}.", unit=unit_label(ctx, unit),
                               metric=metric_label(ctx.config, metric), key=key, now=now))

    # The key's choices follow the unit and the metric (and a save, which may have made a new
    # key known); a chosen key stays while the figure has it: a tap on a row of the board sets
    # the key first, then the unit and the metric (assets/tablet.js).
    @app.callback(Output(FIX_KEY, "options"), Output(FIX_KEY, "value"), Output(FIX_KEY, "disabled"),
                  Output(FIX_VALID, "options"), Output(FIX_VALID, "value"), Output(FIX_KEY_LABEL, "children"),
                  Input(FIX_UNIT, "value"), Input(FIX_METRIC, "value"), Input(FIX_RESULT, "children"),
                  State(FIX_KEY, "value"), State(FIX_NEW_KEY, "value"), State(FIX_VALID, "value"),
                  prevent_initial_call=True)
    def fix_choices(unit: str, metric: str, _saved: Any, key: str | None, new_key: str | None, valid: str) -> Any:
        sl = lead(ctx)
        unit, metric, key = text(unit), text(metric), text(key)
        options = key_options(sl, unit, metric)
        values = [o["value"] for o in options]
        if key == NEW_KEY and normalise_key(text(new_key)) in values:  # saved: a new key no more
            key = normalise_key(text(new_key))
        valids, first = valid_options(ctx.config, metric)
        return (options, key if key in values else None, not options,
                valids, valid if valid in [v["value"] for v in valids] else first, key_label(sl, metric))

    @app.callback(Output(FIX_RESULT, "children"), Input("tablet-fix-save", "n_clicks"),
                  State(FIX_UNIT, "value"), State(FIX_METRIC, "value"), State(FIX_KEY, "value"),
                  State(FIX_NEW_KEY, "value"), State(FIX_VALUE, "value"), State(FIX_VALID, "value"),
                  prevent_initial_call=True)
    def fix(_n: int, unit: str, metric: str, key: str | None, new_key: str | None, value: str | None,
            valid: str) -> Any:
        sl = lead(ctx)
        # a new key only when the request says so: the drop-down's "new key", and the key typed
        new = text(key) == NEW_KEY
        try:
            rd = sl.correct(text(unit), text(metric), text(new_key) if new else text(key),
                            text(value) if not isinstance(value, int | float) else value, text(valid), new_key=new)
        except Refused as err:
            return message(False, err.problems)
        lang_ = lang()
        said = (_("Tallennettu: {metric} {key} = {value}", metric=metric_label(ctx.config, rd.metric), key=rd.key,
                  value=number(rd.value, lang_))
                + (_(", voimassa {time} asti", time=clock_time(rd.valid_until.astimezone(ctx.config.tz_of(rd.unit)), lang_))
                   if rd.valid_until else ""))
        _shown, under = sl.figure(rd.metric, rd.unit, rd.key)
        if under is not None:  # say what the walls no longer show
            said += (_("; korvaa työkirjan arvon {value} ({source})", value=number(under[0].value, lang_), source=under[0].source)
                     if under[0].source == source_name(ctx.config) else
                     _("; korvaa automaattisen arvon {value} ({source})", value=number(under[0].value, lang_),
                       source=under[0].source))
        return message(True, said)

    @app.callback(Output("tablet-notice-result", "children"), Output("tablet-notices", "children"),
                  Output("tablet-notice-editing", "data"), Output("tablet-notice-title", "children"),
                  Output("tablet-notice-text", "value"), Output("tablet-notice-text-sv", "value"),
                  Output("tablet-notice-units", "value"),
                  Output("tablet-notice-importance", "value"), Output("tablet-notice-public", "value"),
                  Output("tablet-notice-starts", "value"), Output("tablet-notice-ends", "value"),
                  Input("tablet-notice-save", "n_clicks"), Input({"type": "tablet-notice-edit", "id": ALL}, "n_clicks"),
                  Input({"type": "tablet-notice-end", "id": ALL}, "n_clicks"),
                  State("tablet-notice-editing", "data"), State("tablet-notice-text", "value"),
                  State("tablet-notice-text-sv", "value"),
                  State("tablet-notice-units", "value"), State("tablet-notice-importance", "value"),
                  State("tablet-notice-public", "value"), State("tablet-notice-starts", "value"),
                  State("tablet-notice-ends", "value"), prevent_initial_call=True)
    def notices(_save: int, _edit: list[int], _end: list[int], editing: str | None, body: str, body_sv: str,
                units: list[str], importance: str, public: list[str], starts: str, ends: str) -> Any:
        sl = lead(ctx)
        editing, text_, text_sv, units_ = text(editing) or None, text(body), text(body_sv), texts(units)
        importance, public_, starts, ends = text(importance), texts(public), text(starts), text(ends)
        same = dash.no_update
        form = [same] * 7  # the form's fields: text, Swedish text, units, importance, public, starts, ends
        trig = trigger.triggered_id
        if not trigger.triggered or not trigger.triggered[0].get("value"):
            raise dash.exceptions.PreventUpdate
        try:
            if isinstance(trig, dict) and trig["type"] == "tablet-notice-end":
                sl.end_notice(trig["id"])
                return message(True, _("Tiedote päätetty.")), notices_view(ctx, sl), None, _("Uusi tiedote"), *form
            if isinstance(trig, dict) and trig["type"] == "tablet-notice-edit":
                n = next((x for x in sl.notices() if x["id"] == trig["id"]), None)
                if n is None:
                    raise Refused([_("Tiedotetta ei löydy")])
                now = sl.now()
                return ("", same, n["id"], _("Muokkaa tiedotetta"), n["text"], n.get("text_sv", ""), [n["unit"]],
                        n["importance"], ["public"] if n.get("public") else [],
                        notice_time(ctx, n, "starts", now, form=True) if datetime.fromisoformat(n["starts"]) > now
                        else "", notice_time(ctx, n, "ends", now, form=True))
            posted = sl.post_notice(text_, units_, importance, "public" in public_, ends, editing, text_sv=text_sv,
                                    starts=starts)
        except Refused as err:
            return message(False, err.problems), same, same, same, *form
        said = _("Tiedote julkaistu näytöille.") if not editing else _("Tiedote muutettu.")
        if any(sl.same_text(n) for n in posted):
            said += " " + _("Sama teksti on jo toisessa tiedotteessa tälle yksikölle.")
        return (message(True, said), notices_view(ctx, sl), None, _("Uusi tiedote"), "", "", [], "info", [], "", same)

    @app.callback(Output("tablet-esc-result", "children"), Output(ESC_CONFIRM, "hidden"), Output(ESC_PENDING, "data"),
                  Input("tablet-esc-save", "n_clicks"), Input("tablet-esc-clear", "n_clicks"),
                  Input(ESC_CONFIRM, "n_clicks"), State("tablet-esc-unit", "value"),
                  State("tablet-esc-level", "value"), State("tablet-esc-reason", "value"), State(ESC_PENDING, "data"),
                  prevent_initial_call=True)
    def escalation(_set: int, _clear: int, _confirm: int, unit: str, level: int, reason: str | None,
                   pending: Any) -> Any:
        sl = lead(ctx)
        unit, reason = text(unit), text(reason)
        level = level if isinstance(level, int) and not isinstance(level, bool) else 0
        step = trigger.triggered_id
        confirmed = step == ESC_CONFIRM
        if confirmed:  # the second tap: what the first one asked, as it asked it
            if not isinstance(pending, dict):
                raise dash.exceptions.PreventUpdate
            step = "tablet-esc-clear" if pending.get("clear") else "tablet-esc-save"
            unit, reason = text(pending.get("unit")), text(pending.get("reason"))
            lvl = pending.get("level")
            level = lvl if isinstance(lvl, int) and not isinstance(lvl, bool) else 0
        try:
            if step == "tablet-esc-clear":
                sl.clear_escalation(unit, confirmed=confirmed)
                return (message(True, _("{unit}: taso palautettu sääntöjen mukaiseksi.", unit=unit_label(ctx, unit))),
                        True, None)
            entry = sl.set_escalation(unit, level, reason or "", confirmed=confirmed)
        except Unconfirmed as err:
            ask = {"unit": unit, "level": level, "reason": reason, "clear": step == "tablet-esc-clear"}
            return message(False, err.problems), False, ask
        except Refused as err:
            return message(False, err.problems), True, None
        return (message(True, _("{unit}: valmiustaso {level} päivän loppuun.", unit=unit_label(ctx, unit),
                                level=_(LEVELS[entry["level"]]))), True, None)

    # the form starts from where the unit is: its level in force now, and who or what set it
    @app.callback(Output("tablet-esc-level", "value"), Output(ESC_NOW, "children"), Input("tablet-esc-unit", "value"),
                  Input("tablet-esc-result", "children"), prevent_initial_call=True)
    def escalation_now(unit: str, _said: Any) -> Any:
        sl = lead(ctx)
        unit = text(unit)
        if unit not in sl.units():
            raise dash.exceptions.PreventUpdate
        v, said = level_now(ctx, sl, unit)
        return int(v["level"]), said

    # one callback for the list (no second one writing the same output: every callback body
    # is checked against what its one registration says): a tap marks an action; the refresh
    # and a changed level redraw the list, only when what it shows has changed, so that a
    # note being typed is not wiped every 15 s
    @app.callback(Output(ACTIONS, "children"), Output(ACTION_RESULT, "children"),
                  Input({"type": "tablet-action-done", "id": ALL}, "n_clicks"),
                  Input({"type": "tablet-action-skip", "id": ALL}, "n_clicks"),
                  Input("tablet-refresh", "n_intervals"), Input("tablet-esc-result", "children"),
                  State({"type": "tablet-action-note", "id": ALL}, "value"), State(ACTIONS_SHOWN, "data"),
                  prevent_initial_call=True)
    def acknowledge(_done: list[Any], _skip: list[Any], _n: Any, _said: Any, _notes: list[Any], shown: Any) -> Any:
        sl = lead(ctx)
        return answer_actions(lambda: actions_view(ctx, sl), shown,
                              lambda trig, notes: sl.acknowledge_tap(trig, notes, "tablet-action-done"))

