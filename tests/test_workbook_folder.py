"""The watched folder: new or changed workbooks are imported once they have settled."""

import logging
import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.workbook import FolderWatcher
from dashboard.config import Config, Source
from tests.conftest import EXAMPLE_CONFIG, ROOT, Backend, cli
from tests.siteclock import pin_site_clock

TZ = ZoneInfo("Europe/Helsinki")
MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)  # the fixture workbook's day
FIXTURE = ROOT / "tests" / "fixtures" / "workbook" / "aamu-libreoffice.xlsx"
pytestmark = pytest.mark.store


@pytest.fixture(autouse=True)
def monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        yield


def written(path: Path, data: bytes) -> Path:
    """Write as a person's save would: the file's time is now (the tests move the clock)."""
    path.write_bytes(data)
    os.utime(path, (time.time(), time.time()))
    return path


def staffing(present: int) -> bytes:
    from tests.test_workbook import STAFF_HEAD, workbook

    return workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 8, present]]})


def watcher(backend: Backend, config: Config, folder: Path) -> FolderWatcher:
    source = Source(name="jakokansio", kind="workbook", address=str(folder), poll_seconds=30)
    return FolderWatcher(source, config, backend.store, backend.history, backend.data_dir)


def test_a_new_file_is_imported_once_it_has_settled(backend: Backend, config: Config, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    w = watcher(backend, config, share)
    written(share / "aamu.xlsx", FIXTURE.read_bytes())
    (share / "~$aamu.xlsx").write_bytes(b"lock")  # Excel's lock file
    (share / ".~lock.aamu.xlsx#").write_text("lock")  # LibreOffice's
    assert w.poll() == []  # just written: not settled yet
    (report,) = w.poll()  # unchanged since the last poll
    assert report.applied
    assert w.poll() == []  # nothing new
    assert [i.filename for i in backend.history.imports()] == ["aamu.xlsx"]


def test_a_half_written_file_is_left_alone(backend: Backend, config: Config, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    w = watcher(backend, config, share)
    data = FIXTURE.read_bytes()
    target = share / "aamu.xlsx"
    written(target, data[:4000])
    assert w.poll() == []
    written(target, data[:8000])  # still being copied
    assert w.poll() == []
    written(target, data)
    assert w.poll() == []
    (report,) = w.poll()
    assert report.applied and backend.history.imports()[-1].applied == 1
    assert all(i.applied for i in backend.history.imports())  # no half file was ever read


def test_a_touched_file_is_not_imported_again_but_a_changed_one_is(backend: Backend, config: Config, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    w = watcher(backend, config, share)
    target = share / "aamu.xlsx"
    written(target, staffing(present=7))
    w.poll()
    w.poll()
    os.utime(target)  # same content, new time
    assert w.poll() == [] and w.poll() == []
    written(target, staffing(present=6))  # the shift lead corrects a number and saves
    w.poll()
    (report,) = w.poll()
    assert report.applied
    values = {(r.metric, r.key): r.value for rs in backend.store.all_readings().values() for r in rs}
    assert values[("staff.present", "lääkäri")] == 6


def test_a_file_that_has_been_quiet_is_imported_at_first_sight(backend: Backend, config: Config, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    w = watcher(backend, config, share)
    path = written(share / "aamu.xlsx", FIXTURE.read_bytes())
    old = time.time() - 3
    os.utime(path, (old, old))  # saved three seconds before the poll
    (report,) = w.poll()  # within one poll interval of the save
    assert report.applied


def test_an_unreachable_share_fails_the_source_and_logs_once(
    backend: Backend, config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    w = watcher(backend, config, tmp_path / "not-mounted")
    with caplog.at_level(logging.WARNING, logger="collectors.workbook"):
        w.poll()
        w.poll()
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
    status = backend.store.source_status("jakokansio")
    assert status.state == "failing" and "not-mounted" in (status.last_error or "")


def test_collect_once_imports_the_folder(backend: Backend, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    bad = share / "huono.xlsx"
    bad.write_bytes(b"not a workbook")
    cfg = tmp_path / "site.toml"
    cfg.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8")
                   + f'\n[[sources]]\nname = "jakokansio"\nkind = "workbook"\naddress = "{share}"\n')
    pin_site_clock(backend.store, MONDAY)  # the command's today is the fixture's day
    result = cli("collect", "--once", "--source", "jakokansio", "--config", str(cfg), env=backend.cli_env())
    assert result.returncode == 1 and "1 file(s) refused" in result.stdout
    bad.unlink()
    shutil.copy(FIXTURE, share / "aamu.xlsx")
    result = cli("collect", "--once", "--source", "jakokansio", "--config", str(cfg), env=backend.cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert [i.filename for i in backend.history.imports() if i.applied] == ["aamu.xlsx"]
