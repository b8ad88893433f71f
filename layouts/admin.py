"""/admin: the screens and their heartbeats, the sources and their health, the users, and
the audit log (viewable here, exportable as CSV), for the IT team."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, dcc, html
from fastapi.responses import Response

from dashboard import access, audit, auth
from dashboard.accounts import list_users
from dashboard.config import Config
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.readmodel import source_health
from dashboard.screens import SILENT_AFTER_SECONDS, screens_view

SOURCE_HEAD = ["Lähde", "Tyyppi", "Tila", "Viimeksi onnistunut", "Viimeisin virhe", "Luettu", "Ei kohdistettu"]
SCREEN_HEAD = ["Näyttö", "Näkymä", "Sivu", "Versio", "Tietojen ikä", "Viimeksi kuultu", "Tila", "Osoite"]
SCREEN_STATE = {"ok": "kunnossa", "silent": "⚠ hiljaa", "offline": "⚠ ei yhteyttä", "stale": "⚠ vanhat tiedot"}


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def screens_table(store: LiveStore) -> html.Div:
    rows = [
        html.Tr(
            [html.Td(s["screen"]), html.Td(s["display"]), html.Td(s.get("page") or "–"),
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
        html.P(f"Näyttö, jolta ei ole kuulunut {SILENT_AFTER_SECONDS // 60} minuuttiin, on merkitty hiljaiseksi.")
        if rows else html.P("Yksikään näyttö ei ole vielä ilmoittanut itsestään."),
        html.Table([html.Thead(html.Tr([html.Th(x) for x in SCREEN_HEAD])), html.Tbody(rows)],
                   className="sources screens"),
    ])


def sources_table(config: Config, store: LiveStore) -> html.Div:
    rows = []
    for s in config.sources:
        h = source_health(store, s.name, s.kind)
        rows.append(html.Tr(
            [html.Td(h["name"]), html.Td(h["kind"]), html.Td(h["state"], className=f"state state--{h['state']}"),
             html.Td(h["last_success"] or "–"), html.Td(f"{h['last_error_at'] or ''} {h['last_error'] or ''}".strip() or "–"),
             html.Td(str(h["items_read"])), html.Td(f"{h['items_unmapped']} {h['unmapped_detail'] or ''}".strip())],
            className="source-row", **{"data-source": h["name"], "data-state": h["state"]}))
    return html.Div([
        html.H2("Lähteet"),
        html.Table([html.Thead(html.Tr([html.Th(x) for x in SOURCE_HEAD])), html.Tbody(rows)], className="sources"),
    ])


def users_table(history: History) -> html.Div:
    rows = [html.Tr([html.Td(u["name"]), html.Td(u["role"]), html.Td(", ".join(u["units"]) or "kaikki"),
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


def audit_table(history: History) -> html.Div:
    rows = [html.Tr([html.Td(e["at"][:19].replace("T", " ")), html.Td(e["who"]), html.Td(e["action"]),
                     html.Td(json.dumps(e["details"], ensure_ascii=False)[:120]),
                     html.Td(json.dumps(e["before"], ensure_ascii=False)[:80]),
                     html.Td(json.dumps(e["after"], ensure_ascii=False)[:80])], className="audit-row",
                    **{"data-action": e["action"]}) for e in audit.entries(history, limit=100)]
    return html.Div([
        html.H2("Tapahtumaloki"),
        html.P(["Uusimmat 100 (kaikki ajat UTC). ", html.A("Lataa koko loki (CSV)", href="/admin/audit.csv", id="admin-audit-csv")]),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("Aika", "Kuka", "Tapahtuma", "Tiedot", "Ennen", "Jälkeen")])),
                    html.Tbody(rows)], className="sources audit"),
    ])


def content(config: Config, store: LiveStore, history: History | None = None) -> list[Any]:
    parts: list[Any] = [screens_table(store), sources_table(config, store)]
    if history is not None:
        parts += [users_table(history), audit_table(history)]
    return parts


def layout(config: Config, store: LiveStore, history: History | None = None, **_query: Any) -> html.Div:
    access.require("admin")
    return html.Div([
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
