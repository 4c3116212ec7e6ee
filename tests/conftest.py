"""Shared helpers: the repository root, running the CLI in-process, small models."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker.cli import main
from checker.lang.loader import load_text
from checker.model import Model
from checker.results import ModelReport
from checker.verify import Options, verify_model

ROOT = Path(__file__).resolve().parent.parent
BAD_MODELS = ROOT / "tests" / "models" / "bad"
V1_MODELS = ROOT / "tests" / "models" / "v1"
"""The reference models as they were in language version 1 (compatibility cases)."""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> Run:
    """Run ``seqprove ARGS`` in this process and capture its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "120"
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return Run(code, out.getvalue(), err.getvalue())


def run_process(*args: str, cwd: Path = ROOT) -> Run:
    """Run the installed ``seqprove`` command in a child process."""
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "checker", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def model(text: str, name: str = "test.yaml", **params: str) -> Model:
    return load_text(text, name, params)


def verify_text(text: str, timeout: float = 20.0, **params: str) -> ModelReport:
    return verify_model(model(text, **params), Options(timeout=timeout))


@pytest.fixture
def tmp_models(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def _own_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests seal proof records with a key of their own, never the user's
    (``SEQPROVE_KEY_FILE``; made on first use). Session-wide, so that module fixtures
    that verify use it too; child processes inherit it."""
    saved = os.environ.get("SEQPROVE_KEY_FILE")
    os.environ["SEQPROVE_KEY_FILE"] = str(tmp_path_factory.mktemp("key") / "key")
    yield
    if saved is None:
        del os.environ["SEQPROVE_KEY_FILE"]
    else:
        os.environ["SEQPROVE_KEY_FILE"] = saved


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets an empty result cache of its own, so no test answers from what
    another verified (the cache is tested on purpose in test_cache.py)."""
    monkeypatch.setattr("checker.cli.DEFAULT_CACHE", tmp_path_factory.mktemp("cache"))


def last_tick(journal: Path) -> int:
    """The last tick a run's journal holds (committed), or -1 when there is none yet: the
    file, its table or its first row not there yet, or the file being renamed into place
    (read-only, so a test can poll a run's journal while the run writes it)."""
    if not journal.exists():
        return -1
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT MAX(tick) FROM ticks").fetchone()
    except sqlite3.Error:
        return -1
    return -1 if row[0] is None else int(row[0])
