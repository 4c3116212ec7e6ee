"""The terminal's tick table for a run of a model with instruments (language version 2):
tick | step | transition taken | inputs | fills | orders sent | state after | book after,
fitted to the terminal's width."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from checker.report import ticks as book
from checker.results import Counterexample, Tick

_COLUMNS = (
    "tick",
    "step",
    "transition taken",
    "inputs",
    "fills",
    "orders sent",
    "state after",
    "book after",
)
_TIER = (0, 1, 1, 1, 2, 3, 1, 2)
"""The order in which columns give up width when the table is too wide: first the
step, transition, inputs and state (tier 1), then the fills and the book (tier 2), then
the orders sent (3), whose lines are best kept whole; never the tick (0)."""


def _lines(values: Mapping[str, Any], marks: frozenset[str] = frozenset()) -> Text:
    """``name=value``, one a line (a narrow column wraps between them, not inside one);
    the values named in ``marks`` in bold red."""
    text = Text()
    for i, (name, value) in enumerate(values.items()):
        text.append(",\n" if i else "")
        text.append(f"{name}={book.cell(value)}", style="bold red" if name in marks else "")
    return text if values else Text("-")


def _orders(tick: Tick, marked: bool) -> Text:
    """The orders sent, one a line; with ``marked``, the places in bold red."""
    text = Text()
    for i, action in enumerate(tick.actions):
        text.append("\n" if i else "")
        style = "bold red" if marked and book.is_place(action) else ""
        text.append(book.order_text(action), style=style)
    return text if tick.actions else Text("-")


def _book_after(tick: Tick, instruments: tuple[str, ...], marks: frozenset[str]) -> Text:
    """The book per instrument, ``perp pos 16, buy 1 (1 pending), sell 10``, a line
    per part (indented under its instrument when there are several); the parts named
    in ``marks`` in bold red."""
    text = Text()
    indent = "  " if len(instruments) > 1 else ""
    for i, instrument in enumerate(instruments):
        text.append(("\n" if i else "") + f"{instrument} ")
        for j, (name, part) in enumerate(book.book(tick, instrument)):
            text.append(f",\n{indent}" if j else "")
            text.append(part, style="bold red" if name in marks else "")
    return text


def fit(natural: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Column widths that fit in ``room``, from the ``natural`` ones: while the table is
    too wide, the widest column of the lowest tier of :data:`_TIER` still above its
    floor (its longest word) gives up one character. What cannot fit even so is left to
    rich, which folds."""
    widths = list(natural)
    for tier in (1, 2, 3):
        while sum(widths) > room:
            able = [j for j, w in enumerate(widths) if _TIER[j] == tier and w > floors[j]]
            if not able:
                break
            widest = max(able, key=lambda j: widths[j])
            widths[widest] -= 1
    return widths


@dataclass(frozen=True)
class _BookTable:
    """The rows of the table; its column widths are chosen when it is drawn, when the
    width of the terminal is known."""

    rows: tuple[tuple[Text, ...], ...]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cells = [[Text(h) for h in _COLUMNS], *self.rows]
        lines = [
            [line for cell in column for line in cell.plain.split("\n")]
            for column in zip(*cells, strict=True)
        ]
        natural = [max(len(line) for line in column) for column in lines]
        floors = [
            max(len(word) for line in column for word in line.split() or [""]) for column in lines
        ]
        room = options.max_width - 3 * len(_COLUMNS) - 1  # a border and two spaces each
        table = Table(header_style="bold")
        for header, width in zip(_COLUMNS, fit(natural, floors, room), strict=True):
            table.add_column(
                header,
                justify="right" if header == "tick" else "left",
                overflow="fold",
                width=width,
            )
        for row in self.rows:
            table.add_row(*row)
        yield table


def book_ticks_table(run: Counterexample, marks: frozenset[str] = frozenset()) -> _BookTable:
    """The ticks of a run of a model with instruments, one row each: step, transition,
    the market inputs, the fills per instrument, the orders sent, the declared state
    after and the book after, per instrument. At the last tick, what ``marks`` names
    (see :func:`checker.report.ticks.breaking`) in bold red.

    Every cell holds a value, an order or a part of the book a line. When the table is
    wider than the terminal, the transition, inputs and state wrap first, then the
    fills and the book, then the orders (see :func:`fit`)."""
    instruments = book.instruments(run)
    rows = []
    for tick in run.ticks:
        last = marks if tick is run.ticks[-1] else frozenset()
        fills = [book.fills(tick, i) for i in instruments]
        rows.append(
            (
                Text(str(tick.tick)),
                Text(tick.step),
                Text(book.taken(tick.transition, tick.tick).replace(" (line ", "\n(line ")),
                _lines(book.market_inputs(tick)),
                Text("\n".join(f for f in fills if f) or "-"),
                _orders(tick, book.ORDERS in last),
                _lines(book.declared_state(tick), last),
                _book_after(tick, instruments, last),
            )
        )
    return _BookTable(tuple(rows))
