"""/admin: the sources and their health, for the IT team. (Screens and their heartbeats,
users and the audit log join it with the kiosk and roles issues.)"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboard.config import Config
from dashboard.livestore import LiveStore
from dashboard.readmodel import source_health

HEAD = ["Lähde", "Tyyppi", "Tila", "Viimeksi onnistunut", "Viimeisin virhe", "Luettu", "Ei kohdistettu"]


def layout(config: Config, store: LiveStore, **_query: Any) -> html.Div:
    rows = []
    for s in config.sources:
        h = source_health(store, s.name, s.kind)
        rows.append(html.Tr(
            [html.Td(h["name"]), html.Td(h["kind"]), html.Td(h["state"], className=f"state state--{h['state']}"),
             html.Td(h["last_success"] or "–"), html.Td(f"{h['last_error_at'] or ''} {h['last_error'] or ''}".strip() or "–"),
             html.Td(str(h["items_read"])), html.Td(f"{h['items_unmapped']} {h['unmapped_detail'] or ''}".strip())],
            className="source-row", **{"data-source": h["name"], "data-state": h["state"]}))
    return html.Div([
        html.H1("Lähteet"),
        html.Table([html.Thead(html.Tr([html.Th(x) for x in HEAD])), html.Tbody(rows)], className="sources"),
        dcc.Interval(id="admin-refresh", interval=10_000),
    ], className="admin")


def register(config: Config, store: LiveStore) -> None:
    dash.register_page("admin", path="/admin", layout=lambda **q: layout(config, store, **q),
                       title="Ohjaustaulu – ylläpito")
