"""Access to care (PRODUCT.md "Access to care"), the issue's acceptance test: a case file with a
rule change in the middle of the period, weeks with public holidays, month-end deadlines, under-
and over-23s, urgent cases, open cases past the limit and cases reported again goes in through
the `access` source (a CSV report over HTTP and a JSON file) and through the FHIR source, on
SQLite and PostgreSQL; every share, bin, median, percentile and count the figures give equals
an independent computation written here.

The independent computation is deliberately slow and obvious and shares no code with the
product: its own working days (Monday to Friday less what `holidays` lists for Finland), its
own deadline arithmetic written from PRODUCT.md's text, its own choice of the rule version (the
rules read with tomllib from the TOML text the product is configured with), its own age groups,
grouping by week and month, `statistics.median` and `statistics.quantiles(method="inclusive")`.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import random
import statistics
import threading
import tomllib
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import select

from collectors.base import poll
from collectors.registry import collector_for
from collectors.scheduler import connected
from dashboard.config import Config, ConfigError, parse_config
from dashboard.domain import accessfigures
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.storage.tables import AccessCase, AccessJudgement
from tests.conftest import Backend
from tests.fhir.server import FhirServer
from tests.siteclock import pin_site_clock

TZ = ZoneInfo("Europe/Helsinki")
T1 = date(2025, 2, 12)  # the first poll (a Wednesday)
T2 = date(2025, 5, 7)  # the second poll, "today" of the figures (a Wednesday after Easter and May Day)
KEY_ENV = "OHJAUSTAULU_TEST_ACCESS_CASE_KEY"
SECRET = "hoitotakuu-testin-avain-5f1c"
EDGES = [0, 7, 14, 28, 90]
GROUP = ("period", "unit", "service", "age_group", "measure", "rule_id")
SERVICE_OF = {"vastaanotto": "perusterveydenhuolto", "suun_th": "suun_terveydenhuolto",
              "sosiaali": "sosiaalipalvelut", "mtpa": "mielenterveys"}
FHIR_SYSTEM = "urn:oid:1.2.246.537.6.9999.hoitotakuu"
FHIR_CODE = {"perusterveydenhuolto": "PTH", "suun_terveydenhuolto": "SUU", "mielenterveys": "MT"}
FHIR_ORG = {"vastaanotto": "tk-vo", "suun_th": "hammashoitola", "mtpa": "mt-palvelut"}

# The shipped rules (config/ohjaustaulu.toml), copied: the product is configured with this text
# and the independent computation below reads the same text with tomllib.
RULES = """
[[access.rules]]
id = "pth-arvio-3arkipv-all"
service = "perusterveydenhuolto"
measure = "contact_to_assessment"
limit = "3 wd"
ages = "all"
from = 2022-01-01
until = 2023-08-31
law = "Terveydenhuoltolaki 51 § 1 mom."

[[access.rules]]
id = "pth-arvio-samana-pv-all"
service = "perusterveydenhuolto"
measure = "contact_to_assessment"
limit = "0 wd"
ages = "all"
from = 2023-09-01
law = "Terveydenhuoltolaki 51 § 1 mom. (HE 74/2022)"

[[access.rules]]
id = "pth-hoito-3kk-all"
service = "perusterveydenhuolto"
measure = "assessment_to_start"
limit = "3 m"
ages = "all"
from = 2022-01-01
until = 2023-08-31
law = "Terveydenhuoltolaki 51 § 2 mom."

[[access.rules]]
id = "pth-hoito-14vrk-all"
service = "perusterveydenhuolto"
measure = "assessment_to_start"
limit = "14 d"
ages = "all"
from = 2023-09-01
until = 2024-12-31
law = "Terveydenhuoltolaki 51 a § (117/2023)"

[[access.rules]]
id = "pth-hoito-3kk-23plus"
service = "perusterveydenhuolto"
measure = "assessment_to_start"
limit = "3 m"
ages = ">=23"
from = 2025-01-01
law = "Terveydenhuoltolaki 51 a § (HE 134/2024)"

[[access.rules]]
id = "pth-hoito-14vrk-alle23"
service = "perusterveydenhuolto"
measure = "assessment_to_start"
limit = "14 d"
ages = "<23"
from = 2025-01-01
law = "Terveydenhuoltolaki 51 a § (HE 134/2024)"

[[access.rules]]
id = "suun-arvio-samana-pv-all"
service = "suun_terveydenhuolto"
measure = "contact_to_assessment"
limit = "0 wd"
ages = "all"
from = 2023-09-01
law = "Terveydenhuoltolaki 51 § 1 mom. (HE 74/2022)"

[[access.rules]]
id = "suun-hoito-4kk-all"
service = "suun_terveydenhuolto"
measure = "assessment_to_start"
limit = "4 m"
ages = "all"
from = 2023-09-01
until = 2024-10-31
law = "Terveydenhuoltolaki 51 b § (117/2023)"

[[access.rules]]
id = "suun-hoito-3kk-all"
service = "suun_terveydenhuolto"
measure = "assessment_to_start"
limit = "3 m"
ages = "all"
from = 2024-11-01
until = 2024-12-31
law = "Terveydenhuoltolaki 51 b §"

[[access.rules]]
id = "suun-hoito-6kk-23plus"
service = "suun_terveydenhuolto"
measure = "assessment_to_start"
limit = "6 m"
ages = ">=23"
from = 2025-01-01
law = "Terveydenhuoltolaki 51 b § (HE 134/2024)"

[[access.rules]]
id = "suun-hoito-3kk-alle23"
service = "suun_terveydenhuolto"
measure = "assessment_to_start"
limit = "3 m"
ages = "<23"
from = 2025-01-01
law = "Terveydenhuoltolaki 51 b § (HE 134/2024)"

[[access.rules]]
id = "mt-terapiatakuu-28vrk-alle23"
service = "mielenterveys"
measure = "assessment_to_start"
limit = "28 d"
ages = "<23"
from = 2025-05-01
law = "Terveydenhuoltolaki, terapiatakuu (HE 131/2024)"

[[access.rules]]
id = "sos-arvio-7arkipv-75plus"
service = "sosiaalipalvelut"
measure = "contact_to_assessment"
limit = "7 wd"
ages = ">=75"
from = 2022-01-01
law = "Sosiaalihuoltolaki 36 § 2 mom."

[[access.rules]]
id = "sos-toimeenpano-3kk-all"
service = "sosiaalipalvelut"
measure = "contact_to_start"
limit = "3 m"
ages = "all"
from = 2022-01-01
law = "Sosiaalihuoltolaki 45 §"

[[access.rules]]
id = "sos-vanhus-3kk-75plus"
service = "sosiaalipalvelut"
measure = "decision_to_start"
limit = "3 m"
ages = ">=75"
from = 2022-01-01
law = "Vanhuspalvelulaki 18 §"
"""

CSV_COLUMNS = {  # ours -> the report's own column; `service`, `age`, `decision`, `start` keep our names
    "case": "tapausnro", "unit": "yksikko", "birth_date": "syntymaaika", "urgent": "kiireellinen",
    "contact": "yhteydenotto", "assessment": "arvio",
}
CSV_HEADER = ["tapausnro", "yksikko", "service", "syntymaaika", "age", "kiireellinen",
              "yhteydenotto", "arvio", "decision", "start"]
CSV_UNIT = {"vastaanotto": "TK-VO", "sosiaali": "SOS-1"}  # the others by our own codes


def config_text(report_url: str = "http://127.0.0.1:9/raportti.csv", json_path: str = "/nonexistent.json",
                fhir_url: str = "http://127.0.0.1:9/fhir", rules: str = RULES) -> str:
    fields = ", ".join(f'{ours} = "{theirs}"' for ours, theirs in CSV_COLUMNS.items())
    unit_map = ", ".join(f'"{theirs}" = "{ours}"' for ours, theirs in CSV_UNIT.items())
    services = ", ".join(f'"{FHIR_SYSTEM}|{code}" = "{service}"' for service, code in FHIR_CODE.items())
    orgs = ", ".join(f'"Organization/{org}" = "{unit}"' for unit, org in FHIR_ORG.items())
    units = "".join(f'[[units]]\ncode = "{u}"\nname = "{u.title()}"\nname_sv = "{u.upper()}"\n\n'
                    for u in SERVICE_OF)
    return f"""
[site]
name = "Hoitotakuun testikeskus"
timezone = "Europe/Helsinki"

{units}
[[sources]]
name = "hoitoonpaasy-raportti"
kind = "access"
address = "{report_url}"
case_key_env = "{KEY_ENV}"
fields = {{ {fields} }}
unit_map = {{ {unit_map} }}

[[sources]]
name = "hoitoonpaasy-tiedosto"
kind = "access"
address = "{json_path}"
case_key_env = "{KEY_ENV}"

[[sources]]
name = "fhir-tapaukset"
kind = "fhir"
address = "{fhir_url}"
case_key_env = "{KEY_ENV}"
case_days = 1000
service_map = {{ {services} }}
unit_map = {{ {orgs} }}

[access]
bins = {EDGES}

{rules}
"""


# =============================================================================================
# The independent computation
# =============================================================================================

MEASURE_DATES = {  # PRODUCT.md: measure -> the date its interval begins at, the date it ends at
    "contact_to_assessment": ("contact", "assessment"),
    "assessment_to_start": ("assessment", "start"),
    "decision_to_start": ("decision", "start"),
    "contact_to_start": ("contact", "start"),
}


@cache
def finnish_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FI", years=year))


def working(day: date) -> bool:
    return day.weekday() < 5 and day not in finnish_holidays(day.year)


def my_deadline(begin: date, limit: str) -> date:
    """PRODUCT.md: "N wd" the Nth working day after the date ("0 wd" that day, or the next
    working day when it is not one); "N d" the date plus N days; "N m" the same day of the
    month N months later, or that month's last day when it has no such day."""
    count_text, unit = limit.split()
    n = int(count_text)
    if unit == "d":
        return begin + timedelta(days=n)
    if unit == "m":
        year, month = begin.year, begin.month
        for _ in range(n):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        day = begin.day
        while True:  # 31 -> 30 -> 29 -> 28 until the month has it
            try:
                return date(year, month, day)
            except ValueError:
                day -= 1
    assert unit == "wd", limit
    day = begin
    if n == 0:
        while not working(day):
            day += timedelta(days=1)
        return day
    found = 0
    while found < n:
        day += timedelta(days=1)
        if working(day):
            found += 1
    return day


@dataclass(frozen=True)
class MyRule:
    id: str
    service: str
    measure: str
    limit: str
    ages: str
    valid_from: date
    valid_until: date | None

    def fits(self, years: int | None) -> bool:
        if self.ages == "all":
            return True
        if years is None:
            return False
        return {"<23": years < 23, ">=23": years >= 23, ">=75": years >= 75}[self.ages]


def my_rules(text: str = RULES) -> list[MyRule]:
    return [MyRule(r["id"], r["service"], r["measure"], r["limit"], r.get("ages", "all"), r["from"], r.get("until"))
            for r in tomllib.loads(text)["access"]["rules"]]


@dataclass(frozen=True)
class Rec:
    """A case as the test reports it (the birth date or the age as a number, or neither)."""

    id: str
    unit: str
    service: str
    birth: date | None = None
    age: int | None = None
    urgent: bool = False
    contact: date | None = None
    assessment: date | None = None
    decision: date | None = None
    start: date | None = None

    def years(self) -> int | None:
        """Completed years on the first date (contact, else assessment, else decision)."""
        first = self.contact or self.assessment or self.decision
        if self.birth is not None:
            if first is None:
                return None
            had_birthday = (first.month, first.day) >= (self.birth.month, self.birth.day)
            return first.year - self.birth.year - (0 if had_birthday else 1)
        return self.age

    def age_group(self) -> str:
        years = self.years()
        if years is None:
            return "unknown"
        return "<23" if years < 23 else "23-74" if years < 75 else ">=75"

    def stored(self) -> tuple[Any, ...]:
        """What a report of this case comes to, for telling a changed report from the same one."""
        return (self.unit, self.service, self.age_group(), self.urgent, self.contact, self.assessment,
                self.decision, self.start)


@dataclass(frozen=True)
class J:
    """One case measured for one measure."""

    unit: str
    service: str
    age_group: str
    urgent: bool
    measure: str
    rule: str | None
    begin: date
    end: date | None
    deadline: date | None
    within: bool | None


def my_judgements(rec: Rec, rules: list[MyRule]) -> list[J]:
    out = []
    for measure in sorted({r.measure for r in rules if r.service == rec.service}):
        first, last = MEASURE_DATES[measure]
        begin, end = getattr(rec, first), getattr(rec, last)
        if begin is None:
            continue
        common = (rec.unit, rec.service, rec.age_group(), rec.urgent, measure)
        if rec.urgent:
            out.append(J(*common, None, begin, end, None, None))
            continue
        in_force = [r for r in rules if r.service == rec.service and r.measure == measure and r.fits(rec.years())
                    and r.valid_from <= begin and (r.valid_until is None or begin <= r.valid_until)]
        assert len(in_force) <= 1, (rec, in_force)
        if not in_force:
            out.append(J(*common, None, begin, end, None, None))
            continue
        due = my_deadline(begin, in_force[0].limit)
        out.append(J(*common, in_force[0].id, begin, end, due, None if end is None else end <= due))
    return out


def week_of(day: date) -> date:
    while day.weekday() != 0:
        day -= timedelta(days=1)
    return day


def month_of(day: date) -> date:
    return date(day.year, day.month, 1)


def mondays(start: date, end: date) -> list[date]:
    out, w = [], week_of(start)
    while w <= end:
        out.append(w)
        w += timedelta(days=7)
    return out


def p90(days: list[int]) -> float:
    return float(days[0]) if len(days) == 1 else statistics.quantiles(days, n=10, method="inclusive")[8]


def my_bin(days: int) -> int:
    """0, 1–7, 8–14, 15–28, 29–90, over 90."""
    for i, (low, high) in enumerate([(0, 0), (1, 7), (8, 14), (15, 28), (29, 90)]):
        if low <= days <= high:
            return i
    return 5


Stats = tuple[int, int, float | None, float | None, float | None]


def stats(items: list[tuple[bool, int]]) -> Stats:
    days = sorted(d for _, d in items)
    within = sum(1 for w, _ in items if w)
    return (len(items), within, round(statistics.median(days), 6), round(p90(days), 6),
            round(within / len(items), 6))


class Model:
    """The figures, computed case by case from the newest report of each case."""

    def __init__(self, recs: Iterable[Rec], rules: list[MyRule]):
        self.recs = list(recs)
        self.js = [j for r in self.recs for j in my_judgements(r, rules)]

    def _judged(self, units: list[str] | None, urgent: bool = False) -> Iterator[J]:
        for j in self.js:
            if units is not None and j.unit not in units:
                continue
            if urgent and j.urgent:
                yield j
            elif not urgent and not j.urgent and j.rule is not None:
                yield j

    def closed(self, units: list[str] | None, start: date, end: date, period: str,
               by: Sequence[str], urgent: bool = False) -> dict[tuple[Any, ...], Stats]:
        groups: dict[tuple[Any, ...], list[tuple[bool, int]]] = defaultdict(list)
        for j in self._judged(units, urgent):
            if j.end is None or not start <= j.end <= end:
                continue
            p = week_of(j.end) if period == "week" else month_of(j.end)
            values = (p, j.unit, j.service, j.age_group, j.measure, j.rule)
            key = tuple(v if name in by else None for name, v in zip(GROUP, values, strict=True))
            groups[key].append((bool(j.within), (j.end - j.begin).days))
        return {k: stats(v) for k, v in groups.items()}

    def weeks(self, units: list[str] | None, start: date, end: date,
              measure: str | None = None) -> list[tuple[date, int, int]]:
        out = []
        for w in mondays(start, end):
            ended = [j for j in self._judged(units) if j.end is not None and start <= j.end <= end
                     and w <= j.end <= w + timedelta(days=6) and measure in (None, j.measure)]
            out.append((w, len(ended), sum(1 for j in ended if j.within)))
        return out

    def bins(self, units: list[str] | None, start: date, end: date, period: str, by: Sequence[str],
             urgent: bool = False) -> dict[tuple[Any, ...], list[int]]:
        out: dict[tuple[Any, ...], list[int]] = {}
        for r in self.recs:
            if r.urgent != urgent or (units is not None and r.unit not in units):
                continue
            if r.assessment is None or r.start is None or not start <= r.start <= end:
                continue
            p = week_of(r.start) if period == "week" else month_of(r.start)
            values = (p, r.unit, r.service, r.age_group(), None, None)
            key = tuple(v if name in by else None for name, v in zip(GROUP, values, strict=True))
            out.setdefault(key, [0] * 6)[my_bin((r.start - r.assessment).days)] += 1
        return out

    def open_past(self, units: list[str] | None, today: date,
                  by: Sequence[str]) -> dict[tuple[Any, ...], tuple[int, date, date]]:
        groups: dict[tuple[Any, ...], list[J]] = defaultdict(list)
        for j in self._judged(units):
            assert j.deadline is not None
            if j.end is None and today > j.deadline:
                values = (None, j.unit, j.service, j.age_group, j.measure, j.rule)
                groups[tuple(v if name in by else None for name, v in zip(GROUP, values, strict=True))].append(j)
        return {k: (len(v), min(j.deadline for j in v if j.deadline), min(j.begin for j in v))
                for k, v in groups.items()}

    def open_weeks(self, units: list[str] | None, start: date, end: date, today: date) -> list[tuple[date, int]]:
        """At the end of each week (its Sunday, or today for this week): the open cases past the
        limit then — not ended by that day, with a deadline before it."""
        out = []
        for w in mondays(start, end):
            day = min(w + timedelta(days=6), today)
            out.append((w, sum(1 for j in self._judged(units)
                               if j.deadline is not None and j.deadline < day and (j.end is None or j.end > day))))
        return out


# -- the product's answers in the same shapes --------------------------------------------------

def got_closed(figures: dict[Any, Any]) -> dict[tuple[Any, ...], Stats]:
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 6)

    return {astuple(g): (f.started, f.within, r(f.median), r(f.p90), r(f.share)) for g, f in figures.items()}


def got_bins(figures: dict[Any, list[int]]) -> dict[tuple[Any, ...], list[int]]:
    return {astuple(g): list(v) for g, v in figures.items()}


def got_open(figures: dict[Any, Any]) -> dict[tuple[Any, ...], tuple[int, date, date]]:
    return {astuple(g): (o.count, o.oldest_deadline, o.oldest_begin) for g, o in figures.items()}


def diff(errors: list[str], what: str, got: Any, want: Any) -> None:
    if got == want:
        return
    if isinstance(got, dict) and isinstance(want, dict):
        lines = [f"{what}: {len(got)} groups, expected {len(want)}"]
        for k in sorted(set(got) | set(want), key=repr):
            if got.get(k) != want.get(k):
                lines.append(f"    {k}: got {got.get(k)}, expected {want.get(k)}")
        errors.append("\n".join(lines[:25]))
    elif isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        wrong = [f"    got {g}, expected {w}" for g, w in zip(got, want, strict=True) if g != w]
        errors.append("\n".join([f"{what}: {len(wrong)} of {len(got)} differ", *wrong[:20]]))
    else:
        errors.append(f"{what}: got {got!r}, expected {want!r}")


def check_figures(errors: list[str], history: History, model: Model, today: date,
                  ranges: list[tuple[list[str] | None, date, date, str]]) -> None:
    """view() and the functions under it, for each (units, start, end, period), against the model."""
    everything = ("unit", "service", "age_group", "measure", "rule_id")
    for units, start, end, period in ranges:
        label = f"{units or 'all units'} {start}..{end} by {period}"
        v = accessfigures.view(history, units, start, end, period, today, EDGES)
        diff(errors, f"{label}: by_period", got_closed(v.by_period), model.closed(units, start, end, period, GROUP))
        diff(errors, f"{label}: summary", got_closed(v.summary), model.closed(units, start, end, period, everything))
        urgent_got = {k: (s[0], s[1], s[2], s[3]) for k, s in got_closed(v.urgent).items()}
        urgent_want = {k: (s[0], 0, s[2], s[3])
                       for k, s in model.closed(units, start, end, period, ("unit", "service", "measure"), True).items()}
        diff(errors, f"{label}: urgent", urgent_got, urgent_want)
        diff(errors, f"{label}: bins", got_bins(v.bins), model.bins(units, start, end, period, ("unit", "service")))
        diff(errors, f"{label}: open past", got_open(v.open_past), model.open_past(units, today, everything))
        diff(errors, f"{label}: weeks", v.weeks, model.weeks(units, start, end))
        diff(errors, f"{label}: open weeks", v.open_weeks, model.open_weeks(units, start, min(end, today), today))
        # the functions under view(), grouped other ways
        by = ("period", "unit", "measure")
        diff(errors, f"{label}: closed by {by}",
             got_closed(accessfigures.closed(history, units, start, end, period, by=by)),
             model.closed(units, start, end, period, by))
        diff(errors, f"{label}: bins by period, unit, service, age group",
             got_bins(accessfigures.bins(history, units, start, end, EDGES, period)),
             model.bins(units, start, end, period, ("period", "unit", "service", "age_group")))
        diff(errors, f"{label}: urgent bins",
             got_bins(accessfigures.bins(history, units, start, end, EDGES, period, by=("service",), urgent=True)),
             model.bins(units, start, end, period, ("service",), urgent=True))
        diff(errors, f"{label}: open past by unit",
             got_open(accessfigures.open_past(history, units, today, by=("unit",))),
             model.open_past(units, today, ("unit",)))
        diff(errors, f"{label}: weekly share of assessment_to_start",
             accessfigures.weekly_share(history, units, start, end, measure="assessment_to_start"),
             model.weeks(units, start, end, measure="assessment_to_start"))


# =============================================================================================
# The cases
# =============================================================================================

FIRST, LAST = date(2024, 3, 1), T2 - timedelta(days=1)
SPECIAL_DAYS = [  # holiday eves, holidays and weekends next to them
    date(2024, 3, 28), date(2024, 3, 29), date(2024, 3, 30), date(2024, 4, 1), date(2024, 5, 8),
    date(2024, 5, 9), date(2024, 6, 20), date(2024, 6, 21), date(2024, 6, 22), date(2024, 11, 1),
    date(2024, 11, 2), date(2024, 12, 5), date(2024, 12, 6), date(2024, 12, 20), date(2024, 12, 21),
    date(2024, 12, 23), date(2024, 12, 24), date(2024, 12, 27), date(2024, 12, 31), date(2025, 1, 1),
    date(2025, 1, 3), date(2025, 1, 4), date(2025, 1, 6), date(2025, 4, 17), date(2025, 4, 18),
    date(2025, 4, 19), date(2025, 4, 21), date(2025, 4, 30), date(2025, 5, 1),
]


def pick_day(rng: random.Random) -> date:
    if rng.random() < 0.25:
        return rng.choice(SPECIAL_DAYS)
    return FIRST + timedelta(days=rng.randrange((LAST - FIRST).days + 1))


def pick_person(rng: random.Random, ages_allowed: bool = True) -> tuple[date | None, int | None]:
    r = rng.random()
    if r < 0.05:
        return None, None
    if ages_allowed and r < 0.13:
        return None, rng.randint(14, 92)
    year = rng.randint(2001, 2003) if rng.random() < 0.12 else rng.randint(1930, 2012)
    return date(year, rng.randint(1, 12), rng.randint(1, 28)), None


def wait(rng: random.Random, table: list[tuple[float, int, int]]) -> int:
    r, acc = rng.random(), 0.0
    for weight, low, high in table:
        acc += weight
        if r < acc:
            return rng.randint(low, high)
    return rng.randint(table[-1][1], table[-1][2])


WAITS = {
    "perusterveydenhuolto": [(0.05, 0, 0), (0.25, 1, 7), (0.25, 8, 14), (0.2, 15, 28), (0.2, 29, 90), (0.05, 91, 150)],
    "suun_terveydenhuolto": [(0.05, 0, 0), (0.2, 1, 28), (0.3, 29, 90), (0.45, 91, 200)],
    "mielenterveys": [(1.0, 0, 60)],
    "sosiaalipalvelut": [(0.3, 0, 30), (0.5, 31, 90), (0.2, 91, 130)],
}


def to_assessment(rng: random.Random, contact: date, service: str) -> int:
    if service == "sosiaalipalvelut":
        return rng.randint(0, 14)
    r = rng.random()
    if r < 0.5:
        return 0
    if r < 0.75:  # the next working day
        day = contact + timedelta(days=1)
        while not working(day):
            day += timedelta(days=1)
        return (day - contact).days
    return rng.randint(1, 6) if r < 0.9 else rng.randint(7, 20)


def clip(rec: Rec, today: date) -> Rec | None:
    """The report of `rec` as it stood on `today`: later dates not reached yet; None when the
    case had not begun."""
    dates = {n: getattr(rec, n) for n in ("contact", "assessment", "decision", "start")}
    seen = {n: d if d is not None and d <= today else None for n, d in dates.items()}
    if not any(seen.values()):
        return None
    return replace(rec, **seen)


def random_case(rng: random.Random, case_id: str, unit: str, fhir: bool = False) -> Rec:
    service = SERVICE_OF[unit]
    birth, age = pick_person(rng, ages_allowed=not fhir)
    urgent = rng.random() < 0.1
    first = pick_day(rng)
    contact = assessment = decision = start = None
    if fhir or (service == "mielenterveys" and rng.random() < 0.5):
        assessment = first  # FHIR has no contact date
    else:
        contact = first
        if rng.random() > 0.07:
            assessment = contact + timedelta(days=to_assessment(rng, contact, service))
    if service == "sosiaalipalvelut":
        if assessment is not None and rng.random() > 0.12:
            decision = assessment + timedelta(days=rng.randint(0, 30))
        if decision is not None and rng.random() > 0.15:
            start = decision + timedelta(days=wait(rng, WAITS[service]))
    elif assessment is not None and rng.random() > 0.12:
        start = assessment + timedelta(days=wait(rng, WAITS[service]))
    rec = clip(Rec(case_id, unit, service, birth, age, urgent, contact, assessment, decision, start), T2)
    assert rec is not None
    return rec


def D(text: str) -> date:
    return date.fromisoformat(text)


def access_edges() -> list[Rec]:
    """Hand-picked cases of the `access` feed (the expected judgement beside each is only a note:
    the model works it out like every other case)."""
    def pth(cid: str, contact: str | None, assessment: str | None, start: str | None,
            birth: str | None = "1970-05-05", **kw: Any) -> Rec:
        return Rec(cid, "vastaanotto", "perusterveydenhuolto", D(birth) if birth else None,
                   contact=D(contact) if contact else None, assessment=D(assessment) if assessment else None,
                   start=D(start) if start else None, **kw)

    def suun(cid: str, assessment: str, start: str | None, birth: str = "1980-05-05", **kw: Any) -> Rec:
        return Rec(cid, "suun_th", "suun_terveydenhuolto", D(birth), contact=D(assessment),
                   assessment=D(assessment), start=D(start) if start else None, **kw)

    def sos(cid: str, contact: str, assessment: str | None, decision: str | None, start: str | None,
            birth: str | None = "1940-01-01", age: int | None = None, **kw: Any) -> Rec:
        return Rec(cid, "sosiaali", "sosiaalipalvelut", D(birth) if birth else None, age, contact=D(contact),
                   assessment=D(assessment) if assessment else None, decision=D(decision) if decision else None,
                   start=D(start) if start else None, **kw)

    def mt(cid: str, assessment: str, start: str | None, birth: str = "2008-03-03", **kw: Any) -> Rec:
        return Rec(cid, "mtpa", "mielenterveys", D(birth), assessment=D(assessment),
                   start=D(start) if start else None, **kw)

    return [
        # month ends: 30.11. + 3 m = 28.2. (suun 3 kk in force 1.11.–31.12.2024); 31.8. + 3 m = 30.11.
        suun("E-SUU-3011-IN", "2024-11-30", "2025-02-28"),
        suun("E-SUU-3011-OUT", "2024-11-30", "2025-03-01"),
        suun("E-SUU-3110-4KK", "2024-10-31", "2025-02-28"),  # 4 m: 28.2.2025, within
        sos("E-SOS-3108-IN", "2024-08-31", "2024-09-05", "2024-09-20", "2024-11-30", birth=None, age=60),
        sos("E-SOS-3108-OUT", "2024-08-31", "2024-09-05", "2024-09-20", "2024-12-02", birth=None, age=60),
        # and 30.11.2023 + 3 m = 29.2.2024 (a leap year); 7 wd from 30.11.2023 is 12.12. (6.12. a holiday)
        sos("E-SOS-LEAP-IN", "2023-11-30", "2023-12-11", "2023-12-20", "2024-02-29", birth="1945-02-10"),
        sos("E-SOS-LEAP-OUT", "2023-11-30", "2023-12-13", "2023-12-20", "2024-03-01", birth="1945-02-10"),
        # 0 wd on a Saturday holiday (All Saints' 2.11.2024): the deadline is Monday 4.11.
        pth("E-PTH-0211-IN", "2024-11-02", "2024-11-04", "2024-11-18"),
        pth("E-PTH-0211-OUT", "2024-11-02", "2024-11-05", "2024-11-20"),
        pth("E-PTH-0612", "2024-12-06", "2024-12-09", "2024-12-23"),  # Independence Day, a Friday
        pth("E-PTH-2112", "2024-12-21", "2024-12-27", "2025-01-10"),  # Saturday before Christmas
        pth("E-PTH-2412", "2024-12-24", "2024-12-27", "2025-01-07"),  # Christmas Eve
        pth("E-PTH-0301", "2025-01-03", "2025-01-07", "2025-01-20"),  # Friday before Epiphany
        pth("E-PTH-0401", "2025-01-04", "2025-01-07", "2025-01-20"),  # Saturday before Epiphany Monday
        pth("E-PTH-0301-SAME", "2025-01-03", "2025-01-03", "2025-01-17"),  # assessed on that Friday
        pth("E-PTH-0512", "2024-12-05", "2024-12-09", "2024-12-20"),  # Thursday before Independence Day
        pth("E-PTH-1704", "2025-04-17", "2025-04-22", "2025-04-28", birth="2004-04-04"),  # before Easter
        # 7 wd over Christmas and New Year (20.12.2024 -> 7.1.2025) and over Easter (17.4. -> 30.4.2025)
        sos("E-SOS-2012-IN", "2024-12-20", "2025-01-07", "2025-01-15", "2025-04-15"),
        sos("E-SOS-2012-OUT", "2024-12-20", "2025-01-08", "2025-01-15", "2025-04-16"),
        sos("E-SOS-1704-IN", "2025-04-17", "2025-04-30", None, None),
        sos("E-SOS-1704-OPEN", "2025-04-17", None, None, None),
        # 75 on the contact date, or a day short of it
        sos("E-SOS-74", "2025-02-28", "2025-03-20", None, None, birth="1950-03-01"),
        sos("E-SOS-75", "2025-03-01", "2025-03-11", "2025-03-12", "2025-04-01", birth="1950-03-01"),
        # 23 on the first date or not: 14 d for under-23s, 3 m for the others from 1.1.2025
        pth("E-AGE-22", "2025-01-14", "2025-01-14", "2025-02-10", birth="2002-01-15"),
        pth("E-AGE-23", "2025-01-15", "2025-01-15", "2025-02-11", birth="2002-01-15"),
        # the rule changes on 1.1.2025: judged by the version in force on the day the interval began
        pth("E-RULE-3112", "2024-12-31", "2024-12-31", "2025-01-20"),
        pth("E-RULE-0201", "2025-01-02", "2025-01-02", "2025-03-20"),
        # no age known: the age-split rules of 2025 do not apply to it
        pth("E-UNKNOWN-2025", "2025-02-03", "2025-02-03", "2025-02-10", birth=None),
        pth("E-UNKNOWN-2024", "2024-10-01", "2024-10-01", "2024-10-30", birth=None),
        # open, past the limit (or not yet)
        pth("E-OPEN-1511", "2024-11-15", "2024-11-15", None, birth="1960-06-06"),
        pth("E-OPEN-3101", "2025-01-31", "2025-01-31", None, birth="1960-06-06"),
        pth("E-OPEN-ARVIO", "2025-05-05", None, None, birth="1960-06-06"),
        suun("E-OPEN-SUU", "2025-01-31", None, birth="2005-05-05"),
        sos("E-OPEN-SOS", "2024-09-10", None, None, None, birth=None, age=50),
        # the bins' edges
        *[mt(f"E-BIN-{n}", "2024-10-07", str(D("2024-10-07") + timedelta(days=n)), birth="1990-01-01")
          for n in (0, 1, 7, 8, 14, 15, 28, 29, 90, 91)],
        # urgent ones: counted apart, never past a limit
        pth("E-URG-1", "2024-12-20", "2024-12-20", "2024-12-20", urgent=True),
        suun("E-URG-2", "2025-01-03", "2025-01-09", urgent=True),
        pth("E-URG-OPEN", "2024-10-01", "2024-10-01", None, urgent=True),
        # the therapy guarantee begins on 1.5.2025
        mt("E-MT-3004", "2025-04-30", "2025-05-06"),
        mt("E-MT-0205", "2025-05-02", "2025-05-06"),
        mt("E-MT-0105-OPEN", "2025-05-01", None),
        mt("E-MT-ADULT", "2025-05-02", "2025-05-06", birth="1990-01-01"),
        # reported again (the first report is in `access_first_reports`)
        pth("E-AGAIN-LATER", "2025-01-27", "2025-01-27", "2025-03-10", birth="1985-08-08"),
        suun("E-AGAIN-STARTED", "2024-12-10", "2025-03-20", birth="1999-09-09"),
        sos("E-AGAIN-URGENT", "2024-12-02", "2024-12-04", "2024-12-16", "2025-01-20", birth=None, age=80),
    ]


def access_first_reports() -> dict[str, Rec]:
    """How some cases were reported at the first poll (T1), where not just clipped at T1."""
    edges = {r.id: r for r in access_edges()}
    return {
        "E-AGAIN-LATER": replace(edges["E-AGAIN-LATER"], start=D("2025-02-03")),  # then moved later
        "E-AGAIN-STARTED": replace(edges["E-AGAIN-STARTED"], start=None),
        "E-AGAIN-URGENT": replace(edges["E-AGAIN-URGENT"], urgent=True, start=None),
    }


JSON_ONLY = {  # a date-time near midnight UTC: its date in Helsinki is the next day
    "E-DT-NEWYEAR": ({"contact": "2024-12-31T21:50:00Z", "assessment": "2024-12-31T22:30:00+00:00",
                      "start": "2025-02-20T10:00:00+02:00"},
                     Rec("E-DT-NEWYEAR", "vastaanotto", "perusterveydenhuolto", D("1970-05-05"),
                         contact=D("2024-12-31"), assessment=D("2025-01-01"), start=D("2025-02-20"))),
}


def fi(day: date, padded: bool) -> str:
    return f"{day:%d.%m.%Y}" if padded else f"{day.day}.{day.month}.{day.year}"


def crc(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def csv_row(rec: Rec) -> dict[str, str]:
    padded = crc(rec.id) % 2 == 0

    def d(x: date | None) -> str:
        return fi(x, padded) if x else ""

    urgent = ["kyllä", "k", "true", "x"][crc(rec.id) % 4] if rec.urgent else ["ei", "", "false", "0"][crc(rec.id) % 4]
    return {"tapausnro": rec.id, "yksikko": CSV_UNIT.get(rec.unit, rec.unit), "service": rec.service,
            "syntymaaika": d(rec.birth), "age": "" if rec.age is None else str(rec.age), "kiireellinen": urgent,
            "yhteydenotto": d(rec.contact), "arvio": d(rec.assessment), "decision": d(rec.decision),
            "start": d(rec.start)}


def csv_body(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_HEADER, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def json_date(case_id: str, name: str, day: date | None) -> Any:
    """A date as the JSON feed may give it: a date, a local date-time with its offset, or an
    instant in UTC that is on this date in Helsinki."""
    if day is None:
        return [None, ""][crc(case_id, name) % 2]
    how = crc(case_id, name) % 4
    if how == 0:
        return day.isoformat()
    if how == 1:
        return datetime.combine(day, time(9, 15), TZ).isoformat()
    if how == 2:  # 00.30 in Helsinki: the day before in UTC
        return datetime.combine(day, time(0, 30), TZ).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return datetime.combine(day, time(23, 45), TZ).astimezone(UTC).isoformat()


def json_record(rec: Rec) -> dict[str, Any]:
    out: dict[str, Any] = {"case": rec.id, "unit": rec.unit, "service": rec.service}
    if rec.birth is not None:
        out["birth_date"] = rec.birth.isoformat()
    if rec.age is not None:
        out["age"] = rec.age if crc(rec.id) % 2 else str(rec.age)
    out["urgent"] = rec.urgent if crc(rec.id, "u") % 3 else ("kyllä" if rec.urgent else "ei")
    for name in ("contact", "assessment", "decision", "start"):
        value = getattr(rec, name)
        if value is None and crc(rec.id, name, "leave out") % 3 == 0:
            continue  # left out rather than empty
        out[name] = json_date(rec.id, name, value)
    return out


BAD_CSV = [  # one of each kind the product counts as bad
    ({"tapausnro": "BAD-CSV-ORDER", "yksikko": "TK-VO", "service": "perusterveydenhuolto", "syntymaaika": "5.5.1970",
      "yhteydenotto": "1.10.2024", "arvio": "10.10.2024", "start": "5.10.2024"}, "start before assessment"),
    ({"tapausnro": "BAD-CSV-FUTURE", "yksikko": "TK-VO", "service": "perusterveydenhuolto", "age": "40",
      "yhteydenotto": "2.6.2025"}, "date in the future"),
    ({"tapausnro": "BAD-CSV-SERVICE", "yksikko": "TK-VO", "service": "fysioterapia", "age": "40",
      "yhteydenotto": "2.10.2024", "arvio": "2.10.2024"}, "unknown service"),
]
BAD_JSON = [
    ({"case": "BAD-JSON-ORDER", "unit": "suun_th", "service": "suun_terveydenhuolto", "birth_date": "1980-01-01",
      "assessment": "2024-10-10", "start": "2024-10-09T23:59:00+03:00"}, "start before assessment"),
    ({"case": "BAD-JSON-FUTURE-1", "unit": "mtpa", "service": "mielenterveys", "age": 20,
      "assessment": "2025-04-01", "start": "2025-06-01"}, "date in the future"),
    ({"case": "BAD-JSON-FUTURE-2", "unit": "mtpa", "service": "mielenterveys", "age": 20,
      "assessment": "2025-07-01T08:00:00+03:00"}, "date in the future"),
    ({"case": "BAD-JSON-SERVICE", "unit": "mtpa", "service": "hammaslääkäri", "age": 20,
      "assessment": "2025-01-01"}, "unknown service"),
    ({"case": "BAD-JSON-UNIT", "unit": "röntgen", "service": "mielenterveys", "age": 20,
      "assessment": "2025-01-01"}, "unknown unit"),
]


@dataclass
class AccessWorld:
    csv_recs: list[Rec]  # the final report of each case, by feed
    json_recs: list[Rec]
    first: dict[str, Rec]  # the first poll's report where it was not just the final one clipped

    def report(self, recs: list[Rec], today: date) -> list[Rec]:
        out = []
        for rec in recs:
            early = self.first.get(rec.id) if today < T2 else None
            clipped = clip(early or rec, today)
            if clipped is not None:
                out.append(clipped)
        return out


def access_world() -> AccessWorld:
    rng = random.Random(20250507)
    recs = [random_case(rng, f"VO-{i:05d}" if u == "vastaanotto" else f"{u[:3].upper()}-{i:05d}", u)
            for i, u in enumerate(rng.choice(list(SERVICE_OF)) for _ in range(440))]
    edges = access_edges()
    csv_recs, json_recs = [], []
    for i, rec in enumerate(recs + edges):
        (json_recs if rng.random() < 0.4 or (rec.id.startswith("E-") and i % 2) else csv_recs).append(rec)
    return AccessWorld(csv_recs, json_recs, access_first_reports())


class ReportServer:
    """The patient system's report over HTTP: a CSV answer to every GET."""

    def __init__(self) -> None:
        self.body = b""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/raportit/hoitoonpaasy.csv"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def report_server() -> Iterator[ReportServer]:
    s = ReportServer()
    yield s
    s.stop()


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    s = FhirServer(page_size=100)
    yield s
    s.stop()


@pytest.fixture
def case_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return SECRET


def site_day(store: LiveStore, day: date) -> None:
    pin_site_clock(store, datetime.combine(day, time(10, 0), TZ), stopped=True)


def detail(text: str | None) -> dict[str, int]:
    """"reason: n; reason: n" -> {reason: n}"""
    out = {}
    for part in (text or "").split("; "):
        if part:
            reason, n = part.rsplit(": ", 1)
            out[reason] = int(n)
    return out


def key_of(case_id: str) -> str:
    return hmac.new(SECRET.encode(), case_id.encode(), hashlib.sha256).hexdigest()


def stored(history: History) -> tuple[list[Any], list[Any]]:
    with history.engine.connect() as conn:
        return (list(conn.execute(select(AccessCase.__table__)).mappings()),
                list(conn.execute(select(AccessJudgement.__table__)).mappings()))


def assert_nothing_personal(history: History, secrets: Iterable[str]) -> None:
    cases, judgements = stored(history)
    needles = set(secrets)
    for row in cases + judgements:
        for column, value in row.items():
            text = str(value)
            found = [n for n in needles if n in text]
            assert not found, f"{column} = {text!r} holds {found}"


def birth_texts(births: Iterable[date | None]) -> set[str]:
    return {t for b in births if b for t in (b.isoformat(), fi(b, True), fi(b, False))}


def assert_stored_cases(history: History, by_source: dict[str, list[Rec]], model: Model) -> None:
    """One row per case and source (a case reported again replaced, not added), keyed by the
    HMAC of its id; one judgement per measure the model measured."""
    cases, judgements = stored(history)
    got = Counter(r["source"] for r in cases)
    assert got == Counter({s: len(recs) for s, recs in by_source.items()})
    for source, recs in by_source.items():
        assert {r["case_key"] for r in cases if r["source"] == source} == {key_of(r.id) for r in recs}
    got_j = Counter((j["measure"], j["rule_id"], j["within"]) for j in judgements)
    want_j = Counter((j.measure, j.rule, None if j.within is None else int(j.within)) for j in model.js)
    assert got_j == want_j, f"stored but not expected {got_j - want_j}, expected but not stored {want_j - got_j}"


# =============================================================================================
# The tests
# =============================================================================================

def test_the_independent_deadlines_agree_with_the_examples_of_the_docs():
    """The test's own arithmetic, checked against docs/access-to-care.md's worked examples
    before it judges the product by it."""
    assert my_deadline(D("2025-12-23"), "3 wd") == D("2025-12-31")
    assert my_deadline(D("2025-06-21"), "0 wd") == D("2025-06-23")
    assert my_deadline(D("2024-03-01"), "14 d") == D("2024-03-15")
    assert my_deadline(D("2024-11-30"), "3 m") == D("2025-02-28")
    assert my_deadline(D("2023-11-30"), "3 m") == D("2024-02-29")
    assert my_deadline(D("2024-08-31"), "3 m") == D("2024-11-30")
    assert my_deadline(D("2025-04-17"), "7 wd") == D("2025-04-30")
    assert my_deadline(D("2024-12-20"), "7 wd") == D("2025-01-07")
    assert my_deadline(D("2024-11-02"), "0 wd") == D("2024-11-04")
    assert my_deadline(D("2025-01-04"), "0 wd") == D("2025-01-07")
    assert my_deadline(D("2025-01-31"), "1 m") == D("2025-02-28")


def test_access_feed_over_http_and_from_a_file_gives_the_figures_of_an_independent_computation(
        backend: Backend, report_server: ReportServer, tmp_path: Path, case_key: str) -> None:
    store, history = backend.store, backend.history
    json_path = tmp_path / "hoitoonpaasy.json"
    config = parse_config(config_text(report_url=report_server.url, json_path=str(json_path)), "hoitotakuu.toml")
    rules = my_rules()
    world = access_world()
    collectors = {name: connected(collector_for(config.source(name), config), config, history)
                  for name in ("hoitoonpaasy-raportti", "hoitoonpaasy-tiedosto")}
    reported: dict[str, dict[str, Rec]] = {name: {} for name in collectors}  # the newest report of each case

    def publish(today: date) -> tuple[list[Rec], list[Rec]]:
        csv_recs, json_recs = world.report(world.csv_recs, today), world.report(world.json_recs, today)
        report_server.body = csv_body([csv_row(r) for r in csv_recs] + [row for row, _ in BAD_CSV])
        records = [json_record(r) for r in json_recs]
        for raw, rec in JSON_ONLY.values():
            if today >= T2:
                records.append({**json_record(rec), **raw})
                json_recs = [*json_recs, rec]
        json_path.write_text(json.dumps({"cases": records + [r for r, _ in BAD_JSON]}, ensure_ascii=False),
                             encoding="utf-8")
        return csv_recs, json_recs

    # -- the first poll, on 12.2.2025 ---------------------------------------------------------
    site_day(store, T1)
    assert store.clock(config.tz).now().date() == T1
    csv1, json1 = publish(T1)
    for name, recs in zip(collectors, (csv1, json1), strict=True):
        result = poll(collectors[name], store, config)
        assert result.ok, result.error
        reported[name].update({r.id: r for r in recs})
    model1 = Model([r for recs in reported.values() for r in recs.values()], rules)
    errors: list[str] = []
    check_figures(errors, history, model1, T1, [
        (None, D("2023-11-01"), T1, "month"),
        (None, D("2024-06-03"), D("2025-02-09"), "week"),
        (["sosiaali", "suun_th"], D("2024-09-01"), D("2025-01-31"), "month"),
    ])
    errors = [f"after the first poll: {e}" for e in errors]

    # -- the second poll, on 7.5.2025: the whole report again, some cases moved on -------------
    site_day(store, T2)
    csv2, json2 = publish(T2)
    expected_writes = {}
    for name, recs in zip(collectors, (csv2, json2), strict=True):
        before = reported[name]
        expected_writes[name] = sum(1 for r in recs if r.id not in before or before[r.id].stored() != r.stored())
        result = poll(collectors[name], store, config)
        assert result.ok, result.error
        reported[name].update({r.id: r for r in recs})
        # only the cases whose report changed were written again
        assert collectors[name].cases.written == expected_writes[name], name  # type: ignore[attr-defined]
    assert 0 < expected_writes["hoitoonpaasy-raportti"] < len(csv2)

    model = Model([r for recs in reported.values() for r in recs.values()], rules)
    check_figures(errors, history, model, T2, [
        (None, D("2023-11-01"), T2, "month"),
        (None, D("2024-03-01"), D("2025-05-31"), "week"),  # the range runs past today
        (None, D("2024-06-03"), D("2025-03-30"), "week"),
        (["vastaanotto"], D("2024-09-01"), D("2025-04-30"), "week"),
        (["sosiaali", "suun_th"], D("2024-03-01"), T2, "month"),
        (["mtpa"], D("2025-01-01"), T2, "month"),
        (["sosiaali"], D("2024-11-01"), D("2025-02-28"), "month"),
        (None, D("2024-06-05"), D("2025-02-12"), "week"),  # both ends within a week
        (None, D("2024-07-30"), D("2024-10-02"), "month"),  # and within months' first and last weeks
        (["vastaanotto"], D("2025-01-14"), D("2025-01-16"), "month"),  # inside one week of a month
    ])

    # the bad rows: counted by reason in the source status, not stored
    st = store.source_status("hoitoonpaasy-raportti")
    assert st.state == "ok"
    assert (st.items, st.items_read, st.items_unmapped) == (len(csv2), str(len(csv2) + len(BAD_CSV)), str(len(BAD_CSV)))
    assert detail(st.unmapped_detail) == dict(Counter(reason for _, reason in BAD_CSV))
    st = store.source_status("hoitoonpaasy-tiedosto")
    assert st.state == "ok"
    assert (st.items, st.items_unmapped) == (len(json2), str(len(BAD_JSON)))
    assert detail(st.unmapped_detail) == dict(Counter(reason for _, reason in BAD_JSON))

    # one row per case: the cases reported again replaced their first report
    assert_stored_cases(history, {name: list(recs.values()) for name, recs in reported.items()}, model)
    again = {r["case_key"]: r for r in stored(history)[0]}
    assert again[key_of("E-AGAIN-LATER")]["start"] == D("2025-03-10")
    assert again[key_of("E-AGAIN-LATER")]["days_to_start"] == 42
    assert again[key_of("E-AGAIN-URGENT")]["urgent"] == 0
    # the hand-picked judgements, spelled out (the model agrees with the product on them above)
    by_id = {r.id: {j.measure: (j.rule, j.deadline, j.within) for j in my_judgements(r, rules)}
             for r in model.recs}
    assert by_id["E-SUU-3011-IN"]["assessment_to_start"] == ("suun-hoito-3kk-all", D("2025-02-28"), True)
    assert by_id["E-SUU-3011-OUT"]["assessment_to_start"] == ("suun-hoito-3kk-all", D("2025-02-28"), False)
    assert by_id["E-SOS-3108-OUT"]["contact_to_start"] == ("sos-toimeenpano-3kk-all", D("2024-11-30"), False)
    assert by_id["E-SOS-LEAP-IN"]["contact_to_start"] == ("sos-toimeenpano-3kk-all", D("2024-02-29"), True)
    assert by_id["E-PTH-0211-IN"]["contact_to_assessment"] == ("pth-arvio-samana-pv-all", D("2024-11-04"), True)
    assert by_id["E-AGE-22"]["assessment_to_start"] == ("pth-hoito-14vrk-alle23", D("2025-01-28"), False)
    assert by_id["E-AGE-23"]["assessment_to_start"] == ("pth-hoito-3kk-23plus", D("2025-04-15"), True)
    assert by_id["E-RULE-3112"]["assessment_to_start"] == ("pth-hoito-14vrk-all", D("2025-01-14"), False)
    assert by_id["E-DT-NEWYEAR"]["assessment_to_start"] == ("pth-hoito-3kk-23plus", D("2025-04-01"), True)
    assert by_id["E-SOS-74"]["contact_to_assessment"] == (None, None, None)
    assert by_id["E-MT-3004"]["assessment_to_start"] == (None, None, None)
    assert by_id["E-MT-0205"]["assessment_to_start"] == ("mt-terapiatakuu-28vrk-alle23", D("2025-05-30"), True)

    # nothing personal stored: no case id (of a good or a bad row), no birth date
    ids = [r.id for r in world.csv_recs + world.json_recs] + [r.id for _, r in JSON_ONLY.values()]
    ids += [row["tapausnro"] for row, _ in BAD_CSV] + [row["case"] for row, _ in BAD_JSON]
    births = birth_texts(r.birth for r in world.csv_recs + world.json_recs)
    births |= {"1970-01-01", "1980-01-01", "5.5.1970"}
    assert_nothing_personal(history, ids + sorted(births))

    # every figure (both polls, every range) as the independent computation has it
    assert not errors, "\n".join(errors)


# -- FHIR ---------------------------------------------------------------------------------------

def hetu(birth: date | None, n: int) -> str:
    return f"{birth:%d%m%y}-9{n:03d}" if birth else f"010101-8{n:03d}"


def fhir_instant(case_id: str, name: str, day: date) -> str:
    how = crc(case_id, name) % 4
    if how == 0:
        return day.isoformat()
    if how == 1:
        return datetime.combine(day, time(8, 30), TZ).isoformat()
    if how == 2:  # 00.30 in Helsinki, the day before in UTC
        return datetime.combine(day, time(0, 30), TZ).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return datetime.combine(day, time(23, 15), TZ).astimezone(UTC).isoformat()


@dataclass
class FhirCase:
    rec: Rec
    patient: str
    authored: str | None = None  # as written, when not from rec.assessment
    birth_text: str | None = None  # as written, when not from rec.birth
    start_text: str | None = None
    noshow: date | None = None  # an earlier appointment that was not kept
    priority: str | None = None


def fhir_resources(cases: list[FhirCase], today: date, extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the server holds on `today`: the requests authored by then, the appointments that
    have taken place by then (and those cancelled), the patients."""
    out: list[dict[str, Any]] = []
    for n, fc in enumerate(cases):
        rec = clip(fc.rec, today)
        if rec is None or rec.assessment is None:
            continue
        pid = fc.patient
        out.append({"resourceType": "Patient", "id": pid,
                    "identifier": [{"system": "urn:oid:1.2.246.21", "value": hetu(fc.rec.birth, n)}],
                    "name": [{"family": "Virtanen", "given": ["Aino"]}],
                    **({"birthDate": fc.birth_text or fc.rec.birth.isoformat()} if fc.birth_text or fc.rec.birth else {})})
        priority = fc.priority or (["urgent", "asap", "stat"][n % 3] if rec.urgent else ["routine", None][n % 2])
        out.append({"resourceType": "ServiceRequest", "id": rec.id, "status": "active", "intent": "order",
                    "code": {"coding": [{"system": FHIR_SYSTEM, "code": FHIR_CODE[rec.service]}]},
                    "subject": {"reference": f"Patient/{pid}"},
                    "performer": [{"reference": f"Organization/{FHIR_ORG[rec.unit]}"}],
                    "authoredOn": fc.authored or fhir_instant(rec.id, "authored", rec.assessment),
                    "note": [{"text": f"Aino Virtanen {hetu(fc.rec.birth, n)}"}],
                    **({"priority": priority} if priority else {})})
        if fc.noshow is not None and fc.noshow <= today:
            out.append({"resourceType": "Appointment", "id": f"A0-{rec.id}",
                        "status": "booked" if rec.start is None and today < T2 else "noshow",
                        "start": fhir_instant(rec.id, "noshow", fc.noshow),
                        "basedOn": [{"reference": f"ServiceRequest/{rec.id}"}]})
        if crc(rec.id, "cancelled") % 5 == 0:  # an earlier time that was cancelled
            out.append({"resourceType": "Appointment", "id": f"AC-{rec.id}", "status": "cancelled",
                        "start": fhir_instant(rec.id, "c", rec.assessment),
                        "basedOn": [{"reference": f"ServiceRequest/{rec.id}"}]})
        if rec.start is not None:
            out.append({"resourceType": "Appointment", "id": f"A-{rec.id}",
                        "status": ["fulfilled", "arrived", "checked-in", "booked"][crc(rec.id, "s") % 4],
                        "start": fc.start_text or fhir_instant(rec.id, "start", rec.start),
                        "basedOn": [{"reference": f"ServiceRequest/{rec.id}"}]})
            if crc(rec.id, "second") % 4 == 0:  # a follow-up visit later: not the start
                out.append({"resourceType": "Appointment", "id": f"A2-{rec.id}", "status": "fulfilled",
                            "start": fhir_instant(rec.id, "second", min(rec.start + timedelta(days=20), today)),
                            "basedOn": [{"reference": f"ServiceRequest/{rec.id}"}]})
    return out + extra


def fhir_world() -> list[FhirCase]:
    rng = random.Random(19450510)
    units = list(FHIR_ORG)
    cases = [FhirCase(random_case(rng, f"SR-{i:05d}-{rng.randrange(16**6):06x}", rng.choice(units), fhir=True),
                      f"PAT-{i:05d}") for i in range(320)]

    def rec(cid: str, unit: str, assessment: str, start: str | None, birth: str | None = "1970-05-05",
            **kw: Any) -> Rec:
        return Rec(cid, unit, SERVICE_OF[unit], D(birth) if birth else None, assessment=D(assessment),
                   start=D(start) if start else None, **kw)

    cases += [
        FhirCase(rec("SR-SUU-3011-IN", "suun_th", "2024-11-30", "2025-02-28"), "PAT-E1"),
        # 22.30 UTC on 28.2. is 1.3. in Helsinki: a day late
        FhirCase(rec("SR-SUU-3011-OUT", "suun_th", "2024-11-30", "2025-03-01"), "PAT-E2",
                 start_text="2025-02-28T22:30:00Z"),
        # authored 22.30 UTC on 31.12.2024 is 1.1.2025 in Helsinki: the new rule (3 m), within
        FhirCase(rec("SR-RULE-NEW", "vastaanotto", "2025-01-01", "2025-02-20"), "PAT-E3",
                 authored="2024-12-31T22:30:00+00:00"),
        # 21.30 UTC is still 31.12. in Helsinki: the old rule (14 d), late
        FhirCase(rec("SR-RULE-OLD", "vastaanotto", "2024-12-31", "2025-01-20"), "PAT-E4",
                 authored="2024-12-31T21:30:00Z"),
        FhirCase(rec("SR-AGE-22", "vastaanotto", "2025-01-14", "2025-02-10", birth="2002-01-15"), "PAT-E5"),
        FhirCase(rec("SR-AGE-23", "vastaanotto", "2025-01-15", "2025-02-11", birth="2002-01-15"), "PAT-E5"),
        FhirCase(rec("SR-OPEN-1511", "vastaanotto", "2024-11-15", None), "PAT-E6"),
        FhirCase(rec("SR-OPEN-3101", "suun_th", "2025-01-31", None, birth="2005-05-05"), "PAT-E7"),
        FhirCase(rec("SR-NO-BIRTH", "vastaanotto", "2025-02-03", "2025-02-10", birth=None), "PAT-E8"),
        FhirCase(rec("SR-PARTIAL-BIRTH", "vastaanotto", "2025-02-04", "2025-02-11", birth=None), "PAT-E9",
                 birth_text="1970"),
        FhirCase(rec("SR-URGENT", "vastaanotto", "2025-03-03", "2025-03-03", urgent=True), "PAT-E10"),
        FhirCase(rec("SR-MT-3004", "mtpa", "2025-04-30", "2025-05-06", birth="2008-03-03"), "PAT-E11"),
        FhirCase(rec("SR-MT-0205", "mtpa", "2025-05-02", "2025-05-06", birth="2008-03-03"), "PAT-E11"),
        # reported again: booked for 3.2., not kept (noshow), the start became 10.3.
        FhirCase(rec("SR-AGAIN-LATER", "vastaanotto", "2025-01-27", "2025-03-10", birth="1985-08-08"), "PAT-E12",
                 noshow=D("2025-02-03")),
        *[FhirCase(rec(f"SR-BIN-{n}", "mtpa", "2024-10-07", str(D("2024-10-07") + timedelta(days=n))),
                   f"PAT-B{n}") for n in (0, 7, 8, 90, 91)],
    ]
    return cases


def fhir_first_report(fc: FhirCase) -> Rec | None:
    """The case as the first poll (T1) saw it."""
    rec = clip(fc.rec, T1)
    if rec is not None and fc.noshow is not None and fc.noshow <= T1 and rec.start is None:
        rec = replace(rec, start=fc.noshow)  # still booked for 3.2. then: the agreed start
    return rec


FHIR_BAD = [
    {"resourceType": "ServiceRequest", "id": "SR-BAD-ORDER", "status": "active", "intent": "order",
     "code": {"coding": [{"system": FHIR_SYSTEM, "code": "PTH"}]}, "subject": {"reference": "Patient/PAT-BAD"},
     "performer": [{"reference": "Organization/tk-vo"}], "authoredOn": "2024-10-05T10:00:00+03:00"},
    {"resourceType": "Appointment", "id": "A-BAD-ORDER", "status": "fulfilled", "start": "2024-10-01T10:00:00+03:00",
     "basedOn": [{"reference": "ServiceRequest/SR-BAD-ORDER"}]},
    {"resourceType": "ServiceRequest", "id": "SR-BAD-FUTURE", "status": "active", "intent": "order",
     "code": {"coding": [{"system": FHIR_SYSTEM, "code": "PTH"}]}, "subject": {"reference": "Patient/PAT-BAD"},
     "performer": [{"reference": "Organization/tk-vo"}], "authoredOn": "2025-06-02"},
    {"resourceType": "ServiceRequest", "id": "SR-BAD-SERVICE", "status": "active", "intent": "order",
     "code": {"coding": [{"system": FHIR_SYSTEM, "code": "FYSIO"}]}, "subject": {"reference": "Patient/PAT-BAD"},
     "performer": [{"reference": "Organization/tk-vo"}], "authoredOn": "2024-10-05"},
    {"resourceType": "ServiceRequest", "id": "SR-BAD-ERROR", "status": "entered-in-error", "intent": "order",
     "code": {"coding": [{"system": FHIR_SYSTEM, "code": "PTH"}]}, "subject": {"reference": "Patient/PAT-BAD"},
     "performer": [{"reference": "Organization/tk-vo"}], "authoredOn": "2024-10-05"},
    {"resourceType": "Patient", "id": "PAT-BAD", "birthDate": "1966-06-16"},
]
FHIR_BAD_REASONS = {"start before assessment": 1, "date in the future": 1,
                    "ServiceRequest: unknown service": 1, "ServiceRequest: entered-in-error": 1}


def load_fhir(server: FhirServer, resources: list[dict[str, Any]], day: date) -> None:
    server.resources.clear()
    for r in resources:
        server.put(r, datetime.combine(day, time(6, 0), TZ))


def raw_status(store: LiveStore, name: str) -> dict[str, str]:
    def text(x: Any) -> str:
        return x.decode() if isinstance(x, bytes) else str(x)

    return {text(k): text(v) for k, v in store.r.hgetall(store.k("source", name)).items()}


def test_fhir_source_gives_the_figures_of_an_independent_computation(
        backend: Backend, fhir_server: FhirServer, case_key: str) -> None:
    store, history = backend.store, backend.history
    config = parse_config(config_text(fhir_url=fhir_server.url), "hoitotakuu.toml")
    rules = my_rules()
    cases = fhir_world()
    collector = connected(collector_for(config.source("fhir-tapaukset"), config), config, history)
    name = "fhir-tapaukset"

    # -- the first poll ------------------------------------------------------------------------
    site_day(store, T1)
    load_fhir(fhir_server, fhir_resources(cases, T1, FHIR_BAD), T1)
    result = poll(collector, store, config)
    assert result.ok, result.error
    first = [r for r in (fhir_first_report(fc) for fc in cases) if r is not None]
    errors: list[str] = []
    model1 = Model(first, rules)
    check_figures(errors, history, model1, T1, [
        (None, D("2024-03-01"), T1, "month"),
        (["vastaanotto"], D("2024-06-03"), D("2025-02-09"), "week"),
    ])
    errors = [f"after the first poll: {e}" for e in errors]
    status = raw_status(store, name)
    assert detail(status.get("cases_bad_detail")) == FHIR_BAD_REASONS

    # -- the second poll: the appointment of 3.2. was not kept, the start became 10.3. -----------
    site_day(store, T2)
    load_fhir(fhir_server, fhir_resources(cases, T2, FHIR_BAD), T2)
    result = poll(collector, store, config)
    assert result.ok, result.error
    final = [r for r in (clip(fc.rec, T2) for fc in cases) if r is not None]
    model = Model(final, rules)
    check_figures(errors, history, model, T2, [
        (None, D("2024-03-01"), T2, "month"),
        (None, D("2024-06-03"), D("2025-03-30"), "week"),
        (["suun_th", "mtpa"], D("2024-09-01"), D("2025-04-30"), "week"),
        (["vastaanotto"], D("2024-11-01"), D("2025-02-28"), "month"),
    ])

    # the requests left out and the rows refused, by reason, in the source's status
    status = raw_status(store, name)
    assert status["state"] == "ok"
    assert detail(status.get("cases_bad_detail")) == FHIR_BAD_REASONS
    assert int(status["cases_bad"]) == sum(FHIR_BAD_REASONS.values())

    # one row per ServiceRequest, the newest report of each
    assert_stored_cases(history, {name: final}, model)
    rows = {r["case_key"]: r for r in stored(history)[0]}
    assert rows[key_of("SR-AGAIN-LATER")]["start"] == D("2025-03-10")
    assert rows[key_of("SR-PARTIAL-BIRTH")]["age_group"] == "unknown"
    assert rows[key_of("SR-AGE-22")]["age_group"] == "<23" and rows[key_of("SR-AGE-23")]["age_group"] == "23-74"
    assert rows[key_of("SR-SUU-3011-OUT")]["start"] == D("2025-03-01")
    assert rows[key_of("SR-RULE-NEW")]["assessment"] == D("2025-01-01")

    # nothing personal stored: no ServiceRequest or Patient id, no birth date, no identity code
    secrets = [fc.rec.id for fc in cases] + [fc.patient for fc in cases]
    secrets += [r["id"] for r in FHIR_BAD]
    secrets += [hetu(fc.rec.birth, n) for n, fc in enumerate(cases)] + ["Virtanen"]
    secrets += sorted(birth_texts(fc.rec.birth for fc in cases) | {"1966-06-16"})
    assert_nothing_personal(history, secrets)

    # every figure (both polls, every range) as the independent computation has it
    assert not errors, "\n".join(errors)


def test_a_fhir_case_waiting_for_a_booked_appointment_is_open_not_bad(
        backend: Backend, fhir_server: FhirServer, case_key: str) -> None:
    """PRODUCT.md: the start is "empty while not yet reached". A ServiceRequest whose first
    appointment is booked for a day after today is a case still waiting — open (past its limit
    when today is after the deadline) — not a row with a date in the future."""
    store, history = backend.store, backend.history
    config = parse_config(config_text(fhir_url=fhir_server.url), "hoitotakuu.toml")
    collector = connected(collector_for(config.source("fhir-tapaukset"), config), config, history)
    waiting = FhirCase(Rec("SR-WAITING", "vastaanotto", "perusterveydenhuolto", D("2008-03-03"),
                           assessment=D("2025-04-01")), "PAT-W")
    resources = fhir_resources([waiting], T2, [
        {"resourceType": "Appointment", "id": "A-WAITING", "status": "booked",
         "start": "2025-05-20T09:00:00+03:00", "basedOn": [{"reference": "ServiceRequest/SR-WAITING"}]}])
    site_day(store, T2)
    load_fhir(fhir_server, resources, T2)
    assert poll(collector, store, config).ok
    assert detail(raw_status(store, "fhir-tapaukset").get("cases_bad_detail")) == {}
    # under 23: 14 d from 1.4.2025 is 15.4., before today (7.5.)
    past = accessfigures.open_past(history, None, T2, by=("rule_id",))
    assert {g.rule_id: (o.count, o.oldest_deadline) for g, o in past.items()} == {
        "pth-hoito-14vrk-alle23": (1, D("2025-04-15"))}


# -- the configuration ------------------------------------------------------------------------

def small_config(rules: str) -> str:
    return f"""
[site]
timezone = "Europe/Helsinki"

[[units]]
code = "vastaanotto"
name = "Vastaanotto"
name_sv = "Mottagning"

[[sources]]
name = "hoitoonpaasy"
kind = "access"
address = "/srv/raportit/hoitoonpaasy.csv"
case_key_env = "{KEY_ENV}"

{rules}
"""


def rules_text(*blocks: tuple[str, str, str, str, str | None]) -> str:
    out = []
    for rid, measure, ages, valid_from, until in blocks:
        out.append(f'[[access.rules]]\nid = "{rid}"\nservice = "perusterveydenhuolto"\nmeasure = "{measure}"\n'
                   f'limit = "14 d"\nages = "{ages}"\nfrom = {valid_from}\n'
                   + (f"until = {until}\n" if until else "") + 'law = "Terveydenhuoltolaki 51 a §"\n')
    return "\n".join(out)


def test_overlapping_rule_versions_are_refused_with_the_file_the_key_and_the_reason(case_key: str) -> None:
    # the versions meet without overlapping: accepted
    fine = rules_text(("vanha", "assessment_to_start", "all", "2023-09-01", "2024-12-31"),
                      ("uusi-23", "assessment_to_start", ">=23", "2025-01-01", None),
                      ("uusi-alle23", "assessment_to_start", "<23", "2025-01-01", None),
                      ("arvio", "contact_to_assessment", "all", "2023-09-01", None))
    config: Config = parse_config(small_config(fine), "hoitotakuu.toml")
    assert len(config.access.versions()) == 4

    cases = [
        # the old version runs into the new one's first day, for ages 23 and over
        (("vanha", "assessment_to_start", "all", "2023-09-01", "2025-01-01"),
         ("uusi-23", "assessment_to_start", ">=23", "2025-01-01", None), "vanha", "uusi-23"),
        # open-ended twice, "all" against ">=75"
        (("kaikki", "contact_to_assessment", "all", "2023-09-01", None),
         ("vanhat", "contact_to_assessment", ">=75", "2024-06-01", "2024-12-31"), "kaikki", "vanhat"),
    ]
    for a, b, first_id, second_id in cases:
        text = small_config(rules_text(("arvio-muu", "decision_to_start", "all", "2022-01-01", None), a, b))
        with pytest.raises(ConfigError) as caught:
            parse_config(text, "/etc/ohjaustaulu/hoitotakuu.toml")
        problems = [p for p in caught.value.problems if "overlap" in p.reason]
        assert len(problems) == 1, caught.value.problems
        p = problems[0]
        assert p.file == "/etc/ohjaustaulu/hoitotakuu.toml"
        assert p.key == "access.rules[2]"  # the later of the two, by its place in the file
        assert f"{second_id!r} overlaps {first_id!r}" in p.reason and "access.rules[1]" in p.reason
        assert str(caught.value).startswith("/etc/ohjaustaulu/hoitotakuu.toml: access.rules[2]: ")

    # different measures or ages that do not meet never overlap
    apart = rules_text(("alle23", "assessment_to_start", "<23", "2023-09-01", None),
                       ("yli23", "assessment_to_start", ">=23", "2023-09-01", None),
                       ("yli75", "contact_to_assessment", ">=75", "2023-09-01", None))
    assert len(parse_config(small_config(apart), "hoitotakuu.toml").access.rules) == 3
