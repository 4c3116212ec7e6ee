"""What a data file says about itself: where its rows came from and how its books were made.

``seqprove data import`` writes this next to the rows it makes, and ``seqprove run`` and
``seqprove data profile`` read it back, so that a run on a book made from candles says so
in its report, and the paper venue picks the fill model the rows' granularity calls for.

Where it is kept:

- a Parquet file: in its schema's key-value metadata, under the key ``seqprove``;
- a CSV file: in a sidecar file beside it, ``NAME.csv.meta.json``.

Both hold the same JSON object (:meth:`DataMeta.to_json`). A file without it (written by
hand, by ``data synth`` or by another tool) has no metadata: its book is taken as quotes
and its rows as ticks, the rules of ``seqprove run`` before data import existed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.errors import SeqproveError

META_KEY = "seqprove"
"""The key of the metadata in a Parquet file's schema."""

META_VERSION = 1

GRANULARITIES = ("tick", "bar")
"""``tick``: each row is a state of the book (quotes, or trades as they happened);
``bar``: each row sums an interval (a candle: open, high, low, close, volume)."""

BOOK_KINDS = ("quotes", "trades", "candles")
"""Where a book's bid and ask came from: real top-of-book quotes, the prices of trades, or
candles (no book at all: the bid and ask are made, and :attr:`BookOrigin.how` says how)."""


class MetaError(SeqproveError):
    """A data file's metadata that cannot be read."""


@dataclass(frozen=True)
class BookOrigin:
    """How the book of one instrument (``""``: the plain columns) was made."""

    instrument: str
    kind: str
    granularity: str
    interval_ms: int | None = None
    how: str = ""
    """One sentence a report can print, e.g. ``bid and ask made from each bar's close
    +/- half a spread of 1 bp; touch sizes are the bar's volume``."""
    contract_size: str | None = None
    """The contract the quantities are counted in, in units of the base asset (exact
    decimal text, e.g. ``"0.01"``), when the import converted them."""
    source_unit: str = ""
    """What the source counted quantities in, e.g. ``BTC``, ``USD``, ``contracts of 100
    USD (inverse)``."""

    def __post_init__(self) -> None:
        if self.kind not in BOOK_KINDS:
            raise MetaError(f"book of {self.instrument!r}: unknown kind {self.kind!r}")
        if self.granularity not in GRANULARITIES:
            raise MetaError(
                f"book of {self.instrument!r}: unknown granularity {self.granularity!r}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "kind": self.kind,
            "granularity": self.granularity,
            "interval_ms": self.interval_ms,
            "how": self.how,
            "contract_size": self.contract_size,
            "source_unit": self.source_unit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookOrigin:
        try:
            interval = data.get("interval_ms")
            return cls(
                instrument=str(data["instrument"]),
                kind=str(data["kind"]),
                granularity=str(data["granularity"]),
                interval_ms=None if interval is None else int(interval),
                how=str(data.get("how", "")),
                contract_size=None
                if data.get("contract_size") is None
                else str(data["contract_size"]),
                source_unit=str(data.get("source_unit", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MetaError(f"a book's metadata is malformed: {exc}") from None


@dataclass(frozen=True)
class DataMeta:
    """Everything ``data import`` records about a file it wrote."""

    books: tuple[BookOrigin, ...]
    sources: tuple[dict[str, str], ...] = ()
    """One entry per source file: ``path``, ``format``, ``sha256``, ``rows``."""
    interval: str | None = None
    """The resampling interval (``1m``, ``1s``, ...), or None when rows were kept as read."""
    policy: str = ""
    """The gap policy that was applied, as printed (``carry``, ``drop`` or ``stop``)."""
    problems: tuple[str, ...] = ()
    """What the import found and how the policy handled it, one line each."""
    extra: dict[str, Any] = field(default_factory=dict)

    def book(self, instrument: str) -> BookOrigin | None:
        for origin in self.books:
            if origin.instrument == instrument:
                return origin
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": META_VERSION,
            "books": [b.to_json() for b in self.books],
            "sources": [dict(s) for s in self.sources],
            "interval": self.interval,
            "policy": self.policy,
            "problems": list(self.problems),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Any) -> DataMeta:
        if not isinstance(data, dict) or data.get("version") != META_VERSION:
            raise MetaError("not seqprove data metadata of version 1")
        try:
            return cls(
                books=tuple(BookOrigin.from_json(b) for b in data.get("books", [])),
                sources=tuple(
                    {str(k): str(v) for k, v in s.items()} for s in data.get("sources", [])
                ),
                interval=None if data.get("interval") is None else str(data["interval"]),
                policy=str(data.get("policy", "")),
                problems=tuple(str(p) for p in data.get("problems", [])),
                extra=dict(data.get("extra", {})),
            )
        except (AttributeError, TypeError) as exc:
            raise MetaError(f"malformed metadata: {exc}") from None


def sidecar(path: Path) -> Path:
    """Where the metadata of a CSV file is kept."""
    return path.with_name(path.name + ".meta.json")


def read_meta(path: Path) -> DataMeta | None:
    """The metadata of data file ``path``, or None when it has none."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            stored = pq.read_schema(path).metadata or {}
        except (OSError, ValueError) as exc:
            raise MetaError(f"{path}: cannot read the Parquet schema: {exc}") from None
        raw = stored.get(META_KEY.encode())
        if raw is None:
            return None
        text = raw.decode("utf-8", errors="replace")
    else:
        beside = sidecar(path)
        if not beside.is_file():
            return None
        try:
            text = beside.read_text(encoding="utf-8")
        except OSError as exc:
            raise MetaError(f"{beside}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetaError(f"{path}: the metadata is not JSON: {exc}") from None
    return DataMeta.from_json(data)


def meta_text(meta: DataMeta) -> str:
    """The metadata as JSON text, as it is stored."""
    return json.dumps(meta.to_json(), sort_keys=True)


def write_sidecar(path: Path, meta: DataMeta) -> Path:
    """Write the metadata of CSV file ``path`` beside it; returns the sidecar's path."""
    beside = sidecar(path)
    beside.write_text(json.dumps(meta.to_json(), indent=2, sort_keys=True) + "\n")
    return beside
