"""Sanity checks: a proof must not be vacuous, and a model should not carry dead code.

- the ranges and assumptions admit inputs in the initial configuration (otherwise every
  run stops before its first tick and nothing is proved about any run);
- no reachable configuration is a dead end (no admissible inputs: runs end there);
- every transition fires in some reachable configuration (otherwise: dead);
- no transition is shadowed by earlier ones from the same step;
- no limit is a tautology (it would constrain nothing);
- products of variables are reported, since they make the model nonlinear.
"""

from __future__ import annotations

import z3

from checker.engines import Budget, Unroller, bmc, spacer
from checker.interpret import Config
from checker.lang.loader import ACTION_ARGUMENT
from checker.model import Model, Transition
from checker.results import Finding, Severity, Verdict
from checker.smt.system import TransitionSystem, all_true
from checker.verify.explore import covered_by_walks
from checker.verify.portfolio import shorten
from checker.verify.trace import at_config, extract, json_value

COVER_DEPTH = 10
"""How deep the coverage search looks for runs that fire each transition (and the first
search for a dead end)."""

COVER_RLIMIT = 400_000
"""z3 resource units the bounded coverage search may spend in all, the price of twenty
Spacer queries it could spare (:data:`PROOF_RLIMIT`): past a few ticks its unrolling
costs more than the proofs it would make unnecessary. Like the walks, it only decides
which transitions are queried."""

PROOF_RLIMIT = 20_000
"""z3 resource units (about a hundredth of a second here) for Spacer to prove one
transition dead or a dead end unreachable. Proofs of unreachability are cheap (one to
seven thousand units on the known-bad models, most of them settled by Houdini's lemmas
before Spacer is asked; every model of ``tests/models`` and ``models/`` has the same
findings at 10,000, 20,000 and 50,000 units), while a transition that is reachable but
deep would use up any budget, so an undecided query is passed over: a transition is
reported dead only when that is proved. Every transition that no run was found to fire
costs up to this much, which is what makes the sanity checks of a large model
expensive. Findings do not depend on timing: the coverage search only decides which
transitions are queried, and a reachable one can never be proved dead."""


QE_FAST_MS = 500
"""Wall-clock milliseconds for eliminating the inputs from the ranges and assumptions by
z3's model-based elimination (the ``qe2`` tactic), tried first: on the translated
CHC-COMP problems it finishes in a few hundredths of a second where the classic
elimination runs out of :data:`QE_MS`, and the other way round on others."""

QE_MS = 3_000
"""Wall-clock milliseconds for eliminating the inputs from the ranges and assumptions by
z3's classic elimination (the ``qe`` tactic) when the model-based one did not finish (at
most 30 % of the sanity budget). Where neither finishes, the search for a dead end
within :data:`COVER_DEPTH` ticks goes on with the quantified question instead, and only
what lies deeper is left unchecked."""

DEAD_END_RLIMIT = 500_000
"""z3 resource units for the quantified question that rules out every dead end at once
(:func:`_no_dead_end`); when it is not answered in that many, the checks go on as if it
had not been asked."""


def _solve(system: TransitionSystem, budget: Budget, *terms: z3.BoolRef) -> z3.CheckSatResult:
    """A quantifier-free question about ``system``, with a fresh solver."""
    solver = system.solver()
    solver.add(*terms)
    return budget.check(solver)


def initially_admissible(system: TransitionSystem, budget: Budget) -> z3.CheckSatResult:
    """Are there inputs the ranges and assumptions allow in the initial configuration?"""
    return _solve(system, budget, system.init, system.admissible)


def _assumptions_at(model: Model) -> tuple[int, int]:
    """Where a problem with the assumptions is reported: the first assumption, or the
    first input when there are none."""
    if model.assumptions:
        first = min(model.assumptions, key=lambda a: a.line)
        return first.line, first.column
    if model.inputs:
        return min(v.line for v in model.inputs), 3
    return 1, 1


def vacuity_finding(model: Model) -> Finding:
    line, column = _assumptions_at(model)
    return Finding(
        "vacuous-assumptions",
        Severity.WARNING,
        "NO PROOF IS MEANINGFUL: no inputs satisfy the ranges and assumptions in the initial "
        "configuration, so every run stops before its first tick; the limits are reported "
        "unknown. Check `assume` and the input ranges for a contradiction.",
        line,
        column,
    )


class _Asker:
    """One solver for many questions over the same base facts: each question is pushed
    on top of them and popped after (a fresh solver per question would rebuild the
    base every time)."""

    def __init__(self, budget: Budget, *base: z3.BoolRef) -> None:
        self.budget = budget
        self.solver = z3.Solver(ctx=base[0].ctx)
        self.solver.add(*base)

    def __call__(self, *terms: z3.BoolRef) -> z3.CheckSatResult:
        self.solver.push()
        try:
            self.solver.add(*terms)
            return self.budget.check(self.solver)
        finally:
            self.solver.pop()


def tautologies(system: TransitionSystem, budget: Budget) -> list[Finding]:
    found = []
    ask = _Asker(budget, system.state_domain)
    for lim in system.model.limits:
        if ask(z3.Not(system.limits[lim.name])) == z3.unsat:
            found.append(
                Finding(
                    "tautology-limit",
                    Severity.WARNING,
                    f"limit '{lim.name}' holds in every configuration, reachable "
                    "or not: it constrains nothing",
                    lim.line,
                    lim.column,
                )
            )
    return found


def shadowed(system: TransitionSystem, budget: Budget) -> tuple[list[Finding], set[int]]:
    """Transitions whose ``when`` never holds, or never holds without an earlier
    transition of the same step holding too. Returns findings and their indices."""
    findings: list[Finding] = []
    indices: set[int] = set()
    ask = _Asker(budget, system.state_domain, system.admissible)
    for step in system.model.steps:
        earlier: list[Transition] = []
        for t in system.model.outgoing(step):
            guard = system.guards[t.index]
            if ask(guard) == z3.unsat:
                findings.append(
                    Finding(
                        "dead-transition",
                        Severity.WARNING,
                        f"transition {t.label} can never fire: its `when` "
                        "never holds under the ranges and assumptions",
                        t.line,
                        t.column,
                    )
                )
                indices.add(t.index)
            elif (
                earlier
                and ask(guard, *(z3.Not(system.guards[e.index]) for e in earlier)) == z3.unsat
            ):
                by = [e for e in earlier if ask(guard, system.guards[e.index]) != z3.unsat]
                lines = ", ".join(f"{e.label} at line {e.line}" for e in by)
                findings.append(
                    Finding(
                        "shadowed-transition",
                        Severity.WARNING,
                        f"transition {t.label} can never fire: whenever its "
                        f"`when` holds, an earlier transition fires first "
                        f"({lines})",
                        t.line,
                        t.column,
                    )
                )
                indices.add(t.index)
            earlier.append(t)
    return findings, indices


def dead_transitions(
    system: TransitionSystem,
    unroller: Unroller,
    skip: set[int],
    budget: Budget,
    lemmas: z3.BoolRef | None = None,
) -> list[Finding]:
    """Transitions that fire in no reachable configuration. Runs that fire them are
    searched for first, by simulation and then by bounded search (covering many at
    once); each one left is then proved unreachable, from ``lemmas`` (an invariant
    already proved) when they suffice, else with Spacer, or passed over when that is
    not decided within its budget."""
    uncovered = {t.index for t in system.model.transitions} - skip
    uncovered -= covered_by_walks(system.model)
    depth = 0
    search = budget.capped(COVER_RLIMIT)
    while uncovered and depth <= COVER_DEPTH and not search.expired:
        target = z3.Or(*(system.fires[i] for i in uncovered))
        result, model = unroller.check(target, depth, search.part(0.5), over_inputs=True)
        if result == z3.sat:
            assert model is not None
            for k in range(depth + 1):
                for i in list(uncovered):
                    if z3.is_true(model.eval(system.at(system.fires[i], k), model_completion=True)):
                        uncovered.discard(i)
        else:
            depth += 1
    findings = []
    if lemmas is not None:
        known = _Asker(budget, system.state_domain, lemmas, system.admissible)
    for position, i in enumerate(sorted(uncovered)):
        if budget.expired:
            left = len(uncovered) - position
            findings.append(
                Finding(
                    "dead-transition-unchecked",
                    Severity.WARNING,
                    f"the dead-transition check ran out of its budget ({budget.why()}): "
                    f"{left} transition(s) were neither reached by a run nor examined for a "
                    "proof",
                    system.model.transitions[i].line,
                    system.model.transitions[i].column,
                )
            )
            break
        t = system.model.transitions[i]
        if lemmas is not None and known(system.fires[i]) == z3.unsat:
            proved = True
        else:
            outcome = spacer(system, system.fires[i], budget.capped(PROOF_RLIMIT), lemmas)
            proved = outcome.verdict is Verdict.PROVED
        if proved:
            findings.append(
                Finding(
                    "dead-transition",
                    Severity.WARNING,
                    f"transition {t.label} never fires in any reachable configuration",
                    t.line,
                    t.column,
                )
            )
    return findings


def _inputs_exist(system: TransitionSystem, budget: Budget) -> z3.BoolRef | None:
    """A quantifier-free condition on the state that holds exactly where some inputs are
    admissible (quantifier elimination), or None when it cannot be computed."""
    if not system.inp:
        return z3.simplify(system.admissible)
    admissible, inputs = system.admissible, system.input_args()
    model = system.model
    fills = [v for v in model.inputs if v.builtin]
    read = {s.name for a in model.assumptions for s in a.expr.free_symbols}
    if fills and not read & {v.name for v in fills}:
        # No assumption reads a fill, and no fill at all is within the book of every
        # reachable configuration (its working and pending quantities are never
        # negative): whether inputs exist depends on the market's inputs alone.
        market = [v for v in model.inputs if not v.builtin]
        admissible = all_true(
            [
                *(system.input_domain_of(v) for v in market),
                *system.assumptions.values(),
            ],
            system.ctx,
        )
        inputs = [system.inp[v.name] for v in market]
        if not inputs:
            return z3.simplify(admissible)
    parts = [
        f for g in z3.Tactic("simplify", ctx=system.ctx)(z3.Exists(inputs, admissible)) for f in g
    ]
    if not any(z3.is_quantifier(p) for p in parts):
        # simplification alone eliminated the inputs; `qe2` must not be given a goal
        # without a quantifier, which it answers as a satisfiability question (with
        # no condition at all when it is satisfiable)
        return all_true(parts, system.ctx)
    question = all_true(parts, system.ctx)
    for method, most in (("qe2", QE_FAST_MS), ("qe", QE_MS)):
        tactic = z3.TryFor(z3.Then(method, "simplify", ctx=system.ctx), min(budget.ms(0.3), most))
        try:
            goals = tactic(question)
        except z3.Z3Exception:
            continue
        parts = [f for g in goals for f in g]
        if not any(z3.is_quantifier(p) for p in parts):
            return all_true(parts, system.ctx)
    return None


def _no_dead_end(system: TransitionSystem, budget: Budget, lemmas: z3.BoolRef | None) -> bool:
    """Whether every configuration (every one ``lemmas`` allows, with them) admits some
    inputs, asked as one quantified question (is there a configuration in which every
    input vector is inadmissible?) within :data:`DEAD_END_RLIMIT` units. Where the
    answer is no, the quantifier elimination that names a dead end's condition is not
    needed: on translated benchmark problems, whose assumptions hold the whole
    transition relation, that elimination can take a minute and this question a
    twentieth of a second."""
    solver = z3.Solver(ctx=system.ctx)  # z3's quantifier tactics, not the SMT core's
    solver.add(system.state_domain, z3.ForAll(system.input_args(), z3.Not(system.admissible)))
    if lemmas is not None:
        solver.add(lemmas)
    return bool(budget.capped(DEAD_END_RLIMIT).check(solver) == z3.unsat)


def _dead_end_without_qe(
    system: TransitionSystem, unroller: Unroller, budget: Budget
) -> tuple[int, Config] | None:
    """A shortest run of up to :data:`COVER_DEPTH` ticks to a dead end (its length and
    the dead end), searched with the quantified condition itself (every input vector
    inadmissible) where eliminating the inputs did not finish, within
    :data:`DEAD_END_RLIMIT` units; the configuration found is confirmed with a
    quantifier-free question before it is shown."""
    exists = z3.Exists(system.input_args(), system.admissible)
    outcome = bmc(
        unroller, "@dead-end-quantified", exists, COVER_DEPTH, budget.capped(DEAD_END_RLIMIT)
    )
    if outcome.verdict is not Verdict.REFUTED or outcome.model is None:
        return None
    assert outcome.depth is not None
    config = extract(system, outcome.model, outcome.depth)[-1][0]
    if _solve(system, budget, at_config(system, config), system.admissible) != z3.unsat:
        return None  # not confirmed: nothing is shown
    return outcome.depth, config


def _dead_end_finding(
    system: TransitionSystem, depth: int, config: Config, line: int, column: int
) -> Finding:
    shown = ", ".join(
        f"{v.name}={json_value(v, config.values[v.name])}" for v in system.model.state
    )
    return Finding(
        "dead-end",
        Severity.WARNING,
        f"after {depth} tick(s) the run can reach step "
        f"'{config.step}' with {shown}, where no inputs satisfy the ranges "
        "and assumptions: runs end there, and the limits are vacuously safe "
        "beyond it",
        line,
        column,
    )


def dead_ends(
    system: TransitionSystem,
    unroller: Unroller,
    budget: Budget,
    lemmas: z3.BoolRef | None = None,
) -> list[Finding]:
    """Reachable configurations in which no inputs are admissible: runs end there and
    every limit is vacuously safe beyond them. ``lemmas``, an invariant already proved,
    settles it at once when no configuration it allows is a dead end."""
    if system.inp and _no_dead_end(system, budget, lemmas):
        return []
    exists = _inputs_exist(system, budget)
    line, column = _assumptions_at(system.model)
    if exists is None:
        found = _dead_end_without_qe(system, unroller, budget)
        if found is not None:
            return [_dead_end_finding(system, *found, line, column)]
        return [
            Finding(
                "dead-end-unchecked",
                Severity.WARNING,
                "could not decide whether some reachable configuration admits no "
                "inputs: eliminating the inputs from the ranges and assumptions "
                + (
                    "ran out of time"
                    if budget.expired or not system.model.nonlinear
                    else "did not succeed (nonlinear assumptions, for example)"
                )
                + f"; no run of up to {COVER_DEPTH} ticks reaches one",
                line,
                column,
            )
        ]
    # no configuration (that the lemmas allow: every reachable one does) without inputs
    allowed = [system.state_domain] if lemmas is None else [system.state_domain, lemmas]
    if _solve(system, budget, *allowed, z3.Not(exists)) == z3.unsat:
        return []
    outcome = bmc(unroller, "@dead-end", exists, COVER_DEPTH, budget.part(0.5))
    if outcome.verdict is Verdict.UNKNOWN and not budget.expired:
        # deeper than the first search: Spacer finds the run, BMC shortens it
        outcome = spacer(system, z3.Not(exists), budget.capped(PROOF_RLIMIT), unroller=unroller)
        outcome = shorten(unroller, "@dead-end", exists, outcome, budget.part(0.5))
    if outcome.verdict is Verdict.REFUTED and outcome.model is not None:
        assert outcome.depth is not None
        config = extract(system, outcome.model, outcome.depth)[-1][0]
        return [_dead_end_finding(system, outcome.depth, config, line, column)]
    if outcome.verdict is Verdict.REFUTED:
        return [
            Finding(
                "dead-end",
                Severity.WARNING,
                "some reachable configuration admits no inputs (runs end there)",
                line,
                column,
            )
        ]
    return []


def nonlinear(model: Model) -> list[Finding]:
    """One warning per distinct product of variables, where it first appears."""
    return [
        Finding(
            "nonlinear",
            Severity.WARNING,
            f"product of non-constant terms `{n.text}` in {n.where}: the model is nonlinear"
            + (
                " (actions are not part of the proofs, so the verdicts are not affected)"
                if n.where == ACTION_ARGUMENT and not model.instruments
                else " and the engines may answer unknown"
            ),
            n.line,
            n.column,
        )
        for n in model.nonlinear
    ]


def proofs_are_nonlinear(model: Model) -> bool:
    """Whether a product of variables stands in what the engines reason about (anything
    but action arguments in version 1; with instruments the actions change the book)."""
    return any(n.where != ACTION_ARGUMENT or model.instruments for n in model.nonlinear)
