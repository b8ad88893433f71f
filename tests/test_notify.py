"""Notifications (dashboard/notify/): real SMTP and webhook servers of the tests' own receive
what the rules send, once per episode, repeated, recovered, quiet out of hours, retried."""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller

from collectors.scheduler import build_scheduler
from dashboard.config import Config, NotifyChannel, NotifyRule, NotifySettings
from dashboard.domain.readings import Reading
from dashboard.notify.engine import Notifier
from dashboard.notify.outbox import Outbox
from dashboard.storage import audit
from tests.conftest import Backend
from tests.servers import Hook

pytestmark = pytest.mark.store
TZ = ZoneInfo("Europe/Helsinki")
MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
ADDRESSES = "vuorovastaava@example.fi,esihenkilo@example.fi"


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content)
        self.mails.append({"to": envelope.rcpt_tos, "subject": str(mail["Subject"]),
                           "body": mail.get_payload(decode=True).decode()})
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_server(port: int) -> tuple[Controller, Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, box


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Mailbox]]:
    port = free_port()
    controller, box = smtp_server(port)
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    yield port, box
    controller.stop()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    h = Hook()
    monkeypatch.setenv("NOTIFY_HOOK", h.url)
    yield h
    h.stop()


def channels(smtp_port: int, timeout: float = 5) -> list[NotifyChannel]:
    return [
        NotifyChannel(name="sahkoposti", kind="email", role="shift_lead", smtp_host="127.0.0.1",
                      smtp_port=smtp_port, smtp_tls="none", sender="ohjaustaulu@example.fi",
                      to_env="NOTIFY_TO", timeout_seconds=timeout),
        NotifyChannel(name="teams", kind="webhook", role="manager", url_env="NOTIFY_HOOK", language="sv"),
    ]


def with_notify(config: Config, chans: list[NotifyChannel], *rules: NotifyRule) -> Config:
    return config.model_copy(update={"notify": NotifySettings(channels=chans, rules=list(rules))})


def until(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the state waited for did not come"
        time.sleep(0.02)


def raise_level(backend: Backend, unit: str, level: int, now: datetime) -> None:
    backend.store.set_escalation(unit, {"level": level, "reason": "Osasto täynnä", "by": "vuorovastaava",
                                        "at": now.isoformat(), "valid_until": (now + timedelta(hours=20)).isoformat()})


LEVEL = NotifyRule(id="taso-3", when="level", level=3, units=["osasto"], channels=["sahkoposti", "teams"],
                   repeat_minutes=10)


def test_a_raised_level_reaches_both_channels_once_repeats_and_recovers(
        backend: Backend, config: Config, mailbox: tuple[int, Mailbox], hook: Hook):
    port, box = mailbox
    cfg = with_notify(config, channels(port), LEVEL)
    outbox = Outbox(backend.history, store=backend.store)
    n = Notifier(cfg, backend.store, backend.history, outbox)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        raise_level(backend, "osasto", 3, MONDAY)
        n.run()
        n.run()  # the same episode: nothing more
        until(lambda: not outbox.pending())
        assert len(box.mails) == 1 and len(hook.bodies) == 1
        assert box.mails[0]["to"] == ADDRESSES.split(",")
        assert "Vuodeosasto: valmiustaso 3 (Osasto täynnä)" in box.mails[0]["body"]
        assert hook.bodies[0]["text"].startswith("Ohjaustaulu: Bäddavdelning: beredskapsnivå 3")
        assert hook.bodies[0]["event"] == "alert" and hook.bodies[0]["rule"] == "taso-3"

        traveller.shift(timedelta(minutes=9))
        n.run()
        traveller.shift(timedelta(minutes=1))
        n.run()  # ten minutes on and still level 3: a reminder
        until(lambda: len(box.mails) == 2 and len(hook.bodies) == 2)
        assert box.mails[1]["subject"].startswith("Ohjaustaulu: Muistutus")
        assert hook.bodies[1]["event"] == "repeat" and "Påminnelse" in hook.bodies[1]["text"]

        # handed back to the rules, which see no figure of the ward: not known to be normal,
        # so no "back to normal" yet (nor a reminder: the episode waits as it is)
        backend.store.set_escalation("osasto", None)
        traveller.shift(timedelta(minutes=11))
        n.run()
        time.sleep(0.3)
        assert len(box.mails) == 2 and len(hook.bodies) == 2
        # the ward's occupancy comes in, fresh and fine: now it is
        at = MONDAY + timedelta(minutes=21)
        backend.store.write_readings("demo-omat", [Reading("ward.beds_in_use", "osasto", "", 20, at, "demo-omat"),
                                                   Reading("ward.beds_total", "osasto", "", 30, at, "demo-omat")],
                                     {"state": "ok"})
        n.run()
        n.run()
        until(lambda: not outbox.pending())
        assert len(box.mails) == 3 and len(hook.bodies) == 3
        assert "valmiustaso on taas alle 3" in box.mails[2]["body"]
        assert hook.bodies[2]["event"] == "recovery" and "Över" in hook.bodies[2]["text"]

    rows = audit.entries(backend.history, action="notify.sent")
    assert sorted((r["details"]["channel"], r["details"]["event"]) for r in rows) == [
        ("sahkoposti", "alert"), ("sahkoposti", "recovery"), ("sahkoposti", "repeat"),
        ("teams", "alert"), ("teams", "recovery"), ("teams", "repeat")]
    assert all(r["who"] == "ilmoitukset" for r in rows)
    text = str(rows)
    assert "example.fi" not in text and hook.url not in text and "s3cr3t" not in text


def test_an_unreachable_smtp_server_delays_nothing_else_and_is_retried(
        backend: Backend, config: Config, hook: Hook, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    silent = socket.socket()  # accepts connections and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = int(silent.getsockname()[1])
    cfg = with_notify(config, channels(port, timeout=3), LEVEL)
    outbox = Outbox(backend.history, backoff=(0.5,), store=backend.store)
    n = Notifier(cfg, backend.store, backend.history, outbox)
    controller = None
    try:
        with time_machine.travel(MONDAY, tick=False):
            raise_level(backend, "osasto", 4, MONDAY)
            started = time.monotonic()
            n.run()
            assert time.monotonic() - started < 2  # the job does not wait for the channels
            until(lambda: len(hook.bodies) == 1, timeout=2)  # the webhook not behind the mail
            # the mail's first try is waiting for a greeting (not accepted: closing the
            # listener then resets it, and leaves the port free for the server)
            assert select.select([silent], [], [], 5)[0]
            silent.close()
            controller, box = smtp_server(port)  # the server comes back
            until(lambda: len(box.mails) == 1 and not outbox.pending(), timeout=20)
        assert "Vuodeosasto: valmiustaso 4" in box.mails[0]["body"]
        (mail,) = [r for r in audit.entries(backend.history, action="notify.sent")
                   if r["details"]["channel"] == "sahkoposti"]
        assert mail["details"]["tries"] >= 2
    finally:
        silent.close()
        if controller is not None:
            controller.stop()


def test_a_silent_screen_and_a_failing_source_notify(backend: Backend, config: Config, hook: Hook):
    cfg = with_notify(
        config, channels(1),
        NotifyRule(id="naytto", when="screen_silent", minutes=5, displays=["johto"], channels=["teams"],
                   hours="open"),
        NotifyRule(id="lahde", when="source_failing", minutes=10, sources=["demo-jonot"], channels=["teams"]))
    outbox = Outbox(backend.history, store=backend.store)
    n = Notifier(cfg, backend.store, backend.history, outbox)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        seen = MONDAY - timedelta(minutes=3)
        backend.store.record_heartbeat("johto-tv1", {"screen": "johto-tv1", "display": "johto",
                                                     "seen_at": seen.isoformat(), "seen_at_epoch": seen.timestamp()})
        backend.store.record_status("demo-jonot", {"state": "failing", "last_success": MONDAY - timedelta(minutes=4),
                                                   "last_error": "ConnectError", "last_error_at": MONDAY})
        n.run()
        assert not hook.bodies  # three and four minutes: not yet
        traveller.shift(timedelta(minutes=6))
        n.run()
        until(lambda: len(hook.bodies) == 2)
        texts = sorted(b["summary"] for b in hook.bodies)
        assert texts[0].startswith("Datakällan demo-jonot har inte fungerat på 10 minuter")
        assert texts[1].startswith("Skärmen johto-tv1 (")
        backend.store.record_status("demo-jonot", {"state": "ok", "last_success": MONDAY + timedelta(minutes=6)})
        n.run()
        until(lambda: len(hook.bodies) == 3)
        assert hook.bodies[2]["summary"] == "Datakällan demo-jonot fungerar igen"


def test_a_rule_of_opening_hours_is_quiet_until_the_unit_opens(backend: Backend, config: Config, hook: Hook):
    rule = NotifyRule(id="vastaanotto", when="level", level=2, units=["vastaanotto"], channels=["teams"],
                      hours="open")
    n = Notifier(with_notify(config, channels(1), rule), backend.store, backend.history, Outbox(None, store=backend.store))
    early = MONDAY.replace(hour=6)
    with time_machine.travel(early, tick=False) as traveller:
        raise_level(backend, "vastaanotto", 3, early)  # a shift lead's level stands when closed
        n.run()
        time.sleep(0.3)
        assert not hook.bodies
        traveller.move_to(MONDAY.replace(hour=8, minute=1))
        n.run()
        until(lambda: len(hook.bodies) == 1)
        assert hook.bodies[0]["event"] == "alert"
        traveller.move_to(MONDAY.replace(hour=17))
        backend.store.set_escalation("vastaanotto", None)
        n.run()  # it ended after closing: told at the opening
        time.sleep(0.3)
        assert len(hook.bodies) == 1
        morning = MONDAY.replace(hour=8) + timedelta(days=1)
        traveller.move_to(morning)
        # the morning's first figures: a short queue, so the rules know the unit is normal
        backend.store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "A", 5, morning, "q")], {})
        n.run()
        until(lambda: len(hook.bodies) == 2)
        assert hook.bodies[1]["event"] == "recovery"


def test_addresses_and_webhook_urls_never_reach_the_logs(
        backend: Backend, config: Config, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    refusing = Hook(status=500)
    monkeypatch.setenv("NOTIFY_HOOK", refusing.url)
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    cfg = with_notify(config, channels(free_port()), LEVEL)  # nobody listens there
    outbox = Outbox(backend.history, backoff=(0.1,), retries=2, store=backend.store)
    n = Notifier(cfg, backend.store, backend.history, outbox)
    try:
        with caplog.at_level(logging.DEBUG), time_machine.travel(MONDAY, tick=False):
            raise_level(backend, "osasto", 3, MONDAY)
            n.run()
            until(lambda: not outbox.pending())
    finally:
        refusing.stop()
    assert "given up" in caplog.text and "HTTP 500" in caplog.text
    for secret in [*ADDRESSES.split(","), refusing.url, "s3cr3t"]:
        assert secret not in caplog.text
    failed = audit.entries(backend.history, action="notify.failed")
    assert {r["details"]["channel"] for r in failed} == {"sahkoposti", "teams"}
    assert "example.fi" not in str(failed) and "s3cr3t" not in str(failed)


def test_the_collector_runs_the_notify_job_under_its_lease(
        backend: Backend, config: Config, hook: Hook, tmp_path: Path):
    rule = NotifyRule(id="taso", when="level", level=2, units=["osasto"], channels=["teams"])
    cfg = with_notify(config, channels(1), rule)
    sched = build_scheduler(cfg, backend.store, backend.history, tmp_path)
    job = sched.get_job("notify")
    assert job is not None and job.trigger.interval == timedelta(seconds=15)
    raise_level(backend, "osasto", 2, datetime.now(TZ))
    job.func()
    until(lambda: len(hook.bodies) == 1)
    assert backend.store.lease_holder("notify") == sched.leases.holder  # type: ignore[attr-defined]
    sched.leases.release_all()  # type: ignore[attr-defined]


def test_an_overdue_action_goes_to_the_role_above_and_a_bed_freed_is_told(backend: Backend, config: Config, hook: Hook,
                                                                         mailbox: tuple[int, Mailbox]):
    """An escalation action not acknowledged within its minutes goes to the channels of the
    role above its own (the shift lead's action: the manager's webhook, not the shift
    lead's e-mail), and is "acknowledged" once it is; a metric past its threshold (a bed
    freed: the ward's beds freed today above what it was) is told once."""
    from dashboard.domain import actions

    port, box = mailbox
    cfg = with_notify(config, channels(port),
                      NotifyRule(id="myohassa", when="action_overdue", units=["vastaanotto"],
                                 channels=["sahkoposti", "teams"]),
                      NotifyRule(id="siivottava", when="metric", metric="ward.beds_freed_today", above=0,
                                 units=["osasto"], channels=["sahkoposti"], recovery=False))
    outbox = Outbox(backend.history, store=backend.store)
    n = Notifier(cfg, backend.store, backend.history, outbox)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        raise_level(backend, "vastaanotto", 2, MONDAY)
        n.run()  # the episode begins: its level-2 actions are open, none overdue yet
        opened = actions.current(cfg, backend.store, ["vastaanotto"])["vastaanotto"]
        assert sorted(x.action.id for x in opened) == ["siirra-kiireettomat", "tiedota-tiimi"]
        assert actions.overdue(cfg, backend.store, MONDAY) == []
        traveller.shift(timedelta(minutes=16))  # "tiedota-tiimi" is due in 15
        n.run()
        until(lambda: len(hook.bodies) == 1)
        assert hook.bodies[0]["rule"] == "myohassa" and hook.bodies[0]["event"] == "alert"
        assert "Informera teamet om läget" in hook.bodies[0]["text"]  # the manager's channel, in Swedish
        late = next(x for x in opened if x.action.id == "tiedota-tiimi")
        said = backend.store.acknowledge_action("vastaanotto", late.episode, "tiedota-tiimi",
                                                {"state": "done", "by": "vuorovastaava", "at": MONDAY.isoformat(),
                                                 "note": ""})
        assert said == "ok"
        traveller.shift(timedelta(minutes=1))
        n.run()
        until(lambda: len(hook.bodies) == 2)
        assert hook.bodies[1]["event"] == "recovery"
        # the ward frees a bed: told once, by e-mail
        backend.store.write_readings("demo-omat", [Reading("ward.beds_freed_today", "osasto", "", 1,
                                                           MONDAY + timedelta(minutes=17), "demo-omat")], {"state": "ok"})
        n.run()
        n.run()
        until(lambda: not outbox.pending())
    assert [m["subject"] for m in box.mails if "myohassa" in m["body"] or "toimenpide" in m["body"]] == []
    bed = [m for m in box.mails if "ward.beds_freed_today" in m["body"] or "Vapautuneet" in m["body"]]
    assert len(bed) == 1, [m["body"] for m in box.mails]


def test_a_message_waiting_to_be_retried_outlives_its_collector_and_goes_once(
        backend: Backend, config: Config, hook: Hook, monkeypatch: pytest.MonkeyPatch):
    """The mail server is down when the level rises: the mail waits in the live store for its
    retry. Its collector then loses the "notify" job (stopped, or cut off) and another process
    runs it: that one sends the mail at its time, once, and the first lets it go at its own
    retry; the webhook sent at once is not sent again."""
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    port = free_port()  # nobody listens there yet: refused at once
    cfg = with_notify(config, channels(port), LEVEL)
    first = Outbox(backend.history, backoff=(1.0,), store=backend.store)
    controller = None
    try:
        with time_machine.travel(MONDAY, tick=False):
            raise_level(backend, "osasto", 3, MONDAY)
            Notifier(cfg, backend.store, backend.history, first).run()
            until(lambda: len(hook.bodies) == 1)
            until(lambda: first.kept() == 1 and _kept_mail(backend).get("tries") == 1)  # the first try failed
            controller, box = smtp_server(port)  # the server is back
            second = Outbox(backend.history, backoff=(1.0,), store=backend.store)
            Notifier(cfg, backend.store, backend.history, second).run()  # the next holder's first run
            assert second.pending() == 1
            until(lambda: len(box.mails) == 1 and second.kept() == 0 and not second.pending(), timeout=10)
            until(lambda: not first.pending(), timeout=5)  # the first's retry came, and let it go
            time.sleep(0.3)
        assert len(box.mails) == 1 and len(hook.bodies) == 1
        assert "Vuodeosasto: valmiustaso 3" in box.mails[0]["body"]
        (sent,) = [r for r in audit.entries(backend.history, action="notify.sent")
                   if r["details"]["channel"] == "sahkoposti"]
        assert sent["details"]["tries"] == 2  # one failed try by the first, one by the second
    finally:
        first.stop()
        if controller is not None:
            controller.stop()


def test_a_kept_message_for_a_channel_taken_away_is_given_up_and_said(
        backend: Backend, config: Config, hook: Hook, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NOTIFY_TO", ADDRESSES)
    cfg = with_notify(config, channels(free_port()), LEVEL)
    first = Outbox(backend.history, backoff=(60.0,), store=backend.store)
    with time_machine.travel(MONDAY, tick=False):
        raise_level(backend, "osasto", 3, MONDAY)
        Notifier(cfg, backend.store, backend.history, first).run()
        until(lambda: len(hook.bodies) == 1 and first.kept() == 1 and _kept_mail(backend).get("tries") == 1)
        first.stop()
        # the e-mail channel is taken out of the configuration before the next run
        fewer = with_notify(config, [c for c in channels(1) if c.name != "sahkoposti"],
                            LEVEL.model_copy(update={"channels": ["teams"]}))
        second = Outbox(backend.history, store=backend.store)
        assert second.take_over(fewer.notify.channels) == 1
    assert second.kept() == 0
    (failed,) = audit.entries(backend.history, action="notify.failed")
    assert failed["details"]["channel"] == "sahkoposti"
    assert failed["details"]["error"] == "channel no longer configured"


def _kept_mail(backend: Backend) -> dict[str, Any]:
    import json

    kept = [json.loads(v) for v in backend.store.r.hgetall(backend.store.k("notify", "outbox")).values()]
    mails = [k for k in kept if k["channel"] == "sahkoposti"]
    return mails[0] if mails else {}


def test_an_apprise_channel_reaches_a_server_of_our_own_and_its_address_no_log(
        backend: Backend, config: Config, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    """apprise, for the services the e-mail and webhook kinds do not speak, here by its
    `json://` kind: the real library posts to an HTTP server of the test's own. A server that
    refuses is retried and given up like any channel; its URL is in no log line."""
    good, refusing = Hook(), Hook(status=500)
    chan = NotifyChannel(name="apprise", kind="apprise", apprise_env="NOTIFY_APPRISE", language="en")
    rule = LEVEL.model_copy(update={"channels": ["apprise"]})
    try:
        for hook, expect in ((good, "notify.sent"), (refusing, "notify.failed")):
            monkeypatch.setenv("NOTIFY_APPRISE", hook.url.replace("http://", "json://"))
            backend.store.r.delete(backend.store.k("notify", "episodes"))
            outbox = Outbox(backend.history, backoff=(0.1,), retries=2, store=backend.store)
            with caplog.at_level(logging.DEBUG), time_machine.travel(MONDAY, tick=False):
                raise_level(backend, "osasto", 3, MONDAY)
                Notifier(with_notify(config, [chan], rule), backend.store, backend.history, outbox).run()
                assert outbox.wait_idle(15)
            assert len(hook.bodies) == (1 if hook is good else 2)  # the refused one: two tries
            body = hook.bodies[0]
            assert body["title"] == "Ohjaustaulu"
            assert body["message"].startswith("Vuodeosasto: escalation level 3 (Osasto täynnä)")
            assert [r["details"]["channel"] for r in audit.entries(backend.history, action=expect)] == ["apprise"]
            assert outbox.kept() == 0
    finally:
        good.stop()
        refusing.stop()
    assert "apprise could not deliver the message" in caplog.text
    for secret in (good.url, refusing.url, "s3cr3t"):
        assert secret not in caplog.text


def test_no_back_to_normal_while_the_figure_that_raised_the_level_cannot_be_seen(
        backend: Backend, config: Config, hook: Hook):
    """The clinic is at 3 for a queue waited on over an hour; then the queue feed goes silent
    while the staffing feed goes on. The rules now see only the staffing, which is fine, and
    say 1 — but nobody knows the queue is shorter: no "back to normal" until the queue's own
    figure is seen again, and then one."""
    rule = NotifyRule(id="taso-3-vo", when="level", level=3, units=["vastaanotto"], channels=["teams"])
    outbox = Outbox(backend.history, store=backend.store)
    n = Notifier(with_notify(config, channels(1), rule), backend.store, backend.history, outbox)

    def queue(at: datetime, minutes: int) -> None:
        backend.store.write_readings("demo-jonot", [Reading("queue.longest_wait_min", "vastaanotto", "a", minutes,
                                                            at, "demo-jonot")], {"state": "ok"})

    def staff(at: datetime) -> None:
        backend.store.write_readings("demo-henkilosto", [
            Reading("staff.planned", "vastaanotto", "lääkäri", 4, at, "demo-henkilosto"),
            Reading("staff.present", "vastaanotto", "lääkäri", 4, at, "demo-henkilosto")], {"state": "ok"})

    with time_machine.travel(MONDAY, tick=False) as traveller:
        queue(MONDAY, 70)
        staff(MONDAY)
        n.run()
        until(lambda: len(hook.bodies) == 1)
        assert hook.bodies[0]["event"] == "alert"
        later = MONDAY + timedelta(seconds=20)  # the queue's figure is past two 5-s polls; staffing is not
        traveller.move_to(later)
        staff(later)
        n.run()
        time.sleep(0.3)
        assert len(hook.bodies) == 1  # the rules say 1, from the staffing alone: not told as normal
        queue(later, 5)  # the queue is seen again, short
        n.run()
        until(lambda: len(hook.bodies) == 2)
    assert hook.bodies[1]["event"] == "recovery" and hook.bodies[1]["subject"] == "vastaanotto"
