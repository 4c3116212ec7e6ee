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
    look inside an ``if``.) The walk uses z3's C API on raw terms: the Python objects
    the ``ExprRef`` methods build per node cost about ten times as much."""
    ref = ctx.ref()
    seen: set[int] = set()
    todo = [t.as_ast() for t in terms]
    while todo:
        ast = todo.pop()
        key = z3.Z3_get_ast_id(ref, ast)
        if key in seen:
            continue
        seen.add(key)
        kind = z3.Z3_get_ast_kind(ref, ast)
        if kind == z3.Z3_QUANTIFIER_AST:
            return False
        if kind != z3.Z3_APP_AST:
            continue
        app = z3.Z3_to_app(ref, ast)
        args = [z3.Z3_get_app_arg(ref, app, i) for i in range(z3.Z3_get_app_num_args(ref, app))]
        op = z3.Z3_get_decl_kind(ref, z3.Z3_get_app_decl(ref, app))
        if op == z3.Z3_OP_MUL and sum(not _number(ref, a) for a in args) > 1:
            return False
        if op in _DIVIDING and not all(_number(ref, a) for a in args[1:]):
            return False
        todo.extend(args)
    return True


_DIVIDING = (z3.Z3_OP_DIV, z3.Z3_OP_IDIV, z3.Z3_OP_MOD, z3.Z3_OP_REM, z3.Z3_OP_POWER)
_CONVERSIONS = (z3.Z3_OP_TO_REAL, z3.Z3_OP_TO_INT)


def _number(ref: z3.ContextObj, ast: z3.Ast) -> bool:
    """A numeral, or a numeral converted between the integers and the reals."""
    while z3.Z3_get_ast_kind(ref, ast) == z3.Z3_APP_AST:
        app = z3.Z3_to_app(ref, ast)
        op = z3.Z3_get_decl_kind(ref, z3.Z3_get_app_decl(ref, app))
        if op not in _CONVERSIONS:
            return False
        ast = z3.Z3_get_app_arg(ref, app, 0)
    return bool(z3.Z3_get_ast_kind(ref, ast) == z3.Z3_NUMERAL_AST)


def solver_for(ctx: z3.Context, *terms: z3.ExprRef, simple: bool | None = None) -> z3.Solver:
    """A fresh solver holding ``terms``: the SMT core when they (or, given ``simple``,
    what the caller knows of the question) are quantifier-free linear arithmetic, the
    default solver otherwise."""
    if simple is None:
        simple = simple_enough(ctx, *terms)
    solver = z3.SimpleSolver(ctx=ctx) if simple else z3.Solver(ctx=ctx)
    solver.add(*terms)
    return solver
