import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.domain.freshness import FRESH, STALE, TABLET, UNAVAILABLE, choose, resolve, status_of
from dashboard.domain.readings import Reading

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
    assert Reading.from_json(r.to_json()) == r
    t3 = Reading("appointments.t3_days", "u", "lääkäri", 90, T0, "s", bound="above")
    wait = Reading("queue.estimated_wait_min", "u", "laboratorio", 25, T0, "s", range=(15, 40), note="arvio")
    assert Reading.from_json(t3.to_json()) == t3 and Reading.from_json(wait.to_json()) == wait
    # every field is written when it is set
    written = set(json.loads(t3.to_json())) | set(json.loads(wait.to_json()))
    assert {f.name for f in fields(Reading)} == written


def correction(at: datetime = T0, until: datetime = T0 + timedelta(hours=1), value: int = 3) -> Reading:
    return Reading("queue.waiting", "vastaanotto", "Päivystys", value, at, TABLET, manual=True,
                   entered_by="hoitaja1 (tabletti)", valid_until=until)


def test_a_valid_tablet_correction_overrides_a_fresh_feed_and_says_what_it_overrides():
    auto = reading(T0 + timedelta(minutes=5), source="jonot", value=11)  # newer than the correction
    fix = correction(value=10)
    (shown, status), under = resolve([(auto, FRESH), (fix, FRESH)])
    assert (shown, status) == (fix, FRESH)
    assert under == (auto, FRESH)
    assert choose([(auto, FRESH), (fix, FRESH)])[0] is fix
    # over a stale feed too, and then what it overrides is the stale value
    assert resolve([(auto, STALE), (fix, FRESH)]) == ((fix, FRESH), (auto, STALE))


def test_a_correction_overrides_only_while_valid_then_the_feed_shows_again():
    until = T0 + timedelta(hours=1)
    fix = correction(until=until)

    def shown_at(now: datetime) -> tuple[Reading, str]:
        auto = reading(now - timedelta(seconds=5), source="jonot", value=11)  # the feed keeps polling
        candidates = [(rd, status_of(rd, now, 10, TZ)[0]) for rd in (auto, fix)]
        return choose(candidates)

    assert shown_at(until - timedelta(seconds=1))[0] is fix
    after = shown_at(until)
    assert (after[0].source, after[0].value, after[1]) == ("jonot", 11, FRESH)
    assert resolve([(fix, STALE), (reading(until, source="jonot", value=11), FRESH)])[1] is None


def test_a_workbook_value_still_yields_to_a_fresh_feed_even_beside_a_correction_elsewhere():
    auto = reading(source="jonot", value=11)
    workbook = reading(T0 + timedelta(minutes=1), manual=True, source="tyokirja",
                       valid_until=T0 + timedelta(hours=8), value=7)
    assert resolve([(workbook, FRESH), (auto, FRESH)]) == ((auto, FRESH), None)
    # a correction overrides the workbook value as well; that is what it then corrects
    fix = correction(value=6)
    assert resolve([(workbook, FRESH), (fix, FRESH)]) == ((fix, FRESH), (workbook, FRESH))


def test_only_the_tablets_manual_values_override():
    auto = reading(source="jonot", value=11)
    not_a_correction = reading(T0 + timedelta(minutes=1), manual=False, source=TABLET, value=3)
    assert choose([(auto, FRESH), (not_a_correction, FRESH)])[0] is not_a_correction  # newest fresh
    other_manual = reading(T0 + timedelta(minutes=1), manual=True, source="tabletti-2",
                           valid_until=T0 + timedelta(hours=1), value=3)
    assert choose([(auto, FRESH), (other_manual, FRESH)])[0] is auto


def test_what_a_correction_overrides_is_never_yesterdays_value():
    yesterday = reading(T0 - timedelta(days=1), source="jonot", value=11)
    assert resolve([(yesterday, UNAVAILABLE), (correction(), FRESH)]) == ((correction(), FRESH), None)


def test_a_lone_reading_is_shown_whatever_it_is_and_overrides_nothing():
    """resolve's short way for one candidate (most tiles have one source) gives what the rules
    give: the only reading is shown, in its own status, and corrects nothing — for a feed's, a
    workbook's, a correction's (valid or run out) and a tablet value that is no correction, in
    every status."""
    lone = [reading(), reading(manual=True, source="tyokirja", valid_until=T0 + timedelta(hours=8)),
            correction(), correction(until=T0), reading(manual=False, source=TABLET)]
    for rd in lone:
        for status in (FRESH, STALE, UNAVAILABLE):
            assert resolve([(rd, status)]) == ((rd, status), None), (rd, status)
            assert choose([(rd, status)]) == (rd, status)
    # Friday's last figure seen on Monday morning, after the weekend: unavailable, still shown
    # as such (the wall says it is old), never dropped
    friday, monday = datetime(2026, 11, 20, 16, 0, tzinfo=TZ), datetime(2026, 11, 23, 7, 5, tzinfo=TZ)
    old = reading(friday)
    status = status_of(old, monday, 60, TZ)[0]
    assert status == UNAVAILABLE and resolve([(old, status)]) == ((old, UNAVAILABLE), None)
