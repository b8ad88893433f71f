"""Benchmark of the workbook import (issue 3), end to end into the embedded live store and
SQLite: file read, checks, parse, validation, apply.

  1. a realistic morning workbook (5 sheets, about 300 rows): target ≤ 1 s
  2. a stress workbook (5 sheets × 10,000 rows): target ≤ 10 s, peak memory ≤ 500 MB
     (measured in a process of its own)
  3. a zip bomb rejected: target ≤ 2 s
  4. reading the same files with openpyxl (read-only, cached values) beside python-calamine

Prints the figures beside the targets and the baseline (bench/baseline-workbook.json);
`--save-baseline` makes this run the baseline. Run with `./dev bench`.
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook, load_workbook  # noqa: E402

from bench.report import report  # noqa: E402
from dashboard.config import load_config  # noqa: E402
from dashboard.storage.history import History  # noqa: E402
from dashboard.storage.livestore import LiveStore  # noqa: E402
from dashboard.workbook import reader  # noqa: E402
from dashboard.workbook.importer import import_bytes  # noqa: E402
from tests.conftest import EXAMPLE_CONFIG  # noqa: E402

BASELINE = ROOT / "bench" / "baseline-workbook.json"
TARGETS = {"morning_import_s": 1.0, "stress_import_s": 10.0, "stress_peak_rss_mb": 500.0,
           "zip_bomb_rejected_s": 2.0}
UNITS = ["vastaanotto", "suun_th", "laboratorio", "mtpa", "sosiaali"]


def make(path: Path, rows: int, day: str) -> Path:
    wb = Workbook(write_only=True)
    per_unit = max(1, rows // len(UNITS))

    def sheet(name: str, head: list[str], row) -> None:  # type: ignore[no-untyped-def]
        ws = wb.create_sheet(name)
        ws.append(head)
        for i in range(rows):
            ws.append(row(UNITS[i // per_unit % len(UNITS)], i))

    sheet("Henkilöstö", ["Päivä", "Yksikkö", "Ammattiryhmä", "Suunniteltu", "Paikalla"],
          lambda u, i: [day, u, f"ammatti {i}", 8, 7])
    sheet("Ajanvaraus", ["Päivä", "Yksikkö", "Ammattiryhmä", "Vapaat ajat tänään", "Vapaat ajat 3 arkipäivää", "T3 (päivää)"],
          lambda u, i: [day, u, f"ammatti {i}", 3, 12, "2,5"])
    sheet("Jonot", ["Kellonaika", "Yksikkö", "Jono", "Jonossa", "Pisin odotus (min)"],
          lambda u, i: ["8.30", u, f"jono {i}", 4, 17])
    sheet("Kapasiteetti", ["Päivä", "Yksikkö", "Resurssi", "Käytössä", "Yhteensä"],
          lambda u, i: [day, u, f"huone {i}", 1, 2])
    sheet("Tiedotteet", ["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys", "Julkinen"],
          lambda u, i: [f"{day} 8.00", f"{day} 16.00", u, f"Tiedote {i}", "info", "ei"])
    wb.save(path)
    return path


def zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(1024):  # 1 GiB of zeros
                member.write(b"\0" * 2**20)
    return path


def timed_import(path: Path, data_dir: Path) -> float:
    config = load_config(EXAMPLE_CONFIG)
    store = LiveStore.open(None, data_dir, "bench:")
    history = History.open(None, data_dir)
    t0 = time.perf_counter()
    report = import_bytes(path.read_bytes(), path.name, "bench", config=config, store=store,
                          history=history, data_dir=data_dir)
    elapsed = time.perf_counter() - t0
    if not report.ok:
        raise SystemExit(f"{path.name} did not import: {report.errors[:3]}")
    return elapsed


def openpyxl_read(path: Path) -> float:
    t0 = time.perf_counter()
    wb = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    for ws in wb.worksheets:
        for _row in ws.iter_rows(values_only=True):
            pass
    wb.close()
    return time.perf_counter() - t0


def calamine_read(path: Path) -> float:
    t0 = time.perf_counter()
    reader.read(path.read_bytes())
    return time.perf_counter() - t0


def child_import(path: Path, data_dir: Path) -> tuple[float, float]:
    """Import in a process of its own: its wall time and peak memory (MB)."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[3]);"
        "from bench.workbook import timed_import; from pathlib import Path;"
        "print(timed_import(Path(sys.argv[1]), Path(sys.argv[2])))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path), str(data_dir), str(ROOT)],
                         capture_output=True, text=True, check=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return float(out.stdout.strip().splitlines()[-1]), peak_kb / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-baseline", action="store_true")
    args, _ = ap.parse_known_args()
    config = load_config(EXAMPLE_CONFIG)
    store_probe = None
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        data = tmp / "data"
        store_probe = LiveStore.open(None, data, "bench:")
        day = store_probe.clock(config.tz).now().strftime("%d.%m.%Y")
        morning = make(tmp / "aamu.xlsx", 60, day)  # 5 sheets × 60 = 300 rows
        stress = make(tmp / "stressi.xlsx", 10_000, day)
        bomb = zip_bomb(tmp / "pommi.xlsx")
        results["morning_import_s"] = timed_import(morning, data)
        results["stress_import_s"], results["stress_peak_rss_mb"] = child_import(stress, tmp / "data2")
        t0 = time.perf_counter()
        try:
            reader.read(bomb.read_bytes())
            raise SystemExit("the zip bomb was read")
        except reader.Unreadable:
            results["zip_bomb_rejected_s"] = time.perf_counter() - t0
        for name, path in (("morning", morning), ("stress", stress)):
            results[f"{name}_read_calamine_s"] = calamine_read(path)
            results[f"{name}_read_openpyxl_s"] = openpyxl_read(path)
            results[f"{name}_openpyxl_over_calamine"] = (
                results[f"{name}_read_openpyxl_s"] / results[f"{name}_read_calamine_s"])
    return report("Workbook benchmark", results, TARGETS, BASELINE, args.save_baseline)

if __name__ == "__main__":
    sys.exit(main())
