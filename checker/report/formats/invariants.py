"""Invariants, as seqprove prints them, drawn by sympy's 2-D printer for the HTML page."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import sympy
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm

from checker.lang.numbers import read_number
from checker.model import decimal_text


class _InvariantReader:
    """Invariant text, as seqprove prints it, back to sympy by dispatch on ``ast`` node
    kind. Nothing is evaluated; a construct outside the whitelist raises ValueError."""

    CALLS: Mapping[str, Callable[..., Any]] = {
        "And": sympy.And,
        "Or": sympy.Or,
        "Not": sympy.Not,
        "Implies": sympy.Implies,
        "Equivalent": sympy.Equivalent,
        "ITE": sympy.ITE,
        "abs": sympy.Abs,
        "min": sympy.Min,
        "max": sympy.Max,
    }
    OPS: Mapping[type[ast.AST], Callable[..., Any]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
        ast.USub: lambda a: -a,
        ast.UAdd: lambda a: a,
        ast.Not: sympy.Not,
        ast.Eq: sympy.Eq,
        ast.NotEq: sympy.Ne,
        ast.Lt: sympy.Lt,
        ast.LtE: sympy.Le,
        ast.Gt: sympy.Gt,
        ast.GtE: sympy.Ge,
    }
    NAMES: Mapping[str, Any] = {
        "true": sympy.true,
        "True": sympy.true,
        "false": sympy.false,
        "False": sympy.false,
    }

    def __init__(self, numbers: Mapping[str, int | Fraction]) -> None:
        self.numbers = numbers

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise ValueError(f"cannot read {type(node).__name__}")
        return method(node)

    def op(self, node: ast.AST) -> Callable[..., Any]:
        if type(node) not in self.OPS:
            raise ValueError(f"cannot read {type(node).__name__}")
        return self.OPS[type(node)]

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, bool):
            return sympy.true if node.value else sympy.false
        raise ValueError(f"cannot read {node.value!r}")  # numbers were taken out first

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.numbers:
            return sympy.Rational(self.numbers[node.id])  # exact: 0.1 is 1/10
        return self.NAMES.get(node.id, sympy.Symbol(node.id))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return self.op(node.op)(self.visit(node.operand))

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        return self.op(node.op)(self.visit(node.left), self.visit(node.right))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        parts = [self.visit(v) for v in node.values]
        return sympy.And(*parts) if isinstance(node.op, ast.And) else sympy.Or(*parts)

    def visit_Compare(self, node: ast.Compare) -> Any:
        sides = [self.visit(n) for n in [node.left, *node.comparators]]
        return sympy.And(
            *(self.op(op)(a, b) for op, a, b in zip(node.ops, sides[:-1], sides[1:], strict=True))
        )

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        test, yes, no = self.visit(node.test), self.visit(node.body), self.visit(node.orelse)
        if no == -yes and test in (sympy.Ge(yes, 0), sympy.Gt(yes, 0)):
            return sympy.Abs(yes)  # how seqprove prints abs(x)
        return sympy.Piecewise((yes, test), (no, True))

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name not in self.CALLS or node.keywords:
            raise ValueError("cannot read this call")
        return self.CALLS[name](*(self.visit(a) for a in node.args))


class _Pretty(PrettyPrinter):  # type: ignore[misc]
    """sympy's 2-D printer, with names and decimals as written (``open_ask``, not a
    subscript; ``0.1``, not a fraction)."""

    def _print_Symbol(self, expr: sympy.Symbol, bold_name: bool = False) -> prettyForm:
        return prettyForm(expr.name)

    def _print_Rational(self, expr: sympy.Rational) -> prettyForm:
        text = decimal_text(Fraction(int(expr.p), int(expr.q)))  # 0.1 as written
        return super()._print_Rational(expr) if "/" in text else prettyForm(text)


_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?![A-Za-z0-9_.])"
)
"""A number literal as seqprove prints them (``0``, ``-`` apart: ``0.125``, ``1e-3``),
not part of a name such as ``x1``."""


def _take_numbers(text: str) -> tuple[str, dict[str, int | Fraction]]:
    """``text`` with each number literal replaced by a name, and the exact value of
    each name. The values are read from the literal's own text, never from the float
    that Python's parser would make of it, nor through source positions, which line
    endings such as ``\\r`` can shift."""
    prefix = "_number"
    while prefix in text:
        prefix = "_" + prefix
    numbers: dict[str, int | Fraction] = {}

    def name(match: re.Match[str]) -> str:
        value = read_number(match[0])
        if value is None:
            raise ValueError(f"cannot read the number {match[0]!r}")
        numbers[key := f"{prefix}{len(numbers)}"] = value
        return key

    return _NUMBER.sub(name, text), numbers


@functools.lru_cache(maxsize=256)
def pretty_invariant(text: str) -> str:
    """``text`` drawn by sympy's pretty printer, a line (or block) per top-level
    conjunct; ``text`` itself when it does not read back."""
    try:
        source, numbers = _take_numbers(text.strip())
        tree = ast.parse(f"({source})", mode="eval").body  # may span lines
        and_ = isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And)
        parts = tree.values if isinstance(tree, ast.BoolOp) and and_ else [tree]
        reader = _InvariantReader(numbers)
        printer = _Pretty({"use_unicode": True, "num_columns": 100})
        drawn = [printer.doprint(reader.visit(part)) for part in parts]
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError):
        return text
    return "\n".join(drawn)
