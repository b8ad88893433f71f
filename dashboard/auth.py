"""Who may see and do what, checked on every request before it reaches a page or a callback.

- A **screen** proves itself with its display token (`/display/<id>?token=…`, then an
  HttpOnly cookie): it may read its own display, post heartbeats, nothing else.
- **People** sign in (`/login`, local accounts; OpenID Connect where configured) and get a
  server-side session (Redis, 12 hours) behind an HttpOnly, SameSite cookie: shift leads the
  tablet, managers the history, admins everything.
- **CSRF**: every state-changing request of a signed-in person carries the session's token,
  in the form (`csrf`) or the `X-CSRF-Token` header (added to Dash's requests by
  assets/csrf.js from a same-site cookie). Without it: 403.
- **Sign-in attempts**: after 5 failures in a row for a name or an address, each further
  attempt waits 2, 4, 8 … seconds (at most 15 minutes) before it is even tried: 429 with
  Retry-After. Every attempt, good or bad, goes to the audit log.

Dash serves every page's content through one endpoint (`/_dash-update-component`), so the
guard reads which callback a request is for: the pages router (then the page asked for is
checked like its address), a display's updates (only for that display), or a page's own
callbacks (by the prefix of their component ids).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from dashboard import audit
from dashboard.accounts import AccountError, User, authenticate, display_of_token
from dashboard.config import Config
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.oidc import Oidc, OidcError

SESSION_COOKIE, CSRF_COOKIE, DISPLAY_COOKIE = "ohjaustaulu_session", "ohjaustaulu_csrf", "ohjaustaulu_display"
SESSION_SECONDS = 12 * 3600
FREE_FAILURES, FAILURE_WINDOW, MAX_WAIT = 5, 15 * 60, 15 * 60
TOKEN_CACHE_SECONDS = 30  # a revoked display token stops working within this
PUBLIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_dash-layout", "/_dash-dependencies",
                   "/_favicon.ico", "/favicon.ico", "/_reload-hash")
PUBLIC_PATHS = {"/health", "/ready", "/metrics", "/login", "/logout", "/login/oidc", "/login/oidc/callback"}
PAGE_ROLES = {"tablet": "shift_lead", "history": "manager", "admin": "admin"}
# component id prefixes of each page's own callbacks
CALLBACK_ROLES = {"wb-": "shift_lead", "tablet-": "shift_lead", "history-": "manager", "admin-": "admin"}
DISPLAY_IDS = {"board", "board-changes", "model-etag", "display-id", "tick", "stream"}

current: ContextVar[Principal | None] = ContextVar("ohjaustaulu_principal", default=None)


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    display: str | None = None
    csrf: str | None = None
    session: str | None = None  # the session id's digest

    @property
    def name(self) -> str:
        return self.user.name if self.user else f"näyttö:{self.display}"


def who() -> str:
    """The signed-in person (for provenance and the audit log) in a page's callback."""
    p = current.get()
    return p.name if p else "tuntematon"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


class Auth:
    def __init__(self, config: Config, store: LiveStore, history: History):
        self.config, self.store, self.history = config, store, history
        self._tokens: dict[str, tuple[str | None, float]] = {}
        self.oidc = Oidc(config.auth.oidc, config, store, history) if config.auth.oidc else None

    # -- who is asking --------------------------------------------------------------------

    def cached_display(self, token: str) -> tuple[bool, str | None]:
        """(known, display) from this process's cache only: no database, never blocks."""
        cached = self._tokens.get(token)
        if cached and cached[1] > time.monotonic():
            return True, cached[0]
        return False, None

    def display_for(self, token: str | None) -> str | None:
        if not token:
            return None
        known, display = self.cached_display(token)
        if known:
            return display
        try:
            display = display_of_token(self.history, token)
        except SQLAlchemyError:
            # the history database is away: live screens go on with a token known to be
            # valid when it was last asked (remembered in the live store for a day), so a
            # database outage blanks no screen; a token never seen is refused
            cached = self._tokens.get(token)
            return cached[0] if cached else self._remembered(token)
        try:
            self.store.remember_token(_digest(token), display)
        except redis.RedisError:
            pass
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[token] = (display, time.monotonic() + TOKEN_CACHE_SECONDS)
        return display

    def _remembered(self, token: str) -> str | None:
        try:
            return self.store.remembered_token(_digest(token))
        except redis.RedisError:
            return None

    def principal(self, request: Request) -> Principal | None:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            data = self.store.session(_digest(sid))
            if data:
                user = User(data["user"], data["role"], tuple(json.loads(data["units"])))  # type: ignore[arg-type]
                return Principal(user=user, csrf=data["csrf"], session=_digest(sid))
        display = self.display_for(request.query_params.get("token") or request.cookies.get(DISPLAY_COOKIE))
        return Principal(display=display) if display else None

    # -- what they ask for ----------------------------------------------------------------

    @staticmethod
    def path_needs(path: str) -> tuple[str, str | None]:
        """("public" | "display" | "user" | a role, the display id for "display")."""
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return "public", None
        if path.startswith("/api/screens/"):
            return "public", None  # the kiosk watchdog: seconds since the last heartbeat only
        m = re.match(r"^/(?:display|api/snapshot)/([^/?]+)", path)
        if m:
            return "display", urllib.parse.unquote(m.group(1))
        if path == "/api/heartbeat":
            return "display", None
        first = path.strip("/").split("/", 1)[0]
        return PAGE_ROLES.get(first, "user"), None

    @classmethod
    def callback_needs(cls, body: dict[str, Any]) -> tuple[str, str | None]:
        """What a Dash callback request needs, from the ids of its outputs (and, for the
        pages router, the address of the page it renders)."""
        output = str(body.get("output", ""))
        ids = set(re.findall(r"([A-Za-z_][\w-]*)\.[A-Za-z_]+", output))
        if "_pages_content" in ids or "_pages_store" in ids:
            values = {f"{i.get('id')}.{i.get('property')}": i.get("value") for i in body.get("inputs", []) if isinstance(i, dict)}
            return cls.path_needs(str(values.get("_pages_location.pathname") or "/"))
        if ids and ids <= DISPLAY_IDS | {"_pages_location", "_pages_dummy"}:
            states = {f"{s.get('id')}.{s.get('property')}": s.get("value") for s in body.get("state", []) if isinstance(s, dict)}
            return "display", str(states.get("display-id.data") or "") or None
        roles = {role for prefix, role in CALLBACK_ROLES.items() for i in ids if i.startswith(prefix)}
        if len(roles) == 1:
            return roles.pop(), None
        return ("admin" if roles else "user"), None

    @staticmethod
    def allows(p: Principal | None, need: str, display: str | None) -> bool:
        if need == "public":
            return True
        if p is None:
            return False
        if p.user is not None:
            return need in ("display", "user") or p.user.may(need)  # type: ignore[arg-type]
        # a screen: its own display only
        return need == "display" and (display is None or display == p.display)

    # -- the guard ----------------------------------------------------------------------------

    async def guard(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        need, display = self.path_needs(path)
        body: dict[str, Any] = {}
        if path.endswith("/_dash-update-component") and request.method == "POST":
            raw = await request.body()
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return JSONResponse({"error": "request: not JSON"}, status_code=400)
            need, display = self.callback_needs(body if isinstance(body, dict) else {})
        if need == "public":
            return await call_next(request)
        p = self.principal(request)
        if not self.allows(p, need, display):
            return self.refuse(request, p, need)
        if p is not None and p.user is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = request.headers.get("x-csrf-token")
            if sent is None and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")):
                sent = str((await request.form()).get("csrf") or "")
            if not sent or not p.csrf or not secrets.compare_digest(sent, p.csrf):
                return JSONResponse({"error": "CSRF-tunniste puuttuu tai on väärä: lataa sivu uudelleen"},
                                    status_code=403)
        token = current.set(p)
        try:
            response = await call_next(request)
        finally:
            current.reset(token)
        query_token = request.query_params.get("token")
        if p is not None and p.display and query_token and request.method == "GET":
            # the screen keeps its token in an HttpOnly cookie for its page's own requests
            response.set_cookie(DISPLAY_COOKIE, query_token, httponly=True, samesite="strict",
                                secure=_secure(request), max_age=400 * 86400)
        return response

    def refuse(self, request: Request, p: Principal | None, need: str) -> Response:
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if p is None and wants_page and need != "display":
            return RedirectResponse(f"/login?next={urllib.parse.quote(request.url.path)}", status_code=303)
        if p is None and need == "display" and wants_page:
            return HTMLResponse(_page("Näyttö ei ole käytössä",
                                      "<p>Näytön osoitteesta puuttuu voimassa oleva tunnus (token). "
                                      "Pyydä ylläpidolta uusi osoite.</p>"), status_code=403)
        status = 401 if p is None else 403
        if wants_page:
            return HTMLResponse(_page("Ei oikeutta", f"<p>Käyttäjällä {html.escape(p.name if p else '')} "
                                      "ei ole oikeutta tälle sivulle.</p><p><a href='/'>Etusivulle</a></p>"),
                                status_code=status)
        return JSONResponse({"error": "kirjaudu sisään" if p is None else "ei oikeutta"}, status_code=status)

    # -- signing in and out ---------------------------------------------------------------------

    @property
    def oidc_button(self) -> str | None:
        return self.config.auth.oidc.button if self.config.auth.oidc else None

    @staticmethod
    def callback_uri(request: Request) -> str:
        base = str(request.base_url).rstrip("/")
        if request.headers.get("x-forwarded-proto") == "https" and base.startswith("http://"):
            base = "https://" + base[len("http://"):]
        return f"{base}/login/oidc/callback"

    def start_session(self, request: Request, user: User, target: str, method: str) -> Response:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        self.store.put_session(_digest(sid), {"user": user.name, "role": user.role,
                                              "units": json.dumps(list(user.units)), "csrf": csrf,
                                              "since": str(int(time.time()))}, SESSION_SECONDS)
        address = request.client.host if request.client else "?"
        audit.record(self.history, user.name, "login", {"address": address, "role": user.role, "method": method})
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=_secure(request),
                            max_age=SESSION_SECONDS)
        response.set_cookie(CSRF_COOKIE, csrf, samesite="strict", secure=_secure(request), max_age=SESSION_SECONDS)
        return response

    def wait_seconds(self, name: str, address: str) -> int:
        return max(self.store.login_blocked_for(f"name:{name}"), self.store.login_blocked_for(f"addr:{address}"))

    def count_failure(self, name: str, address: str) -> None:
        """One more failure in a row; from the fifth on, the name and the address must wait
        2, 4, 8 … seconds (at most 15 minutes) before the next try."""
        for key in (f"name:{name}", f"addr:{address}"):
            n = self.store.fail_login(key, FAILURE_WINDOW)
            if n >= FREE_FAILURES:
                self.store.block_logins(key, min(2 ** (n - FREE_FAILURES + 1), MAX_WAIT))

    def register(self, server: FastAPI) -> None:
        server.middleware("http")(self.guard)

        @server.get("/login")
        def login_form(request: Request, next: str = "/", error: str = "") -> Response:
            csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
            response = HTMLResponse(_login_page(csrf, next, error, self.oidc_button))
            response.set_cookie(CSRF_COOKIE, csrf, samesite="strict", secure=_secure(request))
            return response

        @server.post("/login")
        async def login(request: Request) -> Response:
            form = await request.form()
            name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
            target = str(form.get("next") or "/")
            target = target if target.startswith("/") and not target.startswith("//") else "/"
            cookie = request.cookies.get(CSRF_COOKIE) or ""
            if not cookie or not secrets.compare_digest(str(form.get("csrf") or ""), cookie):
                return JSONResponse({"error": "CSRF-tunniste puuttuu tai on väärä: lataa kirjautumissivu uudelleen"},
                                    status_code=403)
            address = request.client.host if request.client else "?"
            wait = self.wait_seconds(name, address)
            if wait:
                # asking again while slowed down counts as one more failure: the wait doubles
                self.count_failure(name, address)
                wait = self.wait_seconds(name, address)
                audit.record(self.history, name or "?", "login-throttled", {"address": address, "wait_s": wait})
                return HTMLResponse(_login_page(cookie, target, f"Liian monta virheellistä yritystä: odota {wait} s.", self.oidc_button),
                                    status_code=429, headers={"Retry-After": str(wait)})
            user = authenticate(self.history, name, password) if name and password else None
            if user is None:
                self.count_failure(name, address)
                audit.record(self.history, name or "?", "login-failed", {"address": address})
                return HTMLResponse(_login_page(cookie, target, "Väärä käyttäjätunnus tai salasana.", self.oidc_button), status_code=401)
            for key in (f"name:{name}", f"addr:{address}"):
                self.store.clear_failed_logins(key)
            return self.start_session(request, user, target, "local")

        @server.get("/login/oidc")
        def oidc_begin(request: Request, next: str = "/") -> Response:
            if self.oidc is None:
                return JSONResponse({"error": "OpenID Connect ei ole käytössä"}, status_code=404)
            target = next if next.startswith("/") and not next.startswith("//") else "/"
            try:
                return RedirectResponse(self.oidc.begin(self.callback_uri(request), target), status_code=303)
            except OidcError as err:
                return HTMLResponse(_page("Kirjautuminen ei onnistunut", f"<p>{html.escape(str(err))}</p>"), status_code=502)

        @server.get("/login/oidc/callback")
        def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
            if self.oidc is None:
                return JSONResponse({"error": "OpenID Connect ei ole käytössä"}, status_code=404)
            address = request.client.host if request.client else "?"
            try:
                if error or not code:
                    raise OidcError(f"Tunnistuspalvelu ei tunnistanut: {error or 'ei koodia'}")
                user, target = self.oidc.finish(code, state)
            except (OidcError, AccountError) as err:
                audit.record(self.history, "?", "login-failed", {"address": address, "method": "oidc", "reason": str(err)})
                return HTMLResponse(_page("Kirjautuminen ei onnistunut", f"<p>{html.escape(str(err))}</p>"
                                          "<p><a href='/login'>Takaisin</a></p>"), status_code=403)
            return self.start_session(request, user, target, "oidc")

        @server.post("/logout")
        async def logout(request: Request) -> Response:
            p = self.principal(request)
            if p is not None and p.session:
                form = await request.form()
                if not p.csrf or not secrets.compare_digest(str(form.get("csrf") or ""), p.csrf):
                    return JSONResponse({"error": "CSRF-tunniste puuttuu tai on väärä"}, status_code=403)
                self.store.drop_session(p.session)
                audit.record(self.history, p.name, "logout", {})
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE)
            return response


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/assets/display.css"></head>'
            f'<body><main class="login"><h1>{html.escape(title)}</h1>{body}</main></body></html>')


def _login_page(csrf: str, target: str, error: str, oidc_button: str | None = None) -> str:
    err = f'<p class="login-error" role="alert">{html.escape(error)}</p>' if error else ""
    if oidc_button:
        err += (f'<p><a class="button" id="oidc-login" href="/login/oidc?next={urllib.parse.quote(target)}">'
                f'{html.escape(oidc_button)}</a></p><p>tai paikallisella tunnuksella:</p>')
    return _page("Ohjaustaulu – kirjaudu", f"""{err}
<form method="post" action="/login">
  <input type="hidden" name="csrf" value="{html.escape(csrf)}">
  <input type="hidden" name="next" value="{html.escape(target)}">
  <label for="name">Käyttäjätunnus</label>
  <input id="name" name="name" autocomplete="username" autocapitalize="none" required>
  <label for="password">Salasana</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="button">Kirjaudu</button>
</form>""")
