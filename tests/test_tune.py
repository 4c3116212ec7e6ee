"""The tuner (`checker.tune`): any proposer, and only points inside the proved region are
ever backtested or returned; over real Binance minutes when ``../shared/data/market`` is
there."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy

import checker.tune
from checker.params import Region, synthesize
from checker.run.report import RunReport
from checker.tune import (
    Evaluation,
    NotProved,
    Refusal,
    Trial,
    TuneError,
    ask_tell,
    grid,
    prove_region,
    random_search,
    tune,
)
from tests.conftest import ROOT, run_cli

CLIP = ROOT / "docs" / "examples" / "clip_quoter.yaml"
PERP = ROOT / "models" / "perp_market_maker.yaml"
MINUTES = ROOT / "docs" / "examples" / "data" / "BTCUSDT-1m-2020-03-13.csv"  # 30 real minutes
MARKET = ROOT.parent / "shared" / "data" / "market"
KLINES = MARKET / "binance_klines_1m"
BOX = {"clip": "-5..200", "max_order": "0..100"}
DRAWS = {"clip": (1, 100), "max_order": (0, 100)}
"""Pairs a desk might try: half of them let a clip out above max_order."""


def imported(source: Path, model: Path, out: Path) -> Path:
    done = run_cli("data", "import", str(source), "--model", str(model), "--out", str(out))
    assert done.code == 0, done.err
    return out


def oversized(point: Mapping[str, Any]) -> bool:
    """The unsafe values of the region written out by hand (docs/params.md): a clip of 0
    or less, or one of at most max_position (100) above max_order."""
    clip, max_order = point["clip"], point["max_order"]
    return bool(clip <= 0 or (clip <= 100 and clip > max_order))


@pytest.fixture(scope="module")
def region() -> Region:
    return synthesize(CLIP, BOX)


@pytest.fixture(scope="module")
def minutes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported(MINUTES, CLIP, tmp_path_factory.mktemp("data") / "crash.csv")


@pytest.fixture
def played(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every backtest the tuner runs, as the free params of the model it plays."""
    seen: list[dict[str, Any]] = []
    real = checker.tune.backtest

    def counting(model: Any, feed: Any, **settings: Any) -> RunReport:
        seen.append({n: model.params[n] for n in ("clip", "max_order") if n in model.params})
        return real(model, feed, **settings)

    monkeypatch.setattr(checker.tune, "backtest", counting)
    yield seen


def proposals(*points: Mapping[str, Any]) -> Callable[[Sequence[Trial]], Mapping[str, Any] | None]:
    """These points in turn, then None."""
    return lambda history: points[len(history)] if len(history) < len(points) else None


def earlier(n: int) -> tuple[Trial, ...]:
    """A history of ``n`` trials (the built-in proposers read only its length)."""
    return tuple(Refusal(i + 1, {}, "an earlier trial") for i in range(n))


def verify_at(model: Path, point: Mapping[str, Any], tmp_path: Path) -> dict[str, str]:
    """``seqprove verify --param`` at ``point`` (those values alone): each verdict."""
    params = [arg for n, v in point.items() for arg in ("--param", f"{n}={v}")]
    done = run_cli("verify", str(model), "--no-cache", "--proofs", str(tmp_path), "--json", *params)
    (report,) = json.loads(done.out)["models"]
    return {limit["name"]: limit["verdict"] for limit in report["limits"]}


# -- the region is enforced on every point -------------------------------------------------


def test_a_random_search_is_refused_outside_the_region_and_never_played(
    region: Region, minutes: Path, played: list[dict[str, Any]]
) -> None:
    result = tune(CLIP, region, random_search(DRAWS, seed=3), minutes, budget=40)
    assert result.proposed == 40 == result.refused + len(result.evaluations)
    assert played == [dict(e.point) for e in result.evaluations if not e.repeat]
    assert result.evaluated == len(played) > 0
    for refusal in result.refusals:
        assert oversized(refusal.point), refusal
        assert refusal.reason.startswith("unsafe: max_clip breaks where"), refusal.reason
    for evaluation in result.evaluations:
        assert not oversized(evaluation.point) and region.classify(evaluation.point) == "safe"
        assert evaluation.outcome == "data-end" and evaluation.ticks == 30
    best = result.best
    assert best is not None and best.point == result.best_point
    assert best.score == max(e.score for e in result.evaluations) == result.best_score
    assert region.classify(best.point) == "safe"


def test_a_refusal_says_which_piece_or_bound_holds_the_point(
    region: Region, minutes: Path, played: list[dict[str, Any]]
) -> None:
    points = [
        {"clip": 0, "max_order": 50},  # positive_qty's piece
        {"clip": 60, "max_order": 50},  # max_clip's
        {"clip": 201, "max_order": 50},  # beyond the box
        {"clip": 150, "max_order": 50},  # never sent: safe
    ]
    result = tune(CLIP, region, proposals(*points), minutes)
    reasons = [t.reason for t in result.refusals]
    assert reasons[0].startswith("unsafe: positive_qty:34 breaks where clip <= 0")
    assert reasons[1].startswith("unsafe: max_clip breaks where clip <= 100")
    assert "(a counterexample: 1 tick(s) at clip=1, max_order=0)" in reasons[1]
    assert reasons[2] == "outside the box: clip=201 is above 200"
    assert played == [{"clip": 150, "max_order": 50}]
    (evaluation,) = result.evaluations
    assert evaluation.pnl == 0 and evaluation.score == 0.0  # a clip wider than the room


def test_an_undecided_part_is_refused(
    region: Region, minutes: Path, played: list[dict[str, Any]]
) -> None:
    """A region as ``seqprove params`` leaves it when its rounds run out: part of the
    safe values not proved yet, so undecided."""
    clip = region.symbols["clip"]
    rough = dataclasses.replace(
        region,
        safe_expr=sympy.And(region.safe_expr, clip <= 50),
        undecided_expr=sympy.And(region.safe_expr, clip > 50),
    )
    assert not rough.exact
    points = ({"clip": 60, "max_order": 80}, {"clip": 40, "max_order": 80})
    result = tune(CLIP, rough, proposals(*points), minutes)
    (refusal,) = result.refusals
    assert refusal.reason.startswith("undecided: neither proved nor refuted there")
    assert played == [{"clip": 40, "max_order": 80}]


def test_values_are_read_exactly_and_what_is_not_a_point_is_refused(
    region: Region, minutes: Path, played: list[dict[str, Any]]
) -> None:
    points: list[Mapping[str, Any]] = [
        {"clip": 2.5, "max_order": 50},
        {"clip": True, "max_order": 50},
        {"clip": math.nan, "max_order": 50},
        {"clip": "10", "max_order": 50},
        {"clip": 10},
        {"clip": 10, "max_order": 50, "max_position": 50},
        {"clip": 10, "max_order": 50, "nope": 1},
        {"clip": 10.0, "max_order": Fraction(50)},
        {"clip": Decimal("20"), "max_order": 50},
    ]
    result = tune(CLIP, region, proposals(*points), minutes)
    assert [t.reason for t in result.refusals] == [
        "clip=2.5: clip is an int param",
        "clip=True: not a number",
        "clip=nan: not a finite number",
        "clip='10': not a number",
        "no value for max_order (give every free param: clip, max_order)",
        "max_position is not free: it stays 100, as proved",
        "nope is not a param of clip-quoter",
    ]
    assert [e.point for e in result.evaluations] == [
        {"clip": 10, "max_order": 50},
        {"clip": 20, "max_order": 50},
    ]
    assert all(type(v) is int for e in result.evaluations for v in e.point.values())
    assert played == [{"clip": 10, "max_order": 50}, {"clip": 20, "max_order": 50}]

    def not_a_mapping(history: Sequence[Trial]) -> Any:
        return [10, 50]  # a bug in the proposer, not a point

    with pytest.raises(TypeError, match="the proposer gave list: give a mapping or None"):
        tune(CLIP, region, not_a_mapping, minutes)


EDGE = (
    CLIP.read_text()
    .replace("  max_position: 100", "  max_position: 100\n  edge: 0.0")
    .replace("price=bid)", "price=bid - edge)")
    .replace("price=ask)", "price=ask + edge)")
)


def test_a_real_param_is_an_exact_fraction(
    tmp_path: Path, minutes: Path, played: list[dict[str, Any]]
) -> None:
    model = tmp_path / "edge.yaml"
    model.write_text(EDGE)
    box = prove_region(model, {"edge": (0, Decimal("2.5"))}, params={"clip": 10})
    assert box.kinds == {"edge": "real"} and box.params["clip"] == "10"
    result = tune(
        model,
        box,
        grid({"edge": [0.1, Fraction(1, 3), Decimal("0.25"), 3, -0.5]}),
        minutes,
        params={"clip": "10"},
    )
    assert [e.point["edge"] for e in result.evaluations] == [Fraction(1, 10), Fraction(1, 4)]
    assert [t.reason for t in result.refusals] == [
        "edge=1/3: no finite decimal form, as a param needs",
        "outside the box: edge=3 is above 2.5",
        "outside the box: edge=-0.5 is below 0",
    ]
    assert len(played) == 2


# -- the region is proved for the file and params the runs use ----------------------------


def test_a_box_is_proved_before_it_is_used(minutes: Path, played: list[dict[str, Any]]) -> None:
    with pytest.raises(NotProved) as caught:
        tune(CLIP, {"clip": "1..80"}, grid({"clip": [10]}), minutes)
    assert "not proved: max_clip refuted at clip=" in str(caught.value)
    assert caught.value.report is not None
    box = prove_region(CLIP, {"clip": "1..40", "max_order": (40, 60)})
    assert (box.ranges, box.condition, box.params) == (
        {"clip": "1..40", "max_order": "40..60"},
        "",
        {"max_position": "100"},
    )
    result = tune(CLIP, box, grid({"clip": [1, 40, 41], "max_order": [40]}), minutes)
    assert played == [{"clip": 1, "max_order": 40}, {"clip": 40, "max_order": 40}]
    assert result.refusals[0].reason == "outside the box: clip=41 is above 40"


def test_a_region_is_proved_again_with_the_params_the_runs_use(
    region: Region, minutes: Path
) -> None:
    """A Region records neither the file's content nor the other params: the tuner proves
    it again with them (here a max_position below 0 breaks position_limit at once)."""
    with pytest.raises(NotProved, match="position_limit refuted"):
        axes = grid({"clip": [10], "max_order": [50]})
        tune(CLIP, region, axes, minutes, params={"max_position": -1})
    proved = prove_region(CLIP, region)
    with pytest.raises(TuneError, match="proved with max_position=100, not 30"):
        tune(CLIP, proved, grid({"clip": [10]}), minutes, params={"max_position": 30})
    with pytest.raises(TuneError, match="was found for"):
        prove_region(PERP, region)


def test_a_file_edited_during_the_run_stops_it(
    tmp_path: Path, minutes: Path, played: list[dict[str, Any]]
) -> None:
    model = tmp_path / "clip.yaml"
    model.write_text(CLIP.read_text())
    box = prove_region(model, {"clip": "1..40"})

    def editing(history: Sequence[Trial]) -> Mapping[str, Any]:
        if len(history) == 2:
            model.write_text(CLIP.read_text().replace("max_order: 50", "max_order: 5"))
        return {"clip": 10 + len(history)}

    with pytest.raises(TuneError, match="edited during the tuning run"):
        tune(model, box, editing, minutes)
    assert len(played) == 2
    with pytest.raises(TuneError, match="edited since"):
        tune(model, box, editing, minutes)


# -- scores, outcomes, proposers -----------------------------------------------------------


def test_a_run_the_monitor_stops_scores_minus_inf_and_is_never_best(
    region: Region, tmp_path: Path
) -> None:
    """A crossed book at the fourth minute leaves `sane_book`: every run stops there."""
    data = imported(MINUTES, CLIP, tmp_path / "crossed.csv")
    rows = data.read_text().splitlines()
    cells = rows[4].split(",")
    cells[1], cells[2] = cells[2], cells[1]  # bid above ask
    rows[4] = ",".join(cells)
    data.write_text("\n".join(rows) + "\n")
    scored: list[RunReport] = []

    def score(report: RunReport) -> float:
        scored.append(report)
        return 1.0

    result = tune(CLIP, region, grid({"clip": [5, 10], "max_order": [50]}), data, score=score)
    assert [(e.outcome, e.score, e.ticks) for e in result.evaluations] == [
        ("assumption", -math.inf, 4),
        ("assumption", -math.inf, 4),
    ]
    assert result.best is None and result.best_point is None and result.best_score is None
    assert scored == []
    assert result.to_json()["trials"][0]["score"] is None


def test_a_users_score_and_a_point_proposed_again(
    region: Region, minutes: Path, played: list[dict[str, Any]]
) -> None:
    def fewest_fills(report: RunReport) -> float:
        return -float(report.stats.fills)

    again = {"clip": 10, "max_order": 50}
    three = proposals(again, {"clip": 150, "max_order": 0}, again)
    result = tune(CLIP, region, three, minutes, score=fewest_fills)
    first, never, repeat = result.evaluations
    assert repeat.repeat and repeat.number == 3 and repeat.score == first.score < 0
    assert never.score == 0.0 and result.best is never  # a clip that never fits the room
    assert len(played) == result.evaluated == 2
    with pytest.raises(TuneError, match="is nan: give a number"):
        tune(CLIP, region, proposals(again), minutes, score=lambda report: math.nan)


def test_grid_and_random_search_are_reproducible(region: Region, minutes: Path) -> None:
    axes = grid({"clip": [1, 2], "max_order": [10, 20, 30]})
    first = [axes(earlier(n)) for n in range(7)]
    assert first[:3] == [
        {"clip": 1, "max_order": 10},
        {"clip": 1, "max_order": 20},
        {"clip": 1, "max_order": 30},
    ]
    assert first[5] == {"clip": 2, "max_order": 30} and first[6] is None
    result = tune(CLIP, region, axes, minutes, budget=50)
    assert result.proposed == 6 and result.refused == 0
    draws = random_search({"clip": (1, 100), "edge": (0, Decimal("0.5"))}, seed=9, steps=4)
    again = random_search({"clip": (1, 100), "edge": (0, Decimal("0.5"))}, seed=9, steps=4)
    seen = [draws(earlier(n)) or {} for n in range(20)]
    assert seen == [again(earlier(n)) for n in range(20)]
    assert {p["edge"] for p in seen} <= {Fraction(k, 8) for k in range(5)}
    assert all(type(p["clip"]) is int and 1 <= p["clip"] <= 100 for p in seen)
    with pytest.raises(TuneError, match="low <= high"):
        random_search({"clip": (5, 1)})
    with pytest.raises(TuneError, match="at least one value"):
        grid({"clip": []})


class Cautious:
    """A learning agent: it asks for a clip as large as max_order allows plus a margin,
    halves the margin each time it is refused, and stops once a point is played."""

    def __init__(self) -> None:
        self.margin = 40
        self.told: list[Trial] = []

    def ask(self) -> Mapping[str, Any] | None:
        if any(isinstance(t, Evaluation) for t in self.told):
            return None
        return {"clip": 30 + self.margin, "max_order": 30}

    def tell(self, trial: Trial) -> None:
        self.told.append(trial)
        if isinstance(trial, Refusal):
            self.margin //= 2


def test_an_ask_tell_agent_learns_from_its_refusals(
    region: Region, minutes: Path, played: list[dict[str, Any]]
) -> None:
    agent = Cautious()
    result = tune(CLIP, region, ask_tell(agent), minutes)
    assert [t.point["clip"] for t in result.trials] == [70, 50, 40, 35, 32, 31, 30]
    assert [t.refused for t in result.trials] == [True] * 6 + [False]
    assert agent.told == list(result.trials)  # each trial told, in order
    assert all("max_clip" in t.reason for t in agent.told if isinstance(t, Refusal))
    assert played == [{"clip": 30, "max_order": 30}]


def test_the_result_is_one_json_document(region: Region, minutes: Path) -> None:
    two = proposals({"clip": 60, "max_order": 50}, {"clip": 5, "max_order": 50})
    result = tune(CLIP, region, two, minutes)
    document = json.loads(json.dumps(result.to_json()))
    assert (document["proposed"], document["refused"], document["evaluated"]) == (2, 1, 1)
    assert document["region"]["condition"] == region.safe
    assert document["region"]["params"] == {"max_position": "100"}
    refused, evaluated = document["trials"]
    assert refused["status"] == "refused" and refused["point"] == {"clip": 60, "max_order": 50}
    assert evaluated["status"] == "evaluated" and evaluated == document["best"]
    assert evaluated["pnl"] == "66.757895" and evaluated["outcome"] == "data-end"


def test_the_module_names_what_it_exports() -> None:
    for name in checker.tune.__all__:
        assert hasattr(checker.tune, name), name
    assert Evaluation.refused is False and Refusal.refused is True


# -- real market data ----------------------------------------------------------------------


@pytest.mark.skipif(not KLINES.is_dir(), reason="no real market data at ../shared/data/market")
def test_a_tuner_on_real_data_proposes_unsafe_values_half_the_time_and_never_evaluates_one(
    region: Region, tmp_path: Path, played: list[dict[str, Any]]
) -> None:
    """Binance BTCUSDT, 2020-03-13 00:27-02:49 UTC (the COVID crash, 143 minutes): a
    random search over (clip, max_order), half of whose draws are unsafe."""
    source = KLINES / "BTCUSDT-1m-2020-03-13_0027-0249.csv"
    data = imported(source, CLIP, tmp_path / "crash.csv")
    result = tune(CLIP, region, random_search(DRAWS, seed=0), data, budget=60)
    assert result.proposed == 60
    assert 0.35 <= result.refused / result.proposed <= 0.65
    assert all(oversized(r.point) for r in result.refusals)  # each one truly unsafe
    assert not any(oversized(p) for p in played)  # and none of them played
    assert played == [dict(e.point) for e in result.evaluations if not e.repeat]
    assert all(region.classify(e.point) == "safe" for e in result.evaluations)
    assert all(e.outcome == "data-end" and e.ticks == 143 for e in result.evaluations)
    best = result.best
    assert best is not None and region.classify(best.point) == "safe"
    # re-checked independently, one value at a time, by `seqprove verify --param`
    proved = dict.fromkeys(["position_limit", "max_clip", "positive_qty:34"], "proved")
    for evaluation in (best, *result.evaluations[:2]):
        assert verify_at(CLIP, evaluation.point, tmp_path) == proved, evaluation.point
    for refusal in result.refusals[:2]:
        refuted = {**proved, "max_clip": "refuted"}
        assert verify_at(CLIP, refusal.point, tmp_path) == refuted, refusal.point


@pytest.mark.skipif(not KLINES.is_dir(), reason="no real market data at ../shared/data/market")
def test_on_real_data_a_proved_box_and_runs_the_monitor_stops(tmp_path: Path) -> None:
    """The perpetual market maker over 2021-05-19 10:03-14:32 UTC: a larger quote moves
    the PnL by more than max_tick_pnl in a minute, which the proof assumes it never does,
    and the monitor stops that run. It scores -inf and is never best."""
    source = KLINES / "BTCUSDT-1m-2021-05-19_1003-1412.csv"
    data = imported(source, PERP, tmp_path / "may.csv")
    axes = {"quote_size": [1, 10, 25, 50, 60], "hedge_band": [10, 40, 80]}
    result = tune(PERP, {"quote_size": "1..50", "hedge_band": "10..80"}, grid(axes), data)
    assert result.refused == 3  # quote_size 60 is outside the box proved
    outcomes = {e.outcome for e in result.evaluations}
    assert outcomes == {"data-end", "assumption"}
    stopped = [e for e in result.evaluations if e.outcome == "assumption"]
    assert all(e.score == -math.inf for e in stopped)
    best = result.best
    assert best is not None and best.outcome == "data-end"
    assert best.score == max(e.score for e in result.evaluations)
    assert 1 <= best.point["quote_size"] <= 50 and 10 <= best.point["hedge_band"] <= 80
