"""Bounded exhaustive exploration: every run of a model up to a depth, by breadth-first
search over configurations, for models whose inputs have finite domains.

The search is written once over a small :class:`Semantics` interface and run with two
implementations: one over ``checker.interpret`` (the replay interpreter) and one of its
own (:mod:`tests.adversarial.ast_oracle`, from the YAML text with Python's ``ast``), so a
bug in the interpreter cannot hide a bug in the encoder.

A configuration is first reached at depth d exactly when the shortest run reaching it
has d ticks, so the shortest run that breaks a limit ends in the first-reached
configuration that breaks it. Configurations with no admissible inputs are dead ends:
runs end there, but the limits are still checked in them.

With instruments (language version 2) the inputs of a tick depend on the configuration
(the fills the book allows), and some properties are about a tick rather than a
configuration (order checks, ``positive_qty``): one broken by a tick from a
configuration first reached at depth d has a shortest run of d + 1 ticks, the tick that
sends the order included.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from checker.book import Book
from checker.interpret import Config, Interpreter
from checker.model import Model

Key = tuple[str, tuple[tuple[str, Any], ...]]
"""A configuration as plain data: the step and (name, value) pairs sorted by name; an
enum value is its name, a real value a Fraction. With instruments, the book of each
shows as ``I.position``, ``I.open_buy``, ``I.open_sell``, ``I.pending_buy`` and
``I.pending_sell`` (0 where nothing can be pending)."""

Inputs = Mapping[str, Any]

REAL_GRID = Fraction(1, 2)
"""The fills of a real instrument the search enumerates: multiples of this."""


class Semantics(Protocol):
    limit_names: tuple[str, ...]
    """Everything decided: limits, then (version 2) order checks and built-in checks."""

    def initial(self) -> Hashable: ...
    def vectors(self, config: Any) -> list[Inputs]: ...
    def admissible(self, config: Any, inputs: Inputs) -> bool: ...
    def transition(self, config: Any, inputs: Inputs) -> tuple[Any, list[str]]: ...
    def broken(self, config: Any) -> list[str]: ...
    def key(self, config: Any) -> Key: ...
    def shown_inputs(self, inputs: Inputs) -> dict[str, Any]: ...


@dataclass
class Exploration:
    """What the search saw up to ``depth`` ticks."""

    depth: int  # the depth explored completely
    shortest: dict[str, int | None]  # per property, the shortest run that breaks it
    complete: bool  # no new configuration at some depth: every reachable one was seen
    levels: list[frozenset[Key]]  # configurations first reached at each depth
    dead_ends: set[Key]
    parent: dict[Key, tuple[Key, dict[str, Any]] | None] = field(repr=False)
    witness: dict[str, tuple[Key, dict[str, Any] | None]] = field(repr=False)
    """Per property broken: the configuration that breaks it, or the configuration a
    tick breaking it starts from and that tick's inputs."""
    work: int = 0  # input vectors tried

    @property
    def initial_dead_end(self) -> bool:
        return bool(self.levels[0] & self.dead_ends)

    def path(self, key: Key) -> list[tuple[dict[str, Any] | None, Key]]:
        """A shortest run to ``key``: (inputs of the tick, configuration after it)."""
        here: Key | None = key
        rows: list[tuple[dict[str, Any] | None, Key]] = []
        while here is not None:
            link = self.parent[here]
            rows.append((link[1] if link else None, here))
            here = link[0] if link else None
        return rows[::-1]

    def run(self, limit: str) -> list[tuple[dict[str, Any] | None, Key]]:
        """The shortest run breaking ``limit``: (inputs of the tick, configuration after
        it), from tick 0 (no inputs); for a property of a tick, the last row is the tick
        that breaks it (its inputs, and the configuration it starts from)."""
        key, inputs = self.witness[limit]
        rows = self.path(key)
        if inputs is not None:
            rows.append((inputs, key))
        return rows

    def show_run(self, limit: str) -> str:
        if self.shortest.get(limit) is None:
            return f"(no run breaks {limit} within {self.depth} ticks)"
        lines = []
        rows = self.run(limit)
        for tick, (inputs, (step, values)) in enumerate(rows):
            state = ", ".join(f"{k}={_show(v)}" for k, v in values)
            shown = (
                "" if inputs is None else ", ".join(f"{k}={_show(v)}" for k, v in inputs.items())
            )
            what = "breaks it from" if tick == len(rows) - 1 and self.witness[limit][1] else "->"
            lines.append(f"  tick {tick}: inputs [{shown}] {what} {step} {{{state}}}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def explore(
    sem: Semantics, depth: int, max_configs: int = 20_000, max_work: int | None = None
) -> Exploration:
    """Breadth-first search of every run of up to ``depth`` ticks (fewer when more than
    ``max_configs`` configurations would be seen, or more than ``max_work`` input
    vectors tried: ``depth`` of the result says how far the search is exact)."""
    start = sem.initial()
    k0 = sem.key(start)
    parent: dict[Key, tuple[Key, dict[str, Any]] | None] = {k0: None}
    shortest: dict[str, int | None] = dict.fromkeys(sem.limit_names)
    witness: dict[str, tuple[Key, dict[str, Any] | None]] = {}
    dead: set[Key] = set()
    level: dict[Key, Any] = {k0: start}
    levels: list[frozenset[Key]] = []
    complete = False
    reached = 0
    work = 0

    def note(found: list[str], d: int, key: Key, inputs: dict[str, Any] | None) -> None:
        for name in found:
            if shortest[name] is None:
                shortest[name] = d
                witness[name] = (key, inputs)

    for d in range(depth + 1):
        levels.append(frozenset(level))
        for key, config in level.items():
            note(sem.broken(config), d, key, None)
        if d == depth:
            break
        following: dict[Key, Any] = {}
        vectors = {key: sem.vectors(config) for key, config in level.items()}
        work += sum(len(v) for v in vectors.values())
        if max_work is not None and work > max_work:  # too much to go deeper: exact up to d
            return Exploration(d, shortest, False, levels, dead, parent, witness, work)
        for key, config in level.items():
            admissible = False
            for inputs in vectors[key]:
                if not sem.admissible(config, inputs):
                    continue
                admissible = True
                after, bad = sem.transition(config, inputs)
                if bad:
                    note(bad, d + 1, key, sem.shown_inputs(inputs))
                k = sem.key(after)
                if k not in parent:
                    parent[k] = (key, sem.shown_inputs(inputs))
                    following[k] = after
            if not admissible:
                dead.add(key)
        if not following:
            complete = True
            break
        reached += len(following)
        if reached > max_configs:  # too many to go deeper: exact up to d + 1
            levels.append(frozenset(following))
            for key, config in following.items():
                note(sem.broken(config), d + 1, key, None)
            return Exploration(d + 1, shortest, False, levels, dead, parent, witness, work)
        level = following
    explored = len(levels) - 1
    return Exploration(
        explored if not complete else depth,
        shortest,
        complete,
        levels,
        dead,
        parent,
        witness,
        work,
    )


class InterpreterSemantics:
    """The semantics as ``checker.interpret`` runs it."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.interpreter = Interpreter(model)
        self.book = Book(model)
        self.limit_names = tuple(ob.name for ob in model.obligations())
        self.enums = {
            v.name: v.type.values for v in (*model.state, *model.inputs) if v.type.kind == "enum"
        }
        self.reals = {v.name for v in model.state if v.type.kind == "real"}
        domains = []
        declared = [v for v in model.inputs if not v.builtin]
        for v in declared:
            kind = v.type.kind
            if kind == "bool":
                domains.append([False, True])
            elif kind == "enum":
                domains.append(list(range(len(v.type.values))))
            else:
                assert kind == "int" and v.low is not None and v.high is not None
                domains.append(list(range(int(v.low), int(v.high) + 1)))
        names = [v.name for v in declared]
        self.declared = [
            dict(zip(names, combo, strict=True)) for combo in itertools.product(*domains)
        ]

    def initial(self) -> Config:
        return self.interpreter.initial()

    def vectors(self, config: Config | None = None) -> list[Inputs]:
        if not self.book:
            return list(self.declared)
        assert config is not None
        values = config.values
        per_side = []
        for side in self.book.sides:
            real = self.model.instrument(side.instrument).qty.kind == "real"
            unit: Any = REAL_GRID if real else 1
            pending = values[side.pending] if side.pending is not None else 0
            working = values[side.open] - pending
            choices = []
            for late in _grid(pending, unit):
                for early in _grid(working, unit):
                    pair = [(side.fill, early + late)]
                    if side.fill_pending is not None:
                        pair.append((side.fill_pending, late))
                    choices.append(pair)
            per_side.append(choices)
        fills = [
            dict(pair for side in combo for pair in side) for combo in itertools.product(*per_side)
        ]
        return [{**d, **f} for d in self.declared for f in fills]

    def admissible(self, config: Config, inputs: Inputs) -> bool:
        return not self.interpreter.input_violations(config, inputs)

    def transition(self, config: Config, inputs: Inputs) -> tuple[Config, list[str]]:
        result = self.interpreter.step(config, inputs)
        if not self.book:
            return result.config, []
        after = self.interpreter.after_fills(config, inputs)
        return result.config, self.interpreter.broken_orders(after, inputs, result)

    def step(self, config: Config, inputs: Inputs) -> Config:
        return self.interpreter.step(config, inputs).config

    def broken(self, config: Config) -> list[str]:
        return self.interpreter.broken_checks(config)

    def _plain(self, name: str, value: Any) -> Any:
        if name in self.enums:
            return self.enums[name][int(value)]
        if name in self.reals:
            return Fraction(value)
        return value

    def key(self, config: Config) -> Key:
        values = {k: self._plain(k, v) for k, v in config.values.items()}
        for side in self.book.sides:
            if side.pending is None:  # nothing can be pending there
                values[f"{side.instrument}.pending_{side.side}"] = 0
        return (config.step, tuple(sorted(values.items())))

    def shown_inputs(self, inputs: Inputs) -> dict[str, Any]:
        return {k: self._plain(k, v) for k, v in inputs.items()}


def _grid(high: Any, unit: Any) -> list[Any]:
    """``0, unit, 2 * unit, ...`` up to ``high``."""
    count = int(Fraction(high) / unit)
    return [unit * k if unit != 1 else k for k in range(count + 1)]
