"""A second, tiny implementation of the semantics, straight from the YAML text: no
``checker`` code at all (not the loader, not sympy, not the interpreter). Expressions
are parsed with Python's ``ast`` and evaluated over a safe subset (names, numbers as
exact fractions, ``+ - * /``, comparisons, ``and``/``or``/``not``, ``if``-``else``,
``abs``/``min``/``max``); nothing is ever evaluated as Python.

It covers what :mod:`tests.adversarial.models` generates: int inputs with literal
ranges, bool and enum inputs, int/bool/enum/real state.
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from ruamel.yaml import YAML

from tests.adversarial.oracle import Inputs, Key


class EnumValue(str):
    """An enum value: compares with ``==`` and ``!=`` only, by name."""


class _Expr:
    def __init__(self, text: Any) -> None:
        if isinstance(text, bool):
            text = "true" if text else "false"
        self.text = str(text)
        self.tree = ast.parse(self.text.strip(), mode="eval").body


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Any:
    return YAML(typ="safe").load(text)


class AstSemantics:
    def __init__(self, text: str) -> None:
        doc = _parsed(text)
        self.params: dict[str, Any] = {}
        for name, value in (doc.get("params") or {}).items():
            self.params[name] = _number(value["value"] if isinstance(value, dict) else value)
        self.enum_values: set[str] = set()
        self.state: dict[str, dict[str, Any]] = doc["state"]
        self.inputs: dict[str, dict[str, Any]] = doc.get("inputs") or {}
        for decl in (*self.state.values(), *self.inputs.values()):
            if decl["type"] == "enum":
                self.enum_values |= set(decl["values"])
        self.assume = [_Expr(e) for e in (doc.get("assume") or {}).values()]
        self.provers = {k: _Expr(e) for k, e in (doc.get("provers") or {}).items()}
        self.limits = {k: _Expr(e) for k, e in doc["limits"].items()}
        self.limit_names = tuple(self.limits)
        self.initial_step = doc["initial"]
        self.transitions: dict[str, list[tuple[str, list[_Expr], list[tuple[str, _Expr]]]]] = {}
        for t in doc["transitions"]:
            when = t.get("when")
            items = [] if when is None else when if isinstance(when, list) else [when]
            do = [(k, _Expr(v)) for k, v in (t.get("do") or {}).items()]
            self.transitions.setdefault(t["from"], []).append(
                (t["to"], [_Expr(w) for w in items], do)
            )

    # -- expressions ------------------------------------------------------------------

    def value(self, expr: _Expr, env: Mapping[str, Any]) -> Any:
        return self._eval(expr.tree, expr.text, env)

    def _eval(self, node: ast.expr, text: str, env: Mapping[str, Any]) -> Any:
        ev = self._eval
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError(f"unsupported constant {node.value!r}")
            segment = ast.get_source_segment(text.strip(), node)
            return Fraction(segment) if isinstance(node.value, float) else node.value
        if isinstance(node, ast.Name):
            name = node.id
            if name in ("true", "True"):
                return True
            if name in ("false", "False"):
                return False
            if name in env:
                return env[name]
            if name in self.params:
                return self.params[name]
            if name in self.provers:
                return self.value(self.provers[name], env)
            if name in self.enum_values:
                return EnumValue(name)
            raise ValueError(f"unknown name {name}")
        if isinstance(node, ast.UnaryOp):
            operand = ev(node.operand, text, env)
            if isinstance(node.op, ast.Not):
                return not operand
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return +operand
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left, text, env), ev(node.right, text, env)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return Fraction(a) / Fraction(b)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(bool(ev(v, text, env)) for v in node.values)
            return any(bool(ev(v, text, env)) for v in node.values)
        if isinstance(node, ast.Compare):
            left = ev(node.left, text, env)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = ev(right_node, text, env)
                if not _compare(op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            if ev(node.test, text, env):
                return ev(node.body, text, env)
            return ev(node.orelse, text, env)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            args = [ev(a, text, env) for a in node.args]
            if node.func.id == "abs" and len(args) == 1:
                return abs(args[0])
            if node.func.id == "min" and args:
                return min(args)
            if node.func.id == "max" and args:
                return max(args)
        raise ValueError(f"unsupported expression {ast.dump(node)}")

    # -- the semantics ----------------------------------------------------------------

    def initial(self) -> Key:
        values = []
        for name, decl in self.state.items():
            init = decl["init"]
            if decl["type"] == "enum":
                values.append((name, str(init)))
            else:
                value = self.value(_Expr(init), {})
                values.append((name, Fraction(value) if decl["type"] == "real" else value))
        return (self.initial_step, tuple(sorted(values)))

    def vectors(self) -> list[Inputs]:
        domains = []
        for decl in self.inputs.values():
            if decl["type"] == "bool":
                domains.append([False, True])
            elif decl["type"] == "enum":
                domains.append([str(v) for v in decl["values"]])
            else:
                lo, hi = (self.value(_Expr(b), {}) for b in decl["range"])
                domains.append(list(range(lo, hi + 1)))
        return [dict(zip(self.inputs, combo, strict=True)) for combo in itertools.product(*domains)]

    def _env(self, config: Key, inputs: Inputs) -> dict[str, Any]:
        env: dict[str, Any] = {}
        for name, value in (*config[1], *inputs.items()):
            env[name] = EnumValue(value) if isinstance(value, str) else value
        return env

    def admissible(self, config: Key, inputs: Inputs) -> bool:
        env = self._env(config, inputs)
        return all(self.value(a, env) is True for a in self.assume)

    def step(self, config: Key, inputs: Inputs) -> Key:
        env = self._env(config, inputs)
        for target, when, do in self.transitions.get(config[0], []):
            if all(self.value(w, env) is True for w in when):
                new = dict(config[1])
                for name, expr in do:  # every right side on the state before
                    value = self.value(expr, env)
                    kind = self.state[name]["type"]
                    if kind == "real":
                        value = Fraction(value)
                    elif kind == "int":
                        assert (
                            isinstance(value, int | Fraction) and Fraction(value).denominator == 1
                        )
                        value = int(value)
                    elif kind == "enum":
                        value = str(value)
                    new[name] = value
                return (target, tuple(sorted(new.items())))
        return config

    def broken(self, config: Key) -> list[str]:
        env = self._env(config, {})
        return [name for name, e in self.limits.items() if self.value(e, env) is not True]

    def key(self, config: Key) -> Key:
        return config

    def shown_inputs(self, inputs: Inputs) -> dict[str, Any]:
        return dict(inputs)


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool:
    if isinstance(op, ast.Eq):
        return bool(a == b)
    if isinstance(op, ast.NotEq):
        return bool(a != b)
    if isinstance(a, str) or isinstance(b, str):
        raise ValueError("an enum value compares only with == and !=")
    if isinstance(op, ast.Lt):
        return bool(a < b)
    if isinstance(op, ast.LtE):
        return bool(a <= b)
    if isinstance(op, ast.Gt):
        return bool(a > b)
    if isinstance(op, ast.GtE):
        return bool(a >= b)
    raise ValueError(f"unsupported comparison {ast.dump(op)}")


def _number(value: Any) -> int | Fraction:
    if isinstance(value, bool):
        raise ValueError("a param is a number")
    if isinstance(value, int):
        return value
    return Fraction(str(value))
