"""The ``stuck`` check (language version 2): a strategy that is safe because it has
stopped trading without halting.

A configuration is *stuck* when, from it, no transition that sends ``place`` can fire
again and no final step is reached, whatever admissible inputs the market chooses. The
check reports one only when it is shown: a configuration ``c`` reached by a run (replayed
by the interpreter), and an inductive invariant, found by Spacer from ``c`` and checked
again, that contains ``c``, is kept by every admissible tick, and holds in no
configuration that is final or where a placing transition can fire.

It is a finder, not a proof of progress. The search goes depth by depth with BMC for a
candidate: a reachable, non-final configuration that admits some inputs and from which
no run of at most :data:`LOOKAHEAD` ticks places an order or halts, *whatever* the
inputs. That "whatever" is found by refinement: when some inputs make a candidate escape
(place or halt) within the lookahead, those inputs, tick by tick, are kept as a witness
that the next candidate must also resist, so one witness passes over every configuration
the same market moves would unstick. A candidate that resists the lookahead is given to
Spacer; if Spacer traps it, the shortest run BMC finds into the trap is shown. When none
is shown, a note says how far the search went.
"""

from __future__ import annotations

import z3

from checker.engines import Budget, Unroller, spacer
from checker.interpret import Config, Interpreter
from checker.results import Finding, Severity, Verdict
from checker.smt.decode import invariant_by_step
from checker.smt.system import STEP, TransitionSystem, value_term
from checker.verify.trace import Path, extract, replay

SEARCH_DEPTH = 12
"""Deepest run the search for candidates looks at."""

LOOKAHEAD = 4
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
    search = _Search(system, unroller, interpreter, budget, placing)
    searched = -1
    for depth in range(SEARCH_DEPTH + 1):
        found, finished = search.at_depth(depth)
        if found is not None:
            return [found]
        if not finished:
            break
        searched = depth
    return [search.note(searched)]


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
        """A term over the current state and the inputs of :data:`LOOKAHEAD` ticks
        (fresh constants, returned): some run with those inputs places an order or
        reaches a final step within the lookahead."""
        system = self.system
        state = {n: system.cur[n] for n in system.cur}
        moves: list[z3.ExprRef] = []
        went: list[z3.BoolRef] = []  # the ticks taken so far were admissible
        ways: list[z3.BoolRef] = []
        for j in range(LOOKAHEAD + 1):
            here = [(system.cur[n], state[n]) for n in system.cur]
            final = z3.substitute(self.final, *here)
            if j == LOOKAHEAD:
                ways.append(z3.And(*went, final))
                break
            fresh = {n: z3.Const(f"{n}@ahead{j}", t.sort()) for n, t in system.inp.items()}
            moves += fresh.values()
            pairs = here + [(system.inp[n], fresh[n]) for n in system.inp]
            admissible = z3.substitute(system.admissible, *pairs)
            places = z3.substitute(self.places, *pairs)
            ways.append(z3.And(*went, z3.Or(final, z3.And(admissible, places))))
            went.append(admissible)
            state = {n: z3.substitute(system.next_values[n], *pairs) for n in system.cur}
        return z3.Or(*ways), moves

    def spent(self) -> bool:
        return self.budget.expired or self.tried >= TRAPS or len(self.witnesses) >= WITNESSES

    def at_depth(self, depth: int) -> tuple[Finding | None, bool]:
        """Search the configurations reached in ``depth`` ticks: a finding, or None and
        whether the depth was searched to the end."""
        system = self.system
        tried_here: list[z3.BoolRef] = []
        while not self.spent():
            wanted = z3.And(
                z3.Not(self.final),
                *(system.at(w, depth) for w in self.witnesses),
                *(system.at(z3.Not(c), depth) for c in tried_here),
            )
            result, found = self.unroller.check(wanted, depth, self.budget.part(0.3), True)
            if result == z3.unsat:
                return None, True
            if result != z3.sat or found is None:
                return None, False
            path = extract(system, found, depth)
            here = _at_config(system, path[-1][0])
            solver = z3.Solver(ctx=system.ctx)
            solver.add(here, self.escape)
            answer = self.budget.check(solver)
            if answer == z3.sat:  # these market moves unstick it: the next must resist
                moves = solver.model()
                fixed = [(m, moves.eval(m, model_completion=True)) for m in self.moves]
                self.witnesses.append(z3.Not(z3.substitute(self.escape, *fixed)))
                continue
            if answer != z3.unsat:
                return None, False
            finding = self._trap(path, here)
            if finding is not None:
                return finding, True
            tried_here.append(here)
        return None, False

    def _trap(self, path: Path, here: z3.BoolRef) -> Finding | None:
        """The finding when Spacer shows the end of ``path`` stuck."""
        system = self.system
        self.tried += 1
        outcome = spacer(
            system, z3.Or(self.final, self.places), self.budget.capped(TRAP_RLIMIT), init=here
        )
        if outcome.verdict is not Verdict.PROVED or outcome.invariant is None:
            return None
        inside = z3.Solver(ctx=system.ctx)
        inside.add(outcome.invariant, self.final)
        if self.budget.check(inside) != z3.unsat:
            return None
        return _finding(system, self.interpreter, path, outcome.invariant)

    def note(self, searched: int) -> Finding:
        model = self.system.model
        reach = f"runs up to {searched} tick(s)" if searched >= 0 else "no run"
        stop = ""
        if self.budget.expired:
            stop = f" ({self.budget.why()})"
        elif self.tried >= TRAPS or len(self.witnesses) >= WITNESSES:
            stop = " (the search's own bounds were reached)"
        return Finding(
            "stuck",
            Severity.NOTE,
            f"no stuck configuration found in {reach}{stop}: every reachable configuration "
            f"examined places an order or halts within {LOOKAHEAD} tick(s) for some "
            f"market moves ({len(self.witnesses)} kept as witnesses), or was shown to by "
            f"Spacer ({self.tried} tried). This is a search, not a proof that the strategy "
            "keeps trading.",
            model.step_lines[model.initial],
            model.step_columns[model.initial],
        )


def _at_config(system: TransitionSystem, config: Config) -> z3.BoolRef:
    """The configuration ``config`` as a term over the current state."""
    parts = [system.cur[STEP] == system.step_index[config.step]]
    for v in system.model.state:
        parts.append(system.cur[v.name] == value_term(v.type, config.values[v.name], system.ctx))
    return z3.And(*parts)


def _finding(
    system: TransitionSystem, interpreter: Interpreter, path: Path, invariant: z3.BoolRef
) -> Finding:
    model = system.model
    run = replay(model, interpreter, None, path)
    last = run.ticks[-1]
    state = ", ".join(f"{v.name}={last.state[v.name]}" for v in model.state if not v.hidden)
    where = "; ".join(
        f"{step}: {text}"
        for step, text in invariant_by_step(system, invariant).items()
        if text != "false"
    )
    return Finding(
        "stuck",
        Severity.WARNING,
        f"stuck after {run.length} tick(s) of the run below, in step '{last.step}' with "
        f"{state}: from there no transition that places an order can fire again and no "
        "final step is reached, whatever the market does within the assumptions. The "
        f"configurations it stays in (an inductive invariant): {where}",
        model.step_lines[last.step],
        model.step_columns[last.step],
        run=run,
    )
