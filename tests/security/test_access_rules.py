"""The one place that decides (`access.may`) and the one shape check (`check_callback`),
read as tables: every principal against every action, and the callback bodies a hostile
client could make of the app's real callbacks, pattern-matching ones included."""

from __future__ import annotations

import copy

import pytest

from dashboard.web.access import BadCallback, Principal, check_callback, json_depth, may, parse_json
from dashboard.web.accounts import User

SCREEN = Principal(display="aula")
LEAD = Principal(user=User("vv", "shift_lead", ("laboratorio",)))
LEAD_ALL = Principal(user=User("vv2", "shift_lead", ()))
MANAGER = Principal(user=User("esh", "manager", ()))
ADMIN = Principal(user=User("admin", "admin", ()))


@pytest.mark.parametrize(("who", "action", "target", "allowed"), [
    (None, "display:read", "aula", False), (None, "page", None, False), (None, "admin", None, False),
    (SCREEN, "display:read", "aula", True), (SCREEN, "display:read", "johto", False),
    (SCREEN, "display:read", None, False), (SCREEN, "heartbeat", "aula", True), (SCREEN, "heartbeat", "johto", False),
    (SCREEN, "page", None, False), (SCREEN, "tablet", None, False), (SCREEN, "history", None, False),
    (SCREEN, "admin", None, False), (SCREEN, "unit:write", "aula", False),
    (LEAD, "display:read", "johto", True), (LEAD, "tablet", None, True), (LEAD, "history", None, False),
    (LEAD, "admin", None, False), (LEAD, "unit:write", "laboratorio", True), (LEAD, "unit:write", "vastaanotto", False),
    (LEAD, "unit:write", None, False), (LEAD_ALL, "unit:write", "vastaanotto", True),
    (MANAGER, "history", None, True), (MANAGER, "tablet", None, False), (MANAGER, "admin", None, False),
    (MANAGER, "unit:write", "laboratorio", False),
    (ADMIN, "admin", None, True), (ADMIN, "history", None, True), (ADMIN, "tablet", None, True),
    (ADMIN, "unit:write", "mtpa", True),
])
def test_who_may_do_what(who: Principal | None, action: str, target: str | None, allowed: bool):
    assert may(who, action, target) is allowed


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        may(ADMIN, "everything")


@pytest.fixture(scope="module")
def callback_map(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from dashboard.config import load_config
    from dashboard.storage import embedded
    from dashboard.storage.history import History
    from dashboard.storage.livestore import LiveStore
    from dashboard.web.app import create_app
    from tests.conftest import EXAMPLE_CONFIG

    data = tmp_path_factory.mktemp("rules")
    store, history = LiveStore.open(None, data, "rules:"), History.open(None, data)
    app = create_app(load_config(EXAMPLE_CONFIG), store, history, data)
    yield app.callback_map
    history.engine.dispose()
    embedded.stop(data)




def notice_body() -> dict:  # type: ignore[type-arg]
    outs = ["tablet-notice-result.children", "tablet-notices.children", "tablet-notice-editing.data",
            "tablet-notice-title.children", "tablet-notice-text.value", "tablet-notice-text-sv.value",
            "tablet-notice-units.value", "tablet-notice-importance.value", "tablet-notice-public.value",
            "tablet-notice-starts.value", "tablet-notice-ends.value"]
    return {
        "output": ".." + "...".join(outs) + "..",
        "outputs": [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in outs],
        "inputs": [{"id": "tablet-notice-save", "property": "n_clicks", "value": None},
                   [{"id": {"type": "tablet-notice-edit", "id": "n1"}, "property": "n_clicks", "value": 1}],
                   [{"id": {"type": "tablet-notice-end", "id": "n1"}, "property": "n_clicks"}]],
        "changedPropIds": ['{"id":"n1","type":"tablet-notice-edit"}.n_clicks'],
        "state": [{"id": i, "property": p, "value": None} for i, p in (
            ("tablet-notice-editing", "data"), ("tablet-notice-text", "value"), ("tablet-notice-text-sv", "value"),
            ("tablet-notice-units", "value"),
            ("tablet-notice-importance", "value"), ("tablet-notice-public", "value"), ("tablet-notice-starts", "value"),
            ("tablet-notice-ends", "value"))],
    }


def test_pattern_matching_callbacks_are_checked_item_by_item(callback_map):  # type: ignore[no-untyped-def]
    body = notice_body()
    assert check_callback(callback_map, body) == body["output"]  # the control
    bent = []
    b = copy.deepcopy(body)
    b["inputs"][1] = {"id": {"type": "tablet-notice-edit", "id": "n1"}, "property": "n_clicks"}  # not a list
    bent.append(b)
    b = copy.deepcopy(body)
    b["inputs"][1][0]["id"] = {"type": "admin-content", "id": "n1"}  # another pattern's type
    bent.append(b)
    b = copy.deepcopy(body)
    b["inputs"][1][0]["id"] = {"type": "tablet-notice-edit", "id": {"$gt": ""}}  # a wildcard that is no value
    bent.append(b)
    b = copy.deepcopy(body)
    b["inputs"][1][0]["id"] = {"type": "tablet-notice-edit", "id": "n1", "x": 1}  # an extra key
    bent.append(b)
    b = copy.deepcopy(body)
    b["inputs"][1], b["inputs"][2] = b["inputs"][2], b["inputs"][1]  # edit and end swapped
    bent.append(b)
    b = copy.deepcopy(body)
    b["changedPropIds"] = ["admin-refresh.n_intervals"]  # triggered by what is no input of it
    bent.append(b)
    b = copy.deepcopy(body)
    b["outputs"] = b["outputs"][:-1]
    bent.append(b)
    for i, b in enumerate(bent):
        with pytest.raises(BadCallback):
            check_callback(callback_map, b)
            pytest.fail(f"bent body {i} was let through")


def test_clientside_callbacks_are_no_server_callbacks(callback_map):  # type: ignore[no-untyped-def]
    body = {"output": "board-changes.id", "outputs": {"id": "board-changes", "property": "id"},
            "inputs": [{"id": "board-changes", "property": "data", "value": 1}], "changedPropIds": []}
    with pytest.raises(BadCallback, match="no server callback"):
        check_callback(callback_map, body)


def test_json_is_bounded_in_depth_before_anything_reads_it():
    assert json_depth({"a": [1, {"b": []}]}) == 4 and json_depth("x") == 0
    assert parse_json(b'{"a": 1}') == {"a": 1}
    for raw in (b"[" * 33 + b"]" * 33, b"[" * 5000 + b"]" * 5000, b'{"a":' * 100000, b"not json"):
        with pytest.raises(BadCallback):
            parse_json(raw)
