"""The ``seqprove`` command. The only module that prints or exits.

Exit codes of ``verify``: 0 every limit proved and no structural rule broken; 1 a limit
refuted or a structural rule broken; 2 something unknown and nothing refuted; 3 bad
input (a bad model file, option or path); 4 internal error (a bug in seqprove).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from checker import __version__
from checker.errors import ModelError, SeqproveError, UsageError
from checker.lang.loader import declared_params, load_model
from checker.lang.schema import schema_json
from checker.lang.validate import hint
from checker.model import Model
from checker.report.graph import to_dot, to_mermaid
from checker.report.terminal import print_report
from checker.results import ModelReport, Report
from checker.verify import collect_files, verify_file_model
from checker.verify.options import DEFAULT_OPTIONS, ENGINES

EXIT_BAD_INPUT = 3
EXIT_INTERNAL = 4
PROGRESS_AFTER = 1.0
PLAIN_WIDTH = 120


def _params(given: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--param {item}: write NAME=VALUE, e.g. --param max_position=50")
        params[name.strip()] = value.strip()
    return params


@contextmanager
def _progress(console: Console, total: int, enabled: bool) -> Iterator[Progress | None]:
    """A progress display on ``console`` that appears only once the run has taken more
    than a second (and only on a terminal)."""
    if not enabled or not console.is_terminal:
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    progress.add_task("proving", total=total)
    timer = threading.Timer(PROGRESS_AFTER, progress.start)
    timer.daemon = True
    timer.start()
    try:
        yield progress
    finally:
        timer.cancel()
        progress.stop()


def _check_overrides(overrides: dict[str, str], files: Sequence[Path]) -> None:
    """Every ``--param`` must name a param that some file of the run declares (read
    from the files themselves, so a file that fails to load still counts)."""
    declared = set().union(*(declared_params(f) for f in files))
    for name in overrides:
        if name not in declared:
            raise UsageError(
                f"--param {name}: no model of this run declares a param "
                f"'{name}'{hint(name, declared)}"
            )


def _console(stderr: bool) -> Console:
    """A console for reports: the terminal's width on a terminal; otherwise ``COLUMNS``
    or 120 columns, so CI logs do not wrap tables at 80."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=PLAIN_WIDTH)
    return console


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqprove")
def cli() -> None:
    """Prove that a trading sequencer cannot break its risk limits."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a param of every model that declares it (repeatable).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_OPTIONS.timeout,
    show_default=True,
    help="Seconds allowed per limit.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_OPTIONS.engine,
    show_default=True,
    help="The portfolio, or one engine alone.",
)
@click.option(
    "--bmc-depth",
    type=click.IntRange(min=0),
    default=DEFAULT_OPTIONS.bmc_depth,
    show_default=True,
    help="Deepest run `--engine bmc` looks at.",
)
@click.option(
    "--no-sanity",
    is_flag=True,
    help="Skip the sanity checks on transitions, "
    "tautologies and dead ends (the vacuity check always runs).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead.")
def verify(
    paths: tuple[Path, ...],
    params: tuple[str, ...],
    timeout: float,
    engine: str,
    bmc_depth: int,
    no_sanity: bool,
    as_json: bool,
) -> None:
    """Verify every limit of the model files in PATHS (files or folders)."""
    options = DEFAULT_OPTIONS.overlay(
        timeout=timeout, engine=engine, bmc_depth=bmc_depth, sanity=not no_sanity
    )
    overrides = _params(params)
    files = collect_files(paths)
    if not files:
        raise UsageError(f"no model files (*.yaml, *.yml) under {', '.join(map(str, paths))}")
    loaded: list[Model | ModelReport] = []
    for file in files:
        try:
            loaded.append(load_model(file, overrides))
        except ModelError as exc:
            loaded.append(ModelReport(file=str(file), strategy=None, errors=tuple(exc.diagnostics)))
    _check_overrides(overrides, files)
    out = _console(stderr=False)
    err = _console(stderr=True)
    total = sum(len(m.limits) for m in loaded if isinstance(m, Model))
    reports: list[ModelReport] = []
    with _progress(err, total, not as_json) as bar:

        def step(message: str, finished: int) -> None:
            if bar is not None:
                done = sum(len(r.limits) for r in reports) + finished
                bar.update(bar.task_ids[0], description=message, completed=done)

        for item in loaded:
            reports.append(
                item if isinstance(item, ModelReport) else verify_file_model(item, options, step)
            )
    report = Report(tuple(reports))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        print_report(report, out, err)
    sys.exit(report.exit_code)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dot", "mermaid"]),
    default="dot",
    show_default=True,
    help="Graphviz DOT or a Mermaid flowchart.",
)
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a param (repeatable)."
)
def graph(model: Path, fmt: str, params: tuple[str, ...]) -> None:
    """Print the step graph of MODEL with the provers on its edges."""
    overrides = _params(params)
    _check_overrides(overrides, [model])
    try:
        loaded = load_model(model, overrides)
    except ModelError as exc:
        for d in exc.diagnostics:
            click.echo(str(d), err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(to_dot(loaded) if fmt == "dot" else to_mermaid(loaded), nl=False)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of model files (the one in spec/model.schema.json)."""
    click.echo(schema_json(), nl=False)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: maps usage errors to exit 3 and unexpected errors to exit 4."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if not args:
        args = ["--help"]
    try:
        cli.main(args=args, prog_name="seqprove", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except SeqproveError as exc:
        click.echo(f"seqprove: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:
        click.echo(
            f"seqprove: internal error ({type(exc).__name__}: {exc}). This is a bug "
            "in seqprove; please report it with the model that caused it.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
