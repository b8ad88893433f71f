"""The regional picture's roll-ups (dashboard/domain/region.py, docs/region.md), recomputed here the
slow, obvious way from the readings each test writes, on days shaped like real ones: a
working morning, a Saturday with only the around-the-clock unit open, a public holiday, an
evening at a month's end, and a feed that stopped an hour ago."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dashboard.config import Config, ConfigError, parse_config
from dashboard.domain import region
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import build
from dashboard.storage.livestore import LiveStore
from tests.conftest import drawn_rows

TZ = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.store

AREA = """
[site]
name = "Testialue"

[[sites]]
code = "iso"
name = "Iso keskus"
name_sv = "Stora centralen"

[[sites]]
code = "pieni"
name = "Pieni asema"
opening_hours = [8, 15]

[[sites]]
code = "tyhja"
name = "Tyhjä asema"

[[units]]
code = "iso_vo"
site = "iso"
name = "Vastaanotto"
name_sv = "Mottagning"

[[units]]
code = "iso_pkl"
site = "iso"
name = "Päivystys"
name_sv = "Jour"
opening_hours = "always"

[[units]]
code = "pieni_vo"
site = "pieni"
name = "Pienen vastaanotto"
name_sv = "Lilla mottagningen"

[[units]]
code = "tyhja_vo"
site = "tyhja"
name = "Tyhjän vastaanotto"
name_sv = "Tomma mottagningen"

[[displays]]
id = "alue"
title = "Alue"
sites = ["iso", "pieni", "tyhja"]
pages = ["region"]

[[displays]]
id = "iso"
title = "Iso"
units = ["iso_vo", "iso_pkl"]

[[sources]]
name = "jonot"
kind = "queue"
address = "http://127.0.0.1:9/jonot"
poll_seconds = 30

[[sources]]
name = "henkilosto"
kind = "staffing"
address = "http://127.0.0.1:9/henkilosto"
poll_seconds = 60

[[escalation.rules]]
metric = "queue.longest_wait_min"
above = 30
level = 2

[[escalation.rules]]
metric = "queue.longest_wait_min"
above = 60
level = 3
hours = "always"
"""


@dataclass
class Written:
    metric: str
    unit: str
    key: str
    value: float
    at: datetime
    source: str
    bound: str | None = None


def day_of(now: datetime) -> list[Written]:
    """A day's readings: the queues just now, the staffing of an hour ago on `pieni` (its feed
    stopped) and of a minute ago elsewhere, T3 with one bound."""
    q = now - timedelta(seconds=10)
    old = now - timedelta(minutes=62)
    s = now - timedelta(seconds=50)
    s2 = now - timedelta(seconds=95)  # the emergency unit's staffing a poll earlier: still fresh
    return [
        Written("queue.waiting", "iso_vo", "hoidon tarpeen arvio", 7, q, "jonot"),
        Written("queue.longest_wait_min", "iso_vo", "hoidon tarpeen arvio", 35, q, "jonot"),
        Written("queue.avg_wait_min", "iso_vo", "hoidon tarpeen arvio", 20, q, "jonot"),
        Written("queue.called_last_hour", "iso_vo", "hoidon tarpeen arvio", 12, q, "jonot"),
        Written("queue.waiting", "iso_vo", "lääkärin vastaanotto", 3, q, "jonot"),
        Written("queue.longest_wait_min", "iso_vo", "lääkärin vastaanotto", 18, q, "jonot"),
        Written("queue.avg_wait_min", "iso_vo", "lääkärin vastaanotto", 10, q, "jonot"),
        Written("queue.called_last_hour", "iso_vo", "lääkärin vastaanotto", 4, q, "jonot"),
        Written("queue.waiting", "iso_pkl", "päivystys", 11, q, "jonot"),
        Written("queue.longest_wait_min", "iso_pkl", "päivystys", 75, q, "jonot"),
        Written("queue.avg_wait_min", "iso_pkl", "päivystys", 41, q, "jonot"),
        Written("queue.called_last_hour", "iso_pkl", "päivystys", 0, q, "jonot"),
        Written("queue.waiting", "pieni_vo", "vastaanotto", 2, q, "jonot"),
        Written("queue.longest_wait_min", "pieni_vo", "vastaanotto", 12, q, "jonot"),
        Written("queue.avg_wait_min", "pieni_vo", "vastaanotto", 9, q, "jonot"),
        Written("queue.called_last_hour", "pieni_vo", "vastaanotto", 5, q, "jonot"),
        Written("staff.planned", "iso_vo", "lääkäri", 8, s, "henkilosto"),
        Written("staff.present", "iso_vo", "lääkäri", 6, s, "henkilosto"),
        Written("staff.planned", "iso_vo", "sairaanhoitaja", 10, s, "henkilosto"),
        Written("staff.present", "iso_vo", "sairaanhoitaja", 10, s, "henkilosto"),
        Written("staff.planned", "iso_pkl", "lääkäri", 2, s2, "henkilosto"),
        Written("staff.present", "iso_pkl", "lääkäri", 2, s2, "henkilosto"),
        Written("staff.planned", "pieni_vo", "lääkäri", 2, old, "henkilosto"),
        Written("staff.present", "pieni_vo", "lääkäri", 1, old, "henkilosto"),
        Written("appointments.free_3wd", "iso_vo", "lääkäri", 14, s, "henkilosto"),
        Written("appointments.free_3wd", "iso_pkl", "lääkäri", 0, s2, "henkilosto"),
        Written("appointments.free_3wd", "pieni_vo", "lääkäri", 3, old, "henkilosto"),
        Written("appointments.t3_days", "iso_vo", "lääkäri", 4, s, "henkilosto"),
        Written("appointments.t3_days", "iso_pkl", "lääkäri", 90, s, "henkilosto", bound="above"),
        Written("appointments.t3_days", "iso_vo", "sairaanhoitaja", 1, s, "henkilosto"),
        Written("appointments.t3_days", "pieni_vo", "lääkäri", 6, old, "henkilosto"),
        Written("flow.arrivals_today", "iso_vo", "", 120, q, "jonot"),
        Written("flow.arrivals_today", "pieni_vo", "", 17, q, "jonot"),
    ]


POLL = {"jonot": 30, "henkilosto": 60}


def slow_status(w: Written, now: datetime) -> str:
    """PRODUCT.md: fresh while younger than two poll intervals, stale after, from today."""
    return "fresh" if now - w.at <= timedelta(seconds=2 * POLL[w.source]) else "stale"


def slow_site(site_units: list[str], written: list[Written], now: datetime) -> dict[str, tuple]:
    """Each figure of a site as (value, status, oldest time), computed the obvious way."""
    def of(metric: str) -> list[Written]:
        return [w for w in written if w.metric == metric and w.unit in site_units]

    def status(ws: list[Written]) -> str:
        return "fresh" if all(slow_status(w, now) == "fresh" for w in ws) else "stale"

    def oldest(ws: list[Written]) -> str:
        return min(ws, key=lambda w: w.at).at.isoformat(timespec="seconds")

    out: dict[str, tuple] = {}
    for name, metric in [("waiting", "queue.waiting"), ("staff_present", "staff.present"),
                         ("staff_planned", "staff.planned"), ("free_3wd", "appointments.free_3wd"),
                         ("arrivals_today", "flow.arrivals_today")]:
        ws = of(metric)
        total = 0.0
        for w in ws:
            total = total + w.value
        out[name] = (total, status(ws), oldest(ws)) if ws else (None, "unavailable", None)
    ws = of("queue.longest_wait_min")
    out["longest_wait_min"] = (max(w.value for w in ws), status(ws), oldest(ws)) if ws else (None, "unavailable", None)
    waits, called = of("queue.avg_wait_min"), of("queue.called_last_hour")
    minutes = people = 0.0
    for w in waits:
        for c in called:
            if (c.unit, c.key) == (w.unit, w.key):
                minutes += w.value * c.value
                people += c.value
    both = waits + called
    out["mean_wait_min"] = ((round(minutes / people, 1) if people else None), status(both), oldest(both)) \
        if both else (None, "unavailable", None)
    return out


def figures_of(row: dict) -> dict[str, tuple]:
    return {k: (v["value"], v["status"], v["updated_at"]) for k, v in row["figures"].items()
            if k != "arrivals_vs_typical_pct"}


def write(store: LiveStore, written: list[Written]) -> None:
    for source in POLL:
        readings = [Reading(w.metric, w.unit, w.key, w.value, w.at, w.source, bound=w.bound)
                    for w in written if w.source == source]
        store.write_readings(source, readings, {"state": "ok"})


DAYS = {
    "a working morning": datetime(2026, 11, 24, 10, 30, tzinfo=TZ),
    "a Saturday": datetime(2026, 11, 28, 11, 0, tzinfo=TZ),
    "Epiphany, a public holiday": datetime(2027, 1, 6, 9, 15, tzinfo=TZ),
    "a month's last evening": datetime(2026, 11, 30, 21, 40, tzinfo=TZ),
}


def area_day(store: LiveStore, day: str) -> tuple[Config, datetime, list[Written], dict]:  # type: ignore[type-arg]
    """The test area's region display on `day`, after that day's readings are written."""
    config = parse_config(AREA, "alue.toml")
    now = DAYS[day]
    written = day_of(now)
    with time_machine.travel(now, tick=False):
        write(store, written)
        data = build(config, config.display("alue"), store, None).data
    return config, now, written, data


@pytest.mark.parametrize("day", list(DAYS))
def test_each_sites_figures_are_the_slow_sums_maxima_and_weighted_means(store: LiveStore, day: str):
    config, now, written, data = area_day(store, day)
    rows = {r["site"]: r for r in data["region"]}
    assert set(rows) == {"iso", "pieni", "tyhja"}
    for site in ("iso", "pieni"):
        assert figures_of(rows[site]) == slow_site(config.site_units(site), written, now), site
    # a site nothing has arrived from says so: every figure missing, not zero
    assert {v["status"] for v in rows["tyhja"]["figures"].values()} == {"unavailable"}
    assert rows["tyhja"]["figures"]["waiting"]["value"] is None
    # the stopped staffing feed of `pieni`: its staff figures stale, aged by that feed
    staff = rows["pieni"]["figures"]["staff_present"]
    assert staff["status"] == "stale" and staff["updated_at"] == (now - timedelta(minutes=62)).isoformat(timespec="seconds")
    assert rows["pieni"]["figures"]["waiting"]["status"] == "fresh"


@pytest.mark.parametrize("day", list(DAYS))
def test_t3_is_the_median_and_the_worst_per_profession_and_a_bound_stays_a_bound(store: LiveStore, day: str):
    config, now, written, data = area_day(store, day)
    rows = {r["site"]: r for r in data["region"]}
    for site in ("iso", "pieni"):
        units = config.site_units(site)
        t3 = [w for w in written if w.metric == "appointments.t3_days" and w.unit in units]
        for profession in {w.key for w in t3}:
            values = sorted(w.value for w in t3 if w.key == profession)
            got = rows[site]["t3"][profession]
            assert got["median"]["value"] == statistics.median(values)
            assert got["worst"]["value"] == values[-1]
    assert rows["iso"]["t3"]["lääkäri"]["worst"]["bound"] == "above"  # "> 90", not 90
    assert rows["iso"]["t3"]["lääkäri"]["median"]["value"] == 47  # (4 + 90) / 2
    assert "bound" not in rows["iso"]["t3"]["sairaanhoitaja"]["worst"]


@pytest.mark.parametrize("day", list(DAYS))
def test_the_level_is_the_worst_units_and_the_neediest_site_comes_first(store: LiveStore, day: str):
    config, _now, _written, data = area_day(store, day)
    units = data["escalation"]["units"]
    for row in data["region"]:
        mine = [units[u]["level"] for u in config.site_units(row["site"])]
        assert row["level"]["value"] == max(mine)
    # the emergency unit's 75 min is level 3 around the clock; the 35 min of the reception
    # counts only in its opening hours (8–16 on working days)
    assert {r["site"]: r["level"]["value"] for r in data["region"]}["iso"] == 3
    reasons = {(r["unit"], r["key"]) for r in data["region"][0]["level"]["reasons"]}
    assert reasons == {("iso_pkl", "päivystys")}
    # ordered by need: level, then the longest wait, then the share of staff present
    assert [r["site"] for r in data["region"]] == ["iso", "pieni", "tyhja"]


def test_arrivals_against_the_typical_day_compare_full_hours_only():
    config = parse_config(AREA, "alue.toml")
    now = datetime(2026, 11, 30, 13, 20, tzinfo=TZ)  # a Monday, a month's last day
    at = (now - timedelta(seconds=5)).isoformat(timespec="seconds")
    today_vo = {"08": 20, "09": 18, "10": 15, "11": 9, "12": 7, "13": 4}
    typical_vo = {"08": 16.0, "09": 15.0, "10": 14.0, "11": 10.0, "12": 8.0, "13": 9.0, "14": 7.0}
    today_pkl = {"00": 1, "03": 2, "08": 4, "12": 5, "13": 1}
    typical_pkl = {str(h).zfill(2): 2.0 for h in range(24)}
    tiles = [
        {"metric": "flow.arrivals_by_hour", "unit": "iso_vo", "key": "", "value": today_vo, "typical": typical_vo,
         "status": "fresh", "updated_at": at, "source": "jonot"},
        {"metric": "flow.arrivals_by_hour", "unit": "iso_pkl", "key": "", "value": today_pkl, "typical": typical_pkl,
         "status": "fresh", "updated_at": at, "source": "jonot"},
    ]
    escalation = {"level": 1, "units": {}}
    rows = {r["site"]: r for r in region.rows(config, config.display("alue").units, tiles, escalation, now)}
    # the slow way: the full hours before 13.00, today against the typical day, both units
    got = typ = 0.0
    for today, typical in ((today_vo, typical_vo), (today_pkl, typical_pkl)):
        for hour in range(13):
            h = str(hour).zfill(2)
            if h in typical:
                got += today.get(h, 0)
                typ += typical[h]
    assert rows["iso"]["figures"]["arrivals_vs_typical_pct"]["value"] == round(100 * got / typ)
    # without a typical day (a new installation) there is no comparison, and no made-up one
    for x in tiles:
        x["typical"] = {}
    rows = {r["site"]: r for r in region.rows(config, config.display("alue").units, tiles, escalation, now)}
    assert rows["iso"]["figures"]["arrivals_vs_typical_pct"]["status"] == "unavailable"


def test_a_one_site_configuration_of_today_is_an_area_of_one():
    from tests.conftest import EXAMPLE_CONFIG

    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    # today's shape: [site] alone, units naming no site, displays naming units
    one = "\n".join(line for line in text.splitlines() if not line.startswith("site = "))
    start, end = one.index("\n[[sites]]\n"), one.index("\n[[units]]\n")
    one = one[:start] + one[end:]
    one = one.replace('sites = ["kivikko", "harju", "strand"]', 'sites = ["keskus"]')
    config = parse_config(one, "one.toml")
    assert [s.code for s in config.area] == ["keskus"]
    assert config.site_units("keskus") == [u.code for u in config.units]
    assert config.hours("vastaanotto").text() == "8\u201316"


def test_sites_are_checked_with_file_key_and_reason():
    bad = AREA.replace('site = "pieni"', 'site = "pikku"').replace(
        'opening_hours = [8, 15]', 'opening_hours = [15, 8]')
    bad = bad.replace('[[units]]\ncode = "tyhja_vo"\nsite = "tyhja"', '[[units]]\ncode = "tyhja_vo"')
    bad = bad.replace('sites = ["iso", "pieni", "tyhja"]', 'sites = ["iso", "pieni", "tyhja", "muu"]')
    bad += '\n[[displays]]\nid = "aula"\ntitle = "Aula"\nsites = ["iso"]\nmode = "public"\npages = ["region"]\n'
    with pytest.raises(ConfigError) as err:
        parse_config(bad, "alue.toml")
    said = {(p.key, p.reason) for p in err.value.problems}
    keys = {k for k, _ in said}
    assert {"units[2].site", "units[3].site", "sites[1].opening_hours",
            "displays[0].sites[3]", "displays[2].pages"} <= keys, said
    assert any("unknown site 'pikku'" in r for _, r in said)
    assert any("name the unit's site" in r for _, r in said)
    assert all(str(p).startswith("alue.toml: ") for p in err.value.problems)
    with pytest.raises(ConfigError) as err:
        parse_config(AREA.replace('opening_hours = [8, 15]', 'opening_hours = [8, 15]\ntimezone = "Europe/Tukholma"'),
                     "alue.toml")
    assert [(p.key, p.reason) for p in err.value.problems] == [
        ("sites[1].timezone", "Value error, unknown time zone 'Europe/Tukholma'")]


def test_admin_groups_screens_and_sources_by_site(store: LiveStore):
    from datetime import UTC

    from dash import html

    from dashboard.config import load_config
    from layouts.admin import screens_table, sources_table
    from tests.conftest import EXAMPLE_CONFIG

    config = load_config(EXAMPLE_CONFIG)
    at = datetime.now(UTC)
    for screen, display in [("z-aula-tv", "aula"), ("a-strand-tv", "strand-vantrum"), ("m-alue-tv", "alue"),
                            ("b-harju-tv", "harju-kaytava"), ("k-johto-tv", "johto")]:
        store.record_heartbeat(screen, {"screen": screen, "display": display, "seen_at": at.isoformat(),
                                        "seen_at_epoch": at.timestamp()})

    def rows(table: html.Div, cls: str) -> list[list[str]]:
        return [r["texts"] for r in drawn_rows(table, cls)]  # type: ignore[misc]

    screens = rows(screens_table(config, store), "screen-row")
    # by the area's order of sites (Kivikko, Harju, Strand), the area-wide region display last
    assert [(r[0], r[1]) for r in screens] == [
        ("Kivikon sote-keskus", "z-aula-tv"), ("Kivikon sote-keskus", "k-johto-tv"),
        ("Harjun sote-asema", "b-harju-tv"), ("Rantalan sote-keskus", "a-strand-tv"), ("koko alue", "m-alue-tv")]
    sources = {r[1]: r[0] for r in rows(sources_table(config, store), "source-row")}
    assert sources["demo-jonot"] == "koko alue"
    assert sources["demo-hoitoonpaasy"] == "Kivikon sote-keskus"
    # a site admin (an admin account given sites): their site's screens and the sources that
    # feed any of its units; a region spanning more sites is the area admins'
    strand = frozenset(config.site_units("strand"))
    assert [r[1] for r in rows(screens_table(config, store, strand), "screen-row")] == ["a-strand-tv"]
    fed = {r[1] for r in rows(sources_table(config, store, strand), "source-row")}
    assert fed == {s.name for s in config.sources if strand & {*s.units, *s.unit_map.values()}}
    assert "demo-jonot" in fed and "demo-hoitoonpaasy" not in fed


def test_a_site_admin_sees_the_people_of_their_site_and_not_the_areas_audit_log(backend):  # type: ignore[no-untyped-def]
    from dashboard.config import load_config
    from dashboard.storage import audit
    from dashboard.web.access import Principal
    from dashboard.web.accounts import User, add_user
    from layouts.admin import admin_scope, content
    from tests.conftest import EXAMPLE_CONFIG

    config = load_config(EXAMPLE_CONFIG)
    strand = config.site_units("strand")
    for name, units in (("strand-vv", strand), ("strand-vo-vv", strand[:1]), ("kivikko-vv", ["vastaanotto"]),
                        ("molemmat-vv", [strand[0], "vastaanotto"]), ("alue-johto", [])):
        add_user(backend.history, name, "shift_lead", units, "salasana-12345")
    audit.record(backend.history, "alue-johto", "export", {"rows": 4})
    assert admin_scope(Principal(User("alue-yp", "admin", (), None))) is None
    scope = admin_scope(Principal(User("strand-yp", "admin", tuple(strand), None)))
    assert scope == frozenset(strand)
    mine = content(config, backend.store, backend.history, scope)
    users = {r["attrs"]["data-user"] for r in drawn_rows(mine, "user-row")}  # type: ignore[index]
    assert users == {"strand-vv", "strand-vo-vv"}  # whole scope within Strand's
    assert not drawn_rows(mine, "audit-row") and "admin-audit-area-only" in str(mine)
    every = content(config, backend.store, backend.history, None)
    assert drawn_rows(every, "audit-row")
    assert {"kivikko-vv", "alue-johto"} <= {r["attrs"]["data-user"] for r in drawn_rows(every, "user-row")}  # type: ignore[index]


def test_the_admin_pages_tables_travel_as_data_whatever_their_size(backend):  # type: ignore[no-untyped-def]
    """An area's 500 screens and the audit log's 100 newest rows are a handful of elements with
    their tables as data (drawn by assets/tables.js): as a Dash component per cell, each 10-s
    refresh of 100 audit rows held the admin's page for 2-3 s."""
    from datetime import UTC

    from dashboard.config import load_config
    from dashboard.storage import audit
    from layouts.admin import content
    from tests.conftest import EXAMPLE_CONFIG
    from tests.test_shiftlead import rendered

    config = load_config(EXAMPLE_CONFIG)
    at = datetime.now(UTC)
    displays = [d.id for d in config.displays]
    for i in range(500):
        screen = f"tv-{i:03d}"
        backend.store.record_heartbeat(screen, {"screen": screen, "display": displays[i % len(displays)],
                                                "seen_at": at.isoformat(), "seen_at_epoch": at.timestamp()})
    for i in range(120):
        audit.record(backend.history, f"henkilo-{i}", "login", {"address": "10.0.0.1", "nro": i})
    made = content(config, backend.store, backend.history, None)
    assert len(rendered(made)) < 40  # not a component per row or cell
    assert len(drawn_rows(made, "screen-row")) == 500
    logged = drawn_rows(made, "audit-row")
    assert len(logged) == 100 and logged[0]["texts"][1:3] == ["henkilo-119", "kirjautuminen"]
    assert logged[0]["texts"][3] == "address: 10.0.0.1; nro: 119"


def test_a_display_that_spans_sites_says_whose_notice_it_is(store: LiveStore):
    """On the region display a site's notice carries its site's name (in Swedish in Swedish
    turns); one for every unit is nobody's; a site's own display names no site."""
    from layouts.components import notices_strip

    config = parse_config(AREA, "alue.toml")
    now = DAYS["a working morning"]
    for nid, unit in (("n-pieni", "pieni_vo"), ("n-iso", "iso_pkl"), ("n-kaikki", "kaikki")):
        store.put_notice({"id": nid, "unit": unit, "importance": "info", "public": True, "text": f"Tiedote {nid}",
                          "starts": (now - timedelta(hours=1)).isoformat(), "ends": (now + timedelta(hours=1)).isoformat(),
                          "entered_by": "testi"})
    with time_machine.travel(now, tick=False):
        area = build(config, config.display("alue"), store, None).data["notices"]
        own = build(config, config.display("iso"), store, None).data["notices"]
    whose = {n["id"]: n.get("site") for n in area}
    assert whose == {"n-pieni": "pieni", "n-iso": "iso", "n-kaikki": None}
    assert {n["id"]: n.get("site") for n in own} == {"n-iso": None, "n-kaikki": None}  # its own site: no label
    strip = str(notices_strip(area, ["sv", "fi"]))
    assert "Stora centralen: " in strip and "Iso keskus: " in strip  # each turn in its language
    assert "Pieni asema: " in strip and "data-site='pieni'" in strip
