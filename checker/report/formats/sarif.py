"""SARIF 2.1.0 for code scanning: a result per refuted or unknown limit, order check or
check, bad-input diagnostic and finding, each counterexample (and a finding's run) as a
code flow."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from checker import __version__
from checker.report import ticks as book
from checker.report.formats.common import broken, cell, named, taken, trace
from checker.results import Counterexample, LimitResult, ModelReport, Report, Severity, Verdict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

RULES: dict[str, str] = {
    "limit-refuted": "A limit is broken by some run of the model (a counterexample exists).",
    "limit-unknown": "A limit could be neither proved nor refuted.",
    "order-refuted": "An order check is broken by an order some run sends.",
    "order-unknown": "An order check could be neither proved nor refuted.",
    "positive-qty": "A place() can send a quantity that is not positive (check positive_qty).",
    "final-step-orders": "A final step is reachable with orders still working.",
    "check-unknown": "A built-in check could be neither proved nor refuted.",
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
    "stuck": "A reachable configuration from which no order is placed again and no final "
    "step is reached, whatever the market does.",
}

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


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


def _rule(lim: LimitResult) -> str:
    """The rule of a refuted or unknown limit (``limit-refuted``), order check
    (``order-refuted``) or check (its own name: ``positive-qty``,
    ``final-step-orders``; ``check-unknown`` when not decided)."""
    if lim.verdict is Verdict.UNKNOWN:
        return {"order": "order-unknown", "check": "check-unknown"}.get(lim.kind, "limit-unknown")
    if lim.kind == "check":
        return lim.name.split(":", 1)[0].replace("_", "-")
    return "order-refuted" if lim.kind == "order" else "limit-refuted"


def _code_flow(m: ModelReport, run: Counterexample, line: int, message: str, root: Path) -> Any:
    """A run as one thread flow: a location per tick, at the transition's line (``line``
    for tick 0 and stutters), with the cells of its row of the tick table as its state
    (an input ``x`` as ``input x``)."""
    table = trace(run)
    steps = []
    for t, row in zip(run.ticks, table.rows, strict=True):
        location = _location(m.file, t.transition["line"] if t.transition else line, 1, root)
        text = f"tick {t.tick}, step {t.step}: {taken(t.transition, t.tick)}"
        location["message"] = {"text": text}
        values = {
            f"input {h.removesuffix(' (input)')}" if h.endswith(" (input)") else h: v
            for h, v in zip(table.header[3:], row[3:], strict=True)
            if v != ""
        }
        steps.append({"location": location, "state": {k: {"text": v} for k, v in values.items()}})
    return {"message": {"text": message}, "threadFlows": [{"locations": steps}]}


def _at_last_tick(run: Counterexample) -> str:
    """The configuration at the last tick; with instruments, the book and the orders
    sent too."""
    last = run.ticks[-1]
    if not book.has_book(run):
        return ", ".join(f"{k}={cell(v)}" for k, v in last.state.items())
    parts = [", ".join(f"{k}={cell(v)}" for k, v in book.declared_state(last).items())]
    parts += [book.book_text(last, i) for i in book.instruments(run)]
    if last.actions:
        parts.append("sent " + ", ".join(book.order_text(a) for a in last.actions))
    return "; ".join(p for p in parts if p)


def _limit_result(m: ModelReport, lim: LimitResult, root: Path) -> dict[str, Any] | None:
    where = _location(m.file, lim.line, 1, root)
    if lim.verdict is Verdict.UNKNOWN:
        text = f"{named(lim)} was not proved: {lim.reason}"
        return _result(_rule(lim), "warning", text, where)
    if lim.verdict is Verdict.PROVED:
        return None
    result = _result(_rule(lim), "error", broken(lim), where)
    cex = lim.counterexample
    if cex is not None:
        last = cex.ticks[-1]
        result["message"]["text"] += f"; at tick {last.tick}, in step {last.step}: " + (
            _at_last_tick(cex)
        )
        result["codeFlows"] = [_code_flow(m, cex, lim.line, broken(lim), root)]
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
            location = _location(m.file, f.line, f.column, base)
            results.append(_result(f.rule, _LEVEL[f.severity], f.message, location))
            if f.run is not None:
                what = f"the run of {f.rule}: {f.run.length} tick(s)"
                results[-1]["codeFlows"] = [_code_flow(m, f.run, f.line, what, base)]
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
    ``limit-unknown`` (warning), ``order-refuted`` and ``order-unknown`` for order
    checks, the check's own name for a refuted check (``positive-qty``,
    ``final-step-orders``) and ``check-unknown``, ``bad-input`` (error, a result per
    diagnostic) and the findings' own rules (``unreachable-step``, ``dead-end``,
    ``stuck``, ...; error, warning or note by severity, a run the finding shows as a
    code flow). Files inside ``root`` (the current directory by default) get URIs
    relative to it under ``uriBaseId`` ``%SRCROOT%``, others absolute ``file:`` URIs.
    Internal errors are tool execution notifications of the run's invocation.
    """
    return json.dumps(sarif_log(report, root), indent=2) + "\n"
