"""Escalation: rules during opening hours, the present ratio over what was seen, a shift
lead's level beside the rules', the level as a history series, and rules that can never
change a level. The levels are checked against a slow recomputation of our own, from the
readings and the configuration's text, on realistic times of the site's calendar."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.base import poll
from collectors.historywriter import drain
from collectors.registry import collector_for
from collectors.scheduler import ESCALATION_METRIC, build_scheduler, connected, record_escalation
from dashboard.config import Config, load_config, parse_config
from dashboard.domain.escalation import evaluate, unit_levels, useless_rules
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import build
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from tests.conftest import EXAMPLE_CONFIG, cli

TZ = ZoneInfo("Europe/Helsinki")

# the units' hours as this test knows them (the configuration below is written from these)
HOURS: dict[str, Any] = {
    "vastaanotto": (8, 16, "working"),
    "paivystys": "always",
    "laboratorio": (7, 15, "every"),
}
# the days of these tests that are Finnish public holidays (looked up by hand)
HOLIDAYS = {date(2027, 1, 6), date(2026, 12, 24), date(2026, 5, 14)}
POLL = {"q": 5, "c": 10, "s": 15}
RULES: list[dict[str, Any]] = [
    {"metric": "queue.longest_wait_min", "above": 30, "level": 2},
    {"metric": "queue.longest_wait_min", "above": 60, "level": 3},
    {"metric": "queue.waiting", "above": 15, "level": 3, "units": ["vastaanotto"]},
    {"metric": "staff.present_ratio", "below": 0.8, "level": 2},
    {"metric": "callback.pending", "above": 40, "level": 4, "hours": "always"},
    {"metric": "callback.pending", "above": 20, "level": 2},
]


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


def config_text(rules: list[dict[str, Any]] = RULES) -> str:
    out = ['[site]\nname = "Testikeskus"\nopening_hours = [8, 16]\n']
    for code, spec in HOURS.items():
        out.append(f'[[units]]\ncode = "{code}"\nname = "{code.title()}"\nname_sv = "{code}"\n')
        if spec == "always":
            out.append('opening_hours = "always"\n')
        else:
            out.append(f"opening_hours = [{spec[0]}, {spec[1]}]\nopen_days = \"{spec[2]}\"\n")
    out.append(f'[[displays]]\nid = "kaikki"\ntitle = "Kaikki"\nunits = {_toml_value(list(HOURS))}\n')
    for name, feed in (("q", "queue"), ("c", "callback"), ("s", "staffing")):
        out.append(f'[[sources]]\nname = "{name}"\nkind = "demo"\nfeed = "{feed}"\n'
                   f"poll_seconds = {POLL[name]}\nunits = {_toml_value(list(HOURS))}\n")
    for rule in rules:
        out.append("[[escalation.rules]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in rule.items()))
    return "\n".join(out)


CONFIG = parse_config(config_text(), "test.toml")
SOURCE_OF = {"queue": "q", "callback": "c", "staff": "s"}


# -- the slow recomputation -------------------------------------------------------------------


def slow_is_open(unit: str, now: datetime) -> bool:
    spec = HOURS[unit]
    if spec == "always":
        return True
    start, end, days = spec
    local = now.astimezone(TZ)
    working = local.weekday() < 5 and local.date() not in HOLIDAYS
    return (days == "every" or working) and start <= local.hour < end


def slow_fresh(rd: Reading, now: datetime) -> bool:
    same_day = rd.observed_at.astimezone(TZ).date() == now.astimezone(TZ).date()
    return same_day and (now - rd.observed_at).total_seconds() <= 2 * POLL[rd.source]


def slow_levels(readings: list[Reading], now: datetime, manual: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each unit's level, whether closed, the facts that raised it, and whether the rules saw
    anything: one rule, one unit, one value at a time."""
    out = {}
    for unit in HOURS:
        is_open = slow_is_open(unit, now)
        fresh = [r for r in readings if r.unit == unit and slow_fresh(r, now)]
        level, facts, applicable, seen = 1, [], 0, False
        for rule in RULES:
            if rule.get("units") and unit not in rule["units"]:
                continue
            if not is_open and rule.get("hours") != "always":
                continue
            applicable += 1
            values = []
            if rule["metric"] == "staff.present_ratio":
                planned = {r.key: r.value for r in fresh if r.metric == "staff.planned"}
                present = {r.key: r.value for r in fresh if r.metric == "staff.present"}
                both = [k for k in planned if k in present]
                every = {r.key for r in readings if r.unit == unit and r.metric in ("staff.planned", "staff.present")}
                if both and sum(planned[k] for k in both) > 0:
                    ratio = sum(present[k] for k in both) / sum(planned[k] for k in both)
                    values.append(("", ratio, tuple(sorted(every - set(both)))))
            else:
                values = [(r.key, r.value, ()) for r in fresh if r.metric == rule["metric"]]
            for key, value, unseen in values:
                seen = True
                if ("above" in rule and value > rule["above"]) or ("below" in rule and value < rule["below"]):
                    fact = (rule["metric"], key, round(value, 9), unseen)
                    if rule["level"] > level:
                        level, facts = rule["level"], [fact]
                    elif rule["level"] == level:
                        facts.append(fact)
        if unit in manual:
            out[unit] = {"level": manual[unit], "closed": not is_open, "facts": [], "status": "fresh",
                         "rules": {"level": level, "facts": sorted(facts)}}
        else:
            out[unit] = {"level": level, "closed": not is_open, "facts": sorted(facts),
                         "status": "stale" if applicable and not seen else "fresh"}
    return out


def seen_by_the_model(unit: dict[str, Any]) -> dict[str, Any]:
    def facts(details: list[dict[str, Any]]) -> list[Any]:
        return sorted((d["metric"], d["key"], round(d["value"], 9), tuple(d.get("unseen", ())))
                      for d in details)

    got = {"level": unit["level"], "closed": bool(unit.get("closed")), "facts": facts(unit["details"]),
           "status": unit["status"]}
    if unit["source"] == "manual":
        got["rules"] = {"level": unit["rules_level"], "facts": facts(unit["rules_details"])}
    return got


def random_readings(rng: random.Random, now: datetime) -> list[Reading]:
    ages = [0, 2, 9, 14, 25, 31, 400]
    out = []
    for unit in HOURS:
        def at() -> datetime:
            if rng.random() < 0.08:
                return now - timedelta(days=1)  # yesterday's: unavailable today
            return now - timedelta(seconds=rng.choice(ages))

        for queue in ("a", "b"):
            if rng.random() < 0.7:
                out.append(Reading("queue.longest_wait_min", unit, queue, rng.randint(0, 90), at(), "q"))
            if rng.random() < 0.7:
                out.append(Reading("queue.waiting", unit, queue, rng.randint(0, 25), at(), "q"))
        if rng.random() < 0.7:
            out.append(Reading("callback.pending", unit, "", rng.randint(0, 60), at(), "c"))
        for profession in ("lääkäri", "hoitaja", "sosiaalityöntekijä"):
            planned = rng.randint(0, 6)
            if rng.random() < 0.8:
                out.append(Reading("staff.planned", unit, profession, planned, at(), "s"))
            if rng.random() < 0.8:
                out.append(Reading("staff.present", unit, profession, rng.randint(0, planned + 1), at(), "s"))
    return [r for r in out if r.observed_at <= now]


def write(store: LiveStore, readings: list[Reading]) -> None:
    for source in POLL:
        store.write_readings(source, [r for r in readings if r.source == source], {})


TIMES = {
    "weekday morning": datetime(2026, 11, 24, 10, 30, tzinfo=TZ),
    "weekday before opening (the laboratory opens at 7)": datetime(2026, 11, 24, 7, 30, tzinfo=TZ),
    "the last second before closing": datetime(2026, 11, 24, 15, 59, 59, tzinfo=TZ),
    "after closing": datetime(2026, 11, 24, 18, 30, tzinfo=TZ),
    "weekend": datetime(2026, 11, 28, 11, 0, tzinfo=TZ),
    "Epiphany (loppiainen), a Wednesday": datetime(2027, 1, 6, 10, 0, tzinfo=TZ),
    "Ascension Day, summer time": datetime(2026, 5, 14, 12, 0, tzinfo=TZ),
    "Christmas Eve night": datetime(2026, 12, 24, 2, 0, tzinfo=TZ),
}


@pytest.mark.store
@pytest.mark.parametrize("when", list(TIMES))
def test_levels_match_a_slow_recomputation_on_the_sites_calendar(when: str, store: LiveStore):
    now = TIMES[when]
    # the days are what the test says they are
    assert (now.weekday() < 5 and now.date() not in HOLIDAYS) == (when in (
        "weekday morning", "weekday before opening (the laboratory opens at 7)",
        "the last second before closing", "after closing"))
    rng = random.Random(when)
    display = CONFIG.display("kaikki")
    levels_seen: set[int] = set()
    with time_machine.travel(now, tick=False):
        for case in range(25):
            readings = random_readings(rng, now)
            manual = {}
            store.set_escalation("vastaanotto", None)
            if case % 5 == 4:
                manual["vastaanotto"] = rng.randint(1, 4)
                store.set_escalation("vastaanotto", {
                    "level": manual["vastaanotto"], "reason": "Kaksi lääkäriä sairaana", "by": "anna",
                    "at": (now - timedelta(minutes=5)).isoformat(),
                    "valid_until": (now + timedelta(hours=1)).isoformat()})
            write(store, readings)
            got = build(CONFIG, display, store, None).data["escalation"]
            expected = slow_levels(readings, now, manual)
            assert {u: seen_by_the_model(v) for u, v in got["units"].items()} == expected, (when, case)
            assert got["level"] == max(e["level"] for e in expected.values())
            levels_seen |= {e["level"] for e in expected.values()}
    # the cases are not all alike: several levels came out
    assert len(levels_seen) >= 2


def test_rules_hold_only_while_the_unit_is_open_except_those_that_always_do():
    tiles = [tile("vastaanotto", "queue.longest_wait_min", "a", 70), tile("vastaanotto", "callback.pending", "", 25),
             tile("paivystys", "queue.longest_wait_min", "a", 70),
             tile("laboratorio", "callback.pending", "", 45)]
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=TZ)
    esc, _ = unit_levels(CONFIG, tiles, {}, saturday, list(HOURS))
    units = esc["units"]
    # closed on a Saturday: the queue and the callback rule at level 2 hold only while open
    assert (units["vastaanotto"]["level"], units["vastaanotto"]["closed"]) == (1, True)
    assert units["vastaanotto"]["reasons"] == [] and units["vastaanotto"]["status"] == "fresh"
    # around the clock
    assert units["paivystys"]["level"] == 3 and "closed" not in units["paivystys"]
    # open every day, 7–15
    assert units["laboratorio"]["level"] == 4 and "closed" not in units["laboratorio"]
    evening = datetime(2026, 11, 28, 19, 0, tzinfo=TZ)
    esc, _ = unit_levels(CONFIG, tiles, {}, evening, list(HOURS))
    # closed, yet the "always" rule holds
    assert (esc["units"]["laboratorio"]["level"], esc["units"]["laboratorio"]["closed"]) == (4, True)
    assert esc["units"]["laboratorio"]["reasons"] == ["callback.pending 45 > 40"]


def tile(unit: str, metric: str, key: str, value: float, status: str = "fresh",
         at: datetime | None = None) -> dict[str, Any]:
    at = at or datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    return {"metric": metric, "unit": unit, "key": key, "value": value, "status": status,
            "updated_at": at.isoformat(), "source": "x"}


def test_the_model_is_rebuilt_when_a_unit_opens_or_closes():
    tuesday_3pm = datetime(2026, 11, 24, 15, 0, tzinfo=TZ)
    # the laboratory closes at 15: at 15.00 exactly it is closed, the reception closes at 16
    _, changes = unit_levels(CONFIG, [], {}, tuesday_3pm - timedelta(seconds=1), list(HOURS))
    assert changes == tuesday_3pm
    _, changes = unit_levels(CONFIG, [], {}, tuesday_3pm, ["vastaanotto"])
    assert changes == datetime(2026, 11, 24, 16, 0, tzinfo=TZ)
    # Christmas Eve (Thu) and Christmas Day (Fri) are holidays: the reception opens on Monday
    wednesday_evening = datetime(2026, 12, 23, 18, 0, tzinfo=TZ)
    esc, changes = unit_levels(CONFIG, [], {}, wednesday_evening, ["vastaanotto"])
    assert changes == datetime(2026, 12, 28, 8, 0, tzinfo=TZ)
    # closed since 16.00 the same day: that is when level 1 began
    assert esc["units"]["vastaanotto"]["updated_at"] == "2026-12-23T16:00:00+02:00"
    # a unit open around the clock never changes by the clock
    _, changes = unit_levels(CONFIG, [], {}, wednesday_evening, ["paivystys"])
    assert changes is None


def test_present_ratio_counts_only_professions_seen_fresh_and_names_the_rest():
    at = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    base = [
        tile("vastaanotto", "staff.planned", "lääkäri", 4), tile("vastaanotto", "staff.present", "lääkäri", 1, "stale"),
        tile("vastaanotto", "staff.planned", "hoitaja", 10), tile("vastaanotto", "staff.present", "hoitaja", 9),
        tile("vastaanotto", "staff.planned", "sosiaalityöntekijä", 2),  # no present figure at all
    ]
    # the stale doctors' 1 of 4 would make 10/16 = 0.625 < 0.8; over what is seen: 9/10
    level = evaluate(CONFIG.escalation.rules, base, "vastaanotto")
    assert level.level == 1 and level.details == []
    fewer = [t for t in base if not (t["key"] == "hoitaja" and t["metric"] == "staff.present")]
    fewer.append(tile("vastaanotto", "staff.present", "hoitaja", 7, at=at + timedelta(seconds=30)))
    level = evaluate(CONFIG.escalation.rules, fewer, "vastaanotto")
    assert level.level == 2
    (detail,) = level.details
    assert detail == {"metric": "staff.present_ratio", "key": "", "value": 0.7, "op": "<", "limit": 0.8,
                      "unseen": ["lääkäri", "sosiaalityöntekijä"]}
    assert level.reasons == ["staff.present_ratio 0.7 < 0.8 (unseen: lääkäri, sosiaalityöntekijä)"]
    esc, _ = unit_levels(CONFIG, fewer, {}, at + timedelta(minutes=1), ["vastaanotto"])
    unit = esc["units"]["vastaanotto"]
    assert (unit["level"], unit["status"]) == (2, "fresh")
    assert unit["updated_at"] == (at + timedelta(seconds=30)).isoformat()  # the newest input that raised it
    # nobody seen: the ratio is not known and raises nothing; the rules saw nothing fresh
    unseen = [t | {"status": "stale"} for t in fewer]
    esc, _ = unit_levels(CONFIG, unseen, {}, at + timedelta(minutes=1), ["vastaanotto"])
    unit = esc["units"]["vastaanotto"]
    assert (unit["level"], unit["status"], unit["details"]) == (1, "stale", [])
    assert unit["updated_at"] == (at + timedelta(seconds=30)).isoformat()  # the newest input, stale or not


def test_level_one_while_open_is_dated_by_the_newest_fresh_input():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    tiles = [tile("vastaanotto", "queue.waiting", "a", 3, at=now - timedelta(seconds=4)),
             tile("vastaanotto", "queue.waiting", "b", 3, "stale", at=now - timedelta(seconds=1))]
    unit = unit_levels(CONFIG, tiles, {}, now, ["vastaanotto"])[0]["units"]["vastaanotto"]
    assert (unit["level"], unit["status"], unit["updated_at"]) == (1, "fresh", (now - timedelta(seconds=4)).isoformat())
    # raised by a workbook value entered before opening: the level began when the unit opened
    early = [tile("vastaanotto", "queue.waiting", "a", 30, at=now.replace(hour=7, minute=30))]
    unit = unit_levels(CONFIG, early, {}, now, ["vastaanotto"])[0]["units"]["vastaanotto"]
    assert (unit["level"], unit["updated_at"]) == (3, now.replace(hour=8).isoformat())


@pytest.mark.store
def test_a_shift_leads_level_stands_with_the_rules_level_beside_it(store: LiveStore):
    now = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)
    with time_machine.travel(now, tick=False):
        store.write_readings("q", [Reading("queue.waiting", "vastaanotto", "a", 20, now, "q"),
                                   Reading("queue.longest_wait_min", "vastaanotto", "a", 45, now, "q")], {})
        set_at = (now - timedelta(minutes=10)).isoformat()
        store.set_escalation("vastaanotto", {"level": 2, "reason": "Tilanne hallinnassa", "by": "anna",
                                             "at": set_at, "valid_until": now.replace(hour=23, minute=59).isoformat()})
        unit = build(CONFIG, CONFIG.display("kaikki"), store, None).data["escalation"]["units"]["vastaanotto"]
    assert (unit["source"], unit["level"], unit["by"], unit["at"], unit["reasons"]) == (
        "manual", 2, "anna", set_at, ["Tilanne hallinnassa"])
    assert (unit["status"], unit["updated_at"]) == ("fresh", set_at)
    # the rules say otherwise: their level, reasons and facts go beside it
    assert unit["rules_level"] == 3
    assert unit["rules_reasons"] == ["queue.waiting (a) 20 > 15"]
    assert unit["rules_details"] == [{"metric": "queue.waiting", "key": "a", "value": 20.0, "op": ">", "limit": 15.0}]
    assert "closed" not in unit


# -- the level as a history series -------------------------------------------------------------


def levels_in_history(history: History, unit: str) -> list[tuple[int, datetime, bool, str | None]]:
    import json

    return [(json.loads(r.value), r.observed_at.astimezone(TZ), bool(r.manual), r.entered_by)
            for r in history.changes(ESCALATION_METRIC, unit)]


@pytest.mark.store
def test_the_scheduler_job_records_every_level_change_into_history(tmp_path: Path, store: LiveStore,
                                                                      history: History):
    t0 = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)
    sched = build_scheduler(CONFIG, store, history, tmp_path)
    job = sched.get_job("escalation")
    assert job is not None and job.trigger.interval == timedelta(seconds=30)
    try:
        with time_machine.travel(t0, tick=False) as traveller:
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 45, t0, "q")], {})
            job.func()
            drain(store, history)
            assert levels_in_history(history, "vastaanotto") == [(2, t0, False, None)]
            assert [v for v, *_ in levels_in_history(history, "laboratorio")] == [1]
            # unchanged: nothing more
            traveller.shift(30)
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 50, t0 + timedelta(seconds=30), "q")], {})
            job.func()
            drain(store, history)
            assert len(levels_in_history(history, "vastaanotto")) == 1
            # raised further by the rules
            traveller.shift(30)
            t1 = datetime.now(TZ)
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 70, t1, "q")], {})
            job.func()
            # a shift lead's level, dated when it was set, with who set it
            traveller.shift(20)
            set_at = datetime.now(TZ)
            store.set_escalation("vastaanotto", {"level": 4, "reason": "Sähkökatko", "by": "anna",
                                                 "at": set_at.isoformat(), "valid_until": t0.replace(hour=11, minute=0).isoformat()})
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 70, set_at, "q")], {})
            traveller.shift(25)
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 70, datetime.now(TZ), "q")], {})
            job.func()
            # it ends at 11.00; the rules' level takes over from its end
            traveller.move_to(t0.replace(hour=11, minute=0, second=20))
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 70, datetime.now(TZ), "q")], {})
            job.func()
            # closing time: level 1 from the first run after it
            traveller.move_to(t0.replace(hour=16, minute=0, second=10))
            job.func()
            drain(store, history)
        assert levels_in_history(history, "vastaanotto") == [
            (2, t0, False, None),
            (3, t1, False, None),
            (4, set_at, True, "anna"),
            (3, t0.replace(hour=11, minute=0), False, None),
            (1, t0.replace(hour=16, minute=0, second=10), False, None),
        ]
        # the live store holds one reading per unit, none of them a tile on any screen
        kept = {r.unit: r.value for r in store.all_readings()["escalation"]}
        assert kept == {"vastaanotto": 1, "paivystys": 1, "laboratorio": 1}
        with time_machine.travel(t0.replace(hour=16, minute=1), tick=False):
            data = build(CONFIG, CONFIG.display("kaikki"), store, None).data
        assert ESCALATION_METRIC not in {t["metric"] for t in data["tiles"]}
    finally:
        sched.leases.release_all()  # type: ignore[attr-defined]


@pytest.mark.store
def test_a_collector_that_lost_the_lease_records_nothing(tmp_path: Path, store: LiveStore, history: History):
    from collectors.leases import Leases

    t0 = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)
    other = Leases(store, holder="toinen-kone:1")
    assert other.hold("escalation", 60_000)
    sched = build_scheduler(CONFIG, store, history, tmp_path)
    try:
        with time_machine.travel(t0, tick=False):
            store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "a", 45, t0, "q")], {})
            sched.get_job("escalation").func()
            drain(store, history)
        assert levels_in_history(history, "vastaanotto") == []
        # and the fenced write itself refuses a holder that is not the lease's
        with time_machine.travel(t0, tick=False), pytest.raises(Exception, match="escalation"):
            record_escalation(CONFIG, store, lease=("escalation", "minä:2"))
        assert "escalation" not in store.all_readings()
    finally:
        other.release_all()
        sched.leases.release_all()  # type: ignore[attr-defined]


# -- the demo after closing time ------------------------------------------------------------


@pytest.mark.store
def test_with_the_demo_clock_after_closing_time_no_unit_is_raised_by_a_rule(store: LiveStore, history: History):
    config = load_config(EXAMPLE_CONFIG)
    evening = datetime(2026, 11, 24, 18, 30, tzinfo=TZ)  # a Tuesday
    with time_machine.travel(evening, tick=False):
        for source in config.sources:
            assert poll(connected(collector_for(source, config), config, history), store, config).ok
        record_escalation(config, store)
        drain(store, history)
        tiles = build(config, config.display("johto"), store, None).data["tiles"]
        # the ward and the care home never close (their rules hold around the clock): the others
        always = {u.code for u in config.units if config.hours(u.code).around_the_clock}
        assert always == {"osasto", "hoivakoti"}
        for display in config.displays:
            esc = build(config, display, store, None).data["escalation"]
            closing = {u: x for u, x in esc["units"].items() if u not in always}
            if len(closing) == len(esc["units"]):
                assert esc["level"] == 1, (display.id, esc)
            assert all(u["level"] == 1 and u["closed"] and u["source"] == "rules" and u.get("reasons", []) == []
                       for u in closing.values()), esc
            assert not any(esc["units"][u].get("closed") for u in always if u in esc["units"])
    # the same figures would raise units if the rules were read at this hour: nobody is present
    assert any(evaluate(config.escalation.rules, tiles, u.code).level > 1 for u in config.units)
    assert {v for u in ("vastaanotto", "suun_th", "laboratorio", "mtpa", "sosiaali")
            for v, *_ in levels_in_history(history, u)} == {1}


# -- check-config: rules that can never change a level -----------------------------------------


def useless(rules: list[dict[str, Any]]) -> dict[str, str]:
    cfg = parse_config(config_text(rules), "t.toml")
    return {p.key: p.reason for p in useless_rules(cfg)}


def test_a_rule_covered_by_another_of_the_same_metric_and_units_is_named():
    assert useless(RULES) == {}
    # the example configuration's two call-back rules, both at level 2
    found = useless([{"metric": "callback.pending", "above": 40, "level": 2},
                     {"metric": "callback.pending", "above": 20, "level": 2}])
    assert list(found) == ["escalation.rules[0]"]
    assert "escalation.rules[1] (callback.pending > 20, level 2)" in found["escalation.rules[0]"]
    # a higher level changes the level: not useless
    assert useless([{"metric": "callback.pending", "above": 40, "level": 3},
                    {"metric": "callback.pending", "above": 20, "level": 2}]) == {}
    # below: the higher limit fires whenever the lower one does
    assert list(useless([{"metric": "staff.present_ratio", "below": 0.8, "level": 3},
                         {"metric": "staff.present_ratio", "below": 0.5, "level": 3}])) == ["escalation.rules[1]"]
    # two of the same: one of them is named, not both
    assert len(useless([{"metric": "queue.waiting", "above": 15, "level": 3}] * 2)) == 1
    # another metric never covers
    assert useless([{"metric": "queue.waiting", "above": 15, "level": 3},
                    {"metric": "queue.longest_wait_min", "above": 15, "level": 3}]) == {}


def test_units_and_hours_decide_whether_a_rule_is_covered():
    # a rule for every unit covers one for some units, not the other way round
    found = useless([{"metric": "queue.waiting", "above": 20, "level": 2, "units": ["vastaanotto"]},
                     {"metric": "queue.waiting", "above": 10, "level": 2}])
    assert list(found) == ["escalation.rules[0]"]
    assert useless([{"metric": "queue.waiting", "above": 20, "level": 2},
                    {"metric": "queue.waiting", "above": 10, "level": 2, "units": ["vastaanotto"]}]) == {}
    # two rules for some units each cover a rule for both
    assert list(useless([{"metric": "queue.waiting", "above": 20, "level": 2, "units": ["vastaanotto", "laboratorio"]},
                         {"metric": "queue.waiting", "above": 10, "level": 2, "units": ["vastaanotto"]},
                         {"metric": "queue.waiting", "above": 5, "level": 3, "units": ["laboratorio"]}])) == [
        "escalation.rules[0]"]
    # an "always" rule still counts at night where a rule of opening hours does not...
    assert useless([{"metric": "queue.waiting", "above": 20, "level": 2, "hours": "always"},
                    {"metric": "queue.waiting", "above": 10, "level": 2}]) == {}
    # ...except for a unit open around the clock
    assert list(useless([{"metric": "queue.waiting", "above": 20, "level": 2, "hours": "always", "units": ["paivystys"]},
                         {"metric": "queue.waiting", "above": 10, "level": 2}])) == ["escalation.rules[0]"]
    assert list(useless([{"metric": "queue.waiting", "above": 20, "level": 2},
                         {"metric": "queue.waiting", "above": 10, "level": 2, "hours": "always"}])) == [
        "escalation.rules[0]"]
    # an above and a below rule that between them fire for every value
    assert list(useless([{"metric": "queue.waiting", "above": 3, "level": 2},
                         {"metric": "queue.waiting", "above": 10, "level": 2},
                         {"metric": "queue.waiting", "below": 12, "level": 2}])) == ["escalation.rules[0]"]
    # (10 itself is not: the first rule counts there; the second one never does)
    assert list(useless([{"metric": "queue.waiting", "above": 3, "level": 2},
                         {"metric": "queue.waiting", "above": 10, "level": 2},
                         {"metric": "queue.waiting", "below": 10, "level": 2}])) == ["escalation.rules[1]"]


def test_check_config_passes_the_example_and_fails_a_useless_rule_with_file_key_and_reason(tmp_path: Path):
    ok = cli("check-config", "--config", str(EXAMPLE_CONFIG))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    bad = tmp_path / "turha.toml"
    bad.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'metric = "callback.pending"\nabove = 40\nlevel = 3', 'metric = "callback.pending"\nabove = 40\nlevel = 2'),
        encoding="utf-8")
    result = cli("check-config", "--config", str(bad))
    assert result.returncode == 2
    rules = load_config(bad).escalation.rules
    i = next(i for i, r in enumerate(rules) if r.metric == "callback.pending" and r.above == 40)
    assert f"{bad}: escalation.rules[{i}]: can never change a level" in result.stderr
    assert "OK" not in result.stdout


def test_the_example_configuration_keeps_its_call_back_rules_apart():
    cfg: Config = load_config(EXAMPLE_CONFIG)
    callbacks = sorted((r.above, r.level) for r in cfg.escalation.rules if r.metric == "callback.pending")
    assert callbacks == [(20, 2), (40, 3)]
    assert useless_rules(cfg) == []
