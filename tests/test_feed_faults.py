"""A feed that hangs, answers 500 or sends garbage, with the real scheduler running every
source: the faulty one fails alone (its last good data kept, logged once down and once up),
the others go on being polled, and the wall can always be built."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors import scheduler
from dashboard.config import Config, Source
from dashboard.domain.readmodel import build
from tests.conftest import Backend, wait_for
from tests.fhir import day
from tests.fhir.server import FhirServer
from tests.servers import TcpProxy

pytestmark = pytest.mark.store
START = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))  # a Tuesday morning


@pytest.fixture
def fhir() -> Iterator[FhirServer]:
    """The FHIR server holding START's day, with the clock set to START and running (the
    scheduler waits on it): the feeds' day, the demo's among them, is the same at any hour."""
    with time_machine.travel(START, tick=True), day.serve_day(START) as server:
        yield server


@pytest.mark.alone  # polls every 1 s, each within its lease: three workers' load once made one outlast it
def test_a_feed_that_hangs_fails_or_sends_garbage_fails_alone(
        backend: Backend, config: Config, fhir: FhirServer, caplog: pytest.LogCaptureFixture):
    store = backend.store
    with TcpProxy(("127.0.0.1", fhir.httpd.server_address[1])) as proxy:
        feed = Source(name="potilastiedot", kind="fhir", address=f"http://127.0.0.1:{proxy.port}/fhir",
                      poll_seconds=1, timeout_seconds=0.5,
                      unit_map={day.LOCATION: "vastaanotto", day.LAB: "laboratorio"})
        demo = [s.model_copy(update={"poll_seconds": 1}) for s in config.sources]
        config = config.model_copy(update={"sources": [*demo, feed]})
        sched = scheduler.build_scheduler(config, store, backend.history, backend.data_dir)
        with caplog.at_level(logging.WARNING, logger="collectors.base"):
            scheduler.start(sched)
            try:
                wait_for(lambda: store.source_status("potilastiedot").state == "ok", timeout=20,
                         what="the feed's first poll")
                kept = [r for r in store.all_readings()["potilastiedot"]]
                assert kept

                def failing_with(text: str) -> bool:
                    st = store.source_status("potilastiedot")
                    return st.state == "failing" and text in (st.last_error or "")

                def others_polled_since(moment: str) -> bool:
                    return all((store.source_status(s.name).last_success or "") > moment for s in demo)

                for fault, says in (("hang", "SourceUnavailable"), ("500", "500"),
                                    ("garbage", "InvalidData")):
                    began = store.clock(config.tz).now().isoformat()
                    if fault == "hang":
                        proxy.blackhole()  # connections accepted, nothing ever answered
                    else:
                        proxy.restore()
                        fhir.fault = fault
                    wait_for(lambda s=says: failing_with(s), timeout=30, what=f"{fault}: failing")
                    wait_for(lambda b=began: others_polled_since(b), timeout=10,
                             what=f"{fault}: the other sources polled meanwhile")
                    assert store.all_readings()["potilastiedot"] == kept  # last good data stays
                    model = build(config, config.display("vastaanotto-kaytava"), store, None)
                    assert model.data["tiles"]
                fhir.fault = None
                wait_for(lambda: store.source_status("potilastiedot").state == "ok", timeout=30,
                         what="recovery")
            finally:
                scheduler.stop(sched)
                time.sleep(0.2)
    # the source's own lines (a hanging poll that holds up later runs is the scheduler's to say)
    said = [r.getMessage() for r in caplog.records
            if r.name == "collectors.base" and "potilastiedot" in r.getMessage()]
    assert [m.split(":")[0] for m in said] == ["source potilastiedot failed",
                                               "source potilastiedot recovered"], said
