"""Access-to-care cases from FHIR R4: the pure records (hand-built resources and the public HL7
examples) and the fetch against our test FHIR server, with and without `_include`."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest

from collectors.fhir.cases import case_records, fetch_case_resources, local_date
from collectors.fhir.client import FhirClient
from tests.conftest import SHARED
from tests.fhir.server import FhirServer

TZ = ZoneInfo("Europe/Helsinki")
EXAMPLES = SHARED / "fixtures" / "fhir-r4-examples"
HETU = "131052-308T"
SNOMED = "http://snomed.info/sct"
SERVICE_MAP = {f"{SNOMED}|394814009": "lääkäri", "hammas": "suun terveydenhuolto",
               "gp": "lääkäri"}
UNIT_MAP = {"Organization/tk-kivikko": "kivikko", "HealthcareService/hammashoitola": "hammas",
            "urn:oid:1.2.246.10.1234|567": "malmi", "Location/1": "etelä"}
UPDATED = datetime(2026, 3, 1, 12, 0, tzinfo=TZ)


def service_request(rid: str, authored: str | None = "2026-03-10T09:00:00+02:00", *,
                    status: str = "active", priority: str | None = "routine", patient: str = "p1",
                    code: str = "394814009", system: str | None = SNOMED,
                    performer: str | None = "Organization/tk-kivikko", **extra: Any) -> dict[str, Any]:
    coding = {"code": code, "display": "Yleislääkäri", **({"system": system} if system else {})}
    return {"resourceType": "ServiceRequest", "id": rid, "status": status, "intent": "order",
            "code": {"coding": [coding]},
            "subject": {"reference": f"Patient/{patient}", "display": "Iida Esimerkki"},
            "note": [{"text": f"Iida Esimerkki, hetu {HETU}, soitti selkäkivusta"}],
            **({"authoredOn": authored} if authored else {}),
            **({"priority": priority} if priority else {}),
            **({"performer": [{"reference": performer}]} if performer else {}), **extra}


def appointment(aid: str, status: str, start: str | None, *based_on: str) -> dict[str, Any]:
    return {"resourceType": "Appointment", "id": aid, "status": status,
            **({"start": start} if start else {}),
            "basedOn": [{"reference": f"ServiceRequest/{b}"} for b in based_on],
            "participant": [{"actor": {"reference": "Patient/p1", "display": "Iida Esimerkki"},
                             "status": "accepted"}]}


def patient(pid: str, birth: str | None = "1952-10-13") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid,
            "identifier": [{"system": "urn:oid:1.2.246.21", "value": HETU}],
            "name": [{"family": "Esimerkki", "given": ["Iida"]}],
            "address": [{"line": ["Kivikonkaari 1"], "city": "Helsinki"}],
            **({"birthDate": birth} if birth else {})}


def records(requests: list[dict[str, Any]], appointments: list[dict[str, Any]] | None = None,
            patients: list[dict[str, Any]] | None = None) -> tuple[dict[str, dict[str, Any]], Counter[str]]:
    out, skipped = case_records(requests, appointments or [], patients or [], SERVICE_MAP, UNIT_MAP, TZ)
    return {r["case"]: r for r in out}, skipped


# -- the pure records --------------------------------------------------------------------------

def test_a_case_is_one_plain_record_with_nothing_personal_in_it():
    got, skipped = records([service_request("s1")], [appointment("a1", "booked", "2026-04-02T10:00:00+03:00", "s1")],
                           [patient("p1")])
    assert got == {"s1": {"case": "s1", "unit": "kivikko", "service": "lääkäri", "birth_date": "1952-10-13",
                          "urgent": False, "contact": None, "assessment": "2026-03-10", "decision": None,
                          "start": "2026-04-02"}}
    assert skipped == Counter()
    text = json.dumps(got)
    assert HETU not in text and "Iida" not in text and "Patient/" not in text


def test_an_instant_near_midnight_utc_is_the_next_day_in_helsinki():
    got, _ = records([service_request("s1", "2026-03-14T22:30:00+00:00"),  # 00.30 on 15.3. (UTC+2)
                      service_request("s2", "2026-03-14T21:59:59Z"),  # 23.59.59 on 14.3.
                      service_request("s3", "2026-03-14")],  # a plain date is as written
                     [appointment("a1", "booked", "2026-03-31T21:15:00+00:00", "s1"),  # 00.15 on 1.4. (UTC+3)
                      appointment("a2", "arrived", "2026-03-31T20:59:00+00:00", "s2")])
    assert got["s1"]["assessment"] == "2026-03-15" and got["s1"]["start"] == "2026-04-01"
    assert got["s2"]["assessment"] == "2026-03-14" and got["s2"]["start"] == "2026-03-31"
    assert got["s3"]["assessment"] == "2026-03-14"
    assert local_date("2026-03", TZ) is None and local_date(None, TZ) is None


def test_the_earliest_valid_appointment_is_the_start_and_cancelled_ones_are_ignored():
    appts = [
        appointment("cancelled", "cancelled", "2026-03-20T09:00:00+02:00", "s1"),
        appointment("noshow", "noshow", "2026-03-21T09:00:00+02:00", "s1"),
        appointment("error", "entered-in-error", "2026-03-22T09:00:00+02:00", "s1"),
        appointment("proposed", "proposed", "2026-03-23T09:00:00+02:00", "s1"),
        appointment("later", "booked", "2026-04-10T09:00:00+03:00", "s1"),
        appointment("fulfilled", "fulfilled", "2026-04-05T09:00:00+03:00", "s1"),
        appointment("checked-in", "checked-in", "2026-04-07T09:00:00+03:00", "s1"),
        appointment("no-start", "booked", None, "s1"),
        appointment("other", "booked", "2026-03-11T09:00:00+02:00", "s2"),
        {**appointment("absolute", "arrived", "2026-03-12T09:00:00+02:00"),
         "basedOn": [{"reference": "https://fhir.example/fhir/ServiceRequest/s3/_history/2"}]},
    ]
    got, _ = records([service_request("s1"), service_request("s2"), service_request("s3"),
                      service_request("s4")], appts)
    assert got["s1"]["start"] == "2026-04-05"  # the cancelled, no-show, erroneous and proposed ones earlier are not starts
    assert got["s2"]["start"] == "2026-03-11"
    assert got["s3"]["start"] == "2026-03-12"
    assert got["s4"]["start"] is None  # no appointment yet: still waiting


def test_urgent_asap_and_stat_are_urgent():
    got, _ = records([service_request(f"s-{p}", priority=p) for p in ("urgent", "asap", "stat", "routine")]
                     + [service_request("s-none", priority=None)])
    assert {k: v["urgent"] for k, v in got.items()} == {
        "s-urgent": True, "s-asap": True, "s-stat": True, "s-routine": False, "s-none": False}


def test_what_cannot_be_mapped_or_was_withdrawn_is_counted_not_kept():
    got, skipped = records([
        service_request("ok"),
        service_request("nowhere", performer="Organization/unknown"),
        service_request("no-performer", performer=None),
        service_request("what", code="999", system="http://example.org/other"),
        service_request("error", status="entered-in-error"),
        service_request("revoked", status="revoked"),
        {**service_request("nobody"), "subject": None},
        {**service_request("no-id"), "id": None},
    ])
    assert set(got) == {"ok"}
    assert skipped == Counter({"unmapped unit": 2, "unknown service": 1, "entered-in-error": 1,
                               "revoked": 1, "no subject": 1, "no id": 1})


def test_services_and_units_are_found_by_every_way_the_config_may_name_them():
    got, _ = records([
        # a bare code (no system); the unit by the performer's identifier
        {**service_request("s1", code="hammas", system=None, performer=None),
         "performer": [{"identifier": {"system": "urn:oid:1.2.246.10.1234", "value": "567"}}]},
        # code unmapped, category mapped; a full-URL performer
        {**service_request("s2", code="unknown", performer="https://fhir.example/fhir/HealthcareService/hammashoitola"),
         "category": [{"coding": [{"system": "http://example.org/service-category", "code": "gp"}]}]},
        # no performer: the requested location, then the requesting organisation
        {**service_request("s3", performer=None), "locationReference": [{"reference": "Location/1"}]},
        {**service_request("s4", performer=None), "requester": {"reference": "Organization/tk-kivikko"}},
        # a performer that is not mapped (a practitioner) is passed over for one that is
        {**service_request("s5", performer=None),
         "performer": [{"reference": "Practitioner/pr1"}, {"reference": "Organization/tk-kivikko"}]},
    ])
    assert {k: (v["service"], v["unit"]) for k, v in got.items()} == {
        "s1": ("suun terveydenhuolto", "malmi"), "s2": ("lääkäri", "hammas"), "s3": ("lääkäri", "etelä"),
        "s4": ("lääkäri", "kivikko"), "s5": ("lääkäri", "kivikko")}


def test_birth_dates_only_when_whole_and_found():
    got, _ = records([service_request("s1", patient="p1"), service_request("s2", patient="p2"),
                      service_request("s3", patient="p3"), service_request("s4", patient="gone"),
                      service_request("s5", authored=None)],
                     patients=[patient("p1"), patient("p2", "1952"), patient("p3", None)])
    assert {k: v["birth_date"] for k, v in got.items()} == {
        "s1": "1952-10-13", "s2": None, "s3": None, "s4": None, "s5": "1952-10-13"}
    assert got["s5"]["assessment"] is None


def test_a_later_version_of_a_request_replaces_the_earlier():
    got, skipped = records([service_request("s1"), service_request("s1", status="entered-in-error")])
    assert got == {} and skipped == Counter({"entered-in-error": 1})


def test_the_public_hl7_appointment_examples():
    examples = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("Appointment-*.json"))}
    assert {"Appointment-example", "Appointment-2docs", "Appointment-examplereq"} <= set(examples)
    # HL7's Appointment/example is basedOn ServiceRequest/myringotomy. No ServiceRequest or
    # Patient example is among the shared fixtures: this one is written here, to R4.
    request = service_request("myringotomy", "2013-10-10", performer="Location/1", code="gp", system=None)
    got, skipped = records([request], list(examples.values()), [patient("p1")])
    assert skipped == Counter()
    # booked, 2013-12-10T09:00:00Z (11.00 in Helsinki); 2docs is based on nothing, examplereq
    # is only proposed and has no start
    assert got["myringotomy"]["start"] == "2013-12-10"
    assert got["myringotomy"]["assessment"] == "2013-10-10" and got["myringotomy"]["unit"] == "etelä"
    # the examples alone, without their request, make no case and do not fail
    assert case_records([], list(examples.values()), [], SERVICE_MAP, UNIT_MAP, TZ) == ([], Counter())


# -- fetching from a FHIR server ---------------------------------------------------------------

class IncludingServer(FhirServer):
    """Our test server (which ignores `_include`) taught `ServiceRequest?_include=
    ServiceRequest:subject` as FHIR has it: each page's matches followed by the Patients they
    refer to, with search mode "include"."""

    def __init__(self, page_size: int = 2):
        super().__init__(page_size)
        store = self.resources
        base: Any = self.httpd.RequestHandlerClass

        class Including(base):  # type: ignore[misc, valid-type]
            def _send(self, code: int, body: Any) -> None:
                url = urlparse(self.path)
                asked = parse_qs(url.query).get("_include", [])
                if code == 200 and url.path.endswith("/ServiceRequest") and "ServiceRequest:subject" in asked:
                    seen: set[str] = set()
                    for entry in list(body["entry"]):
                        ref = (entry["resource"].get("subject") or {}).get("reference", "")
                        pid = ref.split("/")[-1]
                        if ref.startswith("Patient/") and pid in store.get("Patient", {}) and pid not in seen:
                            seen.add(pid)
                            body["entry"].append({"resource": store["Patient"][pid], "search": {"mode": "include"}})
                super()._send(code, body)

        self.httpd.RequestHandlerClass = Including


def load(server: FhirServer, resources: list[dict[str, Any]]) -> FhirServer:
    for resource in resources:
        server.put(resource, UPDATED)
    return server


def a_month() -> list[dict[str, Any]]:
    return [
        service_request("s1", "2026-03-10T09:00:00+02:00", patient="p1"),
        service_request("s2", "2026-03-11", patient="p2", priority="urgent"),
        service_request("s3", "2026-03-12T08:00:00+02:00", patient="p1"),
        service_request("s4", "2026-03-13T08:00:00+02:00", patient="p3", status="entered-in-error"),
        service_request("s5", "2026-03-14T12:00:00+02:00", patient="p4"),
        service_request("old", "2026-02-01T08:00:00+02:00", patient="p9"),  # before `since`
        appointment("a1", "cancelled", "2026-03-12T09:00:00+02:00", "s1"),
        appointment("a2", "booked", "2026-03-20T09:00:00+02:00", "s1"),
        appointment("a3", "fulfilled", "2026-03-18T09:00:00+02:00", "s2"),
        appointment("a4", "booked", "2026-02-10T09:00:00+02:00", "old"),
        appointment("a5", "booked", "2026-03-25T09:00:00+02:00"),  # based on nothing
        patient("p1", "1950-01-01"), patient("p2", "1990-06-30"), patient("p3"), patient("p4", "2010-12-31"),
        patient("p9"), patient("stranger"),
    ]


@pytest.fixture(params=["without _include", "with _include"])
def server(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    s = load(FhirServer(page_size=2) if request.param == "without _include" else IncludingServer(page_size=2),
             a_month())
    yield s
    s.stop()


def client(server: FhirServer) -> FhirClient:
    return FhirClient(server.url, timeout=2.0, retries=0)


def queries(server: FhirServer, rtype: str) -> list[dict[str, list[str]]]:
    return [q for t, q in server.queries if t == rtype]


def test_fetch_follows_every_page_and_keeps_only_what_belongs_to_the_cases(server: FhirServer):
    requests, appointments, patients = fetch_case_resources(client(server), date(2026, 3, 1), tz=TZ)
    assert sorted(r["id"] for r in requests) == ["s1", "s2", "s3", "s4", "s5"]  # "old" is before since
    assert sorted(a["id"] for a in appointments) == ["a1", "a2", "a3"]  # statuses are case_records' to judge
    assert sorted(p["id"] for p in patients) == ["p1", "p2", "p3", "p4"]
    assert all(set(p) <= {"resourceType", "id", "birthDate"} for p in patients)  # no names, no hetu
    # the searches as sent: every page followed (6 requests, 2 a page; more with the Patients included)
    first, *rest = queries(server, "ServiceRequest")
    assert first["authored"] == ["ge2026-02-28"] and first["_include"] == ["ServiceRequest:subject"]
    assert len(rest) == 2 and all(q["_include"] == ["ServiceRequest:subject"] for q in rest)
    based_on = {q["based-on"][0] for q in queries(server, "Appointment")}
    assert based_on == {",".join(f"ServiceRequest/s{i}" for i in range(1, 6))}
    assert len(queries(server, "Appointment")) == 3  # five appointments, two a page

    cases, skipped = case_records(requests, appointments, patients, SERVICE_MAP, UNIT_MAP, TZ)
    got = {c["case"]: (c["birth_date"], c["urgent"], c["assessment"], c["start"]) for c in cases}
    assert got == {"s1": ("1950-01-01", False, "2026-03-10", "2026-03-20"),
                   "s2": ("1990-06-30", True, "2026-03-11", "2026-03-18"),
                   "s3": ("1950-01-01", False, "2026-03-12", None),
                   "s5": ("2010-12-31", False, "2026-03-14", None)}
    assert skipped == Counter({"entered-in-error": 1})


def test_patients_not_included_are_asked_for_by_id():
    s = load(FhirServer(page_size=2), a_month())
    try:
        fetch_case_resources(client(s), date(2026, 3, 1), tz=TZ)
        asked = queries(s, "Patient")
        assert asked and asked[0]["_id"] == ["p1,p2,p3,p4"]
        assert len(asked) == 3  # our server ignores `_id`: all six Patients in pages of two, filtered here
    finally:
        s.stop()


def test_patients_included_are_not_asked_for_again():
    s = load(IncludingServer(page_size=2), a_month())
    try:
        _, _, patients = fetch_case_resources(client(s), date(2026, 3, 1), tz=TZ)
        assert len(patients) == 4 and queries(s, "Patient") == []
    finally:
        s.stop()


def test_appointments_are_asked_for_fifty_requests_at_a_time():
    many = [service_request(f"s{i:02d}", "2026-03-10", patient=f"p{i:02d}") for i in range(51)]
    s = load(IncludingServer(page_size=50), many + [patient(f"p{i:02d}") for i in range(51)]
             + [appointment("a-last", "booked", "2026-03-20T09:00:00+02:00", "s50")])
    try:
        requests, appointments, patients = fetch_case_resources(client(s), date(2026, 3, 1), tz=TZ)
        assert len(requests) == 51 and len(patients) == 51 and [a["id"] for a in appointments] == ["a-last"]
        sizes = sorted(len(q["based-on"][0].split(",")) for q in queries(s, "Appointment"))
        assert sizes == [1, 50]
        assert len(queries(s, "ServiceRequest")) == 2  # 51 requests, 50 a page
    finally:
        s.stop()


def test_since_is_a_local_date_of_the_site():
    late = service_request("late", "2026-02-28T22:30:00+00:00")  # 1.3. 00.30 in Helsinki
    early = service_request("early", "2026-02-28T21:30:00+00:00")  # 28.2. 23.30 in Helsinki
    s = load(FhirServer(page_size=10), [late, early])
    try:
        requests, _, _ = fetch_case_resources(client(s), date(2026, 3, 1), tz=TZ)
        assert [r["id"] for r in requests] == ["late"]
        requests, _, _ = fetch_case_resources(client(s), date(2026, 3, 1))  # without a zone: as written
        assert requests == []
        requests, _, _ = fetch_case_resources(client(s), date(2026, 3, 1) - timedelta(days=1))
        assert sorted(r["id"] for r in requests) == ["early", "late"]
    finally:
        s.stop()


def test_nothing_to_fetch_makes_no_further_searches():
    s = FhirServer(page_size=2)
    try:
        assert fetch_case_resources(client(s), date(2026, 3, 1), tz=TZ) == ([], [], [])
        assert [t for t, _ in s.queries] == ["ServiceRequest"]
    finally:
        s.stop()
