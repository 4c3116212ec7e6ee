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

from checker.engines.spacer import quantified
from checker.errors import InternalError
from checker.lang.loader import constant_expr, load_model, parse_number
from checker.model import Model, Value
from checker.options import PARAMS_ROUNDS, Options
from checker.results import Counterexample, LimitResult, ModelReport, Verdict
from checker.smt.decode import decode_term, show
from checker.smt.system import TransitionSystem

CELLS = 32  # the most cells a region is shown as
CELL_RLIMIT = 2_000_000  # z3 resource units for each question about a region's cells
QE_MILLISECONDS = 10_000  # for each way of one projection; beyond them, nothing projected
LOOP_TICKS = 16  # the longest loop of a counterexample repeated
LOOPS = 3  # the loops of one counterexample repeated
PUMP_ROUNDS = 256  # the most rounds of one loop
IDLE_ROUNDS = 3  # rounds of a loop in a row that found nothing new before it ends


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
    repeated: int = 0
    """How many more times than in the verified counterexample its run takes a loop
    (0: the counterexample found by verify; see :func:`repeated`)."""

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
            "repeated": self.repeated,
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
                for more in repeated(system, result, region, tidy):
                    pieces.append(more)
                    region = sympy.And(region, sympy.Not(more.expr))
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
    safe_expr = tidy.cells(sympy.And(region, sympy.Or(*safe))) if safe else sympy.false
    left = sympy.And(region, sympy.Or(*undecided)) if undecided else sympy.false
    undecided_expr = tidy.cells(left) if tidy.satisfiable(left) else sympy.false
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


def _taken(run: Counterexample) -> list[int | None]:
    """The transition each tick of ``run`` took (None: a stutter, none enabled)."""
    return [None if t.transition is None else int(t.transition["index"]) for t in run.ticks[1:]]


def _fired(system: TransitionSystem, taken: int | None) -> z3.BoolRef:
    """That transition ``taken`` fires (None: that none does, a stutter)."""
    if taken is not None:
        return system.fires[taken]
    if "stutter-fires" not in system.cache:
        none = [z3.Not(f) for f in system.fires]
        system.cache["stutter-fires"] = z3.And(*none, system.ctx)
    term: z3.BoolRef = system.cache["stutter-fires"]
    return term


class _Images:
    """Forward images of the runs that take given transitions, tick by tick: the set of
    (params, configuration) after each tick as a formula over the current state, every
    earlier value eliminated. Projecting one tick at a time keeps each elimination
    small: the same projection of a whole path at once can stall z3 beyond its time
    limit once the path is a few dozen ticks long."""

    def __init__(self, system: TransitionSystem) -> None:
        self.system = system
        # what each projection eliminates: the earlier configuration and the tick's
        # inputs; for the params' set, all but the params
        self.earlier = [*system.cur.values(), *system.inp.values()]
        free = set(system.model.free)
        self.all_but_params = [
            *(system.cur[name] for name in system.cur if name not in free),
            *system.inp.values(),
            *system.nxt.values(),
        ]
        self.back = [(system.nxt[name], system.cur[name]) for name in system.nxt]
        self.solver = system.solver()
        self.solver.set("timeout", 10_000)
        self.whole = True
        """False once a projection ran out of time: it gave ``false``, and every set
        since is empty or a part of what it should be."""

    def fired(self, taken: int | None) -> z3.BoolRef:
        return _fired(self.system, taken)

    def project(self, term: z3.BoolRef, others: list[z3.ExprRef]) -> z3.BoolRef:
        found, whole = _project(term, others)
        self.whole = self.whole and whole
        return found

    def after(self, reached: z3.BoolRef, taken: int | None) -> z3.BoolRef:
        """The configurations after one tick taking ``taken`` from ``reached``."""
        system = self.system
        found = self.project(z3.And(reached, system.trans, self.fired(taken)), self.earlier)
        return z3.substitute(found, *self.back)

    def through(self, reached: z3.BoolRef, taken: list[int | None]) -> z3.BoolRef:
        for index in taken:
            reached = self.after(reached, index)
        return reached

    def broken(
        self, reached: z3.BoolRef, limit: str, last: int | None, reads_inputs: bool
    ) -> z3.BoolRef:
        """The params for which a configuration of ``reached`` breaks ``limit`` (with
        ``reads_inputs``: by what the tick taking ``last`` sends)."""
        system = self.system
        bad = z3.Not(system.props[limit])
        if reads_inputs:
            bad = z3.And(reached, system.trans, self.fired(last), bad)
        else:
            bad = z3.And(reached, bad)
        return _plain(self.project(bad, self.all_but_params))

    def empty(self, term: z3.BoolRef) -> bool:
        """Whether ``term`` is unsatisfiable (unknown counts as not)."""
        self.solver.push()
        self.solver.add(term)
        answer = self.solver.check()
        self.solver.pop()
        return bool(answer == z3.unsat)


def bad_set(system: TransitionSystem, result: LimitResult, tidy: _Tidy | None = None) -> Piece:
    """The params for which a run taking the transitions of ``result``'s
    counterexample, tick by tick, breaks its limit (any inputs and fills): the path
    formula with everything but the params eliminated, one tick at a time. Where z3
    cannot eliminate them in time, the counterexample's own values alone."""
    model = system.model
    run = result.counterexample
    assert run is not None
    reads_inputs = result.name in system.reads_inputs
    taken = _taken(run)
    images = _Images(system)
    values = {name: run.ticks[0].state[name] for name in model.free}
    env = {model.variable(n).symbol: constant_expr(_exact(v)) for n, v in values.items()}
    point = sympy.And(*(sympy.Eq(symbol, value) for symbol, value in env.items()))
    reached = images.through(system.init, taken[:-1] if reads_inputs else taken)
    last = taken[-1] if reads_inputs else None
    projected = images.broken(reached, result.name, last, reads_inputs)
    try:
        expr = tidy.cells(projected) if tidy is not None else decode_term(model, projected)
    except ValueError:
        expr = None
    if expr is None:  # no form in the expression language
        return Piece(result.name, point, values, run, False)
    if not bool(expr.subs(env)):
        if images.whole:  # the set misses the run it was projected from
            raise InternalError(
                f"the params' set of the counterexample to '{result.name}' does not hold "
                f"its own values {values}: {show(expr)}"
            )
        expr = sympy.Or(expr, point)
    return Piece(result.name, expr, values, run, images.whole)


def _loops(steps: list[str], taken: list[int | None], end: int) -> list[tuple[int, int]]:
    """The stretches ``(i, j)`` of a run's first ``end`` ticks that go from a step back
    to the same step, worth repeating: shortest first, and only one of those that
    repeat into the same runs (a loop seen three times in a row is one loop)."""
    found: list[tuple[int, int]] = []
    seen: set[tuple[int | None, ...]] = set()
    pairs = [(i, j) for i in range(end) for j in range(i + 1, min(end, i + LOOP_TICKS) + 1)]
    for i, j in sorted(pairs, key=lambda p: (p[1] - p[0], p[0])):
        if steps[i] != steps[j]:
            continue
        once_more = tuple(taken[:j] + taken[i:j] + taken[j:end])
        if once_more not in seen:
            seen.add(once_more)
            found.append((i, j))
    return found[:LOOPS]


def repeated(
    system: TransitionSystem,
    result: LimitResult,
    region: sympy.Basic,
    tidy: _Tidy,
) -> list[Piece]:
    """More pieces of ``result``'s limit, from its counterexample with a loop taken
    again and again: the run's ticks from a step back to the same step, repeated.

    A counterexample covers the params for which a run of its own length breaks the
    limit. Where a limit breaks only after enough rounds of a loop (a hedge sent once
    the position has grown past a band, one quote at a time), each length covers a
    little more, and finding them one verification at a time takes a round each. Here
    the set of configurations at the loop's start is carried forward one round at a
    time, and each round gives the piece of the runs that then finish as the
    counterexample did. Each piece kept holds values outside ``region`` (the box less
    what is already unsafe) and has its own counterexample, found by the solver at one
    of those values and replayed by the interpreter. The repetition of a loop ends
    when the set at its start stops growing (no later round can reach anything new),
    when the loop cannot be taken again, after :data:`IDLE_ROUNDS` rounds that found
    nothing new, or after :data:`PUMP_ROUNDS` rounds.

    Nothing here decides a verdict: the pieces are exactly unsafe (the projection is
    exact, and each has a replayed run), and what is left of the box is verified again
    by the caller."""
    run = result.counterexample
    assert run is not None
    reads_inputs = result.name in system.reads_inputs
    taken = _taken(run)
    end = len(taken) - 1 if reads_inputs else len(taken)
    last = taken[-1] if reads_inputs else None
    steps = [tick.step for tick in run.ticks]
    pieces: list[Piece] = []
    for i, j in _loops(steps, taken, end):
        images = _Images(system)
        head = images.through(system.init, taken[:i])
        heads = [head]
        idle = 0
        for rounds in range(0, PUMP_ROUNDS + 1):
            if idle >= IDLE_ROUNDS:
                break
            head = images.through(head, taken[i:j])
            if images.empty(z3.And(head, z3.Not(z3.Or(*heads)))):
                break  # the loop's start reaches nothing new: no later round can
            heads.append(head)
            if rounds == 0:
                continue  # the counterexample itself
            tail = images.through(head, taken[j:end])
            try:
                expr = tidy.cells(images.broken(tail, result.name, last, reads_inputs))
            except ValueError:  # no form in the expression language
                break
            new = sympy.And(region, expr)
            if not tidy.satisfiable(new):
                idle += 1
                continue
            path = taken[:j] + taken[i:j] * rounds + taken[j:]
            witness = _witness(system, result.name, path, reads_inputs, new)
            if witness is None:
                idle += 1
                continue
            values = {name: witness.ticks[0].state[name] for name in system.model.free}
            pieces.append(Piece(result.name, expr, values, witness, images.whole, rounds))
            region = sympy.And(region, sympy.Not(expr))
            idle = 0
    return pieces


def _witness(
    system: TransitionSystem,
    limit: str,
    taken: list[int | None],
    reads_inputs: bool,
    where: sympy.Basic,
) -> Counterexample | None:
    """A run taking the transitions ``taken`` that breaks ``limit``, from params in
    ``where``, replayed by the interpreter; None when the solver finds none in time."""
    from checker.interpret import Interpreter
    from checker.verify.trace import extract, replay

    n = len(taken)
    parts = [system.unrolled(system.init, 0), system.at(system.encode(where), 0)]
    for k, index in enumerate(taken):
        parts += [system.unrolled(system.trans, k), system.unrolled(_fired(system, index), k)]
    parts.append(system.at(z3.Not(system.props[limit]), n - 1 if reads_inputs else n))
    solver = system.solver()
    solver.set("timeout", QE_MILLISECONDS)
    solver.add(*parts)
    if solver.check() != z3.sat:
        return None
    try:
        path = extract(system, solver.model(), n)
    except ValueError:
        return None
    model = system.model
    found = replay(model, Interpreter(model), limit, path, reads_inputs)
    return dataclasses.replace(found, shortest=False)


def _project(term: z3.BoolRef, others: list[z3.ExprRef]) -> tuple[z3.BoolRef, bool]:
    """``term`` with the constants ``others`` eliminated (those that do not occur are
    ignored), and whether that is the whole set (else ``false``: an empty part of it).

    The real-valued constants go first, then the rest: z3's model-based ``qe2`` on
    linear real arithmetic is quick, and the integer problem left is smaller. Each
    stage is ``qe-light``, then ``qe2`` on what it leaves quantified, for a quarter of
    :data:`QE_MILLISECONDS`. If that runs out (``qe2`` takes milliseconds on nearly
    every tick of a run, and on a few it runs for minutes), all at once with ``qe2``,
    then with z3's older ``qe``, for as long each."""
    ctx = term.ctx
    reals = [x for x in others if x.sort().kind() == z3.Z3_REAL_SORT]
    rest = [x for x in others if x.sort().kind() != z3.Z3_REAL_SORT]
    quick = QE_MILLISECONDS // 4
    tries = [
        [("qe2", reals, quick), ("qe2", rest, quick)],
        [("qe2", others, QE_MILLISECONDS)],
        [("qe", others, QE_MILLISECONDS)],
    ]
    for stages in tries:
        found: z3.BoolRef | None = term
        for tactic, names, milliseconds in stages:
            if found is not None:
                found = _eliminate(found, names, tactic, milliseconds)
        if found is not None:
            return found, True
    return z3.BoolVal(False, ctx), False


def _plain(term: z3.BoolRef) -> z3.BoolRef:
    """``term`` without if-then-else: each comparison over one is split into its cases
    (``cofactor-term-ite``), then put in negation normal form. The params' set a
    projection gives can hold nested ones (``If(100 <= step, step, 2*step) <= cap``),
    which read badly and cost sympy minutes to take apart."""
    ctx = term.ctx
    tactic = z3.Then("cofactor-term-ite", "nnf", "simplify", ctx=ctx)
    goal = z3.Goal(ctx=ctx)
    goal.add(term)
    try:
        found: z3.BoolRef = tactic(goal).as_expr()
    except z3.Z3Exception:
        return term
    return found


def _eliminate(
    term: z3.BoolRef, names: list[z3.ExprRef], tactic: str, milliseconds: int
) -> z3.BoolRef | None:
    """``term`` with ``names`` eliminated by ``qe-light`` then ``tactic``; None when
    either runs out of ``milliseconds`` or a quantifier is left."""
    if not names:
        return term
    ctx = term.ctx
    goal = z3.Goal(ctx=ctx)
    goal.add(z3.Exists(names, term))
    # z3's tactics keep satisfiability, not always equivalence: qe2 given a goal with no
    # quantifier left answers whether it is satisfiable (its free params then read as
    # existential), so it runs only on what qe-light leaves quantified
    light = z3.TryFor(z3.Then("simplify", "qe-light", ctx=ctx), milliseconds)
    full = z3.TryFor(z3.Then(tactic, "simplify", ctx=ctx), milliseconds)
    try:
        found = light(goal).as_expr()
        if not quantified(found):
            return found
        rest = z3.Goal(ctx=ctx)
        rest.add(found)
        found = full(rest).as_expr()
    except z3.Z3Exception:
        return None
    return None if quantified(found) else found


class _Tidy:
    """A region's condition simplified for a reader, knowing the box."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system = TransitionSystem(model)
        self.whole = {v.symbol for v in model.state if v.type.kind == "int"}

    def __call__(self, expr: sympy.Basic | z3.BoolRef) -> sympy.Basic:
        from checker.smt.decode import simplified

        box = self.system.init  # the step and the other state are fixed there
        found = simplified(self.model, self.term(expr), box)
        return found.replace(lambda e: isinstance(e, _RELATIONS), self.readable)

    def term(self, expr: sympy.Basic | z3.BoolRef) -> z3.BoolRef:
        """``expr`` as a z3 term of this model's context."""
        system = self.system
        term = expr if isinstance(expr, z3.BoolRef) else system.encode(expr)
        return term if term.ctx == system.ctx else term.translate(system.ctx)

    def readable(self, relation: sympy.Basic) -> sympy.Basic:
        """A comparison as a reader writes it: the params on the left with the first
        one's sign positive, a number on the right, and over whole numbers ``<=`` and
        ``>=`` (``not 201 <= hedge_size`` is ``hedge_size <= 200``)."""
        kind = type(relation)
        difference = sympy.expand(relation.lhs - relation.rhs)
        constant, rest = difference.as_coeff_Add()
        if rest == 0 or not rest.free_symbols:
            return relation
        first = min(rest.free_symbols, key=str)
        if rest.coeff(first) < 0:
            rest, constant, kind = -rest, -constant, _FLIPPED.get(kind, kind)
        bound = -constant
        whole = all(
            s in self.whole and c.is_integer for s, c in rest.as_coefficients_dict().items()
        )
        if whole and kind is sympy.StrictLessThan:
            kind, bound = sympy.LessThan, sympy.ceiling(bound) - 1
        elif whole and kind is sympy.StrictGreaterThan:
            kind, bound = sympy.GreaterThan, sympy.floor(bound) + 1
        found: sympy.Basic = kind(rest, bound)
        return found

    def cells(self, expr: sympy.Basic | z3.BoolRef) -> sympy.Basic:
        """``expr`` within the box as a union of cells, each a conjunction of a few of
        its own comparisons (a box, or a polyhedron): what a reader can take in, where
        the region itself is the box less every unsafe piece. Each cell is grown from a
        value of the set: the comparisons that value satisfies, less each one the rest
        of them need not keep inside the set. More than :data:`CELLS` cells, or a solver
        that cannot tell, and the set is only simplified."""
        system = self.system
        term = self.term(expr)
        atoms = _atoms(term)
        within = system.solver()  # values of the set no cell holds yet
        within.set("rlimit", CELL_RLIMIT)
        within.add(system.init, term)
        outside = system.solver()  # can a cell leave the set?
        outside.set("rlimit", CELL_RLIMIT)
        outside.add(system.init, z3.Not(term))
        cells: list[z3.BoolRef] = []
        while len(cells) <= CELLS:
            answer = within.check()
            if answer == z3.unsat:
                break
            if answer != z3.sat:
                return self(expr)
            model = within.model()
            kept = [
                atom if z3.is_true(model.eval(atom, model_completion=True)) else z3.Not(atom)
                for atom in atoms
            ]
            for literal in list(kept):
                trial = [k for k in kept if k is not literal]
                outside.push()
                outside.add(*trial)
                answer = outside.check()
                outside.pop()
                if answer == z3.unsat:
                    kept = trial
            cell = z3.And(*kept, system.ctx)
            cells.append(cell)
            within.add(z3.Not(cell))
        else:
            return self(expr)
        # a cell grown early can lie inside the union of later, larger ones
        inside = system.solver()
        inside.set("rlimit", CELL_RLIMIT)
        inside.add(system.init)
        for cell in list(cells):
            others = [c for c in cells if c is not cell]
            if not others:
                break
            inside.push()
            inside.add(cell, z3.Not(z3.Or(*others, system.ctx)))
            if inside.check() == z3.unsat:
                cells = others
            inside.pop()
        found = [self(cell) for cell in cells]
        return sympy.Or(*found)

    def satisfiable(self, expr: sympy.Basic) -> bool:
        """Whether some value of the box satisfies ``expr`` (unknown counts as yes)."""
        solver = self.system.solver()
        solver.set("timeout", 10_000)
        solver.add(self.system.init, self.system.encode(expr))
        return bool(solver.check() != z3.unsat)


_RELATIONS = (sympy.LessThan, sympy.StrictLessThan, sympy.GreaterThan, sympy.StrictGreaterThan)
_FLIPPED = {
    sympy.LessThan: sympy.GreaterThan,
    sympy.GreaterThan: sympy.LessThan,
    sympy.StrictLessThan: sympy.StrictGreaterThan,
    sympy.StrictGreaterThan: sympy.StrictLessThan,
}


def _atoms(term: z3.ExprRef) -> list[z3.BoolRef]:
    """The comparisons in ``term`` (below its and, or, not), each once."""
    found: dict[int, z3.BoolRef] = {}
    seen: set[int] = set()
    stack = [term]
    while stack:
        t = stack.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_and(t) or z3.is_or(t) or z3.is_not(t) or z3.is_implies(t):
            stack += t.children()
        elif not (z3.is_true(t) or z3.is_false(t)):
            found.setdefault(t.get_id(), t)
    return list(found.values())


def _exact(value: Any) -> Value:
    """A counterexample's value as it shows it (an int, or exact decimal text) as a
    number."""
    if isinstance(value, int):
        return value
    read = parse_number(str(value))
    assert read is not None
    return read
