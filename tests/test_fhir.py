"""The FHIR R4 feed against a real HTTP server of our own, and the public HL7 examples."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collectors.base import InvalidData, SourceUnavailable, poll
from collectors.fhir.client import Breaker, FhirClient
from collectors.fhir.collector import FhirCollector
from collectors.fhir.normalise import Normaliser, Snapshot
from collectors.historywriter import drain
from dashboard.config import Config, Source
from dashboard.readmodel import build
from tests.conftest import SHARED, Backend
from tests.fhir import day
from tests.fhir.server import FhirServer

TZ = ZoneInfo("Europe/Helsinki")
TUESDAY = date(2026, 11, 24)
NOW = datetime.combine(TUESDAY, time(10, 0), tzinfo=TZ)
UNIT_MAP = {day.LOCATION: "vastaanotto", day.LAB: "laboratorio"}


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    s = FhirServer(page_size=2)
    start = datetime.combine(TUESDAY, time(0), tzinfo=TZ)
    for resource in day.build(start):
        s.put(resource, NOW - timedelta(hours=1))
    yield s
    s.stop()


def source(url: str, **kw) -> Source:  # type: ignore[no-untyped-def]
    return Source(name="potilastiedot", kind="fhir", address=url, poll_seconds=30, unit_map=UNIT_MAP,
                  profession_map={"General practice": "lääkäri"}, **kw)


def collector(url: str, **kw) -> FhirCollector:  # type: ignore[no-untyped-def]
    client = FhirClient(url, timeout=1.0, retries=1, backoff=0.01)
    return FhirCollector(source(url, **kw), TZ, client)


def values(readings) -> dict:  # type: ignore[no-untyped-def]
    return {(r.metric, r.unit, r.key): r.value for r in readings}


def test_a_day_is_derived_from_encounters_appointments_and_slots(server: FhirServer):
    c = collector(server.url)
    got = values(c.normalise(c.fetch(NOW), NOW))
    assert got[("flow.arrivals_today", "vastaanotto", "")] == 4  # e1-e4; e6 unmapped, e7 unknown status
    assert got[("flow.arrivals_by_hour", "vastaanotto", "")] == {"08": 1, "09": 3}
    assert got[("flow.completed_today", "vastaanotto", "")] == 1
    assert got[("flow.no_shows_today", "vastaanotto", "")] == 1
    assert got[("queue.waiting", "vastaanotto", "päivystys")] == 2  # e3 arrived, e4 triaged
    assert got[("queue.longest_wait_min", "vastaanotto", "päivystys")] == 30  # e3 since 9.30
    assert got[("queue.avg_wait_min", "vastaanotto", "päivystys")] == 40.0  # e2: 9.10 -> 9.50
    assert got[("queue.waiting", "laboratorio", "päivystys")] == 1
    assert got[("appointments.free_today", "vastaanotto", "lääkäri")] == 3
    assert got[("appointments.free_3wd", "vastaanotto", "lääkäri")] == 3  # Wed 2, Thu 1
    assert got[("appointments.t3_days", "vastaanotto", "lääkäri")] == 0
    status = c.status_extra()
    assert status["items_unmapped"] == 2
    assert "Encounter.status some-new-status: 1" in status["unmapped_detail"]
    assert "Encounter without a mapped unit: 1" in status["unmapped_detail"]


def test_search_follows_every_page(server: FhirServer):
    c = collector(server.url)
    snap = c.fetch(NOW)
    assert len(snap.slots) == 8 and len(snap.encounters) == 8
    pages = [q for rtype, q in server.queries if rtype == "Slot"]
    assert len(pages) == 4  # 8 slots, 2 a page


def test_after_the_first_poll_only_changes_are_asked_for(server: FhirServer):
    c = collector(server.url)
    c.fetch(NOW)
    server.queries.clear()
    later = NOW + timedelta(minutes=1)
    start = datetime.combine(TUESDAY, time(0), tzinfo=TZ)
    server.put(day.encounter("e3", "in-progress", start + timedelta(hours=9, minutes=30),
                             called=later - timedelta(seconds=30), n=3), later)
    got = values(c.normalise(c.fetch(later), later))
    assert all("_lastUpdated" in q for _t, q in server.queries)
    assert got[("queue.waiting", "vastaanotto", "päivystys")] == 1  # e3 was called in
    assert got[("flow.arrivals_today", "vastaanotto", "")] == 4  # the rest kept from before


def test_a_server_answering_500_is_unavailable_after_retries(server: FhirServer):
    server.fault = "500"
    c = collector(server.url)
    with pytest.raises(SourceUnavailable, match="500"):
        c.fetch(NOW)
    assert len(server.queries) == 2  # the first try and one retry


def test_malformed_json_is_invalid_data(server: FhirServer):
    server.fault = "garbage"
    with pytest.raises(InvalidData, match="not JSON"):
        collector(server.url).fetch(NOW)


def test_a_slow_server_times_out(server: FhirServer):
    server.fault, server.slow_seconds = "slow", 2.0
    with pytest.raises(SourceUnavailable, match="Timeout"):
        collector(server.url).fetch(NOW)


def test_a_server_that_disappears_is_unavailable(server: FhirServer):
    url = server.url
    server.stop()
    with pytest.raises(SourceUnavailable):
        collector(url).fetch(NOW)


def test_the_breaker_opens_after_repeated_failures_and_lets_a_trial_through(server: FhirServer):
    moments = [0.0]
    breaker = Breaker(threshold=2, cooldown=30, clock=lambda: moments[0])
    client = FhirClient(server.url, timeout=1, retries=0, breaker=breaker)
    server.fault = "500"
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            list(client.search("Slot", {}))
    asked = len(server.queries)
    with pytest.raises(SourceUnavailable, match="circuit open"):
        list(client.search("Slot", {}))
    assert len(server.queries) == asked  # not even asked
    moments[0] = 31
    server.fault = None
    assert len(list(client.search("Slot", {}))) == 8


def test_bearer_token_from_the_environment(server: FhirServer, monkeypatch: pytest.MonkeyPatch):
    server.token = "s3cret"
    with pytest.raises(SourceUnavailable, match="401"):
        collector(server.url).fetch(NOW)
    monkeypatch.setenv("FHIR_TOKEN", "s3cret")
    c = FhirCollector(source(server.url, token_env="FHIR_TOKEN"), TZ)
    assert len(c.fetch(NOW).slots) == 8


def test_oauth2_client_credentials(server: FhirServer, monkeypatch: pytest.MonkeyPatch):
    server.token = "issued-token"
    monkeypatch.setenv("FHIR_SECRET", "client-secret")
    token_url = server.url.replace("/fhir", "/token")
    c = FhirCollector(source(server.url, token_url=token_url, client_id="ohjaustaulu",
                             client_secret_env="FHIR_SECRET"), TZ)
    assert len(c.fetch(NOW).slots) == 8
    assert server.issued_tokens == 1  # cached for the following requests


def test_the_public_hl7_examples_are_tolerated_and_reported():
    folder = SHARED / "fixtures" / "fhir-r4-examples"
    if not folder.is_dir():
        pytest.skip("../shared/fixtures is not beside the checkout")
    snap = Snapshot()
    for path in sorted(folder.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource["resourceType"] == "Bundle":
            for entry in resource.get("entry", []):
                snap.add(entry["resource"])
        else:
            snap.add(resource)
    # Their Schedule's actor is Location/1; three encounters have Organization/f201.
    normalise = Normaliser("hl7", {"Organization/f201": "vastaanotto", "Location/1": "vastaanotto"}, TZ)
    outcome = normalise(snap, datetime(2013, 12, 25, 8, 0, tzinfo=ZoneInfo("UTC")))
    assert outcome.items == 20  # Appointments, Encounters, Slots, Schedules; the rest is not ours
    assert outcome.unmapped == {"Encounter without a mapped unit": 7}  # reported, not fatal
    got = values(outcome.readings)
    # Slot-example: free, 25.12.2013 10.15 UTC, specialty "Clinical immunology"
    assert got[("appointments.free_today", "vastaanotto", "clinical immunology")] == 1


@pytest.mark.store
def test_nothing_personal_passes_the_collector(backend: Backend, config: Config, server: FhirServer):
    src = source(server.url)
    config = config.model_copy(update={"sources": [*config.sources, src]})
    with time_machine.travel(NOW, tick=False):
        c = FhirCollector(src, TZ, FhirClient(server.url, timeout=1, retries=0))
        assert poll(c, backend.store, config).ok
        drain(backend.store, backend.history)
        page = json.dumps(build(config, config.display("johto"), backend.store, backend.history).data,
                          ensure_ascii=False)
    everything = [page]
    for key in backend.store.r.scan_iter(match=backend.store.p + "*"):
        kind = backend.store.r.type(key).decode()
        dump = {"hash": backend.store.r.hgetall, "set": backend.store.r.smembers, "string": backend.store.r.get,
                "stream": lambda k: backend.store.r.xrange(k)}.get(kind)
        everything.append(repr(key) + repr(dump(key) if dump else ""))
    everything += [repr(tuple(row)) for row in backend.history.changes()]
    text = "\n".join(everything)
    for secret in (day.HETU, "Iida", "Esimerkki", "Patient/", "Aili", "rintakivusta", "Kontrolli"):
        assert secret not in text, secret
    assert "vastaanotto" in text  # and yet the values are there


def test_the_finnish_scheduling_guides_appointment_is_read_and_nothing_personal_kept():
    path = SHARED / "reference" / "finnish-scheduling-ig" / "input" / "examples" / "appointment.json"
    if not path.is_file():
        pytest.skip("../shared/reference is not beside the checkout")
    appointment = json.loads(path.read_text(encoding="utf-8"))
    appointment["status"] = "noshow"  # the guide's booked visit, as if nobody came
    snap = Snapshot()
    snap.add(appointment)
    normalise = Normaliser("kanta", {"HealthcareService/example-service-2": "sosiaali"}, TZ)
    outcome = normalise(snap, datetime(2020, 1, 1, 13, 0, tzinfo=TZ))
    assert values(outcome.readings)[("flow.no_shows_today", "sosiaali", "")] == 1
    assert outcome.unmapped == {}  # Finnish extensions and codes are simply not needed
    text = repr(outcome.readings)
    assert "henkilöllisyystodistus" not in text and "Äidillä" not in text


@pytest.mark.store
def test_a_failing_fhir_source_goes_stale_alone_logs_once_each_way_and_recovers(
    backend: Backend, config: Config, server: FhirServer, caplog: pytest.LogCaptureFixture
):
    src = source(server.url)
    config = config.model_copy(update={"sources": [*config.sources, src]})
    c = FhirCollector(src, TZ, FhirClient(server.url, timeout=1, retries=0, breaker=Breaker(threshold=100)))
    with time_machine.travel(NOW, tick=False) as traveller, caplog.at_level(logging.WARNING, logger="collectors.base"):
        assert poll(c, backend.store, config).ok
        server.fault = "500"
        for _ in range(3):
            traveller.shift(30)
            assert not poll(c, backend.store, config).ok
        traveller.shift(31)  # more than two poll intervals since the last success
        tiles = build(config, config.display("vastaanotto-kaytava"), backend.store, None).data["tiles"]
        assert {t["status"] for t in tiles if t["source"] == "potilastiedot"} == {"stale"}
        server.fault = None
        assert poll(c, backend.store, config).ok
        tiles = build(config, config.display("vastaanotto-kaytava"), backend.store, None).data["tiles"]
        assert {t["status"] for t in tiles if t["source"] == "potilastiedot"} == {"fresh"}
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "source potilastiedot failed", "source potilastiedot recovered"]
