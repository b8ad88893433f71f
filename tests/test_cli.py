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
    assert {t["metric"] for t in data["tiles"]} <= {"queue.waiting", "queue.longest_wait_min", "queue.avg_wait_min",
                                                    "queue.estimated_wait_min"}
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


def test_import_json_is_exactly_the_contract_and_exit_status_follows_validity(backend: Backend, tmp_path):  # type: ignore[no-untyped-def]
    from tests.test_workbook import STAFF_HEAD, workbook

    env = backend.cli_env()
    good = tmp_path / "aamu.xlsx"
    today = backend.store.clock(__import__("zoneinfo").ZoneInfo("Europe/Helsinki")).now().strftime("%d.%m.%Y")
    good.write_bytes(workbook({"Henkilöstö": [STAFF_HEAD, [today, "vastaanotto", "lääkäri", 8, 7]]}))
    result = cli("import", str(good), "--json", "--user", "anna", "--config", str(EXAMPLE_CONFIG), env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["ok", "sha256", "applied", "counts", "warnings", "errors"]
    assert data["ok"] and data["applied"] and data["counts"] == {"Henkilöstö": 1}
    assert backend.history.imports()[-1].user == "anna"

    bad = tmp_path / "huono.xlsx"
    bad.write_bytes(workbook({"Henkilöstö": [STAFF_HEAD, [today, "vastaanotto", "lääkäri", -1, 7]]}))
    result = cli("import", str(bad), "--json", "--config", str(EXAMPLE_CONFIG), env=env)
    assert result.returncode == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert error == {"sheet": "Henkilöstö", "row": 2, "column": "Suunniteltu", "value": "-1",
                     "message": "Odotettiin kokonaislukua, joka on 0 tai suurempi."}
    plain = cli("import", str(bad), "--config", str(EXAMPLE_CONFIG), env=env)
    assert "VIRHE Henkilöstö 2 Suunniteltu [-1]: Odotettiin kokonaislukua" in plain.stdout


def test_template_command_writes_each_language(backend: Backend, tmp_path):  # type: ignore[no-untyped-def]
    from dashboard.workbook.reader import read

    for lang, sheet in (("fi", "Henkilöstö"), ("sv", "Personal"), ("en", "Staffing")):
        path = tmp_path / f"pohja-{lang}.xlsx"
        result = cli("template", str(path), "--lang", lang, "--config", str(EXAMPLE_CONFIG), env=backend.cli_env())
        assert result.returncode == 0, result.stderr
        assert sheet in read(path.read_bytes()).sheets
