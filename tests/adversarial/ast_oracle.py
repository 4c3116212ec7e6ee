"""A second, tiny implementation of the semantics, straight from the YAML text: no
``checker`` code at all (not the loader, not sympy, not the interpreter, not the book).
Expressions are parsed with Python's ``ast`` and evaluated over a safe subset (names,
``I.NAME`` of an instrument, numbers as exact fractions, strings as enum-like values,
``+ - * /``, comparisons, ``and``/``or``/``not``, ``if``-``else``,
``abs``/``min``/``max``); nothing is ever evaluated as Python.

It covers what :mod:`tests.adversarial.models` and :mod:`tests.adversarial.models_v2`
generate: int inputs with literal ranges, bool and enum inputs, int/bool/enum/real
state, and (language version 2, read from ``LANGUAGE-2.md`` alone) instruments with the
book the checker keeps.

The book, as the contract says it. Each side of each instrument holds a working
quantity ``W`` and a pending one ``P`` (``I.open_buy = W + P``). A tick:

1. the market chooses the declared inputs and, per side, a fill ``fw + fp`` with
   ``0 <= fw <= W`` and ``0 <= fp <= P`` (whole units on an ``int`` instrument); every
   assumption holds on the configuration before the fills and those inputs;
2. the fills are booked: the position moves by ``bought - sold``, ``W -= fw``, ``P := 0``;
3. the first enabled transition of the step (file order) is chosen on the configuration
   after step 2 and the inputs;
4. its actions change the book in order: a ``gtc`` place adds ``qty`` to ``W``, an
   ``ioc`` place (or a market order, one without ``price``) adds it to ``P``, a cancel
   moves its side's ``W`` to ``P``; a place whose ``qty`` is not positive adds nothing;
5. ``do`` applies (every right side read after step 2, before step 4);
6. limits, and ``final-step-orders`` (no ``W > 0`` in a final step), read the result.

Every ``place`` of the transition that fires is an order sent: each order check must
hold on it (read on the configuration after step 2, the inputs and the order's
``instrument``, ``side``, ``qty``, ``price``, ``tif``), vacuously when the check reads
``price`` and the order has none; ``positive_qty:LINE`` is broken by a tick whose
transition, written at LINE, places a ``qty <= 0``.

A configuration, as :meth:`AstSemantics.key` shows it, is the step and the declared
state plus, per instrument, ``I.position``, ``I.open_buy``/``I.open_sell`` (W + P) and
``I.pending_buy``/``I.pending_sell`` (P). The inputs of a tick are the declared inputs,
``I.bought``/``I.sold`` and the part of each fill on pending orders,
``I.bought_pending``/``I.sold_pending``.
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ruamel.yaml import YAML

Key = tuple[str, tuple[tuple[str, Any], ...]]
"""A configuration: the step and (name, value) pairs sorted by name (as
:data:`tests.adversarial.oracle.Key`, said again so that this module imports nothing
of the checker's)."""

Inputs = Mapping[str, Any]

SIDES = ("buy", "sell")
FILL = {"buy": "bought", "sell": "sold"}

REAL_GRID = Fraction(1, 2)
"""The fills of a ``real`` instrument the exhaustive search enumerates: multiples of this
(the generator keeps every real quantity on it). A run off the grid is still replayed
exactly."""


class EnumValue(str):
    """An enum value (or a string of an action or order: a side, a tif, an instrument):
    compares with ``==`` and ``!=`` only, by name."""


class _Expr:
    def __init__(self, text: Any) -> None:
        if isinstance(text, bool):
            text = "true" if text else "false"
        self.text = str(text).strip()
        self.tree = ast.parse(self.text, mode="eval").body
        self.names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}


@dataclass(frozen=True)
class _Action:
    name: str  # place, cancel, cancel_all
    instrument: str  # empty: every instrument (a cancel_all without instrument=)
    args: tuple[tuple[str, _Expr], ...]  # side, qty, price as given
    tif: str  # for a place: gtc or ioc (a market order is ioc)

    def arg(self, key: str) -> _Expr | None:
        for k, v in self.args:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class _Transition:
    target: str
    when: tuple[_Expr, ...]
    emit: tuple[_Action, ...]
    do: tuple[tuple[str, _Expr], ...]
    line: int  # 1-based line of the transition's item in the file


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Any:
    return YAML(typ="safe").load(text)


def _transition_lines(text: str) -> list[int]:
    """The 1-based line of each item of ``transitions``, from a round-trip YAML read."""
    doc = YAML(typ="rt").load(text)
    items = doc["transitions"]
    return [items.lc.item(k)[0] + 1 for k in range(len(items))]


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
        self.instruments: dict[str, dict[str, Any]] = {
            name: dict(spec or {}) for name, spec in (doc.get("instruments") or {}).items()
        }
        self.assume = [_Expr(e) for e in (doc.get("assume") or {}).values()]
        self.provers = {k: _Expr(e) for k, e in (doc.get("provers") or {}).items()}
        self.limits = {k: _Expr(e) for k, e in doc["limits"].items()}
        self.orders = {k: _Expr(e) for k, e in (doc.get("orders") or {}).items()}
        self.initial_step = doc["initial"]
        self.final = tuple(doc.get("final") or ())
        lines = _transition_lines(text)
        self.transitions: dict[str, list[_Transition]] = {}
        self.place_lines: list[int] = []
        for t, line in zip(doc["transitions"], lines, strict=True):
            when = t.get("when")
            items = [] if when is None else when if isinstance(when, list) else [when]
            do = tuple((k, _Expr(v)) for k, v in (t.get("do") or {}).items())
            emit = tuple(self._action(a) for a in (t.get("emit") or []))
            places = self.instruments and any(a.name == "place" for a in emit)
            if places and line not in self.place_lines:
                self.place_lines.append(line)
            self.transitions.setdefault(t["from"], []).append(
                _Transition(t["to"], tuple(_Expr(w) for w in items), emit, do, line)
            )
        # what is decided, in the order the contract lists it: the limits, the order
        # checks, positive_qty per line of a placing transition, final-step-orders
        names = [*self.limits, *self.orders]
        names += [f"positive_qty:{line}" for line in self.place_lines]
        if self.instruments and self.final:
            names.append("final-step-orders")
        self.limit_names = tuple(names)
        self.tick_names = frozenset(
            [*self.orders, *(f"positive_qty:{line}" for line in self.place_lines)]
        )

    # -- the file's actions -----------------------------------------------------------

    def _action(self, text: str) -> _Action:
        node = ast.parse(str(text).strip(), mode="eval").body
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name), text
        assert not node.args, text
        name = node.func.id
        args: list[tuple[str, _Expr]] = []
        instrument = ""
        tif = ""
        source = str(text).strip()
        for kw in node.keywords:
            assert kw.arg is not None
            segment = ast.get_source_segment(source, kw.value)
            assert segment is not None
            if kw.arg == "instrument":
                instrument = (
                    kw.value.id if isinstance(kw.value, ast.Name) else str(kw.value.value)  # type: ignore[attr-defined]
                )
            elif kw.arg == "tif":
                assert isinstance(kw.value, ast.Constant)
                tif = str(kw.value.value)
            else:
                args.append((kw.arg, _Expr(segment)))
        if not instrument and len(self.instruments) == 1 and name != "cancel_all":
            instrument = next(iter(self.instruments))
        if name == "cancel_all" and not instrument and len(self.instruments) == 1:
            instrument = next(iter(self.instruments))
        if name == "place":
            has_price = any(k == "price" for k, _ in args)
            tif = (tif or "gtc") if has_price else "ioc"  # a market order never rests
        return _Action(name, instrument, tuple(args), tif)

    # -- expressions ------------------------------------------------------------------

    def value(self, expr: _Expr, env: Mapping[str, Any]) -> Any:
        return self._eval(expr.tree, expr.text, env)

    def _eval(self, node: ast.expr, text: str, env: Mapping[str, Any]) -> Any:
        ev = self._eval
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return EnumValue(node.value)
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError(f"unsupported constant {node.value!r}")
            if isinstance(node.value, float):
                return _decimal(text, node)
            return node.value
        if isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name) or node.value.id not in self.instruments:
                raise ValueError(f"unsupported attribute {ast.dump(node)}")
            name = f"{node.value.id}.{node.attr}"
            if name not in env:
                raise ValueError(f"{name} is not readable here")
            return env[name]
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
            if name in self.enum_values or name in self.instruments:
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

    # -- the book ---------------------------------------------------------------------

    def _book(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """What expressions read of the book: position and open quantities (W + P)."""
        found: dict[str, Any] = {}
        for i in self.instruments:
            found[f"{i}.position"] = values[f"{i}.position"]
            for side in SIDES:
                found[f"{i}.open_{side}"] = values[f"{i}.W_{side}"] + values[f"{i}.P_{side}"]
        return found

    def _real(self, instrument: str) -> bool:
        return self.instruments[instrument].get("qty") == "real"

    def fill_choices(self, config: Key) -> list[dict[str, Any]]:
        """Every fill the market can choose on ``config``'s book: per side, a part on
        the working quantity and a part on the pending one (on the grid for a real
        instrument)."""
        values = dict(config[1])
        per_side: list[list[tuple[tuple[str, Any], ...]]] = []
        for i in self.instruments:
            unit = REAL_GRID if self._real(i) else 1
            for side in SIDES:
                working, pending = values[f"{i}.W_{side}"], values[f"{i}.P_{side}"]
                choices = []
                for fp in _grid(pending, unit):
                    for fw in _grid(working, unit):
                        choices.append(
                            ((f"{i}.{FILL[side]}", fw + fp), (f"{i}.{FILL[side]}_pending", fp))
                        )
                per_side.append(choices)
        return [
            dict(pair for side in combo for pair in side) for combo in itertools.product(*per_side)
        ]

    # -- the semantics ----------------------------------------------------------------

    def initial(self) -> Key:
        values: list[tuple[str, Any]] = []
        for name, decl in self.state.items():
            init = decl["init"]
            if decl["type"] == "enum":
                values.append((name, str(init)))
            else:
                value = self.value(_Expr(init), {})
                values.append((name, Fraction(value) if decl["type"] == "real" else value))
        for i, spec in self.instruments.items():
            position = self.value(_Expr(spec.get("position", 0)), {})
            values.append((f"{i}.position", Fraction(position) if self._real(i) else position))
            for side in SIDES:
                values += [(f"{i}.W_{side}", 0), (f"{i}.P_{side}", 0)]
        return (self.initial_step, tuple(sorted(values)))

    @functools.cached_property
    def _declared_vectors(self) -> list[dict[str, Any]]:
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

    def vectors(self, config: Key | None = None) -> list[Inputs]:
        """Every input vector of a tick from ``config``: the declared inputs (finite
        domains) and, with instruments, every fill the book allows there."""
        declared = self._declared_vectors
        if not self.instruments:
            return list(declared)
        assert config is not None
        fills = self.fill_choices(config)
        return [{**d, **f} for d in declared for f in fills]

    def _env(self, values: Mapping[str, Any], inputs: Inputs) -> dict[str, Any]:
        env: dict[str, Any] = {}
        plain = {k: v for k, v in values.items() if "." not in k}
        for name, value in (*plain.items(), *self._book(values).items(), *inputs.items()):
            env[name] = EnumValue(value) if isinstance(value, str) else value
        return env

    def fills_fit(self, config: Key, inputs: Inputs) -> bool:
        values = dict(config[1])
        for i in self.instruments:
            for side in SIDES:
                fill = inputs[f"{i}.{FILL[side]}"]
                late = inputs.get(f"{i}.{FILL[side]}_pending", 0)
                if not self._real(i) and (Fraction(fill).denominator != 1):
                    return False
                if not (0 <= late <= values[f"{i}.P_{side}"]):
                    return False
                if not (0 <= fill - late <= values[f"{i}.W_{side}"]):
                    return False
        return True

    def admissible(self, config: Key, inputs: Inputs) -> bool:
        if self.instruments and not self.fills_fit(config, inputs):
            return False
        env = self._env(dict(config[1]), inputs)
        return all(self.value(a, env) is True for a in self.assume)

    def _booked(self, config: Key, inputs: Inputs) -> dict[str, Any]:
        """Step 2: the configuration's values with the tick's fills booked."""
        values = dict(config[1])
        for i in self.instruments:
            for side in SIDES:
                fill = inputs[f"{i}.{FILL[side]}"]
                late = inputs.get(f"{i}.{FILL[side]}_pending", 0)
                values[f"{i}.position"] += fill if side == "buy" else -fill
                values[f"{i}.W_{side}"] -= fill - late
                values[f"{i}.P_{side}"] = 0
        return values

    def transition(self, config: Key, inputs: Inputs) -> tuple[Key, list[str]]:
        """One tick: the configuration after it, and the properties of a tick (order
        checks, positive_qty) the orders it sends break."""
        values = self._booked(config, inputs)
        env = self._env(values, inputs)
        for t in self.transitions.get(config[0], []):
            if not all(self.value(w, env) is True for w in t.when):
                continue
            broken = self._orders(t, env)
            new = dict(values)
            for a in t.emit:  # step 4: the actions change the book, in order
                self._apply(a, env, new)
            for name, expr in t.do:  # step 5: simultaneous, read after the fills
                value = self.value(expr, env)
                kind = self.state[name]["type"]
                if kind == "real":
                    value = Fraction(value)
                elif kind == "int":
                    assert isinstance(value, int | Fraction) and Fraction(value).denominator == 1
                    value = int(value)
                elif kind == "enum":
                    value = str(value)
                new[name] = value
            return (t.target, tuple(sorted(new.items()))), broken
        return (config[0], tuple(sorted(values.items()))), []

    def sent(self, config: Key, inputs: Inputs) -> list[dict[str, Any]]:
        """The actions the tick from ``config`` on ``inputs`` sends, evaluated: name,
        instrument (empty for every one), side (None for a cancel_all), qty, price (None
        when not given) and tif of a place."""
        values = self._booked(config, inputs)
        env = self._env(values, inputs)
        for t in self.transitions.get(config[0], []):
            if all(self.value(w, env) is True for w in t.when):
                found = []
                for a in t.emit:
                    side, qty, price = (a.arg(k) for k in ("side", "qty", "price"))
                    found.append(
                        {
                            "action": a.name,
                            "instrument": a.instrument,
                            "side": None if side is None else str(self.value(side, env)),
                            "qty": None if qty is None else self.value(qty, env),
                            "price": None if price is None else self.value(price, env),
                            "tif": a.tif if a.name == "place" else None,
                        }
                    )
                return found
        return []

    def _apply(self, a: _Action, env: Mapping[str, Any], book: dict[str, Any]) -> None:
        side_expr = a.arg("side")
        side = str(self.value(side_expr, env)) if side_expr is not None else None
        for i in self.instruments:
            if a.instrument not in ("", i):
                continue
            for s in SIDES:
                if side is not None and s != side:
                    continue
                if a.name == "place":
                    qty_expr = a.arg("qty")
                    assert qty_expr is not None
                    qty = self.value(qty_expr, env)
                    if qty > 0:
                        book[f"{i}.{'W' if a.tif == 'gtc' else 'P'}_{s}"] += qty
                else:  # cancel, cancel_all: the working quantity becomes pending
                    book[f"{i}.P_{s}"] += book[f"{i}.W_{s}"]
                    book[f"{i}.W_{s}"] = 0

    def _orders(self, t: _Transition, env: Mapping[str, Any]) -> list[str]:
        broken: list[str] = []
        places = [a for a in t.emit if a.name == "place"]
        sent = []
        for a in places:
            side_expr, qty_expr, price_expr = a.arg("side"), a.arg("qty"), a.arg("price")
            assert side_expr is not None and qty_expr is not None
            order = {
                "instrument": EnumValue(a.instrument),
                "side": EnumValue(str(self.value(side_expr, env))),
                "qty": self.value(qty_expr, env),
                "tif": EnumValue(a.tif),
            }
            if price_expr is not None:
                order["price"] = self.value(price_expr, env)
            sent.append(order)
        for name, check in self.orders.items():
            for order in sent:
                if "price" in check.names and "price" not in order:
                    continue  # a check of the price holds for an order without one
                if self.value(check, {**env, **order}) is not True:
                    broken.append(name)
                    break
        if any(order["qty"] <= 0 for order in sent):
            broken.append(f"positive_qty:{t.line}")
        return broken

    def step(self, config: Key, inputs: Inputs) -> Key:
        return self.transition(config, inputs)[0]

    def broken(self, config: Key) -> list[str]:
        """The properties of a configuration it breaks: limits, final-step-orders."""
        values = dict(config[1])
        env = self._env(values, {})
        found = [name for name, e in self.limits.items() if self.value(e, env) is not True]
        working = any(values[f"{i}.W_{s}"] > 0 for i in self.instruments for s in SIDES)
        if config[0] in self.final and working:
            found.append("final-step-orders")
        return found

    def key(self, config: Key) -> Key:
        """The configuration as both oracles show it (the book as open and pending)."""
        if not self.instruments:
            return config
        values = dict(config[1])
        shown = {k: v for k, v in values.items() if ".W_" not in k and ".P_" not in k}
        for i in self.instruments:
            for side in SIDES:
                w, p = values[f"{i}.W_{side}"], values[f"{i}.P_{side}"]
                shown[f"{i}.open_{side}"] = w + p
                shown[f"{i}.pending_{side}"] = p
        return (config[0], tuple(sorted(shown.items())))

    def from_key(self, key: Key) -> Key:
        """The configuration a shown one stands for (the inverse of :meth:`key`)."""
        if not self.instruments:
            return key
        values = dict(key[1])
        inner = {k: v for k, v in values.items() if ".open_" not in k and ".pending_" not in k}
        for i in self.instruments:
            for side in SIDES:
                p = values.get(f"{i}.pending_{side}", 0)
                inner[f"{i}.P_{side}"] = p
                inner[f"{i}.W_{side}"] = values[f"{i}.open_{side}"] - p
        return (key[0], tuple(sorted(inner.items())))

    def shown_inputs(self, inputs: Inputs) -> dict[str, Any]:
        return dict(inputs)


def _grid(high: Any, unit: Any) -> list[Any]:
    """``0, unit, 2 * unit, ...`` up to ``high``."""
    count = int(Fraction(high) / unit)
    return [unit * k if unit != 1 else k for k in range(count + 1)]


def _decimal(text: str, node: ast.Constant) -> Fraction:
    segment = ast.get_source_segment(text, node)
    assert segment is not None
    return Fraction(segment)


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
