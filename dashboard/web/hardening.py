"""The outermost layer of every answer: request size limits before anyone is authenticated,
security headers on every page and API answer, and the push channel's websocket, which the
HTTP middleware never sees, authenticated and bound to the one display it may stream.

- **Sizes.** A request body is read only up to what its sender may send: 64 kB for anyone
  not signed in (a screen's poll is 0.3 kB, a heartbeat at most 4 kB, the sign-in form less),
  and the largest workbook upload for a signed-in person. A declared Content-Length over it is
  refused at once, a streamed body as soon as it passes it: 413, naming the limit.
- **Headers.** Content-Security-Policy (scripts only from this server and the inline scripts
  Dash writes into its page, by their SHA-256; no `unsafe-eval`; styles also inline, which
  Plotly and React's style attributes need), `frame-ancestors 'none'`,
  X-Content-Type-Options, Referrer-Policy, and HSTS over https.
- **Websocket.** `/_dash-ws-callback` connects only with a principal (a display cookie or a
  session) and a same-origin Origin; each callback request it carries must match its
  registered callback exactly and be allowed to that principal, or the socket is closed;
  the principal rides with the connection, so the push callback asks `access.may` itself.
"""

from __future__ import annotations

import json
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlparse

import anyio

from dashboard.web.access import BadCallback, check_callback, current, parse_json
from dashboard.web.auth import DISPLAY_COOKIE, SESSION_COOKIE, Auth, _digest

ANONYMOUS_MAX = 64 * 1024
SIGNED_IN_MAX = 32 * 2**20  # a 20 MB workbook, base64 in Dash's JSON, and some
WS_MESSAGE_MAX = 64 * 1024
WS_PATH = "/_dash-ws-callback"
STATIC = ("/_dash-component-suites/", "/assets/")
RECHECK_SECONDS = 30.0  # an open stream asks again whether its token or session holds


def content_security_policy(script_hashes: list[str]) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class Hardening:
    def __init__(self, app: Any, auth: Auth | None, script_hashes: list[str]):
        self.app, self.auth = app, auth
        self.headers = [
            (b"content-security-policy", content_security_policy(script_hashes).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https" or _header(scope, b"x-forwarded-proto") == b"https"
        extra = self.headers + ([(b"strict-transport-security", b"max-age=31536000; includeSubDomains")]
                                if secure else [])
        if cookie(scope, SESSION_COOKIE) and not scope["path"].startswith(STATIC):
            extra = [*extra, (b"cache-control", b"no-store")]  # a person's pages stay off shared disks

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers") or []}
                message = {**message, "headers": [*(message.get("headers") or []),
                                                  *(h for h in extra if h[0] not in have)]}
            await send(message)

        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and not _header(scope, b"content-length"):
            await self.app(scope, receive, with_headers)
            return
        limit = SIGNED_IN_MAX if self._signed_in(scope) else ANONYMOUS_MAX
        declared = _header(scope, b"content-length")
        try:
            too_big = declared is not None and int(declared) > limit
        except ValueError:
            await _refuse(with_headers, 400, "Content-Length: not a number")
            return
        if too_big:
            await _refuse(with_headers, 413, f"request body larger than {limit // 1024} kB")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(with_headers, 413, f"request body larger than {limit // 1024} kB")
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        await self.app(scope, replay(b"".join(chunks), receive), with_headers)

    def _signed_in(self, scope: dict[str, Any]) -> bool:
        sid = cookie(scope, SESSION_COOKIE)
        if not sid or self.auth is None:
            return False
        try:
            return bool(self.auth.store.session(_digest(sid)))
        except Exception:  # the live store away: as if not signed in (the small limit)
            return False

    # -- the push channel --------------------------------------------------------------------

    async def websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] != WS_PATH or self.auth is None:
            await self.app(scope, receive, send)
            return
        origin, host = _header(scope, b"origin"), _header(scope, b"host")
        session_id, display_token = cookie(scope, SESSION_COOKIE), cookie(scope, DISPLAY_COOKIE)
        p = self.auth.principal_of(session_id, display_token)
        if p is None or not origin or not host or urlparse(origin.decode("latin-1")).netloc != host.decode("latin-1"):
            # refused before the handshake completes: the client sees 403
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4003, "reason": "kirjaudu sisään"})
            return
        auth = self.auth
        closed = False
        checked_at = time.monotonic()

        async def still_holds() -> bool:
            """Does the token or session the socket opened with still hold?"""
            nonlocal checked_at
            checked_at = time.monotonic()
            now = await anyio.to_thread.run_sync(auth.principal_of, session_id, display_token)
            return now is not None and now.user == p.user and now.display == p.display

        async def close(reason: str) -> None:
            nonlocal closed
            closed = True
            await send({"type": "websocket.close", "code": 4003, "reason": reason[:120]})

        async def guarded_send(message: dict[str, Any]) -> None:
            # a stream whose client never speaks is checked as it is sent, every RECHECK s
            if message["type"] == "websocket.send":
                if closed:
                    return
                if time.monotonic() - checked_at > RECHECK_SECONDS and not await still_holds():
                    await close("tunnus ei ole enää voimassa")
                    return
            await send(message)

        async def checked() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] != "websocket.receive" or closed:
                return message
            raw = message.get("text") or message.get("bytes") or b""
            problem = None
            # every message (the client's heartbeat comes every 30 s) asks again whether the
            # token or session still holds: a revoked screen or an ended session stops streaming
            if not await still_holds():
                problem = "tunnus ei ole enää voimassa"
            elif len(raw) > WS_MESSAGE_MAX:
                problem = "message too large"
            else:
                try:
                    msg = parse_json(raw.encode() if isinstance(raw, str) else raw)
                    if isinstance(msg, dict) and msg.get("type") == "callback_request":
                        payload = msg.get("payload")
                        key = check_callback(auth.callback_map, payload)
                        need, display = auth.callback_needs(key, payload)
                        if need == "bad" or not auth.allows(p, need, display):  # as over HTTP
                            problem = "ei oikeutta"
                except BadCallback as err:
                    problem = str(err)
            if problem is None:
                return message
            await close(problem)
            return {"type": "websocket.disconnect", "code": 4003}

        token = current.set(p)
        try:
            await self.app(scope, checked, guarded_send)
        finally:
            current.reset(token)


async def _refuse(send: Any, status: int, error: str) -> None:
    body = json.dumps({"error": error}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value)
    return None


def cookie(scope: dict[str, Any], name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if raw is None:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # a malformed cookie header carries no principal
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # type: ignore[no-any-return]

    return again
