"""The ``stuck`` check (language version 2): a strategy that is safe because it has
stopped trading without halting.

A configuration outside the final steps is *stuck* when, from it, no transition that
sends ``place`` can fire again, whatever admissible inputs the market chooses, and the
strategy is not made to halt: some run from it stays outside the final steps for good.
The check reports one only when it is shown: a configuration ``c`` reached by a run
(replayed by the interpreter); an inductive invariant, found by Spacer from ``c`` and
checked again, that contains ``c``, is kept by every admissible tick and holds in no
configuration where a placing transition can fire; and either the invariant holds in no
final configuration (whatever the market does, the strategy neither trades nor halts),
or a run from ``c`` comes back to a configuration it has been in without passing a final
step (it can wait there for ever: a kill switch, say, could halt it, but nothing makes
it trade again).

It is a finder, not a proof of progress. Candidates are searched depth by depth with
BMC, up to :data:`SEARCH_DEPTH` ticks: a reachable, non-final configuration that admits
inputs with which it does not halt at once, and from which no run of at most
:data:`LOOKAHEAD` ticks places an order, *whatever* the market does. That "whatever" is
found by refinement: when some market moves make a candidate place an order within the
lookahead, those moves, tick by tick, are kept as a witness that every later candidate
must also resist. A move is the market inputs of a tick and, per side of a book, whether
its working and its pending orders fill in full or not at all, so one witness reads the
book it meets and passes over every configuration the same moves would unstick. A
candidate that resists is given to Spacer to trap. When none is shown, the note says how
deep the search went.
"""

from __future__ import annotations

from fractions import Fraction

import sympy
import z3

from checker.draw import conjuncts
from checker.engines import Budget, Unroller, spacer
from checker.interpret import Interpreter
from checker.results import Finding, Severity, Verdict
from checker.smt.decode import invariant_by_step
from checker.smt.system import STEP, TransitionSystem
from checker.verify.trace import Path, at_config, extract, replay

SEARCH_DEPTH = 6
"""Deepest run the search for candidates looks at."""

LOOKAHEAD = 3
"""Ticks a candidate must go through, whatever the inputs, without placing or halting."""

WITNESSES = 40
"""Most witnesses (market moves that unstick a candidate) the search keeps in all."""

TRAPS = 4
"""Most candidates Spacer tries to trap."""

TRAP_RLIMIT = 5_000_000
"""z3 resource units for Spacer to trap one candidate (deterministic, not timed)."""


def stuck(
    system: TransitionSystem, unroller: Unroller, interpreter: Interpreter, budget: Budget
) -> list[Finding]:
    """A warning with the configuration and the run when a stuck configuration is shown;
    otherwise a note saying how far the search went. Nothing for a model without
    instruments or without a transition that places orders."""
    model = system.model
    placing = [t.index for t in model.transitions if any(a.name == "place" for a in t.emit)]
    if not model.instruments or not placing:
        return []
    return [_Search(system, unroller, interpreter, budget, placing).run()]


class _Search:
    """The lookahead, the witnesses kept so far and the candidates tried."""

    def __init__(
        self,
        system: TransitionSystem,
        unroller: Unroller,
        interpreter: Interpreter,
        budget: Budget,
        placing: list[int],
    ) -> None:
        self.system, self.unroller, self.interpreter = system, unroller, interpreter
        self.budget = budget
        ctx = system.ctx
        self.final = z3.Or(
            z3.BoolVal(False, ctx),
            *(system.cur[STEP] == system.step_index[s] for s in system.model.final),
        )
        self.places = z3.Or(*(system.fires[i] for i in placing))
        self.escape, self.moves = self._lookahead()
        self.witnesses: list[z3.BoolRef] = []  # terms over the current state
        self.tried = 0

    def _lookahead(self) -> tuple[z3.BoolRef, list[z3.ExprRef]]:
        """A term over the current state and the market moves of :data:`LOOKAHEAD` ticks
        (fresh constants, returned): the run with those moves places an order within the
        lookahead. A move is the tick's market inputs and, for each side of a book,
        whether its working and its pending orders fill in full or not at all: so a
        witness reads the book it meets (all that is pending fills, whatever that is)
        and unsticks every configuration the same moves would."""
        system = self.system
        state = {n: system.cur[n] for n in system.cur}
        moves: list[z3.ExprRef] = []
        went: list[z3.BoolRef] = []  # the ticks taken so far were admissible
        ways: list[z3.BoolRef] = []
        ctx = system.ctx
        book = system.book
        fills = {v.name for v in system.model.inputs if v.builtin}
        anchors = self.anchors = _anchors(system)
        for j in range(LOOKAHEAD):
            here = [(system.cur[n], state[n]) for n in system.cur]
            inputs: dict[str, z3.ExprRef] = {}
            for n, t in system.inp.items():
                if n not in fills:
                    inputs[n] = z3.Const(f"{n}@ahead{j}", t.sort())
                    moves.append(inputs[n])
                    if n in anchors:  # as an offset from the state that bounds it
                        inputs[n] = z3.substitute(anchors[n], *here) + inputs[n]
            for side in book.sides:
                takes = z3.Bool(f"{side.fill}@ahead{j}", ctx)
                moves.append(takes)
                pending = state[side.pending] if side.pending is not None else 0
                working = state[side.open] - pending
                late = pending
                if side.fill_pending is not None:
                    takes_late = z3.Bool(f"{side.fill_pending}@ahead{j}", ctx)
                    moves.append(takes_late)
                    late = z3.If(takes_late, pending, 0 * working)
                    inputs[side.fill_pending] = late
                inputs[side.fill] = z3.If(takes, working, 0 * working) + (
                    late if side.fill_pending is not None else 0 * working
                )
            pairs = here + [(system.inp[n], inputs[n]) for n in system.inp]
            admissible = z3.substitute(system.admissible, *pairs)
            places = z3.substitute(self.places, *pairs)
            ways.append(z3.And(*went, admissible, places))
            went.append(admissible)
            state = {n: z3.substitute(system.next_values[n], *pairs) for n in system.cur}
        return z3.Or(*ways), moves

    def _moves(self, found: z3.ModelRef) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        """The market moves of a witness, from the solver's model: every move as the
        value it took, except that a market input of the first tick is taken relative
        to the state variable of its sort whose value was nearest (a price near the
        grid's centre stays near whatever the centre is), so the witness serves every
        configuration where the same move from that variable unsticks it."""
        system = self.system
        user = [v for v in system.model.state if v.type.numeric and not v.builtin]
        fixed: list[tuple[z3.ExprRef, z3.ExprRef]] = []
        for move in self.moves:
            value = found.eval(move, model_completion=True)
            name = move.decl().name()
            if name.endswith("@ahead0") and (z3.is_int(move) or z3.is_real(move)):
                anchor = self.anchors.get(name.removesuffix("@ahead0"))
                shown = value if anchor is None else found.eval(anchor + move, True)
                near = None
                for v in user:
                    term = system.cur[v.name]
                    if z3.is_int(term) != z3.is_int(move):
                        continue
                    at = found.eval(term, model_completion=True)
                    gap = _number(found.eval(shown - at, True))
                    if abs(gap) < abs(_number(shown)) and (near is None or abs(gap) < near[0]):
                        near = (abs(gap), term, found.eval(shown - at, True))
                if near is not None:
                    _, term, offset = near
                    value = term + offset - (anchor if anchor is not None else 0)
            fixed.append((move, value))
        return fixed

    def spent(self) -> bool:
        return self.budget.expired or self.tried >= TRAPS or len(self.witnesses) >= WITNESSES

    def run(self) -> Finding:
        """The warning for the first candidate shown stuck, or the note, searching the
        configurations BMC reaches depth by depth (so the run shown is a shortest one
        to a candidate)."""
        searched = -1
        for depth in range(SEARCH_DEPTH + 1):
            found, finished = self._search(depth)
            if found is not None:
                return found
            if not finished:
                break
            searched = depth
        return self.note(searched)

    def _search(self, depth: int) -> tuple[Finding | None, bool]:
        """Candidates reached in ``depth`` ticks: a finding, or None and whether none is
        left there."""
        system = self.system
        excluded: list[z3.BoolRef] = []
        while not self.spent():
            wanted = z3.And(z3.Not(self.final), *self.witnesses, *(z3.Not(c) for c in excluded))
            # a run of two ticks more, which comes back to the candidate after one or
            # two: it can wait there (in a step, or going back and forth between two)
            now = system.frame(depth).state
            waits = z3.Or(
                *(
                    z3.And(*(now[n] == system.frame(depth + k).state[n] for n in now))
                    for k in (1, 2)
                )
            )
            result, found = self.unroller.check(
                z3.BoolVal(True, system.ctx),
                depth + 2,
                self.budget.part(0.3),
                path=[system.at(wanted, depth), waits],
            )
            if result == z3.unsat:
                return None, True
            if result != z3.sat or found is None:
                return None, False
            path = extract(system, found, depth + 2)[: depth + 1]
            here = at_config(system, path[-1][0])
            solver = z3.Solver(ctx=system.ctx)
            solver.add(here, self.escape)
            answer = self.budget.check(solver)
            if answer == z3.sat:  # these market moves unstick it: the next must resist
                fixed = self._moves(solver.model())
                self.witnesses.append(z3.simplify(z3.Not(z3.substitute(self.escape, *fixed))))
                continue
            if answer != z3.unsat:
                return None, False
            finding = self._trap(path, here)
            if finding is not None:
                return finding, True
            excluded.append(here)
        return None, False

    def _trap(self, path: Path, here: z3.BoolRef) -> Finding | None:
        """The finding when Spacer shows the end of ``path`` stuck."""
        system = self.system
        self.tried += 1
        outcome = spacer(system, self.places, self.budget.capped(TRAP_RLIMIT), init=here)
        if outcome.verdict is not Verdict.PROVED or outcome.invariant is None:
            return None
        inside = z3.Solver(ctx=system.ctx)
        inside.add(outcome.invariant, self.final)
        halting = self.budget.check(inside)
        if halting == z3.unknown:
            return None
        shortest = self._shortest(z3.And(outcome.invariant, z3.Not(self.final)), len(path) - 1)
        return _finding(
            system, self.interpreter, shortest or path, outcome.invariant, halting == z3.sat
        )

    def _shortest(self, trap: z3.BoolRef, most: int) -> Path | None:
        """The shortest run BMC finds into ``trap`` (every configuration in it is stuck),
        of fewer than ``most`` ticks; None when none is found in budget."""
        for depth in range(most):
            result, found = self.unroller.check(trap, depth, self.budget.part(0.2))
            if result == z3.sat and found is not None:
                return extract(self.system, found, depth)
            if result != z3.unsat:
                return None
        return None

    def note(self, searched: int) -> Finding:
        model = self.system.model
        reach = f"runs of up to {searched} tick(s)" if searched >= 0 else "no run"
        stop = f" ({self.budget.why()})" if self.budget.expired else ""
        return Finding(
            "stuck",
            Severity.NOTE,
            f"no stuck configuration found in {reach}{stop}: every configuration they "
            "reach that is not final and can wait (come back to itself in one or two "
            f"ticks) can place an order within {LOOKAHEAD} tick(s) after "
            + (
                f"one of {len(self.witnesses)} market move(s)"
                if self.witnesses
                else "any market move (none was found that waits)"
            )
            + f", or was shown to later ({self.tried} given to Spacer). This is a search, "
            "not a proof that the strategy keeps trading.",
            model.step_lines[model.initial],
            model.step_columns[model.initial],
        )


def _number(value: z3.ExprRef) -> Fraction:
    """A numeral of a z3 model as an exact fraction."""
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    return Fraction(value.numerator_as_long(), value.denominator_as_long())


def _anchors(system: TransitionSystem) -> dict[str, z3.ExprRef]:
    """For a numeric market input that an assumption bounds by the state alone (a clock
    ``now >= clock``), the bound, as a term over the current state: the search's market
    moves give such an input as an offset from it, so one witness serves whatever the
    clock reads."""
    model = system.model
    inputs = {v.symbol: v for v in model.inputs if v.type.numeric and not v.builtin}
    found: dict[str, z3.ExprRef] = {}
    for atom in (c for a in model.assumptions for c in conjuncts(a.expr)):
        if not isinstance(atom, sympy.Rel) or isinstance(atom, sympy.Ne):
            continue
        read = atom.free_symbols & set(inputs)
        if len(read) != 1:
            continue
        (symbol,) = read
        if symbol.name in found or not (atom.free_symbols - read):
            continue
        try:
            solved = sympy.solve(sympy.Eq(atom.lhs, atom.rhs), symbol)
        except (NotImplementedError, TypeError, ValueError):
            continue
        if len(solved) == 1 and not solved[0].free_symbols & set(inputs):
            bound = system.encode(solved[0])
            if z3.is_real(bound) == z3.is_real(system.inp[symbol.name]):
                found[symbol.name] = bound
    return found


def _finding(
    system: TransitionSystem,
    interpreter: Interpreter,
    path: Path,
    invariant: z3.BoolRef,
    may_halt: bool,
) -> Finding:
    model = system.model
    run = replay(model, interpreter, None, path)
    last = run.ticks[-1]
    hidden = {v.name for v in model.state if v.hidden}
    state = ", ".join(f"{k}={value}" for k, value in last.state.items() if k not in hidden)
    where = "; ".join(
        f"{step}: {text}"
        for step, text in invariant_by_step(system, invariant).items()
        if text != "false"
    )
    return Finding(
        "stuck",
        Severity.WARNING,
        f"stuck after {run.length} tick(s) of the run below, in step '{last.step}' with "
        f"{state}: from there no transition that places an order can fire again, whatever "
        "the market does within the assumptions, "
        + (
            "and the strategy can wait there for ever without halting (some market ticks "
            "leave it as it is)"
            if may_halt
            else "and no final step is ever reached"
        )
        + f". The configurations it stays in (an inductive invariant): {where}",
        model.step_lines[last.step],
        model.step_columns[last.step],
        run=run,
    )
