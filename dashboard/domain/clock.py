"""Time as the site sees it: its time zone, its working days, and the demo's shifted clock.

All "today" and "working day" computations happen in the site's time zone, whatever the
server's own zone is. The demo may run on a clock shifted into a working day; that shift is
kept in the live store so every process of one installation agrees on the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=8)
def _finnish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FI", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _finnish_holidays(day.year)


@lru_cache(maxsize=4096)  # asked for the same days over and over (each seeded half hour, each figure)
def is_working_day(day: date) -> bool:
    """Monday to Friday, less Finnish public holidays."""
    return day.weekday() < 5 and day not in _finnish_holidays(day.year)


def next_working_days(day: date, count: int) -> list[date]:
    """The `count` working days after `day` (not including `day` itself)."""
    out: list[date] = []
    d = day
    while len(out) < count:
        d += timedelta(days=1)
        if is_working_day(d):
            out.append(d)
    return out


def start_of_day(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


@dataclass(frozen=True)
class Clock:
    """Real time, or a demo time that runs `speed` times as fast from an anchor."""

    tz: ZoneInfo
    anchor_real: datetime | None = None
    anchor_shown: datetime | None = None
    speed: float = 1.0

    @property
    def shifted(self) -> bool:
        return self.anchor_real is not None

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self.anchor_real is None or self.anchor_shown is None:
            return real.astimezone(self.tz)
        return (self.anchor_shown + (real - self.anchor_real) * self.speed).astimezone(self.tz)

    def to_dict(self) -> dict[str, str]:
        if self.anchor_real is None or self.anchor_shown is None:
            return {}
        return {
            "anchor_real": self.anchor_real.isoformat(),
            "anchor_shown": self.anchor_shown.isoformat(),
            "speed": str(self.speed),
        }

    @classmethod
    def from_dict(cls, tz: ZoneInfo, data: dict[str, str]) -> Clock:
        if not data:
            return cls(tz)
        return cls(
            tz,
            datetime.fromisoformat(data["anchor_real"]),
            datetime.fromisoformat(data["anchor_shown"]),
            float(data.get("speed", "1")),
        )


def demo_clock(tz: ZoneInfo, opening: tuple[int, int], start: time, speed: float,
               pinned: bool = False) -> Clock:
    """A clock for the demo: real time inside opening hours of a working day; otherwise
    `start` on the latest working day, so the simulated day always has something to show.
    `pinned`: `start` on the latest working day whatever the hour now (tests, screenshots:
    the same time of the same kind of day at any hour they run)."""
    real = datetime.now(UTC)
    local = real.astimezone(tz)
    inside = is_working_day(local.date()) and opening[0] <= local.hour < opening[1] - 1
    if inside and speed == 1 and not pinned:
        return Clock(tz)
    day = local.date()
    if not is_working_day(day) or local.time() < time(opening[0]):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    shown = datetime.combine(day, start, tzinfo=tz)
    return Clock(tz, real, shown, speed)
