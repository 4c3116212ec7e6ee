"""z3 terms back to sympy, to show an invariant to a user step by step."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import sympy
import z3
from sympy.printing.str import StrPrinter

from checker.model import Model, decimal_text
from checker.smt.system import STEP, TransitionSystem, all_true

_BINARY: dict[int, Callable[[sympy.Basic, sympy.Basic], sympy.Basic]] = {
    z3.Z3_OP_LE: sympy.Le,
    z3.Z3_OP_LT: sympy.Lt,
    z3.Z3_OP_GE: sympy.Ge,
    z3.Z3_OP_GT: sympy.Gt,
    z3.Z3_OP_EQ: sympy.Eq,
}


class _Decoder:
    def __init__(self, model: Model) -> None:
        self.symbols = {v.name: v.symbol for v in model.state}
        self.enums = {v.name: v.type.values for v in model.state if v.type.kind == "enum"}

    def __call__(self, term: z3.ExprRef) -> sympy.Basic:
        if z3.is_quantifier(term):
            raise ValueError("a quantified formula has no model syntax")
        kind = term.decl().kind()
        args = term.children()
        if z3.is_true(term):
            return sympy.true
        if z3.is_false(term):
            return sympy.false
        if z3.is_int_value(term):
            return sympy.Integer(term.as_long())
        if z3.is_rational_value(term):
            return sympy.Rational(Fraction(term.numerator_as_long(), term.denominator_as_long()))
        if z3.is_const(term) and kind == z3.Z3_OP_UNINTERPRETED:
            name = term.decl().name()
            return self.symbols.get(name) or sympy.Symbol(name)
        if kind == z3.Z3_OP_AND:
            return sympy.And(*map(self, args))
        if kind == z3.Z3_OP_OR:
            return sympy.Or(*map(self, args))
        if kind == z3.Z3_OP_NOT:
            flipped = self._enum_comparison(args[0], negate=True)
            if flipped is None:
                flipped = self._negated_int_comparison(args[0])
            return flipped if flipped is not None else sympy.Not(self(args[0]))
        if kind == z3.Z3_OP_IMPLIES:
            return sympy.Implies(self(args[0]), self(args[1]))
        if kind == z3.Z3_OP_ADD:
            return sympy.Add(*map(self, args))
        if kind == z3.Z3_OP_SUB:
            return self(args[0]) - sympy.Add(*map(self, args[1:]))
        if kind == z3.Z3_OP_MOD:
            return sympy.Mod(self(args[0]), self(args[1]))
        if kind == z3.Z3_OP_MUL:
            return sympy.Mul(*map(self, args))
        if kind == z3.Z3_OP_UMINUS:
            return -self(args[0])
        if kind in (z3.Z3_OP_TO_REAL, z3.Z3_OP_TO_INT):
            return self(args[0])
        if kind == z3.Z3_OP_ITE and z3.is_bool(term):  # a condition choosing a condition
            return sympy.ITE(self(args[0]), self(args[1]), self(args[2]))
        if kind == z3.Z3_OP_ITE:
            return sympy.Piecewise((self(args[1]), self(args[0])), (self(args[2]), True))
        if kind == z3.Z3_OP_EQ and z3.is_bool(args[0]):
            return sympy.Equivalent(self(args[0]), self(args[1]))
        if kind == z3.Z3_OP_DISTINCT and len(args) == 2:
            return sympy.Ne(self(args[0]), self(args[1]))
        if kind in _BINARY:
            enum = self._enum_comparison(term)
            if enum is not None:
                return enum
            left, right = self(args[0]), self(args[1])
            if z3.is_int(args[0]) and z3.is_int(args[1]):
                # over the integers x < c is x <= c - 1, which reads better
                if kind == z3.Z3_OP_LT:
                    return sympy.Le(left, right - 1)
                if kind == z3.Z3_OP_GT:
                    return sympy.Ge(left, right + 1)
            return _BINARY[kind](left, right)
        raise ValueError(f"cannot show {term}")

    def _negated_int_comparison(self, term: z3.ExprRef) -> sympy.Basic | None:
        """``not (x <= c)`` over the integers is ``x >= c + 1``."""
        kind = term.decl().kind()
        args = term.children()
        if len(args) != 2 or not all(z3.is_int(a) for a in args):
            return None
        left, right = self(args[0]), self(args[1])
        flips = {
            z3.Z3_OP_LE: lambda: sympy.Ge(left, right + 1),
            z3.Z3_OP_GE: lambda: sympy.Le(left, right - 1),
            z3.Z3_OP_LT: lambda: sympy.Ge(left, right),
            z3.Z3_OP_GT: lambda: sympy.Le(left, right),
        }
        return flips[kind]() if kind in flips else None

    def _enum_comparison(self, term: z3.ExprRef, negate: bool = False) -> sympy.Basic | None:
        """A comparison of an enum variable with an index, in value names: ``mode <= 1``
        for ``mode`` in [active, reducing, halted] reads ``mode == active or mode ==
        reducing``."""
        kind = term.decl().kind()
        args = term.children()
        if kind not in _ORDER or len(args) != 2:
            return None
        for var, value, flipped in ((args[0], args[1], False), (args[1], args[0], True)):
            name = var.decl().name() if z3.is_const(var) else ""
            if name in self.enums and z3.is_int_value(value):
                values = self.enums[name]
                bound = value.as_long()
                holds = _ORDER[kind]
                allowed = [
                    v
                    for i, v in enumerate(values)
                    if (holds(bound, i) if flipped else holds(i, bound)) != negate
                ]
                symbol = self.symbols[name]
                return sympy.Or(*(sympy.Eq(symbol, sympy.Symbol(v)) for v in allowed))
        return None


_ORDER: dict[int, Callable[[int, int], bool]] = {
    z3.Z3_OP_EQ: lambda a, b: a == b,
    z3.Z3_OP_LE: lambda a, b: a <= b,
    z3.Z3_OP_LT: lambda a, b: a < b,
    z3.Z3_OP_GE: lambda a, b: a >= b,
    z3.Z3_OP_GT: lambda a, b: a > b,
}


DISPLAY_RLIMIT = 20_000_000
"""z3 resource units allowed for tidying an invariant for display. A resource limit,
unlike a time limit, gives the same text on a loaded machine as on an idle one."""

LARGE_TERM = 5_000
"""Terms with more nodes than this are shown with the cheap simplifier only."""


def _size(term: z3.ExprRef) -> int:
    seen: set[int] = set()
    todo = [term]
    while todo and len(seen) <= LARGE_TERM:
        t = todo.pop()
        if t.get_id() not in seen:
            seen.add(t.get_id())
            todo.extend(t.children())
    return len(seen)


def _simplify(term: z3.BoolRef, background: z3.BoolRef) -> z3.BoolRef:
    """Simplify ``term`` for display, knowing ``background`` (what the types say, such
    as an enum's range) without repeating it: z3's simplifier, then, for terms of
    moderate size, contextual simplification and dropping implied conjuncts."""
    simple = z3.simplify(term)
    if _size(simple) > LARGE_TERM:
        return simple
    tactic = z3.Then("simplify", "ctx-solver-simplify", "simplify", ctx=term.ctx)
    try:
        goals = tactic(z3.And(simple, background))
    except z3.Z3Exception:
        return simple
    parts = [f for g in goals for f in g]
    return all_true(_irredundant(parts, background), term.ctx)


def _irredundant(parts: list[z3.BoolRef], background: z3.BoolRef) -> list[z3.BoolRef]:
    """Drop each conjunct that the others and the background imply (``x < 91`` makes
    ``x < 101`` noise; an enum's range is known from its type). One solver serves every
    question: each conjunct is asserted under a literal of its own, and a question
    assumes the literals of the conjuncts still kept but the one asked about."""
    if not parts:
        return []
    ctx = parts[0].ctx
    solver = z3.Solver(ctx=ctx)
    solver.set("rlimit", DISPLAY_RLIMIT * len(parts))
    solver.add(background)
    literals = [z3.Bool(f"@part{i}", ctx) for i in range(len(parts))]
    for literal, part in zip(literals, parts, strict=True):
        solver.add(z3.Implies(literal, part))
    kept = list(range(len(parts)))
    for i, part in enumerate(parts):
        others = [literals[j] for j in kept if j != i]
        if solver.check(*others, z3.Not(part)) == z3.unsat:
            kept.remove(i)
    return [parts[j] for j in kept]


def invariant_by_step(system: TransitionSystem, invariant: z3.BoolRef) -> dict[str, str]:
    """The invariant restricted to each step, simplified and printed as sympy text.

    ``false`` for a step means the invariant shows no configuration of that step is
    reachable."""
    decode = _Decoder(system.model)
    background = system.state_domain_without_step()
    by_text: dict[str, str] = {}
    shown: dict[str, str] = {}
    for step, index in system.step_index.items():
        part = z3.simplify(
            z3.substitute(invariant, (system.cur[STEP], z3.IntVal(index, system.ctx)))
        )
        key = part.sexpr()
        if key not in by_text:  # an invariant that ignores the step is tidied once
            simple = _simplify(part, background)
            try:
                by_text[key] = show(decode(simple))
            except (ValueError, RecursionError):  # no model syntax, or too deep for sympy
                by_text[key] = str(simple)
        shown[step] = by_text[key]
    return shown


class _ModelPrinter(StrPrinter):  # type: ignore[misc]
    """sympy text in the model language's words: ``and``/``or``/``not``, ``true``, and
    decimals for the fractions a decimal writes exactly."""

    def _print_And(self, expr: sympy.Basic) -> str:
        return " and ".join(self.parenthesize(a, 2) for a in _ordered(expr))

    def _print_Or(self, expr: sympy.Basic) -> str:
        return " or ".join(self.parenthesize(a, 2) for a in _ordered(expr))

    def _print_Not(self, expr: sympy.Basic) -> str:
        return f"not {self.parenthesize(expr.args[0], 3)}"

    def _print_Equality(self, expr: sympy.Basic) -> str:
        return f"{self._print(expr.lhs)} == {self._print(expr.rhs)}"

    def _print_Unequality(self, expr: sympy.Basic) -> str:
        return f"{self._print(expr.lhs)} != {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr: sympy.Basic) -> str:
        *branches, (default, _) = expr.args
        text: str = self._print(default)
        for value, cond in reversed(branches):
            text = f"({self._print(value)} if {self._print(cond)} else {text})"
        return text

    def _print_BooleanTrue(self, expr: sympy.Basic) -> str:
        return "true"

    def _print_BooleanFalse(self, expr: sympy.Basic) -> str:
        return "false"

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return decimal_text(Fraction(int(expr.p), int(expr.q)))

    def _print_Half(self, expr: sympy.Rational) -> str:
        return "0.5"

    def parenthesize(self, item: sympy.Basic, level: float, strict: bool = False) -> str:
        text: str = self._print(item)
        if isinstance(item, sympy.And | sympy.Or) or (isinstance(item, sympy.Not) and level > 2):
            return f"({text})"
        return text


def _ordered(expr: sympy.Basic) -> list[sympy.Basic]:
    """Arguments of and/or in sympy's canonical order, so the text is repeatable."""
    return list(sympy.ordered(expr.args))


def show(expr: sympy.Basic) -> str:
    """An expression as text a model author reads back."""
    text: str = _ModelPrinter().doprint(expr)
    return text


def decode_term(model: Model, term: z3.ExprRef) -> sympy.Basic | None:
    """A z3 term over ``model``'s current state as sympy, or None when it has no model
    syntax."""
    try:
        return _Decoder(model)(term)
    except (ValueError, RecursionError):
        return None


def simplified(model: Model, term: z3.BoolRef, background: z3.BoolRef) -> sympy.Basic:
    """``term`` simplified knowing ``background`` (without repeating it), as sympy."""
    simple = _simplify(term, background)
    found = decode_term(model, simple)
    return found if found is not None else _Decoder(model)(z3.simplify(term))
