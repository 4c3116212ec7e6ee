"""The command line: exit codes, the JSON document, the graph, the schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import checker.verify
from checker.errors import InternalError
from tests.conftest import BAD_MODELS, ROOT, V1_MODELS, run_cli, run_process
from tests.test_traps import CONTRADICTION, DEEP

PERP = V1_MODELS / "perp_market_maker.yaml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_all_proved_exits_0_and_shows_a_table() -> None:
    run = run_cli("verify", str(PERP))
    assert run.code == 0, run.out
    assert "PROVED" in run.out
    assert "invariant proving loss_bounded" in run.out
    assert "4 proved, 0 refuted, 0 unknown" in run.out


def test_refuted_exits_1_and_prints_the_tick_table(tmp_path: Path) -> None:
    run = run_cli("verify", str(write(tmp_path, "deep.yaml", DEEP)))
    assert run.code == 1
    assert "REFUTED" in run.out
    assert "counterexample: position_limit" in run.out
    assert "broken at tick 12" in run.out
    assert "quote -> wait" in run.out


def test_unknown_exits_2(tmp_path: Path) -> None:
    run = run_cli("verify", str(write(tmp_path, "vacuous.yaml", CONTRADICTION)))
    assert run.code == 2
    assert "NO PROOF IS MEANINGFUL" in run.out


def test_structural_error_exits_1_even_when_limits_are_proved(tmp_path: Path) -> None:
    text = PERP.read_text().replace(
        "when: [within_loss, spread_ok, room_to_buy, room_to_sell]",
        "when: [ask - bid >= min_spread, room_to_buy and room_to_sell and within_loss]",
    )
    run = run_cli("verify", "--json", str(write(tmp_path, "noprover.yaml", text)))
    assert run.code == 1
    doc = json.loads(run.out)
    (found,) = doc["models"][0]["findings"]
    assert found["rule"] == "place-without-prover"
    assert found["severity"] == "error"
    assert found["line"] == 64


def test_internal_error_exits_4_and_other_files_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disagreeing_replay(*args: object) -> object:
        raise InternalError("replay of 'position_limit' at tick 3: interpreter disagrees")

    monkeypatch.setattr(checker.verify, "replay", disagreeing_replay)
    deep = write(tmp_path, "a_deep.yaml", DEEP)
    good = write(tmp_path, "b_good.yaml", PERP.read_text())
    run = run_cli("verify", "--json", str(deep), str(good))
    assert run.code == 4
    first, second = json.loads(run.out)["models"]
    assert "interpreter disagrees" in first["internal_error"]
    assert {lim["verdict"] for lim in second["limits"]} == {"proved"}


def test_json_document_has_the_documented_shape(tmp_path: Path) -> None:
    run = run_cli("verify", "--json", str(write(tmp_path, "deep.yaml", DEEP)), str(PERP))
    doc = json.loads(run.out)
    assert doc["exit_code"] == 1 == run.code
    deep, perp = doc["models"]
    assert set(deep) >= {"file", "strategy", "limits", "findings", "errors"}
    (lim,) = deep["limits"]
    assert set(lim) >= {
        "name",
        "verdict",
        "engine",
        "seconds",
        "reason",
        "invariant",
        "counterexample",
    }
    cex = lim["counterexample"]
    assert cex["length"] == 12 == len(cex["ticks"]) - 1
    first, second = cex["ticks"][:2]
    assert first == {
        "tick": 0,
        "step": "quote",
        "transition": None,
        "inputs": {},
        "state": {"position": 0},
    }
    assert set(second) == {"tick", "step", "transition", "inputs", "state"}
    assert second["transition"] == {"index": 0, "from": "quote", "to": "wait", "line": 14}
    loss = next(x for x in perp["limits"] if x["name"] == "loss_bounded")
    assert "pnl > -5000" in loss["invariant"]["quoting"]
    assert "pnl > -5000" not in loss["invariant"]["observe"]
    assert perp["params"]["min_spread"] == "0.5"


def test_reals_in_json_are_exact_text(tmp_path: Path) -> None:
    text = DEEP.replace(
        "position: {type: int, init: 0}",
        "position: {type: int, init: 0}\n  cost: {type: real, init: 0}",
    ).replace("do: {position: position + 1}", "do: {position: position + 1, cost: cost + 1 / 3}")
    doc = json.loads(run_cli("verify", "--json", str(write(tmp_path, "r.yaml", text))).out)
    ticks = doc["models"][0]["limits"][0]["counterexample"]["ticks"]
    assert ticks[-1]["state"]["cost"] == "2"
    assert ticks[2]["state"]["cost"] == "1/3"


def test_param_override_changes_the_verdict() -> None:
    run = run_cli("verify", "--json", "--param", "max_loss=4000", str(PERP))
    doc = json.loads(run.out)
    assert doc["models"][0]["params"]["max_loss"] == 4000
    assert run.code == 0


def test_timeout_and_single_engines() -> None:
    bmc = json.loads(
        run_cli("verify", "--json", "--engine", "bmc", "--bmc-depth", "5", str(PERP)).out
    )
    assert {lim["verdict"] for lim in bmc["models"][0]["limits"]} == {"unknown"}
    assert "bounded" in bmc["models"][0]["limits"][0]["reason"]
    spacer = json.loads(run_cli("verify", "--json", "--engine", "spacer", str(PERP)).out)
    assert {lim["engine"] for lim in spacer["models"][0]["limits"]} == {"spacer"}


def test_folder_is_searched_and_empty_folder_is_bad_input(tmp_path: Path) -> None:
    assert run_cli("verify", str(tmp_path)).code == 3
    write(tmp_path, "m.yml", PERP.read_text())
    assert run_cli("verify", str(tmp_path)).code == 0


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_graph_shows_provers_on_edges(fmt: str) -> None:
    run = run_cli("graph", str(PERP), "--format", fmt)
    assert run.code == 0
    assert "[within_loss, spread_ok, room_to_buy, room_to_sell]" in run.out
    assert ("digraph" in run.out) == (fmt == "dot")
    assert ("flowchart LR" in run.out) == (fmt == "mermaid")


def test_graph_of_a_bad_file_exits_3(tmp_path: Path) -> None:
    run = run_cli("graph", str(write(tmp_path, "x.yaml", "strategy: [")))
    assert run.code == 3
    assert "x.yaml:1:" in run.err


def test_schema_command_prints_the_committed_schema() -> None:
    run = run_cli("schema")
    assert run.code == 0
    assert run.out == (ROOT / "spec" / "model.schema.json").read_text()


def test_python_dash_m_and_version() -> None:
    run = run_process("--version")
    assert run.code == 0
    assert "seqprove" in run.out


# -- a closed standard output -------------------------------------------------------------
def closed_stdout(*args: str, cwd: Path) -> tuple[int, str]:
    """Run ``seqprove ARGS`` in a child process whose stdout is a pipe that the parent
    closes before the child writes anything; its exit code and stderr."""
    child = subprocess.Popen(
        [sys.executable, "-m", "checker", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"},
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader has gone: every write of the child meets EPIPE
    err = child.stderr.read().decode()
    return child.wait(timeout=300), err


VERDICTS = [
    (V1_MODELS / "order_rate_throttle.yaml", 0),
    (BAD_MODELS / "refuted_deep.yaml", 1),
]


@pytest.mark.parametrize(("path", "code"), VERDICTS, ids=["proved", "refuted"])
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["terminal", "json"])
def test_verify_with_stdout_closed_early_exits_with_its_verdict_not_1(
    path: Path, code: int, json_flag: list[str], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    args = ["verify", "--no-cache", str(path), *json_flag, "--format", "junit"]
    exit_code, err = closed_stdout(*args, "--output", str(junit), cwd=tmp_path)
    assert (exit_code, err) == (code, "")  # no traceback, no "internal error"
    assert junit.read_text().startswith("<?xml")  # the other formats are still written


@pytest.mark.parametrize(("path", "code"), VERDICTS, ids=["proved", "refuted"])
def test_verify_piped_into_head_exits_with_its_verdict(
    path: Path, code: int, tmp_path: Path
) -> None:
    script = f"{sys.executable} -m checker verify {path} | head -1; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    first, status = done.stdout.splitlines()
    assert first.startswith(str(path)) and status == str(code)
    assert done.stderr == ""


def test_graph_with_stdout_closed_early_exits_0_quietly(tmp_path: Path) -> None:
    assert closed_stdout("graph", str(PERP), cwd=tmp_path) == (0, "")
