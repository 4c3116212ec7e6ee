"""The SMT encoding and the Python interpreter are two implementations of one
semantics: on random runs they must agree tick by tick, and the encoding must admit no
other successor than the one the interpreter computes.

With instruments (language version 2) the runs include the fills the market chooses:
both must admit the same inputs (fills beyond what can fill refused by both), reach the
same unique configuration and read every obligation the same way, on the files of
``models/`` that declare instruments, reference-style models written for these tests
and generated ones. The book is also said twice in :mod:`checker.book` (expressions for
the encoding, values for the interpreter): both readings must agree on random books and
actions."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.book import Book
from checker.draw import TickDrawer
from checker.interpret import Config, Interpreter
from checker.lang.loader import load_model
from checker.model import Model, Value, Variable
from checker.smt.system import STEP, TransitionSystem, value_term
from tests.adversarial.models_v2 import GenModelV2, gen_v2_models
from tests.adversarial.v2_reference import REFERENCE
from tests.conftest import ROOT, model
from tests.test_traps import EXACT, NONLINEAR, PRIORITY, STUTTER, SWAP

MODELS = sorted((ROOT / "models").glob("*.yaml"))
INLINE = {
    "priority": PRIORITY,
    "stutter": STUTTER,
    "swap": SWAP,
    "exact": EXACT,
    "nonlinear": NONLINEAR,
}


def values(var: Variable) -> st.SearchStrategy[Value]:
    kind = var.type.kind
    if kind == "bool":
        return st.booleans()
    if kind == "enum":
        return st.integers(0, len(var.type.values) - 1)
    low = Fraction(var.low) if var.low is not None else Fraction(-1000)
    high = Fraction(var.high) if var.high is not None else Fraction(1000)
    if kind == "int":
        return st.integers(math.ceil(low), math.floor(high))
    return st.fractions(low, high, max_denominator=100)


def agree(m: Model, runs: list[dict[str, Value]]) -> None:
    interpreter = Interpreter(m)
    system = TransitionSystem(m)
    config = interpreter.initial()
    solver = z3.Solver(ctx=system.ctx)
    solver.add(system.at(system.init, 0))
    for k, inputs in enumerate(runs):
        if interpreter.input_violations(config, inputs):
            break
        frame = system.frame(k)
        for var in m.inputs:
            solver.add(frame.inputs[var.name] == value_term(var.type, inputs[var.name], system.ctx))
        solver.add(system.at(system.trans, k))
        config = interpreter.step(config, inputs).config
        after = system.frame(k + 1).state
        expected = [after[STEP] == m.steps.index(config.step)]
        expected += [
            after[v.name] == value_term(v.type, config.values[v.name], system.ctx) for v in m.state
        ]
        assert solver.check(z3.And(*expected)) == z3.sat, f"tick {k + 1}: encoding disagrees"
        assert solver.check(z3.Not(z3.And(*expected))) == z3.unsat, (
            f"tick {k + 1}: encoding admits another successor"
        )
        solver.add(*expected)


def check_model(m: Model, data: st.DataObject) -> None:
    ticks = data.draw(st.integers(1, 12), label="ticks")
    if m.instruments:  # the fills depend on the book: drawn tick by tick
        agree_v2(m, data, ticks)
        return
    runs = [
        {v.name: data.draw(values(v), label=f"{v.name}@{k}") for v in m.inputs}
        for k in range(ticks)
    ]
    agree(m, runs)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reference_models_agree(path: Path, data: st.DataObject) -> None:
    check_model(load_model(path), data)


@pytest.mark.parametrize("name", sorted(INLINE))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_trap_models_agree(name: str, data: st.DataObject) -> None:
    check_model(model(INLINE[name]), data)


def test_initial_configuration_agrees() -> None:
    for path in MODELS:
        m = load_model(path)
        assert Interpreter(m).initial() == Config(
            m.initial, {v.name: v.init for v in m.state if v.init is not None}
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reference_models_agree_long_campaign(path: Path, data: st.DataObject) -> None:
    check_model(load_model(path), data)


# -- language version 2: the book -------------------------------------------------------------

V2_MODELS = [p for p in MODELS if "\ninstruments:" in p.read_text()]
"""The files of ``models/`` that declare instruments (the book the checker keeps)."""


def _book_fills(m: Model, config: Config, data: st.DataObject, k: int) -> dict[str, Value]:
    """A fill per side drawn from the book alone (LANGUAGE-2, step 1): a part of the
    working quantity and a part of the pending one; whole units on an int instrument,
    halves or quarters on a real one; now and then one more than can fill."""
    found: dict[str, Value] = {}
    for side in Book(m).sides:
        real = m.instrument(side.instrument).qty.kind == "real"
        pending = config.values[side.pending] if side.pending is not None else 0
        working = config.values[side.open] - pending
        unit = Fraction(1, data.draw(st.sampled_from([2, 4]), label="grid")) if real else 1
        late = unit * data.draw(st.integers(0, int(Fraction(pending) / unit)), label=f"late{k}")
        early = unit * data.draw(st.integers(0, int(Fraction(working) / unit)), label=f"early{k}")
        if data.draw(st.integers(0, 9), label=f"over{k}") == 0:
            early += unit  # more than can fill: both semantics must refuse it
        found[side.fill] = early + late
        if side.fill_pending is not None:
            found[side.fill_pending] = late
    return found


def agree_v2(m: Model, data: st.DataObject, ticks: int) -> int:
    """A random run with fills, tick by tick: the interpreter and the encoding admit the
    same inputs, reach the same unique configuration, and read every obligation (limits,
    order checks, positive_qty, final-step-orders) the same way. Returns the number of
    ticks taken."""
    interpreter = Interpreter(m)
    drawer = TickDrawer(m, interpreter)
    system = TransitionSystem(m)
    config = interpreter.initial()
    solver = z3.Solver(ctx=system.ctx)
    solver.add(system.at(system.init, 0))
    ticks_props = [ob.name for ob in m.obligations() if ob.reads_inputs]
    state_props = [ob.name for ob in m.obligations() if not ob.reads_inputs]

    def read(term: z3.ExprRef, model: z3.ModelRef) -> bool:
        return z3.is_true(model.eval(term, model_completion=True))

    assert solver.check() == z3.sat
    first = solver.model()
    shown = {name: read(system.at(system.props[name], 0), first) for name in state_props}
    broken = set(interpreter.broken_checks(config))
    assert {n for n, held in shown.items() if not held} == broken, "tick 0: checks differ"
    k = 0
    for attempt in range(ticks):
        drawn = drawer.draw(data.draw, config)
        if drawn is None:
            break  # no admissible inputs here: the run ends
        inputs = dict(drawn)
        if data.draw(st.booleans(), label=f"own fills {attempt}"):
            inputs.update(_book_fills(m, config, data, attempt))
        frame = system.frame(k)
        fixed = [
            frame.inputs[v.name] == value_term(v.type, inputs[v.name], system.ctx) for v in m.inputs
        ]
        allowed = not interpreter.input_violations(config, inputs)
        solver.push()
        solver.add(*fixed, system.at(system.trans, k))
        encoded = solver.check()
        solver.pop()
        assert encoded == (z3.sat if allowed else z3.unsat), (
            f"tick {k + 1}: the interpreter {'admits' if allowed else 'refuses'} {inputs}, "
            f"the encoding {'admits' if encoded == z3.sat else 'refuses'} them"
        )
        if not allowed:
            continue
        solver.add(*fixed, system.at(system.trans, k))
        after = interpreter.after_fills(config, inputs)
        result = interpreter.step(config, inputs)
        config = result.config
        there = system.frame(k + 1).state
        expected = [there[STEP] == m.steps.index(config.step)]
        expected += [
            there[v.name] == value_term(v.type, config.values[v.name], system.ctx) for v in m.state
        ]
        assert solver.check(z3.And(*expected)) == z3.sat, f"tick {k + 1}: encoding disagrees"
        assert solver.check(z3.Not(z3.And(*expected))) == z3.unsat, (
            f"tick {k + 1}: encoding admits another successor"
        )
        solver.add(*expected)
        assert solver.check() == z3.sat
        now = solver.model()
        sent = set(interpreter.broken_orders(after, inputs, result))
        by_tick = {n for n in ticks_props if not read(system.at(system.props[n], k), now)}
        assert by_tick == sent, f"tick {k + 1}: orders break {sent}, the encoding says {by_tick}"
        by_state = {n for n in state_props if not read(system.at(system.props[n], k + 1), now)}
        broken = set(interpreter.broken_checks(config))
        assert by_state == broken, f"tick {k + 1}: {broken} broken, the encoding says {by_state}"
        k += 1
    return k


@pytest.mark.parametrize("name", sorted(REFERENCE))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_v2_reference_models_agree(name: str, data: st.DataObject) -> None:
    agree_v2(model(REFERENCE[name]), data, data.draw(st.integers(1, 12), label="ticks"))


@pytest.mark.skipif(not V2_MODELS, reason="no file of models/ declares instruments")
@pytest.mark.parametrize("path", V2_MODELS, ids=lambda p: p.name)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_v2_model_files_agree(path: Path, data: st.DataObject) -> None:
    agree_v2(load_model(path), data, data.draw(st.integers(1, 12), label="ticks"))


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(gm=gen_v2_models(), data=st.data())
def test_v2_generated_models_agree(gm: GenModelV2, data: st.DataObject) -> None:
    agree_v2(model(gm.text()), data, data.draw(st.integers(1, 12), label="ticks"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCE))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_v2_reference_models_agree_long_campaign(name: str, data: st.DataObject) -> None:
    agree_v2(model(REFERENCE[name]), data, data.draw(st.integers(1, 30), label="ticks"))


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(gm=gen_v2_models(), data=st.data())
def test_v2_generated_models_agree_long_campaign(gm: GenModelV2, data: st.DataObject) -> None:
    agree_v2(model(gm.text()), data, data.draw(st.integers(1, 20), label="ticks"))


def _exact(value: sympy.Basic) -> Value:
    """A sympy number or truth value as the interpreter keeps it."""
    if value is sympy.true or value is sympy.false:
        return bool(value)
    assert isinstance(value, sympy.Rational), f"not a number: {value}"
    return int(value) if value.q == 1 else Fraction(int(value.p), int(value.q))


def _sympy(value: Value) -> sympy.Basic:
    if isinstance(value, bool):
        return sympy.true if value else sympy.false
    exact = Fraction(value)
    return sympy.Rational(exact.numerator, exact.denominator)


def _random_values(m: Model, data: st.DataObject) -> tuple[dict[str, Value], dict[str, Value]]:
    """A random configuration (any values of the types, a book with 0 <= P <= open) and
    random inputs whose fills are mostly, not always, within what can fill."""
    book = Book(m)
    found: dict[str, Value] = {}
    for v in m.state:
        if v.builtin:
            continue
        kind = v.type.kind
        if kind == "bool":
            found[v.name] = data.draw(st.booleans())
        elif kind == "enum":
            found[v.name] = data.draw(st.integers(0, len(v.type.values) - 1))
        elif kind == "int":
            found[v.name] = data.draw(st.integers(-3, 3))
        else:
            found[v.name] = data.draw(st.fractions(-3, 3, max_denominator=4))
    inputs = {v.name: data.draw(values(v)) for v in m.inputs if not v.builtin}
    for i in m.instruments:
        real = i.qty.kind == "real"
        amount: st.SearchStrategy[Value] = (
            st.fractions(0, 3, max_denominator=4) if real else st.integers(0, 3)
        )
        position = st.fractions(-3, 3, max_denominator=4) if real else st.integers(-3, 3)
        found[f"{i.name}.position"] = data.draw(position)
        for side in (s for s in book.sides if s.instrument == i.name):
            pending = data.draw(amount) if side.pending is not None else 0
            working = data.draw(amount)
            found[side.open] = working + pending
            if side.pending is not None:
                found[side.pending] = pending
            late = data.draw(amount) if side.fill_pending is not None else 0
            early = data.draw(amount)
            if data.draw(st.integers(0, 3)) > 0:  # mostly within what can fill
                late, early = min(late, pending), min(early, working)
            inputs[side.fill] = early + late
            if side.fill_pending is not None:
                inputs[side.fill_pending] = late
    return found, inputs


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(gm=gen_v2_models(), data=st.data())
def test_book_readings_agree(gm: GenModelV2, data: st.DataObject) -> None:
    """:class:`checker.book.Book` says the book twice: as expressions (for the encoding)
    and on values (for the interpreter). On a random book, random fills and every
    transition of a generated model, both readings agree on which fills can happen, on
    the book after the fills and on the book after the transition's actions."""
    m = model(gm.text())
    book = Book(m)
    interpreter = Interpreter(m)
    values, inputs = _random_values(m, data)
    symbols = {v.name: v.symbol for v in (*m.state, *m.inputs)}

    def subs(env: dict[str, Value]) -> dict[sympy.Symbol, sympy.Basic]:
        return {symbols[n]: _sympy(x) for n, x in env.items()}

    now = subs({**values, **inputs})
    fits = not book.fills_fit(values, inputs)
    assert fits == all(c.xreplace(now) is sympy.true for c in book.constraints()), (values, inputs)
    booked = book.book_fills(values, inputs)
    by_expr = {n: _exact(e.xreplace(now)) for n, e in book.booked().items()}
    assert booked == by_expr, (values, inputs)
    after = {**values, **booked}
    later = subs({**after, **inputs})
    for t in m.transitions:
        (compiled,) = [c for c in interpreter.by_step[t.source] if c.transition is t]
        result = interpreter.fire(Config(t.source, after), inputs, compiled)
        changed = {n: _exact(e.xreplace(later)) for n, e in book.effects(t).items()}
        for name in book.state:
            expected = changed.get(name, after[name])
            assert result.config.values[name] == expected, (t.line, name, after, inputs)
