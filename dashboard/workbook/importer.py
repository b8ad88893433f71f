"""One importer behind every way in (command line, upload, watched folder): read, validate
the whole file, then apply it in one go — live store and history — or apply nothing.

The file's SHA-256 makes a repeat a no-op; originals are archived by content; every import,
accepted or rejected, goes to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from dashboard.config import Config
from dashboard.domain.freshness import FRESH, Candidate, is_correction, resolve, status_of
from dashboard.domain.metrics import Metric
from dashboard.domain.readings import Reading
from dashboard.i18n import clock_time, number
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.storage.tables import AuditEntry, Import
from dashboard.workbook import reader
from dashboard.workbook.messages import msg
from dashboard.workbook.parse import Parsed, Problem, Row, day_end, parse
from dashboard.workbook.schema import SHEET_METRICS, SHEETS

log = logging.getLogger(__name__)
QUEUE_VALID = timedelta(minutes=60)  # a queue count typed by hand is good for an hour
DEFAULT_SOURCE = "tyokirja"


@dataclass
class Report:
    """The import's outcome: exactly the JSON of `ohjaustaulu import --json`."""

    ok: bool
    sha256: str
    applied: bool
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # refused whole as a file that could hurt a reader (reader.Unreadable.dangerous): the
    # watched folder sets it aside. Not part of the JSON.
    dangerous: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["dangerous"]
        return out


def source_name(config: Config) -> str:
    return next((s.name for s in config.sources if s.kind == "workbook"), DEFAULT_SOURCE)


def import_bytes(
    data: bytes, filename: str, user: str, *, config: Config, store: LiveStore,
    history: History, data_dir: Path, lang: str | None = None, dry_run: bool = False,
    units: Sequence[str] | None = None,
) -> Report:
    """`units`: the unit codes the user answers for (a shift lead's own); a row for any other
    unit is an error in its cell. None: every unit (an admin, the command line, the folder)."""
    lang = lang or config.site.language
    sha = hashlib.sha256(data).hexdigest()
    now = store.clock(config.tz).now()
    try:
        raw = reader.read(data)
    except reader.Unreadable as err:
        report = Report(False, sha, False, errors=[_unreadable(err, filename, lang).as_dict()],
                        dangerous=err.dangerous)
        _record(history, report, filename, user, now, None, dry_run)
        return report
    parsed = parse(raw, config, lang, units=units, today=now.date())
    report = Report(not parsed.errors, sha, False, parsed.counts, parsed.warnings,
                    [e.as_dict() for e in parsed.errors])
    if parsed.errors or dry_run:
        if not parsed.errors:  # a dry run says what would not show, as the import would
            readings, _, origins = _to_live(parsed, config, lang, now, user, filename, sha, report)
            report.warnings += _shadowed(readings, origins, config, store, now, lang)
        _record(history, report, filename, user, now, None, dry_run)
        return report
    earlier = history.applied_import(sha)
    if earlier is not None:
        report.warnings.append(msg(lang, "w_repeat", at=earlier.at.astimezone(config.tz).strftime(
            "%d.%m.%Y %H.%M"), user=earlier.user))
        _record(history, report, filename, user, now, None, dry_run, action="import_repeat")
        return report
    readings, notices, origins = _to_live(parsed, config, lang, now, user, filename, sha, report)
    report.warnings += _shadowed(readings, origins, config, store, now, lang)
    archived = _archive(data, filename, sha, data_dir)
    report.applied = True
    src = source_name(config)
    try:
        with history.engine.begin() as conn:
            # The import row first (its unique index admits one applied copy of a content,
            # even for two uploads at the same moment), then the live store; if Redis fails,
            # the transaction rolls back and nothing was applied.
            conn.execute(insert(Import), [_import_row(report, filename, user, now, archived)])
            conn.execute(insert(AuditEntry), [_audit_row(report, filename, user, now, "import")])
            store.apply_manual(src, readings, notices, {
                "last_attempt": now, "last_success": now, "items": len(readings),
                "state": "ok", "kind": "workbook", "last_file": filename,
            })
    except IntegrityError:
        # the same file, uploaded at the same moment elsewhere (another tablet, another web
        # worker), was applied first: this one is a repeat, and the audit log says so
        report.applied = False
        earlier = history.applied_import(sha)
        report.warnings.append(msg(lang, "w_repeat", user=earlier.user if earlier else "?",
                                   at=(earlier.at if earlier else now).astimezone(config.tz).strftime("%d.%m.%Y %H.%M")))
        _record(history, report, filename, user, now, None, dry_run, action="import_repeat")
    return report


_CELL = re.compile(r"([A-Z]+)([0-9]+)")


def _unreadable(err: reader.Unreadable, filename: str, lang: str) -> Problem:
    """A file refused whole; where the reason lies in a cell, the problem names it."""
    cell = _CELL.fullmatch(str(err.kw.get("cell", "")))
    row, column = (int(cell[2]), cell[1]) if cell else (0, "")
    return Problem(str(err.kw.get("sheet", "")), row, column, filename, msg(lang, err.key, **err.kw))


def _to_live(parsed: Parsed, config: Config, lang: str, now: datetime, user: str, filename: str,
             sha: str, report: Report) -> tuple[list[Reading], list[dict[str, Any]], dict[str, tuple[Row, str]]]:
    src = source_name(config)
    readings: list[Reading] = []
    notices: list[dict[str, Any]] = []
    origins: dict[str, tuple[Row, str]] = {}  # a reading's row and column, for what the report says of it
    who = f"{user} ({filename}, sha256:{sha[:12]})"  # provenance shown with the value

    def add(metric: str, row: Row, key: str, column: str, observed: datetime, until: datetime) -> None:
        value = row.values.get(column)
        if value is not None:
            # a staffing row's remark ("Huomio") goes with the staff present, to the wall and the tablet
            note = (row.values.get("remark") or None) if metric == "staff.present" else None
            readings.append(Reading(metric, row.values["unit"], key, value, observed, src,
                                    manual=True, entered_by=who, valid_until=until,
                                    bound=row.values.get(f"{column}_bound"), note=note))
            origins[readings[-1].ident] = (row, column)

    latest_queue: dict[tuple[str, str], Row] = {}
    latest_own: dict[tuple[str, str, str], tuple[datetime, Row, datetime]] = {}
    for row in parsed.rows:
        v = row.values
        # a row's day and times are those of its unit's site (its zone); a notice for every
        # unit, of the installation's
        tz = config.notice_tz(v.get("unit", "kaikki"))
        today = now.astimezone(tz).date()
        day = _day_of(v)
        if day is not None and day != today:
            report.warnings.append(msg(lang, "w_other_day", sheet=_sheet_label(row, lang), row=row.number,
                                       day=day.strftime("%d.%m.%Y")))
            continue
        until = day_end(today, tz)
        if row.sheet in ("staffing", "appointments", "capacity"):
            key = v[next(s for s in SHEETS if s.key == row.sheet).identity[-1]]
            for column, metric in SHEET_METRICS[row.sheet].items():
                add(metric, row, key, column, now, until)
        elif row.sheet == "queues":
            k = (v["unit"], v["queue"].lower())
            if k not in latest_queue or latest_queue[k].values["time"] < v["time"]:
                latest_queue[k] = row
        elif row.sheet == "own_metrics":
            # the latest of a figure's rows, as of a queue's; a row of a day only is of now
            at = now if (clock := _time_of(v["when"])) is None else datetime.combine(today, clock, tzinfo=tz)
            figure = (v["unit"], v["metric"], (v.get("key") or "").lower())
            if figure not in latest_own or latest_own[figure][0] <= at:
                latest_own[figure] = (at, row, _own_until(config.own_metrics()[v["metric"]], at, until))
        elif row.sheet == "notices":
            notices.append({
                "id": f"wb-{sha[:12]}-{row.number}", "unit": v["unit"], "text": v["text"],
                "importance": v["importance"], "public": bool(v.get("public")),
                "starts": v["starts"].replace(tzinfo=tz).isoformat(),
                "ends": v["ends"].replace(tzinfo=tz).isoformat(),
                "entered_by": who,
                **({"text_sv": v["text_sv"]} if v.get("text_sv") else {}),
            })
    for row in latest_queue.values():
        v = row.values
        tz = config.tz_of(v["unit"])
        at = datetime.combine(now.astimezone(tz).date(), v["time"], tzinfo=tz)
        for column, metric in SHEET_METRICS["queues"].items():
            add(metric, row, v["queue"], column, at, at + QUEUE_VALID)
    for at, row, own_until in latest_own.values():
        add(row.values["metric"], row, row.values.get("key") or "", "value", at, own_until)
    return readings, notices, origins


def _day_of(values: dict[str, Any]) -> date | None:
    """The day a row is of: its day, or the day of its day-or-time (a time alone: today)."""
    when = values.get("day", values.get("when"))
    if isinstance(when, datetime):
        return when.date()
    return when if isinstance(when, date) else None


def _time_of(when: date | time | datetime) -> time | None:
    if isinstance(when, datetime):
        return when.time()
    return when if isinstance(when, time) else None


def _own_until(m: Metric, at: datetime, end: datetime) -> datetime:
    """An own metric's value written by a person stands its `manual_hours` from its time,
    or else to the end of its day (`end`); a count (of today) never past its day."""
    if m.manual_hours is None:
        return end
    until = at + timedelta(hours=m.manual_hours)
    return min(until, end) if m.kind == "count" else until


def _shadowed(readings: list[Reading], origins: dict[str, tuple[Row, str]], config: Config,
              store: LiveStore, now: datetime, lang: str) -> list[str]:
    """A warning for each value that will not show on the wall although it is applied: a
    fresh feed value of the same figure wins over it, or a tablet correction is in force
    (dashboard.domain.freshness decides, exactly as for the wall)."""
    src = source_name(config)
    polls = config.poll_intervals(store.clock(config.tz).speed)
    ours = {rd.ident for rd in readings}
    others: dict[str, list[Candidate]] = {}
    for source, rds in store.all_readings().items():
        if source == src:
            continue
        for rd in rds:
            if rd.ident in ours:
                others.setdefault(rd.ident, []).append((rd, status_of(rd, now, polls.get(source, 60), config.tz_of(rd.unit))[0]))
    warnings = []
    for rd in readings:
        if rd.ident not in others:
            continue
        tz = config.tz_of(rd.unit)
        mine = (rd, status_of(rd, now, polls.get(src, 60), tz)[0])
        (shown, status), _ = resolve([mine, *others[rd.ident]])
        if shown is rd or status != FRESH or shown.value == rd.value:
            continue  # shown; or only stale values around it, and the newest shows; or the same figure
        row, column = origins[rd.ident]
        sheet = next(s for s in SHEETS if s.key == row.sheet)
        own = config.own_metrics().get(rd.metric)
        what = own.name(lang) if own else sheet.column(column).names[lang].lower()
        facts = {"sheet": sheet.names[lang], "row": row.number, "value": number(rd.value, lang),
                 "what": f"{rd.key} {what}".strip(),
                 "shown": number(shown.value, lang), "at": clock_time(shown.observed_at.astimezone(tz), lang)}
        if is_correction(shown, status):
            until = shown.valid_until.astimezone(tz) if shown.valid_until else now
            warnings.append(msg(lang, "w_corrected", **facts, until=clock_time(until, lang),
                                by=(shown.entered_by or "").removesuffix(" (tabletti)")))
        elif not shown.manual:
            system = "system_metrics" if own else f"system_{rd.metric.split('.')[0]}"
            warnings.append(msg(lang, "w_shadowed", **facts, system=msg(lang, system)))
    return warnings


def _sheet_label(row: Row, lang: str) -> str:
    return next(s.names[lang] for s in SHEETS if s.key == row.sheet)


def _archive(data: bytes, filename: str, sha: str, data_dir: Path) -> str:
    suffix = Path(filename).suffix.lower() if Path(filename).suffix.lower() in (".xlsx", ".ods") else ""
    path = data_dir / "archive" / sha[:2] / f"{sha}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # a temporary name of this write's own: the same file uploaded twice at once (two
        # processes, or two requests of one) must not rename one shared .part from under the
        # other; both renames put the same bytes in place
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        try:
            tmp.write_bytes(data)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return str(path.relative_to(data_dir))


def _import_row(report: Report, filename: str, user: str, now: datetime, archived: str | None) -> dict[str, Any]:
    return {"sha256": report.sha256, "filename": filename[:300], "user": user[:200],
            "at": now.astimezone(UTC), "applied": int(report.applied),
            "report": json.dumps(report.as_dict(), ensure_ascii=False, default=str), "archived": archived}


def _audit_row(report: Report, filename: str, user: str, now: datetime, action: str) -> dict[str, Any]:
    details = {"file": filename, "sha256": report.sha256, "applied": report.applied,
               "counts": report.counts, "errors": len(report.errors), "warnings": len(report.warnings)}
    return {"at": now.astimezone(UTC), "who": user[:200], "action": action,
            "details": json.dumps(details, ensure_ascii=False)}


def _record(history: History, report: Report, filename: str, user: str, now: datetime,
            archived: str | None, dry_run: bool, action: str | None = None) -> None:
    """Rejected, repeated and dry-run imports are logged too (a dry run only in the audit)."""
    action = action or ("import_dry_run" if dry_run else "import_rejected" if report.errors else "import_checked")
    with history.engine.begin() as conn:
        if not dry_run and action != "import_repeat":
            conn.execute(insert(Import), [_import_row(report, filename, user, now, archived)])
        conn.execute(insert(AuditEntry), [_audit_row(report, filename, user, now, action)])

