"""Regressions of the model language from the issue tracker, each test named after the
defect it caught: decimals read exactly whatever the line breaks, bounded numbers,
bounded nesting, exact names, refused tags, and per-file internal errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sympy

import checker.lang.loader
import checker.verify
from checker.errors import ModelError
from checker.lang.expr import MAX_FILE_SIZE, MAX_NESTING, MAX_SIZE, Source
from checker.lang.numbers import MAX_DIGITS, MAX_EXPONENT, MAX_VALUE_DIGITS
from checker.lang.yamlload import MAX_NODES
from checker.results import Verdict
from tests.conftest import V1_MODELS, model, run_cli, verify_text

PERP = V1_MODELS / "perp_market_maker.yaml"

SMALL = """strategy: small
params:
  cap: CAP
state:
  y: {type: real, init: INIT}
  n: {type: int, init: 0}
inputs:
  q: {type: real, range: [0, HIGH]}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    do: {y: "DO"}
limits:
  ok: LIMIT
"""


def small(
    do: str = "y", cap: str = "10", init: str = "0", high: str = "cap", limit: str = "y <= 0"
) -> str:
    return (
        SMALL.replace("CAP", cap)
        .replace("INIT", init)
        .replace("HIGH", high)
        .replace("DO", do)
        .replace("LIMIT", limit)
    )


def problems(text: str, **params: str) -> list[str]:
    """The located messages of a file that must not load."""
    with pytest.raises(ModelError) as caught:
        model(text, **params)
    return [str(d) for d in caught.value.diagnostics]


def assigned(text: str) -> sympy.Basic:
    (transition,) = model(text).transitions
    return dict(transition.do)["y"]


# -- 1. a decimal read as a binary float proved a false limit -----------------------


# YAML double-quoted escapes for every line break str.splitlines honours
BREAKS = ["\\r", "\\n", "\\r\\n", "\\v", "\\f", "\\x1c", "\\x1d", "\\x1e", "\\N", "\\L", "\\P"]


@pytest.mark.parametrize("brk", BREAKS)
def test_decimal_after_an_escaped_line_break_is_read_from_its_text(brk: str) -> None:
    plain = assigned(small(do="y + 1e-400"))
    assert plain == sympy.Symbol("y", real=True) + sympy.Rational(1, 10**400)
    assert assigned(small(do=f"y +{brk} 1e-400")) == plain
    assert assigned(small(do=f"y{brk} +{brk} 1e-400{brk}")) == plain


@pytest.mark.parametrize("do", ["y +\\r 1e-400", "y + 1e-400", "y +\\n 1e-400"])
def test_decimal_read_as_a_binary_float_proved_a_false_limit(do: str) -> None:
    report = verify_text(small(do=do))
    (result,) = report.limits
    assert result.verdict is Verdict.REFUTED
    assert result.counterexample is not None
    assert result.counterexample.length == 1


def test_float_literal_beyond_float_range_after_a_line_break_is_exact() -> None:
    # 1e400 is inf as a Python float: it must be read as the number it is
    m = model(small(limit='"n <\\r 1e400"'))
    assert m.limits[0].expr == sympy.Lt(sympy.Symbol("n", integer=True), sympy.Integer(10) ** 400)


def test_literal_text_is_exact_after_a_non_ascii_string() -> None:
    # ast's offsets are UTF-8 bytes; a literal after "é" is cut from characters
    source = Source("'é' + 0.1", 0)
    assert source.chars(len("'é' + ".encode())) == len("'é' + ")


# -- 2. numbers that do not fit -----------------------------------------------------


def test_number_with_huge_exponent_is_a_located_error() -> None:
    started = time.monotonic()
    found = problems(small(cap="1e999999999"))
    assert time.monotonic() - started < 5
    assert found == [
        f"test.yaml:3:8: exponent 999999999 out of bounds: at most {MAX_EXPONENT} in magnitude"
    ]


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("cap", "9" * 4301, "3:8"),
        ("cap", "1" + "0" * 5000, "3:8"),
        ("cap", "-" + "9" * 4301, "3:8"),
        ("init", "9" * 4301, "5:25"),
        ("init", '"' + "9" * 4301 + '"', "5:26"),
        ("high", "9" * 4301, "8:30"),
    ],
)
def test_number_with_too_many_digits_is_a_located_error(field: str, value: str, where: str) -> None:
    found = problems(small(**{field: value}))
    assert len(found) == 1
    assert found[0].startswith(f"test.yaml:{where}: number with ")
    assert found[0].endswith(f"digits: at most {MAX_DIGITS} digits are allowed")


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("cap", "1.5e+5000", "3:8"),
        ("init", '"1e99999999"', "5:26"),
        ("init", "1e-1001", "5:25"),
        ("do", "y + 2.5e5000", "14:18"),
        ("limit", "y <= 1e-99999", "16:12"),
    ],
)
def test_number_with_exponent_beyond_the_bound_is_a_located_error(
    field: str, value: str, where: str
) -> None:
    found = problems(small(**{field: value}))
    assert len(found) == 1
    assert found[0].startswith(f"test.yaml:{where}: exponent ")
    assert found[0].endswith(f"out of bounds: at most {MAX_EXPONENT} in magnitude")


def test_hex_number_with_too_many_digits_is_a_located_error() -> None:
    assert problems(small(cap="0x" + "f" * 2000)) == [
        f"test.yaml:3:8: number with 2000 digits: at most {MAX_DIGITS} digits are allowed"
    ]
    assert problems(small(do="y + 0x" + "f" * 2000)) == [
        f"test.yaml:14:18: number with 2000 digits: at most {MAX_DIGITS} digits are allowed"
    ]


def test_numbers_at_the_bounds_load() -> None:
    widest = "9" * MAX_DIGITS + f"e{MAX_EXPONENT}"
    m = model(small(cap=widest, init="1e-1000", do=f"y + {'9' * MAX_DIGITS}"))
    assert m.params["cap"] == (10**MAX_DIGITS - 1) * 10**MAX_EXPONENT
    assert m.state[0].init == sympy.Rational(1, 10**1000)


@pytest.mark.parametrize("value", ["1e999999999", "9" * 4301, "1.5e+5000", "0.5e-1001"])
def test_param_override_too_large_is_a_located_error_naming_the_param(value: str) -> None:
    found = problems(small(), cap=value)
    assert len(found) == 1
    assert found[0].startswith("test.yaml:3:3: --param cap=")
    assert "at most" in found[0]
    assert len(found[0]) < 200  # a 4,301-digit value is not echoed whole


def test_param_override_too_large_exits_3_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(small())
    for value in ("1e999999999", "9" * 4301):
        run = run_cli("verify", "--json", "--param", f"cap={value}", str(path))
        assert run.code == 3, run.err
        (entry,) = json.loads(run.out)["models"]
        assert entry["errors"][0]["message"].startswith("--param cap=")


def test_product_of_large_literals_folded_at_load_is_a_located_error() -> None:
    big = f"1e{MAX_EXPONENT}"
    assert problems(small(init=f'"{big} * {big} * {big}"')) == [
        f"test.yaml:5:26: a constant with more than {MAX_VALUE_DIGITS} digits: numerators "
        f"and denominators of at most {MAX_VALUE_DIGITS} digits are allowed"
    ]
    found = problems(small(do=" * ".join(["y", *[big] * 3])))
    assert len(found) == 1
    assert f"more than {MAX_VALUE_DIGITS} digits" in found[0]
    started = time.monotonic()
    problems(small(do=" * ".join(["y", *["9" * MAX_DIGITS] * 90])))
    assert time.monotonic() - started < 5


def test_slippage_bps_too_large_is_bad_input(tmp_path: Path) -> None:
    data = tmp_path / "ticks.csv"
    data.write_text("time,bid,ask\n0,1,2\n")
    run = run_cli(
        "run", str(PERP), "--data", str(data), "--slippage-bps", "1e999999999", "--no-journal"
    )
    assert run.code == 3
    assert "--slippage-bps 1e999999999: exponent" in run.err


# -- 3. per-file internal errors must not lose the run ------------------------------


def _planted(real: Any, victim: str) -> Any:
    def load(path: Any, params: Any = None, ranges: Any = None, region: str = "") -> Any:
        if str(path).endswith(victim):
            raise RuntimeError("planted loader bug")
        return real(path, params, ranges, region)

    return load


def test_internal_error_while_loading_one_file_keeps_the_other_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a_good.yaml").write_text(PERP.read_text())
    (tmp_path / "b_explodes.yaml").write_text(PERP.read_text())
    (tmp_path / "c_bad.yaml").write_text(small(cap="1e999999999"))
    real = checker.lang.loader.load_model
    monkeypatch.setattr(checker.lang.loader, "load_model", _planted(real, "b_explodes.yaml"))
    run = run_cli("verify", "--json", "--proofs", str(tmp_path / "proofs"), str(tmp_path))
    assert run.code == 4
    doc = json.loads(run.out)
    assert doc["exit_code"] == 4
    by_file = {Path(m["file"]).name: m for m in doc["models"]}
    assert [lim["verdict"] for lim in by_file["a_good.yaml"]["limits"]] == ["proved"] * 4
    assert by_file["b_explodes.yaml"]["internal_error"] == (
        "loading: RuntimeError: planted loader bug"
    )
    assert by_file["c_bad.yaml"]["errors"][0]["line"] == 3


def test_verify_file_turns_a_loader_bug_into_the_files_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.yaml").write_text(PERP.read_text())
    (tmp_path / "explodes.yaml").write_text(PERP.read_text())
    real = checker.verify.load_model
    monkeypatch.setattr(checker.verify, "load_model", _planted(real, "explodes.yaml"))
    report = checker.verify.verify_paths([tmp_path])
    assert report.exit_code == 4
    by_file = {Path(m.file).name: m for m in report.models}
    assert by_file["explodes.yaml"].internal_error == "loading: RuntimeError: planted loader bug"
    assert by_file["good.yaml"].internal_error is None
    assert {lim.verdict for lim in by_file["good.yaml"].limits} == {Verdict.PROVED}


# -- 4. deep expressions ------------------------------------------------------------


def if_chain(branches: int) -> str:
    """``0 if n == 0 else 1 if n == 1 else ... else BRANCHES``: nested BRANCHES + 2 deep
    (each ``if ... else`` one level, its comparison and the comparison's operands two)."""
    return " else ".join(f"{i} if n == {i}" for i in range(branches)) + f" else {branches}"


def test_250_branch_if_chain_is_a_located_error_naming_the_bound() -> None:
    (found,) = problems(small(do=if_chain(250)))
    assert found.startswith("test.yaml:14:")
    assert found.endswith(f"expression nested deeper than {MAX_NESTING} levels; refused")


def test_expression_nested_one_level_beyond_the_bound_is_refused() -> None:
    (found,) = problems(small(do=if_chain(MAX_NESTING - 1)))
    assert f"deeper than {MAX_NESTING} levels" in found
    deep = "abs(" * MAX_NESTING + "n" + ")" * MAX_NESTING
    assert f"deeper than {MAX_NESTING} levels" in problems(small(do=deep))[0]


def test_prover_nesting_counts_where_the_prover_is_used() -> None:
    half = "abs(" * 60 + "q" + ")" * 60
    text = small(do="y").replace("steps:", f"provers:\n  deep: {half} >= 0\nsteps:")
    assert model(text).provers[0].name == "deep"
    inner = "abs(" * 45 + "(1 if deep else 0)" + ")" * 45
    used = text.replace('do: {y: "y"}', f'do: {{y: "{inner}"}}')
    (found,) = problems(used)
    assert f"deeper than {MAX_NESTING} levels once prover 'deep'" in found


def test_expression_at_the_nesting_bound_verifies_and_reports(tmp_path: Path) -> None:
    chain = if_chain(MAX_NESTING - 2)
    text = small(do=chain, limit=f"y <= {MAX_NESTING}").replace(
        'do: {y: "', 'do: {n: "n + 1 if n < 3 else n", y: "'
    )
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    outputs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("sarif", "html", "markdown", "junit")}
    args = [a for fmt, out in outputs.items() for a in ("--format", fmt, "--output", str(out))]
    run = run_cli("verify", "--json", "--proofs", str(tmp_path / "p"), *args, str(path))
    assert run.code == 0, run.out + run.err
    (entry,) = json.loads(run.out)["models"]
    assert [lim["verdict"] for lim in entry["limits"]] == ["proved"]
    assert all(out.stat().st_size > 0 for out in outputs.values())
    refuted = path.with_name("refuted.yaml")
    refuted.write_text(text.replace(f"y <= {MAX_NESTING}", "y <= 0"))
    run = run_cli("verify", "--json", "--proofs", str(tmp_path / "p"), str(refuted))
    assert run.code == 1, run.out + run.err
    (entry,) = json.loads(run.out)["models"]
    assert entry["limits"][0]["counterexample"]["length"] == 2


# -- 5. names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("strategy: small", 'strategy: "nl\\n"', "1:12"),
        ("  cap: 10", '  "cap\\n": 10', "3:3"),
        ("steps: [s]", 'steps: ["s\\n"]', "9:10"),
    ],
)
def test_name_with_a_trailing_newline_is_refused(old: str, new: str, where: str) -> None:
    found = problems(small().replace(old, new))
    assert any(
        f.startswith(f"test.yaml:{where}: ") and "\\n' is not a valid name" in f for f in found
    )


def test_enum_value_with_a_trailing_newline_is_refused() -> None:
    text = small().replace(
        "  n: {type: int, init: 0}", '  n: {type: enum, values: ["a\\n"], init: a}'
    )
    assert any("'a\\n' is not a valid name" in f for f in problems(text))


@pytest.mark.parametrize(
    ("expression", "char", "column"),
    [
        ("y + \uff43\uff41\uff50", "\uff43", 18),
        ("y + ﬁ", "ﬁ", 18),
        ("y + cap·2", "·", 21),
        ("'é' == 'e' or \uff43\uff41\uff50 > 0", "\uff43", 28),
        ("y # é", "é", 18),
    ],
)
def test_non_ascii_name_is_refused_at_its_character(
    expression: str, char: str, column: int
) -> None:
    (found,) = problems(small(do=expression))
    assert found == (
        f"test.yaml:14:{column}: non-ASCII character '{char}' (U+{ord(char):04X}) outside "
        "a string: names and operators are ASCII"
    )


def test_column_after_a_non_ascii_string_counts_characters() -> None:
    # ast counts UTF-8 bytes; "é" is two of them, and the columns are characters
    emit = "place(side='é' if q > 1e5000 else 'buy', qty=1)"
    text = small().replace("    do:", f'    when: p\n    emit:\n      - "{emit}"\n    do:')
    text = text.replace("  ok: y <= 0", "  ok: y <= 0\nprovers:\n  p: q >= 0")
    (found,) = problems(text)
    assert found.startswith(f"test.yaml:16:{10 + emit.index('1e5000')}: exponent 5000")
    deep = "'é' == 'e' or " + "abs(" * MAX_NESTING + "q" + ")" * MAX_NESTING + " > 0"
    (found,) = problems(small(do=deep))
    column = 14 + len("'é' == 'e' or ") + 4 * (MAX_NESTING - 2)  # the first call too deep
    assert found.startswith(f"test.yaml:14:{column}: expression nested deeper")


@pytest.mark.parametrize(
    ("value", "tag", "column"),
    [
        ("!!python/object/apply:os.system 1", "!!python/object/apply:os.system", 8),
        ("!!str 10", "!!str", 8),
        ("!!int '10'", "!!int", 8),
        ("!custom 10", "!custom", 8),
        ("! 10", "!", 8),
    ],
)
def test_yaml_tag_is_refused_not_ignored(value: str, tag: str, column: int) -> None:
    assert problems(small(cap=value)) == [
        f"test.yaml:3:{column}: YAML tags are not supported: '{tag}' (write the value "
        "without a tag; quote it if it is text)"
    ]


def test_yaml_tags_on_collections_are_refused_each_located() -> None:
    text = (
        small()
        .replace("steps: [s]", "steps: !!seq [s]")
        .replace("  n: {type: int, init: 0}", "  n: !!map {type: int, init: 0}")
    )
    assert [f.split(": YAML")[0] for f in problems(text)] == ["test.yaml:6:6", "test.yaml:9:8"]


# -- 6. a comma inside a flow mapping's doc -----------------------------------------


def test_comma_inside_a_flow_mapping_doc_names_the_stray_key() -> None:
    text = small().replace("  n: {type: int, init: 0}", "  n: {type: int, init: 0, doc: a, b}")
    (found,) = problems(text)
    assert found == (
        "test.yaml:6:35: unknown key 'b' in state.n (a comma inside a flow mapping {...} ends "
        'the value before it: quote text that holds a comma, e.g. doc: "a, b")'
    )


def test_comma_inside_a_flow_mapping_param_doc_names_the_stray_key() -> None:
    text = small(cap="{value: 10, doc: contracts, at most}")
    (found,) = problems(text)
    assert found.startswith(
        "test.yaml:3:36: unknown key 'at most' in params.cap: a param takes only value and doc"
    )
    assert 'e.g. doc: "contracts, at most"' in found


# -- found by the malformed-input campaign (tests/malformed.py) -----------------------


def load_bytes(tmp_path: Path, data: bytes) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_bytes(data)
    with pytest.raises(ModelError) as caught:
        checker.lang.loader.load_model(path)
    return [str(d).removeprefix(f"{path}:") for d in caught.value.diagnostics]


def test_utf16_file_is_a_located_error_that_names_the_encoding(tmp_path: Path) -> None:
    (found,) = load_bytes(tmp_path, small().encode("utf-16"))
    assert found == (
        "1:1: file is not UTF-8 text: byte 0xff cannot start a character (it looks like "
        "UTF-16 or UTF-32: save it as UTF-8)"
    )


def test_utf16_without_a_byte_order_mark_is_not_read_as_nul_characters(
    tmp_path: Path,
) -> None:
    # UTF-16-BE of ASCII text is valid UTF-8, with a NUL before every character
    (found,) = load_bytes(tmp_path, small().encode("utf-16-be"))
    assert found == (
        "1:1: file contains a NUL character: it is not UTF-8 text (it looks like UTF-16 "
        "or UTF-32: save it as UTF-8)"
    )


def test_invalid_utf8_is_located_at_its_line_and_column(tmp_path: Path) -> None:
    data = small().encode().replace(b"strategy: small", b"strategy: sm\xffall")
    assert load_bytes(tmp_path, data) == [
        "1:13: file is not UTF-8 text: byte 0xff cannot start a character"
    ]


def test_control_character_is_a_yaml_error_at_its_position_on_one_line() -> None:
    (found,) = problems(small().replace("strategy: small", "strategy: sm\x1ball"))
    assert found == "test.yaml:1:13: YAML syntax: character U+001B is not allowed in YAML"


@pytest.mark.parametrize("value", ["inf", "nan", "1e999", "-inf"])
def test_timeout_that_is_not_a_finite_number_is_bad_input(value: str) -> None:
    # it was an internal error (exit 4) for inf, and silently every limit unknown for nan
    run = run_cli("verify", "--timeout", value, str(PERP))
    assert run.code == 3
    assert "Invalid value for '--timeout'" in run.err


def test_prover_at_the_nesting_bound_where_it_is_used_loads() -> None:
    # a prover 62 levels deep (>=, 60 calls, q) whose name is LEVELS deep: LEVELS - 1 + 62
    prover = "abs(" * 60 + "q" + ")" * 60 + " >= 0"
    text = small().replace("steps:", f"provers:\n  deep: {prover}\nsteps:")
    for levels, ok in ((38, True), (39, True), (40, False)):
        inner = "abs(" * (levels - 2) + "(1 if deep else 0)" + ")" * (levels - 2)
        used = text.replace('do: {y: "y"}', f'do: {{y: "{inner}"}}')
        if ok:
            model(used)
        else:
            assert "once prover 'deep' (62 levels)" in problems(used)[0]


def test_many_values_in_a_flow_list_are_refused_before_they_are_composed() -> None:
    # 300,000 values took 90 s to compose before the count refused them
    started = time.monotonic()
    (found,) = problems(small().replace("steps: [s]", "steps: [s" + ", s" * 300_000 + "]"))
    assert time.monotonic() - started < 15
    assert found.endswith(f"document has more than {MAX_NODES} values; refused")


def test_expression_with_too_many_parts_is_refused_at_the_part() -> None:
    # min() of 4,000 constants took 15 s in sympy
    text = small(do="min(" + ", ".join(str(i) for i in range(4000)) + ")")
    (found,) = problems(text)
    assert found.endswith(
        f"expression of more than {MAX_SIZE} parts (operators, operands, calls); refused"
    )


def test_expressions_of_a_file_beyond_their_budget_are_refused_once() -> None:
    part = " + ".join(["n"] * 90)  # 179 parts, 90 levels
    limits = "".join(f"  l{i}: {part} >= 0\n" for i in range(MAX_FILE_SIZE // 180 + 5))
    started = time.monotonic()
    found = problems(small().replace("  ok: y <= 0\n", limits))
    assert time.monotonic() - started < 15
    assert [f.split(": ", 1)[1] for f in found] == [
        f"the file's expressions have more than {MAX_FILE_SIZE} parts in all; refused"
    ]
