"""The cache's quick way in: find a file's cached report from its bytes alone.

:mod:`checker.cache` keys a report by the loaded model (its content hash and effective
params). Loading a model needs sympy, and verifying needs z3: seconds of imports. This
module keeps, beside each cache entry, an index from what can be read without them (the
file's bytes, the run's ``--param`` overrides, the options, the seqprove and z3
versions) to the entry's key, so ``seqprove verify`` on unchanged files answers from
the cache without importing either. Any doubt (no index, an unreadable entry, a missing
proof record) is a miss, and the run takes the normal way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import checker
from checker.options import Options
from checker.results import ModelReport
from checker.run.seal import sealed

INDEX = "index"
ENTRY_FORMAT = "seqprove-cache/1"


def read_entry(path: Path, key: str, file: str) -> ModelReport | None:
    """The report stored in the cache entry ``path`` under ``key``, naming ``file`` (the
    same content may live at another path); None when the entry is missing, unreadable,
    corrupt, foreign or not sealed by this installation (``verify`` writes a sealed proof
    record for a proof it reads from the cache, so an entry written by hand must not
    count)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not (
            isinstance(data, dict)
            and data.get("format") == ENTRY_FORMAT
            and data.get("key") == key
            and sealed(data)  # written by this installation: see checker.run.seal
        ):
            return None
        report = ModelReport.from_json(data.get("report"))
    except (OSError, ValueError, RecursionError):
        return None
    errors = tuple(dataclasses.replace(e, file=file) for e in report.errors)
    return dataclasses.replace(report, file=file, errors=errors)


def _solver_version() -> str:
    try:
        return importlib.metadata.version("z3-solver")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def source_key(sha256: str, overrides: Mapping[str, str], options: Options) -> str:
    """What a report depends on, read without loading the model: ``sha256`` is the
    digest of the file's bytes, the very bytes that were (or will be) parsed."""
    blob = json.dumps(
        {
            "sha256": sha256,
            "overrides": sorted(overrides.items()),
            "options": dataclasses.asdict(options),
            "seqprove": checker.__version__,
            "z3": _solver_version(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def remember(
    cache: Path,
    sha256: str,
    overrides: Mapping[str, str],
    options: Options,
    key: str,
    record: str,
) -> None:
    """Index the entry ``key`` (and the proof record it needs, if any) under the source
    key of the bytes that were verified, whose digest is ``sha256`` (the model's
    ``source_sha256``). Never the file read again: it may have changed since it was
    loaded, and the report would then answer for bytes it is not about. Best effort: an
    index that cannot be written only costs speed."""
    folder = cache / INDEX
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump({"key": key, "record": record}, out)
        Path(tmp).replace(folder / f"{source_key(sha256, overrides, options)}.json")
    except OSError:
        return


def _sealed_record(path: Path) -> bool:
    """Whether the proof record at ``path`` is there and sealed by this installation
    (``seqprove run`` admits no other)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and sealed(data)


def lookup(
    cache: Path, path: Path, overrides: Mapping[str, str], options: Options, proofs: Path
) -> ModelReport | None:
    """The cached report of ``path``, or None. A report that is a proof is returned
    only when its proof record is still in ``proofs`` with a valid seal (``seqprove
    run`` needs it)."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        index = json.loads(
            (cache / INDEX / f"{source_key(digest, overrides, options)}.json").read_text()
        )
        key, record = str(index["key"]), index["record"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    report = read_entry(cache / f"{key}.json", key, str(path))
    if report is None or (record and not _sealed_record(proofs / str(record))):
        return None
    return dataclasses.replace(report, cached=True, seconds=0.0)
