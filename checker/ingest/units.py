"""Quantities converted to the model's contracts.

A source counts its sizes and volumes in one of:

- ``base``: the base asset (BTC of BTCUSDT); divided by the contract size;
- ``quote``: the quote currency (USD of an FTX volume); divided by the row's price (a
  quote's own side, a trade's price, a bar's close), then by the contract size;
- ``inverse:FACE``: inverse contracts of FACE quote units each (Binance COIN-M BTCUSD:
  contracts of 100 USD); times FACE, divided by the price, then by the contract size;
- ``contracts``: already the model's contracts; kept.

Every division is rounded down (a size is never made larger than the source had): to
whole contracts for an instrument whose ``qty`` is ``int``, else to :data:`PLACES`
decimal places, which keeps any quantity of at most that many places exact.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Context, Decimal

import numpy as np

from checker.errors import UsageError
from checker.ingest.base import Objects

PLACES = 12
CONTEXT = Context(prec=60, rounding=ROUND_FLOOR)
"""Divisions are rounded down at 60 digits, then to the places kept: the result is the
floor of the exact quotient."""
_INVERSE = re.compile(r"inverse:(\d+(?:\.\d+)?)")


def check_unit(text: str) -> str:
    """``text`` as a unit (a bad one is a usage error of ``--unit``)."""
    unit = text.strip().lower()
    if unit in ("base", "quote", "contracts") or _INVERSE.fullmatch(unit):
        return unit
    raise UsageError(
        f"--unit {text}: give base, quote, contracts or inverse:FACE (e.g. inverse:100)"
    )


def describe(unit: str) -> str:
    """The unit as the metadata says it."""
    found = _INVERSE.fullmatch(unit)
    if found:
        return f"inverse contracts of {found.group(1)} in the quote currency (e.g. USD)"
    return {
        "base": "the base asset (e.g. BTC)",
        "quote": "the quote currency (e.g. USD)",
        "contracts": "the model's contracts",
    }[unit]


def to_base(unit: str, quantities: Objects, prices: Objects) -> Objects:
    """Quantities in ``unit`` as quantities of the base asset (``contracts`` are kept)."""
    if unit in ("base", "contracts"):
        return quantities
    found = _INVERSE.fullmatch(unit)
    face = Decimal(found.group(1)) if found else Decimal(1)
    out = np.empty(len(quantities), dtype=object)
    for i, (q, p) in enumerate(zip(quantities, prices, strict=True)):
        out[i] = CONTEXT.divide(CONTEXT.multiply(q, face), p) if p > 0 else Decimal(0)
    return out


def to_contracts(unit: str, base: Objects, contract_size: Decimal, whole: bool) -> Objects:
    """Base-asset quantities as contracts of ``contract_size``, rounded down (whole
    contracts when ``whole``)."""
    exponent = Decimal(1) if whole else Decimal(1).scaleb(-PLACES)
    size = Decimal(1) if unit == "contracts" else contract_size
    out = np.empty(len(base), dtype=object)
    if whole:
        out[:] = [CONTEXT.divide_int(q, size) for q in base]  # non-negative: the floor
        return out
    for i, q in enumerate(base):
        value = q if size == 1 else CONTEXT.divide(q, size)
        if value.as_tuple().exponent < -PLACES:  # type: ignore[operator]
            value = value.quantize(exponent, rounding=ROUND_FLOOR)
        out[i] = value
    return out
