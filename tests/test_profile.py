"""``seqprove data profile``: the data against the envelope a proof assumed, the first
stop of a run, the param that bounds each breach and its re-proof; and the assumption
monitor's stop message, which names the same param and command."""

from __future__ import annotations

import itertools
import json
import shlex
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.meta import BookOrigin, DataMeta, sidecar, write_sidecar
from checker.run.profile import advice, profile, round_out
from tests.conftest import ROOT, run_cli

THROTTLE = ROOT / "models" / "order_rate_throttle.yaml"
MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"
KLINES = MARKET / "binance_klines_1m" / "BTCUSDT-1m-2020-03-13_0027-0249.csv"

WATCH = """\
strategy: edge-watch
params:
  max_edge: 50
  spread_cap: 10
state:
  seen: {type: int, init: 0}
inputs:
  bid: {type: real}
  ask: {type: real}
  edge: {type: real, range: [-100, 100]}
assume:
  book: bid < ask
  narrow: ask - bid <= spread_cap
  small_edge: abs(edge) <= max_edge
steps: [on]
initial: on
transitions:
  - from: on
    to: on
    when: seen < 3
    do: {seen: seen + 1}
limits:
  few: seen <= 3
"""

WATCH_ROWS = [  # bid, ask, edge
    ("100", "101", "5"),
    ("100", "101", "-20"),
    ("100", "101", "70"),  # tick 3: small_edge breaks (max_edge)
    ("100", "112", "0"),  # tick 4: narrow breaks (spread_cap)
    ("100", "101", "120"),  # tick 5: the literal range [-100, 100] and small_edge break
    ("100", "101", "1"),
]


def watch_files(where: Path, rows: list[tuple[str, str, str]] = WATCH_ROWS) -> tuple[Path, Path]:
    model = where / "watch.yaml"
    model.write_text(WATCH)
    data = where / "watch.csv"
    lines = ["bid,ask,bid_size,ask_size,low,high,volume,edge"]
    lines += [f"{b},{a},5,5,{b},{a},0,{e}" for b, a, e in rows]
    data.write_text("\n".join(lines) + "\n")
    return model, data


def profile_json(*args: str) -> tuple[int, dict[str, Any]]:
    run = run_cli("data", "profile", *args, "--json")
    assert run.code in (0, 1), run.out + run.err
    return run.code, json.loads(run.out)


def throttle_jump(where: Path, jump: str, at: int) -> Path:
    """Calm synthetic data for the throttle whose mid_move jumps to ``jump`` on row ``at``
    (1-based: tick ``at``)."""
    calm = where / "calm.csv"
    made = run_cli(
        "data", "synth", "--scenario", "calm", "--ticks", "120", "--seed", "3",
        "--out", str(calm), "--model", str(THROTTLE),
    )  # fmt: skip
    assert made.code == 0, made.err
    table = pd.read_csv(calm, dtype=str, keep_default_na=False)
    table.loc[at - 1, "mid_move"] = jump
    out = where / "jump.csv"
    table.to_csv(out, index=False)
    return out


def test_round_out_keeps_three_significant_digits_away_from_the_proof() -> None:
    assert round_out(Fraction(6500), up=True, integer=True) == 6500
    assert round_out(Fraction("6523.25"), up=True, integer=True) == 6530
    assert round_out(Fraction("293.69925"), up=True, integer=False) == 294
    assert round_out(Fraction("0.012345"), up=True, integer=False) == Fraction("0.0124")
    assert round_out(Fraction("-0.012345"), up=False, integer=False) == Fraction("-0.0124")
    assert round_out(Fraction("0.3"), up=True, integer=True) == 1
    assert round_out(Fraction(-1234), up=True, integer=True) == -1230


def test_a_stopped_run_is_profiled_reproved_and_then_runs_past_the_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = throttle_jump(tmp_path, "6523.25", 60)
    assert run_cli("verify", str(THROTTLE)).code == 0
    stopped = run_cli("run", str(THROTTLE), "--data", str(data), "--no-journal", "--no-plot")
    assert stopped.code == 2, stopped.out + stopped.err
    code, found = profile_json(str(THROTTLE), "--data", str(data))
    assert code == 1
    command = f"seqprove verify {THROTTLE} --param max_mid_move=6530"
    run = found["run"]
    assert run["outcome"] == "assumption" and run["stops"] and run["tick"] == 60
    assert run["line"] == 61  # the header is line 1
    assert (
        f"input 'mid_move' = 6523.25 is above its range [-5000, 5000] (bound by param "
        f"max_mid_move): re-prove with `{command}` to run past tick 60" in run["message"]
    )
    assert " ".join(stopped.out.split()).count(f"`{command}` to run past tick 60") == 1
    mid_move = next(i for i in found["inputs"] if i["name"] == "mid_move")
    assert mid_move["max"]["value"] == "6523.25" and mid_move["max"]["tick"] == 60
    assert mid_move["ticks"] == 120 and mid_move["outside_range"]
    fills = next(i for i in found["inputs"] if i["name"] == "perp.bought")
    assert fills["ticks"] == 60 == run["venue_inputs_through_tick"]
    (breach,) = found["breaches"]
    assert breach["of"] == "mid_move" and breach["params"] == ["max_mid_move"]
    assert breach["first"]["values"] == {"mid_move": "6523.25"}
    (widen,) = found["widen"]
    assert widen["param"] == "max_mid_move" and widen["value"] == "6530"
    assert widen["command"] == command and widen["reproof"] == "proved"
    assert found["widen_together"] is None
    (replay,) = found["replays"]  # played again with the wider param: to the end
    assert replay["params"] == {"max_mid_move": "6530"} and replay["outcome"] == "data-end"
    assert found["settled"] is None  # the first widening was enough
    argv = shlex.split(widen["command"])
    assert argv[:2] == ["seqprove", "verify"]
    assert run_cli(*argv[1:]).code == 0  # the re-proof writes its proof record
    past = run_cli(*shlex.split(widen["run"])[1:], "--no-journal", "--no-plot", "--json")
    assert past.code == 0, past.out + past.err
    outcome = json.loads(past.out)["outcome"]
    assert outcome["reason"] == "data-end" and outcome["tick"] == 120


def test_a_run_inside_the_envelope_exits_0(tmp_path: Path) -> None:
    data = throttle_jump(tmp_path, "12.5", 10)
    code, found = profile_json(str(THROTTLE), "--data", str(data), "--no-reprove")
    assert code == 0
    assert found["run"]["outcome"] == "data-end" and not found["breaches"] and not found["widen"]
    assert not any(i["outside_range"] or i["broken_assumptions"] for i in found["inputs"])
    text = run_cli("data", "profile", str(THROTTLE), "--data", str(data))
    assert text.code == 0 and "stays inside the envelope" in text.out


def test_assumptions_literals_and_several_params(tmp_path: Path) -> None:
    model, data = watch_files(tmp_path)
    code, found = profile_json(str(model), "--data", str(data))
    assert code == 1
    assert found["run"]["tick"] == 3
    assert (
        "assumption 'small_edge' (abs(edge) <= max_edge) does not hold: edge = 70"
        in (found["run"]["message"])
    )
    assert (
        f"`seqprove verify {model} --param max_edge=70` to run past tick 3"
        in (found["run"]["message"])
    )
    inputs = {i["name"]: i for i in found["inputs"]}
    assert inputs["edge"]["outside_range"]
    assert inputs["edge"]["broken_assumptions"] == ["small_edge"]
    assert inputs["ask"]["broken_assumptions"] == ["narrow"] and not inputs["ask"]["outside_range"]
    breaches = {(b["kind"], b["of"]): b for b in found["breaches"]}
    assert set(breaches) == {
        ("assumption", "small_edge"),
        ("assumption", "narrow"),
        ("range", "edge"),
    }
    assert (
        breaches[("range", "edge")]["params"] == []
        and breaches[("range", "edge")]["model_line"] == 10
    )
    assert breaches[("assumption", "small_edge")]["failed_ticks"] == 2
    assert breaches[("assumption", "small_edge")]["checked_ticks"] == 6  # every row: market only
    widen = {w["param"]: w for w in found["widen"]}
    assert widen["max_edge"]["value"] == "120" and widen["spread_cap"]["value"] == "12"
    assert all(w["reproof"] == "proved" for w in widen.values())
    together = found["widen_together"]
    assert together["params"] == {"max_edge": "120", "spread_cap": "12"}
    assert together["command"] == (
        f"seqprove verify {model} --param max_edge=120 --param spread_cap=12"
    )
    assert together["reproof"] == "proved"
    text = run_cli("data", "profile", str(model), "--data", str(data), "--no-reprove")
    assert text.code == 1
    flat = " ".join(text.out.split())
    assert f"no param bounds it; it is written at {model}:10" in flat
    assert "re-prove (all together):" in flat


def test_the_command_keeps_the_runs_other_overrides(tmp_path: Path) -> None:
    model, data = watch_files(tmp_path, WATCH_ROWS[:4])
    code, found = profile_json(
        str(model), "--data", str(data), "--param", "spread_cap=20", "--no-reprove"
    )
    assert code == 1
    (widen,) = found["widen"]
    assert widen["command"] == (
        f"seqprove verify {model} --param max_edge=70 --param spread_cap=20"
    )
    assert widen["reproof"] == "skipped"
    run = run_cli(
        "run", str(model), "--data", str(data), "--param", "spread_cap=20",
        "--allow-unproven", "--no-journal", "--no-plot",
    )  # fmt: skip
    assert run.code == 2
    assert f"`{widen['command']}` to run past tick 3" in " ".join(run.out.split())


def test_a_bound_that_no_param_moves_names_its_line(tmp_path: Path) -> None:
    model, data = watch_files(tmp_path, [("100", "101", "5"), ("101", "100", "5")])
    code, found = profile_json(str(model), "--data", str(data))
    assert code == 1 and not found["widen"]
    assert f"(no param bounds it: it is written at {model}:12)" in found["run"]["message"]


def test_the_monitors_advice_is_read_from_the_loaded_model_not_its_file(tmp_path: Path) -> None:
    """A run's stop names the param and the re-proof from the model it loaded: the file
    is not read again (here it is overwritten after loading), and the run's own
    overrides stay in the command."""
    file, _ = watch_files(tmp_path)
    model = load_model(file, {"spread_cap": "12"})
    file.write_text("strategy: something else\n")
    env = {"bid": Fraction(100), "ask": Fraction(101), "edge": Fraction(70), "seen": 0}
    said = advice(model, "assumption 'small_edge' does not hold", env, 3)
    command = f"seqprove verify {file} --param max_edge=70 --param spread_cap=12"
    assert said == f" (bound by param max_edge): re-prove with `{command}` to run past tick 3"
    env["edge"] = Fraction(120)
    said = advice(model, "input 'edge' = 120 is above its range [-100, 100]", env, 5)
    assert said == f" (no param bounds it: it is written at {file}:10)"


def test_venue_flows_are_what_the_strategy_reads(tmp_path: Path) -> None:
    """The perpetual market maker reads its PnL as a flow: the profile sees exactly what
    the executor delivers, the crash's loss that stops the run included."""
    path = ROOT / "models" / "perp_market_maker.yaml"
    model = load_model(path)
    data = tmp_path / "crash.csv"
    made = run_cli(
        "data", "synth", "--scenario", "crash", "--ticks", "2000", "--seed", "7",
        "--out", str(data), "--model", str(path),
    )  # fmt: skip
    assert made.code == 0
    found = profile(model, read_feed(data, model), None)
    assert found.outcome.reason == "assumption" and found.outcome.tick == 854
    pnl = next(s for s in found.seen if s.name == "pnl_change")
    assert pnl.flow and pnl.count == 854
    assert pnl.low == Fraction("-437.43975") and pnl.low_tick == 854
    (widen,) = found.widenings
    assert (widen.param, widen.value) == ("max_tick_pnl", 438)


def test_replays_find_the_envelope_a_run_needs_past_the_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The losses after the first stop are known only to a run that goes past it: with
    max_tick_pnl = 255 the crash (seed 11) stops the market maker again, later; the replays widen
    it until a run goes through, and that run is what `seqprove run` then does."""
    monkeypatch.chdir(tmp_path)
    path = ROOT / "models" / "perp_market_maker.yaml"
    data = tmp_path / "crash.csv"
    made = run_cli(
        "data", "synth", "--scenario", "crash", "--ticks", "2000", "--seed", "11",
        "--out", str(data), "--model", str(path),
    )  # fmt: skip
    assert made.code == 0
    code, found = profile_json(str(path), "--data", str(data))
    assert code == 1 and found["run"]["tick"] == 827
    first, *rest = found["replays"]
    assert first["params"] == {"max_tick_pnl": "255"}
    assert first["outcome"] == "assumption" and first["tick"] > 827
    assert "(bound by param max_tick_pnl)" in first["message"]
    last = rest[-1]
    assert last["outcome"] in ("final", "data-end")
    settled = found["settled"]
    assert settled["params"] == last["params"] and settled["reproof"] == "proved"
    wider = int(settled["params"]["max_tick_pnl"])
    assert wider > 255
    assert run_cli(*shlex.split(settled["command"])[1:]).code == 0
    done = run_cli(*shlex.split(settled["run"])[1:], "--no-journal", "--no-plot", "--json")
    assert done.code == 0, done.out + done.err
    assert json.loads(done.out)["outcome"]["tick"] == last["tick"]


CAPPED = """\
strategy: capped
params:
  max_edge: 50
state:
  last: {type: real, init: 0}
inputs:
  edge: {type: real, range: [-max_edge, max_edge]}
steps: [on]
initial: on
transitions:
  - from: on
    to: on
    do: {last: edge}
limits:
  last_capped: last <= 60
"""


def test_a_wider_envelope_that_breaks_the_proof_is_refuted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "capped.yaml"
    model.write_text(CAPPED)
    data = tmp_path / "edge.csv"
    rows = [f"100,101,5,5,100,101,0,{e}" for e in ("10", "-20", "70", "5")]
    data.write_text("\n".join(["bid,ask,bid_size,ask_size,low,high,volume,edge", *rows]) + "\n")
    assert run_cli("verify", str(model), "--proofs", str(tmp_path / "proofs")).code == 0
    code, found = profile_json(str(model), "--data", str(data))
    assert code == 1 and found["run"]["tick"] == 3
    (widen,) = found["widen"]
    assert widen["value"] == "70" and widen["reproof"] == "refuted"
    assert widen["detail"] == "last_capped" and widen["run"] == ""


def test_a_book_made_from_candles_says_so(tmp_path: Path) -> None:
    model, data = watch_files(tmp_path, WATCH_ROWS[:2])
    how = "bid and ask made from each bar's close +/- half a spread of 1 bp"
    origin = BookOrigin("", "candles", "bar", 60_000, how)
    write_sidecar(data, DataMeta(books=(origin,)))
    code, found = profile_json(str(model), "--data", str(data), "--no-reprove")
    assert code == 0 and found["books"] == [origin.to_json()]
    text = run_cli("data", "profile", str(model), "--data", str(data), "--no-reprove")
    assert f"book: candles, bar rows: {how}" in text.out
    sidecar(data).write_text("{not json")
    bad = run_cli("data", "profile", str(model), "--data", str(data))
    assert bad.code == 3 and "the metadata is not JSON" in bad.err


def test_bad_input_exits_3(tmp_path: Path) -> None:
    model, data = watch_files(tmp_path)
    data.write_text("bid,ask,bid_size,ask_size,low,high,volume,edge\n100,oops,5,5,100,101,0,1\n")
    run = run_cli("data", "profile", str(model), "--data", str(data))
    assert run.code == 3 and f"{data}:2:2: column 'ask'" in run.err
    missing = run_cli("data", "profile", str(model), "--data", str(tmp_path / "none.csv"))
    assert missing.code == 3
    bad = run_cli("data", "profile", str(model), "--data", str(data), "--param", "nope=1")
    assert bad.code == 3 and "nope" in bad.err


@pytest.mark.skipif(not KLINES.is_file(), reason="no real market data at ../shared/data/market")
def test_real_crash_minutes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Binance BTCUSDT on 2020-03-13, one row a minute, as the throttle reads it: inside
    its 5000 USD envelope; with a 100 USD one, the profile finds the first minute that
    stops a run and the envelope that covers the whole crash, which re-proves and runs."""
    monkeypatch.chdir(tmp_path)
    raw = pd.read_csv(KLINES, header=None, dtype=str)
    close = [Decimal(c) for c in raw[4]]
    moves = [Decimal(0)] + [b - a for a, b in itertools.pairwise(close)]
    opened = raw[0].astype("int64")
    table = pd.DataFrame(
        {
            "time": pd.to_datetime(opened, unit="ms", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "perp.bid": [str(c) for c in close],
            "perp.ask": [str(c + Decimal("0.01")) for c in close],
            "perp.bid_size": [str(int(Decimal(v) * 1000)) for v in raw[5]],
            "perp.ask_size": [str(int(Decimal(v) * 1000)) for v in raw[5]],
            "perp.low": raw[3],
            "perp.high": raw[2],
            "perp.volume": [str(int(Decimal(v) * 1000)) for v in raw[5]],
            "kill_switch": "false",
            "now": (opened - opened.iloc[0]).astype(str),
            "mid_move": [str(m) for m in moves],
        }
    )
    data = tmp_path / "btc-2020-03-13.csv"
    table.to_csv(data, index=False)
    code, found = profile_json(str(THROTTLE), "--data", str(data), "--no-reprove")
    assert code == 0
    mid_move = next(i for i in found["inputs"] if i["name"] == "mid_move")
    assert Decimal(mid_move["max"]["value"]) == max(moves)
    assert Decimal(mid_move["min"]["value"]) == min(moves)
    worst = max(abs(m) for m in moves)
    assert worst > 100  # a crash minute
    code, found = profile_json(str(THROTTLE), "--data", str(data), "--param", "max_mid_move=100")
    assert code == 1
    first = next(i for i, m in enumerate(moves) if abs(m) > 100) + 1
    assert found["run"]["tick"] == first
    (widen,) = found["widen"]
    expected = round_out(Fraction(worst), up=True, integer=True)
    assert Fraction(widen["value"]) == expected and widen["reproof"] == "proved"
    assert run_cli(*shlex.split(widen["command"])[1:]).code == 0
    past = run_cli(*shlex.split(widen["run"])[1:], "--no-journal", "--no-plot", "--json")
    assert past.code == 0, past.out + past.err
    assert json.loads(past.out)["outcome"]["tick"] == len(moves)
