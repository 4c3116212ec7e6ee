"""The ``seqprove`` command. The only module that prints or exits.

Exit codes of ``verify``: 0 every limit proved and no structural rule broken; 1 a limit
refuted or a structural rule broken; 2 something unknown and nothing refuted; 3 bad
input (a bad model file, option or path); 4 internal error (a bug in seqprove).
"""

# ruff: noqa: E402  (Ctrl-C is handled while the imports below load)
from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn


def _interrupted_while_loading(signum: int, frame: object) -> None:
    """Ctrl-C while the modules below load ends the command like an interrupted run
    (exit 130), not with a traceback out of an import."""
    os.write(2, b"aborted\n")
    raise SystemExit(130)


_LOADING = (
    threading.current_thread() is threading.main_thread()
    and signal.getsignal(signal.SIGINT) is signal.default_int_handler
)
if _LOADING:
    signal.signal(signal.SIGINT, _interrupted_while_loading)

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
from rich.table import Table

from checker import __version__
from checker.errors import Diagnostic, InternalError, ModelError, SeqproveError, UsageError
from checker.fastcache import lookup, remember
from checker.files import collect_files
from checker.options import (
    DEFAULT_CACHE,
    DEFAULT_OPTIONS,
    DEFAULT_PROOFS,
    ENGINES,
    PARAMS_BUDGET,
    PARAMS_ROUNDS,
    Options,
)
from checker.report.terminal import print_report
from checker.results import ModelReport, Report
from checker.run import CALIBRATED_SCENARIOS, SCENARIOS

if TYPE_CHECKING:
    from checker.certify import Exporter
    from checker.model import Model, Value
    from checker.run.schedule import Schedule

# Heavy modules (sympy, z3, numpy, matplotlib) are imported inside the commands that need
# them, so `--help` and a `verify` answered from the cache start quickly.

EXIT_BAD_INPUT = 3
EXIT_INTERNAL = 4
PROGRESS_AFTER = 1.0
PLAIN_WIDTH = 120
FORMATS = ("json", "junit", "sarif", "markdown", "html", "itf")


class _Seconds(click.FloatRange):
    """Seconds, at least ``min``: a finite number (click's ``FloatRange`` lets ``inf``
    and ``nan`` through, and the solver's time-outs cannot be made of them)."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        seconds = float(super().convert(value, param, ctx))
        if not math.isfinite(seconds):
            self.fail(f"{value} is not a finite number of seconds", param, ctx)
        return seconds


def _params(
    given: Sequence[str],
    option: str = "--param",
    form: str = "NAME=VALUE",
    example: str = "max_position=50",
) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{option} {item}: write {form}, e.g. {option} {example}")
        params[name.strip()] = value.strip()
    return params


@contextmanager
def _progress(
    console: Console, total: int, enabled: bool, what: str = "proving"
) -> Iterator[Progress | None]:
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
    progress.add_task(what, total=total)
    timer = threading.Timer(PROGRESS_AFTER, progress.start)
    timer.daemon = True
    timer.start()
    try:
        yield progress
    finally:
        timer.cancel()
        progress.stop()


def _check_overrides(
    overrides: dict[str, str], files: Sequence[Path], option: str = "--param"
) -> None:
    """Every ``--param`` must name a param that some file of the run declares (read
    from the files themselves, so a file that fails to load still counts)."""
    if not overrides:
        return  # nothing to check: the files are not read a second time
    from checker.lang.loader import declared_params
    from checker.lang.validate import hint

    declared = set().union(*(declared_params(f) for f in files))
    for name in overrides:
        if name not in declared:
            raise UsageError(
                f"{option} {name}: no model of this run declares a param "
                f"'{name}'{hint(name, declared)}"
            )


def _drop_closed(stream: IO[str]) -> None:
    """Point ``stream``'s descriptor at the null device: its reader has gone (a pipe
    closed early, as by ``| head -1``), so what is still written to it, and its flush at
    exit, are dropped without an error (the recipe of Python's note on SIGPIPE). The
    exit code stays the one the command determines: see docs/cli.md, Exit codes."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (a test's StringIO)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _echo(message: str, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` that drops its text, instead of failing, when the reader has gone."""
    try:
        click.echo(message, err=err, nl=nl)
    except BrokenPipeError:
        _drop_closed(sys.stderr if err else sys.stdout)


class _Console(Console):
    """A rich console that stops writing once its reader has gone. rich's own reaction
    exits with 1, which ``verify`` would seem to report as a refuted limit."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _drop_closed(self.file)


def _console(stderr: bool) -> Console:
    """A console for reports: the terminal's width on a terminal; otherwise ``COLUMNS``
    or 120 columns, so CI logs do not wrap tables at 80."""
    console = _Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = _Console(stderr=stderr, highlight=False, width=PLAIN_WIDTH)
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
    "--param-range",
    "ranges",
    multiple=True,
    metavar="NAME=LO..HI",
    help="Leave a param free over a range, both ends included (repeatable): every "
    "limit is proved for every value in the box at once, and a counterexample names "
    "the values it breaks with. No proof record is written for `seqprove run`.",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=DEFAULT_OPTIONS.budget,
    show_default=True,
    help="z3 resource units allowed per limit: a bound on the solver's work that gives "
    "the same verdict on an idle and a loaded machine.",
)
@click.option(
    "--timeout",
    type=_Seconds(min=0.1),
    default=DEFAULT_OPTIONS.timeout,
    show_default=True,
    help="Wall-clock seconds allowed per limit, an outer guard (a verdict it cuts short "
    "says so, and may depend on the machine's load).",
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
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(FORMATS),
    help="Write the report in this format (repeatable; each pairs with the --output "
    "in the same position; without one it goes to standard output).",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=True),
    help="Where the --format in the same position goes (a directory for itf).",
)
@click.option(
    "--proofs",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_PROOFS,
    show_default=True,
    help="Where proof records for `seqprove run` are written.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Verify every model again instead of reusing results from .seqprove/cache.",
)
@click.option(
    "--export",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write a certificate for every proved limit here (SMT-LIB2 obligations and a "
    "manifest; see `seqprove recheck`).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Verify up to this many model files at once, each in a process of its own "
    "(default: the number of CPUs). Verdicts do not depend on it: budgets count each "
    "model's own solver work.",
)
def verify(
    paths: tuple[Path, ...],
    params: tuple[str, ...],
    ranges: tuple[str, ...],
    budget: int,
    timeout: float,
    engine: str,
    bmc_depth: int,
    no_sanity: bool,
    as_json: bool,
    proofs: Path,
    export: Path | None,
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Verify every limit of the model files in PATHS (files or folders).

    A model whose limits are all proved (with the sanity checks on and no structural
    error) gets a proof record in --proofs, which `seqprove run` requires."""
    options = DEFAULT_OPTIONS.overlay(
        budget=budget, timeout=timeout, engine=engine, bmc_depth=bmc_depth, sanity=not no_sanity
    )
    if as_json:  # the same as --format json to standard output
        formats, outputs = ("json", *formats), (Path("-"), *outputs)
    targets = _targets(formats, outputs)
    overrides = _params(params)
    free = _params(ranges, "--param-range", "NAME=LO..HI", "quote_size=1..50")
    both = sorted(set(overrides) & set(free))
    if both:
        raise UsageError(f"--param and --param-range both set '{both[0]}': give one")
    files = collect_files(paths)
    if not files:
        raise UsageError(f"no model files (*.yaml, *.yml) under {', '.join(map(str, paths))}")
    out = _console(stderr=False)
    err = _console(stderr=True)
    use_cache = not no_cache and export is None  # certificates need the solver's objects
    quick = (  # the quick look-up reads no model, so it knows no ranges
        [lookup(DEFAULT_CACHE, f, overrides, options, proofs) for f in files]
        if use_cache and not free
        else []
    )
    if quick and all(r is not None for r in quick):
        reports = [r for r in quick if r is not None]  # every file answered by the cache
        models: dict[str, Model] = {}
    else:
        reports, models = _verify_files(
            files,
            overrides,
            options,
            proofs,
            export,
            use_cache,
            err,
            bool(as_json),
            jobs or os.cpu_count() or 1,
            free,
        )
    report = Report(tuple(reports))
    if not any(path is None for _, path in targets):
        print_report(report, out, err)
    for fmt, path in targets:
        _write_format(report, fmt, path, models)
    sys.exit(report.exit_code)


def _verify_files(
    files: Sequence[Path],
    overrides: dict[str, str],
    options: Options,
    proofs: Path,
    export: Path | None,
    use_cache: bool,
    err: Console,
    quiet: bool,
    jobs: int = 1,
    free: dict[str, str] | None = None,
) -> tuple[list[ModelReport], dict[str, Model]]:
    """Load and verify ``files`` (the way that imports the solver), using and filling
    the cache, writing proof records and, with ``export``, certificates. Without
    ``export``, up to ``jobs`` models are verified at once, in processes of their own."""
    from checker.cache import Cache, cache_key, cacheable
    from checker.lang.loader import load_model
    from checker.model import Model
    from checker.run.gate import proved, record_path, write_record
    from checker.verify import verify_file_model, verify_models

    loaded: list[Model | ModelReport] = []
    for file in files:
        try:
            loaded.append(load_model(file, overrides, free))
        except ModelError as exc:
            loaded.append(ModelReport(file=str(file), strategy=None, errors=tuple(exc.diagnostics)))
        except Exception as exc:  # a bug in the loader: this file's internal error only
            loaded.append(
                ModelReport(file=str(file), strategy=None, internal_error=_loading_error(exc))
            )
    _check_overrides(overrides, files)
    _check_overrides(free or {}, files, "--param-range")
    total = sum(len(m.limits) for m in loaded if isinstance(m, Model))
    exporter: Exporter | None = None
    if export is not None:
        from checker.certify import Exporter  # certificates only: not imported otherwise

        exporter = Exporter(export)
    cache = Cache(DEFAULT_CACHE) if use_cache else None
    hits = {
        i: (cache.get(item, options) if cache is not None else None)
        for i, item in enumerate(loaded)
        if isinstance(item, Model)
    }
    fresh = [i for i, hit in hits.items() if hit is None]
    verified: dict[int, ModelReport] = {}
    with _progress(err, total, not quiet) as bar:

        def step(message: str, finished: int) -> None:
            if bar is not None:
                done = sum(len(r.limits) for r in verified.values()) + finished
                bar.update(bar.task_ids[0], description=message, completed=done)

        def finished(position: int, report: ModelReport) -> None:
            verified[fresh[position]] = report
            step(f"{report.strategy}: verified", 0)

        if exporter is None and jobs > 1 and len(fresh) > 1:
            chosen = [loaded[i] for i in fresh]
            verify_models([m for m in chosen if isinstance(m, Model)], options, jobs, finished)
        else:
            for i in fresh:
                item = loaded[i]
                assert isinstance(item, Model)
                verified[i] = verify_file_model(item, options, step, exporter)
                if exporter is not None and not (options.sanity and proved(verified[i])):
                    exporter.drop(item)  # certify only what verify itself would admit
    reports: list[ModelReport] = []
    for i, item in enumerate(loaded):
        if isinstance(item, ModelReport):
            reports.append(item)
            continue
        hit = hits[i]
        if hit is not None:
            reports.append(dataclasses.replace(hit, cached=True, seconds=0.0))
        else:
            reports.append(verified[i])
        # a proof over a box of params is no proof of the values `seqprove run` plays
        record = (
            write_record(item, reports[-1], proofs) if options.sanity and not item.free else None
        )
        if cache is not None and cacheable(reports[-1], options):
            with contextlib.suppress(OSError):  # a cache that cannot be written
                if hit is None:
                    cache.put(item, options, reports[-1])
                name = record_path(item, proofs).name if record is not None else ""
                key = cache_key(item, options)  # both keyed on the bytes verified
                remember(DEFAULT_CACHE, item.source_sha256, overrides, options, key, name)
    if exporter is not None:
        manifest = exporter.write()
        count = sum(len(e["obligations"]) for e in exporter.entries)
        kinds = {ob.name: ob.kind for m in loaded if isinstance(m, Model) for ob in m.obligations()}
        limits = all(kinds.get(str(e["limit"])) == "limit" for e in exporter.entries)
        err.print(
            f"certificates: {count} obligation(s) for {len(exporter.entries)} proved "
            f"{'limit(s)' if limits else 'limit(s) and check(s)'} in {manifest.parent} "
            f"(check them with `seqprove recheck {manifest.parent}`)"
        )
    return reports, {m.file: m for m in loaded if isinstance(m, Model)}


def _loading_error(exc: Exception) -> str:
    """The internal error of a file whose loading hit a bug in seqprove, worded like the
    one :func:`checker.verify.verify_file` gives."""
    text = f"loading: {type(exc).__name__}: {exc}"
    return text if len(text) <= 600 else text[:600] + " ..."


def _targets(formats: Sequence[str], outputs: Sequence[Path]) -> list[tuple[str, Path | None]]:
    """Pair each --format with the --output in the same position (None: standard
    output, for at most one of them)."""
    if len(outputs) > len(formats):
        raise UsageError(f"{len(outputs)} --output for {len(formats)} --format")
    pairs: list[tuple[str, Path | None]] = []
    for i, fmt in enumerate(formats):
        path = outputs[i] if i < len(outputs) and str(outputs[i]) != "-" else None
        if fmt == "itf" and path is None:
            raise UsageError("--format itf writes one file per counterexample: give --output DIR")
        if path is not None and fmt == "itf" and path.exists() and not path.is_dir():
            raise UsageError(f"--output {path}: --format itf needs a folder, this is a file")
        if path is not None and fmt != "itf" and path.is_dir():
            raise UsageError(f"--output {path}: a folder; --format {fmt} writes one file")
        pairs.append((fmt, path))
    if sum(path is None for _, path in pairs) > 1:
        raise UsageError("only one --format can go to standard output: give the others --output")
    return pairs


def _write_format(report: Report, fmt: str, path: Path | None, models: Mapping[str, Model]) -> None:
    if fmt == "json":  # the common case in CI needs none of the other formats' imports
        _emit(json.dumps(report.to_json(), indent=2) + "\n", path)
        return
    from checker.report.formats import itf_files, to_html, to_junit, to_markdown, to_sarif

    if fmt == "itf":
        assert path is not None
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--output {path}: cannot make it ({exc.strerror or exc})") from None
        for name, text in itf_files(report):
            _emit(text, path / name)
        return
    text = {
        "junit": lambda: to_junit(report),
        "sarif": lambda: to_sarif(report),
        "markdown": lambda: to_markdown(report, models),
        "html": lambda: to_html(report, models),
    }[fmt]()
    _emit(text, path)


def _emit(text: str, path: Path | None) -> None:
    if path is None:
        _echo(text, nl=False)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        raise UsageError(f"--output {path}: cannot write it ({exc.strerror or exc})") from None


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--timeout",
    type=_Seconds(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds each solver gets per obligation.",
)
@click.option(
    "--model",
    "model_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The model file the certificate must prove (repeatable); by default the files "
    "the manifest names, at their recorded paths.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a param of the --model files (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead.")
def recheck(
    directory: Path,
    timeout: float,
    model_files: tuple[Path, ...],
    params: tuple[str, ...],
    as_json: bool,
) -> None:
    """Re-check a certificate written by `verify --export` against its model.

    The claim of every limit (its invariant, or k and the lemmas) is checked against
    the model itself, rebuilt from the model file by an independent encoding: by z3,
    and by cvc5 on the SMT-LIB2 text of those obligations. Every obligation file must
    also be unaltered and answered `unsat` by both solvers. Exit codes: 0 everything
    holds; 1 something does not, a file is missing or altered, or the model is not the
    one certified; 3 no certificate there, or a bad --model."""
    from checker.certify import SOLVERS
    from checker.certify import recheck as recheck_certificate
    from checker.lang.loader import load_model

    if not (directory / "manifest.json").is_file():
        raise UsageError(f"{directory}: no certificate (manifest.json) there")
    overrides = _params(params)
    if overrides and not model_files:
        raise UsageError("--param needs --model: the recorded models keep their params")
    models = None
    if model_files:
        _check_overrides(overrides, list(model_files))
        models = []
        for file in model_files:
            try:
                models.append(load_model(file, overrides))
            except ModelError as exc:
                _fail(exc.diagnostics)
    checks, problems = recheck_certificate(directory, int(timeout * 1000), models)
    failed = [c for c in checks if not c.ok]
    if as_json:
        _echo(
            json.dumps(
                {
                    "directory": str(directory),
                    "obligations": [
                        {
                            "strategy": c.strategy,
                            "limit": c.limit,
                            "obligation": c.obligation,
                            "path": c.path,
                            "answers": c.answers,
                            "seconds": {k: round(v, 3) for k, v in c.seconds.items()},
                            "problem": c.problem or None,
                            "against": c.against,
                            "ok": c.ok,
                        }
                        for c in checks
                    ],
                    "problems": problems,
                    "ok": not failed and not problems,
                },
                indent=2,
            )
        )
    else:
        out = _console(stderr=False)
        table = Table(title=f"certificate {directory}", title_justify="left")
        for column in ("strategy", "limit", "against", "obligation", *SOLVERS, "result"):
            table.add_column(column)
        for c in checks:
            answers = [c.answers.get(name, "-") for name in SOLVERS]
            verdict = "ok" if c.ok else f"FAILED {c.problem}".strip()
            table.add_row(c.strategy, c.limit, c.against, c.obligation, *answers, verdict)
        out.print(table)
        for problem in problems:
            out.print(f"[bold red]{problem}[/]")
        held = len(checks) - len(failed)
        out.print(f"{held} of {len(checks)} obligation(s) hold under {' and '.join(SOLVERS)}")
        if problems:
            out.print("[bold red]the certificate is not accepted: see above[/]")
    sys.exit(1 if failed or problems else 0)


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
    from checker.lang.loader import load_model
    from checker.report.graph import to_dot, to_mermaid

    overrides = _params(params)
    _check_overrides(overrides, [model])
    try:
        loaded = load_model(model, overrides)
    except ModelError as exc:
        for d in exc.diagnostics:
            _echo(str(d), err=True)
        sys.exit(EXIT_BAD_INPUT)
    _echo(to_dot(loaded) if fmt == "dot" else to_mermaid(loaded), nl=False)


@cli.command("params")
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--free",
    "free",
    required=True,
    metavar="NAME,NAME,...",
    help="The params to leave free, comma-separated (quote_size,hedge_band).",
)
@click.option(
    "--within",
    "within",
    multiple=True,
    metavar="NAME=LO..HI",
    help="Bound a free param, both ends included (repeatable, or comma-separated); a "
    "free param not bounded here takes every value.",
)
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a param (repeatable)."
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=PARAMS_BUDGET,
    show_default=True,
    help="z3 resource units allowed per limit in each round (a fifth of verify's: a "
    "round that cannot decide cuts its box in two rather than search on).",
)
@click.option(
    "--timeout",
    type=_Seconds(min=0.1),
    default=DEFAULT_OPTIONS.timeout,
    show_default=True,
    help="Wall-clock seconds allowed per limit in each round, an outer guard.",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    default=PARAMS_ROUNDS,
    show_default=True,
    help="Rounds of verify-and-block before what is left is called undecided.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead.")
@click.option(
    "--plot",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a PNG of the region over the first two free params (both bounded), the "
    "others at their lower bounds: safe, unsafe and undecided values.",
)
@click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a certificate of every limit over the safe region (as verify --export; "
    "`seqprove recheck` re-checks it), when the region is exact and not empty.",
)
def params_command(
    model: Path,
    free: str,
    within: tuple[str, ...],
    params: tuple[str, ...],
    budget: int,
    timeout: float,
    rounds: int,
    as_json: bool,
    plot: Path | None,
    export: Path | None,
) -> None:
    """The region of the --free params of MODEL where every limit holds.

    Each counterexample found is generalised to every value of the params where a run
    taking the same transitions breaks the same limit; those values are blocked and
    the rest verified again, until every limit is proved there. Exit codes: 0 the
    region is exact (every value of the box proved safe or refuted); 2 some part is
    undecided (the safe region shown is proved, a sound under-approximation); 3 bad
    input; 4 internal error."""
    from checker.params import synthesize

    overrides = _params(params)
    names = [n.strip() for n in free.split(",") if n.strip()]
    if not names:
        raise UsageError("--free: name at least one param, e.g. --free quote_size,hedge_band")
    parts = [part for item in within for part in item.split(",")]
    bounds = _params(parts, "--within", "NAME=LO..HI", "quote_size=1..50")
    stray = sorted(set(bounds) - set(names))
    if stray:
        raise UsageError(f"--within {stray[0]}: not one of the --free params ({', '.join(names)})")
    both = sorted(set(overrides) & set(names))
    if both:
        raise UsageError(f"--param and --free both name '{both[0]}': give one")
    _check_overrides(overrides, [model])
    _check_overrides(dict.fromkeys(names, ""), [model], "--free")
    ranges = {n: bounds.get(n, "..") for n in names}
    options = DEFAULT_OPTIONS.overlay(budget=budget, timeout=timeout, sanity=False)
    err = _console(stderr=True)
    try:
        with err.status("params: round 1") as status:
            region = synthesize(
                model, ranges, overrides, options, rounds, lambda m: status.update(f"params: {m}")
            )
    except ModelError as exc:
        for d in exc.diagnostics:
            _echo(str(d), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except InternalError as exc:
        _echo(f"{model}: internal error: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
    if export is not None and region.exact and region.safe != "false":
        _export_region(model, overrides, region, options, export)
    if plot is not None:
        from checker.report.region import plot_region

        try:
            plot_region(region, plot)
        except ValueError as exc:
            raise UsageError(f"--plot: {exc}") from None
    if as_json:
        _echo(json.dumps(region.to_json(), indent=2))
    else:
        from checker.report.region import print_region

        print_region(region, _console(stderr=False))
    sys.exit(0 if region.exact else 2)


def _export_region(
    model: Path, overrides: dict[str, str], region: Any, options: Options, directory: Path
) -> None:
    """Certificates of every limit over the safe region (the model loaded with it)."""
    from checker.certify import Exporter
    from checker.lang.loader import load_model
    from checker.verify import verify_file_model

    loaded = load_model(model, overrides, dict(region.ranges), region.safe)
    exporter = Exporter(directory)
    report = verify_file_model(loaded, options, exporter=exporter)
    if report.exit_code != 0:
        exporter.drop(loaded)
    exporter.write()


@cli.command()
def schema() -> None:
    """Print the JSON Schema of model files (the one in spec/model.schema.json)."""
    from checker.lang.schema import schema_json

    _echo(schema_json(), nl=False)


_TABLE_OUT = click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The file to write: .csv or .parquet.",
)
"""The ``--out`` of the data commands that write a table (``data synth``, ``data derive``)."""


def _check_table_out(out: Path) -> None:
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"--out {out}: write a .csv or a .parquet file")


def _fail(diagnostics: Iterable[Diagnostic]) -> NoReturn:
    for d in diagnostics:
        _echo(str(d), err=True)
    sys.exit(EXIT_BAD_INPUT)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Market data: CSV or Parquet, one row per tick.",
)
@click.option(
    "--venue",
    type=click.Choice(["paper"]),
    default="paper",
    show_default=True,
    help="Where orders go (the paper venue simulates fills from the data).",
)
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a param (repeatable)."
)
@click.option(
    "--journal",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The SQLite journal.  [default: runs/STRATEGY-DATA.sqlite]",
)
@click.option("--no-journal", is_flag=True, help="A backtest: keep no journal (no resume).")
@click.option("--resume", is_flag=True, help="Continue the run in --journal where it stopped.")
@click.option("--allow-unproven", is_flag=True, help="Run a model without a proof (loudly marked).")
@click.option(
    "--proofs",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_PROOFS,
    show_default=True,
    help="Where `seqprove verify` wrote its proof records, or a certificate directory "
    "(`verify --export`), re-checked before the run.",
)
@click.option(
    "--slippage-bps",
    metavar="BPS",
    help="Market-order slippage, overriding the model's venue section.",
)
@click.option(
    "--fill-model",
    type=click.Choice(["auto", "book", "bars"]),
    metavar="MODEL",
    help="How resting orders fill: book (the book crosses them or trades go through them), "
    "bars (the bar's range reaches them, a share of its volume), or auto (bars when the "
    "data's metadata says its rows are bars, else book).  [default: auto; on --resume, "
    "the journal's]",
)
@click.option(
    "--participation",
    metavar="RATE",
    help="The bars fill model's share of each bar's volume that a side's orders may fill, "
    "over 0 and at most 1.  [default: 0.1; on --resume, the journal's]",
)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where the PNG plot goes.  [default: beside the journal]",
)
@click.option("--no-plot", is_flag=True, help="Write no plot.")
@click.option("--fsync", is_flag=True, help="Flush every commit to disk (survives power loss).")
@click.option(
    "--commit-every",
    type=click.IntRange(min=1),
    metavar="N",
    help="Commit the journal every N ticks, in one transaction; a killed run resumes from "
    "the last committed tick and plays the lost ones again. 1 commits every tick before "
    "the next begins.  [default: 8, a backtest over a data file]",
)
@click.option(
    "--params-schedule",
    "schedule_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Change params during the run, as this YAML file says. A change is made only "
    "inside the region that the certificate in --proofs proves, and only when the proof "
    "covers the rest of the run from where it is; any other change is refused (journaled, "
    "with the reason) and the run goes on with the values it had.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def run(
    model: Path,
    data_file: Path,
    venue: str,
    params: tuple[str, ...],
    journal: Path | None,
    no_journal: bool,
    resume: bool,
    allow_unproven: bool,
    proofs: Path,
    slippage_bps: str | None,
    fill_model: str | None,
    participation: str | None,
    plot_file: Path | None,
    no_plot: bool,
    fsync: bool,
    commit_every: int | None,
    schedule_file: Path | None,
    as_json: bool,
) -> None:
    """Run a proved MODEL over market data on the paper venue, provers enforced live.

    Exit codes: 0 the run ended normally (end of data, or a final step reached);
    1 a limit broke during the run; 2 the assumption monitor stopped it (or, with
    instruments, a venue's book differed from the model's);
    3 bad input or a model without a proof; 4 internal error; 5 the journal is in use
    by another run; 6 the journal cannot be written (the disk is full, read-only)."""
    from checker.interpret import Interpreter
    from checker.lang.loader import load_model
    from checker.lang.numbers import NumberTooLarge, read_number
    from checker.run.data import DataError, read_feed
    from checker.run.executor import BACKTEST_GROUP, Executor
    from checker.run.files import open_run_journal
    from checker.run.gate import check as check_gate
    from checker.run.report import RunReport, plot, print_run
    from checker.run.schedule import Cover, Planned, plan, read_schedule, read_values

    overrides = _params(params)
    _check_overrides(overrides, [model])
    if no_journal and (resume or journal is not None):
        raise UsageError(
            "--no-journal keeps no journal: it goes with neither --journal nor --resume"
        )
    slip = None
    if slippage_bps is not None:
        try:
            slip = read_number(slippage_bps)
        except NumberTooLarge as exc:
            raise UsageError(f"--slippage-bps {slippage_bps[:40]}: {exc}") from None
        if slip is None or slip < 0:
            raise UsageError(f"--slippage-bps {slippage_bps[:40]}: give a number of at least 0")
    rate = None
    if participation is not None:
        try:
            rate = read_number(participation)
        except NumberTooLarge as exc:
            raise UsageError(f"--participation {participation[:40]}: {exc}") from None
        if rate is None or not 0 < rate <= 1:
            raise UsageError(
                f"--participation {participation[:40]}: give a share of the volume over 0 "
                "and at most 1 (0.1 is a tenth)"
            )
    schedule = None
    start: dict[str, Value] = {}
    changes: list[dict[str, Value]] = []
    try:
        loaded = load_model(model, overrides)
        if schedule_file is not None:
            schedule = read_schedule(schedule_file)
            base, loaded = loaded, _scheduled_model(model, overrides, schedule)
            start, changes = read_values(schedule, loaded, base.params)
    except ModelError as exc:
        _fail(exc.diagnostics)
    err = _console(stderr=True)
    if schedule is not None and not (proofs / "manifest.json").is_file() and not allow_unproven:
        raise UsageError(
            f"refused: a run with --params-schedule needs a certificate of the region its "
            f"params move in, and {proofs} holds none: export one with `seqprove verify "
            "--param-range NAME=LO..HI ... --export DIR` (or `seqprove params ... --export "
            "DIR`) and pass --proofs DIR"
        )
    decision = check_gate(loaded, proofs)
    if decision.admitted:
        admitted_by = decision.reason
    elif allow_unproven:
        admitted_by = "UNPROVEN (--allow-unproven)"
        err.print(
            f"[bold red]WARNING: running {model} WITHOUT A PROOF: {decision.reason}. "
            "Its limits may break"
            + (".[/]" if no_journal else "; the journal is marked unproven.[/]")
        )
    else:
        raise UsageError(f"refused: {decision.reason} (or pass --allow-unproven)")
    try:
        feed = read_feed(data_file, loaded)
    except DataError as exc:
        _fail(exc.diagnostics)
    planned: list[Planned] = []
    cover = None
    if schedule is not None:
        try:
            planned = plan(schedule, changes, feed.rows)
        except ModelError as exc:
            _fail(exc.diagnostics)
        outside = Interpreter(loaded).outside(start)
        if outside is not None:
            raise UsageError(
                f"refused: the params at the start are not in the proved region: {outside} "
                f"(give their values under start: in {schedule_file})"
            )
        if decision.admitted:
            cover = Cover(loaded, proofs)
    if feed.ignored:
        err.print(
            f"{data_file}: {len(feed.ignored)} column(s) not read by {loaded.strategy}, "
            f"ignored: {', '.join(feed.ignored)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    stem = f"{loaded.strategy}-{data_file.stem}"
    journal_path = None if no_journal else journal or Path("runs") / f"{stem}.sqlite"
    book = None
    if journal_path is not None:  # locked until closed; see checker.run.files
        book = open_run_journal(journal_path, resume=resume, fsync=fsync)
    started = time.monotonic()
    try:
        executor = Executor(
            loaded,
            feed,
            book,
            slippage_bps=None if slip is None else Fraction(slip),
            admitted_by=admitted_by,
            fill_model=fill_model,
            participation=None if rate is None else Fraction(rate),
            commit_every=BACKTEST_GROUP if commit_every is None else commit_every,
            params=start,
            planned=planned,
            cover=cover,
            schedule=None if schedule is None else schedule.to_json(),
        )
        if resume:
            executor.resume()
        else:
            executor.start()
        total = len(feed.rows)
        # the market data and the model live as long as the run: keep the garbage
        # collector from walking them again and again while it runs
        gc.collect()
        gc.freeze()
        with _progress(err, total, not as_json, "running") as bar:

            def step(tick: int, total: int) -> None:
                if bar is not None and tick % 64 == 0:
                    bar.update(bar.task_ids[0], completed=tick)

            outcome = executor.run(step)
    finally:
        if book is not None:
            book.close()
    figure = None
    if not no_plot:
        default = Path("runs") / f"{stem}-backtest.png" if journal_path is None else journal_path
        figure = plot_file or default.with_suffix(".png")
    report = RunReport.of(
        executor,
        str(data_file),
        admitted_by,
        time.monotonic() - started,
        journal=None if journal_path is None else str(journal_path),
        plot=None if figure is None else str(figure),
    )
    if figure is not None:
        plot(report, figure)
    if as_json:
        _echo(json.dumps(report.to_json(), indent=2))
    else:
        print_run(report, _console(stderr=False))
    sys.exit(outcome.exit_code)


def _scheduled_model(path: Path, overrides: Mapping[str, str], schedule: Schedule) -> Model:
    """The model at ``path`` with the params a schedule moves left free over its ranges
    and region; a problem of the schedule is located in the schedule file.

    Raises
    ------
    ModelError
        When the model does not declare a param the schedule moves, a param is both
        set with --param and moved, or the region is not a condition over them.
    """
    from checker.lang.loader import declared_params, load_model, with_region

    doc = schedule.doc
    problems = []
    declared = declared_params(path)
    for name in schedule.ranges:
        if name not in declared:
            problems.append(doc.error(("free", name), f"{path} has no param '{name}'", key=True))
        elif name in overrides:
            problems.append(
                doc.error(
                    ("free", name),
                    f"'{name}' is set with --param and moved by the schedule: give one",
                    key=True,
                )
            )
    if problems:
        raise ModelError(problems)
    loaded = load_model(path, overrides, schedule.ranges)
    if not schedule.where:
        return loaded
    try:
        return with_region(loaded, schedule.where)
    except ModelError as exc:
        messages = "; ".join(d.message for d in exc.diagnostics)
        raise ModelError([doc.error(("where",), messages)]) from None


@cli.group()
def data() -> None:
    """Market data for `seqprove run`."""


def _keyed(option: str, given: Sequence[str], example: str) -> dict[str, str]:
    """``[KEY=]VALUE`` items as {KEY: VALUE} (``""`` when no key is given)."""
    out: dict[str, str] = {}
    for item in given:
        key, sep, value = item.rpartition("=")
        if sep and not key.strip():
            raise UsageError(f"{option} {item}: write [KEY=]VALUE, e.g. {option} {example}")
        out[key.strip()] = value.strip()
    return out


def _source_arg(item: str) -> tuple[str, Path]:
    """``INSTRUMENT=PATH`` or ``PATH``."""
    name, sep, rest = item.partition("=")
    if sep and name.isidentifier():
        return name, Path(rest)
    return "", Path(item)


@data.command(name="import")
@click.argument("sources", nargs=-1, required=True, metavar="[INSTRUMENT=]PATH...")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The file to write: .csv (metadata in FILE.csv.meta.json) or .parquet.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    metavar="[SOURCE=]FORMAT",
    help="A source's format, for every source or one (SOURCE: its path or instrument): "
    "binance-klines, tardis-quotes, tardis-trades, lean-quote, lean-trade, ccxt-ohlcv, "
    "ccxt-trades, ftx-ohlcv, mapped.  [default: detected]",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="[I.]TARGET=COLUMN",
    help="Read a CSV or Parquet source through a column map, e.g. --map bid=best_bid.",
)
@click.option(
    "--interval",
    metavar="DURATION",
    help="Resample to this interval: 500ms, 1s, 1m, 5m, 1h, 1d.  [default: the bars' own; "
    "none for tick data]",
)
@click.option(
    "--gaps",
    type=click.Choice(["stop", "drop", "carry"]),
    default="stop",
    show_default=True,
    help="What to do with gaps, duplicated or backward times and crossed books.",
)
@click.option(
    "--model",
    type=click.Path(path_type=Path),
    help="Take instruments and contract sizes from this model; write only its columns.",
)
@click.option(
    "--contract-size",
    "contract_sizes",
    multiple=True,
    metavar="[I=]SIZE",
    help="Contracts of SIZE base asset (e.g. perp=0.01); overrides the model's.",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="[I=]UNIT",
    help="What a source counts quantities in: base, quote, contracts, inverse:FACE.",
)
@click.option(
    "--spread-bps",
    default="1",
    show_default=True,
    metavar="BPS",
    help="Spread of a book made from candles or trades, in bp of the price.",
)
def import_(
    sources: tuple[str, ...],
    out: Path,
    formats: tuple[str, ...],
    maps: tuple[str, ...],
    interval: str | None,
    gaps: str,
    model: Path | None,
    contract_sizes: tuple[str, ...],
    units: tuple[str, ...],
    spread_bps: str,
) -> None:
    """Import market data from its published formats into a file for `seqprove run`.

    Each SOURCE is a file (PATH, or INSTRUMENT=PATH to prefix its columns): Binance
    klines, Tardis quotes or trades, LEAN quote or trade bars (zip), ccxt OHLCV or trades
    (JSON), timestamp/open/high/low/close/volume CSV, or any CSV or Parquet with --map.
    Exit codes: 0 written; 3 bad input, or a problem the policy `stop` stops on (nothing
    is written then). See docs/data.md."""
    from decimal import Decimal, InvalidOperation

    from checker.ingest import IngestError, Request, run_import
    from checker.lang.loader import load_model

    loaded = None
    if model is not None:
        try:
            loaded = load_model(model)
        except ModelError as exc:
            _fail(exc.diagnostics)

    def number(option: str, text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value <= 0:
            raise UsageError(f"{option} {text[:40]}: give a number more than 0")
        return value

    mapping: dict[str, dict[str, str]] = {}
    for item in maps:
        target, sep, column = item.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise UsageError(f"--map {item}: write TARGET=COLUMN, e.g. --map bid=best_bid")
        instrument, _, field = target.strip().rpartition(".")
        mapping.setdefault(instrument, {})[field] = column.strip()
    request = Request(
        sources=[_source_arg(s) for s in sources],
        out=out,
        formats=_keyed("--format", formats, "binance-klines"),
        maps=mapping,
        interval=interval,
        policy=gaps,
        model=loaded,
        contract_sizes={
            k: number("--contract-size", v)
            for k, v in _keyed("--contract-size", contract_sizes, "perp=0.01").items()
        },
        units=_keyed("--unit", units, "perp=inverse:100"),
        spread_bps=number("--spread-bps", spread_bps),
    )
    from checker.run.derive import DeriveError

    try:
        result = run_import(request)
    except IngestError as exc:
        _fail(exc.diagnostics)
    except DeriveError as exc:
        _echo(str(exc), err=True)
        sys.exit(3)
    console = _console(stderr=False)
    table = Table(title=None, show_edge=False)
    for heading in ("source", "format", "instrument", "rows"):
        table.add_column(heading, justify="right" if heading == "rows" else "left", overflow="fold")
    for source, (_, path) in zip(result.read, request.sources, strict=True):
        table.add_row(str(path), source.format, source.instrument or "-", str(source.rows))
    console.print(table)
    for origin in result.meta.books:
        console.print(
            f"book {origin.instrument or '(plain columns)'}: {origin.how}", soft_wrap=True
        )
    for problem in result.problems:
        console.print(f"problem: {problem.line()}", soft_wrap=True)
    said = "; ".join(f"{p.counted()}: {p.action}" for p in result.problems)
    console.print(
        f"policy {result.meta.policy}: {said or 'no problem found, nothing to do'}", soft_wrap=True
    )
    console.print(
        f"wrote {result.out}: {result.rows_out} rows ({result.rows_in} read, {result.cut} book "
        f"rows outside the sources' common span), {result.first} .. {result.last}, "
        f"interval {result.meta.interval or 'none (tick data)'}",
        soft_wrap=True,
    )
    for line in result.meta.extra.get("derived", []):
        console.print(f"derived {line} (seqprove data derive)", soft_wrap=True)
    console.print(f"columns: {', '.join(result.columns)}", soft_wrap=True)


@data.command()
@click.option(
    "--scenario",
    type=click.Choice((*SCENARIOS, *CALIBRATED_SCENARIOS)),
    required=True,
    help="Market regime; crash-2020-03 and crash-2021-05 are fitted to those real days.",
)
@click.option("--ticks", type=click.IntRange(min=1), required=True, help="Rows (one a second).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@_TABLE_OUT
@click.option(
    "--model",
    type=click.Path(path_type=Path),
    help="Write only the columns this model's run reads (default: every column).",
)
def synth(scenario: str, ticks: int, seed: int, out: Path, model: Path | None) -> None:
    """Write reproducible BTC-like market data for a stress scenario.

    With --model, only the columns that model reads; for a model with instruments, each
    instrument's venue columns (I.bid, ...), the legs' prices correlated (see
    docs/executor.md)."""
    from checker.lang.loader import load_model
    from checker.run.data import columns_for, plain_form, unsynthesizable
    from checker.run.synth import COLUMNS as SYNTH_COLUMNS
    from checker.run.synth import synthesize, write_table

    columns = None
    legs: tuple[str, ...] = ()
    if model is not None:
        try:
            loaded = load_model(model)
        except ModelError as exc:
            _fail(exc.diagnostics)
        columns = columns_for(loaded)
        if not plain_form(loaded):
            legs = tuple(i.name for i in loaded.instruments)
        missing = unsynthesizable(loaded, SYNTH_COLUMNS)
        if missing:
            raise UsageError(
                f"--model {model}: no synthetic column for input(s) {', '.join(missing)}"
            )
    _check_table_out(out)
    table = synthesize(scenario, ticks, seed, columns, legs)
    meta = None
    if model is not None and loaded.instruments:
        # quantities in the model's contracts, and the metadata saying so
        from checker.model import decimal_text
        from checker.run.meta import BookOrigin, DataMeta
        from checker.run.synth import in_contracts

        prefixes = {i.name: (f"{i.name}." if legs else "") for i in loaded.instruments}
        table = in_contracts(table, {prefixes[i.name]: i.contract_size for i in loaded.instruments})
        how = (
            f"synthetic book (data synth, scenario {scenario}, seed {seed}); touch sizes and "
            "volume converted from contracts of 10 USD at each row's mid, rounded down"
        )
        meta = DataMeta(
            books=tuple(
                BookOrigin(
                    instrument=i.name,
                    kind="quotes",
                    granularity="tick",
                    how=how,
                    contract_size=decimal_text(i.contract_size),
                    source_unit="contracts of 10 USD",
                )
                for i in loaded.instruments
            ),
            extra={"synth": {"scenario": scenario, "seed": seed, "ticks": ticks}},
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_table(table, out, meta)
    _echo(f"{out}: {ticks} ticks of {scenario} (seed {seed}), columns {', '.join(table.columns)}")


@data.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "source",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The market data to add the inputs to (CSV or Parquet).",
)
@_TABLE_OUT
@click.option(
    "--expiry",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    metavar="TIME",
    help="When the dated leg expires (ISO-8601 with a zone): `expired` is true from then on.",
)
@click.option(
    "--momentum-rows",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Rows the momentum signals look back over.",
)
@click.option(
    "--momentum-bps",
    type=click.FloatRange(min=0),
    default=8.0,
    show_default=True,
    help="Move over --momentum-rows that raises a momentum signal, in bp.",
)
def derive(
    model: Path,
    source: Path,
    out: Path,
    expiry: datetime | None,
    momentum_rows: int,
    momentum_bps: float,
) -> None:
    """Add the strategy inputs MODEL reads that the data lacks, derived from its rows.

    The clock (`now`), the mid's move (`mid_move`), the basis of two legs (`basis_bps`),
    momentum signals, a margin ratio, `kill_switch` and `expired`: see docs/data.md. An
    input with no derivation (an option's `edge`) is an error."""
    from checker.lang.loader import load_model
    from checker.run.derive import DeriveError, Settings
    from checker.run.derive import derive as add_inputs

    _check_table_out(out)
    try:
        loaded = load_model(model)
    except ModelError as exc:
        _fail(exc.diagnostics)
    settings = Settings(momentum_rows, Fraction(str(momentum_bps)), expiry)
    try:
        made = add_inputs(loaded, source, out, settings)
    except DeriveError as exc:
        _echo(str(exc), err=True)
        sys.exit(3)
    for line in made.how:
        _echo(f"derived {line}")
    _echo(f"{out}: {len(made.columns)} column(s) added to {source}")


@data.command()
@click.argument("real", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("synth", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--interval",
    default="1m",
    show_default=True,
    help="Resample both files to this interval: a count and s, m, h or d.",
)
@click.option(
    "--instrument",
    metavar="I",
    help="Read the instrument's columns I.bid, I.ask, I.volume (in both files).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def compare(real: Path, synth: Path, interval: str, instrument: str | None, as_json: bool) -> None:
    """Print the market statistics of two data files side by side.

    Both are resampled to --interval on the mid (bid + ask) / 2 (the last of each interval)
    and the volume (summed): the largest and 99th-percentile moves in bp, the realised
    volatility, the volume ratio (largest interval over the median one), the worst
    interval's time and the spread (row by row). A spread made from candles is marked."""
    from checker.run.compare import interval_seconds, measure, ratio, rows

    interval_seconds(interval)
    left, right = (measure(p, interval, instrument) for p in (real, synth))
    if as_json:
        out = {
            "interval": interval,
            "real": left.to_json(),
            "synth": right.to_json(),
            "synth_over_real": {
                "max_move": ratio(left.max_move_bp, right.max_move_bp),
                "volume_ratio": ratio(left.volume_ratio, right.volume_ratio),
            },
        }
        _echo(json.dumps(out, indent=2))
        return
    table = Table(title=f"market statistics, {interval} intervals")
    table.add_column("statistic")
    table.add_column(f"REAL {real.name}", justify="right", overflow="fold")
    table.add_column(f"SYNTH {synth.name}", justify="right", overflow="fold")
    for label, a, b in rows(left, right, interval):
        table.add_row(label, a, b)
    console = _console(stderr=False)
    console.print(table)
    for s in (left, right):
        if s.book_made:
            how = f" ({s.how})" if s.how else ""
            console.print(f"{s.path}: the book was {s.book}{how}: its spread is not a real one")
    worst, surge = (
        ratio(left.max_move_bp, right.max_move_bp),
        ratio(left.volume_ratio, right.volume_ratio),
    )
    if worst is not None and surge is not None:
        console.print(f"SYNTH over REAL: worst move {worst:.2f}x, volume ratio {surge:.2f}x")


@data.command("profile")
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Market data: CSV or Parquet, one row per tick (as `seqprove run` reads it).",
)
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a param (repeatable)."
)
@click.option(
    "--slippage-bps",
    metavar="BPS",
    help="Market-order slippage, overriding the model's venue section (as for `run`).",
)
@click.option(
    "--no-reprove",
    is_flag=True,
    help="Do not verify the model again with the widened params (faster).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
def profile(
    model: Path,
    data_file: Path,
    params: tuple[str, ...],
    slippage_bps: str | None,
    no_reprove: bool,
    as_json: bool,
) -> None:
    """Profile market data against the envelope MODEL's proof assumes.

    For every input, the values a run would deliver (flows accumulated between reads)
    against its range and the assumptions; the first tick at which `seqprove run` would
    stop, and why; for each bound the data breaks, the param that bounds it, the value
    that covers the data and the `seqprove verify --param` command that re-proves the
    model with it, run here (unless --no-reprove).

    Exit codes: 0 the data stays in the envelope; 1 a run would stop on it (or the data
    leaves the envelope after the run's end); 3 bad input; 4 internal error."""
    from checker.lang.loader import load_model
    from checker.lang.numbers import NumberTooLarge, read_number
    from checker.run.data import DataError, read_feed
    from checker.run.profile import print_profile
    from checker.run.profile import profile as make_profile

    overrides = _params(params)
    _check_overrides(overrides, [model])
    slip = None
    if slippage_bps is not None:
        try:
            slip = read_number(slippage_bps)
        except NumberTooLarge as exc:
            raise UsageError(f"--slippage-bps {slippage_bps[:40]}: {exc}") from None
        if slip is None or slip < 0:
            raise UsageError(f"--slippage-bps {slippage_bps[:40]}: give a number of at least 0")
    try:
        loaded = load_model(model, overrides)
    except ModelError as exc:
        _fail(exc.diagnostics)
    try:
        feed = read_feed(data_file, loaded)
    except DataError as exc:
        _fail(exc.diagnostics)

    def reprove(changed: Mapping[str, str]) -> tuple[str, str]:
        from checker.results import Severity, Verdict
        from checker.run.gate import proved
        from checker.verify import verify_file_model

        try:
            widened = load_model(model, changed)
        except ModelError as exc:
            return "unknown", f"the model does not load: {exc.diagnostics[0].message}"
        report = verify_file_model(widened, DEFAULT_OPTIONS)
        if proved(report):
            return "proved", f"{len(report.limits)} limit(s) and check(s)"
        if report.internal_error is not None:
            return "unknown", f"internal error: {report.internal_error}"
        refuted = [r.name for r in report.limits if r.verdict is Verdict.REFUTED]
        if refuted:
            return "refuted", ", ".join(refuted)
        errors = [f.message for f in report.findings if f.severity is Severity.ERROR]
        if errors:
            return "refuted", "structural error: " + errors[0]
        open_ = [r.name for r in report.limits if r.verdict is not Verdict.PROVED]
        return "unknown", "not decided within the budget: " + ", ".join(open_)

    err = _console(stderr=True)
    with _progress(err, len(feed.rows), not as_json, "profiling") as bar:

        def step(tick: int, total: int) -> None:
            if bar is not None and tick % 64 == 0:
                bar.update(bar.task_ids[0], completed=tick)

        found = make_profile(
            loaded,
            feed,
            None if no_reprove else reprove,
            slippage_bps=None if slip is None else Fraction(slip),
            progress=step,
        )
    if as_json:
        _echo(json.dumps(found.to_json(), indent=2))
    else:
        print_profile(found, _console(stderr=False))
    sys.exit(found.exit_code)


from checker.sweep import sweep_command  # Dask and the rest load only when it runs

cli.add_command(sweep_command)


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
        try:
            exc.show()
        except BrokenPipeError:
            _drop_closed(sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        _echo("aborted", err=True)
        sys.exit(130)
    except InternalError as exc:
        _echo(
            f"seqprove: internal error ({exc}). This is a bug in seqprove; please report it "
            "with the model that caused it.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    except SeqproveError as exc:
        _echo(f"seqprove: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", EXIT_BAD_INPUT))  # the journal's lock: 5, 6
    except Exception as exc:
        _echo(
            f"seqprove: internal error ({type(exc).__name__}: {exc}). This is a bug "
            "in seqprove; please report it with the model that caused it.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    finally:  # what is still buffered for a reader that has gone is dropped, not an error
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BrokenPipeError:
                _drop_closed(stream)


if _LOADING:  # loaded: Ctrl-C is a KeyboardInterrupt again (main() reports it as 130)
    signal.signal(signal.SIGINT, signal.default_int_handler)
