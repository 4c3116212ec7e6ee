"""Verdicts that can be trusted: independent of the other limits of a file and of their
order, refuted with the shortest run by every engine where runs end in dead ends, taken
from Spacer when Spacer finds the run, deepened while budget remains, and the same on a
loaded machine as on an idle one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import z3

from checker.engines import Budget, Outcome, Unroller, spacer
from checker.lang.loader import load_model, load_text
from checker.options import DEFAULT_OPTIONS, ENGINES, Options
from checker.results import Verdict
from checker.smt.system import TransitionSystem
from checker.verify import portfolio, verify_model

ROOT = Path(__file__).resolve().parent.parent

TWO_ROADS = """\
strategy: shared-unrolling-dead-end
about: >
  Two roads: the long one never ends, the short one is a dead end (no admissible
  inputs) once x reaches 2. short_road breaks at tick 3, in that dead end;
  long_road breaks at tick 11 on the long road.
state:
  branch: {type: int, init: 0}
  x: {type: int, init: 0}
inputs:
  pick: {type: int, range: [1, 2]}
assume:
  open_road: branch != 2 or x < 2
steps: [start, road]
initial: start
transitions:
  - from: start
    to: road
    do: {branch: pick}
  - from: road
    to: road
    do: {x: x + 1}
limits:
LIMITS
"""

ROAD_LIMITS = {
    "long_road": ("x <= 9", 11),
    "short_road": ("not (branch == 2 and x >= 2)", 3),
    "at_start": ("branch >= 1", 0),  # broken in the initial configuration
}

DEEP = """\
strategy: first-broken-at-tick-100
about: The order counter passes its cap at tick 100, far deeper than k-induction looks.
params:
  max_orders: 99
state:
  orders: {type: int, init: 0}
  resting: {type: bool, init: false}
inputs:
  urgent: {type: bool}
steps: [quote]
initial: quote
transitions:
  - from: quote
    to: quote
    do: {orders: orders + 1, resting: urgent}
limits:
  order_cap: orders <= max_orders
"""

FAST = DEFAULT_OPTIONS.overlay(sanity=False)


def two_roads(names: list[str]) -> str:
    lines = "\n".join(f"  {n}: {ROAD_LIMITS[n][0]}" for n in names)
    return TWO_ROADS.replace("LIMITS", lines)


def outcomes(text: str, options: Options) -> dict[str, tuple[Verdict, int | None]]:
    report = verify_model(load_text(text, "model.yaml"), options)
    return {
        lim.name: (lim.verdict, lim.counterexample.length if lim.counterexample else None)
        for lim in report.limits
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_dead_end_limit_refuted_with_its_shortest_run_by_every_engine(engine: str) -> None:
    found = outcomes(two_roads(list(ROAD_LIMITS)), FAST.overlay(engine=engine))
    assert found == {name: (Verdict.REFUTED, depth) for name, (_, depth) in ROAD_LIMITS.items()}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "order",
    [
        ["long_road", "short_road", "at_start"],
        ["at_start", "long_road", "short_road"],
        ["short_road", "at_start", "long_road"],
    ],
)
def test_verdict_does_not_depend_on_the_other_limits_or_their_order(
    engine: str, order: list[str]
) -> None:
    options = FAST.overlay(engine=engine)
    together = outcomes(two_roads(order), options)
    for name in order:
        assert outcomes(two_roads([name]), options)[name] == together[name], name


def test_unroller_check_at_a_small_depth_sees_runs_that_end_there() -> None:
    # the path was unrolled to 20 ticks for another question; a run of 3 ticks that ends
    # in a dead end is still a run of 3 ticks
    system = TransitionSystem(load_text(two_roads(["short_road"]), "model.yaml"))
    unroller = Unroller(system)
    budget = Budget(system.meter, DEFAULT_OPTIONS.budget, 60)
    unroller.extend(20)
    result, _ = unroller.check(z3.Not(system.limits["short_road"]), 3, budget)
    assert result == z3.sat


def test_limit_first_broken_at_tick_100_is_refuted() -> None:
    report = verify_model(load_text(DEEP, "deep.yaml"), FAST)
    (lim,) = report.limits
    assert lim.verdict is Verdict.REFUTED
    assert lim.counterexample is not None and lim.counterexample.length == 100
    assert lim.counterexample.shortest


def test_bmc_goes_deeper_while_budget_remains_when_spacer_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def gives_up(system: TransitionSystem, bad: z3.BoolRef, budget: Budget, **_: object) -> Outcome:
        return Outcome(Verdict.UNKNOWN, "spacer", "gave up")

    monkeypatch.setattr(portfolio, "spacer", gives_up)
    report = verify_model(load_text(DEEP, "deep.yaml"), FAST)
    (lim,) = report.limits
    assert lim.verdict is Verdict.REFUTED and lim.engine == "bmc"
    assert lim.counterexample is not None and lim.counterexample.length == 100


def test_spacer_refutation_comes_with_its_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # no BMC at all: the run must come from Spacer's derivation
    def no_bmc(*args: object, **kwargs: object) -> Outcome:
        raise AssertionError("BMC was asked for the run")

    monkeypatch.setattr(portfolio, "bmc", no_bmc)
    system = TransitionSystem(load_text(DEEP, "deep.yaml"))
    unroller = Unroller(system)
    prop = system.limits["order_cap"]
    found = spacer(
        system, z3.Not(prop), Budget(system.meter, DEFAULT_OPTIONS.budget, 60), unroller=unroller
    )
    assert found.verdict is Verdict.REFUTED and found.depth == 100 and found.model is not None
    assert not found.shortest  # until BMC has ruled out every shorter length


def test_spacer_run_not_shortened_for_lack_of_budget_says_so() -> None:
    system = TransitionSystem(load_text(DEEP, "deep.yaml"))
    unroller = Unroller(system)
    prop = system.limits["order_cap"]
    found = spacer(
        system, z3.Not(prop), Budget(system.meter, DEFAULT_OPTIONS.budget, 60), unroller=unroller
    )
    starved = portfolio.shorten(unroller, "order_cap", prop, found, Budget(system.meter, 1, 60))
    assert starved.verdict is Verdict.REFUTED and starved.depth == 100 and not starved.shortest
    enough = portfolio.shorten(
        unroller, "order_cap", prop, found, Budget(system.meter, DEFAULT_OPTIONS.budget, 60)
    )
    assert enough.depth == 100 and enough.shortest


def test_running_out_of_units_and_of_time_are_told_apart() -> None:
    text = two_roads(["long_road"])
    units = verify_model(load_text(text, "m.yaml"), FAST.overlay(budget=1)).limits[0]
    assert units.verdict is Verdict.UNKNOWN and "resource budget (1 units) reached" in units.reason
    wall = verify_model(load_text(text, "m.yaml"), FAST.overlay(timeout=0.0)).limits[0]
    assert wall.verdict is Verdict.UNKNOWN and "wall clock" in wall.reason


# -- the same verdicts on a loaded machine ------------------------------------------------

LOADED_FILES = [
    ROOT / "models" / "perp_market_maker.yaml",
    ROOT / "tests" / "models" / "bad" / "refuted_deep.yaml",
]
SMALL_BUDGET = "600000"  # small enough that the deep limit runs out of units


def verdicts(deep: Path, env: dict[str, str] | None = None) -> list[object]:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "checker",
            "verify",
            *map(str, LOADED_FILES),
            str(deep),
            "--no-cache",
            "--budget",
            SMALL_BUDGET,
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=deep.parent,
        timeout=600,
        check=False,
    )
    assert run.returncode in (1, 2), run.stderr
    report = json.loads(run.stdout)
    return [
        (
            m["file"],
            lim["name"],
            lim["verdict"],
            lim["engine"],
            lim["reason"],
            (lim["counterexample"] or {}).get("length"),
            [f["rule"] for f in m["findings"]],
        )
        for m in report["models"]
        for lim in m["limits"]
    ]


@pytest.fixture
def load() -> Iterator[None]:
    """Two processes spinning on the CPU, as on a busy 2-core CI runner."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    time.sleep(0.5)
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[object]]:
    deep = tmp_path_factory.mktemp("load") / "deep.yaml"
    deep.write_text(DEEP)
    return deep, verdicts(deep)


def test_same_verdicts_on_an_idle_and_a_loaded_machine(
    idle: tuple[Path, list[object]], load: None
) -> None:
    deep, quiet = idle
    assert any(v[2] == "unknown" and "resource budget" in str(v[4]) for v in quiet)
    assert verdicts(deep) == quiet


def test_same_verdicts_whatever_the_hash_seed(idle: tuple[Path, list[object]]) -> None:
    deep, quiet = idle
    assert verdicts(deep, {"PYTHONHASHSEED": "12345"}) == quiet


def test_unreachable_step_with_a_transition_out_is_reported_not_a_crash() -> None:
    # Spacer's solution left the unreachable step's predicate without an interpretation,
    # and reading it raised "ast is null" in the dead-transition check
    text = """\
strategy: unreachable-with-exit
state:
  x: {type: int, init: 0}
steps: [a, b, c]
initial: a
transitions:
  - from: b
    to: a
    do: {x: x + 1}
limits:
  small: x <= 0
"""
    report = verify_model(load_text(text, "m.yaml"), DEFAULT_OPTIONS)
    assert report.internal_error is None
    assert [lim.verdict for lim in report.limits] == [Verdict.PROVED]
    rules = sorted(f.rule for f in report.findings)
    assert rules.count("unreachable-step") == 2
    assert report.exit_code == 1


def test_delta_hedge_limit_that_spacer_refutes_is_refuted_with_spacers_run() -> None:
    # the budget leaves Spacer room to find the run, and little to shorten it
    path = ROOT / "tests" / "models" / "spacer" / "delta_hedge_room_too_wide.yaml"
    report = verify_model(load_model(path), FAST.overlay(budget=30_000_000))
    found = {lim.name: lim for lim in report.limits}
    hedge = found["perp_hedge_limit"]
    assert hedge.verdict is Verdict.REFUTED and hedge.engine.startswith("spacer")
    assert hedge.counterexample is not None and hedge.counterexample.length <= 18
