"""A Reading is one number the wall may show. Everything downstream of collectors speaks it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dashboard.domain.metrics import normalise_key

Value = int | float | dict[str, int]


@dataclass(frozen=True)
class Reading:
    metric: str
    unit: str
    key: str
    value: Value
    observed_at: datetime
    source: str
    manual: bool = False
    entered_by: str | None = None
    valid_until: datetime | None = None
    # "above": the value is a bound, the true figure lies beyond it (T3 past the look-ahead
    # horizon: "> 90 pv")
    bound: str | None = None
    # (low, high) minutes where an estimate is uncertain (the wait of a person joining a
    # queue): the wall shows "15–25 min" then
    range: tuple[int, int] | None = None
    # a person's remark beside the value (the workbook's "Huomio" of a staffing row): for the
    # staff's screens, never a public one
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", normalise_key(self.key))
        if self.observed_at.tzinfo is None:
            raise ValueError("observed_at must carry a time zone")

    @property
    def ident(self) -> str:
        """The field under which a source keeps this reading: metric, unit and key."""
        return f"{self.metric}|{self.unit}|{self.key}"

    def to_json(self) -> str:
        # Field by field: dataclasses.asdict deep-copies every value, which made this the
        # hot spot of large writes (a 50,000-row workbook spent most of its time here).
        data: dict[str, Any] = {
            "metric": self.metric,
            "unit": self.unit,
            "key": self.key,
            "value": self.value,
            "observed_at": self.observed_at.isoformat(),
            "source": self.source,
            "manual": self.manual,
            "entered_by": self.entered_by,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }
        if self.bound:
            data["bound"] = self.bound
        if self.range:
            data["range"] = list(self.range)
        if self.note:
            data["note"] = self.note
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Reading:
        data = json.loads(text)
        data["observed_at"] = datetime.fromisoformat(data["observed_at"])
        if data.get("valid_until"):
            data["valid_until"] = datetime.fromisoformat(data["valid_until"])
        if data.get("range"):
            data["range"] = tuple(data["range"])
        return cls(**data)

    def with_value(self, value: Value) -> Reading:
        return replace(self, value=value)
