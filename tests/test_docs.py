"""The examples in docs/ are run.

- every ```yaml block is a complete model: it loads, or, after
  ``<!-- expect-error: TEXT -->``, fails to load with a message containing TEXT; after
  ``<!-- expect-exit: N -->`` it is verified and ``seqprove verify`` must exit N;
- every ```console block's ``$ seqprove ...`` lines must exit with the code given by
  ``<!-- exit: N -->`` before the block (0 if none). The console blocks of one document
  run in order, as one test, so that an example may use what an earlier one wrote (a
  proof record, market data, a journal). They run in a temporary directory in which
  ``models/`` and ``docs/`` of the repository are reachable by the same relative paths,
  so nothing is written into the repository. A ``$ pytest ...`` line runs pytest (this
  interpreter's) in a child process there, for the examples of the pytest plugin;
- every ```python block is a complete test module, preceded by ``<!-- pytest: passes -->``
  or ``<!-- pytest: fails TEXT -->``. The blocks of one document are written as modules
  to a temporary directory laid out as for the console blocks and run there by one pytest
  process: the tests of a module must all pass, or one of them fail with TEXT in its
  failure.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from checker.errors import ModelError
from checker.lang.loader import load_text
from tests.conftest import ROOT, Run, run_cli

DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*(expect-error|expect-exit|exit|pytest):\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    lang: str
    text: str
    mark: tuple[str, str] | None

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    found: list[Block] = []
    lines = doc.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        lang = opening.group(1)
        before = MARK.match(lines[i - 1]) if i else None
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        mark = (before.group(1), before.group(2)) if before else None
        found.append(Block(doc, i + 1, lang, "\n".join(lines[i + 1 : end]) + "\n", mark))
        i = end + 1
    return found


ALL = [b for d in DOCS for b in blocks(d)]
YAML = [b for b in ALL if b.lang == "yaml"]
CONSOLE = [b for b in ALL if b.lang == "console"]
CONSOLE_DOCS = sorted({b.doc for b in CONSOLE})
PYTHON = [b for b in ALL if b.lang == "python"]
PYTHON_DOCS = sorted({b.doc for b in PYTHON})
LINKED = ("models", "docs")
"""What the console and Python examples may refer to, by the same relative path as in
the repository."""
PYTEST_SECONDS = 300
"""How long one pytest run of the examples may take before the test fails."""


def test_docs_exist_and_have_examples() -> None:
    names = {d.name for d in DOCS}
    assert {"language.md", "semantics.md", "cli.md", "tutorial.md", "executor.md"} <= names
    assert {"ci.md", "testing.md"} <= names
    assert YAML and CONSOLE and PYTHON


def link_repository(where: Path) -> None:
    """Make ``models/`` and ``docs/`` reachable from ``where`` as from the repository."""
    for name in LINKED:
        (where / name).symlink_to(ROOT / name, target_is_directory=True)


def run_pytest(*args: str, cwd: Path) -> Run:
    """Run pytest with this interpreter in a child process, as a user would from ``cwd``
    (none of the ``PYTEST_*`` variables of the run that starts it, e.g. pytest-xdist's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(COLUMNS="120", NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=PYTEST_SECONDS,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("block", YAML, ids=lambda b: b.id)
def test_yaml_example(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kind, value = block.mark or ("", "")
    if kind == "expect-error":
        with pytest.raises(ModelError) as info:
            load_text(block.text, block.id)
        assert value in str(info.value)
        return
    load_text(block.text, block.id)
    if kind == "expect-exit":
        monkeypatch.chdir(tmp_path)  # verify writes its proof records here
        path = tmp_path / "example.yaml"
        path.write_text(block.text)
        run = run_cli("verify", str(path))
        assert run.code == int(value), run.out + run.err


def commands(block: Block) -> list[list[str]]:
    found = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:].split(" | ")[0].split(" > ")[0])
            assert argv[0] in ("seqprove", "pytest"), f"{block.id}: {line}"
            found.append(argv)
    assert found, f"{block.id}: a console block shows at least one command"
    return found


@pytest.mark.parametrize("doc", CONSOLE_DOCS, ids=lambda d: d.name)
def test_console_examples(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link_repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    for block in (b for b in CONSOLE if b.doc == doc):
        expected = int(block.mark[1]) if block.mark and block.mark[0] == "exit" else 0
        for argv in commands(block):
            command = shlex.join(argv)
            pytest_plugin = argv[0] == "pytest"  # run in a child process, as a user would
            run = run_pytest(*argv[1:], cwd=tmp_path) if pytest_plugin else run_cli(*argv[1:])
            assert run.code == expected, (
                f"{block.id}: {command}: exit {run.code}, expected {expected}\n{run.out}{run.err}"
            )


def expectation(block: Block) -> tuple[str, str]:
    """``("passes", "")`` or ``("fails", TEXT)``, from the mark before a Python block."""
    kind, value = block.mark or ("", "")
    outcome, _, text = value.partition(" ")
    assert kind == "pytest" and (outcome, bool(text)) in {("passes", False), ("fails", True)}, (
        f"{block.id}: put <!-- pytest: passes --> or <!-- pytest: fails TEXT --> before it"
    )
    return outcome, text


@pytest.mark.parametrize("doc", PYTHON_DOCS, ids=lambda d: d.name)
def test_python_examples(doc: Path, tmp_path: Path) -> None:
    """The Python blocks of one document run in one pytest process (it saves a start-up
    of Hypothesis and z3 per block), each block as its own module."""
    link_repository(tmp_path)
    expected: dict[str, tuple[Block, str, str]] = {}
    for block in (b for b in PYTHON if b.doc == doc):
        name = f"test_example_{block.line}"
        (tmp_path / f"{name}.py").write_text(block.text)
        expected[name] = (block, *expectation(block))
    report = tmp_path / "report.xml"
    run = run_pytest(
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
        *(f"{n}.py" for n in expected),
        cwd=tmp_path,
    )
    assert report.exists(), f"{doc.name}: pytest exit {run.code}\n{run.out}{run.err}"
    outcomes: dict[str, list[str]] = {name: [] for name in expected}  # per module: its tests
    failures: dict[str, list[str]] = {name: [] for name in expected}
    for case in ElementTree.parse(report).iter("testcase"):
        module = (case.get("classname") or case.get("name") or "").split(".")[0]
        outcomes.setdefault(module, []).append(case.get("name") or "")
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                failures.setdefault(module, []).append(
                    f"{child.tag}: {child.get('message')}\n{child.text or ''}"
                )
    problems = []
    for name, (block, outcome, text) in expected.items():
        if not outcomes[name]:
            problems.append(f"{block.id}: no test ran")
        elif outcome == "passes" and failures[name]:
            problems.append(f"{block.id}: expected to pass\n" + "\n".join(failures[name]))
        elif outcome == "fails" and not any(
            f.startswith("failure: ") and text in f for f in failures[name]
        ):
            problems.append(
                f"{block.id}: expected a failure showing {text!r}\n" + "\n".join(failures[name])
            )
    assert not problems, "\n\n".join(problems) + f"\n\npytest output:\n{run.out}{run.err}"
