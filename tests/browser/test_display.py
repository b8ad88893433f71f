import json
import re
import time
from contextlib import closing
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Demo, embedded_only, http_client, sign_in, table_rows, tiles
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def open_display(browser, demo: Demo, display: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    browser.get(demo.display_url(display))
    return wait_for(lambda: [t for t in tiles(browser) if t["status"] == "fresh"], timeout=20,
                    what="fresh tiles on the page")


def plain(value) -> str:  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def test_the_wall_display_shows_fresh_tiles_with_their_facts(browser, demo: Demo):
    fresh = open_display(browser, demo, "vastaanotto-kaytava")
    metrics = {t["metric"] for t in fresh}
    assert {"queue.waiting", "staff.present", "appointments.t3_days", "capacity.in_use",
            "flow.arrivals_by_hour", "flow.no_shows_today", "callback.pending"} <= metrics
    assert {t["unit"] for t in fresh} == {"vastaanotto", "laboratorio"}
    body = browser.find_element("tag name", "body")
    assert body.get_attribute("data-connection") == "online"
    wait_for(lambda: body.get_attribute("data-as-of"), what="data-as-of on the body")
    assert body.get_attribute("data-as-of").startswith("20")
    series = next(t for t in fresh if t["metric"] == "flow.arrivals_by_hour")
    assert isinstance(json.loads(series["value"]), dict)
    waiting = next(t for t in fresh if t["metric"] == "queue.longest_wait_min")
    float(waiting["value"])  # a plain number, dot decimal
    assert waiting["key"] == waiting["key"].strip().lower()
    clock = wait_for(lambda: browser.find_element("id", "clock").text, what="the clock")
    assert clock.startswith("klo ")


def test_numbers_change_within_a_minute(browser, demo: Demo):
    before = {(t["metric"], t["unit"], t["key"]): t["value"] for t in open_display(browser, demo, "vastaanotto-kaytava")}

    def changed() -> bool:
        now = {(t["metric"], t["unit"], t["key"]): t["value"] for t in tiles(browser)}
        return any(now.get(k) != v for k, v in before.items())

    wait_for(changed, timeout=60, interval=0.5, what="a number to change")


def test_the_page_and_snapshot_json_agree(browser, demo: Demo):
    open_display(browser, demo, "vastaanotto-kaytava")
    names = [s.strip('"') for s in ("demo-jonot", "demo-takaisinsoitot", "demo-henkilosto",
                                    "demo-ajanvaraus", "demo-potilasvirta")]
    demo.stop_sources(*names)
    try:
        # with every feed stopped, the page settles once their tiles are stale (a manual value
        # uploaded by another test stays fresh, and stable, until the end of the day)
        wait_for(lambda: all(t["status"] == "stale" for t in tiles(browser) if t["source"] in names),
                 timeout=20, what="every feed's tiles stale")
        time.sleep(2.5)  # one more page update
        shown = tiles(browser)
        page = {(t["metric"], t["unit"], t["key"]): t for t in shown if t["metric"] != "escalation.level"}
        levels = {t["unit"]: t for t in shown if t["metric"] == "escalation.level"}
        snap = demo.cli("snapshot", "--display", "vastaanotto-kaytava", "--json")
        assert snap.returncode == 0, snap.stderr
        data = json.loads(snap.stdout)
        assert browser.find_element("tag name", "body").get_attribute("data-as-of") == data["as_of"]
        assert len(page) == len(data["tiles"])
        for t in data["tiles"]:
            p = page[(t["metric"], t["unit"], t["key"])]
            assert (p["value"], p["status"], p["updated"], p["source"]) == (
                plain(t["value"]), t["status"], t["updated_at"], t["source"])
        # each unit's escalation level, as the snapshot's escalation object has it
        assert set(levels) == set(data["escalation"]["units"]) == {"vastaanotto", "laboratorio"}
        for unit, u in data["escalation"]["units"].items():
            p = levels[unit]
            assert (p["value"], p["source"], p["key"]) == (str(u["level"]), u["source"], "")
            assert p["status"] == u.get("status", "fresh")
            if u.get("updated_at"):
                assert p["updated"] == u["updated_at"]
    finally:
        demo.start_sources(*names)
    wait_for(lambda: all(t["status"] == "fresh" for t in tiles(browser)), timeout=20,
             what="all tiles fresh again")


@pytest.mark.alone  # stale within 7 s
def test_stopping_one_source_makes_only_its_tiles_stale(browser, demo: Demo):
    open_display(browser, demo, "vastaanotto-kaytava")
    wait_for(lambda: all(t["status"] == "fresh" for t in tiles(browser)), timeout=20, what="all fresh")
    demo.stop_sources("demo-jonot")
    # from when the stop took effect, on the demo's clock, which the store keeps and stamps the stop with
    clock = demo.backend.store.clock(ZoneInfo("Europe/Helsinki"))
    stopped_at = datetime.fromisoformat(str(demo.backend.store.source_status("demo-jonot").stopped_at))
    flickers: list[dict[str, str]] = []

    def queue_tiles_stale() -> bool:
        now = tiles(browser)
        flickers.extend(t for t in now if t["source"] != "demo-jonot" and t["status"] != "fresh")
        ours = [t for t in now if t["source"] == "demo-jonot"]
        return bool(ours) and all(t["status"] == "stale" for t in ours)

    try:
        wait_for(queue_tiles_stale, timeout=15, interval=0.2, what="the queue tiles to turn stale")
        # two poll intervals (1 s) of the source, plus the page's own update interval (2 s)
        assert (clock.now() - stopped_at).total_seconds() <= 2 * 1 + 2 + 3
        assert flickers == []
        # says how old, in words: the page may grey a value by its own clock (data-fresh-until)
        # before the server's next answer brings the row's note; that answer is one update away
        def row_says_how_old() -> bool:
            rows = browser.find_elements("css selector", '.qrow:has([data-source="demo-jonot"][data-status="stale"])')
            return bool(rows) and "päivitetty" in rows[0].text and "sitten" in rows[0].text
        wait_for(row_says_how_old, timeout=2 * 2 + 2, interval=0.2, what="the row to say how old its values are")
    finally:
        demo.start_sources("demo-jonot")
    wait_for(lambda: all(t["status"] == "fresh" for t in tiles(browser) if t["source"] == "demo-jonot"),
             timeout=15, what="the queue tiles to be fresh again")


def test_the_waiting_room_display_shows_no_staff_data(browser, demo: Demo):
    fresh = open_display(browser, demo, "aula")
    assert {t["metric"].split(".")[0] for t in tiles(browser)} == {"queue"}
    assert fresh
    text = browser.find_element("tag name", "body").text
    assert "Henkilöstö" not in text and "lääkäri sairastunut" not in text


@embedded_only  # the page's own timer and turns, not the stores under it
def test_a_display_with_several_pages_rotates_them(browser, demo: Demo):
    open_display(browser, demo, "johto")
    where = ('const r = document.querySelector(".display[data-display]");'
             'return [Array.from(document.querySelectorAll(".page.active")).map(p => p.dataset.page),'
             ' r.getAttribute("data-turn")]')

    def laid_out() -> list | None:  # type: ignore[type-arg]
        now = browser.execute_script(where)
        return now if now[0] and now[1] else None

    first = wait_for(laid_out, what="an active page")
    assert len(first[0]) == 1  # one page at a time
    # the page's own timer turns (5 s in the test site): once is enough to see it run ...
    began = browser.execute_script("return window.ohjaustaulu.state.lastTurnAt")
    wait_for(lambda: browser.execute_script("return window.ohjaustaulu.state.lastTurnAt") != began
             and browser.execute_script(where) != first, timeout=20, interval=0.25,
             what="a turn of the page's own")
    # ... and the same turns, taken at once, go through the pages in order: five units' cards
    # take several turns a page at 1920×1080
    seen = [first[0]]
    for _ in range(40):
        now = browser.execute_script(where)[0]
        if now != seen[-1]:
            seen.append(now)
        if len(seen) >= 3:
            break
        browser.execute_script("window.ohjaustaulu.turn()")
    assert [p[0] for p in seen] == ["queues", "capacity", "flow"]


VISIBLE_CARDS = """
const page = document.querySelector('.pages > .page.active') || document.querySelector('.pages > .page');
const box = page.getBoundingClientRect();
return Array.from(page.querySelectorAll('.card')).filter(c => c.offsetParent !== null).map(c => {
  const r = c.getBoundingClientRect();
  return {id: c.dataset.section + ':' + c.dataset.cardUnit,
          inside: r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1};
});
"""


def test_cards_that_do_not_fit_come_in_turns_each_once(browser, demo: Demo):
    open_display(browser, demo, "vastaanotto-kaytava")
    root = browser.find_element("css selector", ".display")
    turns = int(root.get_attribute("data-turns"))
    assert turns >= 2  # two units' queues, staff and flow do not fit one 1080p screen at 64 px
    all_cards = browser.execute_script(
        "return Array.from(document.querySelectorAll('.card')).map(c => c.dataset.section + ':' + c.dataset.cardUnit)")
    shown: list[str] = []
    for turn in range(turns):
        assert root.get_attribute("data-turn") == str(turn + 1)
        visible = browser.execute_script(VISIBLE_CARDS)
        assert visible and all(c["inside"] for c in visible), visible
        shown += [c["id"] for c in visible]
        browser.execute_script("window.ohjaustaulu.turn()")
    assert sorted(shown) == sorted(all_cards)  # every card once a round, none twice
    assert root.get_attribute("data-turn") == "1"  # and round again


def test_the_admin_page_lists_each_sources_health(browser, demo: Demo):
    demo.stop_sources("demo-ajanvaraus")
    try:
        sign_in(browser, demo.url, "yllapito")
        browser.get(f"{demo.url}/admin")
        rows = wait_for(lambda: table_rows(browser, "source-row"), what="source rows")
        states = {r["attrs"]["data-source"]: r["attrs"]["data-state"] for r in rows}
        assert states["demo-ajanvaraus"] == "stopped"
        assert states["demo-jonot"] == "ok"
        # in the site's words and time: since when it is stopped, its last success, no raw ISO
        said = {r["attrs"]["data-source"]: r["text"] for r in rows}
        assert re.search(r"pysäytetty \d{1,2}\.\d{1,2}\.20\d\d klo \d{1,2}\.\d\d\.\d\d alkaen",
                         said["demo-ajanvaraus"]), said["demo-ajanvaraus"]
        assert re.search(r"\d{1,2}\.\d{1,2}\.20\d\d klo \d{1,2}\.\d\d\.\d\d", said["demo-jonot"])
        assert not re.search(r"\d{4}-\d\d-\d\dT", " ".join(said.values()))
        # the audit log: events in words, times local, details whole (the sign-in just made is there)
        audit = table_rows(browser, "audit-row")
        assert audit and all(re.match(r"\d{1,2}\.\d{1,2}\.20\d\d klo ", r["cells"][0]) for r in audit)
        assert "kirjautuminen" in [r["cells"][2] for r in audit]
        assert "(ylläpitäjä)" in browser.find_element("css selector", "nav.staffbar").text
    finally:
        demo.start_sources("demo-ajanvaraus")


def test_the_snapshot_endpoint_serves_the_model_and_live_source_health(demo: Demo):
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(f"{demo.url}/api/snapshot/aula?token={demo.token('aula')}") as r:
        data = json.load(r)
    assert data["display"] == "aula" and data["tiles"]
    assert {s["name"] for s in data["sources"]} >= {"demo-jonot", "demo-potilasvirta"}
    try:  # a screen reads its own display only
        urllib.request.urlopen(f"{demo.url}/api/snapshot/johto?token={demo.token('aula')}")
        raise AssertionError("a screen read another display")
    except urllib.error.HTTPError as err:
        assert err.code == 403
    with closing(http_client(demo.url, "esihenkilo")) as client:
        assert client.get("/api/snapshot/johto").status_code == 200
        missing = client.get("/api/snapshot/nope")
        assert missing.status_code == 404 and "nope" in missing.json()["error"]
