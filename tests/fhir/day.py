"""A small day of a health centre in FHIR R4, written from the specification, with the
personal data a real system carries (names, henkilötunnus, patient references, free text)
so the tests can check that none of it passes the collector."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from tests.fhir.server import FhirServer

HETU = "131052-308T"
NAME = "Iida Esimerkki"
LOCATION = "Location/terveysasema-vo"
LAB = "HealthcareService/laboratorio-1"


def patient(n: int) -> dict[str, Any]:
    return {"reference": f"Patient/p{n}", "display": f"{NAME} {n}",
            "identifier": {"system": "urn:oid:1.2.246.21", "value": HETU}}


def encounter(eid: str, status: str, arrived: datetime, *, called: datetime | None = None,
              ended: datetime | None = None, where: str = LOCATION, n: int = 1) -> dict[str, Any]:
    history = [{"status": "arrived", "period": {"start": arrived.isoformat(),
                                                 **({"end": called.isoformat()} if called else {})}}]
    if called:
        history.append({"status": "in-progress", "period": {"start": called.isoformat()}})
    return {
        "resourceType": "Encounter", "id": eid, "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "serviceType": {"coding": [{"display": "Päivystys"}]},
        "subject": patient(n), "statusHistory": history,
        "period": {"start": arrived.isoformat(), **({"end": ended.isoformat()} if ended else {})},
        "location": [{"location": {"reference": where, "display": "Kivikon terveysasema"}}],
        "reasonCode": [{"text": f"{NAME} kertoo rintakivusta, hetu {HETU}"}],
    }


def build(day_start: datetime) -> list[dict[str, Any]]:
    at = lambda h, m=0: day_start + timedelta(hours=h, minutes=m)  # noqa: E731
    out: list[dict[str, Any]] = [
        encounter("e1", "finished", at(8, 5), called=at(8, 20), ended=at(8, 40), n=1),
        encounter("e2", "in-progress", at(9, 10), called=at(9, 50), n=2),
        encounter("e3", "arrived", at(9, 30), n=3),
        encounter("e4", "triaged", at(9, 45), n=4),
        encounter("e5", "arrived", at(9, 40), where=LAB, n=5),
        encounter("e6", "arrived", at(9, 41), where="Location/unknown-place", n=6),
        encounter("e7", "some-new-status", at(9, 42), n=7),
        encounter("old", "finished", at(-30), ended=at(-29), n=8),
        {"resourceType": "Appointment", "id": "a1", "status": "noshow", "start": at(8, 30).isoformat(),
         "end": at(9).isoformat(), "description": f"Kontrolli, {NAME}",
         "participant": [{"actor": patient(9), "status": "accepted"},
                         {"actor": {"reference": LOCATION}, "status": "accepted"}]},
        {"resourceType": "Appointment", "id": "a2", "status": "booked", "start": at(13).isoformat(),
         "end": at(13, 30).isoformat(),
         "participant": [{"actor": patient(10), "status": "accepted"}, {"actor": {"reference": LOCATION}}]},
        {"resourceType": "Schedule", "id": "s-laakari", "active": True,
         "specialty": [{"coding": [{"system": "http://snomed.info/sct", "code": "394814009", "display": "General practice"}]}],
         "actor": [{"reference": "Practitioner/pr1", "display": "Dr. Aili Lääkäri"}, {"reference": LOCATION}]},
    ]
    free = [at(10, 30), at(11), at(14), at(24 + 9), at(24 + 10), at(48 + 9), at(-1)]  # -1 h: past
    for i, start in enumerate(free):
        out.append({"resourceType": "Slot", "id": f"f{i}", "status": "free", "schedule": {"reference": "Schedule/s-laakari"},
                    "start": start.isoformat(), "end": (start + timedelta(minutes=20)).isoformat()})
    out.append({"resourceType": "Slot", "id": "b1", "status": "busy", "schedule": {"reference": "Schedule/s-laakari"},
                "start": at(10).isoformat(), "end": at(10, 20).isoformat()})
    return out



@contextmanager
def serve_day(now: datetime, page_size: int = 50) -> Iterator[FhirServer]:
    """Our FHIR server holding the day of `now` (built from that day's midnight, in the zone
    `now` is given in), last updated an hour before `now`; stopped after. A test pins its
    clock to `now`: the server's day is then the collector's today, whatever the hour."""
    s = FhirServer(page_size=page_size)
    for resource in build(now.replace(hour=0, minute=0, second=0, microsecond=0)):
        s.put(resource, now - timedelta(hours=1))
    try:
        yield s
    finally:
        s.stop()
