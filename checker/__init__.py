"""seqprove: prove that a trading sequencer cannot break its risk limits.

The public face is small on purpose: load a model, verify it, read the verdicts. The
names are imported when first used, so a command that needs none of the solver (a
cached ``verify``, ``--help``) starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ModelError",
    "Options",
    "Report",
    "SeqproveError",
    "Verdict",
    "__version__",
    "load_model",
    "verify_model",
    "verify_paths",
]

_WHERE = {
    "ModelError": "checker.errors",
    "SeqproveError": "checker.errors",
    "Options": "checker.options",
    "Report": "checker.results",
    "Verdict": "checker.results",
    "load_model": "checker.lang.loader",
    "verify_model": "checker.verify",
    "verify_paths": "checker.verify",
}

if TYPE_CHECKING:
    from checker.errors import ModelError, SeqproveError
    from checker.lang.loader import load_model
    from checker.options import Options
    from checker.results import Report, Verdict
    from checker.verify import verify_model, verify_paths


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'checker' has no attribute {name!r}")
