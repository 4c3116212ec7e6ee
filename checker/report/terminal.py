"""The terminal report, drawn with rich: per model a table of limits (order checks and
checks too, with their kind), the findings (a run a finding shows as a tick table), each
invariant step by step and each counterexample as a tick table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from checker.report import ticks as book
from checker.report.book_table import book_ticks_table
from checker.report.limits import limit_reads
from checker.results import (
    Counterexample,
    Finding,
    LimitResult,
    ModelReport,
    Report,
    Severity,
    Verdict,
)

_STYLE = {Verdict.PROVED: "bold green", Verdict.REFUTED: "bold red", Verdict.UNKNOWN: "bold yellow"}


def _assignments(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={book.cell(v)}" for k, v in values.items()) or "-"


def limits_table(report: ModelReport) -> Table:
    """A row per limit; where there are order checks or checks (version 2), the first
    column is the name and the second the kind: ``limit``, ``order`` or ``check``."""
    table = Table(show_edge=True, header_style="bold")
    kinds = any(lim.kind != "limit" for lim in report.limits)
    table.add_column("name" if kinds else "limit")
    if kinds:
        table.add_column("kind")
    table.add_column("verdict")
    table.add_column("engine")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for lim in report.limits:
        detail = ""
        if lim.verdict is Verdict.REFUTED and lim.counterexample:
            detail = f"broken after {lim.counterexample.length} tick(s)" + (
                "" if lim.counterexample.shortest else " (not proved shortest)"
            )
        elif lim.verdict is Verdict.UNKNOWN:
            detail = lim.reason
        elif lim.invariant is not None:
            detail = "invariant shown below"
        table.add_row(
            lim.name,
            *([lim.kind] if kinds else []),
            Text(lim.verdict.value.upper(), style=_STYLE[lim.verdict]),
            lim.engine,
            f"{lim.seconds:.2f} s",
            detail,
        )
    return table


def counterexample_table(lim: LimitResult, cex: Counterexample) -> RenderableType:
    """The heading, the tick table and, where the run says, the provers at the failing
    tick."""
    heading = Text(
        f"counterexample: {book.what_broke(lim, cex)}"
        + ("" if cex.shortest else " (a shorter run may exist: not proved shortest)"),
        style="bold red",
    )
    return Group(heading, *_with_provers(cex, book.breaking(lim, cex, limit_reads(lim))))


def _with_provers(run: Counterexample, marks: frozenset[str]) -> list[RenderableType]:
    """The tick table, and under it, for a run of a model with instruments, the
    provers at its last tick (a version-1 report stays as it was)."""
    provers = book.provers_text(run.ticks[-1]) if book.has_book(run) else ""
    return [ticks_table(run, marks), *([Text(provers)] if provers else [])]


def _state_after(values: Mapping[str, Any], breaking: frozenset[str]) -> Text:
    """``name=value, ...``, the values named in ``breaking`` in bold red."""
    text = Text()
    for i, (name, value) in enumerate(values.items()):
        text.append(", " if i else "")
        text.append(f"{name}={book.cell(value)}", style="bold red" if name in breaking else "")
    return text if values else Text("-")


def ticks_table(cex: Counterexample, reads: frozenset[str] = frozenset()) -> RenderableType:
    """The ticks of a run, one row each: step, transition, inputs and state after; at
    the last tick, the values of the state variables in ``reads`` (what a broken limit
    reads) in bold red, where colours are shown. A run of a model with instruments gets
    the columns of :func:`checker.report.book_table.book_ticks_table`."""
    if book.has_book(cex):
        return book_ticks_table(cex, reads)
    table = Table(header_style="bold")
    table.add_column("tick", justify="right")
    table.add_column("step")
    table.add_column("transition taken")
    table.add_column("inputs", overflow="fold")
    table.add_column("state after", overflow="fold")
    for tick in cex.ticks:
        breaking = reads if tick is cex.ticks[-1] else frozenset()
        table.add_row(
            str(tick.tick),
            tick.step,
            book.taken(tick.transition, tick.tick),
            _assignments(tick.inputs),
            _state_after(tick.state, breaking),
        )
    return table


def invariant_text(lim: LimitResult) -> Text:
    assert lim.invariant is not None
    if len(set(lim.invariant.values())) == 1:
        (formula,) = set(lim.invariant.values())
        text = Text(
            f"invariant proving {lim.name} (inductive, the same at every step):\n", style="bold"
        )
        text.append(f"  {formula}\n")
        return text
    text = Text(f"invariant proving {lim.name} (inductive, by step):\n", style="bold")
    for step, formula in lim.invariant.items():
        text.append(f"  {step}: ", style="cyan")
        text.append(("no reachable configuration" if formula == "false" else formula) + "\n")
    return text


def finding_line(report: ModelReport, finding: Finding) -> Text:
    """``FILE:LINE:COLUMN: severity [rule] message``, like a compiler's diagnostics; a
    note (what a search did not find) dim, quieter than a warning."""
    if finding.severity is Severity.NOTE:
        return Text(
            f"{report.file}:{finding.line}:{finding.column}: note [{finding.rule}] "
            f"{finding.message}",
            style="dim",
        )
    style = "red" if finding.severity is Severity.ERROR else "yellow"
    if finding.rule == "vacuous-assumptions":
        style = "bold white on red"
    line = Text(f"{report.file}:{finding.line}:{finding.column}: ")
    line.append(f"{finding.severity.value} [{finding.rule}] ", style=f"bold {style}")
    line.append(finding.message)
    return line


def finding_run(finding: Finding, run: Counterexample) -> RenderableType:
    """The run a finding shows, as a tick table under a heading, with the provers at
    its last tick."""
    heading = Text(f"run of {finding.rule}: {run.length} tick(s)", style="bold")
    return Group(heading, *_with_provers(run, frozenset()))


def print_model(report: ModelReport, console: Console) -> None:
    """One model's section: title, limits table, findings, invariants, counterexamples.
    Findings are printed unwrapped so that each stays one greppable line."""
    title = Text(report.file, style="bold")
    if report.strategy:
        title.append(f"  {report.strategy}", style="cyan")
    title.append(f"  ({report.seconds:.2f} s{', cached' if report.cached else ''})", style="dim")
    console.print(title, soft_wrap=True)
    if report.errors:
        console.print(
            Text(f"bad input: {len(report.errors)} problem(s), listed on stderr", style="bold red")
        )
        return
    if report.internal_error:
        console.print(
            Text(
                f"INTERNAL ERROR (a bug in seqprove, please report it): {report.internal_error}",
                style="bold red",
            ),
            soft_wrap=True,
        )
        return
    console.print(limits_table(report))
    for finding in report.findings:
        console.print(finding_line(report, finding), soft_wrap=True)
        if finding.run is not None:
            console.print(finding_run(finding, finding.run))
    for lim in report.limits:
        if lim.invariant is not None:
            console.print(invariant_text(lim), soft_wrap=True)
        if lim.counterexample is not None:
            console.print(counterexample_table(lim, lim.counterexample))


def summary(report: Report) -> Text:
    counts = dict.fromkeys(Verdict, 0)
    for m in report.models:
        for lim in m.limits:
            counts[lim.verdict] += 1
    bad = sum(1 for m in report.models if m.errors)
    broken = sum(1 for m in report.models for f in m.findings if f.severity is Severity.ERROR)
    text = Text(f"{len(report.models)} model file(s): ")
    text.append(f"{counts[Verdict.PROVED]} proved", style=_STYLE[Verdict.PROVED])
    text.append(", ")
    text.append(f"{counts[Verdict.REFUTED]} refuted", style=_STYLE[Verdict.REFUTED])
    text.append(", ")
    text.append(f"{counts[Verdict.UNKNOWN]} unknown", style=_STYLE[Verdict.UNKNOWN])
    text.append(f"; {broken} structural error(s); {bad} bad file(s); exit {report.exit_code}")
    return text


def print_report(report: Report, out: Console, err: Console) -> None:
    """Diagnostics of bad files go to ``err`` as ``FILE:LINE:COLUMN: message``; the rest
    to ``out``."""
    for m in report.models:
        for d in m.errors:
            err.print(Text(str(d)), soft_wrap=True)
        print_model(m, out)
        out.print()
    out.print(summary(report))
