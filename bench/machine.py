"""What every benchmark records about where and on what it ran."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


TIMED_VERIFY = r"""
import json, sys, time
from checker.lang.loader import load_model
from checker.verify import sanity
import checker.verify as verify_module

spent = {}
def timed(module, name):
    function = getattr(module, name)
    def wrapper(*args, **kwargs):
        begun = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - begun
    setattr(module, name, wrapper)

for name in ("tautologies", "shadowed", "dead_transitions", "dead_ends"):
    timed(sanity, name)
timed(verify_module, "stuck")

def measured(path, params=None):
    begun = time.process_time()
    model = load_model(path, params)
    load = time.process_time() - begun
    begun = time.process_time()
    report = verify_module.verify_model(model)
    return model, report, load, time.process_time() - begun
"""
"""Child-process code: ``measured(path, params)`` loads a model and verifies it with the
default options, and returns the model, its report and the CPU seconds of each;
``spent`` holds the CPU seconds of each sanity check inside the verify, by check."""


def revision() -> str:
    """The checked-out commit, marked when ``checker/`` has uncommitted changes."""
    try:
        head, status = (
            subprocess.run(
                ["git", *command], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
            for command in (["rev-parse", "--short", "HEAD"], ["status", "--porcelain", "checker"])
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (checker/ modified)" if status else head


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> None:
    """Print a results table: Markdown (cells' ``|`` escaped) or tab-separated."""
    if markdown:
        print("| " + " | ".join(c.replace("|", "\\|") for c in header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    else:
        print("\t".join(header))
        for row in rows:
            print("\t".join(row))


def run_child(code: str, *args: str, what: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (the repository as its folder) with ``args``,
    and the JSON object its last line prints; stop with its error output if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{what}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result
