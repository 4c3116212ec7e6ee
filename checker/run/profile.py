"""``seqprove data profile``: market data against the envelope a model's proof assumed.

The profile runs the executor itself over the data (a backtest without journal), with an
observer that records every input as the executor delivers it at each tick: market
inputs from the row, venue stocks as they stand, venue flows accumulated since the
strategy last read them, and, with instruments, each row's fills. So the first tick
that would stop a run, and why, is exactly what ``seqprove run`` would do. A run stops
at its first breach, so the venue's inputs are known up to that tick only; the market
inputs are read from every row of the file, and the envelope's conditions that read
market inputs alone (and params) are checked on every row.

The envelope is the model's input ranges and assumptions. Each is read again, from the
text the loaded model keeps of it (the file is not read again), with its params left as
symbols (sympy), so that a bound that breaks names
the param(s) it depends on: ``range: [-max_mid_move, max_mid_move]`` is bound by
``max_mid_move``, ``abs(x) <= p`` by ``p``. For a condition linear in one param (every
other param at its value), the value the param would need to cover the observed data is
solved exactly and rounded outward to three significant digits; a bound with no param
is named by its line in the model. :func:`advice` gives the assumption monitor of
``seqprove run`` the same param and re-proof command for the tick it stops at.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy
from rich.console import Console
from rich.table import Table

from checker.errors import ModelError, SeqproveError
from checker.interpret import Fn, compile_expression
from checker.lang.expr import ExprError, Symbolic, Translator
from checker.lang.timing import CLOCK_ASSUMPTION
from checker.model import Model, Value, Variable, decimal_text
from checker.run.data import Feed, Row
from checker.run.meta import DataMeta, read_meta
from checker.run.stats import Outcome
from checker.types import BOOL, INT, REAL

DIGITS = 3
"""Significant digits a suggested param value is rounded outward to."""

STOPS = ("assumption", "reconciliation", "limit")
"""The outcomes of a run that stop it before the end of the data (a final step reached
is the model's own end, not a stop)."""

Env = Mapping[str, Value]

_RELATIONS: dict[type, tuple[bool, bool]] = {
    sympy.GreaterThan: (True, False),
    sympy.StrictGreaterThan: (True, True),
    sympy.LessThan: (False, False),
    sympy.StrictLessThan: (False, True),
}
"""A relation's class: (whether it reads ``lhs - rhs >= 0`` rather than ``rhs - lhs``,
whether it is strict)."""


@dataclass(frozen=True)
class Bound:
    """One condition of the envelope: one side of an input's range, or one conjunct of an
    assumption, with its params as symbols."""

    kind: str
    """``range`` or ``assumption``."""
    owner: str
    """The input (of a range) or the assumption's name."""
    text: str
    """As the model writes it: ``[-max_mid_move, max_mid_move]``, or the assumption."""
    line: int
    expr: sympy.Basic
    """The condition, params as symbols."""
    holds: Fn
    """The condition at the model's param values, over the inputs and the state."""
    reads: frozenset[str]
    params: tuple[str, ...]
    market: bool
    """It reads market inputs only (and params): it can be checked on every row."""

    @property
    def short(self) -> str:
        return f"range of {self.owner}" if self.kind == "range" else f"assumption {self.owner}"

    @property
    def label(self) -> str:
        if self.kind == "range":
            return f"range of {self.owner} {self.text}"
        return f"assumption '{self.owner}' ({self.text})"


@dataclass(frozen=True)
class Need:
    """What param ``param`` would need to be for a bound to hold on every observed tick."""

    param: str
    current: Value
    value: Value | None
    """None: no single value of this param covers the data (``why`` says why)."""
    why: str = ""


class ProfileError(SeqproveError):
    """A range or assumption of a loaded model that cannot be read again with its params
    as symbols (exit 3)."""


class Envelope:
    """The ranges and assumptions of ``model`` with the params as symbols, read from what
    the loaded model keeps of its file (each range as written, each assumption's text):
    the file itself is not read again. ``only`` (``("range", input)`` or
    ``("assumption", name)``) keeps the bounds of that one range or assumption."""

    def __init__(self, model: Model, only: tuple[str, str] | None = None) -> None:
        self.model = model
        self.defaults: dict[str, Any] = dict(model.param_defaults)
        self.param_symbols = {
            name: sympy.Symbol(name, integer=True)
            if isinstance(value, int)
            else sympy.Symbol(name, real=True)
            for name, value in model.params.items()
        }
        self.values: dict[sympy.Basic, sympy.Basic] = {
            self.param_symbols[name]: _rational(value) for name, value in model.params.items()
        }
        self.names: dict[str, Symbolic] = {}
        for name, sym in self.param_symbols.items():
            kind = INT if isinstance(model.params[name], int) else REAL
            self.names[name] = Symbolic("param", kind, sym)
        for var in (*model.state, *model.inputs):
            role = "state" if var in model.state else "input"
            self.names[var.name] = Symbolic(role, var.type, var.symbol)
            for i, value in enumerate(var.type.values):
                self.names[value] = Symbolic("enum-value", var.type, sympy.Integer(i))
        if model.clock is not None:  # a window reads its events at the tick's clock
            symbols = {v.name: v.symbol for v in model.state}
            now = model.variable(model.clock.input).symbol
            for w in model.windows:
                self.names[w.name] = Symbolic("window", INT, w.value(now, symbols))
        self.prover_text = {p.name: p.text for p in model.provers}
        self.prover_done: dict[str, Symbolic] = {}
        self.market = {v.name for v in model.inputs if v.source == "market"}
        self.bounds: list[Bound] = []
        for var in model.inputs:
            if only is None or only == ("range", var.name):
                self._range(var)
        for cond in model.assumptions:
            if only is not None and only != ("assumption", cond.name):
                continue
            if cond.name == CLOCK_ASSUMPTION:  # reading the data checks its time order
                continue
            expr = self._translate(cond.text)
            for part in sympy.And.make_args(expr):
                self.bounds.append(self._bound("assumption", cond.name, cond.text, cond.line, part))

    # -- reading the model again ------------------------------------------------------------
    def _resolve(self, name: str) -> Symbolic | None:
        if name in self.prover_text:
            if name not in self.prover_done:
                self.prover_done[name] = Symbolic(
                    "prover", BOOL, self._translate(self.prover_text[name])
                )
            return self.prover_done[name]
        return self.names.get(name)

    def _translate(self, text: str) -> sympy.Basic:
        kinds = frozenset({"param", "state", "input", "prover", "enum-value", "window"})
        unit = None if self.model.clock is None else self.model.clock.unit
        try:
            translator = Translator(
                self._resolve, kinds, "an envelope", self.names, clock_unit=unit
            )
            return translator.expression(text).expr
        except ExprError as exc:  # the model loaded, so this is not expected
            raise ProfileError(f"{self.model.file}: cannot read {text!r} again: {exc}") from None

    def _range(self, var: Variable) -> None:
        if var.range_text is None:
            return
        texts = var.range_text
        shown = f"[{texts[0]}, {texts[1]}]"
        line = var.range_line
        low, high = (self._translate(t) for t in texts)
        self.bounds.append(self._bound("range", var.name, shown, line, sympy.Ge(var.symbol, low)))
        self.bounds.append(self._bound("range", var.name, shown, line, sympy.Le(var.symbol, high)))

    def _bound(self, kind: str, owner: str, text: str, line: int, expr: sympy.Basic) -> Bound:
        names = {s.name for s in expr.free_symbols}
        params = tuple(sorted(n for n in names if n in self.param_symbols))
        reads = frozenset(names - set(params))
        holds = compile_expression(expr.subs(self.values))
        return Bound(kind, owner, text, line, expr, holds, reads, params, reads <= self.market)

    # -- what a param would need --------------------------------------------------------------
    def need(self, bound: Bound, param: str, failing: Sequence[Env]) -> Need:
        """The value of ``param`` (the other params at their values) for which ``bound``
        holds on every env of ``failing``, rounded outward; None when there is none."""
        current = self.model.params[param]
        rel = bound.expr
        if type(rel) not in _RELATIONS:
            return Need(param, current, None, "the bound is not a comparison")
        forward, strict = _RELATIONS[type(rel)]
        gap = rel.lhs - rel.rhs if forward else rel.rhs - rel.lhs  # must be >= 0 (> 0)
        symbol = self.param_symbols[param]
        others = {s: v for s, v in self.values.items() if s != symbol}
        gap = gap.subs(others)
        slope = sympy.diff(gap, symbol)
        if symbol in slope.free_symbols or slope.has(sympy.Derivative):
            return Need(param, current, None, f"the bound is not linear in {param}")
        rest = compile_expression(gap.subs(symbol, 0))
        scale = compile_expression(slope)
        lowest: Fraction | None = None  # param >= lowest
        highest: Fraction | None = None  # param <= highest
        for env in failing:
            a, b = Fraction(scale(env)), Fraction(rest(env))
            if a == 0:
                return Need(param, current, None, f"{param} does not move the bound there")
            edge = -b / a
            if a > 0:
                lowest = edge if lowest is None else max(lowest, edge)
            else:
                highest = edge if highest is None else min(highest, edge)
        if lowest is not None and highest is not None:
            return Need(param, current, None, f"no value of {param} holds on every tick")
        up = lowest is not None
        limit = lowest if lowest is not None else highest
        if limit is None:
            return Need(param, current, current)
        value = round_out(limit, up=up, integer=isinstance(current, int))
        if strict and value == limit:
            unit = _unit(value, integer=isinstance(current, int))
            value = value + unit if up else value - unit
        return Need(param, current, int(value) if isinstance(current, int) else value)

    def holds_with(self, bound: Bound, params: Mapping[str, Value]) -> Fn:
        """``bound`` at the model's params changed by ``params``."""
        values = {**self.values}
        for name, value in params.items():
            values[self.param_symbols[name]] = _rational(value)
        return compile_expression(bound.expr.subs(values))

    def overrides(self) -> dict[str, str]:
        """The params whose value differs from the file's (the run's ``--param``s)."""
        out: dict[str, str] = {}
        for name, value in self.model.params.items():
            if Fraction(value) != Fraction(self.defaults.get(name, value)):
                out[name] = param_value(value)
        return out

    def params(self, changes: Mapping[str, Value | str]) -> dict[str, str]:
        """The ``--param``s of the model with ``changes``: the run's own overrides, then
        ``changes``, in the order the file declares its params."""
        given = {**self.overrides(), **{n: param_value(v) for n, v in changes.items()}}
        return {n: given[n] for n in self.model.params if n in given}

    def command(self, changes: Mapping[str, Value | str], data: str | None = None) -> str:
        """The ``seqprove verify`` command that proves the model with ``changes`` (with
        ``data``, the ``seqprove run`` command that runs it over that file)."""
        params = self.params(changes)
        words = ["seqprove", "verify", self.model.file]
        if data is not None:
            words = ["seqprove", "run", self.model.file, "--data", data]
        for name, value in params.items():
            words += ["--param", f"{name}={value}"]
        return shlex.join(words)

    def failing(self, env: Env) -> list[Bound]:
        return [b for b in self.bounds if b.reads <= env.keys() and not b.holds(env)]


def envelope(model: Model, only: tuple[str, str] | None = None) -> Envelope:
    """The envelope of ``model`` (with ``only``, of that one range or assumption)."""
    return Envelope(model, only)


_PROBLEM = re.compile(r"^(input|assumption) '([^']+)'")


def advice(model: Model, problem: str, env: Env, tick: int) -> str:
    """For the assumption monitor: what bounds the input or assumption of ``problem`` at
    ``env``, and the re-proof that would let a run go past ``tick`` (empty when the
    problem is not a range or an assumption). Only the bounds of that range or assumption
    are read, from the loaded model: a run's stop costs no reading of the file."""
    found = _PROBLEM.match(problem)
    if found is None:
        return ""
    kind = "range" if found.group(1) == "input" else "assumption"
    where = envelope(model, (kind, found.group(2)))
    broken = [b for b in where.failing(env) if b.kind == kind and b.owner == found.group(2)]
    for bound in broken:
        if not bound.params:
            return f" (no param bounds it: it is written at {model.file}:{bound.line})"
        for param in bound.params:
            need = where.need(bound, param, [env])
            if need.value is not None:
                bound_by = "param " if len(bound.params) == 1 else "params "
                return (
                    f" (bound by {bound_by}{', '.join(bound.params)}): re-prove with "
                    f"`{where.command({param: need.value})}` to run past tick {tick}"
                )
        return f" (bound by param {', '.join(bound.params)}: {need.why})"
    return ""


# -- the profile ------------------------------------------------------------------------------
@dataclass
class Seen:
    """The values one input took."""

    name: str
    source: str
    """``market``, ``fills``, or the venue source (``venue.pnl_change``, ...)."""
    flow: bool
    count: int = 0
    low: Value | None = None
    low_tick: int = 0
    high: Value | None = None
    high_tick: int = 0

    def add(self, tick: int, value: Value) -> None:
        self.count += 1
        if self.low is None or value < self.low:
            self.low, self.low_tick = value, tick
        if self.high is None or value > self.high:
            self.high, self.high_tick = value, tick


@dataclass
class Breach:
    """Where a bound of the envelope does not hold on the data."""

    bound: Bound
    checked: int
    """Ticks it was checked on."""
    ticks: list[int] = field(default_factory=list)
    envs: list[Env] = field(default_factory=list)


@dataclass
class Widening:
    """A param to widen, the value that covers the data, the command and its re-proof."""

    param: str
    current: Value
    value: Value | None
    bounds: list[str]
    why: str = ""
    command: str = ""
    run: str = ""
    """The ``seqprove run`` command with the widened params (once re-proved)."""
    reproof: str = "skipped"
    detail: str = ""
    changes: dict[str, str] = field(default_factory=dict)
    """The params the command sets, as ``--param`` takes them (the run's own overrides
    included)."""


@dataclass
class Profile:
    model: Model
    feed: Feed
    outcome: Outcome
    delivered: int
    """The last tick whose inputs the executor delivered (the stop, or the run's end)."""
    seen: list[Seen]
    breaches: list[Breach]
    literal: list[Breach]
    """Breaches of bounds that no param moves."""
    widenings: list[Widening]
    combined: Widening | None
    """All the params together, when more than one needs widening."""
    meta: DataMeta | None = None
    """What the data file says about itself (how its books were made), if anything."""
    replays: list[Replay] = field(default_factory=list)
    """The data played again with wider params, when a run stops on a bound a param moves:
    the venue's inputs after the stop are known only to a run that goes past it."""
    settled: Widening | None = None
    """The params with which a replay went past every stop of the monitor, when they are
    wider than what the first run's data asked for."""

    @property
    def stops(self) -> bool:
        return self.outcome.reason in STOPS

    @property
    def exit_code(self) -> int:
        """0: the data stays in the envelope and a run would not stop; 1 otherwise."""
        return 1 if self.stops or self.breaches else 0

    def line(self, tick: int) -> int | None:
        return self.feed.rows[tick - 1].line if 1 <= tick <= len(self.feed.rows) else None

    def time(self, tick: int) -> str | None:
        return self.feed.rows[tick - 1].time if 1 <= tick <= len(self.feed.rows) else None

    def show(self, name: str, value: Value | None) -> str:
        return "" if value is None else self.model.variable(name).show(value)

    def to_json(self) -> dict[str, Any]:
        def where(tick: int) -> dict[str, Any]:
            return {"tick": tick, "line": self.line(tick), "time": self.time(tick)}

        inputs = []
        for s in self.seen:
            var = self.model.variable(s.name)
            inputs.append(
                {
                    "name": s.name,
                    "type": str(var.type),
                    "source": s.source,
                    "flow": s.flow,
                    "ticks": s.count,
                    "min": None
                    if s.low is None
                    else {"value": self.show(s.name, s.low)} | where(s.low_tick),
                    "max": None
                    if s.high is None
                    else {"value": self.show(s.name, s.high)} | where(s.high_tick),
                    "range": _range_json(var),
                    "assumptions": self.assumptions_of(s.name),
                    "outside_range": s.name in self.outside(),
                    "broken_assumptions": self.broken(s.name),
                }
            )
        return {
            "model": self.model.file,
            "strategy": self.model.strategy,
            "data": self.feed.file,
            "rows": len(self.feed.rows),
            "books": None if self.meta is None else [b.to_json() for b in self.meta.books],
            "run": {
                "outcome": self.outcome.reason,
                "stops": self.stops,
                "tick": self.outcome.tick,
                "line": self.line(self.outcome.tick),
                "time": self.time(self.outcome.tick),
                "message": self.outcome.message,
                "venue_inputs_through_tick": self.delivered,
            },
            "inputs": inputs,
            "breaches": [self._breach_json(b) for b in self.breaches],
            "widen": [_widening_json(w) for w in self.widenings],
            "widen_together": None
            if self.combined is None
            else {k: v for k, v in _widening_json(self.combined).items() if k not in _ONE_PARAM},
            "replays": [
                {
                    "params": {n: param_value(v) for n, v in r.changes.items()},
                    "outcome": r.outcome.reason,
                    "tick": r.outcome.tick,
                    "message": r.outcome.message,
                }
                for r in self.replays
            ],
            "settled": None
            if self.settled is None
            else {k: v for k, v in _widening_json(self.settled).items() if k not in _ONE_PARAM},
            "exit": self.exit_code,
        }

    def outside(self) -> set[str]:
        """The inputs whose range the data leaves."""
        return {b.bound.owner for b in self.breaches if b.bound.kind == "range"}

    def broken(self, name: str) -> list[str]:
        """The assumptions that read input ``name`` and break on the data."""
        found = [
            b.bound.owner
            for b in self.breaches
            if b.bound.kind == "assumption" and name in b.bound.reads
        ]
        return list(dict.fromkeys(found))

    def assumptions_of(self, name: str) -> list[str]:
        return [
            a.name for a in self.model.assumptions if name in {s.name for s in a.expr.free_symbols}
        ]

    def _breach_json(self, b: Breach) -> dict[str, Any]:
        first = b.ticks[0]
        values = {n: self.show(n, b.envs[0][n]) for n in sorted(b.bound.reads)}
        return {
            "kind": b.bound.kind,
            "of": b.bound.owner,
            "text": b.bound.text,
            "model_line": b.bound.line,
            "params": list(b.bound.params),
            "checked_ticks": b.checked,
            "failed_ticks": len(b.ticks),
            "first": {
                "tick": first,
                "line": self.line(first),
                "time": self.time(first),
                "values": values,
            },
        }


def _range_json(var: Variable) -> list[str | None] | None:
    if var.low is None and var.high is None:
        return None
    return [None if b is None else var.show(b) for b in (var.low, var.high)]


_ONE_PARAM = ("param", "current", "value", "why")
"""What the JSON of all params widened together leaves out (``params`` says it all)."""


def _widening_json(w: Widening) -> dict[str, Any]:
    return {
        "params": dict(w.changes),
        "param": w.param,
        "current": param_value(w.current),
        "value": None if w.value is None else param_value(w.value),
        "bounds": w.bounds,
        "why": w.why,
        "command": w.command,
        "reproof": w.reproof,
        "run": w.run,
        "detail": w.detail,
    }


Reprove = Callable[[Mapping[str, str]], tuple[str, str]]
"""Verify the model with these param overrides: (``proved``, ``refuted`` or ``unknown``,
a detail naming the limits that were not proved)."""


def observe(
    model: Model,
    feed: Feed,
    slippage_bps: Fraction | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    monitor: bool = True,
) -> tuple[Outcome, list[tuple[int, Env]]]:
    """Run the executor over ``feed`` without journal; each tick's inputs (and the state
    they were checked on) as the assumption monitor saw them, and how the run ended."""
    from checker.run.executor import Executor

    log: list[tuple[int, Env]] = []

    def record(tick: int, row: Row, env: Env) -> None:
        log.append((tick, dict(env)))

    executor = Executor(
        model, feed, None, slippage_bps=slippage_bps, observer=record, monitor=monitor
    )
    executor.start()
    outcome = executor.outcome if executor.outcome is not None else executor.run(progress)
    return outcome, log


def profile(
    model: Model,
    feed: Feed,
    reprove: Reprove | None,
    *,
    slippage_bps: Fraction | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Profile:
    """Profile ``feed`` against ``model``; ``reprove`` None skips the re-proofs.

    Raises
    ------
    ProfileError
        When a range or assumption cannot be read again with its params as symbols.
    MetaError
        When the data file's metadata (:mod:`checker.run.meta`) cannot be read.
    """
    meta = read_meta(Path(feed.file))
    where = envelope(model)
    outcome, log = observe(model, feed, slippage_bps, progress)
    delivered = log[-1][0] if log else 0
    envs = _with_rows(log, feed)
    seen = [
        Seen(v.name, v.source, v.source in _flow_sources()) for v in model.inputs if not v.hidden
    ]
    for tick, env in envs:
        for s in seen:
            value = env.get(s.name)
            if value is not None:
                s.add(tick, value)
    breaches = _breaches(where, envs)
    widenings = _widen(where, breaches, envs)
    combined = None
    chosen = {w.param: w.value for w in widenings if w.value is not None}
    if len(chosen) > 1:
        combined = Widening(
            ", ".join(chosen),
            0,
            None,
            sorted({b for w in widenings for b in w.bounds}),
            command=where.command(chosen),
            changes=where.params(chosen),
        )
    replays: list[Replay] = []
    settled = None
    if outcome.reason == "assumption" and chosen:
        replays = _replay(where, feed, dict(chosen), slippage_bps)
        last = replays[-1]
        if last.outcome.reason != "assumption" and last.changes != chosen:
            settled = Widening(
                ", ".join(last.changes),
                0,
                None,
                [],
                command=where.command(last.changes),
                changes=where.params(last.changes),
            )
    if reprove is not None:
        extra = [w for w in (combined, settled) if w is not None]
        for w in [*widenings, *extra]:
            if w.command:
                w.reproof, w.detail = reprove(w.changes)
                if w.reproof == "proved":
                    w.run = where.command(w.changes, feed.file)
    return Profile(
        model,
        feed,
        outcome,
        delivered,
        seen,
        breaches,
        [b for b in breaches if not b.bound.params],
        widenings,
        combined,
        meta,
        replays,
        settled,
    )


MAX_REPLAYS = 10
"""How many times the profile plays the data again with wider params at most."""


@dataclass(frozen=True)
class Replay:
    """The data played again with the params widened to ``changes``, and how it ended."""

    changes: dict[str, Value]
    outcome: Outcome


def _replay(
    where: Envelope,
    feed: Feed,
    changes: dict[str, Value],
    slippage_bps: Fraction | None,
) -> list[Replay]:
    """Play the data again with the params widened to ``changes``: the venue's inputs
    after the first stop are known only to a run that goes past it. Each replay runs the
    widened model once with the monitor off, to see every input the run would be
    delivered, and once with it on, to see where such a run stops; while the data breaks
    a bound that a param moves, that param is widened to cover it and the data played
    again (at most :data:`MAX_REPLAYS` times)."""
    from checker.lang.loader import load_model

    replays: list[Replay] = []
    for _ in range(MAX_REPLAYS):
        try:
            widened = load_model(where.model.file, where.params(changes))
        except ModelError:
            break
        again = envelope(widened)
        outcome, _ = observe(widened, feed, slippage_bps)
        replays.append(Replay(dict(changes), outcome))
        if outcome.reason != "assumption":
            break
        _, log = observe(widened, feed, slippage_bps, monitor=False)
        envs = _with_rows(log, feed)
        wider = dict(changes)
        for w in _widen(again, _breaches(again, envs), envs):
            if w.value is not None:
                wider[w.param] = w.value
        if wider == changes:
            break
        changes = wider
    return replays


def _with_rows(log: Sequence[tuple[int, Env]], feed: Feed) -> list[tuple[int, Env]]:
    """The inputs of the ticks played, then the market inputs of the rows after them."""
    played = log[-1][0] if log else 0
    rows = feed.rows[played:]
    return [*log, *((played + i, row.inputs) for i, row in enumerate(rows, 1))]


def _breaches(where: Envelope, envs: Sequence[tuple[int, Env]]) -> list[Breach]:
    """Every bound of ``where`` that fails on some env that has what it reads."""
    breaches: list[Breach] = []
    for bound in where.bounds:
        found = Breach(bound, 0)
        for tick, env in envs:
            if bound.reads <= env.keys():
                found.checked += 1
                if not bound.holds(env):
                    found.ticks.append(tick)
                    found.envs.append(env)
        if found.ticks:
            breaches.append(found)
    return breaches


def _flow_sources() -> frozenset[str]:
    from checker.lang.schema import FLOW_SOURCES

    return frozenset(FLOW_SOURCES)


def _widen(
    where: Envelope, breaches: Sequence[Breach], envs: Sequence[tuple[int, Env]]
) -> list[Widening]:
    """For every param that bounds a broken bound: the value covering every tick."""
    found: dict[str, Widening] = {}
    for b in breaches:
        for param in b.bound.params:
            need = where.need(b.bound, param, b.envs)
            w = found.setdefault(param, Widening(param, need.current, need.current, []))
            if b.bound.short not in w.bounds:
                w.bounds.append(b.bound.short)
            if need.value is None or w.value is None:
                w.value, w.why = None, w.why or need.why
            elif _further(need.value, w.value, w.current):
                w.value = need.value
    for w in found.values():
        if w.value is None:
            continue
        for bound in where.bounds:  # the wider param must hold on every tick checked
            if w.param not in bound.params:
                continue
            holds = where.holds_with(bound, {w.param: w.value})
            for tick, env in envs:
                if bound.reads <= env.keys() and not holds(env):
                    w.why = (
                        f"{w.param} = {param_value(w.value)} does not cover "
                        f"{bound.label} at tick {tick}"
                    )
                    w.value = None
                    break
            if w.value is None:
                break
        if w.value is not None:
            w.command = where.command({w.param: w.value})
            w.changes = where.params({w.param: w.value})
    return list(found.values())


def _further(candidate: Value, chosen: Value, current: Value) -> bool:
    """Whether ``candidate`` moves the param further from ``current`` than ``chosen``."""
    return abs(Fraction(candidate) - Fraction(current)) > abs(Fraction(chosen) - Fraction(current))


# -- numbers ------------------------------------------------------------------------------------
def round_out(value: Fraction, *, up: bool, integer: bool, digits: int = DIGITS) -> Fraction:
    """``value`` rounded up (or down) to ``digits`` significant digits; to a whole number
    at least, for an integer param."""
    unit = _unit(value, integer=integer, digits=digits)
    steps = value / unit
    return unit * (math.ceil(steps) if up else math.floor(steps))


def _unit(value: Fraction, *, integer: bool, digits: int = DIGITS) -> Fraction:
    """The last of ``digits`` significant digits of ``value`` (1 at least if integer)."""
    size = abs(value)
    if size == 0:
        return Fraction(1)
    mag = len(str(size.numerator)) - len(str(size.denominator))
    while Fraction(10) ** mag > size:
        mag -= 1
    while Fraction(10) ** (mag + 1) <= size:
        mag += 1
    unit = Fraction(10) ** (mag - digits + 1)
    return max(unit, Fraction(1)) if integer else unit


def param_value(value: Value | str) -> str:
    """A param's value as ``--param`` takes it (text is taken as it is)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return decimal_text(value) if value.denominator != 1 else f"{value.numerator}"
    return str(value)


def _rational(value: Value) -> sympy.Rational:
    exact = Fraction(value)
    return sympy.Rational(exact.numerator, exact.denominator)


# -- the terminal -------------------------------------------------------------------------------
def print_profile(found: Profile, console: Console) -> None:
    """The profile as tables: the inputs, the run's end, the params to widen."""
    model = found.model
    rows = len(found.feed.rows)
    console.print(f"{model.file}  {model.strategy}  over {found.feed.file} ({rows} rows)")
    for book in () if found.meta is None else found.meta.books:
        name = f"book of {book.instrument}" if book.instrument else "book"
        made = f": {book.how}" if book.how else ""
        console.print(f"{name}: {book.kind}, {book.granularity} rows{made}")
    table = Table(title="inputs", title_justify="left")
    for column in (
        "input",
        "source",
        "ticks",
        "min (tick)",
        "max (tick)",
        "range",
        "assumptions",
        "envelope",
    ):
        table.add_column(column)
    outside = found.outside()
    for s in found.seen:
        var = model.variable(s.name)
        source = s.source + (" (flow)" if s.flow else "")
        low = "" if s.low is None else f"{found.show(s.name, s.low)} ({s.low_tick})"
        high = "" if s.high is None else f"{found.show(s.name, s.high)} ({s.high_tick})"
        shown = _range_json(var)
        declared = "" if shown is None else f"[{shown[0] or '-inf'}, {shown[1] or 'inf'}]"
        broken_here = found.broken(s.name)
        if s.name in outside:
            status = "[bold red]outside[/]"
        elif broken_here:
            status = "[bold red]breaks " + ", ".join(broken_here) + "[/]"
        else:
            status = "inside" if shown or found.assumptions_of(s.name) else ""
        table.add_row(
            s.name,
            source,
            str(s.count),
            low,
            high,
            declared,
            ", ".join(found.assumptions_of(s.name)),
            status,
        )
    console.print(table)
    if found.breaches:
        table = Table(title="bounds the data breaks", title_justify="left")
        for column in ("bound", "line", "ticks failed", "first tick (line)", "values"):
            table.add_column(column)
        for b in found.breaches:
            first = b.ticks[0]
            values = ", ".join(
                f"{n} = {found.show(n, b.envs[0][n])}" for n in sorted(b.bound.reads)
            )
            table.add_row(
                f"{b.bound.short}: {b.bound.text}",
                str(b.bound.line),
                f"{len(b.ticks)} of {b.checked}",
                f"{first} ({found.line(first)})",
                values,
            )
        console.print(table)
    outcome = found.outcome
    if found.stops:
        console.print(
            f"[bold red]a run stops at tick {outcome.tick}[/] (line {found.line(outcome.tick)}"
            + (f", {found.time(outcome.tick)}" if found.time(outcome.tick) else "")
            + f"): {outcome.message}"
        )
    else:
        console.print(f"a run ends with {outcome.reason} at tick {outcome.tick}: {outcome.message}")
    if found.delivered < rows:
        console.print(
            f"venue inputs (fills, flows, stocks) as delivered up to tick {found.delivered}; "
            f"market inputs, and the bounds that read them alone, over all {rows} rows"
        )
    for b in found.literal:
        console.print(
            f"{b.bound.label}: no param bounds it; it is written at {model.file}:{b.bound.line}"
        )
    extra = [found.combined] if found.combined is not None else []
    if found.widenings:
        table = Table(title="params to widen", title_justify="left")
        for column in ("param", "now", "to cover the data", "bounds", "re-proof"):
            table.add_column(column)
        for w in found.widenings:
            table.add_row(
                w.param,
                param_value(w.current),
                param_value(w.value) if w.value is not None else f"none: {w.why}",
                "; ".join(w.bounds),
                _verdict(w),
            )
        console.print(table)
    for w in [*found.widenings, *extra]:
        if w.command:
            together = " (all together)" if w is found.combined else ""
            console.print(f"re-prove{together}: {w.command}", soft_wrap=True)
            if w is found.combined:
                console.print(f"  {_verdict(w)}")
            if w.run:
                console.print(f"  then run: {w.run}", soft_wrap=True)
    for r in found.replays:
        params = ", ".join(f"{n}={param_value(v)}" for n, v in r.changes.items())
        ended = "stops" if r.outcome.reason in STOPS else "ends"
        console.print(
            f"played again with {params}: the run {ended} with {r.outcome.reason} at tick "
            f"{r.outcome.tick}" + (f": {r.outcome.message}" if r.outcome.reason in STOPS else "")
        )
    if found.settled is not None:
        w = found.settled
        console.print(f"to run past every stop: {w.command}", soft_wrap=True)
        console.print(f"  {_verdict(w)}")
        if w.run:
            console.print(f"  then run: {w.run}", soft_wrap=True)
    if found.exit_code == 0:
        console.print("the data stays inside the envelope the proof assumes")


def _verdict(w: Widening) -> str:
    shown = {
        "proved": "[green]proved[/]",
        "refuted": "[bold red]refuted[/]",
        "unknown": "[yellow]unknown[/]",
    }.get(w.reproof, w.reproof)
    return shown + (f": {w.detail}" if w.detail else "")
