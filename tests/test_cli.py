import json

import pytest

from tests.conftest import EXAMPLE_CONFIG, Backend, cli

pytestmark = pytest.mark.store


def test_collect_once_then_snapshot_see_the_same_store(backend: Backend):
    env = backend.cli_env()
    collected = cli("collect", "--once", "--config", str(EXAMPLE_CONFIG), env=env)
    assert collected.returncode == 0, collected.stderr
    assert "demo-jonot: ok" in collected.stdout
    snap = cli("snapshot", "--display", "aula", "--json", "--config", str(EXAMPLE_CONFIG), env=env)
    assert snap.returncode == 0, snap.stderr
    data = json.loads(snap.stdout)
    assert data["display"] == "aula" and data["tiles"]
    assert {t["metric"] for t in data["tiles"]} <= {"queue.waiting", "queue.longest_wait_min", "queue.avg_wait_min"}
    # the same readings, read by this process through the same store
    stored = {(r.metric, r.unit, r.key): r.value for rs in backend.store.all_readings().values() for r in rs}
    for tile in data["tiles"]:
        assert stored[(tile["metric"], tile["unit"], tile["key"])] == tile["value"]


def test_every_change_collected_is_in_the_history(backend: Backend):
    env = backend.cli_env()
    assert cli("collect", "--once", "--config", str(EXAMPLE_CONFIG), env=env).returncode == 0
    rows = backend.history.changes()
    stored = sum(len(rs) for rs in backend.store.all_readings().values())
    assert len(rows) == stored  # the first poll changes every reading
    assert backend.store.history_backlog() == 0


def test_source_stop_and_start_from_the_command_line(backend: Backend):
    env = backend.cli_env()
    stopped = cli("source", "stop", "demo-jonot", "--config", str(EXAMPLE_CONFIG), env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)["stopped"] is True
    assert backend.store.is_stopped("demo-jonot")
    result = cli("collect", "--once", "--source", "demo-jonot", "--config", str(EXAMPLE_CONFIG), env=env)
    assert result.returncode == 1 and "stopped by an operator" in result.stdout
    cli("source", "start", "demo-jonot", "--config", str(EXAMPLE_CONFIG), env=env)
    assert not backend.store.is_stopped("demo-jonot")


def test_snapshot_of_an_unknown_display_names_the_known_ones(backend: Backend):
    result = cli("snapshot", "--display", "nope", "--json", "--config", str(EXAMPLE_CONFIG),
                 env=backend.cli_env())
    assert result.returncode == 2
    assert "unknown display 'nope'" in result.stderr and "aula" in result.stderr


def test_times_are_in_the_site_time_zone_whatever_the_servers(backend: Backend):
    env = backend.cli_env() | {"TZ": "America/New_York"}
    assert cli("collect", "--once", "--config", str(EXAMPLE_CONFIG), env=env).returncode == 0
    snap = cli("snapshot", "--display", "johto", "--json", "--config", str(EXAMPLE_CONFIG), env=env)
    data = json.loads(snap.stdout)
    offsets = {t["updated_at"][-6:] for t in data["tiles"]} | {data["as_of"][-6:]}
    assert offsets <= {"+02:00", "+03:00"}, offsets  # Helsinki, winter or summer
