"""The wall display page, /display/<id>: layout and the callbacks that keep it current.

The page computes nothing: the server builds each display's model once per change (the
ModelCache) and every client of that display gets it. Two ways to deliver it, chosen by
`[site] updates`: "push" (a persistent Dash websocket callback streams each new model) or
"poll" (a dcc.Interval asks; unchanged models cost a 204). Clock, page rotation, the
connection banner and "updated N min ago" run in the browser (assets/display.js).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.config import Config
from dashboard.i18n import TEXT, day_name, t
from dashboard.readmodel import ModelCache
from layouts.components import board

BOARD, ETAG, DISPLAY_ID, TICK, STREAM, META = (
    "board", "model-etag", "display-id", "tick", "stream", "display-meta",
)


@dataclass
class DisplayContext:
    config: Config
    cache: ModelCache
    updates: str  # "push" or "poll"
    poll_ms: int = 2000


def page_layout(ctx: DisplayContext, display_id: str | None = None, **_query: Any) -> Any:
    config = ctx.config
    try:
        d = config.display(display_id or "")
    except KeyError:
        return html.Div(
            [html.H1(t(config.site.language, "unknown_display")), html.P(display_id or "")],
            className="unknown-display",
        )
    model = ctx.cache.get(d.id)
    clock = ctx.cache.store.clock(config.tz)
    meta = {
        "display": d.id,
        "lang": d.language,
        "mode": d.mode,
        "rotate_seconds": d.rotate_seconds,
        "tz": config.site.timezone,
        "clock": clock.to_dict(),
        "texts": {k: TEXT[d.language][k] for k in ("offline", "updated_ago")},
    }
    header = html.Header(
        [
            html.H1(d.title),
            html.Div(
                t(d.language, "demo", day=day_name(clock.now(), d.language)),
                className="demo-banner",
            ) if clock.shifted else None,
            html.Div(id="clock", className="clock"),
        ],
        className="head",
    )
    live = (
        [dcc.Interval(id=TICK, interval=ctx.poll_ms)]
        if ctx.updates == "poll"
        else [html.Div(id=STREAM)]
    )
    return html.Div(
        [
            header,
            html.Div(id="offline-banner", className="offline-banner", hidden=True),
            html.Main(board(config, d, model.data), id=BOARD),
            dcc.Store(id=ETAG, data=model.etag),
            dcc.Store(id=DISPLAY_ID, data=d.id),
            html.Div(id=META, hidden=True, **{"data-meta": json.dumps(meta)}),
            *live,
        ],
        className=f"display display--{d.mode} lang-{d.language}",
        **{"data-display": d.id},
    )


def register(app: dash.Dash, ctx: DisplayContext) -> None:
    dash.register_page(
        "display",
        path_template="/display/<display_id>",
        layout=lambda display_id=None, **q: page_layout(ctx, display_id, **q),
        title="Ohjaustaulu",
    )

    def fresh_board(display_id: str, etag: str | None) -> tuple[list[Any], str]:
        model = ctx.cache.get(display_id)
        if model.etag == etag:
            raise PreventUpdate
        d = ctx.config.display(display_id)
        return board(ctx.config, d, model.data), model.etag

    if ctx.updates == "poll":

        @app.callback(
            Output(BOARD, "children"),
            Output(ETAG, "data"),
            Input(TICK, "n_intervals"),
            State(DISPLAY_ID, "data"),
            State(ETAG, "data"),
            prevent_initial_call=True,
        )
        def poll(_n: int, display_id: str, etag: str) -> tuple[list[Any], str]:
            return fresh_board(display_id, etag)

    else:

        @app.callback(
            Input(STREAM, "id"),
            State(DISPLAY_ID, "data"),
            State(ETAG, "data"),
            websocket=True,
            persistent=True,
        )
        async def push(_id: str, display_id: str, etag: str) -> None:
            while True:
                try:
                    children, etag = await asyncio.to_thread(fresh_board, display_id, etag)
                    dash.set_props(BOARD, {"children": children})
                    dash.set_props(ETAG, {"data": etag})
                except PreventUpdate:
                    pass
                await asyncio.sleep(0.5)

    app.clientside_callback(
        dash.ClientsideFunction("ohjaustaulu", "afterUpdate"),
        Output(DISPLAY_ID, "id"),
        Input(ETAG, "data"),
    )
