"""Exact numbers from their text, with bounds on their size.

Every place seqprove reads a number written by a user (a model file, ``--param``, a
CSV or Parquet cell) goes through :func:`read_number`, so that ``0.1`` is exactly one
tenth and a number too large to reason about is refused with the bound it broke,
instead of hanging (``1e999999999`` would be a billion digits) or failing deep inside
Python (``int`` refuses to print more than 4,300 digits).
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_DIGITS = 1000
"""Most digits a written number may have (integer and fraction part together)."""

MAX_EXPONENT = 1000
"""Largest magnitude of the exponent of a written number (``1e1000``, ``1e-1000``)."""

MAX_VALUE_DIGITS = MAX_DIGITS + MAX_EXPONENT
"""Most digits the numerator or the denominator of a constant may have: the largest a
written number can be, and the bound on what arithmetic on constants may produce where
it is done at load (``1e1000 * 1e1000 * 1e1000`` is refused, not computed on)."""

_SAFE_BITS = 6643  # 2**6643 < 10**2000: a value of at most this many bits is within bounds
_BEYOND = 10**MAX_VALUE_DIGITS

NUMBER_TEXT = re.compile(
    r"^(?P<sign>[-+]?)(?P<mantissa>\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE](?P<exp>[-+]?[0-9]+))?$"
)


class NumberTooLarge(ValueError):
    """A written number beyond :data:`MAX_DIGITS` or :data:`MAX_EXPONENT`; the message
    says which bound, and is meant to be shown as it is."""


def read_number(text: str) -> int | Fraction | None:
    """The exact value of ``text`` (``50``, ``-0.5``, ``1e-3``, surrounding spaces
    allowed), or None when it is not a plain decimal number. An integer written without
    a point or an exponent is an ``int``; anything else is a ``Fraction``.

    Raises
    ------
    NumberTooLarge
        When the number has more than :data:`MAX_DIGITS` digits or an exponent beyond
        :data:`MAX_EXPONENT`.
    """
    text = text.strip()
    match = NUMBER_TEXT.fullmatch(text)
    if match is None:
        return None
    mantissa = match["mantissa"]
    digits = sum(c.isdigit() for c in mantissa)
    if digits > MAX_DIGITS:
        raise NumberTooLarge(
            f"number with {digits} digits: at most {MAX_DIGITS} digits are allowed"
        )
    exp_text = match["exp"]
    # bound the exponent's text before converting it: int() of a huge text is slow
    if exp_text is not None and (
        len(exp_text.lstrip("+-").lstrip("0")) > len(str(MAX_EXPONENT))
        or abs(int(exp_text)) > MAX_EXPONENT
    ):
        shown = exp_text if len(exp_text) <= 12 else exp_text[:10] + "..."
        raise NumberTooLarge(f"exponent {shown} out of bounds: at most {MAX_EXPONENT} in magnitude")
    value = Fraction(text)
    if value.denominator == 1 and exp_text is None and "." not in mantissa:
        return int(value)
    return value


def check_size(value: int | Fraction) -> None:
    """Refuse a constant whose numerator or denominator has more than
    :data:`MAX_VALUE_DIGITS` digits.

    Raises
    ------
    NumberTooLarge
        Saying the bound, when ``value`` is beyond it.
    """
    fraction = Fraction(value)
    for part in (abs(fraction.numerator), fraction.denominator):
        if part.bit_length() > _SAFE_BITS and part >= _BEYOND:
            raise NumberTooLarge(
                f"a constant with more than {MAX_VALUE_DIGITS} digits: numerators and "
                f"denominators of at most {MAX_VALUE_DIGITS} digits are allowed"
            )
