"""Boundary examples: runs the solver finds that end at the edge of a prover or limit.

For every conjunct ("atom") of every prover and limit, two targets: *just inside* (the
condition holds and the atom is tight: ``a <= b`` with ``a == b``, ``a < b`` with
``a == b - 1`` for ints or ``b - 1/100 <= a < b`` for reals) and *just outside* (the
other atoms hold and this one fails by the least step). For every transition, a third
kind of target: the transition fires. Each target is looked for twice:

- **reachable**: bounded model checking from the initial configuration finds a run of at
  most ``depth`` ticks whose last tick sits on the target. Its inputs are a *prefix*
  that takes random testing straight to states a random walk rarely reaches (a halt
  after a long loss, a position at its limit). Every prefix is replayed by the
  interpreter before it is used.
- **anywhere**: any configuration of the right types and admissible inputs on the
  target, reachable or not, for comparing a user's implementation of a prover with the
  model's (a pre-trade check must agree on every state, not only those reached).

A prover's targets are restricted to the steps where a transition names it. A limit that
a proof covers has no reachable "outside" target; that is expected, and is why the
search has a budget: what the budget cuts is said in :attr:`Boundaries.missed`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import sympy
import z3

from checker.draw import conjuncts
from checker.engines.base import UNBOUNDED_UNITS, Budget
from checker.engines.bmc import Unroller
from checker.engines.houdini import houdini
from checker.errors import InternalError
from checker.interpret import Config, Interpreter
from checker.model import Condition, Model, Value
from checker.smt.decode import show
from checker.smt.system import STEP, TransitionSystem, read_value
from checker.verify.trace import extract

REAL_STEP = Fraction(1, 100)
"""How far "just" is for a real comparison: within a cent of the edge."""


@dataclass(frozen=True)
class Target:
    """A place the boundary search aims at."""

    kind: str  # "prover", "limit" or "transition"
    name: str  # the prover's or limit's name, or the transition's label
    atom: str  # the atom's text ("" for a transition)
    side: str  # "inside" or "outside" ("fires" for a transition)
    formula: z3.BoolRef = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        if self.kind == "transition":
            return f"transition {self.name} fires"
        where = f" at `{self.atom}`" if self.atom else ""
        return f"{self.kind} {self.name}: just {self.side}{where}"


@dataclass(frozen=True)
class Example:
    """A run that ends on a target.

    ``inputs`` are the ticks of the run. For a prover or transition target its last tick
    is the one whose inputs sit on the target (read on ``config``, the configuration
    before that tick); for a limit target the run ends in ``config``, on the target.
    ``reachable`` is False for an "anywhere" point: then ``inputs`` has the one tick
    ``point`` and ``config`` is a configuration that may not be reachable.
    """

    target: Target
    inputs: tuple[Mapping[str, Value], ...]
    config: Config
    point: Mapping[str, Value]
    reachable: bool


@dataclass(frozen=True)
class Boundaries:
    """What the search found for one model."""

    examples: tuple[Example, ...]
    missed: tuple[str, ...]  # targets with no example, and why
    seconds: float

    def reachable(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.reachable)

    def prefixes(self) -> tuple[tuple[Mapping[str, Value], ...], ...]:
        """The distinct input sequences of the reachable examples, shortest first."""
        seen: dict[str, tuple[Mapping[str, Value], ...]] = {}
        for e in self.reachable():
            seen.setdefault(repr([sorted(t.items()) for t in e.inputs]), e.inputs)
        return tuple(sorted(seen.values(), key=len))

    def for_condition(self, kind: str, name: str) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if (e.target.kind, e.target.name) == (kind, name))


_CACHE: dict[tuple[object, ...], Boundaries] = {}


def boundaries(
    model: Model,
    depth: int = 30,
    seconds: float = 10.0,
    only: tuple[str, str] | None = None,
) -> Boundaries:
    """The boundary examples of ``model``: runs of at most ``depth`` ticks found within
    ``seconds`` (computed once per process for a model, its params and these
    arguments). ``only`` = ``(kind, name)`` limits the search to one prover or limit."""
    key = (
        model.file,
        model.source_sha256,
        tuple(sorted(model.params.items())),
        depth,
        seconds,
        only,
    )
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = _Search(model, depth, seconds, only).run()
    return found


def _tight(atom: sympy.Basic, system: TransitionSystem, inside: bool) -> z3.BoolRef:
    """``atom`` made tight: holding at its edge (``inside``), or failing by the least
    step."""
    encoded = system.encode(atom)
    rel = type(atom)
    ops = (
        sympy.LessThan,
        sympy.StrictLessThan,
        sympy.GreaterThan,
        sympy.StrictGreaterThan,
        sympy.Equality,
        sympy.Unequality,
    )
    if rel not in ops:
        return encoded if inside else z3.Not(encoded)
    lhs, rhs = system.encode(atom.lhs), system.encode(atom.rhs)
    if z3.is_bool(lhs):  # a comparison of bools: no edge but the value itself
        return encoded if inside else z3.Not(encoded)
    e = lhs - rhs
    if z3.is_int(e):
        one = z3.IntVal(1, system.ctx)
        below, above = e == -one, e == one
    else:
        step = z3.Q(REAL_STEP.numerator, REAL_STEP.denominator, system.ctx)
        below = z3.And(e < 0, e >= -step)
        above = z3.And(e > 0, e <= step)
    zero = e == 0
    table = {  # (inside, outside) for e = lhs - rhs
        sympy.LessThan: (zero, above),
        sympy.StrictLessThan: (below, zero),
        sympy.GreaterThan: (zero, below),
        sympy.StrictGreaterThan: (above, zero),
        sympy.Equality: (zero, z3.Or(below, above)),
        sympy.Unequality: (z3.Or(below, above), zero),
    }
    chosen: z3.BoolRef = table[rel][0 if inside else 1]
    return chosen


class _Search:
    ANYWHERE_MS = 1000  # per "anywhere" point: one small query on a single tick

    def __init__(
        self, model: Model, depth: int, seconds: float, only: tuple[str, str] | None
    ) -> None:
        self.model = model
        self.depth = depth
        self.budget = seconds
        self.only = only
        self.system = TransitionSystem(model)
        self.interpreter = Interpreter(model)

    def targets(self) -> list[Target]:
        m, system = self.model, self.system
        found: list[Target] = []
        for t in m.transitions if self.only is None else ():
            label = f"{t.label} (line {t.line})"
            found.append(Target("transition", label, "", "fires", system.fires[t.index]))
        users: dict[str, set[str]] = {}
        for t in m.transitions:
            for name in t.provers:
                users.setdefault(name, set()).add(t.source)
        conditions: list[tuple[str, Condition]] = [("prover", p) for p in m.provers]
        conditions += [("limit", lim) for lim in m.limits]
        for kind, cond in conditions:
            if self.only is not None and self.only != (kind, cond.name):
                continue
            atoms = conjuncts(cond.expr)
            where: z3.BoolRef = z3.BoolVal(True, system.ctx)
            if kind == "prover" and cond.name in users:
                where = z3.Or(
                    *(system.cur[STEP] == system.step_index[s] for s in sorted(users[cond.name]))
                )
            for i, atom in enumerate(atoms):
                others = [system.encode(a) for j, a in enumerate(atoms) if j != i]
                text = show(atom) if len(atoms) > 1 else cond.text
                # just outside a limit is a counterexample: finding one is what
                # `verify` is for, and for a proved limit the search would be in vain
                for side in ("inside",) if kind == "limit" else ("inside", "outside"):
                    tight = _tight(atom, system, side == "inside")
                    formula = z3.And(where, tight, *others)
                    found.append(Target(kind, cond.name, text, side, formula))
        return found

    def run(self) -> Boundaries:
        started = time.monotonic()
        end = started + self.budget
        examples: list[Example] = []
        targets = self.targets()
        for target in targets:
            if target.kind == "prover":
                point = self._anywhere(target)
                if point is not None:
                    examples.append(point)
        # Houdini's inductive lemmas rule out at once the targets no run can reach (the
        # edges of proved limits, most often), which would otherwise cost a query per
        # depth each
        lemmas = houdini(
            self.system,
            Budget(self.system.meter, UNBOUNDED_UNITS, max(0.0, (end - time.monotonic()) / 4)),
        )
        known = lemmas.conjunction(self.system)
        open_: list[Target] = []
        never: list[Target] = []
        for t in targets:
            check = z3.Solver(ctx=self.system.ctx)
            check.set("timeout", self.ANYWHERE_MS)
            check.add(known, self.system.state_domain, t.formula)
            if self._reads_inputs(t):
                check.add(self.system.admissible)
            (never if check.check() == z3.unsat else open_).append(t)
        why = f"not reachable in {self.depth} ticks"
        unroller = Unroller(self.system)
        for k in range(self.depth + 1):
            if not open_:
                break
            here = {
                id(t): t.formula
                if not self._reads_inputs(t)
                else z3.And(t.formula, self.system.admissible)
                for t in open_
            }
            while open_:  # one question covers every target still open at this depth
                left = end - time.monotonic()
                if left <= 0:
                    why = f"not reached in {k} ticks before the search's time budget ran out"
                    break
                # this search is bounded by time alone: its examples are hints, not verdicts
                budget = Budget(self.system.meter, UNBOUNDED_UNITS, left)
                result, found = unroller.check(z3.Or(*(here[id(t)] for t in open_)), k, budget)
                if result != z3.sat:
                    if result == z3.unknown:
                        why = (
                            f"not reached in {k} ticks (solver: {unroller.solver.reason_unknown()})"
                        )
                    break
                assert found is not None
                hit = [
                    t for t in open_ if z3.is_true(found.eval(self.system.at(here[id(t)], k), True))
                ]
                open_ = [t for t in open_ if t not in hit]
                for t in hit:
                    example = self._example(found, t, k)
                    if example is not None:
                        examples.append(example)
            if time.monotonic() >= end:
                break
        missed = tuple(f"{t.label}: {why}" for t in open_) + tuple(
            f"{t.label}: unreachable (an inductive invariant rules it out)" for t in never
        )
        return Boundaries(tuple(examples), missed, time.monotonic() - started)

    def _reads_inputs(self, target: Target) -> bool:
        return target.kind != "limit" or any(
            str(s) in self.system.inp
            for lim in self.model.limits
            if lim.name == target.name
            for s in lim.expr.free_symbols
        )

    def _anywhere(self, target: Target) -> Example | None:
        """Any configuration of the right types, with admissible inputs, on ``target``."""
        system = self.system
        solver = z3.Solver(ctx=system.ctx)
        solver.set("timeout", self.ANYWHERE_MS)
        solver.add(system.state_domain, system.admissible, target.formula)
        if solver.check() != z3.sat:
            return None
        found = solver.model()
        try:
            step = self.model.steps[found.eval(system.cur[STEP], model_completion=True).as_long()]
            values = {
                v.name: read_value(found, system.cur[v.name], v.type) for v in self.model.state
            }
            point = {
                v.name: read_value(found, system.inp[v.name], v.type) for v in self.model.inputs
            }
        except ValueError:  # not an exact rational
            return None
        return Example(target, (point,), Config(step, values), point, reachable=False)

    def _example(self, found: z3.ModelRef, target: Target, k: int) -> Example | None:
        """The run of ``k`` ticks in ``found`` (plus the tick on the target when it reads
        inputs), replayed by the interpreter."""
        system = self.system
        try:
            path = extract(system, found, k)
            point = {
                v.name: read_value(found, system.frame(k).inputs[v.name], v.type)
                for v in self.model.inputs
            }
        except ValueError:  # not an exact rational (a nonlinear model)
            return None
        config = self._replay(target, path)
        ticks: list[Mapping[str, Value]] = [p[1] for p in path[1:] if p[1] is not None]
        if self._reads_inputs(target):
            ticks.append(point)
        return Example(target, tuple(ticks), config, point, reachable=True)

    def _replay(
        self, target: Target, path: list[tuple[Config, Mapping[str, Value] | None, int | None]]
    ) -> Config:
        """Run the path through the interpreter; a disagreement is a bug in seqprove."""
        interp = self.interpreter
        config = interp.initial()
        for tick, (expected, inputs, _fired) in enumerate(path[1:], start=1):
            assert inputs is not None
            problems = interp.input_violations(config, inputs)
            if problems:
                raise InternalError(
                    f"boundary example '{target.label}' at tick {tick}: the solver chose "
                    f"inputs the semantics forbid: {'; '.join(problems)}"
                )
            config = interp.step(config, inputs).config
            if config != expected:
                raise InternalError(
                    f"boundary example '{target.label}' at tick {tick}: solver reached "
                    f"{expected}, interpreter {config}"
                )
        return config
