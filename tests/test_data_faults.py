"""Malformed market data: every bad file is a located ``FILE:LINE:COLUMN`` error with
exit 3, found quickly, never a traceback or a hang. Regression tests for the defects
found, then a campaign of generated bad CSV and Parquet files (``make faults`` runs the
long one)."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checker.lang.loader import load_model, load_text
from checker.run.data import MAX_CELL_CHARS, DataError, read_feed
from tests.conftest import V1_MODELS, run_cli
from tests.test_run import synth_for

PERP = V1_MODELS / "perp_market_maker.yaml"
HEADER = "time,bid,ask,bid_size,ask_size,low,high,volume"
GOOD = [
    f"2026-01-01T00:00:0{i}Z,{60000 + i}.0,{60000 + i}.5,10,12,{59999 + i}.5,{60001 + i}.0,5"
    for i in range(6)
]


def located(path: Path, lines: list[str] | bytes) -> DataError:
    """Read ``lines`` (or raw bytes) as the perpetual market maker's data; return the
    error, failing if there is none or if it is not located in ``path``."""
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        read_feed(path, load_model(PERP))
    for d in caught.value.diagnostics:
        assert d.file == str(path) and d.line >= 1 and d.column >= 1
    return caught.value


def test_sparse_gigabyte_csv_is_refused_at_its_first_line_quickly(tmp_path: Path) -> None:
    """Regression: a sparse 1 GiB CSV took 40 s and 2.2 GB of memory before 'field
    larger than field limit'."""
    path = tmp_path / "sparse.csv"
    with path.open("wb") as f:
        f.truncate(1 << 30)
    started = time.monotonic()
    with pytest.raises(DataError) as caught:
        read_feed(path, load_model(PERP))
    assert time.monotonic() - started < 5
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (1, 1)
    assert "longer than 1048576 bytes" in problem.message


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("1e-99999999", "exponent -99999999 out of bounds: at most 1000 in magnitude"),
        ("9" * 1500, "number with 1500 digits: at most 1000 digits are allowed"),
        ("1" * 5000, "a cell of 5000 characters (at most 4096)"),
    ],
)
def test_huge_number_cell_is_a_located_error_not_a_hang(
    tmp_path: Path, cell: str, words: str
) -> None:
    """Regression: a cell '1e-99999999' hung the run, one with thousands of digits was
    an internal error."""
    rows = [GOOD[0], GOOD[1].replace(",60001.0,", f",{cell},", 1)]
    started = time.monotonic()
    error = located(tmp_path / "d.csv", [HEADER, *rows])
    assert time.monotonic() - started < 5
    (problem,) = error.diagnostics
    assert (problem.line, problem.column) == (3, 2)
    assert words in problem.message


def test_huge_number_through_the_cli_exits_3_located(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("\n".join([HEADER, GOOD[0].replace(",10,", ",1e-99999999,", 1)]) + "\n")
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot", "--proofs", str(tmp_path))  # fmt: skip
    assert run.code == 3
    assert f"{data}:2:4: column 'bid_size': '1e-99999999': exponent" in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize("kind", ["string", "decimal"])
def test_parquet_huge_numbers_are_located(tmp_path: Path, kind: str) -> None:
    """Regression: the same for Parquet strings and decimals."""
    model = load_model(PERP)
    table = pq.read_table(synth_for(model, tmp_path / "d.parquet", "calm", 4, seed=1))
    if kind == "string":
        column = pa.array(["60000.5", "1e-99999999", "60000.5", "60000.5"])
        where, words = 3, "exponent -99999999 out of bounds"
    else:
        big = Decimal("9" * 70)
        column = pa.array([big, big, big, big], type=pa.decimal256(76, 0))
        where, words = 2, None
    table = table.set_column(table.column_names.index("bid"), "bid", column)
    pq.write_table(table, tmp_path / "d.parquet")
    if words is None:  # 70 digits is within the bounds: it reads, exactly
        feed = read_feed(tmp_path / "d.parquet", model)
        assert feed.rows[0].market.bid == int("9" * 70)
        return
    with pytest.raises(DataError) as caught:
        read_feed(tmp_path / "d.parquet", model)
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (where, 2) and words in problem.message


TIMED = """
strategy: timed
state:
  last: {type: int, init: 0}
inputs:
  time: {type: int, doc: exchange time in ms}
  bid: {type: real}
assume:
  forward: time >= last
steps: [waiting]
initial: waiting
transitions:
  - from: waiting
    to: waiting
    when: [time > last]
    do: {last: time}
limits:
  never_back: last >= 0
"""


def test_input_named_time_reads_the_time_column(tmp_path: Path) -> None:
    """Regression: a model input called ``time`` collided with the data's ``time``
    column: verify proved the model, run rejected every row."""
    model = load_text(TIMED, "timed.yaml")
    rows = [re.sub(r"^[^,]*", str(1000 * (i + 1)), r) for i, r in enumerate(GOOD)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    feed = read_feed(path, model)
    assert [r.inputs["time"] for r in feed.rows] == [1000 * (i + 1) for i in range(6)]
    assert feed.rows[0].time == "1000"
    with pytest.raises(DataError) as caught:  # ISO text: one message says what to do
        read_feed(synth_for(load_model(PERP), tmp_path / "iso.csv", "calm", 3, 1), model)
    first, *rest = caught.value.diagnostics
    assert first.line == 2 and first.column == 1
    assert "is not an integer (the input 'time' of timed reads the data's time column" in (
        first.message
    )
    assert all("reads the data's time column" not in d.message for d in rest)
    yaml = tmp_path / "timed.yaml"
    yaml.write_text(TIMED)
    synth = run_cli("data", "synth", "--scenario", "calm", "--ticks", "3",
                    "--out", str(tmp_path / "s.csv"), "--model", str(yaml))  # fmt: skip
    assert synth.code == 3 and "no synthetic column for input(s) time" in synth.err


# -- the campaign ----------------------------------------------------------------------------

Mutation = Callable[[random.Random, list[str]], tuple[list[str] | bytes, str]]


def _row(rng: random.Random, rows: list[str]) -> int:
    return rng.randrange(1, len(rows))


def ragged(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    i = _row(rng, rows)
    cells = rows[i].split(",")
    rows[i] = ",".join(
        cells[: rng.randrange(1, len(cells))] if rng.random() < 0.5 else [*cells, "1"]
    )
    return rows, "cells, the header has"


def _cell(rng: random.Random, rows: list[str], value: str) -> tuple[list[str], int]:
    i = _row(rng, rows)
    cells = rows[i].split(",")
    cells[rng.randrange(1, len(cells))] = value
    rows[i] = ",".join(cells)
    return rows, i


def huge_number(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    value = rng.choice(
        [f"1e{rng.choice('+-')}{rng.randrange(1001, 10**9)}", "7" * rng.randrange(1001, 4000)]
    )
    return _cell(rng, rows, value)[0], "at most"


def not_finite(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    return _cell(rng, rows, rng.choice(["nan", "NaN", "inf", "-inf", "Infinity"]))[0], "is not"


def bad_encoding(rng: random.Random, rows: list[str]) -> tuple[bytes, str]:
    raw = ("\n".join(rows) + "\n").encode()
    at = rng.randrange(len(rows[0]) + 1, len(raw) - 1)
    bad = rng.choice([b"\xff", b"\xc3(", b"\xe2\x82", b"\x80"])
    return raw[:at] + bad + raw[at:], "is not UTF-8 text"


def nul_byte(rng: random.Random, rows: list[str]) -> tuple[bytes, str]:
    raw = ("\n".join(rows) + "\n").encode()
    at = rng.randrange(0, len(raw) - 1)
    return raw[:at] + b"\0" + raw[at:], "a NUL byte"


def huge_field(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    if rng.random() < 0.5:
        return _cell(rng, rows, "x" * rng.randrange(MAX_CELL_CHARS + 1, 50_000))[0], "characters"
    return _cell(rng, rows, '"' + "y" * rng.randrange(1 << 20, 3 << 20))[0], "longer than"


def missing_column(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    k = rng.randrange(1, 8)
    return [",".join(c for j, c in enumerate(r.split(",")) if j != k) for r in rows], "missing"


def repeated_column(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    name = rng.choice(["bid", "ask", "volume", "time"])  # a column nobody reads is ignored
    return [rows[0] + "," + name, *(r + ",1" for r in rows[1:])], "repeated"


def time_backwards(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    i = rng.randrange(2, len(rows))
    rows[i], rows[i - 1] = rows[i - 1], rows[i]
    return rows, "before the time of the row above"


def bad_time(rng: random.Random, rows: list[str]) -> tuple[list[str], str]:
    i = _row(rng, rows)
    cells = rows[i].split(",")
    cells[0] = rng.choice(["yesterday", "2026-13-01T00:00:00Z", "12", ""])
    rows[i] = ",".join(cells)
    return rows, "time"


MUTATIONS: dict[str, Mutation] = {
    "ragged row": ragged,
    "huge number": huge_number,
    "NaN/inf": not_finite,
    "bad encoding": bad_encoding,
    "NUL byte": nul_byte,
    "huge field": huge_field,
    "missing column": missing_column,
    "repeated column": repeated_column,
    "time backwards": time_backwards,
    "not a time": bad_time,
}


def csv_to_parquet(csv_path: Path, out: Path) -> bool:
    """The same table as Parquet, every column text; False if pyarrow cannot read it."""
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            csv_path,
            convert_options=pacsv.ConvertOptions(
                column_types={
                    n: pa.string() for n in csv_path.read_text().split("\n")[0].split(",")
                }
            ),
        )
    except Exception:  # a file pyarrow cannot read as CSV is no Parquet case
        return False
    pq.write_table(table, out)
    return True


def data_campaign(tmp: Path, rng: random.Random, cases: int) -> Counter[str]:
    model = load_model(PERP)
    figures: Counter[str] = Counter()
    slowest = 0.0
    for n in range(cases):
        name = list(MUTATIONS)[n % len(MUTATIONS)]
        mutated, words = MUTATIONS[name](rng, [HEADER, *GOOD])
        path = tmp / f"case{n}.csv"
        if isinstance(mutated, bytes):
            path.write_bytes(mutated)
        else:
            path.write_text("\n".join(mutated) + "\n")
        files = [path]
        if rng.random() < 0.3 and csv_to_parquet(path, tmp / f"case{n}.parquet"):
            files.append(tmp / f"case{n}.parquet")
        for each in files:
            started = time.monotonic()
            with pytest.raises(DataError) as caught:
                read_feed(each, model)
            slowest = max(slowest, time.monotonic() - started)
            text = str(caught.value)
            assert re.match(rf"{re.escape(str(each))}:\d+:\d+: ", text), text
            if each.suffix == ".csv":
                assert words in text, (name, text[:300])
            figures[f"{name} ({each.suffix[1:]})"] += 1
    assert slowest < 5, slowest
    figures["slowest read, ms"] = round(slowest * 1000)
    return figures


def test_malformed_data_files_are_located_errors(tmp_path: Path) -> None:
    figures = data_campaign(tmp_path, random.Random(5), cases=30)
    print("data campaign (short):", dict(figures))
    assert sum(v for k, v in figures.items() if k.endswith("(csv)")) == 30


@pytest.mark.slow
def test_data_campaign(tmp_path: Path) -> None:
    figures = data_campaign(tmp_path, random.Random(2026), cases=500)
    print("data campaign:", dict(figures))
    assert sum(v for k, v in figures.items() if k.endswith("(csv)")) == 500
