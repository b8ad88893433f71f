"""What changed between two renderings of a board, addressed to the elements that changed.

Dash 4 remounts every child of a component whose `children` prop changes, so replacing the
board (or patching it with a `Patch`) rebuilds the whole screen on every update: every
element is torn down and made again. Instead every element of a board gets a stable id from
its place, and an update is a short list of (id, {prop: value}) for the elements whose props
changed; the page applies them with `dash_clientside.set_props`, which updates just those
elements in place. Only when the shape changed (a card, a row or a notice came or went) is
that element's `children` replaced, and only when the board's own shape changed is the
whole board sent again.
"""

from __future__ import annotations

import json
import math
from typing import Any

from plotly.utils import PlotlyJSONEncoder

Path = tuple[str | int, ...]
Change = tuple[str, dict[str, Any]]


class _Unusual(Exception):
    """A value plain() leaves to the JSON encoder."""


def plain(components: Any) -> Any:
    """Dash components as the JSON the browser holds: what Dash's encoder (plotly's
    PlotlyJSONEncoder) writes, read back. Walked directly, without the text in between: a
    notice for an area's 500 displays spent a fifth of its drawing time encoding and decoding
    (tests/test_patch.py checks the two agree); anything but components, dicts of text keys,
    lists, text, numbers, booleans and None goes the encoder's way."""
    try:
        return _plain(components)
    except _Unusual:
        return json.loads(json.dumps(components, cls=PlotlyJSONEncoder))


def _plain(x: Any) -> Any:
    kind = type(x)
    if kind is str or kind is int or kind is bool or x is None:
        return x
    if kind is float:
        return x if math.isfinite(x) else None  # the encoder's strict JSON: NaN, ±Infinity → null
    if kind is dict:
        if not all(type(k) is str for k in x):
            raise _Unusual
        return {k: _plain(v) for k, v in x.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in x]
    if hasattr(x, "to_plotly_json"):
        return _plain(x.to_plotly_json())
    raise _Unusual


def _is_component(node: Any) -> bool:
    return isinstance(node, dict) and "type" in node and "props" in node


def with_ids(node: Any, prefix: str = "b") -> Any:
    """The tree with every component without an id given one from its place in it. A copy of
    the components and lists: parts of a board are shared by displays (layouts/components.py
    CardMemo) and stand at other places in each."""
    if _is_component(node):
        props = dict(node["props"])
        props.setdefault("id", prefix)
        children = props.get("children")
        if isinstance(children, list):
            props["children"] = [with_ids(child, f"{prefix}.{i}") for i, child in enumerate(children)]
        elif _is_component(children):
            props["children"] = with_ids(children, f"{prefix}.0")
        return {**node, "props": props}
    if isinstance(node, list):
        return [with_ids(child, f"{prefix}.{i}") for i, child in enumerate(node)]
    return node


def _diff(old: Any, new: Any, path: Path) -> list[Path]:
    """The paths where `old` and `new` differ, as deep as they can go: a list whose length
    changed, or a component whose type changed, differs as a whole."""
    if type(old) is not type(new):
        return [path]
    if isinstance(new, dict):
        if _is_component(new) and (new["type"], new.get("namespace")) != (old["type"], old.get("namespace")):
            return [path]
        return [p for key in old.keys() | new.keys()
                for p in ([(*path, key)] if key not in old or key not in new
                          else _diff(old[key], new[key], (*path, key)) if old[key] != new[key] else [])]
    if isinstance(new, list):
        if len(old) != len(new):
            return [path]
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b for p in _diff(a, b, (*path, i))]
    return [] if old == new else [path]


def changes(old: Any, new: Any) -> list[Change] | None:
    """(id, {prop: new value}) for each element of the board `new` whose props differ from
    `old` (both with ids), or None when the board's own list changed shape."""
    out: dict[str, dict[str, Any]] = {}
    for path in _diff(old, new, ()):
        # the nearest component enclosing the change, and which of its props changed
        node: Any = new
        owner: dict[str, Any] | None = None
        prop: str | int | None = None
        for i, part in enumerate(path):
            if _is_component(node) and part == "props" and i + 1 < len(path):
                owner, prop = node, path[i + 1]
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int):
                node = node[part]
            else:
                break
        if owner is None or prop is None or prop == "id":
            return None
        out.setdefault(owner["props"]["id"], {})[str(prop)] = owner["props"].get(str(prop))
    return list(out.items())
