"""sympy to z3 through one encoder that dispatches on the node's class, with a cache
(in the manner of pySMT's DagWalker: one ``walk_<Class>`` method per node kind)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction

import sympy
import z3

from checker.errors import InternalError


def _real(term: z3.ExprRef) -> z3.ExprRef:
    return z3.ToReal(term) if z3.is_int(term) else term


def _unify(terms: list[z3.ExprRef]) -> list[z3.ExprRef]:
    """Int terms become real when any term is real, as ``int + real`` is real."""
    if any(z3.is_real(t) for t in terms):
        return [_real(t) for t in terms]
    return terms


def rational(value: Fraction | int, ctx: z3.Context) -> z3.ExprRef:
    if isinstance(value, int):
        return z3.IntVal(value, ctx)
    if value.denominator == 1:
        return z3.RealVal(value.numerator, ctx)
    return z3.Q(value.numerator, value.denominator, ctx)


class Encoder:
    """Encode sympy expressions over a fixed mapping of symbols to z3 terms."""

    def __init__(self, symbols: Mapping[sympy.Symbol, z3.ExprRef], ctx: z3.Context) -> None:
        self.symbols = dict(symbols)
        self.ctx = ctx
        self.cache: dict[sympy.Basic, z3.ExprRef] = {}

    def __call__(self, expr: sympy.Basic) -> z3.ExprRef:
        cached = self.cache.get(expr)
        if cached is not None:
            return cached
        for cls in type(expr).__mro__:
            method: Callable[[sympy.Basic], z3.ExprRef] | None = getattr(
                self, f"walk_{cls.__name__}", None
            )
            if method is not None:
                result = method(expr)
                self.cache[expr] = result
                return result
        raise InternalError(f"no z3 encoding for sympy node {type(expr).__name__}: {expr}")

    def args(self, expr: sympy.Basic) -> list[z3.ExprRef]:
        return [self(a) for a in expr.args]

    # -- atoms ----------------------------------------------------------------------------
    def walk_Symbol(self, expr: sympy.Symbol) -> z3.ExprRef:
        try:
            return self.symbols[expr]
        except KeyError:
            raise InternalError(f"symbol {expr} has no z3 variable") from None

    def walk_Integer(self, expr: sympy.Integer) -> z3.ExprRef:
        return z3.IntVal(int(expr), self.ctx)

    def walk_Rational(self, expr: sympy.Rational) -> z3.ExprRef:
        return rational(Fraction(int(expr.p), int(expr.q)), self.ctx)

    def walk_BooleanTrue(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.BoolVal(True, self.ctx)

    def walk_BooleanFalse(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.BoolVal(False, self.ctx)

    # -- arithmetic -----------------------------------------------------------------------
    def walk_Add(self, expr: sympy.Add) -> z3.ExprRef:
        return z3.Sum(*_unify(self.args(expr)))

    def walk_Mul(self, expr: sympy.Mul) -> z3.ExprRef:
        return z3.Product(*_unify(self.args(expr)))

    def walk_Pow(self, expr: sympy.Pow) -> z3.ExprRef:
        exp = expr.exp
        if not (isinstance(exp, sympy.Integer) and int(exp) >= 1):
            raise InternalError(f"unsupported power {expr}")
        base = self(expr.base)
        return z3.Product(*([base] * int(exp)))

    def walk_Abs(self, expr: sympy.Abs) -> z3.ExprRef:
        x = self(expr.args[0])
        return z3.If(x >= 0, x, -x)

    def _extremum(self, expr: sympy.Basic, smaller: bool) -> z3.ExprRef:
        terms = _unify(self.args(expr))
        best = terms[0]
        for t in terms[1:]:
            best = z3.If(t < best, t, best) if smaller else z3.If(t > best, t, best)
        return best

    def walk_Mod(self, expr: sympy.Mod) -> z3.ExprRef:
        value, divisor = self.args(expr)
        return value % divisor  # z3's integer mod: in [0, divisor) for a positive divisor

    def walk_Min(self, expr: sympy.Min) -> z3.ExprRef:
        return self._extremum(expr, True)

    def walk_Max(self, expr: sympy.Max) -> z3.ExprRef:
        return self._extremum(expr, False)

    def walk_Piecewise(self, expr: sympy.Piecewise) -> z3.ExprRef:
        values = _unify([self(pair.expr) for pair in expr.args])
        conds = [self(pair.cond) for pair in expr.args]
        result = values[-1]
        if not z3.is_true(z3.simplify(conds[-1])):
            raise InternalError(f"Piecewise without a default branch: {expr}")
        for value, cond in zip(reversed(values[:-1]), reversed(conds[:-1]), strict=True):
            result = z3.If(cond, value, result)
        return result

    # -- relations ------------------------------------------------------------------------
    def _pair(self, expr: sympy.Basic) -> tuple[z3.ExprRef, z3.ExprRef]:
        a, b = _unify(self.args(expr))
        return a, b

    def walk_Equality(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self._pair(expr)
        return a == b

    def walk_Unequality(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self._pair(expr)
        return a != b

    def walk_StrictLessThan(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self._pair(expr)
        return a < b

    def walk_LessThan(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self._pair(expr)
        return a <= b

    def walk_StrictGreaterThan(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self._pair(expr)
        return a > b

    def walk_GreaterThan(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self._pair(expr)
        return a >= b

    # -- logic ----------------------------------------------------------------------------
    def walk_And(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.And(*self.args(expr))

    def walk_Or(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.Or(*self.args(expr))

    def walk_Not(self, expr: sympy.Basic) -> z3.ExprRef:
        return z3.Not(self(expr.args[0]))

    def walk_Xor(self, expr: sympy.Basic) -> z3.ExprRef:
        return (
            z3.Xor(*self.args(expr))
            if len(expr.args) == 2
            else z3.Sum(*[z3.If(a, 1, 0) for a in self.args(expr)]) % 2 == 1
        )

    def walk_Equivalent(self, expr: sympy.Basic) -> z3.ExprRef:
        terms = self.args(expr)
        return z3.And(*[terms[0] == t for t in terms[1:]])

    def walk_Implies(self, expr: sympy.Basic) -> z3.ExprRef:
        a, b = self.args(expr)
        return z3.Implies(a, b)

    def walk_ITE(self, expr: sympy.Basic) -> z3.ExprRef:
        c, a, b = self.args(expr)
        return z3.If(c, a, b)
