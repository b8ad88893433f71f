"""A manager acknowledges the open escalation actions of their scope on /history ("Avoimet
toimenpiteet"): those of their own role and of the shift lead's, audited as the tablet's are,
and counted on the walls. The server decides by the person's role and scope, whatever a
request says: a shift lead cannot acknowledge a manager's action, a manager cannot reach
outside their units, and raw requests that lie are refused."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine

from dashboard.config import Config, EscalationAction
from dashboard.domain.readmodel import build
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.translate import speaking
from dashboard.web.accounts import User, add_user, set_language
from dashboard.web.shiftlead import Acknowledger, Refused, ShiftLead
from tests.conftest import Backend, signed_in
from tests.test_escalation_actions import LEAD, STAFF, T0, set_level, tap_body, unit_of
from tests.test_escalation_actions import ack_body as tablet_ack_body

pytestmark = pytest.mark.store
MANAGER = User("johtaja", "manager", ())  # no scope restriction: every unit
MANAGER_ACTION = "varahenkilosto-paatos"


def raised(config: Config, store: LiveStore, history: History, unit: str = "vastaanotto", level: int = 3) -> None:
    set_level(store, unit, level, T0)
    staff = next(d for d in config.displays if d.mode == "staff" and unit in d.units)
    build(config, staff, store, history)  # a staff wall records the episode


def manager(config: Config, store: LiveStore, history: History, user: User = MANAGER) -> Acknowledger:
    return Acknowledger(config, store, history, user, "fi")


def test_a_manager_acknowledges_a_manager_action_audited_and_the_wall_count_moves(
        config: Config, store: LiveStore, history: History):
    assert any(a.id == MANAGER_ACTION and a.role == "manager" and a.level == 3 for a in config.escalation.actions)
    m = manager(config, store, history)
    with time_machine.travel(T0, tick=False):
        raised(config, store, history)
        mine = [(x.unit, x.action.id) for x in m.open_actions()]
        # the manager's own action and the shift lead's below it
        assert ("vastaanotto", MANAGER_ACTION) in mine and ("vastaanotto", "tiedota-tiimi") in mine
        assert unit_of(config, store, history)["actions"]["acknowledged"] == 0
    with time_machine.travel(T0 + timedelta(minutes=12), tick=False):
        x = next(x for x in m.open_actions() if x.action.id == MANAGER_ACTION)
        m.acknowledge("vastaanotto", MANAGER_ACTION, x.episode, "done", "Kaksi sijaista tulossa")
        with pytest.raises(Refused) as err:  # once per episode
            m.acknowledge("vastaanotto", MANAGER_ACTION, x.episode, "not_needed", "")
        assert err.value.problems == ["Toimenpide on jo kuitattu"]
        assert unit_of(config, store, history)["actions"]["acknowledged"] == 1
        assert next(x for x in m.open_actions() if x.action.id == MANAGER_ACTION).ack["by"] == "johtaja"  # type: ignore[index]
    entry = audit.entries(history, action="escalation-action")[0]
    assert (entry["who"], entry["details"]["unit"], entry["details"]["action"], entry["details"]["minutes"]) == (
        "johtaja", "vastaanotto", MANAGER_ACTION, 12.0)
    assert entry["after"]["state"] == "done" and entry["after"]["note"] == "Kaksi sijaista tulossa"


def test_a_manager_cannot_acknowledge_outside_their_scope(config: Config, store: LiveStore, history: History):
    lab = manager(config, store, history, User("labra-johto", "manager", ("laboratorio",)))
    with time_machine.travel(T0, tick=False):
        raised(config, store, history)
        assert [x for x in lab.open_actions() if x.unit == "vastaanotto"] == []
        episode = store.episodes()["vastaanotto"]["episode"]["id"]
        with pytest.raises(Refused) as err:
            lab.acknowledge("vastaanotto", MANAGER_ACTION, str(episode), "done", "")
    assert err.value.problems == ["Yksikkö: valitse jokin omista yksiköistäsi"]
    assert store.episodes()["vastaanotto"]["acks"] == {} and audit.entries(history, action="escalation-action") == []


def test_a_shift_lead_cannot_acknowledge_a_manager_action(config: Config, store: LiveStore, history: History):
    sl = ShiftLead(config, store, history, LEAD, "fi")
    with time_machine.travel(T0, tick=False):
        raised(config, store, history)
        assert MANAGER_ACTION not in {x.action.id for x in sl.open_actions()}
        episode = str(store.episodes()["vastaanotto"]["episode"]["id"])
        with pytest.raises(Refused) as err:
            sl.acknowledge("vastaanotto", MANAGER_ACTION, episode, "done", "")
        assert err.value.problems == ["Toimenpide: se kuuluu toiselle roolille"]
        sl.acknowledge("vastaanotto", "lisavahvuus", episode, "done", "")  # the control: their own
    assert [e["details"]["action"] for e in audit.entries(history, action="escalation-action")] == ["lisavahvuus"]


def test_a_manager_cannot_acknowledge_an_admin_action(config: Config, store: LiveStore, history: History):
    admins = EscalationAction(id="kriisiryhma", level=3, text="Kutsu kriisiryhmä koolle", role="admin")
    cfg = config.model_copy(update={"escalation": config.escalation.model_copy(
        update={"actions": [*config.escalation.actions, admins]})})
    m = manager(cfg, store, history)
    with time_machine.travel(T0, tick=False):
        raised(cfg, store, history)
        assert "kriisiryhma" not in {x.action.id for x in m.open_actions()}
        episode = str(store.episodes()["vastaanotto"]["episode"]["id"])
        with pytest.raises(Refused) as err:
            m.acknowledge("vastaanotto", "kriisiryhma", episode, "done", "")
    assert err.value.problems == ["Toimenpide: se kuuluu toiselle roolille"]


def test_the_history_page_lists_the_open_actions_in_the_persons_language(
        config: Config, store: LiveStore, history: History):
    from layouts.history import HistoryContext, actions_view

    ctx = HistoryContext(config, store, history)
    with time_machine.travel(T0, tick=False):
        raised(config, store, history)
    with time_machine.travel(T0 + timedelta(minutes=25), tick=False), speaking("sv"):
        drawn = json.dumps(actions_view(ctx, Acknowledger(config, store, history, MANAGER, "sv")).to_plotly_json(),
                           default=lambda c: c.to_plotly_json(), ensure_ascii=False)
    assert "Besluta om användningen av vikariepoolen" in drawn  # the action's Swedish text
    assert '"data-action": "varahenkilosto-paatos"' in drawn and '"data-state": "open"' in drawn
    assert '"data-action": "tiedota-tiimi"' in drawn and '"data-state": "overdue"' in drawn  # due in 15 min
    assert "försenad, skulle ha kvitterats senast kl. 10.15" in drawn  # overdue, said in words
    assert "Inte behövlig" in drawn  # the answers' buttons, in Swedish
    assert "history-action-done" in drawn and "history-action-note" in drawn


# -- raw requests -----------------------------------------------------------------------------

def ack_body(key: str, kind: str = "history-action-done", note: str = "") -> dict[str, Any]:
    """The history page's acknowledgement as dash-renderer sends it for a tap on `key`."""
    return tap_body("history", key, kind, note, "history-actions-refresh")


def router(path: str) -> dict[str, Any]:
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}


@time_machine.travel(T0, tick=True)
def test_raw_requests_that_lie_are_refused_by_the_server(backend: Backend, config: Config):
    """A manager of vastaanotto's: an action of another unit, an action id relabelled, another
    episode, a body whose ids are swapped, the tablet's callback — each refused, nothing
    written; a shift lead cannot use the manager's callback. The honest tap is saved."""
    from dashboard.demo import PASSWORD
    from dashboard.web.app import asgi, create_app
    from tests.security.test_hostile_clients import lies

    store, history = backend.store, backend.history
    add_user(history, "vo-johto", "manager", ["vastaanotto"], PASSWORD)
    set_language(history, "vo-johto", "sv")
    add_user(history, "vo-vv", "shift_lead", ["vastaanotto"], PASSWORD)
    raised(config, store, history, "vastaanotto", 3)
    raised(config, store, history, "suun_th", 3)
    build(config, config.display(STAFF), store, history)
    episodes = {u: str(f["episode"]["id"]) for u, f in store.episodes().items()}
    vo = episodes["vastaanotto"]
    app = create_app(config, store, history, backend.data_dir)

    swapped = ack_body(f"vastaanotto|{MANAGER_ACTION}|{vo}")
    refresh, shown = swapped["inputs"][2], swapped["state"][1]
    refresh["id"], shown["id"] = shown["id"], refresh["id"]
    refresh["property"], shown["property"] = shown["property"], refresh["property"]

    async def go() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=asgi(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as johto, \
                httpx.AsyncClient(transport=transport, base_url="http://t") as lead:
            mh, lh = await signed_in(johto, "vo-johto"), await signed_in(lead, "vo-vv")

            async def post(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
                return await client.post("/_dash-update-component", json=body, headers=headers)

            for how, bent in lies(ack_body(f"vastaanotto|{MANAGER_ACTION}|{vo}")).items():  # the hostile shapes
                refused = await post(johto, mh, bent)
                assert refused.status_code == 400 and "callback request" in refused.json()["error"], how
            return {
                "page": await post(johto, mh, router("/history")),
                "outside the scope": await post(johto, mh, ack_body(f"suun_th|{MANAGER_ACTION}|{episodes['suun_th']}")),
                "relabelled action": await post(johto, mh, ack_body(f"vastaanotto|ei-tallaista|{vo}")),
                "another episode": await post(johto, mh, ack_body(f"vastaanotto|{MANAGER_ACTION}|123.1")),
                "swapped ids": await post(johto, mh, swapped),
                "the tablet's callback": await post(johto, mh, tablet_ack_body(f"vastaanotto|{MANAGER_ACTION}|{vo}")),
                "a shift lead on the manager's": await post(lead, lh, ack_body(f"vastaanotto|{MANAGER_ACTION}|{vo}")),
                "a shift lead on the tablet": await post(lead, lh, tablet_ack_body(f"vastaanotto|{MANAGER_ACTION}|{vo}")),
                "honest": await post(johto, mh, ack_body(f"vastaanotto|{MANAGER_ACTION}|{vo}", note="Sijaiset tulevat")),
                "refresh": await post(johto, mh, {**ack_body("x"), "inputs": [[], [], {
                    "id": "history-actions-refresh", "property": "n_intervals", "value": 4}],
                    "state": [[], {"id": "history-actions-shown", "property": "data", "value": None}],
                    "changedPropIds": ["history-actions-refresh.n_intervals"]}),
            }

    try:
        r = asyncio.run(go())
    finally:
        app.server.state.display_ctx.cache.watch.stop.set()

    def said(x: httpx.Response) -> str:
        return json.dumps(x.json(), ensure_ascii=False)

    codes = {k: x.status_code for k, x in r.items()}
    assert codes == {**{k: 200 for k in r}, "swapped ids": 400, "the tablet's callback": 403,
                     "a shift lead on the manager's": 403}, codes
    page = said(r["page"])
    assert "history-actions-panel" in page and "Besluta om användningen av vikariepoolen" in page
    assert '"data-unit": "vastaanotto"' in page and "suun_th" not in page  # their scope only
    # the server's answers, in the person's language (Swedish)
    assert "Enhet: välj en av dina enheter" in said(r["outside the scope"])
    for lie in ("outside the scope", "relabelled action", "another episode"):
        assert '"data-ok": "false"' in said(r[lie]), lie
    assert '"data-ok": "false"' in said(r["a shift lead on the tablet"])  # not theirs: another role's
    assert '"data-ok": "true"' in said(r["honest"])
    assert '"data-state": "done"' in said(r["refresh"])
    acks = store.episodes()
    assert list(acks["vastaanotto"]["acks"]) == [MANAGER_ACTION] and acks["suun_th"]["acks"] == {}
    entries = audit.entries(history, action="escalation-action")
    assert [(e["who"], e["details"]["action"], e["after"]["note"]) for e in entries] == [
        ("vo-johto", MANAGER_ACTION, "Sijaiset tulevat")]
    assert unit_of(config, store, history)["actions"]["acknowledged"] == 1  # the wall counts it
