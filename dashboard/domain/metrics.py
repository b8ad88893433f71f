"""The metric catalogue of PRODUCT.md: ids, what they are keyed by, and their labels — and
beside it the centre's own metrics of `[[metrics]]` (dashboard/config.py MetricSpec).

Both are `Metric`s and both are found by `get(id)`: the built-in ones are the defaults, the
configured ones are defined when a configuration is read (`define`). A metric id means the
same thing everywhere in one process (its kind decides how history rolls it up, and the
history writer, the live store and the rollups read it by id alone); check-config refuses a
configured id that is a built-in one.
"""

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dashboard.translate import N_


@dataclass(frozen=True)
class Metric:
    id: str
    keyed_by: str | None  # "queue", "profession", "resource" or None
    series: bool = False
    # "gauge": a level that stands until it changes (its daily figure: the time-weighted
    # mean over opening hours, beside the maximum and the value at closing);
    # "today": a figure about today only (a plan, today's free slots), which ends with its
    # day; "count": a running total of today, which ends with its day and whose daily
    # figure is the day's total (its value at the day's end)
    kind: str = "gauge"
    # the centre's own metrics (configured; empty for the built-in ones, whose words are in
    # dashboard/i18n.py and the translation catalogues)
    names: dict[str, str] = field(default_factory=dict)  # language → name
    measure: str = ""  # "count", "level", "duration" (min), "ratio" or "percent" (%)
    decimals: int = 0
    good: str = "none"  # "up", "down", "none": which way a change is for the better
    derived: Any = None  # dashboard.domain.expressions.Expression
    limits: tuple[tuple[date, float], ...] = ()  # (from, value), by date
    keys: tuple[str, ...] = ()  # keys known ahead (the tablet offers them)
    manual_hours: float | None = None  # how long a person's value stands (None: to the day's end)

    @property
    def builtin(self) -> bool:
        return not self.names

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("fi") or self.id

    def limit_on(self, day: date) -> float | None:
        """The limit in force on `day`: the latest whose `from` is on or before it."""
        now = None
        for since, value in self.limits:
            if since <= day:
                now = value
        return now

    def meets(self, value: float, limit: float) -> bool:
        return value <= limit if self.good == "down" else value >= limit


CATALOGUE: dict[str, Metric] = {
    m.id: m
    for m in [
        Metric("queue.waiting", "queue"),
        Metric("queue.longest_wait_min", "queue"),
        Metric("queue.avg_wait_min", "queue"),
        Metric("queue.called_last_hour", "queue"),
        Metric("queue.points_open", "queue"),
        Metric("queue.estimated_wait_min", "queue"),
        Metric("callback.pending", None),
        Metric("callback.oldest_min", None),
        Metric("staff.planned", "profession", kind="today"),
        Metric("staff.present", "profession"),
        # of those present, substitutes (the workbook's "Sijaiset"): beside the present ones
        Metric("staff.substitutes", "profession"),
        Metric("appointments.free_today", "profession", kind="today"),
        Metric("appointments.free_3wd", "profession"),
        Metric("appointments.t3_days", "profession"),
        Metric("capacity.in_use", "resource"),
        Metric("capacity.total", "resource"),
        Metric("flow.arrivals_today", None, kind="count"),
        Metric("flow.arrivals_by_hour", None, series=True, kind="today"),
        Metric("flow.completed_today", None, kind="count"),
        Metric("flow.no_shows_today", None, kind="count"),
        # access to care, from the cases (dashboard/domain/accessfigures.py): this ISO week's share (%)
        # of the non-urgent measured intervals that ended within their limit, and the open ones
        # past their limit now; staff displays' `access` page only
        Metric("access.within_week_pct", None),
        Metric("access.open_past_limit", None),
    ]
}


_CONFIGURED: dict[str, Metric] = {}
_LOCK = threading.Lock()


def define(metrics: list[Metric]) -> None:
    """The centre's own metrics, as a configuration defines them (added to, or replacing, the
    ones an earlier configuration in this process defined under the same ids)."""
    with _LOCK:
        for m in metrics:
            _CONFIGURED[m.id] = m


def get(metric: str) -> Metric | None:
    """A metric by id: a built-in one, or one a configuration has defined."""
    return CATALOGUE.get(metric) or _CONFIGURED.get(metric)


def kind_of(metric: str) -> str:
    m = get(metric)
    return m.kind if m else "gauge"


def normalise_key(key: str | None) -> str:
    """Keys (queue, profession, resource names) are compared trimmed and lower-case."""
    return (key or "").strip().lower()


# Names for people on the staff pages (tablet, history), in Finnish and marked for the
# catalogues (dashboard/translate.py: `_(LABEL_FI[m])` in the person's language); the wall
# displays have their own words per language in dashboard/i18n.py.
LABEL_FI: dict[str, str] = {
    "queue.waiting": N_("Jonossa"), "queue.longest_wait_min": N_("Pisin odotus, min"), "queue.avg_wait_min": N_("Keskim. odotus, min"),
    "queue.called_last_hour": N_("Kutsuttu viime tunnin aikana"), "queue.points_open": N_("Palvelupisteitä auki"),
    "queue.estimated_wait_min": N_("Arvioitu odotus, min"),
    "callback.pending": N_("Takaisinsoittoja odottaa"), "callback.oldest_min": N_("Vanhin takaisinsoitto, min"),
    "staff.present": N_("Henkilöstö paikalla"), "staff.planned": N_("Henkilöstö suunniteltu"),
    "staff.substitutes": N_("Sijaisia paikalla"),
    "appointments.free_today": N_("Vapaat ajat tänään"), "appointments.free_3wd": N_("Vapaat ajat 3 arkipv"),
    "appointments.t3_days": N_("T3, pv"), "capacity.in_use": N_("Tilat käytössä"), "capacity.total": N_("Tiloja yhteensä"),
    "access.within_week_pct": N_("Hoitoon pääsy: määräajassa tällä viikolla, %"),
    "access.open_past_limit": N_("Hoitoon pääsy: avoinna yli määräajan"),
    "flow.arrivals_today": N_("Saapuneet"), "flow.completed_today": N_("Käynnit valmiit"),
    "flow.no_shows_today": N_("Peruuttamatta jääneet"),
}
