"""Benchmark the executor: ``seqprove run`` tick throughput against a hand-written loop
and against backtrader.

On the same synthesized market data (``seqprove data synth --model``, the calm and crash
scenarios) and the same pre-parsed rows (``checker.run.data.read_feed``), these ways of
running ``tests/models/v1/perp_market_maker.yaml`` (the version-1 perp market maker,
which the hand-written loop is) on the paper venue are timed, in CPU seconds
(``time.process_time``):

1. **hand-written**: :func:`hand_run`, the perp market maker written by hand as a careful
   developer would (observe -> quoting -> hedging, the same provers, quotes at bid/ask,
   market-order hedges, the same fill accounting and the same assumption monitor), on the
   same ``PaperVenue``, with exact ``Fraction`` arithmetic and no journal;
2. **backtest**: ``Executor(model, feed, None)``, ``start()`` then ``run()``;
3. **journal**: the same with ``Journal(path)`` in a temporary directory, committed in
   groups of ``BACKTEST_GROUP`` ticks as ``seqprove run`` over a data file does;
4. **journal per tick**: one commit per tick (``--commit-every 1``), and the same with
   ``fsync=True`` (``--fsync --commit-every 1``, the settings of paper or live trading);
5. **backtrader**: the same strategy as a backtrader ``Strategy``
   (``bench/backtrader_mm.py``) on the same rows (those the executor ran), in the
   bench-only environment ``.venv-bench`` (``make bench-executor`` makes it from
   ``bench/requirements-backtrader.txt``); without it the benchmark says so and runs the
   rest.

Before anything is timed the hand-written loop and the executor are cross-checked tick by
tick (step, state, venue position and equity after every tick) and at the end (orders,
fills, the venue's whole snapshot, the outcome) on the timed data and on a small matrix of
other scenarios and parameter overrides; any difference stops the benchmark with the first
tick where the two differ.

Only the tick loop is timed (``run()``, or the hand-written loop, or ``cerebro.run()``);
loading the model, reading the data and setting the executor up are reported separately
as one-off costs. Like ``seqprove run``, every timed loop, hand-written or executor,
starts after ``gc.collect(); gc.freeze()`` (everything set up is frozen) and
``gc.unfreeze()`` follows it. Each figure is the best of ``--repeats`` runs (default 3).
The run exits 1 when a cross-check fails (with a traceback) or a target is missed
(:data:`TARGETS`); then, or with ``--profile``, the backtest is profiled with cProfile and
the hot spots (functions by own time) printed.

Run it with ``.venv/bin/python bench/executor.py [--ticks N] [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

from machine import cpu_model, revision, utc_now
from rich.console import Console
from rich.table import Table

from checker.lang.loader import load_model
from checker.model import Model, Value
from checker.run.data import Feed, Row, read_feed
from checker.run.executor import BACKTEST_GROUP, Executor, Outcome
from checker.run.journal import Journal
from checker.run.venue import Num, PaperVenue

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "models" / "v1" / "perp_market_maker.yaml"  # the loop below is it

SCENARIOS = ("calm", "crash")
"""The timed scenarios."""

CHECK_MATRIX: tuple[tuple[str, int, dict[str, str]], ...] = (
    ("trend", 7, {}),
    ("vol-spike", 7, {}),
    ("liquidity-drought", 7, {}),
    ("calm", 11, {"hedge_band": "5", "hedge_size": "10"}),  # a hedge almost every round
    ("crash", 11, {"quote_size": "3", "max_position": "30", "hedge_band": "12"}),
    ("calm", 1, {"max_position": "12", "hedge_band": "60"}),  # observe mostly stays put
    ("calm", 1, {"max_loss": "10"}),  # the loss halt: observe -> halted, a final step
    ("calm", 11, {"hedge_band": "5", "hedge_size": "150"}),  # an overshooting hedge: a limit
)
"""Extra cross-checks (scenario, seed, --param overrides), run on ``CHECK_TICKS`` rows
and not timed: paths of the model the timed data may not take."""

CHECK_TICKS = 3000
TARGETS = {"backtest / hand": 1.0, "journal / hand": 0.7, "backtest / backtrader": 5.0}
"""Issue 14's targets, ratios of ticks per CPU second: the executor at least as fast as the
hand-written loop without a journal, at least 0.7 of it with the journal of a backtest,
and at least 5 times backtrader."""
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
"""The bench-only environment with backtrader (``make bench-executor`` makes it)."""

HALTED, OBSERVE, QUOTING, HEDGING = "halted", "observe", "quoting", "hedging"

TraceRow = tuple[int, str, tuple[Value, ...], Num, Fraction]
"""After each tick: tick, step, (position, open_bid, open_ask, pnl), venue position and
venue equity."""


# -- the hand-written strategy -----------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """The perp market maker's constants, from the model (so ``--param`` overrides apply)."""

    max_position: int
    quote_size: int
    hedge_band: int
    hedge_size: int
    max_loss: Num
    min_spread: Num
    max_move: Num  # pnl_change's range is [-max_move, max_move]; the loss limit adds it

    @classmethod
    def of(cls, model: Model) -> Params:
        p = model.params
        move = model.variable("pnl_change")
        assert move.low is not None and move.high is not None and move.low == -move.high
        return cls(
            int(p["max_position"]),
            int(p["quote_size"]),
            int(p["hedge_band"]),
            int(p["hedge_size"]),
            p["max_loss"],
            p["min_spread"],
            move.high,
        )


@dataclass
class HandResult:
    """How the hand-written run ended, in the executor's terms."""

    reason: str  # "data-end" | "final" | "assumption" | "limit"
    tick: int
    step: str
    state: dict[str, Value]
    orders: int
    fills: int


def hand_run(
    p: Params, venue: PaperVenue, rows: Sequence[Row], trace: list[TraceRow] | None = None
) -> HandResult:
    """The perp market maker by hand on ``venue``, one tick per row.

    Each tick: the venue matches resting orders against the row; the inputs are the row's
    bid and ask and the venue's fills and PnL since the strategy last read them (the
    quoting step reads bought, sold and pnl_change, the hedging step bought and sold); the
    monitor checks the inputs' ranges and the assumptions ``sane_book`` and
    ``fills_need_orders`` (a breach cancels everything, goes to ``halted`` and stops);
    the step acts, gated by its provers; the limits are checked after every move (a broken
    one cancels everything and stops). Client order ids are ``TICK.N`` as in the executor.
    """
    q, max_pos, band, hedge = p.quote_size, p.max_position, p.hedge_band, p.hedge_size
    max_loss, min_spread, max_move = p.max_loss, p.min_spread, p.max_move
    loss_floor = -(max_loss + max_move)
    step = OBSERVE
    position: Num = 0
    open_bid: Num = 0
    open_ask: Num = 0
    pnl: Num = 0
    read_bought: Num = 0  # venue.bought_limit when the strategy last read bought
    read_sold: Num = 0
    read_equity = Fraction(0)  # venue equity when the strategy last read pnl_change
    orders = fills = 0
    reason, last = "data-end", len(rows)
    for tick, row in enumerate(rows, 1):
        fills += len(venue.on_market(tick, row.market))
        inputs = row.inputs
        bid = cast(Fraction, inputs["bid"])
        ask = cast(Fraction, inputs["ask"])
        bought = venue.bought_limit - read_bought
        sold = venue.sold_limit - read_sold
        equity = venue.equity()
        pnl_change = equity - read_equity
        # the assumption monitor: ranges, sane_book, fills_need_orders
        if not (
            0 <= bought <= q
            and 0 <= sold <= q
            and -max_move <= pnl_change <= max_move
            and 0 < bid < ask
            and bought <= open_bid
            and sold <= open_ask
        ):
            venue.cancel_all(tick, f"{tick}.0")
            step, reason, last = HALTED, "assumption", tick
            if trace is not None:
                trace.append(_trace(tick, step, position, open_bid, open_ask, pnl, venue))
            break
        moved = True
        if step == OBSERVE:
            if not pnl > -max_loss:
                venue.cancel_all(tick, f"{tick}.1")
                open_bid = open_ask = 0
                step = HALTED
            elif (
                ask - bid >= min_spread
                and position + open_bid + q <= max_pos
                and position - open_ask - q >= -max_pos
            ):
                venue.place(tick, f"{tick}.1", "buy", q, bid)
                venue.place(tick, f"{tick}.2", "sell", q, ask)
                orders += 2
                open_bid += q
                open_ask += q
                step = QUOTING
            else:
                moved = False
        elif step == QUOTING:
            position += bought - sold
            open_bid -= bought
            open_ask -= sold
            pnl += pnl_change
            read_bought += bought  # what was delivered is what was read
            read_sold += sold
            read_equity = equity
            step = HEDGING
        else:  # HEDGING: cancel the quotes, hedge outside the band, book late fills
            venue.cancel_all(tick, f"{tick}.1")
            if position > band or position < -band:
                if position > 0:
                    fills += len(venue.place(tick, f"{tick}.2", "sell", hedge, None))
                    position -= hedge
                else:
                    fills += len(venue.place(tick, f"{tick}.2", "buy", hedge, None))
                    position += hedge
                orders += 1
            position += bought - sold
            open_bid = open_ask = 0
            read_bought += bought
            read_sold += sold
            step = OBSERVE
        if trace is not None:
            trace.append(_trace(tick, step, position, open_bid, open_ask, pnl, venue))
        if moved:
            if (
                position > max_pos
                or position < -max_pos
                or position + open_bid > max_pos
                or position - open_ask < -max_pos
                or not pnl > loss_floor
            ):
                venue.cancel_all(tick, f"{tick}.0")
                reason, last = "limit", tick
                break
            if step == HALTED:
                reason, last = "final", tick
                break
    state: dict[str, Value] = {
        "position": position,
        "open_bid": open_bid,
        "open_ask": open_ask,
        "pnl": pnl,
    }
    return HandResult(reason, last, step, state, orders, fills)


def _trace(
    tick: int, step: str, position: Num, open_bid: Num, open_ask: Num, pnl: Num, v: PaperVenue
) -> TraceRow:
    return (tick, step, (position, open_bid, open_ask, pnl), v.position, v.equity())


# -- the cross-check ---------------------------------------------------------------------------


class TracingExecutor(Executor):
    """The executor, recording the same per-tick trace as :func:`hand_run` (not timed).

    The trace is taken by ``run()``'s public progress callback, called after every tick
    (the last one included, once the tick is complete), so no internals are overridden."""

    def __init__(self, model: Model, feed: Feed) -> None:
        super().__init__(model, feed, None)
        self.trace: list[TraceRow] = []

    def record(self, tick: int, total: int) -> None:
        """The progress callback: the configuration and the venue after ``tick``."""
        v = self.config.values
        state = (v["position"], v["open_bid"], v["open_ask"], v["pnl"])
        self.trace.append((tick, self.config.step, state, self.venue.position, self.venue.equity()))

    def run_traced(self) -> Outcome:
        return self.run(self.record)


class Mismatch(AssertionError):
    """The hand-written loop and the executor disagree."""


@dataclass
class Check:
    """One cross-check: what both runs did, equal in every respect compared."""

    scenario: str
    seed: int
    params: dict[str, str]
    ticks: int
    outcome: str
    orders: int
    fills: int
    equity: str
    position: str
    state: dict[str, str]
    step: str


def new_venue(model: Model) -> PaperVenue:
    return PaperVenue(model.venue.contract_size, model.venue.slippage_bps)


def cross_check(
    model: Model, feed: Feed, scenario: str, seed: int, params: Mapping[str, str]
) -> Check:
    """Run both with per-tick traces; raise :class:`Mismatch` at the first difference."""
    executor = TracingExecutor(model, feed)
    executor.start()
    outcome = executor.run_traced()
    venue = new_venue(model)
    trace: list[TraceRow] = []
    hand = hand_run(Params.of(model), venue, feed.rows, trace)
    where = f"{scenario} seed {seed} {dict(params) or ''} ({feed.file})"
    for mine, theirs in zip(trace, executor.trace, strict=False):
        if mine != theirs:
            raise Mismatch(
                f"{where}: first difference at tick {mine[0]}:\n"
                f"  hand-written (tick, step, (position, open_bid, open_ask, pnl), "
                f"venue position, equity): {mine}\n  executor: {theirs}"
            )
    stats = executor.stats
    hand_end = (hand.reason, hand.tick, hand.step, hand.state, hand.orders, hand.fills)
    exec_end = (
        outcome.reason,
        outcome.tick,
        executor.config.step,
        dict(executor.config.values),
        stats.orders,
        stats.fills,
    )
    if len(trace) != len(executor.trace) or hand_end != exec_end:
        raise Mismatch(
            f"{where}: different ends (reason, tick, step, state, orders, fills), "
            f"{len(trace)} vs {len(executor.trace)} ticks traced:\n"
            f"  hand-written: {hand_end}\n  executor:     {exec_end}"
        )
    if venue.snapshot() != executor.venue.snapshot():
        raise Mismatch(f"{where}: the venues' snapshots (orders, fills, cash) differ")
    if len(venue.fills) != stats.fills or len(venue.orders) != hand.orders:
        raise Mismatch(f"{where}: fill or order counts disagree with the venue's records")
    return Check(
        scenario,
        seed,
        dict(params),
        outcome.tick,
        outcome.reason,
        stats.orders,
        stats.fills,
        _text(venue.equity()),
        _text(venue.position),
        {k: _text(v) for k, v in hand.state.items()},
        hand.step,
    )


def _text(value: Value) -> str:
    return str(value) if not isinstance(value, Fraction) else f"{float(value):.6f} ({value})"


# -- timing ------------------------------------------------------------------------------------


@dataclass
class Timing:
    runs: list[float] = field(default_factory=list)  # CPU seconds
    wall: list[float] = field(default_factory=list)  # real seconds, alongside

    @property
    def best(self) -> float:
        return min(self.runs) if self.runs else float("nan")

    def add(self, cpu_wall: tuple[float, float]) -> None:
        self.runs.append(cpu_wall[0])
        self.wall.append(cpu_wall[1])


@dataclass
class Result:
    scenario: str
    seed: int
    rows: int
    ticks: int  # ticks actually run (a crash stops at the assumption breach)
    outcome: str
    read_data_s: float
    executor_setup_s: float
    check: Check
    hand: Timing = field(default_factory=Timing)
    backtest: Timing = field(default_factory=Timing)
    journal: Timing = field(default_factory=Timing)
    per_tick: Timing = field(default_factory=Timing)
    fsync: Timing = field(default_factory=Timing)
    backtrader: Timing = field(default_factory=Timing)
    backtrader_run: dict[str, Any] | None = None  # what the backtrader strategy did
    backtrader_missing: str = ""  # why backtrader was not run

    def tps(self, t: Timing) -> float:
        return self.ticks / t.best

    def us_per_tick(self, t: Timing) -> float:
        return 1e6 * t.best / self.ticks

    @property
    def ratio(self) -> float:
        return self.tps(self.backtest) / self.tps(self.hand)

    @property
    def ratios(self) -> dict[str, float]:
        """The ratios of :data:`TARGETS` (NaN where backtrader did not run)."""
        return {
            "backtest / hand": self.ratio,
            "journal / hand": self.tps(self.journal) / self.tps(self.hand),
            "backtest / backtrader": self.tps(self.backtest) / self.tps(self.backtrader),
        }

    def journal_cost_us(self, t: Timing) -> float:
        return self.us_per_tick(t) - self.us_per_tick(self.backtest)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "rows": self.rows,
            "ticks": self.ticks,
            "outcome": self.outcome,
            "one_off_s": {"read_data": self.read_data_s, "executor_setup": self.executor_setup_s},
            "cross_check": asdict(self.check),
            "runs_cpu_s": {
                "hand_written": self.hand.runs,
                "backtest": self.backtest.runs,
                "journal": self.journal.runs,
                "journal_per_tick": self.per_tick.runs,
                "journal_fsync_per_tick": self.fsync.runs,
                "backtrader": self.backtrader.runs,
            },
            "runs_wall_s": {
                "hand_written": self.hand.wall,
                "backtest": self.backtest.wall,
                "journal": self.journal.wall,
                "journal_per_tick": self.per_tick.wall,
                "journal_fsync_per_tick": self.fsync.wall,
            },
            "ticks_per_cpu_s": {
                "hand_written": self.tps(self.hand),
                "backtest": self.tps(self.backtest),
                "journal": self.tps(self.journal),
                "journal_per_tick": self.tps(self.per_tick),
                "journal_fsync_per_tick": self.tps(self.fsync),
                "backtrader": self.tps(self.backtrader),
            },
            "commit_every": BACKTEST_GROUP,
            "ratios": self.ratios,
            "journal_cost_us_per_tick": self.journal_cost_us(self.journal),
            "per_tick_journal_cost_us_per_tick": self.journal_cost_us(self.per_tick),
            "fsync_journal_cost_us_per_tick": self.journal_cost_us(self.fsync),
            "backtrader_run": self.backtrader_run,
            "backtrader_missing": self.backtrader_missing or None,
        }


@contextmanager
def frozen_gc() -> Iterator[None]:
    """As ``seqprove run`` does right before ``executor.run()``: collect, then freeze
    everything alive (the model, the data, the set-up executor or hand-written loop) so
    the garbage collector does not walk it again and again; unfreeze afterwards."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """CPU and real time of ``fn``, everything set up beforehand, the collector frozen."""
    with frozen_gc():
        start, wall = time.process_time(), time.perf_counter()
        fn()
        return time.process_time() - start, time.perf_counter() - wall


def time_hand(model: Model, feed: Feed) -> tuple[float, float]:
    params, venue = Params.of(model), new_venue(model)
    return timed(lambda: hand_run(params, venue, feed.rows))


def time_executor(
    model: Model, feed: Feed, journal: Journal | None, commit_every: int = 1
) -> tuple[tuple[float, float], Outcome]:
    executor = Executor(model, feed, journal, commit_every=commit_every)
    executor.start()
    outcomes: list[Outcome] = []
    seconds = timed(lambda: outcomes.append(executor.run()))
    return seconds, outcomes[0]


def time_journal(
    model: Model, feed: Feed, tmp: Path, name: str, fsync: bool, commit_every: int
) -> tuple[float, float]:
    path = tmp / f"{name}.sqlite"
    journal = Journal(path, fsync=fsync)
    try:
        seconds, _ = time_executor(model, feed, journal, commit_every)
    finally:
        journal.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return seconds


def backtrader_python() -> tuple[Path | None, str]:
    """The interpreter of the bench-only environment with backtrader, or why there is
    none."""
    python = Path(os.environ.get("SEQPROVE_BENCH_PYTHON", BENCH_PYTHON))
    if not python.exists():
        return None, f"no {python} (make bench-executor creates it)"
    found = subprocess.run(
        [str(python), "-c", "import backtrader; print(backtrader.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        return None, f"backtrader does not import in {python}: {found.stderr.strip()[-200:]}"
    return python, ""


def time_backtrader(
    python: Path, model: Model, data: Path, rows: int, repeats: int
) -> dict[str, Any]:
    """``bench/backtrader_mm.py`` in the bench environment, on the first ``rows`` rows."""
    p = Params.of(model)
    params = {
        "max_position": p.max_position,
        "quote_size": p.quote_size,
        "hedge_band": p.hedge_band,
        "hedge_size": p.hedge_size,
        "max_loss": float(p.max_loss),
        "min_spread": float(p.min_spread),
        "max_move": float(p.max_move),
        "contract": float(model.venue.contract_size),
    }
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / "backtrader_mm.py"), "--data", str(data),
         "--rows", str(rows), "--params", json.dumps(params), "--repeats", str(repeats)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def synth(scenario: str, ticks: int, seed: int, out: Path) -> None:
    """``seqprove data synth --model``: exactly the columns the model reads."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "checker",
            "data",
            "synth",
            "--scenario",
            scenario,
            "--ticks",
            str(ticks),
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--model",
            str(MODEL),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def bench_scenario(
    model: Model,
    scenario: str,
    ticks: int,
    seed: int,
    repeats: int,
    tmp: Path,
    err: Console,
    python: Path | None,
    missing: str,
) -> Result:
    data = tmp / f"{scenario}-{ticks}-{seed}.csv"
    synth(scenario, ticks, seed, data)
    start = time.perf_counter()
    feed = read_feed(data, model)
    read_s = time.perf_counter() - start
    err.print(f"[dim]{scenario}: cross-check on {ticks} rows[/]")
    check = cross_check(model, feed, scenario, seed, {})
    start = time.perf_counter()
    Executor(model, feed, None).start()
    setup_s = time.perf_counter() - start
    result = Result(
        scenario, seed, len(feed.rows), check.ticks, check.outcome, read_s, setup_s, check
    )
    for i in range(repeats):
        err.print(f"[dim]{scenario}: repetition {i + 1}/{repeats}[/]")
        result.hand.add(time_hand(model, feed))
        seconds, outcome = time_executor(model, feed, None)
        assert outcome.tick == check.ticks and outcome.reason == check.outcome
        result.backtest.add(seconds)
        name = f"{scenario}-{i}"
        result.journal.add(time_journal(model, feed, tmp, name, False, BACKTEST_GROUP))
        result.per_tick.add(time_journal(model, feed, tmp, f"{name}-1", False, 1))
        result.fsync.add(time_journal(model, feed, tmp, f"{name}-fsync", True, 1))
    if python is None:
        result.backtrader_missing = missing
    else:
        err.print(f"[dim]{scenario}: backtrader on the {check.ticks} rows the executor ran[/]")
        found = time_backtrader(python, model, data, check.ticks, repeats)
        result.backtrader.runs.extend(found.pop("runs_cpu_s"))
        result.backtrader_run = found
    return result


def check_matrix(tmp: Path, err: Console) -> list[Check]:
    checks = []
    for scenario, seed, params in CHECK_MATRIX:
        model = load_model(MODEL, params)
        data = tmp / f"check-{scenario}-{seed}.csv"
        synth(scenario, CHECK_TICKS, seed, data)
        err.print(f"[dim]cross-check {scenario} seed {seed} {params or ''}[/]")
        checks.append(cross_check(model, read_feed(data, model), scenario, seed, params))
    return checks


# -- profile -----------------------------------------------------------------------------------


@dataclass
class Profile:
    """Where the backtest's time goes, on one scenario's data."""

    ticks: int
    top: list[dict[str, Any]]  # functions by own time, under cProfile
    cumulative_us: dict[str, float]  # executor, interpreter and venue functions, inclusive


def profile(model: Model, feed: Feed, top: int) -> Profile:
    """cProfile one backtest run, set up and with the garbage collector frozen as in the
    timed runs."""
    executor = Executor(model, feed, None)
    executor.start()
    profiler = cProfile.Profile()
    with frozen_gc():
        profiler.enable()
        executor.run()
        profiler.disable()
    assert executor.outcome is not None
    ticks = executor.outcome.tick
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    rows: list[dict[str, Any]] = []
    cumulative: dict[str, float] = {}
    for (file, line, name), (cc, nc, tt, ct, _) in stats.items():
        label = f"{_short(file)}:{line}({name})"
        rows.append(
            {
                "function": label,
                "calls": nc,
                "primitive_calls": cc,
                "own_s": tt,
                "own_share": tt / total,
                "own_us_per_tick": 1e6 * tt / ticks,
                "cumulative_s": ct,
            }
        )
        if label.startswith("checker/") and "<" not in name:
            cumulative[label] = 1e6 * ct / ticks
    rows.sort(key=lambda r: -float(r["own_s"]))
    return Profile(ticks, rows[:top], dict(sorted(cumulative.items(), key=lambda kv: -kv[1])[:25]))


def _short(file: str) -> str:
    for marker in ("/checker/", "/lib/python"):
        if marker in file:
            return file[file.index(marker) + 1 :]
    return file


# -- report ------------------------------------------------------------------------------------


def machine(tmp: Path) -> dict[str, str]:
    cpu = cpu_model()
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "cores_usable": str(len(os.sched_getaffinity(0))),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "journal_fs": _filesystem(tmp),
        "load_before": _load(),
        "date": utc_now(),
        "commit": revision(),
    }


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the times."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _filesystem(path: Path) -> str:
    """The mount holding ``path``: device and type (where the journal's fsync goes)."""
    best, found = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, point, kind, *_ = line.split()
            if str(path.resolve()).startswith(point) and len(point) > len(best):
                best, found = point, f"{kind} on {device} ({point})"
    except OSError:
        pass
    return found


COLUMNS = (
    "scenario",
    "ticks run",
    "outcome",
    "hand-written ticks/s",
    "backtest ticks/s",
    "backtest / hand",
    f"journal ({BACKTEST_GROUP} ticks a commit) ticks/s",
    "journal / hand",
    "journal per tick ticks/s",
    "journal fsync per tick ticks/s",
    "backtrader ticks/s",
    "backtest / backtrader",
    "journal / backtrader",
)
"""The results' columns; ticks/s are ticks per CPU second."""


def results_table(results: Sequence[Result]) -> Table:
    table = Table(title="Executor throughput (ticks per CPU second, best of the repetitions)")
    for name in COLUMNS:
        table.add_column(name, justify="left" if name in ("scenario", "outcome") else "right")
    for r in results:
        table.add_row(*_cells(r))
    return table


def _cells(r: Result) -> list[str]:
    bt = r.tps(r.backtrader)
    ran = not math.isnan(bt)
    return [
        r.scenario,
        f"{r.ticks:,} of {r.rows:,}",
        r.outcome,
        f"{r.tps(r.hand):,.0f}",
        f"{r.tps(r.backtest):,.0f}",
        f"{r.ratio:.2f}",
        f"{r.tps(r.journal):,.0f}",
        f"{r.ratios['journal / hand']:.2f}",
        f"{r.tps(r.per_tick):,.0f}",
        f"{r.tps(r.fsync):,.0f}",
        f"{bt:,.0f}" if ran else "not run",
        f"{r.ratios['backtest / backtrader']:.1f}" if ran else "-",
        f"{r.tps(r.journal) / bt:.1f}" if ran else "-",
    ]


def costs_table(results: Sequence[Result]) -> str:
    """The journal's cost per tick (CPU µs over the backtest's), as Markdown."""
    lines = [
        f"| scenario | backtest µs/tick | journal ({BACKTEST_GROUP} a commit) µs/tick "
        "| journal per tick µs/tick | journal fsync per tick µs/tick (CPU) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.scenario} | {r.us_per_tick(r.backtest):.1f} | "
        f"{r.journal_cost_us(r.journal):.1f} | {r.journal_cost_us(r.per_tick):.1f} | "
        f"{r.journal_cost_us(r.fsync):.1f} |"
        for r in results
    ]
    return "\n".join(lines)


def markdown(results: Sequence[Result]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join("---" if c in ("scenario", "outcome") else "---:" for c in COLUMNS) + "|"
    lines = [head, rule]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in results]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the executor against a hand loop.")
    parser.add_argument("--ticks", type=int, help="rows of data per scenario (default 20000)")
    parser.add_argument("--quick", action="store_true", help="3000 rows, one repetition")
    parser.add_argument("--repeats", type=int, help="repetitions, the best is kept (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    parser.add_argument("--profile", action="store_true", help="profile even if on target")
    parser.add_argument("--top", type=int, default=15, help="hot spots to show (default 15)")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--json", type=Path, metavar="FILE", help="save raw results here")
    parser.add_argument(
        "--tmp", type=Path, help="directory for data and journals (default: the system's)"
    )
    parser.add_argument(
        "--no-backtrader", action="store_true", help="do not run the backtrader comparison"
    )
    args = parser.parse_args(argv)
    ticks = args.ticks or (3000 if args.quick else 20000)
    repeats = args.repeats or (1 if args.quick else 3)
    if ticks < 1 or repeats < 1:
        parser.error("--ticks and --repeats must be at least 1")

    console = Console() if sys.stdout.isatty() else Console(width=200)
    err = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="seqprove-bench-", dir=args.tmp) as name:
        tmp = Path(name)
        info = machine(tmp)
        console.print(
            f"machine: {info['cpu']}, {info['cores']} cores; {info['python']}; "
            f"{info['platform']}; journal on {info['journal_fs']}; {info['date']}; "
            f"commit {info['commit']}; load average {info['load_before']}"
        )
        start = time.perf_counter()
        model = load_model(MODEL)
        load_s = time.perf_counter() - start
        python, missing = (None, "--no-backtrader") if args.no_backtrader else backtrader_python()
        if python is None:
            console.print(f"backtrader: not run ({missing}); the rest runs without it")
        checks = check_matrix(tmp, err)
        results = [
            bench_scenario(model, s, ticks, args.seed, repeats, tmp, err, python, missing)
            for s in SCENARIOS
        ]
        checks = [r.check for r in results] + checks
        console.print(results_table(results))
        if args.markdown:
            console.print(markdown(results), soft_wrap=True)
            console.print(costs_table(results), soft_wrap=True)
        for r in results:
            if r.backtrader_run is not None:
                b = r.backtrader_run
                console.print(
                    f"backtrader {b['backtrader']} ({r.scenario}, {b['rows']:,} rows): "
                    f"{b['orders']} orders, {b['fills']} fills, ended {b['stopped']}, "
                    f"pnl {b['pnl']:.2f} (its own fills: see bench/backtrader_mm.py)"
                )
        console.print(
            f"one-off: load model {1e3 * load_s:.0f} ms; "
            + "; ".join(
                f"{r.scenario}: read {r.rows:,} rows {1e3 * r.read_data_s:.0f} ms, "
                f"Executor() + start() {1e3 * r.executor_setup_s:.1f} ms"
                for r in results
            )
        )
        console.print(
            f"cross-check: hand-written == executor, tick by tick and at the end, on "
            f"{len(checks)} runs:"
        )
        for c in checks:
            console.print(
                f"  {c.scenario} seed {c.seed} {c.params or ''}: {c.ticks} ticks, {c.outcome}, "
                f"{c.orders} orders, {c.fills} fills, equity {c.equity}, "
                f"state {c.step} {c.state}"
            )
        info["load_after"] = _load()
        console.print(f"load average after the timings: {info['load_after']}")
        below = []
        for ratio, target in TARGETS.items():
            got = [(r.scenario, r.ratios[ratio]) for r in results]
            missed = [s for s, x in got if not x >= target]  # NaN (not run) misses too
            below += missed
            console.print(
                f"target {ratio} >= {target}: {'met' if not missed else 'MISSED'} "
                f"({', '.join(f'{s} {x:.2f}' for s, x in got)})"
            )
        found: Profile | None = None
        if below or args.profile:
            err.print(f"[dim]profiling the backtest on {SCENARIOS[0]}[/]")
            feed = read_feed(tmp / f"{SCENARIOS[0]}-{ticks}-{args.seed}.csv", model)
            found = profile(model, feed, args.top)
            console.print(_hot_table(found, SCENARIOS[0]))
            console.print(_cumulative_table(found))
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "machine": info,
                        "ticks": ticks,
                        "repeats": repeats,
                        "load_model_s": load_s,
                        "results": [r.to_json() for r in results],
                        "cross_checks": [asdict(c) for c in checks],
                        "targets": TARGETS,
                        "profile": None if found is None else asdict(found),
                    },
                    indent=2,
                )
                + "\n"
            )
    return 1 if below else 0


def _hot_table(found: Profile, scenario: str) -> Table:
    table = Table(
        title=f"Backtest hot spots ({scenario}, {found.ticks:,} ticks, cProfile, by own time)"
    )
    for name in ("function", "calls", "own s", "share", "own µs/tick", "cumulative s"):
        table.add_column(name, justify="left" if name == "function" else "right")
    for r in found.top:
        table.add_row(
            r["function"],
            f"{r['calls']:,}",
            f"{r['own_s']:.3f}",
            f"{100 * r['own_share']:.1f} %",
            f"{r['own_us_per_tick']:.1f}",
            f"{r['cumulative_s']:.3f}",
        )
    return table


def _cumulative_table(found: Profile) -> Table:
    table = Table(title="checker/ functions by inclusive time (µs per tick, under cProfile)")
    table.add_column("function")
    table.add_column("µs/tick", justify="right")
    for label, us in found.cumulative_us.items():
        table.add_row(label, f"{us:.1f}")
    return table


if __name__ == "__main__":
    sys.exit(main())
