"""Benchmark of the server under many wall displays (issue 7): N simulated screens polling
one `ohjaustaulu serve --workers W` on this machine, with the simulated feeds writing.

The system: `ohjaustaulu demo` (demo clock, accounts, tokens, the simulated feeds and their
collectors; its own web port stays idle) and `ohjaustaulu serve --workers W` (the server
under load, default 2 workers) on one temporary data folder with the embedded defaults
(a redis-server of that folder's own, SQLite). Everything is stopped and removed at the end,
also when the bench fails.

The screens: one display page is opened once in headless Chromium and its requests are
recorded from DevTools' network events (URL, method, the headers Chromium actually sent,
body): the page's load (the document, its scripts and styles, /_dash-layout,
/_dash-dependencies, the pages router's callback), its heartbeat and its poll of
/_dash-update-component. Each simulated screen replays exactly those, with its own display
(the N screens spread over every display of config/ohjaustaulu.toml), token, endId (from its
own page's _dash-config), screen id and etag: one httpx.AsyncClient per screen (own cookie
jar, own keep-alive HTTP/1.1 connections), all in one asyncio loop per load process. A
screen loads like a cold-cache browser (the N loads spread evenly over 30 s: a deployment's
reload, every screen within one heartbeat and the assets' new addresses uncached) from a
server started afresh after the capture (new processes: nothing the capture's page load
filled in them is cached, as after a deployment; the data folder is new too), then polls
every 2 s from a random offset (open loop: a tick is sent on time even when the previous
answer is late) with its current etag, taking the new etag from a 200 answer (a 204 means
unchanged); posts a heartbeat 1 s after load and every 30 s; and asks /ready when no poll
has answered for 5 s or one failed, and while /ready fails stops polling and asks again
after 2, 4, 8 s, as assets/display.js does. At most 6 connections per screen, as Chromium.

Measured, over --seconds (default 60) from 10 s after the last screen came up:
  1. latency of the update polls (send to the last byte of the answer): p50, p95, p99, max;
     errors (any non-2xx answer, exception or 10 s timeout, of any request of the whole
     run, loads included; those before the window also apart); the share of polls that
     carried changes
  2. change → screen: every 5 s the bench changes a notice shown on every display (the
     live store's put_notice_now, as the tablet does) and each screen notes when an answer
     first carries it; p50 and p95 of the delay (its floor is the 2 s poll interval)
  3. CPU time (psutil) of the serve process and its workers over the window: server cores
     used, and displays per core = N / server cores; beside it the cores of the embedded
     Redis, of the demo (collectors), of the load generator and of everything else on the
     machine, which all share its 2 cores with the server (a run is only as good as the
     machine was quiet: other_processes_cores says how quiet); the server's own p95 from its
     latency histogram (/metrics, bucket bound); and the server CPU of the loads (the cold
     loads of all N screens, with the polls of those already up, divided by N), the page
     loads' p95 (all, and the first tenth of the screens: those that met the new processes)
     and the load generator's cores and lag while the screens loaded (page load times are
     the generator's too: one short of CPU answers its screens late)
  4. update cost beside a static response, with nothing else asking (after the load):
     one client, sequentially, K rounds of one poll of an unchanged model (a 204), one poll
     one change behind (a 200 with the changed elements: the notice's text), one GET of
     /assets/display.css (a static file the page loads) and one GET of /health: median
     latency of each and the ratios; then K of each type (and K heartbeats) in 5 blocks of
     K/5 in a row, the types taking turns: the server processes' CPU time per request (less
     their idle rate), the median block of each type, and the CPU ratios.
     The feeds are stopped for this part, so that the model stays as it is.
  5. with --ramp: N = --displays, + --step (300), ... until p95 > 1 s, an error or a change
     not delivered; the largest N that passed (the table shows the first step's figures)

The load generator: one process per 300 screens, at most 2 (--load-processes); its cores
and how late it sent the polls (load_generator_lag_p95_s) are reported, so that a run where
it, not the server, was short of CPU shows as such.

Prints each figure beside its target and the baseline run (bench/baseline-displays.json);
`--save-baseline` makes this run the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG, free_port  # noqa: E402

BASELINE = ROOT / "bench" / "baseline-displays.json"
CONFIG = EXAMPLE_CONFIG  # --config, or --area's generated wellbeing area
TARGETS = {
    "update_p95_s": 1.0,
    "errors": 0,
    "changes_not_delivered": 0,
    "update_vs_static_cpu_ratio": 2.0,
}
EXE = str(Path(sys.executable).parent / "ohjaustaulu")
TOKEN_LINE = re.compile(r"wall display \((\w+)\): (\S+)/display/([^?\s]+)\?token=(\S+)")
DASH_CONFIG = re.compile(r'<script id="_dash-config" type="application/json">(.*?)</script>', re.S)
MARKER = "Kuormatesti"  # the text of the notice the bench changes
MARKERS = re.compile(MARKER + r" (\d+)")
POLL_MS, HEARTBEAT_S, HEALTH_EVERY_S, TIMEOUT_S = 2000, 30, 5, 10
CHANGE_EVERY_S = 5.0
ROUNDS = 5  # blocks of the side-by-side CPU measurement
DROP_HEADERS = {"cookie", "host", "content-length", "connection"}


# -- the system under test ------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child, before exec: Linux sends it SIGTERM when the bench's process ends."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # so that every `finally` runs


PREFIX = "ot-displays-"  # the temporary folders of this bench


def sweep_leftovers() -> None:
    """What an earlier run killed outright (SIGKILL: no `finally`) left behind: its folder
    and the embedded Redis of that folder (its demo and server got SIGTERM when it died)."""
    from dashboard.storage import embedded

    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = int((folder / "bench.pid").read_text())
        except (OSError, ValueError):
            continue
        if psutil.pid_exists(owner):
            continue  # a run still going
        if (folder / "data" / "redis.pid").exists():
            embedded.stop(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


class System:
    """`ohjaustaulu demo` and `ohjaustaulu serve --workers W` on one temporary data folder."""

    def __init__(self, workers: int, history_wait: float = 900.0, history_weeks: int | None = None):
        self.workers = workers
        self.history_wait = history_wait  # --history-wait
        self.history_weeks = history_weeks  # --history-weeks: the demo's own default when None
        self.tmp = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.tmp / "bench.pid").write_text(str(os.getpid()))
        self.data = self.tmp / "data"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tokens: dict[str, str] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("OHJAUSTAULU_") and k not in ("REDIS_URL", "DATABASE_URL")
        }
        self.env["PYTHONUNBUFFERED"] = "1"
        self._store: Any = None

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        # its own session (no signal to one reaches the other), and SIGTERM if the bench dies
        with open(self.tmp / f"{name}.log", "ab") as log:  # a restart's log follows on
            proc = subprocess.Popen(
                [EXE, *args, "--config", str(CONFIG), "--data-dir", str(self.data)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        weeks = () if self.history_weeks is None else ("--history-weeks", str(self.history_weeks))
        self.demo = self._start("demo", "demo", "--port", str(free_port()), *weeks)
        deadline = time.monotonic() + 120
        while "data folder:" not in self.log("demo"):
            if self.demo.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the demo did not start:\n{self.log('demo')[-3000:]}")
            time.sleep(0.2)
        # the demo seeds weeks of history in the background: measured after it, not beside it
        # (--history-wait 0: beside it, as the demo's cores then say)
        deadline = time.monotonic() + self.history_wait
        while "history: the past weeks are in" not in self.log("demo") and self.history_wait:
            if self.demo.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the demo's history did not arrive:\n{self.log('demo')[-3000:]}")
            time.sleep(0.5)
        for m in TOKEN_LINE.finditer(self.log("demo")):
            self.tokens[m.group(3)] = m.group(4)
        self.start_server()

    def start_server(self) -> None:
        """`ohjaustaulu serve`, until /health answers and its workers are up."""
        self.serve = self._start(
            "serve", "serve", "--workers", str(self.workers), "--port", str(self.port)
        )
        deadline = time.monotonic() + 120
        while True:
            if self.serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.log('serve')[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200 and len(self.server_processes()) > self.workers:
                        break
            except OSError:
                pass
            time.sleep(0.2)

    def restart_server(self) -> None:
        """Stop the server and start it again on the same data folder and port: new worker
        processes, with nothing cached (what a deployment's screens reload against)."""
        kids = self.server_processes()[1:]
        self.serve.send_signal(signal.SIGTERM)
        try:
            self.serve.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.serve.kill()
            self.serve.wait(timeout=5)
        for kid in kids:
            _reap(kid)
        self.procs.remove(self.serve)
        self.start_server()

    def page_url(self, display: str) -> str:
        return f"{self.url}/display/{display}?token={self.tokens[display]}"

    def store(self) -> Any:
        """The live store of the data folder, as the demo and the server see it."""
        if self._store is None:
            from dashboard.settings import Settings
            from dashboard.storage.livestore import LiveStore

            s = Settings.load(str(CONFIG), str(self.data))
            self.config = s.config
            self._store = LiveStore.open(None, self.data, s.config.site.key_prefix)
        return self._store

    def server_processes(self) -> list[psutil.Process]:
        """The serve process and its workers."""
        try:
            main = psutil.Process(self.serve.pid)
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def redis_process(self) -> psutil.Process | None:
        """The embedded redis-server of this data folder (never another one)."""
        try:
            proc = psutil.Process(int((self.data / "redis.pid").read_text().strip()))
            return proc if str(self.data) in " ".join(proc.cmdline()) else None
        except (OSError, ValueError, psutil.Error):
            return None

    def stop(self) -> None:
        """Stop everything this bench started, whatever state it is in; remove the folder."""
        redis_proc = self.redis_process()
        if self._store is not None:
            self._store.r.close()
        for proc in reversed(self.procs):
            try:
                kids = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                kids = []
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            for kid in kids:  # workers left behind by a parent that had to be killed
                try:
                    kid.kill()
                except psutil.Error:
                    pass
        if (self.data / "redis.pid").exists():
            from dashboard.storage import embedded

            embedded.stop(self.data)  # this data folder's own live store only
        if redis_proc is not None:
            _reap(redis_proc)
        shutil.rmtree(self.tmp, ignore_errors=True)


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


BUCKET = re.compile(r"ohjaustaulu_http_request_duration_seconds_bucket\{([^}]*)\} (\S+)")


def server_histogram(system: System) -> dict[float, float]:
    """The server's own latency histogram of the polls (RequestMetrics, both workers), from
    /metrics: cumulative count by bucket bound (none when an overloaded server does not
    answer in time)."""
    try:
        with urllib.request.urlopen(system.url + "/metrics", timeout=3 * TIMEOUT_S) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out: dict[float, float] = {}
    for m in BUCKET.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("route") == "/_dash-update-component" and labels.get("method") == "POST":
            le = float(labels["le"])
            out[le] = out.get(le, 0.0) + float(m.group(2))
    return out


def histogram_p95(before: dict[float, float], after: dict[float, float]) -> float:
    """The bucket bound under which 95 % of the window's requests fell."""
    delta = {le: after.get(le, 0.0) - before.get(le, 0.0) for le in after}
    total = delta.get(math.inf, 0.0)
    return min((le for le, c in delta.items() if c >= 0.95 * total), default=float("nan"))


def wait_quiet(system: System, timeout: float = 120) -> None:
    """Until the server has nothing left to do (its processes idle for a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c0 = cpu_seconds(system.server_processes())
        time.sleep(1)
        if cpu_seconds(system.server_processes()) - c0 < 0.05:
            return


def busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every process, ours or not)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


# -- the real page's requests ---------------------------------------------------------------


def capture(system: System, display: str) -> dict[str, Any]:
    """Open the display in headless Chromium and record its requests from DevTools' network
    events until it has polled and sent a heartbeat: what the simulated screens replay."""
    from tests.browser.conftest import chrome

    driver = chrome(network_log=True)
    events: list[dict[str, Any]] = []
    try:
        driver.get(system.page_url(display))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.5)
            events += [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
            bodies = [
                e["params"]["request"].get("postData", "")
                for e in events
                if e["method"] == "Network.requestWillBeSent"
            ]
            if any('"tick.n_intervals"' in b for b in bodies) and any(
                '"screen"' in b for b in bodies
            ):
                break
        else:
            raise RuntimeError("the page sent no poll and no heartbeat within 30 s")
    finally:
        driver.quit()
    sent: dict[str, dict[str, str]] = {}
    for e in events:
        if e["method"] == "Network.requestWillBeSentExtraInfo":
            sent[e["params"]["requestId"]] = e["params"]["headers"]
    requests = []
    for e in events:
        if e["method"] != "Network.requestWillBeSent":
            continue
        p, r = e["params"], e["params"]["request"]
        url = urllib.parse.urlsplit(r["url"])
        headers = {
            k: v
            for k, v in sent.get(p["requestId"], r["headers"]).items()
            if k.lower() not in DROP_HEADERS and not k.startswith(":")
        }
        requests.append(
            {
                "method": r["method"],
                "path": url.path + (f"?{url.query}" if url.query else ""),
                "headers": headers,
                "body": r.get("postData"),
            }
        )
    load, poll, heartbeat, router = [], None, None, None
    for r in requests:
        if r["path"].startswith("/api/heartbeat"):
            heartbeat = heartbeat or r
        elif r["path"].startswith("/_dash-update-component"):
            body = json.loads(r["body"])
            if "tick.n_intervals" in body.get("changedPropIds", []):
                poll = poll or r
            elif router is None and "_pages_content" in r["body"]:
                router = r
                load.append({**r, "kind": "router"})
        elif poll is None and r["method"] == "GET" and not r["path"].startswith("/ready"):
            kind = "page" if r["path"].startswith(f"/display/{display}") else "get"
            load.append({**r, "kind": kind})
    if poll is None or heartbeat is None or router is None or load[0]["kind"] != "page":
        raise RuntimeError(f"unexpected requests of the page: {[r['path'] for r in requests]}")
    # /ready is a fetch of the same page that the healthy page never makes: the poll's
    # headers, as Chromium sends a GET with cache "no-store"
    ready = {
        k: v for k, v in poll["headers"].items() if k.lower() not in ("content-type", "origin")
    }
    ready.update({"Accept": "*/*", "Cache-Control": "no-cache", "Pragma": "no-cache"})
    return {
        "display": display,
        "token": system.tokens[display],
        "load": load,
        "poll": poll,
        "heartbeat": heartbeat,
        "ready_headers": ready,
    }


def for_screen(cap: dict[str, Any], display: str, token: str, page_url: str) -> dict[str, Any]:
    """The captured requests as screen `display` with `token` sends them."""

    def fix(headers: dict[str, str]) -> dict[str, str]:
        return {k: (page_url if k.lower() == "referer" else v) for k, v in headers.items()}

    load = []
    for r in cap["load"]:
        r = {**r, "headers": fix(r["headers"])}
        if r["kind"] == "page":
            r["path"] = f"/display/{display}?token={token}"
        elif r["kind"] == "router":
            body = json.loads(r["body"])
            for i in body["inputs"]:
                if i["id"] == "_pages_location" and i["property"] == "pathname":
                    i["value"] = f"/display/{display}"
                elif i["id"] == "_pages_location" and i["property"] == "search":
                    i["value"] = f"?token={token}"
            r["body"] = json.dumps(body, separators=(",", ":"))
        load.append(r)
    return {
        "load": load,
        "poll": {**cap["poll"], "headers": fix(cap["poll"]["headers"])},
        "heartbeat": {**cap["heartbeat"], "headers": fix(cap["heartbeat"]["headers"])},
        "ready_headers": fix(cap["ready_headers"]),
    }


def find_etag(node: Any) -> str | None:
    """The model etag in a rendered layout (the dcc.Store `model-etag`)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            props = n.get("props")
            if isinstance(props, dict) and props.get("id") == "model-etag":
                return str(props.get("data"))
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return None


def poll_body(template: dict[str, Any], n: int, display: str, etag: str | None) -> bytes:
    body = json.loads(json.dumps(template))
    body["inputs"][0]["value"] = n
    for s in body["state"]:
        s["value"] = display if s["id"] == "display-id" else etag
    return json.dumps(body, separators=(",", ":")).encode()


# -- the load generator ---------------------------------------------------------------------


class Screen:
    """One simulated display page."""

    def __init__(self, run: Load, index: int, display: str, token: str, reqs: dict[str, Any]):
        self.run, self.index, self.display, self.token, self.reqs = run, index, display, token, reqs
        self.poll_template = json.loads(reqs["poll"]["body"])
        self.etag: str | None = None
        self.poll_path = reqs["poll"]["path"]
        self.n = 0
        self.end_id: str | None = None
        self.last_ok = time.monotonic()
        self.loaded_at = math.inf
        self.online, self.checking, self.delay, self.next_check = True, False, POLL_MS / 1000, 0.0
        self.seen: dict[int, float] = {}  # notice marker → when an answer first carried it
        beat = json.loads(reqs["heartbeat"]["body"])
        beat.update(screen=f"s-bench{index:05d}", display=display)
        self.beat = json.dumps(beat, separators=(",", ":")).encode()
        self.tasks: set[asyncio.Task[None]] = set()

    async def request(
        self, kind: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> httpx.Response | None:
        t0 = time.monotonic()
        try:
            r = await self.client.request(method, path, headers=headers, content=body)
            await r.aread()
        except (httpx.HTTPError, OSError) as err:
            self.run.error(kind, f"{type(err).__name__}: {err}", t0)
            return None
        if not 200 <= r.status_code < 300:
            self.run.error(kind, f"HTTP {r.status_code}: {r.text[:120]}", t0)
        self.run.count(kind)
        return r

    async def load(self) -> bool:
        """The page's load, request by request as Chromium sent them (one connection)."""
        t0 = time.monotonic()
        for r in self.reqs["load"]:
            body = r["body"].encode() if r["body"] else None
            path = self.poll_path if r["kind"] == "router" else r["path"]
            answer = await self.request(r["kind"], r["method"], path, r["headers"], body)
            if answer is None or answer.status_code != 200:
                return False
            if r["kind"] == "page":
                m = DASH_CONFIG.search(answer.text)
                self.end_id = json.loads(m.group(1)).get("end_id") if m else None
                if self.end_id:  # this page's own, as the renderer sends it back
                    self.poll_path = "/_dash-update-component?" + urllib.parse.urlencode(
                        {"endId": self.end_id}
                    )
            elif r["kind"] == "router":
                self.etag = find_etag(answer.json())
        self.run.load_times.append((t0, time.monotonic() - t0))
        return self.etag is not None

    async def poll(self) -> None:
        self.n += 1
        body = poll_body(self.poll_template, self.n, self.display, self.etag)
        t0 = time.monotonic()
        try:
            r = await self.client.post(
                self.poll_path, headers=self.reqs["poll"]["headers"], content=body
            )
            await r.aread()
        except (httpx.HTTPError, OSError) as err:
            self.run.error("poll", f"{type(err).__name__}: {err}", t0)
            self.spawn(self.check(now=True))
            return
        t1 = time.monotonic()
        if r.status_code < 500:
            self.last_ok = t1
        else:
            self.spawn(self.check(now=True))
        if not 200 <= r.status_code < 300:
            self.run.error("poll", f"HTTP {r.status_code}: {r.text[:120]}", t0)
        elif r.status_code == 200:
            self.etag = r.json()["response"].get("model-etag", {}).get("data", self.etag)
            for m in MARKERS.finditer(r.text):
                self.seen.setdefault(int(m.group(1)), t1)
        self.run.count("poll")
        self.run.polls.append((t0, t1 - t0, r.status_code == 200))

    async def heartbeat(self) -> None:
        await self.request(
            "heartbeat", "POST", "/api/heartbeat", self.reqs["heartbeat"]["headers"], self.beat
        )

    async def check(self, now: bool = False) -> None:
        """The page's connection check: /ready when a poll failed (`now`) or none answered
        for 5 s. Not ready: the page stops polling and asks again after 2, 4, 8, 8 … s;
        ready: polling resumes."""
        if self.checking or (
            not now and self.online and time.monotonic() - self.last_ok < HEALTH_EVERY_S
        ):
            return
        self.checking = True
        try:
            r = await self.request("ready", "GET", "/ready", self.reqs["ready_headers"])
        finally:
            self.checking = False
        self.online = r is not None and r.status_code == 200
        self.delay = POLL_MS / 1000 if self.online else min(self.delay * 2, 8.0)
        self.next_check = time.monotonic() + (HEALTH_EVERY_S if self.online else self.delay)

    def spawn(self, coro: Any) -> None:
        if time.monotonic() >= self.run.stop_at.value:
            coro.close()  # the run is over: nothing new
            return
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def live(self, start_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        self.run.lags.append((start_at, time.monotonic() - start_at))  # a busy loop wakes late
        # like Chromium: at most 6 connections to a server, more requests wait for one
        limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
        timeout = httpx.Timeout(TIMEOUT_S, pool=None)
        async with httpx.AsyncClient(
            base_url=self.run.url, limits=limits, timeout=timeout, verify=self.run.tls
        ) as client:
            self.client = client
            ok = await self.load()
            with self.run.done.get_lock():
                self.run.done.value += 1
            if not ok:
                self.run.error("load", "the page did not load", time.monotonic())
                return
            loaded = self.loaded_at = time.monotonic()
            # the page's timers: the poll every 2 s (its phase: when the page came up), a
            # heartbeat 1 s after the start and every 30 s, the connection check every 5 s
            next_poll = loaded + random.uniform(0, POLL_MS / 1000)
            next_beat, self.next_check = loaded + 1.0, loaded + HEALTH_EVERY_S
            while True:
                at = min(next_poll, next_beat, self.next_check)
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                if time.monotonic() >= self.run.stop_at.value:
                    break
                if at == next_poll:
                    if self.online:  # offline, the page's interval is disabled
                        self.run.lags.append((at, time.monotonic() - at))
                        self.spawn(self.poll())
                    next_poll += POLL_MS / 1000
                elif at == next_beat:
                    self.spawn(self.heartbeat())
                    next_beat = (
                        loaded if next_beat < loaded + HEARTBEAT_S else next_beat
                    ) + HEARTBEAT_S
                else:
                    self.next_check = at + (HEALTH_EVERY_S if self.online else self.delay)
                    self.spawn(self.check())
            if self.tasks:  # answers still on their way: wait for them, then give up
                await asyncio.wait(list(self.tasks), timeout=TIMEOUT_S + 1)
                for task in list(self.tasks):
                    task.cancel()
                await asyncio.gather(*list(self.tasks), return_exceptions=True)
        self.run.seen.append((self.loaded_at, self.seen))


class Load:
    """The screens of one load process and everything they saw, with times (the parent
    takes what fell in the measured window)."""

    def __init__(self, url: str, done: Any, stop_at: Any):
        self.url, self.done, self.stop_at = url, done, stop_at
        # one TLS context for every screen of the process (the server is plain HTTP anyway):
        # a client of its own would load the CA bundle, 30–40 ms of CPU in this one loop per
        # screen — at 10 loads a second a third of a core, and the screens' load times grew
        # with the generator's backlog (page load p95 5–19 s), not with the server's
        self.tls = httpx.create_ssl_context()
        self.polls: list[tuple[float, float, bool]] = []  # sent at, latency, carried changes
        self.errors: list[tuple[str, str, float]] = []
        self.counts: dict[str, int] = {}
        self.load_times: list[tuple[float, float]] = []  # started at, took
        self.lags: list[tuple[float, float]] = []  # how late each poll and load was sent
        self.seen: list[tuple[float, dict[int, float]]] = []

    def error(self, kind: str, reason: str, at: float) -> None:
        self.errors.append((kind, reason[:200], at))

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    async def run(self, plan: dict[str, Any]) -> None:
        screens = [Screen(self, i, d, tok, reqs) for i, d, tok, reqs in plan["screens"]]
        await asyncio.gather(*(s.live(at) for s, at in zip(screens, plan["start_at"], strict=True)))


def load_process(plan: dict[str, Any], done: Any, stop_at: Any, conn: Any) -> None:
    """One load process: its share of the screens in one asyncio loop; results to `conn`."""
    _die_with_parent()
    try:
        random.seed(plan["seed"])
        run = Load(plan["url"], done, stop_at)
        asyncio.run(run.run(plan))
        conn.send(
            {
                "polls": run.polls,
                "errors": run.errors,
                "counts": run.counts,
                "load_times": run.load_times,
                "seen": run.seen,
                "lags": run.lags,
            }
        )
    except BaseException as err:  # the parent reports it; never leave it waiting
        conn.send({"crash": f"{type(err).__name__}: {err}"})
        raise
    finally:
        conn.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def post_notice(system: System, k: int) -> None:
    """Change the bench's notice (shown on every display) to "Kuormatesti k", as a shift
    lead's edit on the tablet does (LiveStore.put_notice_now)."""
    store = system.store()
    now = store.clock(system.config.tz).now()
    store.put_notice_now(
        {
            "id": "kuormatesti",
            "unit": "kaikki",
            "importance": "info",
            "public": True,
            "text": f"{MARKER} {k}",
            "starts": (now - timedelta(minutes=5)).isoformat(),
            "ends": (now + timedelta(hours=3)).isoformat(),
            "entered_by": "bench",
        }
    )


def run_load(
    system: System, cap: dict[str, Any], n: int, seconds: float, procs: int
) -> dict[str, Any]:
    """N screens against the server: they load, spread evenly over 30 s (after a deployment
    every screen reloads within one heartbeat, 30 s, and the assets' new addresses miss its
    cache), then, 10 s after the last one is up, `seconds` are measured."""
    displays = [d.id for d in system.config.displays]
    screens = []
    for i in range(n):
        d = displays[i % len(displays)]
        screens.append(
            (i, d, system.tokens[d], for_screen(cap, d, system.tokens[d], system.page_url(d)))
        )
    spread = float(HEARTBEAT_S)
    t0 = time.monotonic() + 4.0  # the load processes have started by then
    starts = [t0 + spread * i / n for i in range(n)]
    ctx = multiprocessing.get_context("spawn")
    done, stop_at = ctx.Value("i", 0), ctx.Value("d", math.inf)
    workers, pipes = [], []
    results: list[dict[str, Any]] = []
    changes: dict[int, float] = {}
    try:
        load_cpu = cpu_seconds(system.server_processes())
        for k in range(procs):
            plan = {
                "url": system.url,
                "seed": 7 + k,
                "screens": screens[k::procs],
                "start_at": starts[k::procs],
            }
            here, there = ctx.Pipe(duplex=False)
            w = ctx.Process(
                target=load_process,
                args=(plan, done, stop_at, there),
                daemon=True,
                name=f"load-{k}",
            )
            w.start()
            there.close()
            workers.append(w)
            pipes.append(here)
        loaders = [psutil.Process(w.pid) for w in workers]
        post_notice(system, 0)  # the notice is there from the start: later changes are edits
        time.sleep(max(0.0, t0 - time.monotonic()))
        loading = (cpu_seconds(loaders), time.monotonic())
        deadline = t0 + spread + 300
        while done.value < n:
            if time.monotonic() > deadline or not all(w.is_alive() for w in workers):
                raise RuntimeError(f"only {done.value} of {n} screens loaded")
            time.sleep(0.2)
        all_loaded = time.monotonic()
        # a load generator short of CPU makes slow page loads of its own: its cores meanwhile
        load_cores_loading = (cpu_seconds(loaders) - loading[0]) / (all_loaded - loading[1])
        load_cpu = cpu_seconds(system.server_processes()) - load_cpu  # polls of the loaded too
        measure_from = all_loaded + 10.0
        measure_to = measure_from + seconds
        time.sleep(max(0.0, measure_from - time.monotonic()))
        redis_proc = system.redis_process()
        groups = [
            system.server_processes(),
            [redis_proc] if redis_proc else [],
            [psutil.Process(system.demo.pid)],
            loaders,
        ]
        before = [*(cpu_seconds(g) for g in groups), busy_seconds(), time.monotonic()]
        per_process = [cpu_seconds([p]) for p in groups[0]]
        histogram = server_histogram(system)
        k, next_change = 1, measure_from + 1.0
        while next_change < measure_to - 3 * POLL_MS / 1000:  # 3 polls for each to arrive
            time.sleep(max(0.0, next_change - time.monotonic()))
            changes[k] = time.monotonic()
            post_notice(system, k)
            k, next_change = k + 1, next_change + CHANGE_EVERY_S
        time.sleep(max(0.0, measure_to - time.monotonic()))
        after = [*(cpu_seconds(g) for g in groups), busy_seconds(), time.monotonic()]
        per_process = [cpu_seconds([p]) - c for p, c in zip(groups[0], per_process, strict=True)]
        histogram_p95_s = histogram_p95(histogram, server_histogram(system))
        stop_at.value = time.monotonic()
        for pipe in pipes:
            if not pipe.poll(TIMEOUT_S * 3):
                raise RuntimeError("a load process did not answer")
            results.append(pipe.recv())
    finally:
        stop_at.value = 0.0
        for w in workers:
            w.join(timeout=15)
            if w.is_alive():
                w.kill()
                w.join()
    crashed = [r["crash"] for r in results if "crash" in r]
    if crashed:
        raise RuntimeError(f"a load process failed: {crashed[0]}")
    wall = after[-1] - before[-1]
    server_cores, redis_cores, demo_cores, load_cores, busy = (
        (a - b) / wall for a, b in zip(after[:-1], before[:-1], strict=True)
    )
    polls = [p for r in results for p in r["polls"] if measure_from <= p[0] < measure_to]
    latencies = [p[1] for p in polls]
    loads = sorted(t for r in results for t in r["load_times"])
    errors = [e for r in results for e in r["errors"]]  # the whole run, loads included
    counts: dict[str, int] = {}
    for r in results:
        for kind, c in r["counts"].items():
            counts[kind] = counts.get(kind, 0) + c
    delays, missed = [], 0
    for k, at in changes.items():
        for loaded_at, seen in (s for r in results for s in r["seen"]):
            if loaded_at > at:
                continue  # its first board had it already
            later = [t for marker, t in seen.items() if marker >= k]  # a later edit carries it too
            if later:
                delays.append(min(later) - at)
            else:
                missed += 1
    if errors:
        kinds: dict[str, int] = {}
        for kind, reason, _ in errors:
            kinds[f"{kind}: {reason[:90]}"] = kinds.get(f"{kind}: {reason[:90]}", 0) + 1
        for reason, c in sorted(kinds.items(), key=lambda x: -x[1])[:8]:
            print(f"    {c} × {reason}")
    out = {
        "displays": float(n),
        "update_p50_s": pct(latencies, 0.50),
        "update_p95_s": pct(latencies, 0.95),
        "update_p99_s": pct(latencies, 0.99),
        "update_max_s": max(latencies, default=float("nan")),
        "update_p95_server_side_bucket_s": histogram_p95_s,
        "polls_per_s": len(polls) / seconds,
        "polls_with_changes_share": sum(1 for p in polls if p[2]) / max(1, len(polls)),
        "errors": float(len(errors)),
        "errors_while_loading": float(sum(1 for e in errors if e[2] < measure_from)),
        "changes_not_delivered": float(missed),
        "change_to_screen_p50_s": pct(delays, 0.50),
        "change_to_screen_p95_s": pct(delays, 0.95),
        "page_load_p95_s": pct([took for _, took in loads], 0.95),
        # the first tenth of the screens: what met the new processes' empty caches
        "page_load_first_tenth_p95_s": pct([took for _, took in loads[: max(1, n // 10)]], 0.95),
        "all_loaded_after_s": all_loaded - t0,
        "server_cpu_per_page_load_s": load_cpu / n,
        "server_cores_used": server_cores,
        "displays_per_core": n / server_cores if server_cores > 0 else float("nan"),
        "busiest_server_process_cores": max(per_process) / wall,
        "redis_cores_used": redis_cores,
        "demo_collectors_cores_used": demo_cores,
        "load_generator_cores_used": load_cores,
        "load_generator_cores_while_loading": load_cores_loading,
        # how late the screens began their loads: a generator short of CPU shows here
        "load_generator_lag_while_loading_p95_s": pct(
            [lag for r in results for at, lag in r["lags"] if at < all_loaded], 0.95
        ),
        "load_generator_lag_p95_s": pct(
            [lag for r in results for at, lag in r["lags"] if measure_from <= at < measure_to], 0.95
        ),
        "machine_busy_cores": busy,
        "other_processes_cores": busy - server_cores - redis_cores - demo_cores - load_cores,
    }
    print(
        f"  N={n} ({procs} load process{'es' if procs > 1 else ''}): all loaded after "
        f"{all_loaded - t0:.0f} s, page load p95 {out['page_load_p95_s']:.2f} s (first tenth "
        f"{out['page_load_first_tenth_p95_s']:.2f} s), server CPU per page load "
        f"{out['server_cpu_per_page_load_s']:.3f} s, load generator {load_cores_loading:.2f} "
        f"cores meanwhile (p95 lag {out['load_generator_lag_while_loading_p95_s']:.2f} s); "
        f"{len(polls)} polls in {seconds:.0f} s, p50 "
        f"{out['update_p50_s'] * 1000:.0f} ms, p95 {out['update_p95_s'] * 1000:.0f} ms, max "
        f"{out['update_max_s'] * 1000:.0f} ms, {len(errors)} errors, {missed} of "
        f"{len(delays) + missed} changes not delivered; cores: server {server_cores:.2f} ("
        f"{' + '.join(f'{c / wall:.2f}' for c in per_process)}), redis {redis_cores:.2f}, demo "
        f"{demo_cores:.2f}, load generator {load_cores:.2f}, whole machine {busy:.2f}; requests "
        f"of the whole run {counts}",
        flush=True,
    )
    return out


# -- update cost beside a static response ---------------------------------------------------


def cost_compare(system: System, cap: dict[str, Any], k: int) -> dict[str, float]:
    """One client, nothing else asking, the feeds stopped: latency and server CPU per request
    of an unchanged poll (204), of a poll one change behind (200, a notice's text changed),
    of the page's static stylesheet and of /health (and of a heartbeat, CPU only)."""
    store = system.store()
    for source in system.config.sources:
        store.stop_source(source.name)  # as `ohjaustaulu source stop NAME`
    time.sleep(3)
    display = cap["display"]
    reqs = for_screen(cap, display, system.tokens[display], system.page_url(display))
    css = next(r for r in reqs["load"] if r["path"].startswith("/assets/display.css"))
    router = next(r for r in reqs["load"] if r["kind"] == "router")
    template = json.loads(reqs["poll"]["body"])
    state: dict[str, Any] = {"n": 0, "changed": 0}
    with httpx.Client(base_url=system.url, timeout=TIMEOUT_S) as client:
        page = client.get(
            f"/display/{display}?token={system.tokens[display]}", headers=reqs["load"][0]["headers"]
        )
        m = DASH_CONFIG.search(page.text)
        end_id = json.loads(m.group(1)).get("end_id") if m else None
        poll_path = (
            "/_dash-update-component?" + urllib.parse.urlencode({"endId": end_id})
            if end_id
            else reqs["poll"]["path"]
        )
        state["etag"] = find_etag(
            client.post(
                poll_path, headers=router["headers"], content=router["body"].encode()
            ).json()
        )

        def poll(etag: str | None = None) -> httpx.Response:
            state["n"] += 1
            r = client.post(
                poll_path,
                headers=reqs["poll"]["headers"],
                content=poll_body(template, state["n"], display, etag or state["etag"]),
            )
            if r.status_code == 200 and etag is None:
                state["changed"] += 1
                state["etag"] = r.json()["response"]["model-etag"]["data"]
            return r

        for i in range(2):  # two notice edits: the screen's board before the last one
            post_notice(system, 10**6 + i)
            behind, t0 = state["etag"], time.monotonic()
            while poll().status_code != 200 and time.monotonic() - t0 < 10:
                time.sleep(0.05)
        kinds = {
            "update": poll,
            "update_changed": lambda: poll(behind),
            "static": lambda: client.get(css["path"], headers=css["headers"]),
            "health": lambda: client.get("/health", headers=reqs["ready_headers"]),
            "heartbeat": lambda: client.post(
                "/api/heartbeat",
                headers=reqs["heartbeat"]["headers"],
                content=reqs["heartbeat"]["body"].encode(),
            ),
        }
        for fn in kinds.values():  # warm up
            for _ in range(50):
                if not 200 <= fn().status_code < 300:
                    raise RuntimeError("a request of the comparison failed")
        if poll(behind).status_code != 200:
            raise RuntimeError("a poll one change behind got no changes")
        state["changed"] = 0
        latency: dict[str, list[float]] = {
            kind: [] for kind in ("update", "update_changed", "static", "health")
        }
        for _ in range(k):
            for kind in latency:
                t0 = time.perf_counter()
                r = kinds[kind]()
                latency[kind].append(time.perf_counter() - t0)
                if not 200 <= r.status_code < 300:
                    raise RuntimeError(f"{kind}: HTTP {r.status_code}")
        server = system.server_processes()
        c0, t0 = cpu_seconds(server), time.monotonic()
        time.sleep(3)
        idle = (cpu_seconds(server) - c0) / (time.monotonic() - t0)  # CPU per second, no requests
        # K of each type in ROUNDS blocks, the types taking turns: whatever else the machine
        # does meanwhile touches every type alike, and the median block of each is taken
        per_block: dict[str, list[float]] = {kind: [] for kind in kinds}
        redis_proc = system.redis_process()
        ours = [*server, psutil.Process(), psutil.Process(system.demo.pid)]
        ours += [redis_proc] if redis_proc else []
        before = (cpu_seconds(ours), busy_seconds(), time.monotonic())
        for _ in range(ROUNDS):
            for kind, fn in kinds.items():
                c0, t0 = cpu_seconds(server), time.monotonic()
                for _ in range(k // ROUNDS):
                    fn()
                used = cpu_seconds(server) - c0 - idle * (time.monotonic() - t0)
                per_block[kind].append(used / (k // ROUNDS))
        cpu = {kind: statistics.median(v) for kind, v in per_block.items()}
        # the rest of the machine meanwhile (other processes, the kernel): how quiet it was
        others = (busy_seconds() - before[1] - (cpu_seconds(ours) - before[0])) / (
            time.monotonic() - before[2]
        )
    for source in system.config.sources:
        store.start_source(source.name)
    med = {kind: statistics.median(v) for kind, v in latency.items()}
    print(
        f"  side by side, K={k}: median latency "
        + ", ".join(f"{kind} {v * 1000:.2f} ms" for kind, v in med.items())
        + "; server CPU per request "
        + ", ".join(f"{kind} {v * 1000:.2f} ms" for kind, v in cpu.items())
        + f" (idle {idle:.3f} cores; other processes meanwhile {others:.2f} cores); unchanged"
        f" polls that found a change: {state['changed']}",
        flush=True,
    )
    return {
        "update_median_ms": med["update"] * 1000,
        "update_changed_median_ms": med["update_changed"] * 1000,
        "static_median_ms": med["static"] * 1000,
        "health_median_ms": med["health"] * 1000,
        "update_vs_static_latency_ratio": med["update"] / med["static"],
        "update_vs_health_latency_ratio": med["update"] / med["health"],
        "update_cpu_ms": cpu["update"] * 1000,
        "update_changed_cpu_ms": cpu["update_changed"] * 1000,
        "static_cpu_ms": cpu["static"] * 1000,
        "health_cpu_ms": cpu["health"] * 1000,
        "heartbeat_cpu_ms": cpu["heartbeat"] * 1000,
        "update_vs_static_cpu_ratio": cpu["update"] / cpu["static"],
        "update_vs_health_cpu_ratio": cpu["update"] / cpu["health"],
        "changed_update_vs_static_cpu_ratio": cpu["update_changed"] / cpu["static"],
        "side_by_side_other_processes_cores": others,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--save-baseline", action="store_true")
    parser.add_argument("--displays", type=int, default=300, help="simulated screens (default 300)")
    parser.add_argument(
        "--workers", type=int, default=2, help="server worker processes (default 2)"
    )
    parser.add_argument("--seconds", type=float, default=60, help="measured window (default 60)")
    parser.add_argument(
        "--ramp", action="store_true", help="+STEP screens until p95 > 1 s or errors"
    )
    parser.add_argument("--step", type=int, default=300, help="screens added per ramp step")
    parser.add_argument(
        "--load-processes",
        type=int,
        default=0,
        help="load generator processes (default: one per 300 screens, at most 2)",
    )
    parser.add_argument("--k", type=int, default=1000, help="requests of each type side by side")
    parser.add_argument("--config", type=Path, help="the configuration (default config/ohjaustaulu.toml)")
    parser.add_argument("--history-wait", type=float, default=900,
                        help="seconds to wait for the demo's seeded weeks before measuring (0: measure beside them)")
    parser.add_argument("--history-weeks", type=int, default=None,
                        help="the demo's seeded weeks (default: the demo's 8; with --area 1: eight weeks of "
                             "200 units took the demo over 15 minutes)")
    parser.add_argument("--area", action="store_true",
                        help="bench/region.py's wellbeing area: 25 sites, 200 units, 501 displays (baseline "
                             "bench/baseline-displays-area.json)")
    args = parser.parse_args()
    global CONFIG, BASELINE
    if args.area:
        from bench.region import area_config

        area = Path(tempfile.mkdtemp(prefix="bench-area-")) / "area.toml"
        area.write_text(area_config(), encoding="utf-8")
        CONFIG, BASELINE = area, ROOT / "bench" / "baseline-displays-area.json"
    elif args.config:
        CONFIG = args.config.resolve()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    print(
        f"machine: {psutil.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
        f"{args.displays} screens, {args.workers} workers, {args.seconds:.0f} s",
        flush=True,
    )
    sweep_leftovers()
    weeks = args.history_weeks if args.history_weeks is not None or not args.area else 1
    system = System(args.workers, args.history_wait, weeks)
    try:
        system.start()
        system.store()
        cap = capture(system, system.config.displays[0].id)
        print(
            f"  captured: {len(cap['load'])} requests on load "
            f"({', '.join(r['path'].split('?')[0].rsplit('/', 1)[-1] for r in cap['load'])}), "
            f"poll {len(cap['poll']['body'])} B, heartbeat {len(cap['heartbeat']['body'])} B",
            flush=True,
        )
        # the capture's page load has filled the server's caches (static files, models,
        # Dash's first requests): the screens load against new processes, as after a deployment
        system.restart_server()
        procs = args.load_processes or min(2, math.ceil(args.displays / 300))
        results = run_load(system, cap, args.displays, args.seconds, procs)
        if args.ramp:
            n, passed = args.displays, 0.0
            step = results
            while (
                step["update_p95_s"] <= TARGETS["update_p95_s"]
                and step["errors"] == 0
                and step["changes_not_delivered"] == 0
                and n < 3000
            ):
                passed = float(n)
                n += args.step
                procs = args.load_processes or min(2, math.ceil(n / 300))
                step = run_load(system, cap, n, args.seconds, procs)
            results["capacity_displays"] = passed
            wait_quiet(system)  # a step past capacity leaves queued requests behind
        results.update(cost_compare(system, cap, args.k))
    finally:
        system.stop()
    return report(f"Displays under load (issue 7; {CONFIG.name})", results, TARGETS, BASELINE, args.save_baseline)


def _reap(proc: psutil.Process) -> None:
    """Wait a little for a process to end, then kill it; one already gone is fine."""
    try:
        proc.wait(timeout=5)
    except psutil.TimeoutExpired:
        proc.kill()
    except psutil.Error:
        pass


if __name__ == "__main__":
    sys.exit(main())

