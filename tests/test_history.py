from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect

from dashboard.history import History
from dashboard.readings import Reading

TZ = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.store


def day_series(day: date, series: dict[str, int], at: time = time(16, 30)) -> Reading:
    return Reading("flow.arrivals_by_hour", "vastaanotto", "", series,
                   datetime.combine(day, at, tzinfo=TZ), "virta")


def test_migrations_create_the_schema(history: History):
    names = inspect(history.engine).get_table_names()
    assert "reading_changes" in names and "alembic_version" in names


def test_times_come_back_with_their_offset(history: History):
    at = datetime(2026, 11, 23, 9, 15, tzinfo=TZ)
    history.record([("e1", Reading("queue.waiting", "u", "k", 2, at, "s"))])
    (row,) = history.changes()
    assert row.observed_at == at and row.observed_at.utcoffset() is not None


def test_typical_day_is_the_same_weekday_over_eight_weeks_without_holidays(history: History):
    today = date(2026, 12, 14)  # a Monday
    changes = []
    for weeks in range(1, 11):
        d = today - timedelta(weeks=weeks)
        series = {"08": 10 * weeks, "09": 4}
        changes.append((f"d{weeks}", day_series(d, series)))
        # an earlier, partial value of the same day must not count
        changes.append((f"p{weeks}", day_series(d, {"08": 1}, time(8, 30))))
    # Independence Day, Sunday 6.12.2026, is no Monday; add a Monday holiday: 2026-04-06
    # (Easter Monday) lies outside the window, so take the window's own: none — check that
    # another weekday's data is ignored instead.
    changes.append(("tue", day_series(today - timedelta(days=6), {"08": 999})))
    history.record(changes)
    typical = history.typical_arrivals("vastaanotto", today, TZ)
    # weeks 1..8 only: mean of 10..80 is 45
    assert typical == {"08": 45.0, "09": 4.0}


def test_a_public_holiday_is_left_out_of_the_typical_day(history: History):
    today = date(2027, 12, 13)  # Monday; 6.12.2027 (Independence Day) is the Monday before
    history.record([
        ("a", day_series(date(2027, 12, 6), {"09": 100})),
        ("b", day_series(date(2027, 11, 29), {"09": 20})),
    ])
    assert history.typical_arrivals("vastaanotto", today, TZ) == {"09": 20.0}


def test_commands_started_at_once_migrate_once(backend, tmp_path):  # type: ignore[no-untyped-def]
    """`collect` and `serve` started together on a fresh database take turns migrating."""
    import subprocess
    import sys
    import time
    import uuid

    from tests.conftest import DATABASE_URL

    if backend.name == "embedded":
        url, schema, data = None, None, tmp_path / "fresh"
    else:
        url, schema, data = DATABASE_URL, f"test_{uuid.uuid4().hex[:10]}", tmp_path / "fresh"
    code = (
        "import sys, time; from pathlib import Path; from dashboard.history import History;"
        "time.sleep(max(0, float(sys.argv[4]) - time.time()));"
        "History.open(sys.argv[1] or None, Path(sys.argv[2]), sys.argv[3] or None).ping()"
    )
    at = str(time.time() + 2)
    procs = [subprocess.Popen([sys.executable, "-c", code, url or "", str(data), schema or "", at],
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    finally:
        if schema:
            from sqlalchemy import text as sql

            from dashboard.history import make_engine

            engine = make_engine(url or "")
            with engine.begin() as conn:
                conn.execute(sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
