"""The interpreter's compiled expressions: generated lambdas and the closure fallback agree."""

from __future__ import annotations

from fractions import Fraction

import sympy

from checker.interpret import _Compiler, compile_expression


def test_deep_expression_falls_back_to_closures_with_the_same_meaning() -> None:
    x, y = sympy.symbols("x y", real=True)
    expr: sympy.Basic = x
    for i in range(105):  # deeper than Python's compiler takes as one expression
        expr = sympy.Piecewise((expr + i, y > i), (x - i, True))
    env = {"x": Fraction(1, 3), "y": 100}
    try:
        compile("(" * 210 + ")" * 210, "<check>", "eval")
    except SyntaxError:
        pass
    else:
        raise AssertionError("this Python takes 210 nested parentheses: deepen the test")
    fn = compile_expression(expr)
    assert not hasattr(fn, "__code__") or fn.__code__.co_filename != "<seqprove expression>"
    assert fn(env) == _Compiler()(expr)(env)


def test_generated_code_reads_names_only_as_keys() -> None:
    name = "a_b"
    fn = compile_expression(sympy.Symbol(name, real=True) * 2 - sympy.Rational(1, 3))
    assert fn({name: Fraction(1, 2)}) == Fraction(2, 3)
    assert fn.__code__.co_names == ("_c0",)  # the only global: the constant 1/3
