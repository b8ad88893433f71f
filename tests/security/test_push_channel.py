"""The push channel (`[site] updates = "push"`): a websocket the HTTP middleware never
sees. Anonymous connections, other origins, another display's stream and bent callback
bodies are refused; the screen's own stream flows (the control)."""

from __future__ import annotations

import json
import time
from contextlib import closing
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.browser.conftest import Demo, http_client
from tests.security.test_hostile_clients import dependencies, honest, screen


def ws(demo: Demo, cookie: str | None, origin: str | None, session: str | None = None) -> Any:
    headers = {"Cookie": f"ohjaustaulu_display={cookie}"} if cookie else {}
    if session:
        headers = {"Cookie": f"ohjaustaulu_session={session}"}
    return connect(demo.url.replace("http://", "ws://") + "/_dash-ws-callback", origin=origin,  # type: ignore[arg-type]
                   additional_headers=headers, open_timeout=10)


def stream_request(demo: Demo, display: str, relabel: bool = False) -> str:
    dep = next(d for d in dependencies(demo) if d["inputs"][0]["id"] == "stream")
    body = honest(dep, {"stream.n_intervals": 1, "display-id.data": display, "model-etag.data": ""})
    if relabel:
        a, b = body["state"]
        a["id"], b["id"] = b["id"], a["id"]
    return json.dumps({"type": "callback_request", "requestId": "r1", "rendererId": "x", "payload": body})


def messages(sock: Any, seconds: float = 4.0) -> list[str]:
    """What the server sends within `seconds` (the stream never ends by itself)."""
    got: list[str] = []
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            got.append(sock.recv(timeout=left))
    except TimeoutError:
        pass
    return got


def test_only_a_screen_of_this_site_may_open_the_channel(push_demo: Demo):
    with closing(screen(push_demo, "aula")) as aula:
        cookie = aula.cookies.get("ohjaustaulu_display")
    for who, origin in ((None, push_demo.url), (cookie, None), (cookie, "http://evil.example")):
        with pytest.raises(InvalidStatus) as refused:
            ws(push_demo, who, origin)
        assert refused.value.response.status_code == 403


def test_a_screen_streams_its_own_display_and_no_other(push_demo: Demo):
    with closing(screen(push_demo, "aula")) as aula:
        cookie = aula.cookies.get("ohjaustaulu_display")
    for display, relabel in (("johto", False), ("aula", True)):
        with ws(push_demo, cookie, push_demo.url) as sock:
            sock.send(stream_request(push_demo, display, relabel))
            with pytest.raises(ConnectionClosed) as closed:
                got = messages(sock)
                raise AssertionError(f"not closed; got {got[:2]}")
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003
    with ws(push_demo, cookie, push_demo.url) as sock:  # the control: its own display streams
        sock.send(stream_request(push_demo, "aula"))
        got = " ".join(messages(sock))
        assert "model-etag" in got and "queue.waiting" in got


def test_the_http_guard_is_not_the_only_line(push_demo: Demo):
    """A poll for another display reaches no data even on a push site."""
    with closing(screen(push_demo, "aula")) as aula:
        r = aula.get("/api/snapshot/johto")
        assert r.status_code == 403
        assert httpx.get(f"{push_demo.url}/api/snapshot/aula", timeout=10).status_code == 401


def test_an_ended_session_stops_streaming(push_demo: Demo):
    with closing(http_client(push_demo.url, "esihenkilo")) as manager:
        session = manager.cookies.get("ohjaustaulu_session")
    with ws(push_demo, None, push_demo.url, session=session) as sock:
        sock.send(stream_request(push_demo, "johto"))
        assert "model-etag" in " ".join(messages(sock, 3))  # a person may watch any display
        ended = push_demo.cli("user", "sessions", "esihenkilo", "--end")
        assert ended.returncode == 0 and "ended 1" in ended.stdout
        sock.send(json.dumps({"type": "heartbeat"}))  # what the page sends every 30 s
        with pytest.raises(ConnectionClosed) as closed:
            messages(sock, 5)
            raise AssertionError("still streaming after the session ended")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003


@pytest.mark.store
@time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki")), tick=True)  # a Tuesday morning
def test_a_silent_stream_is_closed_when_its_session_ends(backend, config, monkeypatch):  # type: ignore[no-untyped-def]
    """A hostile client that never speaks is checked as its stream is sent (every
    RECHECK_SECONDS; shortened here), in process with Starlette's websocket test client."""
    import secrets

    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from dashboard.domain.readings import Reading
    from dashboard.web import hardening
    from dashboard.web.app import asgi, create_app
    from dashboard.web.auth import _digest
    from tests.test_fastpoll import request_stop_watch

    monkeypatch.setattr(hardening, "RECHECK_SECONDS", 0.3)
    pushed = config.model_copy(update={"site": config.site.model_copy(update={"updates": "push"})})
    app = create_app(pushed, backend.store, backend.history, backend.data_dir)
    request_stop_watch(app)
    sid = secrets.token_urlsafe(16)
    backend.store.put_session(_digest(sid), {"user": "hiljainen", "role": "manager", "units": "[]", "csrf": "c"}, 600)
    with TestClient(asgi(app)) as client:
        client.cookies.set("ohjaustaulu_session", sid)
        with client.websocket_connect("/_dash-ws-callback", headers={"Origin": "http://testserver"}) as sock:
            body = {"output": next(k for k, v in app.callback_map.items() if v.get("no_output")),
                    "inputs": [{"id": "stream", "property": "n_intervals", "value": 1}],
                    "changedPropIds": ["stream.n_intervals"],
                    "state": [{"id": "display-id", "property": "data", "value": "johto"},
                              {"id": "model-etag", "property": "data", "value": ""}]}
            sock.send_text(json.dumps({"type": "callback_request", "requestId": "1", "rendererId": "r",
                                       "payload": body}))
            assert "model-etag" in sock.receive_text()  # the control: it streams
            assert backend.store.end_sessions("hiljainen") == 1
            time.sleep(0.4)
            now = datetime.now().astimezone()
            backend.store.write_readings("demo-jonot", [Reading("queue.waiting", "vastaanotto", "Päivystys", 7, now,
                                                                "demo-jonot")], {"state": "ok"})
            with pytest.raises(WebSocketDisconnect) as gone:
                for _ in range(20):
                    sock.receive_text()
            assert gone.value.code == 4003
