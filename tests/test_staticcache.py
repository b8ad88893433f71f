"""Versioned static files: made once per address however many ask at once (bench/displays.py:
after a deployment every screen reloads against new workers, and each of the first ones
compressed the same bundles again)."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import httpx
import pytest

from dashboard.staticcache import StaticCache

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
