"""Access-to-care cases in the history database, and the figures a manager reads of them.

Writing: `write_cases` keeps the newest report of each case (by source and case key) and its
judgements by the rule versions (dashboard/domain/carecases.py). The judgements are made when a case
is written; when `[[access.rules]]` change, `ensure_judged` judges every case again (once, at
start, like the rollups' rebuild). The counts (AccessClosedCount, AccessStartCount) add the
judgements and the starts up by the days of a week in one month: `write_cases` puts on the new
ones and takes off those a case reported again no longer has, `ensure_judged` makes them again,
`compact_counts` (nightly) sums each group's changes into one row. A figure over a range reads
the counts of the week-in-month parts wholly inside it and the judgements of the days at its
edges, and is the same as if every judgement were read.

Reading — what each figure means (the page says the same):
- **started** (hoito/palvelu alkanut): the cases whose measured interval *ended* in the period
  (for `assessment_to_start`: treatment started), non-urgent, judged by a rule;
- **within** (määräajassa): of those, the share whose end was on or before the deadline of the
  rule version in force on the day the interval began;
- **median / 90th percentile** of the calendar days from the interval's beginning to its end
  (linear interpolation between the closest ranks, as `statistics.quantiles(method="inclusive")`);
- **bins**: the started cases (urgent ones apart) by calendar days from assessment to start,
  0, 1–7, 8–14, 15–28, 29–90, over 90 (`[access] bins`);
- **open past the limit**: the open non-urgent cases whose deadline is before today, their
  count and the oldest (the earliest deadline);
- **urgent**: urgent cases are counted apart, never judged against the non-urgent limits.
Periods are ISO weeks (Monday to Sunday) or calendar months, by the site's local dates.
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection

from dashboard.domain.carecases import Case, RuleVersion, bin_of, judge
from dashboard.storage.history import MIGRATION_LOCK, History, _migration_lock
from dashboard.storage.tables import (
    AccessCase,
    AccessClosedCount,
    AccessJudgement,
    AccessStartCount,
    RollupState,
)

CHUNK = 500
ACCESS_LOCK = 7_246_015  # PostgreSQL advisory lock key: writers of the access tables take turns


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def period_of(day: date, period: str) -> date:
    return monday(day) if period == "week" else month_start(day)


def month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def segment(week: date, month: date) -> tuple[date, date]:
    """The first and last day of the days of the ISO week of Monday `week` in the month `month`
    begins (the parts the counts add up by: whole weeks and whole months are made of them)."""
    return max(week, month), min(week + timedelta(days=6), month_end(month))


def _parts(start: date, end: date) -> list[tuple[date, date]]:
    """The days from `start` to `end` that are not a whole week-in-month part (at the range's
    edges): those are read from the judgements and cases, the rest from the counts."""
    edges, day = [], start
    while day <= end:
        first, last = segment(monday(day), month_start(day))
        if first < start or last > end:
            edges.append((day, min(last, end)))
        day = last + timedelta(days=1)
    return edges


def _write_lock(conn: Connection) -> None:
    """Writers of the access tables (and of their counts) take turns, to the end of the
    transaction: a count is only right if no other writer changes what it counts meanwhile."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": ACCESS_LOCK})
    else:  # SQLite: a transaction's first write statement takes the database's write lock
        conn.execute(text("DELETE FROM access_closed_counts WHERE 1 = 0"))


ClosedKey = tuple[date, date, str, str, str, int, str, str | None, int | None, int | None]
StartKey = tuple[date, date, str, str, str, int, int]


def _closed_key(end: date, unit: str, service: str, age: str, urgent: int, measure: str,
                rule_id: str | None, within: int | None, days: int | None) -> ClosedKey:
    return (monday(end), month_start(end), unit, service, age, int(urgent), measure, rule_id,
            None if within is None else int(within), days)


def _start_key(start: date, unit: str, service: str, age: str, urgent: int, days: int) -> StartKey:
    return (monday(start), month_start(start), unit, service, age, int(urgent), int(days))


CLOSED_GROUP = ("week", "month", "unit", "service", "age_group", "urgent", "measure", "rule_id")
START_GROUP = ("week", "month", "unit", "service", "age_group", "urgent")


def day_counts(days: str) -> Iterator[tuple[int, int]]:
    """The (days, count) pairs of a count row's JSON `[days, n, days, n, ...]`."""
    flat = json.loads(days)
    return zip(flat[::2], flat[1::2], strict=True)


@dataclass
class Tally:
    """One count row: how many (signed), how many of them within the limit, and how many by
    calendar days (stored as JSON `[days, n, days, n, ...]`)."""

    n: int = 0
    within: int = 0
    days: Counter[int] = field(default_factory=Counter)

    def add_row(self, n: int, within: int, days: str) -> None:
        self.n += n
        self.within += within
        for d, n in day_counts(days):
            self.days[d] += n

    def days_json(self) -> str:
        return json.dumps([x for d in sorted(self.days) if self.days[d] for x in (d, self.days[d])],
                          separators=(",", ":"))

    def empty(self) -> bool:
        return not self.n and not self.within and not any(self.days.values())


def _tallies(closed: Counter[ClosedKey], starts: Counter[StartKey]) -> tuple[dict[tuple[Any, ...], Tally],
                                                                             dict[tuple[Any, ...], Tally]]:
    """The signed counts of judgements and starts, by the counts' groups."""
    by_closed: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    for key, n in closed.items():
        if n:
            t = by_closed[key[:8]]
            t.n += n
            if key[8]:
                t.within += n
            t.days[key[9] or 0] += n
    by_start: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    for start_key, n in starts.items():
        if n:
            t = by_start[start_key[:6]]
            t.n += n
            t.days[start_key[6]] += n
    return by_closed, by_start


def _insert_tallies(conn: Connection, model: Any, names: Sequence[str], tallies: dict[tuple[Any, ...], Tally]) -> int:
    rows = []
    for key, t in tallies.items():
        if not t.empty():
            first, last = segment(key[0], key[1])
            row = {"day_from": first, "day_to": last, **dict(zip(names, key, strict=True)), "n": t.n,
                   "days": t.days_json()}
            if model is AccessClosedCount:
                row["within_n"] = t.within
            rows.append(row)
    for i in range(0, len(rows), 10_000):
        conn.execute(insert(model), rows[i:i + 10_000])
    return len(rows)


def _put_counts(conn: Connection, closed: Counter[ClosedKey], starts: Counter[StartKey]) -> None:
    """Add these signed counts: a row for each group whose count changed."""
    by_closed, by_start = _tallies(closed, starts)
    _insert_tallies(conn, AccessClosedCount, CLOSED_GROUP, by_closed)
    _insert_tallies(conn, AccessStartCount, START_GROUP, by_start)


def _closed_of(conn: Connection, where: Any) -> Counter[ClosedKey]:
    j = AccessJudgement
    q = select(j.end, j.unit, j.service, j.age_group, j.urgent, j.measure, j.rule_id, j.within, j.days
               ).where(where, j.end.is_not(None))
    rows: list[Any] = list(conn.execute(q))  # end: never None here
    return Counter(_closed_key(*r) for r in rows)


def _starts_of(conn: Connection, where: Any) -> Counter[StartKey]:
    c = AccessCase
    q = select(c.start, c.unit, c.service, c.age_group, c.urgent, c.days_to_start
               ).where(where, c.start.is_not(None), c.days_to_start.is_not(None))
    rows: list[Any] = list(conn.execute(q))  # start and days: never None here
    return Counter(_start_key(*r) for r in rows)


def rebuild_counts(conn: Connection) -> None:
    """Make the counts again from the judgements and cases (in the caller's transaction, which
    holds the access write lock)."""
    conn.execute(delete(AccessClosedCount))
    conn.execute(delete(AccessStartCount))
    j, c = AccessJudgement, AccessCase
    closed: Counter[ClosedKey] = Counter()
    q = (select(j.end_week, j.end_month, j.unit, j.service, j.age_group, j.urgent, j.measure, j.rule_id,
                j.within, j.days, func.count())
         .where(j.end.is_not(None))
         .group_by(j.end_week, j.end_month, j.unit, j.service, j.age_group, j.urgent, j.measure, j.rule_id,
                   j.within, j.days))
    for *key, n in conn.execute(q):
        closed[(key[0], key[1], key[2], key[3], key[4], int(key[5]), key[6], key[7],
                None if key[8] is None else int(key[8]), key[9])] += int(n)
    starts: Counter[StartKey] = Counter()
    q2 = (select(c.start_week, c.start_month, c.unit, c.service, c.age_group, c.urgent, c.days_to_start, func.count())
         .where(c.start.is_not(None), c.days_to_start.is_not(None))
         .group_by(c.start_week, c.start_month, c.unit, c.service, c.age_group, c.urgent, c.days_to_start))
    for *key, n in conn.execute(q2):
        starts[(key[0], key[1], key[2], key[3], key[4], int(key[5]), int(key[6]))] += int(n)
    _put_counts(conn, closed, starts)
    _set_mark(conn)


def recount(history: History) -> None:
    """Make the counts again (after rows were put in the tables some other way than `write_cases`)."""
    with history.engine.begin() as conn:
        _write_lock(conn)
        rebuild_counts(conn)


def _set_mark(conn: Connection) -> None:
    """Remember the newest count rows: `compact_counts` tidies the parts changed after them."""
    marks = [int(conn.execute(select(func.coalesce(func.max(m.id), 0))).scalar() or 0)
             for m in (AccessClosedCount, AccessStartCount)]
    conn.execute(delete(RollupState).where(RollupState.name == "access_counts_mark"))
    conn.execute(insert(RollupState).values(name="access_counts_mark", value=json.dumps(marks)))


def compact_counts(history: History) -> int:
    """Sum each group's signed count rows into one (dropping those that came to nothing), in the
    week-in-month parts of units changed since the last time. Returns the rows taken away.
    Nightly (collectors/scheduler.py): the figures are the same before and after; the table
    stays about as big as its groups, however often cases are reported again."""
    removed = 0
    with history.engine.begin() as conn:
        _write_lock(conn)
        value = conn.execute(select(RollupState.value).where(RollupState.name == "access_counts_mark")).scalar()
        marks = json.loads(value) if value else [0, 0]
        for model, names, mark in ((AccessClosedCount, CLOSED_GROUP, marks[0]),
                                   (AccessStartCount, START_GROUP, marks[1])):
            changed = [tuple(r) for r in conn.execute(
                select(model.day_from, model.unit).where(model.id > mark).distinct())]
            columns = [getattr(model, k) for k in names]
            within = model.within_n if model is AccessClosedCount else literal(0)
            for i in range(0, len(changed), 200):
                where = tuple_(model.day_from, model.unit).in_(changed[i:i + 200])
                tallies: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
                before = 0
                for *key, n, w, days in conn.execute(select(*columns, model.n, within, model.days).where(where)):
                    tallies[tuple(key)].add_row(n, w, days)
                    before += 1
                conn.execute(delete(model).where(where))
                removed += before - _insert_tallies(conn, model, names, tallies)
        _set_mark(conn)
    return removed


def _case_row(source: str, case: Case, now: datetime) -> dict[str, Any]:
    return {
        "source": source, "case_key": case.key, "unit": case.unit, "service": case.service,
        "age_group": case.age_group, "urgent": int(case.urgent), "contact": case.contact,
        "assessment": case.assessment, "decision": case.decision, "start": case.start,
        "days_to_start": case.days_to_start,
        "start_week": monday(case.start) if case.start else None,
        "start_month": month_start(case.start) if case.start else None,
        "reported_at": now,
    }


def _judgement_rows(case_id: int, case: Any, rules: list[RuleVersion]) -> list[dict[str, Any]]:
    # a Case, or a row of access_cases
    c = case if isinstance(case, Case) else Case(case.case_key, case.unit, case.service, case.age_group,
                                                bool(case.urgent), case.contact, case.assessment,
                                                case.decision, case.start)
    return [{
        "case_id": case_id, "unit": c.unit, "service": c.service, "age_group": c.age_group,
        "urgent": int(c.urgent), "measure": j.measure, "rule_id": j.rule_id, "begin": j.begin,
        "end": j.end, "deadline": j.deadline, "within": None if j.within is None else int(j.within),
        "days": j.days, "end_week": monday(j.end) if j.end else None,
        "end_month": month_start(j.end) if j.end else None,
    } for j in judge(c, rules)]


def write_cases(history: History, source: str, cases: Sequence[Case], rules: list[RuleVersion],
                now: datetime | None = None) -> int:
    """Store these reports of `source`'s cases: a case reported before is replaced by its
    newest report (the later one in `cases` when it is there twice). Returns how many were
    written."""
    now = now or datetime.now(UTC)
    newest: dict[str, Case] = {}
    for case in cases:
        newest[case.key] = case
    items = list(newest.values())
    analyze = history.engine.dialect.name == "postgresql"
    added = rows_then = 0
    closed: Counter[ClosedKey] = Counter()  # the counts' changes
    starts: Counter[StartKey] = Counter()
    with history.engine.begin() as conn:
        _write_lock(conn)
        if analyze:
            rows_then = max(0, int(conn.execute(text(
                "SELECT reltuples FROM pg_class WHERE oid = 'access_cases'::regclass")).scalar() or 0))
        for i in range(0, len(items), CHUNK):
            chunk = items[i:i + CHUNK]
            known = dict(conn.execute(
                select(AccessCase.case_key, AccessCase.id)
                .where(AccessCase.source == source, AccessCase.case_key.in_([c.key for c in chunk]))).all())
            if known:  # their old judgements and start come off the counts
                ids = list(known.values())
                closed.subtract(_closed_of(conn, AccessJudgement.case_id.in_(ids)))
                starts.subtract(_starts_of(conn, AccessCase.id.in_(ids)))
                conn.execute(delete(AccessJudgement).where(AccessJudgement.case_id.in_(ids)))
                conn.execute(update(AccessCase).where(AccessCase.id == bindparam("case_id")),
                             [{"case_id": known[c.key], **_case_row(source, c, now)} for c in chunk if c.key in known])
            new = [c for c in chunk if c.key not in known]
            if new:
                conn.execute(insert(AccessCase), [_case_row(source, c, now) for c in new])
                added += len(new)
                if analyze and added >= max(5000, rows_then // 10):
                    # PostgreSQL's plan of the key lookup needs statistics of a growing table, or
                    # it scans the whole source's cases for each chunk (a first import: quadratic)
                    conn.execute(text("ANALYZE access_cases"))
                    rows_then, added = rows_then + added, 0
                known.update(conn.execute(
                    select(AccessCase.case_key, AccessCase.id)
                    .where(AccessCase.source == source, AccessCase.case_key.in_([c.key for c in new]))).all())
            rows = [r for c in chunk for r in _judgement_rows(known[c.key], c, rules)]
            if rows:
                conn.execute(insert(AccessJudgement), rows)
            closed.update(_closed_key(r["end"], r["unit"], r["service"], r["age_group"], r["urgent"], r["measure"],
                                      r["rule_id"], r["within"], r["days"]) for r in rows if r["end"] is not None)
            starts.update(_start_key(c.start, c.unit, c.service, c.age_group, c.urgent, c.days_to_start)
                          for c in chunk if c.start is not None and c.days_to_start is not None)
        _put_counts(conn, closed, starts)
    return len(items)


def rules_fingerprint(rules: list[RuleVersion]) -> str:
    text = json.dumps([[r.id, r.service, r.measure, r.limit.count, r.limit.unit, r.ages,
                        str(r.valid_from), str(r.valid_until)] for r in rules])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def ensure_judged(history: History, rules: list[RuleVersion]) -> int:
    """Judge every case again when the rules differ from those its judgements were made with
    (commands starting at once take turns: the second finds them judged). Returns the number
    of cases judged again (0 when nothing was due)."""
    fingerprint = rules_fingerprint(rules)
    state = select(RollupState.value).where(RollupState.name == "access_rules")
    with history.engine.connect() as conn:
        if conn.execute(state).scalar() == fingerprint:
            return 0
    judged = 0
    with _migration_lock(history.engine), history.engine.begin() as conn:
        if history.engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
                         {"k": MIGRATION_LOCK})
        if conn.execute(state).scalar() == fingerprint:
            return 0
        _write_lock(conn)
        conn.execute(delete(AccessJudgement))
        last = 0
        while True:
            batch = conn.execute(select(AccessCase).where(AccessCase.id > last)
                                 .order_by(AccessCase.id).limit(5000)).all()
            if not batch:
                break
            rows = [r for c in batch for r in _judgement_rows(c.id, c, rules)]
            if rows:
                conn.execute(insert(AccessJudgement), rows)
            judged += len(batch)
            last = batch[-1].id
        rebuild_counts(conn)
        conn.execute(delete(RollupState).where(RollupState.name == "access_rules"))
        conn.execute(insert(RollupState).values(name="access_rules", value=fingerprint))
    return judged


# --- reading -------------------------------------------------------------------------------


def kth(hist: dict[int, int], k: int) -> int:
    """The k-th smallest value (0-based) of a histogram {value: count}."""
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if k < seen:
            return value
    raise IndexError(k)


def quantile(hist: dict[int, int], q: float) -> float | None:
    """The q-quantile of a histogram, interpolated linearly between the closest ranks
    (`statistics.quantiles(..., method="inclusive")`; q=0.5 is the ordinary median)."""
    n = sum(hist.values())
    if n == 0:
        return None
    pos = q * (n - 1)
    lo = math.floor(pos)
    a = kth(hist, lo)
    b = kth(hist, min(lo + 1, n - 1))
    return a + (b - a) * (pos - lo)


@dataclass
class Figure:
    """The figures of one group (a period, unit, service, age group, measure and rule version,
    or any of them merged)."""

    started: int = 0
    within: int = 0
    days: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def share(self) -> float | None:
        return self.within / self.started if self.started else None

    @property
    def median(self) -> float | None:
        return quantile(self.days, 0.5)

    @property
    def p90(self) -> float | None:
        return quantile(self.days, 0.9)

    def add(self, started: int, within: int, days: dict[int, int]) -> None:
        self.started += started
        self.within += within
        for d, n in days.items():
            self.days[d] += n

    def add_json(self, started: int, within: int, days: str) -> None:
        """Add a count row (its days as JSON `[days, n, ...]`)."""
        self.started += started
        self.within += within
        hist = self.days
        for d, n in day_counts(days):
            hist[d] += n

    def tidy(self) -> Figure:
        """Without the days whose signed counts came to 0."""
        self.days = defaultdict(int, {d: n for d, n in self.days.items() if n})
        return self


GROUP = ("period", "unit", "service", "age_group", "measure", "rule_id")


@dataclass(frozen=True)
class Group:
    period: date | None
    unit: str | None
    service: str | None
    age_group: str | None
    measure: str | None
    rule_id: str | None


def _group(by: Sequence[str], period: date | None = None, unit: str | None = None, service: str | None = None,
           age_group: str | None = None, measure: str | None = None, rule_id: str | None = None) -> Group:
    """The group of these values, each left out (None) unless `by` names it."""
    return Group(period if "period" in by else None, unit if "unit" in by else None,
                 service if "service" in by else None, age_group if "age_group" in by else None,
                 measure if "measure" in by else None, rule_id if "rule_id" in by else None)


def _in(column: Any, values: Iterable[str] | None) -> Any:
    return True if values is None else column.in_(list(values))


def _days_in(column: Any, week: Any, ranges: list[tuple[date, date]]) -> Any:
    """`column` (a date) in one of the ranges; their weeks said too, for the index by week."""
    return or_(*(and_(week >= monday(a), week <= b, column >= a, column <= b) for a, b in ranges))


def closed(history: History, units: list[str] | None, start: date, end: date, period: str = "week",
           by: Sequence[str] = GROUP, urgent: bool = False) -> dict[Group, Figure]:
    """The started cases (intervals that ended from `start` to `end`, both included), non-urgent
    ones judged by a rule (or, with `urgent`, the urgent ones), grouped by `by`: the counts of
    the week-in-month parts inside the range, and the judgements of the days at its edges
    (grouped in SQL by `by`, within and days)."""
    names = [n for n in GROUP if n in by]
    width = len(names)
    out: dict[Group, Figure] = defaultdict(Figure)
    k = AccessClosedCount
    columns = {"period": k.week if period == "week" else k.month, "unit": k.unit, "service": k.service,
               "age_group": k.age_group, "measure": k.measure, "rule_id": k.rule_id}
    where = [_in(k.unit, units), k.day_from >= start, k.day_to <= end, k.urgent == int(urgent)]
    if not urgent:
        where.append(k.rule_id.is_not(None))
    counts = select(*[columns[n] for n in names], k.n, k.within_n, k.days).where(*where)
    edges = _parts(start, end)
    with history.engine.connect() as conn:
        for row in conn.execute(counts):
            r: tuple[Any, ...] = tuple(row)
            out[_group(by, **dict(zip(names, r[:width], strict=True)))].add_json(*r[width:])
        if edges:
            j = AccessJudgement
            col = j.end_week if period == "week" else j.end_month
            columns = {"period": col, "unit": j.unit, "service": j.service, "age_group": j.age_group,
                       "measure": j.measure, "rule_id": j.rule_id}
            keys = [columns[n] for n in names]
            where = [_in(j.unit, units), _days_in(j.end, j.end_week, edges),
                     j.urgent == int(urgent)]
            if not urgent:
                where.append(j.rule_id.is_not(None))
            for row in conn.execute(select(*keys, j.within, j.days, func.count()).where(*where)
                                    .group_by(*keys, j.within, j.days)):
                r = tuple(row)
                within, days, n = r[width], r[width + 1], int(r[width + 2])
                out[_group(by, **dict(zip(names, r[:width], strict=True)))].add(n, n if within else 0,
                                                                                {int(days or 0): n})
    return {g: f.tidy() for g, f in out.items() if f.started}


def bins(history: History, units: list[str] | None, start: date, end: date, edges: Sequence[int],
         period: str = "week", by: Sequence[str] = ("period", "unit", "service", "age_group"),
         urgent: bool = False) -> dict[Group, list[int]]:
    """Started cases (treatment or service began from `start` to `end`) by calendar days from
    assessment to start, in the bins of `edges`; urgent cases apart. Read like `closed`."""
    names = [n for n in ("period", "unit", "service", "age_group") if n in by]
    width = len(names)
    cuts = tuple(edges)
    out: dict[Group, list[int]] = {}

    def counts_of(values: tuple[Any, ...]) -> list[int]:
        return out.setdefault(_group(by, **dict(zip(names, values, strict=True))), [0] * (len(cuts) + 1))

    k = AccessStartCount
    columns = {"period": k.week if period == "week" else k.month, "unit": k.unit, "service": k.service,
               "age_group": k.age_group}
    counts = (select(*[columns[n] for n in names], k.days)
              .where(_in(k.unit, units), k.day_from >= start, k.day_to <= end, k.urgent == int(urgent)))
    days_at_edges = _parts(start, end)
    with history.engine.connect() as conn:
        for row in conn.execute(counts):
            r: tuple[Any, ...] = tuple(row)
            got = counts_of(r[:width])
            for d, n in day_counts(r[width]):
                got[bin_of(d, cuts)] += n
        if days_at_edges:
            c = AccessCase
            col = c.start_week if period == "week" else c.start_month
            columns = {"period": col, "unit": c.unit, "service": c.service, "age_group": c.age_group}
            keys = [columns[n] for n in names]
            for row in conn.execute(select(*keys, c.days_to_start, func.count())
                                    .where(_in(c.unit, units), _days_in(c.start, c.start_week, days_at_edges),
                                           c.days_to_start.is_not(None),
                                           c.urgent == int(urgent))
                                    .group_by(*keys, c.days_to_start)):
                r = tuple(row)
                counts_of(r[:width])[bin_of(int(r[width] or 0), cuts)] += int(r[width + 1])
    return {g: v for g, v in out.items() if any(v)}


@dataclass
class OpenPast:
    count: int
    oldest_deadline: date  # the earliest deadline among them
    oldest_begin: date


def open_past(history: History, units: list[str] | None, today: date,
              by: Sequence[str] = ("unit", "service", "age_group", "measure", "rule_id")) -> dict[Group, OpenPast]:
    """Open non-urgent cases already past their limit today (deadline before today)."""
    j = AccessJudgement
    q = (select(j.unit, j.service, j.age_group, j.measure, j.rule_id, func.count(), func.min(j.deadline),
                func.min(j.begin))
         .where(_in(j.unit, units), j.end.is_(None), j.urgent == 0, j.rule_id.is_not(None),
                j.deadline < today)
         .group_by(j.unit, j.service, j.age_group, j.measure, j.rule_id))
    out: dict[Group, OpenPast] = {}
    with history.engine.connect() as conn:
        for unit, service, age, measure, rule, n, oldest, begun in conn.execute(q):
            g = _group(by, None, unit, service, age, measure, rule)
            oldest, begun = oldest or today, begun or today  # never None: the WHERE says so
            if g in out:
                o = out[g]
                out[g] = OpenPast(o.count + n, min(o.oldest_deadline, oldest), min(o.oldest_begin, begun))
            else:
                out[g] = OpenPast(n, oldest, begun)
    return out


def unit_now(history: History, units: list[str], today: date) -> dict[str, tuple[int, int, int]]:
    """Each unit's (started, within) of this ISO week so far, and its open cases past the
    limit today: what the staff displays' `access` page shows."""
    week = closed(history, units, monday(today), today, "week", by=("unit",))
    past = open_past(history, units, today, by=("unit",))
    out = {}
    for unit in units:
        f = week.get(_group(("unit",), unit=unit))
        o = past.get(_group(("unit",), unit=unit))
        out[unit] = (f.started if f else 0, f.within if f else 0, o.count if o else 0)
    return out


def weeks_between(start: date, end: date) -> list[date]:
    """The Mondays of the weeks from `start`'s to `end`'s."""
    out, w = [], monday(start)
    while w <= end:
        out.append(w)
        w += timedelta(days=7)
    return out


def weekly_share(history: History, units: list[str] | None, start: date, end: date,
                 measure: str | None = None) -> list[tuple[date, int, int]]:
    """Each week's (Monday, started, within) of non-urgent judged cases, summed over `units`."""
    return _by_week(closed(history, units, start, end, "week", by=("period", "measure")), start, end, measure)


def _by_week(figures: dict[Group, Figure], start: date, end: date,
             measure: str | None = None) -> list[tuple[date, int, int]]:
    """Weekly figures summed to (Monday, started, within) for each week from `start`'s to `end`'s."""
    sums: dict[date | None, list[int]] = defaultdict(lambda: [0, 0])
    for g, f in figures.items():
        if measure is None or g.measure == measure:
            sums[g.period][0] += f.started
            sums[g.period][1] += f.within
    return [(week, *sums.get(week, (0, 0))) for week in weeks_between(start, end)]


def weekly_open_past(history: History, units: list[str] | None, start: date, end: date,
                     today: date) -> list[tuple[date, int]]:
    """At the end of each week (its Sunday, or `today` for this week): the open non-urgent cases
    past their limit then — open then (not yet ended, or ended after that day) with a deadline
    before it."""
    weeks = weeks_between(start, end)
    if not weeks:
        return []
    first_sunday = weeks[0] + timedelta(days=6)
    last_day = min(weeks[-1] + timedelta(days=6), today)  # the last day a count is made on
    j = AccessJudgement
    # the open ones, and those that ended late (within = 0, written as a literal so that the
    # partial index serves it) after the first count: each from its own partial index
    still_open = (select(j.deadline, func.count())
                  .where(_in(j.unit, units), j.end.is_(None), j.urgent == 0, j.rule_id.is_not(None),
                         j.deadline < last_day)
                  .group_by(j.deadline))
    late = (select(j.deadline, j.end, func.count())
            .where(_in(j.unit, units), text("access_judgements.within = 0"), j.end > first_sunday,
                   j.deadline < last_day)
            .group_by(j.deadline, j.end))
    deadlines: Counter[date] = Counter()
    ends: Counter[date] = Counter()
    with history.engine.connect() as conn:
        for deadline, n in conn.execute(still_open):
            if deadline is not None:  # never None: the WHERE says so
                deadlines[deadline] += n
        for deadline, ended, n in conn.execute(late):
            if deadline is not None and ended is not None:
                deadlines[deadline] += n
                ends[ended] += n
    # every row ended after its deadline or is open, so one that ended by a day had its
    # deadline before it: past then = deadline before the day, less those ended by it
    d_days, d_upto = _running(deadlines)
    e_days, e_upto = _running(ends)
    out = []
    for week in weeks:
        day = min(week + timedelta(days=6), today)
        out.append((week, d_upto[bisect_left(d_days, day)] - e_upto[bisect_right(e_days, day)]))
    return out


def _running(counts: Counter[date]) -> tuple[list[date], list[int]]:
    """The days in order, and for each i how many fall on the first i of them."""
    days = sorted(counts)
    upto = [0]
    for d in days:
        upto.append(upto[-1] + counts[d])
    return days, upto


# --- the page's figures, the reference series and the forecasts ---------------------------


@dataclass
class View:
    """Everything the access page shows for units and a date range."""

    by_period: dict[Group, Figure]  # period, unit, service, age group, measure, rule
    summary: dict[Group, Figure]  # the same over the whole range
    urgent: dict[Group, Figure]  # unit, service, measure
    bins: dict[Group, list[int]]  # unit, service (non-urgent started cases)
    open_past: dict[Group, OpenPast]  # unit, service, age group, measure, rule
    weeks: list[tuple[date, int, int]]  # each week's Monday, started, within
    open_weeks: list[tuple[date, int]]  # each week's open cases past the limit at its end


def view(history: History, units: list[str] | None, start: date, end: date, period: str,
         today: date, edges: Sequence[int]) -> View:
    by_period = closed(history, units, start, end, period, by=GROUP)
    summary: dict[Group, Figure] = defaultdict(Figure)
    for g, f in by_period.items():
        summary[Group(None, g.unit, g.service, g.age_group, g.measure, g.rule_id)].add(f.started, f.within, f.days)
    weeks = _by_week(by_period, start, end) if period == "week" else weekly_share(history, units, start, end)
    return View(by_period, dict(summary),
                closed(history, units, start, end, period, by=("unit", "service", "measure"), urgent=True),
                bins(history, units, start, end, edges, period, by=("unit", "service")),
                open_past(history, units, today),
                weeks, weekly_open_past(history, units, start, min(end, today), today))


def save_reference(history: History, rows: Sequence[Any], source_file: str, now: datetime | None = None) -> int:
    """Store imported reference rows (dashboard/domain/reference.py); a figure imported before for
    the same indicator, region and period is replaced. All or nothing."""
    from dashboard.storage.tables import AccessReference

    now = now or datetime.now(UTC)
    with history.engine.begin() as conn:
        for row in rows:
            conn.execute(delete(AccessReference).where(
                AccessReference.indicator == row.indicator, AccessReference.region == row.region,
                AccessReference.period == row.period))
        if rows:
            conn.execute(insert(AccessReference), [
                {"indicator": r.indicator, "indicator_id": r.indicator_id, "region": r.region,
                 "period": r.period, "value": r.value, "source_file": source_file[:300], "imported_at": now}
                for r in rows])
    return len(rows)


def references(history: History) -> list[Any]:
    from dashboard.storage.tables import AccessReference

    with history.engine.connect() as conn:
        return list(conn.execute(select(AccessReference).order_by(
            AccessReference.indicator, AccessReference.region, AccessReference.period)).all())


FORECAST_WEEKS = 104  # the history a forecast is fitted on
ALL = "*"


def refit_forecasts(history: History, units: list[str], today: date, horizon: int = 8) -> int:
    """Fit the forecasts of each unit's (and all units') weekly share within the limit and open
    cases past the limit, on the complete weeks before this one; store them. Returns how many
    series were fitted (a series with too little history is stored as such)."""
    from dashboard.domain.forecast import forecast
    from dashboard.storage.tables import AccessForecast

    last = monday(today) - timedelta(days=1)  # the last complete week's Sunday
    first = monday(last) - timedelta(weeks=FORECAST_WEEKS - 1)
    now = datetime.now(UTC)
    bodies = []
    for unit in [ALL, *units]:
        scope = None if unit == ALL else [unit]
        weeks = weekly_share(history, scope, first, last)
        opened = weekly_open_past(history, scope, first, last, today)
        # the series start at the first week with cases
        begun = next((i for i, (_, started, _) in enumerate(weeks) if started), len(weeks))
        weeks, opened = weeks[begun:], opened[begun:]
        shares = [within / started if started else None for _, started, within in weeks]
        counts = [float(n) for _, n in opened]
        for series, values, kind in (("share", shares, "share"), ("open_past", counts, "count")):
            made = forecast(values, horizon, 0.8, kind=kind) if values else None  # type: ignore[arg-type]
            body: dict[str, Any] = {"weeks": [str(monday(today) + timedelta(weeks=i)) for i in range(horizon)],
                                    "fitted_to": str(last)}
            if made is None:
                body["too_little"] = True
            else:
                body.update(points=made.points, low=made.low, high=made.high, method=made.method,
                            level=made.level, fitted_on=made.fitted_on)
            bodies.append({"unit": unit, "series": series, "fitted_at": now, "body": json.dumps(body)})
    with history.engine.begin() as conn:
        conn.execute(delete(AccessForecast))
        conn.execute(insert(AccessForecast), bodies)
    return len(bodies)


def forecasts(history: History, unit: str) -> dict[str, dict[str, Any]]:
    """The stored forecasts of a unit (or ALL): series -> body, with `fitted_at`."""
    from dashboard.storage.tables import AccessForecast

    with history.engine.connect() as conn:
        rows = conn.execute(select(AccessForecast).where(AccessForecast.unit == unit)).all()
    return {r.series: {**json.loads(r.body), "fitted_at": r.fitted_at} for r in rows}
