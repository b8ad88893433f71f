"""The metric catalogue of PRODUCT.md: ids, what they are keyed by, and their labels."""

from dataclasses import dataclass

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
        Metric("appointments.free_today", "profession", kind="today"),
        Metric("appointments.free_3wd", "profession"),
        Metric("appointments.t3_days", "profession"),
        Metric("capacity.in_use", "resource"),
        Metric("capacity.total", "resource"),
        Metric("flow.arrivals_today", None, kind="count"),
        Metric("flow.arrivals_by_hour", None, series=True, kind="today"),
        Metric("flow.completed_today", None, kind="count"),
        Metric("flow.no_shows_today", None, kind="count"),
        # access to care, from the cases (dashboard/accessfigures.py): this ISO week's share (%)
        # of the non-urgent measured intervals that ended within their limit, and the open ones
        # past their limit now; staff displays' `access` page only
        Metric("access.within_week_pct", None),
        Metric("access.open_past_limit", None),
    ]
}


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
    "appointments.free_today": N_("Vapaat ajat tänään"), "appointments.free_3wd": N_("Vapaat ajat 3 arkipv"),
    "appointments.t3_days": N_("T3, pv"), "capacity.in_use": N_("Tilat käytössä"), "capacity.total": N_("Tiloja yhteensä"),
    "access.within_week_pct": N_("Hoitoon pääsy: määräajassa tällä viikolla, %"),
    "access.open_past_limit": N_("Hoitoon pääsy: avoinna yli määräajan"),
    "flow.arrivals_today": N_("Saapuneet"), "flow.completed_today": N_("Käynnit valmiit"),
    "flow.no_shows_today": N_("Peruuttamatta jääneet"),
}
