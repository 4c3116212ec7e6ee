"""seqprove: prove that a trading sequencer cannot break its risk limits.

The public face is small on purpose: load a model, verify it, read the verdicts.
"""

from checker.errors import ModelError, SeqproveError
from checker.lang.loader import load_model
from checker.results import Report, Verdict
from checker.verify import Options, verify_model, verify_paths

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
