"""A model's tick compiled into one Python function per step, for the executor.

For every step of a model without instruments, :func:`compile_steps` generates the text
of one function of the tick's environment, given as three mappings (so that the executor
never merges them): ``s``, the state before the tick, ``r``, the row's market inputs,
and ``q``, the venue's inputs as delivered. It does, in order, what the executor's
general path does with the interpreter's compiled pieces: the input check (types,
ranges, assumptions), the choice of the first enabled transition of the step (file
order), its provers, its actions' arguments, its ``do`` (an ``int`` variable given a
whole ``Fraction`` becomes an ``int``, as :meth:`checker.interpret.Interpreter.fire`
does) and the limits it can change, on the configuration after it.

The function is pure: it reads ``s``, ``r`` and ``q`` and returns

- :data:`NO_TRANSITION` when no transition of the step is enabled (the inputs are
  admissible);
- ``(index, target, actions, values)`` when a transition fires cleanly: its provers hold,
  no order check applies to it, and no limit it can change is broken after it;
- ``None`` for everything else (inputs outside the envelope, a denial, a broken limit, an
  exception anywhere): the executor then plays the tick by its general path, from the
  same environment, which says why. Nothing has been sent by then, so a tick is played
  exactly once whichever path plays it.

The text is generated from the typed sympy expressions by
:class:`checker.interpret.ExpressionSource`, under the safeguards of
:func:`checker.interpret.compile_all`: variable names appear only as quoted dictionary
keys (``v0 = r['bid']``, text produced by ``repr`` of an identifier the loader validated,
read once into a local whose name is made here), every
number and every other name (actions, steps, sides) is a constant bound in the function's
globals, and the code runs with no builtins but the few expressions use. Nothing from the
model file is ever spliced into the code as code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import sympy

from checker.interpret import (
    EXPRESSION_BUILTINS,
    ActionValue,
    ExpressionSource,
    Interpreter,
    _integral,
    input_bounds,
    no_branch,
)
from checker.model import Model, Transition, Value
from checker.types import SIDE

NO_TRANSITION = 0
"""What a step's function returns when no transition of the step is enabled."""

Fired = tuple[int, str, tuple[ActionValue, ...], dict[str, Value]]
"""A clean firing: transition index, target step, actions, the values after ``do``."""
StepFn = Callable[
    [Mapping[str, Value], Mapping[str, Value], Mapping[str, Value]], "Fired | int | None"
]


class _Source(ExpressionSource):
    """The interpreter's expression text over the environment, whose values the
    function reads once each into locals ``v0``, ``v1``, ... (:attr:`loads`); with
    :attr:`after`, over the values after a transition (its ``do`` in locals)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: dict[str, str] = {}
        """The local of each name of ``e`` the function reads."""
        self.after: Mapping[str, str] = {}
        """While the text of the limits after a transition is made: the local holding
        each variable its ``do`` assigns."""

    def s_Symbol(self, expr: sympy.Symbol) -> str:
        return self.after.get(expr.name) or self.local(expr.name)

    def local(self, name: str) -> str:
        """The local holding the value of ``name``."""
        if name not in self.loads:
            self.loads[name] = f"v{len(self.loads)}"
        return self.loads[name]

    def text(self, exprs: list[sympy.Basic], after: Mapping[str, str] | None = None) -> str:
        """``exprs`` joined by ``and`` (``True`` for none), over the environment or, with
        ``after``, over the values after a transition."""
        self.after = after or {}
        try:
            return " and ".join(self(e) for e in exprs) or "True"
        finally:
            self.after = {}


class _Generator:
    """The text of the step functions of one model, and the constants it binds."""

    def __init__(self, model: Model, interp: Interpreter, *, order_checks: bool) -> None:
        self.model = model
        self.interp = interp
        self.order_checks = order_checks
        self.source = _Source()
        self.constants: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        """A constant of the generated code, by name."""
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def admissible(self) -> str:
        """The input check of :func:`checker.interpret._admissible`: types, ranges,
        assumptions, in the same order."""
        types = {"real": "_Fraction, int", "int": "int", "enum": "int", "bool": "bool"}
        kinds = [
            f"type({self.source.local(v.name)}) in ({types[v.type.kind]},)"
            for v in self.model.inputs
        ]
        checks = input_bounds(self.model)
        ranges = self.source.text(checks + [a.expr for a in self.model.assumptions])
        if not kinds:
            return ranges
        return f"({' and '.join(kinds)}) and ({ranges})"

    def fire(self, t: Transition, indent: str) -> list[str]:
        """The lines that fire ``t`` cleanly or give up (``return None``)."""
        lines = []
        provers = {p.name: p.expr for p in self.model.provers}
        # a prover that is also an item of the guard holds: the guard just held on the
        # same environment (the paper venue reports nothing between the two reads)
        guard = [c.expr for c in t.when]
        again = [provers[n] for n in t.provers if not any(provers[n] == g for g in guard)]
        if again:
            held = self.source.text(again)
            lines.append(f"{indent}if not ({held}): return None")
        if self.order_checks and any(a.name == "place" for a in t.emit):
            lines.append(f"{indent}return None")
            return lines
        actions = []
        for a in t.emit:
            args = dict(a.args)
            side = f"_SIDE[int({self.source(args['side'])})]" if "side" in args else "None"
            qty = self.source(args["qty"]) if "qty" in args else "None"
            price = self.source(args["price"]) if "price" in args else "None"
            actions.append(
                f"_AV({self.bind(a.name)}, {side}, {qty}, {price}, "
                f"{self.bind(a.instrument)}, {self.bind(a.tif)})"
            )
        lines.append(f"{indent}a = ({''.join(f'{x}, ' for x in actions)})")
        assigned = {}
        for n, (name, expr) in enumerate(t.do):
            local = f"d{n}"
            assigned[name] = local
            lines.append(f"{indent}{local} = {self.source(expr)}")
            if self.interp.state_types[name].type.kind in ("int", "enum"):
                lines.append(
                    f"{indent}if type({local}) is not int: "
                    f"{local} = _integral({self.bind(name)}, {local})"
                )
        values = ", ".join(
            f"{v.name!r}: {assigned.get(v.name) or self.source.local(v.name)}"
            for v in self.model.state
        )
        changed = {name for name, _ in t.do}
        limits = [
            lim.expr
            for lim in self.model.limits
            if {s.name for s in lim.expr.free_symbols} & changed
        ]
        if limits:
            held = self.source.text(limits, after=assigned)
            lines.append(f"{indent}if not ({held}): return None")
        lines.append(f"{indent}s = {{{values}}}")
        lines.append(f"{indent}return ({self.bind(t.index)}, {self.bind(t.target)}, a, s)")
        return lines

    def step(self, step: str) -> str:
        lines = [f"    if not ({self.admissible()}): return None"]
        for compiled in self.interp.by_step[step]:
            t = compiled.transition
            guard = self.source.text([c.expr for c in t.when])
            lines.append(f"    if {guard}:")
            lines += self.fire(t, "        ")
        lines.append(f"    return {NO_TRANSITION}")
        state = {v.name for v in self.model.state}
        venue = {v.name for v in self.model.inputs if v.source not in ("market", "fills")}
        loads = [
            f"    {local} = {'s' if name in state else 'q' if name in venue else 'r'}[{name!r}]"
            for name, local in self.source.loads.items()
        ]
        return "\n".join(["def step(s, r, q):", *loads, *lines]) + "\n"


def compile_steps(
    model: Model, interp: Interpreter, *, order_checks: bool
) -> dict[str, StepFn] | None:
    """One function per step of ``model`` (see the module's text), or None for a model
    the executor plays by its general path only: a model with instruments, or one whose
    functions Python cannot compile (expressions nested too deeply)."""
    if model.instruments:
        return None
    functions: dict[str, StepFn] = {}
    for step in model.steps:
        gen = _Generator(model, interp, order_checks=order_checks)
        try:
            text = gen.step(step)
            namespace: dict[str, Any] = {
                "__builtins__": {**EXPRESSION_BUILTINS, "type": type, "int": int},
                "_nobranch": no_branch,
                "_Fraction": Fraction,
                "_AV": ActionValue,
                "_SIDE": SIDE.values,
                "_integral": _integral,
                **gen.source.constants,
                **gen.constants,
            }
            exec(compile(text, f"<seqprove step {step!r}>", "exec"), namespace)
        except (RecursionError, SyntaxError, MemoryError):  # too deep for Python's compiler
            return None
        functions[step] = namespace["step"]
    return functions
