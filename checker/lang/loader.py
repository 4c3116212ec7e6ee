"""Build a frozen :class:`checker.model.Model` from a model file.

Every problem found is collected and raised together as one :class:`ModelError`, each
located at ``FILE:LINE:COLUMN`` with a hint where one is plain.
"""

from __future__ import annotations

import dataclasses
import hashlib
import keyword
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy

from checker.errors import Diagnostic, ModelError
from checker.lang.expr import (
    ACTIONS,
    BUILTINS,
    FUNCTIONS,
    KEYWORDS,
    MAX_FILE_SIZE,
    ExprError,
    Symbolic,
    Translator,
    Typed,
    article,
    locate,
)
from checker.lang.numbers import NumberTooLarge, read_number
from checker.lang.schema import FLOW_SOURCES
from checker.lang.timing import (
    CLOCK_ASSUMPTION,
    CLOCK_COLUMN,
    CLOCK_LAST,
    CLOCK_UNITS,
    DEFAULT_CLOCK_INPUT,
    EXACT,
    MAX_KEEP,
    Clock,
    DurationError,
    Window,
    no_clock,
    read_duration,
    read_time,
)
from checker.lang.validate import hint, validate_document
from checker.lang.yamlload import Document, load_yaml
from checker.model import (
    BOOK_INPUTS,
    BOOK_STATE,
    ORDER_FIELDS,
    SIDES,
    Action,
    Condition,
    Instrument,
    Model,
    Nonlinear,
    Transition,
    Value,
    Variable,
    VenueSpec,
    book_name,
    decimal_text,
    fill_pending_name,
    order_symbol,
    pending_name,
    step_graph,
)
from checker.types import BOOL, INT, REAL, SIDE, TIF, Type, assignable, instrument_type

ACTION_ARGUMENT = "an action argument"
"""Where a product in an action argument is said to stand (see verify.sanity)."""

RESERVED = frozenset(keyword.kwlist) | KEYWORDS | FUNCTIONS | ACTIONS

EXPRESSION_KINDS = frozenset({"param", "state", "input", "prover", "enum-value", "window"})


def load_model(
    path: str | Path,
    params: Mapping[str, str] | None = None,
    ranges: Mapping[str, str] | None = None,
    region: str = "",
) -> Model:
    """Load, validate and type-check the model file at ``path``.

    Parameters
    ----------
    path
        The YAML model file.
    params
        Overrides as text, ``{"max_position": "50"}``; names the model does not declare
        are ignored (the command line checks that each names some model's param).
    ranges
        Params left free, each over a range as text, ``{"quote_size": "1..50"}``
        (``--param-range``): the proof then covers every value in the box at once
        (:attr:`checker.model.Model.free`). Names the model does not declare are ignored.
    region
        A condition over the free params, in the expression language, that their
        values must also satisfy (:attr:`checker.model.Model.region`).

    Raises
    ------
    ModelError
        With every problem found, located in the file.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError([Diagnostic(file, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:200]
    hint = " (it looks like UTF-16 or UTF-32: save it as UTF-8)" if utf16 else ""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = len(raw[: exc.start].rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        message = f"file is not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot start a character"
        raise ModelError([Diagnostic(file, line, column, message + hint)]) from None
    if "\x00" in text:
        before = text[: text.index("\x00")]
        line, column = before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1
        message = "file contains a NUL character: it is not UTF-8 text"
        raise ModelError([Diagnostic(file, line, column, message + hint)]) from None
    return load_text(text, file, params or {}, ranges, region)


def declared_params(path: str | Path) -> set[str]:
    """Names under ``params`` in the file at ``path``, read from its YAML alone (empty
    when the file cannot be read or parsed, or reading it hits a bug: loading the file
    reports that as its own internal error)."""
    try:
        doc = load_yaml(Path(path).read_text(encoding="utf-8"), str(path))
    except Exception:  # every failure here is reported when the file is loaded
        return set()
    params = doc.data.get("params") if isinstance(doc.data, dict) else None
    return set(params) if isinstance(params, dict) else set()


def load_text(
    text: str,
    file: str,
    params: Mapping[str, str] | None = None,
    ranges: Mapping[str, str] | None = None,
    region: str = "",
) -> Model:
    """Like :func:`load_model`, for a model given as text named ``file``."""
    doc = load_yaml(text, file)
    problems = validate_document(doc)
    if problems:
        raise ModelError(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    model = _Builder(doc, params or {}, digest, ranges or {}).build()
    return with_region(model, region) if region else model


def with_region(model: Model, region: str) -> Model:
    """``model`` with its free params' values also bound by ``region``, a condition
    over them written in the expression language (read like any expression: no code
    runs).

    Raises
    ------
    ModelError
        When ``region`` is not a boolean expression over the free params and params.
    """
    names = {v.name: v for v in model.state if v.source == "param"}
    table = {n: Symbolic("free-param", v.type, v.symbol) for n, v in names.items()}
    table.update(
        {
            n: Symbolic("param", INT if isinstance(v, int) else REAL, constant_expr(v))
            for n, v in model.params.items()
        }
    )
    translator = Translator(table.get, frozenset({"param", "free-param"}), "a region", table)
    try:
        typed = translator.expression(region)
    except ExprError as exc:
        problem = f"region {region!r}: {exc.message}"
        raise ModelError([Diagnostic(model.file, 1, 1, problem)]) from None
    if typed.type != BOOL:
        raise ModelError([Diagnostic(model.file, 1, 1, f"region {region!r} is not a condition")])
    return dataclasses.replace(model, region=typed.expr)


def constant_expr(value: Value) -> sympy.Basic:
    """An int or exact real value as a sympy number (the inverse of
    :func:`constant_value` on numbers)."""
    return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(value)


def parse_number(text: str) -> int | Fraction | None:
    """An exact number from its text (``50``, ``0.5``, ``1e-3``), or None: the one
    reader of written numbers, :func:`checker.lang.numbers.read_number`.

    Raises
    ------
    NumberTooLarge
        When the number is beyond the bounds of :mod:`checker.lang.numbers`.
    """
    return read_number(text)


def _shown_value(text: str) -> str:
    """A ``--param`` value as messages show it: shortened when long."""
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def constant_value(expr: sympy.Basic) -> Value | None:
    """The exact value of a constant sympy expression, or None if it is not one."""
    if expr is sympy.true:
        return True
    if expr is sympy.false:
        return False
    if isinstance(expr, sympy.Integer):
        return int(expr)
    if isinstance(expr, sympy.Rational):
        return Fraction(int(expr.p), int(expr.q))
    return None


def _symbol(name: str, kind: Type) -> sympy.Symbol:
    if kind.kind in ("int", "enum"):
        return sympy.Symbol(name, integer=True)
    if kind.kind == "real":
        return sympy.Symbol(name, real=True)
    return sympy.Symbol(name)


def nonlinear_terms(expr: sympy.Basic) -> list[sympy.Basic]:
    """Products of two or more non-constant factors (and powers of variables) in ``expr``."""
    found: list[sympy.Basic] = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Mul):
            if sum(1 for a in node.args if a.free_symbols) >= 2:
                found.append(node)
        elif isinstance(node, sympy.Pow) and node.base.free_symbols and node.exp != 1:
            found.append(node)
    return found


class _Builder:
    def __init__(
        self,
        doc: Document,
        overrides: Mapping[str, str],
        digest: str,
        ranges: Mapping[str, str] | None = None,
    ) -> None:
        self.doc = doc
        self.ranges = dict(ranges or {})
        self.free: list[Variable] = []  # the params left free, as state no tick changes
        self.data: dict[str, Any] = doc.data
        self.overrides = overrides
        self.digest = digest
        self.errors: list[Diagnostic] = []
        self.names: dict[str, Symbolic] = {}
        self.name_paths: dict[str, tuple[str | int, ...]] = {}
        self.prover_text: dict[str, str] = {}
        self.prover_done: dict[str, Symbolic] = {}
        self.prover_stack: list[str] = []
        self.nonlinear: list[Nonlinear] = []
        self.size = 0  # parts of the expressions read so far
        self.over_budget = False
        self.instrument_qty: dict[str, Type] = {}  # version 2: each instrument's qty type
        clock = self.data.get("clock")
        self.clock: Clock | None = None
        if isinstance(clock, dict):
            loc = self.doc.key_loc(("clock",))
            name = str(clock.get("input", DEFAULT_CLOCK_INPUT))
            self.clock = Clock(name, str(clock.get("unit", "ms")), loc.line, loc.column)
        self.windows: dict[str, Window] = {}
        self.in_limit = False  # a window's name reads it at clock.last (in a limit)

    def within_budget(self, path: tuple[str | int, ...]) -> bool:
        """Whether the file's expressions are still within :data:`MAX_FILE_SIZE` parts in
        all; the first one beyond it is reported, and no other is read."""
        if self.size <= MAX_FILE_SIZE:
            return True
        if not self.over_budget:
            self.over_budget = True
            self.err(
                path,
                f"the file's expressions have more than {MAX_FILE_SIZE} parts in all; refused",
            )
        return False

    # -- helpers ------------------------------------------------------------------------
    def err(self, path: tuple[str | int, ...], message: str, *, key: bool = False) -> None:
        self.errors.append(self.doc.error(path, message, key=key))

    def declare(self, name: str, path: tuple[str | int, ...], sym: Symbolic) -> bool:
        what = {
            "param": "a param",
            "free-param": "a param",
            "state": "a state variable",
            "input": "an input",
            "assumption": "an assumption",
            "prover": "a prover",
            "limit": "a limit",
            "enum-value": "an enum value",
            "instrument": "an instrument",
            "order-check": "an order check",
            "window": "a window",
        }[sym.kind]
        if name in RESERVED:
            self.err(
                path,
                f"'{name}' is reserved (a keyword, built-in function or action) "
                f"and cannot name {what}",
                key=sym.kind != "enum-value",
            )
            return False
        if name in self.names:
            first = self.doc.key_loc(self.name_paths[name])
            self.err(
                path,
                f"name '{name}' is already used at line {first.line}; instruments, "
                "params, state, inputs, assumptions, provers, limits, order checks and "
                "enum values share one namespace",
                key=sym.kind != "enum-value",
            )
            return False
        self.names[name] = sym
        self.name_paths[name] = path
        return True

    def resolve(self, name: str) -> Symbolic | None:
        found = self.names.get(name)
        if found is not None and found.kind == "prover":
            return self.prover(name)
        if found is not None and found.kind == "window":
            return self.window_value(name)
        if self.in_limit and self.clock is not None and name == self.clock.input:
            return Symbolic("state", INT, _symbol(CLOCK_LAST, INT))  # the last tick's time
        return found

    def window_value(self, name: str) -> Symbolic | None:
        """A window's name in an expression: its value at the tick's clock input, or in
        a limit at ``clock.last`` (None while the window's declaration is being read, or
        when it is in error)."""
        window = self.windows.get(name)
        if self.clock is None:
            return None
        if window is None:  # its declaration is in error, reported already
            return Symbolic("window", INT, sympy.Integer(0))
        symbols = {n: _symbol(n, INT) for n in (*window.times(), *window.amounts())}
        at = _symbol(CLOCK_LAST if self.in_limit else self.clock.input, INT)
        return Symbolic("window", INT, window.value(at, symbols))

    def translate(
        self, path: tuple[str | int, ...], value: Any, allowed: frozenset[str], context: str
    ) -> Typed | None:
        if isinstance(value, bool):
            return Typed(sympy.true if value else sympy.false, BOOL)
        if isinstance(value, int):
            return Typed(sympy.Integer(value), INT)
        if isinstance(value, Fraction):  # a decimal in the file is real, even when whole
            return Typed(sympy.Rational(value.numerator, value.denominator), REAL)
        text = _text(value)
        loc = self.doc.loc(path)
        if not self.within_budget(path):
            return None
        translator = Translator(self.resolve, allowed, context, self.names, clock_unit=self.unit)
        try:
            typed = translator.expression(text)
            self.size += translator.size
        except ExprError as exc:
            self.errors.append(
                locate(
                    self.doc.file,
                    loc.line,
                    loc.column,
                    loc.exact,
                    exc.offset,
                    exc.message + _flow_hint(text),
                )
            )
            return None
        self.note_nonlinear(typed.expr, context, loc.line, loc.column)
        return typed

    def note_nonlinear(self, expr: sympy.Basic, context: str, line: int, column: int) -> None:
        """Record products of variables, once per product (a prover used in several
        places is reported where it is written)."""
        seen = {n.text for n in self.nonlinear}
        for term in nonlinear_terms(expr):
            if str(term) not in seen:
                seen.add(str(term))
                self.nonlinear.append(Nonlinear(context, str(term), line, column))

    def condition(
        self,
        path: tuple[str | int, ...],
        name: str,
        value: Any,
        allowed: frozenset[str],
        context: str,
    ) -> Condition | None:
        typed = self.translate(path, value, allowed, context)
        if typed is None:
            return None
        if typed.type != BOOL:
            self.err(path, f"{context} must be boolean, got {typed.type}")
            return None
        loc = self.doc.loc(path)
        return Condition(name, typed.expr, _text(value), loc.line, loc.column)

    # -- sections -----------------------------------------------------------------------
    def params(self) -> dict[str, Value]:
        values: dict[str, Value] = {}
        for name, entry in (self.data.get("params") or {}).items():
            value = entry["value"] if isinstance(entry, dict) else entry
            if isinstance(value, str):  # a duration: the schema allows no other string
                path = ("params", name, "value") if isinstance(entry, dict) else ("params", name)
                try:
                    read = read_duration(value, self.unit)
                    if read is None:
                        read = read_time(value, self.unit)
                except DurationError as exc:
                    self.err(path, exc.message)
                    continue
                if read is None:
                    self.err(
                        path,
                        f"{value!r} is neither a number, a duration (5s, 500ms) nor an "
                        "ISO-8601 time (2024-12-27T08:00:00Z)",
                    )
                    continue
                value = read
            if name in self.overrides and isinstance(value, int):
                try:
                    read = read_duration(self.overrides[name], self.unit)
                except DurationError as exc:
                    self.err(("params", name), f"--param {name}: {exc.message}", key=True)
                    continue
                if read is not None:
                    symbolic = Symbolic("param", INT, sympy.Integer(read))
                    if self.declare(name, ("params", name), symbolic):
                        values[name] = read
                    continue
            if name in self.overrides:
                shown = _shown_value(self.overrides[name])
                try:
                    given = read_number(self.overrides[name])
                    problem = "not a number"
                except NumberTooLarge as exc:
                    given, problem = None, str(exc)
                if given is None:
                    self.err(("params", name), f"--param {name}={shown}: {problem}", key=True)
                elif isinstance(value, int) and not isinstance(given, int):
                    if given.denominator == 1:
                        given = int(given)
                    else:
                        self.err(
                            ("params", name),
                            f"--param {name}={shown}: '{name}' is an integer param",
                            key=True,
                        )
                        given = None
                if given is not None and isinstance(value, Fraction):
                    given = Fraction(given)  # a real param stays real
                if given is not None:
                    value = given
            kind = INT if isinstance(value, int) else REAL
            if name in self.ranges and self.free_param(name, kind):
                continue  # (a bad range is reported, and the param keeps its value)
            if self.declare(name, ("params", name), Symbolic("param", kind, constant_expr(value))):
                values[name] = value
        return values

    def free_param(self, name: str, kind: Type) -> bool:
        """Param ``name`` left free over its ``--param-range`` ``LO..HI``: a state
        variable (source ``param``) that every expression may read and no constant
        may."""
        path = ("params", name)
        text = self.ranges[name]
        if name in self.overrides:
            self.err(path, f"--param and --param-range both set '{name}': give one", key=True)
            return False
        low_text, dots, high_text = text.partition("..")
        bounds: list[Value | None] = []
        for part in (low_text, high_text) if dots else ():
            read: Value | None
            if not part.strip():  # an open end: unbounded on that side
                bounds.append(None)
                continue
            try:
                read = read_duration(part.strip(), self.unit) if kind == INT else None
                if read is None:
                    read = read_number(part.strip())
            except (DurationError, NumberTooLarge):
                read = None
            if read is not None and kind == INT and not isinstance(read, int):
                read = int(read) if read.denominator == 1 else None
            if read is None:
                break
            bounds.append(read if kind == INT else Fraction(read))
        shown = _shown_value(text)
        if len(bounds) != 2:
            what = "two integers" if kind == INT else "two numbers"
            self.err(
                path,
                f"--param-range {name}={shown}: write LO..HI, {what} (either may be left out)",
                key=True,
            )
            return False
        low, high = bounds
        if low is not None and high is not None and low > high:
            self.err(path, f"--param-range {name}={shown}: the range is empty", key=True)
            return False
        symbol = _symbol(name, kind)
        if not self.declare(name, path, Symbolic("free-param", kind, symbol)):
            return True  # the name's clash is reported
        loc = self.doc.key_loc(path)
        doc = f"param left free over {text.strip()}"
        self.free.append(
            Variable(name, kind, symbol, loc.line, doc, None, low, high, source="param")
        )
        return True

    def variables(self, section: str) -> list[tuple[str, Type, sympy.Symbol]]:
        declared: list[tuple[str, Type, sympy.Symbol]] = []
        kind_name = "state" if section == "state" else "input"
        for name, spec in (self.data.get(section) or {}).items():
            raw = spec["type"]
            if raw == "enum":
                kind = Type("enum", name, tuple(spec["values"]))
            else:
                kind = {"int": INT, "real": REAL, "bool": BOOL}[raw]
            symbol = _symbol(name, kind)
            if self.declare(name, (section, name), Symbolic(kind_name, kind, symbol)):
                declared.append((name, kind, symbol))
            for i, value in enumerate(kind.values):
                self.declare(
                    value,
                    (section, name, "values", i),
                    Symbolic("enum-value", kind, sympy.Integer(i)),
                )
        return declared

    def state(self, declared: list[tuple[str, Type, sympy.Symbol]]) -> list[Variable]:
        result = []
        for name, kind, symbol in declared:
            spec = self.data["state"][name]
            path = ("state", name, "init")
            typed = self.translate(
                path, spec["init"], frozenset({"param", "enum-value"}), "an init"
            )
            if typed is None:
                continue
            value = constant_value(typed.expr)
            if value is None:
                self.err(path, "init must be a literal or an expression over params")
                continue
            if not assignable(kind, typed.type):
                self.err(path, f"init of '{name}' must be {kind}, got {typed.type}")
                continue
            line = self.doc.key_loc(("state", name)).line
            result.append(Variable(name, kind, symbol, line, spec.get("doc", ""), init=value))
        return result

    def inputs(self, declared: list[tuple[str, Type, sympy.Symbol]]) -> list[Variable]:
        result = []
        for name, kind, symbol in declared:
            spec = self.data["inputs"][name]
            low = high = None
            range_text: tuple[str, str] | None = None
            range_line = 0
            if "range" in spec:
                if not kind.numeric:
                    self.err(
                        ("inputs", name, "range"),
                        f"a range goes only with int or real inputs; '{name}' is {kind}",
                        key=True,
                    )
                    continue
                bounds = []
                for i in (0, 1):
                    typed = self.translate(
                        ("inputs", name, "range", i),
                        spec["range"][i],
                        frozenset({"param"}),
                        "a range bound",
                    )
                    if typed is not None and not typed.type.numeric:
                        self.err(
                            ("inputs", name, "range", i),
                            f"a range bound must be a number, got {typed.type}",
                        )
                        typed = None
                    bounds.append(None if typed is None else constant_value(typed.expr))
                if None in bounds:
                    continue
                low, high = bounds
                range_text = (_written(spec["range"][0]), _written(spec["range"][1]))
                range_line = self.doc.loc(("inputs", name, "range")).line
            source = spec.get("source", "market")
            if source != "market" and not kind.numeric:
                self.err(
                    ("inputs", name, "source"),
                    f"'{name}' is {kind}: only int and real inputs can take {source}",
                )
                continue
            if source == "venue.pnl_change" and kind.kind != "real":
                self.err(("inputs", name, "source"), f"'{name}' takes a PnL: make it real")
                continue
            column = str(spec.get("column", ""))
            if column and source != "market":
                self.err(
                    ("inputs", name, "column"),
                    f"'{name}' takes {source}: only a market input reads a column",
                    key=True,
                )
                continue
            line = self.doc.key_loc(("inputs", name)).line
            result.append(
                Variable(
                    name,
                    kind,
                    symbol,
                    line,
                    spec.get("doc", ""),
                    low=low,
                    high=high,
                    source=source,
                    column=column,
                    range_text=range_text,
                    range_line=range_line,
                )
            )
        return result

    def venue(self) -> VenueSpec:
        spec = self.data.get("venue") or {}
        values: dict[str, Fraction] = {}
        for key in ("contract_size", "slippage_bps", "position_limit"):
            if key not in spec:
                continue
            path = ("venue", key)
            typed = self.translate(path, spec[key], frozenset({"param"}), f"venue {key}")
            if typed is None:
                continue
            value = constant_value(typed.expr)
            if not typed.type.numeric or value is None or isinstance(value, bool):
                self.err(path, f"venue {key} must be a number or an expression over params")
                continue
            if value < 0 or (key == "contract_size" and value == 0):
                bound = "positive" if key == "contract_size" else "at least 0"
                self.err(path, f"venue {key} must be {bound}, got {value}")
                continue
            values[key] = Fraction(value)
        return VenueSpec(**values)

    def instruments(self) -> list[Instrument]:
        """The ``instruments`` section (version 2): each name declared, and the built-in
        names of its book (``I.position``, ``I.open_buy``, ``I.open_sell`` as state,
        ``I.bought``, ``I.sold`` as inputs) made known to expressions."""
        section = self.data.get("instruments") or {}
        names = tuple(section)
        kind_of = instrument_type(names)
        found: list[Instrument] = []
        for index, (name, given) in enumerate(section.items()):
            spec = given or {}
            path: tuple[str | int, ...] = ("instruments", name)
            if not self.declare(name, path, Symbolic("instrument", kind_of, sympy.Integer(index))):
                continue
            qty = REAL if spec.get("qty") == "real" else INT
            self.instrument_qty[name] = qty
            for part in BUILTINS:
                full = book_name(name, part)
                role = "state" if part in BOOK_STATE else "input"
                self.names[full] = Symbolic(role, qty, _symbol(full, qty))
                self.name_paths[full] = path
            position: Value = 0
            if "position" in spec:
                value = self.constant((*path, "position"), spec["position"], "a position")
                if value is not None and not isinstance(value, bool):
                    if qty == INT and isinstance(value, Fraction) and value.denominator != 1:
                        self.err(
                            (*path, "position"),
                            f"position of '{name}' must be a whole number: its qty is int",
                        )
                    else:
                        position = int(value) if qty == INT else Fraction(value)
            size = Fraction(1)
            if "contract_size" in spec:
                value = self.constant((*path, "contract_size"), spec["contract_size"], "a size")
                if value is not None and not isinstance(value, bool):
                    if value <= 0:
                        self.err(
                            (*path, "contract_size"), f"contract_size must be positive, got {value}"
                        )
                    else:
                        size = Fraction(value)
            loc = self.doc.key_loc(path)
            found.append(
                Instrument(
                    name, qty, position, size, str(spec.get("doc", "")), loc.line, loc.column
                )
            )
        return found

    def constant(self, path: tuple[str | int, ...], value: Any, what: str) -> Value | None:
        """A number written as a literal or an expression over params."""
        typed = self.translate(path, value, frozenset({"param"}), what)
        if typed is None:
            return None
        found = constant_value(typed.expr)
        if not typed.type.numeric or found is None or isinstance(found, bool):
            self.err(path, f"{what} must be a number or an expression over params")
            return None
        return found

    def order_checks(self) -> list[Condition]:
        """The ``orders`` section: boolean expressions over params, state, inputs and the
        fields of the order checked (``instrument``, ``side``, ``qty``, ``price``, ``tif``),
        where string literals (and instrument names) are values of those fields."""
        section = self.data.get("orders") or {}
        if not section:
            return []
        names = tuple(self.instrument_qty)
        kind_of = instrument_type(names)
        typed = {v: Typed(sympy.Integer(i), SIDE) for i, v in enumerate(SIDE.values)}
        typed.update({v: Typed(sympy.Integer(i), TIF) for i, v in enumerate(TIF.values)})
        typed.update({v: Typed(sympy.Integer(i), kind_of) for i, v in enumerate(names)})
        any_real = any(q == REAL for q in self.instrument_qty.values())
        types = {
            "instrument": kind_of,
            "side": SIDE,
            "qty": REAL if any_real else INT,
            "price": REAL,
            "tif": TIF,
        }
        fields = {f: Symbolic("order", types[f], order_symbol(f)) for f in ORDER_FIELDS}
        clash = {f: self.name_paths[f] for f in ORDER_FIELDS if f in self.names}

        def resolve(name: str) -> Symbolic | None:
            if name in clash:
                line = self.doc.key_loc(clash[name]).line
                raise ExprError(
                    0,
                    f"in an order check '{name}' is the order's {name}, and the model also "
                    f"declares '{name}' (line {line}): rename that declaration",
                )
            if name in fields:
                if name == "instrument" and not names:
                    return None
                return fields[name]
            return self.resolve(name)

        checks: list[Condition] = []
        allowed = EXPRESSION_KINDS | {"order"}
        for name, value in section.items():
            path: tuple[str | int, ...] = ("orders", name)
            loc = self.doc.loc(path)
            if not self.within_budget(path):
                continue
            candidates = {**self.names, **fields}
            translator = Translator(
                resolve,
                allowed,
                "an order check",
                candidates,
                typed_strings=typed,
                clock_unit=self.unit,
            )
            try:
                result = translator.expression(_text(value))
                self.size += translator.size
            except ExprError as exc:
                self.errors.append(
                    locate(self.doc.file, loc.line, loc.column, loc.exact, exc.offset, exc.message)
                )
                continue
            if result.type != BOOL:
                self.err(path, f"an order check must be boolean, got {result.type}")
                continue
            self.note_nonlinear(result.expr, "an order check", loc.line, loc.column)
            checks.append(Condition(name, result.expr, _text(value), loc.line, loc.column))
        return checks

    def prover(self, name: str) -> Symbolic | None:
        if name in self.prover_done:
            return self.prover_done[name]
        if name in self.prover_stack:
            cycle = " -> ".join([*self.prover_stack[self.prover_stack.index(name) :], name])
            raise ExprError(0, f"provers refer to each other in a cycle: {cycle}")
        self.prover_stack.append(name)
        path: tuple[str | int, ...] = ("provers", name)
        try:
            typed = self.translate(path, self.prover_text[name], EXPRESSION_KINDS, "a prover")
        finally:
            self.prover_stack.pop()
        if typed is not None and typed.type != BOOL:
            self.err(path, f"a prover must be boolean, got {typed.type}")
            typed = None
        if typed is None:
            result = Symbolic("prover", BOOL, sympy.false)  # error already recorded
        else:
            names = {s.name for s in typed.expr.free_symbols}
            inputs = frozenset(
                n for n in names if n in self.names and self.names[n].kind == "input"
            )
            state = frozenset(names) - inputs
            result = Symbolic("prover", BOOL, typed.expr, inputs, state, typed.depth)
        self.prover_done[name] = result
        return result

    def steps(self) -> tuple[tuple[str, ...], dict[str, int], dict[str, int]]:
        steps: list[str] = []
        lines: dict[str, int] = {}
        columns: dict[str, int] = {}
        for i, step in enumerate(self.data["steps"]):
            if step in lines:
                self.err(("steps", i), f"step '{step}' is listed twice")
                continue
            steps.append(step)
            loc = self.doc.loc(("steps", i))
            lines[step], columns[step] = loc.line, loc.column
        return tuple(steps), lines, columns

    def step_ref(self, path: tuple[str | int, ...], step: str, steps: tuple[str, ...]) -> bool:
        if step in steps:
            return True
        self.err(path, f"unknown step '{step}'{hint(step, steps)}")
        return False

    def transition(
        self, index: int, spec: dict[str, Any], steps: tuple[str, ...], state: dict[str, Variable]
    ) -> Transition | None:
        base: tuple[str | int, ...] = ("transitions", index)
        ok = self.step_ref((*base, "from"), spec["from"], steps)
        ok = self.step_ref((*base, "to"), spec["to"], steps) and ok
        when_raw = spec.get("when", [])
        items = when_raw if isinstance(when_raw, list) else [when_raw]
        when: list[Condition] = []
        provers: list[str] = []
        for i, item in enumerate(items):
            path = (*base, "when", i) if isinstance(when_raw, list) else (*base, "when")
            text = _text(item).strip()
            is_prover = text in self.names and self.names[text].kind == "prover"
            cond = self.condition(path, text if is_prover else "", item, EXPRESSION_KINDS, "`when`")
            if cond is None:
                ok = False
                continue
            when.append(cond)
            if is_prover:
                provers.append(text)
        assigns: list[tuple[str, sympy.Basic]] = []
        for var, value in (spec.get("do") or {}).items():
            path = (*base, "do", var)
            if var not in state:
                kind = self.names.get(var)
                if "." in var and kind is not None:
                    self.err(
                        path,
                        f"`do` cannot assign '{var}': the checker keeps the book, and only "
                        "the fills and the actions sent change it",
                        key=True,
                    )
                    ok = False
                    continue
                if kind is not None and kind.kind == "state":
                    ok = False  # its declaration was bad and is reported already
                    continue
                reason = (
                    f"'{var}' is {article(kind.kind)}, not state"
                    if kind
                    else f"unknown state variable '{var}'{hint(var, state)}"
                )
                self.err(path, f"`do` assigns only state variables: {reason}", key=True)
                ok = False
                continue
            typed = self.translate(path, value, EXPRESSION_KINDS, "`do`")
            if typed is None:
                ok = False
                continue
            if not assignable(state[var].type, typed.type):
                extra = (
                    " (use an int expression or make it real)"
                    if state[var].type == INT and typed.type == REAL
                    else ""
                )
                self.err(
                    path,
                    f"cannot assign {typed.type} to '{var}', which is {state[var].type}{extra}",
                )
                ok = False
                continue
            assigns.append((var, typed.expr))
        actions: list[Action] = []
        for i, item in enumerate(spec.get("emit") or []):
            path = (*base, "emit", i)
            loc = self.doc.loc(path)
            if not self.within_budget(path):
                ok = False
                continue
            translator = Translator(
                self.resolve,
                EXPRESSION_KINDS,
                "an action",
                self.names,
                self.instrument_qty,
                clock_unit=self.unit,
            )
            try:
                call = translator.action(item)
                self.size += translator.size
            except ExprError as exc:
                message = exc.message + _flow_hint(item)
                self.errors.append(
                    locate(self.doc.file, loc.line, loc.column, loc.exact, exc.offset, message)
                )
                ok = False
                continue
            for _, arg in call.args:
                self.note_nonlinear(arg.expr, ACTION_ARGUMENT, loc.line, loc.column)
            actions.append(
                Action(
                    call.name,
                    tuple((k, v.expr) for k, v in call.args),
                    item,
                    call.instrument,
                    call.tif,
                    loc.line,
                    loc.column,
                )
            )
        if not ok:
            return None
        loc = self.doc.loc(base)
        return Transition(
            index,
            spec["from"],
            spec["to"],
            tuple(when),
            tuple(provers),
            tuple(actions),
            tuple(assigns),
            loc.line,
            loc.column,
        )

    # -- the whole file -----------------------------------------------------------------
    @property
    def unit(self) -> str | None:
        """The clock's unit, in which durations are read; None without a clock."""
        return None if self.clock is None else self.clock.unit

    def declare_clock(self) -> None:
        """The clock's input (an int, read by ``seqprove run`` from the data's time
        column), and the name of the assumption it adds; each window's name."""
        if self.clock is not None:
            clock = self.clock
            if clock.unit not in CLOCK_UNITS:
                self.err(("clock", "unit"), f"a clock counts in {', '.join(CLOCK_UNITS)}")
            if clock.input in (self.data.get("inputs") or {}):
                self.err(
                    ("inputs", clock.input),
                    f"'{clock.input}' is the clock's input, which the clock declares "
                    "(an int in the clock's unit): remove it from inputs",
                    key=True,
                )
            else:
                path: tuple[str | int, ...] = (
                    ("clock", "input") if "input" in (self.data["clock"]) else ("clock",)
                )
                symbol = _symbol(clock.input, INT)
                self.declare(clock.input, path, Symbolic("input", INT, symbol))
        for name in self.data.get("windows") or {}:
            if self.clock is None:
                self.err(("windows",), no_clock("windows need"), key=True)
                break
            self.declare(name, ("windows", name), Symbolic("window", INT, None))

    def read_windows(self, inputs: list[Variable]) -> None:
        """Each window's length, bound and what it aggregates (a sum over ``inputs``,
        none of them a venue flow)."""
        if self.clock is None:
            return  # windows without a clock are reported by declare_clock
        flow = {v.name for v in inputs if v.source in FLOW_SOURCES}
        for name, spec in (self.data.get("windows") or {}).items():
            found = self.names.get(name)
            if found is None or found.kind != "window":
                continue  # the name was refused or clashed, reported already
            path: tuple[str | int, ...] = ("windows", name)
            over = self.constant_int((*path, "over"), spec["over"], "a window's length")
            up_to = self.constant_int((*path, "up_to"), spec["up_to"], "a window's up_to")
            if over is not None and over <= 0:
                self.err((*path, "over"), f"a window's length must be positive, got {over}")
                over = None
            if up_to is not None and not 0 <= up_to < MAX_KEEP:
                self.err(
                    (*path, "up_to"),
                    f"up_to must be from 0 to {MAX_KEEP - 1} (the window keeps up_to + 1 "
                    f"events, each a state variable), got {up_to}",
                )
                up_to = None
            counted: str | None = None
            amount: sympy.Basic | None = None
            if "count" in spec:
                counted = str(spec["count"])
                if counted not in ACTIONS:
                    self.err(
                        (*path, "count"),
                        f"a window counts an action: {', '.join(sorted(ACTIONS))}"
                        f"{hint(counted, sorted(ACTIONS))}",
                    )
                    continue
            else:
                kinds = EXPRESSION_KINDS - {"window"}
                typed = self.translate((*path, "sum"), spec["sum"], kinds, "a window's sum")
                if typed is None:
                    continue
                if typed.type != INT:
                    self.err(
                        (*path, "sum"),
                        f"a window adds int amounts (it is exact because each event adds at "
                        f"least 1), got {typed.type}",
                    )
                    continue
                flows = sorted(flow & {str(x) for x in typed.expr.free_symbols})
                if flows:
                    self.err(
                        (*path, "sum"),
                        f"a window adds its amount at every tick, and {', '.join(flows)} "
                        "is delivered as what accumulated since the last transition that "
                        "read it: sum an instrument's fills (I.bought, I.sold) instead",
                    )
                    continue
                amount = typed.expr
            if over is None or up_to is None:
                continue
            loc = self.doc.key_loc(path)
            what = f"count: {counted}" if counted else f"sum: {_text(spec['sum'])}"
            self.windows[name] = Window(
                name, counted, amount, over, up_to, loc.line, loc.column,
                f"{what}, over {_text(spec['over'])}, up to {up_to}",
            )  # fmt: skip

    def constant_int(self, path: tuple[str | int, ...], value: Any, what: str) -> int | None:
        """An int constant: a literal, a duration or an expression over params."""
        typed = self.translate(path, value, frozenset({"param"}), what)
        if typed is None:
            return None
        found = constant_value(typed.expr)
        if typed.type != INT or not isinstance(found, int) or isinstance(found, bool):
            self.err(path, f"{what} must be an int constant (a duration, or over params)")
            return None
        return found

    def timed(
        self, state: list[Variable], transitions: list[Transition]
    ) -> tuple[list[Variable], list[Transition], list[Condition], list[Condition]]:
        """The clock's and the windows' state, the transitions that update it, the
        clock's assumption and each window's check ``exact:W`` (see
        :mod:`checker.lang.timing`)."""
        if self.clock is None or self.clock.input not in self.names:
            return state, transitions, [], []
        line = self.clock.line
        hidden = [Variable(CLOCK_LAST, INT, _symbol(CLOCK_LAST, INT), line, init=0)]
        for w in self.windows.values():
            hidden += [Variable(n, INT, _symbol(n, INT), w.line, init=-w.over) for n in w.times()]
            hidden += [Variable(n, INT, _symbol(n, INT), w.line, init=0) for n in w.amounts()]
        symbols = {v.name: v.symbol for v in hidden}
        now = _symbol(self.clock.input, INT)
        updated = []
        for t in transitions:  # the count windows; the rest is each tick's (tick_phase)
            extra: list[tuple[str, sympy.Basic]] = []
            for w in self.windows.values():
                if not w.is_sum:
                    events = sum(1 for a in t.emit if a.name == w.count)
                    extra += w.update(now, events, symbols)
            updated.append(dataclasses.replace(t, do=(*t.do, *extra)))
        text = f"{self.clock.input} >= {CLOCK_LAST}"
        assumption = Condition(
            CLOCK_ASSUMPTION,
            sympy.GreaterThan(now, symbols[CLOCK_LAST]),
            text,
            line,
            self.clock.column,
        )
        last = symbols[CLOCK_LAST]
        checks = [
            Condition(
                f"{EXACT}:{w.name}",
                sympy.LessThan(w.value(last, symbols), w.up_to),
                f"{w.name} <= {w.up_to}",
                w.line,
                w.column,
            )
            for w in self.windows.values()
        ]
        return [*state, *hidden], updated, [assumption], checks

    def build(self) -> Model:
        params = self.params()
        instruments = self.instruments()
        state_decl = self.variables("state")
        input_decl = self.variables("inputs")
        self.declare_clock()
        for name in self.data.get("orders") or {}:
            self.declare(name, ("orders", name), Symbolic("order-check", BOOL, None))
        for section, kind in (("assume", "assumption"), ("provers", "prover"), ("limits", "limit")):
            for name, value in (self.data.get(section) or {}).items():
                self.declare(name, (section, name), Symbolic(kind, BOOL, None))
                if kind == "prover":
                    self.prover_text[name] = _text(value)
        state = [*self.free, *self.state(state_decl)]
        inputs = self.inputs(input_decl)
        if self.clock is not None and self.clock.input in self.names:
            clock_input = self.clock.input
            loc = self.doc.key_loc(("clock",))
            inputs.insert(
                0,
                Variable(
                    clock_input,
                    INT,
                    _symbol(clock_input, INT),
                    loc.line,
                    "the clock, in " + self.clock.unit,
                    column=CLOCK_COLUMN,
                ),
            )
        self.read_windows(inputs)
        provers = []
        for name in self.prover_text:
            try:
                sym = self.prover(name)
            except ExprError as exc:
                self.err(("provers", name), exc.message)
                continue
            if sym is not None and name in self.prover_done:
                loc = self.doc.loc(("provers", name))
                assert sym.value is not None
                provers.append(
                    Condition(name, sym.value, self.prover_text[name], loc.line, loc.column)
                )
        assumptions = [
            c
            for name, value in (self.data.get("assume") or {}).items()
            if (
                c := self.condition(
                    ("assume", name), name, value, EXPRESSION_KINDS, "an assumption"
                )
            )
            is not None
        ]
        limit_kinds = frozenset({"param", "state", "prover", "enum-value", "window"})
        self.in_limit = True
        limits = [
            c
            for name, value in self.data["limits"].items()
            if (c := self.condition(("limits", name), name, value, limit_kinds, "a limit"))
            is not None
        ]
        self.in_limit = False
        steps, step_lines, step_columns = self.steps()
        initial = self.data["initial"]
        self.step_ref(("initial",), initial, steps)
        final: list[str] = []
        for i, step in enumerate(self.data.get("final") or []):
            if self.step_ref(("final", i), step, steps):
                if step in final:
                    self.err(("final", i), f"step '{step}' is listed twice")
                final.append(step)
        by_name = {v.name: v for v in state}
        transitions = []
        for index, spec in enumerate(self.data["transitions"]):
            t = self.transition(index, spec, steps, by_name)
            if t is not None:
                transitions.append(t)
        venue = self.venue()
        orders = self.order_checks()
        state, transitions, clocked, exact = self.timed(state, transitions)
        assumptions += clocked
        limits += exact
        if instruments:
            instruments = [
                dataclasses.replace(i, pending=_pending_sides(i.name, transitions))
                for i in instruments
            ]
            state += _book_state(instruments)
            inputs += _book_inputs(instruments)
            for key in ("contract_size", "position_limit"):
                if key in (self.data.get("venue") or {}):
                    self.err(
                        ("venue", key),
                        f"venue {key} is for a model without instruments: "
                        + (
                            "give each instrument its contract_size"
                            if key == "contract_size"
                            else "the run report reads each instrument's band from the limits"
                        ),
                        key=True,
                    )
        if self.errors:
            raise ModelError(self.errors)
        return Model(
            file=self.doc.file,
            strategy=self.data["strategy"],
            about=str(self.data.get("about", "")).strip(),
            source_sha256=self.digest,
            params=params,
            state=tuple(state),
            inputs=tuple(inputs),
            assumptions=tuple(assumptions),
            provers=tuple(provers),
            limits=tuple(limits),
            steps=steps,
            step_lines=step_lines,
            step_columns=step_columns,
            initial=initial,
            final=tuple(dict.fromkeys(final)),
            transitions=tuple(transitions),
            nonlinear=tuple(dict.fromkeys(self.nonlinear)),
            graph=step_graph(steps, tuple(transitions)),
            venue=venue,
            instruments=tuple(instruments),
            orders=tuple(orders),
            clock=self.clock,
            windows=tuple(self.windows.values()),
            param_defaults={
                name: entry["value"] if isinstance(entry, dict) else entry
                for name, entry in (self.data.get("params") or {}).items()
            },
            free=tuple(v.name for v in self.free),
        )


def _pending_sides(instrument: str, transitions: list[Transition]) -> tuple[str, ...]:
    """The sides of ``instrument`` on which a quantity can be pending: an action cancels
    orders there, or places an IOC (or market) order there. A side whose ``side=`` is an
    expression counts as both."""
    found: set[str] = set()
    for t in transitions:
        for a in t.emit:
            if a.name == "place":
                relevant = a.instrument == instrument and a.tif == "ioc"
            else:  # cancel and cancel_all (the latter without instrument= for every one)
                relevant = a.instrument in ("", instrument)
            if not relevant:
                continue
            side = a.arg("side")
            if isinstance(side, sympy.Integer):
                found.add(SIDES[int(side)])
            else:
                found.update(SIDES)
    return tuple(s for s in SIDES if s in found)


def _book_state(instruments: list[Instrument]) -> list[Variable]:
    """The state the semantics keeps for each instrument: position, open quantities and,
    on the sides that can have one, the pending quantity (after the declared state)."""
    found = []
    for i in instruments:
        names = [book_name(i.name, p) for p in BOOK_STATE]
        names += [pending_name(i.name, side) for side in i.pending]
        for name in names:
            init = i.position if name.endswith(".position") else i.qty_zero()
            found.append(
                Variable(name, i.qty, _symbol(name, i.qty), i.line, init=init, instrument=i.name)
            )
    return found


def _book_inputs(instruments: list[Instrument]) -> list[Variable]:
    """The fills the market chooses for each instrument (after the declared inputs; the
    hidden part on pending orders first, so that a tick's inputs can be drawn in order)."""
    found = []
    for i in instruments:
        names = [fill_pending_name(i.name, side) for side in i.pending]
        names += [book_name(i.name, p) for p in BOOK_INPUTS]
        for name in names:
            found.append(
                Variable(
                    name,
                    i.qty,
                    _symbol(name, i.qty),
                    i.line,
                    low=0,
                    source="fills",
                    instrument=i.name,
                )
            )
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        # a decimal in the file is a real, even when it is whole (2.0)
        return f"({value.numerator} / {value.denominator})"
    return str(value)


def _written(value: Any) -> str:
    """A range bound as the model file writes it: a param's name, or a number (a decimal
    as its exact decimal text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return decimal_text(value)
    return str(value)


def _flow_hint(text: str) -> str:
    """A hint for text cut short by YAML: in a flow list ``[a, min(b, c)]`` the commas
    split items, so a call or parenthesis is left unbalanced."""
    if text.count("(") == text.count(")"):
        return ""
    return (
        " (in a flow list [...] YAML splits items at commas: write the list as a block "
        "list, one `- item` per line, or quote the item)"
    )
