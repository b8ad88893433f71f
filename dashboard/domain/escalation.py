"""Escalation level per unit (1 normal, 2 raised, 3 high, 4 critical): the highest level
whose rule holds, with the reasons that raised it; or the level a shift lead set.

When rules apply
    A rule applies to its units (all units when it names none). A rule with ``hours =
    "open"`` (the default) is evaluated only while the unit is open: between its opening
    hours (``Config.hours(unit)``) on working days (Mon–Fri less Finnish public holidays,
    ``dashboard.domain.clock.is_working_day``), or every day when the unit is open every day, in
    the site's time zone. A rule with ``hours = "always"`` applies around the clock. Outside
    opening hours the unit's object says ``"closed": true`` and its level is 1 unless an
    "always" rule holds.

What a rule sees
    Only fresh tiles (the read model's tiles, their status from ``freshness.status_of`` and
    ``choose``): a stale or unavailable value raises nothing. ``staff.present_ratio`` is
    Σ present / Σ planned over the professions whose ``staff.planned`` and
    ``staff.present`` are both fresh; a profession with either tile not fresh, or with only
    one of the two, is named in the detail's ``"unseen"``. With no profession seen (or none
    planned among those seen) the ratio is unknown and its rule does not fire.

The unit's object (snapshot["escalation"]["units"][unit])
    ``level``, ``reasons`` (text), ``details`` (facts for the screens), ``source``
    ("rules" | "manual"), ``status``, ``updated_at``, and ``closed: true`` outside opening
    hours. A shift lead's level stands until its end (``valid_until``); the rules' own
    verdict is then carried beside it as ``rules_level``, ``rules_reasons`` and
    ``rules_details``, with ``by`` and ``at``.

    ``status`` is "stale" when at least one rule applies to the unit now and the rules could
    see none of their inputs fresh (every tile of their metrics stale or unavailable, or
    none at all; for the ratio: no profession seen with staff planned): level 1 then means
    "not known to be raised", and the screens grey it like any stale figure. Otherwise
    "fresh": also when no rule applies (closed, or no rules for the unit: level 1 is then
    certain), and always for a shift lead's level (a person's word, in force until its end).

    ``updated_at`` is when the level came to be, as far as the live data tell:
    manual — the moment it was set (``at``); raised by rules — the newest time among the
    inputs that raised it to this level, but not before the unit opened when an
    opening-hours rule raised it; level 1 while open — the newest fresh input's time (the
    figures last seen to be fine); closed — the moment the unit closed; stale — the newest
    input's time, whatever its status (else the moment the unit opened).

Rules that can never change a level (``useless_rules``, for ``check-config``): a rule is
useless when, for every unit and every part of the day it applies to, whenever it fires
another rule of the same metric applying then fires too with a level at least as high.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from dashboard.config import Config, Hours, Problem, Rule

LEVEL_NAMES = {
    "fi": {1: "Normaali", 2: "Kohonnut", 3: "Korkea", 4: "Kriittinen"},
    "sv": {1: "Normal", 2: "Förhöjd", 3: "Hög", 4: "Kritisk"},
    "en": {1: "Normal", 2: "Raised", 3: "High", 4: "Critical"},
}
RATIO = "staff.present_ratio"
FRESH = "fresh"
# how far around now opening hours are looked for (a long holiday season still fits)
_SEARCH_DAYS = 16


@dataclass
class Level:
    level: int = 1
    reasons: list[str] = field(default_factory=list)
    # the same reasons as facts, for the screens to say in words
    details: list[dict[str, Any]] = field(default_factory=list)
    # the newest time among the inputs that raised it to this level
    raised_at: datetime | None = None
    # whether an opening-hours rule is among those that raised it
    by_open_rule: bool = False
    # whether any input of the applicable rules was seen fresh, and the newest such time
    seen: bool = False
    newest_fresh: datetime | None = None
    newest_any: datetime | None = None
    applicable: int = 0


@dataclass(frozen=True)
class Period:
    """Whether the unit is open now, since when it has been so, and until when."""

    open: bool
    began: datetime | None
    ends: datetime | None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _newest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def period(config: Config, unit: str, now: datetime) -> Period:
    """The unit's opening hours around `now` (its site's zone): open or closed, since, until."""
    hours = config.hours(unit)
    if hours.around_the_clock:
        return Period(True, None, None)
    tz = config.tz_of(unit)
    today = now.astimezone(tz).date()
    spans: list[list[datetime]] = []
    for offset in range(-_SEARCH_DAYS, _SEARCH_DAYS + 1):
        day = today + timedelta(days=offset)
        if not hours.open_on(day):
            continue
        start = datetime.combine(day, time(hours.start), tzinfo=tz)
        end = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) if hours.end >= 24
               else datetime.combine(day, time(hours.end), tzinfo=tz))
        if spans and spans[-1][1] >= start:  # open until midnight and from midnight on
            spans[-1][1] = end
        else:
            spans.append([start, end])
    for start, end in spans:
        if start <= now < end:
            return Period(True, start, end)
    before = [end for _start, end in spans if end <= now]
    after = [start for start, _end in spans if start > now]
    return Period(False, max(before, default=None), min(after, default=None))


def applies(rule: Rule, unit: str, is_open: bool) -> bool:
    return (not rule.units or unit in rule.units) and (is_open or rule.hours == "always")


def unseen_raiser(rules: list[Rule], tiles: Iterable[dict[str, Any]], unit: str, at_least: int,
                  is_open: bool) -> bool:
    """Whether a rule that would put `unit` at `at_least` or higher applies now and has figures
    of the unit, none of them fresh: the queue feed silent while the staffing feed goes on,
    the rules then say 1 from the staffing alone, and nobody knows the queue is shorter. A
    rule whose figures the unit never has (a ward's occupancy for a clinic) says nothing."""
    mine = [t for t in tiles if t.get("unit") == unit]
    for rule in rules:
        if rule.level < at_least or not applies(rule, unit, is_open):
            continue
        reads = ("staff.planned", "staff.present") if rule.metric == RATIO else (rule.metric,)
        figures = [t for t in mine if t.get("metric") in reads]
        if figures and not any(t.get("status") == FRESH for t in figures):
            return True
    return False


def tiles_by_unit(tiles: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A model's tiles by their unit: read once for all of its units (known_below asks per unit)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for t in tiles:
        out.setdefault(str(t.get("unit")), []).append(t)
    return out


def known_below(rules: list[Rule], tiles: Iterable[dict[str, Any]], unit: str, u: dict[str, Any],
                at_least: int) -> bool:
    """Whether a unit whose level now (`u`, the read model's escalation unit) is under
    `at_least` is known to be: not when the rules see none of their figures fresh, nor when a
    rule that would put it that high cannot see its own (unseen_raiser; `tiles`: the unit's,
    tiles_by_unit). A level a person set is known whatever the figures. An action episode ends (actions.observe) and a notification
    says "back to normal" (dashboard/notify) only on a level known to be lower."""
    if u.get("status") == "stale":
        return False
    if u.get("source") == "manual":
        return True
    return not unseen_raiser(rules, tiles, unit, at_least, not u.get("closed"))


def _fresh(tiles: Iterable[dict[str, Any]], unit: str, metric: str) -> list[dict[str, Any]]:
    return [t for t in tiles if t["unit"] == unit and t["metric"] == metric and t["status"] == FRESH]


def _all(tiles: Iterable[dict[str, Any]], unit: str, metric: str) -> list[dict[str, Any]]:
    return [t for t in tiles if t["unit"] == unit and t["metric"] == metric]


@dataclass
class _Input:
    key: str
    value: float
    at: datetime | None
    extra: dict[str, Any] = field(default_factory=dict)


def _inputs(tiles: list[dict[str, Any]], unit: str, metric: str) -> tuple[list[_Input], datetime | None]:
    """The values a rule of `metric` sees for `unit` (fresh only), and the newest time of any
    tile it reads whatever its status."""
    if metric == RATIO:
        planned = {t["key"]: t for t in _all(tiles, unit, "staff.planned")}
        present = {t["key"]: t for t in _all(tiles, unit, "staff.present")}
        newest_any = _newest(*(_when(t["updated_at"]) for t in [*planned.values(), *present.values()]))
        seen = sorted(k for k in planned.keys() & present.keys()
                      if planned[k]["status"] == FRESH and present[k]["status"] == FRESH)
        unseen = sorted((planned.keys() | present.keys()) - set(seen))
        total_planned = sum(float(planned[k]["value"]) for k in seen)
        if not seen or total_planned <= 0:
            return [], newest_any
        ratio = sum(float(present[k]["value"]) for k in seen) / total_planned
        at = _newest(*(_when(t["updated_at"]) for k in seen for t in (planned[k], present[k])))
        return [_Input("", ratio, at, {"unseen": unseen})], newest_any
    every = _all(tiles, unit, metric)
    newest_any = _newest(*(_when(t["updated_at"]) for t in every))
    out = [_Input(t["key"], float(t["value"]), _when(t["updated_at"]))
           for t in every if t["status"] == FRESH and isinstance(t["value"], (int, float))]
    return out, newest_any


def evaluate(rules: list[Rule], tiles: list[dict[str, Any]], unit: str, is_open: bool = True) -> Level:
    """The rules' level for `unit` from the tiles, with reasons; only rules that apply now."""
    result = Level()
    for rule in rules:
        if not applies(rule, unit, is_open):
            continue
        result.applicable += 1
        values, newest_any = _inputs(tiles, unit, rule.metric)
        result.newest_any = _newest(result.newest_any, newest_any)
        for item in values:
            result.seen = True
            result.newest_fresh = _newest(result.newest_fresh, item.at)
            value = item.value
            hit = (rule.above is not None and value > rule.above) or (
                rule.below is not None and value < rule.below
            )
            if not hit:
                continue
            limit = f"> {rule.above:g}" if rule.above is not None else f"< {rule.below:g}"
            where = f" ({item.key})" if item.key else ""
            reason = f"{rule.metric}{where} {value:g} {limit}"
            if item.extra.get("unseen"):
                reason += f" (unseen: {', '.join(item.extra['unseen'])})"
            detail = {"metric": rule.metric, "key": item.key, "value": value,
                      "op": ">" if rule.above is not None else "<",
                      "limit": rule.above if rule.above is not None else rule.below, **item.extra}
            if rule.level > result.level:
                result.level, result.reasons, result.details = rule.level, [reason], [detail]
                result.raised_at, result.by_open_rule = item.at, rule.hours == "open"
            elif rule.level == result.level:
                result.reasons.append(reason)
                result.details.append(detail)
                result.raised_at = _newest(result.raised_at, item.at)
                result.by_open_rule = result.by_open_rule or rule.hours == "open"
    return result


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def rules_object(config: Config, tiles: list[dict[str, Any]], unit: str, now: datetime,
                 when: Period | None = None) -> tuple[dict[str, Any], Period]:
    """The rules' verdict for one unit now, as the snapshot carries it (`when`: the unit's
    opening period now, when the caller knows it)."""
    when = when or period(config, unit, now)
    level = evaluate(config.escalation.rules, tiles, unit, when.open)
    status = "stale" if level.applicable and not level.seen else FRESH
    if level.level > 1:
        began = level.raised_at
        if when.open and level.by_open_rule:
            began = _newest(began, when.began)
    elif status == "stale":
        began = level.newest_any or when.began
    elif not when.open:
        began = when.began
    else:
        began = level.newest_fresh or when.began
    obj: dict[str, Any] = {"level": level.level, "reasons": level.reasons, "details": level.details,
                           "source": "rules", "status": status,
                           "updated_at": _iso(began or now.replace(hour=0, minute=0, second=0, microsecond=0))}
    if not when.open:
        obj["closed"] = True
    return obj, when


def unit_levels(config: Config, tiles: list[dict[str, Any]], set_by_people: dict[str, dict[str, Any]],
                now: datetime, units: list[str],
                kept: Callable[[str, Callable[[], tuple[dict[str, Any], Period]]], tuple[dict[str, Any], Period]]
                | None = None) -> tuple[dict[str, Any], datetime | None]:
    """The snapshot's "escalation" object for a display's units, and the next moment it
    changes by itself (a shift lead's level ending, a unit opening or closing), for the read
    model. `kept(unit, make)`: the rules' verdict for a unit as made before for the same
    tiles (readmodel.UnitTiles.ruled), else made by `make`; shared, so never written to."""
    next_change: datetime | None = None

    def soon(moment: datetime | None) -> None:
        nonlocal next_change
        if moment is not None and moment > now and (next_change is None or moment < next_change):
            next_change = moment

    units_level: dict[str, dict[str, Any]] = {}
    by_unit: dict[str, list[dict[str, Any]]] = {unit: [] for unit in units}
    for t in tiles:  # each unit's rules read its own tiles: one pass, not one per unit and rule
        if t["unit"] in by_unit:
            by_unit[t["unit"]].append(t)
    periods: dict[Hours, Period] = {}  # units of the same hours share their period now
    for unit in units:
        def make(unit: str = unit) -> tuple[dict[str, Any], Period]:
            hours = config.hours(unit)
            if hours not in periods:
                periods[hours] = period(config, unit, now)
            return rules_object(config, by_unit[unit], unit, now, periods[hours])

        ruled, when = kept(unit, make) if kept is not None else make()
        soon(when.ends)
        units_level[unit] = dict(ruled)  # a copy: the caller adds to it (readmodel._level_fresh_until)
        manual = set_by_people.get(unit)
        if manual:
            until = datetime.fromisoformat(manual["valid_until"])
            if now < until:
                # a shift lead's level stands (until its end) whatever the rules say; the
                # rules' own verdict is kept beside it
                units_level[unit] = {
                    "level": int(manual["level"]), "reasons": [manual["reason"]], "details": [],
                    "source": "manual", "status": FRESH, "updated_at": manual["at"],
                    "by": manual["by"], "at": manual["at"], "valid_until": manual["valid_until"],
                    "rules_level": ruled["level"],
                    "rules_reasons": ruled["reasons"], "rules_details": ruled["details"],
                    **({"closed": True} if ruled.get("closed") else {}),
                }
                soon(until)
    escalation = {
        "level": max((int(v["level"]) for v in units_level.values()), default=1),
        "units": units_level,
    }
    return escalation, next_change


# -- check-config: rules that can never change a level ------------------------------------


def _fires_text(rule: Rule) -> str:
    op = f"> {rule.above:g}" if rule.above is not None else f"< {rule.below:g}"
    return f"{rule.metric} {op}, level {rule.level}"


def _covered(rule: Rule, others: list[tuple[int, Rule]]) -> list[int] | None:
    """Whether, whenever `rule` fires, one of `others` (all applying then, same metric)
    fires with a level at least as high; the indexes of those that do it, else None."""
    higher = [(j, o) for j, o in others if o.level >= rule.level]
    aboves = [(o.above, j) for j, o in higher if o.above is not None]
    belows = [(o.below, j) for j, o in higher if o.below is not None]
    low_a = min(aboves, default=None)  # fires for every value above it
    high_b = max(belows, default=None)  # fires for every value below it
    # the union of (A, ∞) and (-∞, B) leaves [B, A] uncovered (nothing when B > A)
    if rule.above is not None and low_a is not None and rule.above >= low_a[0]:
        return [low_a[1]]
    if rule.below is not None and high_b is not None and rule.below <= high_b[0]:
        return [high_b[1]]
    if low_a is not None and high_b is not None and high_b[0] > low_a[0]:
        return [low_a[1], high_b[1]]
    return None


def useless_rules(config: Config) -> list[Problem]:
    """Rules that can never change any unit's level, with file, key and reason. A rule
    found useless is left out when the later ones are judged, so of two rules that cover
    each other (duplicates) only one is named."""
    rules = config.escalation.rules
    file = str(config.path) if config.path else "(configuration)"
    dropped: set[int] = set()
    problems: list[Problem] = []
    for i, rule in enumerate(rules):
        if (rule.above is None) == (rule.below is None):
            continue  # refused by the configuration's own checks
        by: set[int] = set()
        useless = True
        for unit in rule.units or [u.code for u in config.units]:
            parts = [True] if rule.hours == "open" or config.hours(unit).around_the_clock else [True, False]
            for is_open in parts:
                others = [(j, o) for j, o in enumerate(rules)
                          if j != i and j not in dropped and o.metric == rule.metric
                          and (o.above is None) != (o.below is None) and applies(o, unit, is_open)]
                covered = _covered(rule, others)
                if covered is None:
                    useless = False
                    break
                by.update(covered)
            if not useless:
                break
        if useless:
            dropped.add(i)
            names = ", ".join(f"escalation.rules[{j}] ({_fires_text(rules[j])})" for j in sorted(by))
            problems.append(Problem(
                file, f"escalation.rules[{i}]",
                f"can never change a level: whenever it fires ({_fires_text(rule)}), {names} "
                f"fires too with a level at least as high; raise its level or remove it"))
    return problems
