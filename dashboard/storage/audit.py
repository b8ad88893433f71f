"""The audit log: every sign-in, import, correction, notice and escalation change, with who,
when, and the value before and after. Rows are only ever inserted; the database itself
refuses to update or delete them (migration 0003)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from dashboard.export import inert
from dashboard.storage.history import History
from dashboard.storage.tables import AuditEntry


def record(history: History, who: str, action: str, details: dict[str, Any], *,
           before: Any = None, after: Any = None, conn: Connection | None = None) -> None:
    row = {"at": datetime.now(UTC), "who": who, "action": action,
           "details": json.dumps({**details, "before": before, "after": after}, ensure_ascii=False, default=str)}
    if conn is not None:
        conn.execute(insert(AuditEntry), [row])
        return
    with history.engine.begin() as c:
        c.execute(insert(AuditEntry), [row])


def entries(history: History, limit: int = 500, action: str | None = None) -> list[dict[str, Any]]:
    """The newest entries first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    with history.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    out = []
    for r in rows:
        details = json.loads(r.details) if r.details else {}
        out.append({"id": r.id, "at": r.at.isoformat(), "who": r.who, "action": r.action,
                    "before": details.pop("before", None), "after": details.pop("after", None),
                    "details": details})
    return out


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """The audit log for a spreadsheet: UTF-8 with BOM, `;` between fields. A name or value
    that a spreadsheet would take for a formula is written as inert text (dashboard.export)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["id", "aika", "kuka", "tapahtuma", "ennen", "jälkeen", "tiedot"])
    for r in rows:
        w.writerow([r["id"], inert(r["at"]), inert(r["who"]), inert(r["action"]),
                    _json_cell(r["before"]), _json_cell(r["after"]), _json_cell(r["details"])])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _json_cell(value: Any) -> str:
    """A value as JSON text; a number's stays a number (-2 is not made inert)."""
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text
    return inert(text)
