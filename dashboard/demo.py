"""`ohjaustaulu demo`: the whole system on one machine, on a simulated day."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from collectors.demo import simulator
from dashboard.clock import Clock, demo_clock, is_working_day
from dashboard.config import Config
from dashboard.history import History
from dashboard.livestore import LiveStore
from dashboard.readings import Reading

log = logging.getLogger(__name__)
SEED_SOURCE = "demo-historia"


def prepare(config: Config, store: LiveStore, history: History, start: time, speed: float) -> Clock:
    clock = demo_clock(config.tz, tuple(config.site.opening_hours), start, speed)  # type: ignore[arg-type]
    store.set_clock(clock)
    now = clock.now()
    seed_history(config, history, now.date())
    seed_notices(store, now)
    return clock


def seed_history(config: Config, history: History, today: date) -> int:
    """Eight weeks of past days' arrivals, so the typical day has something to stand on."""
    tz = config.tz
    units = [u.code for u in config.units if u.code in simulator.UNITS]
    changes = []
    for back in range(1, 8 * 7 + 1):
        day = today - timedelta(days=back)
        if not is_working_day(day):
            continue
        observed = datetime.combine(day, time(16, 30), tzinfo=tz)
        for unit in units:
            hours = simulator.arrival_hours(unit, day, tz)
            changes.append(
                (f"seed:{unit}:{day.isoformat()}",
                 Reading("flow.arrivals_by_hour", unit, "", hours, observed, SEED_SOURCE))
            )
    return history.record(changes)


def seed_notices(store: LiveStore, now: datetime) -> None:
    day = now.date()
    tz = now.tzinfo
    at = lambda h, m=0: datetime.combine(day, time(h, m), tzinfo=tz).isoformat()  # noqa: E731
    for notice in [
        {"id": "demo-influenssa", "unit": "kaikki", "importance": "info", "public": True,
         "text": "Influenssarokotukset ilman ajanvarausta klo 12–15, aula 2.",
         "starts": at(7), "ends": at(16)},
        {"id": "demo-laakari", "unit": "vastaanotto", "importance": "tärkeä", "public": False,
         "text": "Yksi lääkäri sairastunut klo 10.20 alkaen: kiireettömät ohjataan hoitajalle.",
         "starts": at(10, 20), "ends": at(16)},
        {"id": "demo-labra", "unit": "laboratorio", "importance": "info", "public": True,
         "text": "Laboratorion näytteenotto suljettu klo 15.30 alkaen.",
         "starts": at(12), "ends": at(16)},
    ]:
        store.put_notice({**notice, "entered_by": "demo"})
