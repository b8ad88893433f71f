"""Which subjects each rule's condition holds for now: units at or above a level, silent
screens, failing sources, metrics past a threshold. Read from the live store as the screens
read it (the read model), never from a cache of our own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.config import Config, Display, NotifyRule
from dashboard.domain import actions
from dashboard.domain.escalation import known_below, period, tiles_by_unit
from dashboard.domain.freshness import FRESH
from dashboard.storage.livestore import LiveStore

LANGS = ("fi", "sv", "en")


@dataclass
class Condition:
    """A rule's condition holding for one subject. `since`: when it began, where the store
    tells (else when first seen); it is told once it has held for `wait`."""

    subject: str
    facts: dict[str, dict[str, Any]]  # language -> the names and figures its text shows
    where: list[str]  # whose opening hours: ["unit", code], ["display", id] or ["site"]
    since: datetime | None = None
    wait: timedelta = timedelta(0)
    acknowledged: bool = False
    roles: list[str] = field(default_factory=list)  # only the rule's channels of these roles


@dataclass
class Verdict:
    holding: dict[str, Condition] = field(default_factory=dict)
    # subjects whose state cannot be told now (a stale figure, a stopped source): their
    # episodes stay as they are, neither going on nor ended
    unsure: set[str] = field(default_factory=set)


class Context:
    """What one run reads, read once: the time and the read model over every unit."""

    def __init__(self, config: Config, store: LiveStore, now: datetime):
        self.config, self.store, self.now = config, store, now
        self._model: dict[str, Any] | None = None

    @property
    def model(self) -> dict[str, Any]:
        if self._model is None:
            from dashboard.domain.readmodel import build

            whole = Display(id="notify", title="notify", units=[u.code for u in self.config.units])
            self._model = build(self.config, whole, self.store, None, every_metric=True).data
        return self._model

    def units(self, rule: NotifyRule) -> list[str]:
        return rule.units or [u.code for u in self.config.units]

    def unit_name(self, code: str) -> dict[str, dict[str, Any]]:
        known = {u.code: u for u in self.config.units}
        u = known.get(code)
        return {lang: {"unit": u.name_in(lang) if u else code} for lang in LANGS}

    def is_open(self, where: list[str]) -> bool:
        """Whether the subject's hours are open now: a unit's, a display's (any of its
        units), the site's (any unit)."""
        units = [u.code for u in self.config.units]
        if where[:1] == ["unit"]:
            units = where[1:]
        elif where[:1] == ["display"]:
            display = next((d for d in self.config.displays if d.id == where[1]), None)
            units = display.units if display is not None and display.units else units
        return not units or any(period(self.config, u, self.now).open for u in units)

    def opened_at(self, units: list[str]) -> datetime | None:
        """When the earliest of these units opened, while one is open (None: open around the
        clock, or closed)."""
        began = [p.began for u in units if (p := period(self.config, u, self.now)).open]
        if not began or any(b is None for b in began):
            return None
        return min(b for b in began if b is not None)


def _with(base: dict[str, dict[str, Any]], **facts: Any) -> dict[str, dict[str, Any]]:
    return {lang: {**base.get(lang, {}), **facts} for lang in LANGS}


def level(rule: NotifyRule, ctx: Context) -> Verdict:
    out = Verdict()
    levels = ctx.model["escalation"]["units"]
    by_unit = tiles_by_unit(ctx.model.get("tiles", []))
    for unit in ctx.units(rule):
        u = levels.get(unit)
        if u is None:
            continue
        if int(u["level"]) < (rule.level or 2) and not known_below(
                ctx.config.escalation.rules, by_unit.get(unit, []), unit, u, rule.level or 2):
            # not known to be back to normal: the rules see none of their figures fresh (as an
            # action episode, dashboard/domain/actions.py), or a rule that would raise the unit
            # this high cannot see its own figures now (the queue feed down while the staff
            # feed is fine); so no "back to normal" is sent until they are seen again
            out.unsure.add(unit)
        elif int(u["level"]) >= (rule.level or 2):
            facts = _with(ctx.unit_name(unit), level=int(u["level"]), threshold=rule.level,
                          reasons=", ".join(str(r) for r in u.get("reasons") or []) or "-")
            out.holding[unit] = Condition(unit, facts, ["unit", unit], acknowledged=acknowledged(ctx, unit))
    return out


def acknowledged(ctx: Context, unit: str) -> bool:
    """A unit's escalation episode is acknowledged when it has actions and all of them are
    (dashboard/domain/actions.py); else it is not, and repeats."""
    mine = actions.current(ctx.config, ctx.store, [unit]).get(unit, [])
    return bool(mine) and all(x.acknowledged for x in mine)


def screen_silent(rule: NotifyRule, ctx: Context) -> Verdict:
    out = Verdict()
    wait = timedelta(minutes=rule.minutes or 2)
    titles = {d.id: d for d in ctx.config.displays}
    for beat in ctx.store.screens():
        display, screen = str(beat.get("display", "")), str(beat.get("screen", ""))
        if rule.displays and display not in rule.displays:
            continue
        since = datetime.fromtimestamp(float(beat["seen_at_epoch"]), UTC)
        d = titles.get(display)
        if rule.hours == "open" and d is not None and d.units:
            opened = ctx.opened_at(d.units)
            if opened is not None:  # silent overnight: counted from the opening
                since = max(since, opened)
        if ctx.now - since < wait:
            continue
        facts = {lang: {"screen": screen, "display": d.title_in(lang) if d else display,
                        "minutes": rule.minutes} for lang in LANGS}
        out.holding[screen] = Condition(screen, facts, ["display", display], since=since)
    return out


def source_failing(rule: NotifyRule, ctx: Context) -> Verdict:
    out = Verdict()
    wait = timedelta(minutes=rule.minutes or 5)
    for source in ctx.config.sources:
        name = source.name
        if rule.sources and name not in rule.sources:
            continue
        if ctx.store.is_stopped(name):
            out.unsure.add(name)  # stopped by an operator, who knows
            continue
        status = ctx.store.source_status(name)
        if status.state != "failing":
            continue
        since = datetime.fromisoformat(status.last_success) if status.last_success else None
        if since is not None and ctx.now - since < wait:
            continue
        facts = {lang: {"source": name, "minutes": rule.minutes} for lang in LANGS}
        # never succeeded: failing since this job first saw it
        out.holding[name] = Condition(name, facts, ["site"], since=since,
                                      wait=wait if since is None else timedelta(0))
    return out


def metric(rule: NotifyRule, ctx: Context) -> Verdict:
    out = Verdict()
    units = set(ctx.units(rule))
    for t in ctx.model["tiles"]:
        if t["metric"] != rule.metric or t["unit"] not in units or (rule.key is not None and t["key"] != rule.key):
            continue
        subject = f"{t['unit']}|{t['metric']}|{t['key']}"
        value = t.get("value")
        if t.get("status") != FRESH or not isinstance(value, int | float):
            out.unsure.add(subject)
            continue
        past = value > rule.above if rule.above is not None else rule.below is not None and value < rule.below
        if past:
            threshold = rule.above if rule.above is not None else rule.below
            facts = _with(ctx.unit_name(t["unit"]), metric=t["metric"], key=t["key"], value=f"{value:g}",
                          threshold=f"{threshold:g}", direction="above" if rule.above is not None else "below")
            out.holding[subject] = Condition(subject, facts, ["unit", t["unit"]])
    return out


def action_overdue(rule: NotifyRule, ctx: Context) -> Verdict:
    """An escalation action not acknowledged by its due time: to the rule's channels of the
    role above the action's own (an admin's, to the rule's channels of no role)."""
    out = Verdict()
    units = set(ctx.units(rule))
    for x in actions.overdue(ctx.config, ctx.store, ctx.now):
        if x.unit not in units:
            continue
        subject = f"{x.unit}|{x.action.id}|{x.episode}"
        above = actions.next_role(x.action.role)
        facts = {lang: {**ctx.unit_name(x.unit)[lang], "action": x.text(lang), "minutes": x.action.within_minutes}
                 for lang in LANGS}
        out.holding[subject] = Condition(subject, facts, ["unit", x.unit], since=x.due,
                                         roles=[above] if above else [])
    return out


EVALUATORS = {"level": level, "screen_silent": screen_silent, "source_failing": source_failing,
              "metric": metric, "action_overdue": action_overdue}
