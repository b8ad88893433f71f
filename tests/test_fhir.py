"""The FHIR R4 feed against a real HTTP server of our own, and the public HL7 examples."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import text

from collectors.base import InvalidData, SourceUnavailable, poll
from collectors.fhir.client import Breaker, FhirClient
from collectors.fhir.collector import FhirCollector
from collectors.fhir.normalise import Normaliser, Snapshot
from collectors.historywriter import drain
from dashboard.config import Config, Source
from dashboard.domain.readmodel import build
from tests.conftest import EXAMPLE_CONFIG, SHARED, Backend, cli
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
    assert len(snap.slots) == 7 and len(snap.encounters) == 8  # f6 began yesterday: not asked for
    pages = [q for rtype, q in server.queries if rtype == "Slot"]
    assert len(pages) == 4  # 7 slots, 2 a page


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
    assert len(c.fetch(NOW).slots) == 7


def test_oauth2_client_credentials(server: FhirServer, monkeypatch: pytest.MonkeyPatch):
    server.token = "issued-token"
    monkeypatch.setenv("FHIR_SECRET", "client-secret")
    token_url = server.url.replace("/fhir", "/token")
    c = FhirCollector(source(server.url, token_url=token_url, client_id="ohjaustaulu",
                             client_secret_env="FHIR_SECRET"), TZ)
    assert len(c.fetch(NOW).slots) == 7
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


def access_cases_on(server: FhirServer) -> None:
    """Two ServiceRequests (care needs assessed) of a patient with a name, an identity code and
    a birth date, one treated: the access-to-care path of the same source."""
    unit = next(iter(UNIT_MAP))
    server.put({"resourceType": "Patient", "id": "p-hoito", "birthDate": "1952-10-13",
                "identifier": [{"system": "urn:oid:1.2.246.21", "value": day.HETU}],
                "name": [{"family": "Esimerkki", "given": ["Aili"]}]}, NOW - timedelta(hours=1))
    for n, started in ((1, True), (2, False)):
        server.put({"resourceType": "ServiceRequest", "id": f"sr-hoito-{n}", "status": "active", "intent": "order",
                    "code": {"coding": [{"system": "urn:test", "code": "pth"}], "text": "Aili Esimerkki, kontrolli"},
                    "subject": {"reference": "Patient/p-hoito", "display": "Aili Esimerkki"},
                    "performer": [{"reference": unit}],
                    "authoredOn": (NOW - timedelta(days=20)).isoformat()}, NOW - timedelta(hours=1))
        if started:
            server.put({"resourceType": "Appointment", "id": f"a-hoito-{n}", "status": "fulfilled",
                        "basedOn": [{"reference": f"ServiceRequest/sr-hoito-{n}"}],
                        "start": (NOW - timedelta(days=2)).isoformat(), "end": (NOW - timedelta(days=2, minutes=-30)).isoformat(),
                        "participant": [{"actor": {"reference": "Patient/p-hoito", "display": "Aili Esimerkki"},
                                         "status": "accepted"}]}, NOW - timedelta(hours=1))


@pytest.mark.store
def test_nothing_personal_passes_the_collector(backend: Backend, config: Config, server: FhirServer,
                                               monkeypatch: pytest.MonkeyPatch):
    from collectors.scheduler import connected

    access_cases_on(server)
    monkeypatch.setenv("CASE_SECRET", "a secret of the test")
    src = source(server.url, service_map={"urn:test|pth": "perusterveydenhuolto"}, case_key_env="CASE_SECRET")
    config = config.model_copy(update={"sources": [*config.sources, src]})
    with time_machine.travel(NOW, tick=False):
        c = FhirCollector(src, TZ, FhirClient(server.url, timeout=1, retries=0))
        from collectors.access import CaseWriter

        c.cases = CaseWriter(src, config)
        connected(c, config, backend.history)
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
    with backend.history.engine.connect() as conn:  # the access-to-care cases, every column
        cases = [repr(tuple(r)) for r in conn.execute(text("SELECT * FROM access_cases")).all()]
        cases += [repr(tuple(r)) for r in conn.execute(text("SELECT * FROM access_judgements")).all()]
    assert len(cases) == 4  # two cases, each judged for its assessment-to-start interval
    everything += cases
    dump = "\n".join(everything)
    for secret in (day.HETU, "Iida", "Esimerkki", "Patient/", "Aili", "rintakivusta", "Kontrolli", "kontrolli",
                   "sr-hoito", "p-hoito", "1952"):
        assert secret not in dump, secret
    assert "vastaanotto" in dump and "perusterveydenhuolto" in dump  # and yet the values are there


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


# -- T3 beyond the horizon, "3 arkipv", the hourly full poll ------------------------------------

SCHEDULE = {"resourceType": "Schedule", "id": "s-laakari", "active": True,
            "specialty": [{"coding": [{"display": "General practice"}]}], "actor": [{"reference": day.LOCATION}]}
T3 = ("appointments.t3_days", "vastaanotto", "lääkäri")
FREE_3WD = ("appointments.free_3wd", "vastaanotto", "lääkäri")


def slot(sid: str, start: datetime, status: str = "free") -> dict:  # type: ignore[type-arg]
    return {"resourceType": "Slot", "id": sid, "status": status, "schedule": {"reference": "Schedule/s-laakari"},
            "start": start.isoformat(), "end": (start + timedelta(minutes=20)).isoformat()}


def on(d: date, hour: int = 9) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=TZ)


def bounds(readings) -> dict:  # type: ignore[no-untyped-def]
    return {(r.metric, r.unit, r.key): r.bound for r in readings}


def slow_t3(free_days: list[date], today: date, horizon: int) -> tuple[int, str | None]:
    """Day by day from today: the day the third free slot falls on, or the horizon, above."""
    seen = 0
    for n in range(horizon + 1):
        seen += sum(d == today + timedelta(days=n) for d in free_days)
        if seen >= 3:
            return n, None
    return horizon, "above"


@pytest.fixture
def empty_server():  # type: ignore[no-untyped-def]
    s = FhirServer(page_size=50)
    yield s
    s.stop()


def test_two_free_slots_in_90_days_make_t3_the_horizon_with_bound_above(empty_server: FhirServer):
    s, updated = empty_server, NOW - timedelta(hours=1)
    s.put(SCHEDULE, updated)
    free = [on(TUESDAY + timedelta(days=5)), on(TUESDAY + timedelta(days=40)),
            on(TUESDAY + timedelta(days=91))]  # the third free one lies a day past the horizon
    for i, start in enumerate(free):
        s.put(slot(f"f{i}", start), updated)
    for i in range(20):  # the days are full: busy slots every day
        s.put(slot(f"b{i}", on(TUESDAY + timedelta(days=i), 10), "busy"), updated)
    c = collector(s.url)
    readings = c.normalise(c.fetch(NOW), NOW)
    # the Slot search asks for the horizon: today 00.00 up to the end of day 90 (22.2.2027)
    starts = next(q["start"] for rtype, q in s.queries if rtype == "Slot")
    assert starts == ["ge2026-11-24T00:00:00+02:00", "lt2027-02-23T00:00:00+02:00"]
    assert values(readings)[T3] == 90 and bounds(readings)[T3] == "above"
    days = [d.date() for d in free if d.date() <= TUESDAY + timedelta(days=90)]  # what the server gave
    assert (values(readings)[T3], bounds(readings)[T3]) == slow_t3(days, TUESDAY, 90)
    # a third free slot on day 90 itself: T3 is exactly 90, no longer a bound
    later = NOW + timedelta(minutes=1)
    s.put(slot("f3", on(TUESDAY + timedelta(days=90), 15)), later)
    readings = c.normalise(c.fetch(later), later)
    assert (values(readings)[T3], bounds(readings)[T3]) == (90, None)
    assert (90, None) == slow_t3([*days, TUESDAY + timedelta(days=90)], TUESDAY, 90)


def test_the_horizon_is_the_sources_and_a_short_one_still_reads_three_working_days(empty_server: FhirServer):
    s, updated = empty_server, NOW - timedelta(hours=1)
    wednesday = date(2026, 12, 23)  # before Christmas: the next working days are 28., 29. and 30.12.
    now = on(wednesday, 10)
    s.put(SCHEDULE, updated)
    for i, d in enumerate([date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)]):
        s.put(slot(f"f{i}", on(d)), updated)
    c = collector(s.url, slot_horizon_days=2)
    readings = c.normalise(c.fetch(now), now)
    starts = next(q["start"] for rtype, q in s.queries if rtype == "Slot")
    assert starts == ["ge2026-12-23T00:00:00+02:00", "lt2026-12-31T00:00:00+02:00"]  # through 30.12.
    assert values(readings)[FREE_3WD] == 3
    assert (values(readings)[T3], bounds(readings)[T3]) == (2, "above")  # "> 2 pv": none by 25.12.


def test_free_in_3_working_days_counts_tomorrow_on_and_never_today(empty_server: FhirServer):
    s, updated = empty_server, NOW - timedelta(hours=1)
    wednesday = date(2026, 12, 23)
    now = on(wednesday, 10)
    s.put(SCHEDULE, updated)
    free = [on(wednesday, 14), on(wednesday, 8),  # today: one ahead, one past
            on(date(2026, 12, 24)), on(date(2026, 12, 25)), on(date(2026, 12, 26)),  # holidays
            on(date(2026, 12, 27)),  # Sunday
            on(date(2026, 12, 28)), on(date(2026, 12, 29)), on(date(2026, 12, 29), 11),
            on(date(2026, 12, 30)), on(date(2026, 12, 31))]  # Thursday: the fourth working day
    for i, start in enumerate(free):
        s.put(slot(f"f{i}", start), updated)
    c = collector(s.url)
    got = values(c.normalise(c.fetch(now), now))
    # by hand: Christmas Eve, Christmas Day and St Stephen's Day are public holidays, 27.12. a
    # Sunday; the three working days after Wednesday 23.12.2026 are Mon 28., Tue 29., Wed 30.
    by_hand = {date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)}
    assert got[FREE_3WD] == sum(d.date() in by_hand for d in free) == 4
    assert got[("appointments.free_today", "vastaanotto", "lääkäri")] == 1  # 14.00; 8.00 has gone
    assert got[T3] == 2  # 23.12. 14.00, 24.12., 25.12.: free slots count whatever the day


def test_a_schedule_without_any_slot_shows_t3_beyond_the_horizon_not_nothing(empty_server: FhirServer):
    s, updated = empty_server, NOW - timedelta(hours=1)
    s.put(SCHEDULE, updated)  # a system that publishes free slots only, and has none
    s.put({**SCHEDULE, "id": "old", "active": False,
           "specialty": [{"coding": [{"display": "Physiotherapy"}]}]}, updated)
    s.put({**SCHEDULE, "id": "over", "planningHorizon": {"end": "2026-11-20T16:00:00+02:00"},
           "specialty": [{"coding": [{"display": "Psychology"}]}]}, updated)
    c = collector(s.url)
    readings = c.normalise(c.fetch(NOW), NOW)
    assert (values(readings)[T3], bounds(readings)[T3]) == (90, "above")
    assert values(readings)[FREE_3WD] == 0
    assert {r.key for r in readings} == {"lääkäri"}  # not the inactive one, nor the one that ended


@pytest.mark.store
def test_a_deleted_slot_and_appointment_leave_the_figures_at_the_full_poll(
    backend: Backend, config: Config, server: FhirServer
):
    src = source(server.url, full_poll_minutes=60)
    config = config.model_copy(update={"sources": [*config.sources, src]})
    c = FhirCollector(src, TZ, FhirClient(server.url, timeout=1, retries=0))
    no_shows = ("flow.no_shows_today", "vastaanotto", "")

    def live() -> dict:  # type: ignore[type-arg]
        return {(r.metric, r.unit, r.key): r.value for r in backend.store.all_readings()[src.name]}

    with time_machine.travel(NOW, tick=False) as traveller:
        assert poll(c, backend.store, config).ok
        assert (live()[FREE_3WD], live()[no_shows]) == (3, 1)
        server.delete("Slot", "f3")  # Wednesday 9.00
        server.delete("Appointment", "a1")  # the no-show, deleted as entered in error
        server.queries.clear()
        for minutes in (1, 30, 59):  # incremental polls: a deletion is not a change they see
            traveller.move_to(NOW + timedelta(minutes=minutes))
            assert poll(c, backend.store, config).ok
            assert (live()[FREE_3WD], live()[no_shows]) == (3, 1)
        assert all("_lastUpdated" in q for _t, q in server.queries)
        server.queries.clear()
        traveller.move_to(NOW + timedelta(minutes=60))  # the full poll is due
        assert poll(c, backend.store, config).ok
        assert not any("_lastUpdated" in q for _t, q in server.queries)
        by_hand = {"f3", "f4", "f5"}  # day.build's free slots on Wednesday (2) and Thursday
        assert live()[FREE_3WD] == len(by_hand & set(server.resources["Slot"])) == 2
        assert live()[no_shows] == 0
        server.queries.clear()
        traveller.move_to(NOW + timedelta(minutes=61))  # and incremental again after it
        assert poll(c, backend.store, config).ok
        assert all("_lastUpdated" in q for _t, q in server.queries)


def test_a_failed_full_poll_keeps_the_figures_and_is_tried_again_at_the_next_poll(server: FhirServer):
    c = FhirCollector(source(server.url, full_poll_minutes=15), TZ,
                      FhirClient(server.url, timeout=1, retries=0, breaker=Breaker(threshold=100)))
    assert values(c.normalise(c.fetch(NOW), NOW))[FREE_3WD] == 3
    server.delete("Slot", "f3")
    server.fault = "500"
    due = NOW + timedelta(minutes=15)
    with pytest.raises(SourceUnavailable):
        c.fetch(due)
    assert len(c.snapshot.slots) == 7  # what was kept stands: nothing half-replaced
    server.fault = None
    server.queries.clear()
    later = due + timedelta(seconds=30)
    assert values(c.normalise(c.fetch(later), later))[FREE_3WD] == 2
    assert not any("_lastUpdated" in q for _t, q in server.queries)  # full, not put off an hour


@pytest.mark.store
def test_two_free_slots_in_90_days_reach_the_snapshot_and_history_as_beyond_the_horizon(
    backend: Backend, config: Config, empty_server: FhirServer
):
    from tests.siteclock import pin_site_clock

    s = empty_server
    now = NOW  # the poll here and the snapshot command both read the site clock, pinned
    pin_site_clock(backend.store, now)
    today = now.date()
    s.put(SCHEDULE, now - timedelta(hours=1))
    s.put(slot("f1", on(today + timedelta(days=3))), now - timedelta(hours=1))
    s.put(slot("f2", on(today + timedelta(days=60))), now - timedelta(hours=1))
    src = source(s.url)
    config = config.model_copy(update={"sources": [*config.sources, src]})
    assert poll(FhirCollector(src, TZ, FhirClient(s.url, timeout=1, retries=0)), backend.store, config).ok
    drain(backend.store, backend.history)
    snap = cli("snapshot", "--display", "johto", "--json", "--config", str(EXAMPLE_CONFIG), env=backend.cli_env())
    assert snap.returncode == 0, snap.stderr
    tile = next(t for t in json.loads(snap.stdout)["tiles"]
                if (t["metric"], t["unit"], t["key"]) == T3)
    assert (tile["value"], tile.get("bound"), tile["source"]) == (90, "above", "potilastiedot")
    recorded = [row for row in backend.history.changes("appointments.t3_days", "vastaanotto")
                if row.key == "lääkäri"]
    assert [float(row.value) for row in recorded] == [90.0]  # recorded as the horizon, not missing


def test_a_full_poll_is_due_on_a_new_day_after_full_poll_minutes_and_when_the_clock_goes_back(server: FhirServer):
    c = collector(server.url, full_poll_minutes=60)
    assert c.full_due(NOW)  # nothing read yet
    c.fetch(NOW)
    assert not c.full_due(NOW + timedelta(minutes=59, seconds=59))
    assert c.full_due(NOW + timedelta(minutes=60))
    assert c.full_due(NOW - timedelta(minutes=1))  # a clock set back: what is kept may be ahead of it
    daily = collector(server.url, full_poll_minutes=1440)
    evening = datetime.combine(TUESDAY, time(23, 50), tzinfo=TZ)
    daily.fetch(evening)
    assert not daily.full_due(evening + timedelta(minutes=9))
    assert daily.full_due(evening + timedelta(minutes=11))  # Wednesday 0.01: a new day starts full
