"""The two-host deployment of docs/deployment.md, on one machine, and the faults it survives.

  Redis host      a redis-server of the test's own (append-only file, fsync always)
  database host   the machine's PostgreSQL, behind a TCP proxy of the test's own (to "stop" it
                  without stopping the shared server), in a schema of the test's own
  host A          `ohjaustaulu serve --workers 2` and `ohjaustaulu collect`, own data folder
  host B          `ohjaustaulu serve` and `ohjaustaulu collect`, own data folder
  load balancer   a TCP proxy spreading connections over A and B

A wall display (headless Chromium) is opened through the load balancer; then, in turn:
host A dies (kill -9, web and collector); the database goes away and comes back; Redis is
killed and restarted. The screen never blanks, says what is wrong while it is, and no
reading is lost or written twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from dashboard.domain.readings import Reading
from dashboard.storage.history import History, make_engine
from dashboard.storage.livestore import LiveStore
from dashboard.storage.tables import ReadingChange
from tests.browser.conftest import chrome, fast_config, tiles
from tests.conftest import DATABASE_URL, FIGURES, OHJAUSTAULU, ROOT, free_port, wait_for
from tests.servers import RedisServer, TcpProxy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not DATABASE_URL, reason="needs PostgreSQL: OHJAUSTAULU_TEST_DATABASE_URL (CI sets it)"),
]

DISPLAY = "vastaanotto-kaytava"
PREFIX = "ohjaustaulu:"


def status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


class Host:
    """One host's processes: a web server (with workers) and a collector."""

    def __init__(self, name: str, root: Path, env: dict[str, str], config: Path, workers: int):
        self.name, self.config = name, config
        self.data = root / name
        self.data.mkdir()
        self.env = env | {"OHJAUSTAULU_DATA": str(self.data)}
        self.port = free_port()
        self.workers = workers
        self.web: subprocess.Popen[bytes] | None = None
        self.collector: subprocess.Popen[bytes] | None = None

    def _run(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.data / f"{args[0]}.log", "ab")
        return subprocess.Popen([OHJAUSTAULU, *args, "--config", str(self.config), "--log-format", "json"],
                                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start(self) -> Host:
        self.web = self._run("serve", "--port", str(self.port), "--workers", str(self.workers))
        self.collector = self._run("collect")
        wait_for(lambda: status(f"http://127.0.0.1:{self.port}/health") == 200, timeout=60,
                 what=f"host {self.name} to answer")
        return self

    def kill(self) -> None:
        """The host dies: every process of it, at once (workers included)."""
        for proc in (self.web, self.collector):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def log(self, what: str) -> str:
        return (self.data / f"{what}.log").read_text(errors="replace")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, object]]:
    schema = f"test_{uuid.uuid4().hex[:10]}"
    real = make_url(DATABASE_URL or "")
    hosts: list[Host] = []
    with RedisServer(tmp_path / "redis").start() as redis_server, \
            TcpProxy((real.host or "127.0.0.1", real.port or 5432)) as db_proxy:
        db_url = real.set(host="127.0.0.1", port=db_proxy.port).render_as_string(hide_password=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OHJAUSTAULU_")} | {
            "REDIS_URL": redis_server.url(0), "DATABASE_URL": db_url,
            "OHJAUSTAULU_DB_SCHEMA": schema, "PYTHONUNBUFFERED": "1"}
        config = fast_config(tmp_path / "site.toml")
        try:
            a = Host("a", tmp_path, env, config, workers=2)
            b = Host("b", tmp_path, env, config, workers=1)
            hosts.extend([a, b])
            a.start()
            b.start()
            with TcpProxy([("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as balancer:
                yield {"a": a, "b": b, "redis": redis_server, "db": db_proxy, "lb": balancer,
                       "env": env, "config": config, "db_url": db_url, "schema": schema}
        finally:
            for h in hosts:
                h.kill()
            engine = make_engine(DATABASE_URL or "")
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()


def display_token(env: dict[str, str], config: Path, data: Path) -> str:
    out = subprocess.run([OHJAUSTAULU, "display-token", DISPLAY, "--config", str(config)], cwd=ROOT,
                         env=env | {"OHJAUSTAULU_DATA": str(data)}, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def notice(store: LiveStore, words: str) -> None:
    now = datetime.now().astimezone()
    store.put_notice_now({"id": f"test-{uuid.uuid4().hex[:8]}", "unit": "kaikki", "importance": "info",
                          "public": False, "text": words, "starts": (now - timedelta(minutes=1)).isoformat(),
                          "ends": (now + timedelta(hours=1)).isoformat(), "entered_by": "testi"})


def on_screen(driver, words: str) -> bool:  # type: ignore[no-untyped-def]
    return words in driver.find_element("id", "board").text


def body(driver, attribute: str) -> str:  # type: ignore[no-untyped-def]
    return str(driver.execute_script(f"return document.body.getAttribute('{attribute}')"))


def queue_changes(store: LiveStore, n: int, tag: int) -> list[int]:
    """n changes of a series of the test's own, queued for the history."""
    t0 = datetime.now().astimezone().replace(microsecond=0)
    values = [tag * 1000 + i for i in range(n)]
    for i, v in enumerate(values):
        store.write_readings("testi", [Reading("queue.waiting", "testiyksikko", f"testi-{tag}", v,
                                               t0 + timedelta(seconds=i), "testi")], {})
    return values


def written(history: History, tag: int) -> list[int]:
    with history.engine.connect() as conn:
        rows = conn.execute(select(ReadingChange.value).where(ReadingChange.key == f"testi-{tag}")
                            .order_by(ReadingChange.observed_at)).scalars().all()
    return [int(v) for v in rows]


def test_two_hosts_survive_a_dead_host_a_lost_database_and_a_restarted_redis(site, tmp_path: Path):  # type: ignore[no-untyped-def]
    a, b = site["a"], site["b"]
    redis_server, db, lb = site["redis"], site["db"], site["lb"]
    store = LiveStore.open(redis_server.url(0), tmp_path, PREFIX)
    history = History.open(site["db_url"], tmp_path, site["schema"])
    token = display_token(site["env"], site["config"], a.data)
    driver = chrome()
    try:
        driver.get(f"http://127.0.0.1:{lb.port}/display/{DISPLAY}?token={token}")
        wait_for(lambda: len([t for t in tiles(driver) if t["value"]]) > 5, timeout=30, what="tiles")
        notice(store, "Ensimmäinen tiedote")
        wait_for(lambda: on_screen(driver, "Ensimmäinen tiedote"), timeout=15, what="first notice")
        assert all(n > 0 for n in lb.forwarded.values()), lb.forwarded  # both hosts served

        # host A's two workers count their requests together (Prometheus multiprocess mode)
        for _ in range(20):
            assert status(f"http://127.0.0.1:{a.port}/health") == 200  # a new connection each
        scraped = httpx.get(f"http://127.0.0.1:{a.port}/metrics", timeout=10).text
        health = sum(s.value for f in text_string_to_metric_families(scraped) for s in f.samples
                     if s.name == "ohjaustaulu_http_request_duration_seconds_count"
                     and s.labels["route"] == "/health")
        assert health >= 21  # its start-up check and these, whichever worker answered
        assert len(list((a.data / "prometheus").glob("histogram_*.db"))) == 2  # both workers counted
        assert "ohjaustaulu_source_up" in scraped

        # -- host A dies: the balancer's new connections go to B, B's collector takes over
        a.kill()
        killed = time.monotonic()
        notice(store, "Toinen tiedote")
        wait_for(lambda: on_screen(driver, "Toinen tiedote"), timeout=30, what="notice via host B")
        FIGURES.append(f"two hosts: screen updated {time.monotonic() - killed:.1f} s after host A died")
        wait_for(lambda: all(f":{b.collector.pid}:" in (store.source_status(s).collector or "")
                             for s in ("demo-jonot", "demo-potilasvirta")), timeout=30,
                 what="B's collector polls")
        assert body(driver, "data-connection") == "online"

        # -- the database goes away: screens go on, history waits in Redis, none lost
        db.cut()
        wait_for(lambda: status(f"http://127.0.0.1:{b.port}/ready") == 503,
                 timeout=15, what="/ready to say the database is away")
        ready = httpx.get(f"http://127.0.0.1:{b.port}/ready", timeout=5).json()
        assert ready["redis"] == "ok" and ready["database"].startswith("error"), ready
        queued = queue_changes(store, 40, tag=1)
        notice(store, "Tietokanta poissa")
        wait_for(lambda: on_screen(driver, "Tietokanta poissa"), timeout=15, what="notice without database")
        time.sleep(3)  # several history-writer runs fail meanwhile
        assert store.history_backlog() >= 40
        assert body(driver, "data-store") == "ok" and body(driver, "data-connection") == "online"
        # a fresh page load (a screen rebooting) still gets in: its token is remembered
        fresh = httpx.get(f"http://127.0.0.1:{b.port}/display/{DISPLAY}?token={token}", timeout=10)
        assert fresh.status_code == 200 and "_dash-config" in fresh.text
        db.restore()
        wait_for(lambda: store.history_backlog() == 0, timeout=60, what="history queue to drain")
        assert written(history, 1) == queued  # every change once, in order
        # the writer says it is back when its run has ended, a moment after the queue is empty
        wait_for(lambda: "history-writer: the history database is back" in b.log("collect"), timeout=15,
                 what="the history writer's line that the database is back")
        collect_log = b.log("collect")
        assert collect_log.count("the history database is unavailable") == 1, collect_log[-3000:]
        assert collect_log.count("history-writer: the history database is back") == 1

        # -- Redis is killed: the screen keeps its values and says the data is not updating
        before = [t["value"] for t in tiles(driver)]
        queued = queue_changes(store, 20, tag=2)  # acknowledged by Redis, maybe not yet in SQL
        redis_server.kill()
        wait_for(lambda: body(driver, "data-store") == "unavailable", timeout=30, what="no-data banner")
        banner = driver.find_element("id", "offline-banner")
        assert banner.is_displayed() and "Tiedot eivät päivity" in banner.text, banner.text
        assert [t["value"] for t in tiles(driver)] == before  # values kept, not blanked
        assert body(driver, "data-connection") == "online"  # the server itself answers
        driver.save_screenshot(str(tmp_path / "redis-down.png"))
        time.sleep(4)
        redis_server.restart()
        wait_for(lambda: body(driver, "data-store") == "ok", timeout=30, what="screen live again")
        assert not driver.find_element("id", "offline-banner").is_displayed()
        notice(store, "Redis palasi")
        wait_for(lambda: on_screen(driver, "Redis palasi"), timeout=30, what="fresh data after Redis")
        wait_for(lambda: written(history, 2) == queued, timeout=30, what="queued changes written")
        collect_log = b.log("collect")
        for job in ("poll:demo-jonot", "history-writer"):
            assert collect_log.count(f"{job}: the live store is unavailable") == 1, collect_log[-3000:]
            assert collect_log.count(f"{job}: the live store is back") == 1
        # structured logs: one JSON object a line, with the job and what was missing
        lines = [json.loads(line) for line in collect_log.splitlines() if line.strip()]
        assert all({"time", "level", "logger", "message", "pid"} <= set(x) for x in lines)
        assert any(x.get("unavailable") == "the live store" and x.get("job") == "history-writer" for x in lines)
        with history.engine.connect() as conn:
            ids = conn.execute(select(func.count(), func.count(func.distinct(ReadingChange.event_id)))).one()
        assert ids[0] == ids[1]  # nothing written twice, across every fault
    finally:
        driver.quit()
        history.engine.dispose()
