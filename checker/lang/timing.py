"""Time in the language: the clock, durations, and windows as declared state.

A model with a ``clock`` reads the time of each tick from one input (``now`` by
default), an integer count of the clock's unit since an epoch. Durations (``1s``,
``500ms``, ``5m``) are integers in that unit, written anywhere a number is.

A *window* aggregates the events of the last ``over`` of time: ``count: place`` counts
the orders the strategy sent, ``sum: EXPR`` adds an int amount at every tick (an amount
of 0 or less adds no event). It is state like any other, and exactly as the semantics gives it
(``docs/semantics.md``, "Time and windows"), by a desugaring into ordinary state, ``do``
and an assumption, so that the SMT encoding, the interpreter and the executor read the
same model and cannot disagree. At every tick, before the transition is chosen (with
the fills, in a model with instruments), ``clock.last`` takes the tick's clock and each
sum window the tick's amount (:func:`tick_phase`); a transition that fires adds its
counted actions to the count windows (its ``do``). The state:

- ``clock.last``: the clock at the last tick (0 before the first), and the assumption
  ``clock.forward`` that ``now >= clock.last`` at every tick: time never goes back;
- per window ``W``, ``keep = up_to + 1`` slots ``W.t1 .. W.tK`` (and for a sum, the
  amounts ``W.a1 .. W.aK``) holding the most recent events, newest first; a slot that
  never held an event holds the time ``-over``, which no window at a time ``>= 0``
  reaches;
- the window's value at time ``T`` is the number of slots (the sum of their amounts)
  with a time in ``(T - over, T]``, at most ``up_to + 1``. Events are kept in time order
  (time never goes back), so the events inside a window are always the most recent ones;
  the slots therefore give the exact count (sum) whenever it is at most ``up_to``, and
  ``up_to + 1`` whenever it is more. A comparison of the window with any number up to
  ``up_to`` is exact;
- the built-in check ``exact:W`` (the window never goes above ``up_to``), which
  ``verify`` decides like a limit: once it is proved, every reading of the window, in
  any expression, is the true count or sum.

Guards, provers, ``do`` and ``emit`` read a window at the tick's ``now``; limits read it
at ``clock.last``, the time of the last tick.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import sympy

UNITS: dict[str, int] = {
    "us": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
}
"""Each duration unit in microseconds."""

CLOCK_UNITS = ("us", "ms", "s")
"""The units a clock may count in."""

DEFAULT_CLOCK_INPUT = "now"
CLOCK_LAST = "clock.last"
"""The hidden state: the clock at the last tick (0 before the first)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_ASSUMPTION = "clock.forward"
"""The assumption the clock adds: it never goes back (a dotted name, which no name the
user declares can be)."""

EXACT = "exact"
"""The built-in check of each window, ``exact:NAME``: its value never goes above its
``up_to``, so that every reading of it is the true count or sum."""

CLOCK_COLUMN = "time"
"""The data column ``seqprove run`` reads the clock from."""

MAX_KEEP = 1_001
"""Most events a window keeps (``up_to + 1``): each is a state variable or two."""

_DURATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(us|ms|s|m|h|d)(?![\w.])")
_STRING = re.compile(r"'[^']*'?|\"[^\"]*\"?")


class DurationError(ValueError):
    """A duration that is not a whole number of the clock's unit, or no clock."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def duration(number: str, unit: str, clock_unit: str) -> int:
    """``number`` ``unit`` in the clock's unit, exactly.

    Raises
    ------
    DurationError
        When it is not a whole number of the clock's unit.
    """
    value = Fraction(number) * UNITS[unit] / UNITS[clock_unit]
    if value.denominator != 1:
        raise DurationError(
            0, f"{number}{unit} is not a whole number of {clock_unit}, the clock's unit"
        )
    return int(value)


def read_duration(text: str, clock_unit: str | None) -> int | None:
    """A whole text that is one duration (``"5s"``), in the clock's unit; None when the
    text is not a duration.

    Raises
    ------
    DurationError
        When it is a duration but there is no clock, or not a whole number of its unit.
    """
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        return None
    if clock_unit is None:
        raise DurationError(0, no_clock(f"a duration ({found.group(0)}) needs"))
    return duration(found.group(1), found.group(2), clock_unit)


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?")


def read_time(text: str, clock_unit: str | None) -> int | None:
    """A whole text that is an ISO-8601 time (``2024-12-27T08:00:00Z``), as the whole
    number of the clock's unit since 1970-01-01T00:00:00Z (UTC when it has no zone; a
    fraction of the unit dropped, towards the past); None when it is not a time.

    Raises
    ------
    DurationError
        When it is a time but there is no clock.
    """
    if _TIME.fullmatch(text.strip()) is None:
        return None
    if clock_unit is None:
        raise DurationError(0, no_clock(f"a time ({text.strip()}) needs"))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return since_epoch(moment, clock_unit)


CLOCK_EXAMPLE = "`clock: {input: now, unit: ms}`"
"""The clock the messages about a missing clock suggest."""


def no_clock(what: str) -> str:
    """The message for ``what`` in a model without a clock: ``what`` says what needs
    one (``a duration (5s) needs``, ``windows need``)."""
    return f"{what} a clock: declare one, such as {CLOCK_EXAMPLE}"


def since_epoch(moment: datetime, clock_unit: str) -> int:
    """``moment`` as the whole number of ``clock_unit`` since 1970-01-01T00:00:00Z (UTC
    when it has no zone; a fraction of the unit dropped, towards the past)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    since = moment - EPOCH
    micros = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
    return micros // UNITS[clock_unit]


def substitute(text: str, clock_unit: str | None) -> tuple[str, list[int]] | None:
    """``text`` with every duration written as the integer it stands for, and for each
    character of the new text the offset of the character of ``text`` it comes from;
    None when there is no duration (outside string literals) in ``text``.

    Raises
    ------
    DurationError
        At the duration's offset, when there is no clock or the duration is not a whole
        number of its unit.
    """
    strings = [m.span() for m in _STRING.finditer(text)]
    pieces: list[tuple[str, list[int]]] = []
    at = 0
    for m in _DURATION.finditer(text):
        if any(a <= m.start() < b for a, b in strings):
            continue
        if clock_unit is None:
            raise DurationError(m.start(), no_clock(f"a duration ({m.group(0)}) needs"))
        try:
            value = duration(m.group(1), m.group(2), clock_unit)
        except DurationError as exc:
            raise DurationError(m.start(), exc.message) from None
        pieces.append((text[at : m.start()], list(range(at, m.start()))))
        shown = str(value)
        pieces.append((shown, [m.start()] * len(shown)))
        at = m.end()
    if not pieces:
        return None
    pieces.append((text[at:], list(range(at, len(text)))))
    return "".join(p for p, _ in pieces), [i for _, where in pieces for i in where]


def tick_phase(
    clock: Clock, windows: tuple[Window, ...], symbols: Mapping[str, sympy.Symbol]
) -> dict[str, sympy.Basic]:
    """What every tick does to the time's state before the transition is chosen (with
    the fills of a model with instruments): ``clock.last`` becomes the tick's clock, and
    each sum window takes the tick's amount as an event when it is positive. Over the
    state before the tick and the tick's inputs."""
    now = symbols[clock.input]
    found: dict[str, sympy.Basic] = {CLOCK_LAST: now}
    for w in windows:
        if w.is_sum:
            found.update(dict(w.update(now, None, dict(symbols))))
    return found


def shown_state(windows: tuple[Window, ...], values: Mapping[str, Any]) -> dict[str, Any] | None:
    """A configuration's values as a user reads them: the windows' values at
    ``clock.last`` in place of the state that holds their events and of ``clock.last``;
    None when ``values`` holds no clock."""
    if CLOCK_LAST not in values:
        return None
    hidden = {CLOCK_LAST} | {n for w in windows for n in w.hidden()}
    shown = {k: v for k, v in values.items() if k not in hidden}
    at = int(values[CLOCK_LAST])
    shown.update({w.name: w.evaluate(values, at) for w in windows})
    return shown


@dataclass(frozen=True)
class Clock:
    """The model's clock: the input that reads it and its unit."""

    input: str
    unit: str
    line: int
    column: int


@dataclass(frozen=True)
class Window:
    """A declared window: what it aggregates, over how long, and up to what value it is
    exact."""

    name: str
    count: str | None  # the action counted (place, cancel, cancel_all), or None for a sum
    amount: sympy.Basic | None  # the int amount a sum adds, over the state and inputs
    over: int  # in the clock's unit, > 0
    up_to: int  # exact up to this value; up_to + 1 means "more than up_to"
    line: int
    column: int
    text: str  # as written, for reports (``count: place over 1s``)

    @property
    def keep(self) -> int:
        """How many events the window keeps."""
        return self.up_to + 1

    def times(self) -> list[str]:
        return [f"{self.name}.t{i}" for i in range(1, self.keep + 1)]

    def amounts(self) -> list[str]:
        return [f"{self.name}.a{i}" for i in range(1, self.keep + 1)] if self.is_sum else []

    @property
    def is_sum(self) -> bool:
        return self.count is None

    def value(self, at: sympy.Basic, symbols: dict[str, sympy.Symbol]) -> sympy.Basic:
        """The window's value at time ``at`` (an int expression)."""
        start = at - self.over
        terms = []
        amounts = self.amounts()
        for i, name in enumerate(self.times()):
            inside = sympy.StrictGreaterThan(symbols[name], start)
            weight = symbols[amounts[i]] if amounts else sympy.Integer(1)
            terms.append(sympy.Piecewise((weight, inside), (sympy.Integer(0), True)))
        total = sympy.Add(*terms)
        return sympy.Min(total, sympy.Integer(self.keep)) if self.is_sum else total

    def evaluate(self, values: Mapping[str, Any], at: int) -> int:
        """The window's value at time ``at`` on a configuration's values (as
        :meth:`value` gives it)."""
        start = at - self.over
        amounts = self.amounts()
        total = 0
        for i, name in enumerate(self.times()):
            if int(values[name]) > start:
                total += int(values[amounts[i]]) if amounts else 1
        return min(total, self.keep)

    def hidden(self) -> list[str]:
        """The state that holds the window's events."""
        return [*self.times(), *self.amounts()]

    def update(
        self, now: sympy.Basic, events: int | None, symbols: dict[str, sympy.Symbol]
    ) -> list[tuple[str, sympy.Basic]]:
        """The ``do`` of a transition that fires at time ``now``: ``events`` is how many
        of the counted action it sends (count windows); a sum adds one event when its
        amount is positive."""
        times = [symbols[n] for n in self.times()]
        if not self.is_sum:
            m = events or 0
            if m == 0:
                return []
            shifted = [now if i < m else times[i - m] for i in range(self.keep)]
            return list(zip(self.times(), shifted, strict=True))
        assert self.amount is not None
        amounts = [symbols[n] for n in self.amounts()]
        positive = sympy.StrictGreaterThan(self.amount, 0)

        def shift(new: sympy.Basic, old: list[sympy.Basic], i: int) -> sympy.Basic:
            moved = new if i == 0 else old[i - 1]
            return sympy.Piecewise((moved, positive), (old[i], True))

        result = [(n, shift(now, times, i)) for i, n in enumerate(self.times())]
        result += [(n, shift(self.amount, amounts, i)) for i, n in enumerate(self.amounts())]
        return result
