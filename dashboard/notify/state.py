"""Episodes in the live store: one per rule and subject while its condition holds (or while
its end has not been told yet), so that a notification goes once per episode whichever
collector process holds the "notify" job.

Key, under the store's prefix P:
  P notify:episodes   hash  <rule>|<subject> -> Episode JSON
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from dashboard.storage.livestore import LiveStore


@dataclass
class Episode:
    rule: str
    subject: str
    began: str  # ISO: when the condition began to hold (as far as known)
    notified_at: str | None = None  # ISO: the last message sent of it; None: none yet
    sent: int = 0  # messages sent of it (alert and repeats)
    facts: dict[str, Any] = field(default_factory=dict)  # the last facts, for the recovery
    where: list[str] = field(default_factory=list)  # whose hours: ["unit", code] ...
    ended_at: str | None = None  # ISO: it stopped holding, the recovery not yet told
    roles: list[str] = field(default_factory=list)  # whose channels it went to (its recovery too)

    @property
    def field(self) -> str:
        return f"{self.rule}|{self.subject}"


class Episodes:
    def __init__(self, store: LiveStore):
        self.r, self.key = store.r, store.k("notify", "episodes")

    def load(self) -> dict[str, Episode]:
        out = {}
        for k, v in self.r.hgetall(self.key).items():
            try:
                ep = Episode(**json.loads(v))
            except (TypeError, ValueError):
                continue  # written by another version: started afresh
            out[k.decode() if isinstance(k, bytes) else str(k)] = ep
        return out

    def save(self, changed: list[Episode], ended: list[str], also: Callable[[Any], object] | None = None) -> None:
        """Write the episodes that changed and drop those that ended, in one transaction with
        whatever `also` adds to it (the messages they made, kept by the outbox)."""
        pipe = self.r.pipeline(transaction=True)
        if also is not None:
            also(pipe)
        if changed:
            pipe.hset(self.key, mapping={e.field: json.dumps(asdict(e), ensure_ascii=False) for e in changed})
        if ended:
            pipe.hdel(self.key, *ended)
        pipe.execute()
