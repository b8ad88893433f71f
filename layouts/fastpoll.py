"""The wall's poll, answered without Dash when it can be.

Every screen asks every 2 s (`layouts/display.py`, the `poll` callback). Through the whole
stack — the sign-in guard, Dash's callback machinery, the JSON body parsed three times —
an unchanged answer cost 2.3–2.5 times a `/health` (bench/displays.py). This ASGI layer
answers the two common cases itself, with the same bytes Dash would send:

- the screen's board is current: 204, as Dash's PreventUpdate;
- the screen is one or a few changes behind: the changed elements' props, encoded once per
  (display, old board, new board) and given to every screen at that step.

Only a screen proving itself with its display cookie for the display it asks about is
answered here; anything else (a signed-in person, a whole new board, a stranger, another
callback) goes on to the normal stack, which decides as always.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import redis

from dashboard.access import BadCallback, Principal, check_callback, may, parse_json
from dashboard.auth import DISPLAY_COOKIE, Auth
from dashboard.hardening import cookie, replay
from dashboard.observability import FAST_POLLS
from layouts.display import BOARD, CHANGES, ETAG, STORE, DisplayContext
from layouts.patch import changes

PATH = "/_dash-update-component"
# the poll's outputs, as dash-renderer names them in the request
OUTPUT = f"..{BOARD}.children...{CHANGES}.data...{ETAG}.data.."
KEEP_DIFFS = 16  # per display


class FastPoll:
    def __init__(self, app: Any, ctx: DisplayContext, auth: Auth):
        self.app, self.ctx, self.auth = app, ctx, auth
        ctx.cache.watch_changes()
        self.diffs: dict[str, dict[tuple[str, str], bytes]] = {}
        self.answered = 0  # polls answered here (tests read it)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        answer = None
        ask = _poll_of(body, self.auth.callback_map)
        if ask is not None:
            token = cookie(scope, DISPLAY_COOKIE)
            if token:
                # most polls: nothing new, known without a database, Redis or a thread
                answer = self._known(ask[0], ask[1], token)
                if answer is None:
                    try:
                        answer = await anyio.to_thread.run_sync(self._answer, ask[0], ask[1], token)
                        STORE.ok()
                    except redis.RedisError as err:
                        # the screen asks /ready, says "tiedot eivät päivity" and waits: one
                        # line in the log for the whole outage, not a traceback per screen
                        STORE.failed(err)
                        answer = (503, b'{"error":"the live store is unavailable"}')
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        self.answered += 1
        status, payload = answer
        FAST_POLLS.labels(str(status)).inc()
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        if status == 503:
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        if status == 204:
            await send({"type": "http.response.start", "status": 204, "headers": headers[1:]})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _known(self, display_id: str, etag: str, token: str) -> tuple[int, bytes] | None:
        """The answer from what this process already knows, or None to find it out."""
        known, display = self.auth.cached_display(token)
        if not known or not may(Principal(display=display), "display:read", display_id):
            return None
        model = self.ctx.cache.peek(display_id)
        if model is None:
            return None
        if model.etag == etag:
            return 204, b""
        payload = self.diffs.get(display_id, {}).get((etag, model.etag))
        return (200, payload) if payload is not None else None

    def _answer(self, display_id: str, etag: str, token: str) -> tuple[int, bytes] | None:
        if not may(Principal(display=self.auth.display_for(token)), "display:read", display_id):
            return None  # the guard refuses it, in its own words
        try:
            model = self.ctx.cache.get(display_id)
        except KeyError:
            return None
        if model.etag == etag:
            return 204, b""
        step = (etag, model.etag)
        kept = self.diffs.setdefault(display_id, {})
        payload = kept.get(step)
        if payload is None:
            new = self.ctx.render(display_id, model)
            old = self.ctx.rendering(display_id, etag)
            diff = changes(old, new) if old is not None else None
            if diff is None:
                return None  # a whole new board: Dash sends it
            payload = json.dumps({"multi": True, "response": {CHANGES: {"data": diff},
                                                              ETAG: {"data": model.etag}}},
                                 separators=(",", ":"), ensure_ascii=False).encode()
            kept[step] = payload
            while len(kept) > KEEP_DIFFS:
                kept.pop(next(iter(kept)))
        return 200, payload


def _poll_of(body: bytes, callback_map: dict[str, Any]) -> tuple[str, str] | None:
    """(display id, the screen's board etag) when the body is exactly the wall's poll (as
    check_callback sees it: the values are at the positions Dash would read them from)."""
    try:
        request = parse_json(body)
        if not isinstance(request, dict) or request.get("output") != OUTPUT:
            return None
        check_callback(callback_map, request)
    except BadCallback:
        return None  # the guard refuses it, in its own words
    display_id, etag = (s.get("value") for s in request["state"])
    if not isinstance(display_id, str) or not isinstance(etag, str):
        return None
    return display_id, etag


async def _read(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
