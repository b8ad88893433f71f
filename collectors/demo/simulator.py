"""A simulated sote-centre day: the systems the demo collectors poll.

Everything is a pure function of the unit, the date and the moment asked about, drawn from
a random generator seeded by unit and date: the same day looks the same in every process
(the web server, `snapshot`, the collectors), and it moves as the clock moves.

The day: doors open 8–16, a morning peak, a lunch dip, no-shows among booked visits, and on
the general practice a doctor who falls ill at 10.20 and leaves, so the walk-in doctor
queue grows for the rest of the morning. Fewer than half of each queue's service points go
to lunch 11.30–12.30 (one of three or four, two of five): each finishes whom they serve and
calls nobody until it ends.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dashboard.domain.clock import is_working_day, next_working_days

OPEN, CLOSE = 8, 16
# Relative arrival rate per clock hour, 8–15: a morning peak and a lunch dip.
PROFILE = {8: 1.7, 9: 1.5, 10: 1.2, 11: 0.75, 12: 0.6, 13: 1.0, 14: 0.8, 15: 0.5}
LAB_PROFILE = {8: 2.3, 9: 1.8, 10: 1.3, 11: 0.8, 12: 0.45, 13: 0.65, 14: 0.45, 15: 0.25}
WEEKDAY_FACTOR = [1.15, 1.0, 0.95, 1.0, 0.9, 0.0, 0.0]
SICK_AT = time(10, 20)
LUNCH = (time(11, 30), time(12, 30))  # half the points of each queue are closed


@dataclass(frozen=True)
class QueueSpec:
    name: str
    per_day: int  # arrivals on an ordinary Tuesday
    service_min: float  # mean minutes with a professional
    servers: int  # professionals serving this queue
    profession: str


@dataclass(frozen=True)
class UnitSpec:
    queues: tuple[QueueSpec, ...]
    staff: dict[str, int]  # profession -> planned headcount
    resources: dict[str, int]  # resource -> total
    callbacks_per_day: int
    callback_handlers: int
    slots_per_professional: int = 14
    lab_profile: bool = False
    sick_doctor: bool = False


UNITS: dict[str, UnitSpec] = {
    "vastaanotto": UnitSpec(
        queues=(
            QueueSpec("Hoidon tarpeen arvio", 115, 11, 5, "sairaanhoitaja"),
            QueueSpec("Lääkärin vastaanotto", 70, 19, 4, "lääkäri"),
        ),
        staff={"lääkäri": 8, "sairaanhoitaja": 11, "terveydenhoitaja": 4},
        resources={"Vastaanottohuoneet": 18, "Toimenpidehuoneet": 3},
        callbacks_per_day=140,
        callback_handlers=3,
        sick_doctor=True,
    ),
    "suun_th": UnitSpec(
        queues=(QueueSpec("Suun päivystys", 34, 25, 3, "hammaslääkäri"),),
        staff={"hammaslääkäri": 6, "suuhygienisti": 4, "hammashoitaja": 7},
        resources={"Hoitohuoneet": 10},
        callbacks_per_day=70,
        callback_handlers=2,
    ),
    "laboratorio": UnitSpec(
        queues=(QueueSpec("Näytteenotto", 210, 6, 4, "bioanalyytikko"),),
        staff={"bioanalyytikko": 6, "laboratoriohoitaja": 2},
        resources={"Näytteenottopisteet": 6},
        callbacks_per_day=0,
        callback_handlers=0,
        lab_profile=True,
    ),
    "mtpa": UnitSpec(
        queues=(QueueSpec("Matalan kynnyksen vastaanotto", 22, 35, 2, "psykiatrinen sairaanhoitaja"),),
        staff={"psykiatrinen sairaanhoitaja": 7, "psykologi": 2, "lääkäri": 1},
        resources={"Vastaanottohuoneet": 8},
        callbacks_per_day=45,
        callback_handlers=1,
    ),
    "sosiaali": UnitSpec(
        queues=(QueueSpec("Sosiaalineuvonta", 18, 25, 2, "sosiaaliohjaaja"),),
        staff={"sosiaalityöntekijä": 5, "sosiaaliohjaaja": 6},
        resources={"Vastaanottohuoneet": 6},
        callbacks_per_day=40,
        callback_handlers=1,
    ),
    # the area's other centres (config/ohjaustaulu.toml): a small rural station, and a
    # bilingual centre's reception and dental care
    "harju_vo": UnitSpec(
        queues=(
            QueueSpec("Hoidon tarpeen arvio", 32, 11, 1, "sairaanhoitaja"),
            QueueSpec("Lääkärin vastaanotto", 18, 20, 1, "lääkäri"),
        ),
        staff={"lääkäri": 2, "sairaanhoitaja": 3},
        resources={"Vastaanottohuoneet": 5},
        callbacks_per_day=35,
        callback_handlers=1,
    ),
    "strand_vo": UnitSpec(
        queues=(
            QueueSpec("Hoidon tarpeen arvio", 60, 11, 3, "sairaanhoitaja"),
            QueueSpec("Lääkärin vastaanotto", 36, 19, 2, "lääkäri"),
        ),
        staff={"lääkäri": 4, "sairaanhoitaja": 6, "terveydenhoitaja": 2},
        resources={"Vastaanottohuoneet": 9},
        callbacks_per_day=70,
        callback_handlers=2,
    ),
    "strand_suu": UnitSpec(
        queues=(QueueSpec("Suun päivystys", 12, 25, 1, "hammaslääkäri"),),
        staff={"hammaslääkäri": 2, "suuhygienisti": 1, "hammashoitaja": 3},
        resources={"Hoitohuoneet": 4},
        callbacks_per_day=30,
        callback_handlers=1,
    ),
}



def spec_of(unit: str) -> UnitSpec:
    """A unit's simulated day: its own, or for a unit the demo does not know (a generated
    area of many sites, bench/region.py) one of the known ones, the same for the same code."""
    if unit in UNITS:
        return UNITS[unit]
    known = sorted(UNITS)
    return UNITS[known[int(hashlib.sha256(unit.encode()).hexdigest(), 16) % len(known)]]


@dataclass
class Visit:
    queue: str
    arrived: datetime
    called: datetime
    done: datetime


@dataclass
class Day:
    unit: str
    day: date
    visits: list[Visit] = field(default_factory=list)
    callbacks: list[tuple[datetime, datetime]] = field(default_factory=list)  # asked, returned
    absent: dict[str, int] = field(default_factory=dict)  # profession -> absent all day
    sick_from: datetime | None = None
    # profession -> today's slots as (start, booked, no-show)
    slots: dict[str, list[tuple[datetime, bool, bool]]] = field(default_factory=dict)
    free_ahead: dict[str, list[int]] = field(default_factory=dict)  # free per working day ahead


def lunch_points(q: QueueSpec) -> int:
    """Points at lunch: fewer than half, so that a queue of two keeps both."""
    return (q.servers - 1) // 2


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for the small means of one clock hour.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@lru_cache(maxsize=64)
def simulate(unit: str, day: date, tz: ZoneInfo) -> Day:
    spec = spec_of(unit)
    rng = _rng("day", unit, day.isoformat())
    sim = Day(unit, day)
    factor = WEEKDAY_FACTOR[day.weekday()] if is_working_day(day) else 0.0
    at = lambda h, m=0.0: datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=h, minutes=m)  # noqa: E731

    sim.absent = {p: (1 if rng.random() < 0.15 and n > 2 else 0) for p, n in spec.staff.items()}
    if spec.sick_doctor and factor:
        sim.sick_from = at(SICK_AT.hour, SICK_AT.minute)

    profile = LAB_PROFILE if spec.lab_profile else PROFILE
    total = sum(profile.values())
    for q in spec.queues:
        arrivals: list[datetime] = []
        for hour, weight in profile.items():
            n = poisson(rng, q.per_day * factor * weight / total)
            arrivals += [at(hour, rng.uniform(0, 60)) for _ in range(n)]
        arrivals.sort()
        # FIFO with `servers` professionals; the sick doctor's chair empties at SICK_AT, and
        # the last points call nobody at lunch.
        free = [at(OPEN)] * q.servers
        leaves = {0: sim.sick_from} if (q.profession == "lääkäri" and sim.sick_from) else {}
        lunch = (at(LUNCH[0].hour, LUNCH[0].minute), at(LUNCH[1].hour, LUNCH[1].minute))
        for arrived in arrivals:
            best_i, best_t = -1, None
            for i, f in enumerate(free):
                start = max(arrived, f)
                if i >= q.servers - lunch_points(q) and lunch[0] <= start < lunch[1]:
                    start = lunch[1]
                if i in leaves and leaves[i] is not None and start >= leaves[i]:
                    continue
                if best_t is None or start < best_t:
                    best_i, best_t = i, start
            assert best_t is not None
            duration = timedelta(minutes=rng.lognormvariate(math.log(q.service_min), 0.45))
            free[best_i] = best_t + duration
            sim.visits.append(Visit(q.name, arrived, best_t, best_t + duration))

    asked = []
    for hour, weight in PROFILE.items():
        if hour >= 15:
            continue  # the call-back line takes requests 8–15
        n = poisson(rng, spec.callbacks_per_day * factor * weight / (total - PROFILE[15]))
        asked += [at(hour, rng.uniform(0, 60)) for _ in range(n)]
    asked.sort()
    handlers = [at(OPEN, 30)] * spec.callback_handlers
    for t in asked:
        i = min(range(len(handlers)), key=handlers.__getitem__)
        returned = max(t, handlers[i]) + timedelta(minutes=rng.uniform(3, 9))
        handlers[i] = returned
        sim.callbacks.append((t, returned))

    for profession, planned in spec.staff.items():
        working = max(planned - sim.absent.get(profession, 0), 0)
        slots = [at(OPEN, 30 * i) for i in range(16) if i not in (7, 8)]  # lunch 11.30–12.30
        day_slots = [s for s in slots for _ in range(working)] if factor else []
        sim.slots[profession] = [
            (s, booked, booked and rng.random() < 0.06)
            for s in day_slots
            for booked in [rng.random() < 0.88]
        ]
        sim.free_ahead[profession] = [
            max(0, int(rng.gauss(working * (0.4 + 0.9 * d), working * 0.5))) for d in range(10)
        ]
    return sim


# -- what each simulated system answers at a moment -------------------------------------------


def queues(unit: str, now: datetime, tz: ZoneInfo) -> list[dict[str, object]]:
    sim = simulate(unit, now.astimezone(tz).date(), tz)
    out = []
    for q in spec_of(unit).queues:
        visits = [v for v in sim.visits if v.queue == q.name]
        waiting = [v for v in visits if v.arrived <= now < v.called]
        recent = [v for v in visits if now - timedelta(minutes=60) <= v.called <= now]
        out.append(
            {
                "queue": q.name,
                "waiting": len(waiting),
                "called_last_hour": len(recent),
                "points_open": _points_open(q, sim, visits, now, tz),
                "longest_wait_min": max(((now - v.arrived).total_seconds() / 60 for v in waiting), default=0.0),
                "avg_wait_min": (
                    sum((v.called - v.arrived).total_seconds() / 60 for v in recent) / len(recent)
                    if recent
                    else None
                ),
            }
        )
    return out


def _points_open(q: QueueSpec, sim: Day, visits: list[Visit], now: datetime, tz: ZoneInfo) -> int:
    """Points calling from the queue: all in opening hours but those at lunch and the sick
    doctor's; after closing, those still serving the day's last patients."""
    local = now.astimezone(tz).time()
    if not visits or local < time(OPEN) or (
        local >= time(CLOSE) and not any(v.arrived <= now < v.done for v in visits)
    ):
        return 0
    points = q.servers
    if LUNCH[0] <= local < LUNCH[1]:
        points -= lunch_points(q)
    if q.profession == "lääkäri" and sim.sick_from and now >= sim.sick_from:
        points -= 1
    return max(points, 0)


def callbacks(unit: str, now: datetime, tz: ZoneInfo) -> dict[str, object]:
    sim = simulate(unit, now.astimezone(tz).date(), tz)
    pending = [asked for asked, returned in sim.callbacks if asked <= now < returned]
    oldest = min(pending, default=None)
    return {
        "pending": len(pending),
        "oldest_min": (now - oldest).total_seconds() / 60 if oldest else 0.0,
    }


def staffing(unit: str, now: datetime, tz: ZoneInfo) -> list[dict[str, object]]:
    sim = simulate(unit, now.astimezone(tz).date(), tz)
    local = now.astimezone(tz)
    out = []
    for profession, planned in spec_of(unit).staff.items():
        if not is_working_day(local.date()):
            planned = 0
        present = planned - sim.absent.get(profession, 0)
        if profession == "lääkäri" and sim.sick_from and now >= sim.sick_from:
            present -= 1
        if not (time(7, 45) <= local.time() < time(CLOSE, 15)):
            present = 0
        # of those present, substitutes: now and then one, where the group is big enough
        subs = 1 if present >= 3 and _rng("subs", unit, local.date(), profession).random() < 0.3 else 0
        out.append({"profession": profession, "planned": planned, "present": max(present, 0), "substitutes": subs})
    return out


def appointments(unit: str, now: datetime, tz: ZoneInfo) -> list[dict[str, object]]:
    local = now.astimezone(tz)
    sim = simulate(unit, local.date(), tz)
    out = []
    for profession in spec_of(unit).staff:
        rng = _rng("sameday", unit, local.date(), profession)
        # Same-day bookings by phone fill free slots as the day goes on: each free slot is
        # taken at some moment between 5 hours and 20 minutes before it starts.
        free_today = sum(
            1
            for s, booked, _ in sim.slots[profession]
            if not booked and s - timedelta(minutes=rng.uniform(20, 300)) > now
        )
        ahead = sim.free_ahead[profession]
        days = next_working_days(local.date(), len(ahead))
        free_3wd = sum(ahead[:3])
        t3 = None
        seen = free_today
        if seen >= 3:
            t3 = 0
        else:
            for d, n in zip(days, ahead, strict=True):
                seen += n
                if seen >= 3:
                    t3 = (d - local.date()).days
                    break
        out.append(
            {
                "profession": profession,
                "free_today": free_today,
                "free_3wd": free_3wd,
                "t3_days": t3 if t3 is not None else (days[-1] - local.date()).days,
            }
        )
    return out


def flow(unit: str, now: datetime, tz: ZoneInfo) -> dict[str, object]:
    local = now.astimezone(tz)
    sim = simulate(unit, local.date(), tz)
    arrived = [v for v in sim.visits if v.arrived <= now]
    by_hour: dict[str, int] = {}
    for v in arrived:
        hour = f"{v.arrived.astimezone(tz).hour:02d}"
        by_hour[hour] = by_hour.get(hour, 0) + 1
    no_shows = sum(1 for p in sim.slots.values() for s, _, no_show in p if no_show and s <= now)
    in_service = sum(1 for v in sim.visits if v.called <= now < v.done)
    booked_now = sum(
        1 for p in sim.slots.values() for s, booked, no_show in p
        if booked and not no_show and s <= now < s + timedelta(minutes=30)
    )
    resources = spec_of(unit).resources
    first, *rest = resources
    # Not every booked visit needs a room of its own (phone and shared rooms): about half do.
    capacity = {first: min(resources[first], in_service + booked_now // 2)}
    for name in rest:
        capacity[name] = min(resources[name], _rng("room", unit, name, now.replace(second=0, microsecond=0)).randint(0, resources[name]))
    return {
        "arrivals_today": len(arrived),
        "arrivals_by_hour": dict(sorted(by_hour.items())),
        "completed_today": sum(1 for v in sim.visits if v.done <= now),
        "no_shows_today": no_shows,
        "capacity": {name: (capacity[name], resources[name]) for name in resources},
    }


def arrival_hours(unit: str, day: date, tz: ZoneInfo) -> dict[str, int]:
    """The whole day's arrivals per clock hour: the history the demo seeds for the typical day."""
    end = datetime.combine(day, time(23, 59), tzinfo=tz)
    return flow(unit, end, tz)["arrivals_by_hour"]  # type: ignore[return-value]



# -- the centre's own metrics: the example configuration's ward and care home ----------------

WARD_BEDS = {"osasto": 24}
CARE_HOME_CLIENTS = {"hoivakoti": 30}


def own_metrics(unit: str, now: datetime, tz: ZoneInfo) -> list[tuple[str, str, object]]:
    """(metric, key, value) of the example configuration's own metrics (config/ohjaustaulu.toml
    `[[metrics]]`): a ward's beds in use and in total and the beds freed today, and a care
    home's clients and its care staff in full-time equivalents (the staffing ratio is derived
    from these by the configuration, not here)."""
    local = now.astimezone(tz)
    day = local.date()
    minutes = local.hour * 60 + local.minute
    out: list[tuple[str, str, object]] = []
    if unit in WARD_BEDS:
        total = WARD_BEDS[unit]
        rng = _rng("ward", unit, day)
        # discharges go mostly between 10 and 14, admissions come through the day
        freed = sum(1 for _ in range(rng.randint(3, 7)) if minutes >= rng.randint(9 * 60, 15 * 60))
        admitted = sum(1 for _ in range(rng.randint(3, 7)) if minutes >= rng.randint(8 * 60, 20 * 60))
        in_use = max(0, min(total, rng.randint(total - 6, total - 2) - freed + admitted))
        out += [("ward.beds_total", "", total), ("ward.beds_in_use", "", in_use), ("ward.beds_freed_today", "", freed)]
    if unit in CARE_HOME_CLIENTS:
        rng = _rng("care", unit, day)
        clients = CARE_HOME_CLIENTS[unit] - rng.randint(0, 2)
        # a sick leave now and then takes the day's care staff below the limit
        fte = round(rng.uniform(18.0, 21.0) - (1.5 if rng.random() < 0.3 and minutes >= 11 * 60 else 0), 1)
        out += [("care.clients", "", clients), ("care.staff_fte", "", fte)]
    return out
