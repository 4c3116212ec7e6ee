"""A tick of a run of a model with instruments (language version 2), as a user reads it:
the market inputs apart from the fills, the fills per instrument, the orders sent, the
declared state apart from the book the checker keeps, and the book per instrument.

Reports work from the JSON-able results, so what is what is told from the names: a
book name (``perp.position``, ``perp.bought``) holds a dot, which a user's name never
does, and the hidden ones (``perp.pending_buy``, ``perp.bought_pending``: quantity whose
cancel is not yet confirmed, or an IOC order) hold ``pending``. Light to import: the
terminal report uses it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from checker.results import Counterexample, LimitResult, Tick

ORDERS = "#orders"
"""The mark of the orders sent at the last tick (see :func:`breaking`): what an order
check or ``positive_qty`` finds broken there."""

FINAL_STEP_ORDERS = "final-step-orders"
POSITIVE_QTY = "positive_qty"
"""The names of the built-in checks, as :mod:`checker.model` gives them (not imported
from there: the model pulls in sympy, which the terminal report does without)."""


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def taken(transition: Mapping[str, Any] | None, tick: int) -> str:
    """The transition taken at a tick, ``from -> to (line N)``."""
    if tick == 0:
        return "(initial)"
    if transition is None:
        return "(none enabled: stutter)"
    return f"{transition['from']} -> {transition['to']} (line {transition['line']})"


def is_book(name: str) -> bool:
    """Whether ``name`` is kept by the checker (a built-in name of an instrument)."""
    return "." in name


def has_book(run: Counterexample) -> bool:
    """Whether ``run`` is one of a model with instruments."""
    return any(is_book(name) for t in run.ticks for name in t.state)


def instruments(run: Counterexample) -> tuple[str, ...]:
    """The instruments of the run's book, in the order the state lists them."""
    names = (name.split(".", 1)[0] for t in run.ticks for name in t.state if is_book(name))
    return tuple(dict.fromkeys(names))


def market_inputs(tick: Tick) -> dict[str, Any]:
    """The inputs the market chose, the fills apart."""
    return {k: v for k, v in tick.inputs.items() if not is_book(k)}


def declared_state(tick: Tick) -> dict[str, Any]:
    """The state the model declares, the book apart."""
    return {k: v for k, v in tick.state.items() if not is_book(k)}


def _number(value: Any) -> Fraction:
    """A quantity as the results give it: an int, or an exact real as text."""
    return Fraction(str(value))


def _of_pending(value: Any) -> str:
    return f" ({cell(value)} pending)" if value is not None and _number(value) != 0 else ""


def fills(tick: Tick, instrument: str) -> str:
    """``perp +3 / -0``: what our buy and sell orders on ``instrument`` filled at this
    tick; the part filled on pending orders (cancel not yet confirmed, or IOC) added as
    ``+3 (1 pending)`` when it is not zero. Blank at a tick without inputs (tick 0)."""
    bought, sold = tick.inputs.get(f"{instrument}.bought"), tick.inputs.get(f"{instrument}.sold")
    if bought is None and sold is None:
        return ""
    buy_pending = _of_pending(tick.inputs.get(f"{instrument}.bought_pending"))
    sell_pending = _of_pending(tick.inputs.get(f"{instrument}.sold_pending"))
    return f"{instrument} +{cell(bought or 0)}{buy_pending} / -{cell(sold or 0)}{sell_pending}"


def order_text(action: Mapping[str, Any]) -> str:
    """``perp buy 10 @ 60000.5``, ``perp sell 5 ioc``, ``cancel perp buy``,
    ``cancel_all perp``, or ``cancel_all`` (every instrument)."""
    name = str(action.get("action", "?"))
    instrument = str(action.get("instrument", ""))
    if name == "place":
        text = f"{instrument} {action.get('side', '?')} {cell(action.get('qty', '?'))}"
        if action.get("price") is not None:
            text += f" @ {cell(action['price'])}"
        return text + (" ioc" if action.get("tif") == "ioc" else "")
    words = [name, instrument, str(action.get("side") or "")]
    return " ".join(w for w in words if w)


def is_place(action: Mapping[str, Any]) -> bool:
    return action.get("action") == "place"


def book(tick: Tick, instrument: str) -> list[tuple[str, str]]:
    """``instrument``'s book after the tick as (the name shown, its text):
    ``pos 16``, ``buy 1 (1 pending)``, ``sell 10 (10 pending)``; the pending part
    only when it is not zero."""
    found = []
    position = tick.state.get(f"{instrument}.position")
    if position is not None:
        found.append((f"{instrument}.position", f"pos {cell(position)}"))
    for side in ("buy", "sell"):
        name = f"{instrument}.open_{side}"
        if name in tick.state:
            pending = _of_pending(tick.state.get(f"{instrument}.pending_{side}"))
            found.append((name, f"{side} {cell(tick.state[name])}{pending}"))
    return found


def book_text(tick: Tick, instrument: str) -> str:
    """``perp pos 16, buy 1 (1 pending), sell 10 (10 pending)``."""
    return f"{instrument} " + ", ".join(text for _, text in book(tick, instrument))


def working(tick: Tick) -> dict[str, Fraction]:
    """The book's open quantities that are still working (open, and not pending) after
    the tick, by the open name (``perp.open_buy``), those above zero only."""
    found = {}
    for name, value in tick.state.items():
        instrument, _, field = name.partition(".")
        if field.startswith("open_"):
            pending = tick.state.get(f"{instrument}.pending_{field.removeprefix('open_')}", 0)
            left = _number(value) - _number(pending)
            if left > 0:
                found[name] = left
    return found


def working_text(tick: Tick) -> str:
    """``perp buy 4, perp sell 1``: the orders still working after the tick."""
    parts = []
    for name, left in working(tick).items():
        instrument, _, field = name.partition(".")
        parts.append(f"{instrument} {field.removeprefix('open_')} {left}")
    return ", ".join(parts)


def provers_text(tick: Tick) -> str:
    """``provers at tick N: held a, b; not held c``; empty without provers."""
    if not tick.provers:
        return ""
    held = [name for name, value in tick.provers.items() if value]
    failed = [name for name, value in tick.provers.items() if not value]
    parts = [f"held {', '.join(held)}"] if held else []
    parts += [f"not held {', '.join(failed)}"] if failed else []
    return f"provers at tick {tick.tick}: " + "; ".join(parts)


def breaking(lim: LimitResult, run: Counterexample, reads: frozenset[str]) -> frozenset[str]:
    """What to mark at the last tick of ``lim``'s counterexample as breaking it: the
    names a limit reads (``reads``); for an order check or ``positive_qty``, the orders
    sent (:data:`ORDERS`); for ``final-step-orders``, the open quantities still
    working."""
    if lim.kind == "order" or lim.name.startswith(f"{POSITIVE_QTY}:"):
        return frozenset({ORDERS})
    if lim.name == FINAL_STEP_ORDERS and run.ticks:
        return frozenset(working(run.ticks[-1]))
    return reads


def what_broke(lim: LimitResult, run: Counterexample) -> str:
    """The heading of a counterexample: which limit, order check or check, and when."""
    last = run.length
    if lim.kind == "order":
        return f"order check {lim.name} ({lim.text}) broken by an order sent at tick {last}"
    if lim.kind == "check":
        text = f"check {lim.name} ({lim.text}) broken at tick {last}"
        if lim.name == FINAL_STEP_ORDERS and run.ticks and working(run.ticks[-1]):
            last_tick = run.ticks[-1]
            text += f" (in step {last_tick.step}, still working: {working_text(last_tick)})"
        return text
    return f"{lim.name} ({lim.text}) broken at tick {last}"


def marked_because(lim: LimitResult, names: Sequence[str]) -> str:
    """What the marked cells of a counterexample are, for a legend."""
    if lim.kind == "order" or lim.name.startswith(f"{POSITIVE_QTY}:"):
        return "the orders sent, which break it"
    if lim.name == FINAL_STEP_ORDERS:
        return "the orders still working in the final step"
    return f"what the limit reads ({', '.join(names)}), which breaks it"
