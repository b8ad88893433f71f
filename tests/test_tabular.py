"""Staffing, queue and call-back feeds: our shapes, another vendor's through configuration,
over a real HTTP server of our own and from files."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collectors.base import InvalidData, SourceUnavailable
from collectors.tabular import TabularCollector
from dashboard.config import Source
from tests.conftest import EXAMPLE_CONFIG, Backend, cli

TZ = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
UNITS = ["vastaanotto", "laboratorio"]


class Feed:
    """An HTTP server answering one body (and status) to every GET."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.status = 200
        self.delay = 0.0
        self.content_type = "application/json"
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                time.sleep(feed.delay)
                self.send_response(feed.status)
                self.send_header("Content-Type", feed.content_type)
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/status"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
