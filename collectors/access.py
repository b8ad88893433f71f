"""The `access` source: access-to-care cases from the patient or client system's report, a CSV
or JSON file or HTTP address (one row per case; PRODUCT.md "Access to care"), read like the
other tabular feeds (collectors/tabular.py: `records`, `fields`, `unit_map`, the secret of
`token_env`, never a spreadsheet).

Each poll reads the whole report; the cases that differ from what this process last wrote go
to the history database (dashboard/domain/accessfigures.py), so a report of 100,000 cases that moved
by ten writes ten. Rows that cannot be a case — a start before the assessment, a date in the
future, an unknown service or unit, a bad date — are counted by reason in the source status,
never fatal and never silently dropped. The case id is turned into an HMAC with the secret of
`case_key_env` and the birth date into an age group here; neither leaves this process.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from collectors.base import SourceUnavailable
from collectors.tabular import TabularCollector, _dig
from dashboard.config import Config, Source
from dashboard.domain.carecases import DATES, BadCase, Case, CaseReader
from dashboard.domain.readings import Reading

FIELDS = ("case", "unit", "service", "birth_date", "age", "urgent", *DATES)
Sink = Callable[[Sequence[Case]], int]
Figures = Callable[[list[str], date], dict[str, tuple[int, int, int]]]


def case_secret(source: Source) -> bytes:
    """The secret the source's case ids are keyed with (the demo's own when it names none)."""
    if source.case_key_env:
        secret = os.environ.get(source.case_key_env)
        if not secret:
            raise SourceUnavailable(f"environment variable {source.case_key_env} is not set")
        return secret.encode("utf-8")
    if source.kind == "demo":
        return f"ohjaustaulu-demo:{source.name}".encode()
    raise SourceUnavailable("name the secret case ids are keyed with: case_key_env")


class CaseWriter:
    """Cases read by a collector, written to the history database when they differ from
    what this process last wrote; the bad rows by reason, for the source status."""

    def __init__(self, source: Source, config: Config):
        self.source = source
        self.config = config
        self.sink: Sink | None = None
        self.figures: Figures | None = None
        self.sent: dict[str, Case] = {}
        self.bad: Counter[str] = Counter()
        self.read = 0
        self.written = 0

    def attach(self, sink: Sink, figures: Figures | None = None) -> None:
        self.sink = sink
        self.figures = figures

    def readings(self, now: datetime, tz: Any) -> list[Reading]:
        """The staff displays' figures of each unit this source reports cases of: this week's
        share within the limit (none before a case has started this week) and the open cases
        past the limit now."""
        units = list(self.source.units) or sorted({c.unit for c in self.sent.values()})
        if self.figures is None or not units:
            return []
        try:
            figures = self.figures(units, now.astimezone(tz).date())
        except Exception as err:  # the database away
            raise SourceUnavailable(f"the history database: {type(err).__name__}: {str(err).splitlines()[0][:200]}") from None
        out = []
        for unit, (started, within, past) in figures.items():
            if started:
                out.append(Reading("access.within_week_pct", unit, "", round(100 * within / started, 1), now,
                                   self.source.name))
            out.append(Reading("access.open_past_limit", unit, "", past, now, self.source.name))
        return out

    def reader(self) -> CaseReader:
        return CaseReader(case_secret(self.source), self.config.access.services,
                          self.config.source_tz(self.source),
                          self.source.unit_map, {u.code for u in self.config.units})

    def take(self, records: Sequence[dict[str, Any]], today: date) -> None:
        reader = self.reader()
        self.bad = Counter()
        self.read = len(records)
        cases: list[Case] = []
        for record in records:
            try:
                cases.append(reader.read(record, today))
            except BadCase as err:
                self.bad[err.reason] += 1
        changed = [c for c in cases if self.sent.get(c.key) != c]
        if self.sink is None:
            raise SourceUnavailable("no history database to write the cases to")
        try:
            self.written = self.sink(changed) if changed else 0
        except Exception as err:  # the database away: the next poll writes them again
            raise SourceUnavailable(f"the history database: {type(err).__name__}: {str(err).splitlines()[0][:200]}") from None
        for c in changed:
            self.sent[c.key] = c

    def status(self) -> dict[str, Any]:
        detail = "; ".join(f"{reason}: {n}" for reason, n in self.bad.most_common(6))
        return {"cases_read": self.read, "cases_bad": sum(self.bad.values()), "cases_bad_detail": detail,
                "cases_written": self.written}


class AccessCollector(TabularCollector):
    """kind = "access": the report's rows through `fields` to cases."""

    def __init__(self, source: Source, config: Config):
        super().__init__(source, config.source_tz(source), timeout=source.timeout_seconds)
        self.cases = CaseWriter(source, config)

    def default_records(self) -> str:
        return "cases"

    def normalise(self, raw: tuple[str, bytes], now: datetime) -> list[Reading]:
        records = self.records(*raw)
        mapped = [{ours: _dig(r, self.source.fields.get(ours, ours)) if isinstance(r, dict) else None
                   for ours in FIELDS} for r in records]
        self.cases.take(mapped, now.astimezone(self.tz).date())
        return self.cases.readings(now, self.tz)

    def status_extra(self) -> dict[str, Any]:
        c = self.cases.status()
        return {**c, "items": c["cases_read"] - c["cases_bad"], "items_read": c["cases_read"], "items_unmapped": c["cases_bad"],
                "unmapped_detail": c["cases_bad_detail"]}
