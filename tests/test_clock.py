from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import time_machine

from dashboard.domain.clock import Clock, demo_clock, is_working_day, next_working_days

TZ = ZoneInfo("Europe/Helsinki")


def test_working_days_leave_out_weekends_and_finnish_public_holidays():
    assert is_working_day(date(2026, 12, 4))  # Friday
    assert not is_working_day(date(2026, 12, 5))  # Saturday
    assert not is_working_day(date(2026, 12, 24))  # jouluaatto (Christmas Eve)
    assert not is_working_day(date(2027, 1, 6))  # loppiainen (Epiphany), a Wednesday
    # Independence Day 6.12.2027 is a Monday
    assert next_working_days(date(2027, 12, 3), 3) == [date(2027, 12, 7), date(2027, 12, 8), date(2027, 12, 9)]


@time_machine.travel(datetime(2026, 11, 23, 8, 30, tzinfo=UTC), tick=False)  # 10.30 in Helsinki
def test_demo_clock_is_real_time_inside_opening_hours():
    clock = demo_clock(TZ, (8, 16), time(10), 1.0)
    assert not clock.shifted
    assert clock.now().strftime("%H.%M") == "10.30"


@time_machine.travel(datetime(2026, 11, 21, 23, 0, tzinfo=UTC), tick=False)  # Sunday 01.00
def test_demo_clock_outside_opening_hours_moves_into_the_last_working_day():
    clock = demo_clock(TZ, (8, 16), time(10), 1.0)
    assert clock.shifted
    assert clock.now() == datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # Friday
    again = Clock.from_dict(TZ, clock.to_dict())
    assert again.now() == clock.now()


def test_demo_clock_runs_at_its_speed():
    with time_machine.travel(datetime(2026, 11, 21, 23, 0, tzinfo=UTC), tick=False) as traveller:
        clock = demo_clock(TZ, (8, 16), time(10), 10.0)
        traveller.shift(60)
        assert clock.now() == datetime(2026, 11, 20, 10, 10, tzinfo=TZ)


def test_a_pinned_demo_clock_shows_the_same_time_of_a_working_day_at_any_hour():
    """`demo --clock-at 10:00` (the tests' demo): 10.00 of a working day at whatever hour and
    on whatever day it starts — a working day at 02.00, 12.00 (inside opening hours, where the
    unpinned clock is real time) and 23.00, a Saturday, a public holiday."""
    starts = [datetime(2026, 12, 3, h, 0, tzinfo=TZ) for h in (2, 8, 12, 23)]  # Thursday
    starts += [datetime(2026, 12, 5, h, 0, tzinfo=TZ) for h in (2, 12, 23)]  # Saturday
    starts += [datetime(2026, 12, 25, h, 0, tzinfo=TZ) for h in (2, 12, 23)]  # Christmas Day, a Friday
    for real in starts:
        with time_machine.travel(real, tick=False):
            clock = demo_clock(TZ, (8, 16), time(10), 1.0, pinned=True)
            shown = clock.now()
        assert clock.shifted and shown.strftime("%H.%M") == "10.00", real
        assert is_working_day(shown.date()) and shown.date() <= real.date(), real
    with time_machine.travel(datetime(2026, 12, 3, 12, 0, tzinfo=TZ), tick=False):
        assert not demo_clock(TZ, (8, 16), time(10), 1.0).shifted  # unpinned: real time then
