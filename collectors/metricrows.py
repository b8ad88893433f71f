"""The `metrics` source: rows of (unit, metric, key, value) for any metric the configuration
knows, built-in or the centre's own (`[[metrics]]`), read like the other tabular feeds
(collectors/tabular.py: a file or HTTP address, CSV or JSON, `records`, `fields`, `unit_map`,
the secret of `token_env`, never a spreadsheet). Our shape is CSV with the columns unit,
metric, key and value, or JSON `{"rows": [{"unit", "metric", "key", "value"}]}` or a bare list.

A row gives one value: `unit` a unit code of the source (or the source's own id for it through
`unit_map`); `metric` an id of the catalogue or of `[[metrics]]`, never a derived one (computed
from others, never fed) nor a series; `key` the queue, profession, resource or label where the
metric is keyed by one (compared trimmed and lower-case), empty where it is not; `value` a
number (a decimal comma allowed; a built-in figure is never below zero).

A row that gives no value is named in the source status by its row number (a CSV's line, the
header being line 1; a JSON list's place, from 1), column and value, and counted — never fatal:
the other rows are written as usual. A row that names its series well but brings a bad value
keeps that series' last good value, with its own time, so the wall shows it going stale
instead of losing it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from collectors.tabular import TabularCollector, _dig, _number
from dashboard.config import Config, Source
from dashboard.domain.metrics import CATALOGUE, normalise_key
from dashboard.domain.readings import Reading

FIELDS = ("unit", "metric", "key", "value")
NAMED = 10  # bad rows named one by one in the source status; the rest are counted by reason
SHOWN_CHARS = 40  # of a bad value, in the status
Series = tuple[str, str, str]  # metric, unit, key (trimmed and lower-case)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _shown(value: Any) -> str:
    text = _text(value)
    if not text:
        return "(empty)"
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


class BadRow(ValueError):
    """A row that gives no value; `reason` is what it is counted by, `series` the (metric, unit,
    key) where the row names one well and only its value is bad."""

    def __init__(self, column: str, value: Any, reason: str, why: str,
                 series: Series | None = None):
        super().__init__(f"{column} {_shown(value)}: {why}" if column else why)
        self.column = column
        self.reason = reason
        self.series = series

    def at(self, row: int) -> str:
        """What the status says of it: its row number, column and value, and why."""
        return f"row {row}, {self}" if self.column else f"row {row}: {self}"


class MetricsCollector(TabularCollector):
    """kind = "metrics": each row through `fields` to one reading."""

    def __init__(self, source: Source, config: Config):
        super().__init__(source, config.source_tz(source), timeout=source.timeout_seconds)
        self.catalogue = config.catalogue()
        self.unit_codes = set(config.source_units(source))  # the units it names, else any
        self.bad: list[tuple[str, str]] = []  # (reason, "row N, column 'value': why") of the last poll
        self.last_good: dict[Series, Reading] = {}

    def default_records(self) -> str:
        return "rows"

    def normalise(self, raw: tuple[str, bytes], now: datetime) -> list[Reading]:
        records = self.records(*raw)
        self.items = len(records)
        self.bad = []
        out: dict[Series, Reading] = {}
        row_of: dict[Series, int] = {}
        for row, record in zip(self.row_numbers, records, strict=True):
            try:
                metric, unit, key, value = self._row(record)
                if (metric, unit, key) in row_of:
                    raise BadRow("", None, "repeated row", f"the same unit, metric and key as row "
                                 f"{row_of[metric, unit, key]} (that row's value is taken)")
            except BadRow as err:
                self.bad.append((err.reason, err.at(row)))
                if err.series is not None and err.series in self.last_good:
                    out.setdefault(err.series, self.last_good[err.series])
                continue
            shown = int(value) if value.is_integer() else value
            out[metric, unit, key] = Reading(metric, unit, key, shown, now, self.source.name)
            row_of[metric, unit, key] = row
        self.unmapped = Counter(reason for reason, _ in self.bad)
        self.last_good = out
        return list(out.values())

    def _row(self, record: Any) -> tuple[str, str, str, float]:
        """(metric, unit, key, value) of one row, or BadRow."""
        if not isinstance(record, dict):
            raise BadRow("", None, "not a record", f"not a record of {', '.join(FIELDS)}")
        column = {ours: self.source.fields.get(ours, ours) for ours in FIELDS}
        theirs = {ours: _dig(record, column[ours]) for ours in FIELDS}
        unit = self.unit_of(_text(theirs["unit"]))
        if unit is None:
            raise BadRow(column["unit"], theirs["unit"], "unknown unit",
                         "not a unit of this source (its units, or unit_map)")
        metric_id = _text(theirs["metric"])
        metric = self.catalogue.get(metric_id)
        if metric is None:
            raise BadRow(column["metric"], theirs["metric"], "unknown metric",
                         "no metric of the catalogue or of [[metrics]]")
        if metric.derived is not None:
            raise BadRow(column["metric"], theirs["metric"], "derived metric",
                         "a derived metric is computed from others, never fed")
        if metric.series:
            raise BadRow(column["metric"], theirs["metric"], "series metric", "a series is not fed as rows")
        key = normalise_key(_text(theirs["key"]))
        if metric.keyed_by and not key:
            raise BadRow(column["key"], theirs["key"], "missing key",
                         f"{metric_id} is keyed by {metric.keyed_by}: give one")
        if not metric.keyed_by and key:
            raise BadRow(column["key"], theirs["key"], "key for an unkeyed metric",
                         f"{metric_id} has no key (it is keyed by unit only)")
        series = (metric_id, unit, key)
        value = _number(theirs["value"])
        if value is None:
            raise BadRow(column["value"], theirs["value"], "value not a number", "not a number", series)
        if value < 0 and metric_id in CATALOGUE:
            raise BadRow(column["value"], theirs["value"], "value below zero",
                         f"{metric_id} is never below zero", series)
        return metric_id, unit, key, value

    def status_extra(self) -> dict[str, Any]:
        named = [text for _, text in self.bad[:NAMED]]
        rest = Counter(reason for reason, _ in self.bad[NAMED:])
        if rest:
            named.append(f"and {rest.total()} more ({', '.join(f'{r}: {n}' for r, n in rest.most_common())})")
        return {"items_read": self.items, "items_unmapped": len(self.bad), "unmapped_detail": "; ".join(named)}
