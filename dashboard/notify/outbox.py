"""Messages on their way: a thread per channel, so a channel that hangs or refuses (an SMTP
server that does not answer) delays neither the collector's jobs nor the other channels.
A failed delivery is tried again after a growing pause, then given up; each outcome is
audited (the channel's name and the text, never its addresses)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import NotifyChannel
from dashboard.notify.channels import DeliveryError, deliver
from dashboard.notify.messages import Message
from dashboard.storage import audit
from dashboard.storage.history import History

log = logging.getLogger(__name__)

# seconds before each retry: the last pause repeats until RETRIES tries have failed
BACKOFF = (15.0, 60.0, 300.0, 900.0)
RETRIES = 8  # about 1.5 hours of an unreachable server, then the message is given up
AUDIT_WHO = "ilmoitukset"


@dataclass
class _Item:
    channel: NotifyChannel
    message: Message
    tries: int = 0


class Outbox:
    def __init__(self, history: History | None, backoff: tuple[float, ...] = BACKOFF,
                 retries: int = RETRIES, send: Callable[[NotifyChannel, Message], None] = deliver):
        self.history, self.backoff, self.retries, self.send = history, backoff, retries, send
        self._lanes: dict[str, _Lane] = {}
        self._lock = threading.Lock()

    def put(self, channel: NotifyChannel, message: Message) -> None:
        with self._lock:
            lane = self._lanes.get(channel.name)
            if lane is None:
                lane = self._lanes[channel.name] = _Lane(self, channel.name)
        lane.put(_Item(channel, message), 0.0)

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

    def attempt(self, item: _Item) -> float | None:
        """One try of one message: None when done (delivered or given up), else the pause
        before the next try."""
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
                return None
            pause = self.backoff[min(item.tries, len(self.backoff)) - 1]
            log.warning("notify: %s of rule %s to channel %s failed (%s); trying again in %.0f s",
                        m.event, m.rule, name, err, pause, extra={"channel": name, "rule": m.rule})
            return pause
        except Exception:  # a bug of ours: not retried, so that it cannot loop
            log.exception("notify: %s of rule %s to channel %s failed unexpectedly", m.event, m.rule, name)
            self._audit("notify.failed", item, "unexpected error")
            return None
        log.info("notify: %s of rule %s sent to channel %s", m.event, m.rule, name,
                 extra={"channel": name, "rule": m.rule})
        self._audit("notify.sent", item, None)
        return None

    def _audit(self, action: str, item: _Item, error: str | None) -> None:
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


class _Lane:
    """One channel's queue and thread: messages in order, each retry at its own time."""

    def __init__(self, outbox: Outbox, name: str):
        self.outbox = outbox
        self._due: list[tuple[float, int, _Item]] = []
        self._order = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"notify:{name}")
        self._thread.start()

    def put(self, item: _Item, delay: float) -> None:
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
