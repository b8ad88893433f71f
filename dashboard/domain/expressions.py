"""Derived metrics: a small arithmetic language over other metrics' values, read by Python's
own parser and evaluated by walking the parsed tree (never `eval`).

What it accepts: numbers, metric ids (`ward.beds_in_use`), `+ - * /`, unary minus, brackets,
and the functions `min`, `max`, `abs` and `round` (one to three arguments). Anything else — a
call of any other name, an attribute of something that is not a metric id, a subscript, a
comparison, a string — is refused with the place and what was found, when the configuration
is read. Evaluation is a value or None: None when an input is missing or not a number, or
when a division has zero below it (a ward with no beds has no occupancy, not an error).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {"min": min, "max": max, "abs": abs, "round": round}


class ExpressionError(ValueError):
    """What is wrong with an expression, and where (column, from 1)."""


@dataclass(frozen=True)
class Expression:
    text: str
    tree: ast.expr
    names: tuple[str, ...]  # the metric ids it reads, in order of first use

    def evaluate(self, values: Mapping[str, float | None]) -> float | None:
        try:
            result = _value(self.tree, values)
        except (ZeroDivisionError, OverflowError):
            return None
        if result is None or not math.isfinite(result):
            return None
        return result


def _dotted(node: ast.expr) -> str | None:
    """`ward.beds_in_use` as the id it spells, or None when it is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def parse(text: str) -> Expression:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ExpressionError(f"not an arithmetic expression at column {e.offset or 1}: {text!r}") from None
    names: list[str] = []

    def check(node: ast.expr) -> None:
        where = f"column {getattr(node, 'col_offset', 0) + 1}"
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ExpressionError(f"{where}: only numbers may stand alone, not {node.value!r}")
        elif isinstance(node, ast.Name | ast.Attribute):
            name = _dotted(node)
            if name is None:
                raise ExpressionError(f"{where}: {ast.unparse(node)!r} is not a metric id")
            if name not in names:
                names.append(name)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise ExpressionError(f"{where}: only + - * / are allowed, not {ast.unparse(node)!r}")
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise ExpressionError(f"{where}: only a minus sign may stand before a value")
            check(node.operand)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords \
                    or not 1 <= len(node.args) <= 3:
                raise ExpressionError(f"{where}: {ast.unparse(node.func)!r} is not one of "
                                      f"{', '.join(_FUNCTIONS)} (with one to three values)")
            for a in node.args:
                check(a)
        else:
            raise ExpressionError(f"{where}: {ast.unparse(node)!r} is not allowed "
                                  "(numbers, metric ids, + - * /, brackets, min, max, abs, round)")

    check(tree)
    return Expression(text.strip(), tree, tuple(names))


def _value(node: ast.expr, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # parse() let no other constant through
        return float(node.value)
    if isinstance(node, ast.Name | ast.Attribute):
        v = values.get(_dotted(node) or "")
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    if isinstance(node, ast.UnaryOp):
        x = _value(node.operand, values)
        return None if x is None else (-x if isinstance(node.op, ast.USub) else x)
    if isinstance(node, ast.BinOp):
        a, b = _value(node.left, values), _value(node.right, values)
        return None if a is None or b is None else _BINARY[type(node.op)](a, b)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_value(a, values) for a in node.args]
        if any(a is None for a in args):
            return None
        if node.func.id == "round" and len(args) == 2:
            return float(round(args[0], int(args[1])))  # type: ignore[arg-type]
        return float(_FUNCTIONS[node.func.id](*args))
    raise ExpressionError(f"not allowed: {ast.dump(node)}")  # parse() refused it already


def order(defined: Mapping[str, Expression]) -> list[str]:
    """The derived metrics in an order where each comes after the derived ones it reads;
    ExpressionError naming the circle when there is one (`a` reads `b` reads `a`)."""
    done: list[str] = []
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        if state.get(m) == 2:
            return
        if state.get(m) == 1:
            circle = path[path.index(m):] + [m]
            raise ExpressionError("refers to itself: " + " → ".join(circle))
        state[m] = 1
        for n in defined[m].names:
            if n in defined:
                visit(n, path + [m])
        state[m] = 2
        done.append(m)

    for m in defined:
        visit(m, [])
    return done

