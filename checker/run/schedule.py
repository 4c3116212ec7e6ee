"""Param schedules: ``seqprove run --params-schedule FILE`` changes params during a run,
and accepts a change only where the proof covers the rest of the run.

A schedule file (YAML) names the params it moves and the region they move in, which a
certificate given with ``--proofs`` must prove (``seqprove verify --param-range ...
--export DIR``, or ``seqprove params ... --export DIR``)::

    free:                        # each param the schedule moves, over its proved range
      quote_size: 1..200
      hedge_band: 100..900
    where: hedge_band >= 2 * quote_size   # optional: the region within the ranges
    start: {quote_size: 100}     # optional: the values at tick 0 (else the model's own)
    changes:
      - tick: 120                # before tick 120 (the 120th row of the data)
        set: {quote_size: 150}
      - time: 2024-03-01T10:30:00Z   # before the first row at or after this time
        set: {quote_size: 400}

A proof over a region is a proof about runs whose params never change. A change in the
middle of a run puts the strategy in a configuration reached under the old values, which
the new values' runs may never reach. So a change is accepted only when (1) the new
values are inside the proved ranges and region, and (2) the configuration the run is in
satisfies the inductive invariant of every proved limit, read with the new values: the
invariant holds, is kept by every tick while the params stay, and implies the limit, so
every limit holds for the rest of the run whatever the market does. A limit proved by
k-induction has no such invariant, so no change can be checked against it and every
change is refused. A refused change is journaled with its reason, and the run goes on
with the values it had.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker.errors import Diagnostic, ModelError
from checker.lang.timing import DurationError, read_duration
from checker.lang.yamlload import Document, load_yaml
from checker.model import Model, Value, param_text
from checker.run.data import Row, time_value

KEYS = ("free", "where", "start", "changes")
CHANGE_KEYS = ("tick", "time", "set")


@dataclass(frozen=True)
class Change:
    """One entry of ``changes``: new values, before a tick or a time."""

    line: int
    column: int
    tick: int | None
    time: Any
    """The time as the file gives it (text or a number), when ``tick`` is None."""
    values: Mapping[str, Any]
    """The values as the file gives them (checked against the model by :func:`plan`)."""

    @property
    def where(self) -> str:
        return f"line {self.line}"


@dataclass(frozen=True)
class Schedule:
    file: str
    sha256: str
    ranges: Mapping[str, str]
    where: str
    start: Mapping[str, Any]
    changes: tuple[Change, ...]
    doc: Document

    def to_json(self) -> dict[str, Any]:
        """What the journal keeps of the schedule (a resume must use the same one)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "free": dict(self.ranges),
            "where": self.where,
        }


@dataclass(frozen=True)
class Planned:
    """The change the run makes before ``tick``: ``values`` of the free params (the
    entries of the file that fall on this tick, merged in their order)."""

    tick: int
    values: Mapping[str, Value]
    source: str


def read_schedule(path: Path) -> Schedule:
    """Read and check the shape of the schedule at ``path``.

    Raises
    ------
    ModelError
        With every problem found, located in the file.
    """
    file = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ModelError([Diagnostic(file, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ModelError([Diagnostic(file, 1, 1, "file is not UTF-8 text")]) from None
    doc = load_yaml(text, file)
    data = doc.data
    problems: list[Diagnostic] = []
    if not isinstance(data, dict):
        raise ModelError([doc.error((), "a schedule is a mapping with free, changes, ...")])
    for key in data:
        if key not in KEYS:
            problems.append(
                doc.error(
                    (key,), f"unknown key '{key}': a schedule has {', '.join(KEYS)}", key=True
                )
            )
    free = data.get("free")
    ranges: dict[str, str] = {}
    if not isinstance(free, dict) or not free:
        problems.append(
            doc.error(("free",), "free: name each param the schedule moves, with its LO..HI")
        )
    else:
        for name, text in free.items():
            if not isinstance(text, str) or ".." not in text:
                problems.append(doc.error(("free", name), f"free: write {name}: LO..HI"))
            else:
                ranges[str(name)] = text
    where = data.get("where") or ""
    if not isinstance(where, str):
        problems.append(doc.error(("where",), "where: a condition over the free params"))
        where = ""
    start = data.get("start") or {}
    if not isinstance(start, dict):
        problems.append(doc.error(("start",), "start: a mapping of free params to values"))
        start = {}
    for name in start:
        if name not in ranges:
            problems.append(
                doc.error(("start", name), f"'{name}' is not under free: it cannot move", key=True)
            )
    changes: list[Change] = []
    entries = data.get("changes")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        problems.append(doc.error(("changes",), "changes: a list of {tick or time, set}"))
        entries = []
    for i, entry in enumerate(entries):
        change = _change(doc, i, entry, ranges, problems)
        if change is not None:
            changes.append(change)
    if problems:
        raise ModelError(problems)
    return Schedule(
        file, hashlib.sha256(raw).hexdigest(), ranges, where, start, tuple(changes), doc
    )


def _change(
    doc: Document, i: int, entry: Any, ranges: Mapping[str, str], problems: list[Diagnostic]
) -> Change | None:
    at = ("changes", i)
    if not isinstance(entry, dict):
        problems.append(doc.error(at, "a change is a mapping: {tick: N, set: {...}}"))
        return None
    for key in entry:
        if key not in CHANGE_KEYS:
            problems.append(
                doc.error(
                    (*at, key), f"unknown key '{key}': a change has tick or time, and set", key=True
                )
            )
    tick, moment = entry.get("tick"), entry.get("time")
    if (tick is None) == (moment is None):
        problems.append(doc.error(at, "a change gives its tick or its time (one of them)"))
        return None
    if tick is not None and (isinstance(tick, bool) or not isinstance(tick, int) or tick < 1):
        problems.append(doc.error((*at, "tick"), "tick: the number of a row of the data, from 1"))
        return None
    if moment is not None and time_value(moment) is None:
        problems.append(
            doc.error((*at, "time"), f"time: {moment!r} is neither an ISO-8601 time nor a number")
        )
        return None
    values = entry.get("set")
    if not isinstance(values, dict) or not values:
        problems.append(doc.error((*at, "set"), "set: the new values, {param: value, ...}"))
        return None
    for name in values:
        if name not in ranges:
            problems.append(
                doc.error(
                    (*at, "set", name), f"'{name}' is not under free: it cannot move", key=True
                )
            )
    loc = doc.loc(at)
    return Change(loc.line, loc.column, tick, moment, dict(values))


def value_of(
    doc: Document,
    path: tuple[str | int, ...],
    model: Model,
    name: str,
    raw: Any,
    problems: list[Diagnostic],
) -> Value | None:
    """``raw`` from the file as a value of free param ``name`` of ``model`` (an int param
    takes an int or a duration such as ``500ms``), or None with the problem noted."""
    var = model.variable(name)
    value: Any = raw
    if isinstance(raw, str) and var.type.kind == "int":
        try:
            value = read_duration(raw, None if model.clock is None else model.clock.unit)
        except DurationError as exc:
            problems.append(doc.error(path, exc.message))
            return None
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        problems.append(doc.error(path, f"{name}: {raw!r} is not a number"))
        return None
    if var.type.kind == "int":
        if isinstance(value, Fraction) and value.denominator != 1:
            problems.append(doc.error(path, f"{name}: '{name}' is an integer param"))
            return None
        return int(value)
    return Fraction(value)


def read_values(
    schedule: Schedule, model: Model, base: Mapping[str, Value]
) -> tuple[dict[str, Value], list[dict[str, Value]]]:
    """The values of the free params at tick 0 (``start``, else ``base``: the model's own
    values), and each change's values, as values of their params in ``model``.

    Raises
    ------
    ModelError
        For a value that is not one of its param's (a fraction for an int param, text).
    """
    doc = schedule.doc
    problems: list[Diagnostic] = []
    start: dict[str, Value] = {}
    for name in schedule.ranges:
        if name in schedule.start:
            got = value_of(doc, ("start", name), model, name, schedule.start[name], problems)
            if got is not None:
                start[name] = got
        else:
            start[name] = base[name]
    changes: list[dict[str, Value]] = []
    for i, change in enumerate(schedule.changes):
        values: dict[str, Value] = {}
        for name, raw in change.values.items():
            got = value_of(doc, ("changes", i, "set", name), model, name, raw, problems)
            if got is not None:
                values[name] = got
        changes.append(values)
    if problems:
        raise ModelError(problems)
    return start, changes


def plan(
    schedule: Schedule, values: Sequence[Mapping[str, Value]], rows: Sequence[Row]
) -> list[Planned]:
    """The changes by tick over the data's ``rows``, each with its ``values`` (from
    :func:`read_values`); the entries that fall on one tick are merged in their order,
    and those after the last row are dropped (the run ends first).

    Raises
    ------
    ModelError
        For a time the data's times cannot be compared with (an ISO time against
        numbers, a time with a zone against times without one).
    """
    problems: list[Diagnostic] = []
    times = [time_value(row.time) if row.time is not None else None for row in rows]
    by_tick: dict[int, dict[str, Value]] = {}
    sources: dict[int, list[str]] = {}
    for i, (change, new) in enumerate(zip(schedule.changes, values, strict=True)):
        tick = change.tick
        if tick is None:
            tick = _tick_of(change.time, times)
            if tick is None:
                problems.append(
                    schedule.doc.error(
                        ("changes", i, "time"),
                        f"time: {change.time!r} cannot be compared with the data's times: "
                        "give a time of the same kind as its time column, or a tick",
                    )
                )
                continue
        if tick > len(rows):
            continue
        by_tick.setdefault(tick, {}).update(new)
        sources.setdefault(tick, []).append(f"{schedule.file}:{change.line}")
    if problems:
        raise ModelError(problems)
    return [Planned(tick, by_tick[tick], ", ".join(sources[tick])) for tick in sorted(by_tick)]


def _tick_of(moment: Any, times: Sequence[Any]) -> int | None:
    """The first tick whose row's time is at or after ``moment`` (past the last row when
    none is), or None when the two cannot be compared."""
    wanted = time_value(moment)
    if wanted is None:
        return None
    for tick, t in enumerate(times, 1):
        if t is None:
            return None
        try:
            if t >= wanted:
                return tick
        except TypeError:  # a time with a zone against one without, or against a number
            return None
    return len(times) + 1


class Cover:
    """What the certificate in ``directory`` proves of ``model`` (a model with free
    params), as the check a change must pass: each proved obligation's inductive
    invariant, read over the current configuration with the new values."""

    def __init__(self, model: Model, directory: Path) -> None:
        from checker.audit import Semantics, claim_from_json

        self.model = model
        self.semantics = Semantics(model)
        self.invariants: dict[str, str] = {}
        self.without: dict[str, str] = {}
        manifest = json.loads((directory / "manifest.json").read_text())
        for proof in manifest.get("proofs", []):
            if (
                proof.get("model_sha256") != model.source_sha256
                or proof.get("params") != param_text(model.params)
                or (proof.get("ranges") or {}) != model.ranges()
                or (proof.get("region") or "") != model.region_text()
            ):
                continue
            claim = claim_from_json(proof.get("claim"))
            name = str(proof.get("limit"))
            text = getattr(claim, "text", None)
            if isinstance(text, str):
                self.invariants[name] = text
            else:
                k = getattr(claim, "k", "?")
                self.without[name] = f"{name} is proved by {k}-induction, with no invariant"

    def problem(self, step: str, values: Mapping[str, Value]) -> str | None:
        """Why the proof does not cover the run from configuration (``step``,
        ``values``), or None when every limit's invariant holds there."""
        if self.without:
            reason = "; ".join(self.without[n] for n in sorted(self.without))
            return f"the proof cannot check a change: {reason}"
        failing = [
            name
            for name, text in self.invariants.items()
            if not self.semantics.holds_in(text, step, values)
        ]
        if failing:
            return (
                f"the proof does not cover the run from here with these values: the "
                f"invariant of {', '.join(sorted(failing))} does not hold in the current "
                f"configuration (step {step}), so the limit could break later"
            )
        return None
