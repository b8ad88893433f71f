"""The centre's own metrics (`[[metrics]]`, `[[cards]]`, `[[pages]]`): derived values and
dated limits recomputed here the slow, obvious way, on days shaped like real ones (a month's
end, a weekend, the night, a source gone quiet), the wall's own cards, and the configurations
check-config refuses."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dashboard.config import ConfigError, parse_config
from dashboard.domain import expressions
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import build
from dashboard.storage.livestore import LiveStore
from layouts.components import board, index
from layouts.patch import plain
from tests.conftest import cli

TZ = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.store

CONFIG = """
[site]
timezone = "Europe/Helsinki"
opening_hours = [8, 16]

[[units]]
code = "vastaanotto"
name = "Vastaanotto"
name_sv = "Mottagning"

[[units]]
code = "osasto"
name = "Vuodeosasto 3"
name_sv = "Bäddavdelning 3"
opening_hours = "always"
open_days = "every"

[[displays]]
id = "osasto"
title = "Osasto 3"
units = ["osasto"]
pages = ["hoito"]
language = ["fi", "sv"]

[[displays]]
id = "vastaanotto"
title = "Vastaanotto"
units = ["vastaanotto", "osasto"]
pages = ["overview"]

[[sources]]
name = "syotto"
kind = "metrics"
address = "http://127.0.0.1:9/metrics.csv"
poll_seconds = 60
units = ["osasto"]

[[metrics]]
id = "ward.vaccinations_today"
name = "Rokotukset tänään"
name_sv = "Vaccinationer i dag"
kind = "count"
good = "up"
card = "osasto"

[[metrics]]
id = "ward.beds_in_use"
name = "Vuodepaikat käytössä"
name_sv = "Bäddplatser i bruk"
card = "osasto"

[[metrics]]
id = "ward.beds_total"
name = "Vuodepaikat yhteensä"
name_sv = "Bäddplatser totalt"
card = "osasto"

[[metrics]]
id = "ward.occupancy_pct"
name = "Käyttöaste, %"
name_sv = "Beläggning, %"
kind = "percent"
good = "down"
derived = "100 * ward.beds_in_use / ward.beds_total"
card = "osasto"

[[metrics]]
id = "care.staff_fte"
name = "Hoitotyön henkilöstö, htv"
name_sv = "Vårdpersonal, åv"
decimals = 1
keyed_by = "label"
card = "mitoitus"

[[metrics]]
id = "care.clients"
name = "Asiakkaita"
name_sv = "Klienter"
keyed_by = "label"
card = "mitoitus"

[[metrics]]
id = "care.staffing_ratio"
name = "Henkilöstömitoitus"
name_sv = "Personaldimensionering"
kind = "ratio"
decimals = 2
good = "up"
keyed_by = "label"
derived = "care.staff_fte / care.clients"
card = "mitoitus"
limits = [
  { from = 2023-12-01, value = 0.65, law = "VanhPL 20 §" },
  { from = 2028-01-01, value = 0.7, law = "VanhPL 20 §" },
]

[[cards]]
id = "osasto"
name = "Vuodepaikat"
name_sv = "Bäddplatser"

[[cards]]
id = "mitoitus"
name = "Mitoitus"
name_sv = "Dimensionering"

[[pages]]
id = "hoito"
cards = ["osasto", "mitoitus"]

[[escalation.rules]]
metric = "ward.occupancy_pct"
above = 95
level = 2
hours = "always"
"""


def config():  # type: ignore[no-untyped-def]
    return parse_config(CONFIG, "own.toml")


def feed(store: LiveStore, at: datetime, values: dict[tuple[str, str], float]) -> None:
    store.write_readings("syotto", [Reading(m, "osasto", k, v, at, "syotto") for (m, k), v in values.items()],
                         {"state": "ok"})


def shown(store: LiveStore, display: str = "osasto") -> dict[tuple[str, str], dict]:
    cfg = config()
    data = build(cfg, cfg.display(display), store, None).data
    return {(t["metric"], t["key"]): t for t in data["tiles"] if t["unit"] == "osasto"}, data  # type: ignore[return-value]


def props(node: object) -> list[dict]:
    """Every element's props in a drawn board (Dash's JSON)."""
    out: list[dict] = []
    if isinstance(node, list):
        for x in node:
            out += props(x)
    elif isinstance(node, dict):
        if "props" in node:
            out.append(node["props"])
            out += props(node["props"].get("children"))
    return out


# -- the slow, obvious versions ------------------------------------------------------------------

def occupancy(in_use: float, total: float) -> float | None:
    return None if total == 0 else round(100 * in_use / total)


def ratio_limit(day: date) -> float:
    if day >= date(2028, 1, 1):
        return 0.7
    return 0.65  # from 1.12.2023; every day these tests look at is after it


def test_derived_values_and_limits_recomputed_on_real_days(store: LiveStore):
    days = [
        datetime(2026, 11, 30, 23, 50, tzinfo=TZ),  # a month's last evening
        datetime(2026, 12, 5, 3, 15, tzinfo=TZ),  # a Saturday night
        datetime(2026, 12, 6, 12, 0, tzinfo=TZ),  # Independence Day, a Sunday
        datetime(2027, 12, 31, 22, 0, tzinfo=TZ),  # the last evening of the old limit
        datetime(2028, 1, 1, 8, 0, tzinfo=TZ),  # the new limit's first morning
    ]
    cases = [(21, 24, {"a": (19.4, 30), "b": (6.0, 10)}), (24, 24, {"a": (21.0, 30)}), (7, 0, {"a": (19.5, 30)}),
             (22, 24, {"a": (20.0, 30), "b": (6.6, 10)}), (22, 24, {"a": (20.0, 30), "b": (7.0, 10)})]
    for at, (in_use, total, wings) in zip(days, cases, strict=True):
        with time_machine.travel(at, tick=False):
            values = {("ward.beds_in_use", ""): in_use, ("ward.beds_total", ""): total}
            for wing, (fte, clients) in wings.items():
                values[("care.staff_fte", wing)] = fte
                values[("care.clients", wing)] = clients
            feed(store, at, values)
            tiles, data = shown(store)
            want = occupancy(in_use, total)
            if want is None:  # no beds: no occupancy, not a division by zero
                assert ("ward.occupancy_pct", "") not in tiles
            else:
                t = tiles[("ward.occupancy_pct", "")]
                assert (t["value"], t["status"], t["source"]) == (want, "fresh", "derived")
                assert t["updated_at"] == at.isoformat()
                level = data["escalation"]["units"]["osasto"]["level"]
                assert level == (2 if want > 95 else 1), (at, want)
            for wing, (fte, clients) in wings.items():
                t = tiles[("care.staffing_ratio", wing)]
                value = round(fte / clients, 2)
                assert t["value"] == value
                assert t["limit"] == ratio_limit(at.date())
                assert t["meets"] is (value >= ratio_limit(at.date())), (at, wing)
            assert not any(k[1] == "b" for k in tiles if k[0] == "care.staffing_ratio") or "b" in wings


def test_a_derived_value_follows_its_inputs_age_and_day(store: LiveStore):
    t0 = datetime(2026, 12, 3, 22, 0, tzinfo=TZ)  # a Thursday evening: the ward never closes
    with time_machine.travel(t0, tick=False) as traveller:
        feed(store, t0, {("ward.beds_in_use", ""): 18, ("ward.beds_total", ""): 24,
                         ("ward.vaccinations_today", ""): 12})
        tiles, _ = shown(store)
        assert tiles[("ward.occupancy_pct", "")]["status"] == "fresh"
        assert tiles[("ward.occupancy_pct", "")]["fresh_until"] == tiles[("ward.beds_total", "")]["fresh_until"]
        # the feed goes quiet: past two polls its values are stale, and so is what is made of them
        traveller.shift(timedelta(minutes=3))
        tiles, _ = shown(store)
        assert {tiles[(m, "")]["status"] for m in ("ward.beds_in_use", "ward.occupancy_pct")} == {"stale"}
        # one input new again: still stale (the other is old), its time the newest input's
        later = t0 + timedelta(minutes=3)
        store.write_readings("syotto", [Reading("ward.beds_in_use", "osasto", "", 20, later, "syotto"),
                                        Reading("ward.beds_total", "osasto", "", 24, t0, "syotto"),
                                        Reading("ward.vaccinations_today", "osasto", "", 12, t0, "syotto")],
                            {"state": "ok"})
        tiles, _ = shown(store)
        occ = tiles[("ward.occupancy_pct", "")]
        assert (occ["value"], occ["status"], occ["updated_at"]) == (round(100 * 20 / 24), "stale", later.isoformat())
        # midnight: yesterday's values are no values today, nor anything made of them; the
        # day's count starts again
        traveller.move_to(datetime(2026, 12, 4, 0, 0, 1, tzinfo=TZ))
        tiles, _ = shown(store)
        assert ("ward.occupancy_pct", "") not in tiles
        assert tiles[("ward.vaccinations_today", "")]["status"] == "unavailable"


def test_own_cards_on_the_wall_say_their_figures_in_both_languages(store: LiveStore):
    at = datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
    with time_machine.travel(at, tick=False):
        feed(store, at, {("ward.beds_in_use", ""): 23, ("ward.beds_total", ""): 24, ("ward.vaccinations_today", ""): 4,
                         ("care.staff_fte", "itäsiipi"): 18.5, ("care.clients", "itäsiipi"): 30})
        cfg = config()
        d = cfg.display("osasto")
        model = build(cfg, d, store, None).data
        drawn = json.dumps(plain(board(cfg, d, model)), ensure_ascii=False)
        tiles = index(model["tiles"])
    # every figure is a tile with the page contract's attributes, its value as the model has it
    elements = {(p["data-metric"], p["data-unit"], p["data-key"]): p for p in props(plain(board(cfg, d, model)))
                if "data-metric" in p}
    for k, t in tiles.items():
        assert (elements[k]["data-value"], elements[k]["data-status"], elements[k]["data-updated"]) == (
            str(t["value"]), t["status"], t["updated_at"]), k
    assert elements[("ward.occupancy_pct", "osasto", "")]["data-value"] == "96"  # 100 × 23 / 24 = 95.8 (no decimals)
    assert elements[("care.staffing_ratio", "osasto", "itäsiipi")]["data-value"] == "0.62"  # 18.5 / 30 = 0.617
    # in words, in both languages (never by colour alone), with what each derived figure is
    for words in ("alle rajan 0,65", "under gränsen 0,65", "Käyttöaste, % = 100 × vuodepaikat käytössä / vuodepaikat yhteensä",
                  "Beläggning, % = 100 × bäddplatser i bruk / bäddplatser totalt", "Vuodepaikat", "Bäddplatser",
                  "Rokotukset tänään", "Vaccinationer i dag", "Itäsiipi"):
        assert words in drawn, words
    assert '"data-meets": "false"' in drawn and '"data-limit": "0.65"' in drawn
    # the level's reason names the figure by its name, not its id
    assert model["escalation"]["units"]["osasto"]["level"] == 2
    from layouts.components import reason_text

    detail = model["escalation"]["units"]["osasto"]["details"][0]
    assert reason_text(cfg, "osasto", detail, "fi").startswith("Vuodeosasto 3: käyttöaste, % 96")


def test_a_display_of_built_in_pages_shows_no_own_metric_and_the_snapshot_is_what_it_shows(store: LiveStore):
    at = datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
    with time_machine.travel(at, tick=False):
        feed(store, at, {("ward.beds_in_use", ""): 23, ("ward.beds_total", ""): 24})
        cfg = config()
        model = build(cfg, cfg.display("vastaanotto"), store, None).data
    # the read model has them (escalation reads them); the overview's cards draw none
    drawn = json.dumps(plain(board(cfg, cfg.display("vastaanotto"), model)))
    assert "ward.occupancy_pct" not in drawn


@pytest.mark.parametrize(("change", "key", "reason"), [
    ('id = "ward.beds_total"', "metrics[2].id", "duplicate id 'ward.beds_in_use'"),
    ('derived = "100 * ward.beds_in_use / ward.beds_total"', "metrics[3].derived",
     "refers to 'ward.beds_free', which is no metric"),
    ('derived = "care.staff_fte / care.clients"', "metrics[6].derived", "refers to itself ('care.staffing_ratio')"),
    ('name_sv = "Bäddplatser i bruk"\n', "metrics[1].name_sv", "display 'osasto' is in sv and shows 'ward.beds_in_use'"),
    ('id = "ward.vaccinations_today"', "metrics[0].id", "'queue.waiting' is a built-in metric"),
    ('pages = ["hoito"]', "displays[0].pages[0]", "unknown page 'hoitoo'"),
    ('card = "mitoitus"\n\n[[metrics]]\nid = "care.clients"', "metrics[4].card", "unknown card 'mitoitu'"),
])
def test_check_config_refuses_bad_definitions_with_file_key_and_reason(change: str, key: str, reason: str):
    broken = {
        'id = "ward.beds_total"': 'id = "ward.beds_in_use"',
        'derived = "100 * ward.beds_in_use / ward.beds_total"': 'derived = "100 * ward.beds_in_use / ward.beds_free"',
        'derived = "care.staff_fte / care.clients"': 'derived = "care.staffing_ratio * care.staff_fte / care.clients"',
        'name_sv = "Bäddplatser i bruk"\n': "",
        'id = "ward.vaccinations_today"': 'id = "queue.waiting"',
        'pages = ["hoito"]': 'pages = ["hoitoo"]',
        'card = "mitoitus"\n\n[[metrics]]\nid = "care.clients"': 'card = "mitoitu"\n\n[[metrics]]\nid = "care.clients"',
    }[change]
    assert change in CONFIG
    with pytest.raises(ConfigError) as err:
        parse_config(CONFIG.replace(change, broken, 1), "own.toml")
    found = [(p.file, p.key, p.reason) for p in err.value.problems]
    assert any(f == "own.toml" and k == key and reason in r for f, k, r in found), found


def test_a_circle_of_derived_metrics_is_refused_and_named():
    text = CONFIG.replace('derived = "care.staff_fte / care.clients"',
                          'derived = "care.staff_fte / care.clients + ward.occupancy_pct"').replace(
        'derived = "100 * ward.beds_in_use / ward.beds_total"', 'derived = "100 * ward.beds_in_use / care.staffing_ratio"')
    with pytest.raises(ConfigError) as err:
        parse_config(text, "own.toml")
    assert any("refers to itself: " in p.reason and "ward.occupancy_pct" in p.reason and "care.staffing_ratio" in p.reason
               for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("bad", ['__import__("os").system("true")', "ward.beds_in_use ** 99999", "open('x')",
                                 "ward.beds_in_use[0]", "(lambda: 1)()", "ward.beds_in_use.__class__"])
def test_an_expression_that_is_not_arithmetic_is_refused_not_run(bad: str):
    with pytest.raises(expressions.ExpressionError):
        e = expressions.parse(bad)
        # a dotted name is a metric id, never an attribute: it reads nothing but the values given
        assert e.evaluate({}) is None
        raise expressions.ExpressionError("read as a metric id")
    with pytest.raises(ConfigError):
        parse_config(CONFIG.replace('"100 * ward.beds_in_use / ward.beds_total"', json.dumps(bad)), "own.toml")


def test_check_config_on_the_command_line_names_file_key_and_reason(tmp_path: Path):
    path = tmp_path / "own.toml"
    path.write_text(CONFIG.replace('derived = "care.staff_fte / care.clients"', 'derived = "care.staff_fte / care.asiakkaat"'),
                    encoding="utf-8")
    result = cli("--config", str(path), "check-config")
    assert result.returncode != 0
    assert f"{path}: metrics[6].derived: refers to 'care.asiakkaat', which is no metric" in result.stdout + result.stderr


def test_check_config_says_what_a_removed_or_renamed_metric_leaves_in_history(tmp_path: Path):
    """Removing or renaming a metric keeps its history; check-config says so (and reads the
    history only: it neither makes nor migrates a database)."""
    from dashboard.storage.history import History

    data = tmp_path / "data"
    path = tmp_path / "own.toml"
    path.write_text(CONFIG, encoding="utf-8")
    fresh = cli("--config", str(path), "--data-dir", str(data), "check-config")
    assert fresh.returncode == 0, fresh.stderr
    assert not (data / "ohjaustaulu.db").exists()  # no history: none made
    history = History.open(None, data)
    at = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    history.record([(None, Reading("ward.vaccinations_today", "osasto", "", 12, at, "syotto")),
                    (None, Reading("ward.vaccinations_today", "osasto", "", 15, at + timedelta(days=1), "syotto"))])
    history.engine.dispose()
    # renamed: the old id's history stays, and is shown nowhere
    path.write_text(CONFIG.replace("ward.vaccinations_today", "ward.vaccinations_given"), encoding="utf-8")
    result = cli("--config", str(path), "--data-dir", str(data), "check-config")
    assert result.returncode == 0, result.stderr
    assert ("history of ward.vaccinations_today kept (2 unit-days, 30.11.2026–01.12.2026), no longer shown"
            in result.stdout), result.stdout
    # an own metric on no display's page is said too
    path.write_text(CONFIG.replace('card = "osasto"\n', "", 1), encoding="utf-8")
    result = cli("--config", str(path), "--data-dir", str(data), "check-config")
    assert "note: ward.vaccinations_today is shown on no display's page" in result.stdout, result.stdout
    assert "history of ward.vaccinations_today" not in result.stdout  # defined again: nothing to say
