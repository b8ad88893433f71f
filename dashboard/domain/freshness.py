"""Freshness: a pure function of a reading, its source's poll interval and the time.

fresh        an automatic reading younger than two poll intervals, or a manual one
             still within its valid-until;
stale        older than that, but from today: still shown, greyed, with its time;
unavailable  nothing from today (a value from yesterday is no value for "today").

Never stored: the reader computes it, so a stopped source goes stale by itself.

Which of several sources' readings of one metric, unit and key is shown (PRODUCT.md, "Every
number on the wall carries its provenance"): a tablet correction while it is valid, whatever
the feeds say (the shift lead knows the doctor went home; the staffing system learns it
tomorrow); otherwise a fresh automatic reading; a valid workbook value fills in where a feed
is absent or stale; otherwise the newest stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dashboard.domain.clock import start_of_day
from dashboard.domain.readings import Reading

FRESH, STALE, UNAVAILABLE = "fresh", "stale", "unavailable"
_RANK = {FRESH: 0, STALE: 1, UNAVAILABLE: 2}
TABLET = "tabletti"  # the source of the shift lead's corrections (dashboard.web.shiftlead)

Candidate = tuple[Reading, str]  # a reading and its status now


def stale_after(poll_seconds: float) -> timedelta:
    return timedelta(seconds=2 * poll_seconds)


@lru_cache(maxsize=64)
def _day_of(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Today's start and the next day's in `tz` (a model asks it once per reading, at one now)."""
    day_start = start_of_day(now, tz)
    return day_start, start_of_day(day_start + timedelta(hours=36), tz)


def status_of(
    reading: Reading, now: datetime, poll_seconds: float, tz: ZoneInfo
) -> tuple[str, datetime | None]:
    """The reading's status now, and when that status will next change by itself."""
    day_start, next_day = _day_of(now, tz)
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


def is_correction(reading: Reading, status: str) -> bool:
    """A tablet correction still within its valid-until: it overrides the other sources."""
    return reading.manual and reading.source == TABLET and status == FRESH


def choose(candidates: list[Candidate]) -> Candidate:
    """The reading shown for one metric, unit and key across sources: a valid tablet
    correction; else a fresh automatic reading; a fresh (valid) manual one fills in;
    otherwise the newest stale, then the newest of what is left."""
    return resolve(candidates)[0]


def resolve(candidates: list[Candidate]) -> tuple[Candidate, Candidate | None]:
    """The reading shown, and — when that is a valid correction — what it overrides: the
    reading the precedence would show without it, if that is from today (else None)."""
    if len(candidates) == 1:  # one source for the metric, unit and key: most tiles of a model
        return candidates[0], None
    corrections = [c for c in candidates if is_correction(*c)]
    others = [c for c in candidates if not is_correction(*c)]
    if not corrections:
        return _by_rank(others), None
    shown = max(corrections, key=lambda c: c[0].observed_at)
    under = _by_rank(others) if others else None
    return shown, (under if under is not None and under[1] != UNAVAILABLE else None)


def _by_rank(candidates: list[Candidate]) -> Candidate:
    def rank(item: Candidate) -> tuple[int, int, float]:
        reading, status = item
        manual_first = 1 if reading.manual and status == FRESH else 0
        return (_RANK[status], manual_first, -reading.observed_at.timestamp())

    return min(candidates, key=rank)
