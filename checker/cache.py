"""A cache of verification reports, so ``seqprove verify`` need not prove again a model
it has already proved with the same tools and options.

A report is stored under :func:`cache_key`: the SHA-256 of the model file's bytes, its
effective params, every option that changes results (engine, budget, timeout, bmc_depth,
max_k, sanity), the seqprove version, a digest of seqprove's source and the z3 version.
Editing the file, overriding a param, changing one of those options or changing seqprove
(a release, or an install from another commit) or z3 is therefore a miss. The path
of the file is not part of the key: the same content verified from another path is a
hit, and the report returned names the path given this time.

What is cached (see :func:`uncacheable_reason`)
------------------------------------------------
Only reports that another run on the same input would repeat:

* a report with an internal error is never stored (it is a bug, perhaps fixed by the
  next run or release);
* proved and refuted limits are stored: a proof or a replayed counterexample does not
  depend on how fast the machine is;
* an UNKNOWN limit that ran out of its resource budget ("resource budget (N units)
  reached") is stored: z3's resource units make that answer the same on every run;
* any other UNKNOWN limit is stored only when it is not caused by running out of time or
  another resource: when its reason names the wall-clock time limit, a z3 ``timeout``, a canceled
  or interrupted solver, a resource or memory limit, or an invariant check left unknown,
  the whole report is not stored, since a faster machine or a retry might decide it.
  So is "not k-inductive for k up to N" with N below ``max_k``: k-induction stops early
  only when the time is up (the portfolio gives that reason for its 1-induction attempt
  when the deadline passes right after it). UNKNOWNs that a retry repeats are stored:
  BMC alone ("bounded: no counterexample up to depth N"), "not k-inductive for k up to
  max_k", a vacuous model, a solver that answered unknown for a reason of its own
  (nonlinear arithmetic, say);
* a sanity check that "ran out of time" (its finding says so) also keeps the report out
  of the cache, since its findings are incomplete.

What runs out of time without saying so cannot be recognised: the tautology and
shadowed-transition checks, and the first check for a vacuous model, treat a solver
time-out as "nothing found". Their findings are lost in that case, cached or not; the
verdicts of the limits are not affected.

Files
-----
One JSON file per key, ``<key>.json``, holding ``format``, ``key``, ``file`` (the path
verified when it was stored), ``created`` (UTC, ISO 8601), ``report`` (the
:meth:`ModelReport.to_json` of the report) and ``mac``, the entry's seal under this
installation's key (:mod:`checker.run.seal`). ``verify`` writes a proof record for a
proof it reads from the cache, so an entry without a valid seal (written by hand, or
by another installation) is a miss. A file is written to a temporary file in
the same folder and renamed over the entry (:func:`os.replace`), so a reader sees the
old entry or the new one, never half of one. A file that cannot be read, is not JSON,
has another format or key, has no valid seal, or holds a report that does not fit the
model is a miss.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import z3

import checker
from checker.fastcache import ENTRY_FORMAT, read_entry
from checker.model import Model, param_text
from checker.options import DEFAULT_CACHE, Options
from checker.results import ModelReport, Verdict
from checker.run.seal import seal

CACHE_FORMAT = ENTRY_FORMAT
"""The ``format`` of a cache file; a file of any other format is a miss."""


RESULT_OPTIONS = ("engine", "budget", "timeout", "bmc_depth", "max_k", "sanity")
"""The fields of :class:`Options` that can change a report, all part of the key."""

TIME_OUT_MARKERS = (
    "time limit",  # "time limit (30 s) reached", "... within the time limit (...)"
    "timeout",  # z3's reason_unknown
    "canceled",
    "interrupted",
    "resource limit",  # z3's rlimit: "max. resource limit exceeded"
    "memout",
    "out of memory",
    "ran out of time",  # sanity checks: "... ran out of time"
    "is unknown",  # "invariant from Spacer not confirmed: consecution is unknown"
)
"""Texts in an UNKNOWN's reason or a finding's message that mean it ran out of time or
another resource (compared in lower case)."""

_NOT_K_INDUCTIVE = re.compile(r"not k-inductive for k up to (\d+)")

_ENTRY = re.compile(r"[0-9a-f]{64}\.json")


def cache_key(model: Model, options: Options) -> str:
    """The key of ``model`` verified with ``options`` by this seqprove and this z3."""
    blob = {
        "format": CACHE_FORMAT,
        "sha256": model.source_sha256,
        "params": param_text(model.params),
        "free": model.ranges(),
        "region": model.region_text(),
        "options": {
            "engine": options.engine,
            "budget": int(options.budget),
            "timeout": float(options.timeout),
            "bmc_depth": options.bmc_depth,
            "max_k": options.max_k,
            "sanity": options.sanity,
        },
        "seqprove": checker.__version__,
        "code": code_digest(),
        "z3": z3.get_version_string(),
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


@functools.cache
def code_digest() -> str:
    """The SHA-256 of seqprove's own source (every ``.py`` file of the ``checker``
    package, by path): an install from a newer commit with the same version number is a
    miss too, so that no report of an older verifier is ever shown as this one's."""
    root = Path(checker.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _timed_out(text: str, options: Options | None = None) -> bool:
    lowered = text.lower()
    if any(marker in lowered for marker in TIME_OUT_MARKERS):
        return True
    return options is not None and any(
        int(k) < options.max_k for k in _NOT_K_INDUCTIVE.findall(lowered)
    )


def uncacheable_reason(report: ModelReport, options: Options) -> str | None:
    """Why ``report``, verified with ``options``, may not be cached, or None when it may
    (see the module's notes)."""
    if report.internal_error is not None:
        return "it has an internal error"
    for lim in report.limits:
        if lim.verdict is Verdict.UNKNOWN and _timed_out(lim.reason, options):
            return f"limit '{lim.name}' is unknown for lack of time ({lim.reason})"
    for finding in report.findings:
        if _timed_out(finding.message):
            return f"the {finding.rule} check ran out of time"
    return None


def cacheable(report: ModelReport, options: Options) -> bool:
    """Whether another run with ``options`` on the same input would repeat ``report``."""
    return uncacheable_reason(report, options) is None


def _fits(report: ModelReport, model: Model) -> bool:
    """Whether a stored report can be ``model``'s: same strategy, same limits (and order
    checks and checks) in order."""
    return report.strategy == model.strategy and [lim.name for lim in report.limits] == [
        ob.name for ob in model.obligations()
    ]


class Cache:
    """Reports on disk, one JSON file per :func:`cache_key`, in ``directory`` (created
    by the first :meth:`put`)."""

    def __init__(self, directory: Path = DEFAULT_CACHE) -> None:
        self.directory = Path(directory)

    def path(self, model: Model, options: Options) -> Path:
        """Where the report of ``model`` with ``options`` is (or would be) stored."""
        return self.directory / f"{cache_key(model, options)}.json"

    def get(self, model: Model, options: Options) -> ModelReport | None:
        """The stored report of ``model`` with ``options``, naming ``model.file``; None on
        a miss, including a file that is missing, unreadable, corrupt or foreign."""
        key = cache_key(model, options)
        report = read_entry(self.directory / f"{key}.json", key, model.file)
        if report is None or not _fits(report, model) or not cacheable(report, options):
            return None
        return report

    def put(self, model: Model, options: Options, report: ModelReport) -> None:
        """Store ``report`` as the result of ``model`` with ``options``, unless it may
        not be cached (:func:`uncacheable_reason`). Raises :class:`OSError` when the
        folder cannot be written; no temporary file is left behind."""
        if not cacheable(report, options):
            return
        key = cache_key(model, options)
        entry: dict[str, Any] = seal(
            {
                "format": CACHE_FORMAT,
                "key": key,
                "file": model.file,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "report": report.to_json(),
            }
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".cache-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entry, out, indent=1)
                out.write("\n")
            os.replace(tmp, self.directory / f"{key}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def entries(self) -> list[Path]:
        """The cache files in the folder (named ``<key>.json``), oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            if _ENTRY.fullmatch(path.name):
                with contextlib.suppress(OSError):
                    found.append((path.stat().st_mtime, path.name, path))
        return [path for _, _, path in sorted(found)]

    def prune(self, max_entries: int) -> int:
        """Delete the oldest entries until at most ``max_entries`` are left; return how
        many were deleted. Other files in the folder are left alone."""
        if max_entries < 0:
            raise ValueError("max_entries must not be negative")
        entries = self.entries()
        deleted = 0
        for path in entries[: max(0, len(entries) - max_entries)]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted += 1
        return deleted
