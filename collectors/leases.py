"""One collector process per source, however many run: a lease per job in the live store.

Each collector process (one per host, say two hosts) runs every source's job. Before a
poll, the job takes its lease in Redis (SET NX PX, renewed when it is already ours); a job
whose lease another process holds sits the poll out. The holder renews its leases from a
thread every third of their time, so a long poll does not lose one; when the holder dies,
its leases expire and the other process's next poll takes over. With a lease of 0.8 poll
intervals, the source is polled again within two intervals of the holder's death.

Writes are fenced: a feed's readings are written only while the writer still holds the
lease (LiveStore.write_readings watches the lease key), so a process that stalled past its
lease writes nothing over the new holder's data.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

import redis

from dashboard.observability import LEASE_HELD
from dashboard.storage.livestore import LiveStore

log = logging.getLogger(__name__)

MIN_LEASE_MS = 2000


def lease_ms(poll_seconds: float) -> int:
    """A lease covers 0.8 of a poll interval (at least 2 s): takeover within two intervals."""
    return max(MIN_LEASE_MS, int(poll_seconds * 800))


class Leases:
    def __init__(self, store: LiveStore, holder: str | None = None):
        self.store = store
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.held: dict[str, int] = {}  # job -> lease ms
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, job: str, ttl_ms: int) -> bool:
        """True when this process may run the job now (it took or renewed the lease).
        Raises redis.RedisError when the live store cannot be asked: no poll then (there
        is nowhere to write it), and the caller says so once."""
        try:
            ours = self.store.take_lease(job, self.holder, ttl_ms)
        except redis.RedisError:
            with self._lock:
                self.held.pop(job, None)
            raise
        with self._lock:
            was = job in self.held
            if ours:
                self.held[job] = ttl_ms
            else:
                self.held.pop(job, None)
        if ours != was:
            log.info("lease %s %s by %s", job, "taken" if ours else "held elsewhere", self.holder,
                     extra={"job": job, "holder": self.holder, "held": ours})
            LEASE_HELD.labels(job, self.holder).set(1 if ours else 0)
        self._ensure_renewer()
        return ours

    def fence(self, job: str) -> tuple[str, str]:
        return (job, self.holder)

    def _ensure_renewer(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._renew, daemon=True, name="lease-renewer")
            self._thread.start()

    def _renew(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                jobs = dict(self.held)
            for job, ttl in jobs.items():
                try:
                    if not self.store.take_lease(job, self.holder, ttl):
                        with self._lock:
                            self.held.pop(job, None)
                        log.warning("lease %s lost to another collector", job, extra={"job": job})
                        LEASE_HELD.labels(job, self.holder).set(0)
                except redis.RedisError:
                    pass  # the lease runs out on its own if the store stays away
            self._stop.wait(min(jobs.values(), default=MIN_LEASE_MS) / 3000)

    def release_all(self) -> None:
        """A clean shutdown hands every lease over at once, not after it expires."""
        self._stop.set()
        with self._lock:
            jobs, self.held = list(self.held), {}
        for job in jobs:
            try:
                self.store.drop_lease(job, self.holder)
                LEASE_HELD.labels(job, self.holder).set(0)
            except redis.RedisError:
                pass
