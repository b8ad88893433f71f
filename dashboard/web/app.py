"""The web app factory: Dash 4 on its FastAPI backend. No I/O happens at import time."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dash
import redis
from dash import html
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from dashboard import translate
from dashboard.config import Config
from dashboard.domain.readmodel import ModelCache, snapshot
from dashboard.observability import first_line
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import N_, _, speaking
from dashboard.version import app_version
from dashboard.web import access
from dashboard.web.auth import Auth
from dashboard.web.screens import HeartbeatError, parse_heartbeat, stamp
from layouts import accesspage, admin, display, tablet
from layouts import history as history_page

ASSETS = Path(__file__).resolve().parents[2] / "layouts" / "assets"


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
    # the page in the language of the request (a screen: its site's; a person: their own,
    # dashboard/translate.py), dark from the first paint (no white flash on a TV)
    app.index_string = app.index_string.replace("<html>", '<html lang="__LANG__">').replace(
        "{%app_entry%}", "{%app_entry%}<noscript>__NOSCRIPT__</noscript>")
    interpolate = app.interpolate_index

    def in_language(**parts: Any) -> str:
        with speaking(translate.lang() if history is not None else config.site.language):
            return str(interpolate(**parts)).replace("__LANG__", translate.lang()).replace(
                "__NOSCRIPT__", _("Ohjaustaulu tarvitsee JavaScriptin."))

    app.interpolate_index = in_language  # type: ignore[method-assign]
    cache = ModelCache(config, store, history)
    display_ctx = display.DisplayContext(config, cache, updates)
    display.register(app, display_ctx)
    if history is not None and data_dir is not None:
        tablet.register(app, tablet.TabletContext(config, store, history, data_dir))
    if history is not None:
        history_page.register(app, history_page.HistoryContext(config, store, history))
        accesspage.register(app, history_page.HistoryContext(config, store, history))
    admin.register(app, config, store, history)
    dash.register_page("index", path="/", layout=lambda **_: index_page(config))
    app.layout = html.Div(dash.page_container)
    server: Any = app.server
    server.state.cache = cache
    server.state.display_ctx = display_ctx
    if history is not None:
        server.state.auth = Auth(config, store, history)
        server.state.auth.register(server, app.callback_map)
    _first_request_setup(app)
    server.state.script_hashes = list(app.csp_hashes())

    @server.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    readiness = Readiness(store, history)

    @server.get("/ready")
    def ready() -> JSONResponse:
        checks = readiness.checks()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(checks, status_code=200 if ok else 503)

    @server.get("/metrics")
    def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        from dashboard.observability import exposition, metrics_allowed

        if not metrics_allowed(config, request.client.host if request.client else None,
                               request.headers.get("authorization")):
            return JSONResponse({"error": "metrics: not for this address; see [site] metrics_allow"},
                                status_code=403)
        return Response(exposition(store, config), media_type=CONTENT_TYPE_LATEST)

    @server.get("/tablet/template.xlsx")
    def workbook_template() -> Response:
        from dashboard.workbook.template import seen_keys, template

        access.require("tablet")

        # in the person's language, its examples of the centre's own queues and professions (the
        # generic ones while the live store cannot be read: the template never waits for it)
        try:
            seen = seen_keys(store.all_readings())
        except redis.RedisError:
            seen = None
        return Response(template(config, translate.lang(), seen), headers={
            "Content-Disposition": 'attachment; filename="ohjaustaulu.xlsx"'},
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @server.post("/api/heartbeat")
    async def heartbeat(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > 4096:
            return JSONResponse({"error": "heartbeat: body larger than 4 kB"}, status_code=413)
        try:
            beat = parse_heartbeat(access.parse_json(body))
        except (access.BadCallback, ValueError, HeartbeatError) as err:
            return JSONResponse({"error": f"heartbeat: {err}"}, status_code=422)
        try:
            config.display(beat.display)
        except KeyError:
            return JSONResponse({"error": f"heartbeat: unknown display {beat.display!r}"}, status_code=404)
        # a screen speaks for its own display, and for a screen id no other token holds
        p = access.require("heartbeat", beat.display)
        claim = f"token:{p.token}" if p.display else f"user:{p.name}"
        held = await asyncio.to_thread(screen_claim, store, history, beat.screen, claim)
        if held is not None and held != claim:
            return JSONResponse({"error": f"heartbeat: screen {beat.screen!r} belongs to another display token"},
                                status_code=409)
        seen = datetime.now(UTC)
        address = request.client.host if request.client else None
        await asyncio.to_thread(store.record_heartbeat, beat.screen, {**stamp(beat, seen, address), "claim": claim})
        return JSONResponse({"version": app_version(), "server_time": seen.isoformat()})

    @server.get("/api/screens/{screen}")
    def screen_status(screen: str) -> JSONResponse:
        """One screen's last heartbeat, for the kiosk watchdog on the screen's computer."""
        beat = store.screen(screen)
        if beat is None:
            return JSONResponse({"error": f"no heartbeat from screen {screen!r}"}, status_code=404)
        age = datetime.now(UTC).timestamp() - float(beat["seen_at_epoch"])
        return JSONResponse({"screen": screen, "display": beat["display"], "seen_at": beat["seen_at"],
                             "seen_seconds_ago": round(age, 1)})

    @server.get("/api/snapshot/{display_id}")
    def display_snapshot(display_id: str) -> JSONResponse:
        access.require("display:read", display_id)
        try:
            return JSONResponse(snapshot(cache.get(display_id), config, store))
        except KeyError:
            return JSONResponse({"error": f"unknown display {display_id}"}, status_code=404)

    return app


def asgi(app: dash.Dash) -> Any:
    """What the HTTP server runs: request metrics, around size limits, security headers and
    the websocket's guard (dashboard/web/hardening.py), around versioned static files compressed
    once, around the wall's fast poll, around the app (whose screens' streams end quietly
    when the process stops: QuietStop)."""
    from dashboard.observability import RequestMetrics
    from dashboard.web.hardening import Hardening
    from dashboard.web.staticcache import StaticCache
    from layouts.fastpoll import FastPoll

    inner: Any = QuietStop(app.server)
    auth = getattr(app.server.state, "auth", None)
    if auth is not None:
        inner = FastPoll(inner, app.server.state.display_ctx, auth)
    return RequestMetrics(Hardening(StaticCache(inner), auth, app.server.state.script_hashes))


STOPPING = threading.Event()  # set when the process has been told to stop (dashboard/web/asgi.py exit_on_term)


class QuietStop:
    """A screen's push stream (a websocket: Dash runs its callback until the screen goes) that
    is still open when the process stops is cancelled with it. That is the end of the stream,
    not a fault: uvicorn logged each as "Exception in ASGI application" with a CancelledError
    traceback when the demo was stopped with a screen attached on a loaded machine."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not STOPPING.is_set():
                raise


def screen_claim(store: LiveStore, history: History | None, screen: str, asking: str) -> str | None:
    """Who holds a screen id: the display token (digest) or person of its heartbeats, while
    that token is valid. A screen whose token was revoked may be taken by its new one. (The
    database is asked only when someone other than the holder asks.)"""
    beat = store.screen(screen)
    claim = beat.get("claim") if beat else None
    if not isinstance(claim, str) or claim == asking:
        return claim if isinstance(claim, str) else None
    if claim.startswith("token:") and history is not None:
        from dashboard.web.accounts import token_digest_valid

        if not token_digest_valid(history, claim.removeprefix("token:")):
            return None
    return claim


def _first_request_setup(app: dash.Dash) -> None:
    """Dash's FastAPI backend runs its one-time setup hooks (assets, the pages router and its
    inline scripts) only on a request for "/" or "/_dash-*". A screen whose first request is
    its /display/<id> address would get a page without our CSS and JS, and with a broken
    router. Run those hooks now, before any request (Dash 4.4.1)."""
    for hook in list(app.backend._before_request_funcs):  # type: ignore[attr-defined]
        result = hook()
        if inspect.isawaitable(result):
            asyncio.run(result)


class Readiness:
    """Redis and the database reachable? Asked by load balancers and by every screen (which
    tells "no server" from "no live data" by it), so an answer is reused for a second, and
    given within `deadline` seconds whatever the servers do: a check still under way then
    is a "no answer" (it goes on in the background; the next question reuses it)."""

    def __init__(self, store: LiveStore, history: History | None, reuse_seconds: float = 1.0,
                 deadline: float = 0.8):
        self.store, self.history, self.reuse, self.deadline = store, history, reuse_seconds, deadline
        self._answer: tuple[float, dict[str, str]] = (0.0, {})
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ready")
        self._pending: dict[str, Any] = {}
        self._lock = threading.Lock()

    def checks(self) -> dict[str, str]:
        with self._lock:
            at, answer = self._answer
            if time.monotonic() - at < self.reuse:
                return answer
            checks = {"redis": self.store.ping}
            if self.history is not None:
                checks["database"] = self.history.ping
            for name, fn in checks.items():  # a check that hangs is not asked again meanwhile
                if name not in self._pending or self._pending[name].done():
                    self._pending[name] = self._pool.submit(_check, fn)
            until = time.monotonic() + self.deadline
            answer = {}
            for name in checks:
                try:
                    answer[name] = self._pending[name].result(timeout=max(0.0, until - time.monotonic()))
                except FutureTimeout:
                    answer[name] = f"error: no answer within {self.deadline:g} s"
            answer.setdefault("database", "absent")
            self._answer = (time.monotonic(), answer)
            return answer


def _check(fn: Any) -> str:
    try:
        fn()
        return "ok"
    except Exception as err:  # a readiness probe reports any failure, whatever its type
        return f"error: {first_line(err)}"


DISPLAY_KIND = {"staff": N_("henkilökunnan näyttö"), "public": N_("odotustilan näyttö")}


def index_page(config: Config) -> html.Div:
    from layouts.staffbar import staff_bar

    p = access.require("page")
    return html.Div(
        [
            staff_bar(p, "/"),
            html.Main([
                html.H1(config.site.name),
                html.H2(_("Näytöt")),
                html.Ul(
                    [html.Li([html.A(d.title, href=f"/display/{d.id}"), f" – {_(DISPLAY_KIND.get(d.mode, d.mode))}"])
                     for d in config.displays]
                ),
            ]),
        ],
        className="index",
    )
