"""The proof gate: ``seqprove run`` trades a model only when every one of its limits was
proved for exactly this file content and these params.

``seqprove verify`` writes a *proof record* (JSON) for every model whose limits are all
proved with the sanity checks on and no structural error. A record is keyed by the SHA-256
of the file's bytes together with the effective params, so editing the file or changing a
param needs a new proof. The record keeps the engine of every limit, its inductive
invariant where the engine has one, and the tool and solver versions, and is sealed
(:mod:`checker.run.seal`): the gate admits a record only with a valid HMAC under this
installation's key, so a record is evidence for this installation only. A certificate
(``verify --export``) is evidence for anyone: the gate re-checks its claims against the
model (:func:`checker.certify.check_model`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import z3

from checker import __version__
from checker.model import Model, param_text
from checker.results import ModelReport, Severity, Verdict
from checker.run.seal import seal, seal_problem

RECORD_FORMAT = "seqprove-proof-record/1"


def proof_key(model: Model) -> str:
    """The key of a model's proof: its file content and its effective params."""
    blob = json.dumps({"sha256": model.source_sha256, "params": param_text(model.params)})
    return hashlib.sha256(blob.encode()).hexdigest()


def record_path(model: Model, directory: Path) -> Path:
    return directory / f"{proof_key(model)}.json"


def proved(report: ModelReport) -> bool:
    """Whether ``report`` is a full proof: every limit proved and no structural error."""
    return (
        bool(report.limits)
        and all(lim.verdict is Verdict.PROVED for lim in report.limits)
        and not report.errors
        and report.internal_error is None
        and not any(f.severity is Severity.ERROR for f in report.findings)
    )


def write_record(model: Model, report: ModelReport, directory: Path) -> Path | None:
    """Write the proof record of ``model`` when ``report`` proves it; return its path.
    The file is written whole and then renamed, so a reader never sees half of one."""
    if not proved(report):
        return None
    record: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "key": proof_key(model),
        "file": str(Path(model.file).resolve()),
        "strategy": model.strategy,
        "sha256": model.source_sha256,
        "params": param_text(model.params),
        "seqprove": __version__,
        "z3": z3.get_version_string(),
        "proved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "limits": [
            {
                "name": lim.name,
                "expression": lim.text,
                "verdict": lim.verdict.value,
                "engine": lim.engine,
                "invariant": dict(lim.invariant) if lim.invariant is not None else None,
            }
            for lim in report.limits
        ],
    }
    record = seal(record)  # bound to this installation: see checker.run.seal
    directory.mkdir(parents=True, exist_ok=True)
    path = record_path(model, directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".record-", suffix=".json")
    with os.fdopen(fd, "w") as out:
        json.dump(record, out, indent=2)
        out.write("\n")
    Path(tmp).replace(path)
    return path


@dataclass(frozen=True)
class GateDecision:
    """Whether the model may trade; ``reason`` says why not, ``record`` which proof
    admits it."""

    admitted: bool
    reason: str
    record: Path | None = None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == RECORD_FORMAT else None


def check(model: Model, directory: Path) -> GateDecision:
    """Admit ``model`` only with a proof of exactly its content and params for all its
    limits: a proof record written by ``verify`` in ``directory``, or, when
    ``directory`` is a certificate (``verify --export``), its obligations for this model,
    re-checked by cvc5 and z3 on the spot."""
    if (directory / "manifest.json").is_file():
        return _check_certificate(model, directory)
    path = record_path(model, directory)
    record = _read(path) if path.is_file() else None
    # every obligation verify decides: the limits, and the order checks and (with
    # instruments) positive_qty and final-step-orders, which verify reports like limits
    names = [o.name for o in model.obligations()]
    if record is not None:
        unsealed = seal_problem(record)
        if unsealed is not None:
            return GateDecision(False, f"the proof record {path} is refused: {unsealed}")
        limits = record.get("limits", [])
        if (
            record.get("sha256") == model.source_sha256
            and record.get("params") == param_text(model.params)
            and [lim.get("name") for lim in limits] == names
            and all(lim.get("verdict") == Verdict.PROVED.value for lim in limits)
        ):
            return GateDecision(True, f"proof record {path}", path)
        return GateDecision(False, f"the proof record {path} does not match the model")
    return GateDecision(False, _why_missing(model, directory))


def _why_missing(model: Model, directory: Path) -> str:
    """Say whether the file was proved before it was edited, or with other params."""
    here = str(Path(model.file).resolve())
    older = []
    if directory.is_dir():
        for path in directory.glob("*.json"):
            record = _read(path)
            if record is not None and record.get("file") == here:
                older.append(record)
    proved_as = "no proof record"
    if any(r.get("sha256") == model.source_sha256 for r in older):
        proved_as = "it was proved with other params only"
    elif older:
        latest = max(older, key=lambda r: str(r.get("proved_at", "")))
        proved_as = f"it was edited since it was proved ({latest.get('proved_at')})"
    return f"{model.file}: {proved_as} in {directory}; run `seqprove verify` on it first"


def _check_certificate(model: Model, directory: Path) -> GateDecision:
    from checker.certify import check_model

    checks, problems = check_model(directory, model)
    if not checks and problems:
        return GateDecision(False, "; ".join(problems))
    failed = [
        f"{c.limit}/{c.obligation}" + (f" ({c.problem})" if c.problem else "")
        for c in checks
        if not c.ok
    ]
    if failed or problems:
        why = "; ".join([*problems, f"{', '.join(failed)} not re-proved"] if failed else problems)
        return GateDecision(False, f"{model.file}: the certificate {directory} fails: {why}")
    return GateDecision(
        True,
        f"certificate {directory} ({len(checks)} obligations re-checked against the model "
        "by z3 and cvc5)",
    )
