"""The wall's poll answered without Dash gives the screen exactly what Dash would, and only
to the screen that may have it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine

from dashboard.config import Config
from dashboard.domain.readings import Reading
from dashboard.web.accounts import new_display_token
from dashboard.web.app import asgi, create_app
from layouts.fastpoll import OUTPUT
from tests.conftest import Backend, wait_for

pytestmark = pytest.mark.store
DISPLAY = "vastaanotto-kaytava"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))  # a Tuesday morning


_apps: list[Any] = []


@pytest.fixture(autouse=True)
def stop_watching(backend: Backend) -> Any:
    """Each app's change-channel listener and refresher end with their test, before its store
    is emptied: a thread still reading it then would write its epoch again, a key left behind."""
    yield
    while _apps:
        app, stack = _apps.pop()
        watch = app.server.state.display_ctx.cache.watch
        watch.stop.set()
        watch.thread.join(5)
        for layer in _layers(stack):
            if hasattr(layer, "refresher"):
                layer.refresher.thread.join(5)


def _layers(app: Any) -> Any:
    while app is not None:
        yield app
        app = getattr(app, "app", None)


def request_stop_watch(app: Any, stack: Any = None) -> None:
    _apps.append((app, stack))


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
    request_stop_watch(app, fast)
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

    from dashboard.web.staticcache import StaticCache

    app = create_app(config, backend.store, backend.history, backend.data_dir)
    app.backend._setup_catchall()  # what Dash does at the server's start-up (lifespan)
    stack = asgi(app)
    request_stop_watch(app, stack)
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


def _made_ahead(app: Any, store: Any) -> Any:
    """A served display, its screen's board and poll, and the refresher of the process."""
    ctx = app.server.state.display_ctx
    store.write_readings("demo-jonot", [Reading("queue.waiting", "vastaanotto", "Päivystys", 3, NOW, "demo-jonot")],
                         {"state": "ok"})
    model = ctx.cache.get(DISPLAY)
    ctx.render(DISPLAY, model)  # the board the screen's page was given
    return ctx, poll_body(DISPLAY, model.etag)


def _change(ctx: Any, store: Any, value: int) -> None:
    store.write_readings("demo-jonot", [Reading("queue.waiting", "vastaanotto", "Päivystys", value, NOW, "demo-jonot")],
                         {"state": "ok"})
    wait_for(lambda: ctx.cache.watch.known and ctx.cache.watch.known[0] == store.version(), what="heard")


def _carries(answer: httpx.Response, value: str) -> bool:
    changed = json.loads(answer.content)["response"]["board-changes"]["data"]
    return any(value in (c[1].get("children"), c[1].get("data-value")) for c in changed)


@time_machine.travel(NOW, tick=False)
def test_after_a_change_the_refresher_makes_the_screens_answer_before_it_asks(backend: Backend, config: Config):
    """The polls only read: one thread of the process makes the display's model, board and
    answer as soon as the change is heard, and the poll that follows builds nothing."""
    store = backend.store
    app = create_app(config, store, backend.history, backend.data_dir)
    fast = asgi(app)
    request_stop_watch(app, fast)
    fastpoll = fast.app.app.app
    ctx, body = _made_ahead(app, store)
    token = new_display_token(backend.history, DISPLAY)
    assert ask(fast, body, token).status_code == 204  # the display is now one this process serves
    _change(ctx, store, 9)
    wait_for(lambda: (m := ctx.cache.peek(DISPLAY)) is not None and (body["state"][1]["value"], m.etag)
             in fastpoll.diffs.get(DISPLAY, {}), what="the answer made ahead")
    builds = ctx.cache.builds
    answer = ask(fast, body, token)
    assert answer.status_code == 200 and _carries(answer, "9")
    assert ctx.cache.builds == builds  # the poll read what was made
    assert fastpoll.refresher.made >= 1


@time_machine.travel(NOW, tick=False)
def test_a_poll_before_its_displays_turn_hears_nothing_new_yet_unless_the_refresher_cannot_make_it(
        backend: Backend, config: Config):
    store = backend.store
    app = create_app(config, store, backend.history, backend.data_dir)
    fast = asgi(app)
    request_stop_watch(app, fast)
    fastpoll = fast.app.app.app
    ctx, body = _made_ahead(app, store)
    token = new_display_token(backend.history, DISPLAY)
    assert ask(fast, body, token).status_code == 204
    # the refresher is busy elsewhere (held here) when the change comes
    go_on, prepare = threading.Event(), fastpoll.prepare

    def in_the_refresher_first(act: Any) -> Any:
        """fastpoll.prepare, with `act` done first when the refresher calls it (not a poll)."""
        def prepared(display_id: str, etag: str) -> Any:
            if threading.current_thread().name == "refresher":
                act()
            return prepare(display_id, etag)
        return prepared

    def fault() -> None:
        raise RuntimeError("a fault in making this display")

    held = in_the_refresher_first(lambda: go_on.wait(10))
    fastpoll.prepare = held
    _change(ctx, store, 9)
    builds = ctx.cache.builds
    assert ask(fast, body, token).status_code == 204  # the newest board made is the screen's
    assert ctx.cache.builds == builds
    go_on.set()
    wait_for(lambda: ctx.cache.peek(DISPLAY) is not None, what="the refresher's turn")
    answer = ask(fast, body, token)
    assert answer.status_code == 200 and _carries(answer, "9")

    # a display the refresher fails to make is made by its poll, as before
    fastpoll.prepare = in_the_refresher_first(fault)
    _change(ctx, store, 12)
    wait_for(lambda: DISPLAY in fastpoll.refresher.failed, what="the refresher's failure")
    answer = ask(fast, body, token)
    assert answer.status_code == 200 and _carries(answer, "12")
    # and with the change channel gone, a poll finds out itself whatever the refresher does
    ctx.cache.watch.stop.set()
    time.sleep(1.5)  # the listener has stopped: nothing is heard any more
    ctx.cache.watch.known = None
    fastpoll.prepare = held
    go_on.clear()
    fastpoll.refresher.failed.clear()
    store.write_readings("demo-jonot", [Reading("queue.waiting", "vastaanotto", "Päivystys", 15, NOW, "demo-jonot")],
                         {"state": "ok"})
    answer = ask(fast, body, token)
    go_on.set()
    assert answer.status_code == 200 and _carries(answer, "15")
