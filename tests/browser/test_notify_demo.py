"""The acceptance of notifications end to end: the demo itself (its simulated feeds, its
escalation rules, its collector's jobs in the `ohjaustaulu demo` process) raises levels,
and its "notify" job tells an SMTP server and an HTTP server of the test's own — each
episode once to each. No browser: the demo's own processes and two servers."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from collectors.scheduler import ESCALATION_SOURCE
from dashboard.notify.engine import NOTIFY_SECONDS
from tests.browser.conftest import fast_config, start_demo, stop_demo
from tests.conftest import BACKENDS, Backend, close_backend, make_backend
from tests.servers import Hook
from tests.test_notify import ADDRESSES, free_port, smtp_server, until

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
hours = "open"
"""


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_a_level_the_demo_raises_reaches_mail_and_webhook_once_each(
        backend_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    port = free_port()
    controller, box = smtp_server(port)
    hook = Hook()
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    monkeypatch.setenv("NOTIFY_HOOK", hook.url)
    config = fast_config(tmp_path / "site.toml")
    config.write_text(config.read_text(encoding="utf-8") + NOTIFY.format(port=port), encoding="utf-8")
    backend = make_backend(backend_name, tmp_path / "data")
    demo = start_demo(backend, config, "--history-weeks", "0")
    try:
        until(lambda: bool(box.mails and hook.bodies), timeout=90)
        # the collector's own record of each unit's level (its escalation job, every 30 s; its
        # first may be made before the feeds' first figures): the units at 2 or more are those
        # told of
        until(lambda: any(v >= 2 for v in recorded_levels(backend).values()), timeout=70)
        levels = recorded_levels(backend)
        raised = {u for u, level in levels.items() if level >= 2}
        time.sleep(NOTIFY_SECONDS + 2)  # at least one more of the job's runs: nothing again
    finally:
        stop_demo(demo)
        close_backend(backend)
        controller.stop()
        hook.stop()
    assert raised, ("the demo at 10.00 raises some unit to 2 or more", levels)
    told = Counter(b["subject"] for b in hook.bodies)
    assert all(b["event"] == "alert" and b["rule"] == "taso-2" for b in hook.bodies)
    assert set(told) == raised and set(told.values()) == {1}, (told, raised)
    mailed = Counter(re.match(r"(.+?): valmiustaso (\d)", m["body"]).group(1) for m in box.mails)  # type: ignore[union-attr]
    assert set(mailed.values()) == {1} and len(mailed) == len(raised)
    assert all(m["to"] == ADDRESSES.split(",") for m in box.mails)
    assert "taso-2 sent to channel teams" in demo.output()
    assert hook.url not in demo.output() and "example.fi" not in demo.output()


def recorded_levels(backend: Backend) -> dict[str, int]:
    return {r.unit: int(r.value) for r in backend.store.all_readings().get(ESCALATION_SOURCE, [])}
