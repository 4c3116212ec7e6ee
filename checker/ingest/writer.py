"""The standard data file: written whole to a temporary file, then renamed, so that a
failed import leaves no partial file; its metadata beside it (CSV) or inside it
(Parquet schema metadata), as :mod:`checker.run.meta` keeps it."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np

from checker.ingest.base import Ints, Objects, fail
from checker.run.meta import META_KEY, DataMeta, meta_text, sidecar


def decimal_text(value: Decimal) -> str:
    """Exact decimal text, without an exponent or trailing zeros: ``4663.9167925``."""
    text = str(value)
    if "E" in text:
        text = f"{value:f}"
    if "." in text and text[-1] == "0":
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(value: Decimal | str) -> str:
    """A cell as written: a decimal's exact text, a text cell (a derived input) as it is."""
    return value if isinstance(value, str) else decimal_text(value)


def time_texts(keys: Ints) -> list[str]:
    """µs since the epoch as ISO-8601 UTC with ms: ``2020-03-13T00:27:00.000Z``."""
    stamps = np.datetime_as_string(
        keys.astype("datetime64[us]").astype("datetime64[ms]"), unit="ms"
    )
    return [f"{s}Z" for s in stamps.tolist()]


def write(path: Path, times: Ints, columns: Mapping[str, Objects], meta: DataMeta) -> None:
    """Write ``columns`` (name -> decimals, or texts) after a ``time`` column to ``path`` (.csv or
    .parquet), with ``meta``; nothing is left behind when it fails."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise fail(str(path), 1, "--out: write a .csv or a .parquet file")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    side_temp = temp.with_name(temp.name + ".meta")
    try:
        texts = {name: [_text(v) for v in values] for name, values in columns.items()}
        stamps = time_texts(times)
        if suffix == ".csv":
            with temp.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(["time", *texts])
                writer.writerows(zip(stamps, *texts.values(), strict=True))
            side_temp.write_text(meta_text_pretty(meta), encoding="utf-8")
            os.replace(side_temp, sidecar(path))
        else:
            _parquet(temp, stamps, columns, texts, meta)
        os.replace(temp, path)
    except OSError as exc:
        raise fail(str(path), 1, f"cannot write: {exc.strerror or exc}") from None
    finally:
        for leftover in (temp, side_temp):
            with contextlib.suppress(OSError):
                leftover.unlink()


def meta_text_pretty(meta: DataMeta) -> str:
    import json

    return json.dumps(meta.to_json(), indent=2, sort_keys=True) + "\n"


def _parquet(
    path: Path,
    stamps: list[str],
    columns: Mapping[str, Objects],
    texts: Mapping[str, list[str]],
    meta: DataMeta,
) -> None:
    """Numbers as Parquet decimals (exact), or as text when one does not fit 38 digits."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [pa.array(stamps, type=pa.string())]
    for name, values in columns.items():
        try:
            arrays.append(pa.array(list(values)))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays.append(pa.array(texts[name], type=pa.string()))
    table = pa.Table.from_arrays(arrays, names=["time", *columns])
    table = table.replace_schema_metadata({META_KEY: meta_text(meta)})
    pq.write_table(table, path)
