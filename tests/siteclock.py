"""The site's time for the `ohjaustaulu` commands a test runs. Every process of an
installation reads the site's clock from the live store (the clock the demo shifts), so a
test that sets it there pins the commands' clock, as time_machine pins the test's own."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from dashboard.domain.clock import Clock
from dashboard.storage.livestore import LiveStore


def pin_site_clock(store: LiveStore, shown: datetime, stopped: bool = False) -> None:
    """From now on the site's clock reads `shown`, running on from there in real time (or
    standing still at it), for every process that reads it from `store`. datetime.now() in
    this process is not moved: the test travels with time_machine for that."""
    hatch = time_machine.escape_hatch
    real = hatch.datetime.datetime.now(UTC) if hatch.is_travelling() else datetime.now(UTC)
    store.set_clock(Clock(shown.tzinfo, real, shown, 0.0 if stopped else 1.0))  # type: ignore[arg-type]
