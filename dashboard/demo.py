"""`ohjaustaulu demo`: the whole system on one machine, on a simulated day."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import text

from collectors.demo import simulator
from dashboard.config import Config
from dashboard.domain import metrics as metric_defs
from dashboard.domain.clock import Clock, demo_clock, is_working_day
from dashboard.domain.readings import Reading
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore

log = logging.getLogger(__name__)
SEED_SOURCE = "demo-historia"
# the demo's own accounts (a real installation creates its own with `ohjaustaulu user add`)
PEOPLE = [("vuorovastaava", "shift_lead"), ("esihenkilo", "manager"), ("yllapito", "admin")]
PASSWORD = "ohjaustaulu-demo"


def screens_and_people(config: Config, history: History) -> dict[str, str]:
    """A fresh token for each display (to print its address), and the demo's accounts if
    they are not there yet."""
    from dashboard.web.accounts import add_user, get_user, new_display_token

    for name, role in PEOPLE:
        if get_user(history, name) is None:
            add_user(history, name, role, [], PASSWORD)
    return {d.id: new_display_token(history, d.id) for d in config.displays}


def prepare(config: Config, store: LiveStore, history: History, start: time, speed: float,
            pinned: bool = False) -> Clock:
    clock = demo_clock(config.tz, tuple(config.site.opening_hours), start, speed, pinned)  # type: ignore[arg-type]
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


# changes per transaction: on a loaded 2-core machine 5,000 (with their rollups, as they were
# then) held SQLite for up to 9 s, near its writers' 10-s wait, while the screens and people
# were already on
SEED_BATCH = 1000


def seed_days(config: Config, history: History, today: date, weeks: int = 8, every_minutes: int = 30) -> int:
    """The past working days as the demo's feeds would have reported them (every half hour,
    07.30–16.30, changed values only), so that the manager's history has weeks to show.
    Idempotent: each change has its own event id. Arrivals per hour come from seed_history."""
    from collectors.demo.feeds import DemoCollector

    tz = config.tz
    yesterday = next(today - timedelta(days=i) for i in range(1, 10) if is_working_day(today - timedelta(days=i)))
    with history.engine.connect() as conn:  # seeded by an earlier start already
        if conn.execute(text("SELECT 1 FROM reading_changes WHERE event_id LIKE 'seed:demo-%' AND observed_at >= :t"),
                        {"t": datetime.combine(yesterday, time(0), tzinfo=tz)}).first():
            return 0
    collectors = [DemoCollector(s, tz) for s in config.sources if s.kind == "demo" and s.feed != "access"]
    last: dict[object, object] = {}
    batch: list[tuple[str | None, Reading]] = []
    written = 0
    for back in range(weeks * 7, 0, -1):
        day = today - timedelta(days=back)
        if not is_working_day(day):
            continue
        for minute in range(7 * 60 + 30, 16 * 60 + 31, every_minutes):
            now = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            for c in collectors:
                for rd in c.normalise(c.fetch(now), now):
                    ident = (c.source.name, rd.metric, rd.unit, rd.key)
                    # a figure of today ends with its day: each day's is recorded anew
                    seen = (ident, day if getattr(metric_defs.get(rd.metric), "kind", "gauge") != "gauge" else None)
                    if rd.metric == "flow.arrivals_by_hour" or last.get(seen) == rd.value:
                        continue
                    last[seen] = rd.value
                    # event ids are at most 64 characters: the source, then a digest of the rest
                    digest = hashlib.sha256(f"{':'.join(ident[1:])}:{now.isoformat()}".encode()).hexdigest()[:32]
                    batch.append((f"seed:{c.source.name}:{digest}", rd))
        if len(batch) >= SEED_BATCH:
            written += history.record(batch, rollups=False)
            batch = []
    written += history.record(batch, rollups=False)
    if written:
        # the rollups once, over the whole history: kept up batch by batch, each batch of
        # past days recomputed its series from that day up to today (the live feeds' own
        # changes are already in), so 5 weeks took 27 s and 8 weeks far more than 8/5 of it
        from dashboard.storage import rollups

        rollups.rebuild(history, config.zones(), config.hours_specs())
    return written


def seed_notices(store: LiveStore, now: datetime) -> None:
    day = now.date()
    tz = now.tzinfo
    at = lambda h, m=0: datetime.combine(day, time(h, m), tzinfo=tz).isoformat()  # noqa: E731
    for notice in [
        {"id": "demo-influenssa", "unit": "kaikki", "importance": "info", "public": True,
         "text": "Influenssarokotukset ilman ajanvarausta klo 12–15, aula 2.",
         "text_sv": "Influensavaccinationer utan tidsbokning kl. 12–15, aula 2.",
         "starts": at(7), "ends": at(16)},
        {"id": "demo-laakari", "unit": "vastaanotto", "importance": "tärkeä", "public": False,
         "text": "Yksi lääkäri sairastunut klo 10.20 alkaen: kiireettömät ohjataan hoitajalle.",
         "starts": at(10, 20), "ends": at(16)},
        {"id": "demo-labra", "unit": "laboratorio", "importance": "info", "public": True,
         "text": "Laboratorion näytteenotto suljettu klo 15.30 alkaen.",
         "starts": at(12), "ends": at(16)},
    ]:
        store.put_notice({**notice, "entered_by": "demo"})
