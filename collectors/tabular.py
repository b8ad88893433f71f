"""The staffing, queue and call-back feeds: records of JSON or CSV, from a file or over HTTP,
mapped to readings by configuration, so another vendor's shape is a config change. (The
`access` and `metrics` feeds are read the same way: collectors/access.py, collectors/metricrows.py.)

Our documented shapes (config/README.md) are the defaults: for `queue`
`{"queues": [{"unit", "queue", "waiting", "longest_wait_min", "avg_wait_min",
"called_last_hour", "points_open", "estimated_wait_min"}]}` (the last four optional), for
`callback` `{"callbacks": [{"unit", "pending", "oldest_min"}]}`, for `staffing` CSV or JSON
records `{"unit", "profession", "planned", "present"}`. A source's `records` names where the
list is (a dotted path), `fields` renames fields (ours = theirs, dotted paths allowed), and
`unit_map` maps their unit identifiers to unit codes. Records whose unit cannot be mapped, or
whose numbers are not numbers, are counted in the source status, never fatal.

A queue's `estimated_wait_min` is the queue system's own estimate where the feed sends one;
where it does not, ours from the people ahead and the rate of calls (dashboard/domain/waits.py),
rounded up to whole minutes. A feed that lists the moments of its recent calls (`called_at`)
instead of counting them has `called_last_hour` counted from those.

Over HTTP the secret in the environment variable `token_env` names goes as
`Authorization: Bearer <secret>`, or as the value of the header `token_header` names. It
goes to the feed's own origin only: a redirect elsewhere is followed without it. It never
appears in an error, a log line or the source status.

A feed is never a spreadsheet: an .xlsx, .ods or .xls answer is refused as invalid data
before any parser sees it (workbooks come in only through dashboard/workbook, whose reader
guards against the files that can hurt it).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from collectors.base import InvalidData, SourceUnavailable
from dashboard.config import Source
from dashboard.domain.readings import Reading
from dashboard.domain.waits import QueueMemory
from dashboard.workbook.guard import OLE_MAGIC

# kind -> (default records path, {our field: metric or None for a key field})
SHAPES: dict[str, tuple[str, dict[str, str | None]]] = {
    "queue": ("queues", {"unit": None, "queue": None, "waiting": "queue.waiting",
                         "longest_wait_min": "queue.longest_wait_min", "avg_wait_min": "queue.avg_wait_min",
                         "called_last_hour": "queue.called_last_hour", "points_open": "queue.points_open",
                         "estimated_wait_min": "queue.estimated_wait_min"}),
    "callback": ("callbacks", {"unit": None, "pending": "callback.pending", "oldest_min": "callback.oldest_min"}),
    "staffing": ("staffing", {"unit": None, "profession": None, "planned": "staff.planned",
                              "present": "staff.present"}),
}
KEY_FIELD = {"queue": "queue", "callback": None, "staffing": "profession"}
REQUIRED = {"queue": ("waiting",), "callback": ("pending",), "staffing": ("planned", "present")}
SPREADSHEET_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", OLE_MAGIC)  # a zip (.xlsx, .ods) or OLE (.xls)
MAX_REDIRECTS = 5
CALL_TIMES = "called_at"  # queue: the moments of the recent calls, where a feed lists them


def _dig(record: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        if not isinstance(record, dict) or part not in record:
            return None
        record = record[part]
    return record


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _number(value: Any) -> float | None:
    """A finite number, or None (an infinity or NaN from a feed is no figure)."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip().replace(",", "."))
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


class TabularCollector:
    def __init__(self, source: Source, tz: ZoneInfo, timeout: float = 10.0):
        self.source = source
        self.tz = tz
        self.timeout = timeout
        self.unmapped: Counter[str] = Counter()
        self.items = 0
        self.unit_codes = set(source.units)  # codes a record may give as they are (else through unit_map)
        self.row_numbers: list[int] = []  # of the last records read: a CSV's lines (header: 1), else 1, 2, ...
        self.memory = QueueMemory()  # of each queue between polls, for our wait estimate

    def fetch(self, now: datetime) -> tuple[str, bytes]:
        address = self.source.address or ""
        if address.startswith(("http://", "https://")):
            response = self._get(address)
            kind = "csv" if "csv" in response.headers.get("content-type", "") else "json"
            return (self.source.format or kind), response.content
        path = Path(address)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise SourceUnavailable(f"{path}: {err.strerror or err}") from None
        return (self.source.format or ("csv" if path.suffix.lower() == ".csv" else "json")), data

    def _secret_header(self) -> dict[str, str]:
        if not self.source.token_env:
            return {}
        secret = os.environ.get(self.source.token_env)
        if not secret:
            raise SourceUnavailable(f"environment variable {self.source.token_env} is not set")
        if self.source.token_header:
            return {self.source.token_header: secret}
        return {"Authorization": f"Bearer {secret}"}

    def _get(self, address: str) -> httpx.Response:
        """GET with the secret, following redirects by hand: the secret goes to the feed's
        own origin only (httpx drops Authorization on a cross-origin redirect, but not a
        header of the vendor's own name)."""
        secret = self._secret_header()
        url = httpx.URL(address)
        origin = _origin(url)
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    response = client.get(url, headers=secret if _origin(url) == origin else {})
                    if not (response.is_redirect and response.next_request):
                        break
                    url = response.next_request.url
                else:
                    raise SourceUnavailable(f"{address}: more than {MAX_REDIRECTS} redirects")
        except httpx.HTTPError as err:
            raise SourceUnavailable(f"{type(err).__name__}: {err}") from None
        if response.status_code != 200:
            why = ""
            if response.status_code in (401, 403):
                why = (" (the feed refused our credentials)" if secret
                       else " (the feed asks for credentials: name them with token_env)")
            raise SourceUnavailable(f"{address} answered {response.status_code}{why}")
        return response

    def records(self, fmt: str, data: bytes) -> list[Any]:
        if data.startswith(SPREADSHEET_MAGIC):
            raise InvalidData("the feed is a spreadsheet (.xlsx, .ods or .xls): give it as CSV or JSON")
        if fmt == "csv":
            text = data.decode("utf-8-sig")
            try:
                dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=";,\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.DictReader(io.StringIO(text), dialect=dialect)
            rows: list[Any] = []
            self.row_numbers = []
            for row in reader:
                rows.append(row)
                self.row_numbers.append(reader.line_num)
            return rows
        try:
            body = json.loads(data)
        except ValueError:
            raise InvalidData("the answer is not JSON") from None
        default_path = self.default_records()
        found = _dig(body, self.source.records if self.source.records is not None else default_path)
        if found is None and isinstance(body, list):
            found = body
        if not isinstance(found, list):
            raise InvalidData(f"no list of records at {self.source.records or default_path!r}")
        self.row_numbers = list(range(1, len(found) + 1))
        return found

    def unit_of(self, unit_id: str) -> str | None:
        """The unit code a record's unit identifier stands for: through `unit_map`, or one of
        the codes the source may give as they are; None when neither."""
        return self.source.unit_map.get(unit_id) or (unit_id if unit_id in self.unit_codes else None)

    def default_records(self) -> str:
        """Where our documented JSON shape keeps its list of records."""
        return SHAPES[self.source.kind][0]

    def normalise(self, raw: tuple[str, bytes], now: datetime) -> list[Reading]:
        fmt, data = raw
        shape = SHAPES[self.source.kind][1]
        key_field = KEY_FIELD[self.source.kind]
        self.unmapped = Counter()
        records = self.records(fmt, data)
        self.items = len(records)
        out: list[Reading] = []
        for record in records:
            their = {ours: _dig(record, self.source.fields.get(ours, ours)) for ours in shape}
            unit_id = str(their["unit"] or "").strip()
            unit = self.unit_of(unit_id)
            if unit is None:
                self.unmapped[f"unit {unit_id or '(none)'}"] += 1
                continue
            key = str(their[key_field] or "") if key_field else ""
            if key_field and not key.strip():
                self.unmapped[f"record without {key_field}"] += 1
                continue
            numbers = {ours: _number(their[ours]) for ours, metric in shape.items() if metric}
            required = [numbers[f] for f in REQUIRED[self.source.kind]]
            if any(n is None or n < 0 for n in required):
                self.unmapped["record with a missing or bad number"] += 1
                continue
            if self.source.kind == "queue" and numbers["called_last_hour"] is None:
                numbers["called_last_hour"] = self._calls_from_times(record, now)
            for ours, metric in shape.items():
                value = numbers.get(ours)
                if metric and value is not None and value >= 0:
                    if metric == "queue.estimated_wait_min":
                        value = float(math.ceil(value))  # the queue system's own, rounded up
                    shown: int | float = int(value) if value.is_integer() else round(value, 1)
                    out.append(Reading(metric, unit, key, shown, now, self.source.name))
            if self.source.kind == "queue" and numbers["estimated_wait_min"] is None:
                estimate = self.memory.estimate((unit, key), now, numbers["waiting"] or 0.0,
                                                numbers["called_last_hour"], numbers["points_open"],
                                                numbers["longest_wait_min"])
                if estimate is not None:
                    out.append(Reading("queue.estimated_wait_min", unit, key, estimate.minutes, now,
                                       self.source.name, range=estimate.range))
        return out

    def _calls_from_times(self, record: Any, now: datetime) -> float | None:
        """The calls of the last hour counted from the moments the feed lists (`called_at`,
        ISO 8601; a time without a zone is the site's), where it sends those and no count."""
        times = _dig(record, self.source.fields.get(CALL_TIMES, CALL_TIMES))
        if not isinstance(times, list):
            return None
        try:
            moments = [datetime.fromisoformat(str(t)) for t in times]
        except ValueError:
            self.unmapped["call time that is not a time"] += 1
            return None
        hour_ago = now - timedelta(minutes=60)
        return float(sum(1 for m in moments if hour_ago < (m if m.tzinfo else m.replace(tzinfo=self.tz)) <= now))

    def status_extra(self) -> dict[str, Any]:
        detail = "; ".join(f"{reason}: {n}" for reason, n in self.unmapped.most_common(5))
        return {"items_read": self.items, "items_unmapped": sum(self.unmapped.values()),
                "unmapped_detail": detail}
