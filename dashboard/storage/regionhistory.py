"""The regional history: a row per site over a period of ended days, made from the units'
daily rollups (dashboard.storage.rollups) by rules written down here and in docs/region.md.

A unit's day is measured over its own opening hours (the rollups' ``open_mean`` and
``open_max``; nothing on a day it is closed) and a count by the day's total. For a site:

- ``waiting_mean``: the people waiting, summed over the site's units and queues for each
  day, averaged over the days with a figure ("on an ordinary day, this many were waiting");
- ``longest_wait_max``: the longest wait seen in opening hours, the maximum over units,
  queues and days;
- ``staff_present_pct``: staff present of planned, summed over the unit-days that have both
  figures (so a day without a plan does not count as nobody planned);
- ``arrivals``: the arrivals counted, summed over units and days;
- ``level_max`` and ``escalation_days``: the worst escalation level any unit stood at in its
  opening hours, and on how many days some unit stood at ``ESCALATED`` or worse;
- ``callback_share``: the days on which no call-back was left pending at a unit's closing
  time, summed over units (dashboard.storage.rollups.compliance), as a share;
- ``days``: the days on which any of these had a figure — what the row stands on.

Today is left out: its day has not ended, and a day's figures are final only then. The rows
are ordered by need: the most days escalated first, then the longest wait, then the lowest
share of staff present, then the site's name.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from dashboard.config import Config
from dashboard.storage import rollups
from dashboard.storage.history import History
from dashboard.storage.tables import DailyRollup

ESCALATED = 3  # from this level ("3 Korkea") a day counts as escalated
MEANS = ("queue.waiting", "queue.longest_wait_min", "staff.present", "staff.planned", "escalation.level")
COUNT = "flow.arrivals_today"
RULES: dict[str, tuple[str, str]] = {  # figure -> (its metric, the rule); docs/region.md says the same
    "waiting_mean": ("queue.waiting", "sum over units and queues per day, mean over the days"),
    "longest_wait_max": ("queue.longest_wait_min", "max over units, queues and days"),
    "staff_present_pct": ("staff.present / staff.planned", "sums over the unit-days having both, x 100"),
    "arrivals": (COUNT, "sum of the days' totals over units and days"),
    "level_max": ("escalation.level", "max over units and days"),
    "escalation_days": ("escalation.level", f"days on which some unit stood at {ESCALATED} or worse"),
    "callback_share": ("callback.pending", "days met / open days, summed over units"),
}


def last_day(end: date, today: date) -> date:
    """The last day a period's regional figures cover: its end, or yesterday."""
    return min(end, today - timedelta(days=1))


def rows(history: History, config: Config, units: list[str], start: date, end: date,
         today: date) -> list[dict[str, Any]]:
    """A row per site having any of `units`, for the ended days from `start` to `end`:
    {"site", "name", "units", "days", and each figure of RULES (None: no data)}."""
    of = config.unit_sites()
    sites = [s for s in config.area if any(of.get(u) == s.code for u in units)]
    last = last_day(end, today)
    per: dict[str, dict[str, Any]] = {
        s.code: {"waiting": defaultdict(float), "longest": None, "present": 0.0, "planned": 0.0, "arrivals": None,
                 "levels": defaultdict(float), "days": set()} for s in sites}
    if last >= start and units:
        d = DailyRollup
        with history.engine.connect() as conn:
            # per unit and day, the keys summed (means) or maximised (maxima) in the database
            found = conn.execute(
                select(d.metric, d.unit, d.day, func.sum(d.open_mean), func.max(d.open_max), func.count(d.open_mean))
                .where(d.metric.in_(MEANS), d.unit.in_(units), d.day >= start, d.day <= last)
                .group_by(d.metric, d.unit, d.day)).all()
            counts = conn.execute(select(d.unit, d.day, d.last).where(
                d.metric == COUNT, d.unit.in_(units), d.day >= start, d.day <= last)).all()
        both: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
        for metric, unit, day, total, highest, n in found:
            if not n:
                continue  # closed that day, or nothing in force in its opening hours
            p = per[of[unit]]
            p["days"].add(day)
            if metric == "queue.waiting":
                p["waiting"][day] += total
            elif metric == "queue.longest_wait_min":
                p["longest"] = highest if p["longest"] is None else max(p["longest"], highest)
            elif metric == "escalation.level":
                p["levels"][day] = max(p["levels"][day], highest)
            else:
                both[(unit, day)][metric] = total or 0.0
        for (unit, _day), x in both.items():
            if "staff.present" in x and x.get("staff.planned"):
                per[of[unit]]["present"] += x["staff.present"]
                per[of[unit]]["planned"] += x["staff.planned"]
        for unit, day, value in counts:
            counted = json.loads(value) if value else None
            if isinstance(counted, int | float) and not isinstance(counted, bool):
                p = per[of[unit]]
                p["arrivals"] = (p["arrivals"] or 0) + counted
                p["days"].add(day)
        callbacks = rollups.compliance(history, config.zones(), units, start, last)
    else:
        callbacks = {}
    out = []
    for s in sites:
        p = per[s.code]
        met = [callbacks[u]["callback_same_day"] for u in units if of.get(u) == s.code and u in callbacks]
        open_days, met_days = sum(x["days"] for x in met), sum(x["met"] for x in met)
        levels = p["levels"].values()
        out.append({
            "site": s.code, "name": s.name, "name_sv": s.name_sv,
            "units": [u for u in units if of.get(u) == s.code],
            "days": len(p["days"]),
            "waiting_mean": sum(p["waiting"].values()) / len(p["waiting"]) if p["waiting"] else None,
            "longest_wait_max": p["longest"],
            "staff_present_pct": 100 * p["present"] / p["planned"] if p["planned"] else None,
            "arrivals": p["arrivals"],
            "level_max": max(levels) if levels else None,
            "escalation_days": sum(1 for v in levels if v >= ESCALATED) if levels else None,
            "callback_share": met_days / open_days if open_days else None,
            "callback_days": open_days,
            "callback_met": met_days,
        })
    return sorted(out, key=need)


def need(row: dict[str, Any]) -> tuple[Any, ...]:
    """Most in need first: days escalated, the longest wait, the lowest share of staff present."""
    pct = row["staff_present_pct"]
    return (-(row["escalation_days"] or 0), -(row["longest_wait_max"] or 0),
            pct if pct is not None else float("inf"), row["name"])
