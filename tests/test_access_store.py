"""Access to care in the history database beyond the figures (tests/test_access_figures.py):
the forecasts kept nightly, the judgements made again when the rules change, the Sotkanet
reference figures imported from the command line — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dashboard.config import parse_config
from dashboard.domain import accessfigures
from dashboard.domain.carecases import Case
from dashboard.domain.forecast import forecast
from dashboard.storage.tables import (
    AccessCase,
    AccessClosedCount,
    AccessJudgement,
    AccessReference,
    AccessStartCount,
)
from tests.conftest import Backend, cli

pytestmark = pytest.mark.store

CONFIG = """
[[units]]
code = "vo"
name = "Vastaanotto"
name_sv = "Mottagning"

[[units]]
code = "suu"
name = "Suun terveydenhuolto"
name_sv = "Munhälsovård"

[[access.rules]]
id = "hoito-14vrk"
service = "pth"
measure = "assessment_to_start"
limit = "14 d"
from = 2024-01-01
law = "testilaki 1 §"
"""
TODAY = date(2026, 3, 4)  # a Wednesday


def cases_over_weeks(weeks: int) -> list[Case]:
    """Each week, ten cases of each unit; in week k, k % 4 of them late (20 days)."""
    out = []
    first = TODAY - timedelta(weeks=weeks)
    for k in range(weeks):
        monday = first - timedelta(days=first.weekday()) + timedelta(weeks=k)
        for unit in ("vo", "suu"):
            for i in range(10):
                late = i < k % 4
                out.append(Case(f"{unit}-{k}-{i}", unit, "pth", "23-74", False, None, monday - timedelta(days=21 if late else 3),
                                None, monday + timedelta(days=1)))
    return out


def test_the_forecasts_are_those_of_the_weekly_series_and_say_when_history_is_too_short(backend: Backend):
    config = parse_config(CONFIG, "site.toml")
    rules = config.access.versions()
    accessfigures.write_cases(backend.history, "s", cases_over_weeks(30), rules)
    n = accessfigures.refit_forecasts(backend.history, ["vo", "suu"], TODAY)
    assert n == 6  # all units and each unit, two series each
    stored = accessfigures.forecasts(backend.history, "vo")
    # the weekly share, recomputed here the obvious way: each complete week before this one
    last_sunday = TODAY - timedelta(days=TODAY.weekday() + 1)
    shares = []
    for k in range(30):
        monday = TODAY - timedelta(weeks=30) - timedelta(days=(TODAY - timedelta(weeks=30)).weekday()) + timedelta(weeks=k)
        if monday + timedelta(days=6) > last_sunday:
            break
        shares.append((10 - k % 4) / 10)
    expected = forecast(shares, 8, 0.8, kind="share")
    assert expected is not None
    body = stored["share"]
    assert body["points"] == pytest.approx(expected.points) and body["low"] == pytest.approx(expected.low)
    assert body["high"] == pytest.approx(expected.high) and body["method"] == expected.method
    assert body["weeks"][0] == str(TODAY - timedelta(days=TODAY.weekday()))  # from this week on
    assert len(body["weeks"]) == 8 and all(lo <= p <= hi for lo, p, hi in zip(body["low"], body["points"], body["high"], strict=True))
    # a unit with three weeks of cases: no forecast, and it says so
    accessfigures.write_cases(backend.history, "t", [Case(c.key + "x", "suu", c.service, c.age_group, False, None,
                                                          c.assessment, None, c.start)
                                                     for c in cases_over_weeks(3)], rules)
    other = parse_config(CONFIG.replace('code = "suu"', 'code = "uusi"'), "site.toml")
    accessfigures.write_cases(backend.history, "u", [Case("n1", "uusi", "pth", "23-74", False, None,
                                                          TODAY - timedelta(days=10), None, TODAY - timedelta(days=8))],
                              other.access.versions())
    accessfigures.refit_forecasts(backend.history, ["vo", "uusi"], TODAY)
    assert accessfigures.forecasts(backend.history, "uusi")["share"].get("too_little") is True
    assert "points" not in accessfigures.forecasts(backend.history, "uusi")["share"]


def test_changed_rules_judge_every_case_again_once(backend: Backend):
    config = parse_config(CONFIG, "site.toml")
    accessfigures.ensure_judged(backend.history, config.access.versions())
    accessfigures.write_cases(backend.history, "s", cases_over_weeks(6), config.access.versions())

    def within() -> int:
        with backend.history.engine.connect() as conn:
            return int(conn.execute(select(func.sum(AccessJudgement.within))).scalar() or 0)

    strict = within()
    assert accessfigures.ensure_judged(backend.history, config.access.versions()) == 0  # nothing changed
    looser = parse_config(CONFIG.replace('limit = "14 d"', 'limit = "30 d"'), "site.toml")
    assert accessfigures.ensure_judged(backend.history, looser.access.versions()) == 120
    assert within() == 120 > strict  # the late ones (20 days) are within 30 days
    assert accessfigures.ensure_judged(backend.history, looser.access.versions()) == 0
    with backend.history.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AccessJudgement)).scalar() == 120  # not doubled


SOTKANET = ("Indikaattori;Alue;Vuosi;Arvo\n"
            "Perusterveydenhuollon kiireettömät lääkärikäynnit, odotusaika yli 7 pv hoidon tarpeen arvioinnista (%);"
            "Koko maa;2024;57,3\n"
            "Perusterveydenhuollon kiireettömät lääkärikäynnit, odotusaika yli 7 pv hoidon tarpeen arvioinnista (%);"
            "Itä-Uudenmaan hyvinvointialue;2024;61,0\n")


def references(backend: Backend) -> list[tuple[str, str, float]]:
    with backend.history.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(AccessReference.region, AccessReference.period,
                                                      AccessReference.value).order_by(AccessReference.region))]


Tallies = dict[tuple[object, ...], tuple[int, int, tuple[tuple[int, int], ...]]]


def _final(raw: dict[tuple[object, ...], list[Any]]) -> Tallies:
    out: Tallies = {}
    for key, (n, within, days) in raw.items():
        hist = tuple(sorted((d, c) for d, c in days.items() if c))
        if n or within or hist:
            out[key] = (n, within, hist)
    return out


def counted(backend: Backend) -> tuple[Tallies, Tallies, int]:
    """The counts as the figures read them (added up, nothing left where it came to 0), and how
    many rows hold them."""
    k, s = AccessClosedCount, AccessStartCount
    closed: dict[tuple[object, ...], list[Any]] = defaultdict(lambda: [0, 0, Counter()])
    starts: dict[tuple[object, ...], list[Any]] = defaultdict(lambda: [0, 0, Counter()])
    rows = 0
    with backend.history.engine.connect() as conn:
        for *key, n, within, days in conn.execute(select(k.day_from, k.day_to, k.week, k.month, k.unit, k.service,
                                                         k.age_group, k.urgent, k.measure, k.rule_id, k.n,
                                                         k.within_n, k.days)):
            t = closed[tuple(key)]
            t[0] += n
            t[1] += within
            flat = json.loads(days)
            for d, c in zip(flat[::2], flat[1::2], strict=True):
                t[2][d] += c
            rows += 1
        for *key, n, days in conn.execute(select(s.day_from, s.day_to, s.week, s.month, s.unit, s.service,
                                                 s.age_group, s.urgent, s.n, s.days)):
            t = starts[tuple(key)]
            t[0] += n
            flat = json.loads(days)
            for d, c in zip(flat[::2], flat[1::2], strict=True):
                t[2][d] += c
            rows += 1
    return _final(closed), _final(starts), rows


def recounted(backend: Backend) -> tuple[Tallies, Tallies]:
    """The same counted here one judgement and one case at a time, the obvious way."""
    def part(day: date) -> tuple[date, date, date, date]:
        week, month = day - timedelta(days=day.weekday()), day.replace(day=1)
        days = [week + timedelta(days=i) for i in range(7)]
        inside = [d for d in days if d.replace(day=1) == month]
        return inside[0], inside[-1], week, month

    closed: dict[tuple[object, ...], list[Any]] = defaultdict(lambda: [0, 0, Counter()])
    starts: dict[tuple[object, ...], list[Any]] = defaultdict(lambda: [0, 0, Counter()])
    with backend.history.engine.connect() as conn:
        for j in conn.execute(select(AccessJudgement.__table__)):
            if j.end is not None:
                t = closed[(*part(j.end), j.unit, j.service, j.age_group, j.urgent, j.measure, j.rule_id)]
                t[0] += 1
                t[1] += 1 if j.within else 0
                t[2][j.days] += 1
        for c in conn.execute(select(AccessCase.__table__)):
            if c.start is not None and c.days_to_start is not None:
                t = starts[(*part(c.start), c.unit, c.service, c.age_group, c.urgent)]
                t[0] += 1
                t[2][c.days_to_start] += 1
    return _final(closed), _final(starts)


def test_the_counts_follow_cases_reported_again_from_two_sources_at_once_and_survive_compaction(backend: Backend):
    """The access page reads counts kept beside the judgements: reports that move a case's
    start, make it urgent, move it to another unit or open it again, written by two sources at
    the same time, leave them equal to a count of the judgements; the nightly compaction sums
    them into fewer rows and changes no figure; changed rules make them again."""
    config = parse_config(CONFIG, "site.toml")
    rules = config.access.versions()
    rng = random.Random(15)

    def report(source: str, n: int, day0: date) -> list[Case]:
        out = []
        for i in range(n):
            assessment = day0 + timedelta(days=rng.randrange(0, 90))
            start = assessment + timedelta(days=rng.randrange(0, 40)) if rng.random() < 0.9 else None
            out.append(Case(f"{source}-{i}", rng.choice(["vo", "suu"]), "pth", rng.choice(["0-22", "23-74", "75-"]),
                            rng.random() < 0.1, assessment - timedelta(days=rng.randrange(0, 3)), assessment,
                            None, start))
        return out

    first = {name: report(name, 400, date(2025, 12, 1)) for name in ("a", "b")}
    for name, cases in first.items():
        accessfigures.write_cases(backend.history, name, cases, rules)
    again = {name: report(name, 400, date(2026, 1, 15)) for name in ("a", "b")}  # the same keys, new dates
    failed: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for i in range(0, 400, 50):  # as polls do: a batch at a time
                accessfigures.write_cases(backend.history, name, again[name][i:i + 50], rules)
        except BaseException as e:  # noqa: BLE001 — reported below
            failed.append(e)

    threads = [threading.Thread(target=write, args=(name,)) for name in again]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == []
    closed, starts, rows = counted(backend)
    want_closed, want_starts = recounted(backend)
    assert closed == want_closed and starts == want_starts
    assert sum(n for n, _, _ in want_closed.values()) > 600 and len(want_starts) > 50  # it counts something

    removed = accessfigures.compact_counts(backend.history)
    closed_after, starts_after, rows_after = counted(backend)
    assert closed_after == want_closed and starts_after == want_starts
    assert removed > 0 and rows_after == rows - removed
    assert rows_after == len(want_closed) + len(want_starts)  # one row a group: nothing left to sum
    assert accessfigures.compact_counts(backend.history) == 0  # nothing changed since

    looser = parse_config(CONFIG.replace('limit = "14 d"', 'limit = "30 d"'), "site.toml")
    assert accessfigures.ensure_judged(backend.history, looser.access.versions()) == 800
    closed, starts, rows = counted(backend)
    assert (closed, starts) == recounted(backend) and rows == len(closed) + len(starts)


def test_reference_import_stores_a_whole_file_or_nothing(backend: Backend, tmp_path: Path):
    good = tmp_path / "sotkanet.csv"
    good.write_text(SOTKANET, encoding="utf-8-sig")
    done = cli("reference", "import", str(good), env=backend.cli_env())
    assert done.returncode == 0, done.stderr
    assert "2 vertailulukua tallennettu" in done.stdout  # in the site's language
    assert references(backend) == [("Itä-Uudenmaan hyvinvointialue", "2024", 61.0), ("Koko maa", "2024", 57.3)]
    # a file with one good row and two bad ones: refused whole, each problem by line and column
    bad = tmp_path / "huono.csv"
    bad.write_text(SOTKANET.replace("Koko maa;2024;57,3", "Koko maa;2025;56,0").replace(";2024;61,0", ";20x4;abc"),
                   encoding="utf-8")
    refused = cli("reference", "import", str(bad), env=backend.cli_env())
    assert refused.returncode == 1
    assert "rivi 3, sarake Vuosi" in refused.stderr and "'20x4'" in refused.stderr
    assert "rivi 3, sarake Arvo" in refused.stderr and "'abc'" in refused.stderr
    assert references(backend) == [("Itä-Uudenmaan hyvinvointialue", "2024", 61.0), ("Koko maa", "2024", 57.3)]
    # the same figure imported again replaces the old one; a dry run stores nothing
    again = tmp_path / "uusi.csv"
    again.write_text(SOTKANET.replace("57,3", "55,5"), encoding="utf-8")
    assert cli("reference", "import", str(again), "--dry-run", env=backend.cli_env()).returncode == 0
    assert ("Koko maa", "2024", 57.3) in references(backend)
    assert cli("reference", "import", str(again), env=backend.cli_env()).returncode == 0
    assert ("Koko maa", "2024", 55.5) in references(backend) and len(references(backend)) == 2
    english = cli("reference", "import", str(bad), "--lang", "en", env=backend.cli_env())
    assert english.returncode == 1 and "line 3" in english.stderr.lower()
    missing = cli("reference", "import", str(tmp_path / "ei-ole.csv"), env=backend.cli_env())
    assert missing.returncode == 2 and "ei-ole.csv" in missing.stderr
    # and every import is in the audit log
    from dashboard.storage.audit import entries

    logged = entries(backend.history, action="reference-import")
    assert [x["details"]["figures"] for x in logged] == [2, 2] and {x["details"]["file"] for x in logged} == {
        "sotkanet.csv", "uusi.csv"}
