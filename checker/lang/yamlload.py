"""Load YAML into plain data while keeping the position of every key and value.

The file is composed (never constructed) with ruamel.yaml, so no YAML tag can build a
Python object, and each scalar is resolved here from its text: numbers become ``int``
or exact ``fractions.Fraction`` (``0.1`` is one tenth, ``1e-3`` is a number even where
YAML 1.1 would read text). Anchors and aliases are allowed; sizes, nesting depth and
alias expansion are bounded so that a hostile file is refused, not obeyed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from checker.errors import Diagnostic, ModelError
from checker.lang.numbers import MAX_DIGITS, NumberTooLarge, check_size, read_number

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 20_000

Path = tuple[str | int, ...]

_INT_OTHER = re.compile(r"0o[0-7]+|0x[0-9a-fA-F]+")
_YAML_TAG = "tag:yaml.org,2002:"
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


@dataclass(frozen=True)
class Loc:
    """A 1-based position. ``exact`` is true when columns inside the value's text map
    one to one onto the file (a single-line scalar), so a sub-expression can be located."""

    line: int
    column: int
    exact: bool = False


@dataclass
class Document:
    """Plain data (dict, list, str, int, Fraction, bool, None) with positions by path."""

    file: str
    data: Any
    values: dict[Path, Loc] = field(default_factory=dict)
    keys: dict[Path, Loc] = field(default_factory=dict)

    def loc(self, path: Path) -> Loc:
        """Position of the value at ``path``, or of its nearest located ancestor."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Loc(1, 1))

    def key_loc(self, path: Path) -> Loc:
        """Position of the key that names the value at ``path`` (the value if none)."""
        return self.keys.get(path) or self.loc(path)

    def error(self, path: Path, message: str, *, key: bool = False) -> Diagnostic:
        loc = self.key_loc(path) if key else self.loc(path)
        return Diagnostic(self.file, loc.line, loc.column, message)


def _loc(node: Node) -> Loc:
    mark = node.start_mark
    exact = False
    column = mark.column + 1
    if isinstance(node, ScalarNode) and node.end_mark.line == mark.line:
        quotes = 2 if node.style in ('"', "'") else 0
        # exact only when the value is its source text: no escape or doubled quote in it
        span = node.end_mark.column - mark.column - quotes
        exact = node.style in (None, "", '"', "'") and span == len(node.value)
        column += quotes // 2
    return Loc(mark.line + 1, column, exact)


def _scalar(node: ScalarNode) -> Any:
    """The value of a scalar: its text, or for a plain scalar that reads as one, null, a
    boolean or an exact number.

    Raises
    ------
    NumberTooLarge
        For a plain number beyond the bounds of :mod:`checker.lang.numbers`.
    """
    text = node.value
    if node.style == ">":
        # ruamel marks the places where a folded scalar was folded with U+0007
        return text.replace("\a", "")
    if node.style not in (None, ""):
        return text  # quoted or literal block scalars are text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    number = read_number(text)
    if number is not None:
        return number
    if _INT_OTHER.fullmatch(text):
        if len(text) - 2 > MAX_DIGITS:
            raise NumberTooLarge(
                f"number with {len(text) - 2} digits: at most {MAX_DIGITS} digits are allowed"
            )
        value = int(text, 0)
        check_size(value)
        return value
    if _SPECIAL_FLOAT.fullmatch(text):
        return text  # .inf and .nan are not exact numbers: left as text, rejected later
    return text


class _Builder:
    def __init__(self, file: str) -> None:
        self.doc = Document(file, None)
        self.count = 0
        self.errors: list[Diagnostic] = []

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ModelError(
                [
                    self.doc.error(
                        (),
                        f"document expands to more than {MAX_NODES} values (alias bomb?); refused",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            loc = _loc(node)
            raise ModelError(
                [
                    Diagnostic(
                        self.doc.file,
                        loc.line,
                        loc.column,
                        f"nesting deeper than {MAX_DEPTH} levels; refused",
                    )
                ]
            )
        self.doc.values[path] = _loc(node)
        if isinstance(node, ScalarNode):
            try:
                return _scalar(node)
            except NumberTooLarge as exc:
                loc = self.doc.values[path]
                self.errors.append(Diagnostic(self.doc.file, loc.line, loc.column, str(exc)))
                return node.value
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key_loc = _loc(key_node)
                if not isinstance(key_node, ScalarNode):
                    raise ModelError(
                        [
                            Diagnostic(
                                self.doc.file,
                                key_loc.line,
                                key_loc.column,
                                "a key must be a plain name",
                            )
                        ]
                    )
                if (key_node.tag or "").endswith(":merge"):
                    raise ModelError(
                        [
                            Diagnostic(
                                self.doc.file,
                                key_loc.line,
                                key_loc.column,
                                "merge keys (<<) are not supported",
                            )
                        ]
                    )
                key = key_node.value
                if key in result:
                    first = self.doc.keys[(*path, key)]
                    raise ModelError(
                        [
                            Diagnostic(
                                self.doc.file,
                                key_loc.line,
                                key_loc.column,
                                f"duplicate key '{key}' (first given at line {first.line})",
                            )
                        ]
                    )
                self.doc.keys[(*path, key)] = key_loc
                result[key] = self.build(value_node, (*path, key), depth + 1)
            return result
        raise ModelError([self.doc.error(path, "unsupported YAML node")])


def _shown_tag(tag: str) -> str:
    """A tag as it is written (``!!str``, ``!x``), shortened when long."""
    shown = "!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _check_events(yaml: YAML, text: str, file: str) -> None:
    """Refuse deep nesting and explicit tags from the event stream, which is produced
    without recursion, before the (recursive) composer sees them.

    A tag is refused rather than ignored: ``!!python/object/apply:os.system 1`` must not
    quietly read as 1, and no tag is needed to write a model."""

    def at(event: Any, message: str) -> Diagnostic:
        return Diagnostic(file, event.start_mark.line + 1, event.start_mark.column + 1, message)

    depth = 0
    nodes = 0
    tags: list[Diagnostic] = []
    for event in yaml.parse(text):
        nodes += isinstance(event, NodeEvent)
        if nodes > MAX_NODES:  # before composing them: the composer is slow on many nodes
            raise ModelError([at(event, f"document has more than {MAX_NODES} values; refused")])
        tag = getattr(event, "tag", None) if isinstance(event, NodeEvent) else None
        if tag is not None:
            tags.append(
                at(
                    event,
                    f"YAML tags are not supported: '{_shown_tag(str(tag))}' "
                    "(write the value without a tag; quote it if it is text)",
                )
            )
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ModelError([at(event, f"nesting deeper than {MAX_DEPTH} levels; refused")])
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            depth -= 1
    if tags:
        raise ModelError(tags)


def load_yaml(text: str, file: str) -> Document:
    """Parse ``text`` (the content of ``file``) into a positioned :class:`Document`.

    Raises
    ------
    ModelError
        On a syntax error, an oversized or too deeply nested file, an alias bomb or a
        duplicate key, located at its line and column.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ModelError(
            [Diagnostic(file, 1, 1, f"file is larger than {MAX_FILE_BYTES} bytes; refused")]
        )
    yaml = YAML(typ="rt", pure=True)
    try:
        _check_events(yaml, text, file)
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ModelError([Diagnostic(file, line, column, f"YAML syntax: {problem}")]) from None
    except ReaderError as exc:  # a character YAML does not allow in a file
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1
        message = f"YAML syntax: character U+{exc.character:04X} is not allowed in YAML"
        raise ModelError([Diagnostic(file, line, column, message)]) from None
    except YAMLError as exc:
        raise ModelError([Diagnostic(file, 1, 1, f"YAML syntax: {exc}")]) from None
    except RecursionError:
        raise ModelError([Diagnostic(file, 1, 1, "document nested too deeply; refused")]) from None
    builder = _Builder(file)
    if node is None:
        builder.doc.data = None
        return builder.doc
    builder.doc.data = builder.build(node, (), 0)
    if builder.errors:
        raise ModelError(builder.errors)
    return builder.doc
