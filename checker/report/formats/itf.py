"""Counterexamples, and the runs findings show, in Apalache's Informal Trace Format
(ITF), one document each."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker import __version__
from checker.model import decimal_text
from checker.report import ticks as book
from checker.report.formats.common import broken, taken
from checker.results import Counterexample, Finding, LimitResult, ModelReport, Report

ITF_FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def _itf_value(value: Any) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, Fraction):
        return decimal_text(value)
    raise TypeError(f"no ITF encoding for {value!r}")


def _option(value: Any) -> dict[str, Any]:
    """An optional value as ITF writes Quint's ``Option``: ``Some(v)`` or ``None``."""
    if value is None or value == "":
        return {"tag": "None", "value": {"#tup": []}}
    return {"tag": "Some", "value": _itf_value(value)}


def _itf_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action sent as an ITF variant, tagged by its name: ``place`` with a record of
    ``instrument``, ``side``, ``qty``, ``price`` (an option: none for a market order)
    and ``tif``; ``cancel`` with ``instrument`` and ``side``; ``cancel_all`` with
    ``instrument`` (an option: none for every instrument)."""
    name = str(action.get("action"))
    if name == "place":
        value = {
            "instrument": action.get("instrument", ""),
            "side": action.get("side", ""),
            "qty": _itf_value(action.get("qty", 0)),
            "price": _option(action.get("price")),
            "tif": action.get("tif", "gtc"),
        }
    elif name == "cancel":
        value = {"instrument": action.get("instrument", ""), "side": action.get("side", "")}
    else:
        value = {"instrument": _option(action.get("instrument"))}
    return {"tag": name, "value": value}


def _own(name: str, taken_names: list[str]) -> str:
    """The name of a variable seqprove adds, ``@name`` where the model has its own."""
    return f"@{name}" if name in taken_names else name


def to_itf(
    counterexample: Counterexample,
    model_report: ModelReport,
    limit: LimitResult | None = None,
    finding: Finding | None = None,
) -> str:
    """A counterexample in Apalache's Informal Trace Format (ITF), a state per tick.

    The trace's ``#meta`` names the ``source`` file and, given the ``limit`` the
    counterexample breaks, the ``strategy``, the ``limit``, its ``kind`` (``limit``,
    ``order`` or ``check``), its ``expression`` and a ``description`` of what broke.
    The limit is given, never looked up by its counterexample: two limits broken by the
    same run have equal counterexamples. Given instead the ``finding`` whose run it is
    (the ``stuck`` warning's), the ``#meta`` names the ``strategy``, the ``finding``
    (its rule) and its ``message``.

    Each state holds the model's state variables, ``step`` (the step's name) and
    ``inputs`` (a record of the inputs the market chose at that tick, empty at tick 0,
    which has none); where a state variable is itself named ``step`` or ``inputs``, the
    added one is ``@step`` or ``@inputs``. Integers are ``{"#bigint": "123"}``, booleans
    JSON booleans, enum values their names. Reals, which ITF lacks, are strings holding
    the exact value as seqprove prints it everywhere: a decimal (``"0.1"``) or, where no
    finite decimal exists, ``"p/q"``. A state's ``#meta`` gives its ``index`` (the tick)
    and the ``transition`` taken to reach it.

    For a model with instruments the state holds the book the checker keeps (its
    variables named ``perp.position``, ``perp.open_buy``, ..., hidden pending ones
    included), ``inputs`` holds the fills (``perp.bought``, ...), and each state has an
    added variable ``actions`` (``@actions`` where the model has one): the list of the
    actions its transition sent, each a variant (see :func:`_itf_action`). The last
    state's ``#meta`` then gives the ``provers``: whether each held on the configuration
    its transition was chosen on.
    """
    ticks = counterexample.ticks
    names = list(dict.fromkeys(n for t in ticks for n in t.state))
    step, inputs = _own("step", names), _own("inputs", names)
    actions = _own("actions", names) if book.has_book(counterexample) else None
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": ITF_FORMAT_DESCRIPTION,
        "source": model_report.file,
    }
    what = f"counterexample: a run of {counterexample.length} tick(s)"
    if limit is not None:
        meta |= {"strategy": model_report.strategy, "limit": limit.name}
        meta |= {"kind": limit.kind} if limit.kind != "limit" else {}
        meta["expression"] = limit.text
        what = f"counterexample: {broken(limit)}"
    elif finding is not None:
        meta |= {"strategy": model_report.strategy, "finding": finding.rule}
        meta["message"] = finding.message
        what = f"run of {finding.rule}: {counterexample.length} tick(s)"
    meta["description"] = f"seqprove {__version__} {what}"
    states = []
    for t in ticks:
        state: dict[str, Any] = {
            "#meta": {"index": t.tick, "transition": taken(t.transition, t.tick)}
        }
        if actions is not None and t.provers is not None and t is ticks[-1]:
            state["#meta"]["provers"] = dict(t.provers)
        state[step] = t.step
        state |= {n: _itf_value(t.state[n]) for n in names if n in t.state}
        state[inputs] = {k: _itf_value(v) for k, v in t.inputs.items()}
        if actions is not None:
            state[actions] = [_itf_action(a) for a in t.actions]
        states.append(state)
    extra = [actions] if actions is not None else []
    doc = {"#meta": meta, "vars": [step, *names, inputs, *extra], "states": states}
    return json.dumps(doc, indent=2) + "\n"


def itf_traces(report: Report) -> Iterator[tuple[ModelReport, LimitResult, str]]:
    """An ITF document (see :func:`to_itf`) for each refuted limit, with the model
    report and the limit it belongs to."""
    for m in report.models:
        for lim in m.limits:
            if lim.counterexample is not None:
                yield m, lim, to_itf(lim.counterexample, m, lim)


def finding_traces(report: Report) -> Iterator[tuple[ModelReport, Finding, str]]:
    """An ITF document (see :func:`to_itf`) for the run of each finding that shows one
    (the ``stuck`` warning's), with the model report and the finding it belongs to."""
    for m in report.models:
        for f in m.findings:
            if f.run is not None:
                yield m, f, to_itf(f.run, m, finding=f)


def itf_files(report: Report) -> Iterator[tuple[str, str]]:
    """The file name and ITF document of each counterexample of :func:`itf_traces`,
    ``STRATEGY.LIMIT.itf.json``, then of each run of :func:`finding_traces`,
    ``STRATEGY.RULE.itf.json``, the strategy being the model file's stem when it has
    none. When two model files of one strategy both break a limit, the later files are
    numbered ``STRATEGY.LIMIT.2.itf.json``, and so on, so that none overwrites another."""
    written: set[str] = set()
    named = [(m, lim.name, text) for m, lim, text in itf_traces(report)]
    named += [(m, f.rule, text) for m, f, text in finding_traces(report)]
    for m, what, text in named:
        stem = f"{m.strategy or Path(m.file).stem}.{what}"
        name, n = f"{stem}.itf.json", 1
        while name in written:
            n += 1
            name = f"{stem}.{n}.itf.json"
        written.add(name)
        yield name, text
