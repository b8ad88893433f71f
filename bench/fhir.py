"""Benchmark of the FHIR feed (issue 4): a day of a large health centre — 5,000
appointments, 3,000 encounters, 20,000 slots, 100 per page — served by our FHIR test server
in a process of its own, polled end to end into the embedded live store.

  1. a full poll: target ≤ 3 s, with the share of time in HTTP, JSON parsing, normalising
     and writing
  2. an incremental poll with nothing new: target ≤ 200 ms (median of 50)
  3. memory over 1,000 incremental polls: target flat (growth after warm-up ≤ 5 MB)

Prints the figures beside the targets and the baseline (bench/baseline-fhir.json).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import report  # noqa: E402
from collectors.base import poll  # noqa: E402
from collectors.fhir.client import FhirClient  # noqa: E402
from collectors.fhir.collector import FhirCollector  # noqa: E402
from dashboard.config import Source, load_config  # noqa: E402
from dashboard.storage.livestore import LiveStore  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG  # noqa: E402

BASELINE = ROOT / "bench" / "baseline-fhir.json"
TARGETS = {"full_poll_s": 3.0, "incremental_poll_s": 0.2, "memory_growth_1000_polls_mb": 5.0}
LOCATIONS = [f"Location/l{i}" for i in range(5)]
UNIT_MAP = dict(zip(LOCATIONS, ["vastaanotto", "suun_th", "laboratorio", "mtpa", "sosiaali"], strict=True))

SERVER = r'''
import sys, json, random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
sys.path.insert(0, sys.argv[1])
from tests.fhir.server import FhirServer
tz = ZoneInfo("Europe/Helsinki")
start = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
updated = datetime.now(tz) - timedelta(hours=1)
s = FhirServer(page_size=100)
rng = random.Random(7)
locs = [f"Location/l{i}" for i in range(5)]
for i in range(20):
    s.put({"resourceType": "Schedule", "id": f"s{i}", "actor": [{"reference": locs[i % 5]}],
           "specialty": [{"coding": [{"display": ["lääkäri", "sairaanhoitaja"][i % 2]}]}]}, updated)
for i in range(5000):
    t = start + timedelta(minutes=rng.randint(8 * 60, 16 * 60))
    s.put({"resourceType": "Appointment", "id": f"a{i}", "status": rng.choice(["booked", "fulfilled", "noshow", "arrived"]),
           "start": t.isoformat(), "end": (t + timedelta(minutes=20)).isoformat(),
           "participant": [{"actor": {"reference": f"Patient/p{i}", "display": "Potilas"}}, {"actor": {"reference": locs[i % 5]}}]}, updated)
for i in range(3000):
    t = start + timedelta(minutes=rng.randint(8 * 60, 11 * 60))
    status = rng.choice(["arrived", "in-progress", "finished", "finished"])
    hist = [{"status": "arrived", "period": {"start": t.isoformat()}}]
    if status != "arrived":
        hist.append({"status": "in-progress", "period": {"start": (t + timedelta(minutes=15)).isoformat()}})
    s.put({"resourceType": "Encounter", "id": f"e{i}", "status": status, "statusHistory": hist,
           "subject": {"reference": f"Patient/p{i}"}, "period": {"start": t.isoformat()},
           "location": [{"location": {"reference": locs[i % 5]}}]}, updated)
for i in range(20000):
    t = start + timedelta(days=rng.randint(0, 13), minutes=rng.randint(8 * 60, 16 * 60))
    s.put({"resourceType": "Slot", "id": f"sl{i}", "status": rng.choice(["free", "busy", "busy"]),
           "schedule": {"reference": f"Schedule/s{i % 20}"}, "start": t.isoformat(),
           "end": (t + timedelta(minutes=20)).isoformat()}, updated)
print(s.url, flush=True)
sys.stdin.read()
'''


class Timed(httpx.Client):
    """Counts the time spent in HTTP and in JSON parsing."""

    http_s = 0.0
    parse_s = 0.0

    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        t0 = time.perf_counter()
        response = super().get(*args, **kwargs)
        response.read()
        Timed.http_s += time.perf_counter() - t0
        original = response.json

        def timed_json(**kw):  # type: ignore[no-untyped-def]
            t1 = time.perf_counter()
            try:
                return original(**kw)
            finally:
                Timed.parse_s += time.perf_counter() - t1

        response.json = timed_json  # type: ignore[method-assign]
        return response


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-baseline", action="store_true")
    ap.add_argument("--polls", type=int, default=1000)
    args, _ = ap.parse_known_args()
    config = load_config(EXAMPLE_CONFIG)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    results: dict[str, float] = {}
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        with tempfile.TemporaryDirectory() as tmp:
            store = LiveStore.open(None, Path(tmp) / "data", "bench:")
            source = Source(name="potilastiedot", kind="fhir", address=url, poll_seconds=30, unit_map=UNIT_MAP)
            client = FhirClient(url, timeout=30)
            client.http = Timed(timeout=30, headers={"Accept": "application/fhir+json"})
            collector = FhirCollector(source, config.tz, client)
            cfg = config.model_copy(update={"sources": [source]})
            t0 = time.perf_counter()
            raw = collector.fetch(store.clock(config.tz).now())
            t_fetch = time.perf_counter() - t0
            now = store.clock(config.tz).now()
            t1 = time.perf_counter()
            readings = collector.normalise(raw, now)
            t_norm = time.perf_counter() - t1
            t2 = time.perf_counter()
            store.write_readings(source.name, readings, {"state": "ok"})
            t_write = time.perf_counter() - t2
            total = t_fetch + t_norm + t_write
            results["full_poll_s"] = total
            results["full_poll_resources"] = float(len(raw.appointments) + len(raw.encounters) + len(raw.slots) + len(raw.schedules))
            results["share_http_pct"] = 100 * (Timed.http_s) / total
            results["share_json_parse_pct"] = 100 * Timed.parse_s / total
            results["share_normalise_pct"] = 100 * t_norm / total
            results["share_write_pct"] = 100 * t_write / total
            times = []
            for _ in range(50):
                t = time.perf_counter()
                assert poll(collector, store, cfg).ok
                times.append(time.perf_counter() - t)
            results["incremental_poll_s"] = statistics.median(times)
            proc = psutil.Process()
            for _ in range(100):
                poll(collector, store, cfg)
            warm = proc.memory_info().rss / 2**20
            for _ in range(args.polls):
                poll(collector, store, cfg)
            results["memory_growth_1000_polls_mb"] = proc.memory_info().rss / 2**20 - warm
            results["rss_after_polls_mb"] = proc.memory_info().rss / 2**20
    finally:
        server.kill()
    return report("FHIR benchmark", results, TARGETS, BASELINE, args.save_baseline)

if __name__ == "__main__":
    sys.exit(main())
