import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import EXAMPLE_CONFIG, Backend, cli
from tests.siteclock import pin_site_clock

pytestmark = pytest.mark.store
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


@pytest.fixture(autouse=True)
def tuesday_morning(backend: Backend) -> None:
    """The commands run at 10.00 on a Tuesday whenever the test runs: the demo's simulated
    day, and what "today" is to an import, are that morning's."""
    pin_site_clock(backend.store, TUESDAY)


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
    said = json.loads(stopped.stdout)
    assert said["stopped"] is True and said["state"] == "stopped"
    since = datetime.fromisoformat(said["stopped_at"])  # since when: the admin page shows it
    assert abs((backend.store.clock(UTC).now() - since).total_seconds()) < 30  # by the site's clock
    assert backend.store.is_stopped("demo-jonot")
    again = json.loads(cli("source", "stop", "demo-jonot", "--config", str(EXAMPLE_CONFIG), env=env).stdout)
    assert again["stopped_at"] == said["stopped_at"]  # stopped twice: since the first time
    result = cli("collect", "--once", "--source", "demo-jonot", "--config", str(EXAMPLE_CONFIG), env=env)
    assert result.returncode == 1 and "stopped by an operator" in result.stdout
    started = json.loads(cli("source", "start", "demo-jonot", "--config", str(EXAMPLE_CONFIG), env=env).stdout)
    assert not backend.store.is_stopped("demo-jonot") and started["stopped_at"] is None


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
    today = TUESDAY.strftime("%d.%m.%Y")
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


def test_the_common_options_go_before_or_after_the_command(backend: Backend, tmp_path):  # type: ignore[no-untyped-def]
    """`ohjaustaulu --data-dir X display-token ID` (the IT team's habit) works as well as the
    options after the command's name; given in both places, the later one wins."""
    from dashboard.web.accounts import display_of_token

    env = {k: v for k, v in backend.cli_env().items() if k != "OHJAUSTAULU_DATA"}  # the folder only from --data-dir
    data = str(backend.data_dir)
    before = cli("--data-dir", data, "--config", str(EXAMPLE_CONFIG), "display-token", "vastaanotto-kaytava", env=env)
    after = cli("display-token", "vastaanotto-kaytava", "--data-dir", data, "--config", str(EXAMPLE_CONFIG), env=env)
    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    for token in (before.stdout.strip(), after.stdout.strip()):
        assert display_of_token(backend.history, token) == "vastaanotto-kaytava"
    # both places: the option after the command's name is the one used
    missing = tmp_path / "nowhere.toml"
    both = cli("--config", str(EXAMPLE_CONFIG), "check-config", "--config", str(missing), env=env)
    assert both.returncode == 2 and "nowhere.toml" in both.stderr
    both = cli("--config", str(missing), "check-config", "--config", str(EXAMPLE_CONFIG), env=env)
    assert both.returncode == 0 and "OK" in both.stdout


def test_a_screen_that_is_gone_can_be_forgotten(backend: Backend):
    env = backend.cli_env()
    at = datetime.now(UTC)
    for screen in ("aula-tv-1", "aula-tv-2"):
        backend.store.record_heartbeat(screen, {"screen": screen, "display": "aula", "seen_at": at.isoformat(),
                                                "seen_at_epoch": at.timestamp()})
    listed = cli("screen", "list", "--config", str(EXAMPLE_CONFIG), env=env)
    assert [json.loads(line)["screen"] for line in listed.stdout.splitlines()] == ["aula-tv-1", "aula-tv-2"]
    gone = cli("screen", "forget", "aula-tv-1", "--config", str(EXAMPLE_CONFIG), env=env)
    assert gone.returncode == 0 and "aula-tv-1" in gone.stdout
    assert [b["screen"] for b in backend.store.screens()] == ["aula-tv-2"]
    assert backend.history.audit()[-1].action == "screen-forget"
    unknown = cli("screen", "forget", "aula-tv-1", "--config", str(EXAMPLE_CONFIG), env=env)
    assert unknown.returncode == 2 and "no screen 'aula-tv-1'" in unknown.stderr
    # a screen forgotten comes back with its next heartbeat
    backend.store.record_heartbeat("aula-tv-1", {"screen": "aula-tv-1", "display": "aula",
                                                 "seen_at": at.isoformat(), "seen_at_epoch": at.timestamp()})
    assert sorted(b["screen"] for b in backend.store.screens()) == ["aula-tv-1", "aula-tv-2"]


@pytest.mark.parametrize("weeks", ["-1", "105", "kaksi"])
def test_the_demos_history_weeks_are_a_number_of_weeks(backend: Backend, weeks: str):
    """`demo --history-weeks N` (0: no past weeks, for a large area's configuration): anything
    else is refused by name before anything starts."""
    result = cli("demo", "--history-weeks", weeks, "--config", str(EXAMPLE_CONFIG), env=backend.cli_env())
    assert result.returncode == 2 and "Ohjaustaulu demo is running" not in result.stdout
    assert f"argument --history-weeks: {weeks!r} is not a number of weeks from 0 to 104" in result.stderr


def test_no_past_weeks_are_seeded_when_none_are_asked_for(backend: Backend):
    from dashboard.config import load_config
    from dashboard.demo import seed_days

    assert seed_days(load_config(EXAMPLE_CONFIG), backend.history, TUESDAY.date(), weeks=0) == 0
    assert backend.history.changes() == []
    assert seed_days(load_config(EXAMPLE_CONFIG), backend.history, TUESDAY.date(), weeks=1) > 0  # the control
