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
from checker.params import synthesize
from checker.results import Verdict
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
