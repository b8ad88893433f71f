"""Messages on their way: a thread per channel, so a channel that hangs or refuses (an SMTP
server that does not answer) delays neither the collector's jobs nor the other channels.
A failed delivery is tried again after a growing pause, then given up; each outcome is
audited (the channel's name and the text, never its addresses).

With a live store, every message waiting is kept there until it is delivered or given up,
so that a collector that stops (a restart, a host that dies) loses none: the process that
next runs the "notify" job takes over what another process left, each at its own time.

Key, under the store's prefix P:
  P notify:outbox   hash  <id> -> {"channel", "message", "tries", "due" (epoch s), "owner"}

A message is sent by its owner only: a process that has lost the job (and its messages to
the next holder) sees at its next try that the message is no longer its own and lets it go.
A message can still go twice when the owner changes in the second between a try's look
and its send; never not at all while some collector runs."""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import NotifyChannel
from dashboard.notify.channels import DeliveryError, deliver
from dashboard.notify.messages import Message
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore

log = logging.getLogger(__name__)

# seconds before each retry: the last pause repeats until RETRIES tries have failed
BACKOFF = (15.0, 60.0, 300.0, 900.0)
RETRIES = 8  # about 1.5 hours of an unreachable server, then the message is given up
AUDIT_WHO = "ilmoitukset"

# settle a kept message only if it is still the caller's: ARGV id, owner, new JSON ("" = done)
_SETTLE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
if cjson.decode(v)['owner'] ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
"""

# take a kept message over only while it is still kept (its owner may have just delivered it)
_CLAIM = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


@dataclass
class Item:
    channel: NotifyChannel
    message: Message
    tries: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Outbox:
    def __init__(self, history: History | None, backoff: tuple[float, ...] = BACKOFF,
                 retries: int = RETRIES, send: Callable[[NotifyChannel, Message], None] = deliver,
                 store: LiveStore | None = None):
        self.history, self.backoff, self.retries, self.send = history, backoff, retries, send
        self.store = store
        self.owner = uuid.uuid4().hex  # this process's outbox, as the kept messages name it
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()
        if store is not None:
            self._key = store.k("notify", "outbox")
            self._settle = store.r.register_script(_SETTLE)
            self._claim = store.r.register_script(_CLAIM)

    def put(self, channel: NotifyChannel, message: Message) -> None:
        self.send_now(self.keep([(channel, message)]))

    def keep(self, messages: list[tuple[NotifyChannel, Message]], pipe: Any = None) -> list[Item]:
        """Keep messages in the live store (in `pipe`, a transaction of the caller's, so that
        they are kept with the episodes that made them, or at once) before they are sent."""
        items = [Item(channel, message) for channel, message in messages]
        if self.store is not None and items:
            now = time.time()
            (pipe if pipe is not None else self.store.r).hset(
                self._key, mapping={item.id: self._kept(item, now) for item in items})
        return items

    def send_now(self, items: list[Item]) -> None:
        for item in items:
            self._lane(item.channel.name).put(item, 0.0)

    def take_over(self, channels: Iterable[NotifyChannel]) -> int:
        """Make this outbox the owner of every kept message another outbox left (a stopped
        collector's, or one that lost the "notify" job) and send each at its time. A message
        to a channel no longer configured is given up. Returns how many were taken."""
        if self.store is None:
            return 0
        by_name = {c.name: c for c in channels}
        taken = 0
        now = time.time()
        for raw_id, raw in self.store.r.hgetall(self._key).items():
            mid = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            try:
                kept = json.loads(raw)
                if kept.get("owner") == self.owner:
                    continue
                message = Message(**kept["message"])
                item = Item(by_name.get(kept["channel"]) or _gone(kept["channel"]), message,
                             int(kept.get("tries", 0)), mid)
                due = float(kept.get("due", now))
            except (TypeError, ValueError, KeyError):
                log.warning("notify: a kept message %s could not be read; dropped", mid)
                self.store.r.hdel(self._key, mid)
                continue
            if not self._claim(keys=[self._key], args=[mid, self._kept(item, due)]):
                continue  # delivered (or given up) by its owner meanwhile
            taken += 1
            if kept["channel"] not in by_name:
                log.warning("notify: %s of rule %s to channel %s given up: the channel is no longer "
                            "configured", message.event, message.rule, kept["channel"])
                self._audit("notify.failed", item, "channel no longer configured")
                self._settle_kept(item, None)
                continue
            self._lane(item.channel.name).put(item, max(0.0, due - now))
        if taken:
            log.info("notify: %d waiting message(s) taken over from another collector", taken)
        return taken

    def kept(self) -> int:
        """Messages kept in the live store (every outbox's), for the tests and the operator."""
        return 0 if self.store is None else int(self.store.r.hlen(self._key))

    def pending(self) -> int:
        """Messages not yet delivered nor given up (queued, being sent or waiting to retry)."""
        return sum(lane.pending() for lane in list(self._lanes.values()))

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.pending()

    def stop(self) -> None:
        for lane in list(self._lanes.values()):
            lane.stop()

    def attempt(self, item: Item) -> float | None:
        """One try of one message: None when done (delivered, given up or no longer this
        outbox's), else the pause before the next try."""
        if not self._still_mine(item):
            log.info("notify: %s of rule %s to channel %s is another collector's now", item.message.event,
                     item.message.rule, item.channel.name)
            return None
        item.tries += 1
        name, m = item.channel.name, item.message
        try:
            self.send(item.channel, m)
        except DeliveryError as err:
            if item.tries >= self.retries:
                log.warning("notify: %s of rule %s to channel %s given up after %d tries (%s)",
                            m.event, m.rule, name, item.tries, err,
                            extra={"channel": name, "rule": m.rule})
                self._audit("notify.failed", item, str(err))
                self._settle_kept(item, None)
                return None
            pause = self.backoff[min(item.tries, len(self.backoff)) - 1]
            log.warning("notify: %s of rule %s to channel %s failed (%s); trying again in %.0f s",
                        m.event, m.rule, name, err, pause, extra={"channel": name, "rule": m.rule})
            self._settle_kept(item, time.time() + pause)
            return pause
        except Exception:  # a bug of ours: not retried, so that it cannot loop
            log.exception("notify: %s of rule %s to channel %s failed unexpectedly", m.event, m.rule, name)
            self._audit("notify.failed", item, "unexpected error")
            self._settle_kept(item, None)
            return None
        log.info("notify: %s of rule %s sent to channel %s", m.event, m.rule, name,
                 extra={"channel": name, "rule": m.rule})
        self._settle_kept(item, None)
        self._audit("notify.sent", item, None)
        return None

    def _lane(self, name: str) -> _Lane:
        with self._lock:
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = _Lane(self, name)
            return lane

    def _kept(self, item: Item, due: float) -> str:
        return json.dumps({"channel": item.channel.name, "message": asdict(item.message), "tries": item.tries,
                           "due": due, "owner": self.owner}, ensure_ascii=False)

    def _still_mine(self, item: Item) -> bool:
        if self.store is None:
            return True
        raw = self.store.r.hget(self._key, item.id)
        return raw is not None and json.loads(raw).get("owner") == self.owner

    def _settle_kept(self, item: Item, due: float | None) -> None:
        """Done (due None): the kept message goes; else it waits with its tries and next time."""
        if self.store is not None:
            self._settle(keys=[self._key], args=[item.id, self.owner, "" if due is None else self._kept(item, due)])

    def _audit(self, action: str, item: Item, error: str | None) -> None:
        if self.history is None:
            return
        m, lang = item.message, item.channel.language
        details = {"channel": item.channel.name, "rule": m.rule, "when": m.kind, "event": m.event,
                   "subject": m.subject, "tries": item.tries, **({"error": error} if error else {})}
        try:
            audit.record(self.history, AUDIT_WHO, action, details, after=m.text(lang))
        except SQLAlchemyError as err:
            log.warning("notify: could not audit a message to channel %s (%s)", item.channel.name,
                        type(err).__name__)


def _gone(name: str) -> NotifyChannel:
    """A stand-in for a channel taken out of the configuration, to audit its message by."""
    return NotifyChannel.model_construct(name=name, kind="webhook", language="fi")



class _Lane:
    """One channel's queue and thread: messages in order, each retry at its own time."""

    def __init__(self, outbox: Outbox, name: str):
        self.outbox = outbox
        self._due: list[tuple[float, int, Item]] = []
        self._order = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"notify:{name}")
        self._thread.start()

    def put(self, item: Item, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), item))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._due) + self._busy

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._due or self._due[0][0] > time.monotonic()):
                    self._cond.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._stopped:
                    return
                _, _, item = heapq.heappop(self._due)
                self._busy += 1
            pause = None
            try:
                pause = self.outbox.attempt(item)
            finally:
                with self._cond:
                    self._busy -= 1
                    if pause is not None:
                        heapq.heappush(self._due, (time.monotonic() + pause, next(self._order), item))
