"""Faults survived, on the embedded store and on the real servers: a collector killed in the
middle of writing, the same workbook uploaded twice at the same moment.

(Redis and PostgreSQL going away, a host dying: tests/browser/test_two_hosts.py and
tests/test_outages.py; a feed that hangs, fails or sends garbage: tests/test_feed_faults.py.)
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from dashboard.config import load_config
from dashboard.domain.readings import Reading
from dashboard.storage.tables import ReadingChange
from tests.conftest import EXAMPLE_CONFIG, OHJAUSTAULU, ROOT, Backend, wait_for
from tests.siteclock import pin_site_clock

pytestmark = pytest.mark.store
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


def ohjaustaulu(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([OHJAUSTAULU, *args], cwd=ROOT, env=env, stdout=open(log, "ab"),
                            stderr=subprocess.STDOUT)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def rows_written(backend: Backend) -> tuple[int, int]:
    with backend.history.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ReadingChange)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(ReadingChange.event_id)))).scalar_one()
    return int(n), int(distinct)


def test_a_history_writer_killed_mid_write_loses_nothing_and_writes_nothing_twice(
        backend: Backend, procs: list[subprocess.Popen[bytes]], tmp_path: Path):
    store = backend.store
    for source in load_config(EXAMPLE_CONFIG).sources:
        store.stop_source(source.name)  # only the history writer works in these processes
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    series, rounds = 50, 120  # 6,000 changes queued in the live store, a busy day's shape
    for i in range(rounds):
        store.write_readings("jonot", [
            Reading("queue.waiting", "vastaanotto", f"q{k}", i * 100 + k, t0 + timedelta(minutes=3 * i), "jonot")
            for k in range(series)], {"state": "ok"})
    queued = series * rounds
    assert store.history_backlog() == queued
    env = backend.cli_env()
    args = ("collect", "--config", str(EXAMPLE_CONFIG))
    kills = 0
    while store.history_backlog() > 0 and kills < 2:
        proc = ohjaustaulu(*args, env=env, log=tmp_path / "collect.log")
        procs.append(proc)
        written_before = rows_written(backend)[0]
        # kill it while it writes: some of the queue is in SQL, some not yet
        wait_for(lambda w=written_before: rows_written(backend)[0] > w or store.history_backlog() == 0,
                 timeout=60, interval=0.02, what="the writer to write")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills += 1
    assert kills >= 2, "the queue was drained before a second kill; make it longer"
    procs.append(ohjaustaulu(*args, env=env, log=tmp_path / "collect.log"))
    wait_for(lambda: store.history_backlog() == 0, timeout=120, what="the queue to drain")
    assert rows_written(backend) == (queued, queued)


def days_workbook(day: date, tag: str) -> bytes:
    """A shift lead's workbook for `day`, as the template's sheets name things."""
    today = day.strftime("%d.%m.%Y")
    wb = Workbook()
    ws = wb.active
    ws.title = "Henkilöstö"
    ws.append(["Päivä", "Yksikkö", "Ammattiryhmä", "Suunniteltu", "Paikalla"])
    ws.append([today, "vastaanotto", "lääkäri", 8, 7])
    ws.append([today, "laboratorio", "bioanalyytikko", 6, 6])
    ws = wb.create_sheet("Tiedotteet")
    ws.append(["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys", "Julkinen"])
    ws.append([f"{today} 0.00", f"{today} 23.59", "kaikki", f"Testitiedote {tag}", "info", "ei"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("attempt", range(2))
def test_the_same_workbook_uploaded_twice_at_once_is_applied_once(
        backend: Backend, procs: list[subprocess.Popen[bytes]], tmp_path: Path, attempt: int):
    pin_site_clock(backend.store, TUESDAY)  # the imports' today (and the notice in force then)
    path = tmp_path / "aamu.xlsx"
    path.write_bytes(days_workbook(TUESDAY.date(), f"{attempt}-{time.time_ns()}"))
    env = backend.cli_env()
    two = [subprocess.Popen([OHJAUSTAULU, "import", str(path), "--json", "--user", who], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
           for who in ("tabletti-1", "tabletti-2")]
    procs.extend(two)
    outs = [p.communicate(timeout=60) for p in two]
    reports = [json.loads(out) for out, _ in outs]
    assert [p.returncode for p in two] == [0, 0], [err for _, err in outs]
    assert sorted(r["applied"] for r in reports) == [False, True], reports
    repeat = next(r for r in reports if not r["applied"])
    assert any("Sama tiedosto on jo tuotu" in w for w in repeat["warnings"]), repeat
    imports = backend.history.imports()
    assert [i.applied for i in imports] == [1]
    assert sorted(a.action for a in backend.history.audit()) == ["import", "import_repeat"]
    notices = [n for n in backend.store.notices() if n["text"].startswith("Testitiedote")]
    assert len(notices) == 1


@pytest.mark.alone  # polls of 6,000 readings every 0.3 s, each within its 0.24 s lease
def test_a_collector_killed_while_writing_a_big_feed_leaves_all_or_nothing(
        backend: Backend, procs: list[subprocess.Popen[bytes]], tmp_path: Path):
    """A feed of 2,000 queues (6,000 readings a poll) written every 0.3 s, the collector
    killed at random moments: the source's readings are always one poll's, whole."""
    import random

    feed = tmp_path / "jonot.json"

    def publish(generation: int) -> None:
        records = [{"unit": "vastaanotto", "queue": f"q{i}", "waiting": generation,
                    "longest_wait_min": generation, "avg_wait_min": generation} for i in range(2000)]
        tmp = feed.with_suffix(".part")
        tmp.write_text(json.dumps({"queues": records}))
        tmp.replace(feed)

    config = tmp_path / "site.toml"
    config.write_text(EXAMPLE_CONFIG.read_text() + f'''
[[sources]]
name = "isojono"
kind = "queue"
address = "{feed}"
units = ["vastaanotto"]
poll_seconds = 0.3
''')
    store = backend.store
    for source in load_config(EXAMPLE_CONFIG).sources:
        store.stop_source(source.name)
    rng = random.Random(7)
    for generation in range(1, 4):
        publish(generation)
        proc = ohjaustaulu("collect", "--config", str(config), env=backend.cli_env(), log=tmp_path / "c.log")
        procs.append(proc)
        wait_for(lambda g=generation: any(r.value == g for r in store.all_readings().get("isojono", [])),
                 timeout=60, what=f"generation {generation} written")
        publish(generation + 100)  # the next polls write this one: kill while they do
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        readings = store.all_readings()["isojono"]
        assert len(readings) == 6000
        assert len({r.value for r in readings}) == 1, {r.value for r in readings}  # one poll's, whole
