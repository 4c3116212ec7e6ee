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
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from checker.interpret import Config, Interpreter
from checker.model import Model

Key = tuple[str, tuple[tuple[str, Any], ...]]
"""A configuration as plain data: the step and (name, value) pairs sorted by name; an
enum value is its name, a real value a Fraction."""

Inputs = Mapping[str, Any]


class Semantics(Protocol):
    limit_names: tuple[str, ...]

    def initial(self) -> Hashable: ...
    def vectors(self) -> list[Inputs]: ...
    def admissible(self, config: Any, inputs: Inputs) -> bool: ...
    def step(self, config: Any, inputs: Inputs) -> Any: ...
    def broken(self, config: Any) -> list[str]: ...
    def key(self, config: Any) -> Key: ...
    def shown_inputs(self, inputs: Inputs) -> dict[str, Any]: ...


@dataclass
class Exploration:
    """What the search saw up to ``depth`` ticks."""

    depth: int  # the depth explored completely
    shortest: dict[str, int | None]  # per limit, the shortest depth it breaks at
    complete: bool  # no new configuration at some depth: every reachable one was seen
    levels: list[frozenset[Key]]  # configurations first reached at each depth
    dead_ends: set[Key]
    parent: dict[Key, tuple[Key, dict[str, Any]] | None] = field(repr=False)
    witness: dict[str, Key] = field(repr=False)

    @property
    def initial_dead_end(self) -> bool:
        return bool(self.levels[0] & self.dead_ends)

    def run(self, limit: str) -> list[tuple[dict[str, Any] | None, Key]]:
        """The shortest run breaking ``limit``: (inputs of the tick, configuration after
        it), from tick 0 (no inputs)."""
        key: Key | None = self.witness[limit]
        rows: list[tuple[dict[str, Any] | None, Key]] = []
        while key is not None:
            link = self.parent[key]
            rows.append((link[1] if link else None, key))
            key = link[0] if link else None
        return rows[::-1]

    def show_run(self, limit: str) -> str:
        if self.shortest.get(limit) is None:
            return f"(no run breaks {limit} within {self.depth} ticks)"
        lines = []
        for tick, (inputs, (step, values)) in enumerate(self.run(limit)):
            state = ", ".join(f"{k}={_show(v)}" for k, v in values)
            shown = (
                "" if inputs is None else ", ".join(f"{k}={_show(v)}" for k, v in inputs.items())
            )
            lines.append(f"  tick {tick}: inputs [{shown}] -> {step} {{{state}}}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def explore(sem: Semantics, depth: int, max_configs: int = 20_000) -> Exploration:
    """Breadth-first search of every run of up to ``depth`` ticks (fewer when more than
    ``max_configs`` configurations would be seen: ``depth`` of the result says how far
    the search is exact)."""
    vectors = sem.vectors()
    start = sem.initial()
    k0 = sem.key(start)
    parent: dict[Key, tuple[Key, dict[str, Any]] | None] = {k0: None}
    shortest: dict[str, int | None] = dict.fromkeys(sem.limit_names)
    witness: dict[str, Key] = {}
    dead: set[Key] = set()
    level: dict[Key, Any] = {k0: start}
    levels: list[frozenset[Key]] = []
    complete = False
    reached = 0
    for d in range(depth + 1):
        levels.append(frozenset(level))
        for key, config in level.items():
            for name in sem.broken(config):
                if shortest[name] is None:
                    shortest[name] = d
                    witness[name] = key
        if d == depth:
            break
        following: dict[Key, Any] = {}
        for key, config in level.items():
            admissible = False
            for inputs in vectors:
                if not sem.admissible(config, inputs):
                    continue
                admissible = True
                after = sem.step(config, inputs)
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
                for name in sem.broken(config):
                    if shortest[name] is None:
                        shortest[name] = d + 1
                        witness[name] = key
            return Exploration(d + 1, shortest, False, levels, dead, parent, witness)
        level = following
    explored = len(levels) - 1
    return Exploration(
        explored if not complete else depth, shortest, complete, levels, dead, parent, witness
    )


class InterpreterSemantics:
    """The semantics as ``checker.interpret`` runs it."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.interpreter = Interpreter(model)
        self.limit_names = tuple(lim.name for lim in model.limits)
        self.enums = {
            v.name: v.type.values for v in (*model.state, *model.inputs) if v.type.kind == "enum"
        }
        self.reals = {v.name for v in model.state if v.type.kind == "real"}

    def initial(self) -> Config:
        return self.interpreter.initial()

    def vectors(self) -> list[Inputs]:
        domains = []
        for v in self.model.inputs:
            kind = v.type.kind
            if kind == "bool":
                domains.append([False, True])
            elif kind == "enum":
                domains.append(list(range(len(v.type.values))))
            else:
                assert kind == "int" and v.low is not None and v.high is not None
                domains.append(list(range(int(v.low), int(v.high) + 1)))
        names = [v.name for v in self.model.inputs]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*domains)]

    def admissible(self, config: Config, inputs: Inputs) -> bool:
        return not self.interpreter.input_violations(config, inputs)

    def step(self, config: Config, inputs: Inputs) -> Config:
        return self.interpreter.step(config, inputs).config

    def broken(self, config: Config) -> list[str]:
        return self.interpreter.broken_limits(config)

    def _plain(self, name: str, value: Any) -> Any:
        if name in self.enums:
            return self.enums[name][int(value)]
        if name in self.reals:
            return Fraction(value)
        return value

    def key(self, config: Config) -> Key:
        values = tuple(sorted((k, self._plain(k, v)) for k, v in config.values.items()))
        return (config.step, values)

    def shown_inputs(self, inputs: Inputs) -> dict[str, Any]:
        return {k: self._plain(k, v) for k, v in inputs.items()}
