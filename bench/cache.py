"""The result cache: `seqprove verify models/` twice, side by side.

The first run starts from an empty cache in a scratch directory and verifies every model;
the second, with nothing changed, is answered from the cache. Both are whole commands in
a fresh process (start-up and imports included), as CI runs them. Each is timed
``--repeats`` times (the best kept), and the cached run must report the same verdicts.

    .venv/bin/python bench/cache.py [--repeats N] [--models DIR] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import cpu_model, revision

ROOT = Path(__file__).resolve().parent.parent


def verify(models: Path, cwd: Path) -> tuple[float, dict[str, Any]]:
    """Time one `seqprove verify --json MODELS` in ``cwd`` (its cache lives there)."""
    begun = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "checker", "verify", "--json", str(models)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )
    seconds = time.perf_counter() - begun
    if done.returncode not in (0, 1, 2):
        raise SystemExit(f"verify failed ({done.returncode}): {done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    return seconds, report


def verdicts(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (Path(m["file"]).name, lim["name"], lim["verdict"])
        for m in report["models"]
        for lim in m["limits"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (best kept)")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown row")
    args = parser.parse_args(argv)
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(args.repeats):
        scratch = Path(tempfile.mkdtemp(prefix="seqprove-cache-bench-"))
        try:
            first, a = verify(args.models, scratch)
            second, b = verify(args.models, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if verdicts(a) != verdicts(b):
            raise SystemExit("the cached run reports other verdicts")
        if not all(m["cached"] for m in b["models"]) or any(m["cached"] for m in a["models"]):
            raise SystemExit("the second run was not answered from the cache")
        cold.append(first)
        warm.append(second)
    limits = len(verdicts(a))
    ratio = min(cold) / min(warm)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, commit {revision()}")  # fmt: skip
    print(f"{args.models}: {len(a['models'])} models, {limits} limits")
    print(
        f"first run (empty cache): {min(cold):.2f} s   runs: {', '.join(f'{c:.2f}' for c in cold)}"
    )
    print(
        f"second run (cached):     {min(warm):.3f} s  runs: {', '.join(f'{w:.3f}' for w in warm)}"
    )
    print(f"speed-up: {ratio:.1f}x (target: at least 10x)")
    if args.markdown:
        print("\n| models | limits | first run | second run (cached) | speed-up |")
        print("|---|---:|---:|---:|---:|")
        print(f"| `{args.models.name}/` | {limits} | {min(cold):.2f} s | {min(warm):.3f} s "
              f"| {ratio:.1f}x |")  # fmt: skip
    return 0 if ratio >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
