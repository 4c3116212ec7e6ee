"""The SMT encoding and the Python interpreter are two implementations of one
semantics: on random runs they must agree tick by tick, and the encoding must admit no
other successor than the one the interpreter computes."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.interpret import Config, Interpreter
from checker.lang.loader import load_model
from checker.model import Model, Value, Variable
from checker.smt.system import STEP, TransitionSystem, value_term
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
