"""A source that fails or is stopped leaves a gap in the history, never its last value
carried over the outage (issue 13): the first failed poll records "nothing in force" for
each series whose newest value came from that source, and the first good poll after it
records every value again, changed or not. Real collector (FHIR) against our own FHIR
server, real live store and history, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.base import poll
from collectors.historywriter import drain
from collectors.registry import collector_for
from dashboard.config import Config, Source
from dashboard.domain.readings import Reading
from tests.conftest import Backend
from tests.fhir import day
from tests.fhir.server import FhirServer

pytestmark = pytest.mark.store
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))  # a Tuesday morning


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """The clock stopped at NOW (the test moves it): what the feed says and what the
    collector counts as today do not depend on when the test runs."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fhir(clock: time_machine.Coordinates) -> Iterator[FhirServer]:
    with day.serve_day(NOW) as server:
        yield server


def _changes(backend: Backend, source: str) -> list[tuple[str, str, str, object]]:
    return [(r.metric, r.unit, r.key, json.loads(r.value)) for r in backend.history.changes()
            if r.source == source]


def test_a_failing_source_ends_its_values_and_its_recovery_records_them_again(
        backend: Backend, config: Config, fhir: FhirServer, clock: time_machine.Coordinates):
    store, history = backend.store, backend.history
    feed = Source(name="potilastiedot", kind="fhir", address=fhir.url, poll_seconds=30,
                  timeout_seconds=2, unit_map={day.LOCATION: "vastaanotto", day.LAB: "laboratorio"})
    config = config.model_copy(update={"sources": [feed]})
    collector = collector_for(feed, config)
    assert poll(collector, store, config).ok
    drain(store, history)
    first = _changes(backend, "potilastiedot")
    assert first and all(v is not None for *_s, v in first)
    # a tablet correction of one of its series is newer: the outage does not end it
    corrected = next(r for r in store.all_readings()["potilastiedot"] if r.metric == "appointments.free_today")
    clock.shift(1)  # a second later: newer than the feed's, the waits (whole minutes) unchanged
    now = datetime.now(NOW.tzinfo)
    store.apply_manual("tablet", [Reading(corrected.metric, corrected.unit, corrected.key, 99, now, "tablet",
                                          manual=True, entered_by="vv", valid_until=now + timedelta(hours=1))],
                       [], {"state": "ok"})
    fhir.fault = "500"
    assert not poll(collector, store, config).ok
    assert not poll(collector, store, config).ok  # failing on: ended once, not again
    drain(store, history)
    ended = [c for c in _changes(backend, "potilastiedot")[len(first):]]
    series = {(m, u, k) for m, u, k, _v in first}
    assert {(m, u, k) for m, u, k, _v in ended} == series - {(corrected.metric, corrected.unit, corrected.key)}
    assert all(v is None for *_s, v in ended)
    assert store.all_readings()["potilastiedot"]  # the wall keeps its last good data (stale)
    # back: every value is recorded again, also those that did not change
    fhir.fault = None
    assert poll(collector, store, config).ok
    drain(store, history)
    again = _changes(backend, "potilastiedot")[len(first) + len(ended):]
    assert sorted(again, key=str) == sorted(first, key=str)
    # and a good poll after that records only what changed (here: nothing)
    assert poll(collector, store, config).ok
    drain(store, history)
    assert len(_changes(backend, "potilastiedot")) == len(first) + len(ended) + len(again)


def test_a_stopped_source_ends_its_values(backend: Backend, config: Config, fhir: FhirServer):
    store, history = backend.store, backend.history
    feed = Source(name="potilastiedot", kind="fhir", address=fhir.url, poll_seconds=30,
                  unit_map={day.LOCATION: "vastaanotto"})
    config = config.model_copy(update={"sources": [feed]})
    collector = collector_for(feed, config)
    assert poll(collector, store, config).ok
    drain(store, history)
    n = len(_changes(backend, "potilastiedot"))
    store.stop_source("potilastiedot")
    drain(store, history)
    stopped = _changes(backend, "potilastiedot")[n:]
    assert len(stopped) == n and all(v is None for *_s, v in stopped)
    store.start_source("potilastiedot")
    assert poll(collector, store, config).ok
    drain(store, history)
    assert len(_changes(backend, "potilastiedot")) == 3 * n
