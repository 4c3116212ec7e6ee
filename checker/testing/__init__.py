"""Property testing with Hypothesis: strategies, a state machine and prover checks drawn
from a model.

- :func:`input_sequences` and :func:`runs` draw market input sequences tick by tick on
  the configuration the interpreter reached, so every range and assumption holds
  without filtering; they shrink towards shorter runs and simpler values.
- :func:`model_state_machine` is a Hypothesis ``RuleBasedStateMachine`` whose rule is one
  tick and whose invariant is the model's limits; subclass it to add your own.
- :func:`assert_prover_matches` property-tests a Python implementation of a pre-trade
  check against the model's prover, starting with the solver's boundary examples.
- :func:`boundary_examples` are runs the solver finds that end just inside or just
  outside each prover and limit (see :mod:`checker.testing.boundary`); the strategies
  start some runs with them, and :func:`with_boundary_examples` hands them to a test as
  Hypothesis explicit examples.

Values are as the interpreter keeps them: ``int``, exact reals as
``fractions.Fraction``, ``bool``, and an enum value as its index (in
:func:`assert_prover_matches` a user's function gets enum values by name).
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from checker.draw import Draw, TickDrawer
from checker.interpret import ActionValue, Config, Interpreter, TickResult
from checker.lang.loader import load_model
from checker.model import Model, Transition, Value
from checker.results import Counterexample, LimitResult, Verdict
from checker.testing.boundary import Boundaries, Example, boundaries
from checker.verify.trace import tick_row

__all__ = [
    "Boundaries",
    "Example",
    "ProverMismatch",
    "Run",
    "assert_prover_matches",
    "boundaries",
    "boundary_examples",
    "input_sequences",
    "model_state_machine",
    "runs",
    "with_boundary_examples",
]

Inputs = Mapping[str, Value]
ModelLike = Model | str | Path
_F = TypeVar("_F", bound=Callable[..., Any])


def _model(model: ModelLike) -> Model:
    return model if isinstance(model, Model) else load_model(model, {})


_TOOLS: dict[tuple[str, str], tuple[Interpreter, TickDrawer]] = {}


def _tools(model: Model) -> tuple[Interpreter, TickDrawer]:
    """One interpreter and drawer per model and params, shared by every strategy."""
    key = (model.source_sha256, repr(sorted(model.params.items())))
    found = _TOOLS.get(key)
    if found is None or found[0].model != model:
        interpreter = Interpreter(model)
        found = _TOOLS[key] = (interpreter, TickDrawer(model, interpreter))
    return found


@dataclass(frozen=True)
class Run:
    """A run of a model: the inputs of every tick and what the interpreter made of them.

    ``configs`` has one more entry than ``inputs`` (the initial configuration first);
    ``transitions[i]`` fired on tick ``i + 1`` (None when no transition was enabled) and
    emitted ``actions[i]``. ``prefix`` is the boundary example the run started with, if
    any; ``ended`` says why the run stopped before its drawn length, if it did.
    """

    model: Model = field(repr=False)
    inputs: tuple[Inputs, ...]
    configs: tuple[Config, ...] = field(repr=False)
    transitions: tuple[Transition | None, ...] = field(repr=False)
    actions: tuple[tuple[ActionValue, ...], ...] = field(repr=False)
    prefix: str = ""
    ended: str = ""

    @property
    def length(self) -> int:
        return len(self.inputs)

    @property
    def final(self) -> Config:
        return self.configs[-1]

    def broken(self) -> tuple[int, tuple[str, ...]] | None:
        """The first tick that breaks a limit (its configuration does) or, with
        instruments or order checks, an order check or a check of version 2 (an order it
        sends, or a final step reached with orders working), with what it breaks."""
        interpreter, _ = _tools(self.model)
        for tick in range(len(self.configs)):
            names = broken_at(interpreter, self, tick)
            if names:
                return tick, tuple(names)
        return None

    def counterexample(self, upto: int | None = None) -> Counterexample:
        """The run (up to tick ``upto``) as the ticks of a counterexample."""
        end = self.length if upto is None else upto
        ticks = [
            tick_row(
                self.model,
                i,
                self.configs[i],
                self.transitions[i - 1] if i else None,
                self.inputs[i - 1] if i else {},
                self.actions[i - 1] if i else (),
            )
            for i in range(end + 1)
        ]
        return Counterexample(tuple(ticks))

    def table(self, limit: str | None = None) -> str:
        """The run as the tick table ``seqprove verify`` prints for a counterexample:
        up to the first broken limit (``limit`` names the one in the heading), or all of
        it when none breaks."""
        broken = self.broken()
        upto = broken[0] if broken else None
        name = limit or (broken[1][0] if broken else "")
        return tick_table(self.model, name, self.counterexample(upto))


def broken_at(interpreter: Interpreter, run: Run, tick: int) -> list[str]:
    """What tick ``tick`` of ``run`` breaks: the limits (and ``final-step-orders``) its
    configuration breaks, then the order checks and ``positive_qty`` its orders break."""
    config = run.configs[tick]
    found = interpreter.broken_checks(config)
    transition = run.transitions[tick - 1] if tick else None
    if transition is not None:
        before, inputs = run.configs[tick - 1], run.inputs[tick - 1]
        result = TickResult(config, transition, run.actions[tick - 1])
        found += interpreter.broken_orders(interpreter.after_fills(before, inputs), inputs, result)
    return found


def tick_table(model: Model, limit: str, cex: Counterexample) -> str:
    """``cex`` drawn as ``verify`` draws a counterexample, as plain text; with no
    ``limit``, headed as a run that broke none."""
    from rich.console import Console, Group
    from rich.text import Text

    from checker.report.terminal import counterexample_table, ticks_table

    console = Console(width=140, no_color=True, record=True, file=io.StringIO())
    found = [ob for ob in model.obligations() if ob.name == limit]
    if found:
        ob = found[0]
        result = LimitResult(
            ob.name, ob.text, ob.line, Verdict.REFUTED, "hypothesis", 0.0, kind=ob.kind
        )
        console.print(counterexample_table(result, cex))
    else:
        heading = Text(f"run of {cex.length} tick(s), no limit broken")
        console.print(Group(heading, ticks_table(cex)))
    return console.export_text()


def _walk(
    model: Model,
    draw: Draw,
    length: int,
    prefix: Sequence[Inputs] = (),
    prefix_name: str = "",
    stop_when_broken: bool = False,
) -> Run:
    """Run ``prefix`` and then ``length`` ticks of drawn inputs."""
    interpreter, drawer = _tools(model)
    config = interpreter.initial()
    inputs: list[Inputs] = []
    configs = [config]
    transitions: list[Transition | None] = []
    actions: list[tuple[ActionValue, ...]] = []
    ended = ""
    for tick in range(len(prefix) + length):
        if tick < len(prefix):
            chosen: Inputs = dict(prefix[tick])
        elif not interpreter.by_step[config.step]:
            ended = f"step '{config.step}' has no transition out"
            break
        else:
            drawn = drawer.draw(draw, config)
            if drawn is None:
                ended = f"no admissible inputs in step '{config.step}' at tick {tick + 1}"
                break
            chosen = drawn
        result = interpreter.step(config, chosen)
        config = result.config
        inputs.append(chosen)
        configs.append(config)
        transitions.append(result.transition)
        actions.append(result.actions)
        if stop_when_broken and (
            interpreter.broken_checks(config)
            or interpreter.broken_orders(
                interpreter.after_fills(configs[-2], chosen), chosen, result
            )
        ):
            ended = f"a limit or check broke at tick {tick + 1}"
            break
    return Run(
        model,
        tuple(inputs),
        tuple(configs),
        tuple(transitions),
        tuple(actions),
        prefix_name,
        ended,
    )


def runs(
    model: ModelLike,
    max_ticks: int = 50,
    min_ticks: int = 0,
    boundary: bool = True,
    boundary_seconds: float = 10.0,
) -> st.SearchStrategy[Run]:
    """Runs of ``model``: ``min_ticks`` to ``max_ticks`` ticks of inputs drawn on the
    configuration reached, each tick's inputs within every range and assumption.

    With ``boundary`` (the default), a run may start with one of the solver's boundary
    examples (see :func:`boundary_examples`) and go on at random from there, so runs
    reach the deep states the solver finds; such a prefix may be longer than
    ``max_ticks``. A run ends early when the current step has no transition out or no
    admissible inputs exist (``Run.ended`` says which).
    """
    m = _model(model)
    _tools(m)
    prefixes: tuple[tuple[Inputs, ...], ...] = ()
    labels: tuple[str, ...] = ()
    if boundary:
        found = boundaries(m, seconds=boundary_seconds)
        by_inputs: dict[str, tuple[str, tuple[Inputs, ...]]] = {}
        for e in found.reachable():
            by_inputs.setdefault(repr(e.inputs), (e.target.label, e.inputs))
        ordered = sorted(by_inputs.values(), key=lambda p: len(p[1]))
        labels = tuple(label for label, _ in ordered)
        prefixes = tuple(inputs for _, inputs in ordered)

    @st.composite
    def strategy(draw: Draw) -> Run:
        # half the runs start with a boundary example, half at the initial configuration
        # (which is what a failing run shrinks to first)
        chosen = draw(st.integers(0, len(prefixes) - 1)) if prefixes and draw(st.booleans()) else -1
        prefix = prefixes[chosen] if chosen >= 0 else ()
        length = draw(st.integers(max(0, min_ticks - len(prefix)), max(0, max_ticks - len(prefix))))
        return _walk(m, draw, length, prefix, labels[chosen] if chosen >= 0 else "")

    return strategy()


def input_sequences(
    model: ModelLike,
    max_ticks: int = 50,
    min_ticks: int = 0,
    boundary: bool = True,
    boundary_seconds: float = 10.0,
) -> st.SearchStrategy[list[dict[str, Value]]]:
    """Input sequences of ``model`` (one dict of input values per tick): the inputs of
    :func:`runs`, with the same arguments."""
    return runs(model, max_ticks, min_ticks, boundary, boundary_seconds).map(
        lambda run: [dict(i) for i in run.inputs]
    )


def boundary_examples(model: ModelLike, seconds: float = 10.0) -> list[Example]:
    """The solver's boundary examples of ``model`` that a run reaches (see
    :mod:`checker.testing.boundary`), shortest first."""
    m = _model(model)
    return sorted(boundaries(m, seconds=seconds).reachable(), key=lambda e: len(e.inputs))


def with_boundary_examples(
    model: ModelLike, argument: str = "inputs", seconds: float = 10.0
) -> Callable[[_F], _F]:
    """A decorator giving a ``@given`` test every boundary example's input sequence as a
    Hypothesis explicit example for its ``argument``, so they run first, every time::

        @with_boundary_examples(MODEL)
        @given(inputs=input_sequences(MODEL))
        def test_something(inputs): ...
    """

    def decorate(test: _F) -> _F:
        for found in reversed(boundary_examples(model, seconds)):
            sequence = [dict(i) for i in found.inputs]
            test = example(**{argument: sequence}).via(found.target.label)(test)
        return test

    return decorate


class ProverMismatch(AssertionError):
    """A user's implementation of a prover disagrees with the model's."""


def assert_prover_matches(
    model: ModelLike,
    prover_name: str,
    function: Callable[..., object],
    max_examples: int = 200,
    max_ticks: int = 30,
    boundary_seconds: float = 10.0,
    settings_: settings | None = None,
) -> None:
    """Property-test that ``function`` computes the prover ``prover_name``: called with
    the state and the inputs of a tick as keyword arguments (only those it declares,
    unless it takes ``**kwargs``), its truth must equal the prover's.

    The solver's points just inside and just outside each atom of the prover (on any
    configuration, and on reachable ones where the search finds them) run first, as
    Hypothesis explicit examples; then ``max_examples`` ticks drawn at the end of random
    runs of up to ``max_ticks`` ticks. A disagreement raises :class:`ProverMismatch`
    with the state, the inputs, both answers and the prover's text.
    """
    m = _model(model)
    found = [p for p in m.provers if p.name == prover_name]
    if not found:
        names = ", ".join(p.name for p in m.provers) or "none"
        raise KeyError(f"model '{m.strategy}' has no prover '{prover_name}' (provers: {names})")
    prover = found[0]
    interpreter, drawer = _tools(m)
    holds = interpreter.provers[prover_name]
    accepts = _parameters(function, m)
    points = boundaries(m, seconds=boundary_seconds, only=("prover", prover_name)).examples

    def compare(config: Config, inputs: Inputs, why: str) -> None:
        env = {**config.values, **inputs}
        expected = bool(holds(env))
        kwargs = {
            n: _user_value(m, n, v) for n, v in env.items() if accepts is None or n in accepts
        }
        got = function(**kwargs)
        if bool(got) != expected:
            raise ProverMismatch(
                f"prover '{prover_name}' (line {prover.line}): {prover.text}\n"
                f"  model says {expected}, {getattr(function, '__name__', 'function')} "
                f"returned {got!r}\n"
                f"  step: {config.step}\n"
                f"  state: {_show(m, config.values)}\n"
                f"  inputs: {_show(m, inputs)}" + (f"\n  example: {why}" if why else "")
            )

    @st.composite
    def ticks(draw: Draw) -> tuple[Config, Inputs, str]:
        run = _walk(m, draw, draw(st.integers(0, max_ticks)))
        inputs = drawer.draw(draw, run.final)
        if inputs is None:
            from hypothesis import reject

            reject()
        assert inputs is not None
        return run.final, inputs, ""

    def test(case: tuple[Config, Inputs, str]) -> None:
        compare(*case)

    wrapped: Callable[..., None] = given(case=ticks())(test)
    for point in reversed(points):
        wrapped = example(case=(point.config, point.point, point.target.label))(wrapped)
    chosen = settings_ or settings(max_examples=max_examples, deadline=None)
    chosen(wrapped)()


def _parameters(function: Callable[..., object], model: Model) -> set[str] | None:
    """The names ``function`` takes (None when it takes ``**kwargs``); a name that is
    neither a state variable nor an input is an error at once."""
    signature = inspect.signature(function)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    known = {v.name for v in (*model.state, *model.inputs)}
    names = set(signature.parameters)
    unknown = sorted(names - known)
    if unknown:
        raise TypeError(
            f"{getattr(function, '__name__', 'function')} takes {', '.join(unknown)}, which "
            f"the model does not have (state and inputs: {', '.join(sorted(known))})"
        )
    return names


def _user_value(model: Model, name: str, value: Value) -> object:
    var = model.variable(name)
    return var.type.values[int(value)] if var.type.kind == "enum" else value


def _show(model: Model, values: Mapping[str, Value]) -> str:
    return ", ".join(f"{n}={model.variable(n).show(v)}" for n, v in values.items()) or "-"


def model_state_machine(
    model: ModelLike, boundary: bool = True, boundary_seconds: float = 10.0
) -> type[RuleBasedStateMachine]:
    """A ``RuleBasedStateMachine`` for ``model``. Its rule ``tick`` draws one tick of
    admissible inputs on the current configuration and runs it; its invariant
    ``limits_hold`` fails, with the run so far as a tick table, when a limit breaks.
    With ``boundary``, a run may first follow one of the solver's boundary examples.

    Subclass it and add ``@invariant()`` methods of your own; they can read
    ``self.config`` (step and values), ``self.values``, ``self.step``, ``self.run`` (a
    :class:`Run` of the ticks so far) and ``self.model``. Use ``Machine.TestCase`` with
    pytest or unittest.
    """
    m = _model(model)
    interpreter, drawer = _tools(m)
    prefixes: list[tuple[str, tuple[Inputs, ...]]] = [("", ())]
    if boundary:
        for e in boundary_examples(m, boundary_seconds):
            prefixes.append((e.target.label, e.inputs))

    class ModelMachine(RuleBasedStateMachine):
        """One tick per rule; the model's limits as the invariant."""

        def __init__(self) -> None:
            super().__init__()
            self.model = m
            self.config = interpreter.initial()
            self._inputs: list[Inputs] = []
            self._configs = [self.config]
            self._transitions: list[Transition | None] = []
            self._actions: list[tuple[ActionValue, ...]] = []
            self.stuck = ""

        @property
        def values(self) -> Mapping[str, Value]:
            return self.config.values

        @property
        def step(self) -> str:
            return self.config.step

        @property
        def run(self) -> Run:
            return Run(
                m,
                tuple(self._inputs),
                tuple(self._configs),
                tuple(self._transitions),
                tuple(self._actions),
            )

        def _advance(self, inputs: Inputs) -> None:
            result = interpreter.step(self.config, inputs)
            self.config = result.config
            self._inputs.append(inputs)
            self._configs.append(self.config)
            self._transitions.append(result.transition)
            self._actions.append(result.actions)

        @initialize(start=st.sampled_from(prefixes))
        def begin(self, start: tuple[str, tuple[Inputs, ...]]) -> None:
            """Follow a boundary example first (or none: the first choice)."""
            for inputs in start[1]:
                self._advance(inputs)

        @rule(data=st.data())
        def tick(self, data: st.DataObject) -> None:
            """One tick: admissible inputs on the current configuration. Once the run
            cannot go on (a step with no transition out, or no admissible inputs), a
            tick changes nothing, and ``self.stuck`` says why."""
            if self.stuck:
                return
            if not interpreter.by_step[self.config.step]:
                self.stuck = f"step '{self.config.step}' has no transition out"
                return
            inputs = drawer.draw(data.draw, self.config)
            if inputs is None:
                self.stuck = f"no admissible inputs in step '{self.config.step}'"
                return
            self._advance(inputs)

        @invariant()
        def limits_hold(self) -> None:
            """Every limit holds and, with instruments or order checks, every order
            check and check of version 2."""
            broken = broken_at(interpreter, self.run, len(self._inputs))
            if broken:
                kinds = {ob.name: ob.kind for ob in m.obligations()}
                named = ", ".join(
                    f"{'order check' if kinds.get(n) == 'order' else kinds.get(n, 'limit')} {n}"
                    for n in broken
                )
                raise AssertionError(
                    f"{named} broken at tick {len(self._inputs)}\n" + self.run.table(broken[0])
                )

    ModelMachine.__name__ = ModelMachine.__qualname__ = _class_name(m.strategy)
    return ModelMachine


def _class_name(strategy: str) -> str:
    parts = [p for p in strategy.replace("_", "-").split("-") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) + "Machine"
