"""The `fhir` source: polls Appointment, Encounter, Slot and Schedule of today (and the slots
of the coming working days) and keeps them between polls; after the first full poll only
what changed since the last one is asked for (`_lastUpdated`)."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from collectors.fhir.client import Auth, FhirClient
from collectors.fhir.normalise import Normaliser, Outcome, Snapshot
from dashboard.config import Source
from dashboard.readings import Reading

SLOT_DAYS = 14  # enough calendar days ahead for 3 working days and a T3 over holidays


class FhirCollector:
    def __init__(self, source: Source, tz: ZoneInfo, client: FhirClient | None = None):
        self.source = source
        self.tz = tz
        self.client = client or FhirClient(source.address or "", _auth(source), timeout=source.timeout_seconds)
        self.normaliser = Normaliser(source.name, source.unit_map, tz, source.profession_map)
        self.snapshot = Snapshot()
        self.day: date | None = None
        self.since: datetime | None = None
        self.last: Outcome | None = None

    def fetch(self, now: datetime) -> Snapshot:
        today = now.astimezone(self.tz).date()
        if self.day != today:  # a new day: start from a full poll
            self.snapshot, self.day, self.since = Snapshot(), today, None
        start = datetime.combine(today, datetime.min.time(), tzinfo=self.tz)
        asked_at = now
        searches: list[tuple[str, dict[str, Any]]] = [
            ("Encounter", {"date": f"ge{start.isoformat()}"}),
            ("Appointment", {"date": [f"ge{start.isoformat()}", f"lt{(start + timedelta(days=1)).isoformat()}"]}),
            ("Slot", {"start": [f"ge{start.isoformat()}", f"lt{(start + timedelta(days=SLOT_DAYS)).isoformat()}"]}),
            ("Schedule", {}),
        ]
        fresh = Snapshot(**{k: dict(v) for k, v in vars(self.snapshot).items()})
        for resource_type, params in searches:
            query = {**params, "_count": 100}
            if self.since is not None:
                query["_lastUpdated"] = f"gt{self.since.isoformat()}"
            for resource in self.client.search(resource_type, query):
                fresh.add(resource)
        self.snapshot, self.since = fresh, asked_at - timedelta(seconds=5)  # clock skew margin
        return fresh

    def normalise(self, raw: Snapshot, now: datetime) -> list[Reading]:
        self.last = self.normaliser(raw, now)
        return self.last.readings

    def status_extra(self) -> dict[str, Any]:
        if self.last is None:
            return {}
        unmapped = sum(self.last.unmapped.values())
        detail = "; ".join(f"{reason}: {n}" for reason, n in self.last.unmapped.most_common(5))
        return {"items_read": self.last.items, "items_unmapped": unmapped, "unmapped_detail": detail}


def _auth(source: Source) -> Auth:
    token = os.environ.get(source.token_env) if source.token_env else None
    secret = os.environ.get(source.client_secret_env) if source.client_secret_env else None
    return Auth(token=token, token_url=source.token_url, client_id=source.client_id,
                client_secret=secret)
