"""The frozen model: typed declarations plus a networkx graph of steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import networkx as nx
import sympy

from checker.types import Type

Value = int | Fraction | bool
"""A value at run time: int, exact real, bool, or an enum value's index (int)."""


@dataclass(frozen=True)
class Variable:
    """A state variable (with ``init``) or an input (with an optional range)."""

    name: str
    type: Type
    symbol: sympy.Symbol
    line: int
    doc: str = ""
    init: Value | None = None
    low: Value | None = None
    high: Value | None = None
    source: str = "market"

    def show(self, value: Value) -> str:
        """A value of this variable as a user reads it (enum values by name)."""
        return show_value(self.type, value)


def show_value(kind: Type, value: Value) -> str:
    if kind.kind == "enum":
        return kind.values[int(value)]
    if kind.kind == "bool":
        return "true" if value else "false"
    if isinstance(value, Fraction) and value.denominator != 1:
        return decimal_text(value)
    return str(int(value))


def decimal_text(value: Fraction) -> str:
    """Exact decimal text for a fraction whose denominator has only factors 2 and 5,
    otherwise ``p/q``."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = max(twos, fives)
    scaled = value * 10**digits
    sign = "-" if scaled < 0 else ""
    text = str(abs(int(scaled))).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}".rstrip("0").rstrip(".")


def param_text(params: Mapping[str, Value]) -> dict[str, str]:
    """Params as exact text, the form proof records, certificates, cache keys and
    journals compare."""
    return {
        name: decimal_text(value) if isinstance(value, Fraction) else str(value)
        for name, value in sorted(params.items())
    }


@dataclass(frozen=True)
class Condition:
    """A named or anonymous boolean expression: an assumption, prover, limit or `when`."""

    name: str
    expr: sympy.Basic
    text: str
    line: int
    column: int


@dataclass(frozen=True)
class Action:
    """One action of ``emit``: ``place``, ``cancel`` or ``cancel_all``."""

    name: str
    args: tuple[tuple[str, sympy.Basic], ...]
    text: str


@dataclass(frozen=True)
class Transition:
    """A transition in file order; ``index`` is its position among all transitions."""

    index: int
    source: str
    target: str
    when: tuple[Condition, ...]
    provers: tuple[str, ...]
    emit: tuple[Action, ...]
    do: tuple[tuple[str, sympy.Basic], ...]
    line: int
    column: int

    @property
    def guard(self) -> sympy.Basic:
        return sympy.And(*(c.expr for c in self.when))

    @property
    def label(self) -> str:
        return f"{self.source} -> {self.target}"

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "from": self.source, "to": self.target, "line": self.line}


@dataclass(frozen=True)
class Nonlinear:
    """A product of two non-constant terms, where it stands."""

    where: str
    text: str
    line: int
    column: int


@dataclass(frozen=True)
class VenueSpec:
    """The model's optional ``venue`` section: how ``seqprove run`` trades it."""

    contract_size: Fraction = Fraction(1)
    slippage_bps: Fraction = Fraction(0)
    position_limit: Fraction | None = None


@dataclass(frozen=True)
class Model:
    """A loaded, type-checked strategy model. Expressions are sympy over the state and
    input symbols, params already replaced by their (possibly overridden) values."""

    file: str
    strategy: str
    about: str
    source_sha256: str
    params: Mapping[str, Value]
    state: tuple[Variable, ...]
    inputs: tuple[Variable, ...]
    assumptions: tuple[Condition, ...]
    provers: tuple[Condition, ...]
    limits: tuple[Condition, ...]
    steps: tuple[str, ...]
    step_lines: Mapping[str, int]
    step_columns: Mapping[str, int]
    initial: str
    final: tuple[str, ...]
    transitions: tuple[Transition, ...]
    nonlinear: tuple[Nonlinear, ...]
    graph: nx.DiGraph[str] = field(compare=False, repr=False)
    venue: VenueSpec = VenueSpec()

    def variable(self, name: str) -> Variable:
        for v in (*self.state, *self.inputs):
            if v.name == name:
                return v
        raise KeyError(name)

    def outgoing(self, step: str) -> tuple[Transition, ...]:
        """Transitions leaving ``step``, in file order (the order they are tried in)."""
        return tuple(t for t in self.transitions if t.source == step)


def step_graph(steps: tuple[str, ...], transitions: tuple[Transition, ...]) -> nx.DiGraph[str]:
    """The step graph: a node per step, an edge per (from, to) pair carrying the
    transitions between them in file order. The graph is frozen."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(steps)
    for t in transitions:
        if graph.has_edge(t.source, t.target):
            graph.edges[t.source, t.target]["transitions"] += (t,)
        else:
            graph.add_edge(t.source, t.target, transitions=(t,))
    frozen: nx.DiGraph[str] = nx.freeze(graph)
    return frozen
