"""Which solver a question gets, and that the faster ways of asking give the same
answers: Houdini's incremental rounds against a fresh solver per round, the dead-end
condition where simplification alone removes the inputs, and the audit once its
wall-clock guard has interrupted the context."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from checker.engines import Budget
from checker.engines.houdini import houdini
from checker.lang.loader import load_model, load_text
from checker.smt.solvers import simple_enough
from checker.smt.system import TransitionSystem
from checker.verify import sanity, verify_model

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "models" / "v1").glob("*.yaml")
)

NONLINEAR = """\
strategy: nonlinear-notional
about: The notional of a position is its size times an input price.
state:
  position: {type: int, init: 0}
  notional: {type: real, init: 0}
inputs:
  price: {type: real, range: [1, 2]}
steps: [quote]
initial: quote
transitions:
  - from: quote
    to: quote
    when: [position < 5]
    do: {position: position + 1, notional: (position + 1) * price}
limits:
  notional_cap: notional <= 10
"""


def test_a_quantifier_free_linear_question_gets_the_smt_core() -> None:
    ctx = z3.Context()
    x, y = z3.Int("x", ctx), z3.Int("y", ctx)
    assert simple_enough(ctx, x + 2 * y <= 3, z3.Or(x == 1, y == 2))
    assert not simple_enough(ctx, x * y <= 3)
    assert not simple_enough(ctx, z3.Exists([y], x + y == 3))


def test_a_nonlinear_system_keeps_the_default_solver() -> None:
    system = TransitionSystem(load_text(NONLINEAR, "nonlinear.yaml"))
    assert not system.linear
    assert TransitionSystem(load_model(ROOT / "models" / "perp_market_maker.yaml")).linear
    report = verify_model(load_text(NONLINEAR, "nonlinear.yaml"))
    assert [lim.verdict.value for lim in report.limits] == ["proved"]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_houdini_rounds_find_the_same_lemmas_incrementally(path: Path) -> None:
    """The largest inductive subset is unique: one incremental solver for every round
    and a fresh solver per round must find the same one."""
    found = []
    for linear in (True, False):
        system = TransitionSystem(load_model(path))
        system.linear = linear  # the cached property, overridden for this system
        lemmas = houdini(system, Budget(system.meter, 10**9, 60))
        found.append(sorted(lemmas.parts))
    assert found[0] == found[1]
    assert found[0]  # every model has some lemma (a sign, at least)


def test_inputs_eliminated_by_simplification_keep_their_condition() -> None:
    """`bought == open_bid` with `bought` in [0, 1]: simplification alone leaves
    `0 <= open_bid <= 1`, which z3's model-based elimination, given no quantifier,
    would answer as `true` and the dead end would be missed."""
    system = TransitionSystem(load_model(ROOT / "tests" / "models" / "bad" / "dead_end.yaml"))
    exists = sanity._inputs_exist(system, Budget(system.meter, 10**9, 60))
    assert exists is not None
    open_bid = system.cur["open_bid"]
    solver = z3.Solver(ctx=system.ctx)
    solver.add(open_bid == 2, exists)
    assert solver.check() == z3.unsat
