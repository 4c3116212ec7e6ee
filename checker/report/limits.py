"""What a limit reads, to mark the values of a counterexample that break it. Light to
import: the terminal report uses it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from checker.results import LimitResult

if TYPE_CHECKING:
    from checker.model import Model

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
"""A name, or an instrument's built-in name (``perp.position``)."""


def limit_reads(lim: LimitResult, model: Model | None = None) -> frozenset[str]:
    """The names a limit reads: the free names of its expression in ``model`` (the
    provers it names expanded into what they read), or, without the model, the names
    written in its text."""
    if model is not None:
        for condition in model.limits:
            if condition.name == lim.name:
                return frozenset(str(s) for s in condition.expr.free_symbols)
    return frozenset(_NAME.findall(lim.text))
