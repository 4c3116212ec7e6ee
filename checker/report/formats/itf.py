"""Counterexamples in Apalache's Informal Trace Format (ITF), one document each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker import __version__
from checker.model import decimal_text
from checker.report.formats.common import broken, taken
from checker.results import Counterexample, LimitResult, ModelReport, Report

ITF_FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def _itf_value(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, Fraction):
        return decimal_text(value)
    raise TypeError(f"no ITF encoding for {value!r}")


def to_itf(
    counterexample: Counterexample, model_report: ModelReport, limit: LimitResult | None = None
) -> str:
    """A counterexample in Apalache's Informal Trace Format (ITF), a state per tick.

    The trace's ``#meta`` names the ``source`` file and, given the ``limit`` the
    counterexample breaks, the ``strategy``, the ``limit``, its ``expression`` and a
    ``description`` of what broke. The limit is given, never looked up by its
    counterexample: two limits broken by the same run have equal counterexamples.

    Each state holds the model's state variables, ``step`` (the step's name) and
    ``inputs`` (a record of the inputs the market chose at that tick, empty at tick 0,
    which has none); where a state variable is itself named ``step`` or ``inputs``, the
    added one is ``@step`` or ``@inputs``. Integers are ``{"#bigint": "123"}``, booleans
    JSON booleans, enum values their names. Reals, which ITF lacks, are strings holding
    the exact value as seqprove prints it everywhere: a decimal (``"0.1"``) or, where no
    finite decimal exists, ``"p/q"``. A state's ``#meta`` gives its ``index`` (the tick)
    and the ``transition`` taken to reach it.
    """
    ticks = counterexample.ticks
    names = list(dict.fromkeys(n for t in ticks for n in t.state))
    step = "@step" if "step" in names else "step"
    inputs = "@inputs" if "inputs" in names else "inputs"
    what = broken(limit) if limit else f"a run of {counterexample.length} tick(s)"
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": ITF_FORMAT_DESCRIPTION,
        "source": model_report.file,
    }
    if limit is not None:
        meta |= {"strategy": model_report.strategy, "limit": limit.name, "expression": limit.text}
    meta["description"] = f"seqprove {__version__} counterexample: {what}"
    states = [
        {
            "#meta": {"index": t.tick, "transition": taken(t.transition, t.tick)},
            step: t.step,
            **{n: _itf_value(t.state[n]) for n in names if n in t.state},
            inputs: {k: _itf_value(v) for k, v in t.inputs.items()},
        }
        for t in ticks
    ]
    doc = {"#meta": meta, "vars": [step, *names, inputs], "states": states}
    return json.dumps(doc, indent=2) + "\n"


def itf_traces(report: Report) -> Iterator[tuple[ModelReport, LimitResult, str]]:
    """An ITF document (see :func:`to_itf`) for each refuted limit, with the model
    report and the limit it belongs to."""
    for m in report.models:
        for lim in m.limits:
            if lim.counterexample is not None:
                yield m, lim, to_itf(lim.counterexample, m, lim)


def itf_files(report: Report) -> Iterator[tuple[str, str]]:
    """The file name and ITF document of each counterexample of :func:`itf_traces`:
    ``STRATEGY.LIMIT.itf.json``, the strategy being the model file's stem when it has
    none. When two model files of one strategy both break a limit, the later files are
    numbered ``STRATEGY.LIMIT.2.itf.json``, and so on, so that none overwrites another."""
    written: set[str] = set()
    for m, lim, text in itf_traces(report):
        stem = f"{m.strategy or Path(m.file).stem}.{lim.name}"
        name, n = f"{stem}.itf.json", 1
        while name in written:
            n += 1
            name = f"{stem}.{n}.itf.json"
        written.add(name)
        yield name, text
