"""Versioned static files: made once per address however many ask at once, and made before
a worker's first request (bench/displays.py: after a deployment every screen reloads against
new workers, and each of the first ones compressed the same bundles again)."""

from __future__ import annotations

import asyncio
import gzip
import re
from typing import Any

import httpx
import pytest

from dashboard.web.staticcache import StaticCache, WarmUp, versioned

BUNDLE = "/_dash-component-suites/dash/deps/react@18.v4_4_1m1.3.1.min.js"


class Bundles:
    """An app that takes its time to make each answer (as gzipping a bundle does) and
    counts how often it made one."""

    def __init__(self, status: int = 200, cookie: bool = False, fail_first: bool = False):
        self.status, self.cookie, self.fail_first = status, cookie, fail_first
        self.made: list[str] = []
        self.started = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.started = True
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"] + "?" + scope["query_string"].decode()
        self.made.append(path)
        await asyncio.sleep(0.05)
        if self.fail_first and len(self.made) == 1:
            raise RuntimeError("the first answer failed")
        zipped = any(k == b"accept-encoding" and b"gzip" in v for k, v in scope["headers"])
        body = f"made {len(self.made)}".encode()
        body = gzip.compress(body) if zipped else body
        headers = [(b"content-type", b"text/javascript")]
        headers += [(b"content-encoding", b"gzip")] if zipped else []
        headers += [(b"set-cookie", b"a=b")] if self.cookie else []
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body[:5], "more_body": True})
        await send({"type": "http.response.body", "body": body[5:]})


def get_all(app: Any, urls: list[str], zipped: bool = True) -> list[httpx.Response]:
    """GET each of `urls` at once, as many screens' first loads do."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"accept-encoding": "gzip, deflate, br" if zipped else "identity"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return list(await asyncio.gather(*(client.get(u, headers=headers) for u in urls)))

    return asyncio.run(asyncio.wait_for(go(), 10))  # none left waiting for ever


def test_many_first_requests_at_once_make_the_answer_once():
    inner = Bundles()
    cache = StaticCache(inner)
    answers = get_all(cache, [BUNDLE] * 20)
    assert inner.made == [BUNDLE + "?"]  # one made it, nineteen waited for it
    assert {a.status_code for a in answers} == {200}
    assert {a.headers["content-encoding"] for a in answers} == {"gzip"}
    assert {a.content for a in answers} == {b"made 1"}
    # and the other encoding is its own answer, made once too
    plain = get_all(cache, [BUNDLE] * 5, zipped=False)
    assert inner.made == [BUNDLE + "?", BUNDLE + "?"]
    assert {"content-encoding" in a.headers for a in plain} == {False}
    assert {a.content for a in plain} == {b"made 2"}


@pytest.mark.parametrize("inner", [Bundles(status=404), Bundles(cookie=True)],
                         ids=["not-found", "sets-a-cookie"])
def test_an_answer_that_is_not_kept_is_made_for_each_who_waited(inner: Bundles):
    answers = get_all(StaticCache(inner), [BUNDLE] * 5)
    assert len(inner.made) == 5
    assert {a.status_code for a in answers} == {inner.status}


def test_a_failed_first_answer_leaves_no_one_waiting():
    inner = Bundles(fail_first=True)
    answers = get_all(StaticCache(inner), [BUNDLE] * 5)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 500]


def test_a_worker_makes_its_static_files_before_it_says_it_has_started():
    inner = Bundles()
    cache = StaticCache(inner)
    paths = [BUNDLE, "/assets/display.css?m=17.5", "/_dash-component-suites/x/missing.v1.js"]
    warm = WarmUp(cache, paths)

    async def lifespan() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        messages = asyncio.Queue[dict[str, Any]]()
        await messages.put({"type": "lifespan.startup"})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                # by now every path has been made and kept (gzipped, as browsers ask)
                assert len(inner.made) == 3 and len(cache.kept) == 3
                assert all(zipped for _, _, zipped in cache.kept)
            sent.append(message)
            if message["type"] == "lifespan.startup.complete":
                await messages.put({"type": "lifespan.shutdown"})

        await warm({"type": "lifespan", "asgi": {"version": "3.0"}}, messages.get, send)
        return sent

    sent = asyncio.run(lifespan())
    assert inner.started and [m["type"] for m in sent] == ["lifespan.startup.complete",
                                                           "lifespan.shutdown.complete"]
    assert warm.warmed == 3
    made = len(inner.made)
    answers = get_all(warm, [BUNDLE] * 3 + ["/assets/display.css?m=17.5"])
    assert len(inner.made) == made  # the screens' requests found them made
    assert {a.status_code for a in answers} == {200}


def test_a_failing_warm_up_still_starts_the_worker():
    inner = Bundles(status=500)
    warm = WarmUp(StaticCache(inner), [BUNDLE])

    async def lifespan() -> list[str]:
        messages = asyncio.Queue[dict[str, Any]]()
        for m in ("lifespan.startup", "lifespan.shutdown"):
            await messages.put({"type": m})
        sent: list[str] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])

        await warm({"type": "lifespan", "asgi": {"version": "3.0"}}, messages.get, send)
        return sent

    assert asyncio.run(lifespan()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert warm.warmed == 0


def test_the_warm_up_list_is_what_a_page_loads():
    """asgi.page_resources (Dash's own methods) names the versioned scripts and styles of
    the page Dash serves."""
    import dash
    from dash import html

    from dashboard.web.app import ASSETS
    from dashboard.web.asgi import page_resources

    app = dash.Dash("warm-up-test", backend="fastapi", assets_folder=str(ASSETS), compress=True)
    app.layout = html.Div("x")
    for hook in list(app.backend._before_request_funcs):  # as dashboard.web.app does at start-up
        hook()
    app.backend._setup_catchall()  # what Dash does at the server's start-up (lifespan)
    paths = page_resources(app)
    page = get_all(app.server, ["/"])[0]
    assert page.status_code == 200
    named = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page.text) if versioned(u)]
    assert paths == named and len(paths) >= 8
    assert any("dash_renderer" in p for p in paths)
    assert any(p.startswith("/assets/display.css?m=") for p in paths)
