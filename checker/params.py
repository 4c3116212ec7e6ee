"""Safe parameters: the region of free params for which every limit holds.

Parameter synthesis in the manner of Cimatti, Griggio, Mover and Tonetta (FMCAD 2013):
the safe region is found by its complement. The params chosen are left free
(:attr:`checker.model.Model.free`), and the model is verified for all of them at once.
Each counterexample found is generalised to the whole set of params for which a run
taking the same transitions, tick by tick, breaks the same limit. That set is the
projection of the run's path formula onto the params, computed by z3's model-based
quantifier elimination (``qe2``). It is blocked, and the model is verified again on
what is left, until every limit is proved there. The pieces blocked are exactly bad:
each value in them has a run that breaks a limit. The region left is proved safe.
Together they cover the box, so the region is exact. When the engines cannot decide
the rest (a solver ``unknown``, a budget), what is left is undecided: the safe region
is then only what was proved, a sound under-approximation, and the result says so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy
import z3

from checker.engines.spacer import consts, quantified
from checker.errors import InternalError
from checker.lang.loader import constant_expr, load_model, parse_number
from checker.model import Model, Value
from checker.options import PARAMS_ROUNDS, Options
from checker.results import Counterexample, LimitResult, ModelReport, Verdict
from checker.smt.decode import decode_term, show
from checker.smt.system import TransitionSystem

QE_MILLISECONDS = 30_000  # for one projection; beyond it the piece is the point alone


@dataclass(frozen=True)
class Piece:
    """A set of param values where a run breaks ``limit``: the run's transitions, with
    any inputs and fills that make it break the limit there."""

    limit: str
    expr: sympy.Basic  # the set, a condition over the free params
    values: Mapping[str, Any]  # the free params of the counterexample, as it shows them
    counterexample: Counterexample
    exact: bool = True
    """False when the projection failed and the piece is the counterexample's point."""

    @property
    def condition(self) -> str:
        """The set in the expression language."""
        return show(self.expr)

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "condition": self.condition,
            "values": dict(self.values),
            "ticks": self.counterexample.length,
            "projected": self.exact,
            "counterexample": self.counterexample.to_json(),
        }


Box = Mapping[str, tuple[Value | None, Value | None]]  # each free param's bounds


@dataclass(frozen=True)
class Region:
    """What ``seqprove params`` found for one model."""

    file: str
    strategy: str
    ranges: Mapping[str, str]  # each free param's range as text ("1..50", "10..")
    box: Box = field(repr=False)  # the same ranges, as bounds (None: unbounded)
    safe_expr: sympy.Basic  # where every limit is proved
    unsafe: tuple[Piece, ...]
    undecided_expr: sympy.Basic  # what is left undecided; false when exact
    unknown: tuple[LimitResult, ...]  # the limits left undecided there, and why
    rounds: int
    seconds: float
    symbols: Mapping[str, sympy.Symbol] = field(compare=False, repr=False)

    @property
    def safe(self) -> str:
        """:attr:`safe_expr` in the expression language."""
        return show(self.safe_expr)

    @property
    def undecided(self) -> str:
        """:attr:`undecided_expr` in the expression language."""
        return show(self.undecided_expr)

    @property
    def exact(self) -> bool:
        """Whether every value of the box is proved safe or has a counterexample."""
        return bool(self.undecided_expr == sympy.false)

    def classify(self, values: Mapping[str, Value]) -> str:
        """``safe``, ``unsafe`` or ``undecided`` for the free params at ``values``
        (outside the box: ``outside``)."""
        if not self.inside(values):
            return "outside"
        env = {self.symbols[n]: constant_expr(v) for n, v in values.items() if n in self.symbols}
        if bool(self.safe_expr.subs(env)):
            return "safe"
        if any(bool(p.expr.subs(env)) for p in self.unsafe):
            return "unsafe"
        return "undecided"

    def inside(self, values: Mapping[str, Value]) -> bool:
        """Whether ``values`` (every free param) are inside the box."""
        return all(
            name in values
            and (low is None or values[name] >= low)
            and (high is None or values[name] <= high)
            for name, (low, high) in self.box.items()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "strategy": self.strategy,
            "ranges": dict(self.ranges),
            "safe": self.safe,
            "exact": self.exact,
            "undecided": self.undecided,
            "unsafe": [p.to_json() for p in self.unsafe],
            "unknown": [r.to_json() for r in self.unknown],
            "rounds": self.rounds,
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    return None


def synthesize(
    path: str | Path,
    ranges: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
    options: Options | None = None,
    rounds: int = PARAMS_ROUNDS,
    progress: Progress = _quiet,
) -> Region:
    """The region of the params named in ``ranges`` (each over its range, ``"1..50"``,
    or ``".."`` for all values) where every limit of the model at ``path`` holds.

    Raises
    ------
    ModelError
        When the model (with these params free) does not load.
    InternalError
        When verifying it ends in an internal error.
    """
    from checker.verify import verify_model

    started = time.monotonic()
    options = dataclasses.replace(options or Options(), sanity=False)
    base = load_model(path, overrides or {}, ranges)
    symbols = {v.name: v.symbol for v in base.state if v.source == "param"}
    region: sympy.Basic = sympy.true  # the box less the unsafe pieces found so far
    pieces: list[Piece] = []
    safe: list[sympy.Basic] = []  # boxes where every limit is proved (on the region)
    undecided: list[sympy.Basic] = []
    unknown: dict[str, LimitResult] = {}
    tidy = _Tidy(base)
    # the work list: boxes of the free params, each with the limits already proved on a
    # box that holds it (a limit proved on a region stays proved on every part of it)
    whole: Box = {v.name: (v.low, v.high) for v in base.state if v.source == "param"}
    queue: list[tuple[Box, frozenset[str]]] = [(whole, frozenset())]
    names = frozenset(ob.name for ob in base.obligations())
    done = 0
    while queue and done < rounds:
        box, proved = queue.pop(0)
        where = sympy.And(region, _box_expr(box, symbols))
        if not tidy.satisfiable(where):
            continue
        done += 1
        progress(f"round {done}: {len(pieces)} unsafe piece(s), {len(safe)} safe box(es)")
        model = dataclasses.replace(base, region=where)
        report = verify_model(model, options, only=names - proved)
        _no_internal_error(report)
        proved = proved | {r.name for r in report.limits if r.verdict is Verdict.PROVED}
        refuted = [r for r in report.limits if r.verdict is Verdict.REFUTED]
        if refuted:
            system = TransitionSystem(model)
            for result in refuted:
                piece = bad_set(system, result, tidy)
                pieces.append(piece)
                region = sympy.And(region, sympy.Not(piece.expr))
            queue.insert(0, (box, proved))  # the same box, less what was found unsafe
            continue
        if proved >= names:
            safe.append(_box_expr(box, symbols))
            continue
        for r in report.limits:
            if r.verdict is Verdict.UNKNOWN:
                unknown[r.name] = r
        halves = _split(box)
        if halves is None:
            undecided.append(_box_expr(box, symbols))
        else:
            queue += [(half, proved) for half in halves]
    undecided += [_box_expr(box, symbols) for box, _ in queue]
    if queue:
        unknown["rounds"] = LimitResult(
            "rounds",
            f"{rounds} rounds",
            0,
            Verdict.UNKNOWN,
            "params",
            0.0,
            f"{len(queue)} box(es) left after {rounds} rounds (--rounds raises the bound)",
        )
    safe_expr = tidy(sympy.And(region, sympy.Or(*safe))) if safe else sympy.false
    left = sympy.And(region, sympy.Or(*undecided)) if undecided else sympy.false
    undecided_expr = tidy(left) if tidy.satisfiable(left) else sympy.false
    return Region(
        file=str(path),
        strategy=base.strategy,
        ranges=base.ranges(),
        box=whole,
        safe_expr=safe_expr,
        unsafe=tuple(pieces),
        undecided_expr=undecided_expr,
        unknown=tuple(unknown.values()) if undecided_expr != sympy.false else (),
        rounds=done,
        seconds=time.monotonic() - started,
        symbols=symbols,
    )


def _box_expr(box: Box, symbols: Mapping[str, sympy.Symbol]) -> sympy.Basic:
    parts = []
    for name, (low, high) in box.items():
        if low is not None:
            parts.append(sympy.Ge(symbols[name], constant_expr(low)))
        if high is not None:
            parts.append(sympy.Le(symbols[name], constant_expr(high)))
    return sympy.And(*parts)


def _split(box: Box) -> list[Box] | None:
    """``box`` cut in two across its widest bounded side (None when no side can be cut:
    every bounded int side is one value wide, or no side is bounded)."""
    widest, width = None, Fraction(0)
    for name, (low, high) in box.items():
        if low is None or high is None:
            continue
        size = Fraction(high) - Fraction(low)
        if size > width and (isinstance(low, Fraction) or size >= 1):
            widest, width = name, size
    if widest is None or width == 0:
        return None
    low, high = box[widest]
    assert low is not None and high is not None
    if isinstance(low, int) and isinstance(high, int):
        middle: Value = (low + high) // 2
        parts = [(low, middle), (middle + 1, high)]
    else:
        mid = (Fraction(low) + Fraction(high)) / 2
        parts = [(Fraction(low), mid), (mid, Fraction(high))]
    return [{**box, widest: part} for part in parts]


def _no_internal_error(report: ModelReport) -> None:
    if report.internal_error:
        raise InternalError(report.internal_error)


def bad_set(system: TransitionSystem, result: LimitResult, tidy: _Tidy | None = None) -> Piece:
    """The params for which a run taking the transitions of ``result``'s
    counterexample, tick by tick, breaks its limit (any inputs and fills): the path
    formula with everything but the params eliminated. Where z3 cannot eliminate them
    in time, the counterexample's own values alone."""
    model = system.model
    run = result.counterexample
    assert run is not None
    n = run.length
    parts = [system.at(system.init, 0)]
    for k in range(n):
        parts.append(system.at(system.trans, k))
        taken = run.ticks[k + 1].transition
        if taken is None:  # a stutter: no transition enabled
            parts += [z3.Not(system.at(f, k)) for f in system.fires]
        else:
            parts.append(system.at(system.fires[int(taken["index"])], k))
    broken = z3.Not(system.props[result.name])
    parts.append(system.at(broken, n - 1 if result.name in system.reads_inputs else n))
    path = z3.And(*parts)
    start = system.frame(0).state
    params = {start[name].get_id(): name for name in model.free}
    values = {name: run.ticks[0].state[name] for name in model.free}
    env = {model.variable(n).symbol: constant_expr(_exact(v)) for n, v in values.items()}
    projected = _project(path, params, system)
    if projected is not None:
        expr = tidy(projected) if tidy is not None else decode_term(model, projected)
        if expr is not None and bool(expr.subs(env)):
            return Piece(result.name, expr, values, run, True)
    point = sympy.And(*(sympy.Eq(symbol, value) for symbol, value in env.items()))
    return Piece(result.name, point, values, run, False)


def _project(
    path: z3.BoolRef, params: Mapping[int, str], system: TransitionSystem
) -> z3.BoolRef | None:
    """``path`` with every constant but the params (of frame 0) eliminated, over the
    params' own (current-state) constants; None when z3 cannot in time."""
    others = [term for term in consts(path) if term.get_id() not in params]
    ctx = system.ctx
    goal = z3.Goal(ctx=ctx)
    goal.add(z3.Exists(others, path) if others else path)
    # z3's tactics keep satisfiability, not always equivalence: qe2 given a goal with no
    # quantifier left answers whether it is satisfiable (its free params then read as
    # existential), so it runs only on what qe-light could not eliminate
    light = z3.TryFor(z3.Then("simplify", "qe-light", ctx=ctx), QE_MILLISECONDS)
    full = z3.TryFor(z3.Then("qe2", "simplify", ctx=ctx), QE_MILLISECONDS)
    try:
        found = light(goal).as_expr()
        if quantified(found):
            rest = z3.Goal(ctx=ctx)
            rest.add(found)
            found = full(rest).as_expr()
    except z3.Z3Exception:
        return None
    if quantified(found):
        return None
    start = system.frame(0).state
    return z3.substitute(found, *((start[n], system.cur[n]) for n in params.values()))


class _Tidy:
    """A region's condition simplified for a reader, knowing the box."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system = TransitionSystem(model)

    def __call__(self, expr: sympy.Basic | z3.BoolRef) -> sympy.Basic:
        from checker.smt.decode import simplified

        system = self.system
        term = expr if isinstance(expr, z3.BoolRef) else system.encode(expr)
        if term.ctx != system.ctx:
            term = term.translate(system.ctx)
        box = system.init  # the step and the other state are fixed there
        return simplified(self.model, term, box)

    def satisfiable(self, expr: sympy.Basic) -> bool:
        """Whether some value of the box satisfies ``expr`` (unknown counts as yes)."""
        solver = self.system.solver()
        solver.set("timeout", 10_000)
        solver.add(self.system.init, self.system.encode(expr))
        return bool(solver.check() != z3.unsat)


def _exact(value: Any) -> Value:
    """A counterexample's value as it shows it (an int, or exact decimal text) as a
    number."""
    if isinstance(value, int):
        return value
    read = parse_number(str(value))
    assert read is not None
    return read
