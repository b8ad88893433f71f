import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.base import SourceUnavailable, poll
from collectors.demo.feeds import DemoCollector
from dashboard.config import Config, Source
from dashboard.domain.metrics import CATALOGUE
from dashboard.domain.readings import Reading
from dashboard.domain.waits import QueueMemory
from dashboard.storage.livestore import LiveStore

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
def test_demo_feeds_cover_every_metric_for_every_unit(config: Config, tmp_path):  # type: ignore[no-untyped-def]
    from collectors.registry import collector_for
    from collectors.scheduler import connected
    from dashboard.storage.history import History

    history = History.open(None, tmp_path)  # the access cases are written there, their figures read
    now = datetime.now(TZ)
    metrics: dict[str, set[str]] = {}
    for source in config.sources:
        c = connected(collector_for(source, config), config, history)
        for rd in c.normalise(c.fetch(now), now):
            metrics.setdefault(rd.unit, set()).add(rd.metric)
            assert rd.observed_at == now and rd.source == source.name
    assert set(CATALOGUE) <= metrics["vastaanotto"]
    for unit in ("suun_th", "laboratorio", "mtpa", "sosiaali"):
        assert {"queue.waiting", "staff.present", "appointments.t3_days", "flow.arrivals_by_hour",
                "capacity.total"} <= metrics[unit]


@time_machine.travel(datetime(2026, 11, 24, 7, 50, tzinfo=TZ), tick=False)
def test_the_demo_estimates_each_queues_wait_from_the_queue(config: Config):
    # A day of the demo's queue system polled every five minutes, as the collector does: the
    # estimate is ours (dashboard/domain/waits.py) from what the system says and what the collector
    # remembers, never "under five" while people wait and calls are slow.
    (source,) = [s for s in config.sources if s.kind == "demo" and s.feed == "queue"]
    c = DemoCollector(source, TZ)
    memory = QueueMemory()  # an independent collector's memory, fed the same answers
    seen = 0
    for minute in range(0, 9 * 60, 5):
        now = datetime(2026, 11, 24, 7, 50, tzinfo=TZ) + timedelta(minutes=minute)
        raw = c.fetch(now)
        got = {(r.metric, r.unit, r.key): r.value for r in c.normalise(raw, now)}
        for unit, answer in raw.items():
            for q in answer:
                key = q["queue"].strip().lower()
                assert got[("queue.called_last_hour", unit, key)] == q["called_last_hour"]
                assert got[("queue.points_open", unit, key)] == q["points_open"]
                mine = memory.estimate((unit, q["queue"]), now, q["waiting"], q["called_last_hour"],
                                       q["points_open"], q["longest_wait_min"])
                shown = got.get(("queue.estimated_wait_min", unit, key))
                assert shown == (None if mine is None else mine.minutes)
                slow = q["called_last_hour"] and q["waiting"] / q["called_last_hour"] * 60 >= 10
                if now.hour >= 9 and q["waiting"] >= 3 and slow:  # open an hour, calls slow
                    assert shown is None or shown >= 10
                    seen += 1
    assert seen > 20
