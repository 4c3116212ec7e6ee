"""Drawing one tick's admissible inputs: for property tests (with Hypothesis, which shrinks)
and for the seeded random walks of `verify`.

Assumptions read the state, so inputs are drawn tick by tick, in declaration order, on
the configuration the interpreter reached. Each input is drawn from the interval its
range and the assumptions leave it once the state and the inputs drawn before it are
known: every conjunct of an assumption that is linear in the input and reads no input
drawn after it gives a bound (``bid < ask`` bounds ``ask`` by the ``bid`` just drawn,
``bought <= open_bid`` bounds ``bought`` by the state). A bool or enum input is drawn
among the values that keep every such conjunct true. Nothing is drawn and thrown away
in the common case, and every value shrinks towards the low end of its interval.

When that is not enough (a disjunction, a product of inputs, a bound that a later input
cannot meet), the tick is drawn again through z3: each input is drawn in turn, kept if
the assumptions can still be met with it, and otherwise replaced by a value z3 shows
can. So a tick is only ever given up when no admissible inputs exist at all (or z3
cannot tell), and the run then ends there.

With instruments, the book's fills are drawn the same way: what can fill on each side
(:meth:`checker.book.Book.constraints`) bounds them like an assumption.

The choices themselves come from a :class:`Picker`: Hypothesis's ``draw`` for property
tests (:class:`HypothesisPicker`, which shrinks), or a seeded ``random.Random`` for the
walks of ``verify`` (:class:`RandomPicker`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import sympy
import z3

from checker.book import Book
from checker.errors import InternalError
from checker.interpret import Config, Fn, Interpreter, compile_expression
from checker.model import Model, Value, Variable
from checker.smt.system import TransitionSystem, read_value, value_term

Draw = Callable[[Any], Any]
"""The ``draw`` of a ``@st.composite`` strategy or of ``st.data()``."""

REAL_DENOMINATOR = 100
"""Reals are drawn on a grid of ``1 / REAL_DENOMINATOR`` (cents of a price), finer when a
bound is finer or the interval narrower."""


class Picker(Protocol):
    """Where the choices of a drawn tick come from."""

    def integer(self, name: str, low: int | None, high: int | None) -> int:
        """An integer between ``low`` and ``high`` (either may be unbounded), for the
        input ``name``."""

    def choice(self, name: str, values: Sequence[Value]) -> Value:
        """One of ``values`` (not empty), for the input ``name``."""


class HypothesisPicker:
    """Choices drawn by Hypothesis: integers shrink towards zero, or the end nearest."""

    def __init__(self, draw: Draw) -> None:
        from hypothesis import strategies  # only property tests need Hypothesis

        self.draw = draw
        self.st = strategies

    def integer(self, name: str, low: int | None, high: int | None) -> int:
        value: int = self.draw(self.st.integers(low, high))
        return value

    def choice(self, name: str, values: Sequence[Value]) -> Value:
        value: Value = self.draw(self.st.sampled_from(list(values)))
        return value


class RandomPicker:
    """Seeded choices, each input leaning as ``biases`` says: ``low`` (its low end),
    ``high`` (its high end) or ``any``. An unbounded end is taken :data:`SPAN` away from
    the other one (or from zero)."""

    SPAN = 1000

    def __init__(self, rng: random.Random, biases: Mapping[str, str] | None = None) -> None:
        self.rng = rng
        self.biases = biases or {}

    def integer(self, name: str, low: int | None, high: int | None) -> int:
        if low is None and high is None:
            low, high = -self.SPAN, self.SPAN
        elif low is None:
            assert high is not None
            low = high - 2 * self.SPAN
        elif high is None:
            high = low + 2 * self.SPAN
        bias = self.biases.get(name, "any")
        if bias == "low":
            return low
        if bias == "high":
            return high
        return self.rng.randint(low, high)

    def choice(self, name: str, values: Sequence[Value]) -> Value:
        bias = self.biases.get(name, "any")
        if bias == "low":
            return values[0]
        if bias == "high":
            return values[-1]
        return self.rng.choice(list(values))


Choose = Callable[[Picker, str], Value]
"""A value from an interval, once a picker is known."""


@dataclass(frozen=True)
class _Bound:
    """``coeff * x + rest(env) OP 0`` for one input ``x``; OP is one of < <= == != >= >."""

    coeff: Fraction
    rest: Fn
    op: str


@dataclass(frozen=True)
class _Plan:
    """What is known about drawing one input."""

    var: Variable
    bounds: tuple[_Bound, ...]  # linear conjuncts closed once this input is drawn
    checks: tuple[Fn, ...]  # other conjuncts closed once this input is drawn


_OPS = {
    sympy.StrictLessThan: "<",
    sympy.LessThan: "<=",
    sympy.StrictGreaterThan: ">",
    sympy.GreaterThan: ">=",
    sympy.Equality: "==",
    sympy.Unequality: "!=",
}


def conjuncts(expr: sympy.Basic) -> list[sympy.Basic]:
    """The conjuncts of ``expr``, nested conjunctions flattened."""
    if isinstance(expr, sympy.And):
        return [c for a in expr.args for c in conjuncts(a)]
    return [expr]


def _linear(atom: sympy.Basic, x: sympy.Symbol) -> _Bound | None:
    """``atom`` as a bound on ``x`` when it is a comparison linear in ``x`` with a
    constant coefficient."""
    op = _OPS.get(type(atom))
    if op is None:
        return None
    diff = sympy.expand(atom.lhs - atom.rhs)
    try:
        poly = sympy.Poly(diff, x) if diff.has(x) else None
    except sympy.PolynomialError:  # x inside abs, min or max: not a bound, a check
        return None
    if poly is None or poly.degree() != 1:
        return None
    coeff = poly.coeff_monomial(x)
    if not coeff.is_Rational or coeff == 0:
        return None
    rest = sympy.expand(diff - coeff * x)
    if rest.has(x):
        return None
    return _Bound(Fraction(int(coeff.p), int(coeff.q)), compile_expression(rest), op)


class TickDrawer:
    """Draws admissible inputs for one tick of ``model`` on a given configuration."""

    def __init__(self, model: Model, interpreter: Interpreter | None = None) -> None:
        self.model = model
        self.interpreter = interpreter or Interpreter(model)
        atoms = [c for a in model.assumptions for c in conjuncts(a.expr)]
        atoms += Book(model).constraints()
        order = [v.symbol for v in model.inputs]
        plans = []
        for i, v in enumerate(model.inputs):
            later = set(order[i + 1 :])
            bounds: list[_Bound] = []
            checks: list[Fn] = []
            for atom in atoms:
                free = atom.free_symbols
                if v.symbol not in free or free & later:
                    continue
                bound = _linear(atom, v.symbol) if v.type.numeric else None
                if bound is not None:
                    bounds.append(bound)
                else:
                    checks.append(compile_expression(atom))
            plans.append(_Plan(v, tuple(bounds), tuple(checks)))
        self.plans = tuple(plans)
        self._solver: _SolverDraw | None = None

    def draw(self, draw: Draw, config: Config) -> dict[str, Value] | None:
        """Admissible inputs for a tick on ``config``, drawn by Hypothesis, or None when
        there are none."""
        return self.pick(HypothesisPicker(draw), config)

    def pick(self, picker: Picker, config: Config) -> dict[str, Value] | None:
        """Admissible inputs for a tick on ``config``, chosen by ``picker``, or None
        when there are none."""
        env: dict[str, Value] = dict(config.values)
        inputs: dict[str, Value] = {}
        for plan in self.plans:
            value = _draw_one(picker, plan, env)
            if value is None:
                break
            env[plan.var.name] = inputs[plan.var.name] = value
        else:
            if self.interpreter.admissible(env):
                return inputs
        if self._solver is None:
            self._solver = _SolverDraw(self.model)
        found = self._solver.draw(picker, config)
        if found is not None:
            problems = self.interpreter.input_violations(config, found)
            if problems:  # z3 and the interpreter disagree: a bug in seqprove
                raise InternalError(
                    f"inputs drawn through z3 are not admissible: {'; '.join(problems)}"
                )
        return found


def _draw_one(picker: Picker, plan: _Plan, env: dict[str, Value]) -> Value | None:
    """A value for ``plan.var`` that meets its range and every bound and check closed by
    it, or None when the interval is empty or a check fails (the caller then asks z3)."""
    v = plan.var
    kind = v.type.kind
    if kind in ("bool", "enum"):
        values: list[Value] = [False, True] if kind == "bool" else list(range(len(v.type.values)))
        fits = []
        for candidate in values:
            env[v.name] = candidate
            if all(check(env) for check in plan.checks):
                fits.append(candidate)
        del env[v.name]
        return picker.choice(v.name, fits) if fits else None
    low = _Edge.of(v.low, strict=False)
    high = _Edge.of(v.high, strict=False)
    exclude: list[Fraction] = []
    for b in plan.bounds:
        # coeff * x + rest OP 0  <=>  x OP' -rest / coeff (OP' flipped when coeff < 0)
        at = -Fraction(b.rest(env)) / b.coeff
        op = b.op if b.coeff > 0 else _FLIP[b.op]
        if op in ("<", "<="):
            high = high.tighter_high(_Edge(at, op == "<"))
        elif op in (">", ">="):
            low = low.tighter_low(_Edge(at, op == ">"))
        elif op == "==":
            high = high.tighter_high(_Edge(at, False))
            low = low.tighter_low(_Edge(at, False))
        else:
            exclude.append(at)
    choose = _interval(kind == "int", low, high)
    if choose is None:
        return None
    value: Value = choose(picker, v.name)
    for _ in range(3):  # a value a `!=` conjunct excludes: choose again, then give up
        if value not in exclude:
            break
        value = choose(picker, v.name)
    else:
        return None
    if plan.checks:
        env[v.name] = value
        ok = all(check(env) for check in plan.checks)
        del env[v.name]
        if not ok:
            return None
    return value


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class _Edge:
    """One end of an interval: a value (None for unbounded) and whether it is open."""

    at: Fraction | None
    strict: bool

    @classmethod
    def of(cls, value: Value | None, strict: bool) -> _Edge:
        return cls(None if value is None else Fraction(value), strict)

    def tighter_high(self, other: _Edge) -> _Edge:
        if self.at is None or (other.at is not None and other.at < self.at):
            return other
        if other.at == self.at and other.strict:
            return other
        return self

    def tighter_low(self, other: _Edge) -> _Edge:
        if self.at is None or (other.at is not None and other.at > self.at):
            return other
        if other.at == self.at and other.strict:
            return other
        return self


def _interval(integral: bool, low: _Edge, high: _Edge) -> Choose | None:
    """How to choose a number between ``low`` and ``high``, or None when there are
    none. With Hypothesis, both shrink towards zero, or the end nearest zero."""
    if integral:
        lo = None if low.at is None else _int_above(low.at, low.strict)
        hi = None if high.at is None else _int_below(high.at, high.strict)
        if lo is not None and hi is not None and lo > hi:
            return None
        return lambda picker, name: picker.integer(name, lo, hi)
    # a real is an integer number of grid steps, which Hypothesis shrinks far better
    # than a fraction drawn as numerator and denominator: towards zero, or the bound
    # nearest zero
    denominator = REAL_DENOMINATOR
    for edge in (low.at, high.at):
        if edge is not None:
            denominator = math.lcm(denominator, edge.denominator)
    for _ in range(4):  # an interval narrower than the grid: a finer grid
        lo = None if low.at is None else _int_above(low.at * denominator, low.strict)
        hi = None if high.at is None else _int_below(high.at * denominator, high.strict)
        if lo is None or hi is None or lo <= hi:
            return _on_grid(denominator, lo, hi)
        denominator *= 10
    if low.at is not None and high.at is not None and low.at < high.at:
        middle = (low.at + high.at) / 2
        return lambda picker, name: middle
    if low.at is not None and low.at == high.at and not (low.strict or high.strict):
        only = low.at
        return lambda picker, name: only
    return None


def _on_grid(denominator: int, lo: int | None, hi: int | None) -> Choose:
    return lambda picker, name: Fraction(picker.integer(name, lo, hi), denominator)


def _int_above(at: Fraction, strict: bool) -> int:
    n = math.ceil(at)
    return n + 1 if strict and n == at else n


def _int_below(at: Fraction, strict: bool) -> int:
    n = math.floor(at)
    return n - 1 if strict and n == at else n


class _SolverDraw:
    """The exact fallback: inputs drawn one at a time and kept when z3 shows the
    assumptions can still be met, replaced by a value z3 shows can otherwise."""

    TIMEOUT_MS = 2000

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system = TransitionSystem(model)

    def draw(self, picker: Picker, config: Config) -> dict[str, Value] | None:
        system = self.system
        solver = z3.Solver(ctx=system.ctx)
        solver.set("timeout", self.TIMEOUT_MS)
        solver.add(system.admissible)
        for v in self.model.state:
            solver.add(system.cur[v.name] == value_term(v.type, config.values[v.name], system.ctx))
        if solver.check() != z3.sat:
            return None  # no admissible inputs here (or z3 cannot tell)
        inputs: dict[str, Value] = {}
        for v in self.model.inputs:
            term = system.inp[v.name]
            choose = _interval(
                v.type.kind in ("int", "enum"),
                _Edge.of(v.low if v.type.kind != "enum" else 0, False),
                _Edge.of(v.high if v.type.kind != "enum" else len(v.type.values) - 1, False),
            )
            assert choose is not None  # a declared range is never empty (the loader)
            candidate: Value = (
                picker.choice(v.name, [False, True])
                if v.type.kind == "bool"
                else choose(picker, v.name)
            )
            fixed = term == value_term(v.type, candidate, system.ctx)
            if solver.check(fixed) == z3.sat:
                value = candidate
            else:
                if solver.check() != z3.sat:
                    return None
                try:
                    value = read_value(solver.model(), term, v.type)
                except ValueError:  # an irrational value of a nonlinear assumption
                    return None
                fixed = term == value_term(v.type, value, system.ctx)
            solver.add(fixed)
            inputs[v.name] = value
        return inputs
