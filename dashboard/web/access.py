"""Who may do what: one function, `may(principal, action, target)`, asked where the data is
made — by each page's layout, each callback, the fast poll, the push channel, `/api/*`, the
exports and the uploads — so no two paths can disagree. The guard in dashboard/web/auth.py asks
the same function first, as a filter; it is never the only line.

And what a Dash callback request must look like: `check_callback` refuses a request whose
outputs, inputs and states are not exactly those of the callback it names, in order. Dash
hands values to a callback by their position; a check that read them by their labels could
be told one thing while the callback was given another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from dashboard.web.accounts import User

# What a principal may ask for. Targets: a display id, a unit code, or none.
ROLE_OF_ACTION = {
    "tablet": "shift_lead",    # the shift lead's page and its callbacks
    "unit:write": "shift_lead",  # a correction, notice, escalation or workbook row for a unit
    "history": "manager",      # the history page, its figures and exports
    "admin": "admin",          # /admin, users, the audit log and its export
}
ACTIONS = {"display:read", "heartbeat", "page", *ROLE_OF_ACTION}
MAX_JSON_DEPTH = 32  # nothing we are sent nests deeper than a handful of levels


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    display: str | None = None
    csrf: str | None = None
    session: str | None = None  # the session id's digest
    token: str | None = None  # a screen's display token's digest

    @property
    def name(self) -> str:
        return self.user.name if self.user else f"näyttö:{self.display}"


current: ContextVar[Principal | None] = ContextVar("ohjaustaulu_principal", default=None)


class Forbidden(PermissionError):
    """Raised where data would be made for someone who may not have it. The request's
    answer becomes 403, whatever the callback machinery would have said."""


def may(p: Principal | None, action: str, target: str | None = None) -> bool:
    """May `p` do `action` (on `target`)?

    - "display:read", "heartbeat": a screen its own display only; a signed-in person any.
    - "page": any signed-in person (the index page).
    - "tablet", "history", "admin": the role (admins may everything).
    - "unit:write": a shift lead (or admin) whose units cover `target` (no units: all).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if p is None:
        return False
    if p.user is None:  # a screen
        return action in ("display:read", "heartbeat") and target is not None and target == p.display
    if action in ("display:read", "heartbeat", "page"):
        return True
    if not p.user.may(ROLE_OF_ACTION[action]):  # type: ignore[arg-type]
        return False
    if action == "unit:write":
        return target is not None and p.user.covers(target)
    return True


def require(action: str, target: str | None = None) -> Principal:
    """The request's principal, if it may do `action`; else Forbidden (and the request is
    marked refused, so its answer is a 403 however the caller ends)."""
    p = current.get()
    if not may(p, action, target):
        verdict = refusals.get()
        if verdict is not None:
            verdict.append(f"{action} {target or ''}".strip())
        raise Forbidden(f"{p.name if p else 'tuntematon'}: ei oikeutta ({action} {target or ''})".strip())
    assert p is not None
    return p


def visible_units(config: Any) -> list[str]:
    """The units whose data the request's person may read, in the configuration's order:
    their scope (sites and units; none: every unit). A screen or nobody: none."""
    p = current.get()
    if p is None or p.user is None:
        return []
    return [u.code for u in config.units if p.user.covers(u.code)]


# Set by the guard for each request: where the data was refused (a list the callback appends
# to; a callback runs in a copy of the context, so a plain value set there would not be seen).
refusals: ContextVar[list[str] | None] = ContextVar("ohjaustaulu_refusals", default=None)


# -- the shape of a callback request -------------------------------------------------------


class BadCallback(ValueError):
    """The request does not match the callback it names; the message says where."""


def json_depth(value: Any) -> int:
    """How deeply `value` nests (iteratively: a hostile body cannot exhaust the stack)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in item)
    return deepest


def parse_json(raw: bytes) -> Any:
    """JSON no deeper than MAX_JSON_DEPTH, or BadCallback naming the problem."""
    try:
        value = json.loads(raw or b"null")
    except RecursionError:
        raise BadCallback(f"JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as err:
        raise BadCallback(f"not JSON ({err})") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise BadCallback(f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def _pattern(spec_id: str) -> dict[str, Any] | None:
    if not spec_id.startswith("{"):
        return None
    parsed = json.loads(spec_id)
    return parsed if isinstance(parsed, dict) else None


def _matches(pattern: dict[str, Any], sent: Any) -> bool:
    if not isinstance(sent, dict) or set(sent) != set(pattern):
        return False
    for key, want in pattern.items():
        if isinstance(want, list) and len(want) == 1 and want[0] in ("ALL", "MATCH", "ALLSMALLER"):
            if not isinstance(sent[key], str | int | float) or isinstance(sent[key], bool):
                return False
        elif sent[key] != want:
            return False
    return True


def _check_one(where: str, spec: Mapping[str, str], sent: Any, with_value: bool) -> None:
    pattern = _pattern(spec["id"])
    if pattern is not None and any(v == ["ALL"] or v == ["ALLSMALLER"] for v in pattern.values()):
        if not isinstance(sent, list):
            raise BadCallback(f"{where}: expected a list for {spec['id']}.{spec['property']}")
        for item in sent:
            _check_leaf(where, spec, pattern, item, with_value)
        return
    _check_leaf(where, spec, pattern, sent, with_value)


def _check_leaf(where: str, spec: Mapping[str, str], pattern: dict[str, Any] | None, sent: Any,
                with_value: bool) -> None:
    expected = f"{spec['id']}.{spec['property']}"
    if not isinstance(sent, dict):
        raise BadCallback(f"{where}: expected {expected}")
    allowed = {"id", "property", "value"} if with_value else {"id", "property"}
    if not set(sent) <= allowed or "id" not in sent or "property" not in sent:
        raise BadCallback(f"{where}: unexpected fields {sorted(set(sent) - allowed)} for {expected}")
    if sent["property"] != spec["property"]:
        raise BadCallback(f"{where}: expected {expected}, got property {sent['property']!r}")
    if pattern is None:
        if sent["id"] != spec["id"]:
            raise BadCallback(f"{where}: expected {expected}, got id {str(sent['id'])[:80]!r}")
    elif not _matches(pattern, sent["id"]):
        raise BadCallback(f"{where}: expected an id like {expected}")


def _outputs_of(cb: Mapping[str, Any]) -> list[dict[str, str]]:
    out = cb.get("output")
    items = out if isinstance(out, list | tuple) else [out] if out is not None else []
    return [{"id": str(o.component_id_str()), "property": str(o.component_property)} for o in items]


def check_callback(callback_map: Mapping[str, Mapping[str, Any]], body: Any) -> str:
    """The output key of the server-side callback `body` asks for, if `body` names exactly
    its outputs, inputs and states, in order; else BadCallback saying where it differs."""
    if not isinstance(body, dict):
        raise BadCallback("request: expected a JSON object")
    extra = set(body) - {"output", "outputs", "inputs", "state", "changedPropIds", "parsedChangedPropsIds"}
    if extra:
        raise BadCallback(f"request: unexpected fields {sorted(extra)[:5]}")
    key = body.get("output")
    cb = callback_map.get(key) if isinstance(key, str) else None
    if cb is None or cb.get("callback") is None:
        raise BadCallback(f"output: no server callback {str(key)[:80]!r}")
    for part, specs, with_value in (("inputs", cb.get("inputs", []), True), ("state", cb.get("state", []), True)):
        sent = body.get(part, [])
        if not isinstance(sent, list) or len(sent) != len(specs):
            raise BadCallback(f"{part}: expected {len(specs)}, got {len(sent) if isinstance(sent, list) else type(sent).__name__}")
        for i, (spec, item) in enumerate(zip(specs, sent, strict=True)):
            _check_one(f"{part}[{i}]", spec, item, with_value)
    if not cb.get("no_output"):
        specs = _outputs_of(cb)
        sent = body.get("outputs")
        sent_list = sent if isinstance(sent, list) else [sent]
        if len(specs) == 1 and isinstance(sent, list) and len(sent) == 1 and not _pattern(specs[0]["id"]):
            raise BadCallback("outputs: expected one output, not a list")
        if len(sent_list) != len(specs):
            raise BadCallback(f"outputs: expected {len(specs)}, got {len(sent_list)}")
        for i, (spec, item) in enumerate(zip(specs, sent_list, strict=True)):
            _check_one(f"outputs[{i}]", spec, item, with_value=False)
    changed = body.get("changedPropIds", [])
    names = {f"{s['id']}.{s['property']}" for s in cb.get("inputs", [])}
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallback("changedPropIds: expected a list of names")
    for c in changed:
        if c not in names and not _changed_pattern(c, cb.get("inputs", [])):
            raise BadCallback(f"changedPropIds: {c[:80]!r} is not an input of this callback")
    return key  # type: ignore[return-value]


def _changed_pattern(name: str, inputs: list[Mapping[str, str]]) -> bool:
    sent_id, _, prop = name.rpartition(".")
    try:
        parsed = json.loads(sent_id)
    except ValueError:
        return False
    return any((p := _pattern(s["id"])) is not None and s["property"] == prop and _matches(p, parsed)
               for s in inputs)


def values(body: dict[str, Any]) -> dict[str, Any]:
    """{"id.property": value} of a request that passed check_callback (so every name is at
    the position the callback reads it from)."""
    out: dict[str, Any] = {}
    for part in ("inputs", "state"):
        for item in body.get(part, []):
            if isinstance(item, dict):
                out[f"{item['id']}.{item['property']}"] = item.get("value")
    return out
