"""The history database's tables: the SQLAlchemy 2 models of every table the Alembic
migrations (dashboard/storage/migrations) create. Their own module, so that the history's
queries (history.py) and the rollups it keeps up to date (rollups.py) both read the schema
without reading each other."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the history database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ReadingChange(Base):
    """Every change of a reading's value, as it happened."""

    __tablename__ = "reading_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    manual: Mapped[int] = mapped_column(Integer, default=0)
    entered_by: Mapped[str | None] = mapped_column(String(200))
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    bound: Mapped[str | None] = mapped_column(String(8))  # "above": T3 beyond the horizon

    __table_args__ = (
        Index("ix_reading_changes_metric_unit_time", "metric", "unit", "observed_at"),
        Index("ix_reading_changes_series_time", "metric", "unit", "key", "observed_at", "id"),  # migration 0004
    )


class HourlyRollup(Base):
    """One series (metric, unit, key) over one clock hour of the site's time zone, kept by
    dashboard.storage.rollups from the raw changes (hour_start is the hour's UTC start instant)."""

    __tablename__ = "hourly_rollups"
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    last: Mapped[str] = mapped_column(Text)  # JSON text, as in reading_changes.value
    mean: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    covered_seconds: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    bound: Mapped[str | None] = mapped_column(String(8))  # "above": a value in force was a bound

    __table_args__ = {"sqlite_with_rowid": False}


class DailyRollup(Base):
    """One series over one local date of the site (day_start: its UTC start instant)."""

    __tablename__ = "daily_rollups"
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    day_start: Mapped[datetime] = mapped_column(UtcDateTime)
    last: Mapped[str] = mapped_column(Text)
    mean: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    covered_seconds: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    # over the unit's opening hours that day (None on a day it is closed)
    open_mean: Mapped[float | None] = mapped_column(Float)
    open_max: Mapped[float | None] = mapped_column(Float)
    at_close: Mapped[str | None] = mapped_column(Text)  # JSON text in force at closing time
    open_seconds: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = {"sqlite_with_rowid": False}


class RollupState(Base):
    """What the rollups were built with: the time zone, whether they cover the raw changes
    and the retention horizon (before it, raw changes are pruned and rollups are final)."""

    __tablename__ = "rollup_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Import(Base):
    """Every workbook import, accepted or rejected, with its report."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied: Mapped[int] = mapped_column(Integer)
    report: Mapped[str] = mapped_column(Text)
    archived: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ux_imports_applied_sha", "sha256", unique=True,
              sqlite_where=text("applied = 1"), postgresql_where=text("applied = 1")),
    )


class AuditEntry(Base):
    """Who did what, when: written once, never updated or deleted by the app."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    who: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text)


_CASE_GROUP = ("service", "age_group", "days_to_start", "urgent", "start")
_JUDGEMENT_GROUP = ("service", "age_group", "measure", "rule_id", "within", "days", "urgent", "end")


class AccessCase(Base):
    """One access-to-care case, as its newest report gave it (dashboard/domain/carecases.py): no
    personal data — the case key is an HMAC of the source's id, the age a group."""

    __tablename__ = "access_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    case_key: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    age_group: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[int] = mapped_column(Integer)
    contact: Mapped[date | None] = mapped_column(Date)
    assessment: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[date | None] = mapped_column(Date)
    start: Mapped[date | None] = mapped_column(Date)
    days_to_start: Mapped[int | None] = mapped_column(Integer)  # calendar days, assessment to start
    start_week: Mapped[date | None] = mapped_column(Date)  # the Monday of the start's week
    start_month: Mapped[date | None] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (  # migration 0007: the access page's queries read these indexes alone
        Index("ux_access_cases_source_key", "source", "case_key", unique=True),
        Index("ix_access_cases_unit_week", "unit", "start_week", *_CASE_GROUP),
        Index("ix_access_cases_unit_month", "unit", "start_month", *_CASE_GROUP),
        Index("ix_access_cases_week", "start_week", "unit", *_CASE_GROUP),
    )


class AccessJudgement(Base):
    """A case judged for one measure by the rule version in force when its interval began;
    the case's unit, service, age group and urgency are repeated so figures read one table."""

    __tablename__ = "access_judgements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    unit: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    age_group: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str | None] = mapped_column(String(60))
    begin: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    within: Mapped[int | None] = mapped_column(Integer)
    days: Mapped[int | None] = mapped_column(Integer)
    end_week: Mapped[date | None] = mapped_column(Date)
    end_month: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (  # migration 0007
        Index("ix_access_judgements_unit_week", "unit", "end_week", *_JUDGEMENT_GROUP),
        Index("ix_access_judgements_unit_month", "unit", "end_month", *_JUDGEMENT_GROUP),
        Index("ix_access_judgements_week", "end_week", "unit", *_JUDGEMENT_GROUP),
        Index("ix_access_judgements_unit_deadline", "unit", "deadline",
              sqlite_where=text('"end" IS NULL'), postgresql_where=text('"end" IS NULL')),
        Index("ix_access_judgements_late", "end", "unit", "deadline",
              sqlite_where=text("within = 0"), postgresql_where=text("within = 0")),
    )


class _CountPart:
    """The columns both kinds of access counts have: the week-in-month part and the group."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day_from: Mapped[date] = mapped_column(Date)
    day_to: Mapped[date] = mapped_column(Date)
    week: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    age_group: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[int] = mapped_column(Integer)


class AccessClosedCount(_CountPart, Base):
    """The judgements that ended on the days from `day_from` to `day_to` (a week's days in one
    month: whole weeks and whole months are made of these) in one group of what the access page
    groups by: how many, how many within the limit, and how many by calendar days (`days`, JSON
    `[days, n, days, n, ...]`). Kept by `write_cases` as signed changes (a case reported again
    takes its old judgements off and puts its new ones on), added up when read; made again from
    the judgements when they are judged again (`ensure_judged`), tidied nightly
    (`compact_counts`). Migration 0008."""

    __tablename__ = "access_closed_counts"
    measure: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str | None] = mapped_column(String(60))
    n: Mapped[int] = mapped_column(Integer)
    within_n: Mapped[int] = mapped_column(Integer)
    days: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_access_closed_counts_day", "day_from", "unit", "day_to"),)


class AccessStartCount(_CountPart, Base):
    """The cases that started on the days from `day_from` to `day_to`, by unit, service, age
    group and urgency: how many, and how many by calendar days from assessment to start (the
    page's bins). Kept like AccessClosedCount. Migration 0008."""

    __tablename__ = "access_start_counts"
    n: Mapped[int] = mapped_column(Integer)
    days: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_access_start_counts_day", "day_from", "unit", "day_to"),)


class AccessReference(Base):
    """A reference figure imported from THL's Sotkanet (`ohjaustaulu reference import`)."""

    __tablename__ = "access_reference"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    indicator: Mapped[str] = mapped_column(String(300))
    indicator_id: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(7))  # "2024" or "2024-03"
    value: Mapped[float] = mapped_column(Float)
    source_file: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ux_access_reference", "indicator", "region", "period", unique=True),)


class AccessForecast(Base):
    """The nightly forecast of one weekly series of one unit ("*": all units together)."""

    __tablename__ = "access_forecasts"
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    fitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    body: Mapped[str] = mapped_column(Text)  # JSON: weeks, points, low, high, method, level
