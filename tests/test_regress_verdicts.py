"""The hand-made regression models of ``tests/models/regress``: each is named after the
class of verifier bug it caught and states, in ``# expect:`` comments at its top, the
verdict and shortest counterexample length of every limit, and the engines that can
decide it (BMC alone never proves; k-induction cannot prove a limit that is not
k-inductive). Every engine named must give exactly that answer, in the whole file and
with the limit alone in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker.lang.loader import load_text
from checker.results import Verdict
from checker.verify import Options, verify_model
from tests.conftest import ROOT

REGRESS = sorted((ROOT / "tests" / "models" / "regress").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\w+) (PROVED|REFUTED)(?: (\d+))? \(([\w ]+)\)$")


def expectations(path: Path) -> list[tuple[str, Verdict, int | None, list[str]]]:
    found = []
    for line in path.read_text().splitlines():
        match = EXPECT.match(line)
        if match:
            name, verdict, length, engines = match.groups()
            found.append((name, Verdict[verdict], int(length) if length else None, engines.split()))
    return found


CASES = [
    (path, engine)
    for path in REGRESS
    for engine in sorted({e for _, _, _, engines in expectations(path) for e in engines})
]


def _alone(text: str, name: str) -> str:
    """The file with ``name`` as its only limit (limits come last, one a line)."""
    head, limits = text.split("\nlimits:\n")
    kept = [line for line in limits.splitlines() if line.strip().startswith(f"{name}:")]
    return head + "\nlimits:\n" + "\n".join(kept) + "\n"


def test_every_regression_model_states_its_expectations() -> None:
    assert len(REGRESS) >= 4
    for path in REGRESS:
        declared = {lim.name for lim in load_text(path.read_text(), path.name).limits}
        assert {name for name, _, _, _ in expectations(path)} == declared, path.name


@pytest.mark.parametrize("path, engine", CASES, ids=lambda x: x.stem if isinstance(x, Path) else x)
def test_regression_verdicts(path: Path, engine: str) -> None:
    text = path.read_text()
    options = Options(engine=engine, sanity=False, bmc_depth=12, max_k=12)
    wrong = []
    for where, source in [("file", text)] + [
        (f"alone:{name}", _alone(text, name)) for name, _, _, _ in expectations(path)
    ]:
        report = verify_model(load_text(source, path.name), options)
        got = {
            lim.name: (lim.verdict, lim.counterexample.length if lim.counterexample else None)
            for lim in report.limits
        }
        for name, verdict, length, engines in expectations(path):
            if engine in engines and name in got and got[name] != (verdict, length):
                wrong.append(
                    f"[{where}] {name}: expected {verdict.name} {length}, got "
                    f"{got[name][0].name} {got[name][1]}"
                )
    assert not wrong, f"{path.name} with engine {engine}:\n" + "\n".join(wrong)
