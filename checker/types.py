"""Value types of the model language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    """``int``, ``real``, ``bool`` or an enum (named after the variable that declares it).

    The enum ``side`` (values ``buy`` and ``sell``) types the string literals that action
    arguments take; ``tif`` and ``instrument`` type an order's other fields (version 2).
    """

    kind: str
    enum: str = ""
    values: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "real")

    def __str__(self) -> str:
        return f"enum {self.enum}" if self.kind == "enum" else self.kind


INT = Type("int")
REAL = Type("real")
BOOL = Type("bool")
SIDE = Type("enum", "side", ("buy", "sell"))
TIF = Type("enum", "tif", ("gtc", "ioc"))
"""An order's time in force: ``gtc`` rests until filled or cancelled, ``ioc`` can fill
only at the next tick's fills (language version 2)."""


def instrument_type(names: tuple[str, ...]) -> Type:
    """The enum of a model's instruments (its values in declaration order): the type of
    an order's ``instrument`` in an order check."""
    return Type("enum", "instrument", names)


def join_numeric(a: Type, b: Type) -> Type:
    """Arithmetic on int and real gives real when either side is real."""
    return REAL if REAL in (a, b) else INT


def assignable(target: Type, value: Type) -> bool:
    """Whether a value of type ``value`` may be stored in a variable of type ``target``."""
    if target == value:
        return True
    return target == REAL and value == INT
