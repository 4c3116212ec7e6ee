"""Positions, exact numbers and refusal of hostile YAML."""

from __future__ import annotations

from fractions import Fraction

import pytest

from checker.errors import ModelError
from checker.lang.yamlload import Loc, load_yaml


def test_every_key_and_value_keeps_its_line_and_column() -> None:
    doc = load_yaml("a:\n  b: [1, two]\n  c: 'quoted'\n", "f.yaml")
    assert doc.keys[("a", "b")] == Loc(2, 3, True)
    assert doc.values[("a", "b", 1)] == Loc(2, 10, True)
    assert doc.values[("a", "c")] == Loc(3, 7, True)  # the text after the quote


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1", Fraction(1, 10)),
        ("1e-3", Fraction(1, 1000)),
        ("-2.50", Fraction(-5, 2)),
        ("7", 7),
        ("0x10", 16),
        ("true", True),
        ("yes", "yes"),
        ("'3'", "3"),
        ("~", None),
        (".inf", ".inf"),
    ],
)
def test_scalars_are_exact_and_follow_yaml_1_2(text: str, value: object) -> None:
    assert load_yaml(f"v: {text}\n", "f.yaml").data["v"] == value


def test_aliases_are_expanded_within_bounds() -> None:
    doc = load_yaml("a: &x {type: int}\nb: *x\n", "f.yaml")
    assert doc.data["b"] == {"type": "int"}


def test_duplicate_key_names_the_first_one() -> None:
    with pytest.raises(ModelError, match=r"f.yaml:2:1: duplicate key 'a' \(first given at line 1"):
        load_yaml("a: 1\na: 2\n", "f.yaml")


def test_multiline_scalar_positions_are_not_exact() -> None:
    doc = load_yaml("a: >\n  x and\n  y\n", "f.yaml")
    assert doc.data["a"] == "x and y\n"
    assert doc.values[("a",)].exact is False
