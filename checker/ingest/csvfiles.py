"""Reading the cells of a CSV or Parquet source as text, with FILE:LINE on failure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

from checker.ingest.base import fail

_LINE = re.compile(r"line (\d+)")


def read_text_table(
    source: str | Path | IO[bytes], file: str, *, header: bool, first_line: int = 1
) -> Any:
    """A CSV file's cells as text (a pandas DataFrame of str; an empty cell is ``""``).

    Raises
    ------
    IngestError
        At the line pandas names when a row has the wrong number of cells, or at line 1
        when the file cannot be read at all.
    """
    import pandas as pd

    try:
        return pd.read_csv(
            source,
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            encoding="utf-8",
        )
    except pd.errors.EmptyDataError:
        raise fail(file, first_line, "the file is empty") from None
    except pd.errors.ParserError as exc:
        found = _LINE.search(str(exc))
        line = int(found.group(1)) if found else first_line
        raise fail(file, line, f"cannot read CSV: {str(exc).strip()}") from None
    except UnicodeDecodeError as exc:
        raise fail(file, first_line, f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise fail(file, 1, f"cannot read: {exc.strerror or exc}") from None


def read_parquet_table(path: Path) -> Any:
    """A Parquet file as a pandas DataFrame (its numbers as they are stored)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (OSError, ValueError) as exc:
        raise fail(str(path), 1, f"cannot read Parquet: {exc}") from None
    except Exception as exc:  # pyarrow raises its own errors on a damaged file
        if type(exc).__module__.startswith("pyarrow"):
            raise fail(str(path), 1, f"cannot read Parquet: {exc}") from None
        raise


def first_line(path: Path) -> str:
    """The first line of a text file (at most 4 KiB of it), without its newline."""
    try:
        with path.open("rb") as handle:
            raw = handle.readline(4096)
    except OSError as exc:
        raise fail(str(path), 1, f"cannot read: {exc.strerror or exc}") from None
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff").strip()
