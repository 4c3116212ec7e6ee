"""``seqprove data import``: sources read, cleaned, made into books, joined, converted to
the model's contracts and written with their metadata."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np

from checker.errors import UsageError
from checker.ingest import detect, mapped
from checker.ingest.base import Ints, Objects, Source, fail, joined
from checker.ingest.books import Book, make_book
from checker.ingest.join import join
from checker.ingest.quality import POLICIES, Problem, clean, iso, stop
from checker.ingest.units import PLACES, check_unit, describe, to_contracts
from checker.ingest.writer import decimal_text, time_texts, write
from checker.model import Model
from checker.run import TIME_COLUMN, VENUE_COLUMNS
from checker.run.derive import DERIVABLE, derived_columns
from checker.run.meta import BookOrigin, DataMeta

DEFAULT_SPREAD_BPS = Decimal(1)
"""The spread of a book made from candles or trades, in bp of the price: wider than the
touch of a liquid BTC book (0.01-0.1 USD, about 0.01 bp, on Binance), so that a strategy
that earns the spread is not flattered by it, and narrow enough to leave room to quote
inside; a model's run on candles should be tried with several (``--spread-bps``)."""
_INTERVAL = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_interval(text: str) -> int:
    """``500ms``, ``1s``, ``1m``, ``5m``, ``1h``, ``1d`` as ms."""
    found = _INTERVAL.fullmatch(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise UsageError(
            f"--interval {text}: write a whole number and a unit, e.g. 500ms, 1s, 1m, 5m, 1h"
        )
    return int(found.group(1)) * _UNIT_MS[found.group(2)]


def interval_text(ms: int) -> str:
    for unit in ("d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class Request:
    """What the command line asks for."""

    sources: Sequence[tuple[str, Path]]
    """(instrument, path): instrument ``""`` when the source names none."""
    out: Path
    formats: Mapping[str, str] = field(default_factory=dict)
    """By source path, instrument, or ``""`` for every source."""
    maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """By instrument (``""``: every source): target -> source column."""
    interval: str | None = None
    policy: str = "stop"
    model: Model | None = None
    contract_sizes: Mapping[str, Decimal] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    spread_bps: Decimal = DEFAULT_SPREAD_BPS


@dataclass(frozen=True)
class Result:
    out: Path
    columns: tuple[str, ...]
    rows_in: int
    rows_out: int
    first: str
    last: str
    meta: DataMeta
    problems: tuple[Problem, ...]
    cut: int
    read: tuple[Source, ...]


def _instruments(request: Request) -> list[str]:
    """Each source's instrument, checked against the model."""
    model = request.model
    named = [i for i, _ in request.sources]
    if any(named) and not all(named):
        raise fail(
            str(request.sources[named.index("")][1]),
            1,
            "name the instrument of every source (INSTRUMENT=PATH) or of none",
        )
    if model is None:
        return named
    declared = [i.name for i in model.instruments]
    if not declared:
        if any(named):
            raise fail(
                str(request.sources[0][1]),
                1,
                f"{model.strategy} has no instruments: give the sources without INSTRUMENT=",
            )
        return named
    if not any(named):
        if len(declared) > 1:
            raise fail(
                str(request.sources[0][1]),
                1,
                f"{model.strategy} has instruments {', '.join(declared)}: name each source's, "
                f"e.g. {declared[0]}=PATH",
            )
        return [declared[0]] * len(named)
    for instrument, path in request.sources:
        if instrument not in declared:
            raise fail(
                str(path),
                1,
                f"{model.strategy} has no instrument '{instrument}' (it has {', '.join(declared)})",
            )
    missing = [d for d in declared if d not in named]
    if missing:
        raise fail(
            str(request.sources[0][1]),
            1,
            f"no source for instrument(s) {', '.join(missing)} of {model.strategy}",
        )
    return named


def _check_keys(request: Request, instruments: Sequence[str]) -> None:
    """Every option given for one instrument (or source) names one of this import."""
    known = set(instruments) | {""}
    paths = {str(p) for _, p in request.sources}
    for option, keys in (
        ("--contract-size", request.contract_sizes),
        ("--unit", request.units),
        ("--map", request.maps),
        ("--format", request.formats),
    ):
        for key in keys:
            if key not in known and not (option == "--format" and key in paths):
                names = ", ".join(sorted(known - {""})) or "none (name them: INSTRUMENT=PATH)"
                raise UsageError(
                    f"{option} {key}=...: '{key}' is not an instrument of this import (it has "
                    f"{names})"
                )


def _read(request: Request, instrument: str, path: Path) -> Source:
    mapping = request.maps.get(instrument) or request.maps.get("") or {}
    fmt = (
        request.formats.get(str(path))
        or request.formats.get(instrument)
        or request.formats.get("")
        or (mapped.FORMAT if mapping else detect.detect(path))
    )
    if fmt not in detect.FORMATS:
        raise fail(str(path), 1, f"unknown format {fmt!r}: one of {', '.join(detect.FORMATS)}")
    if fmt == mapped.FORMAT and not mapping:
        raise fail(
            str(path), 1, "the mapped format needs --map TARGET=COLUMN (e.g. --map bid=best_bid)"
        )
    source = detect.read(path, fmt, mapping)
    source.instrument = instrument
    unit = request.units.get(instrument) or request.units.get("")
    if unit:
        source.unit = check_unit(unit)
    return source


def run_import(request: Request) -> Result:
    """Import ``request.sources`` into ``request.out``.

    Raises
    ------
    IngestError
        Bad input, or a problem under the policy ``stop``: nothing is written.
    """
    if request.policy not in POLICIES:
        raise UsageError(f"--gaps {request.policy}: one of {', '.join(POLICIES)}")
    if request.spread_bps <= 0:
        raise UsageError("--spread-bps: the spread of a made book must be more than 0 bp")
    instruments = _instruments(request)
    _check_keys(request, instruments)
    read = [_read(request, i, p) for i, (_, p) in zip(instruments, request.sources, strict=True)]
    groups: dict[str, dict[str, list[Source]]] = {}
    for source in read:
        groups.setdefault(source.instrument, {}).setdefault(source.kind, []).append(source)
    bars = [s.interval_ms for s in read if s.granularity == "bar" and s.interval_ms]
    interval_ms = parse_interval(request.interval) if request.interval else None
    for s in read:
        if (
            interval_ms is not None
            and s.granularity == "bar"
            and s.interval_ms
            and interval_ms % s.interval_ms
        ):
            raise fail(
                s.path,
                1,
                f"--interval {request.interval}: bars of {interval_text(s.interval_ms)} cannot "
                "be cut into it (give a multiple of the bars' interval)",
            )
    if interval_ms is None and bars:
        interval_ms = max(bars)
    interval_us = None if interval_ms is None else interval_ms * 1000
    problems: list[Problem] = []
    books: list[Book] = []
    for instrument, kinds in groups.items():
        cleaned = []
        for kind, parts in kinds.items():
            source = joined(parts)
            duplicates = kind != "trades" and (interval_us is None or source.granularity == "bar")
            source, found = clean(source, request.policy, duplicates)
            problems += found
            if not source.rows:
                raise fail(source.path, 1, "no rows left")
            cleaned.append(source)
        books.append(make_book(instrument, cleaned, interval_us, request.spread_bps))
    in_contracts(request, books)
    on_axis = join(books, interval_us, request.policy)
    problems += on_axis.problems
    if request.policy == "stop":
        stop(problems)
    if not len(on_axis.keys):
        raise fail(str(request.out), 1, "no rows left to write")
    columns, origins = _columns(request, books, on_axis.columns, interval_ms)
    derived: tuple[str, ...] = ()
    if request.model is not None:
        # the inputs no source gives, derived from the rows (as `seqprove data derive`)
        texts = _Texts(on_axis.keys, columns)
        made, derived = derived_columns(request.model, texts, len(on_axis.keys), str(request.out))
        columns = {**columns, **{c: np.array(v, dtype=object) for c, v in made.items()}}
    rows_in = sum(s.rows for s in read)
    meta = DataMeta(
        books=tuple(origins),
        sources=tuple(
            {
                "path": str(path),
                "format": s.format,
                "sha256": s.sha256,
                "rows": str(s.rows),
                "instrument": s.instrument,
            }
            for s, (_, path) in zip(read, request.sources, strict=True)
        ),
        interval=None if interval_ms is None else interval_text(interval_ms),
        policy=request.policy,
        problems=tuple(p.line() for p in problems),
        extra={
            "spread_bps": f"{request.spread_bps.normalize():f}",
            "time": "the start of each row's interval"
            if interval_ms is not None
            else "the time of each book row (tick data)",
            "rows_in": rows_in,
            "rows_out": len(on_axis.keys),
            "rows_outside_common_span": on_axis.cut,
            **({"derived": list(derived)} if derived else {}),
        },
    )
    write(request.out, on_axis.keys, columns, meta)
    return Result(
        request.out,
        ("time", *columns),
        rows_in,
        len(on_axis.keys),
        iso(int(on_axis.keys[0])),
        iso(int(on_axis.keys[-1])),
        meta,
        tuple(problems),
        on_axis.cut,
        tuple(read),
    )


class _Texts(Mapping[str, Sequence[str]]):
    """The rows about to be written, by column, as the text of their cells (``time``
    first, as in the file), each column made only when it is read."""

    def __init__(self, times: Ints, columns: Mapping[str, Objects]) -> None:
        self._times = times
        self._columns = columns
        self._made: dict[str, list[str]] = {}

    def __getitem__(self, name: str) -> list[str]:
        if name not in self._made:
            if name == TIME_COLUMN:
                self._made[name] = time_texts(self._times)
            else:
                self._made[name] = [decimal_text(v) for v in self._columns[name]]
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter((TIME_COLUMN, *self._columns))

    def __len__(self) -> int:
        return 1 + len(self._columns)


def contracts(
    request: Request, books: list[Book]
) -> tuple[dict[str, Decimal | None], dict[str, bool]]:
    """Each instrument's contract size (None: none given, quantities stay in the base
    asset) and whether its quantities are whole contracts."""
    model = request.model
    whole: dict[str, bool] = {}
    sizes: dict[str, Decimal | None] = {}
    if model is not None:
        for i in model.instruments:
            whole[i.name] = i.qty.kind == "int"
            sizes[i.name] = Decimal(i.contract_size.numerator) / Decimal(
                i.contract_size.denominator
            )
    for book in books:
        given = request.contract_sizes.get(book.instrument) or request.contract_sizes.get("")
        if given is not None:
            if given <= 0:
                raise UsageError(f"--contract-size {given}: a contract size is more than 0")
            sizes[book.instrument] = given
        sizes.setdefault(book.instrument, None)
        whole.setdefault(book.instrument, False)
    return sizes, whole


def in_contracts(request: Request, books: list[Book]) -> None:
    """Every book's quantities converted, in place, from the base asset to contracts."""
    sizes, whole = contracts(request, books)
    for book in books:
        size = sizes[book.instrument] or Decimal(1)
        done: dict[int, Objects] = {}  # a book made from bars has one array thrice
        for name in ("bid_size", "ask_size", "volume"):
            values = getattr(book, name)
            if id(values) not in done:
                done[id(values)] = to_contracts(book.unit, values, size, whole[book.instrument])
            setattr(book, name, done[id(values)])


def _columns(
    request: Request,
    books: list[Book],
    values: Mapping[str, Mapping[str, Objects]],
    interval_ms: int | None,
) -> tuple[dict[str, Objects], list[BookOrigin]]:
    """The output columns (quantities in contracts) in the model's order, and how each
    book was made."""
    model = request.model
    names: dict[str, dict[str, str]]
    if model is not None and model.instruments:
        from checker.run.data import venue_columns

        names = venue_columns(model)
    else:
        names = {
            b.instrument: {c: f"{b.instrument}.{c}" if b.instrument else c for c in VENUE_COLUMNS}
            for b in books
        }
    sizes, whole = contracts(request, books)
    out: dict[str, Objects] = {}
    origins = []
    for book in books:
        size = sizes[book.instrument]
        cols = values[book.instrument]
        for field_name, column in names[book.instrument].items():
            out[column] = cols[field_name]
        rounding = (
            "rounded down to whole contracts"
            if whole[book.instrument]
            else f"rounded down to {PLACES} decimal places"
        )
        counted = (
            f"quantities in contracts of {size.normalize():f} of the base asset"
            if size is not None
            else "quantities in the base asset"
        )
        origins.append(
            BookOrigin(
                instrument=book.instrument,
                kind=book.kind,
                granularity=book.granularity,
                interval_ms=interval_ms,
                how=f"{book.how}; {counted}, {rounding}",
                contract_size=None if size is None else f"{size.normalize():f}",
                source_unit=describe(book.unit),
            )
        )
    if model is not None:
        from checker.run.data import columns_for, input_column, market_inputs, venue_columns

        forms = venue_columns(model, list(out))
        derivable = {
            input_column(model, v, forms) for v in market_inputs(model) if v.name in DERIVABLE
        }
        wanted = [c for c in columns_for(model) if c != "time"]
        missing = [c for c in wanted if c not in out and c not in derivable]
        if missing:
            raise fail(
                str(request.sources[0][1]),
                1,
                f"{model.strategy} reads column(s) {', '.join(missing)}, which no source "
                "gives and `seqprove data derive` cannot make (give a source for each, or "
                "import without --model and add them)",
            )
        out = {c: out[c] for c in wanted if c in out}
    return out, origins
