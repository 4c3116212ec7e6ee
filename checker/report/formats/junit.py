"""JUnit XML for CI: a test suite per model file, a test case per limit, order check
and check."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from checker.report import ticks as book
from checker.report.formats.common import broken, named, trace_table
from checker.results import Counterexample, ModelReport, Report, Severity, Verdict

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


def _run_text(run: Counterexample) -> str:
    """A run as a text table; for a model with instruments, the provers at its last
    tick under it."""
    text = _text_table(*trace_table(run))
    provers = book.provers_text(run.ticks[-1]) if book.has_book(run) else ""
    return text + (f"\n{provers}" if provers else "")


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
            text = f"{m.file}:{lim.line}: {broken(lim)}"
            if lim.counterexample is not None:
                text += "\n\n" + _run_text(lim.counterexample)
            _outcome(case, "failure", "refuted", broken(lim), text)
        elif lim.verdict is Verdict.UNKNOWN:
            text = f"{m.file}:{lim.line}: {named(lim)} not proved: {lim.reason}"
            _outcome(case, "failure", "unknown", lim.reason or "not proved", text)
    warnings = []
    for f in m.findings:
        line = f"{m.file}:{f.line}:{f.column}: {f.severity.value} [{f.rule}] {f.message}"
        if f.run is not None:
            line += "\n\n" + _run_text(f.run) + "\n"
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
    unproved limit fails). Order checks and checks (``positive_qty:LINE``,
    ``final-step-orders``) are test cases like limits, named by their names. A broken
    structural rule is a failing test case named ``structure:RULE:LINE``. Each bad-input
    diagnostic is a test case ``bad-input:LINE:COLUMN`` with an
    ``<error type="bad-input">`` (the file could not be checked), an internal error an
    ``<error>`` too. Warnings and notes go to the suite's ``<system-out>`` (a run a
    finding shows as a tick table under it), the strategy and params to its
    ``<properties>``.
    """
    root = ET.Element("testsuites", name="seqprove")
    suites = [_junit_suite(m) for m in report.models]
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{sum(m.seconds for m in report.models):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
