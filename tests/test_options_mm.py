"""The delta-hedged options market maker on two books: the version first written on
language version 2 gets stuck (`stuck` finds it), the reference model does not, in
verify and in `seqprove run`."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from checker.lang.loader import load_model
from checker.model import Model
from checker.results import Severity
from checker.run import SCENARIOS
from checker.run.venue import Fill, Market, PaperVenue
from checker.verify import verify_model
from tests.conftest import BAD_MODELS, ROOT
from tests.test_run_book import legs_data, run, ticks_of

FIXED = ROOT / "models" / "delta_hedged_options_mm.yaml"
STUCK = BAD_MODELS / "options_mm_stuck.yaml"


def delta(model: Model, state: dict[str, Any]) -> int:
    per_contract = int(model.params["option_delta"])
    return int(state["option.position"]) * per_contract + int(state["perp.position"])


def idle_while_out_of_band(model: Model, ticks: list[dict[str, Any]]) -> list[int]:
    """Ticks on which the strategy sat in observe sending nothing although the pricer's
    edge was good and the net delta, after the tick's fills, was out of its band: what
    a stuck strategy does, tick after tick."""
    band, edge = int(model.params["hedge_band"]), Fraction(model.params["min_edge"])
    found = []
    for before, now in itertools.pairwise(ticks):
        if before["step"] != "observe" or now["transition"] is not None:
            continue
        inputs = now["inputs"]
        if inputs["kill_switch"] or Fraction(inputs["edge"]) < edge:
            continue
        after_fills = {  # the book the decision read: the position after the tick's fills
            "option.position": int(before["state"]["option.position"])
            + int(inputs["option.bought"])
            - int(inputs["option.sold"]),
            "perp.position": int(before["state"]["perp.position"])
            + int(inputs["perp.bought"])
            - int(inputs["perp.sold"]),
        }
        if abs(delta(model, after_fills)) > band:
            found.append(now["tick"])
    return found


def test_stuck_finds_the_first_version_and_not_the_reference_model() -> None:
    stuck = verify_model(load_model(STUCK))
    (warning,) = [f for f in stuck.findings if f.rule == "stuck"]
    assert warning.severity is Severity.WARNING and warning.run is not None
    assert "in step 'observe'" in warning.message
    fixed = verify_model(load_model(FIXED))
    assert [(f.rule, f.severity) for f in fixed.findings] == [("stuck", Severity.NOTE)]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_reference_model_trades_through_every_scenario_without_getting_stuck(
    scenario: str, tmp_path: Path
) -> None:
    model = load_model(FIXED)
    executor = run(model, legs_data(model, tmp_path / "legs.csv", scenario, 1500))
    assert executor.outcome is not None
    assert executor.outcome.reason in ("data-end", "final"), executor.outcome.message
    assert executor.stats.orders > 0
    assert idle_while_out_of_band(model, ticks_of(executor)) == []


class ThinPerp(PaperVenue):
    """A perpetual whose market orders find no liquidity: an IOC hedge leaves the book
    unfilled (the semantics allows it; the paper venue otherwise fills them in full)."""

    def _market_orders(self, tick: int, market: Market) -> list[Fill]:
        return []


def thin_perp(model: Model) -> PaperVenue:
    perp = model.instrument("perp")
    return ThinPerp(perp.contract_size, Fraction(5), deferred=True, instrument="perp")


def test_a_hedge_that_does_not_fill_leaves_the_first_version_stuck(tmp_path: Path) -> None:
    """On data where a quote fills in full and the perpetual's hedge finds no liquidity,
    the first version sits out of its band for good: good edge, nothing sent. The
    reference model sends its hedge again on every such tick."""
    stuck, fixed = load_model(STUCK), load_model(FIXED)
    data = legs_data(fixed, tmp_path / "legs.csv", "vol-spike", 1500)
    first = run(stuck, data, perp=thin_perp(stuck))
    idle = idle_while_out_of_band(stuck, ticks_of(first))
    assert len(idle) > 10  # stuck: tick after tick
    last = max(t["tick"] for t in ticks_of(first) if t["transition"] is not None)
    assert last < idle[0]  # and no transition fires again once it is
    second = run(fixed, data, perp=thin_perp(fixed))
    assert idle_while_out_of_band(fixed, ticks_of(second)) == []
