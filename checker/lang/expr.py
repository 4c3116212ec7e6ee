"""Expressions: Python's ``ast`` under a strict whitelist, translated to typed sympy.

Nothing here evaluates Python code: the text is parsed with ``ast.parse`` and every node
kind outside the language is refused with its name and position. Params are replaced by
their exact values as they are read, so a translated expression mentions only state and
input symbols; enum values become their index in their enum.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import io
import tokenize
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy

from checker.errors import Diagnostic
from checker.lang.numbers import MAX_DIGITS, NumberTooLarge, check_size, read_number
from checker.lang.timing import CLOCK_EXAMPLE, UNITS, DurationError, substitute
from checker.lang.validate import hint
from checker.types import BOOL, INT, REAL, SIDE, TIF, Type, join_numeric

MAX_NESTING = 100
"""Deepest nesting of an expression: operators, calls, comparisons and ``if ... else``
inside one another, a prover's own nesting counted where its name is used. Deeper
expressions are refused before anything is built from them (the solver's and sympy's
walks over an expression are recursive)."""

MAX_SIZE = 1000
"""Most parts (operators, operands, calls, comparisons) one expression may have."""

MAX_FILE_SIZE = 5_000
"""Most parts all the expressions of one file may have together: building the solver's
terms costs about a millisecond a part, so this bounds the time a file takes to load."""

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Every character ``str.splitlines`` breaks a line at: in an expression each is a blank
(a YAML double-quoted scalar can hold any of them as an escape)."""

_BLANKS = str.maketrans(dict.fromkeys(LINE_BREAKS + "\t", " "))

KEYWORDS = frozenset({"true", "false", "True", "False", "and", "or", "not", "if", "else"})
FUNCTIONS = frozenset({"abs", "min", "max", "time_of_day", "day_start"})
ACTIONS = frozenset({"place", "cancel", "cancel_all"})
BUILTINS = ("position", "open_buy", "open_sell", "bought", "sold")
"""The names ``I.NAME`` every instrument ``I`` has (language version 2)."""

_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "the walrus operator `:=`",
    ast.Pow: "`**`",
    ast.FloorDiv: "`//`",
    ast.Mod: "`%`",
    ast.MatMult: "`@`",
    ast.BitAnd: "`&` (write `and`)",
    ast.BitOr: "`|` (write `or`)",
    ast.BitXor: "`^`",
    ast.LShift: "`<<`",
    ast.RShift: "`>>`",
    ast.Invert: "`~` (write `not`)",
    ast.Is: "`is` (write `==`)",
    ast.IsNot: "`is not` (write `!=`)",
    ast.In: "`in`",
    ast.NotIn: "`not in`",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Starred: "`*` unpacking",
    ast.JoinedStr: "f-strings",
    ast.Await: "`await`",
    ast.Yield: "`yield`",
    ast.YieldFrom: "`yield`",
    ast.Slice: "slices",
}


class ExprError(Exception):
    """A problem at a character offset of the expression text."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Symbolic:
    """What a name stands for: its sympy value, type and kind."""

    kind: str  # param | free-param | state | input | prover | enum-value | assumption |
    # limit | instrument | order (a field of the order an order check reads)
    type: Type
    value: sympy.Basic | None  # None for names that cannot be used in expressions
    inputs: frozenset[str] = frozenset()  # for provers: the inputs they read
    state: frozenset[str] = frozenset()  # for provers: the state they read
    depth: int = 0  # for provers: the nesting of their expression


@dataclass(frozen=True)
class Typed:
    expr: sympy.Basic
    type: Type
    depth: int = 0  # the nesting of the whole expression (set by Translator.expression)


@dataclass(frozen=True)
class ActionCall:
    """An action of ``emit`` with its arguments translated."""

    name: str
    args: tuple[tuple[str, Typed], ...]
    instrument: str = ""  # version 2: the instrument it goes to ("" : every one)
    tif: str = "gtc"  # version 2: a place's time in force ("ioc" for a market order)


Resolver = Callable[[str], Symbolic | None]


def _offset(node: ast.AST) -> int:
    """Where ``node`` starts, in UTF-8 bytes of the parsed text (converted to characters
    by :meth:`Source.chars` before a message is located)."""
    return int(getattr(node, "col_offset", 0))


@dataclass(frozen=True)
class Source:
    """An expression's text as parsed: on one line (every line break and tab a blank, so
    character offsets are those of the text given) with the leading blanks, ``lead``
    characters of them, removed."""

    text: str
    lead: int
    parsed: str | None = None
    """The text given to the parser when it differs from ``text`` (durations written as
    the integers they stand for), with ``origin``: for each of its characters, the
    offset of the character of ``text`` it comes from."""
    origin: tuple[int, ...] = ()

    @property
    def code(self) -> str:
        """The text the parser reads."""
        return self.text if self.parsed is None else self.parsed

    @functools.cached_property
    def _char_at_byte(self) -> list[int] | None:
        """The character offset in ``text`` of each UTF-8 byte offset of the parsed text,
        or None where they are the same (ASCII text, nothing substituted)."""
        code = self.code
        if code.isascii() and self.parsed is None:
            return None
        table: list[int] = []
        for i, char in enumerate(code):
            where = self.origin[i] if self.parsed is not None else i
            table += [where] * len(char.encode("utf-8"))
        table.append(len(self.text))
        return table

    def char(self, index: int) -> int:
        """The offset in ``text`` of character ``index`` of the parsed text."""
        if self.parsed is None:
            return index
        return self.origin[index] if index < len(self.origin) else len(self.text)

    def chars(self, col: int) -> int:
        """The character offset of the UTF-8 byte offset ``col`` (ast's offsets)."""
        table = self._char_at_byte
        if table is None:
            return col
        return table[min(col, len(table) - 1)]

    def segment(self, node: ast.AST) -> str:
        """The exact text of ``node``."""
        start = self.chars(_offset(node))
        end = self.chars(int(getattr(node, "end_col_offset", 0) or 0))
        return self.text[start:end]


def _literal_value(text: str) -> int | Fraction | None:
    """The exact value of a numeric literal's text; None for forms the language does not
    read as decimals (``0x1F``, ``1j``).

    Raises
    ------
    NumberTooLarge
        When the literal is beyond the bounds of :mod:`checker.lang.numbers`.
    """
    plain = text.replace("_", "")
    value = read_number(plain)
    if value is None and len(plain) - 2 > MAX_DIGITS:  # 0x..., 0o..., 0b...
        raise NumberTooLarge(
            f"number with {len(plain) - 2} digits: at most {MAX_DIGITS} digits are allowed"
        )
    return value


def _check_literals(source: Source) -> None:
    """Refuse a numeric literal beyond the bounds before Python converts it (``int`` of
    more than 4,300 digits fails, and ``1e999999999`` would be a billion digits)."""
    tokens = tokenize.generate_tokens(io.StringIO(source.code).readline)
    try:
        for token in tokens:
            if token.type == tokenize.NUMBER:
                try:
                    _literal_value(token.string)
                except NumberTooLarge as exc:
                    raise ExprError(source.lead + source.char(token.start[1]), str(exc)) from None
    except (tokenize.TokenError, SyntaxError):
        return  # the text is no expression: ast.parse says where


def _check_shape(tree: ast.expr, source: Source) -> int:
    """Refuse nesting beyond :data:`MAX_NESTING`, at the first node too deep, and more than
    :data:`MAX_SIZE` parts; walked with a stack, since the tree may be deeper than Python's
    recursion allows. Returns the number of parts."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    size = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            size += 1
            if size > MAX_SIZE:
                raise ExprError(
                    source.lead + source.chars(_offset(node)),
                    f"expression of more than {MAX_SIZE} parts (operators, operands, "
                    "calls); refused",
                )
        if depth > MAX_NESTING:
            raise ExprError(
                source.lead + source.chars(_offset(node)),
                f"expression nested deeper than {MAX_NESTING} levels; refused",
            )
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1 if isinstance(child, ast.expr) else depth))
    return size


def _check_ascii(tree: ast.expr, source: Source) -> None:
    """Refuse a non-ASCII character outside string literals: Python folds identifiers by
    NFKC (fullwidth letters to ASCII, the ligature U+FB01 to ``fi``), and names are ASCII."""
    if source.text.isascii():
        return
    inside = bytearray(len(source.text))  # 1 where a string literal is
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr) or (
            isinstance(n, ast.Constant) and isinstance(n.value, str)
        ):
            start, end = source.chars(_offset(n)), source.chars(int(n.end_col_offset or 0))
            inside[start:end] = b"\x01" * (end - start)
    for i, char in enumerate(source.text):
        if ord(char) > 127 and not inside[i]:
            raise ExprError(
                source.lead + i,
                f"non-ASCII character '{char}' (U+{ord(char):04X}) outside a string: "
                "names and operators are ASCII",
            )


def _parse(text: str, clock_unit: str | None = None) -> tuple[ast.expr, Source, int]:
    """The expression's syntax tree, the text it was parsed from (node offsets count from
    its start, in UTF-8 bytes) and its number of parts. Durations (``1s``) become the
    integers they stand for in ``clock_unit``, and are refused when there is no clock."""
    flat = text.translate(_BLANKS)
    if "\x00" in flat:
        raise ExprError(flat.index("\x00"), "expression contains a NUL character")
    body = flat.lstrip()
    lead = len(flat) - len(body)
    try:
        found = substitute(body, clock_unit)
    except DurationError as exc:
        raise ExprError(lead + exc.offset, exc.message) from None
    source = (
        Source(body, lead)
        if found is None
        else Source(body, lead, parsed=found[0], origin=tuple(found[1]))
    )
    if not body.strip():
        raise ExprError(0, "empty expression")
    _check_literals(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning: "1if x else 2"
            tree = ast.parse(source.code, mode="eval").body
    except SyntaxError as exc:
        offset = max((exc.offset or 1) - 1, 0)
        raise ExprError(source.lead + source.char(offset), f"syntax error: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError(0, f"expression nested deeper than {MAX_NESTING} levels; refused") from None
    size = _check_shape(tree, source)
    _check_ascii(tree, source)
    return tree, source, size


class Translator:
    """Translate one expression text against a scope of names.

    Parameters
    ----------
    resolve
        Looks a name up in the model; returns None for an unknown name.
    allowed
        The kinds of names this context may refer to (for example params and state in a
        limit).
    context
        Words naming the context, used in messages ("a limit").
    candidates
        Names offered as hints for a typo.
    instruments
        The model's instruments (version 2), which actions name with ``instrument=``;
        ``qty`` maps each to the type of its quantities.
    typed_strings
        Whether string literals stand for values of the order's fields (``"buy"``,
        ``"ioc"``, an instrument's name), as in an order check.
    clock_unit
        The unit of the model's clock, in which durations (``1s``) are read; None when
        the model has no clock (a duration is then refused).
    """

    def __init__(
        self,
        resolve: Resolver,
        allowed: frozenset[str],
        context: str,
        candidates: Mapping[str, Symbolic],
        instruments: Mapping[str, Type] | None = None,
        typed_strings: Mapping[str, Typed] | None = None,
        clock_unit: str | None = None,
    ) -> None:
        self.resolve = resolve
        self.clock_unit = clock_unit
        self.allowed = allowed
        self.context = context
        self.candidates = candidates
        self.instruments = dict(instruments or {})
        self.typed_strings = dict(typed_strings or {})
        self.source = Source("", 0)
        self.level = 0  # nesting of the node being visited
        self.deepest = 0
        self.size = 0  # parts of the expression read

    # -- entry points -----------------------------------------------------------------
    def expression(self, text: str) -> Typed:
        node, self.source, self.size = _parse(text, self.clock_unit)
        try:
            result = self.visit(node)
        except ExprError as exc:
            raise self._located(exc) from None
        return dataclasses.replace(result, depth=self.deepest)

    def action(self, text: str) -> ActionCall:
        node, self.source, self.size = _parse(text, self.clock_unit)
        try:
            return self._action(node)
        except ExprError as exc:
            raise self._located(exc) from None

    def _located(self, error: ExprError) -> ExprError:
        """``error`` at a character offset of the text given (visitors raise at ast's
        byte offsets into the parsed text)."""
        return ExprError(self.source.lead + self.source.chars(error.offset), error.message)

    def _action(self, node: ast.expr) -> ActionCall:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ExprError(_offset(node), "an action is place(...), cancel(...) or cancel_all()")
        name = node.func.id
        if name not in ACTIONS:
            raise ExprError(
                _offset(node),
                f"unknown action '{name}'{hint(name, ACTIONS)}; "
                "actions are place, cancel and cancel_all",
            )
        if node.args:
            raise ExprError(
                _offset(node.args[0]),
                f"{name}() takes keyword arguments only (write side=..., qty=...)",
            )
        versioned = {"instrument"} if self.instruments else set()
        spec = {
            "place": ({"side", "qty"}, {"price"} | versioned | ({"tif"} if versioned else set())),
            "cancel": ({"side"}, versioned),
            "cancel_all": (set(), versioned),
        }[name]
        required, optional = spec
        args: list[tuple[str, Typed]] = []
        seen: set[str] = set()
        for kw in node.keywords:
            if kw.arg is None:
                raise ExprError(_offset(kw.value), "`**` unpacking is not allowed")
            if kw.arg in ("instrument", "tif") and not self.instruments:
                raise ExprError(
                    _offset(kw.value),
                    f"{name}() takes {kw.arg}= only in a model that declares `instruments` "
                    "(language version 2)",
                )
            if kw.arg not in required | optional:
                known = sorted(required | optional)
                raise ExprError(
                    _offset(kw.value),
                    f"{name}() has no argument '{kw.arg}'"
                    f"{hint(kw.arg, known)}; it takes "
                    f"{', '.join(known) if known else 'none'}",
                )
            if kw.arg in seen:
                raise ExprError(_offset(kw.value), f"argument '{kw.arg}' given twice")
            seen.add(kw.arg)
            if kw.arg == "instrument":
                value = self._instrument(kw.value)
            elif kw.arg == "tif":
                value = self._tif(kw.value)
            else:
                value = self.visit(kw.value, strings=kw.arg == "side")
            if kw.arg == "side" and value.type != SIDE:
                raise ExprError(
                    _offset(kw.value),
                    'side must be "buy" or "sell" (or an expression choosing between them)',
                )
            if kw.arg in ("qty", "price") and not value.type.numeric:
                raise ExprError(_offset(kw.value), f"{kw.arg} must be a number, not {value.type}")
            args.append((kw.arg, value))
        missing = sorted(required - seen)
        if missing:
            raise ExprError(_offset(node), f"{name}() needs {', '.join(missing)}")
        if len(self.instruments) > 1 and "instrument" not in seen and name != "cancel_all":
            raise ExprError(
                _offset(node),
                f"{name}() needs instrument=: the model trades {', '.join(self.instruments)}",
            )
        target = next((v for k, v in args if k == "instrument"), None)
        instrument = (
            self.instruments_named()[int(target.expr)]
            if target is not None
            else next(iter(self.instruments))
            if len(self.instruments) == 1
            else ""
        )
        qty = next((v for k, v in args if k == "qty"), None)
        if (
            instrument
            and qty is not None
            and self.instruments[instrument] == INT
            and qty.type != INT
        ):
            where = next(kw.value for kw in node.keywords if kw.arg == "qty")
            raise ExprError(
                _offset(where),
                f"qty must be an int expression: instrument '{instrument}' trades whole "
                f"units (qty: int), and this is {qty.type}",
            )
        tif = next((TIF.values[int(v.expr)] for k, v in args if k == "tif"), "gtc")
        if name == "place" and "price" not in seen:
            if "tif" in seen and tif == "gtc":
                where = next(kw.value for kw in node.keywords if kw.arg == "tif")
                raise ExprError(
                    _offset(where),
                    'a market order (no price) cannot rest: it is always "ioc"; give a '
                    'price for a "gtc" order, or drop tif=',
                )
            tif = "ioc"  # a market order fills at the next fill phase or not at all
        kept = tuple((k, v) for k, v in args if k not in ("instrument", "tif"))
        return ActionCall(name, kept, instrument, tif if name == "place" else "gtc")

    def instruments_named(self) -> tuple[str, ...]:
        return tuple(self.instruments)

    def _instrument(self, node: ast.expr) -> Typed:
        """The instrument an action names: a declared instrument's bare name, or the
        name as a string."""
        names = self.instruments_named()
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        else:
            raise ExprError(
                _offset(node), f"instrument= takes one instrument's name ({', '.join(names)})"
            )
        if name not in names:
            raise ExprError(
                _offset(node),
                f"unknown instrument '{name}'{hint(name, names)}; "
                f"the model declares {', '.join(names)}",
            )
        return Typed(sympy.Integer(names.index(name)), Type("enum", "instrument", names))

    def _tif(self, node: ast.expr) -> Typed:
        if not (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in TIF.values
        ):
            raise ExprError(_offset(node), 'tif must be "gtc" or "ioc"')
        return Typed(sympy.Integer(TIF.values.index(node.value)), TIF)

    # -- visitors -----------------------------------------------------------------------
    def visit(self, node: ast.AST, *, strings: bool = False) -> Typed:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise ExprError(_offset(node), self._unsupported(node))
        self.level += 1
        self.deepest = max(self.deepest, self.level)
        try:
            result: Typed = method(node, strings)
        finally:
            self.level -= 1
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            self._bounded(node, result.expr)
        return result

    def _bounded(self, node: ast.AST, expr: sympy.Basic) -> None:
        """Refuse a constant that arithmetic at load made too large (sympy folds
        ``1e1000 * 1e1000`` and the coefficients of ``2 * (3 * x)`` as it builds them)."""
        for term in sympy.Add.make_args(expr):
            for factor in sympy.Mul.make_args(term):
                if isinstance(factor, sympy.Rational):
                    try:
                        check_size(Fraction(int(factor.p), int(factor.q)))
                    except NumberTooLarge as exc:
                        raise ExprError(_offset(node), str(exc)) from None

    def _unsupported(self, node: ast.AST) -> str:
        construct = _CONSTRUCTS.get(type(node), type(node).__name__)
        return f"not part of the expression language: {construct}"

    def visit_Constant(self, node: ast.Constant, strings: bool) -> Typed:
        value = node.value
        if isinstance(value, bool):
            return Typed(sympy.true if value else sympy.false, BOOL)
        if isinstance(value, int | float | complex):
            # the value is read from the literal's own text, never from Python's float
            try:
                exact = _literal_value(self.source.segment(node))
                if exact is None and isinstance(value, int):
                    check_size(value)  # 0x1F, 0o17, 0b101: Python's int is exact
                    exact = value
            except NumberTooLarge as exc:
                raise ExprError(_offset(node), str(exc)) from None
            if isinstance(exact, int):
                return Typed(sympy.Integer(exact), INT)
            if isinstance(exact, Fraction):
                return Typed(sympy.Rational(exact.numerator, exact.denominator), REAL)
            raise ExprError(_offset(node), "not part of the expression language: imaginary numbers")
        if isinstance(value, str):
            if strings and value in SIDE.values:
                return Typed(sympy.Integer(SIDE.values.index(value)), SIDE)
            if value in self.typed_strings:
                return self.typed_strings[value]
            where = 'a side, "buy" or "sell"' if strings else "an action's side argument"
            raise ExprError(_offset(node), f"a string is allowed only as {where}; got {value!r}")
        raise ExprError(_offset(node), f"not part of the expression language: {value!r}")

    def visit_Name(self, node: ast.Name, strings: bool) -> Typed:
        name = node.id
        found = self.resolve(name) if name not in KEYWORDS | FUNCTIONS | ACTIONS else None
        if found is not None and found.kind == "prover":
            depth = self.level - 1 + found.depth  # the prover's tree stands for the name
            if depth > MAX_NESTING:
                raise ExprError(
                    _offset(node),
                    f"expression nested deeper than {MAX_NESTING} levels once prover "
                    f"'{name}' ({found.depth} levels) stands in it; refused",
                )
            self.deepest = max(self.deepest, depth)
        if name in ("true", "True"):
            return Typed(sympy.true, BOOL)
        if name in ("false", "False"):
            return Typed(sympy.false, BOOL)
        if name in FUNCTIONS or name in ACTIONS:
            raise ExprError(_offset(node), f"'{name}' is a function; call it")
        if found is None:
            usable = [n for n, s in self.candidates.items() if s.kind in self.allowed]
            raise ExprError(_offset(node), f"unknown name '{name}'{hint(name, usable)}")
        if found.kind == "instrument" and name not in self.typed_strings:
            raise ExprError(
                _offset(node),
                f"'{name}' is an instrument: write one of its names ({name}.position, "
                f"{name}.open_buy, ...), or name it with instrument= in an action",
            )
        if found.kind == "instrument":
            return self.typed_strings[name]
        if found.kind in ("assumption", "limit"):
            raise ExprError(
                _offset(node),
                f"'{name}' is {article(found.kind)}; only params, "
                "state, inputs, provers and enum values can be "
                "used in expressions",
            )
        if found.kind == "free-param" and not {"state", "free-param"} & self.allowed:
            raise ExprError(
                _offset(node),
                f"{self.context} needs a constant, and param '{name}' is left free "
                "(--param-range): give it a value with --param instead",
            )
        if found.kind not in self.allowed and found.kind != "free-param":
            raise ExprError(
                _offset(node), f"{self.context} cannot refer to {article(found.kind)} ('{name}')"
            )
        if found.kind == "prover" and "input" not in self.allowed and found.inputs:
            raise ExprError(
                _offset(node),
                f"{self.context} cannot refer to inputs, and "
                f"prover '{name}' reads "
                f"{', '.join(sorted(found.inputs))}",
            )
        if found.kind == "prover" and "state" not in self.allowed and found.state:
            raise ExprError(
                _offset(node),
                f"{self.context} cannot refer to state, and "
                f"prover '{name}' reads "
                f"{', '.join(sorted(found.state))}",
            )
        assert found.value is not None
        return Typed(found.value, found.type)

    def visit_Attribute(self, node: ast.Attribute, strings: bool) -> Typed:
        """``I.NAME``: a built-in name of instrument ``I`` (version 2), and nothing else."""
        base = node.value
        found = self.resolve(base.id) if isinstance(base, ast.Name) else None
        if found is None or found.kind != "instrument":
            raise ExprError(
                _offset(node),
                "not part of the expression language: attribute access (only an "
                "instrument's built-in names are written with a dot, such as perp.position)",
            )
        assert isinstance(base, ast.Name)
        if node.attr not in BUILTINS:
            raise ExprError(
                _offset(node),
                f"instrument '{base.id}' has no '{node.attr}'{hint(node.attr, BUILTINS)}; "
                f"its names are {', '.join(f'{base.id}.{b}' for b in BUILTINS)}",
            )
        return self.visit_Name(
            ast.Name(f"{base.id}.{node.attr}", col_offset=_offset(node)), strings
        )

    def visit_UnaryOp(self, node: ast.UnaryOp, strings: bool) -> Typed:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            self._want_bool(node.operand, operand, "not")
            return Typed(sympy.Not(operand.expr), BOOL)
        if isinstance(node.op, ast.USub | ast.UAdd):
            self._want_number(node.operand, operand, "unary minus")
            expr = -operand.expr if isinstance(node.op, ast.USub) else operand.expr
            return Typed(expr, operand.type)
        raise ExprError(_offset(node), self._unsupported(node.op))

    def visit_BinOp(self, node: ast.BinOp, strings: bool) -> Typed:
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            raise ExprError(_offset(node), self._unsupported(node.op))
        left = self.visit(node.left)
        right = self.visit(node.right)
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}[type(node.op)]
        self._want_number(node.left, left, f"`{symbol}`")
        self._want_number(node.right, right, f"`{symbol}`")
        a, b = left.expr, right.expr
        if isinstance(node.op, ast.Add):
            return Typed(a + b, join_numeric(left.type, right.type))
        if isinstance(node.op, ast.Sub):
            return Typed(a - b, join_numeric(left.type, right.type))
        if isinstance(node.op, ast.Mult):
            return Typed(a * b, join_numeric(left.type, right.type))
        if b.free_symbols:
            raise ExprError(
                _offset(node.right),
                "the divisor must be a constant expression over params and literals",
            )
        if b == 0:
            raise ExprError(_offset(node.right), "division by zero")
        return Typed(a / b, REAL)

    def visit_BoolOp(self, node: ast.BoolOp, strings: bool) -> Typed:
        parts = [self.visit(v) for v in node.values]
        word = "and" if isinstance(node.op, ast.And) else "or"
        for v, p in zip(node.values, parts, strict=True):
            self._want_bool(v, p, f"`{word}`")
        exprs = [p.expr for p in parts]
        return Typed(sympy.And(*exprs) if word == "and" else sympy.Or(*exprs), BOOL)

    def visit_Compare(self, node: ast.Compare, strings: bool) -> Typed:
        operands = [node.left, *node.comparators]
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) in _CONSTRUCTS:
                raise ExprError(_offset(right), self._unsupported(op))
        typed = [self.visit(o, strings=strings) for o in operands]
        links: list[sympy.Basic] = []
        for i, op in enumerate(node.ops):
            links.append(self._compare(op, operands[i], typed[i], operands[i + 1], typed[i + 1]))
        return Typed(sympy.And(*links), BOOL)

    def _compare(
        self, op: ast.cmpop, ln: ast.AST, left: Typed, rn: ast.AST, right: Typed
    ) -> sympy.Basic:
        if isinstance(op, ast.Eq | ast.NotEq):
            eq = isinstance(op, ast.Eq)
            if left.type.numeric and right.type.numeric:
                return sympy.Eq(left.expr, right.expr) if eq else sympy.Ne(left.expr, right.expr)
            if left.type == BOOL and right.type == BOOL:
                iff = sympy.Equivalent(left.expr, right.expr)
                return iff if eq else sympy.Not(iff)
            if left.type.kind == "enum" and left.type == right.type:
                return sympy.Eq(left.expr, right.expr) if eq else sympy.Ne(left.expr, right.expr)
            raise ExprError(_offset(rn), f"cannot compare {left.type} with {right.type}")
        if not isinstance(op, ast.Lt | ast.LtE | ast.Gt | ast.GtE):
            raise ExprError(_offset(rn), self._unsupported(op))
        self._want_number(ln, left, "an ordering comparison")
        self._want_number(rn, right, "an ordering comparison")
        cls = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge}
        result: sympy.Basic = cls[type(op)](left.expr, right.expr)
        return result

    def visit_IfExp(self, node: ast.IfExp, strings: bool) -> Typed:
        cond = self.visit(node.test)
        self._want_bool(node.test, cond, "a condition")
        yes = self.visit(node.body, strings=strings)
        no = self.visit(node.orelse, strings=strings)
        if yes.type.numeric and no.type.numeric:
            kind = join_numeric(yes.type, no.type)
        elif yes.type == no.type:
            kind = yes.type
        else:
            raise ExprError(
                _offset(node.orelse),
                f"both branches must have one type; got {yes.type} and {no.type}",
            )
        if kind == BOOL:
            return Typed(sympy.ITE(cond.expr, yes.expr, no.expr), BOOL)
        return Typed(sympy.Piecewise((yes.expr, cond.expr), (no.expr, True)), kind)

    def visit_Call(self, node: ast.Call, strings: bool) -> Typed:
        if not isinstance(node.func, ast.Name):
            if type(node.func) in _CONSTRUCTS:
                raise ExprError(_offset(node.func), self._unsupported(node.func))
            raise ExprError(
                _offset(node), "only abs, min, max, time_of_day and day_start can be called"
            )
        name = node.func.id
        if name in ACTIONS:
            raise ExprError(_offset(node), f"the action {name}() belongs in `emit`")
        if name not in FUNCTIONS:
            raise ExprError(
                _offset(node),
                f"unknown function '{name}'{hint(name, FUNCTIONS)}; functions are abs, min, "
                "max, time_of_day and day_start",
            )
        if node.keywords:
            raise ExprError(_offset(node), f"{name}() takes no keyword arguments")
        args = [self.visit(a) for a in node.args]
        for a, t in zip(node.args, args, strict=True):
            self._want_number(a, t, f"{name}()")
        if name in ("time_of_day", "day_start"):
            return self._of_day(node, name, args)
        if name == "abs":
            if len(args) != 1:
                raise ExprError(_offset(node), "abs() takes exactly one argument")
            return Typed(sympy.Abs(args[0].expr), args[0].type)
        if len(args) < 2:
            raise ExprError(_offset(node), f"{name}() takes two or more arguments")
        kind = REAL if any(a.type == REAL for a in args) else INT
        fn = sympy.Min if name == "min" else sympy.Max
        return Typed(fn(*(a.expr for a in args)), kind)

    def _of_day(self, node: ast.Call, name: str, args: list[Typed]) -> Typed:
        """``time_of_day(t)``: the time since the start of ``t``'s day (UTC), in the
        clock's unit; ``day_start(t)``: the time that day started. ``t`` is an int in the
        clock's unit (the clock's input, or a time over it)."""
        if self.clock_unit is None:
            raise ExprError(
                _offset(node), f"{name}() reads a time: declare a clock, such as {CLOCK_EXAMPLE}"
            )
        if len(args) != 1 or args[0].type != INT:
            raise ExprError(_offset(node), f"{name}() takes one int argument, a time")
        day = sympy.Integer(UNITS["d"] // UNITS[self.clock_unit])
        of_day = sympy.Mod(args[0].expr, day)
        return Typed(of_day if name == "time_of_day" else args[0].expr - of_day, INT)

    # -- checks -------------------------------------------------------------------------
    def _want_bool(self, node: ast.AST, value: Typed, where: str) -> None:
        if value.type != BOOL:
            raise ExprError(_offset(node), f"{where} needs a boolean, got {value.type}")

    def _want_number(self, node: ast.AST, value: Typed, where: str) -> None:
        if not value.type.numeric:
            raise ExprError(_offset(node), f"{where} needs a number, got {value.type}")


def article(kind: str) -> str:
    """A kind of name in words, with its article (\"an input\")."""
    return {
        "instrument": "an instrument",
        "order": "a field of the order",
        "assumption": "an assumption",
        "input": "an input",
        "enum-value": "an enum value",
        "limit": "a limit",
        "param": "a param",
        "free-param": "a free param",
        "prover": "a prover",
        "state": "state",
        "window": "a window",
        "order-check": "an order check",
    }.get(kind, kind)


def locate(file: str, line: int, column: int, exact: bool, offset: int, message: str) -> Diagnostic:
    """A diagnostic at ``offset`` characters into an expression that starts at
    ``line``:``column``; inexact positions (multi-line text) point at its start."""
    return Diagnostic(file, line, column + offset if exact else column, message)
