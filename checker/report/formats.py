"""Reports for other tools: JUnit XML and SARIF for CI, Markdown for a job summary or a
pull-request comment, one self-contained HTML page, and counterexamples in Apalache's
Informal Trace Format (ITF). Each is a pure function of a :class:`Report`."""

from __future__ import annotations

import ast
import functools
import html
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote

import networkx as nx
import sympy
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm

from checker import __version__
from checker.errors import SeqproveError
from checker.lang.loader import load_model
from checker.model import Model, Transition, decimal_text
from checker.report.graph import edge_label
from checker.report.terminal import summary
from checker.results import Counterexample, LimitResult, ModelReport, Report, Severity, Verdict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ITF_FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


# -- shared -------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _taken(transition: Mapping[str, Any] | None, tick: int) -> str:
    if tick == 0:
        return "(initial)"
    if transition is None:
        return "(none enabled: stutter)"
    return f"{transition['from']} -> {transition['to']} (line {transition['line']})"


def _broken(lim: LimitResult) -> str:
    cex = lim.counterexample
    after = f" after {cex.length} tick(s)" if cex is not None else ""
    return f"limit '{lim.name}' ({lim.text}) is broken{after}"


def _detail(lim: LimitResult) -> str:
    if lim.counterexample is not None:
        return f"broken after {lim.counterexample.length} tick(s)"
    return lim.reason


def trace_table(cex: Counterexample) -> tuple[list[str], list[list[str]]]:
    """The counterexample as a header and rows: tick, step, transition taken, then a
    column per input (blank at tick 0, which has none) and per state variable."""
    inputs = list(dict.fromkeys(name for t in cex.ticks for name in t.inputs))
    state = list(dict.fromkeys(name for t in cex.ticks for name in t.state))
    header = ["tick", "step", "transition taken", *(f"{n} (input)" for n in inputs), *state]
    rows = [
        [str(t.tick), t.step, _taken(t.transition, t.tick)]
        + [_cell(t.inputs[n]) if n in t.inputs else "" for n in inputs]
        + [_cell(t.state.get(n, "")) for n in state]
        for t in cex.ticks
    ]
    return header, rows


# -- JUnit XML ----------------------------------------------------------------------------
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    """Text XML 1.0 can hold: characters it forbids become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    )


def _testcase(suite: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(
        suite, "testcase", classname=_x(classname), name=_x(name), time=f"{seconds:.3f}"
    )


def _outcome(case: ET.Element, tag: str, kind: str, message: str, text: str) -> None:
    ET.SubElement(case, tag, type=_x(kind), message=_x(message)).text = _x(text)


def _junit_suite(m: ModelReport) -> ET.Element:
    suite = ET.Element("testsuite", name=_x(m.file), file=_x(m.file))
    props: list[tuple[str, object]] = [("strategy", m.strategy)] if m.strategy else []
    props += [(f"param.{k}", v) for k, v in m.params.items()]
    if props:
        bag = ET.SubElement(suite, "properties")
        for name, value in props:
            ET.SubElement(bag, "property", name=_x(name), value=_x(value))
    classname = m.strategy or m.file
    for d in m.errors:
        case = _testcase(suite, classname, f"bad-input:{d.line}:{d.column}")
        _outcome(case, "error", "bad-input", d.message, str(d))
    if m.internal_error:
        case = _testcase(suite, classname, "internal-error", m.seconds)
        text = f"a bug in seqprove, please report it: {m.internal_error}"
        _outcome(case, "error", "internal-error", m.internal_error, text)
    for lim in m.limits:
        case = _testcase(suite, classname, lim.name, lim.seconds)
        if lim.verdict is Verdict.REFUTED:
            text = f"{m.file}:{lim.line}: {_broken(lim)}"
            if lim.counterexample is not None:
                text += "\n\n" + _text_table(*trace_table(lim.counterexample))
            _outcome(case, "failure", "refuted", _broken(lim), text)
        elif lim.verdict is Verdict.UNKNOWN:
            text = f"{m.file}:{lim.line}: limit '{lim.name}' ({lim.text}) not proved: {lim.reason}"
            _outcome(case, "failure", "unknown", lim.reason or "not proved", text)
    warnings = []
    for f in m.findings:
        line = f"{m.file}:{f.line}:{f.column}: {f.severity.value} [{f.rule}] {f.message}"
        if f.severity is Severity.ERROR:
            case = _testcase(suite, classname, f"structure:{f.rule}:{f.line}")
            _outcome(case, "failure", f.rule, f.message, line)
        else:
            warnings.append(line)
    if warnings:
        ET.SubElement(suite, "system-out").text = _x("\n".join(warnings))
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(len(c.findall("failure")) for c in cases)))
    suite.set("errors", str(sum(len(c.findall("error")) for c in cases)))
    suite.set("skipped", "0")
    suite.set("time", f"{m.seconds:.3f}")
    return suite


def to_junit(report: Report) -> str:
    """JUnit XML: a ``<testsuite>`` per model file and a ``<testcase>`` per limit.

    A refuted limit is a ``<failure type="refuted">`` holding the counterexample as a
    tick table; an unknown one a ``<failure type="unknown">`` with the reason (in CI an
    unproved limit fails). A broken structural rule is a failing test case named
    ``structure:RULE:LINE``. Each bad-input diagnostic is a test case
    ``bad-input:LINE:COLUMN`` with an ``<error type="bad-input">`` (the file could not be
    checked), an internal error an ``<error>`` too. Warnings go to the suite's
    ``<system-out>``, the strategy and params to its ``<properties>``.
    """
    root = ET.Element("testsuites", name="seqprove")
    suites = [_junit_suite(m) for m in report.models]
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{sum(m.seconds for m in report.models):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# -- SARIF 2.1.0 --------------------------------------------------------------------------
RULES: dict[str, str] = {
    "limit-refuted": "A limit is broken by some run of the model (a counterexample exists).",
    "limit-unknown": "A limit could be neither proved nor refuted.",
    "bad-input": "The model file is not a valid model.",
    "unreachable-step": "A step is not reachable from the initial step.",
    "final-step-exit": "A transition leaves a final step.",
    "place-without-prover": "A transition emits place() without a prover in its `when`.",
    "final-unreachable": "A final step is not reachable from every step.",
    "vacuous-assumptions": "No inputs satisfy the ranges and assumptions initially.",
    "nonlinear": "A product of non-constant terms.",
    "tautology-limit": "A limit holds in every configuration: it constrains nothing.",
    "dead-transition": "A transition can never fire.",
    "shadowed-transition": "A transition can fire only when an earlier one fires first.",
    "dead-end": "A reachable configuration admits no inputs: runs end there.",
    "dead-end-unchecked": "Whether a dead end exists could not be decided.",
}


def _location(file: str, line: int, column: int, root: Path) -> dict[str, Any]:
    """A file position; a file inside ``root`` by a URI relative to it under
    ``%SRCROOT%`` (as GitHub code scanning wants), any other by an absolute URI."""
    path = Path(file).resolve()
    artifact = {"uri": path.as_uri()}
    if path.is_relative_to(root):
        artifact = {"uri": quote(path.relative_to(root).as_posix()), "uriBaseId": "%SRCROOT%"}
    region = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def _result(rule: str, level: str, message: str, location: dict[str, Any]) -> dict[str, Any]:
    return {"ruleId": rule, "level": level, "message": {"text": message}, "locations": [location]}


def _code_flow(m: ModelReport, lim: LimitResult, cex: Counterexample, root: Path) -> Any:
    """The counterexample as one thread flow: a location per tick, at the transition's
    line (the limit's line for tick 0 and stutters), with the values as its state."""
    steps = []
    for t in cex.ticks:
        location = _location(m.file, t.transition["line"] if t.transition else lim.line, 1, root)
        text = f"tick {t.tick}, step {t.step}: {_taken(t.transition, t.tick)}"
        location["message"] = {"text": text}
        values = {f"input {k}": v for k, v in t.inputs.items()} | dict(t.state)
        steps.append(
            {"location": location, "state": {k: {"text": _cell(v)} for k, v in values.items()}}
        )
    return {"message": {"text": _broken(lim)}, "threadFlows": [{"locations": steps}]}


def _limit_result(m: ModelReport, lim: LimitResult, root: Path) -> dict[str, Any] | None:
    where = _location(m.file, lim.line, 1, root)
    if lim.verdict is Verdict.UNKNOWN:
        text = f"limit '{lim.name}' ({lim.text}) was not proved: {lim.reason}"
        return _result("limit-unknown", "warning", text, where)
    if lim.verdict is Verdict.PROVED:
        return None
    result = _result("limit-refuted", "error", _broken(lim), where)
    cex = lim.counterexample
    if cex is not None:
        last = cex.ticks[-1]
        values = ", ".join(f"{k}={_cell(v)}" for k, v in last.state.items())
        result["message"]["text"] += f"; at tick {last.tick}, in step {last.step}: {values}"
        result["codeFlows"] = [_code_flow(m, lim, cex, root)]
    return result


def sarif_log(report: Report, root: str | Path | None = None) -> dict[str, Any]:
    """The SARIF log of :func:`to_sarif` as a JSON-ready dict."""
    base = Path(root if root is not None else os.getcwd()).resolve()
    results: list[dict[str, Any]] = []
    notes = []
    for m in report.models:
        for d in m.errors:
            location = _location(d.file, d.line, d.column, base)
            results.append(_result("bad-input", "error", d.message, location))
        results += filter(None, (_limit_result(m, lim, base) for lim in m.limits))
        for f in m.findings:
            level = "error" if f.severity is Severity.ERROR else "warning"
            location = _location(m.file, f.line, f.column, base)
            results.append(_result(f.rule, level, f.message, location))
        if m.internal_error:
            text = f"internal error (a bug in seqprove, please report it): {m.internal_error}"
            location = _location(m.file, 1, 1, base)
            notes.append({"level": "error", "message": {"text": text}, "locations": [location]})
    used = ["limit-refuted", "limit-unknown", "bad-input"]
    used += sorted({r["ruleId"] for r in results} - set(used))
    for r in results:
        r["ruleIndex"] = used.index(r["ruleId"])
    driver = {
        "name": "seqprove",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [
            {"id": rule, "name": rule, "shortDescription": {"text": RULES.get(rule, rule)}}
            for rule in used
        ],
    }
    invocation = {
        "executionSuccessful": not notes,
        "exitCode": report.exit_code,
        "toolExecutionNotifications": notes,
    }
    run = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def to_sarif(report: Report, root: str | Path | None = None) -> str:
    """SARIF 2.1.0, one run of the ``seqprove`` driver.

    Rule ids are ``limit-refuted`` (level error, the counterexample summarised in the
    message and given as a code flow with a thread flow location per tick),
    ``limit-unknown`` (warning), ``bad-input`` (error, a result per diagnostic) and the
    findings' own rules (``unreachable-step``, ``dead-end``, ...; error or warning by
    severity). Files inside ``root`` (the current directory by default) get URIs
    relative to it under ``uriBaseId`` ``%SRCROOT%``, others absolute ``file:`` URIs.
    Internal errors are tool execution notifications of the run's invocation.
    """
    return json.dumps(sarif_log(report, root), indent=2) + "\n"


# -- Markdown -----------------------------------------------------------------------------
_MARK = {Verdict.PROVED: "PROVED", Verdict.REFUTED: "**REFUTED**", Verdict.UNKNOWN: "_UNKNOWN_"}


def _md(text: object) -> str:
    """Text for a Markdown table cell: one line, pipes escaped, no HTML tags."""
    one_line = " ".join(str(text).split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")


def _code(text: str) -> str:
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _md_model(m: ModelReport) -> list[str]:
    out = [f"### `{m.file}`" + (f" ({_md(m.strategy)})" if m.strategy else ""), ""]
    if m.errors:
        return [*out, "**Bad input:**", "", *(f"- {_md(d)}" for d in m.errors), ""]
    if m.internal_error:
        return [*out, f"**Internal error** (a bug in seqprove): {_md(m.internal_error)}", ""]
    rows = [
        [
            _code(lim.name),
            _code(lim.text),
            _MARK[lim.verdict],
            _md(lim.engine),
            f"{lim.seconds:.2f} s",
            _md(_detail(lim)),
        ]
        for lim in m.limits
    ]
    out += _md_table(["limit", "expression", "verdict", "engine", "time", "detail"], rows)
    if m.findings:
        rows = [[str(f.line), f.severity.value, _code(f.rule), _md(f.message)] for f in m.findings]
        out += ["", "**Findings**", "", *_md_table(["line", "severity", "rule", "message"], rows)]
    for lim in m.limits:
        if lim.counterexample is not None:
            header, rows = trace_table(lim.counterexample)
            what = f"{_code(lim.name)} ({_code(lim.text)}) is {_detail(lim)}"
            out += ["", f"**Counterexample:** {what}", ""]
            out += _md_table([_md(h) for h in header], [[_md(c) for c in r] for r in rows])
    return [*out, ""]


def to_markdown(report: Report) -> str:
    """A summary for a GitHub job summary or pull-request comment: per model a table of
    limits, the findings, and each counterexample as a table of ticks."""
    lines = ["## seqprove", "", _md(summary(report).plain), ""]
    for m in report.models:
        lines += _md_model(m)
    return "\n".join(lines)


# -- HTML: invariants drawn by sympy ------------------------------------------------------
class _InvariantReader:
    """Invariant text, as seqprove prints it, back to sympy by dispatch on ``ast`` node
    kind. Nothing is evaluated; a construct outside the whitelist raises ValueError."""

    CALLS: Mapping[str, Callable[..., Any]] = {
        "And": sympy.And,
        "Or": sympy.Or,
        "Not": sympy.Not,
        "Implies": sympy.Implies,
        "Equivalent": sympy.Equivalent,
        "ITE": sympy.ITE,
        "abs": sympy.Abs,
        "min": sympy.Min,
        "max": sympy.Max,
    }
    OPS: Mapping[type[ast.AST], Callable[..., Any]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
        ast.USub: lambda a: -a,
        ast.UAdd: lambda a: a,
        ast.Not: sympy.Not,
        ast.Eq: sympy.Eq,
        ast.NotEq: sympy.Ne,
        ast.Lt: sympy.Lt,
        ast.LtE: sympy.Le,
        ast.Gt: sympy.Gt,
        ast.GtE: sympy.Ge,
    }
    NAMES: Mapping[str, Any] = {
        "true": sympy.true,
        "True": sympy.true,
        "false": sympy.false,
        "False": sympy.false,
    }

    def __init__(self, text: str) -> None:
        self.text = text

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise ValueError(f"cannot read {type(node).__name__}")
        return method(node)

    def op(self, node: ast.AST) -> Callable[..., Any]:
        if type(node) not in self.OPS:
            raise ValueError(f"cannot read {type(node).__name__}")
        return self.OPS[type(node)]

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, bool):
            return sympy.true if node.value else sympy.false
        if isinstance(node.value, int):
            return sympy.Integer(node.value)
        if isinstance(node.value, float):  # exactly as written: 0.1 is 1/10
            return sympy.Rational(
                Fraction(ast.get_source_segment(self.text, node) or repr(node.value))
            )
        raise ValueError(f"cannot read {node.value!r}")

    def visit_Name(self, node: ast.Name) -> Any:
        return self.NAMES.get(node.id, sympy.Symbol(node.id))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return self.op(node.op)(self.visit(node.operand))

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        return self.op(node.op)(self.visit(node.left), self.visit(node.right))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        parts = [self.visit(v) for v in node.values]
        return sympy.And(*parts) if isinstance(node.op, ast.And) else sympy.Or(*parts)

    def visit_Compare(self, node: ast.Compare) -> Any:
        sides = [self.visit(n) for n in [node.left, *node.comparators]]
        return sympy.And(
            *(self.op(op)(a, b) for op, a, b in zip(node.ops, sides[:-1], sides[1:], strict=True))
        )

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        test, yes, no = self.visit(node.test), self.visit(node.body), self.visit(node.orelse)
        if no == -yes and test in (sympy.Ge(yes, 0), sympy.Gt(yes, 0)):
            return sympy.Abs(yes)  # how seqprove prints abs(x)
        return sympy.Piecewise((yes, test), (no, True))

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name not in self.CALLS or node.keywords:
            raise ValueError("cannot read this call")
        return self.CALLS[name](*(self.visit(a) for a in node.args))


class _Pretty(PrettyPrinter):  # type: ignore[misc]
    """sympy's 2-D printer, with names and decimals as written (``open_ask``, not a
    subscript; ``0.1``, not a fraction)."""

    def _print_Symbol(self, expr: sympy.Symbol, bold_name: bool = False) -> prettyForm:
        return prettyForm(expr.name)

    def _print_Rational(self, expr: sympy.Rational) -> prettyForm:
        text = decimal_text(Fraction(int(expr.p), int(expr.q)))  # 0.1 as written
        return super()._print_Rational(expr) if "/" in text else prettyForm(text)


@functools.lru_cache(maxsize=256)
def pretty_invariant(text: str) -> str:
    """``text`` drawn by sympy's pretty printer, a line (or block) per top-level
    conjunct; ``text`` itself when it does not read back."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
        and_ = isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And)
        parts = tree.values if isinstance(tree, ast.BoolOp) and and_ else [tree]
        reader = _InvariantReader(text.strip())
        printer = _Pretty({"use_unicode": True, "num_columns": 100})
        drawn = [printer.doprint(reader.visit(part)) for part in parts]
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError):
        return text
    return "\n".join(drawn)


# -- HTML: the step graph as inline SVG ---------------------------------------------------
_CHAR, _BOX_H, _GAP_X, _ROW, _TOP = 7.8, 32.0, 180.0, 84.0, 40.0
Box = tuple[float, float, float]
"""A step's box: centre x, centre y, width."""


def _layers(model: Model) -> list[list[str]]:
    """Steps by breadth-first distance from the initial step, unreachable ones last,
    each layer in file order."""
    order = {s: i for i, s in enumerate(model.steps)}
    layers = [
        sorted(found, key=order.__getitem__)
        for found in nx.bfs_layers(model.graph, [model.initial])
    ]
    rest = [s for s in model.steps if not any(s in layer for layer in layers)]
    return [*layers, rest] if rest else layers


def _border(box: Box, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the ray from the box's centre toward a point leaves the box."""
    x, y, w = box
    dx, dy = toward[0] - x, toward[1] - y
    t = min(w / 2 / abs(dx) if dx else math.inf, _BOX_H / 2 / abs(dy) if dy else math.inf)
    return (x + dx * t, y + dy * t) if math.isfinite(t) else (x, y)


@dataclass(frozen=True)
class _Layout:
    """Where the steps of a step graph are drawn, and how edges run between them."""

    boxes: Mapping[str, Box]
    layer: Mapping[str, int]
    loops: frozenset[str]
    middle: float

    def edge(self, u: str, v: str) -> tuple[str, float, float, str]:
        """The path of edge ``u -> v``, and where its label goes and how it is anchored:
        a loop above the box for a self-loop, a straight line to a later layer, an arc
        sideways within a layer (right going down, left going up), and an arc back to an
        earlier layer over the top or under the bottom of the layers between, on the side
        nearer the source."""
        (xu, yu, _), (xv, yv, _) = self.boxes[u], self.boxes[v]
        if u == v:
            y = yu - _BOX_H / 2
            loop = f"C{xu - 40:.1f},{y - 46:.1f} {xu + 40:.1f},{y - 46:.1f} {xu + 12:.1f},{y:.1f}"
            return f"M{xu - 12:.1f},{y:.1f} {loop}", xu, y - 40, "middle"
        if self.layer[v] > self.layer[u]:
            (x0, y0), (x1, y1) = _border(self.boxes[u], (xv, yv)), _border(self.boxes[v], (xu, yu))
            path = f"M{x0:.1f},{y0:.1f} L{x1:.1f},{y1:.1f}"
            return path, (x0 + x1) / 2, (y0 + y1) / 2 - 6, "middle"
        if self.layer[v] == self.layer[u]:
            side = 1 if yv > yu else -1
            cx, cy = xu + side * (40 + abs(yv - yu) / 4), (yu + yv) / 2
            (x0, y0), (x1, y1) = _border(self.boxes[u], (cx, cy)), _border(self.boxes[v], (cx, cy))
            path = f"M{x0:.1f},{y0:.1f} Q{cx:.1f},{cy:.1f} {x1:.1f},{y1:.1f}"
            return path, (x0 + 2 * cx + x1) / 4 + side * 6, cy + 4, "start" if side > 0 else "end"
        span = [s for s in self.boxes if self.layer[v] <= self.layer[s] <= self.layer[u]]
        sign = -1 if yu < self.middle or (yu == self.middle and yv < self.middle) else 1
        clear = _BOX_H / 2 + 14 + 8 * min(self.layer[u] - self.layer[v], 4)
        if sign < 0 and self.loops.intersection(span):
            clear += 40
        ys = [self.boxes[s][1] for s in span]
        peak = (min(ys) if sign < 0 else max(ys)) + sign * clear
        y0, y1 = yu + sign * _BOX_H / 2, yv + sign * _BOX_H / 2
        cx, cy = (xu + xv) / 2, 2 * peak - (y0 + y1) / 2  # the curve's middle is the peak
        path = f"M{xu:.1f},{y0:.1f} Q{cx:.1f},{cy:.1f} {xv:.1f},{y1:.1f}"
        return path, cx, peak + (-6 if sign < 0 else 14), "middle"


def _short_label(transitions: tuple[Transition, ...]) -> str:
    """``line N [provers]`` for one transition, ``lines N, M`` for several; cut to fit
    between two layers."""
    if len(transitions) > 1:
        text = "lines " + ", ".join(str(t.line) for t in transitions)
    else:
        (t,) = transitions
        text = f"line {t.line}" + (f" [{', '.join(t.provers)}]" if t.provers else "")
    return text if len(text) <= 25 else text[:24] + "\u2026"


def _rect(box: Box, inset: float) -> str:
    x, y, w = box
    size = f'width="{w - 2 * inset:.1f}" height="{_BOX_H - 2 * inset:.1f}"'
    return f'<rect x="{x - w / 2 + inset:.1f}" y="{y - _BOX_H / 2 + inset:.1f}" {size} rx="7"/>'


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "middle") -> str:
    place = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
    return f'<text {place} class="{cls}">{html.escape(text)}</text>'


def step_graph_svg(model: Model, ident: str = "0") -> str:
    """The step graph as inline SVG in a layered layout: the initial step leftmost, each
    step one layer right of its nearest predecessor; a transition's line and provers on
    its edge (its whole label in the tooltip), final steps with a double border.
    ``ident`` keeps the arrow marker's id unique among the graphs of one page."""
    layers = _layers(model)
    layer = {s: i for i, steps in enumerate(layers) for s in steps}
    tallest = max(len(steps) for steps in layers)
    boxes: dict[str, Box] = {}
    x = 90.0
    for steps in layers:
        column = max(len(s) * _CHAR + 24 for s in steps)
        for row, s in enumerate(steps):
            y = _TOP + (row + (tallest - len(steps)) / 2) * _ROW
            boxes[s] = (x + column / 2, y, len(s) * _CHAR + 24)
        x += column + _GAP_X
    arrow = f'marker-end="url(#arrow-{ident})"'
    x0, y0, w0 = boxes[model.initial]
    body = [
        f'<defs><marker id="arrow-{ident}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>",
        f'<circle cx="{x0 - w0 / 2 - 36:.1f}" cy="{y0:.1f}" r="5"/>',
        f'<path d="M{x0 - w0 / 2 - 31:.1f},{y0:.1f} L{x0 - w0 / 2:.1f},{y0:.1f}" {arrow}/>',
    ]
    loops = frozenset(s for s in model.steps if model.graph.has_edge(s, s))
    layout = _Layout(boxes, layer, loops, _TOP + (tallest - 1) * _ROW / 2)
    heights = [_TOP - _BOX_H, _TOP + (tallest - 1) * _ROW + _BOX_H]
    for u, v, data in model.graph.edges(data=True):
        path, lx, ly, anchor = layout.edge(u, v)
        heights.append(ly)
        tip = html.escape("\n".join(edge_label(t) for t in data["transitions"]))
        label = _text(lx, ly, _short_label(data["transitions"]), "label", anchor)
        body.append(f'<g><title>{tip}</title><path d="{path}" {arrow}/>{label}</g>')
    for s, box in boxes.items():
        body += [_rect(box, 0), *([_rect(box, 3)] if s in model.final else [])]
        body.append(_text(box[0], box[1] + 4.5, s))
    top, width, height = min(heights) - 16, x - _GAP_X + 100, max(heights) - min(heights) + 28
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 {top:.0f} {width:.0f} {height:.0f}" role="img" '
        f'aria-label="step graph of {html.escape(model.strategy)}">{"".join(body)}</svg>'
    )


# -- HTML: the page -----------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em} h2 small{color:#07c;font-weight:normal}
table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.changed{font-weight:bold;background:#fff6d6}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto} summary{font-weight:bold;margin:.6em 0}
.proved{color:#176f2c;font-weight:bold} .refuted,.error{color:#b00020;font-weight:bold}
.unknown,.warning{color:#a65f00;font-weight:bold} .note{color:#666}
svg.graph{max-width:100%;height:auto} svg.graph path{fill:none;stroke:#555;stroke-width:1.4}
svg.graph marker path,svg.graph circle{fill:#555;stroke:none}
svg.graph rect{fill:#eef4fb;stroke:#07c;stroke-width:1.4}
svg.graph text{font-size:13px} svg.graph text.label{font-size:11px;fill:#444}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _td(html_text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{html_text}</td>' if cls else f"<td>{html_text}</td>"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    """A table of ``<td>`` cells already built; the header is plain text."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_trace(lim: LimitResult, cex: Counterexample) -> str:
    """The tick table, each state value that changed since the tick before highlighted."""
    header, rows = trace_table(cex)
    first = len(header) - len(cex.ticks[0].state)
    cells = [
        [
            _td(_e(v), "changed" if i and j >= first and v != rows[i - 1][j] else "")
            for j, v in enumerate(row)
        ]
        for i, row in enumerate(rows)
    ]
    return f"<h3>Counterexample: {_e(_broken(lim))}</h3>" + _html_table(header, cells)


def _html_invariant(lim: LimitResult, invariant: Mapping[str, str]) -> str:
    """The invariant in a ``<details>`` (they can be long): once if it is the same at
    every step, otherwise step by step."""
    head = f"<details><summary>Invariant proving <code>{_e(lim.name)}</code>"
    if len(set(invariant.values())) == 1:
        formula = next(iter(invariant.values()))
        body = f"<pre>{_e(pretty_invariant(formula))}</pre>"
        return f"{head} (the same at every step)</summary>{body}</details>"
    parts = [f"{head}, by step</summary>"]
    for step, formula in invariant.items():
        shown = "no reachable configuration" if formula == "false" else pretty_invariant(formula)
        parts.append(f"<p><b>{_e(step)}</b></p><pre>{_e(shown)}</pre>")
    return "".join(parts) + "</details>"


def _load(m: ModelReport) -> Model | str:
    """The model of a report, or why it cannot be drawn. It is loaded without the run's
    param overrides: the step graph does not depend on param values."""
    if m.errors:
        return "the file is not a valid model"
    try:
        return load_model(m.file)
    except SeqproveError as exc:
        return f"the model does not load: {exc}"


def _html_model(m: ModelReport, model: Model | str, index: int) -> str:
    strategy = f" <small>{_e(m.strategy)}</small>" if m.strategy else ""
    out = [f"<section><h2>{_e(m.file)}{strategy} <small>({m.seconds:.2f} s)</small></h2>"]
    if m.errors:
        items = "".join(f"<li>{_e(d)}</li>" for d in m.errors)
        return "".join([*out, f'<p class="error">Bad input</p><ul>{items}</ul></section>'])
    if m.internal_error:
        text = f"INTERNAL ERROR (a bug in seqprove, please report it): {m.internal_error}"
        out.append(f'<p class="error">{_e(text)}</p>')
    if isinstance(model, Model):
        out.append(step_graph_svg(model, str(index)))
    else:
        out.append(f'<p class="note">Step graph not drawn: {_e(model)}</p>')
    if m.limits:
        rows = [
            [
                _td(_e(lim.name)),
                _td(f"<code>{_e(lim.text)}</code>"),
                _td(lim.verdict.value.upper(), lim.verdict.value),
                _td(_e(lim.engine)),
                _td(f"{lim.seconds:.2f} s"),
                _td(_e(_detail(lim))),
            ]
            for lim in m.limits
        ]
        out.append(
            _html_table(["limit", "expression", "verdict", "engine", "time", "detail"], rows)
        )
    if m.findings:
        rows = [
            [
                _td(f"{f.line}:{f.column}"),
                _td(f.severity.value, f.severity.value),
                _td(f"<code>{_e(f.rule)}</code>"),
                _td(_e(f.message)),
            ]
            for f in m.findings
        ]
        out.append(
            "<h3>Findings</h3>" + _html_table(["where", "severity", "rule", "message"], rows)
        )
    out += [_html_trace(lim, lim.counterexample) for lim in m.limits if lim.counterexample]
    out += [_html_invariant(lim, lim.invariant) for lim in m.limits if lim.invariant is not None]
    return "".join(out) + "</section>"


def to_html(report: Report, models: Mapping[str, Model] | None = None) -> str:
    """One self-contained HTML page (inline CSS and SVG; no scripts, fonts or links):
    per model its step graph, the verdicts, the findings, each invariant drawn by sympy
    and each counterexample as a table.

    Parameters
    ----------
    report
        The report to show.
    models
        Loaded models by their report's ``file``; one not given is loaded from its file,
        and one that does not load is shown without its graph.
    """
    given = models or {}
    sections = [
        _html_model(m, given.get(m.file) or _load(m), i) for i, m in enumerate(report.models)
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>seqprove report</title><style>{_CSS}</style></head><body>"
        f"<h1>seqprove report</h1><p>{_e(summary(report).plain)}</p>{''.join(sections)}"
        "</body></html>\n"
    )


# -- ITF ----------------------------------------------------------------------------------
def _itf_value(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, Fraction):
        return decimal_text(value)
    raise TypeError(f"no ITF encoding for {value!r}")


def to_itf(counterexample: Counterexample, model_report: ModelReport) -> str:
    """A counterexample in Apalache's Informal Trace Format (ITF), a state per tick.

    Each state holds the model's state variables, ``step`` (the step's name) and
    ``inputs`` (a record of the inputs the market chose at that tick, empty at tick 0,
    which has none); where a state variable is itself named ``step`` or ``inputs``, the
    added one is ``@step`` or ``@inputs``. Integers are ``{"#bigint": "123"}``, booleans
    JSON booleans, enum values their names. Reals, which ITF lacks, are strings holding
    the exact value as seqprove prints it everywhere: a decimal (``"0.1"``) or, where no
    finite decimal exists, ``"p/q"``. A state's ``#meta`` gives its ``index`` (the tick)
    and the ``transition`` taken to reach it.
    """
    ticks = counterexample.ticks
    names = list(dict.fromkeys(n for t in ticks for n in t.state))
    step = "@step" if "step" in names else "step"
    inputs = "@inputs" if "inputs" in names else "inputs"
    limit = next((lim for lim in model_report.limits if lim.counterexample == counterexample), None)
    what = _broken(limit) if limit else f"a run of {counterexample.length} tick(s)"
    meta = {
        "format": "ITF",
        "format-description": ITF_FORMAT_DESCRIPTION,
        "source": model_report.file,
        "description": f"seqprove {__version__} counterexample: {what}",
    }
    states = [
        {
            "#meta": {"index": t.tick, "transition": _taken(t.transition, t.tick)},
            step: t.step,
            **{n: _itf_value(t.state[n]) for n in names if n in t.state},
            inputs: {k: _itf_value(v) for k, v in t.inputs.items()},
        }
        for t in ticks
    ]
    doc = {"#meta": meta, "vars": [step, *names, inputs], "states": states}
    return json.dumps(doc, indent=2) + "\n"


def itf_traces(report: Report) -> Iterator[tuple[ModelReport, LimitResult, str]]:
    """An ITF document (see :func:`to_itf`) for each refuted limit, with the model
    report and the limit it belongs to."""
    for m in report.models:
        for lim in m.limits:
            if lim.counterexample is not None:
                yield m, lim, to_itf(lim.counterexample, m)
