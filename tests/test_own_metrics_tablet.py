"""The centre's own metrics (`[[metrics]]`) on the shift lead's tablet: a correction of any of
them that is entered (not derived, not a series), for a unit of the lead's own, named by its
configured name in the page's language; its key chosen from those the figure has (its
configured `keys` and those of today's board), a new one only when the request says so; and
how long it stands bounded by the metric's `manual_hours`. The server checks each of these
itself: the raw requests below say what the page would never send."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine

from dashboard.config import Config, load_config
from dashboard.domain.readings import Reading
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import gettext_in
from dashboard.web.accounts import User, add_user
from dashboard.web.shiftlead import Refused, ShiftLead
from layouts.tablet import (
    NEW_KEY,
    TabletContext,
    board_view,
    key_options,
    metric_options,
    valid_options,
)
from tests.conftest import EXAMPLE_CONFIG, Backend, drawn_rows, signed_in

pytestmark = pytest.mark.store
TZ = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)
WARD = User("osastonhoitaja", "shift_lead", ("osasto",))  # the ward; the care home is not hers
# a keyed own metric beside the example's: free rooms by wing, a person's value standing 2 h
ROOMS = """
[[metrics]]
id = "ward.rooms_free"
name = "Vapaat huoneet"
name_sv = "Lediga rum"
name_en = "Free rooms"
keyed_by = "label"
keys = ["A-siipi", "B-siipi"]
manual_hours = 2
card = "osasto"
"""
UNKNOWN_KEY = "Tarkenne: valitse luettelosta, tai valitse ”uusi tarkenne” ja kirjoita se (enintään 80 merkkiä)"
DERIVED = "Mittari: laskettua arvoa ei korjata; korjaa luvut, joista se lasketaan"


@pytest.fixture
def ward_config(tmp_path: Path) -> Config:
    path = tmp_path / "ohjaustaulu.toml"
    path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8") + ROOMS, encoding="utf-8")
    return load_config(path)


def lead(config: Config, store: LiveStore, history: History, lang: str = "fi") -> ShiftLead:
    return ShiftLead(config, store, history, WARD, lang)


def test_an_own_metric_of_the_unit_alone_is_corrected_and_takes_no_key(
        ward_config: Config, store: LiveStore, history: History):
    sl = lead(ward_config, store, history)
    with time_machine.travel(T0, tick=False):
        rd = sl.correct("osasto", "ward.beds_in_use", "", "17", "4h")
        assert (rd.metric, rd.unit, rd.key, rd.value, rd.source) == ("ward.beds_in_use", "osasto", "", 17, "tabletti")
        assert rd.valid_until == T0 + timedelta(hours=4)
        with pytest.raises(Refused) as err:  # a key where the metric has none
            sl.correct("osasto", "ward.beds_total", "A-siipi", "24", "4h")
        assert err.value.problems == ["Tarkenne: tällä mittarilla ei ole tarkennetta"]
    entry = audit.entries(history)[0]
    assert (entry["action"], entry["details"]["metric"], entry["after"]) == ("correction", "ward.beds_in_use", 17)


def test_a_derived_metric_is_not_corrected_nor_one_of_a_unit_outside_the_leads_scope(
        ward_config: Config, store: LiveStore, history: History):
    sl = lead(ward_config, store, history)
    with time_machine.travel(T0, tick=False):
        with pytest.raises(Refused) as err:
            sl.correct("osasto", "ward.occupancy_pct", "", "80", "day")
        assert err.value.problems == [DERIVED]
        with pytest.raises(Refused) as err:  # the care home's own metric, but not her unit
            sl.correct("hoivakoti", "care.clients", "", "30", "day")
        assert err.value.problems == ["Yksikkö: valitse jokin omista yksiköistäsi"]
        with pytest.raises(Refused) as err:  # a series is not corrected either
            sl.correct("osasto", "flow.arrivals_by_hour", "", "3", "day")
        assert err.value.problems == ["Mittari: valitse luettelosta"]
        with pytest.raises(Refused) as err:
            ShiftLead(ward_config, store, history, WARD, "sv").correct("osasto", "care.staffing_ratio", "", "1", "day")
        assert err.value.problems == [gettext_in("sv", DERIVED)]  # in the lead's language
    assert store.all_readings() == {} and audit.entries(history) == []


def test_a_key_is_one_the_figure_has_unless_said_to_be_new(ward_config: Config, store: LiveStore, history: History):
    sl = lead(ward_config, store, history)
    with time_machine.travel(T0, tick=False):
        store.write_readings("osastojarjestelma", [
            Reading("ward.rooms_free", "osasto", "c-siipi", 2, T0, "osastojarjestelma"),
            Reading("ward.rooms_free", "hoivakoti", "koivu", 1, T0, "osastojarjestelma")], {"state": "ok"})
        # configured ones first, then those of today's board for this unit (not another unit's)
        assert sl.keys("osasto", "ward.rooms_free") == ["a-siipi", "b-siipi", "c-siipi"]
        assert sl.keys("osasto", "ward.beds_in_use") == []
        assert sl.correct("osasto", "ward.rooms_free", " B-siipi ", "3", "1h").key == "b-siipi"
        assert sl.correct("osasto", "ward.rooms_free", "C-siipi", "1", "1h").key == "c-siipi"
        for typo in ("b-sipi", "koivu"):
            with pytest.raises(Refused) as err:
                sl.correct("osasto", "ward.rooms_free", typo, "3", "1h")
            assert err.value.problems == [UNKNOWN_KEY]
        with pytest.raises(Refused) as err:  # a new one, on purpose, but no name at all
            sl.correct("osasto", "ward.rooms_free", "x" * 81, "3", "1h", new_key=True)
        assert err.value.problems == [UNKNOWN_KEY]
        rd = sl.correct("osasto", "ward.rooms_free", "D-siipi", "4", "1h", new_key=True)
        assert rd.key == "d-siipi"
        assert "d-siipi" in sl.keys("osasto", "ward.rooms_free")  # on the board now: known from here on
        with pytest.raises(Refused) as err:
            sl.correct("osasto", "ward.rooms_free", "", "4", "1h")
        assert err.value.problems == ["Tarkenne (jono, ammattiryhmä tai resurssi) puuttuu"]


def test_manual_hours_is_the_default_and_the_longest_a_correction_stands(
        ward_config: Config, store: LiveStore, history: History):
    sl = lead(ward_config, store, history)
    with time_machine.travel(T0, tick=False):
        assert sl.correct("osasto", "ward.rooms_free", "a-siipi", "1", "metric").valid_until == T0 + timedelta(hours=2)
        assert sl.correct("osasto", "ward.rooms_free", "a-siipi", "1", "1h").valid_until == T0 + timedelta(hours=1)
        for longer in ("4h", "day"):
            assert sl.correct("osasto", "ward.rooms_free", "a-siipi", "1", longer).valid_until == T0 + timedelta(hours=2)
        # a metric without manual_hours: "as the metric says" is to the unit's day's end
        assert sl.correct("osasto", "ward.beds_in_use", "", "1", "metric").valid_until == datetime(2026, 11, 25, tzinfo=TZ)
    # the form offers the shorter ones and the metric's own, that one chosen
    choices, first = valid_options(ward_config, "ward.rooms_free")
    assert [c["value"] for c in choices] == ["1h", "metric"] and first == "metric"
    assert choices[-1]["label"] == "2 h (mittarin oletus)"
    assert valid_options(ward_config, "staff.present")[1] == "day"


def test_the_form_names_own_metrics_in_the_pages_language_and_offers_the_keys(
        ward_config: Config, store: LiveStore, history: History):
    from dashboard.translate import speaking

    sl = lead(ward_config, store, history, "sv")
    with speaking("sv"):
        options = {o["value"]: o["label"] for o in metric_options(ward_config, sl)}
        keys = key_options(sl, "osasto", "ward.rooms_free")
    assert options["ward.beds_in_use"] == "Bäddplatser i bruk" and options["care.staff_fte"] == "Vårdpersonal, åv"
    assert options["ward.rooms_free"] == "Lediga rum"
    assert "ward.occupancy_pct" not in options and "care.staffing_ratio" not in options  # derived
    assert "flow.arrivals_by_hour" not in options and "staff.present" in options
    assert [k["value"] for k in keys] == ["a-siipi", "b-siipi", NEW_KEY]
    assert key_options(sl, "osasto", "ward.beds_in_use") == []  # the unit alone: no key to choose
    # a queue's name in Swedish from [site] names_sv, its value the key as the store has it
    store.write_readings("demo-jonot", [Reading("queue.waiting", "osasto", "lääkärin vastaanotto", 3,
                                                datetime.now(ZoneInfo("Europe/Helsinki")), "demo-jonot")], {})
    with speaking("sv"):
        queues = {o["value"]: o["label"] for o in key_options(sl, "osasto", "queue.waiting")}
    with speaking("fi"):
        finnish = {o["value"]: o["label"] for o in key_options(sl, "osasto", "queue.waiting")}
    assert queues["lääkärin vastaanotto"] == "Läkarmottagning"
    assert finnish["lääkärin vastaanotto"] == "lääkärin vastaanotto"
    # and the board's key column likewise; the row keeps the key itself for the form (data-key)
    ctx = TabletContext(ward_config, store, history, Path("."))
    with speaking("sv"):
        rows = drawn_rows(board_view(ctx, sl), "board-row")
    (row,) = [r for r in rows if r["attrs"]["data-key"] == "lääkärin vastaanotto"]  # type: ignore[index]
    assert row["texts"][2] == "Läkarmottagning"


def test_the_board_shows_own_metrics_by_name_and_a_derived_row_is_not_for_the_form(
        ward_config: Config, store: LiveStore, history: History, tmp_path: Path):
    from dashboard.translate import speaking

    sl = lead(ward_config, store, history, "en")
    ctx = TabletContext(ward_config, store, history, tmp_path)
    with time_machine.travel(T0, tick=False), speaking("en"):
        store.write_readings("osastojarjestelma", [
            Reading("ward.beds_in_use", "osasto", "", 18, T0, "osastojarjestelma"),
            Reading("ward.beds_total", "osasto", "", 24, T0, "osastojarjestelma"),
            Reading("ward.rooms_free", "osasto", "c-siipi", 2, T0, "osastojarjestelma")], {"state": "ok"})
        rows = drawn_rows(board_view(ctx, sl), "board-row")
    by_metric = {(r["attrs"]["data-metric"], r["attrs"]["data-key"]): r for r in rows}  # type: ignore[index]
    assert by_metric[("ward.beds_in_use", "")]["texts"][1] == "Beds in use"
    assert by_metric[("ward.rooms_free", "c-siipi")]["texts"][1] == "Free rooms"
    derived = by_metric[("ward.occupancy_pct", "")]
    assert derived["texts"][1] == "Occupancy, %" and derived["attrs"]["data-derived"] == "true"  # type: ignore[index]
    assert "board-row--derived" in derived["attrs"]["class"]  # type: ignore[index]
    assert "data-derived" not in by_metric[("ward.beds_in_use", "")]["attrs"]  # type: ignore[operator]


# ---------------------------------------------------------------- raw requests, signed in

FIX_STATE = ("tablet-fix-unit", "tablet-fix-metric", "tablet-fix-key", "tablet-fix-new-key", "tablet-fix-value",
             "tablet-fix-valid")


def fix_body(unit: Any, metric: Any, key: Any, value: Any, valid: Any = "1h", new_key: Any = None) -> dict[str, Any]:
    """The correction's request as dash-renderer sends it (or a hostile client, with any values)."""
    values = (unit, metric, key, new_key, value, valid)
    return {"output": "tablet-fix-result.children", "outputs": {"id": "tablet-fix-result", "property": "children"},
            "inputs": [{"id": "tablet-fix-save", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["tablet-fix-save.n_clicks"],
            "state": [{"id": i, "property": "value", "value": v} for i, v in zip(FIX_STATE, values, strict=True)]}


CHOICES = ("..tablet-fix-key.options...tablet-fix-key.value...tablet-fix-key.disabled..."
           "tablet-fix-valid.options...tablet-fix-valid.value...tablet-fix-key-label.children..")


def choices_body(unit: Any, metric: Any, key: Any = None, new_key: Any = None, valid: Any = "day") -> dict[str, Any]:
    return {"output": CHOICES,
            "outputs": [{"id": "tablet-fix-key", "property": p} for p in ("options", "value", "disabled")]
            + [{"id": "tablet-fix-valid", "property": p} for p in ("options", "value")]
            + [{"id": "tablet-fix-key-label", "property": "children"}],
            "inputs": [{"id": "tablet-fix-unit", "property": "value", "value": unit},
                       {"id": "tablet-fix-metric", "property": "value", "value": metric},
                       {"id": "tablet-fix-result", "property": "children", "value": None}],
            "changedPropIds": ["tablet-fix-metric.value"],
            "state": [{"id": "tablet-fix-key", "property": "value", "value": key},
                      {"id": "tablet-fix-new-key", "property": "value", "value": new_key},
                      {"id": "tablet-fix-valid", "property": "value", "value": valid}]}


def said(r: httpx.Response) -> str:
    return json.dumps(r.json(), ensure_ascii=False)


@time_machine.travel(T0, tick=True)
def test_raw_requests_that_lie_are_refused_by_the_server(backend: Backend, ward_config: Config):
    """What a relabelled or hand-made request says the page would not: a key the figure has not
    had without saying it is new, a derived metric, a metric of a unit outside the lead's
    scope, a key for a metric of the unit alone. Each refused by name, nothing written; the
    honest ones beside them are saved."""
    from dashboard.demo import PASSWORD
    from dashboard.web.app import asgi, create_app

    store, history = backend.store, backend.history
    add_user(history, "osasto-vv", "shift_lead", ["osasto"], PASSWORD)
    app = create_app(ward_config, store, history, backend.data_dir)

    async def go() -> dict[str, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi(app)), base_url="http://t") as client:
            headers = await signed_in(client, "osasto-vv")

            async def post(body: dict[str, Any]) -> httpx.Response:
                return await client.post("/_dash-update-component", json=body, headers=headers)

            return {
                "unknown key": await post(fix_body("osasto", "ward.rooms_free", "e-siipi", "3")),
                "unknown key, flag without a name": await post(fix_body("osasto", "ward.rooms_free", NEW_KEY, "3")),
                "derived": await post(fix_body("osasto", "ward.occupancy_pct", None, "90")),
                "outside the scope": await post(fix_body("hoivakoti", "care.clients", None, "30")),
                "a key for the unit alone": await post(fix_body("osasto", "ward.beds_total", "a-siipi", "24")),
                "known key": await post(fix_body("osasto", "ward.rooms_free", "a-siipi", "3")),
                "new on purpose": await post(fix_body("osasto", "ward.rooms_free", NEW_KEY, "1", new_key=" E-siipi ")),
                "unit alone": await post(fix_body("osasto", "ward.beds_total", None, "24", "metric")),
                "choices": await post(choices_body("osasto", "ward.rooms_free", NEW_KEY, "e-siipi")),
                "choices, unit alone": await post(choices_body("osasto", "ward.beds_total", "a-siipi")),
            }

    try:
        r = asyncio.run(go())
    finally:
        app.server.state.display_ctx.cache.watch.stop.set()
    assert all(x.status_code == 200 for x in r.values()), {k: x.status_code for k, x in r.items()}
    assert UNKNOWN_KEY in said(r["unknown key"]) and '"data-ok": "false"' in said(r["unknown key"])
    assert "Tarkenne (jono, ammattiryhmä tai resurssi) puuttuu" in said(r["unknown key, flag without a name"])
    assert DERIVED in said(r["derived"])
    assert "Yksikkö: valitse jokin omista yksiköistäsi" in said(r["outside the scope"])
    assert "Tarkenne: tällä mittarilla ei ole tarkennetta" in said(r["a key for the unit alone"])
    for honest in ("known key", "new on purpose", "unit alone"):
        assert "Tallennettu: " in said(r[honest]), (honest, said(r[honest]))
    assert "Tallennettu: Vapaat huoneet e-siipi = 1" in said(r["new on purpose"])
    saved = {(rd.metric, rd.unit, rd.key): rd.value for rd in store.all_readings()["tabletti"]}
    assert saved == {("ward.rooms_free", "osasto", "a-siipi"): 3, ("ward.rooms_free", "osasto", "e-siipi"): 1,
                     ("ward.beds_total", "osasto", ""): 24}
    # the form's choices after the save: the new key is one of the figure's now, and chosen
    answer = r["choices"].json()["response"]
    assert [o["value"] for o in answer["tablet-fix-key"]["options"]] == ["a-siipi", "b-siipi", "e-siipi", NEW_KEY]
    assert answer["tablet-fix-key"]["value"] == "e-siipi" and answer["tablet-fix-key"]["disabled"] is False
    assert [o["value"] for o in answer["tablet-fix-valid"]["options"]] == ["1h", "metric"]
    assert answer["tablet-fix-valid"]["value"] == "metric"
    # the field says what a key of this metric is: a free label here, not a queue or a profession
    assert answer["tablet-fix-key-label"]["children"] == "Tarkenne: tunniste"
    alone = r["choices, unit alone"].json()["response"]["tablet-fix-key"]
    assert (alone["options"], alone["value"], alone["disabled"]) == ([], None, True)
    assert r["choices, unit alone"].json()["response"]["tablet-fix-key-label"]["children"] == "Tarkenne"
