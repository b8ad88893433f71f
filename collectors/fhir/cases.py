"""Access-to-care ("hoitotakuu") cases from FHIR R4: one person's path through one service.

A case is a `ServiceRequest` (the care-need assessment: its `authoredOn`) with the
`Appointment`s whose `basedOn` point to it (the start of treatment) and its subject's
`Patient` (only the birth date, for an age group). `case_records` is pure and turns them into
plain records; `fetch_case_resources` asks a FHIR server for them.

What each date of a record is taken from:
- `assessment` — `ServiceRequest.authoredOn` ("when the request transitioned to being
  actionable"), the day the need for care was assessed and the request made.
- `start` — the earliest `Appointment.start` among the Appointments `basedOn` the
  ServiceRequest with status booked, arrived, checked-in or fulfilled (a booked one is the
  start agreed on; cancelled, noshow, entered-in-error, and proposed/pending/waitlist ones,
  which have no agreed time, are left out).
- `contact` — always None. FHIR R4 has no element for the first contact with the service:
  ServiceRequest carries `authoredOn` (the request) and `occurrence[x]` (when the service is
  wanted, not when the person got in touch), Appointment its `created`. The HL7 Finland
  Scheduling IG (2.0.0-rc3) adds to Appointment only a `care-guarantee-details` extension
  whose value is a free string with no defined content (it is not read: free text may carry
  personal data) and `referral-id`, an identifier. Neither is a contact date, and guessing
  one (say `Appointment.created`) would give figures that look right and are not.
- `decision` — always None: in health care the assessment is the decision to treat; a
  separate decision date belongs to social care, which FHIR does not give us.

Dates are the site's local dates: a dateTime with an offset is converted to `tz` and its date
taken ("2026-03-14T22:30:00+00:00" is 15.3. in Helsinki); a plain date is as written.

The service is found from the codings of `ServiceRequest.code`, then of `category`, each
looked up in `service_map` by "system|code" and then by the bare code; the first found wins
(the code is the more specific). The unit is found from `performer` references (in order),
then `locationReference` (R4's place for a requested Location, which cannot be a performer),
then `requester` — each tried in `unit_map` as the reference as written ("Organization/1"
or a full URL), its "Type/id" tail, the bare id, and its identifier as "system|value" and as
the value. `priority` urgent, asap or stat makes a case urgent.

ServiceRequests left out are counted by reason: "entered-in-error", "revoked", "no id",
"no subject", "unknown service", "unmapped unit". A case whose Patient was not found, or
whose birth date is partial ("1970" or "1970-05"), has `birth_date` None.

Privacy: a record holds the ServiceRequest id, the unit, the service, dates and the birth
date — no names, identity codes, patient references or free text. The birth date goes
nowhere but the record; the caller turns it into an age group and drops it.
`fetch_case_resources` keeps only `id` and `birthDate` of each Patient.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from collectors.fhir.client import FhirClient
from collectors.fhir.normalise import parse_time

Resource = dict[str, Any]
URGENT = {"urgent", "asap", "stat"}
STARTED = {"booked", "arrived", "checked-in", "fulfilled"}  # an Appointment that counts as a start
SKIPPED_STATUSES = {"entered-in-error", "revoked"}
CHUNK = 50  # ids in one `based-on` / `_id` search (a URL of a few kB at most)
UTC = ZoneInfo("UTC")


# -- reading references, codes and dates -------------------------------------------------------

def _reference_parts(reference: Any) -> list[str]:
    """"Organization/1", "https://x/fhir/Organization/1/_history/2" → ["...", "Organization", "1"]."""
    if not isinstance(reference, str) or not reference or reference.startswith("#"):
        return []
    return reference.split("/_history/")[0].rstrip("/").split("/")


def _ref_id(ref: Any, resource_type: str) -> str | None:
    """The id a reference points to, if it points to a `resource_type`."""
    parts = _reference_parts(ref.get("reference") if isinstance(ref, dict) else None)
    if len(parts) >= 2 and parts[-2] == resource_type and parts[-1]:
        return parts[-1]
    return None


def _ref_keys(ref: Any) -> list[str]:
    """The keys a reference is looked up by in `unit_map`, the most exact first."""
    if not isinstance(ref, dict):
        return []
    keys: list[str] = []
    written = ref.get("reference")
    parts = _reference_parts(written)
    if parts:
        keys.append(str(written))
        keys.append("/".join(parts))
        keys.append("/".join(parts[-2:]))
        keys.append(parts[-1])
    ident = ref.get("identifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"]:
        if isinstance(ident.get("system"), str) and ident["system"]:
            keys.append(f"{ident['system']}|{ident['value']}")
        keys.append(ident["value"])
    return keys


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _codings(*concepts: Any) -> Iterator[dict[str, Any]]:
    for concept in concepts:
        for item in _as_list(concept):
            if isinstance(item, dict):
                for coding in item.get("coding") or []:
                    if isinstance(coding, dict):
                        yield coding


def _service(request: Resource, service_map: dict[str, str]) -> str | None:
    for coding in _codings(request.get("code"), request.get("category")):
        code = coding.get("code")
        if not isinstance(code, str) or not code:
            continue
        system = coding.get("system")
        if isinstance(system, str) and system and f"{system}|{code}" in service_map:
            return service_map[f"{system}|{code}"]
        if code in service_map:
            return service_map[code]
    return None


def _unit(request: Resource, unit_map: dict[str, str]) -> str | None:
    refs = [*_as_list(request.get("performer")), *_as_list(request.get("locationReference")),
            *_as_list(request.get("requester"))]
    for ref in refs:
        for key in _ref_keys(ref):
            if key in unit_map:
                return unit_map[key]
    return None


def local_date(value: Any, tz: ZoneInfo) -> str | None:
    """A FHIR date or dateTime as the site's local date "YYYY-MM-DD"; None for a partial
    date ("2026", "2026-03") or what is not a date."""
    moment = parse_time(value, tz)
    return moment.astimezone(tz).date().isoformat() if moment else None


def _birth_date(patient: Resource | None) -> str | None:
    value = (patient or {}).get("birthDate")
    if not isinstance(value, str) or len(value) != 10:
        return None  # absent, or partial: a year, or a year and month
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _based_on(appointment: Resource) -> set[str]:
    ids = {_ref_id(ref, "ServiceRequest") for ref in _as_list(appointment.get("basedOn"))}
    return {i for i in ids if i}


# -- the records -------------------------------------------------------------------------------

def case_records(service_requests: list[Resource], appointments: list[Resource],
                 patients: list[Resource], service_map: dict[str, str], unit_map: dict[str, str],
                 tz: ZoneInfo, today: date | None = None) -> tuple[list[dict[str, Any]], Counter[str]]:
    """One record per ServiceRequest kept, and the ServiceRequests left out by reason. With
    `today`, an appointment booked for a later day is not a start yet: the case is open,
    waiting (and may be past its limit), not a case with a date in the future."""
    skipped: Counter[str] = Counter()
    births = {str(p["id"]): _birth_date(p) for p in patients
              if isinstance(p, dict) and p.get("resourceType", "Patient") == "Patient" and p.get("id")}
    starts: dict[str, tuple[float, str]] = {}  # ServiceRequest id -> earliest start (instant, local date)
    for appt in appointments:
        if not isinstance(appt, dict) or appt.get("status") not in STARTED:
            continue
        moment = parse_time(appt.get("start"), tz)
        if moment is None:
            continue
        if today is not None and moment.astimezone(tz).date() > today:
            continue
        when = (moment.timestamp(), moment.astimezone(tz).date().isoformat())
        for request_id in _based_on(appt):
            if request_id not in starts or when < starts[request_id]:
                starts[request_id] = when
    latest: dict[str, Resource] = {}
    for request in service_requests:
        if not isinstance(request, dict):
            continue
        if not request.get("id"):
            skipped["no id"] += 1
            continue
        latest[str(request["id"])] = request  # a later version of the same request replaces it
    records: list[dict[str, Any]] = []
    for request_id, request in latest.items():
        status = request.get("status")
        if status in SKIPPED_STATUSES:
            skipped[str(status)] += 1
            continue
        subject = request.get("subject")
        if not isinstance(subject, dict) or not (subject.get("reference") or subject.get("identifier")):
            skipped["no subject"] += 1
            continue
        service = _service(request, service_map)
        if service is None:
            skipped["unknown service"] += 1
            continue
        unit = _unit(request, unit_map)
        if unit is None:
            skipped["unmapped unit"] += 1
            continue
        patient_id = _ref_id(subject, "Patient")
        start = starts.get(request_id)
        records.append({
            "case": request_id,
            "unit": unit,
            "service": service,
            "birth_date": births.get(patient_id) if patient_id else None,
            "urgent": request.get("priority") in URGENT,
            "contact": None,
            "assessment": local_date(request.get("authoredOn"), tz),
            "decision": None,
            "start": start[1] if start else None,
        })
    return records, skipped


# -- fetching ----------------------------------------------------------------------------------

def _chunks(ids: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    batch: list[str] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _authored_since(request: Resource, since: date, tz: ZoneInfo | None) -> bool:
    moment = parse_time(request.get("authoredOn"), tz or UTC)
    if moment is None:
        return False  # a server applying `authored=ge` would not have matched it either
    day = moment.astimezone(tz).date() if tz else moment.date()
    return day >= since


def fetch_case_resources(client: FhirClient, since: date, *, tz: ZoneInfo | None = None
                         ) -> tuple[list[Resource], list[Resource], list[Resource]]:
    """ServiceRequests authored on or after `since`, the Appointments based on them and their
    subjects' Patients (only `id` and `birthDate` kept) — every page of every search.

    `since` is a local date of `tz` (pass the site's zone; without it, the date as written in
    each authoredOn). The server is asked from the day before (its `authored=ge<date>` is in
    its own zone) and the answer is filtered here exactly.

    Servers differ in what search parameters they honour, and one may ignore any of them; so
    everything is filtered here as well: ServiceRequests by authoredOn, Appointments by their
    `basedOn`, Patients by id. The Patients come with the ServiceRequests by
    `_include=ServiceRequest:subject`; those an answer did not include (a server without
    `_include`) are asked for by `Patient?_id=a,b,c`. Appointments are searched by
    `based-on` (an R4 Appointment search parameter), at most 50 ServiceRequests a search."""
    requests: dict[str, Resource] = {}
    included: dict[str, Resource] = {}
    params = {"authored": f"ge{(since - timedelta(days=1)).isoformat()}",
              "_include": "ServiceRequest:subject", "_count": 100}
    for resource in client.search("ServiceRequest", params):
        kind, rid = resource.get("resourceType"), resource.get("id")
        if not rid:
            continue
        if kind == "ServiceRequest" and _authored_since(resource, since, tz):
            requests[str(rid)] = resource
        elif kind == "Patient":
            included[str(rid)] = _minimal_patient(resource)
    appointments: dict[str, Resource] = {}
    for batch in _chunks(requests):
        query = {"based-on": ",".join(f"ServiceRequest/{i}" for i in batch), "_count": 100}
        wanted = set(batch)
        for resource in client.search("Appointment", query):
            if resource.get("resourceType") == "Appointment" and resource.get("id") and _based_on(resource) & wanted:
                appointments[str(resource["id"])] = resource
    needed = {pid for r in requests.values() if (pid := _ref_id(r.get("subject"), "Patient"))}
    patients = {pid: included[pid] for pid in needed if pid in included}
    missing = sorted(needed - set(patients))
    for batch in _chunks(missing):
        wanted = set(batch)
        for resource in client.search("Patient", {"_id": ",".join(batch), "_count": 100}):
            rid = str(resource.get("id", ""))
            if resource.get("resourceType") == "Patient" and rid in wanted:
                patients[rid] = _minimal_patient(resource)
    return list(requests.values()), list(appointments.values()), list(patients.values())


def _minimal_patient(patient: Resource) -> Resource:
    """All a case needs of a Patient; names, identity codes and addresses are not kept."""
    out: Resource = {"resourceType": "Patient", "id": patient.get("id")}
    if "birthDate" in patient:
        out["birthDate"] = patient["birthDate"]
    return out
