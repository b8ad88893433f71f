"""Demo collectors: each polls one simulated system of the sote-centre through the same
fetch / normalise contract as the real feeds. The simulated queue system sends no estimate of
its own: the collector computes ours (dashboard/domain/waits.py), as for a real feed without one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from collectors.base import InvalidData
from collectors.demo import simulator
from dashboard.config import Config, Source
from dashboard.domain.readings import Reading, Value
from dashboard.domain.waits import QueueMemory

ASKS = {
    "queue": simulator.queues,
    "callback": simulator.callbacks,
    "staffing": simulator.staffing,
    "appointments": simulator.appointments,
    "flow": simulator.flow,
    "metrics": simulator.own_metrics,
}


class DemoCollector:
    def __init__(self, source: Source, tz: ZoneInfo):
        if source.feed is None:
            raise ValueError(f"demo source {source.name} has no feed")
        self.source = source
        self.tz = tz
        self.ask = ASKS[source.feed]
        self.memory = QueueMemory()

    def fetch(self, now: datetime) -> dict[str, Any]:
        return {unit: self.ask(unit, now, self.tz) for unit in self.source.units}

    def normalise(self, raw: dict[str, Any], now: datetime) -> list[Reading]:
        rows: list[Row] = []
        for unit, answer in raw.items():
            try:
                rows += list(_rows(self.source.feed or "", unit, answer))
            except (KeyError, TypeError, ValueError) as err:
                raise InvalidData(f"{unit}: {err}") from err
        src = self.source.name
        readings = [Reading(m, u, k, v, now, src) for m, u, k, v in rows]
        if self.source.feed == "queue":
            readings += list(_estimates(self.memory, raw, now, src))
        return readings


Row = tuple[str, str, str, Value]


def _rows(feed: str, unit: str, a: Any) -> Iterator[Row]:
    if feed == "queue":
        for q in a:
            yield "queue.waiting", unit, q["queue"], q["waiting"]
            yield "queue.longest_wait_min", unit, q["queue"], round(q["longest_wait_min"])
            if q["avg_wait_min"] is not None:
                yield "queue.avg_wait_min", unit, q["queue"], round(q["avg_wait_min"], 1)
            yield "queue.called_last_hour", unit, q["queue"], q["called_last_hour"]
            yield "queue.points_open", unit, q["queue"], q["points_open"]
    elif feed == "callback":
        yield "callback.pending", unit, "", a["pending"]
        yield "callback.oldest_min", unit, "", round(a["oldest_min"])
    elif feed == "staffing":
        for s in a:
            yield "staff.planned", unit, s["profession"], s["planned"]
            yield "staff.present", unit, s["profession"], s["present"]
            yield "staff.substitutes", unit, s["profession"], s["substitutes"]
    elif feed == "appointments":
        for s in a:
            yield "appointments.free_today", unit, s["profession"], s["free_today"]
            yield "appointments.free_3wd", unit, s["profession"], s["free_3wd"]
            yield "appointments.t3_days", unit, s["profession"], s["t3_days"]
    elif feed == "flow":
        yield "flow.arrivals_today", unit, "", a["arrivals_today"]
        yield "flow.arrivals_by_hour", unit, "", a["arrivals_by_hour"]
        yield "flow.completed_today", unit, "", a["completed_today"]
        yield "flow.no_shows_today", unit, "", a["no_shows_today"]
        for resource, (in_use, total) in a["capacity"].items():
            yield "capacity.in_use", unit, resource, in_use
            yield "capacity.total", unit, resource, total
    elif feed == "metrics":  # the centre's own metrics
        for metric, key, value in a:
            yield metric, unit, key, value


def _estimates(memory: QueueMemory, raw: dict[str, Any], now: datetime, source: str) -> Iterator[Reading]:
    for unit, answer in raw.items():
        for q in answer:
            estimate = memory.estimate((unit, q["queue"]), now, q["waiting"], q["called_last_hour"],
                                       q["points_open"], q["longest_wait_min"])
            if estimate is not None:
                yield Reading("queue.estimated_wait_min", unit, q["queue"], estimate.minutes, now, source,
                              range=estimate.range)


class DemoAccessCollector:
    """The demo's access-to-care report: each unit's cases of the service `service_map` names
    for it, read as the `access` feed reads its rows."""

    def __init__(self, source: Source, config: Config):
        from collectors.access import CaseWriter

        self.source = source
        self.tz = config.source_tz(source)
        self.cases = CaseWriter(source, config)
        self._report: tuple[object, list[dict[str, object]]] | None = None
        self._taken: object = None

    def fetch(self, now: datetime) -> list[dict[str, object]]:
        """The report as of `now`'s day: the same all day, so made once a day (a real system's
        report changes as cases move; the demo's cases move a day at a time)."""
        from collectors.demo.cases import case_rows

        today = now.astimezone(self.tz).date()
        if self._report is None or self._report[0] != today:
            self._report = (today, [row for unit in self.source.units if unit in self.source.service_map
                                    for row in case_rows(unit, self.source.service_map[unit], now, self.tz)])
        return self._report[1]

    def normalise(self, raw: list[dict[str, object]], now: datetime) -> list[Reading]:
        if raw is not self._taken:  # a report read before changes nothing: only the figures are read again
            self.cases.take(raw, now.astimezone(self.tz).date())
            self._taken = raw
        return self.cases.readings(now, self.tz)

    def status_extra(self) -> dict[str, Any]:
        c = self.cases.status()
        return {**c, "items": c["cases_read"] - c["cases_bad"], "items_read": c["cases_read"], "items_unmapped": c["cases_bad"],
                "unmapped_detail": c["cases_bad_detail"]}
