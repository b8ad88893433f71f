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
import logging
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dash
import redis
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.config import Config, Display
from dashboard.domain.clock import Clock, is_working_day
from dashboard.domain.readmodel import Model, ModelCache
from dashboard.i18n import TEXT, day_name, t
from dashboard.observability import Episode
from dashboard.version import app_version
from dashboard.web import access
from layouts.components import CardMemo, board_json, say, say_each
from layouts.patch import changes

log = logging.getLogger(__name__)
# the screens' updates while the live store is away: one line when it goes, one when it is back
STORE = Episode(log, "screens' updates: the live store")

KEEP_RENDERINGS = 8  # per display: screens a few updates behind still get only the changes
BOARD, ETAG, DISPLAY_ID, TICK, STREAM, META, CHANGES = (
    "board", "model-etag", "display-id", "tick", "stream", "display-meta", "board-changes",
)


class ChangeSignal:
    """Wakes every push stream of this process when the live store announces a change: one
    Redis subscription per process, however many screens are connected."""

    def __init__(self, cache: ModelCache):
        self.cache = cache
        self.event: asyncio.Event | None = None
        self.stop = threading.Event()

    def _start(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def fire() -> None:  # on the event loop: wake the waiters, arm a fresh event
            old, self.event = self.event, asyncio.Event()
            if old is not None:
                old.set()

        def changed() -> None:
            try:
                loop.call_soon_threadsafe(fire)
            except RuntimeError:  # the loop is closed: the process is stopping, stop listening
                self.stop.set()

        threading.Thread(target=self.cache.store.listen_changes, args=(changed, self.stop),
                         daemon=True, name="change-listener").start()
        return event

    def arm(self) -> asyncio.Event:
        """The event the next change will set: take it *before* looking at the store, so a
        change between the look and the wait is not missed."""
        if self.event is None:
            self.event = self._start()
        return self.event

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass


@dataclass
class DisplayContext:
    config: Config
    cache: ModelCache
    updates: str  # "push" or "poll"
    poll_ms: int = 2000
    heartbeat_seconds: int = 30
    # the last few renderings of each display, by model etag, as the JSON the screens hold
    rendered: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # each unit's cards, shared by the displays that show them (an area's 500 after a change)
    cards: CardMemo = field(default_factory=CardMemo)

    def render(self, display_id: str, model: Model) -> Any:
        """The board of a model, rendered once whatever the number of screens."""
        with self.lock:
            made = self.rendered.get(display_id, {}).get(model.etag)
        if made is None:
            # drawn outside the lock: one display's drawing holds up no other display's
            made = board_json(self.config, self.config.display(display_id), model.data, self.cards)
            with self.lock:
                kept = self.rendered.setdefault(display_id, {})
                made = kept.setdefault(model.etag, made)
                while len(kept) > KEEP_RENDERINGS:
                    kept.pop(next(iter(kept)))
        return made

    def rendering(self, display_id: str, etag: str | None) -> Any | None:
        with self.lock:
            return self.rendered.get(display_id, {}).get(etag or "")


def closed_days(now: datetime, days: int = 14) -> list[str]:
    """The coming days (site time) that are not working days: weekends and Finnish public
    holidays. The page decides from them, its clock and the opening hours whether it is
    night, without asking the server."""
    today = now.date()
    return [(today + timedelta(days=i)).isoformat() for i in range(days)
            if not is_working_day(today + timedelta(days=i))]


def awake_hours(config: Config, d: Display) -> tuple[list[int], bool]:
    """When the screen is awake: from the earliest opening to the latest closing of its
    units ([start, end] o'clock), and whether on every day (a unit open every day, or around
    the clock, keeps the screen awake on weekends and holidays too)."""
    hours = [config.hours(u) for u in d.units]
    return [min(h.start for h in hours), max(h.end for h in hours)], any(h.every_day for h in hours)


def _path_display() -> str | None:
    """The display id in the address the pages router was asked for: a query parameter of the
    same name (Dash lets it override the path's) never chooses the display."""
    try:
        path = dash.ctx.inputs.get("_pages_location.pathname")
    except Exception:  # called outside a callback (tests, the snapshot)
        return None
    prefix = "/display/"
    if isinstance(path, str) and path.startswith(prefix):
        return urllib.parse.unquote(path[len(prefix):].split("/", 1)[0])
    return None


def page_layout(ctx: DisplayContext, display_id: str | None = None, **query: Any) -> Any:
    config = ctx.config
    display_id = _path_display() or display_id
    access.require("display:read", display_id or "")
    try:
        d = config.display(display_id or "")
    except KeyError:
        return html.Div(
            [html.H1(t(config.site.language, "unknown_display")), html.P(display_id or "")],
            className="unknown-display",
        )
    tz = config.tz_for(d.units)  # its sites' zone: the clock, night and closed days
    try:
        model = ctx.cache.get(d.id)
        clock = ctx.cache.store.clock(tz)
    except redis.RedisError:
        # the live store is away: a screen that reloads now gets the last board this worker
        # built, and its banner says the data is not updating
        last = ctx.cache.last(d.id)
        if last is None:
            raise
        model, clock = last, Clock(tz)
    langs = d.languages
    awake, every_day = awake_hours(config, d)
    meta = {
        "display": d.id,
        "langs": langs,
        "mode": d.mode,
        "updates": ctx.updates,
        "rotate_seconds": d.rotate_seconds,
        "tz": tz.key,
        "clock": clock.to_dict(),
        "night": d.night,
        "opening_hours": awake,
        "closed_days": [] if every_day else closed_days(clock.now()),
        "reload_hour": config.site.reload_hour,
        "version": app_version(),
        "heartbeat_seconds": ctx.heartbeat_seconds,
        "texts": {lang: {k: TEXT[lang][k] for k in ("offline", "no_live_data", "updated_ago", "updated_recent", "closed")} for lang in langs},
    }
    header = html.Header(
        [
            html.H1(say_each(langs, {lang: d.title_in(lang) for lang in langs})),
            html.Div(
                say_each(langs, {lang: t(lang, "demo", day=day_name(clock.now(), lang)) for lang in langs}),
                className="demo-banner",
            ) if clock.shifted else None,
            html.Div(id="page-indicator", className="page-indicator", **{"aria-hidden": "true"}),
            html.Div(id="clock", className="clock", role="timer"),
        ],
        className="head",
    )
    live = (
        [dcc.Interval(id=TICK, interval=ctx.poll_ms)]
        if ctx.updates == "poll"
        # a one-shot interval starts the push stream once the page is on screen (a plain
        # Input on a component's id does not fire for a page's dynamically inserted layout)
        else [dcc.Interval(id=STREAM, interval=50, max_intervals=1)]
    )
    return html.Div(
        [
            header,
            html.Div(id="offline-banner", className="offline-banner", hidden=True, role="alert"),
            html.Main(ctx.render(d.id, model), id=BOARD),
            html.Div(say(langs, "closed"), className="night-note", **{"aria-hidden": "true"}),
            dcc.Store(id=ETAG, data=model.etag),
            dcc.Store(id=CHANGES),
            dcc.Store(id=DISPLAY_ID, data=d.id),
            html.Div(id=META, hidden=True, **{"data-meta": json.dumps(meta)}),
            *live,
        ],
        className=f"display display--{d.mode}",
        lang=d.lang,
        **{"data-display": d.id},
    )


def register(app: dash.Dash, ctx: DisplayContext) -> None:
    dash.register_page(
        "display",
        path_template="/display/<display_id>",
        layout=lambda display_id=None, **q: page_layout(ctx, display_id, **q),
        title="Ohjaustaulu",
    )

    def fresh_board(display_id: str, etag: str | None) -> tuple[Any, Any, str]:
        """What a screen that shows the board `etag` needs to show the display's current one:
        nothing (PreventUpdate); the changed elements' new props; or the whole board, when
        its shape changed or the screen's board is too old to be remembered."""
        access.require("display:read", display_id)
        try:
            model = ctx.cache.get(display_id)
        except KeyError:
            raise PreventUpdate from None
        if model.etag == etag:
            raise PreventUpdate
        new = ctx.render(display_id, model)
        old = ctx.rendering(display_id, etag)
        diff = changes(old, new) if old is not None else None
        if diff is not None:
            return dash.no_update, diff, model.etag
        return new, dash.no_update, model.etag

    if ctx.updates == "poll":

        @app.callback(
            Output(BOARD, "children"),
            Output(CHANGES, "data"),
            Output(ETAG, "data"),
            Input(TICK, "n_intervals"),
            State(DISPLAY_ID, "data"),
            State(ETAG, "data"),
            prevent_initial_call=True,
        )
        def poll(_n: int, display_id: str, etag: str) -> tuple[Any, Any, str]:
            return fresh_board(display_id, etag)

    else:

        @app.callback(
            Input(STREAM, "n_intervals"),
            State(DISPLAY_ID, "data"),
            State(ETAG, "data"),
            websocket=True,
            persistent=True,
        )
        async def push(_n: int, display_id: str, etag: str) -> None:
            # Runs until the screen disconnects: Dash then cancels this task.
            while True:
                armed = signal.arm()
                try:
                    children, diff, etag = await asyncio.to_thread(fresh_board, display_id, etag)
                    if diff is dash.no_update:
                        dash.set_props(BOARD, {"children": children})
                    else:
                        dash.set_props(CHANGES, {"data": diff})
                    dash.set_props(ETAG, {"data": etag})
                except PreventUpdate:
                    pass
                except redis.RedisError as err:
                    # the stream ends; the screen says "tiedot eivät päivity" from /ready and
                    # starts it again once the store is back (assets/display.js)
                    STORE.failed(err)
                    return
                STORE.ok()
                # Sleep until the store changes, or a tile's freshness is due to change.
                await signal.wait(armed, ctx.cache.seconds_until_due(display_id, cap=5.0))

        signal = ChangeSignal(ctx.cache)

    app.clientside_callback(
        dash.ClientsideFunction("ohjaustaulu", "applyChanges"),
        Output(CHANGES, "id"),
        Input(CHANGES, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        dash.ClientsideFunction("ohjaustaulu", "afterUpdate"),
        Output(DISPLAY_ID, "id"),
        Input(ETAG, "data"),
    )
