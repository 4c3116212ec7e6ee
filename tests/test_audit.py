"""The independent check of proofs (checker.audit): true claims accepted on every
reference model, mutated ones refused with the obligation that fails, undecided kept
apart from false, and a disagreement of the two encodings an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from checker import audit
from checker.audit import Induction, Invariant, Semantics, check, claim_of, confirm
from checker.engines.base import Budget, Outcome
from checker.engines.bmc import Unroller
from checker.engines.houdini import houdini
from checker.errors import InternalError
from checker.lang.loader import load_model
from checker.options import DEFAULT_BUDGET, Options
from checker.results import Report, Verdict
from checker.smt.system import TransitionSystem
from checker.verify import verify_file_model, verify_model
from checker.verify.portfolio import prove
from tests.conftest import BAD_MODELS, ROOT, V1_MODELS, model

PERP = V1_MODELS / "perp_market_maker.yaml"
REFERENCE = sorted((ROOT / "models").glob("*.yaml")) + sorted(V1_MODELS.glob("*.yaml"))

# An inductive invariant of the perp market maker, written by hand.
BOOK = (
    "(and (<= 0 cur.open_bid) (<= 0 cur.open_ask) (<= (+ cur.position cur.open_bid) 100) "
    "(>= (- cur.position cur.open_ask) (- 100)))"
)


def engine_claims(path: Path) -> list[tuple[str, audit.Claim]]:
    """Every limit of the model at ``path`` proved by the portfolio, with its claim."""
    m = load_model(path)
    system = TransitionSystem(m)
    unroller = Unroller(system)
    lemmas = houdini(system, Budget(system.meter, DEFAULT_BUDGET, 60))
    found = []
    for lim in m.limits:
        out = prove(
            system,
            unroller,
            lim.name,
            system.limits[lim.name],
            Options(),
            Budget(system.meter, DEFAULT_BUDGET, 60),
            lemmas,
        )
        assert out.verdict is Verdict.PROVED, (path, lim.name, out.reason)
        claim = claim_of(m, out.invariant, out.k, out.lemmas)
        assert claim is not None
        found.append((lim.name, claim))
    return found


@pytest.mark.parametrize("path", REFERENCE, ids=lambda p: p.stem)
def test_the_engines_claims_hold_on_every_reference_model(path: Path) -> None:
    m = load_model(path)
    for name, claim in engine_claims(path):
        result = check(m, name, claim)
        assert result.holds, (name, result)
        assert result.answers and all(answer == "unsat" for _, answer in result.answers)


def test_an_engine_invariant_is_carried_over_by_name() -> None:
    """``@step`` becomes ``pc.cur`` and a state variable ``x`` becomes ``cur.x``."""
    (_, first), *_ = engine_claims(PERP)
    assert isinstance(first, Invariant)
    assert "cur.position" in first.text and "@step" not in first.text
    claims = dict(engine_claims(PERP))
    loss = claims["loss_bounded"]
    assert isinstance(loss, Invariant) and "pc.cur" in loss.text


def test_a_hand_written_true_invariant_is_accepted() -> None:
    m = load_model(PERP)
    for name in ("position_limit", "worst_case_long", "worst_case_short"):
        assert check(m, name, Invariant(BOOK)).holds


def test_an_invariant_missing_a_conjunct_is_refused() -> None:
    m = load_model(PERP)
    dropped = BOOK.replace("(<= 0 cur.open_bid) ", "")
    result = check(m, "position_limit", Invariant(dropped))
    assert (result.status, result.obligation) == ("fails", "safety")


def test_an_invariant_with_a_weakened_bound_is_refused() -> None:
    m = load_model(PERP)
    weak = BOOK.replace("cur.open_bid) 100)", "cur.open_bid) 101)")
    result = check(m, "worst_case_long", Invariant(weak))
    assert (result.status, result.obligation) == ("fails", "safety")


def test_an_invariant_that_is_not_inductive_is_refused() -> None:
    """position_limit alone is not inductive: at 100 contracts with a bid resting, a
    fill takes the position past the limit."""
    m = load_model(PERP)
    limit_alone = "(<= (ite (>= cur.position 0) cur.position (- cur.position)) 100)"
    result = check(m, "position_limit", Invariant(limit_alone))
    assert (result.status, result.obligation) == ("fails", "consecution")


def test_true_and_false_are_refused_as_invariants() -> None:
    m = load_model(PERP)
    assert check(m, "position_limit", Invariant("true")).obligation == "safety"
    assert check(m, "position_limit", Invariant("false")).obligation == "initiation"


def test_a_claim_that_is_not_one_term_over_the_state_is_refused() -> None:
    m = load_model(PERP)
    for text, why in [
        ("true) (assert false", "not one term"),
        ("true) (reset) (assert (= 1 1)", "not one term"),
        ("true (set-option :rlimit 1)", "not one term"),
        ("(and true) ; a comment", "comment"),
        ("(= |cur.position| 0)", "quoted symbol"),
        ("(<= in.spread 100)", "unknown constant"),
        ("(<= cur.spread 100)", "unknown constant"),
        ("(+ cur.position 1)", "not one boolean term"),
    ]:
        result = check(m, "position_limit", Invariant(text))
        assert (result.status, result.obligation) == ("fails", "claim"), text
        assert why in result.reason or "not an SMT-LIB2 term" in result.reason, (text, result)


def test_k_induction_claims_are_checked_step_and_base() -> None:
    m = load_model(PERP)
    assert check(m, "loss_bounded", Induction(2)).holds
    step = check(m, "loss_bounded", Induction(1))
    assert (step.status, step.obligation) == ("fails", "step")


def test_k_induction_base_cases_catch_a_reachable_violation() -> None:
    """refuted-deep breaks its limit after 8 ticks; a depth of 9 puts that run in the
    base cases."""
    m = load_model(BAD_MODELS / "refuted_deep.yaml")
    result = check(m, "position_limit", Induction(9))
    assert (result.status, result.obligation) == ("fails", "base-8")


def test_the_last_configuration_of_a_base_case_needs_no_admissible_inputs() -> None:
    """A configuration where the market can offer nothing is still reached: the limit
    must hold there. Here no input is admissible once x is 1, and x = 1 breaks x < 1."""
    m = model(
        """
strategy: dead-end-breaks
state:
  x: {type: int, init: 0}
inputs:
  go: {type: bool}
assume:
  only_at_zero: x == 0
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    do: {x: x + 1}
limits:
  below_one: x < 1
"""
    )
    result = check(m, "below_one", Induction(2))
    assert (result.status, result.obligation) == ("fails", "base-1")
    report = verify_model(m, Options(timeout=10))
    assert report.limits[0].verdict is Verdict.REFUTED


def test_lemmas_must_be_an_invariant_themselves() -> None:
    m = load_model(PERP)
    assert check(m, "loss_bounded", Induction(1, BOOK)).obligation == "step"
    bogus = check(m, "worst_case_long", Induction(1, "(<= cur.open_bid (- 1))"))
    assert (bogus.status, bogus.obligation) == ("fails", "lemmas-initiation")
    limit_alone = "(<= (ite (>= cur.position 0) cur.position (- cur.position)) 100)"
    loose = check(m, "worst_case_long", Induction(1, limit_alone))
    assert (loose.status, loose.obligation) == ("fails", "lemmas-consecution")


def test_first_enabled_transition_in_file_order_fires() -> None:
    """priority.yaml holds only thanks to file order (both transitions enabled)."""
    m = load_model(BAD_MODELS / "priority.yaml")
    assert check(m, "position_limit", Invariant("(<= cur.position 10)")).holds


def test_do_is_simultaneous() -> None:
    m = load_model(BAD_MODELS / "simultaneous.yaml")
    inv = "(and (= (+ cur.bid_size cur.ask_size) 3) (<= 1 cur.bid_size 2))"
    assert check(m, "total_quoted", Invariant(inv)).holds
    assert check(m, "bid_not_above_ask", Invariant(inv)).obligation == "safety"


def test_an_int_input_with_a_real_bound_takes_the_integers_within() -> None:
    m = model(
        """
strategy: rounding
params:
  cap: 2.5
state:
  x: {type: int, init: 0}
inputs:
  fill: {type: int, range: [-0.5, cap]}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    do: {x: fill}
limits:
  at_most_two: x <= 2
  not_negative: x >= 0
"""
    )
    assert check(m, "at_most_two", Invariant("(and (<= cur.x 2) (>= cur.x 0))")).holds
    assert check(m, "not_negative", Invariant("(and (<= cur.x 2) (>= cur.x 0))")).holds


def test_stutter_keeps_the_configuration_and_coercion_to_real() -> None:
    m = model(
        """
strategy: stutter-real
state:
  cash: {type: real, init: 0}
  n: {type: int, init: 0}
inputs:
  go: {type: bool}
steps: [a, b]
initial: a
transitions:
  - from: a
    to: b
    when: go
    do: {cash: n + 1, n: n + 1}
  - from: b
    to: a
    when: cash >= 100
limits:
  cash_small: cash <= 1
"""
    )
    # in b nothing fires (cash is 1): the configuration stays, so cash stays 1
    inv = "(or (and (= pc.cur 0) (= cur.cash 0.0) (= cur.n 0)) (and (= pc.cur 1) (= cur.cash 1.0)))"
    assert check(m, "cash_small", Invariant(inv)).holds


def test_an_undecided_check_is_not_a_failure() -> None:
    m = load_model(PERP)
    tiny = check(m, "loss_bounded", Induction(2), rlimit=1)
    assert tiny.status == "undecided" and "unknown" in tiny.reason
    late = check(m, "loss_bounded", Induction(2), wall_seconds=0.0001)
    assert late.status in ("undecided", "holds")  # the guard may fire after the last check


def test_an_undecided_recheck_makes_the_limit_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "RLIMIT", 1)
    monkeypatch.setattr(audit.check, "__defaults__", (1, audit.WALL_SECONDS, None))
    report = verify_model(load_model(PERP), Options(timeout=10))
    assert {lim.verdict for lim in report.limits} == {Verdict.UNKNOWN}
    assert all(
        "independent re-check of the proof is undecided" in lim.reason for lim in report.limits
    )


def test_an_encoding_disagreement_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the independent encoding on purpose (it forgets ranges and assumptions):
    the engines' proof is then refuted by it, and verify reports a tool bug, not a
    verdict."""
    monkeypatch.setattr(Semantics, "admissible", lambda self, j: z3.BoolVal(True, self.ctx))
    m = load_model(PERP)
    with pytest.raises(InternalError, match="the independent encoding refutes the proof"):
        verify_model(m, Options(timeout=10))
    report = verify_file_model(m, Options(timeout=10))
    assert report.internal_error and "refutes the proof" in report.internal_error
    assert Report((report,)).exit_code == 4


def test_confirm_leaves_other_verdicts_alone() -> None:
    m = load_model(PERP)
    out = Outcome(Verdict.UNKNOWN, "bmc", "bounded")
    assert confirm(m, "position_limit", out) is out
    bare = confirm(m, "position_limit", Outcome(Verdict.PROVED, "mystery"))
    assert bare.verdict is Verdict.UNKNOWN and "no invariant or depth" in bare.reason
