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
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import Config
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import LANGUAGE_NAMES, LANGUAGES, _, negotiate
from dashboard.translate import current as language
from dashboard.web.access import (
    BadCallback,
    Forbidden,
    Principal,
    check_callback,
    current,
    may,
    parse_json,
    refusals,
    values,
)
from dashboard.web.accounts import AccountError, User, authenticate, display_of_token, set_language
from dashboard.web.oidc import Oidc, OidcError

SESSION_COOKIE, CSRF_COOKIE, DISPLAY_COOKIE = "ohjaustaulu_session", "ohjaustaulu_csrf", "ohjaustaulu_display"
FORM_SEEN = "ohjaustaulu.form"  # a form the guard read for its CSRF token, for the endpoint
LANGUAGE_COOKIE = "ohjaustaulu_lang"  # the language chosen before signing in (or on this browser)
SESSION_SECONDS = 12 * 3600
FREE_FAILURES, FAILURE_WINDOW, MAX_WAIT = 5, 15 * 60, 15 * 60
FREE_FAILURES_PER_ADDRESS = 30  # an address may be a ward's shared NAT: more before it waits
GLOBAL_ATTEMPTS_PER_SECOND = 20  # sign-ins the whole site verifies a second (Argon2id is dear)
TOKEN_CACHE_SECONDS = 30  # a revoked display token stops working within this
PUBLIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_dash-layout", "/_dash-dependencies",
                   "/_favicon.ico", "/favicon.ico", "/_reload-hash")
PUBLIC_PATHS = {"/health", "/ready", "/metrics", "/login", "/logout", "/login/oidc", "/login/oidc/callback",
                "/login/language"}
PAGE_ACTIONS = {"tablet": "tablet", "history": "history", "admin": "admin"}
# component id prefixes of each page's own callbacks
CALLBACK_ACTIONS = {"wb-": "tablet", "tablet-": "tablet", "history-": "history", "admin-": "admin"}
DISPLAY_IDS = {"board", "board-changes", "model-etag", "display-id", "tick", "stream"}

def who() -> str:
    """The signed-in person (for provenance and the audit log) in a page's callback."""
    p = current.get()
    return p.name if p else "tuntematon"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_token(sent: str, expected: str) -> bool:
    """A CSRF token as sent, compared in constant time. As bytes: compare_digest refuses a
    text with a character outside ASCII by raising (a forged "väärä" was a 500, not a 403)."""
    return secrets.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


class Auth:
    def __init__(self, config: Config, store: LiveStore, history: History):
        self.config, self.store, self.history = config, store, history
        self._tokens: dict[str, tuple[str | None, float]] = {}
        self.callback_map: dict[str, Any] = {}  # the Dash app's, given by register()
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
        return self.principal_of(request.cookies.get(SESSION_COOKIE),
                                 request.query_params.get("token") or request.cookies.get(DISPLAY_COOKIE))

    def principal_of(self, session_id: str | None, display_token: str | None) -> Principal | None:
        """A signed-in person by their session cookie, else a screen by its display token."""
        if session_id:
            data = self.store.session(_digest(session_id))
            if data:
                user = User(data["user"], data["role"], tuple(json.loads(data["units"])),  # type: ignore[arg-type]
                            data.get("lang") or None)
                return Principal(user=user, csrf=data["csrf"], session=_digest(session_id))
        display = self.display_for(display_token)
        return Principal(display=display, token=_digest(display_token or "")) if display else None

    # -- what they ask for ----------------------------------------------------------------
    # A first filter, by the address or the callback asked for. Each page, callback and
    # endpoint asks `access.may` again where it makes its data.

    @staticmethod
    def path_needs(path: str) -> tuple[str, str | None]:
        """("public" | "display" | an access action, the display id for "display")."""
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return "public", None
        if path.startswith("/api/screens/"):
            return "public", None  # the kiosk watchdog: seconds since the last heartbeat only
        m = re.match(r"^/(?:display|api/snapshot)/([^/?]+)", path)
        if m:
            return "display", urllib.parse.unquote(m.group(1))
        if path == "/api/heartbeat":
            return "display", None  # the endpoint checks the display the beat is for
        first = path.strip("/").split("/", 1)[0]
        return PAGE_ACTIONS.get(first, "page"), None

    @classmethod
    def callback_needs(cls, key: str, body: dict[str, Any]) -> tuple[str, str | None]:
        """What a callback request needs; `body` has passed check_callback, so each value
        read here by its name is the one the callback gets at that position."""
        named = values(body)
        # the outputs' ids, and the inputs' and states' (a callback may have no outputs)
        ids = set(re.findall(r"([A-Za-z_][\w-]*)\.[A-Za-z_]+", key)) | {n.rsplit(".", 1)[0] for n in named}
        if "_pages_content" in ids:
            path, search = named.get("_pages_location.pathname"), named.get("_pages_location.search")
            if not isinstance(path, str) or not isinstance(search, str | None):
                return "bad", None
            return cls.path_needs(path if path.startswith("/") else "/")
        if ids and ids <= DISPLAY_IDS:
            display = named.get("display-id.data")
            return "display", display if isinstance(display, str) else ""
        actions = {action for prefix, action in CALLBACK_ACTIONS.items() for i in ids if i.startswith(prefix)}
        if len(actions) == 1:
            return actions.pop(), None
        return ("admin" if actions else "page"), None

    @staticmethod
    def allows(p: Principal | None, need: str, display: str | None) -> bool:
        if need == "public":
            return True
        if need == "display":
            if display is None:  # a heartbeat: any screen or person, checked by the endpoint
                return p is not None
            return may(p, "display:read", display)
        return may(p, need)

    # -- the guard ----------------------------------------------------------------------------

    async def guard(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        need, display = self.path_needs(path)
        if path.endswith("/_dash-update-component") and request.method == "POST":
            try:
                body = parse_json(await request.body())
                key = check_callback(self.callback_map, body)
            except BadCallback as err:
                return JSONResponse({"error": f"callback request: {err}"}, status_code=400)
            need, display = self.callback_needs(key, body)
            if need == "bad":
                return JSONResponse({"error": "callback request: _pages_location: the address must be text"},
                                    status_code=400)
        if need == "public":
            said = language.set(self.language_of(request, None))
            try:
                return await call_next(request)
            finally:
                language.reset(said)
        p = self.principal(request)
        said = language.set(self.language_of(request, p))
        try:
            return await self._guarded(request, call_next, p, need, display)
        finally:
            language.reset(said)

    def language_of(self, request: Request, p: Principal | None) -> str:
        """The language a request is answered in (dashboard/translate.py): a screen's is its
        site's; a person's is their own choice, else this browser's choice or languages."""
        if p is not None and p.user is None:
            return self.config.site.language
        chosen = p.user.language if p is not None and p.user is not None else None
        return negotiate(chosen or request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"),
                         self.config.site.language)

    async def _guarded(self, request: Request, call_next: Callable[[Request], Awaitable[Response]],
                       p: Principal | None, need: str, display: str | None) -> Response:
        if not self.allows(p, need, display):
            return self.refuse(request, p, need)
        if p is not None and p.user is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = request.headers.get("x-csrf-token")
            if sent is None and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await request.form()
                request.scope[FORM_SEEN] = form  # the body is read: the endpoint gets the form from here
                sent = str(form.get("csrf") or "")
            if not sent or not p.csrf or not same_token(sent, p.csrf):
                return JSONResponse({"error": _("CSRF-tunniste puuttuu tai on väärä: lataa sivu uudelleen")},
                                    status_code=403)
        token, refused = current.set(p), refusals.set([])
        try:
            response = await call_next(request)
            verdict = refusals.get() or []
        finally:
            current.reset(token)
            refusals.reset(refused)
        if verdict:
            # a page or callback found it may not make this data: nothing of it goes out
            return self.refuse(request, p, verdict[0])
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

    @staticmethod
    def chosen_language(request: Request, lang: str, target: str, via: str) -> Response:
        """Back to the page the choice was made on (an address of this site only), in `lang`."""
        if lang not in LANGUAGES:
            return JSONResponse({"error": _("kieli: {lang!r} ei ole fi, sv eikä en", lang=lang[:20])}, status_code=422)
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        response = RedirectResponse(via + urllib.parse.quote(target) if via else target, status_code=303)
        response.set_cookie(LANGUAGE_COOKIE, lang, samesite="lax", secure=_secure(request), max_age=400 * 86400)
        return response

    def start_session(self, request: Request, user: User, target: str, method: str) -> Response:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        self.store.put_session(_digest(sid), {"user": user.name, "role": user.role,
                                              "units": json.dumps(list(user.units)), "csrf": csrf,
                                              "lang": user.language or "",
                                              "since": str(int(time.time()))}, SESSION_SECONDS)
        address = request.client.host if request.client else "?"
        audit.record(self.history, user.name, "login", {"address": address, "role": user.role, "method": method})
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=_secure(request),
                            max_age=SESSION_SECONDS)
        response.set_cookie(CSRF_COOKIE, csrf, samesite="strict", secure=_secure(request), max_age=SESSION_SECONDS)
        return response

    # Sign-in attempts are slowed by (name, address) and by address, and all of them together
    # by a bounded rate; never by the name alone, so nobody can lock a person out from
    # elsewhere. An attempt refused while waiting is not tried and does not lengthen the wait.

    @staticmethod
    def _throttle_keys(name: str, address: str) -> list[tuple[str, int]]:
        return [(f"pair:{name}|{address}", FREE_FAILURES), (f"addr:{address}", FREE_FAILURES_PER_ADDRESS)]

    def wait_seconds(self, name: str, address: str) -> int:
        return max(self.store.login_blocked_for(key) for key, _limit in self._throttle_keys(name, address))

    def count_failure(self, name: str, address: str) -> int:
        """One more failure; past a key's free ones, it waits 2, 4, 8 … s (at most 15 min)
        before its next try. The wait imposed, in seconds (0: none)."""
        wait = 0
        for key, free in self._throttle_keys(name, address):
            n = self.store.fail_login(key, FAILURE_WINDOW)
            if n >= free:
                seconds = min(2 ** min(n - free + 1, 20), MAX_WAIT)
                self.store.block_logins(key, seconds)
                wait = max(wait, seconds)
        return wait

    def _report_refused(self, name: str, address: str) -> None:
        """Attempts refused unheard since the last real one: one audit row for all of them."""
        refused = self.store.take_login_refusals(f"pair:{name}|{address}")
        if refused:
            audit.record(self.history, name or "?", "login-throttled", {"address": address, "refused": refused})

    def register(self, server: FastAPI, callback_map: dict[str, Any]) -> None:
        self.callback_map = callback_map
        server.middleware("http")(self.guard)

        @server.exception_handler(Forbidden)
        async def forbidden(request: Request, err: Forbidden) -> Response:
            return self.refuse(request, current.get(), "forbidden")

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
            if not cookie or not same_token(str(form.get("csrf") or ""), cookie):
                return JSONResponse({"error": _("CSRF-tunniste puuttuu tai on väärä: lataa kirjautumissivu uudelleen")},
                                    status_code=403)
            if len(name) > 200 or len(password) > 1024:
                return HTMLResponse(_login_page(cookie, "/", _("Käyttäjätunnus tai salasana on liian pitkä."), self.oidc_button),
                                    status_code=422)
            address = request.client.host if request.client else "?"
            wait = self.wait_seconds(name, address)
            if not wait and not self.store.login_rate_ok(GLOBAL_ATTEMPTS_PER_SECOND):
                wait = 1  # the whole site's sign-ins are at their bounded rate: try again in a second
            if wait:
                refused = self.store.count_login_refusal(f"pair:{name}|{address}", FAILURE_WINDOW)
                if refused in (1, 10, 100, 1000, 10_000):
                    # in aggregate: a row at the first refusal and at each tenfold, the total at
                    # the next real attempt — a handful of rows however long the hammering
                    audit.record(self.history, name or "?", "login-throttled",
                                 {"address": address, "refused_so_far": refused})
                return HTMLResponse(_login_page(cookie, target, _("Liian monta virheellistä yritystä: odota {wait} s.", wait=wait), self.oidc_button),
                                    status_code=429, headers={"Retry-After": str(wait)})
            self._report_refused(name, address)
            user = authenticate(self.history, name, password) if name and password else None
            if user is None:
                self.count_failure(name, address)
                audit.record(self.history, name or "?", "login-failed", {"address": address})
                return HTMLResponse(_login_page(cookie, target, _("Väärä käyttäjätunnus tai salasana."), self.oidc_button), status_code=401)
            for key, _limit in self._throttle_keys(name, address):
                self.store.clear_failed_logins(key)
            return self.start_session(request, user, target, "local")

        @server.get("/login/oidc")
        def oidc_begin(request: Request, next: str = "/") -> Response:
            if self.oidc is None:
                return JSONResponse({"error": _("OpenID Connect ei ole käytössä")}, status_code=404)
            target = next if next.startswith("/") and not next.startswith("//") else "/"
            try:
                return RedirectResponse(self.oidc.begin(self.callback_uri(request), target), status_code=303)
            except OidcError as err:
                return HTMLResponse(_page(_("Kirjautuminen ei onnistunut"), f"<p>{html.escape(str(err))}</p>"), status_code=502)

        @server.get("/login/oidc/callback")
        def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
            if self.oidc is None:
                return JSONResponse({"error": _("OpenID Connect ei ole käytössä")}, status_code=404)
            address = request.client.host if request.client else "?"
            try:
                if error or not code:
                    raise OidcError(_("Tunnistuspalvelu ei tunnistanut: {why}", why=error or _("ei koodia")))
                user, target = self.oidc.finish(code, state)
            except (OidcError, AccountError) as err:
                audit.record(self.history, "?", "login-failed", {"address": address, "method": "oidc", "reason": str(err)})
                back = html.escape(_("Takaisin"))
                return HTMLResponse(_page(_("Kirjautuminen ei onnistunut"), f"<p>{html.escape(str(err))}</p>"
                                          f"<p><a href='/login'>{back}</a></p>"), status_code=403)
            return self.start_session(request, user, target, "oidc")

        @server.post("/login/language")
        async def login_language(request: Request) -> Response:
            """The language chosen before signing in: kept on this browser."""
            form = await request.form()
            cookie = request.cookies.get(CSRF_COOKIE) or ""
            if not cookie or not same_token(str(form.get("csrf") or ""), cookie):
                return JSONResponse({"error": _("CSRF-tunniste puuttuu tai on väärä: lataa kirjautumissivu uudelleen")},
                                    status_code=403)
            return self.chosen_language(request, str(form.get("lang") or ""), str(form.get("next") or "/"),
                                        "/login?next=")

        @server.post("/language")
        async def person_language(request: Request) -> Response:
            """A signed-in person's own language: kept with their account and in each of their
            sessions (the guard has checked the CSRF token)."""
            p = current.get()
            form = request.scope.get(FORM_SEEN) or await request.form()
            lang = str(form.get("lang") or "")
            if p is None or p.user is None:
                return JSONResponse({"error": _("kieli: vain kirjautunut henkilö valitsee kielensä")}, status_code=403)
            if lang in LANGUAGES:
                set_language(self.history, p.user.name, lang)
                self.store.set_session_field(p.user.name, "lang", lang)
            return self.chosen_language(request, lang, str(form.get("next") or "/"), "")

        @server.post("/logout")
        async def logout(request: Request) -> Response:
            p = self.principal(request)
            if p is not None and p.session:
                form = await request.form()
                if not p.csrf or not same_token(str(form.get("csrf") or ""), p.csrf):
                    return JSONResponse({"error": _("CSRF-tunniste puuttuu tai on väärä")}, status_code=403)
                self.store.drop_session(p.session)
                audit.record(self.history, p.name, "logout", {})
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE)
            return response


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="{language.get()}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/assets/display.css"><link rel="stylesheet" href="/assets/staffbar.css"></head>'
            f'<body><main class="login"><h1>{html.escape(title)}</h1>{body}</main></body></html>')


def language_choice(csrf: str, action: str, target: str) -> str:
    """Buttons for each language by its own name, the one in use marked (a form: choosing
    changes something, so it is posted with the CSRF token)."""
    here = language.get()
    buttons = "".join(
        f'<button type="submit" name="lang" value="{code}" lang="{code}" class="lang-choice"'
        + (' aria-pressed="true"' if code == here else ' aria-pressed="false"') + f'>{html.escape(name)}</button>'
        for code, name in LANGUAGE_NAMES.items())
    name = html.escape(_("Kieli"))
    return (f'<form method="post" action="{action}" class="lang-form" aria-label="{name}">'
            f'<input type="hidden" name="csrf" value="{html.escape(csrf)}">'
            f'<input type="hidden" name="next" value="{html.escape(target)}">{buttons}</form>')


def _login_page(csrf: str, target: str, error: str, oidc_button: str | None = None) -> str:
    err = f'<p class="login-error" role="alert">{html.escape(error)}</p>' if error else ""
    esc = html.escape
    # (texts to translate outside the f-strings: Babel reads no call inside one on Python 3.11)
    words = {"or": _("tai paikallisella tunnuksella:"), "name": _("Käyttäjätunnus"), "password": _("Salasana"),
             "submit": _("Kirjaudu")}
    if oidc_button:
        err += (f'<p><a class="button" id="oidc-login" href="/login/oidc?next={urllib.parse.quote(target)}">'
                f'{esc(oidc_button)}</a></p><p>{esc(words["or"])}</p>')
    return _page(_("Ohjaustaulu – kirjaudu"), f"""{err}
<form method="post" action="/login">
  <input type="hidden" name="csrf" value="{esc(csrf)}">
  <input type="hidden" name="next" value="{esc(target)}">
  <label for="name">{esc(words["name"])}</label>
  <input id="name" name="name" autocomplete="username" autocapitalize="none" required>
  <label for="password">{esc(words["password"])}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="button" id="login-submit">{esc(words["submit"])}</button>
</form>
{language_choice(csrf, "/login/language", target)}""")
