"""Proof certificates: SMT-LIB2 obligations that any solver can re-check, and the check.

For every proved limit, ``seqprove verify --export DIR`` writes the obligations that make
its proof, each a stand-alone SMT-LIB2 file whose query is the *negation* of the
obligation (``unsat`` means the obligation holds):

- with an inductive invariant ``Inv`` (Houdini, Spacer, 1-induction):
  ``initiation`` (Init and not Inv), ``consecution`` (Inv and Trans and not Inv'),
  ``safety`` (Inv and not Limit; with the admissible inputs when the limit reads a prover
  over inputs);
- with k-induction: ``base-J`` for every depth J < k (a path of J ticks from Init that
  breaks the limit at its end) and ``step`` (k ticks that keep the limit, on distinct
  configurations, followed by one that breaks it); when the step assumed lemmas (an
  invariant found first), also ``lemmas-initiation`` and ``lemmas-consecution``.

Each file names its parts with ``define-fun`` (``Init``, ``Trans``, ``Inv``, ``InvNext``,
``Limit``, ...), so a reader can review what is assumed; ``Trans`` already contains the
input ranges and the assumptions. Variables are ``cur.x`` (before a tick), ``next.x``
(after), ``in.x`` (the tick's inputs), ``sJ.x``/``inJ.x`` on a path, and ``pc.*`` for the
step counter (steps are numbered in file order, from 0). ``manifest.json`` lists every
file with its SHA-256, the model's content hash and params, the engine, the solver
versions and times.

``seqprove recheck DIR`` reads only those files: it checks every hash, then gives every
obligation to cvc5 and to z3, each parsing the file itself, and accepts the certificate
only when both answer ``unsat`` on every one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import z3

from checker import __version__
from checker.engines.base import Outcome
from checker.model import Model
from checker.run.gate import param_text
from checker.smt.system import STEP, TransitionSystem

MANIFEST = "manifest.json"
FORMAT = "seqprove-certificate/1"


@dataclass(frozen=True)
class Obligation:
    """One query whose ``unsat`` is part of a proof: named parts and what is asserted."""

    name: str
    parts: tuple[tuple[str, z3.BoolRef], ...]  # define-fun name -> formula
    goal: str  # the asserted formula, over the part names


def obligations(
    system: TransitionSystem, limit: str, outcome: Outcome, reads_inputs: bool
) -> list[Obligation]:
    """The obligations of the proof of ``limit`` that ``outcome`` holds, or [] when it has
    neither an invariant nor an induction depth."""
    prop = system.limits[limit]
    if outcome.invariant is not None:
        inv = outcome.invariant
        primed = z3.substitute(inv, *zip(system.state_args(), system.next_args(), strict=True))
        safety_parts: list[tuple[str, z3.BoolRef]] = [("Inv", inv), ("Limit", prop)]
        goal = "(and Inv (not Limit))"
        if reads_inputs:
            safety_parts.append(("Admissible", system.admissible))
            goal = "(and Inv Admissible (not Limit))"
        return [
            Obligation("initiation", (("Init", system.init), ("Inv", inv)), "(and Init (not Inv))"),
            Obligation(
                "consecution",
                (("Inv", inv), ("Trans", system.trans), ("InvNext", primed)),
                "(and Inv Trans (not InvNext))",
            ),
            Obligation("safety", tuple(safety_parts), goal),
        ]
    if not outcome.k:
        return []
    k = outcome.k
    found: list[Obligation] = []
    lemmas = outcome.lemmas
    if lemmas is not None:  # the step assumes them: they must be an invariant themselves
        lemmas_next = z3.substitute(
            lemmas, *zip(system.state_args(), system.next_args(), strict=True)
        )
        found += [
            Obligation(
                "lemmas-initiation",
                (("Init", system.init), ("Lemmas", lemmas)),
                "(and Init (not Lemmas))",
            ),
            Obligation(
                "lemmas-consecution",
                (("Lemmas", lemmas), ("Trans", system.trans), ("LemmasNext", lemmas_next)),
                "(and Lemmas Trans (not LemmasNext))",
            ),
        ]
    for depth in range(k):
        parts: list[tuple[str, z3.BoolRef]] = [("Init", system.at(system.init, 0))]
        parts += [(f"Trans{j}", system.at(system.trans, j)) for j in range(depth)]
        parts.append((f"Limit{depth}", system.at(prop, depth)))
        steps = " ".join(f"Trans{j}" for j in range(depth))
        found.append(
            Obligation(f"base-{depth}", tuple(parts), f"(and Init {steps} (not Limit{depth}))")
        )
    step: list[tuple[str, z3.BoolRef]] = []
    for j in range(k + 1):
        step.append((f"Domain{j}", system.at(system.state_domain, j)))
        if lemmas is not None:
            step.append((f"Lemmas{j}", system.at(lemmas, j)))
    for j in range(k):
        step.append((f"Trans{j}", system.at(system.trans, j)))
        step.append((f"Limit{j}", system.at(prop, j)))
    step.append((f"Limit{k}", system.at(prop, k)))
    states = [system.frame(j).state for j in range(k + 1)]
    distinct = [
        z3.Or(*(states[a][n] != states[b][n] for n in states[a]))
        for a in range(k + 1)
        for b in range(a + 1, k + 1)
    ]
    step.append(("Distinct", z3.And(*distinct) if distinct else z3.BoolVal(True, system.ctx)))
    names = " ".join(name for name, _ in step[:-1] if not name.startswith(f"Limit{k}"))
    found.append(Obligation("step", tuple(step), f"(and {names} Distinct (not Limit{k}))"))
    return found


def _safe_names(system: TransitionSystem) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    """Pairs (constant, renamed constant) giving every variable an SMT-LIB simple symbol:
    model names are identifiers, so ``cur.``, ``next.``, ``in.`` and ``pc.`` never clash."""

    def fresh(const: z3.ExprRef, name: str) -> z3.ExprRef:
        return z3.Const(name, const.sort())

    pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = []
    for name, const in system.cur.items():
        pairs.append((const, fresh(const, "pc.cur" if name == STEP else f"cur.{name}")))
    for name, const in system.nxt.items():
        pairs.append((const, fresh(const, "pc.next" if name == STEP else f"next.{name}")))
    for name, const in system.inp.items():
        pairs.append((const, fresh(const, f"in.{name}")))
    for j, frame in enumerate(system.frames):
        for name, const in frame.state.items():
            pairs.append((const, fresh(const, f"pc.s{j}" if name == STEP else f"s{j}.{name}")))
        for name, const in frame.inputs.items():
            pairs.append((const, fresh(const, f"in{j}.{name}")))
    return pairs


def _constants(exprs: Iterable[z3.ExprRef]) -> list[z3.ExprRef]:
    seen: dict[str, z3.ExprRef] = {}
    stack = list(exprs)
    visited: set[int] = set()
    while stack:
        e = stack.pop()
        if e.get_id() in visited:
            continue
        visited.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[e.decl().name()] = e
        stack.extend(e.children())
    return [seen[n] for n in sorted(seen)]


def smt2(system: TransitionSystem, model: Model, limit: str, ob: Obligation) -> str:
    """The stand-alone SMT-LIB2 text of one obligation."""
    pairs = _safe_names(system)
    parts = [(name, z3.substitute(f, *pairs)) for name, f in ob.parts]
    lines = [
        f"; seqprove {__version__} certificate: {model.strategy}, limit {limit}, "
        f"obligation {ob.name}",
        f"; model sha256 {model.source_sha256}",
        "; expected answer: unsat (the obligation holds)",
        "(set-logic ALL)",
        "(set-info :status unsat)",
    ]
    for const in _constants(f for _, f in parts):
        lines.append(f"(declare-const {_symbol(const.decl().name())} {const.sort().sexpr()})")
    for name, f in parts:
        lines.append(f"(define-fun {name} () Bool\n  {f.sexpr()})")
    lines += [f"(assert {ob.goal})", "(check-sat)", "(exit)", ""]
    return "\n".join(lines)


def _symbol(name: str) -> str:
    return name if all(c.isalnum() or c in "._" for c in name) else f"|{name}|"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Exporter:
    """Collects the obligations of a verification run and writes them with a manifest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.entries: list[dict[str, Any]] = []

    def add(
        self,
        system: TransitionSystem,
        model: Model,
        limit: str,
        engine: str,
        outcome: Outcome,
        reads_inputs: bool,
        seconds: float,
    ) -> None:
        obs = obligations(system, limit, outcome, reads_inputs)
        if not obs:
            return
        folder = self.directory / _slug(model) / limit
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for ob in obs:
            path = folder / f"{ob.name}.smt2"
            path.write_text(smt2(system, model, limit, ob))
            files.append(
                {
                    "obligation": ob.name,
                    "path": str(path.relative_to(self.directory)),
                    "sha256": sha256(path),
                    "expected": "unsat",
                }
            )
        self.entries.append(
            {
                "file": str(Path(model.file).resolve()),
                "strategy": model.strategy,
                "model_sha256": model.source_sha256,
                "params": param_text(model.params),
                "limit": limit,
                "engine": engine,
                "k": outcome.k,
                "seconds": round(seconds, 3),
                "obligations": files,
            }
        )

    def drop(self, model: Model) -> None:
        """Forget ``model``'s proofs: the whole model was not proved (a limit not proved,
        a structural error, or the sanity checks off), so no certificate may admit it."""
        kept = [e for e in self.entries if e["model_sha256"] != model.source_sha256]
        if len(kept) != len(self.entries):
            shutil.rmtree(self.directory / _slug(model), ignore_errors=True)
        self.entries = kept

    def write(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": FORMAT,
            "seqprove": __version__,
            "z3": z3.get_version_string(),
            "cvc5": _cvc5_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "proofs": self.entries,
        }
        path = self.directory / MANIFEST
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        return path


def _cvc5_version() -> str:
    try:
        import cvc5

        return str(cvc5.__version__)
    except (ImportError, AttributeError):
        return "not installed"


def _slug(model: Model) -> str:
    return f"{model.strategy}-{model.source_sha256[:12]}"


# -- the re-check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One obligation re-checked: each solver's answer and time."""

    strategy: str
    limit: str
    obligation: str
    path: str
    answers: dict[str, str]
    seconds: dict[str, float]
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and all(a == "unsat" for a in self.answers.values())


def z3_answer(path: Path, timeout_ms: int) -> str:
    ctx = z3.Context()
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", timeout_ms)
    try:
        solver.from_file(str(path))
    except z3.Z3Exception as exc:
        return f"error ({exc})"
    return str(solver.check())


def cvc5_answer(path: Path, timeout_ms: int) -> str:
    import cvc5

    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("tlimit-per", str(timeout_ms))
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    answer = "no check-sat"
    try:
        parser.setFileInput(cvc5.InputLanguage.SMT_LIB_2_6, str(path))
        while True:
            command = parser.nextCommand()
            if command.isNull():
                break
            out = command.invoke(solver, symbols).strip()
            if out in ("sat", "unsat", "unknown"):
                answer = out
            elif "Expected result unsat but got " in out:  # cvc5 checks :status itself
                answer = out.split("but got ", 1)[1].split('"')[0].strip()
    except RuntimeError as exc:
        return f"error ({exc})"
    return answer


SOLVERS: dict[str, Callable[[Path, int], str]] = {"cvc5": cvc5_answer, "z3": z3_answer}


def recheck(
    directory: Path, timeout_ms: int = 60_000, only: tuple[str, dict[str, str]] | None = None
) -> tuple[list[Check], list[str]]:
    """Re-check every obligation listed in the manifest of ``directory`` with every
    solver (with ``only``, those of the model with that content hash and params).
    Returns the checks and the certificate-level problems (a missing or altered file, a
    model changed since, an unreadable manifest)."""
    problems: list[str] = []
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return [], [f"cannot read {directory / MANIFEST}: {exc}"]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [], [f"{directory / MANIFEST} is not a seqprove certificate manifest"]
    checks: list[Check] = []
    for proof in manifest.get("proofs", []):
        if only is not None and (proof["model_sha256"], proof["params"]) != only:
            continue
        model_file = Path(proof["file"])
        changed = f"{model_file}: the model changed since this certificate was made"
        if (
            changed not in problems
            and model_file.is_file()
            and sha256(model_file) != proof["model_sha256"]
        ):
            problems.append(changed)
        for item in proof["obligations"]:
            path = directory / item["path"]
            common = (proof["strategy"], proof["limit"], item["obligation"], item["path"])
            if not path.is_file():
                checks.append(Check(*common, {}, {}, "file missing"))
                continue
            if sha256(path) != item["sha256"]:
                checks.append(Check(*common, {}, {}, "file altered (SHA-256 differs)"))
                continue
            answers: dict[str, str] = {}
            seconds: dict[str, float] = {}
            for name, answer in SOLVERS.items():
                begun = time.monotonic()
                answers[name] = answer(path, timeout_ms)
                seconds[name] = time.monotonic() - begun
            checks.append(Check(*common, answers, seconds))
    if not checks and not problems:
        problems.append("the manifest lists no obligation")
    return checks, problems
