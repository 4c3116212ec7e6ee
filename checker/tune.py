"""A tuner that stays inside the proved region: any proposer, and only points proved safe
are ever backtested or returned.

A *proposer* (a grid, a random search, a user's optimiser, a learning agent) is a
callable given the history of the tuning run so far, every earlier proposal in order
with what became of it, that returns the next point (a mapping of each free param to a
value) or None when it has nothing more to propose. The tuner does not trust it: each
point is read exactly (ints stay ints, reals become fractions) and checked against a
region proved for this file's content and these params before anything runs. A point
outside is a :class:`Refusal` with the reason (the limit its unsafe piece breaks, an
undecided part, the box), is told to the proposer like any other trial so that an agent
can learn from it, and is never backtested and never best. A point inside is played by
the executor of ``seqprove run --no-journal`` over the data and scored.

The region is proved first, by the verification of ``seqprove verify --param-range``
(:func:`prove_region`): a box of ranges, or the safe region found by ``seqprove params``
(:class:`checker.params.Region`), is verified for the file as it is and the params the
runs will use, and a tuning run refuses to start unless every limit and check is proved
there. A file edited during the tuning run stops it.
"""

from __future__ import annotations

import math
import numbers
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import sympy

from checker.errors import InternalError, SeqproveError
from checker.lang.loader import constant_expr, load_model
from checker.model import Model, Value, decimal_text, param_text
from checker.options import DEFAULT_OPTIONS, Options
from checker.params import Region
from checker.results import ModelReport, Severity, Verdict
from checker.run.data import Feed, read_feed
from checker.run.executor import Executor
from checker.run.report import RunReport
from checker.verify import verify_model

__all__ = [
    "AskTell",
    "Evaluation",
    "NotProved",
    "Proposer",
    "ProvedRegion",
    "Refusal",
    "Score",
    "Trial",
    "TuneError",
    "TuneResult",
    "ask_tell",
    "backtest",
    "final_pnl",
    "grid",
    "prove_region",
    "random_search",
    "tune",
]

Number = int | float | Fraction | Decimal
Ranges = Mapping[str, str | tuple[Number | None, Number | None]]
"""A box: each free param's range as text (``"1..50"``, ``"1.."``) or as (low, high),
None for an open end."""
Params = Mapping[str, str | int | Fraction]
"""Params given a value, as ``--param`` gives them (text) or as numbers."""


class TuneError(SeqproveError):
    """A tuning run that cannot start or go on: bad arguments, or a region proved for
    another file, other content or other params."""


class NotProved(TuneError):
    """The region or box asked for is not proved: some limit or check is refuted or
    undecided there (``report`` says which)."""

    def __init__(self, message: str, report: ModelReport | None = None) -> None:
        super().__init__(message)
        self.report = report


# -- the proved region ------------------------------------------------------------------


@dataclass(frozen=True)
class ProvedRegion:
    """Values of the free params for which every limit and check of one model file is
    proved: a box (``condition`` empty) or the part of a box where ``condition`` holds,
    proved for the file's content ``sha256`` with the other params at ``params``."""

    file: str
    strategy: str
    sha256: str
    params: Mapping[str, str]  # every other param, as exact text
    ranges: Mapping[str, str]  # each free param's range as text
    condition: str  # the region within the box ("" : the whole box)
    kinds: Mapping[str, str]  # each free param's type: "int" or "real"
    box: Mapping[str, tuple[Value | None, Value | None]] = field(repr=False)
    expr: sympy.Basic = field(repr=False, compare=False)  # the condition as proved
    symbols: Mapping[str, sympy.Symbol] = field(repr=False, compare=False)
    region: Region | None = field(default=None, repr=False, compare=False)
    """What ``seqprove params`` found, when the region came from it: it names the unsafe
    piece that holds a refused point."""
    seconds: float = 0.0

    def describe(self) -> str:
        ranges = ", ".join(f"{n}={r}" for n, r in self.ranges.items())
        if not self.condition:
            return f"the box {ranges}"
        return f"the region {self.condition} within {ranges}"

    def reason(self, values: Mapping[str, Value]) -> str | None:
        """None when ``values`` (exactly the free params) are inside; else why not."""
        for name, (low, high) in self.box.items():
            value = values[name]
            if low is not None and value < low:
                return f"outside the box: {name}={_text(value)} is below {_text(low)}"
            if high is not None and value > high:
                return f"outside the box: {name}={_text(value)} is above {_text(high)}"
        env = {self.symbols[n]: constant_expr(v) for n, v in values.items()}
        if self.expr.subs(env) is sympy.true:
            return None
        if self.region is None:
            return f"outside the region {self.condition}"
        broken = [
            f"{p.limit} breaks where {p.condition} (a counterexample: "
            f"{p.counterexample.length} tick(s) at "
            f"{', '.join(f'{k}={v}' for k, v in p.values.items())})"
            for p in self.region.unsafe
            if p.expr.subs(env) is sympy.true
        ]
        if broken:
            return "unsafe: " + "; ".join(broken)
        return "undecided: neither proved nor refuted there (the region is not exact)"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "strategy": self.strategy,
            "sha256": self.sha256,
            "params": dict(self.params),
            "ranges": dict(self.ranges),
            "condition": self.condition or None,
            "seconds": round(self.seconds, 3),
        }


def prove_region(
    model: str | Path,
    region: Region | Ranges,
    *,
    params: Params | None = None,
    options: Options | None = None,
) -> ProvedRegion:
    """Verify every limit and check of ``model`` over ``region`` (a box of ranges, or
    the safe region of :func:`checker.params.synthesize`) with the other params at
    ``params``, as ``seqprove verify --param-range`` does (``options``: verify's own by
    default, sanity checks on).

    Raises
    ------
    NotProved
        When some limit or check is refuted or undecided there, or the region is empty.
    TuneError
        When ``region`` was found for another file, or names no param of the model, or
        ``params`` sets a free param or one the model does not declare.
    ModelError
        When the model does not load with these params and ranges.
    """
    started = time.monotonic()
    overrides = {n: _param_value(n, v) for n, v in (params or {}).items()}
    if isinstance(region, Region):
        if Path(region.file).resolve() != Path(model).resolve():
            raise TuneError(f"the region was found for {region.file}, not {model}")
        if region.safe_expr == sympy.false:
            raise NotProved(f"the region of {region.file} has no safe value")
        ranges, condition = dict(region.ranges), region.safe
    else:
        ranges, condition = {n: _range_text(n, r) for n, r in region.items()}, ""
    if not ranges:
        raise TuneError("name at least one free param")
    base = load_model(model, overrides)
    for name in [*ranges, *overrides]:
        if name not in base.params:
            known = ", ".join(base.params)
            raise TuneError(f"{name} is not a param of {base.strategy} (its params: {known})")
    both = sorted(set(ranges) & set(overrides))
    if both:
        raise TuneError(f"{both[0]} is both free and given a value: give one")
    loaded = load_model(model, overrides, ranges, condition)
    report = verify_model(loaded, options or DEFAULT_OPTIONS)
    if report.exit_code != 0 or not report.limits:
        box = ", ".join(f"{n}={r}" for n, r in ranges.items())
        raise NotProved(f"{model}: {_not_proved(report, list(ranges))} over {box}", report)
    free = [v for v in loaded.state if v.source == "param"]
    return ProvedRegion(
        file=str(model),
        strategy=loaded.strategy,
        sha256=loaded.source_sha256,
        params=param_text(loaded.params),
        ranges=loaded.ranges(),
        condition=loaded.region_text(),
        kinds={v.name: "int" if isinstance(base.params[v.name], int) else "real" for v in free},
        box={v.name: (v.low, v.high) for v in free},
        expr=loaded.region,
        symbols={v.name: v.symbol for v in free},
        region=region if isinstance(region, Region) else None,
        seconds=time.monotonic() - started,
    )


def _not_proved(report: ModelReport, free: Sequence[str]) -> str:
    if report.errors or report.internal_error:
        return "the model does not verify: " + (
            report.internal_error or "; ".join(str(d) for d in report.errors)
        )
    parts = []
    for result in report.limits:
        if result.verdict is Verdict.PROVED:
            continue
        said = f"{result.name} {result.verdict.value}"
        run = result.counterexample
        if run is not None and run.ticks:
            state = run.ticks[0].state
            said += " at " + ", ".join(f"{n}={state[n]}" for n in free if n in state)
        elif result.reason:
            said += f" ({result.reason})"
        parts.append(said)
    parts += [f.message for f in report.findings if f.severity is Severity.ERROR]
    return "not proved: " + "; ".join(parts)


def _param_value(name: str, value: str | int | Fraction) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise TuneError(f"params {name}={value!r}: give text, an int or a Fraction")
    return _text(value)


def _range_text(name: str, given: str | tuple[Number | None, Number | None]) -> str:
    if isinstance(given, str):
        return given
    if not isinstance(given, tuple) or len(given) != 2:
        raise TuneError(f"{name}: give a range as text ('1..50') or as (low, high)")
    ends = []
    for end in given:
        if end is None:
            ends.append("")
            continue
        exact = _exact(end)
        if isinstance(exact, str):
            raise TuneError(f"{name}: {exact}")
        ends.append(_text(exact))
    return "..".join(ends)


# -- trials -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """A point inside the region, played over the data. ``score`` is ``-inf`` for a run
    that did not end normally (``outcome`` a limit, the assumption monitor or the books'
    reconciliation); ``repeat`` marks a point proposed before, whose result is reused."""

    number: int  # its place among the proposals, from 1
    point: Mapping[str, Value]
    score: float
    outcome: str
    message: str
    pnl: Fraction
    ticks: int
    seconds: float
    repeat: bool = False
    refused = False

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": "evaluated",
            "point": {n: _json(v) for n, v in self.point.items()},
            "score": self.score if math.isfinite(self.score) else None,
            "outcome": self.outcome,
            "message": self.message,
            "pnl": decimal_text(self.pnl),
            "ticks": self.ticks,
            "seconds": round(self.seconds, 3),
            "repeat": self.repeat,
        }


@dataclass(frozen=True)
class Refusal:
    """A proposal that was not played: outside the region, or not a point of its free
    params. ``point`` is the proposal as given."""

    number: int
    point: Mapping[str, Any]
    reason: str
    refused = True

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": "refused",
            "point": {n: _json(v) for n, v in self.point.items()},
            "reason": self.reason,
        }


Trial = Evaluation | Refusal
Proposer = Callable[[Sequence[Trial]], Mapping[str, Any] | None]
"""Given every earlier trial of this tuning run in order, the next point, or None to stop."""
Score = Callable[[RunReport], float]
"""A backtest's report to a number, higher better (only runs that ended normally)."""


def final_pnl(report: RunReport) -> float:
    """The default score: the PnL at the end of the run (the ``pnl`` of ``seqprove run``)."""
    return float(report.pnl)


@dataclass(frozen=True)
class TuneResult:
    """Every proposal of a tuning run and what became of it, and the best point."""

    file: str
    strategy: str
    data: str
    region: ProvedRegion
    trials: tuple[Trial, ...]
    seconds: float

    @property
    def evaluations(self) -> tuple[Evaluation, ...]:
        return tuple(t for t in self.trials if isinstance(t, Evaluation))

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        return tuple(t for t in self.trials if isinstance(t, Refusal))

    @property
    def proposed(self) -> int:
        return len(self.trials)

    @property
    def refused(self) -> int:
        return len(self.refusals)

    @property
    def evaluated(self) -> int:
        """Backtests run (a repeated point is not played again)."""
        return sum(1 for e in self.evaluations if not e.repeat)

    @property
    def best(self) -> Evaluation | None:
        """The evaluation with the highest finite score (the first on a tie), or None."""
        scored = [e for e in self.evaluations if e.score > -math.inf]
        return max(scored, key=lambda e: e.score, default=None)

    @property
    def best_point(self) -> Mapping[str, Value] | None:
        best = self.best
        return None if best is None else best.point

    @property
    def best_score(self) -> float | None:
        best = self.best
        return None if best is None else best.score

    def to_json(self) -> dict[str, Any]:
        best = self.best
        return {
            "file": self.file,
            "strategy": self.strategy,
            "data": self.data,
            "region": self.region.to_json(),
            "proposed": self.proposed,
            "refused": self.refused,
            "evaluated": self.evaluated,
            "best": None if best is None else best.to_json(),
            "trials": [t.to_json() for t in self.trials],
            "seconds": round(self.seconds, 3),
        }


# -- the tuner --------------------------------------------------------------------------


def backtest(
    model: Model,
    feed: Feed,
    *,
    admitted_by: str = "",
    fill_model: str | None = None,
    participation: Fraction | None = None,
    slippage_bps: Fraction | None = None,
) -> RunReport:
    """One run of ``model`` over ``feed`` on the paper venue, as ``seqprove run
    --no-journal --no-plot`` plays it (no proof gate: the caller has admitted it)."""
    started = time.monotonic()
    executor = Executor(
        model,
        feed,
        None,
        slippage_bps=slippage_bps,
        admitted_by=admitted_by,
        fill_model=fill_model,
        participation=participation,
    )
    executor.start()
    executor.run()
    return RunReport.of(executor, feed.file, admitted_by, time.monotonic() - started)


def tune(
    model: str | Path,
    region: Region | ProvedRegion | Ranges,
    proposer: Proposer,
    data: str | Path,
    *,
    budget: int = 50,
    score: Score | None = None,
    params: Params | None = None,
    options: Options | None = None,
    fill_model: str | None = None,
    participation: Fraction | None = None,
    slippage_bps: Fraction | None = None,
) -> TuneResult:
    """Ask ``proposer`` for up to ``budget`` points and backtest, over the market data
    file ``data``, only those inside ``region``; score each run with ``score``
    (:func:`final_pnl` by default).

    ``region`` is a :class:`ProvedRegion`, or a box of ranges or a
    :class:`checker.params.Region`, which is proved first (:func:`prove_region`, with
    ``params`` and ``options``). ``fill_model``, ``participation`` and ``slippage_bps``
    are those of ``seqprove run``.

    Raises
    ------
    NotProved
        When the region is not proved for the model with these params.
    TuneError
        When the arguments are wrong, the model file is edited during the run, or a
        score is not a number.
    TypeError
        When the proposer returns something that is neither a mapping nor None.
    """
    if budget < 1:
        raise TuneError(f"budget={budget}: give at least 1 proposal")
    started = time.monotonic()
    if isinstance(region, ProvedRegion):
        proved = region
        _same_model(proved, model, params)
    else:
        proved = prove_region(model, region, params=params, options=options)
    base = load_model(proved.file, proved.params)
    if base.source_sha256 != proved.sha256:
        raise TuneError(f"{proved.file} was edited since {proved.describe()} was proved")
    feed = read_feed(Path(data), base)
    settings = {
        "admitted_by": f"the tuner: inside {proved.describe()}, proved for this file",
        "fill_model": fill_model,
        "participation": participation,
        "slippage_bps": slippage_bps,
    }
    trials: list[Trial] = []
    played: dict[tuple[tuple[str, Value], ...], Evaluation] = {}
    for number in range(1, budget + 1):
        proposal = proposer(tuple(trials))
        if proposal is None:
            break
        if not isinstance(proposal, Mapping):
            raise TypeError(f"the proposer gave {type(proposal).__name__}: give a mapping or None")
        point = _read_point(proposal, proved)
        if not isinstance(point, str):
            point = proved.reason(point) or point  # the reason it is outside, if it is
        if isinstance(point, str):
            trials.append(Refusal(number, dict(proposal), point))
            continue
        key = tuple(sorted(point.items()))
        if key in played:
            trials.append(replace(played[key], number=number, seconds=0.0, repeat=True))
            continue
        played[key] = _evaluate(number, point, proved, feed, score or final_pnl, settings)
        trials.append(played[key])
    return TuneResult(
        proved.file, proved.strategy, str(data), proved, tuple(trials), time.monotonic() - started
    )


def _same_model(proved: ProvedRegion, model: str | Path, params: Params | None) -> None:
    """``proved`` is about ``model`` with ``params`` (the values it was proved with)."""
    if Path(proved.file).resolve() != Path(model).resolve():
        raise TuneError(f"the region was proved for {proved.file}, not {model}")
    if not params:
        return
    given = {n: _param_value(n, v) for n, v in params.items()}
    for name in given:
        if name in proved.ranges:
            raise TuneError(f"{name} is free in the region: it takes no value in params")
        if name not in proved.params:
            raise TuneError(f"{name} is not a param of {proved.strategy}")
    values = param_text(load_model(model, {**proved.params, **given}).params)
    for name in given:
        if values[name] != proved.params[name]:
            raise TuneError(
                f"the region was proved with {name}={proved.params[name]}, not "
                f"{values[name]}: prove it again with these params"
            )


def _evaluate(
    number: int,
    point: Mapping[str, Value],
    proved: ProvedRegion,
    feed: Feed,
    score: Score,
    settings: Mapping[str, Any],
) -> Evaluation:
    started = time.monotonic()
    loaded = load_model(proved.file, {**proved.params, **{n: _text(v) for n, v in point.items()}})
    if loaded.source_sha256 != proved.sha256:
        raise TuneError(f"{proved.file} was edited during the tuning run: prove it again")
    if any(loaded.params[n] != v for n, v in point.items()):
        raise InternalError(f"the model loaded with {dict(point)} has other params")
    report = backtest(loaded, feed, **settings)
    value = -math.inf
    if report.outcome.exit_code == 0:
        given = score(report)
        if isinstance(given, bool) or not isinstance(given, numbers.Real):
            raise TuneError(f"the score of {dict(point)} is {given!r}: give a number")
        value = float(given)
        if math.isnan(value):
            raise TuneError(f"the score of {dict(point)} is nan: give a number")
    outcome = report.outcome
    return Evaluation(
        number,
        dict(point),
        value,
        outcome.reason,
        outcome.message,
        report.pnl,
        report.stats.ticks,
        time.monotonic() - started,
    )


def _read_point(proposal: Mapping[str, Any], proved: ProvedRegion) -> dict[str, Value] | str:
    """The proposal as exact values of the free params, or the reason it is not one."""
    free = list(proved.ranges)
    missing = [n for n in free if n not in proposal]
    if missing:
        return f"no value for {', '.join(missing)} (give every free param: {', '.join(free)})"
    for name in proposal:
        if name not in proved.ranges:
            if name in proved.params:
                return f"{name} is not free: it stays {proved.params[name]}, as proved"
            return f"{name} is not a param of {proved.strategy}"
    point: dict[str, Value] = {}
    for name in free:
        exact = _exact(proposal[name])
        if isinstance(exact, str):
            return f"{name}={_shown(proposal[name])}: {exact}"
        if proved.kinds[name] == "int":
            if exact.denominator != 1:
                return f"{name}={_shown(proposal[name])}: {name} is an int param"
            point[name] = int(exact)
        elif "/" in decimal_text(exact):
            return f"{name}={exact}: no finite decimal form, as a param needs"
        else:
            point[name] = exact
    return point


def _exact(value: Any) -> Fraction | str:
    """``value`` as an exact number (a float as the shortest decimal that reads back as
    it), or what is wrong with it."""
    if isinstance(value, bool):
        return "not a number"
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, Decimal):
        return Fraction(value) if value.is_finite() else "not a finite number"
    if isinstance(value, numbers.Real):
        number = float(value)
        return Fraction(repr(number)) if math.isfinite(number) else "not a finite number"
    return "not a number"


def _text(value: Value) -> str:
    return decimal_text(value) if isinstance(value, Fraction) else str(int(value))


def _json(value: Any) -> Any:
    """A point's value for JSON: ints and finite floats as numbers, fractions as exact
    decimal text, anything else as its text."""
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return decimal_text(value) if isinstance(value, Fraction) else str(value)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, Fraction) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- proposers --------------------------------------------------------------------------


def grid(axes: Mapping[str, Sequence[Any]]) -> Proposer:
    """Every combination of the values of ``axes``, the last axis changing fastest, then
    None. It proposes by the number of trials so far, so it can be reused."""
    names = list(axes)
    values = [list(v) for v in axes.values()]
    if not names or any(not v for v in values):
        raise TuneError("grid: give each param at least one value")
    total = math.prod(len(v) for v in values)

    def propose(history: Sequence[Trial]) -> Mapping[str, Any] | None:
        left = len(history)
        if left >= total:
            return None
        point: dict[str, Any] = {}
        for name, choices in zip(reversed(names), reversed(values), strict=True):
            left, at = divmod(left, len(choices))
            point[name] = choices[at]
        return {n: point[n] for n in names}

    return propose


def random_search(
    ranges: Mapping[str, tuple[Number, Number]], *, seed: int = 0, steps: int = 1000
) -> Proposer:
    """Points drawn uniformly from ``ranges``: an int for two int ends, else a real on a
    grid of ``steps`` intervals between them. The n-th draw depends on ``seed`` and n
    alone, so a search is reproducible and can be reused."""
    if steps < 1:
        raise TuneError(f"random_search: steps={steps}, give at least 1")
    bounds: dict[str, tuple[Fraction, Fraction, bool]] = {}
    for name, given in ranges.items():
        if not isinstance(given, tuple) or len(given) != 2:
            raise TuneError(f"random_search: {name}: give (low, high)")
        ends = [_exact(end) for end in given]
        low, high = ends
        if isinstance(low, str) or isinstance(high, str) or low > high:
            raise TuneError(f"random_search: {name}={given!r}: give numbers, low <= high")
        whole = all(isinstance(end, int) and not isinstance(end, bool) for end in given)
        bounds[name] = (low, high, whole)

    def propose(history: Sequence[Trial]) -> Mapping[str, Any]:
        rng = random.Random(f"{seed}/{len(history)}")
        point: dict[str, Any] = {}
        for name, (low, high, whole) in bounds.items():
            if whole:
                point[name] = rng.randint(int(low), int(high))
            else:
                point[name] = low + (high - low) * Fraction(rng.randint(0, steps), steps)
        return point

    return propose


class AskTell(Protocol):
    """An optimiser or learning agent that proposes with ``ask`` (a point, or None to
    stop) and learns with ``tell`` (each trial, evaluated or refused, in order)."""

    def ask(self) -> Mapping[str, Any] | None: ...

    def tell(self, trial: Trial) -> None: ...


def ask_tell(agent: AskTell) -> Proposer:
    """A proposer from an ask/tell agent: before each ``ask`` it is told every trial it
    has not been told yet (the last trial of a run is not told: no ask follows it)."""
    told = 0

    def propose(history: Sequence[Trial]) -> Mapping[str, Any] | None:
        nonlocal told
        if len(history) < told:  # a new tuning run
            told = 0
        for trial in history[told:]:
            agent.tell(trial)
        told = len(history)
        return agent.ask()

    return propose
