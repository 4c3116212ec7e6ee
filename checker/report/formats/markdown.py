"""Markdown for a CI job summary or a pull-request comment."""

from __future__ import annotations

from checker.report.formats.common import detail, trace_table
from checker.report.terminal import summary
from checker.results import ModelReport, Report, Verdict

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
            _md(detail(lim)),
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
            what = f"{_code(lim.name)} ({_code(lim.text)}) is {detail(lim)}"
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
