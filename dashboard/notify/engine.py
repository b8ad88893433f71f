"""The "notify" job: each rule's condition now (conditions.py) against its episodes
(state.py): the first message of an episode, its repeats while it lasts unacknowledged, and
its "back to normal" when it ends — none outside opening hours for a rule of hours "open"
(they wait for the opening). The messages go to the outbox, which sends them aside."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dashboard.config import Config, NotifyChannel, NotifyRule
from dashboard.notify.conditions import EVALUATORS, Condition, Context, Verdict
from dashboard.notify.messages import Message
from dashboard.notify.outbox import Item, Outbox
from dashboard.notify.state import Episode, Episodes
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore

log = logging.getLogger(__name__)

NOTIFY_SECONDS = 15


class Notifier:
    def __init__(self, config: Config, store: LiveStore, history: History | None,
                 outbox: Outbox | None = None):
        self.config, self.store = config, store
        self.outbox = outbox or Outbox(history, store=store)
        self.episodes = Episodes(store)
        self.broken: set[str] = set()  # rules whose evaluation failed (said once)

    def run(self) -> list[Message]:
        """One look at every rule; returns the messages handed to the outbox."""
        now = self.store.clock(self.config.tz).now()
        ctx = Context(self.config, self.store, now)
        known = self.episodes.load()
        changed: list[Episode] = []
        ended: list[str] = []
        out: list[tuple[NotifyRule, Message, list[str]]] = []
        rules = {r.id: r for r in self.config.notify.rules}
        ended += [f for f, ep in known.items() if ep.rule not in rules]  # a rule taken away
        for rule in rules.values():
            verdict = self._verdict(rule, ctx)
            if verdict is None:
                continue
            mine = {ep.subject: ep for ep in known.values() if ep.rule == rule.id}
            for subject, cond in verdict.holding.items():
                ep, event = holding(rule, cond, mine.get(subject), ctx)
                if ep is not None:
                    changed.append(ep)
                if event is not None:
                    out.append((rule, message(rule, ep or mine[subject], event, ctx), cond.roles))
            for subject, ep in mine.items():
                if subject in verdict.holding or subject in verdict.unsure:
                    continue
                done, event = ending(rule, ep, ctx)
                (ended.append(ep.field) if done else changed.append(ep))
                if event is not None:  # "back to normal" to whom the episode went
                    out.append((rule, message(rule, ep, event, ctx), ep.roles))
        # what another collector left waiting (it stopped, or lost this job) goes on from here
        self.outbox.take_over(self.config.notify.channels)
        sends = [(channel, m) for rule, m, roles in out for channel in self.channels(rule, roles)]
        items: list[Item] = []
        if changed or ended or sends:  # the messages kept with the episodes that made them
            self.episodes.save(changed, ended, also=lambda pipe: items.extend(self.outbox.keep(sends, pipe)))
        self.outbox.send_now(items)
        return [m for _, m, _ in out]

    def channels(self, rule: NotifyRule, roles: list[str]) -> list[NotifyChannel]:
        mine = [c for c in self.config.notify.channels if c.name in rule.channels]
        if roles and any(c.role in roles for c in mine):
            return [c for c in mine if c.role in roles]
        return mine

    def _verdict(self, rule: NotifyRule, ctx: Context) -> Verdict | None:
        evaluate = EVALUATORS.get(rule.when)
        if evaluate is None:
            return None
        try:
            verdict = evaluate(rule, ctx)
        except (KeyError, ValueError, TypeError) as err:  # the store's, not the rule's: said once
            if rule.id not in self.broken:
                log.warning("notify: rule %s could not be evaluated (%s: %s)", rule.id,
                            type(err).__name__, err, extra={"rule": rule.id})
            self.broken.add(rule.id)
            return None
        self.broken.discard(rule.id)
        return verdict


def holding(rule: NotifyRule, cond: Condition, ep: Episode | None,
            ctx: Context) -> tuple[Episode | None, str | None]:
    """A condition that holds: its episode (when it changed) and the message due, if any."""
    now = ctx.now
    before = None if ep is None else (ep.notified_at, ep.facts, ep.ended_at)
    if ep is None:
        ep = Episode(rule.id, cond.subject, (cond.since or now).isoformat(), where=cond.where, roles=cond.roles)
    ep.facts, ep.ended_at = cond.facts, None
    event = None
    quiet = rule.hours == "open" and not ctx.is_open(ep.where)
    if now - datetime.fromisoformat(ep.began) >= cond.wait and not quiet:
        if ep.notified_at is None:
            event = "alert"
        elif (rule.repeat_minutes and not cond.acknowledged
              and now - datetime.fromisoformat(ep.notified_at) >= timedelta(minutes=rule.repeat_minutes)):
            event = "repeat"
    if event is not None:
        ep.notified_at, ep.sent = now.isoformat(), ep.sent + 1
    if before is not None and before == (ep.notified_at, ep.facts, ep.ended_at):
        return None, event
    return ep, event


def ending(rule: NotifyRule, ep: Episode, ctx: Context) -> tuple[bool, str | None]:
    """A condition that no longer holds: whether its episode is over, and the message due.
    Outside the hours of a rule of hours "open" the end waits (and the episode goes on,
    should the condition hold again before the opening)."""
    if ep.notified_at is None or not rule.recovery:
        return True, None
    if rule.hours == "open" and not ctx.is_open(ep.where):
        ep.ended_at = ep.ended_at or ctx.now.isoformat()
        return False, None
    return True, "recovery"


def message(rule: NotifyRule, ep: Episode, event: str, ctx: Context) -> Message:
    began = datetime.fromisoformat(ep.began).astimezone(ctx.config.tz)
    now = ctx.now.astimezone(ctx.config.tz)
    when = began.strftime("%H:%M") if began.date() == now.date() else began.strftime("%-d.%-m. %H:%M")
    fields = {"rule": rule.id, "subject": ep.subject, "began": began.isoformat(timespec="minutes")}
    return Message(rule.id, rule.when, ep.subject, event, ep.facts, when, fields)
