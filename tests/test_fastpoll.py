"""The wall's poll answered without Dash gives the screen exactly what Dash would, and only
to the screen that may have it."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine

from dashboard.accounts import new_display_token
from dashboard.app import asgi, create_app
from dashboard.config import Config
from dashboard.readings import Reading
from layouts.fastpoll import OUTPUT
from tests.conftest import Backend, wait_for

pytestmark = pytest.mark.store
DISPLAY = "vastaanotto-kaytava"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))  # a Tuesday morning


_apps: list[Any] = []


@pytest.fixture(autouse=True)
def stop_watching() -> Any:
    """Each app's change-channel listener ends with its test (the store goes with it)."""
    yield
    while _apps:
        _apps.pop().server.state.display_ctx.cache.watch.stop.set()


def request_stop_watch(app: Any) -> None:
    _apps.append(app)


def poll_body(display: str, etag: str) -> dict[str, Any]:
    return {"output": OUTPUT,
            "outputs": [{"id": "board", "property": "children"}, {"id": "board-changes", "property": "data"},
                        {"id": "model-etag", "property": "data"}],
            "inputs": [{"id": "tick", "property": "n_intervals", "value": 7}],
            "changedPropIds": ["tick.n_intervals"],
            "state": [{"id": "display-id", "property": "data", "value": display},
                      {"id": "model-etag", "property": "data", "value": etag}]}


def ask(app: Any, body: dict[str, Any], token: str | None) -> httpx.Response:
    async def go() -> httpx.Response:
        cookies = {"ohjaustaulu_display": token} if token else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                     cookies=cookies) as client:
            return await client.post("/_dash-update-component", json=body)
    return asyncio.run(go())


@time_machine.travel(NOW, tick=False)  # the board of an open unit, its queue fresh throughout
def test_the_fast_poll_answers_as_dash_does_and_only_to_its_screen(backend: Backend, config: Config):
    store = backend.store
    app = create_app(config, store, backend.history, backend.data_dir)
    fast, dash_only = asgi(app), app.server
    request_stop_watch(app)
    fastpoll = fast.app.app.app  # RequestMetrics → Hardening → StaticCache → FastPoll
    ctx = app.server.state.display_ctx
    token = new_display_token(backend.history, DISPLAY)
    other = new_display_token(backend.history, "aula")
    store.write_readings("demo-jonot", [Reading("queue.waiting", "vastaanotto", "Päivystys", 3, NOW, "demo-jonot")],
                         {"state": "ok"})
    model = ctx.cache.get(DISPLAY)
    ctx.render(DISPLAY, model)  # the board the screen's page was given
    body = poll_body(DISPLAY, model.etag)

    assert ask(dash_only, body, token).status_code == 204
    assert ask(fast, body, token).status_code == 204
    assert fastpoll.answered == 1

    store.write_readings("demo-jonot", [Reading("queue.waiting", "vastaanotto", "Päivystys", 9, NOW, "demo-jonot")],
                         {"state": "ok"})
    # the process hears of the write on the change channel (within milliseconds)
    wait_for(lambda: ctx.cache.watch.known and ctx.cache.watch.known[0] == store.version(), what="heard")
    by_dash, by_fast = ask(dash_only, body, token), ask(fast, body, token)
    assert by_dash.status_code == by_fast.status_code == 200
    assert json.loads(by_fast.content) == json.loads(by_dash.content)
    changed = json.loads(by_fast.content)["response"]["board-changes"]["data"]
    assert ["9" in (c[1].get("children"), c[1].get("data-value")) for c in changed].count(True) >= 1, changed
    assert fastpoll.answered == 2

    # not this screen's to ask: the normal stack refuses, in its own words
    for who, status in ((None, 401), (other, 403), ("not-a-token", 401)):
        assert ask(fast, body, who).status_code == status
    assert fastpoll.answered == 2
    # an unknown board (the screen is far behind): the whole board, by Dash
    whole = ask(fast, poll_body(DISPLAY, "long-gone"), token)
    assert whole.status_code == 200 and "board" in json.loads(whole.content)["response"]
    assert fastpoll.answered == 2


def test_versioned_static_files_are_compressed_once_and_given_alike(backend: Backend, config: Config):
    import re

    from dashboard.staticcache import StaticCache

    app = create_app(config, backend.store, backend.history, backend.data_dir)
    app.backend._setup_catchall()  # what Dash does at the server's start-up (lifespan)
    stack = asgi(app)
    request_stop_watch(app)
    cache = stack.app.app  # RequestMetrics → Hardening → StaticCache
    assert isinstance(cache, StaticCache)
    token = new_display_token(backend.history, DISPLAY)

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack), base_url="http://t") as c:
            page = await c.get(f"/display/{DISPLAY}?token={token}")
            scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page.text)
            css = re.findall(r'href="(/assets/display\.css\?m=[^"]+)"', page.text)
            assert scripts and css
            for url in (scripts[0], css[0]):
                gz = [await c.get(url, headers={"accept-encoding": "gzip"}) for _ in range(2)]
                plain = [await c.get(url, headers={"accept-encoding": "identity"}) for _ in range(2)]
                assert gz[0].content == gz[1].content and plain[0].content == plain[1].content
                assert gz[0].headers.get("content-encoding") == "gzip"
                assert "content-encoding" not in plain[0].headers
                assert gz[1].headers == gz[0].headers
            # the display page itself (not versioned, sets the screen's cookie) is never kept
            assert all(not path.startswith("/display/") for path, _, _ in cache.kept)
            assert len(cache.kept) == 4

    asyncio.run(go())
