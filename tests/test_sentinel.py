"""REDIS_URL=redis-sentinel://…: the live store follows a Sentinel failover (a primary and
a replica of the test's own, and a sentinel watching them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.livestore import LiveStore
from dashboard.readings import Reading
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


