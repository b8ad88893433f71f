from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from collectors.historywriter import drain
from dashboard.domain.readings import Reading
from dashboard.storage.livestore import LiveStore

TZ = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
pytestmark = pytest.mark.store


def r(metric: str, key: str, value, at=T0, source="jonot") -> Reading:  # type: ignore[no-untyped-def]
    return Reading(metric, "vastaanotto", key, value, at, source)


def test_a_write_replaces_the_sources_readings_and_reports_only_changes(store: LiveStore):
    first = store.write_readings("jonot", [r("queue.waiting", "A", 3), r("queue.waiting", "B", 1)], {"state": "ok"})
    assert len(first) == 2
    later = T0 + timedelta(seconds=5)
    changed = store.write_readings(
        "jonot", [r("queue.waiting", "A", 3, later), r("queue.waiting", "B", 2, later)], {"state": "ok"}
    )
    assert [(c.key, c.value) for c in changed] == [("b", 2)]
    stored = {x.key: x for x in store.all_readings()["jonot"]}
    assert stored["a"].observed_at == later and stored["b"].value == 2


def test_series_values_round_trip(store: LiveStore):
    store.write_readings("virta", [r("flow.arrivals_by_hour", "", {"08": 12, "09": 30}, source="virta")], {})
    (back,) = store.all_readings()["virta"]
    assert back.value == {"08": 12, "09": 30}


def test_every_write_bumps_the_version(store: LiveStore):
    v0 = store.version()
    store.write_readings("jonot", [r("queue.waiting", "A", 3)], {})
    store.record_status("jonot", {"state": "failing"})
    assert store.version() == v0 + 2


def test_the_parsed_readings_are_shared_only_while_nothing_changed(store: LiveStore):
    """all_readings() parses the store once per version (500 displays after one change): a
    write by anyone, a workbook's merge, or a store emptied and written again is seen at once."""
    other = LiveStore(store.r, store.p)  # another process on the same store
    value = lambda s: {x.key: x.value for x in s.all_readings().get("jonot", [])}  # noqa: E731
    store.write_readings("jonot", [r("queue.waiting", "A", 3)], {})
    assert value(store) == {"a": 3} and store.all_readings() is store.all_readings()  # shared
    other.write_readings("jonot", [r("queue.waiting", "A", 4)], {})
    assert value(store) == {"a": 4}
    other.apply_manual("jonot", [r("queue.waiting", "B", 9)], [], {"state": "ok"})
    assert value(store) == {"a": 4, "b": 9}
    version = store.version()
    store.delete_everything()  # emptied, then written up to the same version number again
    for n in range(version):
        other.write_readings("jonot", [r("queue.waiting", "A", 100 + n)], {})
    assert store.version() == version
    assert value(store) == {"a": 100 + version - 1}


def test_keys_stay_under_the_prefix(store: LiveStore):
    store.write_readings("jonot", [r("queue.waiting", "A", 3)], {"state": "ok"})
    store.put_notice({"id": "n1", "text": "x"})
    store.stop_source("jonot")
    keys = [k.decode() for k in store.r.scan_iter(match=store.p + "*")]
    assert keys and all(k.startswith(store.p) for k in keys)
    assert store.is_stopped("jonot")
    store.start_source("jonot")
    assert not store.is_stopped("jonot")


def test_every_change_reaches_the_history_once(store: LiveStore, history):  # type: ignore[no-untyped-def]
    for i, value in enumerate([1, 1, 2, 2, 5]):
        store.write_readings("jonot", [r("queue.waiting", "A", value, T0 + timedelta(seconds=5 * i))], {})
    assert drain(store, history) == 3
    rows = history.changes("queue.waiting", "vastaanotto")
    assert [row.value for row in rows] == ["1", "2", "5"]
    assert rows[0].observed_at == T0
    assert drain(store, history) == 0
    assert store.history_backlog() == 0


def test_a_change_delivered_twice_is_written_once(store: LiveStore, history):  # type: ignore[no-untyped-def]
    store.write_readings("jonot", [r("queue.waiting", "A", 4)], {})
    entries = store.history_batch(10, consumer="writer-on-host-a")
    history.record([(f"{store.p}{i}", rd) for i, rd in entries])
    # the writer died before acknowledging: the same entries come back, also to a writer
    # of another name (the one that took over), and are skipped
    again = store.history_batch(10)
    assert [i for i, _ in again] == [i for i, _ in entries]
    assert history.record([(f"{store.p}{i}", rd) for i, rd in again]) == 0
    store.history_ack([i for i, _ in again])
    assert len(history.changes("queue.waiting")) == 1


def test_commands_started_at_once_share_one_embedded_server(tmp_path):  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    import time

    from dashboard.storage import embedded

    data = tmp_path / "data"
    code = (
        "import sys, time; from pathlib import Path; from dashboard.storage import embedded;"
        "time.sleep(max(0, float(sys.argv[2]) - time.time()));"  # all start at one moment
        "r = embedded.connect(Path(sys.argv[1])); r.ping(); time.sleep(0.5);"
        "print(r.info('server')['process_id']); time.sleep(1)"
    )
    at = str(time.time() + 2)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(data), at], stdout=subprocess.PIPE,
                              text=True) for _ in range(4)]
    pids = {p.communicate(timeout=30)[0].strip() for p in procs}
    try:
        assert len(pids) == 1, pids
    finally:
        embedded.stop(data)
