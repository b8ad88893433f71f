"""REDIS_URL=redis-sentinel://…: the live store follows a Sentinel failover (a primary and
a replica of the test's own, and a sentinel watching them)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.domain.readings import Reading
from dashboard.storage.livestore import LiveStore
from tests.conftest import wait_for
from tests.servers import RedisSentinel, RedisServer

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_live_store_follows_a_failover(tmp_path: Path):
    with RedisServer(tmp_path / "primary") as primary, \
            RedisServer(tmp_path / "replica", config=[f"replicaof {primary.host} {primary.port}"]) as replica, \
            RedisSentinel(primary, tmp_path / "sentinel") as sentinel, sentinel.client() as ask:
        wait_for(lambda: ask.sentinel_slaves("ohjaustaulu"), timeout=15, what="sentinel sees the replica")
        store = LiveStore.open(f"redis-sentinel://127.0.0.1:{sentinel.port}/ohjaustaulu/0", tmp_path, "t:")
        store.write_readings("jonot", [Reading("queue.waiting", "vastaanotto", "A", 4, T0, "jonot")], {})
        with primary.client() as c:
            c.wait(1, 5000)  # the replica has it
        primary.kill()

        def write_after_failover() -> bool:
            store.write_readings("jonot", [Reading("queue.waiting", "vastaanotto", "A", 5, T0, "jonot")], {})
            return True

        wait_for(write_after_failover, timeout=30, what="a write on the promoted replica")
        assert [r.value for r in store.all_readings()["jonot"]] == [5]
        assert store.history_backlog() == 2  # the change before the failover was kept
        with replica.client() as c:
            assert c.info("replication")["role"] == "master"


def test_a_malformed_sentinel_url_is_named(tmp_path: Path):
    with pytest.raises(ValueError, match="redis-sentinel://host:port"):
        LiveStore.open("redis-sentinel://127.0.0.1:26379", tmp_path, "t:")




@pytest.mark.parametrize("url", ["redis-sentinel://127.0.0.1:26379", "redis-sentinel:///ohjaustaulu",
                                 "redis-sentinel://h:1/m/x", "rediss+nope://host"])
def test_a_redis_url_that_cannot_be_understood_is_named_by_the_command(url: str, tmp_path: Path):
    from tests.conftest import EXAMPLE_CONFIG, cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("OHJAUSTAULU_")}
    result = cli("snapshot", "--display", "aula", "--json", "--config", str(EXAMPLE_CONFIG),
                 "--data-dir", str(tmp_path), env=env | {"REDIS_URL": url})
    assert result.returncode == 2
    assert result.stderr.startswith(f"REDIS_URL {url!r}"), result.stderr
    assert "Traceback" not in result.stderr
