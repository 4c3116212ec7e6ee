"""The semantics of ``LANGUAGE.md`` (and, with instruments, ``LANGUAGE-2.md``) in plain
Python with exact arithmetic.

Independent of the SMT encoding: expressions are compiled from sympy into Python
functions over ``int``, ``fractions.Fraction`` and ``bool`` (an enum value is its index).
Every counterexample is replayed here before it is shown, and the executor runs models
with it, every tick, so speed matters.

Each expression becomes the text of one Python lambda, generated from the typed sympy
tree and compiled with no builtins but the few it uses: nothing from the model file is
ever evaluated as Python. Variable names are identifiers the loader validated and appear
only as quoted dictionary keys; numbers are constants bound by name. An expression the
Python compiler cannot take (nested too deeply) falls back to a tree of closures with the
same meaning.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import sympy

from checker.book import Book
from checker.errors import InternalError
from checker.model import (
    FINAL_STEP_ORDERS,
    POSITIVE_QTY,
    Model,
    Transition,
    Value,
    Variable,
    order_symbol,
)
from checker.types import SIDE, TIF

Env = Mapping[str, Value]
Fn = Callable[[Env], Value]
Num = int | Fraction


class _Source:
    """sympy expression -> the text of a Python expression over the mapping ``e``."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}

    def __call__(self, expr: sympy.Basic) -> str:
        for cls in type(expr).__mro__:
            method = getattr(self, f"s_{cls.__name__}", None)
            if method is not None:
                text: str = method(expr)
                return text
        raise InternalError(f"the interpreter has no rule for {type(expr).__name__}: {expr}")

    def _join(self, expr: sympy.Basic, sep: str) -> str:
        return "(" + sep.join(self(a) for a in expr.args) + ")"

    def s_Symbol(self, expr: sympy.Symbol) -> str:
        return f"e[{expr.name!r}]"

    def s_Integer(self, expr: sympy.Integer) -> str:
        return f"({int(expr)})"

    def s_Rational(self, expr: sympy.Rational) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = Fraction(int(expr.p), int(expr.q))
        return name

    def s_BooleanTrue(self, expr: sympy.Basic) -> str:
        return "True"

    def s_BooleanFalse(self, expr: sympy.Basic) -> str:
        return "False"

    def s_Add(self, expr: sympy.Basic) -> str:
        plus = [self(a) for a in expr.args if not _negated(a)]
        minus = [self(-a) for a in expr.args if _negated(a)]
        return "(" + (" + ".join(plus) or "0") + "".join(f" - {m}" for m in minus) + ")"

    def s_Mul(self, expr: sympy.Basic) -> str:
        if _negated(expr):
            return f"(-{self(-expr)})"
        return self._join(expr, " * ")

    def s_Pow(self, expr: sympy.Pow) -> str:
        if not (isinstance(expr.exp, sympy.Integer) and int(expr.exp) >= 1):
            raise InternalError(f"unsupported power {expr}")
        return f"({self(expr.base)} ** {int(expr.exp)})"

    def s_Abs(self, expr: sympy.Basic) -> str:
        return f"abs({self(expr.args[0])})"

    def s_Mod(self, expr: sympy.Basic) -> str:
        return f"({self(expr.args[0])} % {self(expr.args[1])})"

    def s_Min(self, expr: sympy.Basic) -> str:
        return "min" + self._join(expr, ", ")

    def s_Max(self, expr: sympy.Basic) -> str:
        return "max" + self._join(expr, ", ")

    def s_Piecewise(self, expr: sympy.Basic) -> str:
        text = "_nobranch()"
        for p in reversed(expr.args):
            text = f"({self(p.expr)} if {self(p.cond)} else {text})"
        return text

    def _relation(self, expr: sympy.Basic, op: str) -> str:
        a, b = expr.args
        return f"({self(a)} {op} {self(b)})"

    def s_Equality(self, expr: sympy.Basic) -> str:
        return self._relation(expr, "==")

    def s_Unequality(self, expr: sympy.Basic) -> str:
        return self._relation(expr, "!=")

    def s_StrictLessThan(self, expr: sympy.Basic) -> str:
        return self._relation(expr, "<")

    def s_LessThan(self, expr: sympy.Basic) -> str:
        return self._relation(expr, "<=")

    def s_StrictGreaterThan(self, expr: sympy.Basic) -> str:
        return self._relation(expr, ">")

    def s_GreaterThan(self, expr: sympy.Basic) -> str:
        return self._relation(expr, ">=")

    def s_And(self, expr: sympy.Basic) -> str:
        return self._join(expr, " and ")  # every operand is a bool, so the result is

    def s_Or(self, expr: sympy.Basic) -> str:
        return self._join(expr, " or ")

    def s_Not(self, expr: sympy.Basic) -> str:
        return f"(not {self(expr.args[0])})"

    def s_Xor(self, expr: sympy.Basic) -> str:
        return "((" + " + ".join(f"bool({self(a)})" for a in expr.args) + ") % 2 == 1)"

    def s_Equivalent(self, expr: sympy.Basic) -> str:
        return "(len({" + ", ".join(f"bool({self(a)})" for a in expr.args) + "}) == 1)"

    def s_Implies(self, expr: sympy.Basic) -> str:
        a, b = expr.args
        return f"((not {self(a)}) or bool({self(b)}))"

    def s_ITE(self, expr: sympy.Basic) -> str:
        c, a, b = expr.args
        return f"({self(a)} if {self(c)} else {self(b)})"


def _nobranch() -> Value:
    raise InternalError("no branch of a piecewise expression applies")


_BUILTINS = {"abs": abs, "min": min, "max": max, "bool": bool, "len": len}


ExpressionSource = _Source
"""sympy expression -> the text of a Python expression over the mapping ``e`` (names only
as quoted keys, numbers bound by name in ``constants``): for code generated from a model
elsewhere (:mod:`checker.run.compiled`), under the same safeguards as :func:`compile_all`."""
EXPRESSION_BUILTINS = _BUILTINS
"""The only builtins an expression's text may call."""
no_branch = _nobranch


def compile_expression(expr: sympy.Basic) -> Fn:
    """``expr`` as a Python function of a mapping from names to values."""
    return compile_all([expr], " and ")


def compile_all(exprs: list[sympy.Basic], sep: str) -> Fn:
    """One function computing ``exprs`` joined by ``sep`` (`` and ``, or ``, `` for a
    tuple)."""
    source = _Source()
    try:
        parts = [source(e) for e in exprs]
        body = "(" + "".join(f"{p}, " for p in parts) + ")" if sep == ", " else sep.join(parts)
        body = body or "True"
        namespace = {
            "__builtins__": _BUILTINS,
            "_nobranch": _nobranch,
            "_Fraction": Fraction,
            **source.constants,
        }
        fn: Fn = eval(compile(f"lambda e: {body}", "<seqprove expression>", "eval"), namespace)
    except (RecursionError, SyntaxError, MemoryError):  # too deep for Python's compiler
        closures = [_Compiler()(e) for e in exprs]
        if len(closures) == 1 and sep != ", ":
            return closures[0]  # one expression: its value, whatever its type
        if sep == ", ":
            return lambda env: tuple(c(env) for c in closures)  # type: ignore[return-value]
        if sep == " and ":
            return lambda env: all(c(env) for c in closures)
        raise
    return fn


def _rational(value: Value) -> sympy.Rational:
    exact = Fraction(value)
    return sympy.Rational(exact.numerator, exact.denominator)


def input_bounds(model: Model) -> list[sympy.Basic]:
    """What the inputs' types and ranges say (an enum is one of its indices), as one
    expression per bound, in the order of the inputs."""
    checks: list[sympy.Basic] = []
    for v in model.inputs:
        sym = v.symbol
        if v.type.kind == "enum":
            checks.append(sympy.And(sympy.Ge(sym, 0), sympy.Lt(sym, len(v.type.values))))
        if v.low is not None:
            checks.append(sympy.Ge(sym, _rational(v.low)))
        if v.high is not None:
            checks.append(sympy.Le(sym, _rational(v.high)))
    return checks


def _admissible(model: Model) -> Fn:
    """One function: whether the inputs in ``e`` have their types and ranges and every
    assumption holds (the common case; :meth:`Interpreter.input_violations` says why
    not)."""
    checks = input_bounds(model)
    types = {"real": "_Fraction, int", "int": "int", "enum": "int", "bool": "bool"}
    kinds = " and ".join(f"type(e[{v.name!r}]) in ({types[v.type.kind]},)" for v in model.inputs)
    ranges = compile_all(checks + [a.expr for a in model.assumptions], " and ")
    if not kinds:
        return ranges
    typed: Fn = eval(
        compile(f"lambda e: {kinds}", "<seqprove input types>", "eval"),
        {"__builtins__": {"type": type, "int": int, "bool": bool}, "_Fraction": Fraction},
    )
    return lambda env: typed(env) and ranges(env)


class _Compiler:
    """sympy expression -> a tree of closures, dispatching on the node's class (the
    fallback for expressions too deep to compile as text)."""

    def __call__(self, expr: sympy.Basic) -> Fn:
        for cls in type(expr).__mro__:
            method = getattr(self, f"c_{cls.__name__}", None)
            if method is not None:
                fn: Fn = method(expr)
                return fn
        raise InternalError(f"the interpreter has no rule for {type(expr).__name__}: {expr}")

    def _args(self, expr: sympy.Basic) -> list[Fn]:
        return [self(a) for a in expr.args]

    def c_Symbol(self, expr: sympy.Symbol) -> Fn:
        fn: Fn = operator.itemgetter(expr.name)
        return fn

    def c_Integer(self, expr: sympy.Integer) -> Fn:
        value = int(expr)
        return lambda env: value

    def c_Rational(self, expr: sympy.Rational) -> Fn:
        value = Fraction(int(expr.p), int(expr.q))
        return lambda env: value

    def c_BooleanTrue(self, expr: sympy.Basic) -> Fn:
        return lambda env: True

    def c_BooleanFalse(self, expr: sympy.Basic) -> Fn:
        return lambda env: False

    def c_Add(self, expr: sympy.Basic) -> Fn:
        plus = [self(a) for a in expr.args if not _negated(a)]
        minus = [self(-a) for a in expr.args if _negated(a)]
        if not minus:
            return _fold(plus, operator.add)
        if not plus:
            total = _fold(minus, operator.add)
            return lambda env: -total(env)
        if len(plus) == 1 and len(minus) == 1:  # a - b, the commonest sum
            a, b = plus[0], minus[0]
            return lambda env: a(env) - b(env)
        first, second = _fold(plus, operator.add), _fold(minus, operator.add)
        return lambda env: first(env) - second(env)

    def c_Mul(self, expr: sympy.Basic) -> Fn:
        if _negated(expr):
            x = self(-expr)
            return lambda env: -x(env)
        return _fold(self._args(expr), operator.mul)

    def c_Pow(self, expr: sympy.Pow) -> Fn:
        if not (isinstance(expr.exp, sympy.Integer) and int(expr.exp) >= 1):
            raise InternalError(f"unsupported power {expr}")
        base, exp = self(expr.base), int(expr.exp)

        def power(env: Env) -> Value:
            result: Num = 1
            value = base(env)
            for _ in range(exp):
                result = result * value
            return result

        return power

    def c_Abs(self, expr: sympy.Basic) -> Fn:
        x = self(expr.args[0])

        def absolute(env: Env) -> Value:
            value = x(env)
            return -value if value < 0 else value

        return absolute

    def c_Mod(self, expr: sympy.Basic) -> Fn:
        value, divisor = self._args(expr)
        return lambda env: value(env) % divisor(env)  # a positive divisor: as z3's mod

    def c_Min(self, expr: sympy.Basic) -> Fn:
        parts = self._args(expr)
        return lambda env: min([p(env) for p in parts])

    def c_Max(self, expr: sympy.Basic) -> Fn:
        parts = self._args(expr)
        return lambda env: max([p(env) for p in parts])

    def c_Piecewise(self, expr: sympy.Basic) -> Fn:
        pairs = [(self(p.expr), self(p.cond)) for p in expr.args]

        def choose(env: Env) -> Value:
            for value, cond in pairs:
                if cond(env):
                    return value(env)
            raise InternalError(f"no branch of {expr} applies")

        return choose

    def _relation(self, expr: sympy.Basic, op: Callable[[Any, Any], bool]) -> Fn:
        a, b = self._args(expr)
        return lambda env: op(a(env), b(env))

    def c_Equality(self, expr: sympy.Basic) -> Fn:
        return self._relation(expr, operator.eq)

    def c_Unequality(self, expr: sympy.Basic) -> Fn:
        return self._relation(expr, operator.ne)

    def c_StrictLessThan(self, expr: sympy.Basic) -> Fn:
        return self._relation(expr, operator.lt)

    def c_LessThan(self, expr: sympy.Basic) -> Fn:
        return self._relation(expr, operator.le)

    def c_StrictGreaterThan(self, expr: sympy.Basic) -> Fn:
        return self._relation(expr, operator.gt)

    def c_GreaterThan(self, expr: sympy.Basic) -> Fn:
        return self._relation(expr, operator.ge)

    def c_And(self, expr: sympy.Basic) -> Fn:
        parts = self._args(expr)

        def conjunction(env: Env) -> Value:
            for p in parts:  # noqa: SIM110 (a loop is faster than all() on a generator)
                if not p(env):
                    return False
            return True

        return conjunction

    def c_Or(self, expr: sympy.Basic) -> Fn:
        parts = self._args(expr)

        def disjunction(env: Env) -> Value:
            for p in parts:  # noqa: SIM110 (a loop is faster than any() on a generator)
                if p(env):
                    return True
            return False

        return disjunction

    def c_Not(self, expr: sympy.Basic) -> Fn:
        x = self(expr.args[0])
        return lambda env: not x(env)

    def c_Xor(self, expr: sympy.Basic) -> Fn:
        parts = self._args(expr)
        return lambda env: sum(bool(p(env)) for p in parts) % 2 == 1

    def c_Equivalent(self, expr: sympy.Basic) -> Fn:
        parts = self._args(expr)
        return lambda env: len({bool(p(env)) for p in parts}) == 1

    def c_Implies(self, expr: sympy.Basic) -> Fn:
        a, b = self._args(expr)
        return lambda env: (not a(env)) or bool(b(env))

    def c_ITE(self, expr: sympy.Basic) -> Fn:
        c, a, b = self._args(expr)
        return lambda env: a(env) if c(env) else b(env)


def _negated(expr: sympy.Basic) -> bool:
    """Whether ``expr`` is ``-1 * x`` (how sympy writes a subtraction)."""
    return isinstance(expr, sympy.Mul) and expr.args[0] == -1 and len(expr.args) >= 2


def _fold(parts: list[Fn], op: Callable[[Any, Any], Any]) -> Fn:
    """A sum or product of ``parts``; ints stay ints, and exact reals stay exact."""
    if len(parts) == 2:
        a, b = parts
        return lambda env: op(a(env), b(env))
    first, rest = parts[0], parts[1:]

    def fold(env: Env) -> Value:
        result = first(env)
        for p in rest:
            result = op(result, p(env))
        return result

    return fold


class Config(NamedTuple):
    """A configuration: the current step and a value for every state variable.
    (Named tuples here: the executor makes several every tick, and they are cheap.)"""

    step: str
    values: Mapping[str, Value]


class ActionValue(NamedTuple):
    """An action with its arguments evaluated (``side`` is ``"buy"`` or ``"sell"``);
    with instruments, the instrument it goes to (empty: a cancel_all of every one) and a
    place's time in force."""

    name: str
    side: str | None = None
    qty: Value | None = None
    price: Value | None = None
    instrument: str = ""
    tif: str = "gtc"


class TickResult(NamedTuple):
    config: Config
    transition: Transition | None
    actions: tuple[ActionValue, ...]


@dataclass(frozen=True)
class Compiled:
    """A transition with its guard items, ``do`` and actions compiled."""

    transition: Transition
    guard: Fn  # the conjunction of the `when` items
    assigned: tuple[tuple[str, bool], ...]  # (variable, whether it is int or enum)
    values: Fn  # the tuple of the right sides of `do`, in the order of ``assigned``
    emit: tuple[tuple[str, tuple[str, ...], Fn, str, str], ...]
    # (action, argument names, values, instrument, tif)
    limits: tuple[tuple[str, Fn], ...]  # the limits that read a variable ``do`` assigns
    limits_hold: Fn  # whether all of those hold, in one compiled check


class Interpreter:
    """Runs a model tick by tick: ``step(config, inputs) -> TickResult``."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.book = Book(model)
        compile_ = compile_expression
        self.state_types = {v.name: v for v in model.state}
        self.input_vars = {v.name: v for v in model.inputs}
        self.assumptions = tuple((a.name, compile_(a.expr)) for a in model.assumptions)
        self.limits = tuple((lim.name, compile_(lim.expr)) for lim in model.limits)
        self.provers = {p.name: compile_(p.expr) for p in model.provers}
        price = order_symbol("price")
        self.order_checks = tuple(
            (c.name, compile_(c.expr), price in c.expr.free_symbols) for c in model.orders
        )
        self.instrument_names = tuple(i.name for i in model.instruments)
        self.admissible = _admissible(model)
        if self.book:
            within = self.admissible
            fit = self.book.fills_fit
            self.admissible = lambda env: bool(within(env)) and not fit(env, env)
        # limits that read the book may change at every tick (fills), whatever fired
        moving = {v.name for v in model.state if v.builtin} | set(model.ticked)
        self.ticked = tuple((name, compile_(expr)) for name, expr in model.ticked.items())
        self.by_step: dict[str, tuple[Compiled, ...]] = {}
        for step in model.steps:
            self.by_step[step] = tuple(
                Compiled(
                    t,
                    compile_all([c.expr for c in t.when], " and "),
                    tuple(
                        (name, self.state_types[name].type.kind in ("int", "enum"))
                        for name, _ in t.do
                    ),
                    compile_all([e for _, e in t.do], ", "),
                    tuple(
                        (
                            a.name,
                            tuple(k for k, _ in a.args),
                            compile_all([v for _, v in a.args], ", "),
                            a.instrument,
                            a.tif,
                        )
                        for a in t.emit
                    ),
                    tuple(
                        (lim.name, fn)
                        for lim, (_, fn) in zip(model.limits, self.limits, strict=True)
                        if {s.name for s in lim.expr.free_symbols}
                        & ({name for name, _ in t.do} | moving)
                    ),
                    compile_all(
                        [
                            lim.expr
                            for lim in model.limits
                            if {s.name for s in lim.expr.free_symbols}
                            & ({n for n, _ in t.do} | moving)
                        ],
                        " and ",
                    ),
                )
                for t in model.outgoing(step)
            )

    def initial(self, free: Mapping[str, Value] | None = None) -> Config:
        """The initial configuration; with free params (``--param-range``), their
        values are ``free``'s, which must be inside their ranges and the region.

        Raises
        ------
        ValueError
            When a free param has no value in ``free``, or one outside its range or
            the model's region.
        """
        values: dict[str, Value] = {}
        for v in self.model.state:
            if v.source == "param":
                if free is None or v.name not in free:
                    raise ValueError(f"param '{v.name}' is free and has no value")
                values[v.name] = free[v.name]
                continue
            assert v.init is not None
            values[v.name] = v.init
        problem = self.outside(values)
        if problem is not None:
            raise ValueError(problem)
        return Config(self.model.initial, values)

    def outside(self, values: Mapping[str, Value]) -> str | None:
        """Why the free params' values in ``values`` are not inside their ranges and the
        model's region, or None when they are."""
        for v in self.model.state:
            if v.source != "param":
                continue
            value = values[v.name]
            if (v.low is not None and value < v.low) or (v.high is not None and value > v.high):
                return f"{v.name}={value} is outside its range {self.model.ranges()[v.name]}"
        if self.model.free:
            env = {self.model.variable(n).symbol: values[n] for n in self.model.free}
            if not bool(self.model.region.subs(env)):
                shown = ", ".join(f"{n}={values[n]}" for n in self.model.free)
                return f"{shown} is outside the region decided ({self.model.region_text()})"
        return None

    def input_violations(
        self, config: Config, inputs: Mapping[str, Value], env: Env | None = None
    ) -> list[str]:
        """Why ``inputs`` are not allowed in ``config`` (an empty list when they are):
        a missing or extra input, a value of the wrong type or outside its range, or an
        assumption that does not hold."""
        if env is None:
            env = {**config.values, **inputs}
        try:
            if len(inputs) == len(self.input_vars) and self.admissible(env):
                return []  # the common case, checked by one compiled function
        except KeyError:  # an input is missing: say so below
            pass
        problems: list[str] = []
        if len(inputs) != len(self.input_vars) or not all(n in inputs for n in self.input_vars):
            for name in inputs:
                if name not in self.input_vars:
                    problems.append(f"unknown input '{name}'")
            for name in self.input_vars:
                if name not in inputs:
                    problems.append(f"input '{name}' is missing")
            return problems
        for v in self.model.inputs:
            problems.extend(_value_problems(v, inputs[v.name]))
        if problems:
            return problems
        if self.book:
            problems += self.book.fills_fit(config.values, inputs)
        for name, holds in self.assumptions:
            if not holds(env):
                problems.append(f"assumption '{name}' does not hold")
        return problems

    def after_fills(
        self, config: Config, inputs: Mapping[str, Value], env: Env | None = None
    ) -> Config:
        """Step 2 of a tick: ``config`` with the tick's fills booked (with instruments)
        and the clock and sum windows moved (with a clock); ``config`` itself when the
        model has neither. ``env``, when given, is ``config.values`` and ``inputs`` in
        one mapping (saves building it)."""
        if not self.book and not self.ticked:
            return config
        booked = self.book.book_fills(config.values, inputs) if self.book else {}
        if self.ticked:  # the clock and the sum windows, over the values before the tick
            if env is None:
                env = {**config.values, **inputs}
            booked.update({name: fn(env) for name, fn in self.ticked})
        return Config(config.step, {**config.values, **booked})

    def enabled(
        self, config: Config, inputs: Mapping[str, Value], env: Env | None = None
    ) -> Compiled | None:
        """The first enabled transition of the current step, or None, on ``config`` with
        the tick's fills already booked (:meth:`after_fills`). ``env``, when given, is
        ``config.values`` and ``inputs`` in one mapping (saves building it)."""
        if env is None:
            env = {**config.values, **inputs}
        for compiled in self.by_step[config.step]:
            if compiled.guard(env):
                return compiled
        return None

    def step(self, config: Config, inputs: Mapping[str, Value]) -> TickResult:
        """One tick: the first enabled transition of the current step fires, its actions
        are evaluated and its ``do`` applied simultaneously; if none is enabled the
        configuration stays as it is. With instruments, the fills are booked first and
        the actions change the book. Inputs are not checked here (see
        :meth:`input_violations`)."""
        config = self.after_fills(config, inputs)
        chosen = self.enabled(config, inputs)
        if chosen is None:
            return TickResult(config, None, ())
        return self.fire(config, inputs, chosen)

    def fire(
        self,
        config: Config,
        inputs: Mapping[str, Value],
        chosen: Compiled,
        env: Env | None = None,
    ) -> TickResult:
        """Fire ``chosen`` (an enabled transition of the current step, on ``config`` after
        the tick's fills): evaluate its actions and apply its ``do``, both on the
        configuration before it; with instruments, the actions change the book."""
        if env is None:
            env = {**config.values, **inputs}
        actions = tuple(
            _action(name, dict(zip(names, values(env), strict=True)), instrument, tif)  # type: ignore[call-overload]
            for name, names, values, instrument, tif in chosen.emit
        )
        values = dict(config.values)
        new: tuple[Value, ...] = chosen.values(env)  # type: ignore[assignment]
        for (name, integral), value in zip(chosen.assigned, new, strict=True):
            values[name] = _integral(name, value) if integral and type(value) is not int else value
        if self.book:
            self.book.apply(values, [(a.name, a.instrument, a.side, a.qty, a.tif) for a in actions])
        return TickResult(Config(chosen.transition.target, values), chosen.transition, actions)

    def broken_limits(self, config: Config, fired: Compiled | None = None) -> list[str]:
        """Names of the limits that ``config`` breaks, in file order. With ``fired``, the
        transition that led to ``config`` from a configuration that broke none, only the
        limits that read a variable it assigned are evaluated (the others cannot have
        changed)."""
        if fired is not None and fired.limits_hold(config.values):
            return []
        limits = self.limits if fired is None else fired.limits
        return [name for name, holds in limits if not holds(config.values)]

    def broken_checks(self, config: Config) -> list[str]:
        """The limits ``config`` breaks, then ``final-step-orders`` when it is a final
        step with orders still working (version 2)."""
        found = self.broken_limits(config)
        if self.book and config.step in self.model.final:
            values = config.values
            for side in self.book.sides:
                pending = values[side.pending] if side.pending is not None else 0
                if values[side.open] - pending != 0:
                    found.append(FINAL_STEP_ORDERS)
                    break
        return found

    def broken_orders(
        self, config: Config, inputs: Mapping[str, Value], result: TickResult
    ) -> list[str]:
        """The order checks, and (version 2) the ``positive_qty`` check of the transition
        that fired, that the orders of ``result`` break: ``config`` is the configuration
        the transition fired on (after the tick's fills), each order read on it and the
        inputs."""
        found: list[str] = []
        places = [a for a in result.actions if a.name == "place"]
        if not places or result.transition is None:
            return found
        env = {**config.values, **inputs}
        for name, holds, reads_price in self.order_checks:
            for a in places:
                if reads_price and a.price is None:
                    continue  # a check of the price holds for an order without one
                assert a.side is not None
                order = {
                    "@order.side": SIDE.values.index(a.side),
                    "@order.qty": a.qty,
                    "@order.price": a.price,
                    "@order.tif": TIF.values.index(a.tif),
                    "@order.instrument": (
                        self.instrument_names.index(a.instrument) if a.instrument else 0
                    ),
                }
                if not holds({**env, **order}):  # type: ignore[dict-item]
                    found.append(name)
                    break
        if self.book and any(a.qty is None or a.qty <= 0 for a in places):
            found.append(f"{POSITIVE_QTY}:{result.transition.line}")
        return found


def _integral(name: str, value: Value) -> int:
    if isinstance(value, bool) or (isinstance(value, Fraction) and value.denominator != 1):
        raise InternalError(f"int variable '{name}' was given the value {value}")
    return int(value)


def _value_problems(v: Variable, value: Value) -> list[str]:
    kind = v.type.kind
    if kind == "bool":
        return [] if isinstance(value, bool) else [f"input '{v.name}' must be true or false"]
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        return [f"input '{v.name}' must be a number"]
    if kind in ("int", "enum") and isinstance(value, Fraction) and value.denominator != 1:
        return [f"input '{v.name}' must be an integer, got {value}"]
    if kind == "enum" and not 0 <= value < len(v.type.values):
        return [f"input '{v.name}' is not one of {', '.join(v.type.values)}"]
    if v.low is not None and value < v.low:
        return [f"input '{v.name}' = {v.show(value)} is below its range [{v.low}, {v.high}]"]
    if v.high is not None and value > v.high:
        return [f"input '{v.name}' = {v.show(value)} is above its range [{v.low}, {v.high}]"]
    return []


def _action(name: str, args: Mapping[str, Value], instrument: str, tif: str) -> ActionValue:
    side = args.get("side")
    return ActionValue(
        name,
        SIDE.values[int(side)] if side is not None else None,
        args.get("qty"),
        args.get("price"),
        instrument,
        tif,
    )
