"""The acceptance of notifications end to end: the demo itself (its simulated feeds, its
escalation rules, its collector's jobs in the `ohjaustaulu demo` process) raises levels,
and its "notify" job tells an SMTP server and an HTTP server of the test's own — each
episode once to each, a reminder while it lasts, "back to normal" when it ends. No
browser: the demo's own processes and two servers."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from collectors.scheduler import ESCALATION_SOURCE
from dashboard.config import load_config
from dashboard.notify.engine import NOTIFY_SECONDS
from dashboard.web.accounts import User
from dashboard.web.shiftlead import ShiftLead
from tests.browser.conftest import fast_config, start_demo, stop_demo
from tests.conftest import BACKENDS, Backend, close_backend, make_backend
from tests.servers import Hook
from tests.test_notify import ADDRESSES, free_port, smtp_server

NOTIFY = """
[[notify.channels]]
name = "sahkoposti"
kind = "email"
role = "shift_lead"
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_tls = "none"
sender = "ohjaustaulu@example.fi"
to_env = "NOTIFY_TO"

[[notify.channels]]
name = "teams"
kind = "webhook"
role = "manager"
url_env = "NOTIFY_HOOK"

[[notify.rules]]
id = "taso-2"
when = "level"
level = 2
channels = ["sahkoposti", "teams"]
repeat_minutes = 1
hours = "open"
"""


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_level_the_demo_raises_reaches_mail_and_webhook_once_repeats_and_recovers(
        backend_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The units the demo's rules raise are told once to each channel and reminded a minute
    later while still raised; the unit a shift lead lowers by hand (confirmed, as the tablet
    does) gets its "back to normal" on both channels, and no reminder after."""
    port = free_port()
    controller, box = smtp_server(port)
    hook = Hook()
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    monkeypatch.setenv("NOTIFY_HOOK", hook.url)
    path = fast_config(tmp_path / "site.toml")
    path.write_text(path.read_text(encoding="utf-8") + NOTIFY.format(port=port), encoding="utf-8")
    backend = make_backend(backend_name, tmp_path / "data")
    # four times real speed: the reminder a minute on the demo's clock is 15 s away
    demo = start_demo(backend, path, "--history-weeks", "0", "--speed", "4")

    def events(subject: str) -> list[str]:
        return [b["event"] for b in list(hook.bodies) if b["subject"] == subject]

    try:
        until(lambda: bool(box.mails and hook.bodies), timeout=90)
        # the collector's own record of each unit's level (its escalation job, every 30 s; its
        # first may be made before the feeds' first figures): the units at 2 or more are those
        # told of
        until(lambda: any(v >= 2 for v in recorded_levels(backend).values()), timeout=70)
        levels = recorded_levels(backend)
        raised = sorted(u for u, level in levels.items() if level >= 2)
        assert raised, ("the demo at 10.00 raises some unit to 2 or more", levels)
        until(lambda: {b["subject"] for b in list(hook.bodies) if b["event"] == "alert"} >= set(raised), timeout=40)
        lowered = raised[0]
        lead = ShiftLead(load_config(path), backend.store, backend.history,
                         User("vuorovastaava", "shift_lead", ()), "fi")
        lead.set_escalation(lowered, 1, "Tilanne purettu", confirmed=True)
        until(lambda: "recovery" in events(lowered), timeout=40, what=lambda: (lowered, list(hook.bodies)))
        for unit in raised[1:]:  # the job's run a minute of the demo's clock after the first message
            until(lambda u=unit: "repeat" in events(u), timeout=60,  # type: ignore[misc]
                  what=lambda u=unit: (u, recorded_levels(backend), [(b["subject"], b["event"]) for b in hook.bodies]))
        time.sleep(NOTIFY_SECONDS + 2)  # one more of the job's runs
    finally:
        stop_demo(demo)
        close_backend(backend)
        controller.stop()
        hook.stop()
    assert all(b["rule"] == "taso-2" for b in hook.bodies)
    told = Counter(b["subject"] for b in hook.bodies if b["event"] == "alert")
    assert set(told.values()) == {1}, told  # once an episode, whatever else it said
    said = events(lowered)
    assert said[0] == "alert" and said[-1] == "recovery" and said.count("recovery") == 1, said
    mails = [m["body"] for m in box.mails]
    name = re.match(r"(.+?): ", next(b["summary"] for b in hook.bodies if b["subject"] == lowered)).group(1)  # type: ignore[union-attr]
    assert sum(f"{name}: valmiustaso on taas alle 2" in m for m in mails) == 1
    assert all(m["to"] == ADDRESSES.split(",") for m in box.mails)
    assert sum("Muistutus" in m["subject"] for m in box.mails) >= len(raised) - 1
    assert "taso-2 sent to channel teams" in demo.output()
    assert hook.url not in demo.output() and "example.fi" not in demo.output()


def until(check: Callable[[], bool], timeout: float, what: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"the state waited for did not come: {what()}"
        time.sleep(0.05)


def recorded_levels(backend: Backend) -> dict[str, int]:
    return {r.unit: int(r.value) for r in backend.store.all_readings().get(ESCALATION_SOURCE, [])}
