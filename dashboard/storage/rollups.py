"""Hourly and daily rollups of the reading history, their upkeep, retention, and the queries
of the history page: every figure there is read from the rollups, never from raw changes.

What a row says
---------------
The raw history holds *changes*: a row whenever a value changed. **A value counts while it
is in force**: from its change until the next change of the same series (metric, unit,
key), until its valid-until (a manual value), until the end of its local day (a figure of
today: plans, today's free slots and counts, ``Metric.kind`` "today" or "count"), or until
a change whose value is ``null`` — written when its source fails or is stopped
(``LiveStore.end_readings``) or a correction is withdrawn: an outage is a gap, never the
last value carried over it. Changes at the same instant take effect in the order they were
written (the last one wins; one replaced at the same instant was never in force).

An hourly row describes one series over one clock hour of its unit's time zone (stored as
the hour's UTC start; hours are half-open, so a change at 09:00:00 belongs to the 09 hour)
in which a value was in force:

- ``last``: the last value in force during the hour, as JSON text;
- ``min``, ``max``: over the values in force during the hour;
- ``mean``: the time-weighted mean over the part of the hour in which a value was in force,
  ``covered_seconds`` that part, ``samples`` the number of changes inside the hour.

So a gauge standing unchanged for a week has a row for each of its hours (staff planned
for the day, capacity totals and T3 have a figure for every hour and day they stood); a
value changing from 4 to 10 at 08:20 gives the 08 hour a mean of (4·20 + 10·40) / 60 = 8.
The rollups reach to the end of the local day of the newest change written (so hours of
today after now carry the current value, as the value now in force): when changes of a new
day arrive, the series still in force at the end of the last day rolled up are carried
through the days between.

A daily row is the same over one local date (23, 24 or 25 hours), made from its hourly
rows: ``mean`` weighted by ``covered_seconds``, ``min``/``max`` over the hours, ``last`` of
the last hour, ``samples`` summed; and the figures a manager reads, over the unit's
**opening hours** (``[[units]] opening_hours``, default the site's; recorded in
``rollup_state`` so every process uses the same): on a day the unit is open (a working day,
or any day for a unit open every day) ``open_mean`` (time-weighted over the part of the
opening hours with a value), ``open_max``, ``open_seconds`` and ``at_close`` (the value in
force just before closing time); None on a closed day. The day's *figure* (``series``,
``compare``) is the day's total for a count (its ``last``) and ``open_mean`` for anything
else. Series metrics (``flow.arrivals_by_hour``, an object hour → count) keep only
``last``; their means, min and max are empty.

Upkeep (``maintain``, called by ``History.record`` in its transaction)
-----------------------------------------------------------------------
A change can affect only the days from its own to the day of the series' next change (or,
without one, to the end of the rollups' reach). The unit of recomputation is therefore the
series-day: for each series the written changes touch, the local days from the earliest new
change to the day of the series' next change after the batch (else the reach) are
recomputed whole from the raw changes in them plus the one change in force before them,
their rows deleted and written again; on a new day the series in force at the end of the
previous reach get the days between. That is at most 25 hourly rows and one daily row per
series-day, and it is idempotent by construction: the result depends only
on the raw changes, so a change delivered twice (skipped by its event id), a late or
out-of-order change, or a rerun gives exactly what a full ``rebuild`` gives (a test checks
this on random batches in random order). Recomputing a whole day rather than chasing the
carried hours one by one costs reading that day's changes of the series (tens), and buys a
rule simple enough to be sure of. A batch costs a fixed handful of statements, whatever the
number of series: the change in force before each window and the next change after it are
single probes of the (metric, unit, key, observed_at, id) index, asked for 100 series in one
statement; the windows' changes are read once per distinct window (a live batch has one,
today); the old rows go in one executemany and the new ones in one bulk insert per table.
On PostgreSQL an advisory transaction lock makes concurrent writers take turns (each then
sees the other's committed changes); SQLite has one writer anyway.

Time zones, rebuild and retention
---------------------------------
Hours and days are those of each unit's time zone: its site's (``[[sites]] timezone``),
else the installation's (``[site] timezone``, default Europe/Helsinki). The zones are kept
in ``rollup_state`` (``timezone``, and ``zones``: the units whose zone differs) so that
every process computes the same days; ``rebuild(history, zones)`` recomputes everything
for them (and records them), and ``needs_rebuild(history, zones)`` says when that is due (a
database migrated with changes in it, or other zones); a single ``ZoneInfo`` means one zone
for every unit. The rollups reach to the end of each unit's local day of the newest change
written (``reach_at``). ``prune`` deletes raw changes older than ``raw_days`` — from the
installation's local midnight on or before that moment — keeping per series the one change
still in force at that horizon (it is the current value, not history); rollups are never
pruned, and before the horizon (for a unit of another zone: before its first midnight
after it) they are final: ``rebuild`` and late changes leave them as they are.

Queries
-------
``series``, ``arrivals_heatmap``, ``compare`` and ``compliance`` read the rollups and give
the same figures on SQLite and PostgreSQL: the arithmetic is done in Python on the same
IEEE doubles, and names are ordered by code point on both (``COLLATE "C"`` on PostgreSQL).
Means are rounded to 3 decimals; min, max and last are the values as recorded (4, not
4.0). The queries ask for the time zone and refuse one the rollups were not built in. ``compliance`` gives
the one figure of the day-level figures that is what its name says (access to care itself is
measured case by case: dashboard/domain/accessfigures.py):

- *call-backs returned the same working day*: a day the unit is open is met when
  ``callback.pending`` in force at its closing time (``at_close``) is 0 for every key —
  everyone who asked for a call back that day was called back that day.

A day without the figure is not counted; ``share`` is ``met / days``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    String,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.config import Hours, Zones
from dashboard.domain import metrics as metric_defs
from dashboard.domain.clock import is_working_day
from dashboard.storage.tables import DailyRollup, HourlyRollup, ReadingChange, RollupState


class HasEngine(Protocol):
    """The history database as the rollups read it (dashboard/storage/history.py History):
    its engine, and nothing of the module that records into it — which calls `maintain`
    here in its own transaction."""

    engine: Engine


DEFAULT_TZ = "Europe/Helsinki"
ROLLUP_LOCK = 7_246_002  # PostgreSQL advisory lock: one rollup writer at a time
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
HOUR_US = 3600 * US
_ONE_US = timedelta(microseconds=1)

Series = tuple[str, str, str]  # metric, unit, key
# observed at (µs since the epoch, UTC), value as JSON text ("null": nothing in force from
# here), valid until (µs) for a manual value, its bound ("above": the true figure lies beyond)
Change = tuple[int, str, int | None, str | None]
# hour start (µs), its local date, last, mean, min, max, covered seconds, samples, the value
# in force at the hour's end (or None), the local clock hour (0–23), "above" when a value in
# force was a bound
HourRow = tuple[int, date, str, float | None, float | None, float | None, float, int, str | None, int,
                str | None]
# local date, day start (µs), last, mean, min, max, covered seconds, samples, open mean,
# open max, value at closing (JSON text), open seconds, bound
DayRow = tuple[date, int, str, float | None, float | None, float | None, float, int,
               float | None, float | None, str | None, float | None, str | None]

HOURLY_COLUMNS = ("metric", "unit", "hour_start", "key", "last", "mean", "min", "max",
                  "covered_seconds", "samples", "bound")
DAILY_COLUMNS = ("metric", "unit", "day", "key", "day_start", "last", "mean", "min", "max",
                 "covered_seconds", "samples", "open_mean", "open_max", "at_close", "open_seconds",
                 "bound")
NOTHING = "null"  # a change that ends the value in force (a source's outage, a withdrawal)
DEFAULT_HOURS = "8-16/working"


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // _ONE_US


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class _Calendar:
    """Clock hours and local dates of one time zone, on µs since the epoch (cached)."""

    tz: ZoneInfo

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._hours: dict[int, tuple[int, date, int]] = {}
        self._days: dict[date, int] = {}

    def hour_floor(self, t: int) -> int:
        local = _dt(t).astimezone(self.tz)
        return _us(local.replace(minute=0, second=0, microsecond=0))

    def hour(self, h: int) -> tuple[int, date, int]:
        """The next hour's start, the local date and the local clock hour of the hour
        starting at `h`."""
        info = self._hours.get(h)
        if info is None:
            local = _dt(h).astimezone(self.tz)
            info = (self.hour_floor(h + HOUR_US), local.date(), local.hour)
            self._hours[h] = info
        return info

    def date_of(self, t: int) -> date:
        return _dt(t).astimezone(self.tz).date()

    def day_start(self, day: date) -> int:
        start = self._days.get(day)
        if start is None:
            start = _us(datetime.combine(day, time(0), tzinfo=self.tz))
            self._days[day] = start
        return start

    def next_day_start(self, t: int) -> int:
        return self.day_start(self.date_of(t) + timedelta(days=1))

    def midnight_from(self, t: int) -> int:
        """The first local midnight at or after `t`."""
        return self.day_start(self.date_of(t - 1) + timedelta(days=1))


class _Calendars:
    """A calendar per unit: its zone's (Zones), one calendar per zone."""

    def __init__(self, zones: Zones):
        self.zones = zones
        self.default = _Calendar(ZoneInfo(zones.default))
        self._by_zone = {zones.default: self.default}
        self._by_unit = {unit: self._zone(z) for unit, z in zones.units}

    def _zone(self, name: str) -> _Calendar:
        cal = self._by_zone.get(name)
        if cal is None:
            cal = self._by_zone[name] = _Calendar(ZoneInfo(name))
        return cal

    def of(self, unit: str) -> _Calendar:
        return self._by_unit.get(unit, self.default)

    def groups(self, table: Any) -> list[tuple[_Calendar, list[Any]]]:
        """Each zone's calendar with the condition on `table.unit` that picks its units (the
        default zone's: every unit not of another zone)."""
        others = self.zones.groups()
        if not others:
            return [(self.default, [])]
        named = [u for units in others.values() for u in units]
        return [(self.default, [table.unit.not_in(named)]),
                *((self._zone(z), [table.unit.in_(units)]) for z, units in sorted(others.items()))]


_NUMBERS: dict[str, float | None] = {}


def _number(value: str) -> float | None:
    """The JSON text's number, or None for anything else (objects, null)."""
    try:
        return _NUMBERS[value]
    except KeyError:
        parsed = json.loads(value)
        num = (float(parsed) if isinstance(parsed, int | float) and not isinstance(parsed, bool)
               else None)
        if len(_NUMBERS) < 100_000:
            _NUMBERS[value] = num
        return num


# ---------------------------------------------------------------- computing rows


def in_force(cal: _Calendar, prev: Change | None, changes: Sequence[Change], start: int,
             end: int, kind: str) -> list[tuple[int, int, str, str | None]]:
    """The spans [a, b) within [start, end) in which each value of a series was in force,
    in time order: from its change until the next change, its valid-until, or (for a
    figure of today) the end of its day; a "null" change is never in force."""
    items = ([prev] if prev is not None else []) + list(changes)
    daily = kind != "gauge"
    spans: list[tuple[int, int, str, str | None]] = []
    n = len(items)
    for i in range(n):
        t, value, until, bound = items[i]
        if value == NOTHING:
            continue
        b = items[i + 1][0] if i + 1 < n else end
        if b > end:
            b = end
        if until is not None and until < b:
            b = until
        if daily:
            day_end = cal.next_day_start(t)
            if day_end < b:
                b = day_end
        a = t if t > start else start
        if b > a:
            spans.append((a, b, value, bound))
    return spans


def hourly_rows(cal: _Calendar, prev: Change | None, changes: Sequence[Change], start: int,
                end: int, numeric: bool, kind: str = "gauge") -> list[HourRow]:
    """The hourly rows of one series over [start, end) (local midnights) from its changes
    in that window (sorted) and the change in force before it: a row for every hour in
    which a value was in force."""
    acc: dict[int, list[Any]] = {}
    for a, b, value, bound in in_force(cal, prev, changes, start, end, kind):
        num = _number(value) if numeric else None
        h = cal.hour_floor(a)
        while h < b:
            he = cal.hour(h)[0]
            d = (b if b < he else he) - (a if a > h else h)
            rec = acc.get(h)
            if rec is None:
                # weighted sum, numeric cover, cover, min, max, last, value at the end, bound
                rec = acc[h] = [0.0, 0, 0, math.inf, -math.inf, value, None, None]
            rec[2] += d
            if num is not None:
                rec[0] += num * d
                rec[1] += d
                if num < rec[3]:
                    rec[3] = num
                if num > rec[4]:
                    rec[4] = num
            rec[5] = value
            rec[6] = value if b >= he else None
            if bound:
                rec[7] = bound
            h = he
    samples: dict[int, int] = defaultdict(int)
    for t, *_rest in changes:
        if start <= t < end:
            samples[cal.hour_floor(t)] += 1
    rows: list[HourRow] = []
    for h in sorted(acc):
        wsum, wcov, cov, lo, hi, last, at_end, bound = acc[h]
        _he, hdate, hod = cal.hour(h)
        if wcov:
            rows.append((h, hdate, last, wsum / wcov, lo, hi, cov / US, samples.get(h, 0), at_end, hod, bound))
        else:
            rows.append((h, hdate, last, None, None, None, cov / US, samples.get(h, 0), at_end, hod, bound))
    return rows


def daily_rows(cal: _Calendar, hours: Sequence[HourRow], opening: Hours | None = None) -> list[DayRow]:
    """Daily rows from a series' hourly rows (in time order): the whole day's figures, and
    over the unit's opening hours (on a day it is open) the mean, the maximum and the value
    in force at closing time."""
    opening = opening or Hours.parse(DEFAULT_HOURS)
    out: list[DayRow] = []
    i = 0
    n = len(hours)
    while i < n:
        day = hours[i][1]
        wsum = wcov = cov = 0.0
        owsum = owcov = ocov = 0.0
        samples = 0
        lo = hi = ohi = None
        last = hours[i][2]
        at_close: str | None = None
        bound: str | None = None
        is_open = opening.open_on(day)
        while i < n and hours[i][1] == day:
            _h, _day, last, mean, mn, mx, covered, count, at_end, hod, hour_bound = hours[i]
            bound = hour_bound or bound
            cov += covered
            samples += count
            if mean is not None and mn is not None and mx is not None:
                wsum += mean * covered
                wcov += covered
                lo = mn if lo is None or mn < lo else lo
                hi = mx if hi is None or mx > hi else hi
            if is_open and opening.start <= hod < opening.end:
                ocov += covered
                if mean is not None and mx is not None:
                    owsum += mean * covered
                    owcov += covered
                    ohi = mx if ohi is None or mx > ohi else ohi
                if hod == opening.end - 1:
                    at_close = at_end
            i += 1
        out.append((day, cal.day_start(day), last,
                    wsum / wcov if wcov else None, lo, hi, cov, samples,
                    owsum / owcov if owcov else None, ohi if owcov else None, at_close,
                    ocov if is_open else None, bound))
    return out


def _numeric(metric: str) -> bool:
    m = metric_defs.get(metric)
    return not (m and m.series)


def _kind(metric: str) -> str:
    m = metric_defs.get(metric)
    return m.kind if m else "gauge"


# ---------------------------------------------------------------- state and locking


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # per schema: other installations (and tests) in the same database are not held up
        conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": ROLLUP_LOCK})


def _state(conn: Connection) -> dict[str, str]:
    return {name: value for name, value in conn.execute(select(RollupState.name, RollupState.value))}


def _set_state(conn: Connection, **values: str) -> None:
    for name, value in values.items():
        if conn.dialect.name == "postgresql":
            pg = postgresql.insert(RollupState).values(name=name, value=value)
            conn.execute(pg.on_conflict_do_update(index_elements=["name"], set_={"value": value}))
        else:
            lite = sqlite.insert(RollupState).values(name=name, value=value)
            conn.execute(lite.on_conflict_do_update(index_elements=["name"], set_={"value": value}))


def _zones(state: dict[str, str]) -> Zones:
    """The zones the rollups were built in: [site] timezone, and the units of sites in another."""
    return Zones.parse({"*": state.get("timezone", DEFAULT_TZ), **json.loads(state.get("zones", "{}"))})


def _zones_state(zones: Zones) -> dict[str, str]:
    return {"timezone": zones.default, "zones": json.dumps(dict(zones.units), sort_keys=True)}


def _opening(state: dict[str, str]) -> dict[str, str]:
    hours: dict[str, str] = json.loads(state.get("hours", "{}"))
    return hours


def _hours_of(opening: dict[str, str], unit: str) -> Hours:
    return Hours.parse(opening.get(unit) or opening.get("*") or DEFAULT_HOURS)


def _extended(state: dict[str, str]) -> date | None:
    value = state.get("extended_to")
    return date.fromisoformat(value) if value else None


def _horizon(state: dict[str, str]) -> int | None:
    value = state.get("horizon")
    return _us(datetime.fromisoformat(value)) if value else None


def _reach_at(state: dict[str, str], default: _Calendar) -> int | None:
    """The newest change's instant the rollups reach to the end of the local day of (before
    per-site zones only its date was kept: then the last instant of that day)."""
    value = state.get("reach_at")
    if value:
        return _us(datetime.fromisoformat(value))
    extended = _extended(state)
    return default.day_start(extended + timedelta(days=1)) - 1 if extended is not None else None


def needs_rebuild(history: HasEngine, tz: ZoneInfo | Zones, hours: dict[str, str] | None = None) -> bool:
    """True when the rollups do not cover the raw changes (a database that held changes
    before the rollups came, or before the rules changed), were built for other time
    zones (`tz`: one zone for every unit, or each unit's: Config.zones), or (when `hours`
    is given: unit code or "*" for the site -> "8-16/working") for other opening hours:
    call `rebuild` then."""
    with history.engine.connect() as conn:
        state = _state(conn)
    if hours is not None and _opening(state) != hours:
        return True
    return "built" not in state or _zones(state) != Zones.one(tz)


def _check_zone(conn: Connection, tz: ZoneInfo | Zones) -> Zones:
    built, asked = _zones(_state(conn)), Zones.one(tz)
    if built != asked:
        raise ValueError(f"the rollups are in {built.spec()}, not {asked.spec()}: rebuild(history, zones) first")
    return asked


# ---------------------------------------------------------------- writing


def _series_where(table: Any, s: Series) -> list[Any]:
    return [table.metric == s[0], table.unit == s[1], table.key == s[2]]


class _Rows:
    """Rollup rows as tuples in column order, ready for the database: instants and dates
    converted once each by the columns' own SQLAlchemy types on SQLite (where they are
    text), as aware datetimes and dates on PostgreSQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.hourly: list[tuple[Any, ...]] = []
        self.daily: list[tuple[Any, ...]] = []
        self._instants: dict[int, Any] = {}
        self._dates: dict[date, Any] = {}
        self._instant_bind = self._date_bind = None
        if conn.dialect.name == "sqlite":
            dialect = conn.dialect
            self._instant_bind = HourlyRollup.__table__.c.hour_start.type.dialect_impl(
                dialect).bind_processor(dialect)
            self._date_bind = DailyRollup.__table__.c.day.type.dialect_impl(
                dialect).bind_processor(dialect)

    def _at(self, us: int) -> Any:
        value = self._instants.get(us)
        if value is None:
            value = _dt(us)
            if self._instant_bind is not None:
                value = self._instant_bind(value)
            self._instants[us] = value
        return value

    def _on(self, day: date) -> Any:
        value = self._dates.get(day)
        if value is None:
            value = day if self._date_bind is None else self._date_bind(day)
            self._dates[day] = value
        return value

    def add(self, s: Series, hours: Sequence[HourRow], days: Sequence[DayRow]) -> None:
        metric, unit, key = s
        at, on = self._at, self._on
        self.hourly += [(metric, unit, at(h[0]), key, h[2], h[3], h[4], h[5], h[6], h[7], h[10])
                        for h in hours]
        self.daily += [(metric, unit, on(d[0]), key, at(d[1]), *d[2:]) for d in days]

    def write(self) -> None:
        _bulk_insert(self.conn, HourlyRollup.__tablename__, HOURLY_COLUMNS, self.hourly)
        _bulk_insert(self.conn, DailyRollup.__tablename__, DAILY_COLUMNS, self.daily)
        self.hourly, self.daily = [], []


def _bulk_insert(conn: Connection, table: str, columns: tuple[str, ...],
                 rows: list[tuple[Any, ...]]) -> None:
    """Many rows (values as the driver takes them) at once: COPY on PostgreSQL, one
    executemany on SQLite."""
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


_NAIVE_EPOCH = datetime(1970, 1, 1)


def _stored_us(value: Any) -> int:
    """An instant as the driver returns it (UTC text on SQLite) in µs since the epoch."""
    if type(value) is str:
        return (datetime.fromisoformat(value) - _NAIVE_EPOCH) // _ONE_US
    return _us(value)


def _until(value: Any) -> int | None:
    return None if value is None else _stored_us(value)


def _changes(conn: Connection, where: list[Any]) -> list[Change]:
    rc = ReadingChange
    stmt = (select(type_coerce(rc.observed_at, String), rc.value,
                   type_coerce(rc.valid_until, String), rc.bound).where(*where)
            .order_by(rc.observed_at, rc.id))
    return [(_stored_us(at), value, _until(until), bound)
            for at, value, until, bound in conn.execute(stmt).all()]


_CHUNK = 100  # series per look-up statement


def maintain(conn: Connection, written: Sequence[tuple[Any, ...]]) -> None:
    """Bring the rollups up to date with changes just written (metric, unit, key,
    observed_at), in the caller's transaction: see "Upkeep" in the module's docstring."""
    _lock(conn)
    state = _state(conn)
    cals = _Calendars(_zones(state))
    opening = _opening(state)
    horizon = _horizon(state)
    reached = _reach_at(state, cals.default)
    spans: dict[Series, list[int]] = {}
    for metric, unit, key, observed_at in written:
        t = _us(observed_at)
        span = spans.get((metric, unit, key))
        if span is None:
            spans[(metric, unit, key)] = [t, t]
        else:
            span[0] = min(span[0], t)
            span[1] = max(span[1], t)
    if not spans:
        return
    newest = max(tmax for _tmin, tmax in spans.values())
    reach = max(newest, reached) if reached is not None else newest
    windows: list[tuple[Series, int, int]] = []
    for s, (tmin, _tmax) in sorted(spans.items()):
        cal = cals.of(s[1])
        start = cal.day_start(cal.date_of(tmin))
        if horizon is not None and start < (final := cal.midnight_from(horizon)):
            start = final  # before the horizon the rollups are final
        windows.append((s, start, max(cal.next_day_start(reach), start)))
    h = HourlyRollup
    for cal, which in cals.groups(h):
        if reached is None or cal.date_of(reach) <= cal.date_of(reached):
            continue
        # a new day in this zone: values still in force at the end of the last day rolled
        # up are carried through the days since (their series had no change to say so)
        start = cal.next_day_start(reached)
        carried = conn.execute(select(h.metric, h.unit, h.key)
                               .where(h.hour_start == _dt(cal.hour_floor(start - 1)), *which)).all()
        for metric, unit, key in carried:
            # a figure of today ended at midnight: nothing of it is carried
            if (metric, unit, key) not in spans and _kind(metric) == "gauge":
                windows.append(((metric, unit, key), start, cal.next_day_start(reach)))
    rc = ReadingChange
    prev_ids: dict[int, Series] = {}
    for i in range(0, len(windows), _CHUNK):
        chunk = windows[i:i + _CHUNK]
        columns = []
        for j, (s, start, end) in enumerate(chunk):
            where = _series_where(rc, s)
            columns.append(select(rc.id).where(*where, rc.observed_at < _dt(start))
                           .order_by(rc.observed_at.desc(), rc.id.desc()).limit(1)
                           .scalar_subquery().label(f"p{j}"))
            columns.append(select(func.min(rc.observed_at)).where(*where, rc.observed_at >= _dt(end))
                           .scalar_subquery().label(f"n{j}"))
        found = conn.execute(select(*columns)).one()
        for j, (s, start, end) in enumerate(chunk):
            if found[2 * j] is not None:
                prev_ids[found[2 * j]] = s
            nxt = found[2 * j + 1]
            if nxt is not None:  # the value in force runs on to the day of the next change
                end = cals.of(s[1]).next_day_start(_us(nxt))
                windows[i + j] = (s, start, end)
    prev: dict[Series, Change] = {}
    ids = list(prev_ids)
    for i in range(0, len(ids), 500):
        for id_, at, value, until, bound in conn.execute(
            select(rc.id, type_coerce(rc.observed_at, String), rc.value,
                   type_coerce(rc.valid_until, String), rc.bound)
            .where(rc.id.in_(ids[i:i + 500]))
        ):
            prev[prev_ids[id_]] = (_stored_us(at), value, _until(until), bound)
    by_window: dict[tuple[int, int], list[Series]] = defaultdict(list)
    for s, start, end in windows:
        by_window[(start, end)].append(s)
    changes: dict[Series, list[Change]] = defaultdict(list)
    for (start, end), group in by_window.items():
        wanted = set(group)
        for metric, unit, key, at, value, until, bound in conn.execute(
            select(rc.metric, rc.unit, rc.key, type_coerce(rc.observed_at, String), rc.value,
                   type_coerce(rc.valid_until, String), rc.bound)
            .where(rc.metric.in_({s[0] for s in group}), rc.unit.in_({s[1] for s in group}),
                   rc.key.in_({s[2] for s in group}), rc.observed_at >= _dt(start),
                   rc.observed_at < _dt(end))
            .order_by(rc.observed_at, rc.id)
        ):
            if (metric, unit, key) in wanted:
                changes[(metric, unit, key)].append((_stored_us(at), value, _until(until), bound))
    out = _Rows(conn)
    hour_gone: list[dict[str, Any]] = []
    day_gone: list[dict[str, Any]] = []
    for s, start, end in windows:
        cal = cals.of(s[1])
        hours = hourly_rows(cal, prev.get(s), changes.get(s, []), start, end, _numeric(s[0]),
                            _kind(s[0]))
        params = {"m": s[0], "u": s[1], "k": s[2]}
        hour_gone.append({**params, "a": _dt(start), "b": _dt(end)})
        day_gone.append({**params, "a": cal.date_of(start), "b": cal.date_of(end)})
        out.add(s, hours, daily_rows(cal, hours, _hours_of(opening, s[1])))
    if reached is None or reach > reached:
        _set_state(conn, extended_to=cals.default.date_of(reach).isoformat(), reach_at=_dt(reach).isoformat())
    h, d = HourlyRollup, DailyRollup
    conn.execute(delete(h).where(
        h.metric == bindparam("m"), h.unit == bindparam("u"), h.key == bindparam("k"),
        h.hour_start >= bindparam("a"), h.hour_start < bindparam("b")), hour_gone)
    conn.execute(delete(d).where(
        d.metric == bindparam("m"), d.unit == bindparam("u"), d.key == bindparam("k"),
        d.day >= bindparam("a"), d.day < bindparam("b")), day_gone)
    out.write()


def rebuild(history: HasEngine, tz: ZoneInfo | Zones, hours: dict[str, str] | None = None) -> dict[str, int]:
    """Compute every rollup from the raw changes, in `tz` (one zone for every unit, or each
    unit's: Config.zones; recorded) and with the opening hours `hours` (recorded; without
    it, those recorded before), in one transaction; rollups before the retention horizon
    are kept as they are. Returns the numbers of raw changes read and of hourly and daily
    rows written."""
    zones = Zones.one(tz)
    cals = _Calendars(zones)
    counts = {"changes": 0, "hourly": 0, "daily": 0}
    rc = ReadingChange
    with history.engine.begin() as conn:
        _lock(conn)
        state = _state(conn)
        horizon = _horizon(state)
        opening = hours if hours is not None else _opening(state)
        if horizon is None:
            conn.execute(delete(HourlyRollup))
            conn.execute(delete(DailyRollup))
        else:  # from each zone's first midnight after the horizon
            for cal, which in cals.groups(HourlyRollup):
                conn.execute(delete(HourlyRollup).where(
                    HourlyRollup.hour_start >= _dt(cal.midnight_from(horizon)), *which))
            for cal, which in cals.groups(DailyRollup):
                conn.execute(delete(DailyRollup).where(
                    DailyRollup.day_start >= _dt(cal.midnight_from(horizon)), *which))
        _set_state(conn, **_zones_state(zones), hours=json.dumps(opening, sort_keys=True))
        newest_at = conn.execute(select(func.max(rc.observed_at))).scalar()
        # the rollups reach to the end of the local day (each unit's) of the newest change
        reach = _us(newest_at) if newest_at is not None else None
        all_series = conn.execute(select(rc.metric, rc.unit, rc.key).distinct()).all()
        out = _Rows(conn)
        for metric, unit, key in sorted(all_series):
            s = (metric, unit, key)
            where = _series_where(rc, s)
            prev = None
            if horizon is not None:
                where.append(rc.observed_at >= _dt(horizon))
                row = conn.execute(
                    select(type_coerce(rc.observed_at, String), rc.value,
                           type_coerce(rc.valid_until, String), rc.bound)
                    .where(*_series_where(rc, s), rc.observed_at < _dt(horizon))
                    .order_by(rc.observed_at.desc(), rc.id.desc()).limit(1)).first()
                prev = (_stored_us(row[0]), row[1], _until(row[2]), row[3]) if row else None
            changes = _changes(conn, where)
            if not changes and prev is None:
                continue
            assert reach is not None
            cal = cals.of(unit)
            final = cal.midnight_from(horizon) if horizon is not None else None
            start = cal.day_start(cal.date_of(changes[0][0])) if changes else final
            assert start is not None
            if final is not None and start < final:
                start = final
            end = cal.next_day_start(reach)
            hours_rows = hourly_rows(cal, prev, changes, start, end, _numeric(metric), _kind(metric))
            days = daily_rows(cal, hours_rows, _hours_of(opening, unit))
            counts["changes"] += len(changes)
            counts["hourly"] += len(hours_rows)
            counts["daily"] += len(days)
            out.add(s, hours_rows, days)
            if len(out.hourly) >= 100_000:
                out.write()
        out.write()
        if reach is not None:
            _set_state(conn, extended_to=cals.default.date_of(reach).isoformat(), reach_at=_dt(reach).isoformat())
        if conn.dialect.name == "postgresql":  # fresh statistics for the planner
            conn.execute(text("ANALYZE hourly_rollups"))
            conn.execute(text("ANALYZE daily_rollups"))
        _set_state(conn, built=datetime.now(UTC).isoformat(timespec="seconds"))
    return counts


def prune(history: HasEngine, raw_days: int, now: datetime) -> int:
    """Delete the raw changes older than `raw_days` (from the local midnight on or before
    `now - raw_days`), keeping per series the change still in force then; rollups stay.
    Returns the number of changes deleted."""
    rc = ReadingChange
    with history.engine.begin() as conn:
        _lock(conn)
        state = _state(conn)
        if "built" not in state:
            raise RuntimeError("the rollups are not built yet: rebuild() before pruning")
        cal = _Calendars(_zones(state)).default  # the horizon: a midnight of [site] timezone
        cutoff = cal.day_start(cal.date_of(_us(now)) - timedelta(days=raw_days))
        in_force = (
            select(rc.id, func.row_number().over(
                partition_by=(rc.metric, rc.unit, rc.key),
                order_by=(rc.observed_at.desc(), rc.id.desc())).label("n"))
            .where(rc.observed_at < _dt(cutoff))
            .subquery()
        )
        keep = select(in_force.c.id).where(in_force.c.n == 1)
        deleted = conn.execute(
            delete(rc).where(rc.observed_at < _dt(cutoff), rc.id.not_in(keep))
        ).rowcount
        old = _horizon(state)
        if old is None or cutoff > old:
            _set_state(conn, horizon=_dt(cutoff).isoformat())
    return int(deleted or 0)


# ---------------------------------------------------------------- queries

_LAST: dict[str, Any] = {}


def _last(value: str) -> Any:
    """The JSON text's value (numbers cached; objects parsed anew, they are mutable)."""
    cached = _LAST.get(value)
    if cached is not None:
        return cached
    parsed = json.loads(value)
    if isinstance(parsed, int | float) and len(_LAST) < 100_000:
        _LAST[value] = parsed
    return parsed


def _mean(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _figure(metric: str, open_mean: float | None, last: Any) -> float | None:
    """A day's figure as the history page reads it: the day's total for a count (its value
    at the day's end), the mean over opening hours for anything else."""
    if _kind(metric) == "count":
        return float(last) if isinstance(last, int | float) and not isinstance(last, bool) else None
    return open_mean


def _round(x: float | None) -> float | int | None:
    return x if x is None or not x.is_integer() else int(x)


def _so_far(conn: Connection, zones: Zones, metrics: list[str], units: list[str], now: datetime,
            opening: dict[str, str]) -> dict[Series, dict[str, Any]]:
    """Today's daily figures as they stand at `now` (today: each unit's local date, "day"):
    from today's hourly rows up to the hour in progress (which counts at its value now), not
    the rest of the day carried ahead; the value at closing only once the unit has closed."""
    cals = _Calendars(zones)
    h = HourlyRollup
    by: dict[Series, list[HourRow]] = defaultdict(list)
    for cal, which in cals.groups(h):
        day = now.astimezone(cal.tz).date()
        rows = conn.execute(
            select(h.metric, h.unit, h.key, type_coerce(h.hour_start, String), h.mean, h.min, h.max,
                   h.covered_seconds, h.last, h.bound)
            .where(h.metric.in_(metrics), h.unit.in_(units), *which,
                   h.hour_start >= _dt(cal.day_start(day)), h.hour_start < now)
            .order_by(h.metric, h.unit, h.key, h.hour_start)).all()
        for metric, unit, key, at, mean, lo, hi, cov, last, bound in rows:
            start = _stored_us(at)
            _he, hdate, hod = cal.hour(start)
            by[(metric, unit, key)].append((start, hdate, last, mean, lo, hi, cov, 0, None, hod, bound))
    out: dict[Series, dict[str, Any]] = {}
    for s, hours in by.items():
        cal = cals.of(s[1])
        day = now.astimezone(cal.tz).date()
        opening_hours = _hours_of(opening, s[1])
        (_d, _ds, last, mean, lo, hi, _cov, _n, open_mean, open_max, _close, _oc, bound), = daily_rows(
            cal, hours, opening_hours)
        out[s] = {"mean": mean, "min": lo, "max": hi, "last": last, "open_mean": open_mean,
                  "open_max": open_max, "bound": bound, "day": day,
                  "closed": opening_hours.end < 24
                  and now >= datetime.combine(day, time(opening_hours.end), tzinfo=cal.tz)}
    return out


def series(history: HasEngine, tz: ZoneInfo | Zones, metrics: list[str], units: list[str], start: date,
           end: date, grain: Literal["hour", "day"] = "day",
           today: date | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Rollup rows of the metrics and units from `start` to `end` (local dates, inclusive):
    {"metric", "unit", "key", "period" (ISO 8601 local start with offset), "mean", "min",
    "max", "last", "samples", "bound"}, ordered by metric, unit, key, period ("bound":
    "above" when a value in force in the period was a bound, such as T3 beyond the
    look-ahead horizon: its figures are then at least what they say). Daily rows also give
    "open_mean", "open_max" (over the unit's opening hours that day; None on a day it is
    closed), "at_close" (the value in force at closing time), "figure" (the day's figure:
    a count's total, else open_mean), "hours" ("8–16") and "complete" (False for `today`,
    default the site's today, and later days: their figures are not final). With `now`
    (whose date is then today), today's daily figures are those so far: up to the hour in
    progress, not the rest of the day carried ahead at the current value, and no value at
    closing before the unit has closed."""
    if grain not in ("hour", "day"):
        raise ValueError(f"grain must be 'hour' or 'day', not {grain!r}")
    if not metrics or not units or end < start:
        return []
    zones = Zones.one(tz)
    cals = _Calendars(zones)
    # each unit's today (its zone's date), unless the caller says which day is today
    todays = {u: now.astimezone(cals.of(u).tz).date() if now is not None
              else (today or datetime.now(cals.of(u).tz).date()) for u in units}
    with history.engine.connect() as conn:
        _check_zone(conn, zones)
        opening = _opening(_state(conn))
        partial = (_so_far(conn, zones, metrics, units, now, opening)
                   if now is not None and grain == "day" and any(start <= d <= end for d in todays.values())
                   else {})
        t: Any = HourlyRollup if grain == "hour" else DailyRollup
        if grain == "hour":
            # the stored instant as the driver gives it (text on SQLite): converted once per
            # distinct hour below, not once per row; each zone's units over its local days
            when: Any = type_coerce(t.hour_start, String)
            order = t.hour_start
            span: tuple[Any, ...] = (or_(*(and_(
                t.hour_start >= _dt(cal.day_start(start)),
                t.hour_start < _dt(cal.day_start(end + timedelta(days=1))), *which)
                for cal, which in cals.groups(t))),)
            extra: tuple[Any, ...] = (t.bound,)
        else:
            when = order = t.day
            span = (t.day >= start, t.day <= end)
            extra = (t.bound, t.open_mean, t.open_max, t.at_close)
        stmt = (select(t.metric, t.unit, t.key, when, t.mean, t.min, t.max, t.last, t.samples, *extra)
                .where(t.metric.in_(metrics), t.unit.in_(units), *span)
                .order_by(*(_by_code_point(conn, c) for c in (t.metric, t.unit, t.key)), order))
        if conn.dialect.name == "postgresql":  # a year of hours sorts in memory, not on disk
            conn.execute(text("SET LOCAL work_mem = '64MB'"))
        fetched = conn.execute(stmt).all()
    periods: dict[tuple[Any, ZoneInfo], str] = {}
    lasts = _LAST
    out: list[dict[str, Any]] = []
    append = out.append
    texts: dict[str, str] = {}
    for row in fetched:
        metric, unit, key, at, mean, lo, hi, last, samples = row[:9]
        zone = cals.of(unit).tz
        period = periods.get((at, zone))
        if period is None:
            if grain == "day":
                moment = datetime.combine(at, time(0), tzinfo=zone)
            elif isinstance(at, str):
                moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
            else:
                moment = at
            period = periods[(at, zone)] = moment.astimezone(zone).isoformat()
        value = lasts.get(last)
        if value is None:
            value = _last(last)
        item = {"metric": metric, "unit": unit, "key": key, "period": period,
                "mean": None if mean is None else round(mean, 3),
                "min": lo if lo is None or not lo.is_integer() else int(lo),
                "max": hi if hi is None or not hi.is_integer() else int(hi),
                "last": value, "samples": samples, "bound": row[9]}
        if grain == "day":
            open_mean, open_max, at_close = row[10:]
            sofar = partial.get((metric, unit, key)) if at == todays[unit] else None
            if sofar is not None:
                mean, open_mean, open_max = sofar["mean"], sofar["open_mean"], sofar["open_max"]
                value = _last(sofar["last"])
                if not sofar["closed"]:
                    at_close = None
                item.update({"mean": _mean(mean), "min": _round(sofar["min"]), "max": _round(sofar["max"]),
                             "last": value, "bound": sofar["bound"]})
            hours_text = texts.get(unit)
            if hours_text is None:
                hours_text = texts[unit] = _hours_of(opening, unit).text()
            figure = _figure(metric, open_mean, value)
            item.update({"open_mean": _mean(open_mean), "open_max": _round(open_max),
                         "at_close": None if at_close is None else _last(at_close),
                         "figure": None if figure is None else _round(round(figure, 3)),
                         "hours": hours_text, "complete": at < todays[unit]})
        append(item)
    return out


def _by_code_point(conn: Connection, column: Any) -> Any:
    """Names in code-point order on both databases (PostgreSQL's default collation follows
    its locale; SQLite compares bytes, and UTF-8 byte order is code-point order)."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def arrivals_heatmap(history: HasEngine, tz: ZoneInfo | Zones, units: list[str], start: date,
                     end: date) -> list[dict[str, Any]]:
    """Mean arrivals per weekday (0 = Monday) and clock hour ("08") over the working days
    from `start` to `end` with data, from each day's final `flow.arrivals_by_hour` summed
    over the units: [{"weekday", "hour", "mean", "days"}], by weekday and hour. An hour a
    day's series does not name counts as 0 arrivals that day."""
    if not units or end < start:
        return []
    d = DailyRollup
    with history.engine.connect() as conn:
        _check_zone(conn, tz)
        fetched = conn.execute(
            select(d.day, d.last).where(d.metric == "flow.arrivals_by_hour", d.unit.in_(units),
                                        d.day >= start, d.day <= end)).all()
    per_day: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day, last in fetched:
        if not is_working_day(day):
            continue
        totals = per_day[day]
        counts = json.loads(last)
        if isinstance(counts, dict):
            for hour, count in counts.items():
                if isinstance(count, int | float):
                    totals[str(hour)] += count
    days: dict[int, int] = defaultdict(int)
    sums: dict[tuple[int, str], float] = defaultdict(float)
    for day, totals in per_day.items():
        days[day.weekday()] += 1
        for hour, count in totals.items():
            sums[(day.weekday(), hour)] += count
    hours = sorted({hour for _, hour in sums})
    return [{"weekday": wd, "hour": hour, "mean": round(sums.get((wd, hour), 0.0) / days[wd], 2),
             "days": days[wd]}
            for wd in sorted(days) for hour in hours]


def compare(history: HasEngine, tz: ZoneInfo | Zones, metrics: list[str], units: list[str],
            period_a: tuple[date, date], period_b: tuple[date, date],
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Per metric, unit and key: the mean of the daily figures (a count's day total, else
    the mean over opening hours; see `series`) in period A and in period B (inclusive local
    dates; days without a figure left out) and the change B − A, absolute and in per cent
    of A: [{"metric", "unit", "key", "a_mean", "a_days", "b_mean", "b_days", "change",
    "change_pct"}], by metric, unit, key. Series metrics have no figure: left out. With
    `now`, today's figure is the day so far (see `series`)."""
    if not metrics or not units:
        return []
    d = DailyRollup
    means: dict[Series, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with history.engine.connect() as conn:
        zones = _check_zone(conn, tz)
        # today's figure is the day so far (each unit's today: Zones); a day already past is final
        todays = {now.astimezone(ZoneInfo(z)).date() for z in zones.spec().values()} if now is not None else set()
        partial = (_so_far(conn, zones, metrics, units, now, _opening(_state(conn)))
                   if now is not None and any(lo <= d <= hi for d in todays for lo, hi in (period_a, period_b))
                   else {})
        for which, (lo, hi) in enumerate((period_a, period_b)):
            for metric, unit, key, day, open_mean, last in conn.execute(
                select(d.metric, d.unit, d.key, d.day, d.open_mean, d.last)
                .where(d.metric.in_(metrics), d.unit.in_(units), d.day >= lo, d.day <= hi)
            ):
                if not _numeric(metric):
                    continue
                sofar = partial.get((metric, unit, key))
                if sofar is not None and sofar["day"] == day:
                    open_mean, last = sofar["open_mean"], sofar["last"]
                figure = _figure(metric, open_mean, _last(last))
                if figure is not None:
                    means[(metric, unit, key)][which].append(figure)
    out = []
    for (metric, unit, key), (a, b) in sorted(means.items()):
        a_mean = sum(a) / len(a) if a else None
        b_mean = sum(b) / len(b) if b else None
        change = b_mean - a_mean if a_mean is not None and b_mean is not None else None
        pct = change / a_mean * 100 if change is not None and a_mean else None
        out.append({"metric": metric, "unit": unit, "key": key, "a_mean": _mean(a_mean),
                    "a_days": len(a), "b_mean": _mean(b_mean), "b_days": len(b),
                    "change": _mean(change), "change_pct": None if pct is None else round(pct, 1)})
    return out


def _share(days: int, met: int) -> dict[str, Any]:
    return {"days": days, "met": met, "share": round(met / days, 3) if days else None}


def compliance(history: HasEngine, tz: ZoneInfo | Zones, units: list[str], start: date,
               end: date) -> dict[str, dict[str, Any]]:
    """Per unit, where the data exist, {"callback_same_day": {"days", "met", "share"}} over the
    days from `start` to `end` on which the unit is open (its opening hours as the rollups were
    built with); the definition is in the module's docstring. A unit without data is left out."""
    if not units or end < start:
        return {}
    callback: dict[str, dict[date, bool]] = defaultdict(dict)
    d = DailyRollup
    with history.engine.connect() as conn:
        _check_zone(conn, tz)
        opening = _opening(_state(conn))
        for unit, day, at_close in conn.execute(
            select(d.unit, d.day, d.at_close)
            .where(d.metric == "callback.pending", d.unit.in_(units), d.day >= start, d.day <= end)
        ):
            if not _hours_of(opening, unit).open_on(day) or at_close is None:
                continue  # closed, or nothing in force at closing time: no figure that day
            ok = _number(at_close) == 0
            callback[unit][day] = callback[unit].get(day, True) and ok
    return {unit: {"callback_same_day": _share(len(callback[unit]), sum(callback[unit].values()))}
            for unit in units if callback.get(unit)}
