"""Validate a loaded document against :data:`checker.lang.schema.SCHEMA`, turning
jsonschema errors into located diagnostics with hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from fractions import Fraction
from typing import Any, cast

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from checker.errors import Diagnostic
from checker.lang.schema import SCHEMA
from checker.lang.yamlload import Document

_VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA,
    format_checker=None,
)


def _is_number(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int | Fraction) and not isinstance(instance, bool)


def _is_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


_TYPES = _VALIDATOR.TYPE_CHECKER.redefine("number", _is_number).redefine("integer", _is_integer)
_CLASS: Any = cast(Any, jsonschema.validators.extend)(
    jsonschema.Draft202012Validator, type_checker=_TYPES
)
VALIDATOR = _CLASS(SCHEMA)

_KIND = {
    "string": "text",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing",
}


def hint(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest candidate, or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | Fraction):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def shown(name: Any) -> str:
    """A name or value quoted for a message, its line breaks and other unprintable
    characters escaped (``'nl\\n'``)."""
    text = str(name)
    return f"'{text}'" if text.isprintable() else repr(text)


def _stray_hint(mapping: Any, key: str) -> str:
    """A hint for a key without a value: in a flow mapping ``{doc: a, b}`` the comma ends
    the text, and ``b`` becomes a key of its own."""
    if not isinstance(mapping, dict) or mapping.get(key, "") is not None:
        return ""
    quoted = f"{key}" if "doc" not in mapping else f'doc: "{mapping["doc"]}, {key}"'
    return (
        " (a comma inside a flow mapping {...} ends the value before it: quote text "
        f"that holds a comma, e.g. {quoted})"
    )


def _where(path: tuple[str | int, ...]) -> str:
    parts = [str(p) if isinstance(p, str) else f"[{p}]" for p in path]
    return ".".join(parts).replace(".[", "[") or "the file"


def _diagnostics(doc: Document, error: ValidationError) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    where = _where(path)
    kind = error.validator
    schema: Any = error.schema
    expected: Any = error.validator_value
    instance: Any = error.instance
    if kind in ("oneOf", "anyOf") and error.context:
        if path and path[0] == "params":
            stray = (
                [k for k in instance if k not in ("value", "doc")]
                if isinstance(instance, dict)
                else []
            )
            if stray:
                return [
                    doc.error(
                        (*path, k),
                        f"unknown key {shown(k)} in {where}: a param takes only value and "
                        f"doc{_stray_hint(instance, k)}",
                        key=True,
                    )
                    for k in stray
                ]
            return [
                doc.error(
                    path,
                    f"{where}: a param is a number or {{value: number, "
                    f"doc: text}}, not {describe(error.instance)}",
                )
            ]
        if not path and kind == "anyOf":
            return [
                doc.error(
                    (),
                    "the file: missing required key 'state' (a model without `instruments` "
                    "needs state of its own)",
                )
            ]
        if path and path[-1] == "when":
            return [
                doc.error(
                    path,
                    f"{where}: expected an expression or a list of them, "
                    f"not {describe(error.instance)}",
                )
            ]
        return _diagnostics(doc, best_match(error.context))
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        return [
            doc.error(
                (*path, k),
                f"unknown key {shown(k)} in {where}{hint(k, allowed)}{_stray_hint(instance, k)}",
                key=True,
            )
            for k in extras
        ]
    if kind == "required":
        missing = expected
        present = error.instance if isinstance(error.instance, dict) else {}
        names = [k for k in missing if k not in present]
        return [
            doc.error(path, f"{where}: missing required key '{k}'", key=bool(path)) for k in names
        ]
    if kind == "type":
        wanted = " or ".join(
            _KIND[t] for t in ([expected] if isinstance(expected, str) else expected)
        )
        return [doc.error(path, f"{where}: expected {wanted}, got {describe(error.instance)}")]
    if kind == "enum":
        options = ", ".join(str(v) for v in expected)
        value = str(error.instance)
        return [
            doc.error(
                path,
                f"{where}: '{value}' is not one of {options}{hint(value, map(str, expected))}",
            )
        ]
    if kind == "pattern":
        if path and path[0] == "strategy":
            rule = "letters, digits, '-' and '_'"
        elif path and path[0] == "steps":
            rule = "a letter or '_', then letters, digits, '_' or '-'"
        elif path and path[-1] == "column":
            rule = "letters, digits and '_' (an instrument's column as I.NAME)"
        else:
            rule = "a letter or '_', then letters, digits or '_'"
        return [doc.error(path, f"{shown(error.instance)} is not a valid name: use {rule}")]
    if kind == "propertyNames":
        return _diagnostics(doc, best_match(error.context)) if error.context else []
    if kind == "not" and path:
        return [
            doc.error((*path, "values"), f"{where}: `values` goes only with type enum", key=True)
        ]
    if kind == "minItems":
        return [doc.error(path, f"{where}: needs at least {expected} item(s)")]
    if kind == "maxItems":
        return [doc.error(path, f"{where}: takes at most {expected} items")]
    if kind == "minProperties":
        return [doc.error(path, f"{where}: needs at least one entry", key=True)]
    if kind == "uniqueItems":
        return [doc.error(path, f"{where}: values must be unique")]
    return [doc.error(path, f"{where}: {error.message}")]


def _key_name_errors(doc: Document, error: ValidationError) -> list[Diagnostic]:
    # propertyNames errors report the bad key itself as the instance, at the parent path.
    path = tuple(error.absolute_path)
    key: Any = error.instance
    return [
        doc.error(
            (*path, key),
            f"{shown(key)} is not a valid name: use a letter or '_', then letters, digits or '_'",
            key=True,
        )
    ]


def validate_document(doc: Document) -> list[Diagnostic]:
    """Every schema violation in ``doc``, each located and worded for a user."""
    if not isinstance(doc.data, dict):
        return [doc.error((), f"a model file is a mapping of sections, not {describe(doc.data)}")]
    found: list[Diagnostic] = []
    for error in VALIDATOR.iter_errors(doc.data):
        if error.validator == "propertyNames":
            for sub in error.context or []:
                found.extend(
                    _key_name_errors(doc, sub)
                    if sub.validator == "pattern"
                    else _diagnostics(doc, sub)
                )
            continue
        found.extend(_diagnostics(doc, error))
    return sorted(set(found))
