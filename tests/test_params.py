"""Params left free: `verify --param-range` (a proof for a whole box of values) and
`seqprove params` (the region where every limit holds, found by its complement)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sympy

from checker.errors import ModelError
from checker.lang.loader import load_model, load_text
from checker.options import Options
from checker.params import Piece, Region, _taken, _witness, synthesize
from checker.results import Counterexample, Verdict
from checker.smt.system import TransitionSystem
from checker.verify import verify_model
from tests.conftest import ROOT, run_cli

PERP = ROOT / "models" / "perp_market_maker.yaml"
CLIP = ROOT / "docs" / "examples" / "clip_quoter.yaml"
QUICK = Options(sanity=False)


def _verdicts(
    path: Path, params: dict[str, str] | None = None, ranges: dict[str, str] | None = None
) -> dict[str, Verdict]:
    report = verify_model(load_model(path, params or {}, ranges or {}), QUICK)
    assert report.internal_error is None
    return {r.name: r.verdict for r in report.limits}


def test_a_box_of_params_is_proved_at_once() -> None:
    verdicts = _verdicts(PERP, ranges={"quote_size": "1..50", "hedge_band": "10..80"})
    assert set(verdicts.values()) == {Verdict.PROVED}


def test_a_counterexample_names_the_params_it_breaks_with() -> None:
    model = load_model(PERP, {}, {"quote_size": "1..300"})
    report = verify_model(model, QUICK)
    clip = next(r for r in report.limits if r.name == "max_clip")
    assert clip.verdict is Verdict.REFUTED and clip.counterexample is not None
    chosen = clip.counterexample.ticks[0].state["quote_size"]
    assert 200 < int(chosen) <= 300  # max_order is 200
    # the same run at that value alone: refuted too
    assert _verdicts(PERP, {"quote_size": str(chosen)})["max_clip"] is Verdict.REFUTED


def test_a_limit_true_initially_for_some_values_only_is_refuted() -> None:
    """Houdini used to keep a candidate true in *the* initial configuration; with free
    params there are many, and one that holds for the default value alone is not a
    lemma (the regression: `clip <= 50` PROVED over 1..100)."""
    text = CLIP.read_text().replace("limits:\n", "limits:\n  small_clip: clip <= 50\n")
    report = verify_model(load_text(text, str(CLIP), {}, {"clip": "1..100"}), QUICK)
    small = next(r for r in report.limits if r.name == "small_clip")
    assert small.verdict is Verdict.REFUTED and small.counterexample is not None
    assert small.counterexample.length == 0
    assert int(small.counterexample.ticks[0].state["clip"]) > 50


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"clip": "1-50"}, "--param-range clip=1-50: write LO..HI, two integers"),
        ({"clip": "50..1"}, "--param-range clip=50..1: the range is empty"),
        ({"clip": "1..2.5"}, "--param-range clip=1..2.5: write LO..HI"),
    ],
)
def test_a_bad_range_is_refused_at_its_param(ranges: dict[str, str], message: str) -> None:
    with pytest.raises(ModelError) as caught:
        load_model(CLIP, {}, ranges)
    (problem,) = caught.value.diagnostics
    assert message in problem.message and (problem.line, problem.column) == (15, 3)


def test_a_free_param_cannot_stand_where_a_constant_is_needed(tmp_path: Path) -> None:
    text = CLIP.read_text().replace(
        "  bid: {type: real, column: perp.bid, doc: best bid}",
        "  bid: {type: real, column: perp.bid, doc: best bid, range: [0, clip]}",
    )
    path = tmp_path / "m.yaml"
    path.write_text(text)
    load_model(path)  # fine with a value
    with pytest.raises(ModelError) as caught:
        load_model(path, {}, {"clip": "1..10"})
    assert any("left free (--param-range)" in d.message for d in caught.value.diagnostics)


def test_verify_param_range_from_the_command_line_and_its_certificate(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    done = run_cli(
        "verify", str(CLIP), "--no-cache", "--param-range", "clip=1..40",
        "--param-range", "max_order=40..60", "--export", str(certs), "--proofs",
        str(tmp_path / "proofs"),
    )  # fmt: skip
    assert done.code == 0, done.out + done.err
    assert not (tmp_path / "proofs").exists() or not any((tmp_path / "proofs").iterdir())
    manifest = json.loads((certs / "manifest.json").read_text())
    assert {p["ranges"]["clip"] for p in manifest["proofs"]} == {"1..40"}
    checked = run_cli("recheck", str(certs))
    assert checked.code == 0, checked.out + checked.err
    bad = run_cli("verify", str(CLIP), "--no-cache", "--param-range", "clip=1..80")
    assert bad.code == 1 and "clip=" in bad.out


def test_the_safe_region_is_exact_and_checked_point_by_point() -> None:
    """Every value the region calls safe is proved at that value alone, and every value
    it calls unsafe is refuted there."""
    region = synthesize(CLIP, {"clip": "-5..200", "max_order": "0..100"}, options=QUICK)
    assert region.exact and region.unknown == ()
    assert {p.limit for p in region.unsafe} == {"max_clip", "positive_qty:34"}
    rng = random.Random(7)
    seen = {"safe": 0, "unsafe": 0}
    while min(seen.values()) < 6:
        values = {"clip": rng.randint(-5, 200), "max_order": rng.randint(0, 100)}
        kind = region.classify(values)
        assert kind in seen
        if seen[kind] >= 6:
            continue
        seen[kind] += 1
        verdicts = _verdicts(CLIP, {k: str(v) for k, v in values.items()})
        if kind == "safe":
            assert set(verdicts.values()) == {Verdict.PROVED}, values
        else:
            assert Verdict.REFUTED in verdicts.values(), values


def test_params_command_json_plot_and_certificate(tmp_path: Path) -> None:
    plot, certs = tmp_path / "region.png", tmp_path / "certs"
    done = run_cli(
        "params", str(CLIP), "--free", "clip,max_order", "--within",
        "clip=-5..200,max_order=0..100", "--json", "--plot", str(plot), "--export", str(certs),
    )  # fmt: skip
    assert done.code == 0, done.err
    found = json.loads(done.out)
    assert found["exact"] is True and found["undecided"] == "false"
    assert sorted(p["limit"] for p in found["unsafe"]) == ["max_clip", "positive_qty:34"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the certificate covers the safe region: recorded with it, re-checked by two solvers
    manifest = json.loads((certs / "manifest.json").read_text())
    assert {p["region"] for p in manifest["proofs"]} == {found["safe"]}
    checked = run_cli("recheck", str(certs))
    assert checked.code == 0, checked.out + checked.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--free", "clip", "--within", "max_order=1..5"], "not one of the --free params"),
        (["--free", "nope"], "--free nope: no model of this run declares a param"),
        (["--free", "clip", "--param", "clip=3"], "--param and --free both name 'clip'"),
    ],
)
def test_params_command_usage_errors(args: list[str], message: str) -> None:
    done = run_cli("params", str(CLIP), *args)
    assert done.code == 3 and message in done.err


def test_a_free_param_without_bounds_takes_every_value() -> None:
    """`--free clip` alone: the region over every int, exact (a clip above max_position
    never fits the room, however large)."""
    region = synthesize(CLIP, {"clip": ".."}, options=QUICK)
    assert region.exact and region.ranges == {"clip": ".."}
    assert [region.classify({"clip": c}) for c in (-7, 0, 1, 50, 51, 100, 101, 10**9)] == [
        "unsafe", "unsafe", "safe", "safe", "unsafe", "unsafe", "safe", "safe",
    ]  # fmt: skip


def test_a_piece_from_a_run_of_no_tick_is_that_runs_condition_not_true() -> None:
    """A counterexample at tick 0 leaves nothing to eliminate, and z3's qe2 given a goal
    with no quantifier answers whether it is satisfiable (``true``), which once made
    every value unsafe. The piece is the initial condition itself."""
    region = synthesize(CLIP, {"clip": "-20..150", "max_position": "-10..300"})
    assert region.exact
    pieces = {p.limit: p for p in region.unsafe}
    assert pieces["position_limit"].expr != sympy.true
    assert region.classify({"clip": 10, "max_position": 100}) == "safe"
    assert region.classify({"clip": 10, "max_position": -1}) == "unsafe"
    assert region.classify({"clip": 10, "max_position": 0}) == "safe"


# The perp market maker's hedge is an order of `hedge_size`: above `max_order` (200) it
# breaks `max_clip`, but only once the position has passed `hedge_band`, one quote of
# `quote_size` at a time. A counterexample covers one run length; the loop of quote,
# cancel and look again is repeated to cover the rest (checker.params.repeated).
PERP_BOX = {"quote_size": "100..300", "hedge_band": "0..1000", "hedge_size": "150..250"}


def _perp_safe(values: dict[str, int], max_position: int = 1000) -> bool:
    """The region read off the model by hand: a quote above max_order breaks max_clip
    at once; a hedge above it is sent once the position passes the band, and the room
    checks let the position reach max_position (fills come in whole contracts, one
    quote a side at a time) and no further."""
    quote, band, hedge = values["quote_size"], values["hedge_band"], values["hedge_size"]
    return quote <= 200 and (hedge <= 200 or band >= max_position)


def _run_at(
    region: Region, piece: Piece, values: dict[str, int], overrides: dict[str, str]
) -> Counterexample | None:
    """A run at exactly ``values`` taking the transitions of ``piece``'s counterexample
    that breaks its limit, replayed by the interpreter (None: none found)."""
    model = load_model(region.file, overrides, dict(region.ranges))
    system = TransitionSystem(model)
    taken = _taken(piece.counterexample)
    point = sympy.And(*(sympy.Eq(region.symbols[n], v) for n, v in values.items()))
    reads = piece.limit in system.reads_inputs
    return _witness(system, piece.limit, taken, reads, point)


def _check_perp_region(
    region: Region, points: int, refute_by_verify: bool, seed: int, max_position: int = 1000
) -> None:
    """Random values inside the box: each is where the hand-read region puts it, each
    safe one has every limit proved at that value alone, each unsafe one is refuted
    there (by verify, or by a run at that value along its piece, replayed)."""
    assert region.exact and region.unknown == ()
    low = {n: int(r.split("..")[0]) for n, r in region.ranges.items()}
    high = {n: int(r.split("..")[1]) for n, r in region.ranges.items()}
    rng = random.Random(seed)
    for _ in range(200):  # the region against the hand-read one, no solver
        values = {n: rng.randint(low[n], high[n]) for n in low}
        expected = "safe" if _perp_safe(values, max_position) else "unsafe"
        assert region.classify(values) == expected, values
    seen = {"safe": 0, "unsafe": 0}
    while min(seen.values()) < points:
        values = {n: rng.randint(low[n], high[n]) for n in low}
        kind = region.classify(values)
        if seen[kind] >= points:
            continue
        seen[kind] += 1
        params = {"max_position": str(max_position), **{k: str(v) for k, v in values.items()}}
        if kind == "safe":
            verdicts = _verdicts(PERP, params)
            assert set(verdicts.values()) == {Verdict.PROVED}, values
        elif refute_by_verify:
            verdicts = _verdicts(PERP, params)
            assert verdicts["max_clip"] is Verdict.REFUTED, values
        else:
            env = {region.symbols[n]: v for n, v in values.items()}
            piece = next(p for p in region.unsafe if bool(p.expr.subs(env)))
            run = _run_at(region, piece, values, {"max_position": str(max_position)})
            assert run is not None and run.ticks[0].state["quote_size"] == values["quote_size"]


def test_the_perp_market_makers_region_is_exact_across_run_lengths() -> None:
    region = synthesize(PERP, PERP_BOX, options=QUICK)
    assert region.safe == (
        "(hedge_band >= 1000 and quote_size <= 200) or (hedge_size <= 200 and quote_size <= 200)"
    )
    assert {p.limit for p in region.unsafe} == {"max_clip"}
    # the band of 999 needs ten quotes (30 ticks) at a quote of 100: a repeated loop
    assert max(p.counterexample.length for p in region.unsafe) >= 30
    assert all(p.exact for p in region.unsafe)
    _check_perp_region(region, points=2, refute_by_verify=False, seed=11)


@pytest.mark.slow
def test_the_perp_market_makers_region_with_small_quotes_and_another_max_position() -> None:
    """Quotes down to 20 need up to 50 rounds of the loop (150 ticks), beyond what
    verify finds at one value within its budget: the unsafe values are refuted by a run
    at that value along their piece's transitions, replayed."""
    box = {"quote_size": "20..300", "hedge_band": "0..1000", "hedge_size": "100..300"}
    region = synthesize(PERP, box, options=QUICK)
    _check_perp_region(region, points=8, refute_by_verify=False, seed=5)
    # a smaller max_position: the position stops at 600, and so does the unsafe band
    region = synthesize(PERP, PERP_BOX, {"max_position": "600"}, options=QUICK)
    assert region.safe == (
        "(hedge_band >= 600 and quote_size <= 200) or (hedge_size <= 200 and quote_size <= 200)"
    )
    _check_perp_region(region, points=4, refute_by_verify=True, seed=6, max_position=600)


LADDER = """\
strategy: ladder
about: >
  Adds a step to its inventory at each tick while the inventory is below the cap: the
  inventory ends at the first multiple of the step at or above the cap.
params:
  step: 10
  cap: 100
  max_inventory: 150
state:
  inventory: {type: int, init: 0, doc: contracts held}
inputs:
  price: {type: real, doc: the mark}
provers:
  below_cap: inventory < cap
steps: [buying]
initial: buying
transitions:
  - from: buying
    to: buying
    when: [below_cap]
    do: {inventory: inventory + step}
limits:
  inventory_limit: inventory <= max_inventory
"""


def test_a_limit_on_the_state_broken_after_a_loop_is_exact(tmp_path: Path) -> None:
    """A limit on the configuration (not on an order), broken after up to 7 rounds of
    a loop of one transition: unsafe exactly where the first multiple of the step at or
    above the cap passes max_inventory, a set with no linear form but a union of one
    piece per number of rounds."""
    path = tmp_path / "ladder.yaml"
    path.write_text(LADDER)
    region = synthesize(path, {"step": "15..100", "max_inventory": "100..300"}, options=QUICK)
    assert region.exact and region.rounds <= 3
    assert max(p.repeated for p in region.unsafe) >= 4
    rng = random.Random(3)
    for _ in range(300):
        step, most = rng.randint(15, 100), rng.randint(100, 300)
        expected = "unsafe" if -(-100 // step) * step > most else "safe"
        assert region.classify({"step": step, "max_inventory": most}) == expected, (step, most)
