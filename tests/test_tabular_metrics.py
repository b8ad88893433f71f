"""The `metrics` feed: rows of (unit, metric, key, value) for the centre's own metrics and the
built-in ones, over a real HTTP server of our own, as CSV and JSON, in our shape and another
vendor's; bad rows named in the source status, never fatal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.base import InvalidData, SourceUnavailable, poll
from collectors.metricrows import MetricsCollector
from collectors.registry import collector_for
from dashboard.config import Config, load_config
from dashboard.storage.livestore import LiveStore
from tests.conftest import Backend, cli
from tests.servers import Feed

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))

CONFIG = """
[[units]]
code = "osasto"
name = "Vuodeosasto"
name_sv = "Bäddavdelning"
opening_hours = "always"
open_days = "every"

[[units]]
code = "vastaanotto"
name = "Vastaanotto"
name_sv = "Mottagning"

[[metrics]]
id = "room.beds_in_use"
name = "Paikat käytössä"
keyed_by = "label"

[[metrics]]
id = "room.beds_total"
name = "Paikkoja"
keyed_by = "label"

[[metrics]]
id = "room.occupancy_pct"
name = "Käyttöaste, %"
keyed_by = "label"
kind = "percent"
derived = "100 * room.beds_in_use / room.beds_total"

[[metrics]]
id = "home.staff_fte"
name = "Hoitajat, htv"
decimals = 1

[[metrics]]
id = "home.visits_today"
name = "Käynnit tänään"
kind = "count"

[[sources]]
name = "mittarit"
kind = "metrics"
address = "{address}"
"""


def site(tmp_path: Path, address: str, extra: str = "") -> Config:
    path = tmp_path / "site.toml"
    path.write_text(CONFIG.replace("{address}", address) + extra, encoding="utf-8")
    return load_config(path)


def collector(config: Config, **changes: Any) -> MetricsCollector:
    source = config.sources[0].model_copy(update=changes)
    made = collector_for(source, config)
    assert isinstance(made, MetricsCollector)
    made.timeout = 1.0
    return made


def run(c: MetricsCollector) -> dict[tuple[str, str, str], Any]:
    return {(r.metric, r.unit, r.key): r.value for r in c.normalise(c.fetch(NOW), NOW)}


def bad_rows(c: MetricsCollector) -> list[str]:
    return str(c.status_extra()["unmapped_detail"]).split("; ")


@pytest.fixture
def feed():  # type: ignore[no-untyped-def]
    f = Feed()
    yield f
    f.stop()


OWN_AND_BUILTIN = {
    ("room.beds_in_use", "osasto", "yhden hengen"): 12,
    ("room.beds_total", "osasto", "yhden hengen"): 14,
    ("home.staff_fte", "osasto", ""): 12.5,
    ("home.visits_today", "vastaanotto", ""): 31,
    ("queue.waiting", "vastaanotto", "päivystys"): 5,
    ("callback.pending", "vastaanotto", ""): 3,
    ("staff.present", "vastaanotto", "lääkäri"): 4,
}


def test_own_and_builtin_metrics_from_csv_over_http(feed: Feed, tmp_path: Path):
    feed.content_type = "text/csv; charset=utf-8"
    feed.body = ("unit,metric,key,value\n"
                 "osasto,room.beds_in_use, Yhden hengen ,12\n"
                 "osasto,room.beds_total,yhden hengen,14.0\n"
                 'osasto,home.staff_fte,,"12,5"\n'
                 "vastaanotto,home.visits_today,,31\n"
                 "vastaanotto,queue.waiting,Päivystys,5\n"
                 "vastaanotto,callback.pending,,3\n"
                 "vastaanotto , staff.present ,LÄÄKÄRI,4\n").encode()
    c = collector(site(tmp_path, feed.url))
    got = run(c)
    assert got == OWN_AND_BUILTIN
    assert type(got[("room.beds_total", "osasto", "yhden hengen")]) is int  # 14.0 is 14
    assert c.status_extra() == {"items_read": 7, "items_unmapped": 0, "unmapped_detail": ""}


def test_own_and_builtin_metrics_from_json_rows_or_a_bare_list(feed: Feed, tmp_path: Path):
    rows = [
        {"unit": "osasto", "metric": "room.beds_in_use", "key": "Yhden hengen", "value": 12},
        {"unit": "osasto", "metric": "room.beds_total", "key": "yhden hengen", "value": "14"},
        {"unit": "osasto", "metric": "home.staff_fte", "value": 12.5},
        {"unit": "vastaanotto", "metric": "home.visits_today", "key": None, "value": 31},
        {"unit": "vastaanotto", "metric": "queue.waiting", "key": "Päivystys", "value": 5},
        {"unit": "vastaanotto", "metric": "callback.pending", "key": "", "value": 3},
        {"unit": "vastaanotto", "metric": "staff.present", "key": "lääkäri", "value": 4},
    ]
    c = collector(site(tmp_path, feed.url))
    feed.body = json.dumps({"rows": rows}).encode()
    assert run(c) == OWN_AND_BUILTIN
    feed.body = json.dumps(rows).encode()
    assert run(c) == OWN_AND_BUILTIN


BAD_CSV = [
    # (line, row, what the status says of it)
    ("osasto,room.beds_total,kahden hengen,6", None),
    ("osasto,nope.metric,,1", "row 3, metric 'nope.metric': no metric of the catalogue or of [[metrics]]"),
    ("osasto,room.occupancy_pct,kahden hengen,80",
     "row 4, metric 'room.occupancy_pct': a derived metric is computed from others, never fed"),
    ("osasto,room.beds_in_use,,5", "row 5, key (empty): room.beds_in_use is keyed by label: give one"),
    ("", None),  # a blank line: the rows keep their lines' numbers
    ("vastaanotto,callback.pending,Päivystys,3",
     "row 7, key 'Päivystys': callback.pending has no key (it is keyed by unit only)"),
    ("osasto,home.staff_fte,,paljon", "row 8, value 'paljon': not a number"),
    ("vastaanotto,flow.arrivals_by_hour,,4", "row 9, metric 'flow.arrivals_by_hour': a series is not fed as rows"),
    ("röntgen,queue.waiting,P,1", "row 10, unit 'röntgen': not a unit of this source (its units, or unit_map)"),
    ("vastaanotto,queue.waiting,P,-2", "row 11, value '-2': queue.waiting is never below zero"),
    ("osasto,room.beds_total,Kahden hengen ,7",
     "row 12: the same unit, metric and key as row 2 (that row's value is taken)"),
    ("vastaanotto,home.visits_today,,", "row 13, value (empty): not a number"),
    ("osasto,home.staff_fte,,1e999", "row 14, value '1e999': not a number"),  # no figure: infinite
]


def test_each_bad_row_is_named_by_row_column_and_value(feed: Feed, tmp_path: Path):
    feed.content_type = "text/csv"
    feed.body = ("unit,metric,key,value\n" + "\n".join(line for line, _ in BAD_CSV) + "\n").encode()
    c = collector(site(tmp_path, feed.url))
    assert run(c) == {("room.beds_total", "osasto", "kahden hengen"): 6}  # the good row, never fatal
    named = [said for _, said in BAD_CSV if said]
    status = c.status_extra()
    assert (status["items_read"], status["items_unmapped"]) == (12, 11)  # the blank line is no row
    assert bad_rows(c) == named[:10] + ["and 1 more (value not a number: 1)"]


def test_a_vendors_columns_and_unit_ids_through_fields_and_unit_map(feed: Feed, tmp_path: Path):
    feed.body = json.dumps({"data": {"mittaukset": [
        {"yks": {"id": "OS1"}, "mittari": "room.beds_in_use", "tarkenne": "Yhden hengen", "arvo": "12"},
        {"yks": {"id": "VO"}, "mittari": "queue.waiting", "tarkenne": "Päivystys", "arvo": 5},
        {"yks": {"id": "OS1"}, "mittari": "room.nope", "tarkenne": "", "arvo": 1},
        {"yks": {"id": "LAB"}, "mittari": "callback.pending", "arvo": 1},
        "not a record",
    ]}}).encode()
    c = collector(site(tmp_path, feed.url), records="data.mittaukset", unit_map={"OS1": "osasto", "VO": "vastaanotto"},
                  units=["osasto"], fields={"unit": "yks.id", "metric": "mittari", "key": "tarkenne", "value": "arvo"})
    assert run(c) == {("room.beds_in_use", "osasto", "yhden hengen"): 12,
                      ("queue.waiting", "vastaanotto", "päivystys"): 5}
    assert bad_rows(c) == [
        "row 3, mittari 'room.nope': no metric of the catalogue or of [[metrics]]",
        "row 4, yks.id 'LAB': not a unit of this source (its units, or unit_map)",
        "row 5: not a record of unit, metric, key, value",
    ]


def test_a_csv_with_semicolons_and_its_own_column_names(feed: Feed, tmp_path: Path):
    feed.content_type = "text/csv"
    feed.body = "Yksikkö;Mittari;Tarkenne;Arvo\nosasto;home.staff_fte;;12,5\nosasto;home.staff_fte2;;1\n".encode()
    c = collector(site(tmp_path, feed.url),
                  fields={"unit": "Yksikkö", "metric": "Mittari", "key": "Tarkenne", "value": "Arvo"})
    assert run(c) == {("home.staff_fte", "osasto", ""): 12.5}
    assert bad_rows(c) == ["row 3, Mittari 'home.staff_fte2': no metric of the catalogue or of [[metrics]]"]


def test_the_feed_is_fetched_as_the_other_tabular_feeds_are(feed: Feed, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    feed.required = ("X-Api-Key", "s3cret")
    feed.body = json.dumps({"rows": [{"unit": "osasto", "metric": "home.visits_today", "value": 2}]}).encode()
    config = site(tmp_path, feed.url)
    with pytest.raises(SourceUnavailable, match="401"):
        run(collector(config))
    monkeypatch.setenv("MITTARIT_KEY", "s3cret")
    assert run(collector(config, token_env="MITTARIT_KEY", token_header="X-Api-Key")) == {
        ("home.visits_today", "osasto", ""): 2}
    feed.body = json.dumps({"something": "else"}).encode()
    with pytest.raises(InvalidData, match="no list of records at 'rows'"):
        run(collector(config, token_env="MITTARIT_KEY", token_header="X-Api-Key"))


def test_a_file_address_is_read_too(tmp_path: Path):
    path = tmp_path / "mittarit.csv"
    path.write_text("unit,metric,key,value\nosasto,room.beds_total,yhden hengen,14\n", encoding="utf-8")
    assert run(collector(site(tmp_path, str(path)))) == {("room.beds_total", "osasto", "yhden hengen"): 14}


@pytest.mark.store
def test_a_bad_row_keeps_the_last_good_value_of_its_series(feed: Feed, tmp_path: Path, store: LiveStore):
    config = site(tmp_path, feed.url)
    c = collector(config)
    feed.body = json.dumps({"rows": [
        {"unit": "osasto", "metric": "home.staff_fte", "value": 12.5},
        {"unit": "osasto", "metric": "home.visits_today", "value": 3},
    ]}).encode()
    assert poll(c, store, config).ok
    (first,) = [r for r in store.all_readings()["mittarit"] if r.metric == "home.staff_fte"]
    feed.body = json.dumps({"rows": [
        {"unit": "osasto", "metric": "home.staff_fte", "value": "n/a"},
        {"unit": "osasto", "metric": "home.visits_today", "value": 4},
        {"unit": "osasto", "metric": "room.occupancy_pct", "key": "x", "value": 50},
    ]}).encode()
    result = poll(c, store, config)
    assert result.ok  # a bad row is never the whole feed's failure
    now = {r.metric: r for r in store.all_readings()["mittarit"]}
    assert now["home.visits_today"].value == 4
    assert now["home.staff_fte"] == first  # its value and its time: going stale on the wall by itself
    status = store.source_status("mittarit")
    assert status.state == "ok"
    assert (status.items_read, status.items_unmapped) == ("3", "2")
    assert status.unmapped_detail == ("row 1, value 'n/a': not a number; row 3, metric 'room.occupancy_pct': "
                                      "a derived metric is computed from others, never fed")


@pytest.mark.store
def test_collect_once_feeds_own_metrics_into_the_live_store(feed: Feed, tmp_path: Path, backend: Backend):
    feed.content_type = "text/csv"
    feed.body = ("unit,metric,key,value\nosasto,room.beds_in_use,Yhden hengen,12\n"
                 "vastaanotto,queue.waiting,Päivystys,5\nosasto,room.beds_free,,1\n").encode()
    site(tmp_path, feed.url)
    config = str(tmp_path / "site.toml")
    result = cli("collect", "--once", "--source", "mittarit", "--config", config, env=backend.cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    got = {(r.metric, r.unit, r.key): r.value for r in backend.store.all_readings()["mittarit"]}
    assert got == {("room.beds_in_use", "osasto", "yhden hengen"): 12, ("queue.waiting", "vastaanotto", "päivystys"): 5}
    status = json.loads(cli("source", "status", "mittarit", "--config", config, env=backend.cli_env()).stdout)
    assert status["items_unmapped"] == "1"
    assert status["unmapped_detail"] == "row 4, metric 'room.beds_free': no metric of the catalogue or of [[metrics]]"
