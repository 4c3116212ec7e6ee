"""Bad input: every problem is located at FILE:LINE:COLUMN, exits 3, never a traceback,
and never stops the other files of the run from being checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, V1_MODELS, run_cli, run_process

# a frozen copy of an early perp market maker, so the positions below stay put
GOOD = (ROOT / "tests" / "models" / "language_sample.yaml").read_text()


def bad(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# (name, file text, line, column, words the message must contain)
CASES: list[tuple[str, str, int, int, str]] = [
    ("yaml-syntax", "strategy: x\nstate: {a: 1\n", 3, 1, "YAML syntax"),
    ("not-a-mapping", "- 1\n- 2\n", 1, 1, "mapping of sections"),
    ("unknown-section", bad("limits:", "limit:"), 73, 1, "unknown key 'limit'"),
    ("missing-section", bad("initial: observe\n", ""), 1, 1, "missing required key 'initial'"),
    (
        "bad-type",
        bad("{type: int, init: 0}", "{type: integer, init: 0}"),
        15,
        20,
        "did you mean 'int'",
    ),
    (
        "typo-name",
        bad("abs(position) <= max_position", "abs(postion) <= max_position"),
        74,
        25,
        "unknown name 'postion' (did you mean 'position'?)",
    ),
    ("typo-step", bad("    to: halted", "    to: halt"), 42, 9, "unknown step 'halt'"),
    (
        "attribute",
        bad("spread >= min_spread", "spread.real >= min_spread"),
        30,
        17,
        "attribute access",
    ),
    ("power", bad("spread >= min_spread", "spread ** 2 >= min_spread"), 30, 17, "`**`"),
    ("floor-div", bad("spread >= min_spread", "spread // 2 >= min_spread"), 30, 17, "`//`"),
    (
        "call",
        bad("abs(position) > hedge_band", "round(position) > hedge_band"),
        34,
        17,
        "unknown function 'round'",
    ),
    ("walrus", bad("spread >= min_spread", "(s := spread) >= min_spread"), 30, 18, "walrus"),
    ("lambda", bad("spread >= min_spread", "'(lambda: 1)() >= min_spread'"), 30, 19, "lambdas"),
    ("subscript", bad("spread >= min_spread", "spread[0] >= min_spread"), 30, 17, "subscripts"),
    (
        "comprehension",
        bad("spread >= min_spread", "'[x for x in y] >= 0'"),
        30,
        18,
        "comprehensions",
    ),
    (
        "input-in-limit",
        bad("pnl > -(max_loss + 250)", "pnl > -spread"),
        77,
        28,
        "cannot refer to an input",
    ),
    (
        "real-into-int",
        bad("position: position + bought - sold", "position: position + 0.5"),
        56,
        17,
        "cannot assign real to 'position'",
    ),
    (
        "non-bool-limit",
        bad("abs(position) <= max_position", "abs(position)"),
        74,
        21,
        "must be boolean",
    ),
    (
        "duplicate-name",
        bad("  hedge_size: 20 ", "  spread: 1\n  hedge_size: 20 "),
        22,
        3,
        "already used",
    ),
    (
        "reserved-name",
        bad("  hedge_size: 20 ", "  lambda: 1\n  hedge_size: 20 "),
        10,
        3,
        "reserved",
    ),
    (
        "duplicate-key",
        bad("  hedge_size: 20 ", "  hedge_size: 30\n  hedge_size: 20 "),
        11,
        3,
        "duplicate key 'hedge_size'",
    ),
    (
        "variable-divisor",
        bad("spread >= min_spread", "spread / position >= min_spread"),
        30,
        26,
        "divisor must be a constant",
    ),
    (
        "flow-list-action",
        bad(
            '      - place(side="buy", qty=quote_size)\n      - place(side="sell", qty=quote_size)',
            '      [place(side="buy", qty=quote_size)]',
        ),
        50,
        13,
        "YAML splits items at commas",
    ),
    ("bad-side", bad('side="buy"', 'side="long"'), 50, 20, '"buy" or "sell"'),
    (
        "action-missing-arg",
        bad('place(side="buy", qty=quote_size)', 'place(side="buy")'),
        50,
        9,
        "needs qty",
    ),
    (
        "action-in-when",
        bad("when: [over_band]", "when: [cancel_all()]"),
        62,
        12,
        "belongs in `emit`",
    ),
    (
        "enum-arith",
        GOOD.replace(
            "  pnl:      {type: real, init: 0}",
            "  pnl:      {type: real, init: 0}\n"
            "  mode: {type: enum, values: [on_, off_], init: on_}",
        ).replace("abs(position) <= max_position", "mode + 1 <= max_position"),
        75,
        21,
        "needs a number, got enum mode",
    ),
    (
        "int-range-on-bool",
        bad(
            "spread:     {type: real, range: [0, 100]}", "spread:     {type: bool, range: [0, 100]}"
        ),
        21,
        28,
        "a range goes only with int or real",
    ),
    ("infinite", bad("max_loss: 5000", "max_loss: .inf"), 11, 13, "a param is a number"),
    (
        "unknown-source",
        bad("bought:     {type: int,", "bought:     {source: venue.fills, type: int,"),
        22,
        24,
        "'venue.fills' is not one of market, venue.bought, venue.sold",
    ),
    (
        "source-on-bool",
        GOOD.replace(
            "  pnl_change: {type: real, range: [-250, 250]}",
            "  pnl_change: {type: real, range: [-250, 250]}\n"
            "  halt_now: {type: bool, source: venue.position}",
        ),
        25,
        34,
        "'halt_now' is bool: only int and real inputs can take venue.position",
    ),
    (
        "pnl-source-on-int",
        bad("bought:     {type: int,", "bought:     {source: venue.pnl_change, type: int,"),
        22,
        24,
        "'bought' takes a PnL: make it real",
    ),
    (
        "venue-bad-key",
        GOOD + "venue: {contract_size: 0.01, slipage_bps: 2}\n",
        78,
        30,
        "unknown key 'slipage_bps' in venue (did you mean 'slippage_bps'?)",
    ),
    (
        "venue-zero-contract",
        GOOD + "venue: {contract_size: max_loss - 5000}\n",
        78,
        24,
        "venue contract_size must be positive, got 0",
    ),
    (
        "venue-state-name",
        GOOD + "venue: {position_limit: position}\n",
        78,
        25,
        "venue position_limit cannot refer to state ('position')",
    ),
    ("merge-key", "base: &b {type: int, init: 0}\nstate:\n  x:\n    <<: *b\n", 4, 5, "merge keys"),
    (
        "prover-cycle",
        bad("spread_ok:    spread >= min_spread", "spread_ok:    room_to_buy").replace(
            "room_to_buy:  position + open_bid + quote_size <= max_position",
            "room_to_buy:  spread_ok",
        ),
        31,
        17,
        "cycle",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "line", "column", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_file_gives_exit_3_and_its_location(
    tmp_path: Path, name: str, text: str, line: int, column: int, words: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    run = run_cli("verify", str(path))
    assert run.code == 3, run.out + run.err
    assert "Traceback" not in run.err + run.out
    located = [ln for ln in run.err.splitlines() if ln.startswith(f"{path}:")]
    assert located, run.err
    assert any(words in ln for ln in located), located
    assert f"{path}:{line}:{column}:" in run.err, located


def test_other_files_of_the_run_are_still_checked(tmp_path: Path) -> None:
    (tmp_path / "a_bad.yaml").write_text(bad("limits:", "limit:"))
    (tmp_path / "b_good.yaml").write_text(GOOD)
    run = run_cli("verify", "--json", str(tmp_path))
    assert run.code == 3
    doc = json.loads(run.out)
    first, second = doc["models"]
    assert first["errors"] and first["limits"] == []
    assert second["errors"] == []
    assert {lim["verdict"] for lim in second["limits"]} == {"proved"}


HOSTILE = {
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "deep-nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "python-tag": "strategy: !!python/object/apply:os.system ['echo pwned']\n",
    "huge": "about: '" + "x" * 1_100_000 + "'\n",
    "deep-expression": bad("spread >= min_spread", "-" * 5000 + "spread >= min_spread"),
    "long-sum": bad("spread >= min_spread", "+".join(["spread"] * 3000) + " >= 0"),
    "not-utf8": "strategy: caf\xe9\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_cleanly(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    text = HOSTILE[name]
    if name == "not-utf8":
        path.write_bytes(text.encode("latin-1"))
    else:
        path.write_text(text)
    run = run_cli("verify", str(path))
    assert run.code == 3, run.out + run.err
    assert "Traceback" not in run.err
    assert run.err.startswith(f"{path}:"), run.err[:300]
    assert "pwned" not in run.out + run.err or "python" in run.err


def test_no_traceback_from_the_installed_command(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(bad("spread >= min_spread", "spread >= __import__('os').getcwd()"))
    run = run_process("verify", str(path))
    assert run.code == 3
    assert "Traceback" not in run.err
    assert f"{path}:30:27: not part of the expression language: attribute access" in run.err


def test_missing_path_is_bad_input() -> None:
    run = run_cli("verify", "no/such/place.yaml")
    assert run.code == 3
    assert "no such file or folder" in run.err


def test_unknown_option_is_bad_input_not_exit_2() -> None:
    run = run_cli("verify", "--frobnicate", "models/")
    assert run.code == 3


def test_unknown_param_override_is_bad_input_with_hint() -> None:
    run = run_cli("verify", "--param", "max_postion=5", str(ROOT / "models"))
    assert run.code == 3
    assert "did you mean 'max_position'" in run.err


def test_non_integer_override_of_an_int_param_is_located() -> None:
    run = run_cli(
        "verify", "--param", "max_position=10.5", str(V1_MODELS / "perp_market_maker.yaml")
    )
    assert run.code == 3
    assert "perp_market_maker.yaml:7:3:" in run.err
    assert "integer param" in run.err
