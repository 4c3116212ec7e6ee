"""checker.testing: strategies drawn from a model, the state machine, boundary examples
and assert_prover_matches."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.stateful import run_state_machine_as_test

from checker.interpret import Interpreter
from checker.lang.loader import load_model
from checker.model import Model
from checker.testing import (
    ProverMismatch,
    Run,
    assert_prover_matches,
    boundary_examples,
    input_sequences,
    model_state_machine,
    runs,
    with_boundary_examples,
)
from checker.testing.boundary import boundaries
from tests.conftest import BAD_MODELS, V1_MODELS, model

PERP = load_model(V1_MODELS / "perp_market_maker.yaml", {})
MARGIN = load_model(V1_MODELS / "margin_ratio_guard.yaml", {})
DEEP = load_model(BAD_MODELS / "refuted_deep.yaml", {})
QUICK = settings(max_examples=60, deadline=None, database=None)

# Assumptions the interval propagation cannot handle alone: a disjunction, a conjunct
# over two inputs bounding the first by the second, and a bound that depends on state.
TANGLED = model(
    """
strategy: tangled
state:
  used: {type: int, init: 0}
inputs:
  x: {type: int, range: [0, 5]}
  y: {type: int, range: [0, 5]}
  p: {type: real, range: [0, 1]}
  q: {type: real}
assume:
  budget: x + y <= 3 - used
  either: x >= 2 or y >= 2
  ordered: p < q and q <= p + 1/1000
steps: [go]
initial: go
transitions:
  - from: go
    to: go
    when: used < 1
    do: {used: used + 1}
limits:
  bounded: used <= 1
"""
)


def _replays(m: Model, run: Run) -> None:
    """Every tick of ``run`` is admissible and is what the interpreter does."""
    interpreter = Interpreter(m)
    config = interpreter.initial()
    assert run.configs[0] == config
    for inputs, after in zip(run.inputs, run.configs[1:], strict=True):
        assert interpreter.input_violations(config, inputs) == []
        config = interpreter.step(config, inputs).config
        assert config == after


@pytest.mark.parametrize("m", [PERP, MARGIN, TANGLED], ids=lambda m: m.strategy)
def test_runs_respect_ranges_and_assumptions(m: Model) -> None:
    @QUICK
    @given(run=runs(m, max_ticks=25, boundary=False))
    def check(run: Run) -> None:
        _replays(m, run)

    check()


def test_tangled_assumptions_stop_the_run_when_nothing_is_admissible() -> None:
    # after one tick `used` is 1, so x + y <= 2 while x >= 2 or y >= 2: still possible;
    # nothing is admissible once used >= 2, which the guard prevents, so runs go on
    run = find(runs(TANGLED, max_ticks=5, min_ticks=5, boundary=False), lambda r: True)
    assert run.length == 5 and run.ended == ""
    stuck = model(TANGLED_STUCK)
    run = find(runs(stuck, max_ticks=5, min_ticks=5, boundary=False), lambda r: True)
    assert run.length == 2
    assert run.ended == "no admissible inputs in step 'go' at tick 3"


TANGLED_STUCK = """
strategy: stuck
state:
  used: {type: int, init: 0}
inputs:
  x: {type: int, range: [0, 5]}
assume:
  budget: x <= 1 - used
steps: [go]
initial: go
transitions:
  - from: go
    to: go
    do: {used: used + 1}
limits:
  bounded: used <= 5
"""


def test_input_sequences_are_lists_of_dicts() -> None:
    @QUICK
    @given(seq=input_sequences(DEEP, max_ticks=10, boundary=False))
    def check(seq: list[dict[str, object]]) -> None:
        assert len(seq) <= 10
        assert all(set(tick) == {"bought"} for tick in seq)

    check()


def test_hypothesis_shrinks_to_the_shortest_counterexample() -> None:
    run = find(
        runs(DEEP, max_ticks=40, boundary=False),
        lambda r: r.broken() is not None,
        settings=settings(max_examples=500, database=None),
    )
    assert run.broken() == (8, ("position_limit",))
    assert run.length == 8  # the solver's shortest counterexample has 8 ticks too
    table = run.table()
    assert "counterexample: position_limit (position <= max_position) broken at tick 8" in table
    assert "idle -> quoting (line 22)" in table


def test_boundary_examples_replay_and_reach_deep_states() -> None:
    found = boundaries(DEEP, seconds=5.0)
    labels = {e.target.label for e in found.reachable()}
    assert "limit position_limit: just inside at `position <= max_position`" in labels
    for e in found.reachable():
        interpreter = Interpreter(DEEP)
        config = interpreter.initial()
        for inputs in e.inputs:
            assert interpreter.input_violations(config, inputs) == []
            config = interpreter.step(config, inputs).config
    (edge,) = [e for e in found.reachable() if e.target.kind == "limit"]
    assert edge.config.values["position"] == 3  # the limit's edge, 6 ticks in
    assert len(edge.inputs) == 6


def test_prover_points_sit_on_both_sides_of_each_atom() -> None:
    found = boundaries(PERP, seconds=2.0, only=("prover", "room_to_buy"))
    interpreter = Interpreter(PERP)
    sides = set()
    for e in found.examples:
        env = {**e.config.values, **e.point}
        edge = env["position"] + env["open_bid"] + 10 - 100
        holds = interpreter.provers["room_to_buy"](env)
        sides.add((e.target.side, holds, edge))
    assert ("inside", True, 0) in sides
    assert ("outside", False, 1) in sides


def test_with_boundary_examples_runs_each_as_an_explicit_example() -> None:
    seen: list[int] = []

    @settings(phases=[Phase.explicit], database=None, deadline=None)
    @with_boundary_examples(DEEP, argument="seq", seconds=5.0)
    @given(seq=input_sequences(DEEP))
    def check(seq: list[dict[str, object]]) -> None:
        seen.append(len(seq))

    check()
    assert len(seen) == len(boundary_examples(DEEP, seconds=5.0)) > 0
    assert max(seen) >= 6


def test_state_machine_reports_a_broken_limit_as_a_tick_table() -> None:
    machine = model_state_machine(DEEP, boundary=False)
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=300,
                deadline=None,
                database=None,
                phases=[Phase.generate],  # shrinking a stateful run is slow; tested above
            ),
        )
    text = str(failure.value)
    assert "limit position_limit broken at tick " in text
    assert "counterexample: position_limit (position <= max_position) broken at tick" in text
    assert "idle -> quoting (line 22)" in text


def test_state_machine_takes_invariants_of_a_subclass() -> None:
    from hypothesis.stateful import invariant

    base = model_state_machine(PERP, boundary_seconds=1.0)

    class Tighter(base):  # type: ignore[misc, valid-type]
        @invariant()
        def at_most_one_clip_resting(self) -> None:
            assert 0 <= self.values["open_bid"] <= 10, self.run.table()

        @invariant()
        def never_quote_in_halted(self) -> None:
            if self.step == "halted":
                assert self.values["open_bid"] == 0

    run_state_machine_as_test(
        Tighter,
        settings=settings(
            max_examples=10,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

    class Wrong(base):  # type: ignore[misc, valid-type]
        @invariant()
        def never_long(self) -> None:
            assert self.values["position"] <= 0, "went long"

    with pytest.raises(AssertionError, match="went long"):
        run_state_machine_as_test(
            Wrong,
            settings=settings(
                max_examples=100, deadline=None, database=None, phases=[Phase.generate]
            ),
        )


def test_assert_prover_matches_accepts_a_correct_implementation() -> None:
    def room_to_buy(position: int, open_bid: int) -> bool:
        return position + open_bid + 10 <= 100

    assert_prover_matches(PERP, "room_to_buy", room_to_buy, max_examples=40, boundary_seconds=1)


def test_off_by_one_is_caught_by_the_boundary_examples_alone() -> None:
    def room_to_buy(position: int, open_bid: int) -> bool:
        return position + open_bid + 10 < 100  # off by one: the model allows equality

    only_explicit = settings(phases=[Phase.explicit], database=None, deadline=None)
    with pytest.raises(ProverMismatch) as failure:
        assert_prover_matches(
            PERP, "room_to_buy", room_to_buy, boundary_seconds=1, settings_=only_explicit
        )
    text = str(failure.value)
    assert (
        "prover 'room_to_buy' (line 49): position + open_bid + quote_size <= max_position" in text
    )
    assert "model says True, room_to_buy returned False" in text
    assert "just inside" in text


def test_real_prover_off_by_a_cent_is_caught_too() -> None:
    def spread_ok(bid: Fraction, ask: Fraction) -> bool:
        return ask - bid > Fraction(1, 2)  # the model allows a spread of exactly 0.5

    with pytest.raises(ProverMismatch, match="model says True, spread_ok returned False"):
        assert_prover_matches(
            PERP,
            "spread_ok",
            spread_ok,
            boundary_seconds=1,
            settings_=settings(phases=[Phase.explicit], database=None, deadline=None),
        )


def test_enum_values_reach_the_function_by_name() -> None:
    seen: set[object] = set()

    def mode_allows_risk(mode: str) -> bool:
        seen.add(mode)
        return mode == "active"

    assert_prover_matches(
        MARGIN, "mode_allows_risk", mode_allows_risk, max_examples=30, boundary_seconds=1
    )
    assert seen <= {"active", "reducing", "halted"} and "active" in seen


def test_bad_calls_say_what_is_wrong() -> None:
    with pytest.raises(KeyError, match="has no prover 'nope'"):
        assert_prover_matches(PERP, "nope", lambda **kw: True)
    with pytest.raises(TypeError, match="takes size, which the model does not have"):
        assert_prover_matches(PERP, "room_to_buy", lambda position, size: True)
