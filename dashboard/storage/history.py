"""The history database: its engine, migrations and queries (its tables, the SQLAlchemy 2
models, are in tables.py). Alembic migrations in dashboard/storage/migrations create and
evolve it.

SQLite in the data folder by default; DATABASE_URL (PostgreSQL) in production. Times are
stored in UTC and returned with their offset.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from dashboard.domain.clock import is_public_holiday
from dashboard.domain.readings import Reading
from dashboard.storage.rollups import maintain
from dashboard.storage.tables import AuditEntry, Import, ReadingChange

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for the URL; with `schema` (PostgreSQL), everything lives in that schema."""
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # a database that is away is an error within seconds (screens and collectors go on
        # without it), not a request that hangs until TCP gives up
        kwargs["connect_args"] = {"connect_timeout": 5}
        if schema:
            kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        SqliteTurns().listen(engine)
    elif schema:
        with engine.begin() as conn:
            # CREATE SCHEMA IF NOT EXISTS is not safe against itself at the same moment:
            # commands starting together take turns (a lock of this schema's name only)
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(:s))"), {"k": MIGRATION_LOCK, "s": schema})
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine


SQLITE_BUSY_MS = 10_000  # how long a writer waits for another process's write to end


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.close()


class SqliteTurns:
    """SQLite has one writer at a time, and a writer kept waiting polls for the lock (every
    100 ms at most) until its busy timeout (10 s): whoever polls at the right moment wins, not
    whoever waited longest. On a loaded 2-core machine the demo's start failed "database is
    locked" adding its people while the history writer, the access feed and the seeding of
    past weeks (3-6 s per transaction there) kept taking the lock from each other.

    So a process's writers take turns, first come first served, before their first write;
    none of them waits on SQLite for another of the same process. After half a second of
    back-to-back writing the next turn begins 120 ms late, so that a writer of another process
    (`collect` beside `serve`) gets in. A write that holds the database for longer than the
    others could wait is logged, with what it was."""

    STREAK, GAP, PAUSE, LONG, QUEUE = 0.5, 0.1, 0.12, 5.0, 60.0
    WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")

    def __init__(self) -> None:
        self.turns = threading.Condition()
        self.next = self.serving = 0
        self.streak_from = self.last_end = 0.0

    def listen(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)
        event.listen(engine, "commit", self.ended)
        event.listen(engine, "rollback", self.ended)
        # a connection that goes back to the pool or is dropped mid-transaction ends its turn too
        event.listen(engine.pool, "reset", self.reset)
        event.listen(engine.pool, "invalidate", self.dropped)

    def before(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "writing" in conn.info or not statement.lstrip()[:7].upper().startswith(self.WRITES):
            return
        with self.turns:
            ticket, self.next = self.next, self.next + 1
            if not self.turns.wait_for(lambda: self.serving >= ticket, timeout=self.QUEUE):
                # a turn that never ended (a transaction left open, a nested write): go past it
                logging.getLogger(__name__).warning(
                    "the history database (SQLite): a write waited %.0f s for its turn; going ahead", self.QUEUE)
                self.serving = max(self.serving, ticket)
            now = time.monotonic()
            if now - self.last_end > self.GAP:  # the last streak ended in a pause of its own
                self.streak_from = now
            elif now - self.streak_from >= self.STREAK:
                time.sleep(self.PAUSE)  # holding the turn: the whole process pauses its writing
                self.streak_from = time.monotonic()
        conn.info["writing"] = (ticket, None)  # the database is this transaction's once the write has run

    def after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        held = conn.info.get("writing")
        if held is not None and held[1] is None:
            conn.info["writing"] = (held[0], (time.monotonic(), statement))

    def ended(self, conn: Any) -> None:
        self.release(conn.info)

    def reset(self, _dbapi: Any, record: Any, _state: Any) -> None:
        self.release(record.info)

    def dropped(self, _dbapi: Any, record: Any, _err: Any) -> None:
        self.release(record.info)

    def release(self, info: dict[str, Any]) -> None:
        if "writing" not in info:
            return
        ticket, began = info.pop("writing")
        now = time.monotonic()
        with self.turns:
            self.last_end = now
            self.serving = max(self.serving, ticket + 1)
            self.turns.notify_all()
        if began is not None and now - began[0] > self.LONG:
            logging.getLogger(__name__).warning(
                "the history database (SQLite) was held for writing %.1f s, from: %s", now - began[0],
                " ".join(began[1].split())[:120])


MIGRATION_LOCK = 7_246_001  # PostgreSQL advisory lock key: one migrator at a time


# The newest revision in migrations/versions (tests/test_history.py checks it is Alembic's head).
SCHEMA_REVISION = "0009"


def schema_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at; None for a database without one."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision. Commands started at once (`collect`
    and `serve`) must not both create the tables: they take turns, and the second finds the
    schema current. A schema that is current already is left as it is without loading Alembic:
    its imports were 0.4 s of every command's 1 s start (`ohjaustaulu source stop`, say)."""
    if schema_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # per schema: installations (and tests) in other schemas of the database go on
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
                         {"k": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """For SQLite, a file lock beside the database file (PostgreSQL locks in the database)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class History:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._typical_cache: dict[tuple[str, date], dict[str, float]] = {}
        self._past_cache: dict[tuple[str, date], tuple[dict[str, int], ...]] = {}

    @classmethod
    def open(cls, url: str | None, data_dir: Path, schema: str | None = None) -> History:
        data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url or f"sqlite:///{data_dir / 'ohjaustaulu.db'}", schema)
        migrate(engine)
        return cls(engine)

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def record(self, changes: list[tuple[str | None, Reading]], rollups: bool = True) -> int:
        """Record changes (event id, reading); an event id seen before is skipped, so a
        change delivered twice is written once. The hourly and daily rollups of the series
        and days the written changes touch are brought up to date in the same transaction
        (dashboard.storage.rollups.maintain); with `rollups=False` they are not, and the caller
        rebuilds them (dashboard.storage.rollups.rebuild) once it has written all it had."""
        if not changes:
            return 0
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": event_id,
                "source": rd.source,
                "metric": rd.metric,
                "unit": rd.unit,
                "key": rd.key,
                "value": json.dumps(rd.value, separators=(",", ":")),
                "observed_at": rd.observed_at,
                "recorded_at": now,
                "manual": int(rd.manual),
                "entered_by": rd.entered_by,
                "valid_until": rd.valid_until,
                "bound": rd.bound,
            }
            for event_id, rd in changes
        ]
        insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[
            self.engine.dialect.name
        ]  # both dialects' inserts have on_conflict_do_nothing
        stmt = (
            insert(ReadingChange)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(ReadingChange.metric, ReadingChange.unit, ReadingChange.key,
                       ReadingChange.observed_at)
        )
        with self.engine.begin() as conn:
            written = conn.execute(stmt, rows).all()
            if written and rollups:  # the rollups of the hours and days these changes touch, same transaction
                maintain(conn, [tuple(row) for row in written])
            return len(written)

    def changes(self, metric: str | None = None, unit: str | None = None) -> list[ReadingChange]:
        stmt = select(ReadingChange).order_by(ReadingChange.observed_at, ReadingChange.id)
        if metric:
            stmt = stmt.where(ReadingChange.metric == metric)
        if unit:
            stmt = stmt.where(ReadingChange.unit == unit)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).all())  # type: ignore[arg-type]

    def same_weekday_arrivals(self, unit: str, day: date, tz: ZoneInfo) -> tuple[dict[str, int], ...]:
        """Each of the same weekday's past days (the previous 8 weeks, public holidays and
        days without data left out) as its final arrivals per clock hour, oldest first: what
        the typical day and the forecast of the day are made of. Past days do not change:
        kept per unit and day."""
        cached = self._past_cache.get((unit, day))
        if cached is not None:
            return cached
        days = [day - timedelta(weeks=w) for w in range(1, 9)]
        days = [d for d in days if not is_public_holiday(d)]
        start = datetime.combine(min(days, default=day), datetime.min.time(), tzinfo=tz)
        end = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        stmt = (
            select(ReadingChange.observed_at, ReadingChange.value)
            .where(ReadingChange.metric == "flow.arrivals_by_hour")
            .where(ReadingChange.unit == unit)
            .where(ReadingChange.observed_at >= start, ReadingChange.observed_at < end)
            .order_by(ReadingChange.observed_at, ReadingChange.id)
        )
        last_per_day: dict[date, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for observed_at, value in conn.execute(stmt):
                local_day = observed_at.astimezone(tz).date()
                parsed = json.loads(value)
                if local_day in days and isinstance(parsed, dict):  # "null": a source's outage
                    last_per_day[local_day] = parsed
        past = tuple(last_per_day[d] for d in sorted(last_per_day))
        self._past_cache[(unit, day)] = past
        return past

    def typical_arrivals(self, unit: str, day: date, tz: ZoneInfo) -> dict[str, float]:
        """The typical day beside today's arrivals: per clock hour, the mean of the same
        weekday over the previous 8 weeks, public holidays and days without data left out."""
        cached = self._typical_cache.get((unit, day))
        if cached is not None:
            return cached
        past = self.same_weekday_arrivals(unit, day, tz)
        sums: dict[str, float] = defaultdict(float)
        for series in past:
            for hour, count in series.items():
                sums[hour] += count
        n = len(past)
        typical = {h: round(s / n, 1) for h, s in sorted(sums.items())} if n else {}
        self._typical_cache[(unit, day)] = typical
        return typical

    def applied_import(self, sha256: str) -> Import | None:
        stmt = select(Import).where(Import.sha256 == sha256, Import.applied == 1)
        with self.engine.connect() as conn:
            return conn.execute(stmt).first()  # type: ignore[return-value]

    def imports(self) -> list[Import]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(Import).order_by(Import.id)).all())  # type: ignore[arg-type]

    def audit(self) -> list[AuditEntry]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]
