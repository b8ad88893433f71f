"""A time zone per site (issue 16): an area whose sites lie in two zones — Tornio in Finland
and Haparanda across the river in Sweden, an hour behind, as a cross-border area's twin
towns are. Each unit's "today", opening hours, workbook rows, tablet times, display clock
and rollups are its own site's; a feed reads one zone's day. The rollups' days per zone are
checked against the slow statement in tests/test_rollups_in_force.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dashboard.config import ConfigError, Zones, parse_config
from dashboard.domain.escalation import period
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import build
from dashboard.storage import rollups
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.web.accounts import User
from dashboard.web.shiftlead import ShiftLead
from dashboard.workbook.importer import import_bytes
from tests.conftest import Backend
from tests.test_workbook import workbook

pytestmark = pytest.mark.store
FI, SE = ZoneInfo("Europe/Helsinki"), ZoneInfo("Europe/Stockholm")

AREA = """
[site]
name = "Tornionlaakso"

[[sites]]
code = "tornio"
name = "Tornion terveysasema"

[[sites]]
code = "haaparanta"
name = "Haaparannan vårdcentral"
name_sv = "Haparanda vårdcentral"
timezone = "Europe/Stockholm"
language = "sv"

[[units]]
code = "tornio_vo"
site = "tornio"
name = "Tornion vastaanotto"
name_sv = "Torneå mottagning"

[[units]]
code = "haaparanta_vo"
site = "haaparanta"
name = "Haaparannan vastaanotto"
name_sv = "Haparanda mottagning"

[[displays]]
id = "tornio"
title = "Tornio"
units = ["tornio_vo"]

[[displays]]
id = "haaparanta"
title = "Haparanda"
units = ["haaparanta_vo"]
language = "sv"

[[displays]]
id = "molemmat"
title = "Molemmat"
units = ["tornio_vo", "haaparanta_vo"]

[[sources]]
name = "jonot_fi"
kind = "queue"
address = "http://127.0.0.1:9/jonot"
units = ["tornio_vo"]

[[sources]]
name = "jonot_se"
kind = "queue"
address = "http://127.0.0.1:9/koer"
units = ["haaparanta_vo"]

[[sources]]
name = "tyokirja"
kind = "workbook"
address = "/tmp/ohjaustaulu-ei-kaytossa"
"""


@pytest.fixture
def area():  # type: ignore[no-untyped-def]
    return parse_config(AREA, "alue.toml")


def test_each_unit_display_and_feed_keeps_its_sites_zone(area):  # type: ignore[no-untyped-def]
    assert area.tz_of("tornio_vo") == FI and area.tz_of("haaparanta_vo") == SE
    assert area.zones() == Zones("Europe/Helsinki", (("haaparanta_vo", "Europe/Stockholm"),))
    assert area.zones().spec() == {"*": "Europe/Helsinki", "haaparanta_vo": "Europe/Stockholm"}
    assert area.tz_for(area.display("haaparanta").units) == SE
    # a display across both zones keeps the installation's clock
    assert area.tz_for(area.display("molemmat").units) == FI
    assert area.tz_for(area.source_units(area.source("jonot_se"))) == SE
    # a one-site configuration of today: one zone for every unit, as before
    one = parse_config(AREA.split("[[sites]]")[0] + '[[units]]\ncode = "vo"\nname = "Vo"\nname_sv = "Mott"\n', "one.toml")
    assert one.zones() == Zones("Europe/Helsinki") == Zones.one(FI)


def test_a_feed_whose_units_span_zones_is_refused_by_name_and_a_workbook_is_not(area):  # type: ignore[no-untyped-def]
    both = AREA.replace('units = ["haaparanta_vo"]\n\n[[sources]]\nname = "tyokirja"',
                        'units = ["haaparanta_vo", "tornio_vo"]\n\n[[sources]]\nname = "tyokirja"')
    with pytest.raises(ConfigError) as err:
        parse_config(both, "alue.toml")
    (problem,) = err.value.problems
    assert (problem.key, problem.file) == ("sources[1].units", "alue.toml")
    assert "Europe/Helsinki, Europe/Stockholm" in problem.reason and "own source" in problem.reason
    # a unit_map counts as the units it names
    mapped = AREA.replace('units = ["tornio_vo"]\n\n[[sources]]\nname = "jonot_se"',
                          'unit_map = { "A" = "tornio_vo", "B" = "haaparanta_vo" }\n\n[[sources]]\nname = "jonot_se"')
    with pytest.raises(ConfigError) as err:
        parse_config(mapped, "alue.toml")
    assert [p.key for p in err.value.problems] == ["sources[0].units"]
    # the workbook names no units: each of its rows is read in its own unit's zone
    assert area.source_units(area.source("tyokirja")) == ["tornio_vo", "haaparanta_vo"]


def _queue(unit: str, source: str, value: int, at: datetime) -> Reading:
    return Reading("queue.waiting", unit, "vastaanotto", value, at, source)


def _tile(area, store: LiveStore, display: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    (tile,) = [t for t in build(area, area.display(display), store, None).data["tiles"] if t["metric"] == "queue.waiting"]
    return tile


def test_yesterdays_figure_goes_at_each_sites_own_midnight(area, store: LiveStore):  # type: ignore[no-untyped-def]
    evening = datetime(2026, 11, 30, 23, 10, tzinfo=FI)  # Monday, a month's end: 22.10 in Haparanda
    with time_machine.travel(evening, tick=False):
        store.write_readings("jonot_fi", [_queue("tornio_vo", "jonot_fi", 3, evening)], {})
        store.write_readings("jonot_se", [_queue("haaparanta_vo", "jonot_se", 4, evening)], {})
    # 00.05 in Tornio, a new day there; 23.05 in Haparanda, still Monday: old, but not yesterday's
    with time_machine.travel(datetime(2026, 12, 1, 0, 5, tzinfo=FI), tick=False):
        assert _tile(area, store, "tornio")["status"] == "unavailable"
        assert (_tile(area, store, "haaparanta")["status"], _tile(area, store, "haaparanta")["value"]) == ("stale", 4)
        model = build(area, area.display("molemmat"), store, None).data
        assert {t["unit"]: t["status"] for t in model["tiles"]} == {"tornio_vo": "unavailable", "haaparanta_vo": "stale"}
        # each value's time on its own site's clock; the board's as-of the newest instant
        assert _tile(area, store, "haaparanta")["updated_at"] == "2026-11-30T22:10:00+01:00"
        assert model["as_of"] == "2026-11-30T22:10:00+01:00"
    with time_machine.travel(datetime(2026, 12, 1, 0, 5, tzinfo=SE), tick=False):  # and then there too
        assert _tile(area, store, "haaparanta")["status"] == "unavailable"


def test_the_board_says_the_newest_instant_whatever_the_offsets_texts(area, store: LiveStore):  # type: ignore[no-untyped-def]
    """12.10 in Haparanda is later than 12.50 in Tornio: as-of is the later instant, said on
    the display's clock."""
    from layouts.components import board

    now = datetime(2026, 11, 30, 13, 15, tzinfo=FI)
    with time_machine.travel(now, tick=False):
        store.write_readings("jonot_fi", [_queue("tornio_vo", "jonot_fi", 3, datetime(2026, 11, 30, 12, 50, tzinfo=FI))], {})
        store.write_readings("jonot_se", [_queue("haaparanta_vo", "jonot_se", 4, datetime(2026, 11, 30, 12, 10, tzinfo=SE))], {})
        model = build(area, area.display("molemmat"), store, None).data
        assert model["as_of"] == "2026-11-30T12:10:00+01:00"
        for display, shown in (("molemmat", "klo 13.10"), ("haaparanta", "kl. 12.10")):
            made = build(area, area.display(display), store, None).data
            text = str(board(area, area.display(display), made)[-1])
            assert shown in text, (display, text)


def test_opening_hours_are_read_on_each_sites_clock(area):  # type: ignore[no-untyped-def]
    monday = datetime(2026, 11, 30, 8, 30, tzinfo=FI)  # 7.30 in Haparanda
    fi, se = period(area, "tornio_vo", monday), period(area, "haaparanta_vo", monday)
    assert (fi.open, fi.began, fi.ends) == (True, datetime(2026, 11, 30, 8, tzinfo=FI), datetime(2026, 11, 30, 16, tzinfo=FI))
    assert (se.open, se.ends) == (False, datetime(2026, 11, 30, 8, tzinfo=SE))
    # Haparanda closes at 16 of its own clock: 17 in Tornio
    late = period(area, "haaparanta_vo", datetime(2026, 11, 30, 16, 45, tzinfo=FI))
    assert (late.open, late.ends) == (True, datetime(2026, 11, 30, 16, tzinfo=SE))


def test_a_workbooks_rows_are_read_on_their_own_units_clock(area, backend: Backend):  # type: ignore[no-untyped-def]
    data = workbook({
        "Henkilöstö": [["Päivä", "Yksikkö", "Ammattiryhmä", "Suunniteltu", "Paikalla"],
                       ["30.11.2026", "tornio_vo", "lääkäri", 3, 3],
                       ["30.11.2026", "haaparanta_vo", "lääkäri", 2, 2]],
        "Jonot": [["Kellonaika", "Yksikkö", "Jono", "Jonossa", "Pisin odotus (min)"],
                  ["23.00", "haaparanta_vo", "jour", 2, 15]],
        "Tiedotteet": [["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys"],
                       ["30.11.2026 22.00", "1.12.2026 8.00", "haaparanta_vo", "Jouren stängd i natt", "tärkeä"]],
    })
    # 00.20 on Tuesday in Tornio, 23.20 on Monday in Haparanda
    with time_machine.travel(datetime(2026, 12, 1, 0, 20, tzinfo=FI), tick=False):
        report = import_bytes(data, "ilta.xlsx", "vuorovastaava", config=area, store=backend.store,
                              history=backend.history, data_dir=backend.data_dir)
    assert report.ok and report.applied, report.errors
    # Monday's row of Tornio is of another day there; Haparanda's is today's
    assert [w for w in report.warnings if "30.11.2026" in w and "rivi 2" in w.lower()], report.warnings
    staff = {(r.unit, r.metric): r for rs in backend.store.all_readings().values() for r in rs
             if r.metric.startswith("staff.")}
    assert set(staff) == {("haaparanta_vo", "staff.planned"), ("haaparanta_vo", "staff.present")}
    assert staff[("haaparanta_vo", "staff.planned")].valid_until == datetime(2026, 12, 1, tzinfo=SE)
    (queue,) = [r for rs in backend.store.all_readings().values() for r in rs if r.metric == "queue.waiting"]
    assert queue.observed_at == datetime(2026, 11, 30, 23, 0, tzinfo=SE)
    (notice,) = backend.store.notices()
    assert (notice["starts"], notice["ends"]) == ("2026-11-30T22:00:00+01:00", "2026-12-01T08:00:00+01:00")


def test_a_tablet_notice_and_correction_end_on_the_units_own_clock(area, store: LiveStore, history: History):  # type: ignore[no-untyped-def]
    lead = ShiftLead(area, store, history, User("skötare", "shift_lead", ("haaparanta_vo", "tornio_vo")), "sv")
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=FI), tick=False):
        se, fi = lead.post_notice("Laboratoriet stänger kl. 16", ["haaparanta_vo", "tornio_vo"], "tärkeä", True, "16.00")
        assert (se["ends"], fi["ends"]) == ("2026-11-30T16:00:00+01:00", "2026-11-30T16:00:00+02:00")
        rd = lead.correct("haaparanta_vo", "staff.present", "läkare", "2", "day", new_key=True)
        assert rd.valid_until == datetime(2026, 12, 1, tzinfo=SE)
    # 16.30 in Tornio is 15.30 in Haparanda: "16" there is still to come, here it has passed
    with time_machine.travel(datetime(2026, 11, 30, 16, 30, tzinfo=FI), tick=False):
        (posted,) = lead.post_notice("Jouren öppen", ["haaparanta_vo"], "tärkeä", True, "16")
        assert posted["ends"] == "2026-11-30T16:00:00+01:00"
        with pytest.raises(Exception, match="(?i)päätty|slut|end"):
            lead.post_notice("Päivystys auki", ["tornio_vo"], "tärkeä", True, "16")


def test_rollups_built_in_one_zone_are_rebuilt_for_the_areas_zones(area, history: History):  # type: ignore[no-untyped-def]
    rollups.rebuild(history, FI, area.hours_specs())
    assert rollups.needs_rebuild(history, area.zones(), area.hours_specs())
    at = datetime(2026, 11, 30, 23, 30, tzinfo=SE)  # Tuesday already in Finland
    history.record([("e1", _queue("haaparanta_vo", "jonot_se", 5, at)),
                    ("e2", _queue("tornio_vo", "jonot_fi", 6, at))])
    rollups.rebuild(history, area.zones(), area.hours_specs())
    assert not rollups.needs_rebuild(history, area.zones(), area.hours_specs())
    day = datetime(2026, 11, 30).date()
    rows = rollups.series(history, area.zones(), ["queue.waiting"], ["haaparanta_vo", "tornio_vo"],
                          day, day + timedelta(days=1), "hour")
    # each unit's hour of its own clock, said with its own offset
    assert [(r["unit"], r["period"]) for r in rows][:1] == [("haaparanta_vo", "2026-11-30T23:00:00+01:00")]
    assert ("tornio_vo", "2026-12-01T00:00:00+02:00") in [(r["unit"], r["period"]) for r in rows]
