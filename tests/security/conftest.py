"""The adversarial suite's servers: `ohjaustaulu demo` started as a user would (the same as
the browser tests'), attacked with nothing but the network — raw HTTP, raw websockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import (
    Demo,
    fast_config,
    start_demo,
    stop_demo,
)
from tests.conftest import BACKENDS, close_backend, make_backend


@pytest.fixture(scope="package", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo as the browser tests start it (per backend), without past weeks: no attack
    reads them, and seeding them is 8 s of a core beside the tests."""
    root = tmp_path_factory.mktemp(f"attack-{request.param}")
    backend = make_backend(request.param, root / "data")
    d = start_demo(backend, fast_config(root / "site.toml"), "--history-weeks", "0")
    yield d
    stop_demo(d)
    close_backend(backend)


@pytest.fixture(scope="package")
def push_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo with `[site] updates = "push"`: the walls' websocket channel."""
    root = tmp_path_factory.mktemp("attack-push")
    backend = make_backend("embedded", root / "data")
    config = fast_config(root / "site.toml")
    config.write_text(config.read_text(encoding="utf-8").replace(
        'key_prefix = "ohjaustaulu:"', 'key_prefix = "ohjaustaulu:"\nupdates = "push"'), encoding="utf-8")
    # the channel's tests read no past days: no weeks seeded beside them (a core's 10 s)
    d = start_demo(backend, config, "--history-weeks", "0")
    yield d
    stop_demo(d)
    close_backend(backend)
