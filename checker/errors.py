"""Exceptions: user errors (bad input) apart from tool bugs (internal errors)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a model file, located at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.message}


class SeqproveError(Exception):
    """Base of every error seqprove raises on purpose."""


class ModelError(SeqproveError):
    """The user's model file is bad; carries every problem found in it."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(SeqproveError):
    """The command line is bad (unknown option value, unknown --param, missing file)."""


class InternalError(SeqproveError):
    """A bug in seqprove itself, such as a counterexample the interpreter does not reproduce."""
