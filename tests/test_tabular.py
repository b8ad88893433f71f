"""Staffing, queue and call-back feeds: our shapes, another vendor's through configuration,
over a real HTTP server of our own and from files."""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.base import InvalidData, SourceUnavailable, poll
from collectors.tabular import TabularCollector
from dashboard.config import Config, Source
from dashboard.domain.readings import Reading
from dashboard.domain.waits import estimate_wait
from dashboard.storage.livestore import LiveStore
from tests.conftest import EXAMPLE_CONFIG, Backend, cli
from tests.servers import Feed

TZ = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
UNITS = ["vastaanotto", "laboratorio"]


@pytest.fixture
def feed():  # type: ignore[no-untyped-def]
    f = Feed()
    yield f
    f.stop()


def run(source: Source) -> tuple[dict[tuple[str, str, str], Any], TabularCollector]:
    c = TabularCollector(source, TZ, timeout=1.0)
    readings = c.normalise(c.fetch(NOW), NOW)
    return {(r.metric, r.unit, r.key): r.value for r in readings}, c


def test_our_queue_shape_over_http(feed: Feed):
    feed.body = json.dumps({"queues": [
        {"unit": "vastaanotto", "queue": "Päivystys", "waiting": 5, "longest_wait_min": 22, "avg_wait_min": 14.5},
        {"unit": "laboratorio", "queue": "Näytteenotto", "waiting": "3", "longest_wait_min": 7},
        {"unit": "röntgen", "queue": "X", "waiting": 1, "longest_wait_min": 1},
    ]}).encode()
    got, c = run(Source(name="jonot", kind="queue", address=feed.url, units=UNITS))
    assert got == {
        ("queue.waiting", "vastaanotto", "päivystys"): 5,
        ("queue.longest_wait_min", "vastaanotto", "päivystys"): 22,
        ("queue.avg_wait_min", "vastaanotto", "päivystys"): 14.5,
        ("queue.waiting", "laboratorio", "näytteenotto"): 3,
        ("queue.longest_wait_min", "laboratorio", "näytteenotto"): 7,
        # no count of calls: no rate, no estimate of ours
    }
    assert c.status_extra() == {"items_read": 3, "items_unmapped": 1, "unmapped_detail": "unit röntgen: 1"}


def test_another_vendors_shape_is_a_config_change(feed: Feed):
    feed.body = json.dumps({"data": {"rows": [
        {"ward": {"id": "VO1"}, "line": "P", "count": 5, "maxWait": 22},
        {"ward": {"id": "VO1"}, "line": "L", "count": "kolme", "maxWait": 1},
    ]}}).encode()
    source = Source(name="jonojarjestelma", kind="queue", address=feed.url, records="data.rows",
                    fields={"unit": "ward.id", "queue": "line", "waiting": "count", "longest_wait_min": "maxWait"},
                    unit_map={"VO1": "vastaanotto"})
    got, c = run(source)
    assert got == {("queue.waiting", "vastaanotto", "p"): 5, ("queue.longest_wait_min", "vastaanotto", "p"): 22}
    assert c.status_extra()["unmapped_detail"] == "record with a missing or bad number: 1"


def test_callbacks_over_http(feed: Feed):
    feed.body = json.dumps({"callbacks": [{"unit": "vastaanotto", "pending": 12, "oldest_min": 35}]}).encode()
    got, _ = run(Source(name="soitot", kind="callback", address=feed.url, units=UNITS))
    assert got == {("callback.pending", "vastaanotto", ""): 12, ("callback.oldest_min", "vastaanotto", ""): 35}


def test_staffing_from_a_csv_file_with_semicolons(tmp_path: Path):
    path = tmp_path / "vuorot.csv"
    path.write_text("yksikko;ammatti;suunniteltu;paikalla\nVO;lääkäri;8;7\nVO;sairaanhoitaja;11;9\nLAB;bioanalyytikko;6;6\n",
                    encoding="utf-8")
    source = Source(name="tyovuorot", kind="staffing", address=str(path),
                    fields={"unit": "yksikko", "profession": "ammatti", "planned": "suunniteltu", "present": "paikalla"},
                    unit_map={"VO": "vastaanotto", "LAB": "laboratorio"})
    got, _ = run(source)
    assert got[("staff.present", "vastaanotto", "lääkäri")] == 7
    assert got[("staff.planned", "laboratorio", "bioanalyytikko")] == 6
    assert len(got) == 6


def test_faults_become_the_contracts_errors(feed: Feed, tmp_path: Path):
    source = Source(name="jonot", kind="queue", address=feed.url, units=UNITS)
    feed.status = 500
    with pytest.raises(SourceUnavailable, match="500"):
        run(source)
    feed.status, feed.body = 200, b'{"queues": [ {"unit": '
    with pytest.raises(InvalidData, match="not JSON"):
        run(source)
    feed.body = b'{"something": "else"}'
    with pytest.raises(InvalidData, match="no list of records at 'queues'"):
        run(source)
    with pytest.raises(SourceUnavailable):
        run(Source(name="x", kind="staffing", address=str(tmp_path / "missing.csv")))


@pytest.mark.store
def test_collect_once_reads_a_staffing_export(backend: Backend, tmp_path: Path):
    export = tmp_path / "henkilosto.json"
    export.write_text(json.dumps({"staffing": [{"unit": "vastaanotto", "profession": "lääkäri",
                                                "planned": 8, "present": 6}]}), encoding="utf-8")
    cfg = tmp_path / "site.toml"
    cfg.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8")
                   + f'\n[[sources]]\nname = "tyovuorot"\nkind = "staffing"\naddress = "{export}"\nunits = ["vastaanotto"]\n')
    result = cli("collect", "--once", "--source", "tyovuorot", "--config", str(cfg), env=backend.cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    (reading,) = [r for r in backend.store.all_readings()["tyovuorot"] if r.metric == "staff.present"]
    assert reading.value == 6
    status = cli("source", "status", "tyovuorot", "--config", str(cfg), env=backend.cli_env())
    assert json.loads(status.stdout)["items_read"] == "1"


def test_a_slow_feed_times_out_and_a_vanished_one_is_unavailable(feed: Feed):
    source = Source(name="jonot", kind="queue", address=feed.url, units=UNITS)
    feed.delay = 2.0
    with pytest.raises(SourceUnavailable, match="Timeout"):
        run(source)  # the collector's timeout is 1 s here
    feed.delay = 0.0
    feed.stop()
    with pytest.raises(SourceUnavailable, match="ConnectError"):
        run(source)


def test_the_queue_systems_own_figures_map_like_the_others(feed: Feed):
    feed.body = json.dumps({"jonot": [
        {"yks": "VO1", "nimi": "Päivystys", "jonossa": 7, "pisin": 10, "kutsuttu": 20, "pisteet": "2",
         "arvio": "12,2"},
    ]}).encode()
    source = Source(name="jonojarjestelma", kind="queue", address=feed.url, records="jonot",
                    fields={"unit": "yks", "queue": "nimi", "waiting": "jonossa", "longest_wait_min": "pisin",
                            "called_last_hour": "kutsuttu", "points_open": "pisteet",
                            "estimated_wait_min": "arvio"},
                    unit_map={"VO1": "vastaanotto"})
    got, _ = run(source)
    assert got == {
        ("queue.waiting", "vastaanotto", "päivystys"): 7,
        ("queue.longest_wait_min", "vastaanotto", "päivystys"): 10,
        ("queue.called_last_hour", "vastaanotto", "päivystys"): 20,
        ("queue.points_open", "vastaanotto", "päivystys"): 2,
        ("queue.estimated_wait_min", "vastaanotto", "päivystys"): 13,  # theirs, rounded up
    }


def test_without_the_queue_systems_estimate_ours_is_computed(feed: Feed):
    # seven ahead, twenty called in the hour by two points: a call every three minutes, so a
    # person joining is called after eight calls, about 24 minutes (the old rule: "alle 5")
    feed.body = json.dumps({"queues": [
        {"unit": "vastaanotto", "queue": "Päivystys", "waiting": 7, "longest_wait_min": 10,
         "avg_wait_min": 3.5, "called_last_hour": 20, "points_open": 2},
        {"unit": "laboratorio", "queue": "Näytteenotto", "waiting": 0, "longest_wait_min": 0,
         "called_last_hour": 0, "points_open": 0},
    ]}).encode()
    got, _ = run(Source(name="jonot", kind="queue", address=feed.url, units=UNITS))
    ours = got[("queue.estimated_wait_min", "vastaanotto", "päivystys")]
    assert ours == math.ceil(8 * 60 / 20) == estimate_wait(7, 20, 2, 10).minutes  # type: ignore[union-attr]
    assert got[("queue.estimated_wait_min", "laboratorio", "näytteenotto")] == 0  # nobody waits
    assert got[("queue.points_open", "laboratorio", "näytteenotto")] == 0


def test_a_feed_that_lists_its_calls_has_them_counted(feed: Feed):
    calls = [(NOW - timedelta(minutes=m)).isoformat() for m in range(2, 62, 4)]  # 2, 6, … 58 min ago
    naive = [(NOW - timedelta(minutes=m)).replace(tzinfo=None).isoformat() for m in (1, 90)]
    feed.body = json.dumps({"queues": [
        {"unit": "vastaanotto", "queue": "Päivystys", "waiting": 6, "longest_wait_min": 9,
         "called_at": calls + naive},
        {"unit": "laboratorio", "queue": "Näytteenotto", "waiting": 2, "called_at": ["klo 9.55"]},
    ]}).encode()
    got, c = run(Source(name="jonot", kind="queue", address=feed.url, units=UNITS))
    in_the_hour = sum(1 for m in [*range(2, 62, 4), 1, 90] if m < 60)
    assert got[("queue.called_last_hour", "vastaanotto", "päivystys")] == in_the_hour == 16
    assert got[("queue.estimated_wait_min", "vastaanotto", "päivystys")] == math.ceil(7 * 60 / 16)
    assert ("queue.called_last_hour", "laboratorio", "näytteenotto") not in got
    assert ("queue.estimated_wait_min", "laboratorio", "näytteenotto") not in got  # no rate
    assert c.status_extra()["unmapped_detail"] == "call time that is not a time: 1"


def test_the_estimate_follows_the_points_between_polls(feed: Feed):
    # the collector remembers the points of its earlier polls: two of four to lunch halves
    # the rate the hour's calls say
    source = Source(name="jonot", kind="queue", address=feed.url, units=UNITS)
    c = TabularCollector(source, TZ, timeout=1.0)

    def estimate(minute: int, points: int) -> Any:
        feed.body = json.dumps({"queues": [{"unit": "laboratorio", "queue": "Näytteenotto", "waiting": 9,
                                            "longest_wait_min": 12, "called_last_hour": 40,
                                            "points_open": points}]}).encode()
        at = NOW + timedelta(minutes=minute)
        return {r.metric: r.value for r in c.normalise(c.fetch(at), at)}["queue.estimated_wait_min"]

    for minute in range(0, 60, 5):
        assert estimate(minute, 4) == math.ceil(10 * 60 / 40)
    at_lunch = [estimate(m, 2) for m in range(60, 95, 5)]
    mean_points = (30 * 4 + 30 * 2) / 60  # the hour before 90: four points until 60, then two
    assert at_lunch[-1] == math.ceil(10 * 60 / (40 * 2 / mean_points)) == 23
    assert min(at_lunch) > math.ceil(10 * 60 / 40)


SECRET = "s3cret-7f1d-not-for-logs"


def test_the_secret_goes_as_a_bearer_token(feed: Feed, monkeypatch: pytest.MonkeyPatch):
    feed.required = ("Authorization", f"Bearer {SECRET}")
    feed.body = json.dumps({"callbacks": [{"unit": "vastaanotto", "pending": 4, "oldest_min": 9}]}).encode()
    source = Source(name="soitot", kind="callback", address=feed.url, units=UNITS, token_env="SOITOT_TOKEN")
    monkeypatch.setenv("SOITOT_TOKEN", "wrong")
    with pytest.raises(SourceUnavailable, match="401") as refused:
        run(source)
    assert "wrong" not in str(refused.value)
    monkeypatch.setenv("SOITOT_TOKEN", SECRET)
    got, _ = run(source)
    assert got[("callback.pending", "vastaanotto", "")] == 4
    monkeypatch.delenv("SOITOT_TOKEN")
    with pytest.raises(SourceUnavailable, match="SOITOT_TOKEN is not set"):
        run(source)


def test_the_secret_goes_in_the_header_the_source_names(feed: Feed, monkeypatch: pytest.MonkeyPatch):
    feed.required = ("X-Api-Key", SECRET)
    feed.body = json.dumps({"staffing": [{"unit": "vastaanotto", "profession": "lääkäri", "planned": 8,
                                          "present": 7}]}).encode()
    monkeypatch.setenv("VUOROT_KEY", SECRET)
    bearer = Source(name="vuorot", kind="staffing", address=feed.url, units=UNITS, token_env="VUOROT_KEY")
    with pytest.raises(SourceUnavailable, match="401"):
        run(bearer)  # as a bearer token the vendor refuses it
    assert feed.seen[-1]["authorization"] == f"Bearer {SECRET}"
    named = Source(name="vuorot", kind="staffing", address=feed.url, units=UNITS, token_env="VUOROT_KEY",
                   token_header="X-Api-Key")
    got, _ = run(named)
    assert got[("staff.present", "vastaanotto", "lääkäri")] == 7
    assert "authorization" not in feed.seen[-1]


def test_without_a_token_env_no_secret_is_sent(feed: Feed):
    feed.required = ("Authorization", f"Bearer {SECRET}")
    with pytest.raises(SourceUnavailable, match="401 .the feed asks for credentials: name them with token_env"):
        run(Source(name="jonot", kind="queue", address=feed.url, units=UNITS))
    assert "authorization" not in feed.seen[-1]


def test_the_secret_stays_with_the_feeds_own_origin(feed: Feed, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("JONOT_KEY", SECRET)
    source = Source(name="jonot", kind="queue", address=feed.url, units=UNITS, token_env="JONOT_KEY",
                    token_header="X-Api-Key")
    elsewhere = Feed()  # another port: another origin
    try:
        elsewhere.body = json.dumps({"queues": []}).encode()
        feed.redirect = elsewhere.url
        run(source)
        assert feed.seen[-1]["x-api-key"] == SECRET
        assert len(elsewhere.seen) == 1 and "x-api-key" not in elsewhere.seen[-1]
    finally:
        elsewhere.stop()
    # a redirect within the feed's own origin keeps it
    feed.redirect, feed.required = feed.url.replace("/status", "/moved"), ("X-Api-Key", SECRET)
    feed.body = json.dumps({"queues": [{"unit": "vastaanotto", "queue": "P", "waiting": 2}]}).encode()
    got, _ = run(source)
    assert got[("queue.waiting", "vastaanotto", "p")] == 2


@pytest.mark.store
def test_a_refused_secret_never_reaches_the_status_or_the_log(
    feed: Feed, store: LiveStore, config: Config, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    feed.required = ("Authorization", "Bearer the-right-one")
    monkeypatch.setenv("JONOT_TOKEN", SECRET)
    collector = TabularCollector(Source(name="jonot", kind="queue", address=feed.url, units=UNITS,
                                        token_env="JONOT_TOKEN"), TZ, timeout=1.0)
    with caplog.at_level(logging.DEBUG):
        result = poll(collector, store, config)
    assert not result.ok and "401" in (result.error or "")
    status = store.source_status("jonot")
    assert status.state == "failing" and "refused our credentials" in (status.last_error or "")
    assert SECRET not in (status.last_error or "") and SECRET not in (result.error or "")
    assert SECRET not in caplog.text
    assert feed.seen[-1]["authorization"] == f"Bearer {SECRET}"  # it was sent, to the feed


def test_an_uncertain_estimate_carries_its_range_to_the_wall(feed: Feed):
    # three calls in the hour: the rate is hardly known, so the wall is to show a range
    feed.body = json.dumps({"queues": [
        {"unit": "vastaanotto", "queue": "Päivystys", "waiting": 6, "longest_wait_min": 25,
         "called_last_hour": 3, "points_open": 1},
        {"unit": "laboratorio", "queue": "Näytteenotto", "waiting": 7, "longest_wait_min": 10,
         "called_last_hour": 60, "points_open": 3},
    ]}).encode()
    c = TabularCollector(Source(name="jonot", kind="queue", address=feed.url, units=UNITS), TZ, timeout=1.0)
    got = {(r.unit, r.metric): r for r in c.normalise(c.fetch(NOW), NOW)}
    slow = got[("vastaanotto", "queue.estimated_wait_min")]
    want = estimate_wait(6, 3, 1, 25)
    assert want is not None and want.range is not None
    assert (slow.value, slow.range) == (want.minutes, want.range)
    assert slow.range[0] <= slow.value <= slow.range[1]
    assert Reading.from_json(slow.to_json()).range == slow.range  # it survives the live store
    busy = got[("laboratorio", "queue.estimated_wait_min")]
    assert busy.range is None  # sixty calls an hour: the point says it
