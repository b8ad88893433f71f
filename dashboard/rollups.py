"""Hourly and daily rollups of the reading history, their upkeep, retention, and the queries
of the history page: every figure there is read from the rollups, never from raw changes.

What a row says
---------------
The raw history holds *changes*: a row whenever a value changed. A value is in force from
its change until the next change of the same series (metric, unit, key); changes at the
same instant take effect in the order they were written (the last one wins).

An hourly row describes one series over one clock hour of the site's time zone (stored as
the hour's UTC start; hours are half-open, so a change at 09:00:00 belongs to the 09 hour):

- ``last``: the value in force at the end of the hour (the last change before the hour's
  end, also when that change was made in an earlier hour), as JSON text;
- ``min``, ``max``: over the values in force during the hour (a value replaced at the same
  instant it was set was never in force and does not count);
- ``mean``: the time-weighted mean over the part of the hour in which a value was in force,
  ``covered_seconds`` that part, ``samples`` the number of changes inside the hour.

*Which hours have a row:* an hour has a row when the series has a change on the same local
day at or before the hour's end. So a day's rows run from the hour of its first change to
the end of the day, carrying the value forward through the hours without changes; the first
of them also covers its minutes before the first change with the value carried in from
earlier (a value changing from 4 to 10 at 08:20 gives the 08 hour a mean of
(4·20 + 10·40) / 60 = 8). A day without changes has no rows and no daily row: the history
says "no data" for it rather than stretching yesterday's value over a weekend. Hours of
today after now carry the current value, as the value now in force, until the next change.

A daily row is the same over one local date (23, 24 or 25 hours), made from its hourly
rows: ``mean`` weighted by ``covered_seconds``, ``min``/``max`` over the hours, ``last`` of
the last hour, ``samples`` summed. Series metrics (``flow.arrivals_by_hour``, an object
hour → count) keep only ``last``; their mean, min and max are empty.

Upkeep (``maintain``, called by ``History.record`` in its transaction)
-----------------------------------------------------------------------
Because rows never run past the end of their day, a change can affect only (a) the rest of
its own day and (b) the first hour of the next later day on which the series changes (whose
first minutes carry the value in force before it). The unit of recomputation is therefore
the series-day: for each series the written changes touch, the local days from the earliest
to the latest new change — extended to the day of the series' next change when that lies
on a later day — are recomputed whole from the raw changes in them plus the one change in
force before them, their rows deleted and written again. That is at most 25 hourly rows and
one daily row per series-day, and it is idempotent by construction: the result depends only
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

Time zone, rebuild and retention
--------------------------------
Hours and days are those of the site's time zone, kept in ``rollup_state`` (default
Europe/Helsinki, the configuration's default) so that every process computes the same
days; ``rebuild(history, tz)`` recomputes everything for a zone (and records it), and
``needs_rebuild(history, tz)`` says when that is due (a database migrated with changes in
it, or another zone). ``prune`` deletes raw changes older than ``raw_days`` — from the
local midnight on or before that moment — keeping per series the one change still in force
at that horizon (it is the current value, not history); rollups are never pruned, and
before the horizon they are final: ``rebuild`` and late changes leave them as they are.

Queries
-------
``series``, ``arrivals_heatmap``, ``compare`` and ``compliance`` read the rollups and give
the same figures on SQLite and PostgreSQL: the arithmetic is done in Python on the same
IEEE doubles, and names are ordered by code point on both (``COLLATE "C"`` on PostgreSQL).
Means are rounded to 3 decimals; min, max and last are the values as recorded (4, not
4.0). The queries ask for the time zone and refuse one the rollups were not built in. ``compliance`` builds two proxies from the aggregate figures we have (we hold no
per-patient data):

- *callback the same day*: a working day (Mon–Fri, Finnish public holidays excluded) is met
  when ``callback.pending`` in force at closing time (the ``last`` of the hour before the
  closing hour) is 0 for every key — everyone who asked for a call back that day was called
  back that day;
- *assessment within 3 working days*: a working day is met when every profession's
  ``appointments.t3_days`` at the end of the day (daily ``last``) is at most 3 — the third
  free appointment lies within 3 days.

A day without the figure (no row that day) is not counted; ``share`` is ``met / days``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, bindparam, delete, func, select, text, type_coerce
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.clock import is_working_day
from dashboard.history import DailyRollup, History, HourlyRollup, ReadingChange, RollupState
from dashboard.metrics import CATALOGUE

DEFAULT_TZ = "Europe/Helsinki"
ROLLUP_LOCK = 7_246_002  # PostgreSQL advisory lock: one rollup writer at a time
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
HOUR_US = 3600 * US
_ONE_US = timedelta(microseconds=1)

Series = tuple[str, str, str]  # metric, unit, key
Change = tuple[int, str]  # observed at (µs since the epoch, UTC), value as JSON text
# hour start (µs), its local date, last, mean, min, max, covered seconds, samples
HourRow = tuple[int, date, str, float | None, float | None, float | None, float, int]
# local date, day start (µs), last, mean, min, max, covered seconds, samples
DayRow = tuple[date, int, str, float | None, float | None, float | None, float, int]

HOURLY_COLUMNS = ("metric", "unit", "hour_start", "key", "last", "mean", "min", "max",
                  "covered_seconds", "samples")
DAILY_COLUMNS = ("metric", "unit", "day", "key", "day_start", "last", "mean", "min", "max",
                 "covered_seconds", "samples")


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // _ONE_US


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class _Calendar:
    """Clock hours and local dates of one time zone, on µs since the epoch (cached)."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._hours: dict[int, tuple[int, date]] = {}
        self._days: dict[date, int] = {}

    def hour_floor(self, t: int) -> int:
        local = _dt(t).astimezone(self.tz)
        return _us(local.replace(minute=0, second=0, microsecond=0))

    def hour(self, h: int) -> tuple[int, date]:
        """The next hour's start and the local date of the hour starting at `h`."""
        info = self._hours.get(h)
        if info is None:
            info = (self.hour_floor(h + HOUR_US), _dt(h).astimezone(self.tz).date())
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


def hourly_rows(cal: _Calendar, prev: Change | None, changes: Sequence[Change], end: int,
                numeric: bool) -> list[HourRow]:
    """The hourly rows of one series from its changes (sorted, all at or after a local
    midnight, all before `end`, a local midnight too) and the change in force before them."""
    rows: list[HourRow] = []
    n = len(changes)
    if not n:
        return rows
    cur_text = prev[1] if prev else None
    cur_num = _number(cur_text) if (cur_text is not None and numeric) else None
    cur_date = cal.date_of(prev[0]) if prev else None
    i = 0
    h = cal.hour_floor(changes[0][0])
    while h < end:
        he, hdate = cal.hour(h)
        if i < n and changes[i][0] < he:
            seg = h
            wsum = 0.0
            wcov = 0
            cov = 0
            lo = math.inf
            hi = -math.inf
            samples = 0
            while i < n and changes[i][0] < he:
                t, value = changes[i]
                if cur_text is not None and t > seg:
                    d = t - seg
                    cov += d
                    if cur_num is not None:
                        wsum += cur_num * d
                        wcov += d
                        if cur_num < lo:
                            lo = cur_num
                        if cur_num > hi:
                            hi = cur_num
                seg = t
                cur_text = value
                cur_num = _number(value) if numeric else None
                samples += 1
                i += 1
            d = he - seg
            cov += d
            if cur_num is not None:
                wsum += cur_num * d
                wcov += d
                if cur_num < lo:
                    lo = cur_num
                if cur_num > hi:
                    hi = cur_num
            cur_date = hdate
            assert cur_text is not None
            if wcov:
                rows.append((h, hdate, cur_text, wsum / wcov, lo, hi, cov / US, samples))
            else:
                rows.append((h, hdate, cur_text, None, None, None, cov / US, samples))
        elif cur_text is not None and cur_date == hdate:  # carried forward
            rows.append((h, hdate, cur_text, cur_num, cur_num, cur_num, (he - h) / US, 0))
        elif i < n:  # nothing in force today yet: on to the hour of the next change
            h = cal.hour_floor(changes[i][0])
            continue
        else:
            break
        h = he
    return rows


def daily_rows(cal: _Calendar, hours: Sequence[HourRow]) -> list[DayRow]:
    """Daily rows from a series' hourly rows (in time order)."""
    out: list[DayRow] = []
    i = 0
    n = len(hours)
    while i < n:
        day = hours[i][1]
        wsum = 0.0
        wcov = 0.0
        cov = 0.0
        samples = 0
        lo = math.inf
        hi = -math.inf
        last = hours[i][2]
        while i < n and hours[i][1] == day:
            _h, _day, last, mean, mn, mx, covered, count = hours[i]
            cov += covered
            samples += count
            if mean is not None and mn is not None and mx is not None:
                wsum += mean * covered
                wcov += covered
                if mn < lo:
                    lo = mn
                if mx > hi:
                    hi = mx
            i += 1
        if wcov:
            out.append((day, cal.day_start(day), last, wsum / wcov, lo, hi, cov, samples))
        else:
            out.append((day, cal.day_start(day), last, None, None, None, cov, samples))
    return out


def _numeric(metric: str) -> bool:
    m = CATALOGUE.get(metric)
    return not (m and m.series)


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


def _zone(state: dict[str, str]) -> ZoneInfo:
    return ZoneInfo(state.get("timezone", DEFAULT_TZ))


def _horizon(state: dict[str, str]) -> int | None:
    value = state.get("horizon")
    return _us(datetime.fromisoformat(value)) if value else None


def needs_rebuild(history: History, tz: ZoneInfo) -> bool:
    """True when the rollups do not cover the raw changes (a database that held changes
    before the rollups came) or were built for another time zone: call `rebuild` then."""
    with history.engine.connect() as conn:
        state = _state(conn)
    return "built" not in state or _zone(state).key != tz.key


def _check_zone(conn: Connection, tz: ZoneInfo) -> None:
    built = _zone(_state(conn))
    if built.key != tz.key:
        raise ValueError(f"the rollups are in {built.key}, not {tz.key}: rebuild(history, tz) first")


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
        self.hourly += [(metric, unit, at(h), key, last, mean, lo, hi, cov, n)
                        for h, _day, last, mean, lo, hi, cov, n in hours]
        self.daily += [(metric, unit, on(day), key, at(start), last, mean, lo, hi, cov, n)
                       for day, start, last, mean, lo, hi, cov, n in days]

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


def _changes(conn: Connection, where: list[Any]) -> list[Change]:
    rc = ReadingChange
    stmt = (select(type_coerce(rc.observed_at, String), rc.value).where(*where)
            .order_by(rc.observed_at, rc.id))
    return [(_stored_us(at), value) for at, value in conn.execute(stmt).all()]


_CHUNK = 100  # series per look-up statement


def maintain(conn: Connection, written: Sequence[tuple[Any, ...]]) -> None:
    """Bring the rollups up to date with changes just written (metric, unit, key,
    observed_at), in the caller's transaction: see "Upkeep" in the module's docstring."""
    _lock(conn)
    state = _state(conn)
    cal = _Calendar(_zone(state))
    horizon = _horizon(state)
    spans: dict[Series, list[int]] = {}
    for metric, unit, key, observed_at in written:
        t = _us(observed_at)
        span = spans.get((metric, unit, key))
        if span is None:
            spans[(metric, unit, key)] = [t, t]
        else:
            span[0] = min(span[0], t)
            span[1] = max(span[1], t)
    windows: list[tuple[Series, int, int]] = []
    for s, (tmin, tmax) in sorted(spans.items()):
        start = cal.day_start(cal.date_of(tmin))
        if horizon is not None and start < horizon:
            start = horizon  # before the horizon the rollups are final
        windows.append((s, start, max(cal.day_start(cal.date_of(tmax) + timedelta(days=1)), start)))
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
            if nxt is not None:  # its first hour carries the value in force before it
                end = cal.day_start(cal.date_of(_us(nxt)) + timedelta(days=1))
                windows[i + j] = (s, start, end)
    prev: dict[Series, Change] = {}
    ids = list(prev_ids)
    for i in range(0, len(ids), 500):
        for id_, at, value in conn.execute(
            select(rc.id, type_coerce(rc.observed_at, String), rc.value)
            .where(rc.id.in_(ids[i:i + 500]))
        ):
            prev[prev_ids[id_]] = (_stored_us(at), value)
    by_window: dict[tuple[int, int], list[Series]] = defaultdict(list)
    for s, start, end in windows:
        by_window[(start, end)].append(s)
    changes: dict[Series, list[Change]] = defaultdict(list)
    for (start, end), group in by_window.items():
        wanted = set(group)
        for metric, unit, key, at, value in conn.execute(
            select(rc.metric, rc.unit, rc.key, type_coerce(rc.observed_at, String), rc.value)
            .where(rc.metric.in_({s[0] for s in group}), rc.unit.in_({s[1] for s in group}),
                   rc.key.in_({s[2] for s in group}), rc.observed_at >= _dt(start),
                   rc.observed_at < _dt(end))
            .order_by(rc.observed_at, rc.id)
        ):
            if (metric, unit, key) in wanted:
                changes[(metric, unit, key)].append((_stored_us(at), value))
    out = _Rows(conn)
    hour_gone: list[dict[str, Any]] = []
    day_gone: list[dict[str, Any]] = []
    for s, start, end in windows:
        hours = hourly_rows(cal, prev.get(s), changes.get(s, []), end, _numeric(s[0]))
        params = {"m": s[0], "u": s[1], "k": s[2]}
        hour_gone.append({**params, "a": _dt(start), "b": _dt(end)})
        day_gone.append({**params, "a": cal.date_of(start), "b": cal.date_of(end)})
        out.add(s, hours, daily_rows(cal, hours))
    if not hour_gone:
        return
    h, d = HourlyRollup, DailyRollup
    conn.execute(delete(h).where(
        h.metric == bindparam("m"), h.unit == bindparam("u"), h.key == bindparam("k"),
        h.hour_start >= bindparam("a"), h.hour_start < bindparam("b")), hour_gone)
    conn.execute(delete(d).where(
        d.metric == bindparam("m"), d.unit == bindparam("u"), d.key == bindparam("k"),
        d.day >= bindparam("a"), d.day < bindparam("b")), day_gone)
    out.write()


def rebuild(history: History, tz: ZoneInfo) -> dict[str, int]:
    """Compute every rollup from the raw changes, in `tz` (recorded as the site's zone), in
    one transaction; rollups before the retention horizon are kept as they are. Returns the
    numbers of raw changes read and of hourly and daily rows written."""
    cal = _Calendar(tz)
    counts = {"changes": 0, "hourly": 0, "daily": 0}
    rc = ReadingChange
    with history.engine.begin() as conn:
        _lock(conn)
        horizon = _horizon(_state(conn))
        if horizon is None:
            conn.execute(delete(HourlyRollup))
            conn.execute(delete(DailyRollup))
        else:
            conn.execute(delete(HourlyRollup).where(HourlyRollup.hour_start >= _dt(horizon)))
            conn.execute(delete(DailyRollup).where(DailyRollup.day_start >= _dt(horizon)))
        _set_state(conn, timezone=tz.key)
        all_series = conn.execute(select(rc.metric, rc.unit, rc.key).distinct()).all()
        out = _Rows(conn)
        for metric, unit, key in sorted(all_series):
            s = (metric, unit, key)
            where = _series_where(rc, s)
            prev = None
            if horizon is not None:
                where.append(rc.observed_at >= _dt(horizon))
                row = conn.execute(
                    select(rc.observed_at, rc.value)
                    .where(*_series_where(rc, s), rc.observed_at < _dt(horizon))
                    .order_by(rc.observed_at.desc(), rc.id.desc()).limit(1)).first()
                prev = (_us(row[0]), row[1]) if row else None
            changes = _changes(conn, where)
            if not changes:
                continue
            end = cal.day_start(cal.date_of(changes[-1][0]) + timedelta(days=1))
            hours = hourly_rows(cal, prev, changes, end, _numeric(metric))
            days = daily_rows(cal, hours)
            counts["changes"] += len(changes)
            counts["hourly"] += len(hours)
            counts["daily"] += len(days)
            out.add(s, hours, days)
            if len(out.hourly) >= 100_000:
                out.write()
        out.write()
        if conn.dialect.name == "postgresql":  # fresh statistics for the planner
            conn.execute(text("ANALYZE hourly_rollups"))
            conn.execute(text("ANALYZE daily_rollups"))
        _set_state(conn, built=datetime.now(UTC).isoformat(timespec="seconds"))
    return counts


def prune(history: History, raw_days: int, now: datetime) -> int:
    """Delete the raw changes older than `raw_days` (from the local midnight on or before
    `now - raw_days`), keeping per series the change still in force then; rollups stay.
    Returns the number of changes deleted."""
    rc = ReadingChange
    with history.engine.begin() as conn:
        _lock(conn)
        state = _state(conn)
        if "built" not in state:
            raise RuntimeError("the rollups are not built yet: rebuild() before pruning")
        cal = _Calendar(_zone(state))
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


def series(history: History, tz: ZoneInfo, metrics: list[str], units: list[str], start: date,
           end: date, grain: Literal["hour", "day"] = "day") -> list[dict[str, Any]]:
    """Rollup rows of the metrics and units from `start` to `end` (local dates, inclusive):
    {"metric", "unit", "key", "period" (ISO 8601 local start with offset), "mean", "min",
    "max", "last", "samples"}, ordered by metric, unit, key, period."""
    if grain not in ("hour", "day"):
        raise ValueError(f"grain must be 'hour' or 'day', not {grain!r}")
    if not metrics or not units or end < start:
        return []
    with history.engine.connect() as conn:
        _check_zone(conn, tz)
        t: Any = HourlyRollup if grain == "hour" else DailyRollup
        if grain == "hour":
            # the stored instant as the driver gives it (text on SQLite): converted once per
            # distinct hour below, not once per row
            when: Any = type_coerce(t.hour_start, String)
            order = t.hour_start
            span = (t.hour_start >= datetime.combine(start, time(0), tzinfo=tz),
                    t.hour_start < datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz))
        else:
            when = order = t.day
            span = (t.day >= start, t.day <= end)
        stmt = (select(t.metric, t.unit, t.key, when, t.mean, t.min, t.max, t.last, t.samples)
                .where(t.metric.in_(metrics), t.unit.in_(units), *span)
                .order_by(*(_by_code_point(conn, c) for c in (t.metric, t.unit, t.key)), order))
        if conn.dialect.name == "postgresql":  # a year of hours sorts in memory, not on disk
            conn.execute(text("SET LOCAL work_mem = '64MB'"))
        fetched = conn.execute(stmt).all()
    periods: dict[Any, str] = {}
    lasts = _LAST
    out: list[dict[str, Any]] = []
    append = out.append
    for metric, unit, key, at, mean, lo, hi, last, samples in fetched:
        period = periods.get(at)
        if period is None:
            if grain == "day":
                moment = datetime.combine(at, time(0), tzinfo=tz)
            elif isinstance(at, str):
                moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
            else:
                moment = at
            period = periods[at] = moment.astimezone(tz).isoformat()
        value = lasts.get(last)
        if value is None:
            value = _last(last)
        append({"metric": metric, "unit": unit, "key": key, "period": period,
                "mean": None if mean is None else round(mean, 3),
                "min": lo if lo is None or not lo.is_integer() else int(lo),
                "max": hi if hi is None or not hi.is_integer() else int(hi),
                "last": value, "samples": samples})
    return out


def _by_code_point(conn: Connection, column: Any) -> Any:
    """Names in code-point order on both databases (PostgreSQL's default collation follows
    its locale; SQLite compares bytes, and UTF-8 byte order is code-point order)."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def arrivals_heatmap(history: History, tz: ZoneInfo, units: list[str], start: date,
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


def compare(history: History, tz: ZoneInfo, metrics: list[str], units: list[str],
            period_a: tuple[date, date], period_b: tuple[date, date]) -> list[dict[str, Any]]:
    """Per metric, unit and key: the mean of the daily means in period A and in period B
    (inclusive local dates; days without data left out) and the change B − A, absolute and
    in per cent of A: [{"metric", "unit", "key", "a_mean", "a_days", "b_mean", "b_days",
    "change", "change_pct"}], by metric, unit, key. Series metrics have no mean: left out."""
    if not metrics or not units:
        return []
    d = DailyRollup
    means: dict[Series, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with history.engine.connect() as conn:
        _check_zone(conn, tz)
        for which, (lo, hi) in enumerate((period_a, period_b)):
            for metric, unit, key, mean in conn.execute(
                select(d.metric, d.unit, d.key, d.mean)
                .where(d.metric.in_(metrics), d.unit.in_(units), d.day >= lo, d.day <= hi,
                       d.mean.is_not(None))
            ):
                if mean is not None:
                    means[(metric, unit, key)][which].append(mean)
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


def compliance(history: History, tz: ZoneInfo, units: list[str], start: date, end: date,
               opening_hours: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """Per unit, where the data exist, {"callback_same_day": {"days", "met", "share"},
    "assessment_3wd": {...}} over the working days from `start` to `end`; the definitions
    (proxies from aggregate figures) are in the module's docstring. A unit without data
    is left out, and so is an indicator without data."""
    working = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    working = [day for day in working if is_working_day(day)]
    if not units or not working:
        return {}
    closing = opening_hours[1]
    at_close = {_us(datetime.combine(day, time(closing - 1), tzinfo=tz)): day for day in working}
    callback: dict[str, dict[date, bool]] = defaultdict(dict)
    t3: dict[str, dict[date, bool]] = defaultdict(dict)
    h, d = HourlyRollup, DailyRollup
    instants = sorted(at_close)
    with history.engine.connect() as conn:
        _check_zone(conn, tz)
        for i in range(0, len(instants), 500):
            chunk = [_dt(t) for t in instants[i:i + 500]]
            for unit, hour_start, last in conn.execute(
                select(h.unit, h.hour_start, h.last)
                .where(h.metric == "callback.pending", h.unit.in_(units), h.hour_start.in_(chunk))
            ):
                day = at_close[_us(hour_start)]
                ok = _number(last) == 0
                callback[unit][day] = callback[unit].get(day, True) and ok
        working_set = set(working)
        for unit, day, last in conn.execute(
            select(d.unit, d.day, d.last)
            .where(d.metric == "appointments.t3_days", d.unit.in_(units), d.day >= start,
                   d.day <= end)
        ):
            if day not in working_set:
                continue
            value = _number(last)
            ok = value is not None and value <= 3
            t3[unit][day] = t3[unit].get(day, True) and ok
    out: dict[str, dict[str, Any]] = {}
    for unit in units:
        figures: dict[str, Any] = {}
        if callback.get(unit):
            figures["callback_same_day"] = _share(len(callback[unit]), sum(callback[unit].values()))
        if t3.get(unit):
            figures["assessment_3wd"] = _share(len(t3[unit]), sum(t3[unit].values()))
        if figures:
            out[unit] = figures
    return out
