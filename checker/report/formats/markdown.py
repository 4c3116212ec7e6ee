"""Markdown for a CI job summary or a pull-request comment."""

from __future__ import annotations

from collections.abc import Mapping

from checker.model import Model
from checker.report import ticks as book
from checker.report.formats.common import breaking_columns, detail, trace
from checker.report.limits import limit_reads
from checker.report.terminal import summary
from checker.results import (
    Counterexample,
    Finding,
    LimitResult,
    ModelReport,
    Report,
    Severity,
    Verdict,
)

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


def _md_model(m: ModelReport, model: Model | None) -> list[str]:
    out = [f"### `{m.file}`" + (f" ({_md(m.strategy)})" if m.strategy else ""), ""]
    if m.errors:
        return [*out, "**Bad input:**", "", *(f"- {_md(d)}" for d in m.errors), ""]
    if m.internal_error:
        return [*out, f"**Internal error** (a bug in seqprove): {_md(m.internal_error)}", ""]
    kinds = any(lim.kind != "limit" for lim in m.limits)
    rows = [
        [
            _code(lim.name),
            *([lim.kind] if kinds else []),
            _code(lim.text),
            _MARK[lim.verdict],
            _md(lim.engine),
            f"{lim.seconds:.2f} s",
            _md(detail(lim)),
        ]
        for lim in m.limits
    ]
    head = ["name", "kind"] if kinds else ["limit"]
    out += _md_table([*head, "expression", "verdict", "engine", "time", "detail"], rows)
    if m.findings:
        rows = [[str(f.line), _severity(f), _code(f.rule), _md(f.message)] for f in m.findings]
        out += ["", "**Findings**", "", *_md_table(["line", "severity", "rule", "message"], rows)]
    for f in m.findings:
        if f.run is not None:
            out += ["", *_md_run(f, f.run)]
    for lim in m.limits:
        if lim.counterexample is not None:
            out += ["", *_md_trace(lim, lim.counterexample, limit_reads(lim, model))]
    return [*out, ""]


def _severity(finding: Finding) -> str:
    """A note (what a search did not find) in italics, quieter than a warning."""
    return "_note_" if finding.severity is Severity.NOTE else finding.severity.value


def _ticks(run: Counterexample, marks: frozenset[str]) -> tuple[list[str], list[str]]:
    """The tick table, what ``marks`` names at the last tick in bold, and the names of
    the columns marked; under it, for a model with instruments, the provers at the last
    tick."""
    table = trace(run)
    breaking = breaking_columns(run, marks)
    cells = [[_md(c) for c in r] for r in table.rows]
    cells[-1] = [f"**{c}**" if j in breaking and c else c for j, c in enumerate(cells[-1])]
    out = _md_table([_md(h) for h in table.header], cells)
    provers = book.provers_text(run.ticks[-1]) if book.has_book(run) else ""
    if provers:
        out += ["", _md(provers)]
    return out, [_code(table.header[j]) for j in sorted(breaking)]


def _md_trace(lim: LimitResult, cex: Counterexample, reads: frozenset[str]) -> list[str]:
    """The tick table, the values that break the limit in bold, and a line saying so."""
    table, names = _ticks(cex, book.breaking(lim, cex, reads))
    kind = {"order": "order check ", "check": "check "}.get(lim.kind, "")
    what = f"{kind}{_code(lim.name)} ({_code(lim.text)}) is {detail(lim)}"
    out = [f"**Counterexample:** {what}", "", *table]
    if names:
        out += ["", f"In bold, at tick {cex.length}: {book.marked_because(lim, names)}."]
    return out


def _md_run(finding: Finding, run: Counterexample) -> list[str]:
    """The run a finding shows (the ``stuck`` warning's run to a stuck configuration)."""
    table, _ = _ticks(run, frozenset())
    what = f"{_code(finding.rule)} at line {finding.line}, {run.length} tick(s)"
    return [f"**Run of** {what}", "", *table]


def to_markdown(report: Report, models: Mapping[str, Model] | None = None) -> str:
    """A summary for a GitHub job summary or pull-request comment: per model a table of
    limits, the findings, and each counterexample as a table of ticks, the values that
    break the limit in bold.

    Parameters
    ----------
    report
        The report to show.
    models
        Loaded models by their report's ``file``, to tell what each limit reads through
        the provers it names; without one, the names in the limit's text are used.
    """
    lines = ["## seqprove", "", _md(summary(report).plain), ""]
    for m in report.models:
        lines += _md_model(m, (models or {}).get(m.file))
    return "\n".join(lines)
