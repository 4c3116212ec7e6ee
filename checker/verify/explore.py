"""Cheap coverage by simulation: seeded random walks on the interpreter that find runs
firing transitions too deep for the bounded search (a loss limit reached after sixty
ticks, a band crossed after many fills).

Each walk fixes a bias per input (its low end, its high end, or anywhere in its range)
and, at every tick, tries a few input vectors, preferring one that fires a transition
not covered yet. Inputs that break an assumption are skipped; a walk ends where no
candidate is admissible. The walks are deterministic for a given model and seed.
Coverage found here only spares the solver work: no finding rests on it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from fractions import Fraction

from checker.interpret import Config, Interpreter
from checker.model import Model, Value, Variable

WALKS = 24
TICKS = 400
CANDIDATES = 6
UNBOUNDED = 1000
"""How far from zero an input without a range is drawn."""


def _draw(var: Variable, bias: str, rng: random.Random) -> Value:
    kind = var.type.kind
    if kind == "bool":
        return {"low": False, "high": True}.get(bias, rng.random() < 0.5)
    if kind == "enum":
        last = len(var.type.values) - 1
        return {"low": 0, "high": last}.get(bias, rng.randint(0, last))
    low = Fraction(var.low) if var.low is not None else Fraction(-UNBOUNDED)
    high = Fraction(var.high) if var.high is not None else Fraction(UNBOUNDED)
    if kind == "int":
        lo, hi = math.ceil(low), math.floor(high)
        if lo > hi:
            return lo
        return {"low": lo, "high": hi}.get(bias, rng.randint(lo, hi))
    if bias == "low":
        return low
    if bias == "high":
        return high
    return low + (high - low) * Fraction(rng.randint(0, 100), 100)


def _candidates(
    model: Model, biases: Mapping[str, str], rng: random.Random
) -> list[dict[str, Value]]:
    """Input vectors for one tick: the walk's biased one; mixes of it with each input's
    low end (assumptions such as "fills need orders" often admit only small values);
    then the low and high ends of every input."""
    biased = {v.name: _draw(v, biases[v.name], rng) for v in model.inputs}
    low = {v.name: _draw(v, "low", rng) for v in model.inputs}
    found = [biased]
    for _ in range(CANDIDATES):
        found.append(
            {
                v.name: biased[v.name]
                if rng.random() < 0.5
                else _draw(v, rng.choice(("low", "any")), rng)
                for v in model.inputs
            }
        )
    found.append(low)
    found.append({v.name: _draw(v, "high", rng) for v in model.inputs})
    return found


def covered_by_walks(model: Model, seed: int = 0) -> set[int]:
    """Indices of the transitions some random walk fires."""
    interpreter = Interpreter(model)
    rng = random.Random(seed)
    covered: set[int] = set()
    total = len(model.transitions)
    for walk in range(WALKS):
        if len(covered) == total:
            break
        styles = ("low", "high", "any")
        biases = {
            v.name: styles[walk % 3] if walk < 3 else rng.choice(styles) for v in model.inputs
        }
        config: Config = interpreter.initial()
        for _ in range(TICKS):
            if config.step in model.final:
                break
            chosen = None
            for inputs in _candidates(model, biases, rng):
                if interpreter.input_violations(config, inputs):
                    continue
                fired = interpreter.enabled(config, inputs)
                index = fired.transition.index if fired else None
                if chosen is None or (index is not None and index not in covered):
                    chosen = inputs
                    if index is not None and index not in covered:
                        break
            if chosen is None:
                break
            result = interpreter.step(config, chosen)
            if result.transition is not None:
                covered.add(result.transition.index)
            config = result.config
    return covered
