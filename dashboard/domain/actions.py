"""Escalation actions (`[[escalation.actions]]`): what a unit's raised level calls for, who
owns each, and whether it has been acknowledged in time.

Episodes
    An episode of a unit starts when its level rises to 2 or more and ends when it is back at
    1 (a level the rules cannot know, from stale figures, neither starts nor ends one). Every
    read model that shows the unit records its level in the live store
    (``LiveStore.observe_episodes``, one atomic script), so every web and collector process
    sees the same episode; the collector's 30-s escalation job builds one too, so an episode
    is recorded even while no screen is looking.

Open actions
    An action is open in an episode when the episode's highest level so far is at least the
    action's level and the action is for the unit (``units`` empty: every unit). Once open it
    stays open until the episode ends, even if the level falls back to 2. An acknowledgement
    ("done" or "not_needed", with a note, who and when) belongs to its episode: a new episode
    opens the actions again. An action is *due* ``within_minutes`` after it opened: the
    episode's start, or the moment the episode first reached the action's level.

For other code (the notifications)
    ``overdue(config, store, now) -> list[OpenAction]``: the open actions of every unit's
    current episode not acknowledged by their due time (``now >= due``), oldest due first.
    Each carries ``unit``, ``action`` (the EscalationAction: id, level, text, text_sv, role,
    within_minutes), ``episode`` (its id), ``episode_start``, ``opened_at``, ``due`` and
    ``ack`` (None). Read-only: it records nothing. ``next_role(role)`` names the role above.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dashboard.config import Config, EscalationAction
from dashboard.domain.escalation import known_below, tiles_by_unit

ROLES = ("shift_lead", "manager", "admin")
STATES = ("done", "not_needed")


class EpisodeStore(Protocol):
    def observe_episodes(self, levels: dict[str, tuple[int, float, bool]], now: float) -> dict[str, dict[str, Any]]: ...

    def episodes(self) -> dict[str, dict[str, Any]]: ...


@dataclass(frozen=True)
class OpenAction:
    unit: str
    action: EscalationAction
    episode: str
    episode_start: datetime
    opened_at: datetime
    due: datetime
    ack: dict[str, Any] | None

    @property
    def acknowledged(self) -> bool:
        return self.ack is not None

    def overdue(self, now: datetime) -> bool:
        return self.ack is None and now >= self.due

    def text(self, lang: str) -> str:
        return self.action.text_sv if lang == "sv" and self.action.text_sv else self.action.text


def next_role(role: str) -> str | None:
    """Who an overdue action goes to next: the role above its own (none above an admin)."""
    i = ROLES.index(role)
    return ROLES[i + 1] if i + 1 < len(ROLES) else None


def may_acknowledge(role: str, action: EscalationAction) -> bool:
    """A person acknowledges the actions of their own role and of the roles below it."""
    return ROLES.index(role) >= ROLES.index(action.role)


def for_unit(config: Config, unit: str, level: int) -> list[EscalationAction]:
    """The configured actions a unit at `level` calls for, lowest level first."""
    found = [a for a in config.escalation.actions if a.level <= level and (not a.units or unit in a.units)]
    return sorted(found, key=lambda a: a.level)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


def of_episode(config: Config, unit: str, found: dict[str, Any]) -> list[OpenAction]:
    """The open actions of a unit's current episode (none once it has ended), with their
    acknowledgements; `found` as LiveStore.observe_episodes or episodes return it."""
    ep, acks = found["episode"], found.get("acks") or {}
    if ep.get("end") is not None:
        return []
    start = _at(ep["start"])
    raised = ep.get("raised") or {}
    out = []
    for a in for_unit(config, unit, int(ep["peak"])):
        opened = _at(raised[str(a.level)]) if str(a.level) in raised else start
        ack = acks.get(a.id)
        out.append(OpenAction(unit, a, str(ep["id"]), start, opened, opened + timedelta(minutes=a.within_minutes),
                              ack if isinstance(ack, dict) and ack.get("episode") == ep["id"] else None))
    return out


def observe(config: Config, store: EpisodeStore, units: dict[str, dict[str, Any]],
            now: datetime, tiles: Iterable[dict[str, Any]] = ()) -> dict[str, list[OpenAction]]:
    """Record the units' levels (the read model's escalation units) in their episodes and
    return each unit's open actions. Nothing is recorded when no action is configured. A
    level 1 of the rules is not known to be normal — it neither starts nor ends an episode —
    when the rules see nothing fresh, or when a rule that would raise the unit cannot see its
    own figures (`tiles`, the model's: escalation.known_below)."""
    if not config.escalation.actions:
        return {}
    levels = {}
    by_unit = tiles_by_unit(tiles)
    for unit, u in units.items():
        level = int(u["level"])
        since = u.get("at") if u.get("source") == "manual" else u.get("updated_at")
        when = datetime.fromisoformat(since) if isinstance(since, str) else now
        known = level > 1 or known_below(config.escalation.rules, by_unit.get(unit, []), unit, u, 2)
        levels[unit] = (level, min(when, now).timestamp(), known)
    found = store.observe_episodes(levels, now.timestamp())
    return {unit: of_episode(config, unit, f) for unit, f in found.items()}


def current(config: Config, store: EpisodeStore, units: Iterable[str] | None = None) -> dict[str, list[OpenAction]]:
    """Each unit's open actions now, as last recorded (read only)."""
    wanted = set(units) if units is not None else None
    return {unit: of_episode(config, unit, f) for unit, f in store.episodes().items()
            if wanted is None or unit in wanted}


def overdue(config: Config, store: EpisodeStore, now: datetime) -> list[OpenAction]:
    """The open actions not acknowledged by their due time, oldest due first (module doc)."""
    late = [x for items in current(config, store).values() for x in items if x.overdue(now)]
    return sorted(late, key=lambda x: (x.due, x.unit, x.action.id))


def counts(items: list[OpenAction], now: datetime) -> dict[str, int]:
    """What the wall says of a unit's actions: how many in all, acknowledged, still open and
    overdue."""
    acked = sum(1 for x in items if x.acknowledged)
    return {"total": len(items), "acknowledged": acked, "open": len(items) - acked,
            "overdue": sum(1 for x in items if x.overdue(now))}


def next_due(items: Iterable[OpenAction], now: datetime) -> datetime | None:
    """The next moment an open action becomes overdue (the wall's count changes then)."""
    return min((x.due for x in items if x.ack is None and x.due > now), default=None)


@dataclass(frozen=True)
class PastEpisode:
    start: datetime
    end: datetime | None  # None: still going on
    peak: int


def episodes_of(levels: Iterable[tuple[datetime, int]]) -> list[PastEpisode]:
    """A unit's episodes from its recorded levels (the history's escalation.level changes,
    oldest first): from a rise to 2 or more to the next change back to 1."""
    out: list[PastEpisode] = []
    start: datetime | None = None
    peak = 1
    for at, level in levels:
        if level >= 2 and start is None:
            start, peak = at, level
        elif level >= 2 and start is not None:
            peak = max(peak, level)
        elif level < 2 and start is not None:
            out.append(PastEpisode(start, at, peak))
            start, peak = None, 1
    if start is not None:
        out.append(PastEpisode(start, None, peak))
    return out
