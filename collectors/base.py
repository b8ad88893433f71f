"""The collector contract: fetch (I/O only), normalise (pure), write (the live store).

On failure a collector records the error and keeps the last good data; it logs when a source
goes down and when it recovers, not on every poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dashboard.config import Config, Source
from dashboard.domain.readings import Reading
from dashboard.storage.livestore import LeaseLost, LiveStore

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The source could not be reached or did not answer."""


class InvalidData(Exception):
    """The source answered with something that cannot be turned into readings."""


class Collector(Protocol):
    source: Source

    def fetch(self, now: datetime) -> Any: ...

    def normalise(self, raw: Any, now: datetime) -> list[Reading]: ...


@dataclass
class PollResult:
    ok: bool
    items: int = 0
    changed: int = 0
    error: str | None = None
    skipped: bool = False


def poll(collector: Collector, store: LiveStore, config: Config,
         lease: tuple[str, str] | None = None) -> PollResult:
    """One poll of one source, end to end; never raises for the source's own faults. With a
    `lease` (job, holder) the readings are written only while this process holds it."""
    name = collector.source.name
    if store.is_stopped(name):
        return PollResult(ok=False, skipped=True, error="stopped by an operator")
    now = store.clock(config.tz).now()
    previous = store.source_status(name)
    by = {"collector": lease[1]} if lease else {}  # which collector process polled it
    try:
        readings = collector.normalise(collector.fetch(now), now)
    except (SourceUnavailable, InvalidData) as err:
        reason = f"{type(err).__name__}: {err}"
        if previous.state != "failing":
            log.warning("source %s failed: %s", name, reason)
            # from now on its values are not known to stand: a gap in the history
            store.end_readings(name, now)
        store.record_status(
            name,
            {"last_attempt": now, "last_error": reason, "last_error_at": now, "state": "failing", **by},
        )
        return PollResult(ok=False, error=reason)
    if previous.state == "failing":
        log.warning("source %s recovered", name)
    status: dict[str, Any] = {
        "last_attempt": now,
        "last_success": now,
        "items": len(readings),
        "state": "ok",
        "poll_seconds": collector.source.poll_seconds,
        "kind": collector.source.kind,
        **by,
    }
    extra = getattr(collector, "status_extra", None)  # e.g. items read and not mapped
    if callable(extra):
        status.update(extra())
    try:
        changed = store.write_readings(name, readings, status, lease=lease)
    except LeaseLost as lost:
        if lost.holder:
            log.warning("source %s: another collector (%s) took over during this poll; its data kept",
                        name, lost.holder)
        else:
            log.warning("source %s: this poll outlasted its lease; nothing written, the next poll "
                        "takes the lease again", name)
        return PollResult(ok=False, skipped=True, error="taken over by another collector")
    return PollResult(ok=True, items=len(readings), changed=len(changed))
