"""/admin: the screens and their heartbeats, the sources and their health, the users, and
the audit log (viewable here, exportable as CSV), for the IT team."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
from babel.dates import format_datetime
from dash import Input, Output, dcc, html
from fastapi.responses import Response

from dashboard.config import Config
from dashboard.domain.readmodel import source_health
from dashboard.i18n import BABEL
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import N_, _, lang
from dashboard.web import access, auth
from dashboard.web.accounts import list_users
from dashboard.web.screens import SILENT_AFTER_SECONDS, screens_view
from layouts.staffbar import ROLE_WORDS, staff_bar

SOURCE_HEAD = [N_("Lähde"), N_("Tyyppi"), N_("Tila"), N_("Viimeksi onnistunut"), N_("Viimeisin virhe"), N_("Luettu"),
               N_("Ei kohdistettu")]
SCREEN_HEAD = [N_("Näyttö"), N_("Näkymä"), N_("Sivu"), N_("Versio"), N_("Tietojen ikä"), N_("Viimeksi kuultu"),
               N_("Tila"), N_("Osoite")]
SCREEN_STATE = {"ok": N_("kunnossa"), "silent": N_("⚠ hiljaa"), "offline": N_("⚠ ei yhteyttä"),
                "stale": N_("⚠ vanhat tiedot")}
AUDIT_AREA_ONLY = N_("Tapahtumaloki kattaa koko alueen: sen näkevät alueen ylläpitäjät.")  # a site admin is told
SOURCE_STATE = {"ok": N_("kunnossa"), "failing": N_("⚠ virhe"), "stopped": N_("pysäytetty"),
                "unknown": N_("ei vielä tietoa")}
ACTION_WORDS = {  # the audit log's events, as the IT team reads them
    "login": N_("kirjautuminen"), "login-failed": N_("epäonnistunut kirjautuminen"),
    "login-throttled": N_("kirjautuminen hidastettu"), "logout": N_("uloskirjautuminen"),
    "correction": N_("korjaus"), "correction-withdraw": N_("korjaus peruttu"), "notice": N_("tiedote"),
    "notice-edit": N_("tiedote muutettu"), "notice-end": N_("tiedote päätetty"), "escalation": N_("valmiustaso"),
    "escalation-clear": N_("valmiustaso sääntöjen mukaan"), "import": N_("työkirja tuotu"),
    "import_rejected": N_("työkirja hylätty"), "import_checked": N_("työkirja tarkistettu"),
    "import_dry_run": N_("työkirja kokeiltu"), "import_repeat": N_("työkirja jo tuotu"),
    "workbook-set-aside": N_("työkirja siirretty sivuun"), "export": N_("vienti"), "audit-export": N_("lokin vienti"),
    "display-token": N_("näytön tunnus"), "display-token-revoke": N_("näytön tunnukset mitätöity"),
    "user-add": N_("käyttäjä lisätty"), "user-disable": N_("käyttäjä poistettu käytöstä"),
    "sessions-end": N_("istunnot päätetty"), "screen-forget": N_("näyttö unohdettu"),
    "reference-import": N_("vertailuluvut tuotu"),
}
# a time as each language writes it: "2.12.2026 klo 16.28.05", "2.12.2026 kl. 16.28.05", "2026-12-02 16:28:05"
TIME_FORMATS = {"fi": "d.M.yyyy 'klo' H.mm.ss", "sv": "d.M.yyyy 'kl.' H.mm.ss", "en": "yyyy-MM-dd HH:mm:ss"}


def local_time(value: str | datetime | None, tz: ZoneInfo, usual: ZoneInfo | None = None) -> str:
    """A time as the site reads it: "2.12.2026 klo 16.28.05" in the site's zone and the person's
    language ("–" for none); followed by the zone's name when it is not the `usual` one (a
    site of an area in another zone)."""
    if not value:
        return "–"
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    shown = format_datetime(at, TIME_FORMATS[lang()], tzinfo=tz, locale=BABEL[lang()])
    return f"{shown} ({tz.key})" if usual is not None and tz.key != usual.key else shown


def words_of(value: Any) -> str:
    """An audit entry's details, whole: "avain: arvo" pairs, nested values as JSON."""
    if value is None or value == {}:
        return "–"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                         for k, v in value.items())
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _display_title(config: Config, display_id: str) -> str:
    try:
        return f"{config.display(display_id).title} ({display_id})"
    except KeyError:
        return display_id


def _site_words(config: Config, codes: list[str], lang_: str) -> str:
    """Sites by name ("Harjun sote-asema"), or the whole area when a thing spans them all."""
    if len(config.area) > 1 and len(codes) == len(config.area):
        return _("koko alue")
    names = {x.code: x.name_in(lang_) for x in config.area}
    return ", ".join(names.get(c, c) for c in codes) or "–"


def display_site(config: Config, display_id: str, lang_: str) -> tuple[str, str]:
    """A screen's site, for sorting and for people: its display's sites."""
    try:
        codes = [x.code for x in config.display_sites(config.display(display_id))]
    except KeyError:
        return "~", "–"  # a display no longer configured: last
    return ",".join(codes), _site_words(config, codes, lang_)


def row(cells: list[str | dict[str, str]], attrs: dict[str, str]) -> dict[str, Any]:
    """A table's row as data: its cells' texts (or {text, class}) and the row's attributes."""
    return {"attrs": attrs, "cells": [c if isinstance(c, dict) else {"text": c} for c in cells]}


def data_table(head: list[str], rows: list[dict[str, Any]], cls: str, label: str) -> html.Div:
    """A table that travels as data and is drawn by the browser (layouts/assets/tables.js, every
    text set as text). As Dash components (a component per cell) each 10-s refresh of 100 audit
    rows held an admin's page for 2-3 s on an idle 2-core machine, and an area's 500 screens
    would have held it for longer than the refresh; now a refresh that changes nothing draws
    nothing."""
    table = {"class": cls, "head": head, "rows": rows}
    return html.Div(className="table-scroll", tabIndex="0", role="region",
                    **{"aria-label": label, "data-table": json.dumps(table, ensure_ascii=False)})


def admin_scope(p: access.Principal) -> frozenset[str] | None:
    """The units an admin looks after: a site admin's (an account given sites or units), or
    None for an area admin (an account with no scope). Decided where each table is made."""
    return frozenset(p.user.units) if p.user is not None and p.user.units else None


def _within(config: Config, display_id: str, scope: frozenset[str] | None) -> bool:
    """Does a screen's display show only units of `scope`? (A region spanning more sites, or
    a display no longer configured, is the area admins'.)"""
    if scope is None:
        return True
    try:
        return set(config.display(display_id).units) <= scope
    except KeyError:
        return False


def screens_table(config: Config, store: LiveStore, scope: frozenset[str] | None = None) -> html.Div:
    many = len(config.area) > 1  # a wellbeing area: screens grouped by their site
    lang_ = lang()
    found = [s for s in screens_view(store.screens(), datetime.now(UTC)) if _within(config, s["display"], scope)]
    order = {x.code: i for i, x in enumerate(config.area)}
    sites = {s["display"]: display_site(config, s["display"], lang_) for s in found}
    if many:
        # by the area's order of sites; screens of displays that span sites (a region) last
        found.sort(key=lambda s: (order.get(sites[s["display"]][0], len(order)), sites[s["display"]][0],
                                  s["display"], s["screen"]))
    rows = [
        row([*([sites[s["display"]][1]] if many else []),
             s["screen"], _display_title(config, s["display"]), s.get("page") or "–",
             s.get("version") or "–", _age(s.get("data_age_s")), _("{age} sitten", age=_age(s["silent_for_s"])),
             {"text": _(SCREEN_STATE[s["state"]]), "class": f"state state--{s['state']}"},
             s.get("address") or "–"],
            {"class": "screen-row", "data-screen": s["screen"], "data-display": s["display"], "data-state": s["state"],
             "data-site": sites[s["display"]][0]})
        for s in found
    ]
    return html.Div([
        html.H2(_("Näytöt")),
        html.P([_("Näyttö, jolta ei ole kuulunut {minutes} minuuttiin, on merkitty hiljaiseksi. ",
                  minutes=SILENT_AFTER_SECONDS // 60),
                _("Poistettu tai vaihdettu näyttö unohdetaan komennolla "),
                html.Code(_("ohjaustaulu screen forget NÄYTTÖ")), "."])
        if rows else html.P(_("Yksikään näyttö ei ole vielä ilmoittanut itsestään.")),
        data_table([*([_("Toimipiste")] if many else []), *(_(x) for x in SCREEN_HEAD)], rows, "sources screens",
                   _("Näytöt")) if rows else None,
    ])


def cases_text(h: dict[str, Any], kind: str) -> str:
    """A FHIR source's access-to-care cases, beside its other resources."""
    if kind != "fhir" or "cases_read" not in h:
        return ""
    return _("; hoitoonpääsyn tapauksia {read}, virheellisiä {bad} {detail}", read=h["cases_read"], bad=h["cases_bad"],
             detail=h["cases_bad_detail"] or "").rstrip()


def sources_table(config: Config, store: LiveStore, scope: frozenset[str] | None = None) -> html.Div:
    """Every source; a site admin's: those that feed any of their units."""
    many = len(config.area) > 1
    of = config.unit_sites()
    rows = []
    zones: set[str] = set()
    for s in config.sources:
        if scope is not None and not scope & {*s.units, *s.unit_map.values()}:
            continue
        tz = config.source_tz(s)  # the zone of the sites it feeds
        zones.add(tz.key)
        fed = {of[u] for u in [*s.units, *s.unit_map.values()] if u in of}
        site_cell = [_site_words(config, [x.code for x in config.area if x.code in fed], lang())] if many else []
        h = source_health(store, s.name, s.kind)
        state = _(SOURCE_STATE[h["state"]]) if h["state"] in SOURCE_STATE else h["state"]
        stopped_at = store.source_status(s.name).stopped_at if h["state"] == "stopped" else None
        if stopped_at:
            state = _("{state} {time} alkaen", state=state, time=local_time(stopped_at, tz, config.tz))
        error = f"{local_time(h['last_error_at'], tz, config.tz)}: {h['last_error']}" if h["last_error"] else "–"
        rows.append(row(
            [*site_cell, h["name"], h["kind"], {"text": state, "class": f"state state--{h['state']}"},
             local_time(h["last_success"], tz, config.tz), error, str(h["items_read"]),
             f"{h['items_unmapped']} {h['unmapped_detail'] or ''}".strip() + cases_text(h, s.kind)],
            {"class": "source-row", "data-source": h["name"], "data-state": h["state"]}))
    return html.Div([
        html.H2(_("Lähteet")),
        html.P(_("Ajat paikallista aikaa ({zone}).", zone=", ".join(sorted(zones or {config.site.timezone})))),
        data_table([*([_("Toimipiste")] if many else []), *(_(x) for x in SOURCE_HEAD)], rows, "sources",
                   _("Lähteet")),
    ])


def users_table(history: History, scope: frozenset[str] | None = None) -> html.Div:
    """Every account; a site admin's: those whose whole scope is within theirs."""
    users = [u for u in list_users(history) if scope is None or (u["units"] and set(u["units"]) <= scope)]
    rows = [row([u["name"], _(ROLE_WORDS[str(u["role"])]) if str(u["role"]) in ROLE_WORDS else str(u["role"]),
                 ", ".join(u["units"]) or _("kaikki"), _("paikallinen") if u["local"] else "OpenID Connect",
                 _("ei käytössä") if u["disabled"] else _("käytössä")], {"class": "user-row", "data-user": u["name"]})
            for u in users]
    return html.Div([
        html.H2(_("Käyttäjät")),
        html.P([_("Tunnukset luodaan komennolla "), html.Code(_("ohjaustaulu user add NIMI --role ROOLI --password-stdin")),
                _(", näyttöjen tunnukset komennolla "), html.Code(_("ohjaustaulu display-token NÄYTTÖ")), "."]),
        data_table([_("Käyttäjä"), _("Rooli"), _("Yksiköt"), _("Kirjautuminen"), _("Tila")], rows, "sources users",
                   _("Käyttäjät")),
    ])


def audit_table(config: Config, history: History) -> html.Div:
    rows = [row([local_time(e["at"], config.tz), e["who"],
                 _(ACTION_WORDS[e["action"]]) if e["action"] in ACTION_WORDS else e["action"],
                 words_of(e["details"]), words_of(e["before"]), words_of(e["after"])],
                {"class": "audit-row", "data-action": e["action"]}) for e in audit.entries(history, limit=100)]
    return html.Div([
        html.H2(_("Tapahtumaloki")),
        html.P([_("Uusimmat 100, ajat paikallista aikaa ({zone}). ", zone=config.site.timezone),
                html.A(_("Lataa koko loki (CSV)"), href="/admin/audit.csv", id="admin-audit-csv")]),
        data_table([_("Aika"), _("Kuka"), _("Tapahtuma"), _("Tiedot"), _("Ennen"), _("Jälkeen")], rows, "sources audit",
                   _("Tapahtumaloki")),
    ])


def content(config: Config, store: LiveStore, history: History | None = None,
            scope: frozenset[str] | None = None) -> list[Any]:
    """The page's tables for an admin of `scope` (None: the whole area). The audit log spans
    every site and person: an area admin's only."""
    parts: list[Any] = [screens_table(config, store, scope), sources_table(config, store, scope)]
    if history is not None:
        parts.append(users_table(history, scope))
        parts.append(audit_table(config, history) if scope is None else html.Div([
            html.H2(_("Tapahtumaloki")),
            html.P(_(AUDIT_AREA_ONLY), className="msg",
                   id="admin-audit-area-only")]))
    return parts


def layout(config: Config, store: LiveStore, history: History | None = None, **_query: Any) -> html.Div:
    p = access.require("admin")
    return html.Div([
        staff_bar(p, "/admin"),
        html.H1(_("Ohjaustaulu – ylläpito")),
        html.Div(content(config, store, history, admin_scope(p)), id="admin-content"),
        dcc.Interval(id="admin-refresh", interval=10_000),
    ], className="admin")


def register(app: dash.Dash, config: Config, store: LiveStore, history: History | None = None) -> None:
    dash.register_page("admin", path="/admin", layout=lambda **q: layout(config, store, history, **q),
                       title=lambda **kw: _("Ohjaustaulu – ylläpito"))

    @app.callback(Output("admin-content", "children"), Input("admin-refresh", "n_intervals"),
                  prevent_initial_call=True)
    def refresh(_n: int) -> list[Any]:
        return content(config, store, history, admin_scope(access.require("admin")))

    if history is not None:
        server: Any = app.server

        @server.get("/admin/audit.csv")
        def audit_csv() -> Response:
            if admin_scope(access.require("admin")) is not None:  # a site admin: the log spans the area
                raise access.Forbidden(_(AUDIT_AREA_ONLY))
            audit.record(history, auth.who(), "audit-export", {})
            return Response(audit.to_csv(audit.entries(history, limit=10_000_000)), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="ohjaustaulu-tapahtumaloki.csv"'})
