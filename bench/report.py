"""How every benchmark prints its figures: each beside its target and the baseline run, with
the ratio; `--save-baseline` makes this run the baseline. Exit status 1 if a target is missed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path


def report(title: str, results: dict[str, float], targets: dict[str, float], baseline: Path,
           save: bool) -> int:
    base = json.loads(baseline.read_text())["results"] if baseline.exists() else {}
    print(f"\n{title} — {datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'figure':40} {'this run':>10} {'baseline':>10} {'ratio':>7} {'target':>8}")
    for key, value in results.items():
        was = base.get(key)
        target = targets.get(key)
        mark = "" if target is None else (" ok" if value <= target else " MISSED")
        print(f"{key:40} {value:10.3f} {f'{was:.3f}' if was is not None else '–':>10} "
              f"{(f'{value / was:.2f}' if was else '–'):>7} {target if target is not None else '':>8}{mark}")
    if save:
        baseline.write_text(json.dumps({"date": datetime.now().isoformat(timespec="seconds"),
                                        "results": results}, indent=2) + "\n")
        print(f"saved as the baseline: {baseline.name}")
    return 1 if any(results[k] > t for k, t in targets.items()) else 0
