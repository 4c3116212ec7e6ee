"""The model as a symbolic transition system over z3 terms.

Template constants stand for the current state (``x``), the inputs of the tick (``x``
for an input) and the next state (``x'``); the current step is the integer ``@step``.
:meth:`TransitionSystem.at` moves a template term to the frames of an unrolled path.

The meaning follows ``LANGUAGE.md``: inputs satisfy their types, ranges and every
assumption on the current state; the first transition of the current step (file order)
whose ``when`` holds fires; if none holds, nothing changes (stutter); ``do`` is
simultaneous (every right side reads the state before the tick).

With instruments (``LANGUAGE-2.md``), :mod:`checker.book` adds the book: the fills are
part of the admissible inputs, they are booked before the transition is chosen (guards,
actions and ``do`` read the book after the fills, and a stutter keeps it), and the
actions of the transition that fires change the book.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import z3

from checker.book import Book
from checker.model import FINAL_STEP_ORDERS, Model, Obligation, Value, Variable
from checker.smt.encode import Encoder, rational
from checker.smt.meter import Meter
from checker.smt.solvers import simple_enough, solver_for
from checker.types import Type

STEP = "@step"


def sort_of(kind: Type, ctx: z3.Context) -> z3.SortRef:
    if kind.kind == "real":
        return z3.RealSort(ctx)
    if kind.kind == "bool":
        return z3.BoolSort(ctx)
    return z3.IntSort(ctx)


def value_term(kind: Type, value: Value, ctx: z3.Context) -> z3.ExprRef:
    if kind.kind == "bool":
        return z3.BoolVal(bool(value), ctx)
    if kind.kind == "real":
        return rational(Fraction(value), ctx)
    return z3.IntVal(int(value), ctx)


def domain(kind: Type, term: z3.ExprRef) -> z3.BoolRef:
    """What the type alone says about a term (an enum is one of its indices)."""
    if kind.kind == "enum":
        return z3.And(term >= 0, term < len(kind.values))
    return z3.BoolVal(True, term.ctx)


@dataclass
class Frame:
    """The constants of one position of an unrolled path."""

    state: dict[str, z3.ExprRef]
    inputs: dict[str, z3.ExprRef]


@dataclass
class TransitionSystem:
    """Symbolic initial condition, admissible inputs, transition relation and limits."""

    model: Model
    cur: dict[str, z3.ExprRef] = field(default_factory=dict)
    nxt: dict[str, z3.ExprRef] = field(default_factory=dict)
    inp: dict[str, z3.ExprRef] = field(default_factory=dict)
    step_index: dict[str, int] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    next_values: dict[str, z3.ExprRef] = field(default_factory=dict)
    """The configuration after a tick, each variable (and the step) as a term over the
    current state and the tick's inputs."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Terms the engines build from the system once and ask about many times (Spacer's
    clauses, each transition's effect), by what they are."""

    def __post_init__(self) -> None:
        m = self.model
        self.step_index = {s: i for i, s in enumerate(m.steps)}
        # A context of its own: what z3 answers (Spacer's invariants in particular) then
        # does not depend on what the process solved before.
        self.ctx = ctx = z3.Context()
        self.meter = Meter(ctx)  # the resource units spent in this context
        self.cur[STEP] = z3.Int(STEP, ctx)
        self.nxt[STEP] = z3.Int(STEP + "'", ctx)
        for v in m.state:
            self.cur[v.name] = z3.Const(v.name, sort_of(v.type, ctx))
            self.nxt[v.name] = z3.Const(v.name + "'", sort_of(v.type, ctx))
        for v in m.inputs:
            self.inp[v.name] = z3.Const(v.name, sort_of(v.type, ctx))
        symbols = {v.symbol: self.cur[v.name] for v in m.state}
        symbols.update({v.symbol: self.inp[v.name] for v in m.inputs})
        self.encode = Encoder(symbols, ctx)
        self.book = Book(m)
        # The configuration after the tick's fills (step 2 of a tick with instruments):
        # what guards, actions and `do` read, and what a stutter keeps.
        self.stay: dict[str, z3.ExprRef] = {v.name: self.cur[v.name] for v in m.state}
        self.after = self.encode
        if self.book or m.ticked:  # the fills, the clock and the sum windows' events
            phase = {**(self.book.booked() if self.book else {}), **m.ticked}
            booked = {name: self.encode(expr) for name, expr in phase.items()}
            for name, term in booked.items():
                self.stay[name] = _coerced(m.variable(name).type, term)
            moved = {v.symbol: self.stay[v.name] for v in m.state if v.name in booked}
            self.after = Encoder({**symbols, **moved}, ctx)
        self.init = self._init()
        self.state_domain = z3.And(
            self.cur[STEP] >= 0,
            self.cur[STEP] < len(m.steps),
            *(domain(v.type, self.cur[v.name]) for v in m.state),
        )
        self.input_domain = all_true([self._input_domain(v) for v in m.inputs], ctx)
        self.assumptions = {a.name: self.encode(a.expr) for a in m.assumptions}
        self.fills_fit = all_true([self.encode(c) for c in self.book.constraints()], ctx)
        self.admissible = z3.And(self.input_domain, self.fills_fit, *self.assumptions.values())
        self.guards = [self.after(t.guard) for t in m.transitions]
        self.fires = self._fires()
        self.update = self._update()
        self.trans = z3.And(self.admissible, self.update)
        self.limits = {lim.name: self.encode(lim.expr) for lim in m.limits}
        # Everything verify decides (limits, order checks, the checks of version 2): a
        # term over the state, or over the state and the inputs of a tick for those in
        # `reads_inputs` (then it must hold for every admissible input).
        self.props: dict[str, z3.BoolRef] = {}
        self.reads_inputs: set[str] = set()
        for ob in m.obligations():
            self.props[ob.name] = self._prop(ob)
            if ob.reads_inputs:
                self.reads_inputs.add(ob.name)

    # -- solvers ------------------------------------------------------------------------
    @cached_property
    def linear(self) -> bool:
        """Whether the transition relation, the inputs' conditions and every property
        are quantifier-free linear arithmetic."""
        return simple_enough(self.ctx, self.init, self.trans, *self.props.values())

    def solver(self) -> z3.Solver:
        """A fresh solver for a quantifier-free question about this system: the SMT core
        for a linear system, the default solver for a nonlinear one
        (:mod:`checker.smt.solvers` says why)."""
        return solver_for(self.ctx, simple=self.linear)

    # -- construction -------------------------------------------------------------------
    def _prop(self, ob: Obligation) -> z3.BoolRef:
        m = self.model
        if ob.name in self.limits:  # a limit, or a window's exact:W (kept with them)
            return self.limits[ob.name]
        parts: list[z3.BoolRef] = []
        if ob.kind == "order":
            check = next(c for c in m.orders if c.name == ob.name)
            for t in m.transitions:
                for order in self.book.orders(t):
                    expr = order.check(check.expr)
                    if expr is not None:
                        parts.append(z3.Implies(self.fires[t.index], self.after(expr)))
        elif ob.name == FINAL_STEP_ORDERS:
            working = [
                self.cur[s.open] - self.cur[s.pending] if s.pending else self.cur[s.open]
                for s in self.book.sides
            ]
            for step in m.final:
                at = self.cur[STEP] == self.step_index[step]
                parts.append(z3.Implies(at, z3.And(*(w == 0 for w in working))))
        else:  # positive_qty:LINE
            for t in m.transitions:
                if t.line != ob.line:
                    continue
                for a in t.emit:
                    qty = a.arg("qty")
                    if a.name == "place" and qty is not None:
                        parts.append(z3.Implies(self.fires[t.index], self.after(qty) > 0))
        return all_true(parts, self.ctx)

    def _init(self) -> z3.BoolRef:
        m = self.model
        parts = [self.cur[STEP] == self.step_index[m.initial]]
        for v in m.state:
            term = self.cur[v.name]
            if v.source == "param":  # a free param: any value in its range and region
                if v.low is not None:
                    parts.append(term >= value_term(v.type, v.low, self.ctx))
                if v.high is not None:
                    parts.append(term <= value_term(v.type, v.high, self.ctx))
                continue
            assert v.init is not None
            parts.append(term == value_term(v.type, v.init, self.ctx))
        if m.free:
            parts.append(self.encode(m.region))
        return z3.And(*parts)

    def input_domain_of(self, v: Variable) -> z3.BoolRef:
        """What input ``v``'s type and range say about it."""
        return self._input_domain(v)

    def _input_domain(self, v: Variable) -> z3.BoolRef:
        term = self.inp[v.name]
        parts = [domain(v.type, term)]
        if v.low is not None:
            t, low = _bound(term, v.low, math.ceil)
            parts.append(t >= low)
        if v.high is not None:
            t, high = _bound(term, v.high, math.floor)
            parts.append(t <= high)
        return z3.And(*parts)

    def _fires(self) -> list[z3.BoolRef]:
        """``fires[i]``: transition ``i`` is the one that fires (first enabled in order)."""
        fires: list[z3.BoolRef] = [z3.BoolVal(False, self.ctx)] * len(self.model.transitions)
        for step in self.model.steps:
            earlier: list[z3.BoolRef] = []
            at = self.cur[STEP] == self.step_index[step]
            for t in self.model.outgoing(step):
                guard = self.guards[t.index]
                fires[t.index] = z3.And(at, guard, *(z3.Not(g) for g in earlier))
                earlier.append(guard)
        return fires

    def assigned(self, index: int) -> dict[str, z3.ExprRef]:
        """The new values transition ``index`` gives (its ``do``, and the book its actions
        change), as terms over the current state and inputs; variables it does not
        change are absent."""
        t = self.model.transitions[index]
        changes = [*t.do, *self.book.effects(t).items()] if self.book else list(t.do)
        return {
            name: _coerced(self.model.variable(name).type, self.after(expr))
            for name, expr in changes
        }

    def effect(self, index: int) -> z3.BoolRef:
        """The next state after transition ``index`` fires: what it assigns, every other
        variable as it stays (unchanged, or the book after the fills); the step is set by
        the caller."""
        effects: dict[int, z3.BoolRef] = self.cache.setdefault("effect", {})
        if index not in effects:
            values = self.assigned(index)
            effects[index] = all_true(
                [
                    self.nxt[v.name] == values.get(v.name, self.stay[v.name])
                    for v in self.model.state
                ],
                self.ctx,
            )
        return effects[index]

    def stutter(self) -> z3.BoolRef:
        """The next state when no transition fires: every variable as it stays."""
        return all_true([self.nxt[v.name] == self.stay[v.name] for v in self.model.state], self.ctx)

    def _update(self) -> z3.BoolRef:
        m = self.model
        eqs = []
        step_next: z3.ExprRef = self.cur[STEP]
        for t in reversed(m.transitions):
            step_next = z3.If(
                self.fires[t.index], z3.IntVal(self.step_index[t.target], self.ctx), step_next
            )
        eqs.append(self.nxt[STEP] == step_next)
        self.next_values[STEP] = step_next
        assigned = [self.assigned(t.index) for t in m.transitions]
        for v in m.state:
            value: z3.ExprRef = self.stay[v.name]
            for t in reversed(m.transitions):
                if v.name in assigned[t.index]:
                    value = z3.If(self.fires[t.index], assigned[t.index][v.name], value)
            eqs.append(self.nxt[v.name] == value)
            self.next_values[v.name] = value
        return z3.And(*eqs)

    def successor(self, term: z3.ExprRef) -> z3.ExprRef:
        """``term`` (over the current state) read on the configuration after the tick:
        a term over the current state and the tick's inputs."""
        pairs = [(self.cur[n], self.next_values[n]) for n in self.cur]
        return z3.substitute(term, *pairs)

    # -- frames -------------------------------------------------------------------------
    def frame(self, k: int) -> Frame:
        while len(self.frames) <= k:
            j = len(self.frames)
            ctx = self.ctx
            state = {STEP: z3.Int(f"{STEP}@{j}", ctx)}
            for v in self.model.state:
                state[v.name] = z3.Const(f"{v.name}@{j}", sort_of(v.type, ctx))
            inputs = {
                v.name: z3.Const(f"{v.name}@{j}", sort_of(v.type, ctx)) for v in self.model.inputs
            }
            self.frames.append(Frame(state, inputs))
        return self.frames[k]

    def at(self, term: z3.ExprRef, k: int) -> z3.ExprRef:
        """``term`` over templates, moved to frame ``k`` (next state to frame ``k+1``)."""
        here, there = self.frame(k), self.frame(k + 1)
        pairs = [(self.cur[n], here.state[n]) for n in self.cur]
        pairs += [(self.nxt[n], there.state[n]) for n in self.nxt]
        pairs += [(self.inp[n], here.inputs[n]) for n in self.inp]
        return z3.substitute(term, *pairs)

    def unrolled(self, term: z3.ExprRef, k: int) -> z3.ExprRef:
        """:meth:`at`, kept for the next call: for terms asked about at many frames
        (the transition relation, a transition's firing condition). The memo holds the
        term, so its id is not reused while the memo lives."""
        memo: dict[tuple[int, int], tuple[z3.ExprRef, z3.ExprRef]]
        memo = self.cache.setdefault("unrolled", {})
        key = (term.get_id(), k)
        if key not in memo:
            memo[key] = (term, self.at(term, k))
        return memo[key][1]

    def state_domain_without_step(self) -> z3.BoolRef:
        """The type constraints on state variables alone (enum ranges)."""
        return all_true([domain(v.type, self.cur[v.name]) for v in self.model.state], self.ctx)

    def state_args(self) -> list[z3.ExprRef]:
        """The current-state constants in a fixed order (step first)."""
        return [self.cur[STEP], *(self.cur[v.name] for v in self.model.state)]

    def next_args(self) -> list[z3.ExprRef]:
        return [self.nxt[STEP], *(self.nxt[v.name] for v in self.model.state)]

    def input_args(self) -> list[z3.ExprRef]:
        return [self.inp[v.name] for v in self.model.inputs]


def _bound(
    term: z3.ExprRef, bound: Value, to_int: Callable[[Fraction], int]
) -> tuple[z3.ExprRef, z3.ExprRef]:
    """``term`` and a range bound in one sort. An int input with a real bound takes the
    integers within it, so the bound is rounded inwards (``to_int`` is ``math.ceil`` for
    a lower bound, ``math.floor`` for an upper one) and the constraint stays integer."""
    exact = Fraction(bound)
    if z3.is_int(term):
        return term, z3.IntVal(to_int(exact), term.ctx)
    return term, rational(exact, term.ctx)


def _coerced(kind: Type, term: z3.ExprRef) -> z3.ExprRef:
    """An int term stored in a real variable becomes real."""
    return z3.ToReal(term) if kind.kind == "real" and z3.is_int(term) else term


def read_value(model: z3.ModelRef, term: z3.ExprRef, kind: Type) -> Value:
    """The exact value of ``term`` in a z3 model, as the interpreter represents it."""
    value = model.eval(term, model_completion=True)
    if kind.kind == "bool":
        return bool(z3.is_true(value))
    if z3.is_int_value(value):
        return int(value.as_long())
    if z3.is_rational_value(value):
        frac = Fraction(int(value.numerator_as_long()), int(value.denominator_as_long()))
        return int(frac) if kind.kind in ("int", "enum") else frac
    raise ValueError(f"not an exact rational: {value}")


def all_true(terms: Sequence[z3.BoolRef], ctx: z3.Context) -> z3.BoolRef:
    """The conjunction of ``terms``; true (in ``ctx``) when there are none."""
    return z3.And(*terms) if terms else z3.BoolVal(True, ctx)
