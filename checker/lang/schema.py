"""The model file schema: one JSON Schema that the loader validates with and that
``spec/model.schema.json`` is generated from (``seqprove schema``, ``make schema``)."""

from __future__ import annotations

import json
from typing import Any

# Each pattern ends with `$(?!\n)`: in ECMA 262 (JSON Schema's dialect) `$` is the end of
# the text, but in Python's `re`, which the loader validates with, `$` also matches before
# a final newline, and "nl\n" would pass as a name (and name files). The lookahead closes
# that in Python and changes nothing in ECMA 262.
NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$(?!\n)"
STEP_PATTERN = "^[A-Za-z_][A-Za-z0-9_-]*$(?!\n)"
STRATEGY_PATTERN = "^[A-Za-z0-9_-]+$(?!\n)"
COLUMN_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)?$(?!\n)"

SOURCES: dict[str, str] = {
    "market": "the data column of the same name",
    "venue.bought": "quantity of resting orders filled on the buy side",
    "venue.sold": "quantity of resting orders filled on the sell side",
    "venue.pnl_change": "change of the account's marked-to-market PnL",
    "venue.position": "the account's net position",
    "venue.open_buy": "quantity of open buy orders",
    "venue.open_sell": "quantity of open sell orders",
}
"""Input sources of ``seqprove run``: a market data column, or a quantity of the venue."""

FLOW_SOURCES = frozenset({"venue.bought", "venue.sold", "venue.pnl_change"})
"""Venue quantities delivered as the change since the strategy last read them."""

_EXPRESSION: dict[str, Any] = {
    "description": "An expression of the model language (a number or boolean literal is one too).",
    "type": ["string", "number", "boolean"],
}


def _named(value_schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "propertyNames": {"pattern": NAME_PATTERN},
        "additionalProperties": value_schema,
    }


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "seqprove strategy model (language versions 1 and 2)",
    "description": "A trading sequencer: steps, transitions guarded by provers, and limits.",
    "type": "object",
    "additionalProperties": False,
    "required": ["strategy", "steps", "initial", "transitions", "limits"],
    "anyOf": [{"required": ["state"]}, {"required": ["instruments"]}],
    "properties": {
        "strategy": {
            "description": "Name of the strategy: letters, digits, '-' and '_'.",
            "type": "string",
            "pattern": STRATEGY_PATTERN,
        },
        "about": {"description": "Free text describing the strategy.", "type": "string"},
        "instruments": _named(
            {"$ref": "#/$defs/instrument"},
            "Traded instruments (language version 2): the checker keeps each one's "
            "position and open orders, changed only by the actions sent and the fills "
            "the market chooses.",
        ),
        "params": _named(
            {
                "oneOf": [
                    {"type": "number"},
                    {"$ref": "#/$defs/duration"},
                    {"$ref": "#/$defs/time"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["value"],
                        "properties": {
                            "value": {
                                "oneOf": [
                                    {"type": "number"},
                                    {"$ref": "#/$defs/duration"},
                                    {"$ref": "#/$defs/time"},
                                ]
                            },
                            "doc": {"type": "string"},
                        },
                    },
                ]
            },
            "Named constants; `--param NAME=VALUE` overrides one.",
        ),
        "clock": {
            "description": "The time of each tick: an int input in the clock's unit, which "
            "never goes back (`seqprove run` reads it from the data's time column).",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "input": {
                    "description": "The name of the clock's input (default: now).",
                    "type": "string",
                    "pattern": NAME_PATTERN,
                },
                "unit": {"description": "us, ms (the default) or s.", "enum": ["us", "ms", "s"]},
            },
        },
        "windows": _named(
            {"$ref": "#/$defs/window"},
            "Windows: the events of the last `over` of time, counted or summed; state that "
            "guards, provers and limits read.",
        ),
        "state": {
            **_named(
                {"$ref": "#/$defs/stateVar"},
                "The strategy's memory (required unless the model declares instruments, "
                "whose books are state too).",
            ),
            "minProperties": 1,
        },
        "inputs": _named({"$ref": "#/$defs/input"}, "What the market supplies at each tick."),
        "assume": _named(_EXPRESSION, "What the market is trusted to respect."),
        "provers": _named(_EXPRESSION, "Named pre-trade conditions."),
        "steps": {
            "description": "The steps of the sequencer.",
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": STEP_PATTERN},
        },
        "initial": {"description": "The step a run starts in.", "type": "string"},
        "final": {
            "description": "Steps that end the strategy.",
            "type": "array",
            "items": {"type": "string"},
        },
        "transitions": {
            "description": "Per step, tried in file order; the first enabled one fires.",
            "type": "array",
            "items": {"$ref": "#/$defs/transition"},
        },
        "limits": {
            **_named(_EXPRESSION, "Safety invariants over params and state."),
            "minProperties": 1,
        },
        "orders": _named(
            _EXPRESSION,
            "Order checks: each must hold for every order any run can send, read over "
            "the order's instrument, side, qty, price and tif.",
        ),
        "venue": {
            "description": "How `seqprove run` trades this model on the paper venue "
            "(ignored by `verify`).",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "contract_size": {
                    **_EXPRESSION,
                    "description": "Quote currency per contract per unit of price "
                    "(an expression over params, > 0; default 1).",
                },
                "slippage_bps": {
                    **_EXPRESSION,
                    "description": "Market orders fill this many basis points beyond "
                    "the touch (an expression over params, >= 0; default 0).",
                },
                "position_limit": {
                    **_EXPRESSION,
                    "description": "The |position| the run report and plot compare the "
                    "venue position against (an expression over params).",
                },
            },
        },
    },
    "$defs": {
        "type": {"enum": ["int", "real", "bool", "enum"]},
        "duration": {
            "description": "A duration: a number and a unit (us, ms, s, m, h, d), as 5s.",
            "type": "string",
            "pattern": "^[0-9]+([.][0-9]+)?(us|ms|s|m|h|d)$(?!\\n)",
        },
        "time": {
            "description": "An ISO-8601 time, as 2024-12-27T08:00:00Z (UTC without a zone).",
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
            "(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$(?!\\n)",
        },
        "window": {
            "type": "object",
            "additionalProperties": False,
            "required": ["over", "up_to"],
            "oneOf": [{"required": ["count"]}, {"required": ["sum"]}],
            "properties": {
                "count": {
                    "description": "The action counted: each one sent is an event.",
                    "enum": ["place", "cancel", "cancel_all"],
                },
                "sum": {
                    **_EXPRESSION,
                    "description": "An int amount added each time a transition fires (an "
                    "amount of 0 or less adds no event).",
                },
                "over": {
                    **_EXPRESSION,
                    "description": "The window's length: a duration or an int over params.",
                },
                "up_to": {
                    **_EXPRESSION,
                    "description": "The window is exact up to this value (it keeps up_to + 1 "
                    "events); above, it reads up_to + 1.",
                },
                "doc": {"type": "string"},
            },
        },
        "enumValues": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": NAME_PATTERN},
        },
        "enumNeedsValues": {
            "if": {"properties": {"type": {"const": "enum"}}, "required": ["type"]},
            "then": {"required": ["values"]},
            "else": {"not": {"required": ["values"]}},
        },
        "instrument": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "qty": {
                    "description": "int (whole contracts, the default) or real (coin amounts).",
                    "enum": ["int", "real"],
                },
                "position": {
                    **_EXPRESSION,
                    "description": "Initial position, an expression over params (default 0).",
                },
                "contract_size": {
                    **_EXPRESSION,
                    "description": "Coin per contract, for `seqprove run` (an expression "
                    "over params, > 0; default 1; `verify` ignores it).",
                },
                "doc": {"type": "string"},
            },
        },
        "stateVar": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "init"],
            "properties": {
                "type": {"$ref": "#/$defs/type"},
                "init": _EXPRESSION,
                "values": {"$ref": "#/$defs/enumValues"},
                "doc": {"type": "string"},
            },
            "$ref": "#/$defs/enumNeedsValues",
        },
        "input": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": {"$ref": "#/$defs/type"},
                "range": {"type": "array", "minItems": 2, "maxItems": 2, "items": _EXPRESSION},
                "values": {"$ref": "#/$defs/enumValues"},
                "doc": {"type": "string"},
                "source": {
                    "description": "Where `seqprove run` takes the input from: a column "
                    "of the market data (default) or a quantity of the venue.",
                    "enum": list(SOURCES),
                },
                "column": {
                    "description": "The market data column a market input reads (default: "
                    "its own name), such as `perp.ask` for an instrument's column.",
                    "type": "string",
                    "pattern": COLUMN_PATTERN,
                },
            },
            "$ref": "#/$defs/enumNeedsValues",
        },
        "transition": {
            "type": "object",
            "additionalProperties": False,
            "required": ["from", "to"],
            "properties": {
                "from": {"type": "string"},
                "to": {"type": "string"},
                "when": {
                    "oneOf": [_EXPRESSION, {"type": "array", "items": _EXPRESSION}],
                },
                "emit": {"type": "array", "items": {"type": "string"}},
                "do": {"type": "object", "additionalProperties": _EXPRESSION},
            },
        },
    },
}


def schema_json() -> str:
    """The schema as the text committed in ``spec/model.schema.json``."""
    return json.dumps(SCHEMA, indent=2) + "\n"
