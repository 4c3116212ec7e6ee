"""Verdicts, counterexamples, findings and reports: frozen data with ``to_json()``, and
``from_json()`` to read that JSON back (``X.from_json(x.to_json()).to_json() ==
x.to_json()``). ``from_json`` raises :class:`ValueError` on anything else."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from checker.errors import Diagnostic

_T = TypeVar("_T")


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: expected an object, got {type(data).__name__}")
    return data


def _take(data: Mapping[str, Any], name: str, kind: type[_T]) -> _T:
    """``data[name]``, which must be a ``kind`` (an int is not a bool, nor a bool an int)."""
    if name not in data:
        raise ValueError(f"missing field {name!r}")
    value = data[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"field {name!r}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _maybe(data: Mapping[str, Any], name: str, kind: type[_T]) -> _T | None:
    """Like :func:`_take`, but the field may be null."""
    if name in data and data[name] is None:
        return None
    return _take(data, name, kind)


def _seconds(data: Mapping[str, Any]) -> float:
    value = data.get("seconds")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("field 'seconds': expected a number")
    return float(value)


def _items(data: Mapping[str, Any], name: str) -> list[Any]:
    return _take(data, name, list)


def _text_map(data: Mapping[str, Any], name: str) -> dict[str, str] | None:
    found = _maybe(data, name, dict)
    if found is None:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
        raise ValueError(f"field {name!r}: expected text values")
    return dict(found)


def _json_map(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    found = _take(data, name, dict)
    if not all(isinstance(k, str) for k in found):
        raise ValueError(f"field {name!r}: expected text keys")
    return dict(found)


class Verdict(enum.Enum):
    """The answer for one limit. Nothing but a proof for every run length is PROVED."""

    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    """What a search did not find, and how far it went (it changes no exit code)."""


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
    actions: tuple[Mapping[str, Any], ...] = ()
    """With instruments: the actions the transition sent (evaluated)."""
    provers: Mapping[str, bool] | None = None
    """At the last tick of a counterexample: whether each prover held on the
    configuration the transition was chosen on."""

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "tick": self.tick,
            "step": self.step,
            "transition": dict(self.transition) if self.transition else None,
            "inputs": dict(self.inputs),
            "state": dict(self.state),
        }
        if self.actions:
            found["actions"] = [dict(a) for a in self.actions]
        if self.provers is not None:
            found["provers"] = dict(self.provers)
        return found

    @classmethod
    def from_json(cls, data: Any) -> Tick:
        data = _object(data, "tick")
        transition = _maybe(data, "transition", dict)
        actions = _take(data, "actions", list) if "actions" in data else []
        provers = _take(data, "provers", dict) if "provers" in data else None
        if not all(isinstance(a, dict) for a in actions):
            raise ValueError("field 'actions': expected objects")
        if provers is not None and not all(isinstance(v, bool) for v in provers.values()):
            raise ValueError("field 'provers': expected true or false")
        return cls(
            tick=_take(data, "tick", int),
            step=_take(data, "step", str),
            transition=dict(transition) if transition else None,
            inputs=_json_map(data, "inputs"),
            state=_json_map(data, "state"),
            actions=tuple(dict(a) for a in actions),
            provers=dict(provers) if provers is not None else None,
        )


@dataclass(frozen=True)
class Counterexample:
    """A run that breaks a limit at its last tick, replayed by the interpreter."""

    ticks: tuple[Tick, ...]
    shortest: bool = True
    """Whether every shorter run was shown not to break the limit."""

    @property
    def length(self) -> int:
        return len(self.ticks) - 1

    def to_json(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "shortest": self.shortest,
            "ticks": [t.to_json() for t in self.ticks],
        }

    @classmethod
    def from_json(cls, data: Any) -> Counterexample:
        data = _object(data, "counterexample")
        shortest = _take(data, "shortest", bool) if "shortest" in data else True
        found = cls(tuple(Tick.from_json(t) for t in _items(data, "ticks")), shortest)
        if _take(data, "length", int) != found.length:
            raise ValueError("counterexample: 'length' does not match its ticks")
        return found


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
    kind: str = "limit"
    """``limit``, ``order`` (an order check) or ``check`` (a built-in check of version 2,
    such as ``positive_qty:LINE`` or ``final-step-orders``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "expression": self.text,
            "line": self.line,
            "verdict": self.verdict.value,
            "engine": self.engine,
            "seconds": round(self.seconds, 3),
            "reason": self.reason or None,
            "invariant": dict(self.invariant) if self.invariant is not None else None,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> LimitResult:
        data = _object(data, "limit")
        counterexample = _maybe(data, "counterexample", dict)
        return cls(
            name=_take(data, "name", str),
            text=_take(data, "expression", str),
            line=_take(data, "line", int),
            verdict=Verdict(_take(data, "verdict", str)),
            engine=_take(data, "engine", str),
            seconds=_seconds(data),
            reason=_maybe(data, "reason", str) or "",
            invariant=_text_map(data, "invariant"),
            counterexample=(
                Counterexample.from_json(counterexample) if counterexample is not None else None
            ),
            kind=_take(data, "kind", str) if "kind" in data else "limit",
        )


@dataclass(frozen=True)
class Finding:
    """A structural rule broken (error), a sanity check's warning, or a note; ``run``,
    when a check shows one, is the run that gets to what it found (replayed)."""

    rule: str
    severity: Severity
    message: str
    line: int
    column: int = 1
    run: Counterexample | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }
        if self.run is not None:
            found["run"] = self.run.to_json()
        return found

    @classmethod
    def from_json(cls, data: Any) -> Finding:
        data = _object(data, "finding")
        run = _take(data, "run", dict) if "run" in data else None
        return cls(
            rule=_take(data, "rule", str),
            severity=Severity(_take(data, "severity", str)),
            message=_take(data, "message", str),
            line=_take(data, "line", int),
            column=_take(data, "column", int),
            run=Counterexample.from_json(run) if run is not None else None,
        )


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
    cached: bool = False  # read from the cache, not verified in this run

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
            "cached": self.cached,
        }

    @classmethod
    def from_json(cls, data: Any) -> ModelReport:
        """Read back :meth:`to_json`. The JSON of an error leaves out its file, which is
        the report's ``file``."""
        data = _object(data, "model report")
        file = _take(data, "file", str)
        params = _json_map(data, "params")
        if not all(isinstance(v, int | str) and not isinstance(v, bool) for v in params.values()):
            raise ValueError("field 'params': expected numbers or text")
        errors = []
        for raw in _items(data, "errors"):
            error = _object(raw, "error")
            errors.append(
                Diagnostic(
                    file,
                    _take(error, "line", int),
                    _take(error, "column", int),
                    _take(error, "message", str),
                )
            )
        return cls(
            file=file,
            strategy=_maybe(data, "strategy", str),
            params=params,
            limits=tuple(LimitResult.from_json(lim) for lim in _items(data, "limits")),
            findings=tuple(Finding.from_json(f) for f in _items(data, "findings")),
            errors=tuple(errors),
            internal_error=_maybe(data, "internal_error", str),
            seconds=_seconds(data),
            cached=data.get("cached") is True,
        )


@dataclass(frozen=True)
class Report:
    """The result of one ``verify`` run over one or more files."""

    models: tuple[ModelReport, ...]

    @property
    def exit_code(self) -> int:
        return exit_code(m.exit_code for m in self.models)

    def to_json(self) -> dict[str, Any]:
        return {"models": [m.to_json() for m in self.models], "exit_code": self.exit_code}

    @classmethod
    def from_json(cls, data: Any) -> Report:
        """Read back :meth:`to_json`; ``exit_code`` is recomputed from the models."""
        data = _object(data, "report")
        return cls(tuple(ModelReport.from_json(m) for m in _items(data, "models")))


def exit_code(codes: Any) -> int:
    """Combine per-model exit codes: an internal error (4) outranks bad input (3), which
    outranks a refuted limit or broken structural rule (1), which outranks unknown (2)."""
    seen = set(codes)
    for code in (4, 3, 1, 2):
        if code in seen:
            return code
    return 0
