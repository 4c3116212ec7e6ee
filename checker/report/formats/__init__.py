"""Reports for other tools, one module per format: JUnit XML (:mod:`.junit`) and SARIF
(:mod:`.sarif`) for CI, Markdown (:mod:`.markdown`) for a job summary or a pull-request
comment, one self-contained HTML page (:mod:`.html`, with the step graph drawn by
:mod:`.svg` and invariants by :mod:`.invariants`), and counterexamples (and the runs
findings show) in Apalache's Informal Trace Format (:mod:`.itf`). What they share is in
:mod:`.common`. Each format is a pure function of a :class:`~checker.results.Report`."""

from checker.report.formats.common import trace_table
from checker.report.formats.html import to_html
from checker.report.formats.invariants import pretty_invariant
from checker.report.formats.itf import (
    ITF_FORMAT_DESCRIPTION,
    finding_traces,
    itf_files,
    itf_traces,
    to_itf,
)
from checker.report.formats.junit import to_junit
from checker.report.formats.markdown import to_markdown
from checker.report.formats.sarif import RULES, SARIF_SCHEMA, sarif_log, to_sarif
from checker.report.formats.svg import step_graph_svg

__all__ = [
    "ITF_FORMAT_DESCRIPTION",
    "RULES",
    "SARIF_SCHEMA",
    "finding_traces",
    "itf_files",
    "itf_traces",
    "pretty_invariant",
    "sarif_log",
    "step_graph_svg",
    "to_html",
    "to_itf",
    "to_junit",
    "to_markdown",
    "to_sarif",
    "trace_table",
]
