"""Cheap coverage by simulation: seeded random walks on the interpreter that find runs
firing transitions too deep for the bounded search (a loss limit reached after sixty
ticks, a band crossed after many fills).

Each walk fixes a bias per input (its low end, its high end, or anywhere in what the
ranges, the assumptions and, with instruments, the book leave it: :mod:`checker.draw`)
and, at every tick, tries a few input vectors, preferring one that fires a transition
not covered yet; a walk ends where no inputs are admissible. The walks are deterministic
for a given model and seed. Coverage found here only spares the solver work: no finding
rests on it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from fractions import Fraction

from checker.draw import RandomPicker, TickDrawer
from checker.interpret import Config, Interpreter
from checker.model import Model, Value

WALKS = 24
TICKS = 400
CANDIDATES = 2
PATIENCE = 25
"""A walk ends after this many ticks that fire no transition not covered yet, or after
twice as many as the model has steps if that is more (a lap round a ring of steps)."""
TOTAL = 100
TICKS_PER_TRANSITION = 5
"""Ticks all the walks of a model take together, at most: ``TOTAL``, or this many per
transition if that is more. (On the models of ``models/``, 100 ticks rather than 200
spare up to a sixth of verify's time, with the same findings: what the walks leave is a
bounded search and a Spacer query of a few milliseconds each on a model that small.)
A tick costs about half a millisecond on a large model, and each transition the walks
leave uncovered a Spacer query of up to
:data:`checker.verify.sanity.PROOF_RLIMIT` units (about 0.02 s) when it is reachable
but deep, about forty ticks' worth; on the generated models of ``bench/`` (50/20/150
and 100/40/300) 5 ticks a transition costs least in all (measured against 10, 20 and
40: at 50/20/150, 10 ticks cover 2 more of 150 transitions for 0.16 s more, 20 and 40
ticks 3 more for 0.5 s more)."""


def _candidates(
    drawer: TickDrawer,
    biases: Mapping[str, str],
    rng: random.Random,
    config: Config,
    wanted: bool = True,
) -> Iterator[dict[str, Value]]:
    """Input vectors for one tick: the walk's biased one; mixes of it with each input's
    low end (assumptions such as "fills need orders" often admit only small values);
    then the low and high ends of every input; only the first unless a new transition is
    ``wanted`` (none can fire where every transition of the step is covered). Each is
    admissible (drawn within what the ranges, the assumptions and the book leave); none
    when no inputs are."""
    mixes = [dict(biases)]
    if not wanted:
        inputs = drawer.pick(RandomPicker(rng, mixes[0]), config)
        if inputs is not None:
            yield inputs
        return
    for _ in range(CANDIDATES):
        mixes.append(
            {n: b if rng.random() < 0.5 else rng.choice(("low", "any")) for n, b in biases.items()}
        )
    mixes += [dict.fromkeys(biases, "low"), dict.fromkeys(biases, "high")]
    for mix in mixes:
        inputs = drawer.pick(RandomPicker(rng, mix), config)
        if inputs is None:
            return
        yield inputs


def covered_by_walks(model: Model, seed: int = 0) -> set[int]:
    """Indices of the transitions some random walk fires."""
    interpreter = Interpreter(model)
    drawer = TickDrawer(model, interpreter)
    rng = random.Random(seed)
    covered: set[int] = set()
    total = len(model.transitions)
    patience = max(PATIENCE, 2 * len(model.steps))
    ticks = max(TOTAL, TICKS_PER_TRANSITION * total)
    taken = 0
    for walk in range(WALKS):
        if len(covered) == total or taken >= ticks:
            break
        styles = ("low", "high", "any")
        biases = {
            v.name: styles[walk % 3] if walk < 3 else rng.choice(styles) for v in model.inputs
        }
        start = _start(model, interpreter, rng)
        if start is None:  # no value of the free params drawn is in their region
            break
        config: Config = start
        idle = 0
        for _ in range(TICKS):
            if config.step in model.final or idle >= patience or taken >= ticks:
                break
            if len(covered) == total:  # nothing left to find
                break
            chosen = None
            # where every transition of the step is covered, no candidate can fire a new
            # one: the walk's own biased vector is the choice, and the others are not drawn
            wanted = any(t.index not in covered for t in model.outgoing(config.step))
            for inputs in _candidates(drawer, biases, rng, config, wanted):
                fired = interpreter.enabled(interpreter.after_fills(config, inputs), inputs)
                index = fired.transition.index if fired else None
                if chosen is None or (index is not None and index not in covered):
                    chosen = inputs
                    if index is not None and index not in covered:
                        break
            if chosen is None:
                break
            result = interpreter.step(config, chosen)
            taken += 1
            if result.transition is not None and result.transition.index not in covered:
                covered.add(result.transition.index)
                idle = 0
            else:
                idle += 1
            config = result.config
    return covered


def _start(model: Model, interpreter: Interpreter, rng: random.Random) -> Config | None:
    """The initial configuration of a walk: with free params, at values drawn in their
    ranges (None when twenty draws all fall outside the region decided)."""
    if not model.free:
        return interpreter.initial()
    for _ in range(20):
        drawn: dict[str, Value] = {}
        for v in model.state:
            if v.source != "param":
                continue
            # an open end: 1000 from the other, or -1000..1000 with neither
            low = Fraction(
                v.low if v.low is not None else v.high - 1000 if v.high is not None else -1000
            )
            high = Fraction(v.high) if v.high is not None else low + 2000
            if v.type.kind == "int":
                drawn[v.name] = rng.randint(math.ceil(low), math.floor(high))
            else:
                drawn[v.name] = low + (high - low) * Fraction(rng.randint(0, 1000), 1000)
        try:
            return interpreter.initial(drawn)
        except ValueError:
            continue
    return None
