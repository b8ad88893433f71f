"""The web app factory: Dash 4 on its FastAPI backend. No I/O happens at import time."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import dash
from dash import html
from fastapi.responses import JSONResponse, Response

from dashboard.config import Config
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.readmodel import ModelCache, snapshot
from layouts import admin, display, tablet

ASSETS = Path(__file__).resolve().parent.parent / "layouts" / "assets"


def create_app(config: Config, store: LiveStore, history: History | None,
               data_dir: Path | None = None) -> dash.Dash:
    updates = config.site.updates
    app = dash.Dash(
        "ohjaustaulu",
        backend="fastapi",
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="Ohjaustaulu",
        update_title=None,
        suppress_callback_exceptions=True,
        websocket_callbacks=False,
        compress=True,
    )
    cache = ModelCache(config, store, history)
    display.register(app, display.DisplayContext(config, cache, updates))
    if history is not None and data_dir is not None:
        tablet.register(app, tablet.TabletContext(config, store, history, data_dir))
    admin.register(config, store)
    dash.register_page("index", path="/", layout=lambda **_: index_page(config))
    app.layout = html.Div(dash.page_container)
    server: Any = app.server
    server.state.cache = cache
    _first_request_setup(app)

    @server.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @server.get("/ready")
    def ready() -> JSONResponse:
        checks = {"redis": _check(store.ping), "database": _check(history.ping) if history else "absent"}
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(checks, status_code=200 if ok else 503)

    @server.get("/tablet/template.xlsx")
    def workbook_template() -> Response:
        from dashboard.workbook.template import template

        return Response(template(config, config.site.language), headers={
            "Content-Disposition": 'attachment; filename="ohjaustaulu.xlsx"'},
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @server.get("/api/snapshot/{display_id}")
    def display_snapshot(display_id: str) -> JSONResponse:
        try:
            return JSONResponse(snapshot(cache.get(display_id), config, store))
        except KeyError:
            return JSONResponse({"error": f"unknown display {display_id}"}, status_code=404)

    return app


def _first_request_setup(app: dash.Dash) -> None:
    """Dash's FastAPI backend runs its one-time setup hooks (assets, the pages router and its
    inline scripts) only on a request for "/" or "/_dash-*". A screen whose first request is
    its /display/<id> address would get a page without our CSS and JS, and with a broken
    router. Run those hooks now, before any request (Dash 4.4.1)."""
    for hook in list(app.backend._before_request_funcs):  # type: ignore[attr-defined]
        result = hook()
        if inspect.isawaitable(result):
            asyncio.run(result)


def _check(fn: Any) -> str:
    try:
        fn()
        return "ok"
    except Exception as err:  # a readiness probe reports any failure, whatever its type
        return f"error: {err}"


def index_page(config: Config) -> html.Div:
    return html.Div(
        [
            html.H1(config.site.name),
            html.Ul(
                [html.Li(html.A(f"{d.title} ({d.mode})", href=f"/display/{d.id}")) for d in config.displays]
            ),
        ],
        className="index",
    )
