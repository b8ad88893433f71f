"""Screens' heartbeats, the board's in-place updates, and the words a screen shows: pure
functions, tested without a browser."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.config import load_config
from dashboard.i18n import minutes_ago
from dashboard.web.screens import HeartbeatError, parse_heartbeat, screen_state, screens_view, stamp
from layouts.components import Queue, board, reason_text, wait_estimate
from layouts.display import closed_days
from layouts.patch import changes, plain, with_ids
from tests.conftest import EXAMPLE_CONFIG

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CONFIG = load_config(EXAMPLE_CONFIG)


def beat(seconds_ago: float, **kw) -> dict:  # type: ignore[no-untyped-def]
    b = parse_heartbeat({"screen": "s1", "display": "aula", "data_age_s": 5, "connection": "online", **kw})
    return stamp(b, NOW - timedelta(seconds=seconds_ago), "10.0.0.7")


def test_a_screen_silent_for_two_minutes_is_flagged():
    assert screen_state(beat(30), NOW)["state"] == "ok"
    assert screen_state(beat(119), NOW)["state"] == "ok"
    assert screen_state(beat(121), NOW)["state"] == "silent"
    assert screen_state(beat(10, connection="offline"), NOW)["state"] == "offline"
    assert screen_state(beat(10, data_age_s=3600), NOW)["state"] == "stale"
    assert screen_state(beat(10, data_age_s=3600, night="off"), NOW)["state"] == "ok"  # asleep, not stale
    rows = screens_view([beat(10), {**beat(500), "screen": "s2"}], NOW)
    assert [r["screen"] for r in rows] == ["s2", "s1"]  # the silent one first


def test_a_heartbeat_with_bad_fields_is_refused_by_name():
    with pytest.raises(HeartbeatError, match="screen"):
        parse_heartbeat({"screen": "<script>", "display": "aula"})
    with pytest.raises(HeartbeatError, match="data_age_s"):
        parse_heartbeat({"screen": "s1", "display": "aula", "data_age_s": -1})
    with pytest.raises(HeartbeatError, match="display"):
        parse_heartbeat({"screen": "s1"})
    with pytest.raises(HeartbeatError):
        parse_heartbeat(["not", "an", "object"])


def test_closed_days_are_weekends_and_finnish_holidays():
    tz = ZoneInfo("Europe/Helsinki")
    days = closed_days(datetime(2026, 12, 1, 9, 0, tzinfo=tz))
    assert "2026-12-05" in days and "2026-12-06" in days  # Saturday; Independence Day (a Sunday)
    assert "2026-12-01" not in days and "2026-12-07" not in days
    christmas = closed_days(datetime(2026, 12, 21, 9, 0, tzinfo=tz))
    assert {"2026-12-24", "2026-12-25", "2026-12-26"} <= set(christmas)  # Christmas Eve to Boxing Day
    assert date(2026, 12, 23).isoformat() not in christmas


def test_the_wait_estimate_a_patient_sees():
    assert wait_estimate(Queue(waiting=0, mean=12.0), ["fi"]) == "Ei jonoa"
    assert wait_estimate(Queue(waiting=3, longest=2, mean=2.0, called=60), ["fi"]) == "alle 5 min"
    assert wait_estimate(Queue(waiting=3, longest=2, mean=2.0), ["fi"]) == "noin 5 min"  # calls unknown
    assert wait_estimate(Queue(waiting=3, mean=11.2), ["fi"]) == "noin 15 min"
    assert wait_estimate(Queue(waiting=3, mean=15.0), ["fi"]) == "noin 15 min"
    assert wait_estimate(Queue(waiting=3), ["fi"]) == "–"
    both = wait_estimate(Queue(waiting=3, mean=11.2), ["fi", "sv"])
    assert [s.children for s in both] == ["noin 15 min", "cirka 15 min"]
    assert [s.lang for s in both] == ["fi", "sv"]


def test_escalation_reasons_are_said_in_words():
    detail = {"metric": "queue.longest_wait_min", "key": "lääkärin vastaanotto", "value": 35.0, "op": ">", "limit": 30.0}
    assert reason_text(CONFIG, "vastaanotto", detail, "fi") == \
        "Vastaanotto, Lääkärin vastaanotto: pisin odotus, min 35 (raja > 30)"
    ratio = {"metric": "staff.present_ratio", "key": "", "value": 0.75, "op": "<", "limit": 0.8}
    assert reason_text(CONFIG, "laboratorio", ratio, "sv") == \
        "Laboratorium: personal på plats 75 % (gräns < 80 %)"
    unseen = {**ratio, "unseen": ["lääkäri", "sairaanhoitaja"]}
    assert reason_text(CONFIG, "vastaanotto", unseen, "fi") == \
        "Vastaanotto: henkilöstöä paikalla 75 % (raja < 80 %; ei tietoa: lääkäri, sairaanhoitaja)"


def test_minutes_ago_counts_whole_minutes_never_negative():
    assert minutes_ago(NOW - timedelta(seconds=59), NOW) == 0
    assert minutes_ago(NOW - timedelta(minutes=7, seconds=5), NOW) == 7
    assert minutes_ago(NOW + timedelta(minutes=1), NOW) == 0


def model(waiting: int, notices: int = 0) -> dict:  # type: ignore[no-untyped-def]
    at = NOW.isoformat()
    tiles = [{"metric": m, "unit": "vastaanotto", "key": "lääkärin vastaanotto", "value": v, "status": "fresh",
              "updated_at": at, "source": "q"}
             for m, v in (("queue.waiting", waiting), ("queue.longest_wait_min", 10), ("queue.avg_wait_min", 4.5))]
    return {"display": "vastaanotto-kaytava", "as_of": at, "generated_at": at, "tiles": tiles,
            "notices": [{"id": f"n{i}", "text": "x", "importance": "info"} for i in range(notices)],
            "escalation": {"level": 1, "units": {}}}


def rendered(m: dict) -> dict:  # type: ignore[type-arg]
    return with_ids(plain(board(CONFIG, CONFIG.display("vastaanotto-kaytava"), m)))


def test_an_update_is_only_the_changed_elements_props():
    old, new = rendered(model(7)), rendered(model(8))
    diff = changes(old, new)
    assert diff is not None
    props = dict(diff)
    # the waiting tile's value and its number's text; nothing else
    assert any(p.get("data-value") == "8" for p in props.values())
    assert any(p.get("children") == "8" for p in props.values())
    assert len(diff) == 2
    assert changes(new, new) == []


def test_a_change_of_shape_replaces_only_that_elements_children():
    old, new = rendered(model(7, notices=1)), rendered(model(7, notices=2))
    diff = changes(old, new)
    assert diff is not None and len(diff) == 1  # the notices strip: its children and its count
    (ident, props), = diff
    assert len(props["children"]) == 2 and props["data-count"] == "2" and ident.startswith("b.")


def test_ids_are_unique_and_follow_the_place():
    tree = rendered(model(7))
    ids: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node, dict) and "props" in node:
            ids.append(node["props"]["id"])
            walk(node["props"].get("children"))
        elif isinstance(node, list):
            for n in node:
                walk(n)

    walk(tree)
    assert len(ids) == len(set(ids)) > 20
    assert "as-of-text" in ids  # an id given by the layout is kept
