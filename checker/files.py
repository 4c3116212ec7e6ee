"""Which files a command works on."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from checker.errors import SeqproveError


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Model files named by ``paths``: files as given, folders searched recursively for
    ``*.yaml`` and ``*.yml``, sorted. A missing path raises :class:`SeqproveError`."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
            )
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise SeqproveError(f"no such file or folder: {raw}")
    return files
