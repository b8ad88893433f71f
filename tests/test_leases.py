"""Leases: one collector process per source, a fenced write, takeover when the holder dies."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from collectors.leases import Leases, lease_ms
from dashboard.domain.readings import Reading
from dashboard.storage.livestore import LeaseLost, LiveStore
from tests.conftest import wait_for

pytestmark = pytest.mark.store

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def reading(value: int) -> Reading:
    return Reading("queue.waiting", "vastaanotto", "A", value, T0, "jonot")


def test_one_holder_at_a_time_and_a_clean_handover(store: LiveStore):
    assert store.take_lease("poll:jonot", "host-a:1", 5000)
    assert not store.take_lease("poll:jonot", "host-b:2", 5000)
    assert store.take_lease("poll:jonot", "host-a:1", 5000)  # renewing is taking again
    assert store.lease_holder("poll:jonot") == "host-a:1"
    store.drop_lease("poll:jonot", "host-b:2")  # not B's to drop
    assert store.lease_holder("poll:jonot") == "host-a:1"
    store.drop_lease("poll:jonot", "host-a:1")
    assert store.take_lease("poll:jonot", "host-b:2", 5000)


def test_a_lease_nobody_renews_runs_out(store: LiveStore):
    assert store.take_lease("poll:jonot", "host-a:1", 300)
    assert not store.take_lease("poll:jonot", "host-b:2", 300)
    wait_for(lambda: store.take_lease("poll:jonot", "host-b:2", 300), timeout=3, what="expiry")
    assert store.lease_holder("poll:jonot") == "host-b:2"


def test_a_writer_that_lost_its_lease_writes_nothing(store: LiveStore):
    assert store.take_lease("poll:jonot", "host-a:1", 300)
    store.write_readings("jonot", [reading(3)], {"state": "ok"}, lease=("poll:jonot", "host-a:1"))
    # A stalls past its lease; B takes over and writes
    wait_for(lambda: store.take_lease("poll:jonot", "host-b:2", 5000), timeout=3, what="takeover")
    store.write_readings("jonot", [reading(7)], {"state": "ok"}, lease=("poll:jonot", "host-b:2"))
    with pytest.raises(LeaseLost):
        store.write_readings("jonot", [reading(99)], {"state": "ok"}, lease=("poll:jonot", "host-a:1"))
    assert [r.value for r in store.all_readings()["jonot"]] == [7]
    assert store.history_backlog() == 2  # 3 and 7; A's late 99 never queued


def test_the_holders_own_renewal_during_a_write_does_not_lose_the_write(store: LiveStore,
                                                                        monkeypatch: pytest.MonkeyPatch):
    """The renewer thread extends the lease key while a poll writes; WATCH sees a change. On
    a loaded host that window is wide (a clean CI run once said "another collector took
    over" with no other collector running). The write looks again and goes through."""
    assert store.take_lease("poll:jonot", "host-a:1", 5000)
    real, renewals = store._write, []

    def renewed_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not renewals:  # the renewer lands between WATCH and EXEC, once
            renewals.append(store.take_lease("poll:jonot", "host-a:1", 5000))
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_write", renewed_meanwhile)
    store.write_readings("jonot", [reading(4)], {"state": "ok"}, lease=("poll:jonot", "host-a:1"))
    assert renewals == [True]
    assert [r.value for r in store.all_readings()["jonot"]] == [4]
    assert store.history_backlog() == 1  # queued once, not once per try


def test_a_takeover_during_a_write_still_stops_it_and_names_the_new_holder(
        store: LiveStore, monkeypatch: pytest.MonkeyPatch):
    assert store.take_lease("poll:jonot", "host-a:1", 5000)
    real = store._write

    def taken_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        store.drop_lease("poll:jonot", "host-a:1")  # A stalled; its lease went to B
        assert store.take_lease("poll:jonot", "host-b:2", 5000)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "_write", taken_meanwhile)
    with pytest.raises(LeaseLost) as lost:
        store.write_readings("jonot", [reading(9)], {"state": "ok"}, lease=("poll:jonot", "host-a:1"))
    assert lost.value.holder == "host-b:2"
    assert "jonot" not in store.all_readings()
    assert store.history_backlog() == 0


def test_a_lease_that_ran_out_before_the_write_is_not_called_a_takeover(store: LiveStore):
    assert store.take_lease("poll:jonot", "host-a:1", 200)
    wait_for(lambda: store.lease_holder("poll:jonot") is None, timeout=3, what="expiry")
    with pytest.raises(LeaseLost) as lost:
        store.write_readings("jonot", [reading(5)], {"state": "ok"}, lease=("poll:jonot", "host-a:1"))
    assert lost.value.holder is None


@pytest.mark.alone  # the renewer must run within the lease
def test_the_holder_keeps_its_lease_while_alive_and_hands_it_over_on_shutdown(store: LiveStore):
    a, b = Leases(store, "host-a:1"), Leases(store, "host-b:2")
    try:
        assert a.hold("poll:jonot", 600)
        time.sleep(1.5)  # more than twice the lease: the renewer keeps it
        assert not b.hold("poll:jonot", 600)
        a.release_all()
        assert b.hold("poll:jonot", 600)
    finally:
        a.release_all()
        b.release_all()


@pytest.mark.alone  # a takeover within 1 s
def test_a_dead_holders_lease_goes_to_the_other_within_its_time(store: LiveStore):
    a, b = Leases(store, "host-a:1"), Leases(store, "host-b:2")
    try:
        assert a.hold("poll:jonot", 500)
        a._stop.set()  # the process is gone: nobody renews (and nobody hands over)
        time.sleep(0.4)  # the renewer may be mid-sleep
        died = time.monotonic()
        wait_for(lambda: b.hold("poll:jonot", 500), timeout=3, interval=0.05, what="takeover")
        assert time.monotonic() - died < 1.0
    finally:
        b.release_all()


def test_a_lease_covers_most_of_a_poll_interval():
    assert lease_ms(10) == 8000
    assert lease_ms(1) == 2000  # never shorter than two seconds
