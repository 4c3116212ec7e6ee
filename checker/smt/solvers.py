"""Which z3 solver a fresh question gets.

z3's default solver, never pushed, runs the whole preprocessing tactic of the
question's logic on its first check. On a quantifier-free linear question that costs
far more than the question: about 0.1 s a question on the translated benchmark
problems, where the SMT core (what the default solver becomes after its first
``push``) answers in a millisecond. Nonlinear questions keep the default solver, whose
tactic goes to nlsat, and so do quantified ones, which its quantifier tactics answer
more often than the SMT core.

No answer of a solver may be trusted once its context has been interrupted
(``ctx.interrupt()``, as the audit's wall-clock guard does): an incremental solver
(the SMT core, or any solver after a ``push``) then silently drops what is added to it
and answers sat. The engines never interrupt their context; the audit disregards every
answer given after its guard fired.
"""

from __future__ import annotations

import z3


def simple_enough(ctx: z3.Context, *terms: z3.ExprRef) -> bool:
    """Whether ``terms`` are quantifier-free linear arithmetic: no quantifier, and no
    product, quotient, remainder or power of which more than the first factor is
    anything but a number. (z3's ``arith-max-deg`` probe is not enough: it does not
    look inside an ``if``.)"""
    seen: set[int] = set()
    todo = list(terms)
    while todo:
        term = todo.pop()
        if term.get_id() in seen:
            continue
        seen.add(term.get_id())
        if z3.is_quantifier(term):
            return False
        if not z3.is_app(term):
            continue
        args = [term.arg(i) for i in range(term.num_args())]
        kind = term.decl().kind()
        if kind == z3.Z3_OP_MUL and sum(not _number(a) for a in args) > 1:
            return False
        if kind in _DIVIDING and not all(_number(a) for a in args[1:]):
            return False
        todo.extend(args)
    return True


_DIVIDING = (z3.Z3_OP_DIV, z3.Z3_OP_IDIV, z3.Z3_OP_MOD, z3.Z3_OP_REM, z3.Z3_OP_POWER)


def _number(term: z3.ExprRef) -> bool:
    """A numeral, or a numeral converted between the integers and the reals."""
    while z3.is_app_of(term, z3.Z3_OP_TO_REAL) or z3.is_app_of(term, z3.Z3_OP_TO_INT):
        term = term.arg(0)
    return bool(z3.is_int_value(term) or z3.is_rational_value(term))


def solver_for(ctx: z3.Context, *terms: z3.ExprRef, simple: bool | None = None) -> z3.Solver:
    """A fresh solver holding ``terms``: the SMT core when they (or, given ``simple``,
    what the caller knows of the question) are quantifier-free linear arithmetic, the
    default solver otherwise."""
    if simple is None:
        simple = simple_enough(ctx, *terms)
    solver = z3.SimpleSolver(ctx=ctx) if simple else z3.Solver(ctx=ctx)
    solver.add(*terms)
    return solver
