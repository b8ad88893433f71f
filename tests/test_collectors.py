import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.base import SourceUnavailable, poll
from collectors.demo.feeds import DemoCollector
from dashboard.config import Config, Source
from dashboard.livestore import LiveStore
from dashboard.metrics import CATALOGUE
from dashboard.readings import Reading

TZ = ZoneInfo("Europe/Helsinki")
pytestmark = pytest.mark.store


class Flaky:
    """A collector whose source can be switched off, to watch the contract's failure path."""

    def __init__(self) -> None:
        self.source = Source(name="jonot", kind="queue", address="http://x", poll_seconds=5)
        self.down = False
        self.value = 1

    def fetch(self, now: datetime) -> int:
        if self.down:
            raise SourceUnavailable("connection refused")
        return self.value

    def normalise(self, raw: int, now: datetime) -> list[Reading]:
        return [Reading("queue.waiting", "vastaanotto", "A", raw, now, self.source.name)]


def test_a_failing_source_keeps_its_last_good_data_and_logs_once_each_way(
    store: LiveStore, config: Config, caplog: pytest.LogCaptureFixture
):
    c = Flaky()
    assert poll(c, store, config).ok
    c.down = True
    with caplog.at_level(logging.WARNING, logger="collectors.base"):
        for _ in range(3):
            result = poll(c, store, config)
            assert not result.ok and "connection refused" in (result.error or "")
        c.down, c.value = False, 2
        poll(c, store, config)
        poll(c, store, config)
    messages = [rec.getMessage() for rec in caplog.records]
    assert messages == [
        "source jonot failed: SourceUnavailable: connection refused",
        "source jonot recovered",
    ]
    (kept,) = store.all_readings()["jonot"]
    assert kept.value == 2
    status = store.source_status("jonot")
    assert status.state == "ok" and status.last_error and status.last_success


def test_a_failure_does_not_touch_the_last_good_data(store: LiveStore, config: Config):
    c = Flaky()
    c.value = 7
    poll(c, store, config)
    c.down = True
    poll(c, store, config)
    (kept,) = store.all_readings()["jonot"]
    assert kept.value == 7
    assert store.source_status("jonot").state == "failing"


def test_a_stopped_source_is_not_polled(store: LiveStore, config: Config):
    c = Flaky()
    store.stop_source("jonot")
    result = poll(c, store, config)
    assert result.skipped and not store.all_readings().get("jonot")
    assert store.source_status("jonot").state == "stopped"


@time_machine.travel(datetime(2026, 11, 23, 11, 0, tzinfo=TZ), tick=False)
def test_demo_feeds_cover_every_metric_for_every_unit(config: Config):
    now = datetime.now(TZ)
    metrics: dict[str, set[str]] = {}
    for source in config.sources:
        c = DemoCollector(source, TZ)
        for rd in c.normalise(c.fetch(now), now):
            metrics.setdefault(rd.unit, set()).add(rd.metric)
            assert rd.observed_at == now and rd.source == source.name
    assert set(CATALOGUE) <= metrics["vastaanotto"]
    for unit in ("suun_th", "laboratorio", "mtpa", "sosiaali"):
        assert {"queue.waiting", "staff.present", "appointments.t3_days", "flow.arrivals_by_hour",
                "capacity.total"} <= metrics[unit]
