"""Escalation level per unit (1 normal, 2 raised, 3 high, 4 critical) from the configured
rules: the highest level whose rule holds, with the reasons that raised it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashboard.config import Config, Rule

LEVEL_NAMES = {
    "fi": {1: "Normaali", 2: "Kohonnut", 3: "Korkea", 4: "Kriittinen"},
    "sv": {1: "Normal", 2: "Förhöjd", 3: "Hög", 4: "Kritisk"},
    "en": {1: "Normal", 2: "Raised", 3: "High", 4: "Critical"},
}


@dataclass
class Level:
    level: int = 1
    reasons: list[str] = field(default_factory=list)
    # the same reasons as facts, for the screens to say in words
    details: list[dict[str, Any]] = field(default_factory=list)


def _values(tiles: Iterable[dict[str, Any]], unit: str, metric: str) -> list[tuple[str, float]]:
    """(key, value) of the fresh tiles of one metric of a unit; stale values raise nothing."""
    if metric == "staff.present_ratio":
        planned = {t["key"]: t["value"] for t in _fresh(tiles, unit, "staff.planned")}
        present = {t["key"]: t["value"] for t in _fresh(tiles, unit, "staff.present")}
        total_planned = sum(planned.get(k, 0) for k in present)
        if not total_planned:
            return []
        return [("", sum(present.values()) / total_planned)]
    return [(t["key"], float(t["value"])) for t in _fresh(tiles, unit, metric)]


def _fresh(tiles: Iterable[dict[str, Any]], unit: str, metric: str) -> list[dict[str, Any]]:
    return [t for t in tiles if t["unit"] == unit and t["metric"] == metric and t["status"] == "fresh"]


def evaluate(rules: list[Rule], tiles: list[dict[str, Any]], unit: str) -> Level:
    result = Level()
    for rule in rules:
        if rule.units and unit not in rule.units:
            continue
        for key, value in _values(tiles, unit, rule.metric):
            hit = (rule.above is not None and value > rule.above) or (
                rule.below is not None and value < rule.below
            )
            if not hit:
                continue
            limit = f"> {rule.above:g}" if rule.above is not None else f"< {rule.below:g}"
            where = f" ({key})" if key else ""
            reason = f"{rule.metric}{where} {value:g} {limit}"
            detail = {"metric": rule.metric, "key": key, "value": value,
                      "op": ">" if rule.above is not None else "<",
                      "limit": rule.above if rule.above is not None else rule.below}
            if rule.level > result.level:
                result = Level(rule.level, [reason], [detail])
            elif rule.level == result.level:
                result.reasons.append(reason)
                result.details.append(detail)
    return result


def unit_levels(config: Config, tiles: list[dict[str, Any]], set_by_people: dict[str, dict[str, Any]],
                now: datetime, units: list[str]) -> tuple[dict[str, Any], datetime | None]:
    """The snapshot's "escalation" object for a display's units, and the next moment it
    changes by itself (a shift lead's level ending), for the read model."""
    next_change: datetime | None = None
    units_level: dict[str, dict[str, Any]] = {}
    for unit in units:
        level = evaluate(config.escalation.rules, tiles, unit)
        units_level[unit] = {"level": level.level, "reasons": level.reasons,
                             "details": level.details, "source": "rules"}
        manual = set_by_people.get(unit)
        if manual:
            until = datetime.fromisoformat(manual["valid_until"])
            if now < until:
                # a shift lead's level stands (until its end) whatever the rules say; the
                # rules' own level is kept beside it
                units_level[unit] = {"level": int(manual["level"]), "reasons": [manual["reason"]],
                                     "details": [], "source": "manual", "by": manual["by"],
                                     "at": manual["at"], "rules_level": level.level}
                if next_change is None or until < next_change:
                    next_change = until
    escalation = {
        "level": max((int(v["level"]) for v in units_level.values()), default=1),
        "units": units_level,
    }
    return escalation, next_change
