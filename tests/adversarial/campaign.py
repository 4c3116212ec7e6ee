"""The verifier against the bounded exhaustive oracles, limit by limit.

For a generated model (finite inputs, so the oracle is complete up to its depth D):
- the two oracles (interpreter and ``ast``) see the same configurations at every depth,
  the same dead ends and the same shortest breaking depth for every limit;
- a limit the oracle breaks at d <= D is REFUTED with a counterexample of exactly d
  ticks; a PROVED limit is not broken within D (nor ever, when the oracle saw every
  reachable configuration); a REFUTED limit of length L <= D breaks at L in the oracle,
  and one of length L > D is not broken within D; every counterexample replays in the
  ``ast`` oracle;
- the verdict and length of a limit are the same with the file's limits shuffled and
  with the limit alone in the file;
- BMC alone never says PROVED; UNKNOWN is allowed only where the oracle does not break
  the limit within D, and then only from a time-out or an engine incomplete by design
  (BMC past its bound, k-induction past its largest k, Spacer's own unknown), or for a
  model with no admissible inputs in its initial configuration (the checker's loud
  "vacuous" answer).

Language version 2 (:func:`check_v2`) checks every obligation the same way: limits,
order checks, ``positive_qty:LINE`` and ``final-step-orders``, a property of a tick
counted with the tick that sends the order. The oracles enumerate the fills the book
allows (on a grid of one half for a real instrument: a run off the grid may be shorter,
and then it must still replay), the obligations the checker decides must be those the
``ast`` oracle reads from the file, a counterexample not said to be shortest may be
longer, and every counterexample replays in the ``ast`` oracle with the actions it
shows. Once per model, the sanity checks' ``stuck`` and ``dead-end`` findings are held
against the oracle too; :func:`check_stuck` does so for models built to be stuck or not.
"""

from __future__ import annotations

import functools
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from checker.lang.loader import load_text
from checker.results import Counterexample, LimitResult, ModelReport, Severity, Tick, Verdict
from checker.verify import Options, verify_file_model, verify_model
from checker.verify.sanity import COVER_DEPTH
from tests.adversarial.ast_oracle import AstSemantics
from tests.adversarial.models import GenModel
from tests.adversarial.models_v2 import GenModelV2
from tests.adversarial.oracle import REAL_GRID, Exploration, InterpreterSemantics, Key, explore

ENGINES = ("portfolio", "bmc", "kind", "spacer")

STATS: Counter[str] = Counter()
"""What the campaign saw (models, dead ends, verdicts, unknowns by cause), for the
summary the long run prints."""


@dataclass
class Answer:
    verdict: Verdict
    length: int | None
    engine: str
    reason: str
    shortest: bool = True  # a counterexample said to be a shortest one (or none)

    def __str__(self) -> str:
        length = f" length {self.length}" if self.length is not None else ""
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.verdict.name}{length} by {self.engine}{why}"


def _answer(result: LimitResult) -> Answer:
    ce = result.counterexample
    return Answer(
        result.verdict,
        ce.length if ce else None,
        result.engine,
        result.reason,
        ce.shortest if ce else True,
    )


def _timed_out(a: Answer) -> bool:
    """Out of its resource budget (or, on a machine slow beyond the guard, of time)."""
    return a.verdict is Verdict.UNKNOWN and (
        "resource budget" in a.reason or "time limit" in a.reason
    )


@dataclass
class Failure:
    problems: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.problems.append(text)


def oracles(gm: GenModel, depth: int) -> Exploration:
    """The interpreter oracle, checked against the ``ast`` oracle."""
    text = gm.text()
    model = load_text(text, "generated.yaml")
    by_interpreter = explore(InterpreterSemantics(model), depth)
    by_ast = explore(AstSemantics(text), by_interpreter.depth)
    assert by_ast.depth == by_interpreter.depth, "the oracles stopped at different depths"
    for d, (a, b) in enumerate(zip(by_interpreter.levels, by_ast.levels, strict=False)):
        assert a == b, (
            f"the two oracles disagree at depth {d}:\n{text}\n"
            f"interpreter only: {sorted(a - b)}\nast only: {sorted(b - a)}"
        )
    assert len(by_interpreter.levels) == len(by_ast.levels), f"levels differ\n{text}"
    assert by_interpreter.shortest == by_ast.shortest, f"shortest differ\n{text}"
    assert by_interpreter.dead_ends == by_ast.dead_ends, f"dead ends differ\n{text}"
    return by_interpreter


BUDGET = 10_000_000
"""Resource units per limit: a few seconds of z3 work, the same on every machine, so a
run of the campaign repeats whatever else the machine is doing."""


def _options(engine: str, timeout: float) -> Options:
    return Options(
        engine=engine, budget=BUDGET, timeout=timeout, sanity=False, bmc_depth=12, max_k=12
    )


def _verify(text: str, engine: str, timeout: float) -> ModelReport | str:
    """The verifier's report, or the exception it raised, as text."""
    model = load_text(text, "generated.yaml")
    try:
        return verify_model(model, _options(engine, timeout))
    except Exception as exc:  # a crash is a finding like any other
        return f"{type(exc).__name__}: {exc}"


def judge(limit: str, a: Answer, ex: Exploration, engine: str) -> list[str]:
    """What is wrong with answer ``a`` for ``limit`` given the oracle's exploration."""
    d = ex.shortest[limit]
    wrong = []
    if a.verdict is Verdict.PROVED:
        if engine == "bmc":
            wrong.append("BMC alone said PROVED")
        if d is not None:
            wrong.append(f"PROVED, but the oracle breaks it at tick {d}")
    elif a.verdict is Verdict.REFUTED:
        assert a.length is not None
        if d is not None and a.length != d:
            wrong.append(f"REFUTED with length {a.length}, but the shortest run has {d} ticks")
        if d is None and a.length <= ex.depth:
            wrong.append(f"REFUTED with length {a.length}, but no run of <= {ex.depth} breaks it")
        if d is None and ex.complete:
            wrong.append("REFUTED, but the oracle saw every reachable configuration")
    elif d is not None:  # a time-out too: the model is tiny and the run short
        wrong.append(f"UNKNOWN ({a.reason}), but the oracle breaks it at tick {d}")
    elif a.engine == "sanity" and a.reason.startswith("vacuous") and ex.initial_dead_end:
        pass  # the contract asks for a loud warning; UNKNOWN is the checker's choice
    elif not _timed_out(a) and not _incomplete_by_design(engine, a):
        wrong.append(f"UNKNOWN for a reason other than a time-out: {a.reason}")
    return wrong


def _incomplete_by_design(engine: str, a: Answer) -> bool:
    reason = a.reason
    if "Uninterpreted" in reason:
        return False  # a query the solver refuses is malformed: a bug, not incompleteness
    if engine == "bmc":
        return reason.startswith("bounded:")
    if engine == "kind":  # a limit, or a property of a tick (only its base case runs)
        return reason.startswith(("not k-inductive", "not implied by the state's lemmas"))
    if engine == "spacer":
        return "solver returned unknown" in reason or "spacer" in reason
    return reason.startswith("spacer:")  # the portfolio ran out of engines


def replay_in_ast(gm: GenModel, result: LimitResult) -> str | None:
    """Replay a counterexample in the ``ast`` oracle; None when it is a real run that
    ends by breaking the limit, else what is wrong."""
    sem = AstSemantics(gm.text())
    assert result.counterexample is not None
    config = sem.initial()
    ticks = result.counterexample.ticks
    for tick in ticks[1:]:
        inputs = dict(tick.inputs)
        if not sem.admissible(config, inputs):
            return f"tick {tick.tick}: inputs {inputs} are not admissible in {config}"
        config = sem.step(config, inputs)
        shown = {
            k: Fraction(v) if sem.state[k]["type"] == "real" else v for k, v in tick.state.items()
        }
        if config != (tick.step, tuple(sorted(shown.items()))):
            shows = f"{tick.step} {shown}"
            return f"tick {tick.tick}: the run reaches {config}, the counterexample shows {shows}"
    if result.name not in sem.broken(config):
        return f"the last configuration {config} does not break {result.name}"
    return None


def _verified(
    texts: Mapping[str, str], engine: str, timeout: float, problems: list[str]
) -> Iterator[tuple[str, str, ModelReport]]:
    """Each variant's text verified by ``engine``: (variant, text, report) for every one
    that gave a report; a verifier that raised or had an internal error is a problem of
    its variant instead. A structurally bad model is the generator's fault."""
    for variant, text in texts.items():
        report = _verify(text, engine, timeout)
        if isinstance(report, str):
            problems.append(f"[{variant}] the verifier raised {report}")
            continue
        if report.internal_error:
            problems.append(f"[{variant}] internal error: {report.internal_error}")
            continue
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        assert not errors, f"the generator made a structurally bad model: {errors}\n{text}"
        yield variant, text, report


def check(gm: GenModel, engine: str, depth: int, seed: int, timeout: float = 120.0) -> None:
    """Every check of the module docstring for one model and one engine; an
    AssertionError names the model, the limit, both answers and the shortest run."""
    ex = oracles(gm, depth)
    STATS["models"] += 1
    STATS["models with dead ends"] += bool(ex.dead_ends)
    STATS["models explored completely"] += ex.complete
    STATS["models whose initial configuration is a dead end"] += ex.initial_dead_end
    problems: list[str] = []
    names = [name for name, _ in gm.limits]
    shuffled = list(gm.limits)
    random.Random(seed).shuffle(shuffled)
    variants: dict[str, tuple[str, list[str]]] = {
        "file": (gm.text(), names),
        "shuffled": (gm.text(tuple(shuffled)), [n for n, _ in shuffled]),
    }
    for name in names:
        variants[f"alone:{name}"] = (gm.alone(name), [name])
    answers: dict[str, dict[str, Answer]] = {}
    texts = {variant: text for variant, (text, _) in variants.items()}
    for variant, _, report in _verified(texts, engine, timeout, problems):
        answers[variant] = {}
        for result in report.limits:
            a = _answer(result)
            answers[variant][result.name] = a
            STATS[f"{engine} {a.verdict.name}"] += 1
            if a.verdict is Verdict.UNKNOWN:
                STATS[f"{engine} UNKNOWN ({'time-out' if _timed_out(a) else 'incomplete'})"] += 1
            for wrong in judge(result.name, a, ex, engine):
                problems.append(f"[{variant}] {result.name}: {wrong}")
            if result.counterexample is not None:
                bad = replay_in_ast(gm, result) if variant == "file" else None
                if bad:
                    problems.append(f"[{variant}] {result.name}: counterexample: {bad}")
    full = answers.get("file", {})
    for variant, found in answers.items():
        for name, a in found.items():
            b = full.get(name)
            if b is None or _timed_out(a) or _timed_out(b):
                continue
            if (a.verdict, a.length) != (b.verdict, b.length):
                problems.append(
                    f"[{variant}] {name}: {a} here, but {b} in the whole file (verdict depends "
                    "on the other limits)"
                )
    if problems:
        STATS["failing checks"] += 1
        order = ", ".join(n for n, _ in shuffled)
        problems.append(f"(the shuffled file lists its limits as {order})")
        raise AssertionError(_explain(gm, engine, ex, problems, answers))


def _explain(
    gm: GenModel,
    engine: str,
    ex: Exploration,
    problems: list[str],
    answers: dict[str, dict[str, Answer]],
) -> str:
    lines = [f"engine {engine}: {len(problems)} problem(s)", *(f"  {p}" for p in problems)]
    lines += [
        "",
        "model:",
        gm.text(),
        "oracle (depth {}, {}):".format(ex.depth, "complete" if ex.complete else "bounded"),
    ]
    for name, _ in gm.limits:
        d = ex.shortest[name]
        lines.append(f"  {name}: " + (f"broken at tick {d}" if d is not None else "not broken"))
        for variant, found in answers.items():
            if name in found:
                lines.append(f"      verifier [{variant}]: {found[name]}")
        if d is not None:
            lines.append(ex.show_run(name))
    if ex.dead_ends:
        lines.append(f"dead ends reached: {sorted(ex.dead_ends)[:6]}")
    return "\n".join(lines)


def summary() -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(STATS.items()))


# -- language version 2: instruments and the book -------------------------------------------

V2_MAX_WORK = 60_000
"""Input vectors (fills included) the interpreter oracle may try before it stops going
deeper; the exploration is exact up to the depth it reached."""


def oracles_v2(gm: GenModelV2, depth: int, max_work: int = V2_MAX_WORK) -> Exploration:
    """The interpreter oracle, checked against the ``ast`` oracle: the same obligations
    (read independently from the file), the same configurations at every depth, the
    same dead ends and the same shortest run for every obligation. (Kept for the
    model's next engine: the campaign draws the same models for each.)"""
    return _oracles_v2(gm.text(), depth, max_work)


@functools.lru_cache(maxsize=8)
def _oracles_v2(text: str, depth: int, max_work: int) -> Exploration:
    model = load_text(text, "generated.yaml")
    sem = InterpreterSemantics(model)
    ast_sem = AstSemantics(text)
    assert sem.limit_names == ast_sem.limit_names, (
        f"the checker decides {sem.limit_names}, the contract asks for "
        f"{ast_sem.limit_names}\n{text}"
    )
    by_interpreter = explore(sem, depth, max_work=max_work)
    by_ast = explore(ast_sem, by_interpreter.depth)
    assert by_ast.depth == by_interpreter.depth, f"the oracles stopped at different depths\n{text}"
    for d, (a, b) in enumerate(zip(by_interpreter.levels, by_ast.levels, strict=False)):
        assert a == b, (
            f"the two oracles disagree at depth {d}:\n{text}\n"
            f"interpreter only: {sorted(a - b)[:4]}\nast only: {sorted(b - a)[:4]}"
        )
    assert len(by_interpreter.levels) == len(by_ast.levels), f"levels differ\n{text}"
    assert by_interpreter.shortest == by_ast.shortest, (
        f"shortest differ\n{text}\ninterpreter {by_interpreter.shortest}\nast {by_ast.shortest}"
    )
    assert by_interpreter.dead_ends == by_ast.dead_ends, f"dead ends differ\n{text}"
    return by_interpreter


def _number(value: Any) -> Any:
    """A value of a counterexample's JSON as a number (exact reals are text)."""
    return Fraction(value) if isinstance(value, str) else value


def _shown_state(sem: AstSemantics, tick: Tick) -> Key:
    values: dict[str, Any] = {}
    for name, value in tick.state.items():
        if name in sem.state:
            kind = sem.state[name]["type"]
            values[name] = Fraction(str(value)) if kind == "real" else value
        else:  # the book
            values[name] = _number(value)
    for i in sem.instruments:
        for side in ("buy", "sell"):
            values.setdefault(f"{i}.pending_{side}", 0)
    return (tick.step, tuple(sorted(values.items())))


def _shown_inputs(sem: AstSemantics, tick: Tick) -> dict[str, Any]:
    return {
        name: value if name in sem.inputs else _number(value) for name, value in tick.inputs.items()
    }


def _shown_actions(tick: Tick) -> list[dict[str, Any]]:
    return [
        {
            "action": a["action"],
            "instrument": a.get("instrument", ""),
            "side": a.get("side"),
            "qty": _number(a["qty"]) if "qty" in a else None,
            "price": _number(a["price"]) if "price" in a else None,
            "tif": a.get("tif"),
        }
        for a in tick.actions
    ]


def off_grid(run: Counterexample) -> bool:
    """Whether a run uses a fill the exhaustive search does not enumerate (a real fill
    off the grid of one half)."""
    for tick in run.ticks[1:]:
        for name, value in tick.inputs.items():
            if "." in name and Fraction(_number(value)) % REAL_GRID != 0:
                return True
    return False


def replay_v2(text: str, name: str, run: Counterexample) -> str | None:
    """Replay a run in the ``ast`` oracle; None when every tick is admissible, reaches
    the configuration shown with the actions shown, and (``name`` not empty) the run
    ends by breaking ``name``: its last configuration, or for an order check or
    ``positive_qty`` an order its last tick sends. Otherwise what is wrong."""
    sem = AstSemantics(text)
    config = sem.initial()
    if sem.key(config) != _shown_state(sem, run.ticks[0]):
        return f"tick 0: the run starts in {run.ticks[0].state}, the model in {sem.key(config)}"
    bad: list[str] = []
    for tick in run.ticks[1:]:
        inputs = _shown_inputs(sem, tick)
        if not sem.admissible(config, inputs):
            return f"tick {tick.tick}: inputs {inputs} are not admissible in {sem.key(config)}"
        sent = sem.sent(config, inputs)
        if sent != _shown_actions(tick):
            return f"tick {tick.tick}: the run shows actions {tick.actions}, the model sends {sent}"
        config, bad = sem.transition(config, inputs)
        if sem.key(config) != _shown_state(sem, tick):
            shows = f"{tick.step} {dict(tick.state)}"
            return f"tick {tick.tick}: the run reaches {sem.key(config)}, it shows {shows}"
    if not name:
        return None
    if name in sem.tick_names:
        if name not in bad:
            return f"the last tick sends no order that breaks {name}"
    elif name not in sem.broken(config):
        return f"the last configuration {sem.key(config)} does not break {name}"
    return None


def judge_v2(
    name: str, a: Answer, ex: Exploration, engine: str, grid: bool, off: bool
) -> list[str]:
    """What is wrong with answer ``a`` for obligation ``name``. With ``grid`` (a real
    instrument) the oracle saw only the fills on its grid: a run of it is a run of the
    model, but the model may have shorter ones off the grid (``off``: the verifier's
    run is one)."""
    d = ex.shortest[name]
    if a.verdict is Verdict.REFUTED and grid and off:
        assert a.length is not None
        if d is not None and a.length > d and a.shortest:
            return [f"REFUTED with length {a.length} (marked shortest), but a run of {d} breaks it"]
        return []  # a real run the grid does not hold; replayed in the ast oracle
    if a.verdict is Verdict.REFUTED and not a.shortest:
        assert a.length is not None
        if d is not None and a.length < d:
            return [f"REFUTED with length {a.length}, but the shortest run has {d} ticks"]
        if d is not None or a.length > ex.depth:
            return []  # a run, not said to be a shortest one
    wrong = judge(name, a, ex, engine)
    if grid:  # the oracle's "every reachable configuration" is every one on its grid
        wrong = [w for w in wrong if "saw every reachable" not in w]
    return wrong


def check_v2(
    gm: GenModelV2,
    engine: str,
    depth: int,
    seed: int,
    timeout: float = 120.0,
    max_work: int = V2_MAX_WORK,
) -> None:
    """For one version-2 model and one engine: every obligation (limits, order checks,
    ``positive_qty:LINE``, ``final-step-orders``) of the whole file, of a shuffled file
    and of each limit or order check alone, against the oracle; every counterexample
    replayed in the ``ast`` oracle; verdicts independent of the other obligations."""
    ex = oracles_v2(gm, depth, max_work)
    grid = "qty: real" in gm.head
    STATS["v2 models"] += 1
    STATS["v2 models with dead ends"] += bool(ex.dead_ends)
    STATS["v2 models explored completely"] += ex.complete and not grid
    STATS["v2 models with a real instrument"] += grid
    problems: list[str] = []
    names = gm.names
    order = list(range(len(names)))
    random.Random(seed).shuffle(order)
    variants: dict[str, str] = {"file": gm.text(), "shuffled": gm.shuffled(order)}
    for name in names:
        variants[f"alone:{name}"] = gm.alone(name)
    answers: dict[str, dict[str, Answer]] = {}
    for variant, text, report in _verified(variants, engine, timeout, problems):
        answers[variant] = {}
        for result in report.limits:
            if result.name not in ex.shortest:
                continue  # the limit a file with an order check alone keeps
            a = _answer(result)
            answers[variant][result.name] = a
            STATS[f"{engine} {result.kind} {a.verdict.name}"] += 1
            if a.verdict is Verdict.UNKNOWN:
                why = "time-out" if _timed_out(a) else "incomplete"
                STATS[f"{engine} {result.kind} UNKNOWN ({why})"] += 1
            ce = result.counterexample
            off = ce is not None and off_grid(ce)
            STATS[f"{engine} counterexamples off the grid"] += off
            STATS[f"{engine} counterexamples not shown shortest"] += bool(ce and not ce.shortest)
            for wrong in judge_v2(result.name, a, ex, engine, grid, off):
                problems.append(f"[{variant}] {result.name}: {wrong}")
            if ce is not None:
                bad = replay_v2(text, result.name, ce)
                if bad:
                    problems.append(f"[{variant}] {result.name}: counterexample: {bad}")
    if engine == "portfolio":  # the findings of the sanity checks, once per model
        problems += sanity_v2(gm, ex, grid, timeout)
    full = answers.get("file", {})
    for variant, found in answers.items():
        for name, a in found.items():
            b = full.get(name)
            if b is None or _timed_out(a) or _timed_out(b) or not (a.shortest and b.shortest):
                continue
            if (a.verdict, a.length) != (b.verdict, b.length):
                problems.append(
                    f"[{variant}] {name}: {a} here, but {b} in the whole file (verdict depends "
                    "on the other obligations)"
                )
    if problems:
        STATS["failing checks"] += 1
        problems.append(f"(the shuffled file lists them as {', '.join(names[k] for k in order)})")
        raise AssertionError(_explain_v2(gm, engine, ex, problems, answers))


DEAD_END_AFTER = re.compile(r"after (\d+) tick\(s\) the run can reach step")


def sanity_v2(gm: GenModelV2, ex: Exploration, grid: bool, timeout: float) -> list[str]:
    """The whole file verified with the sanity checks on, as ``seqprove verify`` does:
    no internal error; a ``stuck`` warning's run replays in the ``ast`` oracle and ends
    where the oracle finds no order and no final step within :data:`AHEAD` ticks; a
    ``dead-end`` warning names the oracle's first dead end (its depth), and where the
    oracle reaches a dead end the checker warns of one (on a model without a real
    instrument, whose dead ends the grid may not show exactly); a dead end in the
    initial configuration is the ``vacuous-assumptions`` warning."""
    text = gm.text()
    options = Options(budget=BUDGET, timeout=timeout, sanity=True, bmc_depth=12, max_k=12)
    report = verify_file_model(load_text(text, "generated.yaml"), options)
    if report.internal_error:
        return [f"[sanity] internal error: {report.internal_error}"]
    problems = []
    sem = AstSemantics(text)
    for finding in report.findings:
        if finding.rule == "stuck" and finding.severity is Severity.WARNING:
            STATS["v2 stuck warnings"] += 1
            if finding.run is None:
                problems.append("[sanity] a stuck warning without its run")
                continue
            bad = replay_v2(text, "", finding.run)
            if bad:
                problems.append(f"[sanity] the stuck run does not replay: {bad}")
                continue
            end = sem.from_key(_shown_state(sem, finding.run.ticks[-1]))
            if can_place_or_halt(sem, end):
                problems.append(f"[sanity] stuck at {sem.key(end)}, but the oracle escapes")
    first = next((d for d, level in enumerate(ex.levels) if level & ex.dead_ends), None)
    # a dead end in the initial configuration is reported as vacuous assumptions
    vacuous = [f for f in report.findings if f.rule == "vacuous-assumptions"]
    shown = [f for f in report.findings if f.rule.startswith("dead-end")] + vacuous
    STATS["v2 dead-end warnings"] += bool(shown)
    if grid or any(f.rule == "dead-end-unchecked" for f in shown):
        return problems
    depths = [int(m.group(1)) for f in shown if (m := DEAD_END_AFTER.search(f.message))]
    depths += [0] * len(vacuous)
    if first is not None and not shown and first <= COVER_DEPTH:
        problems.append(f"[sanity] no dead-end warning, but the oracle reaches one at {first}")
    for depth in depths:
        if first is not None and depth != first:
            problems.append(f"[sanity] a dead end after {depth} tick(s), the first is at {first}")
        if first is None and (depth < ex.depth or ex.complete):  # levels < depth expanded
            problems.append(f"[sanity] a dead end after {depth} tick(s) the oracle never sees")
    return problems


def _explain_v2(
    gm: GenModelV2,
    engine: str,
    ex: Exploration,
    problems: list[str],
    answers: dict[str, dict[str, Answer]],
) -> str:
    lines = [f"engine {engine}: {len(problems)} problem(s)", *(f"  {p}" for p in problems)]
    lines += [
        "",
        "model:",
        gm.text(),
        "oracle (depth {}, {}):".format(ex.depth, "complete" if ex.complete else "bounded"),
    ]
    for name in ex.shortest:
        d = ex.shortest[name]
        lines.append(f"  {name}: " + (f"broken at tick {d}" if d is not None else "not broken"))
        for variant, found in answers.items():
            if name in found:
                lines.append(f"      verifier [{variant}]: {found[name]}")
        if d is not None:
            lines.append(ex.show_run(name))
    if ex.dead_ends:
        lines.append(f"dead ends reached: {sorted(ex.dead_ends)[:4]}")
    return "\n".join(lines)


# -- the stuck finder ---------------------------------------------------------------------------

AHEAD = 8
"""Ticks the oracle looks ahead from a configuration for an order or a final step (twice
the finder's own lookahead)."""


def can_place_or_halt(sem: AstSemantics, config: Key, ahead: int = AHEAD) -> bool:
    """Whether some run of at most ``ahead`` ticks from ``config`` fires a transition
    that places an order or reaches a final step (every input and fill enumerated)."""
    if config[0] in sem.final:
        return True
    level = {sem.key(config): config}
    seen = set(level)
    for _ in range(ahead):
        following: dict[Key, Key] = {}
        for here in level.values():
            for inputs in sem.vectors(here):
                if not sem.admissible(here, inputs):
                    continue
                if any(a["action"] == "place" for a in sem.sent(here, inputs)):
                    return True
                after, _ = sem.transition(here, inputs)
                if after[0] in sem.final:
                    return True
                k = sem.key(after)
                if k not in seen:
                    seen.add(k)
                    following[k] = after
        if not following:
            return False
        level = following
    return False


def check_stuck(text: str, planted: bool, depth: int = 6, timeout: float = 120.0) -> None:
    """The ``stuck`` check of a model against the ``ast`` oracle. With a planted stuck
    configuration: one warning, its run replays, and its last configuration is outside
    the final steps, admits inputs, and no run of :data:`AHEAD` ticks from it places an
    order or reaches a final step. Without: the oracle shows every configuration reached
    within ``depth`` ticks can place or halt within :data:`AHEAD`, and there is no
    warning."""
    sem = AstSemantics(text)
    report = verify_file_model(load_text(text, "stuck.yaml"), Options(timeout=timeout))
    assert report.internal_error is None, f"{report.internal_error}\n{text}"
    found = [f for f in report.findings if f.rule == "stuck"]
    warnings = [f for f in found if f.severity is Severity.WARNING]
    STATS[f"stuck {'planted' if planted else 'free'} models"] += 1
    if planted:
        notes = "; ".join(f.message for f in found)
        assert len(warnings) == 1, f"no stuck warning for a planted one ({notes})\n{text}"
        run = warnings[0].run
        assert run is not None, f"a stuck warning without its run\n{text}"
        bad = replay_v2(text, "", run)
        assert bad is None, f"the stuck run does not replay: {bad}\n{text}"
        end = sem.from_key(_shown_state(sem, run.ticks[-1]))
        assert end[0] not in sem.final, f"stuck in a final step\n{text}"
        assert any(sem.admissible(end, v) for v in sem.vectors(end)), f"a dead end\n{text}"
        assert not can_place_or_halt(sem, end), (
            f"the oracle places an order or halts from {sem.key(end)}, reported stuck:\n"
            f"{warnings[0].message}\n{text}"
        )
        STATS["stuck found"] += 1
        return
    ex = explore(sem, depth)
    for d, level in enumerate(ex.levels):
        for key in level:
            assert can_place_or_halt(sem, sem.from_key(key)), (
                f"the generator planted a stuck configuration: {key} at depth {d}\n{text}"
            )
    assert not warnings, (
        f"a stuck warning where the oracle finds none:\n{warnings[0].message}\n{text}"
    )
    STATS["stuck: no warning where none"] += 1
