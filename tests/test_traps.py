"""Every trap of the language contract, checked end to end through the verifier."""

from __future__ import annotations

import pytest

import checker.verify
from checker.results import Verdict
from tests.conftest import ROOT, model, verify_text


def verdicts(text: str) -> dict[str, Verdict]:
    return {lim.name: lim.verdict for lim in verify_text(text).limits}


PRIORITY = """
strategy: priority
state:
  x: {type: int, init: 0}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    when: x >= 0
    do: {x: 0}
  - from: s
    to: s
    do: {x: x + 1}
limits:
  stays_zero: x <= 0
"""


def test_priority_first_enabled_transition_fires_so_later_one_never_does() -> None:
    report = verify_text(PRIORITY)
    assert [lim.verdict for lim in report.limits] == [Verdict.PROVED]
    # x >= 0 holds in every reachable configuration, not in every configuration:
    # the later transition is dead (never fires when reachable), not shadowed.
    assert [f.rule for f in report.findings] == ["dead-transition"]


def test_priority_swapped_order_breaks_the_limit_after_one_tick() -> None:
    swapped = PRIORITY.replace("when: x >= 0\n    do: {x: 0}", "do: {x: x + 1}").replace(
        "  - from: s\n    to: s\n    do: {x: x + 1}\nlimits",
        "  - from: s\n    to: s\n    when: x >= 0\n    do: {x: 0}\nlimits",
    )
    (lim,) = verify_text(swapped).limits
    assert lim.verdict is Verdict.REFUTED
    assert lim.counterexample is not None and lim.counterexample.length == 1


STUTTER = """
strategy: stutter
state:
  x: {type: int, init: 0}
inputs:
  go: {type: bool}
steps: [a, b]
initial: a
transitions:
  - from: a
    to: b
    when: go
    do: {x: x + 1}
  - from: b
    to: a
    when: x > 1
limits:
  at_most_one: x <= 1
  never_two: x != 2
"""


def test_stutter_no_enabled_transition_keeps_the_configuration() -> None:
    report = verify_text(STUTTER)
    assert {lim.name: lim.verdict for lim in report.limits} == {
        "at_most_one": Verdict.PROVED,
        "never_two": Verdict.PROVED,
    }
    assert [f.rule for f in report.findings] == ["dead-transition"]


SWAP = """
strategy: simultaneous
state:
  a: {type: int, init: 0}
  b: {type: int, init: 1}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    do: {a: b, b: a}
limits:
  sum_is_one: a + b == 1
  distinct: a != b
"""


def test_do_is_simultaneous_a_swap_keeps_both_values() -> None:
    assert set(verdicts(SWAP).values()) == {Verdict.PROVED}


EXACT = """
strategy: exact-reals
state:
  x: {type: real, init: 0}
  n: {type: int, init: 0}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    when: n < 10
    do: {x: x + 0.1, n: n + 1}
limits:
  ten_tenths_are_one: n < 10 or x == 1
  never_above_one: x <= 1.0
  third: x * 3 != 1
"""


def test_reals_are_exact_ten_tenths_make_exactly_one() -> None:
    assert verdicts(EXACT) == {
        "ten_tenths_are_one": Verdict.PROVED,
        "never_above_one": Verdict.PROVED,
        "third": Verdict.PROVED,
    }


def test_exact_reals_refuted_when_the_sum_misses_by_one_tenth() -> None:
    wrong = EXACT.replace("n < 10 or x == 1", "n < 10 or x == 0.9")
    result = verify_text(wrong)
    (refuted,) = [lim for lim in result.limits if lim.verdict is Verdict.REFUTED]
    assert refuted.name == "ten_tenths_are_one"
    assert refuted.counterexample is not None
    assert refuted.counterexample.length == 10
    assert refuted.counterexample.ticks[-1].state == {"x": "1", "n": 10}


def test_limit_true_but_not_one_inductive_is_proved_with_its_invariant() -> None:
    text = (ROOT / "models" / "perp_market_maker.yaml").read_text()
    report = verify_text(text)
    loss = next(lim for lim in report.limits if lim.name == "loss_bounded")
    assert loss.verdict is Verdict.PROVED
    assert loss.engine == "spacer"
    assert loss.invariant is not None
    # the step-by-step part that makes it inductive: quoting is entered only within loss
    assert "pnl > -5000" in loss.invariant["quoting"]
    assert "pnl > -5000" not in loss.invariant["hedging"]


DEEP = """
strategy: deep
params:
  max_position: 5
state:
  position: {type: int, init: 0}
inputs:
  filled: {type: bool}
provers:
  room: position <= max_position
steps: [quote, wait]
initial: quote
transitions:
  - from: quote
    to: wait
    when: [room]
    emit:
      - place(side="buy", qty=1)
  - from: wait
    to: quote
    when: filled
    do: {position: position + 1}
limits:
  position_limit: position <= max_position
"""


def test_shortest_counterexample_of_twelve_ticks_is_found_and_replayed() -> None:
    (lim,) = verify_text(DEEP).limits
    assert lim.verdict is Verdict.REFUTED
    cex = lim.counterexample
    assert cex is not None
    assert cex.length == 12
    assert [t.tick for t in cex.ticks] == list(range(13))
    assert cex.ticks[0].transition is None
    assert cex.ticks[-1].state == {"position": 6}
    assert all(t.state["position"] <= 5 for t in cex.ticks[:-1])


CONTRADICTION = """
strategy: contradiction
state:
  x: {type: int, init: 0}
inputs:
  price: {type: real, range: [100, 200]}
assume:
  cheap: price < 50
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    do: {x: x + 1}
limits:
  small: x <= 3
"""


def test_contradictory_assumptions_are_flagged_and_nothing_is_proved() -> None:
    report = verify_text(CONTRADICTION)
    assert [f.rule for f in report.findings] == ["vacuous-assumptions"]
    (lim,) = report.limits
    assert lim.verdict is Verdict.UNKNOWN
    assert "vacuous" in lim.reason
    assert report.exit_code == 2


def test_vacuous_model_still_refutes_a_limit_broken_initially() -> None:
    report = verify_text(CONTRADICTION.replace("x <= 3", "x >= 1"))
    (lim,) = report.limits
    assert lim.verdict is Verdict.REFUTED
    assert lim.counterexample is not None and lim.counterexample.length == 0


NONLINEAR = """
strategy: nonlinear
params:
  max_notional: 1000
state:
  notional: {type: real, init: 0}
inputs:
  qty: {type: int, range: [0, 10]}
  price: {type: real, range: [1, 100]}
provers:
  room: notional + qty * price <= 2 * max_notional
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    when: [room]
    emit:
      - place(side="buy", qty=qty)
    do: {notional: notional + qty * price}
limits:
  notional_limit: notional <= max_notional
  never_negative: notional >= 0
"""


def test_nonlinear_model_is_reported_and_never_wrongly_proved() -> None:
    report = verify_text(NONLINEAR)
    found = {lim.name: lim for lim in report.limits}
    assert found["notional_limit"].verdict is Verdict.REFUTED
    assert found["never_negative"].verdict is not Verdict.REFUTED
    assert "nonlinear" in {f.rule for f in report.findings}


def test_interpreter_and_smt_agree_that_a_decimal_param_is_exact() -> None:
    m = model(
        EXACT.replace("x + 0.1", "x + step_size").replace(
            "strategy: exact-reals\n", "strategy: exact-reals\nparams:\n  step_size: 0.1\n"
        )
    )
    assert m.params["step_size"].__class__.__name__ == "Fraction"


def test_a_counterexample_that_is_not_exact_is_unknown_not_refuted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def irrational(*args: object) -> object:
        raise ValueError("not an exact rational: root-obj(x^2 - 2, 1)")

    monkeypatch.setattr(checker.verify, "extract", irrational)
    (lim,) = verify_text(DEEP).limits
    assert lim.verdict is Verdict.UNKNOWN
    assert "not exact" in lim.reason
