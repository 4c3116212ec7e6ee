"""A second, independent check of every proof, from the model's meaning alone.

The engines prove limits over the transition system of :mod:`checker.smt.system`. A bug
there (a wrong coercion, a transition order lost, a range rounded the wrong way) would
prove limits that do not hold. This module encodes ``LANGUAGE.md`` again, with its own
walker over the model's typed sympy expressions and its own transition relation, and
re-checks the *claim* an engine made: an inductive invariant, or an induction depth k
with optional lemmas. It shares only :mod:`checker.model` with the engines.

The meaning encoded: a configuration is a step (numbered in file order, from 0) and a
value for every state variable (an enum value is its index). A tick's inputs satisfy
their types and ranges (an int input with a real bound takes the integers within it) and
every assumption, read on the current state and those inputs. Of the current step's
outgoing transitions, tried in file order, the first whose ``when`` holds fires: its
``do`` is applied simultaneously (right sides read the state before the tick, an int
value stored in a real variable is coerced) and the step becomes its target. If none
holds, nothing changes. Limits read the configuration.

With instruments (``LANGUAGE-2.md``), the book is encoded here again, from the contract,
not from :mod:`checker.book`: the fills are admissible when each side's fill splits into
a part of at most the working quantity and a part of at most the pending one; they are
booked before the transition is chosen (guards, actions and ``do`` read the book after
the fills, and a stutter keeps it); the actions of the transition that fires then change
the book in order. Order checks hold when every order a tick sends satisfies them,
``positive_qty:LINE`` when every quantity the transitions at LINE place is positive, and
``final-step-orders`` when no final step holds working orders.

Claims are SMT-LIB2 terms over the names the certificate uses (:mod:`checker.certify`):
``pc.cur`` for the step and ``cur.NAME`` for a state variable. Obligations (each
checked for ``unsat`` of its negation, in a fresh :class:`z3.Context`, with a resource
limit so the answer does not depend on the machine, and a wall-clock guard):

- ``domain``: Init implies the type domain (step in range, enums in range), and one tick
  keeps it; the other obligations may then assume it;
- an invariant ``Inv``: ``initiation`` (Init implies Inv), ``consecution`` (Inv, the
  domain and a tick imply Inv afterwards), ``safety`` (Inv and the domain imply the
  limit);
- k-induction: ``lemmas-initiation`` and ``lemmas-consecution`` when there are lemmas
  (they must be an invariant themselves); ``base-J`` for J < k (no run of J ticks from
  Init breaks the limit at its end: inputs must be admissible on the J ticks taken, not
  in the last configuration, where no tick is taken); ``step`` (k+1 distinct
  configurations in the domain, with the lemmas, joined by k ticks, keeping the limit on
  the first k, do not break it on the last).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Protocol, TypeVar

import sympy
import z3

from checker.errors import InternalError
from checker.model import (
    FINAL_STEP_ORDERS,
    POSITIVE_QTY,
    SIDES,
    Model,
    Transition,
    Value,
    Variable,
    book_name,
    fill_pending_name,
    pending_name,
)
from checker.results import Verdict
from checker.smt.solvers import solver_for

RLIMIT = 40_000_000
"""z3's resource limit per obligation: deterministic, unlike a time-out."""

WALL_SECONDS = 120.0
"""The outer guard: seconds the whole check of one claim may take on the clock."""

STEP = "pc.cur"
"""The step of the current configuration in a claim's text."""


def current(name: str) -> str:
    """The name of state variable ``name`` of the current configuration in a claim."""
    return f"cur.{name}"


@dataclass(frozen=True)
class Invariant:
    """An inductive invariant that implies the limit, as an SMT-LIB2 term over
    ``pc.cur`` and ``cur.NAME``."""

    text: str

    def to_json(self) -> dict[str, object]:
        return {"kind": "invariant", "invariant": self.text}


@dataclass(frozen=True)
class Induction:
    """The limit is k-inductive, assuming ``lemmas`` (an SMT-LIB2 term over ``pc.cur``
    and ``cur.NAME`` that must itself be an inductive invariant) when there are any."""

    k: int
    lemmas: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"kind": "k-induction", "k": self.k, "lemmas": self.lemmas}


Claim = Invariant | Induction


def claim_from_json(data: object) -> Claim:
    """The claim stored in a certificate's manifest; ValueError when malformed."""
    if not isinstance(data, dict):
        raise ValueError("no claim (an invariant, or k and lemmas)")
    if data.get("kind") == "invariant" and isinstance(data.get("invariant"), str):
        return Invariant(data["invariant"])
    k, lemmas = data.get("k"), data.get("lemmas")
    if (
        data.get("kind") == "k-induction"
        and isinstance(k, int)
        and not isinstance(k, bool)
        and k >= 1
        and (lemmas is None or isinstance(lemmas, str))
    ):
        return Induction(k, lemmas)
    raise ValueError(f"malformed claim {data!r}")


@dataclass(frozen=True)
class Audit:
    """The answer: ``status`` is ``holds`` (every obligation unsat), ``fails`` (one is
    sat: the claim is false) or ``undecided`` (the solver answered unknown, ran out of
    resources or of time); ``obligation`` names the one that failed or was undecided.
    ``answers`` are z3's answers, in the order the obligations were checked."""

    status: str
    obligation: str = ""
    reason: str = ""
    answers: tuple[tuple[str, str], ...] = ()

    @property
    def holds(self) -> bool:
        return self.status == "holds"


# -- sympy -> z3, a walker of its own ------------------------------------------------------


def _as_real(term: z3.ExprRef) -> z3.ExprRef:
    return z3.ToReal(term) if z3.is_int(term) else term


def _same_sort(terms: list[z3.ExprRef]) -> list[z3.ExprRef]:
    """Int and real mixed: the ints become real (``int + real`` is real)."""
    return [_as_real(t) for t in terms] if any(z3.is_real(t) for t in terms) else terms


def _number(value: Fraction | int, ctx: z3.Context) -> z3.ExprRef:
    if isinstance(value, int):
        return z3.IntVal(value, ctx)
    return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)


class _Walker:
    """sympy -> z3 over ``env`` (a variable's name -> its z3 constant), dispatching on
    the node's class (``on_<Class>``), with a cache."""

    def __init__(self, env: Mapping[str, z3.ExprRef], ctx: z3.Context) -> None:
        self.env = env
        self.ctx = ctx
        self.memo: dict[sympy.Basic, z3.ExprRef] = {}

    def __call__(self, expr: sympy.Basic) -> z3.ExprRef:
        found = self.memo.get(expr)
        if found is not None:
            return found
        for cls in type(expr).__mro__:
            rule: Callable[[sympy.Basic], z3.ExprRef] | None = getattr(
                self, f"on_{cls.__name__}", None
            )
            if rule is not None:
                term = rule(expr)
                self.memo[expr] = term
                return term
        raise InternalError(f"the independent encoding has no rule for {type(expr).__name__}")

    def each(self, expr: sympy.Basic) -> list[z3.ExprRef]:
        return [self(a) for a in expr.args]

    def on_Symbol(self, expr: sympy.Symbol) -> z3.ExprRef:
        if expr.name not in self.env:
            raise InternalError(f"the independent encoding has no variable {expr.name}")
        return self.env[expr.name]

    def on_Integer(self, expr: sympy.Integer) -> z3.ExprRef:
        return z3.IntVal(int(expr), self.ctx)

    def on_Rational(self, expr: sympy.Rational) -> z3.ExprRef:
        return _number(Fraction(int(expr.p), int(expr.q)), self.ctx)

    def on_BooleanTrue(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.BoolVal(True, self.ctx)

    def on_BooleanFalse(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.BoolVal(False, self.ctx)

    def on_Add(self, expr: sympy.Basic) -> z3.ExprRef:
        terms = _same_sort(self.each(expr))
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def on_Mul(self, expr: sympy.Basic) -> z3.ExprRef:
        terms = _same_sort(self.each(expr))
        product = terms[0]
        for t in terms[1:]:
            product = product * t
        return product

    def on_Pow(self, expr: sympy.Pow) -> z3.ExprRef:
        if not (isinstance(expr.exp, sympy.Integer) and int(expr.exp) >= 1):
            raise InternalError(f"the independent encoding takes no power {expr}")
        base = self(expr.base)
        product = base
        for _ in range(int(expr.exp) - 1):
            product = product * base
        return product

    def on_Abs(self, expr: sympy.Basic) -> z3.ExprRef:
        x = self(expr.args[0])
        return z3.If(x < 0, -x, x)

    def _best(
        self, expr: sympy.Basic, better: Callable[[z3.ExprRef, z3.ExprRef], z3.ExprRef]
    ) -> z3.ExprRef:
        terms = _same_sort(self.each(expr))
        best = terms[0]
        for t in terms[1:]:
            best = z3.If(better(t, best), t, best)
        return best

    def on_Mod(self, expr: sympy.Basic) -> z3.ExprRef:
        value, divisor = self.each(expr)
        return value % divisor

    def on_Min(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._best(expr, lambda a, b: a < b)

    def on_Max(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._best(expr, lambda a, b: a > b)

    def on_Piecewise(self, expr: sympy.Basic) -> z3.ExprRef:
        pieces = [(self(p.cond), self(p.expr)) for p in expr.args]
        values = _same_sort([v for _, v in pieces])
        if not z3.is_true(pieces[-1][0]):
            raise InternalError(f"a choice without an else in the independent encoding: {expr}")
        term = values[-1]
        for (cond, _), value in zip(reversed(pieces[:-1]), reversed(values[:-1]), strict=True):
            term = z3.If(cond, value, term)
        return term

    def on_ITE(self, expr: sympy.Basic) -> z3.ExprRef:
        cond, yes, no = self.each(expr)
        return z3.If(cond, yes, no)

    def _compare(
        self, expr: sympy.Basic, op: Callable[[z3.ExprRef, z3.ExprRef], z3.ExprRef]
    ) -> z3.ExprRef:
        left, right = _same_sort(self.each(expr))
        return op(left, right)

    def on_Equality(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._compare(expr, lambda a, b: a == b)

    def on_Unequality(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._compare(expr, lambda a, b: z3.Not(a == b))

    def on_StrictLessThan(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._compare(expr, lambda a, b: a < b)

    def on_LessThan(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._compare(expr, lambda a, b: a <= b)

    def on_StrictGreaterThan(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._compare(expr, lambda a, b: b < a)

    def on_GreaterThan(self, expr: sympy.Basic) -> z3.ExprRef:
        return self._compare(expr, lambda a, b: b <= a)

    def on_And(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.And(*self.each(expr))

    def on_Or(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.Or(*self.each(expr))

    def on_Not(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.Not(self(expr.args[0]))

    def on_Implies(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self.each(expr)
        return z3.Or(z3.Not(a), b)

    def on_Equivalent(self, expr: sympy.Basic) -> z3.ExprRef:
        terms = self.each(expr)
        return z3.And(*(terms[0] == t for t in terms[1:]))

    def on_Xor(self, expr: sympy.Basic) -> z3.ExprRef:
        odd = z3.BoolVal(False, self.ctx)
        for t in self.each(expr):
            odd = z3.If(t, z3.Not(odd), odd)
        return odd


# -- the model's meaning --------------------------------------------------------------------


def _sort(kind: str, ctx: z3.Context) -> z3.SortRef:
    return {"real": z3.RealSort(ctx), "bool": z3.BoolSort(ctx)}.get(kind, z3.IntSort(ctx))


def _value(v: Variable, value: Value, ctx: z3.Context) -> z3.ExprRef:
    if v.type.kind == "bool":
        return z3.BoolVal(bool(value), ctx)
    if v.type.kind == "real":
        return _number(Fraction(value), ctx)
    return z3.IntVal(int(value), ctx)


@dataclass
class _Frame:
    step: z3.ExprRef
    state: dict[str, z3.ExprRef]
    inputs: dict[str, z3.ExprRef]


@dataclass
class Semantics:
    """The model's meaning over positions ``0, 1, ...`` of a run (constants ``pc.sJ``,
    ``sJ.NAME`` and ``inJ.NAME``), in a context of its own."""

    model: Model
    ctx: z3.Context = field(default_factory=z3.Context)
    frames: list[_Frame] = field(default_factory=list)

    def __post_init__(self) -> None:
        m = self.model
        self.number = {s: i for i, s in enumerate(m.steps)}
        self.template_step = z3.Int(STEP, self.ctx)
        self.template = {
            v.name: z3.Const(current(v.name), _sort(v.type.kind, self.ctx)) for v in m.state
        }

    def at(self, j: int) -> _Frame:
        while len(self.frames) <= j:
            n, ctx = len(self.frames), self.ctx
            self.frames.append(
                _Frame(
                    z3.Int(f"pc.s{n}", ctx),
                    {
                        v.name: z3.Const(f"s{n}.{v.name}", _sort(v.type.kind, ctx))
                        for v in self.model.state
                    },
                    {
                        v.name: z3.Const(f"in{n}.{v.name}", _sort(v.type.kind, ctx))
                        for v in self.model.inputs
                    },
                )
            )
        return self.frames[j]

    def walker(self, j: int) -> _Walker:
        f = self.at(j)
        return _Walker({**f.state, **f.inputs}, self.ctx)

    def init(self) -> z3.BoolRef:
        f = self.at(0)
        parts = [f.step == self.number[self.model.initial]]
        for v in self.model.state:
            if v.source == "param":  # a free param: any value in its range and region
                if v.low is not None:
                    parts.append(f.state[v.name] >= _value(v, v.low, self.ctx))
                if v.high is not None:
                    parts.append(f.state[v.name] <= _value(v, v.high, self.ctx))
                continue
            assert v.init is not None
            parts.append(f.state[v.name] == _value(v, v.init, self.ctx))
        if self.model.free:
            parts.append(self.walker(0)(self.model.region))
        return z3.And(*parts)

    def _memo(self, kind: str, key: object, j: int, make: Callable[[], z3.BoolRef]) -> z3.BoolRef:
        """One term per (kind, key, position): the obligations of several limits share
        the ticks and the claims they are built from."""
        memo: dict[tuple[str, object, int], z3.BoolRef] = self.__dict__.setdefault("memo", {})
        found = memo.get((kind, key, j))
        if found is None:
            found = memo[(kind, key, j)] = make()
        return found

    def domain(self, j: int) -> z3.BoolRef:
        f = self.at(j)
        parts = [f.step >= 0, f.step <= len(self.model.steps) - 1]
        for v in self.model.state:
            if v.type.kind == "enum":
                term = f.state[v.name]
                parts += [term >= 0, term <= len(v.type.values) - 1]
        return z3.And(*parts)

    def admissible(self, j: int) -> z3.BoolRef:
        """The inputs of the tick taken at position ``j`` are admissible there."""
        f, parts = self.at(j), []
        for v in self.model.inputs:
            term = f.inputs[v.name]
            if v.type.kind == "enum":
                parts += [term >= 0, term <= len(v.type.values) - 1]
            for bound, lower in ((v.low, True), (v.high, False)):
                if bound is None:
                    continue
                exact = Fraction(bound)
                if v.type.kind == "int":  # the integers within a real bound
                    edge = z3.IntVal(math.ceil(exact) if lower else math.floor(exact), self.ctx)
                else:
                    edge = _number(exact, self.ctx)
                parts.append(term >= edge if lower else term <= edge)
        walk = self.walker(j)
        parts += [walk(a.expr) for a in self.model.assumptions]
        parts += self._fills_possible(j)
        return z3.And(*parts) if parts else z3.BoolVal(True, self.ctx)

    # -- the book (version 2) -------------------------------------------------------------
    def _sides(self) -> list[tuple[str, str, str | None]]:
        """(instrument, side, its pending variable or None) for every side of a book."""
        names = {v.name for v in self.model.state}
        return [
            (
                i.name,
                side,
                pending_name(i.name, side) if pending_name(i.name, side) in names else None,
            )
            for i in self.model.instruments
            for side in SIDES
        ]

    def _fills_possible(self, j: int) -> list[z3.BoolRef]:
        f, parts = self.at(j), []
        zero = z3.IntVal(0, self.ctx)
        for instrument, side, pending in self._sides():
            fill = f.inputs[book_name(instrument, "bought" if side == "buy" else "sold")]
            can = f.state[book_name(instrument, f"open_{side}")]
            late = f.inputs[fill_pending_name(instrument, side)] if pending else zero
            waiting = f.state[pending] if pending else zero
            parts += [late >= 0, late <= waiting, fill - late >= 0, fill - late <= can - waiting]
        return parts

    def after_fills(self, j: int) -> dict[str, z3.ExprRef]:
        """The state at position ``j`` once the tick's fills are booked: the book moved,
        every other variable as it is."""
        f = self.at(j)
        values = dict(f.state)
        zero = z3.IntVal(0, self.ctx)
        for instrument, side, pending in self._sides():
            fill = f.inputs[book_name(instrument, "bought" if side == "buy" else "sold")]
            position = book_name(instrument, "position")
            values[position] = values[position] + (fill if side == "buy" else -fill)
            late = f.inputs[fill_pending_name(instrument, side)] if pending else zero
            waiting = f.state[pending] if pending else zero
            open_ = book_name(instrument, f"open_{side}")
            values[open_] = f.state[open_] - waiting - (fill - late)
            if pending:
                values[pending] = zero if z3.is_int(f.state[pending]) else z3.RealVal(0, self.ctx)
        if self.model.ticked:  # the clock and the sum windows, over the state before the tick
            walk = _Walker({**f.state, **f.inputs}, self.ctx)
            values.update({name: walk(expr) for name, expr in self.model.ticked.items()})
        return values

    def _sent(
        self, t: Transition, env: Mapping[str, z3.ExprRef], walk: _Walker
    ) -> dict[str, z3.ExprRef]:
        """The book after ``t``'s actions, from the book in ``env`` (after the fills)."""
        book = {n: env[n] for n in env if "." in n and n in {v.name for v in self.model.state}}
        for a in t.emit:
            side_arg = a.arg("side")
            for instrument, side, pending in self._sides():
                if a.instrument not in ("", instrument):
                    continue
                on = (
                    z3.BoolVal(True, self.ctx)
                    if side_arg is None
                    else walk(side_arg) == SIDES.index(side)
                )
                if z3.is_false(z3.simplify(on)):
                    continue  # a constant side, not this one (which may keep no pending)
                open_ = book_name(instrument, f"open_{side}")
                if a.name == "place":
                    qty_arg = a.arg("qty")
                    assert qty_arg is not None
                    qty = walk(qty_arg)
                    added = z3.If(z3.And(on, qty > 0), qty, 0 * qty)
                    book[open_] = book[open_] + added
                    if a.tif == "ioc":
                        assert pending is not None
                        book[pending] = book[pending] + added
                else:
                    assert pending is not None
                    book[pending] = z3.If(on, book[open_], book[pending])
        return book

    def fires(self, j: int) -> list[tuple[Transition, z3.BoolRef]]:
        """Each transition with the condition that it is the one that fires at ``j``."""
        here, walk = self.at(j), self._walk_after(j)
        found = []
        for step, number in self.number.items():
            earlier: list[z3.BoolRef] = []
            for t in self.model.outgoing(step):
                guard = (
                    z3.And(*(walk(c.expr) for c in t.when))
                    if t.when
                    else z3.BoolVal(True, self.ctx)
                )
                found.append((t, z3.And(here.step == number, guard, *(z3.Not(g) for g in earlier))))
                earlier.append(guard)
        return found

    def _walk_after(self, j: int) -> _Walker:
        return _Walker({**self.after_fills(j), **self.at(j).inputs}, self.ctx)

    def tick(self, j: int) -> z3.BoolRef:
        """Position ``j + 1`` follows from position ``j`` by one tick (inputs included)."""
        return self._memo("tick", None, j, lambda: self._tick(j))

    def _tick(self, j: int) -> z3.BoolRef:
        here, there = self.at(j), self.at(j + 1)
        after = self.after_fills(j)
        walk = self._walk_after(j)
        env = {**after, **here.inputs}
        stay = z3.And(there.step == here.step, *(there.state[n] == after[n] for n in here.state))
        cases = []
        for step, number in self.number.items():
            chosen: z3.BoolRef = stay
            for t in reversed(self.model.outgoing(step)):
                values = dict(t.do)
                book = self._sent(t, env, walk) if self.model.instruments else {}
                moved = [there.step == self.number[t.target]]
                for v in self.model.state:
                    if v.name in values:
                        new = walk(values[v.name])
                        if v.type.kind == "real":
                            new = _as_real(new)
                        moved.append(there.state[v.name] == new)
                    elif v.name in book:
                        new = book[v.name]
                        moved.append(
                            there.state[v.name] == (_as_real(new) if v.type.kind == "real" else new)
                        )
                    else:
                        moved.append(there.state[v.name] == after[v.name])
                guard = (
                    z3.And(*(walk(c.expr) for c in t.when))
                    if t.when
                    else z3.BoolVal(True, self.ctx)
                )
                chosen = z3.If(guard, z3.And(*moved), chosen)
            cases.append(z3.Implies(here.step == number, chosen))
        return z3.And(self.admissible(j), *cases)

    def limit(self, name: str, j: int) -> z3.BoolRef:
        """What is proved under ``name`` (a limit, an order check or a check of version
        2), read at position ``j``; for every admissible input when it reads a tick."""
        found = [lim for lim in self.model.limits if lim.name == name]
        if found:
            term = self.walker(j)(found[0].expr)
            inputs = {v.name for v in self.model.inputs}
            if any(str(s) in inputs for s in found[0].expr.free_symbols):
                term = z3.Implies(self.admissible(j), term)  # for every admissible input
            return term
        if name == FINAL_STEP_ORDERS and self.model.instruments:
            f = self.at(j)
            working = [
                f.state[book_name(i, f"open_{side}")] - (f.state[p] if p else 0)
                for i, side, p in self._sides()
            ]
            none = z3.And(*(w == 0 for w in working))
            return z3.And(*(z3.Implies(f.step == self.number[s], none) for s in self.model.final))
        checks = [c for c in self.model.orders if c.name == name]
        line = name.removeprefix(f"{POSITIVE_QTY}:")
        if not checks and not (self.model.instruments and line.isdigit() and line != name):
            raise InternalError(f"the model has no limit or check {name}")
        env = {**self.after_fills(j), **self.at(j).inputs}
        parts: list[z3.BoolRef] = []
        for t, fires in self.fires(j):
            places = [a for a in t.emit if a.name == "place"]
            for a in places:
                if not checks:
                    qty_arg = a.arg("qty")
                    if t.line == int(line) and qty_arg is not None:
                        parts.append(z3.Implies(fires, _Walker(env, self.ctx)(qty_arg) > 0))
                    continue
                order = dict(env)
                for key in ("side", "qty", "price"):
                    arg = a.arg(key)
                    if arg is not None:
                        order[f"@order.{key}"] = _Walker(env, self.ctx)(arg)
                names = [i.name for i in self.model.instruments]
                order["@order.instrument"] = z3.IntVal(
                    names.index(a.instrument) if a.instrument else 0, self.ctx
                )
                order["@order.tif"] = z3.IntVal(0 if a.tif == "gtc" else 1, self.ctx)
                if "price" not in {k for k, _ in a.args} and any(
                    s.name == "@order.price" for s in checks[0].expr.free_symbols
                ):
                    continue  # a check of the price holds for an order without one
                parts.append(z3.Implies(fires, _Walker(order, self.ctx)(checks[0].expr)))
        term = z3.And(*parts) if parts else z3.BoolVal(True, self.ctx)
        return z3.Implies(self.admissible(j), term)

    def claim(self, text: str, j: int) -> z3.BoolRef:
        """A claim's SMT-LIB2 term, read over the configuration at position ``j``."""
        return self._memo("claim", text, j, lambda: self._claim(text, j))

    def _claim(self, text: str, j: int) -> z3.BoolRef:
        _one_term(text)
        decls: dict[str, z3.FuncDeclRef] = {STEP: self.template_step.decl()}
        decls.update({current(n): c.decl() for n, c in self.template.items()})
        try:
            read = z3.parse_smt2_string(f"(assert {text}\n)", decls=decls, ctx=self.ctx)
        except z3.Z3Exception as exc:
            raise ValueError(f"the claim is not an SMT-LIB2 term over the state: {exc}") from None
        if len(read) != 1 or not z3.is_bool(read[0]):
            raise ValueError("the claim is not one boolean term")
        term = read[0]
        allowed = {STEP, *decls}
        for const in _constants(term):
            if const not in allowed:
                raise ValueError(f"the claim names '{const}', which is not a state variable")
        f = self.at(j)
        pairs = [(self.template_step, f.step)] + [(c, f.state[n]) for n, c in self.template.items()]
        return z3.substitute(term, *pairs)

    def holds_in(self, text: str, step: str, values: Mapping[str, Value]) -> bool:
        """Whether a claim's SMT-LIB2 term holds in the configuration (``step``,
        ``values``): every state variable replaced by its value, then simplified. A term
        that does not come out true (an unknown step, a value missing) does not hold."""
        if step not in self.number or any(v.name not in values for v in self.model.state):
            return False
        term = self._claim(text, 0)
        f = self.at(0)
        pairs = [(f.step, z3.IntVal(self.number[step], self.ctx))]
        for v in self.model.state:
            value = values[v.name]
            if v.type.kind == "enum" and isinstance(value, str):
                value = v.type.values.index(value)
            pairs.append((f.state[v.name], _value(v, value, self.ctx)))
        return bool(z3.is_true(z3.simplify(z3.substitute(term, *pairs))))

    def distinct(self, k: int) -> z3.BoolRef:
        """Positions ``0..k`` are pairwise different configurations."""
        parts = []
        for a in range(k + 1):
            for b in range(a + 1, k + 1):
                fa, fb = self.at(a), self.at(b)
                parts.append(
                    z3.Or(fa.step != fb.step, *(fa.state[n] != fb.state[n] for n in fa.state))
                )
        return z3.And(*parts) if parts else z3.BoolVal(True, self.ctx)


def _one_term(text: str) -> None:
    """Raise ValueError unless ``text`` is one SMT-LIB2 term and nothing else: no
    command may ride along (``(reset)``, ``(set-option ...)``), so no comment, string or
    quoted symbol either (the claims of seqprove have none)."""
    if any(c in text for c in ';"|'):
        raise ValueError("the claim has a comment, a string or a quoted symbol")
    depth, data = 0, 0
    for token in text.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            data += depth == 0
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("the claim is not one term (a parenthesis closes too early)")
        elif depth == 0:
            data += 1
    if depth != 0 or data != 1:
        raise ValueError("the claim is not one term")


def _constants(*terms: z3.ExprRef) -> dict[str, z3.ExprRef]:
    """The uninterpreted constants of ``terms``, by name."""
    seen: set[int] = set()
    found: dict[str, z3.ExprRef] = {}
    stack = list(terms)
    while stack:
        e = stack.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found[e.decl().name()] = e
        stack.extend(e.children())
    return found


# -- obligations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Obligation:
    """A query whose ``unsat`` is part of the proof: named parts and the goal over them."""

    name: str
    parts: tuple[tuple[str, z3.BoolRef], ...]

    @property
    def query(self) -> z3.BoolRef:
        return z3.And(*(f for _, f in self.parts))

    def smt2(self, header: str) -> str:
        """The stand-alone SMT-LIB2 text of the query (``unsat``: it holds)."""
        consts = _constants(*(f for _, f in self.parts))
        lines = [f"; {header}", "(set-logic ALL)"]
        lines += [f"(declare-const {n} {consts[n].sort().sexpr()})" for n in sorted(consts)]
        lines += [f"(define-fun {n} () Bool\n  {f.sexpr()})" for n, f in self.parts]
        lines += [f"(assert (and {' '.join(n for n, _ in self.parts)}))", "(check-sat)", ""]
        return "\n".join(lines)


@dataclass
class Session:
    """The independent check of one model's proofs, kept while that model is verified:
    one encoding, and the obligations of each claim that do not depend on the limit (the
    domain, and initiation and consecution of an invariant or of lemmas) once shown to
    hold, so that one invariant proving several limits is checked once. Nothing outlives
    the session: a verdict never depends on what was checked before it."""

    model: Model
    shown: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.semantics = Semantics(self.model)
        self.claims: dict[tuple[str, int | None, str], Claim | None] = {}

    def claim_of(
        self, invariant: z3.BoolRef | None, k: int | None, lemmas: z3.BoolRef | None
    ) -> Claim | None:
        """:func:`claim_of`, read once per claim (one invariant proves many limits)."""
        key = (
            "" if invariant is None else invariant.sexpr(),
            k,
            "" if lemmas is None else lemmas.sexpr(),
        )
        if key not in self.claims:
            self.claims[key] = claim_of(self.model, invariant, k, lemmas)
        return self.claims[key]


def obligations(
    model: Model, limit: str, claim: Claim, sem: Semantics | None = None
) -> tuple[Semantics, list[Obligation]]:
    """The obligations of ``claim`` for ``limit`` of ``model``, in the order they are
    checked, on ``sem`` (a new encoding by default). Raises ValueError when the claim's
    text cannot be read."""
    sem = Semantics(model) if sem is None else sem
    init = sem.init()
    found = [
        Obligation("domain-initiation", (("Init", init), ("NotDomain", z3.Not(sem.domain(0))))),
        Obligation(
            "domain-consecution",
            (
                ("Domain", sem.domain(0)),
                ("Tick", sem.tick(0)),
                ("NotDomainNext", z3.Not(sem.domain(1))),
            ),
        ),
    ]

    def invariant(prefix: str, text: str) -> list[Obligation]:
        now, after = sem.claim(text, 0), sem.claim(text, 1)
        return [
            Obligation(f"{prefix}initiation", (("Init", init), ("NotInv", z3.Not(now)))),
            Obligation(
                f"{prefix}consecution",
                (
                    ("Inv", now),
                    ("Domain", sem.domain(0)),
                    ("Tick", sem.tick(0)),
                    ("NotInvNext", z3.Not(after)),
                ),
            ),
        ]

    if isinstance(claim, Invariant):
        found += invariant("", claim.text)
        inv = sem.claim(claim.text, 0)
        found.append(
            Obligation(
                "safety",
                (
                    ("Inv", inv),
                    ("Domain", sem.domain(0)),
                    ("NotLimit", z3.Not(sem.limit(limit, 0))),
                ),
            )
        )
        return sem, found
    k = claim.k
    if claim.lemmas is not None:
        found += invariant("lemmas-", claim.lemmas)
    for depth in range(k):
        parts: list[tuple[str, z3.BoolRef]] = [("Init", init)]
        parts += [(f"Tick{j}", sem.tick(j)) for j in range(depth)]
        parts.append((f"NotLimit{depth}", z3.Not(sem.limit(limit, depth))))
        found.append(Obligation(f"base-{depth}", tuple(parts)))
    step: list[tuple[str, z3.BoolRef]] = []
    for j in range(k + 1):
        step.append((f"Domain{j}", sem.domain(j)))
        if claim.lemmas is not None:
            step.append((f"Lemmas{j}", sem.claim(claim.lemmas, j)))
    for j in range(k):
        step += [(f"Tick{j}", sem.tick(j)), (f"Limit{j}", sem.limit(limit, j))]
    step += [("Distinct", sem.distinct(k)), (f"NotLimit{k}", z3.Not(sem.limit(limit, k)))]
    found.append(Obligation("step", tuple(step)))
    return sem, found


@contextmanager
def _guard(ctx: z3.Context, seconds: float) -> Iterator[threading.Event]:
    """Interrupt z3 in ``ctx`` once ``seconds`` have passed on the clock."""
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        ctx.interrupt()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


_SHARED = ("domain-", "initiation", "consecution", "lemmas-")


def check(
    model: Model,
    limit: str,
    claim: Claim,
    rlimit: int = RLIMIT,
    wall_seconds: float = WALL_SECONDS,
    session: Session | None = None,
) -> Audit:
    """Check ``claim`` for ``limit`` of ``model`` in the independent encoding (that of
    ``session`` when one is given, skipping what it has already shown of the claim).

    Returns
    -------
    Audit
        ``holds`` when every obligation is unsat; ``fails`` naming the first obligation
        z3 finds satisfiable (the claim does not prove the limit), or a claim that cannot
        be read; ``undecided`` naming the first one z3 could not decide within ``rlimit``
        (per obligation) or ``wall_seconds`` (in all).
    """
    try:
        sem, obs = obligations(model, limit, claim, session.semantics if session else None)
    except ValueError as exc:
        return Audit("fails", "claim", str(exc))
    answers: list[tuple[str, str]] = []
    text = json.dumps(claim.to_json(), sort_keys=True)
    shown = session.shown.setdefault(text, set()) if session is not None else set()
    with _guard(sem.ctx, wall_seconds) as fired:
        for ob in obs:
            if ob.name in shown:
                answers.append((ob.name, "unsat"))  # shown for another limit
                continue
            solver = solver_for(sem.ctx, ob.query)
            solver.set("rlimit", rlimit)
            result = solver.check()
            if fired.is_set():
                # the guard interrupted the context during this question (its
                # assertions may not all have reached the solver): no answer stands
                result = z3.unknown
            answers.append((ob.name, str(result)))
            if result == z3.sat:
                return Audit(
                    "fails", ob.name, "a counterexample to the obligation exists", tuple(answers)
                )
            if result != z3.unsat:
                why = (
                    f"wall-clock guard ({wall_seconds:g} s) reached"
                    if fired.is_set()
                    else f"z3 answered unknown ({solver.reason_unknown()})"
                )
                return Audit("undecided", ob.name, why, tuple(answers))
            if ob.name.startswith(_SHARED):
                shown.add(ob.name)
    return Audit("holds", answers=tuple(answers))


def claim_of(
    model: Model,
    invariant: z3.BoolRef | None,
    k: int | None,
    lemmas: z3.BoolRef | None = None,
) -> Claim | None:
    """The claim an engine made, in the certificate's names; None when it made none.

    The engines' terms live in their own context, over constants named ``@step`` (the
    step) and after the state variables (:mod:`checker.smt.system`). Their SMT-LIB2
    text is read here with those names bound to ``pc.cur`` and ``cur.NAME``, so the
    claim is carried over by name, exactly, and no engine object is shared."""
    if invariant is not None:
        return Invariant(_rename(model, invariant))
    if k:
        return Induction(k, None if lemmas is None else _rename(model, lemmas))
    return None


ENGINE_STEP = "@step"
"""The name of the step constant in the engines' encoding."""


def _rename(model: Model, term: z3.BoolRef) -> str:
    ctx = z3.Context()
    decls = {ENGINE_STEP: z3.Int(STEP, ctx).decl()}
    for v in model.state:
        decls[v.name] = z3.Const(current(v.name), _sort(v.type.kind, ctx)).decl()
    try:
        read = z3.parse_smt2_string(f"(assert {term.sexpr()}\n)", decls=decls, ctx=ctx)
    except z3.Z3Exception as exc:
        raise InternalError(f"an engine's invariant names more than the state: {exc}") from None
    if len(read) != 1:
        raise InternalError("an engine's invariant did not read back as one term")
    text: str = read[0].sexpr()
    return text


class _Proof(Protocol):
    """What :func:`confirm` reads of an engine's outcome (``checker.engines.base``)."""

    @property
    def verdict(self) -> Verdict: ...
    @property
    def engine(self) -> str: ...
    @property
    def invariant(self) -> z3.BoolRef | None: ...
    @property
    def k(self) -> int | None: ...
    @property
    def lemmas(self) -> z3.BoolRef | None: ...


P = TypeVar("P", bound=_Proof)


def _unknown(outcome: P, reason: str) -> P:
    found: P = replace(  # type: ignore[type-var]
        outcome, verdict=Verdict.UNKNOWN, reason=reason, invariant=None, k=None, lemmas=None
    )
    return found


def confirm(model: Model, limit: str, outcome: P, session: Session | None = None) -> P:
    """``outcome`` when it is not a proof, or when its claim holds in the independent
    encoding (``session``'s, when given); an UNKNOWN outcome with the reason when the
    check is undecided.

    Raises
    ------
    InternalError
        When the independent encoding refutes the claim: the two encodings of the
        language disagree, a bug in seqprove, never a verdict.
    """
    if outcome.verdict is not Verdict.PROVED:
        return outcome
    claim = (
        session.claim_of(outcome.invariant, outcome.k, outcome.lemmas)
        if session is not None
        else claim_of(model, outcome.invariant, outcome.k, outcome.lemmas)
    )
    if claim is None:
        return _unknown(outcome, "the proof has no invariant or depth to re-check")
    audit = check(model, limit, claim, session=session)
    if audit.status == "fails":
        raise InternalError(
            f"limit '{limit}': {outcome.engine} proved it, but the independent encoding "
            f"refutes the proof ({audit.obligation}: {audit.reason})"
        )
    if audit.status == "undecided":
        return _unknown(
            outcome,
            f"the independent re-check of the proof is undecided ({audit.obligation}: "
            f"{audit.reason})",
        )
    return outcome
