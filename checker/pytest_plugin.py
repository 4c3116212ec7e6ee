"""A pytest plugin: ``pytest --seqprove models/`` proves the model files under ``models/``
beside the project's other tests, one test per limit.

The plugin is registered through the ``pytest11`` entry point, so it is loaded by every
pytest run in an environment where seqprove is installed; until it is enabled (with
``--seqprove`` or the ini option ``seqprove = true``) it only adds its options. Its
module imports nothing heavy: the loader, the solver and rich are imported when a model
file is collected or verified.

Items
-----
Every ``*.yaml`` and ``*.yml`` file that pytest collects (pytest's own rules decide
which folders it enters) is a model file, unless it was found in a folder and plainly is
not one: a YAML document that is not a mapping, a mapping without a ``strategy`` key, or
an empty file. A file named on the command line is always a model file, and so is one
that is not valid YAML, since seqprove would read it as a model. A model file gives:

* ``FILE::LIMIT`` for every limit, in the order of the file. It passes when the limit
  is PROVED; it fails when it is REFUTED, showing the counterexample as the tick table
  ``seqprove verify`` prints, and when it is UNKNOWN, giving the reason (with
  ``--seqprove-allow-unknown`` an UNKNOWN limit is skipped instead);
* ``FILE::structure:RULE:LINE`` for every structural rule the model breaks, which fails
  with the rule's ``FILE:LINE:COLUMN`` message (the column is added to the name when two
  errors of one rule share a line). These come first and need no solver;
* ``FILE::load`` alone, for a file that cannot be loaded: it fails with every problem as
  ``FILE:LINE:COLUMN: message``, never a traceback.

A file is verified once per process, when the first of its limits runs, with the same
options and result cache as ``seqprove verify``: a file whose report is in the cache
(``.seqprove/cache`` under pytest's rootdir, unless ``--seqprove-no-cache``) is not
proved again, and a report the cache may keep is stored there. Proof records for
``seqprove run`` are not written: only ``seqprove verify`` admits a model for trading.
Under pytest-xdist each worker verifies the files of the items it runs; ``--dist
loadfile`` keeps the items of a file on one worker, so that no two workers prove one
file at the same time.

Sanity warnings are not tests: the terminal summary lists them, with how many files were
verified and how many were answered from the cache.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import importlib.metadata
import io
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from checker import __version__
from checker.options import DEFAULT_CACHE, DEFAULT_OPTIONS, Options

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

    from checker.errors import Diagnostic
    from checker.model import Model
    from checker.results import Counterexample, Finding, LimitResult, ModelReport

SUFFIXES = (".yaml", ".yml")
MARKER = "seqprove"
"""The mark of every item of the plugin: ``-m "not seqprove"`` leaves the models out."""
MIN_TIMEOUT = 0.1
TABLE_WIDTH = 120
"""Columns of a counterexample table in a failure, whatever the terminal (xdist workers
have none)."""

SOURCE_PROPERTY = "seqprove_report"
"""The user property telling how the first limit run of a file got its report
(``verified`` or ``cached``); read back by the terminal summary, also under xdist."""
WARNING_PROPERTY = "seqprove_warning"
"""A user property holding one sanity warning as ``FILE:LINE:COLUMN: warning [rule] ...``."""


@dataclass(frozen=True)
class Settings:
    """What the command line and the ini file asked of the plugin, once enabled."""

    options: Options
    params: Mapping[str, str]
    allow_unknown: bool
    cache: Path | None


PLUGIN = pytest.StashKey["SeqprovePlugin"]()
"""Where the enabled plugin keeps itself in ``config.stash``, for the nodes to find."""


class SeqproveFailure(Exception):
    """A verdict or a problem in a model file, shown as its text alone."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options, registered whether it is enabled or not."""
    group = parser.getgroup("seqprove", "seqprove: prove the limits of model files")
    group.addoption(
        "--seqprove",
        action="store_true",
        default=False,
        help="Collect model files (*.yaml, *.yml) and make every limit a test.",
    )
    group.addoption(
        "--seqprove-allow-unknown",
        action="store_true",
        default=False,
        help="Skip a limit that is neither proved nor refuted instead of failing it.",
    )
    group.addoption(
        "--seqprove-budget",
        type=int,
        default=DEFAULT_OPTIONS.budget,
        metavar="UNITS",
        help=f"z3 resource units allowed per limit (default {DEFAULT_OPTIONS.budget}): "
        "the same verdicts on an idle and a loaded machine.",
    )
    group.addoption(
        "--seqprove-timeout",
        type=float,
        default=DEFAULT_OPTIONS.timeout,
        metavar="SECONDS",
        help=f"Wall-clock seconds allowed per limit, an outer guard "
        f"(default {DEFAULT_OPTIONS.timeout:g}).",
    )
    group.addoption(
        "--seqprove-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Override a param of every model that declares it (repeatable).",
    )
    group.addoption(
        "--seqprove-no-cache",
        action="store_true",
        default=False,
        help=f"Verify every model again instead of reusing results from {DEFAULT_CACHE} "
        "under the rootdir.",
    )
    parser.addini("seqprove", type="bool", default=False, help="Enable the seqprove plugin.")
    parser.addini(
        "seqprove_allow_unknown",
        type="bool",
        default=False,
        help="Skip seqprove limits that are unknown instead of failing them.",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Enable the plugin when asked to; otherwise leave the run alone."""
    if not (config.getoption("seqprove") or config.getini("seqprove")):
        return
    plugin = SeqprovePlugin(_settings(config))
    config.stash[PLUGIN] = plugin
    config.pluginmanager.register(plugin, "seqprove-enabled")
    config.addinivalue_line("markers", f"{MARKER}: a limit or structural rule of a model file")


def _settings(config: pytest.Config) -> Settings:
    timeout = float(config.getoption("seqprove_timeout"))
    if not MIN_TIMEOUT <= timeout < math.inf:  # also refuses nan
        raise pytest.UsageError(
            f"--seqprove-timeout {timeout:g}: give a finite number of at least {MIN_TIMEOUT}"
        )
    budget = int(config.getoption("seqprove_budget"))
    if budget < 1:
        raise pytest.UsageError(f"--seqprove-budget {budget}: give at least 1")
    return Settings(
        options=DEFAULT_OPTIONS.overlay(budget=budget, timeout=timeout),
        params=_params(config.getoption("seqprove_param")),
        allow_unknown=bool(
            config.getoption("seqprove_allow_unknown") or config.getini("seqprove_allow_unknown")
        ),
        cache=None if config.getoption("seqprove_no_cache") else config.rootpath / DEFAULT_CACHE,
    )


def _params(given: Sequence[str]) -> dict[str, str]:
    """``--seqprove-param`` overrides by name, read like ``seqprove verify --param``."""
    params: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise pytest.UsageError(
                f"--seqprove-param {item}: write NAME=VALUE, e.g. --seqprove-param max_position=50"
            )
        params[name.strip()] = value.strip()
    return params


def _solver_version() -> str:
    try:
        return importlib.metadata.version("z3-solver")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _shown(path: Path, config: pytest.Config) -> str:
    """``path`` as messages name it: relative to where pytest was started, as the paths
    ``seqprove verify`` prints are relative to where it was started."""
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)


def _is_model(path: Path) -> bool:
    """Whether a YAML file found in a folder is meant as a model: its document is a
    mapping with a ``strategy`` key, or it cannot be read as YAML at all. Only the parser's
    events up to that key are looked at, so a large file that is not a model costs one
    pass of the parser and nothing is built."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        MappingStartEvent,
        ScalarEvent,
    )

    depth = 0
    top_nodes = 0  # nodes begun directly in the top mapping: keys and values in turn
    try:
        with path.open(encoding="utf-8") as stream:
            for event in YAML(typ="safe", pure=True).parse(stream):
                if isinstance(event, CollectionStartEvent):
                    if depth == 0 and not isinstance(event, MappingStartEvent):
                        return False
                    top_nodes += depth == 1
                    depth += 1
                elif isinstance(event, CollectionEndEvent):
                    depth -= 1
                    if depth == 0:
                        return False  # the top mapping ended without a strategy
                elif isinstance(event, ScalarEvent | AliasEvent):
                    if depth == 0:
                        return False
                    if depth == 1:
                        if top_nodes % 2 == 0 and getattr(event, "value", None) == "strategy":
                            return True
                        top_nodes += 1
    except (OSError, ValueError, YAMLError):  # unreadable, not UTF-8, not YAML
        return True
    return False  # no document at all


def _verify(model: Model, settings: Settings) -> ModelReport:
    """The report of ``model``: from the cache when it holds one, else verified (and
    stored when the cache may keep it), the way ``seqprove verify`` does."""
    from checker.cache import Cache
    from checker.verify import verify_file_model

    cache = None if settings.cache is None else Cache(settings.cache)
    hit = None if cache is None else cache.get(model, settings.options)
    if hit is not None:
        return dataclasses.replace(hit, cached=True, seconds=0.0)
    report = verify_file_model(model, settings.options)
    if cache is not None:
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            cache.put(model, settings.options, report)
    return report


def _finding_text(file: str, finding: Finding) -> str:
    """``FILE:LINE:COLUMN: severity [rule] message``, as ``seqprove verify`` prints it."""
    return (
        f"{file}:{finding.line}:{finding.column}: "
        f"{finding.severity.value} [{finding.rule}] {finding.message}"
    )


def _tick_table(result: LimitResult, counterexample: Counterexample) -> str:
    """The counterexample as the plain-text tick table of ``seqprove verify``."""
    from rich.console import Console

    from checker.report.terminal import counterexample_table

    out = io.StringIO()
    console = Console(
        file=out, width=TABLE_WIDTH, no_color=True, color_system=None, highlight=False
    )
    console.print(counterexample_table(result, counterexample))
    return out.getvalue().rstrip("\n")


class SeqprovePlugin:
    """The plugin's hooks once it is enabled: collection, header and summary."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.files: list[ModelFile] = []
        self.problem: str | None = None
        """A problem with the options that every item reports instead of running."""
        self.warnings: set[str] = set()
        self.sources: dict[str, int] = {"verified": 0, "cached": 0}

    def pytest_report_header(self, config: pytest.Config) -> str:
        cache = self.settings.cache
        where = "off" if cache is None else _shown(cache, config)
        unknown = "skipped" if self.settings.allow_unknown else "failed"
        return (
            f"seqprove {__version__} (z3-solver {_solver_version()}): "
            f"{self.settings.options.budget:,} units and {self.settings.options.timeout:g} s "
            f"per limit, unknown limits {unknown}, "
            f"result cache {where}"
        )

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> ModelFile | None:
        if file_path.suffix not in SUFFIXES:
            return None
        if not parent.session.isinitpath(file_path) and not _is_model(file_path):
            return None
        node = ModelFile.from_parent(parent, path=file_path)
        self.files.append(node)
        return node

    def pytest_collection_modifyitems(self) -> None:
        """Every ``--seqprove-param`` must name a param that some collected model file
        declares, as ``seqprove verify`` demands of ``--param``. A name that none declares
        fails every item: a usage error raised here would break pytest-xdist's workers,
        whose collection this is."""
        if not self.settings.params:
            return
        from checker.lang.loader import declared_params
        from checker.lang.validate import hint

        declared = set().union(*(declared_params(f.path) for f in self.files))
        for name in self.settings.params:
            if name not in declared:
                self.problem = (
                    f"--seqprove-param {name}: no model file collected declares a param "
                    f"'{name}'{hint(name, declared)}"
                )
                return

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":  # every phase's report carries the item's properties
            return
        for name, value in report.user_properties:
            if name == SOURCE_PROPERTY and value in self.sources:
                self.sources[value] += 1
            elif name == WARNING_PROPERTY:
                self.warnings.add(str(value))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not any(self.sources.values()) and not self.warnings:
            return
        terminalreporter.section("seqprove")
        for line in sorted(self.warnings):
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"{self.sources['verified']} model file(s) verified, "
            f"{self.sources['cached']} answered from the cache"
        )


class ModelFile(pytest.File):
    """One model file. Collecting it loads the model and checks its structure; its
    report is made once, by :meth:`report`, when the first of its limits runs."""

    model: Model | None = None
    _report: ModelReport | None = None

    @property
    def shown(self) -> str:
        return _shown(self.path, self.config)

    def collect(self) -> Iterator[pytest.Item]:
        from checker.analysis import structural_findings
        from checker.errors import ModelError
        from checker.lang.loader import load_model
        from checker.results import Severity

        try:
            self.model = load_model(self.shown, self.config.stash[PLUGIN].settings.params)
        except ModelError as exc:
            yield LoadItem.from_parent(self, name="load", diagnostics=tuple(exc.diagnostics))
            return
        except Exception as exc:  # a bug in the loader fails this file, not the session
            yield LoadItem.from_parent(
                self,
                name="load",
                diagnostics=(),
                internal=f"{self.shown}: INTERNAL ERROR (a bug in seqprove, please report "
                f"it): loading: {type(exc).__name__}: {exc}",
            )
            return
        names: set[str] = set()
        for finding in structural_findings(self.model):
            if finding.severity is not Severity.ERROR:
                continue
            name = f"structure:{finding.rule}:{finding.line}"
            if name in names:
                name = f"{name}:{finding.column}"
            names.add(name)
            yield StructureItem.from_parent(self, name=name, finding=finding)
        for ob in self.model.obligations():  # limits, order checks, checks of version 2
            yield LimitItem.from_parent(self, name=ob.name, line=ob.line)

    def report(self) -> tuple[ModelReport, bool]:
        """The model's report, and whether this call made it (False when an earlier
        item of the file did)."""
        if self._report is not None:
            return self._report, False
        assert self.model is not None, "a model file that failed to load has no limits"
        self._report = _verify(self.model, self.config.stash[PLUGIN].settings)
        return self._report, True


class SeqproveItem(pytest.Item):
    """An item whose failures are texts about the model file, not Python tracebacks."""

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, SeqproveFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def runtest(self) -> None:
        problem = self.config.stash[PLUGIN].problem
        if problem is not None:
            raise SeqproveFailure(problem)
        self.check()

    @abc.abstractmethod
    def check(self) -> None:
        """Pass, or raise :class:`SeqproveFailure` or a skip."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(MARKER)

    @property
    def model_file(self) -> ModelFile:
        assert isinstance(self.parent, ModelFile)
        return self.parent


class LimitItem(SeqproveItem):
    """One limit: passes when proved, fails when refuted, fails or is skipped when
    unknown."""

    def __init__(self, *, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line = line

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, self.line - 1, f"limit {self.name}"

    def check(self) -> None:
        from checker.results import Severity, Verdict

        report, made = self.model_file.report()
        if made:
            self.user_properties.append(
                (SOURCE_PROPERTY, "cached" if report.cached else "verified")
            )
            self.user_properties += [
                (WARNING_PROPERTY, _finding_text(report.file, f))
                for f in report.findings
                if f.severity is Severity.WARNING
            ]
        where = f"{report.file}:{self.line}"
        if report.internal_error is not None:
            raise SeqproveFailure(
                f"{report.file}: INTERNAL ERROR (a bug in seqprove, please report it): "
                f"{report.internal_error}"
            )
        result = next((lim for lim in report.limits if lim.name == self.name), None)
        if result is None:
            raise SeqproveFailure(f"{where}: the report of the file has no limit '{self.name}'")
        if result.verdict is Verdict.PROVED:
            return
        if result.verdict is Verdict.REFUTED:
            cex = result.counterexample
            broken = f"broken at tick {cex.length}" if cex is not None else "broken"
            text = (
                f"{where}: limit {result.name} ({result.text}) REFUTED by {result.engine}: {broken}"
            )
            if cex is not None:
                text += "\n\n" + _tick_table(result, cex)
            raise SeqproveFailure(text)
        if self.config.stash[PLUGIN].settings.allow_unknown:
            raise pytest.skip.Exception(f"UNKNOWN: {result.reason}", _use_item_location=True)
        raise SeqproveFailure(
            f"{where}: limit {result.name} ({result.text}) UNKNOWN: {result.reason}\n"
            "(neither proved nor refuted; --seqprove-allow-unknown skips such limits)"
        )


class StructureItem(SeqproveItem):
    """One structural rule the model breaks: always fails, without the solver."""

    def __init__(self, *, finding: Finding, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.finding = finding

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, self.finding.line - 1, f"structure {self.finding.rule}"

    def check(self) -> None:
        raise SeqproveFailure(_finding_text(self.model_file.shown, self.finding))


class LoadItem(SeqproveItem):
    """A model file that cannot be loaded: fails with every problem found in it, or with
    the internal error its loading hit."""

    def __init__(
        self, *, diagnostics: tuple[Diagnostic, ...], internal: str = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.diagnostics = diagnostics
        self.internal = internal

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        line = self.diagnostics[0].line - 1 if self.diagnostics else 0
        return self.path, line, "load"

    def check(self) -> None:
        raise SeqproveFailure(self.internal or "\n".join(str(d) for d in self.diagnostics))
