"""The demo's patient and client system's access-to-care report: a year and a bit of cases per
unit, as the system would report them today (a date not reached yet is empty), in the shape
of the `access` feed (PRODUCT.md). Deterministic: the same day gives the same cases, so a
poll reports again what moved only.

Shaped like real days: contacts on working days (fewer in July and at Christmas), most
assessed within a working day or two, treatment mostly within the limits but slower in the
summer weeks, a tenth urgent, some cases still open and some past their limit.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.domain.clock import is_working_day, next_working_days

DAYS_BACK = 430
CONTACTS = {"perusterveydenhuolto": 14, "suun_terveydenhuolto": 8, "mielenterveys": 5, "sosiaalipalvelut": 4}


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _age(rng: random.Random, service: str) -> int:
    if service == "mielenterveys":
        return rng.randint(13, 22) if rng.random() < 0.55 else rng.randint(23, 70)
    if service == "sosiaalipalvelut":
        return rng.randint(75, 96) if rng.random() < 0.6 else rng.randint(18, 74)
    r = rng.random()
    return rng.randint(0, 22) if r < 0.18 else rng.randint(75, 95) if r > 0.78 else rng.randint(23, 74)


def _slow(day: date) -> float:
    """Summer holidays and the turn of the year make waits longer."""
    if day.month == 7 or (day.month == 6 and day.day > 20) or (day.month == 8 and day.day < 10):
        return 1.8
    if (day.month == 12 and day.day > 18) or (day.month == 1 and day.day < 7):
        return 1.4
    return 1.0


def _treatment_days(rng: random.Random, service: str, day: date) -> int:
    typical = {"perusterveydenhuolto": 9, "suun_terveydenhuolto": 35, "mielenterveys": 14,
               "sosiaalipalvelut": 30}[service]
    return max(0, int(rng.expovariate(1 / (typical * _slow(day)))))


def case_rows(unit: str, service: str, now: datetime, tz: ZoneInfo) -> list[dict[str, object]]:
    """The report of `unit`'s cases of `service` as of `now`."""
    today = now.astimezone(tz).date()
    rows: list[dict[str, object]] = []
    for back in range(DAYS_BACK, -1, -1):
        day = today - timedelta(days=back)
        if not is_working_day(day):
            continue
        rng = _rng("cases", unit, service, day)
        mean = CONTACTS[service] * (0.6 if day.month == 7 else 1.0)
        for i in range(max(0, int(rng.gauss(mean, mean ** 0.5)))):
            urgent = rng.random() < 0.1
            age = _age(rng, service)
            late = rng.random() < 0.06 * _slow(day)
            # assessed the same working day (the law since 1.9.2023), a late few days after
            wd = 0 if urgent else (rng.choice([1, 2, 4, 9]) if late else 0)
            assessment = day if wd == 0 else next_working_days(day, wd)[-1]
            decision = None
            if service == "sosiaalipalvelut":
                decision = assessment + timedelta(days=rng.randint(3, 20))
                start = decision + timedelta(days=_treatment_days(rng, service, decision))
            else:
                start = assessment + timedelta(days=0 if urgent else _treatment_days(rng, service, assessment))
            row = {"case": f"{unit}-{service}-{day.isoformat()}-{i}", "unit": unit, "service": service,
                   "age": age, "urgent": "kyllä" if urgent else "ei",
                   "contact": day.isoformat(),
                   "assessment": assessment.isoformat() if assessment <= today else "",
                   "decision": decision.isoformat() if decision and decision <= today and assessment <= today else "",
                   "start": start.isoformat() if start <= today and assessment <= today else ""}
            if service == "sosiaalipalvelut" and not row["decision"]:
                row["start"] = ""
            rows.append(row)
    return rows
