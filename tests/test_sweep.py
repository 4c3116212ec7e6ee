"""`seqprove sweep`: a grid of params verified and backtested on a local Dask cluster of
two worker processes gives the table a serial run gives; the shared cache answers a
second sweep; a refuted point is not backtested; bad input exits 3 with a located
message, and never loses the other files' rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas
import pytest

from checker.sweep import RUN_COLUMNS, parse_grid, time_sweep
from checker.sweep.grid import MAX_POINTS
from tests.conftest import ROOT, Run, run_cli

CLIP = ROOT / "docs" / "examples" / "clip_quoter.yaml"
PERP = ROOT / "models" / "perp_market_maker.yaml"
GRID = ("--grid", "clip=5,10,60", "--grid", "max_order=50,100")
"""Six points of the clip quoter: a clip of 60 above a max_order of 50 breaks max_clip."""


def sweep(tmp_path: Path, name: str, *args: str, cache: str = "cache") -> Run:
    """``seqprove sweep`` writing ``NAME.parquet`` and ``NAME.json`` in ``tmp_path``, with
    a cache and proof records of its own there."""
    out = tmp_path / name
    common = ["--out", str(out), "--cache", str(tmp_path / cache)]
    return run_cli("sweep", *args, *common, "--proofs", str(tmp_path / "proofs"))


def table(tmp_path: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((tmp_path / f"{name}.json").read_text())
    return document


def stable(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows without the columns that depend on the run."""
    return [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in document["rows"]]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run, Run]:
    """The six points over 200 calm ticks, serially and on two local workers (each with
    a cache of its own, so that both verify every point)."""
    where = tmp_path_factory.mktemp("sweep")
    data = where / "calm.csv"
    made = run_cli("data", "synth", "--scenario", "calm", "--ticks", "200", "--out", str(data),
                   "--model", str(CLIP))  # fmt: skip
    assert made.code == 0, made.err
    args = [str(CLIP), *GRID, "--data", str(data)]
    serial = sweep(where, "serial", *args, "--serial", cache="serial-cache")
    local = sweep(where, "local", *args, "--workers", "2", cache="local-cache")
    return where, serial, local


def test_two_local_workers_give_the_serial_table(swept: tuple[Path, Run, Run]) -> None:
    where, serial, local = swept
    assert serial.code == local.code == 1, serial.err + local.err
    assert "Traceback" not in serial.err + local.err
    first, second = table(where, "serial"), table(where, "local")
    assert stable(first) == stable(second)
    assert len(first["rows"]) == 6
    assert {r["worker"] for r in first["rows"]} == {"local"}
    assert all(r["worker"].startswith("tcp://") for r in second["rows"])
    frames = [pandas.read_parquet(where / f"{n}.parquet") for n in ("serial", "local")]
    pandas.testing.assert_frame_equal(*(f.drop(columns=list(RUN_COLUMNS)) for f in frames))
    assert list(frames[0].columns) == first["columns"]


def test_rows_follow_the_grid_and_proved_points_are_backtested(
    swept: tuple[Path, Run, Run],
) -> None:
    where, _, local = swept
    rows = table(where, "local")["rows"]
    points = [(r["param.clip"], r["param.max_order"]) for r in rows]
    assert points == [(5, 50), (5, 100), (10, 50), (10, 100), (60, 50), (60, 100)]
    for row in rows:
        if (row["param.clip"], row["param.max_order"]) == (60, 50):
            continue
        assert row["verdict"] == "proved" and row["proved"] == 3, row
        assert row["backtest"] == "ran" and row["run_exit"] == 0, row
        assert row["outcome"] == "data-end" and row["ticks"] == 200
        assert row["orders"] > 0 and row["limit_breaches"] == 0
        assert isinstance(row["pnl"], float)
    assert "5 proved, 1 refuted" in local.out and "5 ran, 1 skipped" in local.out


def test_a_refuted_point_exits_1_and_is_not_backtested(swept: tuple[Path, Run, Run]) -> None:
    where, _, local = swept
    assert local.code == 1
    (refuted,) = [r for r in table(where, "local")["rows"] if r["verdict"] != "proved"]
    assert (refuted["param.clip"], refuted["param.max_order"]) == (60, 50)
    assert refuted["verdict"] == "refuted" and refuted["refuted_limits"] == "max_clip"
    assert refuted["exit_code"] == 1
    assert refuted["backtest"] == "skipped: refuted (max_clip)"
    assert refuted["run_exit"] is None and refuted["ticks"] is None


def test_a_second_sweep_is_served_from_the_shared_cache(swept: tuple[Path, Run, Run]) -> None:
    """The workers of the first sweep filled the cache; another sweep reads it."""
    where, _, _ = swept
    again = sweep(where, "again", str(CLIP), *GRID, "--serial", cache="local-cache")
    assert again.code == 1, again.err
    rows = table(where, "again")["rows"]
    assert all(r["cached"] for r in rows)
    verdicts = [(r["verdict"], r["refuted_limits"]) for r in table(where, "local")["rows"]]
    assert [(r["verdict"], r["refuted_limits"]) for r in rows] == verdicts


def test_bad_values_are_located_and_the_other_rows_kept(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(CLIP.read_text().replace("initial: quoting", "initial: quotin"))
    run = sweep(tmp_path, "t", str(CLIP), str(broken), "--grid", "clip=5,1.5", "--serial")
    assert run.code == 3
    assert "Traceback" not in run.err
    line = next(n for n, text in enumerate(CLIP.read_text().splitlines(), 1) if "clip:" in text)
    assert f"{CLIP}:{line}:3: --grid clip=1.5: 'clip' is an integer param" in run.err
    assert f"{broken}:" in run.err and "quotin" in run.err
    rows = table(tmp_path, "t")["rows"]
    assert [(r["file"], r["param.clip"], r["verdict"]) for r in rows] == [
        (str(CLIP), 5, "proved"),
        (str(CLIP), 1.5, "bad input"),
        (str(broken), 5, "bad input"),
        (str(broken), 1.5, "bad input"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "clp=1,2"], "no model of this sweep declares a param 'clp' (did you mean"),
        (["--grid", "clip"], "write NAME=V1,V2,... or NAME=LO..HI:STEP"),
        (["--grid", "clip=1,,2"], "an empty value"),
        (["--grid", "clip=1,2,1"], "the value 1 is given twice"),
        (["--grid", "clip=1..5"], "a range needs its step"),
        (["--grid", "clip=5..1:1"], "the range is empty"),
        (["--grid", "clip=1..5:0"], "the step must be above 0"),
        (["--grid", "clip=1s..5s:1s"], "durations go in a list"),
        (["--grid", "clip=1..100000:1"], f"more than the {MAX_POINTS} points"),
        (["--grid", "clip=1,2", "--grid", "clip=3"], "given twice"),
        (["--grid", "clip=1,2", "--param", "clip=3"], "--grid and --param both set 'clip'"),
        (["--serial", "--workers", "2"], "--serial runs without Dask"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers sizes the local"),
        (["--data", "nowhere.csv"], "--data nowhere.csv: no such file"),
    ],
)
def test_bad_input_exits_3_before_anything_runs(
    tmp_path: Path, args: list[str], message: str
) -> None:
    run = sweep(tmp_path, "t", str(CLIP), *args)
    assert run.code == 3, run.out + run.err
    assert message in run.err
    assert "Traceback" not in run.err
    assert not (tmp_path / "t.json").exists()


def test_bad_market_data_is_bad_input_for_its_rows_only(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    header = "time,perp.bid,perp.ask,perp.bid_size,perp.ask_size,perp.low,perp.high,perp.volume"
    data.write_text(f"{header}\n2026-01-01T00:00:00Z,100,n/a,5,5,99,101,10\n")
    run = sweep(tmp_path, "t", str(CLIP), "--grid", "clip=5", "--data", str(data), "--serial")
    assert run.code == 3
    (row,) = table(tmp_path, "t")["rows"]
    assert row["verdict"] == "proved" and row["backtest"] == "bad data"
    assert row["error"].startswith(f"{data}:2:3: ")
    assert row["error"] in run.err


def test_ranges_count_out_exact_values() -> None:
    (axis,) = parse_grid(["hedge_band=0.5..2:0.5"])
    assert axis.values == ("0.5", "1", "1.5", "2") and axis.kind == "real"
    (axis,) = parse_grid(["clip=1..10:4"])
    assert axis.values == ("1", "5", "9") and axis.kind == "int"
    (axis,) = parse_grid(["interval=1s,5s"])
    assert axis.kind == "text"


def test_time_sweep_measures_a_serial_sweep(tmp_path: Path) -> None:
    timing = time_sweep([CLIP], ["clip=5,10"], 0, proofs=tmp_path / "proofs")
    assert timing.workers == 0 and timing.table.exit_code == 0
    assert len(timing.table.rows) == 2 and not any(r.cached for r in timing.table.rows)
    assert timing.wall_seconds > 0 and timing.cpu_seconds >= timing.task_cpu_seconds > 0


def test_ctrl_c_closes_the_local_cluster_quietly(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the terminal's group: the sweep exits 130 with no
    traceback (the workers ignore it), and no worker outlives it."""
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "checker", "sweep", str(PERP), "--grid", "quote_size=1..60:1",
               "--workers", "2", "--cache", str(cache), "--proofs", str(tmp_path / "proofs"),
               "--out", str(tmp_path / "t")]  # fmt: skip
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    sweeping = subprocess.Popen(
        command, cwd=tmp_path, env=env, start_new_session=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not list(cache.glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.1)  # until the workers have finished a point
        assert sweeping.poll() is None, "the sweep ended before it could be interrupted"
        os.killpg(sweeping.pid, signal.SIGINT)
        out, err = sweeping.communicate(timeout=60)
    finally:
        if sweeping.poll() is None:
            os.killpg(sweeping.pid, signal.SIGKILL)
    assert sweeping.returncode == 130, out + err
    assert "aborted" in err and "Traceback" not in err, err
    assert not (tmp_path / "t.json").exists()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(sweeping.pid, 0)  # some process of its group is still there
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a process of the sweep outlived it")
