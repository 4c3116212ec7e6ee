"""Counterexamples: read from a z3 model of an unrolled path, then replayed by the
interpreter. A trace the interpreter does not reproduce is a bug in seqprove."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import z3

from checker.errors import InternalError
from checker.interpret import ActionValue, Config, Interpreter
from checker.lang.timing import shown_state
from checker.model import Model, Transition, Value, Variable, decimal_text
from checker.results import Counterexample, Tick
from checker.smt.system import STEP, TransitionSystem, read_value, value_term

Path = list[tuple[Config, Mapping[str, Value] | None, int | None]]
"""A run read from the solver: (configuration, inputs that led to it, transition fired)
per tick, the first with neither."""


def at_config(system: TransitionSystem, config: Config) -> z3.BoolRef:
    """The configuration ``config`` as a term over the current state."""
    parts = [system.cur[STEP] == system.step_index[config.step]]
    for v in system.model.state:
        parts.append(system.cur[v.name] == value_term(v.type, config.values[v.name], system.ctx))
    return z3.And(*parts)


def json_value(var: Variable, value: Value) -> Any:
    """A value for JSON: ints as numbers, exact reals as text, enums by name."""
    kind = var.type.kind
    if kind == "bool":
        return bool(value)
    if kind == "enum":
        return var.type.values[int(value)]
    if kind == "real":
        return decimal_text(Fraction(value))
    return int(value)


def tick_row(
    model: Model,
    tick: int,
    config: Config,
    transition: Transition | None,
    inputs: Mapping[str, Value],
    actions: tuple[ActionValue, ...] = (),
    provers: Mapping[str, bool] | None = None,
) -> Tick:
    """One row of a counterexample as a user reads it: the configuration after tick
    ``tick``, reached by ``transition`` on ``inputs`` (none for tick 0); with
    instruments, the actions it sent; ``provers``, what each prover was on the
    configuration the transition was chosen on."""
    state_vars = {v.name: v for v in model.state}
    input_vars = {v.name: v for v in model.inputs}
    state = {n: json_value(state_vars[n], v) for n, v in config.values.items()}
    if model.clock is not None:  # the windows' values, not the events they keep
        state = shown_state(model.windows, state) or state
    return Tick(
        tick,
        config.step,
        transition.to_json() if transition else None,
        {n: json_value(input_vars[n], v) for n, v in inputs.items()},
        state,
        tuple(action_json(a) for a in actions) if model.instruments else (),
        provers,
    )


def action_json(action: ActionValue) -> dict[str, Any]:
    """An action sent, for a counterexample: its name, instrument and evaluated
    arguments (exact reals as text)."""
    found: dict[str, Any] = {"action": action.name}
    if action.instrument:
        found["instrument"] = action.instrument
    if action.side is not None:
        found["side"] = action.side
    for key, value in (("qty", action.qty), ("price", action.price)):
        if value is not None:
            found[key] = decimal_text(Fraction(value)) if isinstance(value, Fraction) else value
    if action.name == "place":
        found["tif"] = action.tif
    return found


def _state(system: TransitionSystem, model: z3.ModelRef, k: int) -> tuple[str, dict[str, Value]]:
    frame = system.frame(k)
    index = model.eval(frame.state[STEP], model_completion=True).as_long()
    values = {v.name: read_value(model, frame.state[v.name], v.type) for v in system.model.state}
    return system.model.steps[index], values


def extract(
    system: TransitionSystem, model: z3.ModelRef, depth: int
) -> list[tuple[Config, Mapping[str, Value] | None, int | None]]:
    """The path as (configuration, inputs that led to it, transition fired) per tick."""
    m = system.model
    step, values = _state(system, model, 0)
    path: list[tuple[Config, Mapping[str, Value] | None, int | None]] = [
        (Config(step, values), None, None)
    ]
    for k in range(depth):
        frame = system.frame(k)
        inputs = {v.name: read_value(model, frame.inputs[v.name], v.type) for v in m.inputs}
        fired = None
        for t in m.transitions:
            fires = system.unrolled(system.fires[t.index], k)
            if z3.is_true(model.eval(fires, model_completion=True)):
                fired = t.index
                break
        step, values = _state(system, model, k + 1)
        path.append((Config(step, values), inputs, fired))
    return path


def replay(
    model: Model,
    interpreter: Interpreter,
    limit: str | None,
    path: list[tuple[Config, Mapping[str, Value] | None, int | None]],
    reads_inputs: bool = False,
) -> Counterexample:
    """Run the path's inputs through the interpreter; check that every tick agrees with
    the solver (inputs allowed, same transition, same configuration) and that the limit
    (or check) is broken at the last tick: by its configuration or, with
    ``reads_inputs``, by an order that tick sends. Returns the counterexample as a user
    reads it, with the provers as they stood when the last tick chose its transition.
    With ``limit`` None the path is only replayed (a run that reaches something a check
    found), and nothing need be broken at its end.

    Raises
    ------
    InternalError
        When the interpreter and the SMT encoding disagree.
    """
    start = path[0][0].values
    try:
        config = interpreter.initial({n: start[n] for n in model.free if n in start})
    except ValueError as exc:
        raise InternalError(f"replay of '{limit}': the solver's start: {exc}") from None
    if config != path[0][0]:
        raise InternalError(
            f"replay of '{limit}': initial configuration differs: "
            f"solver {path[0][0]}, interpreter {config}"
        )
    ticks = [tick_row(model, 0, config, None, {})]
    broken: list[str] = []
    for tick, (expected, inputs, fired) in enumerate(path[1:], start=1):
        assert inputs is not None
        problems = interpreter.input_violations(config, inputs)
        if problems:
            raise InternalError(
                f"replay of '{limit}' at tick {tick}: the solver chose inputs "
                f"the semantics forbid: {'; '.join(problems)}"
            )
        after = interpreter.after_fills(config, inputs)
        result = interpreter.step(config, inputs)
        taken = result.transition.index if result.transition else None
        if taken != fired or result.config != expected:
            raise InternalError(
                f"replay of '{limit}' at tick {tick}: solver took transition "
                f"{fired} to {expected}, interpreter took {taken} to "
                f"{result.config}"
            )
        last = tick == len(path) - 1
        provers = None
        if last:
            env = {**after.values, **inputs}
            provers = {name: bool(holds(env)) for name, holds in interpreter.provers.items()}
            if reads_inputs:
                broken = interpreter.broken_orders(after, inputs, result)
        config = result.config
        ticks.append(
            tick_row(model, tick, config, result.transition, inputs, result.actions, provers)
        )
    if limit is None:
        return Counterexample(tuple(ticks))
    if not reads_inputs:
        broken = interpreter.broken_checks(config)
    if limit not in broken:
        raise InternalError(
            f"replay of '{limit}': the interpreter does not break it at tick {len(path) - 1}"
        )
    return Counterexample(tuple(ticks))
