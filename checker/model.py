"""The frozen model: typed declarations plus a networkx graph of steps."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import networkx as nx
import sympy

from checker.lang.timing import Clock, Window, tick_phase
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
    column: str = ""
    """For a market input: the data column ``seqprove run`` reads (empty: its name)."""
    instrument: str = ""
    """For a name the semantics keeps (``perp.position``, ``perp.bought``, ...): its
    instrument; empty for what the file declares."""
    range_text: tuple[str, str] | None = field(default=None, compare=False, repr=False)
    """For an input with a range: its two bounds as the file writes them (params by
    name), so the envelope (:mod:`checker.run.profile`) is read without the file."""
    range_line: int = field(default=0, compare=False, repr=False)
    """The line of the range in the model file."""

    @property
    def builtin(self) -> bool:
        """Whether the semantics keeps this variable (the book of an instrument)."""
        return bool(self.instrument)

    @property
    def hidden(self) -> bool:
        """Whether it is a part of the book no expression may name: the quantity whose
        leaving is pending (``I.pending_buy``) and the fills of it (``I.bought_pending``)."""
        return bool(self.instrument) and "pending" in self.name.split(".", 1)[-1]

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
    otherwise ``p/q``. Remembered by value: a run writes the same prices and amounts
    again and again (the journal makes one text per number per tick)."""
    if value.denominator == 1:
        return str(value.numerator)
    return _decimal(value.numerator, value.denominator)


@functools.lru_cache(maxsize=1 << 16)
def _decimal(num: int, den: int) -> str:
    twos = (den & -den).bit_length() - 1  # the factors 2 of den
    rest, fives = den >> twos, 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f"{num}/{den}"
    digits = max(twos, fives)
    scaled = num * (10**digits // den)  # exact: den divides 10**digits
    sign = "-" if scaled < 0 else ""
    text = str(abs(scaled)).rjust(digits + 1, "0")
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
    """One action of ``emit``: ``place``, ``cancel`` or ``cancel_all``.

    ``args`` are the expressions of ``side``, ``qty`` and ``price`` (those given). In a
    model with instruments, ``instrument`` is the one the action goes to (empty for a
    ``cancel_all`` of every instrument) and ``tif`` the time in force of a ``place``
    (``ioc`` for a market order, one without ``price``)."""

    name: str
    args: tuple[tuple[str, sympy.Basic], ...]
    text: str
    instrument: str = ""
    tif: str = "gtc"
    line: int = 0
    column: int = 0

    def arg(self, name: str) -> sympy.Basic | None:
        """The expression of argument ``name``, or None when it is not given."""
        for key, value in self.args:
            if key == name:
                return value
        return None


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


BOOK_STATE = ("position", "open_buy", "open_sell")
"""The state an instrument's book has, as ``I.NAME``, in this order."""

BOOK_INPUTS = ("bought", "sold")
"""The fills the market chooses for an instrument at a tick, as ``I.NAME``."""

SIDES = ("buy", "sell")


def book_name(instrument: str, part: str) -> str:
    """The name of a part of an instrument's book: ``perp.position``."""
    return f"{instrument}.{part}"


def pending_name(instrument: str, side: str) -> str:
    """The hidden state: the quantity of ``side`` orders that can still fill at the next
    fill phase only, then leaves the book (a cancel sent, or an IOC or market order)."""
    return f"{instrument}.pending_{side}"


def fill_pending_name(instrument: str, side: str) -> str:
    """The hidden input: the part of a tick's fill of ``side`` that hit pending orders."""
    return f"{instrument}.{'bought' if side == 'buy' else 'sold'}_pending"


ORDER_FIELDS = ("instrument", "side", "qty", "price", "tif")
"""What an order check may read of the order it checks."""


def order_symbol(field: str) -> sympy.Symbol:
    """The symbol standing for field ``field`` of the order an order check reads."""
    if field in ("price", "qty"):
        return sympy.Symbol(f"@order.{field}", real=True)
    return sympy.Symbol(f"@order.{field}", integer=True)


@dataclass(frozen=True)
class Instrument:
    """A traded instrument (language version 2): its book is state the semantics keeps.

    ``qty`` is ``int`` (contracts) or ``real`` (coin amounts); ``position`` the initial
    position; ``contract_size`` what ``seqprove run`` multiplies quantities by (coin per
    contract)."""

    name: str
    qty: Type
    position: Value
    contract_size: Fraction
    doc: str
    line: int
    column: int
    pending: tuple[str, ...] = ()
    """The sides whose orders can be pending (some action cancels them, or places an IOC
    or market order on them); on the other sides the pending quantity is always 0."""

    def qty_zero(self) -> Value:
        """Zero in this instrument's quantities."""
        return 0 if self.qty.kind == "int" else Fraction(0)


@dataclass(frozen=True)
class Obligation:
    """Something ``verify`` decides, PROVED, REFUTED or UNKNOWN, like a limit.

    ``kind`` is ``limit`` (a limit of the file), ``order`` (an order check: every order
    sent satisfies it) or ``check`` (a built-in check of version 2: ``positive_qty:LINE``
    for the ``place`` actions of the transition at LINE, and ``final-step-orders``)."""

    name: str
    kind: str
    text: str
    line: int
    column: int

    @property
    def reads_inputs(self) -> bool:
        """Whether it is about a tick (the orders it sends), not a configuration."""
        return self.kind == "order" or self.name.startswith(POSITIVE_QTY)


def limit_kind(name: str) -> str:
    """The kind of an entry of :attr:`Model.limits`: ``check`` for a window's built-in
    ``exact:W``, ``limit`` for a declared limit (whose name has no ``:``)."""
    return "check" if ":" in name else "limit"


POSITIVE_QTY = "positive_qty"
FINAL_STEP_ORDERS = "final-step-orders"


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
    instruments: tuple[Instrument, ...] = ()
    orders: tuple[Condition, ...] = ()
    """Order checks: each must hold for every ``place`` sent, read over the order's
    fields (:func:`order_symbol`), the state before the transition and the inputs."""
    clock: Clock | None = None
    """The clock (``clock``): the input that reads the time, and its unit."""
    windows: tuple[Window, ...] = ()
    """The declared windows, whose events are state (:mod:`checker.lang.timing`)."""
    param_defaults: Mapping[str, Value] = field(default_factory=dict, compare=False, repr=False)
    """Each param's value as the file declares it (``params`` has the ``--param``
    overrides applied)."""
    free: tuple[str, ...] = ()
    """The params left free (``--param-range``): each is a state variable of source
    ``param`` that no tick changes, whose initial value is any in its range (and in
    :attr:`region`), so a proof covers every value at once."""
    region: sympy.Basic = sympy.true
    """What the free params' values must also satisfy (a condition over them): the
    part of their box still to decide, for ``seqprove params``."""

    def ranges(self) -> dict[str, str]:
        """Each free param's range as exact text (``{"quote_size": "1..50"}``), the form
        certificates and cache keys compare."""
        return {
            v.name: "..".join(
                "" if end is None else show_value(v.type, end) for end in (v.low, v.high)
            )
            for v in self.state
            if v.source == "param"
        }

    def region_text(self) -> str:
        """:attr:`region` in the expression language (empty when it is true)."""
        from checker.smt.decode import show

        return "" if self.region == sympy.true else show(self.region)

    @property
    def version(self) -> int:
        """2 when the model declares instruments (the checker keeps their books), else 1."""
        return 2 if self.instruments else 1

    def instrument(self, name: str) -> Instrument:
        for i in self.instruments:
            if i.name == name:
                return i
        raise KeyError(name)

    def obligations(self) -> tuple[Obligation, ...]:
        """What ``verify`` decides, in the order it reports them: the limits (with each
        window's check ``exact:W``), the order checks, then (with instruments)
        ``positive_qty`` for every transition that places orders and
        ``final-step-orders`` when there are final steps."""
        found = [
            Obligation(c.name, limit_kind(c.name), c.text, c.line, c.column)
            for c in self.limits  # a window's check exact:W is kept with the limits
        ]
        found += [Obligation(c.name, "order", c.text, c.line, c.column) for c in self.orders]
        if not self.instruments:
            return tuple(found)
        lines = set()
        for t in self.transitions:
            if any(a.name == "place" for a in t.emit) and t.line not in lines:
                lines.add(t.line)  # one check for the transitions written on one line
                found.append(
                    Obligation(
                        f"{POSITIVE_QTY}:{t.line}",
                        "check",
                        f"qty > 0 in every place() of {t.label}",
                        t.line,
                        t.column,
                    )
                )
        if self.final:
            found.append(
                Obligation(
                    FINAL_STEP_ORDERS,
                    "check",
                    f"no order is working when a final step ({', '.join(self.final)}) is reached",
                    self.step_lines[self.final[0]],
                    self.step_columns[self.final[0]],
                )
            )
        return tuple(found)

    @functools.cached_property
    def ticked(self) -> dict[str, sympy.Basic]:
        """What every tick does to the state before the transition is chosen, besides
        the book's fills: the clock's and the sum windows' events
        (:func:`checker.lang.timing.tick_phase`); empty without a clock."""
        if self.clock is None:
            return {}
        symbols = {v.name: v.symbol for v in (*self.state, *self.inputs)}
        return tick_phase(self.clock, self.windows, symbols)

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
