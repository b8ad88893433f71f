"""The `fhir` source: polls Appointment, Encounter, Slot and Schedule of today (and the slots
ahead: the look-ahead horizon for T3, at least through the third working day) and keeps them
between polls.

Most polls are incremental: only what changed since the last one is asked for
(`_lastUpdated`). An incremental search never returns a deleted resource, nor one that has
moved out of the search's date window, so what it once saw would stay in the figures for
good. A full poll — the same searches without `_lastUpdated`, its answer replacing what was
kept — is made at the first poll of each day and whenever `full_poll_minutes` (default 60)
have passed since the last full poll began; a deleted appointment or slot (or one marked
entered-in-error) then leaves the figures within that time.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from collectors.access import CaseWriter
from collectors.fhir.cases import case_records, fetch_case_resources
from collectors.fhir.client import Auth, FhirClient
from collectors.fhir.normalise import Normaliser, Outcome, Snapshot
from dashboard.config import Source
from dashboard.domain.clock import next_working_days
from dashboard.domain.readings import Reading

SKEW = timedelta(seconds=5)  # clock skew margin of `_lastUpdated`


class FhirCollector:
    def __init__(self, source: Source, tz: ZoneInfo, client: FhirClient | None = None):
        self.source = source
        self.tz = tz
        self.client = client or FhirClient(source.address or "", _auth(source), timeout=source.timeout_seconds)
        self.normaliser = Normaliser(source.name, source.unit_map, tz, source.profession_map,
                                     horizon_days=source.slot_horizon_days)
        self.snapshot = Snapshot()
        self.day: date | None = None
        self.since: datetime | None = None
        self.full_at: datetime | None = None  # when the last full poll began
        self.last: Outcome | None = None
        # access-to-care cases (a source with `service_map`): set by the registry
        self.cases: CaseWriter | None = None
        self.case_resources: tuple[list[Any], list[Any], list[Any]] | None = None

    def full_due(self, now: datetime) -> bool:
        """A new day, no full poll yet, `full_poll_minutes` since the last one, or a clock
        that went back."""
        if self.full_at is None or self.day != now.astimezone(self.tz).date():
            return True
        return not self.full_at <= now < self.full_at + timedelta(minutes=self.source.full_poll_minutes)

    def slot_window(self, today: date) -> tuple[datetime, datetime]:
        """From the start of today to the end of the later of: the horizon's last day (today +
        horizon) and the third working day (free_3wd)."""
        last = max(today + timedelta(days=self.source.slot_horizon_days), next_working_days(today, 3)[-1])
        return self._midnight(today), self._midnight(last + timedelta(days=1))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def fetch(self, now: datetime) -> Snapshot:
        today = now.astimezone(self.tz).date()
        full = self.full_due(now)
        start = self._midnight(today)
        slots_from, slots_until = self.slot_window(today)
        searches: list[tuple[str, dict[str, Any]]] = [
            ("Encounter", {"date": f"ge{start.isoformat()}"}),
            ("Appointment", {"date": [f"ge{start.isoformat()}", f"lt{self._midnight(today + timedelta(days=1)).isoformat()}"]}),
            ("Slot", {"start": [f"ge{slots_from.isoformat()}", f"lt{slots_until.isoformat()}"]}),
            ("Schedule", {}),
        ]
        # a full poll starts empty and replaces what was kept; an incremental one adds to it
        fresh = Snapshot() if full else Snapshot(**{k: dict(v) for k, v in vars(self.snapshot).items()})
        for resource_type, params in searches:
            query = {**params, "_count": 100}
            if not full and self.since is not None:
                query["_lastUpdated"] = f"gt{self.since.isoformat()}"
            for resource in self.client.search(resource_type, query):
                fresh.add(resource)
        # access-to-care cases at each full poll: ServiceRequests authored within `case_days`,
        # the Appointments based on them and their patients' birth dates
        cases = None
        if self.cases is not None and full:
            cases = fetch_case_resources(self.client, today - timedelta(days=self.source.case_days), tz=self.tz)
        # only a poll that got through changes what is kept (a failed full poll is retried)
        self.case_resources = cases
        self.snapshot, self.since = fresh, now - SKEW
        if full:
            self.full_at, self.day = now, today
        return fresh

    def normalise(self, raw: Snapshot, now: datetime) -> list[Reading]:
        self.last = self.normaliser(raw, now)
        if self.cases is not None and self.case_resources is not None:
            requests, appointments, patients = self.case_resources
            records, skipped = case_records(requests, appointments, patients, self.source.service_map,
                                            self.source.unit_map, self.tz, now.astimezone(self.tz).date())
            self.cases.take(records, now.astimezone(self.tz).date())
            self.cases.bad.update({f"ServiceRequest: {why}": n for why, n in skipped.items()})
            self.cases.read += sum(skipped.values())  # read, and left out: bad
            self.case_resources = None
        if self.cases is not None:
            return self.last.readings + self.cases.readings(now, self.tz)
        return self.last.readings

    def status_extra(self) -> dict[str, Any]:
        if self.last is None:
            return {}
        unmapped = sum(self.last.unmapped.values())
        detail = "; ".join(f"{reason}: {n}" for reason, n in self.last.unmapped.most_common(5))
        out: dict[str, Any] = {"items_read": self.last.items, "items_unmapped": unmapped, "unmapped_detail": detail}
        if self.cases is not None:
            out.update(self.cases.status())
        return out


def _auth(source: Source) -> Auth:
    token = os.environ.get(source.token_env) if source.token_env else None
    secret = os.environ.get(source.client_secret_env) if source.client_secret_env else None
    return Auth(token=token, token_url=source.token_url, client_id=source.client_id,
                client_secret=secret)
