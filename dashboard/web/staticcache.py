"""Versioned static files, compressed once.

A screen's first load asks for about a dozen script bundles (React, Dash's renderer and
components, Plotly's bundle) and our own CSS and JS. Their addresses carry a version
(`/_dash-component-suites/…/react@18.v4_4_1m1795…js`, `/assets/display.css?m=1795…`), so
what one address answers never changes while the server runs — yet the app gzipped each of
them again for every request: 0.11–0.14 s of CPU per page load, and a deployment (every
screen reloads within a heartbeat) queued the polls of hundreds of screens behind it
(bench/displays.py). This layer keeps the first complete answer of such an address, per
encoding, and gives the same bytes to every later request.

One request per address and encoding makes that answer: others asking for it meanwhile wait
for it instead of each compressing the same bundle (a fresh worker's first screens all ask at
once). And a worker can fill the cache before it takes its first request (`WarmUp`, on the
ASGI lifespan's start-up), so that no screen waits for a compression at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("ohjaustaulu.staticcache")

VERSIONED = ("/_dash-component-suites/",)
MAX_BYTES = 64 * 1024 * 1024  # everything the pages load is a few MB


class StaticCache:
    def __init__(self, app: Any):
        self.app = app
        self.kept: dict[tuple[str, bytes, bool], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.size = 0
        # the addresses being answered now: later askers wait for that answer
        self.making: dict[tuple[str, bytes, bool], asyncio.Event] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _versioned(scope):
            await self.app(scope, receive, send)
            return
        gzip = any(k == b"accept-encoding" and b"gzip" in v for k, v in scope.get("headers") or [])
        key = (scope["path"], scope.get("query_string", b""), gzip)
        made = self.making.get(key)
        if made is not None:
            await made.wait()  # the answer another request is making
        hit = self.kept.get(key)
        if hit is not None:
            status, headers, body = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if made is not None:  # that answer could not be kept (an error, a cookie): our own
            await self.app(scope, receive, send)
            return
        made = self.making[key] = asyncio.Event()
        try:
            await self._make(key, made, scope, receive, send)
        finally:
            self._release(key, made)

    async def _make(self, key: tuple[str, bytes, bool], made: asyncio.Event,
                    scope: dict[str, Any], receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._remember(key, start, b"".join(chunks))
                    self._release(key, made)  # the others need not wait for our client
            await send(message)

        await self.app(scope, receive, keep)

    def _release(self, key: tuple[str, bytes, bool], made: asyncio.Event) -> None:
        if self.making.get(key) is made:
            del self.making[key]
        made.set()

    def _remember(self, key: tuple[str, bytes, bool], start: dict[str, Any], body: bytes) -> None:
        headers = list(start.get("headers") or [])
        if start.get("status") != 200 or any(k.lower() == b"set-cookie" for k, _ in headers):
            return
        if self.size + len(body) > MAX_BYTES:
            return
        self.kept[key] = (200, headers, body)
        self.size += len(body)


class WarmUp:
    """ASGI middleware: on the lifespan's start-up, once the app below has started and before
    the server takes a request, GET each of `paths` through the app, gzipped as every browser
    asks, and throw the answers away: a StaticCache below keeps them. A fresh worker's first
    screens then get their bundles at once, as the hundredth does (a deployment reloads every
    screen within a heartbeat). A path that fails is logged and left to the first request.
    The warm-up's GETs pass the layers above like any request (counted in the metrics)."""

    def __init__(self, app: Any, paths: Iterable[str]):
        self.app = app
        self.paths = list(dict.fromkeys(paths))
        self.warmed = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan" or not self.paths:
            await self.app(scope, receive, send)
            return

        async def starting(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.warm()
            await send(message)

        await self.app(scope, receive, starting)

    async def warm(self) -> None:
        began = time.perf_counter()
        for path in self.paths:
            try:
                status = await self._get(path)
            except Exception as err:  # a warm-up never stops the server; the request will do
                log.warning("warm-up: %s failed: %s", path, err)
                continue
            if status == 200:
                self.warmed += 1
            else:
                log.warning("warm-up: %s answered %s", path, status)
        log.info("warm-up: %d of %d static files made in %.2f s", self.warmed, len(self.paths),
                 time.perf_counter() - began)

    async def _get(self, url: str) -> int | None:
        path, _, query = url.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
                 "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
                 "headers": [(b"host", b"localhost"), (b"accept-encoding", b"gzip, deflate, br")],
                 "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)}
        status: int | None = None
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # no disconnect while the answer is made
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        await self.app(scope, receive, send)
        return status


def _versioned(scope: dict[str, Any]) -> bool:
    path: str = scope["path"]
    if path.startswith(VERSIONED):
        return True
    return path.startswith("/assets/") and scope.get("query_string", b"").startswith(b"m=")


def versioned(url: str) -> bool:
    """Whether StaticCache keeps the answer of this address (path and query)."""
    path, _, query = url.partition("?")
    return _versioned({"path": path, "query_string": query.encode()})
