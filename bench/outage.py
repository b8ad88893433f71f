"""Benchmark of the embedded default on an operator's bad day (issue 14): `ohjaustaulu demo`
on a data folder of its own, its redis-server killed (kill -9) five times and hung (SIGSTOP)
five times.

Printed: how long `/ready` takes when all is well, while the store is dead and while it
hangs; how long from the kill until a new redis-server answers and until `/ready` says ok
again; whether the store's keys survived each restart (its append-only file); and whether
stopping the demo (SIGTERM) left a redis-server behind. Before this issue: `/ready` took 4 s
to say 503 with the store dead, nothing restarted the store, and SIGTERM left it running.

Targets: `/ready` within 1 s in every case, the store back within 3 s of a kill, no key lost,
no redis-server left. `--save-baseline` makes this run the baseline
(bench/baseline-outage.json). Run with `./dev bench` or `python bench/outage.py`.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from dashboard.storage import embedded  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG, free_port  # noqa: E402

BASELINE = Path(__file__).with_name("baseline-outage.json")
TARGETS = {"ready_ok_max_s": 1.0, "ready_dead_max_s": 1.0, "ready_hung_max_s": 1.0,
           "restart_max_s": 3.0, "keys_lost": 0.0, "redis_left_after_sigterm": 0.0}
ROUNDS = 5


def timed_ready(client: httpx.Client) -> tuple[float, int]:
    began = time.perf_counter()
    status = client.get("/ready").status_code
    return time.perf_counter() - began, status


def until(predicate, timeout: float = 30) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        try:
            if predicate():
                return time.perf_counter() - began
        except (redis.RedisError, OSError, httpx.HTTPError):
            pass
        time.sleep(0.02)
    raise RuntimeError("timed out")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-baseline", action="store_true")
    args, _ = ap.parse_known_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-outage-"))
    data = folder / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(OHJAUSTAULU_DATA=str(data), OHJAUSTAULU_KEY_PREFIX="bench-outage:")
    exe = str(Path(sys.executable).parent / "ohjaustaulu")
    log = open(folder / "demo.log", "wb")  # noqa: SIM115
    demo = subprocess.Popen([exe, "demo", "--port", str(port), "--config", str(EXAMPLE_CONFIG),
                             "--clock-at", "10:00"], env=env, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    results: dict[str, float] = {}
    try:
        until(lambda: client.get("/health").status_code == 200, timeout=90)
        time.sleep(3)
        ok = []
        for _ in range(20):
            ok.append(timed_ready(client)[0])
            time.sleep(1.05)  # past the one-second reuse of an answer
        results["ready_ok_median_s"], results["ready_ok_max_s"] = statistics.median(ok), max(ok)

        dead, restart, ready_again, lost = [], [], [], 0
        sock = embedded.socket_path(data)
        for _ in range(ROUNDS):
            time.sleep(1.2)  # what the append-only file has written to disk by the kill
            probe = redis.Redis(unix_socket_path=str(sock))
            keys = probe.dbsize()
            probe.close()
            pid = embedded.server_pid(data)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed = time.perf_counter()
            took, status = timed_ready(client)
            dead.append(took)
            assert status == 503
            until(lambda: embedded.server_pid(data) not in (None, pid) and  # noqa: B023
                  redis.Redis(unix_socket_path=str(sock)).ping())
            restart.append(time.perf_counter() - killed)
            until(lambda: client.get("/ready").status_code == 200)
            ready_again.append(time.perf_counter() - killed)
            lost += max(0, keys - redis.Redis(unix_socket_path=str(sock)).dbsize())
            time.sleep(2)
        results["ready_dead_max_s"] = max(dead)
        results["restart_median_s"], results["restart_max_s"] = statistics.median(restart), max(restart)
        results["ready_again_median_s"] = statistics.median(ready_again)
        results["keys_lost"] = float(lost)

        hung = []
        for _ in range(ROUNDS):
            pid = embedded.server_pid(data)
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(1.1)
                took, status = timed_ready(client)
                hung.append(took)
                assert status == 503
            finally:
                os.kill(pid, signal.SIGCONT)
            until(lambda: client.get("/ready").status_code == 200)
        results["ready_hung_max_s"] = max(hung)
    finally:
        client.close()
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        log.close()
    time.sleep(1)
    left = embedded.server_pid(data) is not None
    results["redis_left_after_sigterm"] = float(left)
    if left:
        embedded.stop(data)
    return report("Embedded store outage benchmark (demo, kill -9 and SIGSTOP)", results, TARGETS,
                  BASELINE, args.save_baseline)


if __name__ == "__main__":
    raise SystemExit(main())
