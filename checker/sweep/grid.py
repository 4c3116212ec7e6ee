"""The grid of a sweep: ``--grid NAME=V1,V2,...`` or ``--grid NAME=LO..HI:STEP``, read
into axes, and the points of each model (every combination of the values of the params
it declares).

Values stay text, as ``--param`` values are: the model loader reads each one for the
param it sets (an int, a real, a duration) and reports a bad one at the param's line and
column. Only a range is read here, since its values have to be counted out.
"""

from __future__ import annotations

import decimal
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from checker.errors import UsageError
from checker.lang.numbers import MAX_VALUE_DIGITS, NumberTooLarge, read_number

MAX_POINTS = 10_000
"""Most grid points one sweep may have (a range with a step too fine is refused, not
run for a week)."""

Point = tuple[tuple[str, str], ...]
"""One grid point of a model: (param, value as text) for each of its axes, in order."""


@dataclass(frozen=True)
class Axis:
    """One ``--grid`` param: its name and its values as text, in the order given."""

    name: str
    values: tuple[str, ...]

    @property
    def kind(self) -> str:
        """``int`` when every value is an integer, ``real`` when every value is a
        number, else ``text`` (durations): the type of its column in the table."""
        read = [_number(v) for v in self.values]
        if all(isinstance(v, int) for v in read):
            return "int"
        if all(v is not None for v in read):
            return "real"
        return "text"


def _number(text: str) -> int | Fraction | None:
    try:
        return read_number(text)
    except NumberTooLarge:
        return None


def parse_grid(items: Sequence[str]) -> tuple[Axis, ...]:
    """The axes of ``--grid`` options, each ``NAME=V1,V2,...`` or ``NAME=LO..HI:STEP``.

    Raises
    ------
    UsageError
        When an option is not in either form, a range is empty or has a step that is
        not above 0, a value or a name is given twice, or the grid has more than
        :data:`MAX_POINTS` points.
    """
    axes: list[Axis] = []
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            raise UsageError(
                f"--grid {item}: write NAME=V1,V2,... or NAME=LO..HI:STEP, "
                "e.g. --grid quote_size=5,10,20 or --grid quote_size=5..50:5"
            )
        if any(a.name == name for a in axes):
            raise UsageError(f"--grid {name} is given twice: list all its values in one --grid")
        values = _range(name, text) if ".." in text else _listed(name, text)
        axes.append(Axis(name, values))
    count = math.prod(len(a.values) for a in axes)
    if count > MAX_POINTS:
        raise UsageError(
            f"--grid: {count} points, more than the {MAX_POINTS} a sweep may have "
            "(use fewer values or a coarser step)"
        )
    return tuple(axes)


def _listed(name: str, text: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in text.split(","))
    if "" in values:
        raise UsageError(f"--grid {name}={text}: an empty value (write V1,V2,...)")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise UsageError(f"--grid {name}={text}: the value {twice[0]} is given twice")
    return values


def _range(name: str, text: str) -> tuple[str, ...]:
    """The values ``LO, LO+STEP, ...`` up to ``HI`` included, as exact decimal text."""
    bounds, colon, step_text = text.partition(":")
    low_text, _, high_text = bounds.partition("..")
    usage = f"--grid {name}={text}: write LO..HI:STEP with three numbers, e.g. {name}=5..50:5"
    if not colon:
        raise UsageError(f"{usage} (a range needs its step)")
    read: list[int | Fraction] = []
    for part in (low_text, high_text, step_text):
        try:
            value = read_number(part)
        except NumberTooLarge as exc:
            raise UsageError(f"--grid {name}={text}: {exc}") from None
        if value is None:
            raise UsageError(f"{usage}; durations go in a list, e.g. {name}=1s,5s,30s")
        read.append(value)
    low, high, step = read
    if step <= 0:
        raise UsageError(f"--grid {name}={text}: the step must be above 0")
    if low > high:
        raise UsageError(f"--grid {name}={text}: the range is empty (LO is above HI)")
    count = math.floor(Fraction(high - low) / step) + 1
    if count > MAX_POINTS:
        raise UsageError(
            f"--grid {name}={text}: {count} values, more than the {MAX_POINTS} points "
            "a sweep may have"
        )
    return tuple(_decimal_text(Fraction(low) + i * Fraction(step)) for i in range(count))


def _decimal_text(value: Fraction) -> str:
    """Exact text of a value counted out from decimal numbers (so its decimal expansion
    ends): ``5``, ``0.25``, ``-1.5``."""
    if value.denominator == 1:
        return str(value.numerator)
    with decimal.localcontext() as context:
        context.prec = 2 * MAX_VALUE_DIGITS + 10
        exact = decimal.Decimal(value.numerator) / decimal.Decimal(value.denominator)
        return format(exact.normalize(), "f")


def points(axes: Sequence[Axis]) -> Iterator[Point]:
    """Every combination of the axes' values, the last axis varying fastest (one empty
    point when there is no axis)."""
    for values in itertools.product(*(a.values for a in axes)):
        yield tuple((a.name, v) for a, v in zip(axes, values, strict=True))
