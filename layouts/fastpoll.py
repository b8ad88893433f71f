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

After a change, the displays' new models, boards and answers are made ahead by one thread of
the process (`Refresher`), display after display, for every display a screen asked for in the
last minute. A poll that comes before its display's turn is told "nothing new yet" (204) while
that thread is at work, and gets the change at its next poll: the polls only read. Before, 40
server threads each built and drew a display after every change and queued behind each
other's locks (docs/region.md: at 500 screens on a slower machine, update p95 3.2 s).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import anyio
import redis

from dashboard.observability import FAST_POLLS
from dashboard.web.access import BadCallback, Principal, check_callback, may, parse_json
from dashboard.web.auth import DISPLAY_COOKIE, Auth
from dashboard.web.hardening import cookie, replay
from layouts.display import BOARD, CHANGES, ETAG, STORE, DisplayContext
from layouts.patch import changes

PATH = "/_dash-update-component"
# the poll's outputs, as dash-renderer names them in the request
OUTPUT = f"..{BOARD}.children...{CHANGES}.data...{ETAG}.data.."
KEEP_DIFFS = 16  # per display
ASKED_FOR = 60.0  # s: a display no screen of this process asked for in a minute is not made ahead
STALLED = 2.0  # s: a refresher that has made nothing for this long is not waited for
log = logging.getLogger(__name__)


class FastPoll:
    def __init__(self, app: Any, ctx: DisplayContext, auth: Auth):
        self.app, self.ctx, self.auth = app, ctx, auth
        ctx.cache.watch_changes()
        self.diffs: dict[str, dict[tuple[str, str], bytes]] = {}
        self.answered = 0  # polls answered here (tests read it)
        self.refresher = Refresher(self)

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
        self.refresher.asked_for(display_id, etag)
        model = self.ctx.cache.peek(display_id)
        if model is None:
            last = self.ctx.cache.last(display_id)
            watch = self.ctx.cache.watch
            heard = watch.known if watch is not None else None
            # after a write, the screen has the newest board made and the next is being made; a
            # board that is due by the clock alone (a value turning stale) its poll makes, as
            # before: the wall says how old a value is on time
            if (last is not None and last.etag == etag and heard is not None and last.version != heard[0]
                    and self.refresher.at_work(display_id)):
                return 204, b""
            return None
        if model.etag == etag:
            return 204, b""
        payload = self.diffs.get(display_id, {}).get((etag, model.etag))
        return (200, payload) if payload is not None else None

    def _answer(self, display_id: str, etag: str, token: str) -> tuple[int, bytes] | None:
        if not may(Principal(display=self.auth.display_for(token)), "display:read", display_id):
            return None  # the guard refuses it, in its own words
        self.refresher.asked_for(display_id, etag)
        return self.prepare(display_id, etag)

    def prepare(self, display_id: str, etag: str) -> tuple[int, bytes] | None:
        """The answer to a screen showing the board `etag`: its display's model made (if it is
        not current) and the changes from that board to the model's, kept for every screen
        at that step. None: a whole new board, which Dash sends."""
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


class Refresher:
    """One thread per web process that makes the displays' models, boards and poll answers
    as soon as the change channel says the live store changed (or a model's freshness is
    due: at least once a second it looks), one display after another, for every display a
    screen of this process asked for in the last minute — so that the screens' polls only
    read. It makes the step from the board each display's screens last asked with."""

    def __init__(self, fast: FastPoll):
        self.fast = fast
        self.asked: dict[str, tuple[float, str]] = {}  # display -> (when, the board it asked with)
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.made = 0  # displays made (tests read it)
        self.progress = time.monotonic()  # when it last finished a display or a round
        self.failed: set[str] = set()  # displays whose making failed: their polls make them
        watch = fast.ctx.cache.watch
        assert watch is not None
        watch.listeners.append(self.wake.set)
        self.thread = threading.Thread(target=self._run, daemon=True, name="refresher")
        self.thread.start()

    def asked_for(self, display_id: str, etag: str) -> None:
        self.asked[display_id] = (time.monotonic(), etag)

    def at_work(self, display_id: str) -> bool:
        """Whether it is running, getting on and able to make the display, with the change
        channel up: a poll may then wait for its next round. Otherwise (the store away, the
        thread stuck, the display's making failed) the poll finds out itself, as before."""
        watch = self.fast.ctx.cache.watch
        return (watch is not None and watch.known is not None and display_id not in self.failed
                and self.thread.is_alive() and time.monotonic() - self.progress < STALLED)

    def _run(self) -> None:
        cache = self.fast.ctx.cache
        watch = cache.watch
        assert watch is not None
        while not self.stop.is_set() and not watch.stop.is_set():  # ends with the process's watch
            self.wake.wait(1.0)
            self.wake.clear()
            self.progress = time.monotonic()
            for display_id, (at, etag) in list(self.asked.items()):
                if self.stop.is_set():
                    return
                if self.progress - at > ASKED_FOR:
                    self.asked.pop(display_id, None)
                    continue
                if cache.peek(display_id) is not None:
                    continue  # current: nothing to make
                try:
                    self.fast.prepare(display_id, etag)
                except redis.RedisError:
                    break  # the store is away: the polls find out and say so themselves
                except Exception:  # one display's fault stops no other display's update
                    if display_id not in self.failed:  # said once, not at every round
                        log.exception("making display %s ahead failed; its polls make it", display_id)
                    self.failed.add(display_id)
                    continue
                self.failed.discard(display_id)
                self.made += 1
                self.progress = time.monotonic()
            self.progress = time.monotonic()


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
