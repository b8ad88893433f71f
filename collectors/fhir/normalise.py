"""FHIR R4 resources to readings: pure, no I/O. Only counts and times leave this module —
no names, identity codes, patient references or free text (privacy at the boundary).

Units are found from references in the source's `unit_map` ("Location/123",
"HealthcareService/abc", "Organization/f201", ...): an Appointment's participant actors, an
Encounter's locations, service provider and appointment, a Slot's Schedule's actors.
What cannot be mapped, and statuses we do not know, are counted, never fatal.

The slot figures, per unit and profession, from free slots that have not yet begun:
- `appointments.free_today`: free slots today, from now on.
- `appointments.free_3wd` ("Vapaat ajat 3 arkipv"): free slots on the next three working days
  after today — tomorrow or later, Monday to Friday less Finnish public holidays. Today is
  not included, nor are slots on weekends or holidays in between. On a Wednesday before
  Christmas (23.12.2026): Mon 28.12, Tue 29.12 and Wed 30.12.
- `appointments.t3_days` (T3): whole days from today to the day of the third free slot,
  looking ahead `horizon_days` days (today through today + horizon, so at most the horizon).
  With fewer than three free slots in that time, T3 is the horizon with `bound="above"`
  ("> 90 pv") — never missing while the unit has a schedule or slots.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain.clock import next_working_days
from dashboard.domain.readings import Reading

Resource = dict[str, Any]
WAITING = {"arrived", "triaged"}
SEEN = {"arrived", "triaged", "in-progress", "onleave", "finished"}
ENCOUNTER_STATUSES = SEEN | {"planned", "cancelled", "entered-in-error", "unknown"}
APPOINTMENT_STATUSES = {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled",
                        "noshow", "entered-in-error", "checked-in", "waitlist"}
SLOT_STATUSES = {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}
DEFAULT_QUEUE = "vastaanotto"
DEFAULT_PROFESSION = "kaikki"


@dataclass
class Snapshot:
    """What one poll fetched: resources by type, newest version of each by id."""

    appointments: dict[str, Resource] = field(default_factory=dict)
    encounters: dict[str, Resource] = field(default_factory=dict)
    slots: dict[str, Resource] = field(default_factory=dict)
    schedules: dict[str, Resource] = field(default_factory=dict)

    def add(self, resource: Resource) -> None:
        kind = resource.get("resourceType")
        rid = str(resource.get("id", ""))
        target = {"Appointment": self.appointments, "Encounter": self.encounters,
                  "Slot": self.slots, "Schedule": self.schedules}.get(str(kind))
        if target is not None and rid:
            target[rid] = resource


@dataclass
class Outcome:
    readings: list[Reading]
    items: int
    unmapped: Counter[str]  # reason -> count, reported in the source status


def parse_time(value: Any, tz: ZoneInfo) -> datetime | None:
    """FHIR dateTime/instant: with an offset (or Z); a bare date or a time without zone is
    taken in the site's zone."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_time(value, tz)


@lru_cache(maxsize=262_144)
def _parse_time(value: str, tz: ZoneInfo) -> datetime | None:
    # Cached: every poll re-derives the day from all resources kept, and the same
    # timestamps come back poll after poll (20,000 slots are 20,000 parses otherwise).
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _refs(*items: Any) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("reference"), str):
            out.append(item["reference"])
    return out


def _text(concepts: Any) -> str | None:
    """A code's display (or text) — a category like "General practice", never free text."""
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        if not isinstance(concept, dict):
            continue
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and coding.get("display"):
                return str(coding["display"])
        if concept.get("text"):
            return str(concept["text"])
    return None


class Normaliser:
    def __init__(self, source: str, unit_map: dict[str, str], tz: ZoneInfo,
                 profession_map: dict[str, str] | None = None, horizon_days: int = 90):
        self.source = source
        self.horizon_days = horizon_days
        self.unit_map = unit_map
        self.tz = tz
        self.profession_map = {k.lower(): v for k, v in (profession_map or {}).items()}

    def unit_of(self, refs: list[str]) -> str | None:
        for ref in refs:
            if ref in self.unit_map:
                return self.unit_map[ref]
            # a full URL reference ("https://fhir.example/fhir/Location/1") matches by its tail
            tail = "/".join(ref.rstrip("/").split("/")[-2:])
            if tail in self.unit_map:
                return self.unit_map[tail]
        return None

    def profession_of(self, *concepts: Any) -> str:
        for concept in concepts:
            name = _text(concept)
            if name:
                return self.profession_map.get(name.lower(), name).strip().lower()
        return DEFAULT_PROFESSION

    def __call__(self, snap: Snapshot, now: datetime) -> Outcome:
        unmapped: Counter[str] = Counter()
        today = now.astimezone(self.tz).date()
        readings = [Reading(m, u, k, v, now, self.source) for m, u, k, v in self._flow(snap, now, today, unmapped)]
        readings += [Reading(m, u, k, v, now, self.source, bound=b)
                     for m, u, k, v, b in self._slots(snap, now, today, unmapped)]
        items = len(snap.appointments) + len(snap.encounters) + len(snap.slots) + len(snap.schedules)
        return Outcome(readings, items, unmapped)

    # -- encounters and appointments: arrivals, waits, completed, no-shows -------------------

    def _arrived_at(self, enc: Resource) -> datetime | None:
        for entry in enc.get("statusHistory") or []:
            if isinstance(entry, dict) and entry.get("status") == "arrived":
                return parse_time((entry.get("period") or {}).get("start"), self.tz)
        return parse_time((enc.get("period") or {}).get("start"), self.tz)

    def _called_at(self, enc: Resource) -> datetime | None:
        for entry in enc.get("statusHistory") or []:
            if isinstance(entry, dict) and entry.get("status") == "in-progress":
                return parse_time((entry.get("period") or {}).get("start"), self.tz)
        return None

    def _encounter_unit(self, enc: Resource, snap: Snapshot) -> str | None:
        refs = _refs(*[(loc or {}).get("location") for loc in enc.get("location") or []],
                     enc.get("serviceProvider"))
        for ref in _refs(*(enc.get("appointment") or [])):
            appt = snap.appointments.get(ref.split("/")[-1])
            if appt:
                refs += _refs(*[(p or {}).get("actor") for p in appt.get("participant") or []])
        return self.unit_of(refs)

    def _flow(self, snap: Snapshot, now: datetime, today: date, unmapped: Counter[str]) -> list[tuple[str, str, str, Any]]:
        arrivals: dict[str, Counter[str]] = defaultdict(Counter)
        completed: Counter[str] = Counter()
        waiting: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        waits: dict[tuple[str, str], list[float]] = defaultdict(list)
        for enc in snap.encounters.values():
            status = enc.get("status")
            if status not in ENCOUNTER_STATUSES:
                unmapped[f"Encounter.status {status}"] += 1
                continue
            if status not in SEEN:
                continue
            unit = self._encounter_unit(enc, snap)
            if unit is None:
                unmapped["Encounter without a mapped unit"] += 1
                continue
            arrived = self._arrived_at(enc)
            if arrived is None or arrived.astimezone(self.tz).date() != today:
                continue
            queue = (_text(enc.get("serviceType")) or DEFAULT_QUEUE).strip().lower()
            arrivals[unit][f"{arrived.astimezone(self.tz).hour:02d}"] += 1
            ended = parse_time((enc.get("period") or {}).get("end"), self.tz)
            if status == "finished" and ended and ended.astimezone(self.tz).date() == today:
                completed[unit] += 1
            if status in WAITING:
                waiting[(unit, queue)].append(arrived)
            called = self._called_at(enc)
            if called and now - timedelta(minutes=60) <= called <= now:
                waits[(unit, queue)].append((called - arrived).total_seconds() / 60)
        no_shows: Counter[str] = Counter()
        for appt in snap.appointments.values():
            status = appt.get("status")
            if status not in APPOINTMENT_STATUSES:
                unmapped[f"Appointment.status {status}"] += 1
                continue
            start = parse_time(appt.get("start"), self.tz)
            if status != "noshow" or not start or start.astimezone(self.tz).date() != today:
                continue
            unit = self.unit_of(_refs(*[(p or {}).get("actor") for p in appt.get("participant") or []]))
            if unit is None:
                unmapped["Appointment without a mapped unit"] += 1
                continue
            no_shows[unit] += 1
        rows: list[tuple[str, str, str, Any]] = []
        for unit in set(arrivals) | set(completed) | set(no_shows) | {u for u, _ in waiting}:
            rows += [
                ("flow.arrivals_today", unit, "", sum(arrivals[unit].values())),
                ("flow.arrivals_by_hour", unit, "", dict(sorted(arrivals[unit].items()))),
                ("flow.completed_today", unit, "", completed[unit]),
                ("flow.no_shows_today", unit, "", no_shows[unit]),
            ]
        for (unit, queue) in set(waiting) | set(waits):
            people = waiting.get((unit, queue), [])
            rows.append(("queue.waiting", unit, queue, len(people)))
            longest = max(((now - t).total_seconds() / 60 for t in people), default=0.0)
            rows.append(("queue.longest_wait_min", unit, queue, round(longest)))
            if waits.get((unit, queue)):
                w = waits[(unit, queue)]
                rows.append(("queue.avg_wait_min", unit, queue, round(sum(w) / len(w), 1)))
        return rows

    # -- slots: free today, in 3 working days, T3 ---------------------------------------------

    def _slots(self, snap: Snapshot, now: datetime, today: date,
               unmapped: Counter[str]) -> list[tuple[str, str, str, Any, str | None]]:
        three_days = set(next_working_days(today, 3))  # tomorrow on; today never one of them
        last_day = today + timedelta(days=self.horizon_days)  # T3 looks this far, inclusive
        now_ts = now.timestamp()
        # a schedule's unit and profession, worked out once per poll, not once per slot
        by_schedule: dict[str, tuple[str | None, str]] = {}
        for sid, schedule in snap.schedules.items():
            by_schedule[sid] = (self.unit_of(_refs(*schedule.get("actor") or [])),
                                self.profession_of(schedule.get("specialty"), schedule.get("serviceType")))
        free: dict[tuple[str, str], list[date]] = defaultdict(list)
        known: set[tuple[str, str]] = set()
        with_slots: set[str] = set()
        for slot in snap.slots.values():
            status = slot.get("status")
            if status not in SLOT_STATUSES:
                unmapped[f"Slot.status {status}"] += 1
                continue
            ref = str((slot.get("schedule") or {}).get("reference", ""))
            with_slots.add(ref.split("/")[-1])
            unit, profession = by_schedule.get(ref.split("/")[-1], (None, DEFAULT_PROFESSION))
            if unit is None:
                unit = self.unit_of([ref])
            if unit is None:
                unmapped["Slot without a mapped unit"] += 1
                continue
            if slot.get("specialty") or slot.get("serviceType"):
                profession = self.profession_of(slot.get("specialty"), slot.get("serviceType"))
            known.add((unit, profession))
            when = _moment(slot.get("start"), self.tz)
            if status == "free" and when and when[0] >= now_ts:
                free[(unit, profession)].append(when[1])
        # A schedule in force with no slot at all (a system that publishes only free slots,
        # and has none) is the worst access there is: its T3 lies beyond the horizon.
        for sid, (unit, profession) in by_schedule.items():
            if unit is not None and sid not in with_slots and self._in_force(snap.schedules[sid], today):
                known.add((unit, profession))
        rows: list[tuple[str, str, str, Any, str | None]] = []
        for unit, profession in known:
            days = free.get((unit, profession), [])
            rows.append(("appointments.free_today", unit, profession, sum(d == today for d in days), None))
            rows.append(("appointments.free_3wd", unit, profession, sum(d in three_days for d in days), None))
            inside = [d for d in days if d <= last_day]
            if len(inside) >= 3:
                third = heapq.nsmallest(3, inside)[2]
                rows.append(("appointments.t3_days", unit, profession, (third - today).days, None))
            else:  # fewer than three free slots in the look-ahead: "> 90 pv", not nothing
                rows.append(("appointments.t3_days", unit, profession, self.horizon_days, "above"))
        return rows

    def _in_force(self, schedule: Resource, today: date) -> bool:
        """Active (the default) and its planning horizon, where given, not over before today."""
        if schedule.get("active") is False:
            return False
        ends = parse_time((schedule.get("planningHorizon") or {}).get("end"), self.tz)
        return ends is None or ends.astimezone(self.tz).date() >= today


def _moment(value: Any, tz: ZoneInfo) -> tuple[float, date] | None:
    """A timestamp and its local day, cached like the parse itself."""
    if not isinstance(value, str) or not value:
        return None
    return _moment_cached(value, tz)


@lru_cache(maxsize=262_144)
def _moment_cached(value: str, tz: ZoneInfo) -> tuple[float, date] | None:
    moment = _parse_time(value, tz)
    return (moment.timestamp(), moment.astimezone(tz).date()) if moment else None
