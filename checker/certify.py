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

The manifest also keeps each limit's *claim* (:mod:`checker.audit`): the invariant, or k
and the lemmas, as SMT-LIB2 text over ``pc.cur`` and ``cur.x``. The files alone prove
nothing about a model (``(assert false)`` is unsat too), so :func:`check_model`, used by
the gate of ``seqprove run`` and by ``seqprove recheck --model``, takes only the claims
from a certificate and checks their obligations rebuilt from the model file by the
independent encoding, with z3 there and cvc5 on the text generated from it.
``seqprove recheck DIR`` also checks every file's hash and gives every obligation file to
cvc5 and to z3, each parsing the file itself, and accepts the certificate only when
every answer is ``unsat``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import z3

from checker import __version__, audit
from checker.engines.base import Outcome
from checker.model import Model, param_text
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
    prop = system.props[limit]
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
        claim = audit.claim_of(model, outcome.invariant, outcome.k, outcome.lemmas)
        self.entries.append(
            {
                "file": str(Path(model.file).resolve()),
                "strategy": model.strategy,
                "model_sha256": model.source_sha256,
                "params": param_text(model.params),
                **({"ranges": model.ranges(), "region": model.region_text()} if model.free else {}),
                "limit": limit,
                "engine": engine,
                "k": outcome.k,
                "seconds": round(seconds, 3),
                "claim": None if claim is None else claim.to_json(),
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
    against: str = "file"
    """``file``: the obligation file of the certificate, parsed by each solver;
    ``model``: the obligation rebuilt from the model file (only the claim taken from the
    certificate)."""

    @property
    def ok(self) -> bool:
        answers = self.answers.values()
        return not self.problem and bool(answers) and all(a == "unsat" for a in answers)


def z3_answer(path: Path, timeout_ms: int) -> str:
    ctx = z3.Context()
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", timeout_ms)
    try:
        solver.from_file(str(path))
    except z3.Z3Exception as exc:
        return f"error ({exc})"
    return str(solver.check())


def _cvc5(feed: Callable[[Any], None], timeout_ms: int) -> str:
    """cvc5's answer on the SMT-LIB2 input that ``feed`` gives its parser."""
    import cvc5

    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("tlimit-per", str(timeout_ms))
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    answer = "no check-sat"
    try:
        feed(parser)
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


def cvc5_answer(path: Path, timeout_ms: int) -> str:
    import cvc5

    return _cvc5(lambda p: p.setFileInput(cvc5.InputLanguage.SMT_LIB_2_6, str(path)), timeout_ms)


def cvc5_text(text: str, timeout_ms: int) -> str:
    """cvc5's answer on the SMT-LIB2 ``text`` (generated here, not read from a file)."""
    import cvc5

    return _cvc5(
        lambda p: p.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, "rebuilt"), timeout_ms
    )


SOLVERS: dict[str, Callable[[Path, int], str]] = {"cvc5": cvc5_answer, "z3": z3_answer}


def _load_recorded(proof: dict[str, Any]) -> tuple[Model | None, str]:
    """The model a manifest entry names, loaded from its recorded path with its params;
    None and why when it cannot be (missing, edited since, not a model)."""
    from checker.errors import ModelError
    from checker.lang.loader import load_model

    path = Path(str(proof.get("file", "")))
    if not path.is_file():
        return None, f"{path}: the model file is not there (give it with --model)"
    if sha256(path) != proof.get("model_sha256"):
        return None, f"{path}: the model changed since this certificate was made"
    params = proof.get("params")
    ranges = proof.get("ranges")
    try:
        model = load_model(
            path,
            {str(k): str(v) for k, v in dict(params or {}).items()},
            {str(k): str(v) for k, v in dict(ranges or {}).items()},
            str(proof.get("region") or ""),
        )
    except (ModelError, TypeError, ValueError) as exc:
        return None, f"{path}: cannot load the model: {exc}"
    return model, ""


def _items(proof: dict[str, Any]) -> list[dict[str, Any]]:
    """The obligation files an entry lists; anything else in the list is ignored (the
    files are for readers and other solvers: the claims are what the model is checked
    against)."""
    items = proof.get("obligations")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _solve_files(directory: Path, proof: dict[str, Any], timeout_ms: int) -> list[Check]:
    """The obligation files of one manifest entry: each unaltered, each unsat under
    every solver (each parsing the file itself)."""
    checks = []
    for item in _items(proof):
        path = directory / str(item.get("path", ""))
        common = (
            str(proof.get("strategy")),
            str(proof.get("limit")),
            str(item.get("obligation")),
            str(item.get("path")),
        )
        if not path.is_file():
            checks.append(Check(*common, {}, {}, "file missing"))
            continue
        if sha256(path) != item.get("sha256"):
            checks.append(Check(*common, {}, {}, "file altered (SHA-256 differs)"))
            continue
        answers: dict[str, str] = {}
        seconds: dict[str, float] = {}
        for name, answer in SOLVERS.items():
            begun = time.monotonic()
            answers[name] = answer(path, timeout_ms)
            seconds[name] = time.monotonic() - begun
        checks.append(Check(*common, answers, seconds))
    return checks


def _intact(directory: Path, proof: dict[str, Any]) -> list[str]:
    """The obligation files of one entry that are missing or altered (hashes only)."""
    bad = []
    for item in _items(proof):
        path = directory / str(item.get("path", ""))
        if not path.is_file() or sha256(path) != item.get("sha256"):
            bad.append(f"{proof.get('limit')}/{item.get('obligation')}")
    return bad


def _rebuilt(model: Model, proof: dict[str, Any], timeout_ms: int) -> list[Check]:
    """Re-check the claim of one manifest entry against ``model`` itself: Init, Trans and
    the limit rebuilt from the model by the independent encoding, only the invariant (or
    k and the lemmas) taken from the certificate; z3 on that encoding, then cvc5 on the
    SMT-LIB2 text of the same obligations."""
    limit = str(proof.get("limit"))
    where = f"{model.file} (rebuilt)"
    if limit not in {ob.name for ob in model.obligations()}:
        return [
            Check(model.strategy, limit, "claim", where, {}, {}, "no such limit or check", "model")
        ]
    try:
        claim = audit.claim_from_json(proof.get("claim"))
    except ValueError as exc:
        return [Check(model.strategy, limit, "claim", where, {}, {}, str(exc), "model")]
    begun = time.monotonic()
    verdict = audit.check(model, limit, claim)
    spent = time.monotonic() - begun
    if verdict.obligation == "claim":
        return [Check(model.strategy, limit, "claim", where, {}, {}, verdict.reason, "model")]
    share = spent / max(1, len(verdict.answers))
    checks = [
        Check(model.strategy, limit, name, where, {"z3": answer}, {"z3": share}, "", "model")
        for name, answer in verdict.answers
    ]
    if verdict.status == "undecided":  # say why: a resource limit is not a refutation
        last = checks.pop()
        checks.append(dataclasses.replace(last, problem=f"undecided: {verdict.reason}"))
    if not verdict.holds:
        return checks
    _, obs = audit.obligations(model, limit, claim)
    header = f"seqprove {__version__}: {model.strategy}, limit {limit}, rebuilt from the model"
    for check, ob in zip(checks, obs, strict=True):
        begun = time.monotonic()
        check.answers["cvc5"] = cvc5_text(ob.smt2(f"{header}, obligation {ob.name}"), timeout_ms)
        check.seconds["cvc5"] = time.monotonic() - begun
    return checks


def check_model(
    directory: Path, model: Model, timeout_ms: int = 60_000, solve_files: bool = False
) -> tuple[list[Check], list[str]]:
    """Re-check the certificate in ``directory`` for ``model`` (the file given, with
    its params): the manifest must hold a proof of every limit (and every order check
    and check of version 2) of exactly this content and these params, its obligation
    files must be unaltered, and every claim must hold against the model rebuilt (see
    :func:`_rebuilt`). With ``solve_files``, the
    obligation files are also given to every solver. Returns the checks and the
    certificate-level problems."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        proofs = [
            p
            for p in manifest.get("proofs", [])
            if p.get("model_sha256") == model.source_sha256
            and p.get("params") == param_text(model.params)
            and (p.get("ranges") or {}) == model.ranges()
            and (p.get("region") or "") == model.region_text()
        ]
        if manifest.get("format") != FORMAT:
            raise ValueError("not a seqprove certificate manifest")
    except (OSError, ValueError, AttributeError) as exc:
        return [], [f"{directory}: unreadable certificate manifest ({exc})"]
    checks: list[Check] = []
    problems: list[str] = []
    proved = {p.get("limit") for p in proofs}
    missing = [ob.name for ob in model.obligations() if ob.name not in proved]
    if missing:
        problems.append(
            f"{model.file}: the certificate {directory} has no proof of {', '.join(missing)} "
            "for this content and these params"
        )
    for proof in proofs:
        if solve_files:
            checks += _solve_files(directory, proof, timeout_ms)
        else:
            problems += [f"{name}: file missing or altered" for name in _intact(directory, proof)]
        checks += _rebuilt(model, proof, timeout_ms)
    return checks, problems


def recheck(
    directory: Path, timeout_ms: int = 60_000, models: list[Model] | None = None
) -> tuple[list[Check], list[str]]:
    """Re-check the certificate in ``directory``: for each of ``models`` (by default,
    each model the manifest names, loaded from its recorded path and params), every
    obligation file is unaltered and unsat under every solver, and every claim holds
    against the model rebuilt. Returns the checks and the certificate-level problems (a
    missing or altered file, a model changed since or not found, an unreadable
    manifest)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return [], [f"cannot read {directory / MANIFEST}: {exc}"]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [], [f"{directory / MANIFEST} is not a seqprove certificate manifest"]
    entries = manifest.get("proofs", [])
    if not isinstance(entries, list) or not all(isinstance(p, dict) for p in entries):
        return [], [f"{directory / MANIFEST}: its proofs are not a list of entries"]
    problems: list[str] = []
    found: list[Check] = []
    if models is None:
        models = []
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for proof in entries:
            what = (
                str(proof.get("model_sha256")),
                json.dumps([proof.get(k) for k in ("params", "ranges", "region")], sort_keys=True),
            )
            groups.setdefault(what, []).append(proof)
        for group in groups.values():
            model, problem = _load_recorded(group[0])
            if model is not None:
                models.append(model)
                continue
            # nothing to rebuild from: the files are still checked, and the problem kept
            problems.append(problem)
            found += [c for proof in group for c in _solve_files(directory, proof, timeout_ms)]
    for model in models:
        checks, more = check_model(directory, model, timeout_ms, solve_files=True)
        found += checks
        problems += more
    if not found and not problems:
        problems.append("the manifest lists no obligation")
    return found, problems
