import json
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.base import poll
from collectors.demo.feeds import DemoCollector
from dashboard.config import Config
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import ModelCache, build, snapshot
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore

TZ = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)  # a Tuesday morning
pytestmark = pytest.mark.store


def poll_all(config: Config, store: LiveStore, only: set[str] | None = None) -> None:
    for source in config.sources:  # the access cases need the history database: not these tests'
        if (only is None or source.name in only) and source.feed != "access":
            result = poll(DemoCollector(source, TZ), store, config)
            assert result.ok or result.skipped


def tiles_by_source(model_data: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for t in model_data["tiles"]:
        out.setdefault(t["source"], set()).add(t["status"])
    return out


def test_snapshot_has_the_contract_shape(config: Config, store: LiveStore, history: History):
    with time_machine.travel(T0, tick=False):
        poll_all(config, store)
        data = build(config, config.display("vastaanotto-kaytava"), store, history).data
    assert {"display", "as_of", "tiles", "notices", "escalation"} <= set(data)
    tile = data["tiles"][0]
    assert set(tile) >= {"metric", "unit", "key", "value", "status", "updated_at", "source"}
    assert datetime.fromisoformat(data["as_of"]) == T0
    assert data["as_of"].endswith("+02:00")
    assert {t["unit"] for t in data["tiles"]} == {"vastaanotto", "laboratorio"}
    series = next(t for t in data["tiles"] if t["metric"] == "flow.arrivals_by_hour")
    assert isinstance(series["value"], dict) and "08" in series["value"]


def test_a_stopped_source_makes_only_its_tiles_stale(config: Config, store: LiveStore, history: History):
    display = config.display("vastaanotto-kaytava")
    with time_machine.travel(T0, tick=False) as traveller:
        poll_all(config, store)
        assert tiles_by_source(build(config, display, store, history).data) == {
            s.name: {"fresh"} for s in config.sources if s.feed != "access" and set(s.units) & set(display.units)
        }
        store.stop_source("demo-jonot")  # poll every 5 s: stale after 10 s
        for _ in range(3):
            traveller.shift(5)
            poll_all(config, store)
        data = build(config, display, store, history).data
        by_source = tiles_by_source(data)
        assert by_source.pop("demo-jonot") == {"stale"}
        assert all(statuses == {"fresh"} for statuses in by_source.values())
        stale = next(t for t in data["tiles"] if t["source"] == "demo-jonot")
        assert datetime.fromisoformat(stale["updated_at"]) == T0  # says since when
        store.start_source("demo-jonot")
        poll_all(config, store)
        assert tiles_by_source(build(config, display, store, history).data)["demo-jonot"] == {"fresh"}


def test_a_manual_value_fills_in_for_a_stale_feed_and_shows_who(config: Config, store: LiveStore):
    display = config.display("vastaanotto-kaytava")
    with time_machine.travel(T0, tick=False) as traveller:
        poll_all(config, store, {"demo-henkilosto"})
        manual = Reading("staff.present", "vastaanotto", "lääkäri", 5, T0, "tyokirja", manual=True,
                         entered_by="vuorovastaava", valid_until=T0 + timedelta(hours=6))
        store.write_readings("tyokirja", [manual], {"state": "ok"})
        tile = lambda d: next(t for t in d["tiles"] if t["metric"] == "staff.present" and t["key"] == "lääkäri")  # noqa: E731
        assert tile(build(config, display, store, None).data)["source"] == "demo-henkilosto"
        traveller.shift(60)  # the feed (15 s) is stale now
        shown = tile(build(config, display, store, None).data)
        assert (shown["source"], shown["value"], shown["status"]) == ("tyokirja", 5, "fresh")
        assert shown["entered_by"] == "vuorovastaava"


def test_public_display_shows_queues_and_public_notices_only(config: Config, store: LiveStore):
    from dashboard.demo import seed_notices

    with time_machine.travel(T0.replace(hour=12, minute=30), tick=False):
        poll_all(config, store)
        seed_notices(store, datetime.now(TZ))
        data = build(config, config.display("aula"), store, None).data
        staff = build(config, config.display("vastaanotto-kaytava"), store, None).data
    assert {t["metric"].split(".")[0] for t in data["tiles"]} == {"queue"}
    assert data["notices"] and all(n["public"] for n in data["notices"])
    assert any(not n["public"] for n in staff["notices"])


def test_notices_are_shown_only_while_in_force(config: Config, store: LiveStore):
    from dashboard.demo import seed_notices

    display = config.display("vastaanotto-kaytava")
    with time_machine.travel(T0.replace(hour=9), tick=False) as traveller:
        seed_notices(store, datetime.now(TZ))
        ids = lambda: {n["id"] for n in build(config, display, store, None).data["notices"]}  # noqa: E731
        assert "demo-laakari" not in ids()
        traveller.move_to(T0.replace(hour=10, minute=21))
        assert "demo-laakari" in ids()
        traveller.move_to(T0.replace(hour=16, minute=1))
        assert ids() == set()


def test_escalation_rises_with_the_configured_rules(config: Config, store: LiveStore):
    display = config.display("vastaanotto-kaytava")
    with time_machine.travel(T0, tick=False):
        now = datetime.now(TZ)
        store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "A", 45, now, "q")], {})
        esc = build(config, display, store, None).data["escalation"]
        assert esc["level"] == 2 and esc["units"]["vastaanotto"]["level"] == 2
        assert "queue.longest_wait_min (a) 45 > 30" in esc["units"]["vastaanotto"]["reasons"]
        store.write_readings("q", [Reading("queue.waiting", "vastaanotto", "A", 20, now, "q")], {})
        assert build(config, display, store, None).data["escalation"]["level"] == 3


def test_the_model_is_built_once_per_change(config: Config, store: LiveStore):
    cache = ModelCache(config, store, None)
    with time_machine.travel(T0, tick=False) as traveller:
        poll_all(config, store)
        first = cache.get("vastaanotto-kaytava")
        assert cache.get("vastaanotto-kaytava") is first and cache.builds == 1
        traveller.shift(4)  # nothing changed, no tile's freshness moved
        assert cache.get("vastaanotto-kaytava") is first
        traveller.shift(7)  # the queue feed's tiles turn stale: rebuilt without any write
        second = cache.get("vastaanotto-kaytava")
        assert second is not first and cache.builds == 2
        assert "stale" in {t["status"] for t in second.data["tiles"]}
        poll_all(config, store)
        assert cache.get("vastaanotto-kaytava").version > second.version


def test_builds_following_the_change_channel_read_the_store_once_a_change_and_never_an_older_state(
        config: Config, store: LiveStore):
    """With the change channel followed (a web process), the builds after one change read the
    store's state once between them; a write not yet heard of on the channel still makes the
    next build read it anew (what the poll saw is never newer than what its model shows)."""
    from tests.conftest import wait_for

    cache = ModelCache(config, store, None)
    before = set(threading.enumerate())
    cache.watch_changes()
    assert cache.watch is not None
    (listener,) = [t for t in threading.enumerate() if t not in before and t.name == "version-watch"]
    try:
        poll_all(config, store)
        wait_for(lambda: cache.watch.known is not None and cache.watch.known[0] == store.version(),
                 what="the change channel")
        reads = []
        state = store.state

        def counted(tz):  # type: ignore[no-untyped-def]
            reads.append(1)
            return state(tz)

        store.state = counted  # type: ignore[method-assign]
        heard = cache.watch.heard
        displays = [d.id for d in config.displays]
        for d in displays:
            assert cache.get(d).version == store.version()
        assert len(reads) == len(displays) + 1  # one before each build's turn, one in the first turn
        assert cache.watch.heard == heard
        # the channel stops listening (as if its message were late): a write it does not hear of
        cache.watch.stop.set()
        listener.join(timeout=10)
        assert not listener.is_alive()
        store.put_notice_now({"id": "n9", "unit": "kaikki", "importance": "tärkeä", "public": True,
                              "text": "Uusi", "starts": "2000-01-01T00:00:00+00:00",
                              "ends": "2100-01-01T00:00:00+00:00"})
        assert cache.watch.heard == heard and cache.watch.known is not None
        got = cache.get(displays[0])
        assert got.version == store.version()
        assert any(n["id"] == "n9" for n in got.data["notices"])
    finally:
        cache.watch.stop.set()


def test_snapshot_reports_each_sources_health(config: Config, store: LiveStore):
    with time_machine.travel(T0, tick=False):
        poll_all(config, store)
        store.stop_source("demo-jonot")
        model = build(config, config.display("aula"), store, None)
        assert "sources" not in model.data  # not built, nor cached, with every display's model
        sources = {s["name"]: s for s in snapshot(model, config, store)["sources"]}
    assert sources["demo-jonot"]["state"] == "stopped"
    assert sources["demo-henkilosto"]["state"] == "ok"
    assert sources["demo-henkilosto"]["last_success"] == T0.isoformat()
    assert sources["demo-henkilosto"]["items_read"] > 0 and sources["demo-henkilosto"]["items_unmapped"] == 0


def staff_tile(data: dict, key: str = "sairaanhoitaja") -> dict:
    return next(t for t in data["tiles"] if t["metric"] == "staff.present" and t["unit"] == "vastaanotto"
                and t["key"] == key)


def test_a_tablet_correction_overrides_a_fresh_feed_until_it_expires_and_says_what_it_corrects(
        config: Config, store: LiveStore, history: History):
    from dashboard.web.accounts import User
    from dashboard.web.shiftlead import ShiftLead

    display = config.display("vastaanotto-kaytava")
    lead = ShiftLead(config, store, history, User("hoitaja1", "shift_lead", ("vastaanotto",)), "fi")
    with time_machine.travel(T0, tick=False) as traveller:
        poll_all(config, store, {"demo-henkilosto"})
        fed = staff_tile(build(config, display, store, None).data)
        assert fed["source"] == "demo-henkilosto" and "corrects" not in fed
        lead.correct("vastaanotto", "staff.present", "Sairaanhoitaja", fed["value"] + 3, "1h")
        traveller.shift(10)
        poll_all(config, store, {"demo-henkilosto"})  # the feed is fresh, and newer than the correction
        feed_now = next(rd for rd in store.all_readings()["demo-henkilosto"]
                        if (rd.metric, rd.unit, rd.key) == ("staff.present", "vastaanotto", "sairaanhoitaja"))
        shown = staff_tile(build(config, display, store, None).data)
        assert (shown["value"], shown["source"], shown["status"]) == (fed["value"] + 3, "tabletti", "fresh")
        assert (shown["manual"], shown["entered_by"]) == (True, "hoitaja1 (tabletti)")
        assert datetime.fromisoformat(shown["valid_until"]) == T0 + timedelta(hours=1)
        assert shown["corrects"] == {"value": feed_now.value, "source": "demo-henkilosto", "status": "fresh",
                                     "updated_at": (T0 + timedelta(seconds=10)).isoformat()}
        # the tiles beside it are the feed's, uncorrected
        other = staff_tile(build(config, display, store, None).data, "lääkäri")
        assert other["source"] == "demo-henkilosto" and "corrects" not in other
        traveller.move_to(T0 + timedelta(hours=1))  # valid until then: the feed's value again
        poll_all(config, store, {"demo-henkilosto"})
        back = staff_tile(build(config, display, store, None).data)
        assert (back["source"], back["status"], "corrects" in back, "manual" in back) == (
            "demo-henkilosto", "fresh", False, False)


def test_the_model_is_rebuilt_when_a_correction_runs_out(config: Config, store: LiveStore, history: History):
    from dashboard.web.accounts import User
    from dashboard.web.shiftlead import ShiftLead

    cache = ModelCache(config, store, None)
    lead = ShiftLead(config, store, history, User("hoitaja1", "shift_lead", ()), "fi")
    with time_machine.travel(T0, tick=False) as traveller:
        lead.correct("vastaanotto", "staff.present", "sairaanhoitaja", "10", "1h", new_key=True)
        traveller.shift(60)
        store.write_readings("henkilosto", [Reading("staff.present", "vastaanotto", "sairaanhoitaja", 11,
                                                    T0 + timedelta(seconds=60), "henkilosto")], {"state": "ok"})
        assert staff_tile(cache.get("vastaanotto-kaytava").data)["value"] == 10
        traveller.move_to(T0 + timedelta(minutes=59, seconds=59))  # the feed is stale by now
        assert staff_tile(cache.get("vastaanotto-kaytava").data)["value"] == 10
        builds = cache.builds
        traveller.move_to(T0 + timedelta(hours=1))  # no write at all: the model knows its end
        tile = staff_tile(cache.get("vastaanotto-kaytava").data)  # the feed's, stale, newer than the correction
        assert (tile["value"], tile["source"], "corrects" in tile) == (11, "henkilosto", False)
        assert cache.builds == builds + 1


def test_a_tile_carries_its_bound_and_its_range(config: Config, store: LiveStore):
    with time_machine.travel(T0, tick=False):
        store.write_readings("q", [
            Reading("queue.estimated_wait_min", "vastaanotto", "A", 25, T0, "q", range=(15, 40)),
            Reading("appointments.t3_days", "vastaanotto", "lääkäri", 90, T0, "q", bound="above"),
            Reading("queue.waiting", "vastaanotto", "A", 4, T0, "q"),
        ], {"state": "ok"})
        tiles = {t["metric"]: t for t in build(config, config.display("vastaanotto-kaytava"), store, None).data["tiles"]}
    assert (tiles["queue.estimated_wait_min"]["value"], tiles["queue.estimated_wait_min"]["range"]) == (25, [15, 40])
    assert (tiles["appointments.t3_days"]["value"], tiles["appointments.t3_days"]["bound"]) == (90, "above")
    assert "range" not in tiles["queue.waiting"] and "bound" not in tiles["queue.waiting"]


def test_a_public_display_knows_the_units_level_but_says_nothing_of_staff_or_people(
        config: Config, store: LiveStore):
    """Its tiles are queues only; its escalation level is the units' level (raised here by a
    staff figure it does not show), without the reasons, who set it or who corrected what."""
    public, staff = config.display("aula"), config.display("vastaanotto-kaytava")
    with time_machine.travel(T0, tick=False):
        now = datetime.now(TZ)
        store.write_readings("henkilosto", [
            Reading("staff.planned", "vastaanotto", "lääkäri", 10, now, "henkilosto"),
            Reading("staff.present", "vastaanotto", "lääkäri", 5, now, "henkilosto")], {})
        store.write_readings("jonot", [Reading("queue.waiting", "vastaanotto", "päivystys", 6, now, "jonot")], {})
        store.apply_manual("tabletti", [Reading("queue.waiting", "vastaanotto", "päivystys", 7, now, "tabletti",
                                                manual=True, entered_by="maija (tabletti)",
                                                valid_until=now + timedelta(hours=1))], [], {"state": "ok"})
        seen = build(config, public, store, None).data
        inside = build(config, staff, store, None).data
    assert inside["escalation"]["units"]["vastaanotto"]["level"] == 2  # present ratio 0.5 < 0.8
    assert seen["escalation"]["units"]["vastaanotto"]["level"] == 2
    assert set(seen["escalation"]["units"]["vastaanotto"]) <= {"level", "source", "status", "updated_at", "closed",
                                                               "fresh_until"}
    assert {t["metric"] for t in seen["tiles"]} == {"queue.waiting"}
    (waiting,) = seen["tiles"]
    assert waiting["value"] == 7 and "entered_by" not in waiting and "maija" not in str(seen)
    assert "maija" in str(inside)


def test_each_fresh_figure_says_until_when_it_is_fresh(config: Config, store: LiveStore):
    """The screen greys a figure by itself at its fresh_until (data-fresh-until), so it must
    be exactly when the server would call it stale: two polls after it was read for a feed,
    the valid-until for a manual value, and nothing for what is not fresh. A unit's level of
    the rules is fresh as long as the last of its rules' fresh inputs; a shift lead's level
    until its end."""
    from dashboard.domain.freshness import TABLET

    queue_poll = config.source("demo-jonot").poll_seconds  # 5 s
    with time_machine.travel(T0, tick=False):
        store.write_readings("demo-jonot", [
            Reading("queue.waiting", "vastaanotto", "a", 20, T0 - timedelta(seconds=3), "demo-jonot"),
            Reading("queue.waiting", "vastaanotto", "b", 2, T0 - timedelta(minutes=5), "demo-jonot"),
            Reading("queue.waiting", "laboratorio", "c", 2, T0, "demo-jonot")], {})
        store.apply_manual(TABLET, [Reading("queue.longest_wait_min", "laboratorio", "c", 5, T0, TABLET, manual=True,
                                            entered_by="x", valid_until=T0 + timedelta(hours=2))], [], {"state": "ok"})
        store.set_escalation("suun_th", {"level": 3, "reason": "Kaksi hammaslääkäriä pois", "by": "x",
                                         "at": T0.isoformat(), "valid_until": (T0 + timedelta(hours=1)).isoformat()})
        data = build(config, config.display("johto"), store, None).data
    tiles = {(t["unit"], t["key"], t["metric"]): t for t in data["tiles"]}
    a = tiles[("vastaanotto", "a", "queue.waiting")]
    assert a["status"] == "fresh" and a["fresh_until"] == (T0 - timedelta(seconds=3) + timedelta(
        seconds=2 * queue_poll)).isoformat()
    assert tiles[("vastaanotto", "b", "queue.waiting")]["status"] == "stale"
    assert "fresh_until" not in tiles[("vastaanotto", "b", "queue.waiting")]
    assert tiles[("laboratorio", "c", "queue.longest_wait_min")]["fresh_until"] == (T0 + timedelta(hours=2)).isoformat()
    units = data["escalation"]["units"]
    # vastaanotto: 20 waiting raises it; its one fresh input of the rules ends at a's end
    assert units["vastaanotto"]["level"] > 1 and units["vastaanotto"]["fresh_until"] == a["fresh_until"]
    # laboratorio: the manual longest wait (2 h) outlasts the queue's 10 s
    assert units["laboratorio"]["fresh_until"] == (T0 + timedelta(hours=2)).isoformat()
    assert units["suun_th"]["source"] == "manual"
    assert units["suun_th"]["fresh_until"] == (T0 + timedelta(hours=1)).isoformat()
    assert "fresh_until" not in units["mtpa"]  # no inputs: nothing fresh to age (status says)


def test_the_change_listener_stops_quietly_when_its_event_loop_has_closed(config: Config, store: LiveStore):
    """A server stopping closes its event loop while the store's change listener still runs in
    its thread: the next change must stop the listener, not print a traceback from the thread."""
    import asyncio
    import threading

    from layouts.display import ChangeSignal

    before = set(threading.enumerate())
    signal = ChangeSignal(ModelCache(config, store, None))
    crashed: list[BaseException] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: crashed.append(args.exc_value)  # type: ignore[assignment]
    try:
        async def serve_a_little() -> None:
            event = signal.arm()
            store._announce()  # the listener is live: a change reaches the loop and sets the event
            await asyncio.wait_for(event.wait(), 10)

        asyncio.run(serve_a_little())  # the loop is closed when this returns
        deadline = time.monotonic() + 10
        while not signal.stop.is_set() and time.monotonic() < deadline:
            store._announce()
            time.sleep(0.1)
        assert signal.stop.is_set(), "the listener went on after its loop had closed"
        time.sleep(1.2)  # the listener's thread sees the stop within its 1 s read timeout
        assert not [t for t in set(threading.enumerate()) - before if t.name == "change-listener"]
        assert crashed == []
    finally:
        signal.stop.set()
        threading.excepthook = old_hook


def test_a_push_streams_wait_is_the_cap_while_the_store_is_away(config: Config, store: LiveStore):
    """The push channel asks how long a display's model stays right before it sleeps: with the
    live store gone that is the cap (the next turn finds out and says so), not a traceback."""
    import redis

    with time_machine.travel(T0, tick=False):
        poll_all(config, store)
        cache = ModelCache(config, store, None)
        cache.get("vastaanotto-kaytava")
        assert 0 < cache.seconds_until_due("vastaanotto-kaytava", cap=5.0) <= 5.0
        away = LiveStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), store.p)  # nobody listens
        cache.store = away
        assert cache.seconds_until_due("vastaanotto-kaytava", cap=5.0) == 5.0


def test_shared_unit_tiles_and_cards_give_exactly_what_building_afresh_gives(config: Config, store: LiveStore):
    """An area's 500 displays after one change rebuild from the units' tiles and cards kept
    by the cache (ModelCache.units, DisplayContext.cards): after every kind of change — one
    source's poll, a notice for every unit, a correction, a stopped feed going stale as time
    passes, a shift lead's level, a rebuild minutes later with the tiles unchanged, a new day —
    each display's model
    and board are exactly those built and drawn from nothing; and what did not change is not
    made again."""
    from layouts.components import CardMemo, board, board_json
    from layouts.patch import plain, with_ids

    cache, memo = ModelCache(config, store, None), CardMemo()

    def same_as_afresh(what: str) -> None:
        for d in config.displays:
            model = cache.get(d.id)
            fresh = build(config, d, store, None)
            assert model.data | {"generated_at": None} == fresh.data | {"generated_at": None}, (what, d.id, json.dumps(model.data["escalation"]), json.dumps(fresh.data["escalation"]))
            assert model.etag == fresh.etag, (what, d.id)
            assert board_json(config, d, model.data, memo) == with_ids(plain(board(config, d, model.data))), (what, d.id)

    def notice(text: str) -> None:
        store.put_notice_now({"id": "n1", "unit": "kaikki", "importance": "tärkeä", "public": True, "text": text,
                              "starts": T0.isoformat(), "ends": (T0 + timedelta(hours=8)).isoformat()})

    with time_machine.travel(T0, tick=False) as traveller:
        poll_all(config, store)
        same_as_afresh("first")
        drawn = memo.drawn
        # a notice for every unit: every model changes, no tile or card is made again
        kept = {u: cache.units._kept[(u, False, False, config.own_needed(config.display("vastaanotto-kaytava")))][2] for u in ("vastaanotto", "laboratorio")}
        notice("Kuormatesti")
        same_as_afresh("a notice")
        assert memo.drawn == drawn
        assert all(cache.units._kept[(u, False, False, config.own_needed(config.display("vastaanotto-kaytava")))][2] is t for u, t in kept.items())
        # one source polled: only its units' tiles are made again
        traveller.shift(1)
        poll_all(config, store, {"demo-jonot"})
        same_as_afresh("one source")
        # a correction from the tablet, and a feed stopped: its tiles stale as time passes
        store.apply_manual("taulukko", [Reading("queue.waiting", "vastaanotto", "ajanvaraus", 9, T0, "taulukko",
                                                manual=True, valid_until=T0 + timedelta(minutes=30),
                                                entered_by="vuorovastaava")], [], {"state": "ok"})
        store.stop_source("demo-henkilosto")
        # a shift lead's level: the escalation bars change, no tile does
        same_as_afresh("a correction, a feed stopped")
        store.set_escalation("vastaanotto", {"level": 3, "reason": "Kaksi lääkäriä pois", "by": "vuorovastaava",
                                             "at": T0.isoformat(), "valid_until": (T0 + timedelta(hours=1)).isoformat()})
        same_as_afresh("a shift lead's level")
        for step in (5, 30, 60, 600, 120):  # within the minute, a new minute, past the stale limits, older
            traveller.shift(step)
            same_as_afresh(f"+{step} s")
            # rebuilt by a change elsewhere: the same tiles, their age notes a later minute's
            notice(f"Muutos {step}")
            same_as_afresh(f"+{step} s, a notice")
        for hour in (15, 16):  # the small site closes at 15, the others at 16: the rules' verdict with them
            traveller.move_to(T0.replace(hour=hour, minute=0, second=1))
            same_as_afresh(f"closed at {hour}")
            notice(f"Suljettu {hour}")
            same_as_afresh(f"closed at {hour}, a notice")
        traveller.move_to(T0 + timedelta(days=1, hours=-2))  # the next morning: yesterday's values unavailable
        same_as_afresh("a new day")
        # a Saturday (closed), then Christmas Day (a public holiday on a Friday), each with a notice
        for day in (T0.replace(day=28), T0.replace(month=12, day=25)):
            traveller.move_to(day)
            same_as_afresh(f"{day:%a %d.%m.}")
            notice(f"Suljettu {day:%d.%m.}")
            same_as_afresh(f"{day:%a %d.%m.}, a notice")


def test_on_a_demo_clock_running_four_times_as_fast_a_figure_is_fresh_for_four_times_the_clocks_seconds(
        config: Config, store: LiveStore):
    """`ohjaustaulu demo --speed 4`: a feed polled every 5 real seconds is read every 20 s of
    the demo's clock, so a figure 12 s old on that clock is as fresh as one 3 s old at real
    speed (it flickered grey at every other look before), and one 45 s old is stale — two
    polls, 40 s of that clock. The tablet's view of a figure agrees with the wall's."""
    from dashboard.domain.clock import Clock
    from dashboard.web.accounts import User
    from dashboard.web.shiftlead import ShiftLead

    tz = ZoneInfo("Europe/Helsinki")
    with time_machine.travel(T0, tick=False):
        store.set_clock(Clock(tz, anchor_real=T0, anchor_shown=T0, speed=4.0))
        store.write_readings("demo-jonot", [
            Reading("queue.waiting", "vastaanotto", "a", 20, T0 - timedelta(seconds=12), "demo-jonot"),
            Reading("queue.waiting", "vastaanotto", "b", 2, T0 - timedelta(seconds=45), "demo-jonot"),
            Reading("queue.waiting", "vastaanotto", "c", 4, T0 - timedelta(seconds=3), "demo-jonot")], {})
        tiles = {t["key"]: t for t in build(config, config.display("johto"), store, None).data["tiles"]
                 if (t["unit"], t["metric"]) == ("vastaanotto", "queue.waiting")}
        lead = ShiftLead(config, store, None, User("vuorovastaava", "shift_lead", ()), "fi")  # type: ignore[arg-type]
        shown, _ = lead.figure("queue.waiting", "vastaanotto", "a")
        store.set_clock(Clock(tz, anchor_real=T0, anchor_shown=T0, speed=0.0))  # a clock that stands
        standing = {t["key"]: t for t in build(config, config.display("johto"), store, None).data["tiles"]
                    if (t["unit"], t["metric"]) == ("vastaanotto", "queue.waiting")}
        store.set_clock(Clock(tz))  # real time again: the same 12 s are past two 5-s polls
        real = {t["key"]: t for t in build(config, config.display("johto"), store, None).data["tiles"]
                if (t["unit"], t["metric"]) == ("vastaanotto", "queue.waiting")}
    assert tiles["a"]["status"] == "fresh" and tiles["a"]["fresh_until"] == (T0 + timedelta(seconds=28)).isoformat()
    assert tiles["b"]["status"] == "stale"
    assert shown is not None and shown[1] == "fresh"
    assert real["a"]["status"] == "stale"
    # a standing clock keeps the real seconds (a window of 0 would grey everything on it)
    assert standing["c"]["status"] == "fresh" and standing["a"]["status"] == "stale"
