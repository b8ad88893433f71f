"""The regional picture: one row per site of the area, rolled up from the same tiles the
sites' own displays show, by rules written down here and in docs/region.md.

Each rolled-up figure is a small dict in the tiles' own shape (value, status, updated_at,
fresh_until) plus how it was made (`rollup`) and from how many tiles (`parts`):

- its **status** is the worst of its parts': "unavailable" when no part has a value, "stale"
  when any part is stale or missing (a sum with a hole in it is no current sum), else "fresh";
- its **age** (`updated_at`) is the oldest part's: a figure is only as new as its oldest input;
- it is **fresh until** the first of its fresh parts turns stale.

The rows are ordered by need: the worst escalation level first, then the longest wait, then
the lowest share of planned staff present, then the site's name.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from dashboard.config import Config
from dashboard.domain.freshness import FRESH, STALE, UNAVAILABLE

Tile = dict[str, Any]

# figure -> (the metric it is made of, the rule); the page and docs/region.md say the same
RULES: dict[str, tuple[str, str]] = {
    "waiting": ("queue.waiting", "sum"),
    "longest_wait_min": ("queue.longest_wait_min", "max"),
    "mean_wait_min": ("queue.avg_wait_min", "mean weighted by queue.called_last_hour"),
    "staff_present": ("staff.present", "sum"),
    "staff_planned": ("staff.planned", "sum"),
    "free_3wd": ("appointments.free_3wd", "sum"),
    "t3_median": ("appointments.t3_days", "median over units, per profession"),
    "t3_worst": ("appointments.t3_days", "max over units, per profession"),
    "arrivals_today": ("flow.arrivals_today", "sum"),
    "arrivals_vs_typical_pct": ("flow.arrivals_by_hour",
                                "arrivals in the full hours so far / the typical day's in the same hours, x 100"),
    "level": ("escalation.level", "max over units"),
}


def needed(config: Config) -> set[str]:
    """The metrics a region display reads: its roll-ups' and its units' escalation rules'."""
    rules = {r.metric for r in config.escalation.rules}
    if "staff.present_ratio" in rules:
        rules |= {"staff.present", "staff.planned"}
    # a rule on a derived value reads its inputs (and theirs)
    return {metric for metric, _ in RULES.values()} | {"queue.called_last_hour"} | config.with_inputs(rules)


def _figure(rollup: str, parts: list[Tile | None], value: Any, none_is_known: bool = False) -> Tile:
    """A rolled-up figure from its parts (None: a part expected but missing). A value of None
    is "no data", unless `none_is_known` (nobody was called: there is no mean to show)."""
    have = [p for p in parts if p is not None and p.get("status") != UNAVAILABLE]
    if not have or (value is None and not none_is_known):
        return {"value": None, "status": UNAVAILABLE, "updated_at": None, "rollup": rollup, "parts": len(parts)}
    whole = len(have) == len(parts) and all(p["status"] == FRESH for p in have)
    out: Tile = {"value": value, "status": FRESH if whole else STALE,
                 "updated_at": min(str(p["updated_at"]) for p in have), "rollup": rollup, "parts": len(parts)}
    if whole:
        ends = [str(p["fresh_until"]) for p in have if p.get("fresh_until")]
        if ends:
            out["fresh_until"] = min(ends)
    return out


def _num(tile: Tile) -> float:
    return float(tile["value"])


def _total(parts: list[Tile | None], rollup: str = "sum",
           value: Callable[[list[Tile]], float | None] | None = None) -> Tile:
    have = [p for p in parts if p is not None and p.get("status") != UNAVAILABLE]
    result = (value(have) if value else sum(_num(p) for p in have)) if have else None
    return _figure(rollup, parts, result)


def _weighted_wait(waits: list[Tile], counts: dict[tuple[str, str], Tile]) -> Tile:
    """The mean wait of everyone called in the last hour at the site: each queue's mean
    (check-in to call, of those called in the last 60 min) weighted by how many it called in
    that hour. Nobody called -> no mean (shown as a dash, not as missing data)."""
    parts: list[Tile | None] = []
    weighted = people = 0.0
    for w in waits:
        n = counts.get((w["unit"], w["key"]))
        parts += [w, n]
        if n is None or n["status"] == UNAVAILABLE or w["status"] == UNAVAILABLE:
            continue
        weighted += _num(w) * _num(n)
        people += _num(n)
    return _figure("weighted_mean", parts, round(weighted / people, 1) if people else None, none_is_known=True)


def _completed_hours(series: Tile, now_hour: int) -> tuple[float, float] | None:
    """(arrivals, typical arrivals) over the full clock hours before `now_hour`; None when
    the typical day is not known."""
    typical = series.get("typical") or {}
    if not typical:
        return None
    today = series.get("value") or {}
    hours = [h for h in typical if str(h).isdigit() and int(h) < now_hour]
    return (sum(float(today.get(h, today.get(str(int(h)), 0)) or 0) for h in hours),
            sum(float(typical[h]) for h in hours))


def _arrivals_vs_typical(series: list[Tile | None], now_hour: int) -> Tile:
    got = typ = 0.0
    for s in series:
        if s is None or s["status"] == UNAVAILABLE:
            continue
        pair = _completed_hours(s, now_hour)
        if pair is None:
            continue
        got, typ = got + pair[0], typ + pair[1]
    return _figure("ratio_of_sums", series, round(100 * got / typ) if typ else None)


def _t3(tiles: list[Tile]) -> dict[str, dict[str, Tile]]:
    """Per profession: the median and the worst T3 over the site's units. A bound ("> 90")
    counts as its number; the worst keeps its bound."""
    by_key: dict[str, list[Tile]] = {}
    for x in tiles:
        by_key.setdefault(x["key"], []).append(x)
    out = {}
    for key, parts in sorted(by_key.items()):
        have = [p for p in parts if p["status"] != UNAVAILABLE]
        median = _figure("median", list(parts), statistics.median(_num(p) for p in have) if have else None)
        worst_tile = max(have, key=lambda p: (_num(p), p.get("bound") == "above"), default=None)
        worst = _figure("max", list(parts), _num(worst_tile) if worst_tile else None)
        if worst_tile is not None and worst_tile.get("bound"):
            worst["bound"] = worst_tile["bound"]
        out[key] = {"median": median, "worst": worst}
    return out


def _level(units: Iterable[str], escalation: dict[str, Any]) -> Tile:
    levels = [(u, escalation["units"][u]) for u in units if u in escalation["units"]]
    if not levels:
        return {"value": None, "status": UNAVAILABLE, "updated_at": None, "rollup": "max", "parts": 0, "reasons": []}
    worst = max(int(v["level"]) for _, v in levels)
    statuses = {str(v.get("status") or FRESH) for _, v in levels}
    status = FRESH if statuses == {FRESH} else (UNAVAILABLE if statuses == {UNAVAILABLE} else STALE)
    reasons: list[dict[str, Any]] = []
    for unit, v in levels:
        if int(v["level"]) != worst or (worst == 1 and v.get("source") != "manual"):
            continue
        if v.get("source") == "manual":
            reasons.append({"unit": unit, "manual": True, "text": (v.get("reasons") or [""])[0], "by": v.get("by")})
        else:
            reasons += [{"unit": unit, **d} for d in v.get("details") or []]
    updated = [str(v["updated_at"]) for _, v in levels if v.get("updated_at")]
    return {"value": worst, "status": status, "updated_at": min(updated) if updated else None,
            "rollup": "max", "parts": len(levels), "reasons": reasons}


def rows(config: Config, units: list[str], tiles: list[Tile], escalation: dict[str, Any],
         now: datetime) -> list[dict[str, Any]]:
    """A row per site of `units` (a region display's), ordered by need."""
    shown = set(units)
    site_of = config.unit_sites()
    by_metric: dict[tuple[str, str], list[Tile]] = {}
    for x in tiles:
        if x["unit"] in shown:
            by_metric.setdefault((x["metric"], site_of[x["unit"]]), []).append(x)
    out = []
    for site in config.area:
        site_units = [u for u in units if site_of.get(u) == site.code]
        if not site_units:
            continue

        def of(metric: str, code: str = site.code) -> list[Tile]:
            return by_metric.get((metric, code), [])

        called = {(x["unit"], x["key"]): x for x in of("queue.called_last_hour")}
        figures = {
            "waiting": _total(list(of("queue.waiting"))),
            "longest_wait_min": _total(list(of("queue.longest_wait_min")), "max",
                                       lambda have: max(_num(p) for p in have)),
            "mean_wait_min": _weighted_wait(of("queue.avg_wait_min"), called),
            "staff_present": _total(list(of("staff.present"))),
            "staff_planned": _total(list(of("staff.planned"))),
            "free_3wd": _total(list(of("appointments.free_3wd"))),
            "arrivals_today": _total(list(of("flow.arrivals_today"))),
            # the hours completed so far of the site's own day (its zone)
            "arrivals_vs_typical_pct": _arrivals_vs_typical(list(of("flow.arrivals_by_hour")),
                                                            now.astimezone(config.site_tz(site.code)).hour),
        }
        out.append({"site": site.code, "name": site.name, "name_sv": site.name_sv or site.name,
                    "units": site_units, "figures": figures, "t3": _t3(of("appointments.t3_days")),
                    "level": _level(site_units, escalation)})
    out.sort(key=_need)
    return out


def _need(row: dict[str, Any]) -> tuple[Any, ...]:
    """Worst level first, then the longest wait, then the lowest share of staff present."""
    f = row["figures"]
    level = row["level"]["value"] or 0
    longest = f["longest_wait_min"]["value"] if f["longest_wait_min"]["value"] is not None else -1
    present, planned = f["staff_present"]["value"], f["staff_planned"]["value"]
    share = present / planned if present is not None and planned else 2.0
    return (-level, -longest, share, row["name"])
