"""The expression language: types, names and the whitelist, through the loader."""

from __future__ import annotations

import pytest
import sympy

from checker.errors import ModelError
from tests.conftest import model

BASE = """
strategy: exprs
params:
  cap: 10
  tick: 0.5
state:
  x: {type: int, init: 0}
  r: {type: real, init: tick}
  on: {type: bool, init: true}
  mode: {type: enum, values: [active, halted], init: active}
inputs:
  q: {type: int, range: [0, cap]}
  p: {type: real, range: [0, 2.5]}
provers:
  room: x + q <= cap
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    when:
      - room
      - WHEN
    do: {x: x + q}
limits:
  lim: LIMIT
"""


def load(when: str = "true", limit: str = "x <= cap") -> sympy.Basic:
    m = model(BASE.replace("WHEN", when).replace("LIMIT", limit))
    return m.transitions[0].when[1].expr


@pytest.mark.parametrize(
    "when",
    [
        "0 <= q <= cap",
        "mode == active",
        "mode != halted",
        "on == (x > 1)",
        "not on or x > 0",
        "min(x, q, 3) < max(p, 1)",
        "abs(x - q) >= 0",
        "(x if on else q) > 0",
        "r / 2 < tick",
        "x / cap <= 1",
        "p * 2 + 1e-3 > 0",
        "True",
        "false or on",
    ],
)
def test_valid_conditions_load(when: str) -> None:
    assert load(when) is not None


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("mode == 1", "cannot compare enum mode with int"),
        ("mode < halted", "needs a number"),
        ("x + on > 0", "needs a number, got bool"),
        ("on > 1", "needs a number"),
        ("x if on else mode", "both branches must have one type"),
        ("room + 1", "needs a number, got bool"),
        ("x / q > 0", "divisor must be a constant"),
        ("x / (cap - cap) > 0", "division by zero"),
        ("abs(x, q) > 0", "exactly one argument"),
        ("min(x) > 0", "two or more arguments"),
        ("x is None", "`is`"),
        ("x in q", "`in`"),
        ("x % 2 == 0", "`%`"),
        ("x == 'buy'", "a string is allowed only"),
        ("lim", "'lim' is a limit"),
        ("x", "must be boolean"),
        ("", "empty expression"),
        ("x >", "syntax error"),
    ],
)
def test_invalid_conditions_are_refused_with_a_reason(when: str, message: str) -> None:
    with pytest.raises(ModelError, match=None) as info:
        load(when if when else "''")
    assert message in str(info.value)


def test_prover_reading_inputs_cannot_be_used_in_a_limit() -> None:
    with pytest.raises(ModelError, match="prover 'room' reads q"):
        load(limit="room")


def test_int_input_with_real_range_takes_integers_within() -> None:
    m = model(
        BASE.replace("WHEN", "true")
        .replace("LIMIT", "x <= cap")
        .replace("q: {type: int, range: [0, cap]}", "q: {type: int, range: [0, 2.5]}")
    )
    q = m.variable("q")
    assert (q.low, q.high) == (0, sympy.Rational(5, 2))


def test_params_are_exact_and_overridable() -> None:
    m = model(BASE.replace("WHEN", "true").replace("LIMIT", "x <= cap"), cap="20", tick="0.1")
    assert m.params == {"cap": 20, "tick": sympy.Rational(1, 10)}
    assert m.state[1].init == sympy.Rational(1, 10)
