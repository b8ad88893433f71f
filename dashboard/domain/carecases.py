"""Access to care (hoitotakuu), case by case: PRODUCT.md "Access to care".

A *case* is one person's path through one service: contact, care-need assessment, decision
(social services) and start of treatment or service. A case is judged, for each measure its
service has rules for, by the version of `[[access.rules]]` in force — for its service and age
group — on the date its measured interval began. This module is pure: the record a feed gives
(`case_from_record`), the deadline of a limit (`deadline`), and the judgement
(`judge`). Storage and the figures are in dashboard/storage/history.py and dashboard/domain/accessfigures.py.

What leaves the collector is only: unit, service, age group (computed here from the birth date
or age, which are then dropped), urgent or not, the four dates and the case key — an HMAC of
the source's own case id with a secret named by the source's `case_key_env`, so that a case
reported again matches and nobody can read an id back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.domain.clock import is_working_day
from dashboard.translate import N_, _

MEASURES: dict[str, tuple[str, str]] = {  # measure -> (the date it begins at, the date it ends at)
    "contact_to_assessment": ("contact", "assessment"),
    "assessment_to_start": ("assessment", "start"),
    "decision_to_start": ("decision", "start"),
    "contact_to_start": ("contact", "start"),
}
DATES = ("contact", "assessment", "decision", "start")
AGES = ("all", "<23", ">=23", ">=75")
# the age groups a case is put in: the rules' age bounds (23 and 75) cut the years
AGE_GROUPS = ("<23", "23-74", ">=75", "unknown")
AGE_MATCH = {"all": set(AGE_GROUPS), "<23": {"<23"}, ">=23": {"23-74", ">=75"}, ">=75": {">=75"}}
# the age groups and a limit's words for people (dashboard/translate.py: `_()` where shown)
AGE_GROUP_TEXT = {"<23": N_("alle 23 v"), "23-74": N_("23–74 v"), ">=75": N_("75 v täyttäneet"),
                  "unknown": N_("ikä ei tiedossa")}
LIMIT_WORDS = {"wd": (N_("{n} arkipäivä"), N_("{n} arkipäivää")), "d": (N_("{n} vuorokausi"), N_("{n} vuorokautta")),
               "m": (N_("{n} kuukausi"), N_("{n} kuukautta"))}  # (one, many)
DEFAULT_BINS = (0, 7, 14, 28, 90)  # days from assessment to start: 0, 1–7, 8–14, 15–28, 29–90, over 90
LIMIT = re.compile(r"^\s*(\d{1,4})\s*(wd|d|m)\s*$")
TRUE = {"true", "1", "kyllä", "kylla", "k", "yes", "y", "ja", "x"}
FALSE = {"false", "0", "ei", "e", "no", "n", "nej", ""}


@dataclass(frozen=True)
class Limit:
    count: int
    unit: str  # "wd" working days, "d" calendar days, "m" calendar months

    @classmethod
    def parse(cls, text: str) -> Limit:
        m = LIMIT.match(text)
        if not m:
            raise ValueError(f'limit {text!r} is not "N wd", "N d" or "N m"')
        return cls(int(m.group(1)), m.group(2))

    def text(self) -> str:
        """"14 vuorokautta", "1 kuukausi" in the request's language."""
        one, many = LIMIT_WORDS[self.unit]
        return _(one if self.count == 1 else many, n=self.count)


def deadline(begin: date, limit: Limit) -> date:
    """The last day within the limit, for an interval that began on `begin`:
    `N wd` the Nth working day after it (`0 wd`: that day, or the next working day when it is
    not one); `N d` the date plus N days; `N m` the same day of the month N months later, or
    that month's last day when it has no such day."""
    if limit.unit == "d":
        return begin + timedelta(days=limit.count)
    if limit.unit == "m":
        months = begin.month - 1 + limit.count
        year, month = begin.year + months // 12, months % 12 + 1
        return date(year, month, min(begin.day, monthrange(year, month)[1]))
    day, left = begin, limit.count
    if left == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


@dataclass(frozen=True)
class RuleVersion:
    id: str
    service: str
    measure: str
    limit: Limit
    ages: str
    valid_from: date
    valid_until: date | None
    law: str

    def applies(self, service: str, measure: str, age_group: str, on: date) -> bool:
        return (self.service == service and self.measure == measure
                and age_group in AGE_MATCH[self.ages]
                and self.valid_from <= on and (self.valid_until is None or on <= self.valid_until))


def overlaps(rules: list[RuleVersion]) -> list[tuple[RuleVersion, RuleVersion]]:
    """Pairs of versions for the same service and measure whose ages and dates overlap."""
    out = []
    for i, a in enumerate(rules):
        for b in rules[i + 1:]:
            if a.service != b.service or a.measure != b.measure:
                continue
            if not AGE_MATCH[a.ages] & AGE_MATCH[b.ages]:
                continue
            a_end = a.valid_until or date.max
            b_end = b.valid_until or date.max
            if a.valid_from <= b_end and b.valid_from <= a_end:
                out.append((a, b))
    return out


@dataclass(frozen=True)
class Case:
    key: str
    unit: str
    service: str
    age_group: str
    urgent: bool
    contact: date | None = None
    assessment: date | None = None
    decision: date | None = None
    start: date | None = None

    def date_of(self, name: str) -> date | None:
        value: date | None = getattr(self, name)
        return value

    @property
    def days_to_start(self) -> int | None:
        """Calendar days from assessment to start (the THL bins)."""
        if self.assessment is None or self.start is None:
            return None
        return (self.start - self.assessment).days


@dataclass(frozen=True)
class Judgement:
    measure: str
    rule_id: str | None  # None: urgent (counted apart) or no rule in force
    begin: date
    end: date | None
    deadline: date | None
    within: bool | None  # None while open, and for urgent cases

    @property
    def days(self) -> int | None:
        return None if self.end is None else (self.end - self.begin).days


def judge(case: Case, rules: list[RuleVersion]) -> list[Judgement]:
    """One judgement per measure that the case's service has rules for and whose beginning the
    case has reached. An urgent case is measured but not judged against the non-urgent limits."""
    out = []
    for measure in sorted({r.measure for r in rules if r.service == case.service}):
        first, last = MEASURES[measure]
        begin = case.date_of(first)
        if begin is None:
            continue
        end = case.date_of(last)
        if case.urgent:
            out.append(Judgement(measure, None, begin, end, None, None))
            continue
        rule = next((r for r in rules if r.applies(case.service, measure, case.age_group, begin)), None)
        if rule is None:
            out.append(Judgement(measure, None, begin, end, None, None))
            continue
        due = deadline(begin, rule.limit)
        out.append(Judgement(measure, rule.id, begin, end, due, None if end is None else end <= due))
    return out


def age_group(years: int | None) -> str:
    if years is None:
        return "unknown"
    return "<23" if years < 23 else ">=75" if years >= 75 else "23-74"


def completed_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def case_key(secret: bytes, source_id: str) -> str:
    """The HMAC-SHA256 of the source's own case id: the same id always gives the same key."""
    return hmac.new(secret, source_id.encode("utf-8"), hashlib.sha256).hexdigest()


class BadCase(ValueError):
    """A case row that is counted as bad in the source status (never fatal)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def parse_date(value: Any, tz: ZoneInfo, name: str) -> date | None:
    """ISO (`2026-11-23`), Finnish (`23.11.2026`) or a date-time (by its date in the site's
    zone; a date-time without an offset is the site's own time); empty: not reached yet."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(tz).date() if moment.tzinfo else moment.date()
    except ValueError:
        raise BadCase("bad date", f"{name} {text[:40]!r}") from None


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise BadCase("bad urgent", repr(str(value)[:20]))


@dataclass
class CaseReader:
    """Turns a feed's records into cases: maps the unit, checks the service, computes the age
    group and drops the birth date, keys the case by HMAC, and refuses the rows PRODUCT.md
    counts as bad (a start before its assessment, a date in the future, an unknown service)."""

    secret: bytes
    services: set[str]
    tz: ZoneInfo
    unit_map: dict[str, str] = field(default_factory=dict)
    units: set[str] = field(default_factory=set)

    def read(self, record: dict[str, Any], today: date) -> Case:
        raw_id = record.get("case")
        if raw_id is None or not str(raw_id).strip():
            raise BadCase("no case id")
        raw_unit = str(record.get("unit") or "").strip()
        unit = self.unit_map.get(raw_unit, raw_unit)
        if unit not in self.units:
            raise BadCase("unknown unit", repr(raw_unit[:40]))
        service = str(record.get("service") or "").strip()
        if service not in self.services:
            raise BadCase("unknown service", repr(service[:40]))
        dates = {name: parse_date(record.get(name), self.tz, name) for name in DATES}
        future = [n for n, d in dates.items() if d is not None and d > today]
        if future:
            raise BadCase("date in the future", future[0])
        if dates["assessment"] and dates["start"] and dates["start"] < dates["assessment"]:
            raise BadCase("start before assessment")
        if dates["contact"] and dates["assessment"] and dates["assessment"] < dates["contact"]:
            raise BadCase("assessment before contact")
        if dates["decision"] and dates["start"] and dates["start"] < dates["decision"]:
            raise BadCase("start before decision")
        first = dates["contact"] or dates["assessment"] or dates["decision"]
        years: int | None = None
        if record.get("birth_date") not in (None, ""):
            birth = parse_date(record.get("birth_date"), self.tz, "birth_date")
            if birth is not None and first is not None:
                years = completed_years(birth, first)
        elif record.get("age") not in (None, ""):
            try:
                years = int(float(str(record.get("age")).replace(",", ".")))
            except ValueError:
                raise BadCase("bad age", repr(str(record.get("age"))[:10])) from None
            if not 0 <= years <= 130:
                raise BadCase("bad age", str(years))
        return Case(case_key(self.secret, str(raw_id).strip()), unit, service, age_group(years),
                    parse_bool(record.get("urgent")), **dates)


def bin_edges_text(edges: tuple[int, ...]) -> list[str]:
    """The bins' names: (0, 7, 14, 28, 90) -> "0", "1–7", "8–14", "15–28", "29–90", "yli 90"."""
    names, low = [], 0
    for i, edge in enumerate(edges):
        names.append(str(edge) if i == 0 and edge == 0 else f"{low}\u2013{edge}")
        low = edge + 1
    names.append(f"yli {edges[-1]}")
    return names


def bin_of(days: int, edges: tuple[int, ...]) -> int:
    """The index of the bin `days` falls in: the first edge it is not above, else the last."""
    for i, edge in enumerate(edges):
        if days <= edge:
            return i
    return len(edges)
