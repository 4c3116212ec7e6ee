"""One self-contained HTML page: per model its step graph, the verdicts, the findings,
each counterexample and each invariant."""

from __future__ import annotations

import html
from collections.abc import Mapping

from checker.errors import SeqproveError
from checker.lang.loader import load_model
from checker.model import Model
from checker.report import ticks as book
from checker.report.formats.common import (
    breaking_columns,
    broken,
    detail,
    shared_invariants,
    trace,
)
from checker.report.formats.invariants import pretty_invariant
from checker.report.formats.svg import step_graph_svg
from checker.report.limits import limit_reads
from checker.report.terminal import summary
from checker.results import Counterexample, Finding, LimitResult, ModelReport, Report

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em} h2 small{color:#07c;font-weight:normal}
table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.changed{font-weight:bold;background:#fff6d6}
td.breaks{font-weight:bold;color:#b00020;background:#fde4e7;outline:2px solid #b00020}
.scroll{overflow-x:auto;max-width:100%} .scroll table{margin:0}
table.ticks td,table.ticks th{white-space:nowrap} .legend{font-size:.9em}
.legend span{display:inline-block;padding:0 .4em;border:1px solid #ccc}
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


def _html_table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    """A table of ``<td>`` cells already built; the header is plain text. It scrolls
    sideways inside its own box when it is wider than the page (a counterexample has a
    column per input and state variable)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    table = f'<table class="{cls}">' if cls else "<table>"
    return (
        f'<div class="scroll">{table}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _html_ticks(run: Counterexample, marks: frozenset[str]) -> tuple[str, list[str]]:
    """The tick table, each state value that changed since the tick before highlighted
    and, at the last tick, what ``marks`` names marked as breaking; under it, for a
    model with instruments, the provers at the last tick. Also the names of the columns
    marked."""
    table = trace(run)
    header, rows = table.header, table.rows
    breaking = breaking_columns(run, marks)
    last = len(rows) - 1

    def kind(i: int, j: int) -> str:
        found = []
        if i and j >= table.first_state and rows[i][j] != rows[i - 1][j]:
            found.append("changed")
        if i == last and j in breaking:
            found.append("breaks")
        return " ".join(found)

    cells = [[_td(_e(v), kind(i, j)) for j, v in enumerate(row)] for i, row in enumerate(rows)]
    provers = book.provers_text(run.ticks[-1]) if book.has_book(run) else ""
    shown = _html_table(header, cells, "ticks")
    if provers:
        shown += f'<p class="provers">{_e(provers)}</p>'
    return shown, [f"<code>{_e(header[j])}</code>" for j in sorted(breaking)]


def _html_trace(lim: LimitResult, cex: Counterexample, reads: frozenset[str]) -> str:
    """The tick table of a counterexample, the values that break the limit marked, with
    a legend."""
    shown, names = _html_ticks(cex, book.breaking(lim, cex, reads))
    legend = '<p class="legend"><span class="changed">bold</span> changed since the tick before'
    if names and lim.kind == "limit":
        legend += (
            f'; <span class="breaks">marked</span> the values at tick {cex.length} of what '
            f"the limit reads ({', '.join(names)}), which break it"
        )
    elif names:
        legend += (
            f'; <span class="breaks">marked</span> at tick {cex.length}: '
            f"{book.marked_because(lim, names)}"
        )
    return f"<h3>Counterexample: {_e(broken(lim))}</h3>" + shown + legend + "</p>"


def _html_run(finding: Finding, run: Counterexample) -> str:
    """The run a finding shows (the ``stuck`` warning's run to a stuck configuration)."""
    shown, _ = _html_ticks(run, frozenset())
    heading = f"<h3>Run of <code>{_e(finding.rule)}</code> (line {finding.line}): "
    return heading + f"{run.length} tick(s)</h3>" + shown


def _anchor(index: int, name: str) -> str:
    return f"invariant-{index}-{name}"


def _html_invariant(
    lim: LimitResult, invariant: Mapping[str, str], proves: tuple[str, ...], anchor: str
) -> str:
    """The invariant in a ``<details>`` (they can be long): once if it is the same at
    every step, otherwise step by step; headed by every limit it proves."""
    names = ", ".join(f"<code>{_e(n)}</code>" for n in proves)
    head = f'<details id="{_e(anchor)}"><summary>Invariant proving {names}'
    if len(set(invariant.values())) == 1:
        formula = next(iter(invariant.values()))
        body = f"<pre>{_e(pretty_invariant(formula))}</pre>"
        return f"{head} (the same at every step)</summary>{body}</details>"
    parts = [f"{head}, by step</summary>"]
    for step, formula in invariant.items():
        shown = "no reachable configuration" if formula == "false" else pretty_invariant(formula)
        parts.append(f"<p><b>{_e(step)}</b></p><pre>{_e(shown)}</pre>")
    return "".join(parts) + "</details>"


def _detail_cell(lim: LimitResult, proves: tuple[str, ...], anchor: str) -> str:
    """The detail of a limit; for one proved with an invariant, a link to the invariant,
    shown once for all the limits it proves."""
    if lim.invariant is None:
        return _td(_e(detail(lim)))
    others = [n for n in proves if n != lim.name]
    shared = f" (shared with {', '.join(others)})" if others else ""
    return _td(f'<a href="#{_e(anchor)}">invariant below</a>{_e(shared)}')


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
    proves = shared_invariants(m.limits)
    anchors = {name: _anchor(index, names[0]) for name, names in proves.items()}
    if m.limits:
        kinds = any(lim.kind != "limit" for lim in m.limits)
        rows = [
            [
                _td(_e(lim.name)),
                *([_td(_e(lim.kind))] if kinds else []),
                _td(f"<code>{_e(lim.text)}</code>"),
                _td(lim.verdict.value.upper(), lim.verdict.value),
                _td(_e(lim.engine)),
                _td(f"{lim.seconds:.2f} s"),
                _detail_cell(lim, proves.get(lim.name, ()), anchors.get(lim.name, "")),
            ]
            for lim in m.limits
        ]
        head = ["name", "kind"] if kinds else ["limit"]
        out.append(_html_table([*head, "expression", "verdict", "engine", "time", "detail"], rows))
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
    out += [_html_run(f, f.run) for f in m.findings if f.run is not None]
    loaded = model if isinstance(model, Model) else None
    out += [
        _html_trace(lim, lim.counterexample, limit_reads(lim, loaded))
        for lim in m.limits
        if lim.counterexample
    ]
    out += [
        _html_invariant(lim, lim.invariant, proves[lim.name], anchors[lim.name])
        for lim in m.limits
        if lim.invariant is not None and proves[lim.name][0] == lim.name
    ]
    return "".join(out) + "</section>"


def to_html(report: Report, models: Mapping[str, Model] | None = None) -> str:
    """One self-contained HTML page (inline CSS and SVG; no scripts, fonts or links to
    other files): per model its step graph, the verdicts, the findings, each
    counterexample as a table (the values that break the limit marked) and each
    invariant drawn by sympy, once for all the limits it proves.

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
