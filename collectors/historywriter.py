"""Moves changed readings from the live store's history queue into the SQL history.

A change is acknowledged only after its row is committed, and rows carry the queue's entry
id, so a crash between the two writes it once, not twice; while the database is down the
changes wait in the queue.
"""

from __future__ import annotations

import logging

from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore

log = logging.getLogger(__name__)


def drain(store: LiveStore, history: History, batch: int = 500) -> int:
    written = 0
    while True:
        entries = store.history_batch(batch)
        if not entries:
            return written
        history.record([(f"{store.p}{entry_id}", rd) for entry_id, rd in entries])
        store.history_ack([entry_id for entry_id, _ in entries])
        written += len(entries)
