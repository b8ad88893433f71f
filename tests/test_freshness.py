from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.freshness import FRESH, STALE, UNAVAILABLE, choose, status_of
from dashboard.readings import Reading

TZ = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


def reading(at: datetime = T0, manual: bool = False, valid_until: datetime | None = None,
            source: str = "jonot", value: int = 5) -> Reading:
    return Reading("queue.waiting", "vastaanotto", "Päivystys", value, at, source,
                   manual=manual, valid_until=valid_until)


def test_a_reading_is_fresh_for_two_poll_intervals_then_stale():
    assert status_of(reading(), T0 + timedelta(seconds=20), 10, TZ) == (FRESH, T0 + timedelta(seconds=20))
    status, _ = status_of(reading(), T0 + timedelta(seconds=21), 10, TZ)
    assert status == STALE


def test_a_reading_from_yesterday_is_unavailable_today():
    yesterday = T0 - timedelta(days=1)
    assert status_of(reading(yesterday), T0, 10, TZ)[0] == UNAVAILABLE
    # ...even a minute after midnight in the site's time zone, whatever the server's zone
    late = datetime(2026, 11, 22, 23, 59, tzinfo=TZ)
    assert status_of(reading(late), late + timedelta(minutes=2), 3600, TZ)[0] == UNAVAILABLE


def test_a_manual_value_is_fresh_until_its_valid_until_then_stale():
    until = T0 + timedelta(hours=6)
    r = reading(manual=True, valid_until=until)
    assert status_of(r, until - timedelta(seconds=1), 10, TZ) == (FRESH, until)
    assert status_of(r, until, 10, TZ)[0] == STALE


def test_keys_are_trimmed_and_lower_case():
    assert Reading("queue.waiting", "u", "  Päivystys ", 1, T0, "s").key == "päivystys"


def test_fresh_automatic_wins_over_valid_manual():
    auto = reading(source="auto", value=7)
    manual = reading(T0 + timedelta(minutes=1), manual=True, valid_until=T0 + timedelta(hours=1),
                     value=3)
    assert choose([(manual, FRESH), (auto, FRESH)])[0] is auto


def test_valid_manual_fills_in_for_a_stale_feed():
    stale_auto = reading(T0 - timedelta(hours=1), source="auto")
    manual = reading(T0 - timedelta(hours=2), manual=True, valid_until=T0 + timedelta(hours=1))
    assert choose([(stale_auto, STALE), (manual, FRESH)])[0] is manual


def test_otherwise_the_newest_stale_is_shown():
    older = reading(T0 - timedelta(hours=2), source="a")
    newer_manual = reading(T0 - timedelta(hours=1), manual=True, source="m")
    assert choose([(older, STALE), (newer_manual, STALE)])[0] is newer_manual
    assert choose([(older, UNAVAILABLE), (newer_manual, STALE)])[0] is newer_manual


def test_a_reading_round_trips_through_json_field_for_field():
    from dataclasses import fields

    r = Reading("flow.arrivals_by_hour", "u", "K", {"08": 3}, T0, "s", manual=True,
                entered_by="anna", valid_until=T0 + timedelta(hours=1))
    back = Reading.from_json(r.to_json())
    assert back == r
    assert {f.name for f in fields(Reading)} == set(__import__("json").loads(r.to_json()))
