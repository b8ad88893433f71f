"""The embedded live store on an operator's bad day, under a live staff display.

The redis-server that `demo` (or `serve` and `collect`) started is killed. While it cannot be
started again (the test holds the data folder's lock, as a slow restart would), the screen
says within 15 s that its data is not updating, and its figures turn stale by their own age
— the server that cannot read the store tells the page nothing. Then the supervisor starts
the server again from its append-only file, with its data, and the same page returns to
fresh values without a reload. Each job's log says once that the store went and once that
it came back."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import time as dtime
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from dashboard.config import load_config
from dashboard.storage import embedded
from tests.browser.conftest import chrome, fast_config, stop, tiles
from tests.conftest import cli, close_backend, free_port, make_backend, wait_for

pytestmark = pytest.mark.browser

DISPLAY = "vastaanotto-kaytava"
DOWN = re.compile(r" (\S+): the live store is unavailable")
UP = re.compile(r" (\S+): the live store is back")


def run(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).parent / "ohjaustaulu")
    return subprocess.Popen([exe, *args], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def answers(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace"))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            return r.status == 200

    wait_for(healthy, timeout=60, what="the web server")


SHORT_LIVED = """
return Array.from(document.querySelectorAll('[data-status="fresh"][data-fresh-until]'))
  .filter(e => e.dataset.freshUntil && Date.parse(e.dataset.freshUntil) - window.ohjaustaulu.now() < 60000)
  .map(e => [e.dataset.metric, e.dataset.unit, e.dataset.key].join('|'));
"""


def short_lived(driver) -> set[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """The fresh figures that a feed keeps fresh (fresh for seconds, not a shift lead's hours)."""
    return {tuple(k.split("|")) for k in driver.execute_script(SHORT_LIVED)}


def state(driver) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return driver.execute_script("""
      var b = document.getElementById('offline-banner');
      return {store: document.body.getAttribute('data-store'),
              connection: document.body.getAttribute('data-connection'),
              banner: b && !b.hidden ? b.innerText : '', same: window.__sameDocument || null};""")


@pytest.mark.parametrize("updates", ["poll", "push"])
@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_killed_embedded_store_comes_back_and_the_screen_says_so_meanwhile(
        tmp_path: Path, command: str, updates: str) -> None:
    backend = make_backend("embedded", tmp_path / "data")
    config_path = fast_config(tmp_path / "site.toml")
    if updates == "push":
        config_path.write_text(config_path.read_text(encoding="utf-8").replace(
            'key_prefix = "ohjaustaulu:"', 'key_prefix = "ohjaustaulu:"\nupdates = "push"'), encoding="utf-8")
    env = backend.cli_env()
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"{command}.log"]
    if command == "demo":
        # no past weeks: seeding them (a minute of a loaded machine's core) is not what is tried here
        procs.append(run(["demo", "--port", str(port), "--config", str(config_path), "--clock-at", "10:00",
                          "--history-weeks", "0"], env, logs[0]))
    else:
        from dashboard import demo as demo_setup

        config = load_config(config_path)
        demo_setup.prepare(config, backend.store, backend.history, dtime(10), 1.0, pinned=True)
        logs.append(tmp_path / "collect.log")
        procs.append(run(["serve", "--port", str(port), "--config", str(config_path)], env, logs[0]))
        procs.append(run(["collect", "--config", str(config_path)], env, logs[1]))
    driver = chrome()
    lock = None
    try:
        answers(port, procs[0], logs[0])
        token = cli("display-token", DISPLAY, "--config", str(config_path), env=env).stdout.strip()
        driver.get(f"http://127.0.0.1:{port}/display/{DISPLAY}?token={token}")
        wait_for(lambda: len([t for t in tiles(driver) if t["status"] == "fresh"]) > 20, timeout=30,
                 what="fresh tiles")
        driver.execute_script("window.__sameDocument = 'yes'")
        # what the store holds, older than the append-only file's one-second fsync
        kept = {n["id"]: n for n in backend.store.notices()}
        assert kept
        time.sleep(1.5)

        data = backend.data_dir
        lock = open(data / "redis.lock", "w")  # noqa: SIM115 - a restart that takes its time
        fcntl.flock(lock, fcntl.LOCK_EX)
        pid = embedded.server_pid(data)
        assert pid is not None
        # kept fresh by the feeds (a loaded machine may leave a poll late for a moment)
        fresh_before = wait_for(lambda: f if len(f := short_lived(driver)) > 20 else None, timeout=30,
                                what="figures the feeds keep fresh")
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()

        # /ready says so at once (each answer, asked by every screen, is reused for a second: one
        # given just before the kill may still be 200), never after the screens have given up on it
        def unready() -> httpx.Response | None:
            r = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1.0)
            return r if r.status_code == 503 else None

        ready = wait_for(unready, timeout=3, interval=0.1, what="/ready saying 503")
        assert time.monotonic() - killed <= 2.5 and ready.json()["redis"].startswith("error")

        wait_for(lambda: state(driver)["store"] == "unavailable", timeout=15, interval=0.2,
                 what="the screen saying its data is not updating")
        assert time.monotonic() - killed <= 15
        shown = state(driver)
        assert "Tiedot eivät päivity" in str(shown["banner"]) and shown["connection"] == "online"
        # "since" on the clock the page shows (the demo's simulated day), not the machine's
        since = re.search(r"klo (\d+)\.(\d+)", str(shown["banner"]))
        clock = re.search(r"klo (\d+)\.(\d+)", driver.find_element("id", "clock").text)
        assert since and clock
        assert 0 <= (int(clock[1]) * 60 + int(clock[2])) - (int(since[1]) * 60 + int(since[2])) <= 1

        def all_stale() -> bool:
            now = {(t["metric"], t["unit"], t["key"]): t["status"] for t in tiles(driver)}
            left = [(k, now.get(k)) for k in fresh_before if now.get(k) != "stale"]
            assert not left, (left[:5], driver.execute_script(
                "return Array.from(document.querySelectorAll('[data-status=fresh]')).slice(0,5).map(e => e.outerHTML.slice(0, 300))"))
            return True

        # by their own age: the fast config's windows are 2 polls of 1-2 s
        wait_for(all_stale, timeout=15, interval=0.2, what="every figure that was fresh turning stale")
        greyed = driver.execute_script(
            "var n = document.querySelector('.tile[data-status=\"stale\"] .num');"
            "return n && getComputedStyle(n).textDecorationLine;")
        assert greyed == "line-through"

        fcntl.flock(lock, fcntl.LOCK_UN)  # the supervisor may start it again now
        lock.close()
        lock = None
        wait_for(lambda: embedded.server_pid(data) not in (None, pid), timeout=10,
                 what="the supervisor starting redis-server again")
        wait_for(lambda: {n["id"]: n for n in backend.store.notices()} == kept, timeout=10,
                 what="the store's data after the restart")

        def fresh_again() -> bool:
            s = state(driver)
            now = {(t["metric"], t["unit"], t["key"]): t["status"] for t in tiles(driver)}
            return s["store"] == "ok" and not s["banner"] and all(now.get(k) == "fresh" for k in fresh_before)

        wait_for(fresh_again, timeout=20, interval=0.2, what="fresh values again, without a reload")
        assert state(driver)["same"] == "yes"
        def all_back() -> bool:  # each job says so at its next run: the access feed's comes after 30 s
            said = "".join(log.read_text(errors="replace") for log in logs)
            return Counter(UP.findall(said)) == Counter(DOWN.findall(said))

        wait_for(all_back, timeout=75, interval=0.5, what="every job that said the store was away to say it is back")
    finally:
        if lock is not None:
            lock.close()
        driver.quit()
        for proc in reversed(procs):
            stop(proc)
        close_backend(backend)

    for log in logs:  # the screens' side: one line each way per web process, no tracebacks
        said = log.read_text(errors="replace")
        assert "Traceback" not in said, said[-3000:]
        assert said.count("the live store: unavailable") <= 1 and said.count("the live store: back") <= 1
    text = "".join(log.read_text(errors="replace") for log in logs)
    down, up = Counter(DOWN.findall(text)), Counter(UP.findall(text))
    assert down, text[-3000:]
    assert all(n == 1 for n in down.values()) and up == down, (down, up)
    assert "maximum number of running instances" not in text
    # a run that holds up later ones is said once per episode, if at all: per job, "has not
    # ended" and "runs again" take turns (a loaded machine may see more than one episode)
    for log in logs:
        turns: dict[str, list[str]] = {}
        for job, said in re.findall(r" (\S+): (its last run has not ended|runs again)", log.read_text(errors="replace")):
            turns.setdefault(job, []).append(said)
        for job, said in turns.items():
            assert all(a != b for a, b in pairwise(said)), (job, said)


SKEWED_CLOCK = """
(function () {
  var off = %d, Real = Date, realNow = Real.now;
  function Skewed() {
    if (!(this instanceof Skewed)) return new Real(realNow() + off).toString();
    return arguments.length ? new (Function.prototype.bind.apply(Real, [null].concat([].slice.call(arguments))))()
                            : new Real(realNow() + off);
  }
  Skewed.prototype = Real.prototype;
  Skewed.now = function () { return realNow() + off; };
  Skewed.parse = Real.parse;
  Skewed.UTC = Real.UTC;
  window.Date = Skewed;
})();
"""


@pytest.mark.parametrize("demo", ["embedded"], indirect=True)
@pytest.mark.parametrize("minutes", [10, -10])
def test_a_screen_whose_own_clock_is_wrong_ages_figures_by_the_servers(demo, minutes: int) -> None:  # type: ignore[no-untyped-def]
    """A TV's clock ten minutes fast must not grey every fresh figure at once, nor ten minutes
    slow keep them fresh: the page ages them by the server's time (its heartbeat's answer).
    Then no update reaches the page (its poll stopped): its figures turn stale by their own
    age all the same."""
    driver = chrome()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                               {"source": SKEWED_CLOCK % (minutes * 60_000)})
        driver.get(demo.display_url(DISPLAY))
        wait_for(lambda: driver.execute_script("return !!window.ohjaustaulu && Date.now() - new Date().getTime() < 5"),
                 timeout=30, what="the display")
        assert abs(driver.execute_script("return Date.now() - performance.timeOrigin - performance.now()")
                   - minutes * 60_000) < 5_000  # the page's clock is wrong indeed
        wait_for(lambda: abs(driver.execute_script("return window.ohjaustaulu.state.skew") + minutes * 60_000) < 5_000,
                 timeout=15, what="the heartbeat setting the page's clock right")
        time.sleep(3)
        fresh = [t for t in tiles(driver) if t["status"] == "fresh"]
        assert len(fresh) > 20  # data flows: fresh stays fresh on a fast clock
        driver.execute_script("window.dash_clientside.set_props('tick', {disabled: true})")
        fresh_keys = short_lived(driver)
        assert len(fresh_keys) > 20

        def aged() -> bool:
            now = {(t["metric"], t["unit"], t["key"]): t["status"] for t in tiles(driver)}
            return all(now.get(k) == "stale" for k in fresh_keys)

        # no update reaches it: every figure that was fresh is stale within its window (2 polls)
        wait_for(aged, timeout=20, interval=0.3, what="the figures turning stale on a slow clock too")
    finally:
        driver.quit()
