"""The examples in docs/ are run.

- every ```yaml block is a complete model: it loads, or, after
  ``<!-- expect-error: TEXT -->``, fails to load with a message containing TEXT; after
  ``<!-- expect-exit: N -->`` it is verified and ``seqprove verify`` must exit N;
- every ```console block's ``$ seqprove ...`` lines must exit with the code given by
  ``<!-- exit: N -->`` before the block (0 if none). The console blocks of one document
  run in order, as one test, so that an example may use what an earlier one wrote (a
  proof record, market data, a journal). They run in a temporary directory in which
  ``models/`` and ``docs/`` of the repository are reachable by the same relative paths,
  so nothing is written into the repository.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker.errors import ModelError
from checker.lang.loader import load_text
from tests.conftest import ROOT, run_cli

DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*(expect-error|expect-exit|exit):\s*(.*?)\s*-->\s*$")


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
LINKED = ("models", "docs")
"""What the console examples may refer to, by the same relative path as in the repository."""


def test_docs_exist_and_have_examples() -> None:
    names = {d.name for d in DOCS}
    assert {"language.md", "semantics.md", "cli.md", "tutorial.md", "executor.md"} <= names
    assert YAML and CONSOLE


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
            assert argv[0] == "seqprove", f"{block.id}: {line}"
            found.append(argv[1:])
    assert found, f"{block.id}: a console block shows at least one command"
    return found


@pytest.mark.parametrize("doc", CONSOLE_DOCS, ids=lambda d: d.name)
def test_console_examples(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for block in (b for b in CONSOLE if b.doc == doc):
        expected = int(block.mark[1]) if block.mark and block.mark[0] == "exit" else 0
        for argv in commands(block):
            run = run_cli(*argv)
            command = shlex.join(["seqprove", *argv])
            assert run.code == expected, (
                f"{block.id}: {command}: exit {run.code}, expected {expected}\n{run.out}{run.err}"
            )
