"""The smallest direct CHC encoding of a model file, solved by z3 Spacer: the baseline
that ``bench/external.py`` puts beside ``seqprove verify``.

The model is loaded with seqprove's own loader, and its expressions (assumptions,
guards, ``do``, the book of version 2, limits and checks) are taken as z3 terms from
``checker.smt.system.TransitionSystem``: the comparison is about the proof pipeline,
not about parsing. The Horn clauses are built here, one uninterpreted predicate
``Inv_S(v)`` per step ``S`` over the state variables ``v`` (the step is the predicate,
not a variable), with ``i`` the tick's inputs and ``v'`` the next state:

    Init(v)                                           -> Inv_initial(v)
    Inv_S(v) and Adm(v, i) and G_t(v, i) and not G_e(v, i) for every
        earlier e of S and v' = do_t(v, i)             -> Inv_D(v')  (each t: S -> D)
    Inv_S(v) and Adm(v, i) and not G_t(v, i) for every
        t of S and v' = stay(v, i)                     -> Inv_S(v')  (each S, version 2)
    Inv_S(v) and not P(v)                              -> false      (the query of P)

Every clause is universally closed over ``v``, ``i`` and ``v'``, so the inputs are
existentially quantified in its body. ``Adm`` is the inputs' types, ranges and
assumptions (and, with instruments, the fills within the open orders); ``G_t`` is
``t``'s ``when`` and ``do_t`` its ``do`` and the book its actions change, both read on
the configuration after the tick's fills; ``stay`` is that configuration. When no
transition of ``S`` is enabled the run stays: in version 1 that clause would be
``Inv_S(v) and ... -> Inv_S(v)``, valid as it stands, so it is left out; with
instruments a stay books the tick's fills, so it is a clause. A query reads no inputs
(a configuration breaks a limit whether or not a tick can follow it), except for the
properties of a tick (order checks, ``positive_qty``), whose query is ``Inv_S(v) and
Adm(v, i) and not Q(v, i) -> false``.

Each obligation seqprove decides (the limits, and with instruments the order checks and
checks) is one query, in a fresh z3 ``HORN`` solver (Spacer, default settings) over the
same clauses: ``sat`` (the clauses have a model: an inductive invariant) is ``proved``,
``unsat`` (a derivation of false: a reachable violation) is ``refuted``, anything else
``unknown``. Nothing else: no sanity checks, no lemmas, no k-induction, no
counterexample, no re-check of the invariant. The file's verdict is ``refuted`` if any
obligation is refuted, ``proved`` if all are, else ``unknown``.

    .venv/bin/python bench/direct.py MODEL.yaml [--timeout S] [--each] [--json] [--param N=V]

``--timeout`` (60) bounds the whole file in CPU seconds, counted after the imports: each
query is given what is left of it as z3's (wall-clock) timeout; with ``--each`` every
query gets the whole of it, as ``seqprove verify --timeout`` is per limit. Times are CPU
seconds of this process (``time.process_time``): ``imports`` (from the script's first
line, the interpreter's own start-up excluded), ``load`` (the model file), ``encode``
(the transition system and the clauses) and per query. Exit code 0 proved, 1 refuted,
2 unknown, 3 the file does not load.
"""

from __future__ import annotations

import time

STARTED = time.process_time()

import argparse  # noqa: E402  (the start-up is timed from the first line)
import json  # noqa: E402
import sys  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import z3  # noqa: E402

from checker.errors import ModelError  # noqa: E402
from checker.lang.loader import load_model  # noqa: E402
from checker.model import Model  # noqa: E402
from checker.smt.system import STEP, TransitionSystem  # noqa: E402

EXIT = {"proved": 0, "refuted": 1, "unknown": 2}


@dataclass
class Query:
    """One obligation's answer."""

    name: str
    verdict: str
    seconds: float  # CPU seconds of the query
    reason: str = ""


@dataclass
class Result:
    """A file's answer: every query's, the combined verdict and where the CPU went."""

    file: str
    verdict: str = "unknown"
    import_seconds: float = 0.0  # set by main: from the first line to the call of run
    load_seconds: float = 0.0
    encode_seconds: float = 0.0
    solve_seconds: float = 0.0
    queries: list[Query] = field(default_factory=list)
    error: str = ""


class Clauses:
    """The Horn clauses of one model, with a query per obligation."""

    def __init__(self, model: Model) -> None:
        self.system = ts = TransitionSystem(model)
        ctx = ts.ctx
        self.model = model
        self.state = [ts.cur[v.name] for v in model.state]
        self.after = [ts.nxt[v.name] for v in model.state]
        self.inputs = [ts.inp[v.name] for v in model.inputs]
        sorts = [v.sort() for v in self.state]
        self.preds = {
            step: z3.Function(f"Inv_{i}", *sorts, z3.BoolSort(ctx))
            for i, step in enumerate(model.steps)
        }
        self.rules: list[z3.BoolRef] = []
        initial = ts.step_index[model.initial]
        self.rules.append(
            self._closed(
                self.state,
                z3.Implies(self._at(ts.init, initial), self.preds[model.initial](*self.state)),
            )
        )
        moving = self.state + self.inputs + self.after
        for step in model.steps:
            index = ts.step_index[step]
            here = self.preds[step](*self.state)
            earlier: list[z3.BoolRef] = []
            for t in model.outgoing(step):
                guard = ts.guards[t.index]
                body = z3.And(
                    here,
                    ts.admissible,
                    guard,
                    *(z3.Not(g) for g in earlier),
                    ts.effect(t.index),
                )
                head = self.preds[t.target](*self.after)
                self.rules.append(self._closed(moving, z3.Implies(self._at(body, index), head)))
                earlier.append(guard)
            if ts.book:  # a stay books the tick's fills
                body = z3.And(here, ts.admissible, *(z3.Not(g) for g in earlier), ts.stutter())
                head = self.preds[step](*self.after)
                self.rules.append(self._closed(moving, z3.Implies(self._at(body, index), head)))

    def _at(self, term: z3.BoolRef, index: int) -> z3.BoolRef:
        """``term`` in a clause of step ``index``: the clauses have no step variable."""
        ts = self.system
        return z3.substitute(term, (ts.cur[STEP], z3.IntVal(index, ts.ctx)))

    @staticmethod
    def _closed(variables: list[z3.ExprRef], body: z3.BoolRef) -> z3.BoolRef:
        return z3.ForAll(variables, body) if variables else body

    def solve(self, name: str, milliseconds: int) -> tuple[str, str]:
        """Decide obligation ``name`` within ``milliseconds`` of wall clock: the verdict
        and, when unknown, z3's reason."""
        ts = self.system
        prop = ts.props[name]
        reads_inputs = name in ts.reads_inputs
        solver = z3.SolverFor("HORN", ctx=ts.ctx)
        solver.set("timeout", max(1, milliseconds))
        solver.add(*self.rules)
        bound = self.state + self.inputs if reads_inputs else self.state
        for step in self.model.steps:
            index = ts.step_index[step]
            bad = z3.And(self.preds[step](*self.state), z3.Not(prop))
            if reads_inputs:
                bad = z3.And(bad, ts.admissible)
            solver.add(self._closed(bound, z3.Implies(self._at(bad, index), False)))
        try:
            answer = solver.check()
        except z3.Z3Exception as exc:
            return "unknown", str(exc)
        if answer == z3.sat:
            return "proved", ""
        if answer == z3.unsat:
            return "refuted", ""
        return "unknown", solver.reason_unknown()


def combined(verdicts: list[str]) -> str:
    """Refuted if any is, proved if all are (and there is at least one), else unknown."""
    if "refuted" in verdicts:
        return "refuted"
    if verdicts and all(v == "proved" for v in verdicts):
        return "proved"
    return "unknown"


def run(
    path: Path, timeout: float, params: dict[str, str] | None = None, each: bool = False
) -> Result:
    """Load ``path`` and decide every obligation of it within ``timeout`` CPU seconds
    of this process in all, counted from the call (with ``each``, ``timeout`` for every
    query instead). A query is stopped by z3's timeout, which is wall clock: it gets
    what is left of the CPU budget as milliseconds, so on a loaded machine it stops
    early rather than late."""
    begun = time.process_time()
    deadline = begun + timeout
    result = Result(str(path))
    try:
        model = load_model(path, params or {})
    except ModelError as exc:
        result.error = str(exc.diagnostics[0]) if exc.diagnostics else str(exc)
        return result
    loaded = time.process_time()
    result.load_seconds = loaded - begun
    clauses = Clauses(model)
    encoded = time.process_time()
    result.encode_seconds = encoded - loaded
    for ob in model.obligations():
        before = time.process_time()
        left = timeout if each else deadline - before
        if left <= 0:
            verdict, reason = "unknown", "timeout"
        else:
            verdict, reason = clauses.solve(ob.name, int(left * 1000))
        result.queries.append(Query(ob.name, verdict, time.process_time() - before, reason))
    result.solve_seconds = time.process_time() - encoded
    result.verdict = combined([q.verdict for q in result.queries])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="CPU seconds for the whole file (default 60)"
    )
    parser.add_argument(
        "--each", action="store_true", help="--timeout for every query instead of the file"
    )
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    params = dict(p.split("=", 1) for p in args.param)
    imported = time.process_time() - STARTED
    result = run(args.model, args.timeout, params, args.each)
    result.import_seconds = imported
    if args.json:
        print(json.dumps(asdict(result)))
    elif result.error:
        print(f"{result.file}: does not load: {result.error}", file=sys.stderr)
    else:
        for q in result.queries:
            why = f" ({q.reason})" if q.reason else ""
            print(f"{q.name}\t{q.verdict}{why}\t{q.seconds:.3f} s CPU")
        print(
            f"{result.file}: {result.verdict}; CPU s: imports {result.import_seconds:.3f}, "
            f"load {result.load_seconds:.3f}, "
            f"encode {result.encode_seconds:.3f}, solve {result.solve_seconds:.3f}"
        )
    return 3 if result.error else EXIT[result.verdict]


if __name__ == "__main__":
    sys.exit(main())
