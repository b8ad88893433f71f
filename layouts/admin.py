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

from dashboard import access, audit, auth
from dashboard.accounts import list_users
from dashboard.config import Config
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.readmodel import source_health
from dashboard.screens import SILENT_AFTER_SECONDS, screens_view
from layouts.staffbar import ROLE_WORDS, staff_bar

SOURCE_HEAD = ["Lähde", "Tyyppi", "Tila", "Viimeksi onnistunut", "Viimeisin virhe", "Luettu", "Ei kohdistettu"]
SCREEN_HEAD = ["Näyttö", "Näkymä", "Sivu", "Versio", "Tietojen ikä", "Viimeksi kuultu", "Tila", "Osoite"]
SCREEN_STATE = {"ok": "kunnossa", "silent": "⚠ hiljaa", "offline": "⚠ ei yhteyttä", "stale": "⚠ vanhat tiedot"}
SOURCE_STATE = {"ok": "kunnossa", "failing": "⚠ virhe", "stopped": "pysäytetty", "unknown": "ei vielä tietoa"}
ACTION_WORDS = {  # the audit log's events, as the IT team reads them
    "login": "kirjautuminen", "login-failed": "epäonnistunut kirjautuminen",
    "login-throttled": "kirjautuminen hidastettu", "logout": "uloskirjautuminen",
    "correction": "korjaus", "correction-withdraw": "korjaus peruttu", "notice": "tiedote",
    "notice-edit": "tiedote muutettu", "notice-end": "tiedote päätetty", "escalation": "valmiustaso",
    "escalation-clear": "valmiustaso sääntöjen mukaan", "import": "työkirja tuotu",
    "import_rejected": "työkirja hylätty", "import_checked": "työkirja tarkistettu",
    "import_dry_run": "työkirja kokeiltu", "import_repeat": "työkirja jo tuotu",
    "workbook-set-aside": "työkirja siirretty sivuun", "export": "vienti", "audit-export": "lokin vienti",
    "display-token": "näytön tunnus", "display-token-revoke": "näytön tunnukset mitätöity",
    "user-add": "käyttäjä lisätty", "user-disable": "käyttäjä poistettu käytöstä",
    "sessions-end": "istunnot päätetty", "screen-forget": "näyttö unohdettu",
    "reference-import": "vertailuluvut tuotu",
}


def local_time(value: str | datetime | None, tz: ZoneInfo) -> str:
    """A time as the site reads it: "2.12.2026 klo 16.28.05" in the site's zone ("–" for none)."""
    if not value:
        return "–"
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return format_datetime(at, "d.M.yyyy 'klo' H.mm.ss", tzinfo=tz, locale="fi")


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


def screens_table(config: Config, store: LiveStore) -> html.Div:
    rows = [
        html.Tr(
            [html.Td(s["screen"]), html.Td(_display_title(config, s["display"])), html.Td(s.get("page") or "–"),
             html.Td(s.get("version") or "–"), html.Td(_age(s.get("data_age_s"))),
             html.Td(f"{_age(s['silent_for_s'])} sitten"),
             html.Td(SCREEN_STATE[s["state"]], className=f"state state--{s['state']}"),
             html.Td(s.get("address") or "–")],
            className="screen-row",
            **{"data-screen": s["screen"], "data-display": s["display"], "data-state": s["state"]},
        )
        for s in screens_view(store.screens(), datetime.now(UTC))
    ]
    return html.Div([
        html.H2("Näytöt"),
        html.P([f"Näyttö, jolta ei ole kuulunut {SILENT_AFTER_SECONDS // 60} minuuttiin, on merkitty hiljaiseksi. "
                "Poistettu tai vaihdettu näyttö unohdetaan komennolla ",
                html.Code("ohjaustaulu screen forget NÄYTTÖ"), "."])
        if rows else html.P("Yksikään näyttö ei ole vielä ilmoittanut itsestään."),
        html.Table([html.Thead(html.Tr([html.Th(x) for x in SCREEN_HEAD])), html.Tbody(rows)],
                   className="sources screens"),
    ])


def cases_text(h: dict[str, Any], kind: str) -> str:
    """A FHIR source's access-to-care cases, beside its other resources."""
    if kind != "fhir" or "cases_read" not in h:
        return ""
    return f"; hoitoonpääsyn tapauksia {h['cases_read']}, virheellisiä {h['cases_bad']} {h['cases_bad_detail'] or ''}".rstrip()


def sources_table(config: Config, store: LiveStore) -> html.Div:
    rows = []
    for s in config.sources:
        h = source_health(store, s.name, s.kind)
        state = SOURCE_STATE.get(h["state"], h["state"])
        stopped_at = store.source_status(s.name).stopped_at if h["state"] == "stopped" else None
        if stopped_at:
            state = f"{state} {local_time(stopped_at, config.tz)} alkaen"
        error = f"{local_time(h['last_error_at'], config.tz)}: {h['last_error']}" if h["last_error"] else "–"
        rows.append(html.Tr(
            [html.Td(h["name"]), html.Td(h["kind"]), html.Td(state, className=f"state state--{h['state']}"),
             html.Td(local_time(h["last_success"], config.tz)), html.Td(error),
             html.Td(str(h["items_read"])), html.Td(f"{h['items_unmapped']} {h['unmapped_detail'] or ''}".strip()
                                                    + cases_text(h, s.kind))],
            className="source-row", **{"data-source": h["name"], "data-state": h["state"]}))
    return html.Div([
        html.H2("Lähteet"),
        html.P(f"Ajat paikallista aikaa ({config.site.timezone})."),
        html.Table([html.Thead(html.Tr([html.Th(x) for x in SOURCE_HEAD])), html.Tbody(rows)], className="sources"),
    ])


def users_table(history: History) -> html.Div:
    rows = [html.Tr([html.Td(u["name"]), html.Td(ROLE_WORDS.get(str(u["role"]), str(u["role"]))), html.Td(", ".join(u["units"]) or "kaikki"),
                     html.Td("paikallinen" if u["local"] else "OpenID Connect"),
                     html.Td("ei käytössä" if u["disabled"] else "käytössä")], className="user-row",
                    **{"data-user": u["name"]}) for u in list_users(history)]
    return html.Div([
        html.H2("Käyttäjät"),
        html.P(["Tunnukset luodaan komennolla ", html.Code("ohjaustaulu user add NIMI --role ROOLI --password-stdin"),
                ", näyttöjen tunnukset komennolla ", html.Code("ohjaustaulu display-token NÄYTTÖ"), "."]),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Käyttäjä", "Rooli", "Yksiköt", "Kirjautuminen", "Tila")])),
                    html.Tbody(rows)], className="sources users"),
    ])


def audit_table(config: Config, history: History) -> html.Div:
    rows = [html.Tr([html.Td(local_time(e["at"], config.tz)), html.Td(e["who"]),
                     html.Td(ACTION_WORDS.get(e["action"], e["action"])),
                     html.Td(words_of(e["details"])), html.Td(words_of(e["before"])), html.Td(words_of(e["after"]))],
                    className="audit-row", **{"data-action": e["action"]}) for e in audit.entries(history, limit=100)]
    return html.Div([
        html.H2("Tapahtumaloki"),
        html.P([f"Uusimmat 100, ajat paikallista aikaa ({config.site.timezone}). ",
                html.A("Lataa koko loki (CSV)", href="/admin/audit.csv", id="admin-audit-csv")]),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Aika", "Kuka", "Tapahtuma", "Tiedot", "Ennen", "Jälkeen")])),
                    html.Tbody(rows)], className="sources audit"),
    ])


def content(config: Config, store: LiveStore, history: History | None = None) -> list[Any]:
    parts: list[Any] = [screens_table(config, store), sources_table(config, store)]
    if history is not None:
        parts += [users_table(history), audit_table(config, history)]
    return parts


def layout(config: Config, store: LiveStore, history: History | None = None, **_query: Any) -> html.Div:
    p = access.require("admin")
    return html.Div([
        staff_bar(p, "/admin"),
        html.H1("Ohjaustaulu – ylläpito"),
        html.Div(content(config, store, history), id="admin-content"),
        dcc.Interval(id="admin-refresh", interval=10_000),
    ], className="admin")


def register(app: dash.Dash, config: Config, store: LiveStore, history: History | None = None) -> None:
    dash.register_page("admin", path="/admin", layout=lambda **q: layout(config, store, history, **q),
                       title="Ohjaustaulu – ylläpito")

    @app.callback(Output("admin-content", "children"), Input("admin-refresh", "n_intervals"),
                  prevent_initial_call=True)
    def refresh(_n: int) -> list[Any]:
        access.require("admin")
        return content(config, store, history)

    if history is not None:
        server: Any = app.server

        @server.get("/admin/audit.csv")
        def audit_csv() -> Response:
            access.require("admin")
            audit.record(history, auth.who(), "audit-export", {})
            return Response(audit.to_csv(audit.entries(history, limit=10_000_000)), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="ohjaustaulu-tapahtumaloki.csv"'})
