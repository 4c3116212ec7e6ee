"""Verdicts, counterexamples, findings and reports: frozen data with ``to_json()``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checker.errors import Diagnostic


class Verdict(enum.Enum):
    """The answer for one limit. Nothing but a proof for every run length is PROVED."""

    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Tick:
    """One row of a counterexample. Tick 0 is the initial configuration (no transition,
    no inputs); tick ``n`` shows the inputs the market chose at that tick, the transition
    that fired (None when the configuration stuttered) and the configuration after it."""

    tick: int
    step: str
    transition: Mapping[str, Any] | None
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "tick": self.tick,
            "step": self.step,
            "transition": dict(self.transition) if self.transition else None,
            "inputs": dict(self.inputs),
            "state": dict(self.state),
        }


@dataclass(frozen=True)
class Counterexample:
    """A run that breaks a limit at its last tick, replayed by the interpreter."""

    ticks: tuple[Tick, ...]

    @property
    def length(self) -> int:
        return len(self.ticks) - 1

    def to_json(self) -> dict[str, Any]:
        return {"length": self.length, "ticks": [t.to_json() for t in self.ticks]}


@dataclass(frozen=True)
class LimitResult:
    """The verdict on one limit, with how it was reached."""

    name: str
    text: str
    line: int
    verdict: Verdict
    engine: str
    seconds: float
    reason: str = ""
    invariant: Mapping[str, str] | None = None
    counterexample: Counterexample | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expression": self.text,
            "line": self.line,
            "verdict": self.verdict.value,
            "engine": self.engine,
            "seconds": round(self.seconds, 3),
            "reason": self.reason or None,
            "invariant": dict(self.invariant) if self.invariant is not None else None,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }


@dataclass(frozen=True)
class Finding:
    """A structural rule broken (error) or a sanity check's warning."""

    rule: str
    severity: Severity
    message: str
    line: int
    column: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }


@dataclass(frozen=True)
class ModelReport:
    """Everything known about one model file after ``verify``."""

    file: str
    strategy: str | None
    params: Mapping[str, int | str] = field(default_factory=dict)
    limits: tuple[LimitResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    errors: tuple[Diagnostic, ...] = ()
    internal_error: str | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """This model's exit code alone (see :func:`exit_code`)."""
        if self.internal_error:
            return 4
        if self.errors:
            return 3
        if any(lim.verdict is Verdict.REFUTED for lim in self.limits) or any(
            f.severity is Severity.ERROR for f in self.findings
        ):
            return 1
        if any(lim.verdict is Verdict.UNKNOWN for lim in self.limits):
            return 2
        return 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "strategy": self.strategy,
            "params": dict(self.params),
            "seconds": round(self.seconds, 3),
            "limits": [lim.to_json() for lim in self.limits],
            "findings": [f.to_json() for f in self.findings],
            "errors": [e.to_json() for e in self.errors],
            "internal_error": self.internal_error,
        }


@dataclass(frozen=True)
class Report:
    """The result of one ``verify`` run over one or more files."""

    models: tuple[ModelReport, ...]

    @property
    def exit_code(self) -> int:
        return exit_code(m.exit_code for m in self.models)

    def to_json(self) -> dict[str, Any]:
        return {"models": [m.to_json() for m in self.models], "exit_code": self.exit_code}


def exit_code(codes: Any) -> int:
    """Combine per-model exit codes: an internal error (4) outranks bad input (3), which
    outranks a refuted limit or broken structural rule (1), which outranks unknown (2)."""
    seen = set(codes)
    for code in (4, 3, 1, 2):
        if code in seen:
            return code
    return 0
