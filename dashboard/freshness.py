"""Freshness: a pure function of a reading, its source's poll interval and the time.

fresh        an automatic reading younger than two poll intervals, or a manual one
             still within its valid-until;
stale        older than that, but from today: still shown, greyed, with its time;
unavailable  nothing from today (a value from yesterday is no value for "today").

Never stored: the reader computes it, so a stopped source goes stale by itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.clock import start_of_day
from dashboard.readings import Reading

FRESH, STALE, UNAVAILABLE = "fresh", "stale", "unavailable"
_RANK = {FRESH: 0, STALE: 1, UNAVAILABLE: 2}


def stale_after(poll_seconds: float) -> timedelta:
    return timedelta(seconds=2 * poll_seconds)


def status_of(
    reading: Reading, now: datetime, poll_seconds: float, tz: ZoneInfo
) -> tuple[str, datetime | None]:
    """The reading's status now, and when that status will next change by itself."""
    day_start = start_of_day(now, tz)
    next_day = start_of_day(day_start + timedelta(hours=36), tz)
    if reading.observed_at < day_start:
        return UNAVAILABLE, None
    if reading.manual:
        if reading.valid_until is not None and now < reading.valid_until:
            return FRESH, min(reading.valid_until, next_day)
        return STALE, next_day
    limit = reading.observed_at + stale_after(poll_seconds)
    if now <= limit:
        return FRESH, limit
    return STALE, next_day


def choose(candidates: list[tuple[Reading, str]]) -> tuple[Reading, str]:
    """Precedence for one metric, unit and key across sources: a fresh automatic reading
    wins; a fresh (valid) manual one fills in; otherwise the newest stale, then the newest
    of what is left."""

    def rank(item: tuple[Reading, str]) -> tuple[int, int, float]:
        reading, status = item
        manual_first = 1 if reading.manual and status == FRESH else 0
        return (_RANK[status], manual_first, -reading.observed_at.timestamp())

    return min(candidates, key=rank)
