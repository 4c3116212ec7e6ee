"""The end-of-run report (terminal and JSON); its plot is drawn by :mod:`checker.run.plot`.

A model without instruments is reported on its one venue: its position against the
``venue`` section's ``position_limit``. A model with instruments is reported per
instrument: its position, the largest absolute position and the band its limits prove
(:func:`band`), the orders still open at the end, its orders and fills; and one PnL, the
sum of the venues' equity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sympy
from rich.console import Console
from rich.table import Table

from checker.lang.timing import shown_state
from checker.model import SIDES, Model, book_name, decimal_text, limit_kind
from checker.run.plot import plot as plot  # noqa: PLC0414  (re-exported: its old home)
from checker.run.stats import Outcome, Stats
from checker.run.venue import Num

if TYPE_CHECKING:
    from checker.run.executor import Executor


@dataclass(frozen=True)
class Band:
    """The positions an instrument's limits allow: ``low``/``high`` the bounds (None:
    unbounded), ``text`` the set as it reads (``[-50, 50]``)."""

    low: Fraction | None
    high: Fraction | None
    text: str


def band(model: Model, instrument: str) -> Band | None:
    """The band of ``instrument``'s position that the model's limits prove: every limit
    whose only variable is ``I.position`` bounds it (``abs(perp.position) <= 50`` is
    ``[-50, 50]``), and the band is where all of them hold. None when no limit bounds
    the position alone, or none that sympy can solve."""
    symbol = model.variable(book_name(instrument, "position")).symbol
    x = sympy.Symbol("x", real=True)
    region: sympy.Set = sympy.S.Reals
    bounded = False
    for limit in model.limits:
        if limit.expr.free_symbols != {symbol}:
            continue
        solved = region_where(limit.expr.xreplace({symbol: x}), x)
        if solved is None:
            continue
        region = sympy.Intersection(region, solved)
        bounded = True
    if not bounded:
        return None
    if region is sympy.S.EmptySet:
        return Band(None, None, "empty")
    return Band(exact_bound(region.inf), exact_bound(region.sup), _set_text(region))


def region_where(expr: sympy.Basic, x: sympy.Symbol) -> sympy.Set | None:
    """The reals ``x`` for which ``expr`` holds, or None when sympy cannot say (it cannot
    solve the relation, or gives up with an error)."""
    try:
        return _region(expr, x)
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return None


def _region(expr: sympy.Basic, x: sympy.Symbol) -> sympy.Set | None:
    if expr is sympy.true:
        return sympy.S.Reals
    if expr is sympy.false:
        return sympy.S.EmptySet
    if isinstance(expr, sympy.And | sympy.Or):
        parts = [_region(a, x) for a in expr.args]
        if any(p is None for p in parts):
            return None
        sets = [p for p in parts if p is not None]
        return sympy.Intersection(*sets) if isinstance(expr, sympy.And) else sympy.Union(*sets)
    if isinstance(expr, sympy.Not):
        inner = _region(expr.args[0], x)
        return None if inner is None else sympy.Complement(sympy.S.Reals, inner)
    if not isinstance(expr, sympy.core.relational.Relational):
        return None
    solved = sympy.solveset(expr, x, sympy.S.Reals)
    return None if isinstance(solved, sympy.ConditionSet) else solved


def exact_bound(value: sympy.Basic) -> Fraction | None:
    """A finite rational end of a solved region as a fraction, else None."""
    if value in (sympy.oo, -sympy.oo) or not isinstance(value, sympy.Rational):
        return None
    return Fraction(int(value.p), int(value.q))


def _set_text(region: sympy.Set) -> str:
    if isinstance(region, sympy.Interval):
        low, high = exact_bound(region.inf), exact_bound(region.sup)
        left = "(" if region.left_open or low is None else "["
        right = ")" if region.right_open or high is None else "]"
        low_text = "-inf" if low is None else decimal_text(low)
        high_text = "inf" if high is None else decimal_text(high)
        return f"{left}{low_text}, {high_text}{right}"
    if isinstance(region, sympy.Union):
        return " or ".join(_set_text(part) for part in region.args)
    if isinstance(region, sympy.FiniteSet):
        values = [exact_bound(v) for v in region.args]
        return "{" + ", ".join(str(v) if v is None else decimal_text(v) for v in values) + "}"
    return str(region)


@dataclass(frozen=True)
class RunReport:
    model: Model
    data: str
    outcome: Outcome
    stats: Stats
    state: dict[str, Any]
    journal: str | None
    plot: str | None
    admitted_by: str
    seconds: float
    open_orders: Mapping[str, Mapping[str, tuple[Num, Num]]] = field(default_factory=dict)
    """Per instrument and side, what can still fill at the end: (all of it, the part
    whose cancel is pending or that is IOC)."""
    fill_model: Mapping[str, Any] = field(default_factory=dict)
    """Which fill model ran (:meth:`checker.run.executor.Executor.fill_report`)."""
    market_data: Mapping[str, Any] = field(default_factory=dict)
    """What the run knew of its data (:meth:`checker.run.executor.Executor.data_report`)."""

    @classmethod
    def of(
        cls,
        executor: Executor,
        data: str,
        admitted_by: str,
        seconds: float,
        *,
        journal: str | None = None,
        plot: str | None = None,
    ) -> RunReport:
        """The report of ``executor``'s run, once it has ended."""
        from checker.verify.trace import json_value

        model, config = executor.model, executor.config
        assert executor.outcome is not None
        state = {v.name: json_value(v, config.values[v.name]) for v in model.state if not v.hidden}
        open_orders = {
            name: {side: (v.open_quantity(side), v.pending_quantity(side)) for side in SIDES}
            for name, v in executor.books
        }
        return cls(
            model,
            data,
            executor.outcome,
            executor.stats,
            {"step": config.step, **state},
            journal,
            plot,
            admitted_by,
            seconds,
            open_orders,
            executor.fill_report(),
            executor.data_report(),
        )

    @property
    def pnl(self) -> Fraction:
        return self.stats.last_pnl

    @property
    def max_position(self) -> Fraction:
        return _largest(self.stats.positions(""))

    def instruments(self) -> dict[str, dict[str, Any]]:
        """The report of each instrument (a model with instruments)."""
        found: dict[str, dict[str, Any]] = {}
        for i in self.model.instruments:
            positions = self.stats.positions(i.name)
            last = positions[-1] if positions else i.position
            allowed = band(self.model, i.name)
            open_now = self.open_orders.get(i.name, {})
            found[i.name] = {
                "position": _num(last),
                "max_abs_position": decimal_text(_largest(positions)),
                "band": None if allowed is None else allowed.text,
                "open_orders": {
                    side: {
                        "open": _num(open_now.get(side, (0, 0))[0]),
                        "leaving": _num(open_now.get(side, (0, 0))[1]),
                    }
                    for side in ("buy", "sell")
                },
                "orders": self.stats.orders_of[i.name],
                "fills": self.stats.fills_of[i.name],
            }
        return found

    def windows(self) -> dict[str, dict[str, Any]]:
        """Each window's peak over the run (after each tick, at that tick's clock), and
        the declared limits that read it."""
        found: dict[str, dict[str, Any]] = {}
        for w in self.model.windows:
            value, tick, time = self.stats.peaks.get(w.name, (0, 0, None))
            reads = re.compile(rf"(?<![\w.]){re.escape(w.name)}(?![\w.])")
            found[w.name] = {
                "peak": value,
                "tick": tick,
                "time": time,
                "up_to": w.up_to,
                "limits": {
                    c.name: c.text
                    for c in self.model.limits
                    if limit_kind(c.name) == "limit" and reads.search(c.text)
                },
            }
        return found

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model.file,
            "strategy": self.model.strategy,
            "data": self.data,
            "journal": self.journal,
            "plot": self.plot,
            "admitted_by": self.admitted_by,
            "outcome": self.outcome.to_json(),
            "exit_code": self.outcome.exit_code,
            "ticks": self.stats.ticks,
            "actions": self.stats.actions,
            "orders": self.stats.orders,
            "fills": self.stats.fills,
            "rejected_actions": self.stats.rejected,
            "pnl": _money(self.pnl),
        }
        if self.fill_model:
            data["fill_model"] = dict(self.fill_model)
        if self.market_data:
            data["market_data"] = dict(self.market_data)
        if self.model.instruments:
            data["instruments"] = self.instruments()
        else:
            limit = self.model.venue.position_limit
            data["max_abs_position"] = decimal_text(self.max_position)
            data["position_limit"] = None if limit is None else decimal_text(limit)
        if self.model.windows:
            data["windows"] = self.windows()
        state = self.state
        if self.model.clock is not None:
            state = shown_state(self.model.windows, state) or state
        data.update(
            {
                "denials": dict(sorted(self.stats.denials.items())),
                "assumption_breaches": self.stats.breaches,
                "limit_breaches": self.stats.limit_breaches,
                **({"param_changes": self.stats.param_changes} if self.model.free else {}),
                "final_state": state,
                "seconds": round(self.seconds, 3),
            }
        )
        return data


def _largest(positions: list[Num]) -> Fraction:
    largest = Fraction(0)
    for position in positions:
        largest = max(largest, Fraction(-position if position < 0 else position))
    return largest


def _num(value: Num) -> str:
    return decimal_text(Fraction(value))


def _money(value: Fraction) -> str:
    return f"{float(value):.2f}"


def _orders_text(sides: Mapping[str, Mapping[str, str]]) -> str:
    parts = []
    for side in ("buy", "sell"):
        open_, leaving = sides[side]["open"], sides[side]["leaving"]
        text = f"{side} {open_}"
        if leaving != "0":
            text += f" ({leaving} leaving)"
        parts.append(text)
    return ", ".join(parts)


def _interval_text(ms: int) -> str:
    """``60000`` as ``1-minute``, ``1000`` as ``1-second``, ``250`` as ``250-ms``."""
    for size, unit in (
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1000, "second"),
    ):
        if ms % size == 0:
            return f"{ms // size}-{unit}"
    return f"{ms}-ms"


def book_text(book: Mapping[str, Any]) -> str | None:
    """How a book was made, as the report says it (:meth:`Executor.data_report`'s entry
    of one book), or None when the data's metadata does not say."""
    kind, granularity = book.get("kind"), book.get("granularity")
    if kind is None:
        return None
    interval = book.get("interval_ms")
    if granularity == "bar":
        size = f"{_interval_text(interval)} " if interval else ""
        made = f"{size}candles" if kind == "candles" else f"{size}{kind[:-1]} bars"
    else:
        made = f"{kind}, tick by tick"
    text = f"book made from {made}"
    if book.get("how"):
        text += f": {book['how']}"
    if book.get("contract_size") and "quantities in contracts" not in str(book.get("how", "")):
        unit = f" (the source counted {book['source_unit']})" if book.get("source_unit") else ""
        text += f"; quantities in contracts of {book['contract_size']}{unit}"
    return text


def fill_text(fill: Mapping[str, Any]) -> str:
    """The fill model as the report says it."""
    rules = {
        "book": "book: a resting order fills when the book crosses it or trades go through it",
        "bars": "bars: a resting order fills when the bar's range reaches its price, on at "
        f"most {fill['participation']} of the bar's volume per side",
    }
    if fill["name"] in rules:
        text = rules[fill["name"]]
    else:
        text = "; ".join(f"{name}: {rules[m]}" for name, m in fill["books"].items())
    return f"{text} ({fill['chosen_by']}); queue position {fill['queue_position']}"


def _data_rows(report: RunReport) -> list[tuple[str, str]]:
    """The report's lines on its data and fill model."""
    rows: list[tuple[str, str]] = []
    data = report.market_data
    if data:
        span = data["time"]
        text = f"{data['rows']} rows"
        if span is not None:
            text += f", {span['first']} to {span['last']}"
        rows.append(("data", text))
        if data["ignored_columns"]:
            rows.append(("columns not read", ", ".join(data["ignored_columns"])))
        for book in data["books"]:
            made = book_text(book)
            if made is not None:
                label = f"book {book['instrument']}" if book["instrument"] else "book"
                rows.append((label, made))
    if report.fill_model:
        rows.append(("fill model", fill_text(report.fill_model)))
    return rows


def print_run(report: RunReport, console: Console) -> None:
    data = report.to_json()
    unproven = report.admitted_by.startswith("UNPROVEN")
    table = Table(
        title=f"{report.model.file}  {report.model.strategy}",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows: list[tuple[str, str]] = [
        ("admitted by", report.admitted_by),
        ("outcome", f"{report.outcome.reason} at tick {report.outcome.tick}"),
        ("ticks", str(data["ticks"])),
        ("orders / fills", f"{data['orders']} / {data['fills']}"),
        ("PnL", data["pnl"]),
    ]
    if not report.model.instruments:
        limit = data["position_limit"]
        band_text = f" (limit {limit})" if limit is not None else ""
        rows.append(("max |position|", f"{data['max_abs_position']}{band_text}"))
    denials = ", ".join(f"{k} x{v}" for k, v in data["denials"].items()) or "none"
    rows.append(("prover denials", denials))
    for name, window in data.get("windows", {}).items():
        peak = window["peak"]
        text = f"peak {'more than ' + str(window['up_to']) if peak > window['up_to'] else peak}"
        if window["tick"]:
            text += f" at tick {window['tick']}"
            text += f" ({window['time']})" if window["time"] else ""
        limits = "; ".join(f"{k}: {v}" for k, v in window["limits"].items())
        rows.append((f"window {name}", text + (f"; limit {limits}" if limits else "")))
    rows += _data_rows(report)
    for change in data.get("param_changes", []):
        if change["applied"]:
            rows.append(("params changed", change["message"]))
        else:
            rows.append(("params change refused", change["message"]))
    rows.append(("assumption breaches", str(len(data["assumption_breaches"]))))
    if data["rejected_actions"]:
        rows.append(("actions the venue rejected", str(data["rejected_actions"])))
    if report.journal:
        rows.append(("journal", report.journal))
    if report.plot:
        rows.append(("plot", report.plot))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if report.model.instruments:
        books = Table(title="instruments", title_justify="left")
        for heading in ("instrument", "position", "max |position|", "band", "open orders"):
            books.add_column(heading, overflow="fold")
        books.add_column("orders / fills", overflow="fold")
        for name, book in data["instruments"].items():
            books.add_row(
                name,
                book["position"],
                book["max_abs_position"],
                book["band"] or "none",
                _orders_text(book["open_orders"]),
                f"{book['orders']} / {book['fills']}",
            )
        console.print(books)
    if unproven:
        console.print("[bold red]WARNING: this model was run without a proof of its limits[/]")
    style = {
        "data-end": "green",
        "final": "green",
        "assumption": "yellow",
        "reconciliation": "yellow",
        "limit": "bold red",
    }
    console.print(f"[{style[report.outcome.reason]}]{report.outcome.message}[/]")
