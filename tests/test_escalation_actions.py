"""Escalation actions (`[[escalation.actions]]`, issue 18): an episode opens a unit's actions,
a shift lead acknowledges each once per episode (audited), a new episode opens them again,
overdue ones are listed for the notifications, the staff walls count them, the public ones
never do, and the server refuses what a raw request says that the page would not."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from dash import html

from dashboard.config import Config
from dashboard.domain import actions
from dashboard.domain.readings import Reading
from dashboard.domain.readmodel import build
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.web.accounts import User, add_user
from dashboard.web.shiftlead import Refused, ShiftLead, Unconfirmed
from layouts.components import escalation_bar
from tests.conftest import Backend, signed_in

pytestmark = pytest.mark.store
TZ = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
LEAD = User("hoitaja1", "shift_lead", ("vastaanotto", "laboratorio"))
STAFF, PUBLIC = "vastaanotto-kaytava", "aula"


def lead(config: Config, store: LiveStore, history: History, user: User = LEAD) -> ShiftLead:
    return ShiftLead(config, store, history, user, "fi")


def set_level(store: LiveStore, unit: str, level: int, at: datetime) -> None:
    if level == 1:  # back to the rules, which see a fresh short queue: known to be normal
        store.write_readings("q", [Reading("queue.longest_wait_min", unit, "A", 5, at, "q")], {})
        store.set_escalation(unit, None)
        return
    store.set_escalation(unit, {"level": level, "reason": "testi", "by": "x", "at": at.isoformat(),
                                "valid_until": (at + timedelta(hours=12)).isoformat()})


def unit_of(config: Config, store: LiveStore, history: History, display: str = STAFF) -> dict[str, Any]:
    return dict(build(config, config.display(display), store, history).data["escalation"]["units"]["vastaanotto"])


def test_a_raised_level_opens_its_actions_and_each_is_acknowledged_once_and_audited(
        config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        set_level(store, "vastaanotto", 2, T0)
        u = unit_of(config, store, history)
        assert u["actions"] == {"total": 2, "acknowledged": 0, "open": 2, "overdue": 0}
        mine = [(x.unit, x.action.id) for x in sl.open_actions()]
        assert mine == [("vastaanotto", "tiedota-tiimi"), ("vastaanotto", "siirra-kiireettomat")]
    with time_machine.travel(T0 + timedelta(minutes=7), tick=False):
        x = sl.open_actions()[0]
        sl.acknowledge("vastaanotto", x.action.id, x.episode, "done", "Tiimi tietää")
        with pytest.raises(Refused) as err:  # once per episode
            sl.acknowledge("vastaanotto", x.action.id, x.episode, "not_needed", "")
        assert err.value.problems == ["Toimenpide on jo kuitattu"]
        assert unit_of(config, store, history)["actions"]["acknowledged"] == 1
    entry = audit.entries(history, action="escalation-action")[0]
    assert (entry["who"], entry["details"]["unit"], entry["details"]["action"], entry["details"]["minutes"]) == (
        "hoitaja1", "vastaanotto", "tiedota-tiimi", 7.0)
    assert entry["after"]["state"] == "done" and entry["after"]["note"] == "Tiimi tietää"
    assert entry["details"]["episode_start"] == T0.isoformat()


def test_a_higher_level_adds_its_actions_and_a_new_episode_reopens_them(
        config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        set_level(store, "vastaanotto", 2, T0)
        unit_of(config, store, history)
        first = sl.open_actions()[0]
        sl.acknowledge("vastaanotto", first.action.id, first.episode, "done", "")
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        set_level(store, "vastaanotto", 3, T0 + timedelta(minutes=10))
        assert unit_of(config, store, history)["actions"] == {"total": 4, "acknowledged": 1, "open": 3, "overdue": 0}
        high = next(x for x in sl.open_actions() if x.action.id == "lisavahvuus")
        assert high.opened_at == T0 + timedelta(minutes=10) and high.episode == first.episode
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        set_level(store, "vastaanotto", 1, T0 + timedelta(minutes=20))
        assert "actions" not in unit_of(config, store, history)  # the episode ended
        assert sl.open_actions() == []
        with pytest.raises(Refused):  # an action of an ended episode is not acknowledged
            sl.acknowledge("vastaanotto", "siirra-kiireettomat", first.episode, "done", "")
    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        set_level(store, "vastaanotto", 2, T0 + timedelta(minutes=40))
        assert unit_of(config, store, history)["actions"] == {"total": 2, "acknowledged": 0, "open": 2, "overdue": 0}
        again = sl.open_actions()
        assert {x.episode for x in again} != {first.episode} and all(x.ack is None for x in again)


def test_a_silent_queue_feed_does_not_close_the_episode_its_queue_opened(
        config: Config, store: LiveStore, history: History):
    """The rules raise the clinic to 3 for a queue waited on over an hour; the queue feed then
    goes silent while the staffing feed goes on, and the rules say 1 from the staffing alone.
    Nobody knows the queue is shorter: the episode and its actions stay open until the queue
    is seen again, short; then it ends."""
    from dashboard.domain import actions

    def queue(at: datetime, minutes: int) -> None:
        store.write_readings("demo-jonot", [Reading("queue.longest_wait_min", "vastaanotto", "a", minutes, at,
                                                    "demo-jonot")], {})

    def staff(at: datetime) -> None:
        store.write_readings("demo-henkilosto", [
            Reading("staff.planned", "vastaanotto", "lääkäri", 4, at, "demo-henkilosto"),
            Reading("staff.present", "vastaanotto", "lääkäri", 4, at, "demo-henkilosto")], {})

    with time_machine.travel(T0, tick=False):
        queue(T0, 70)
        staff(T0)
        assert unit_of(config, store, history)["level"] == 3
        opened = {x.episode for x in actions.current(config, store, ["vastaanotto"])["vastaanotto"]}
        assert len(opened) == 1
    later = T0 + timedelta(seconds=20)  # the queue's figure past two 5-s polls; staffing not
    with time_machine.travel(later, tick=False):
        staff(later)
        u = unit_of(config, store, history)
        assert u["level"] == 1 and u["status"] != "stale"  # the rules see the staffing, fresh
        still = actions.current(config, store, ["vastaanotto"]).get("vastaanotto", [])
        assert {x.episode for x in still} == opened and len(still) == 4
        queue(later, 5)  # seen again, short: known to be normal
        assert unit_of(config, store, history)["level"] == 1
        assert actions.current(config, store, ["vastaanotto"]).get("vastaanotto", []) == []


def test_overdue_lists_what_was_not_acknowledged_within_its_minutes(
        config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        set_level(store, "vastaanotto", 2, T0)
        set_level(store, "laboratorio", 3, T0)
        build(config, config.display(STAFF), store, history)
        build(config, config.display("laboratorio-kaytava") if any(
            d.id == "laboratorio-kaytava" for d in config.displays) else config.display("aula"), store, history)
        actions.observe(config, store, {"laboratorio": {"level": 3, "source": "manual", "at": T0.isoformat()}}, T0)
        x = next(x for x in sl.open_actions() if x.unit == "vastaanotto" and x.action.id == "siirra-kiireettomat")
    with time_machine.travel(T0 + timedelta(minutes=12), tick=False):
        sl.acknowledge("vastaanotto", x.action.id, x.episode, "not_needed", "Ei ajanvarauksia")
    for minutes in (14, 15, 21, 31):
        now = T0 + timedelta(minutes=minutes)
        got = {(o.unit, o.action.id) for o in actions.overdue(config, store, now)}
        # recomputed independently: each configured action for the unit's level, due at start + minutes
        expected = set()
        for unit, level in (("vastaanotto", 2), ("laboratorio", 3)):
            for a in config.escalation.actions:
                acked = (unit, a.id) == ("vastaanotto", "siirra-kiireettomat")
                if a.level <= level and (not a.units or unit in a.units) and not acked \
                        and now >= T0 + timedelta(minutes=a.within_minutes):
                    expected.add((unit, a.id))
        assert got == expected, minutes
    late = actions.overdue(config, store, T0 + timedelta(minutes=31))
    assert [o.due for o in late] == sorted(o.due for o in late)
    assert actions.next_role("shift_lead") == "manager" and actions.next_role("admin") is None
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        assert unit_of(config, store, history)["actions"]["overdue"] == 1


def test_the_staff_wall_draws_the_count_and_a_public_display_never_has_it(
        config: Config, store: LiveStore, history: History):
    with time_machine.travel(T0, tick=False):
        set_level(store, "vastaanotto", 2, T0)
        staff = build(config, config.display(STAFF), store, history).data
        public = build(config, config.display(PUBLIC), store, history).data
    assert "actions" not in public["escalation"]["units"]["vastaanotto"]
    assert "toimenpiteet" not in json.dumps(public) and "actions" not in json.dumps(public["escalation"])
    for lang, said in (("fi", "toimenpiteet 0/2 kuitattu"), ("sv", "åtgärder 0/2 kvitterade"),
                       ("en", "actions 0/2 acknowledged")):
        drawn = json.dumps(escalation_bar(config, staff["escalation"], lang, staff["tiles"]).to_plotly_json(),
                           default=lambda c: c.to_plotly_json(), ensure_ascii=False)
        assert said in drawn and '"data-actions-total": "2"' in drawn
    assert isinstance(escalation_bar(config, staff["escalation"], "fi"), html.Div)


def test_lowering_or_handing_back_a_level_needs_confirmation(config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        sl.set_escalation("vastaanotto", 3, "Kaksi lääkäriä pois")
        with pytest.raises(Unconfirmed):
            sl.set_escalation("vastaanotto", 2, "Tilanne helpottaa")
        with pytest.raises(Unconfirmed):
            sl.clear_escalation("vastaanotto")
        assert store.escalations()["vastaanotto"]["level"] == 3
        sl.set_escalation("vastaanotto", 4, "Pahenee")  # raising needs no second tap
        sl.set_escalation("vastaanotto", 2, "Tilanne helpottaa", confirmed=True)
        assert store.escalations()["vastaanotto"]["level"] == 2


def test_the_history_has_each_episode_from_the_recorded_levels():
    at = [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=9), T0 + timedelta(minutes=30), T0 + timedelta(hours=2)]
    eps = actions.episodes_of(zip(at, [2, 3, 1, 1, 2], strict=True))
    assert eps == [actions.PastEpisode(at[0], at[2], 3), actions.PastEpisode(at[4], None, 2)]


# -- raw requests -----------------------------------------------------------------------------

def tap_body(page: str, key: str, kind: str, note: str, refresh: str,
             also: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """An open action's acknowledgement as dash-renderer sends it for a tap on `key`, on the
    page whose ids begin `page` ("tablet", "history"): its list's callback, `refresh` its
    timer's id and `also` the page's further inputs."""
    done, skip = f"{page}-action-done", f"{page}-action-skip"
    return {"output": f"..{page}-actions.children...{page}-action-result.children..",
            "outputs": [{"id": f"{page}-actions", "property": "children"},
                        {"id": f"{page}-action-result", "property": "children"}],
            "inputs": [[{"id": {"type": done, "id": key}, "property": "n_clicks", "value": 1 if kind == done else None}],
                       [{"id": {"type": skip, "id": key}, "property": "n_clicks", "value": 1 if kind == skip else None}],
                       {"id": refresh, "property": "n_intervals", "value": 3}, *also],
            "changedPropIds": [json.dumps({"id": key, "type": kind}, separators=(",", ":")) + ".n_clicks"],
            "state": [[{"id": {"type": f"{page}-action-note", "id": key}, "property": "value", "value": note}],
                      {"id": f"{page}-actions-shown", "property": "data", "value": None}]}


def ack_body(key: str, kind: str = "tablet-action-done", note: str = "") -> dict[str, Any]:
    return tap_body("tablet", key, kind, note, "tablet-refresh",
                    ({"id": "tablet-esc-result", "property": "children", "value": None},))


def esc_body(unit: str, level: int, reason: str) -> dict[str, Any]:
    return {"output": "..tablet-esc-result.children...tablet-esc-confirm.hidden...tablet-esc-pending.data..",
            "outputs": [{"id": "tablet-esc-result", "property": "children"},
                        {"id": "tablet-esc-confirm", "property": "hidden"},
                        {"id": "tablet-esc-pending", "property": "data"}],
            "inputs": [{"id": "tablet-esc-save", "property": "n_clicks", "value": 1},
                       {"id": "tablet-esc-clear", "property": "n_clicks", "value": None},
                       {"id": "tablet-esc-confirm", "property": "n_clicks", "value": None}],
            "changedPropIds": ["tablet-esc-save.n_clicks"],
            "state": [{"id": "tablet-esc-unit", "property": "value", "value": unit},
                      {"id": "tablet-esc-level", "property": "value", "value": level},
                      {"id": "tablet-esc-reason", "property": "value", "value": reason},
                      {"id": "tablet-esc-pending", "property": "data", "value": None}]}


@time_machine.travel(T0, tick=True)
def test_raw_requests_that_lie_are_refused_by_the_server(backend: Backend, config: Config):
    """An action of a unit outside the lead's scope, an action id relabelled or of another
    episode, a lowering without the second tap: each refused, nothing written; the honest
    acknowledgement beside them is saved."""
    from dashboard.demo import PASSWORD
    from dashboard.web.app import asgi, create_app

    store, history = backend.store, backend.history
    add_user(history, "vo-vv", "shift_lead", ["vastaanotto"], PASSWORD)
    set_level(store, "vastaanotto", 3, T0)
    set_level(store, "suun_th", 2, T0)
    build(config, config.display("aula"), store, history)  # public: records no episode
    staff = [d for d in config.displays if d.mode == "staff" and "suun_th" in d.units]
    build(config, staff[0], store, history)
    build(config, config.display(STAFF), store, history)
    episodes = {u: f["episode"]["id"] for u, f in store.episodes().items()}
    app = create_app(config, store, history, backend.data_dir)

    async def go() -> dict[str, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi(app)), base_url="http://t") as client:
            headers = await signed_in(client, "vo-vv")

            async def post(body: dict[str, Any]) -> httpx.Response:
                return await client.post("/_dash-update-component", json=body, headers=headers)

            vo = episodes["vastaanotto"]
            return {
                "outside the scope": await post(ack_body(f"suun_th|tiedota-tiimi|{episodes['suun_th']}")),
                "relabelled action": await post(ack_body(f"vastaanotto|ei-tallaista|{vo}")),
                "another episode": await post(ack_body("vastaanotto|tiedota-tiimi|123.1")),
                "lower without confirming": await post(esc_body("vastaanotto", 1, "Tilanne ohi")),
                "honest": await post(ack_body(f"vastaanotto|lisavahvuus|{vo}", "tablet-action-skip", "Ei tarvita")),
            }

    try:
        r = asyncio.run(go())
    finally:
        app.server.state.display_ctx.cache.watch.stop.set()

    def said(x: httpx.Response) -> str:
        return json.dumps(x.json(), ensure_ascii=False)

    assert all(x.status_code == 200 for x in r.values()), {k: x.status_code for k, x in r.items()}
    assert "Yksikkö: valitse jokin omista yksiköistäsi" in said(r["outside the scope"])
    for lie in ("relabelled action", "another episode"):
        assert "Toimenpide: sitä ei ole avoinna" in said(r[lie]), lie
    assert "Tason laskeminen on vahvistettava" in said(r["lower without confirming"])
    assert store.escalations()["vastaanotto"]["level"] == 3
    assert "Kuitattu: Ei tarpeen." in said(r["honest"])
    acks = store.episodes()
    assert list(acks["vastaanotto"]["acks"]) == ["lisavahvuus"] and acks["suun_th"]["acks"] == {}
    assert [e["details"]["action"] for e in audit.entries(history, action="escalation-action")] == ["lisavahvuus"]
