"""Obligations -> engines -> verdicts: verify every limit of a model, run the sanity
checks, and replay every counterexample before it is reported."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import multiprocessing.context
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import z3

from checker.analysis import structural_findings
from checker.audit import Session, confirm
from checker.engines import Budget, Unroller
from checker.engines.base import Outcome
from checker.engines.bmc import bmc_together
from checker.engines.houdini import Lemmas, houdini
from checker.engines.spacer import quantified
from checker.errors import ModelError
from checker.files import collect_files
from checker.interpret import Interpreter
from checker.lang.loader import load_model
from checker.model import Model, Obligation, decimal_text
from checker.results import Finding, LimitResult, ModelReport, Report, Severity, Verdict
from checker.smt.decode import invariant_by_step

if TYPE_CHECKING:
    from checker.certify import Exporter
from checker.options import DEFAULT_OPTIONS, Options
from checker.smt.system import TransitionSystem
from checker.verify import sanity
from checker.verify.portfolio import prove
from checker.verify.stuck import stuck
from checker.verify.trace import extract, replay

Progress = Callable[[str, int], None]
"""Told what is being proved and how many limits of the model are decided so far."""

__all__ = [
    "DEFAULT_OPTIONS",
    "Options",
    "collect_files",
    "verify_file",
    "verify_file_model",
    "verify_model",
    "verify_models",
    "verify_paths",
]


def _quiet(message: str, finished: int) -> None:
    return None


def _show_param(value: int | Fraction) -> int | str:
    """Like values in counterexamples: an int param as a number, a real one as exact
    text."""
    return decimal_text(value) if isinstance(value, Fraction) else value


def _result(
    lim: Obligation, seconds: float, verdict: Verdict, engine: str, reason: str = "", **found: Any
) -> LimitResult:
    return LimitResult(
        lim.name, lim.text, lim.line, verdict, engine, seconds, reason, kind=lim.kind, **found
    )


def verify_model(
    model: Model,
    options: Options = DEFAULT_OPTIONS,
    progress: Progress = _quiet,
    exporter: Exporter | None = None,
    only: frozenset[str] | None = None,
) -> ModelReport:
    """Verify every limit of ``model`` and run the structural and sanity checks; with
    ``exporter``, hand it the proof obligations of every proved limit. With ``only``,
    verify those limits (and checks) alone.

    Raises
    ------
    InternalError
        When a counterexample does not replay (a bug in seqprove).
    """
    started = time.monotonic()
    system = TransitionSystem(model)
    interpreter = Interpreter(model)
    unroller = Unroller(system)
    findings: list[Finding] = structural_findings(model)
    findings += sanity.nonlinear(model)
    nonlinear_note = " (the model is nonlinear)" if sanity.proofs_are_nonlinear(model) else ""

    def budget(limits: int = 1) -> Budget:
        return Budget(system.meter, options.budget * limits, options.timeout * limits)

    check = sanity.initially_admissible(system, budget())
    vacuous = check == z3.unsat
    if vacuous:
        findings.append(sanity.vacuity_finding(model))

    obligations = tuple(ob for ob in model.obligations() if only is None or ob.name in only)
    lemmas: Lemmas | None = None
    lemma_seconds = 0.0
    together: dict[str, Outcome] = {}
    together_seconds = 0.0
    if options.engine == "bmc" and not vacuous and obligations:
        # BMC alone asks one question per depth for all the limits of the model (and
        # one for all the properties of a tick, such as order checks)
        progress(f"{model.strategy}: bounded search", 0)
        begun = time.monotonic()
        for ticks in (False, True):
            props = {
                ob.name: system.props[ob.name]
                for ob in obligations
                if (ob.name in system.reads_inputs) == ticks
            }
            if props:
                together |= bmc_together(
                    unroller, props, options.bmc_depth, budget(len(props)), reads_inputs=ticks
                )
        together_seconds = time.monotonic() - begun
    if options.engine == "portfolio" and not vacuous:
        progress(f"{model.strategy}: inductive lemmas", 0)
        begun = time.monotonic()
        lemmas = houdini(system, budget())
        lemma_seconds = time.monotonic() - begun

    results: list[LimitResult] = []
    shown: dict[str, dict[str, str]] = {}
    proved_invariants: list[z3.BoolRef] = []  # each holds in every reachable configuration
    auditing = Session(model)  # the independent encoding, one for the model's proofs
    for lim in obligations:
        progress(f"{model.strategy}: {lim.name}", len(results))
        begun = time.monotonic()
        prop = system.props[lim.name]
        reads_inputs = lim.name in system.reads_inputs
        if vacuous:
            outcome = prove(
                system,
                unroller,
                lim.name,
                prop,
                options.overlay(engine="bmc", bmc_depth=0),
                budget(),
                reads_inputs=reads_inputs,
            )
            if outcome.verdict is Verdict.UNKNOWN:
                results.append(
                    _result(
                        lim,
                        time.monotonic() - begun,
                        Verdict.UNKNOWN,
                        "sanity",
                        "vacuous: no inputs satisfy the ranges and assumptions in the initial "
                        "configuration, so no run has a single tick",
                    )
                )
                continue
        elif lim.name in together:
            outcome = together[lim.name]
        else:
            outcome = prove(
                system, unroller, lim.name, prop, options, budget(), lemmas, reads_inputs
            )
        outcome = confirm(model, lim.name, outcome, auditing)  # every proof re-checked
        seconds = time.monotonic() - begun
        if outcome.engine == "houdini":
            seconds = lemma_seconds  # one search proved all the limits it kept
        if lim.name in together:
            seconds = together_seconds  # one bounded search for all the limits

        if outcome.verdict is Verdict.REFUTED and outcome.model is None:
            # Spacer's run, which no budget was left to make concrete: not shown, so
            # not a verdict
            results.append(_result(lim, seconds, Verdict.UNKNOWN, outcome.engine, outcome.reason))
        elif outcome.verdict is Verdict.REFUTED:
            assert outcome.model is not None and outcome.depth is not None
            try:
                path = extract(system, outcome.model, outcome.depth)
            except ValueError as exc:
                results.append(
                    _result(
                        lim,
                        seconds,
                        Verdict.UNKNOWN,
                        outcome.engine,
                        f"the counterexample found is not exact ({exc})",
                    )
                )
                continue
            trace = replay(model, interpreter, lim.name, path, reads_inputs)
            if not outcome.shortest:
                trace = dataclasses.replace(trace, shortest=False)
            results.append(
                _result(lim, seconds, Verdict.REFUTED, outcome.engine, counterexample=trace)
            )
        elif outcome.verdict is Verdict.PROVED:
            if not reads_inputs:
                proved_invariants.append(prop)  # it holds in every reachable configuration
            if outcome.invariant is not None and not quantified(outcome.invariant):
                proved_invariants.append(outcome.invariant)
            invariant = None
            if outcome.invariant is not None:
                key = outcome.invariant.sexpr()
                if key not in shown:  # limits proved by one invariant share its text
                    shown[key] = invariant_by_step(system, outcome.invariant)
                invariant = shown[key]
            engine = f"k-induction (k={outcome.k})" if outcome.k else outcome.engine
            results.append(_result(lim, seconds, Verdict.PROVED, engine, invariant=invariant))
            if exporter is not None:
                reads = reads_inputs or any(
                    str(s) in system.inp
                    for c in model.limits
                    if c.name == lim.name
                    for s in c.expr.free_symbols
                )
                exporter.add(system, model, lim.name, engine, outcome, reads, seconds)
        else:
            results.append(
                _result(
                    lim, seconds, Verdict.UNKNOWN, outcome.engine, outcome.reason + nonlinear_note
                )
            )

    if options.sanity and not vacuous:
        progress(f"{model.strategy}: sanity checks", len(results))
        checks = budget()
        findings += sanity.tautologies(system, checks)
        shadow, skip = sanity.shadowed(system, checks)
        findings += shadow
        # what the proofs established about every reachable configuration: Houdini's
        # lemmas and the inductive invariants of the proved limits (re-checked when they
        # were found), which settle most of the sanity questions without a search
        facts = list(lemmas.parts.values()) if lemmas is not None and lemmas.parts else []
        known = _conjunction([*facts, *proved_invariants])
        findings += sanity.dead_transitions(system, unroller, skip, checks, known)
        findings += sanity.dead_ends(system, unroller, budget(), known)
        findings += stuck(system, unroller, interpreter, budget())
    findings.sort(key=lambda f: (f.severity is not Severity.ERROR, f.line, f.rule))
    return ModelReport(
        file=model.file,
        strategy=model.strategy,
        params={
            **{k: _show_param(v) for k, v in model.params.items()},
            **model.ranges(),
        },
        limits=tuple(results),
        findings=tuple(findings),
        seconds=time.monotonic() - started,
    )


def _conjunction(facts: list[z3.BoolRef]) -> z3.BoolRef | None:
    """The facts (each once) as one term, or None when there are none."""
    unique = list({f.get_id(): f for f in facts}.values())
    return z3.And(*unique) if unique else None


def _brief(message: str, limit: int = 600) -> str:
    return message if len(message) <= limit else message[:limit] + " ..."


def verify_file_model(
    model: Model,
    options: Options = DEFAULT_OPTIONS,
    progress: Progress = _quiet,
    exporter: Exporter | None = None,
) -> ModelReport:
    """Verify a loaded model; a tool bug becomes an internal error in its report (exit 4)
    instead of stopping the other files of the run, whatever its type (a library's own
    exception, such as sympy's PolynomialError, included)."""
    started = time.monotonic()
    try:
        return verify_model(model, options, progress, exporter)
    except Exception as exc:  # a bug in seqprove: this file's report, not the run's end
        return ModelReport(
            file=model.file,
            strategy=model.strategy,
            internal_error=_brief(f"{type(exc).__name__}: {exc}"),
            seconds=time.monotonic() - started,
        )


def _verify_one(job: tuple[Model, Options]) -> ModelReport:
    """A worker's share of :func:`verify_models`: one model (sent whole, so a file edited
    meanwhile cannot change what is verified)."""
    model, options = job
    return verify_file_model(model, options)


def verify_models(
    models: Sequence[Model],
    options: Options = DEFAULT_OPTIONS,
    jobs: int = 1,
    done: Callable[[int, ModelReport], None] | None = None,
) -> list[ModelReport]:
    """Verify ``models`` (each as :func:`verify_file_model` does), in up to ``jobs``
    processes at once; ``done(i, report)`` is told of each as it finishes. The reports
    come back in the order of ``models``, and each is what verifying that model alone
    gives: budgets count the solver's work per model, whatever runs beside it."""
    reports: list[ModelReport | None] = [None] * len(models)
    workers = min(jobs, len(models))
    context = _fork_context()
    if workers <= 1 or context is None:
        for i, model in enumerate(models):
            reports[i] = verify_file_model(model, options)
            if done is not None:
                done(i, reports[i])  # type: ignore[arg-type]
    else:
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {
                pool.submit(_verify_one, (model, options)): i for i, model in enumerate(models)
            }
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                reports[i] = future.result()
                if done is not None:
                    done(i, reports[i])  # type: ignore[arg-type]
    return [r for r in reports if r is not None]


def _fork_context() -> multiprocessing.context.BaseContext | None:
    """Processes made by fork (cheap: the solver and sympy are already imported), where
    the platform has it."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def verify_file(
    path: Path,
    params: Mapping[str, str] | None = None,
    options: Options = DEFAULT_OPTIONS,
    progress: Progress = _quiet,
) -> ModelReport:
    """Load and verify one file; bad input becomes the errors of its report, and a tool
    bug while loading it its internal error (exit 4), so the other files of the run are
    still verified."""
    started = time.monotonic()
    try:
        model = load_model(path, params or {})
    except ModelError as exc:
        return ModelReport(
            file=str(path),
            strategy=None,
            errors=tuple(exc.diagnostics),
            seconds=time.monotonic() - started,
        )
    except Exception as exc:  # a bug in the loader: this file's report, not the run's end
        return ModelReport(
            file=str(path),
            strategy=None,
            internal_error=_brief(f"loading: {type(exc).__name__}: {exc}"),
            seconds=time.monotonic() - started,
        )
    return verify_file_model(model, options, progress)


def verify_paths(
    paths: Iterable[str | Path],
    params: Mapping[str, str] | None = None,
    options: Options = DEFAULT_OPTIONS,
    progress: Progress = _quiet,
) -> Report:
    """Verify every model file under ``paths``; one file's problems never stop the others."""
    reports = [verify_file(p, params or {}, options, progress) for p in collect_files(paths)]
    return Report(tuple(reports))
