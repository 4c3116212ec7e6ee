"""The run journal: SQLite in WAL mode, one transaction per tick, every row checksummed.

Each tick's row (inputs, transition, prover results, actions, state, the venue's compact
state), the orders it changed and the fills it got are committed together, before the
next tick's actions go out. A run killed at any moment therefore resumes from the last
committed tick: the venue and the model are restored from that row, and the tick that was
cut short is played again from the start, with the same client order ids.

Every tick row carries a SHA-256 ``hash`` chained over the run: it covers the row, the
fills of that tick, the digests of the orders the tick wrote (column ``orders``) and the
previous row's hash; tick 0's covers the run's settings in ``meta``. A changed byte
anywhere breaks the chain where it was changed (:mod:`checker.run.integrity` checks it
on resume).

A new journal is written under a temporary name beside its final one and renamed once it
holds its settings and tick 0, so a run killed while it starts leaves no journal behind.

With ``synchronous=NORMAL`` (the default) a committed tick survives the process being
killed (SIGKILL, out of memory); ``fsync=True`` (``synchronous=FULL``) makes it survive
the machine losing power too, at the cost of a disk flush per tick.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from checker.errors import SeqproveError
from checker.model import decimal_text
from checker.run.lock import JournalUnwritable, RunLock, why_unwritable
from checker.run.venue import Fill, Num, Order

FORMAT = "seqprove-journal/2"
"""The format of the journal of a model without instruments."""
FORMAT_BOOKS = "seqprove-journal/3"
"""The format of the journal of a model with instruments (language version 2): its orders
and fills name their instrument, an order its time in force, a fill whether it hit a
pending order; a tick's ``mid`` and ``position`` are JSON objects by instrument, and its
``venue`` holds every instrument's venue."""
FORMATS = (FORMAT, FORMAT_BOOKS)


def journal_format(*, instruments: bool) -> str:
    """The format of the journal of a run, by whether its model has instruments."""
    return FORMAT_BOOKS if instruments else FORMAT


SETTINGS = ("format", "model_sha256", "params", "data_sha256", "contract_size", "slippage_bps")
"""The ``meta`` keys that say what the run is, covered by tick 0's hash (not the file
names or the start time: the same model and data give the same journal, hash for hash)."""

TICK_COLUMNS = (
    "tick",
    "line",
    "time",
    "step",
    "transition",
    "inputs",
    "provers",
    "actions",
    "state",
    "event",
    "mid",
    "position",
    "equity",
    "venue",
    "reads",
    "orders",
    "hash",
)
ORDER_COLUMNS = ("cid", "tick", "side", "qty", "price", "filled", "status", "written")
FILL_COLUMNS = ("fill_id", "cid", "tick", "side", "qty", "price", "kind")
ORDER_COLUMNS_BOOKS = (*ORDER_COLUMNS, "instrument", "tif")
FILL_COLUMNS_BOOKS = (*FILL_COLUMNS, "instrument", "pending")
RUN_TABLES = {"meta", "ticks", "orders", "fills"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticks (
    tick INTEGER PRIMARY KEY,   -- 0 is the initial configuration
    line INTEGER,               -- where the tick's row is in the data file
    time TEXT,
    step TEXT NOT NULL,         -- the step after the tick
    transition INTEGER,         -- index of the transition that fired, NULL if none did
    inputs TEXT NOT NULL,       -- JSON
    provers TEXT NOT NULL,      -- JSON: [[prover, true|false], ...] evaluated again
    actions TEXT NOT NULL,      -- JSON: what was sent, with client ids and outcome
    state TEXT NOT NULL,        -- JSON: the model's state after the tick
    event TEXT,                 -- JSON: a denial, an assumption breach, a limit breach, an end
    mid TEXT,                   -- the mark price, exact
    position TEXT NOT NULL,     -- the venue's net position, exact
    equity TEXT NOT NULL,       -- the venue's marked-to-market PnL, exact
    venue TEXT NOT NULL,        -- JSON: the venue's compact state (open orders, accounting)
    reads TEXT NOT NULL,        -- JSON: venue quantities at the strategy's last read
    orders TEXT NOT NULL,       -- JSON: {cid: digest} of the order rows this tick wrote
    hash TEXT NOT NULL          -- SHA-256 over this row, its fills, the previous hash
);
CREATE TABLE IF NOT EXISTS orders (
    cid TEXT PRIMARY KEY, tick INTEGER NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL,
    price TEXT, filled TEXT NOT NULL, status TEXT NOT NULL,
    written INTEGER NOT NULL    -- the tick that last wrote this row
);
CREATE TABLE IF NOT EXISTS fills (
    fill_id TEXT PRIMARY KEY, cid TEXT NOT NULL, tick INTEGER NOT NULL, side TEXT NOT NULL,
    qty TEXT NOT NULL, price TEXT NOT NULL, kind TEXT NOT NULL
);
"""

_BOOK_TABLES = """
DROP TABLE orders;
DROP TABLE fills;
CREATE TABLE orders (
    cid TEXT PRIMARY KEY, tick INTEGER NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL,
    price TEXT, filled TEXT NOT NULL, status TEXT NOT NULL,
    written INTEGER NOT NULL,   -- the tick that last wrote this row
    instrument TEXT NOT NULL,   -- the instrument whose venue holds the order
    tif TEXT NOT NULL           -- gtc, or ioc (a market order is ioc)
);
CREATE TABLE fills (
    fill_id TEXT PRIMARY KEY, cid TEXT NOT NULL, tick INTEGER NOT NULL, side TEXT NOT NULL,
    qty TEXT NOT NULL, price TEXT NOT NULL, kind TEXT NOT NULL,
    instrument TEXT NOT NULL,
    pending INTEGER NOT NULL    -- 1: it hit a pending order (cancelled, IOC or market)
);
"""


class TickRecord(NamedTuple):
    """What the journal keeps of one tick (a named tuple: one is made every tick)."""

    tick: int
    line: int | None
    time: str | None
    step: str
    transition: int | None
    inputs: Mapping[str, Any]
    provers: list[tuple[str, bool]]
    actions: list[dict[str, Any]]
    state: Mapping[str, Any]
    event: Mapping[str, Any] | None
    mid: str | None
    position: str
    equity: str
    venue: Mapping[str, Any]
    reads: Mapping[str, Any]


class JournalError(SeqproveError):
    """A file that is not a journal, or a journal without a run where one is needed."""


class JournalDamaged(JournalError):
    """A journal whose content does not agree with its checksums or with itself."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        super().__init__(
            f"journal {path} is damaged: {shown}. It is refused and left as it is; "
            "keep it for inspection and start the run again with another --journal"
        )


def _num(value: Num) -> str:
    """Exact decimal text (``60000.5``), or ``p/q`` when no decimal is exact."""
    return str(value) if isinstance(value, int) else decimal_text(value)


_j = json.JSONEncoder(separators=(",", ":")).encode
"""``json.dumps(value, separators=(",", ":"))``, without making an encoder every call."""


def digest(values: Iterable[Any]) -> str:
    """SHA-256 of a row's values as the journal stores them."""
    return hashlib.sha256(_j(list(values)).encode()).hexdigest()


def settings_hash(meta: Mapping[str, Any]) -> str:
    """What tick 0's hash chains from: the run's settings as stored (JSON text)."""
    return digest([[k, meta.get(k)] for k in SETTINGS])


def tick_hash(prev: str, row: Iterable[Any], fills: Iterable[Iterable[Any]]) -> str:
    """The hash of a tick row (without its ``hash``), given its fills and the previous
    row's hash."""
    return digest([prev, list(row), sorted(list(f) for f in fills)])


def write_failure(path: Path | str, exc: sqlite3.Error, what: str) -> SeqproveError:
    """A failed write in words: the disk is full, the file is read-only, or damaged."""
    text = str(exc)
    if "full" in text:
        why = "the disk is full"
    elif "readonly" in text or "read-only" in text:
        why = "it is read-only"
    elif "disk I/O error" in text or "unable to open" in text:
        why = f"the disk reported an error ({text})"
    else:
        return JournalDamaged(path, [f"SQLite: {text}"])
    return JournalUnwritable(
        f"journal {path} cannot be written, {why}: {what}; the journal is rolled back "
        "to its last whole tick, and `--resume` continues from it once it can be written"
    )


class Journal:
    """A run's journal; ``Journal(":memory:")`` keeps it in memory (a backtest)."""

    def __init__(self, path: Path | str, fsync: bool = False, *, existing: bool = False) -> None:
        """Open (or create) the journal at ``path``; with ``existing`` it must already
        hold a run, and nothing is written to a file that does not.

        Raises
        ------
        JournalError
            When the file is not a journal (not SQLite, or no run in it).
        """
        self.path = path
        self.final: Path | None = None  # where a journal being created goes once whole
        self.lock: RunLock | None = None
        self.fsync = fsync
        self._prev: str | None = None  # hash of the last tick row written
        self.commit_every = 1
        """Ticks per transaction (see :meth:`write_tick`)."""
        self._group: list[tuple[Any, ...]] = []  # tick rows written, not yet committed
        self._group_orders: list[tuple[Any, ...]] = []
        self._group_fills: list[tuple[Any, ...]] = []
        self._committed: str | None = None  # hash of the last tick row committed
        self.instruments = False  # the orders and fills tables name their instrument
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None)
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
            if existing and not {"meta", "ticks"} <= tables:
                self.db.close()
                raise JournalError(f"{path} holds no run to resume")
            if str(path) != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            if not existing:
                self.db.executescript(_SCHEMA)
            self.instruments = "instrument" in self._columns("orders")
        except sqlite3.OperationalError as exc:
            if any(w in str(exc) for w in ("full", "readonly", "unable to open", "I/O")):
                raise write_failure(path, exc, "it cannot be opened for writing") from None
            raise JournalError(f"{path} is not a seqprove journal ({exc})") from None
        except sqlite3.DatabaseError as exc:
            if "malformed" in str(exc):
                raise JournalDamaged(path, [f"SQLite: {exc}"]) from None
            raise JournalError(f"{path} is not a seqprove journal ({exc})") from None
        except UnicodeDecodeError:  # a table's name in the schema is no longer text
            self.db.close()
            raise JournalDamaged(path, ["SQLite's schema is not UTF-8 text"]) from None

    def _columns(self, table: str) -> list[str]:
        return [str(r[1]) for r in self.db.execute(f"PRAGMA table_info({table})")]

    def prepare(self, *, instruments: bool) -> None:
        """Give a journal that holds no tick yet the tables of its run: with
        ``instruments``, orders and fills that name their instrument (format
        :data:`FORMAT_BOOKS`). A journal that holds ticks is left as it is (a resume
        compares its format with the run's)."""
        if (
            instruments == self.instruments
            or self.db.execute("SELECT 1 FROM ticks LIMIT 1").fetchone()
        ):
            return
        if not instruments:
            return  # a journal is never taken back to the format without instruments
        try:
            self.db.executescript(_BOOK_TABLES)
        except sqlite3.OperationalError as exc:
            raise write_failure(self.path, exc, "its tables were not created") from None
        self.instruments = True

    def close(self) -> None:
        """Close the journal; ticks written since the last commit of a group are dropped,
        as a killed run would lose them (:meth:`flush` first to keep them)."""
        self._drop_group()
        self.db.close()
        if self.final is not None:  # never published: the run did not start
            remove_journal_files(Path(self.path))
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def publish(self) -> None:
        """Give a journal being created its final name, now that it holds a run: close
        it (SQLite checkpoints the WAL into the file), flush it, rename it, and open it
        again. A journal not being created is left alone."""
        if self.final is None:
            return
        self.flush()
        tmp, final = Path(self.path), self.final
        try:
            self.db.close()
            with tmp.open("rb+") as handle:
                os.fsync(handle.fileno())
            for suffix in ("-wal", "-shm"):  # a stale WAL must not be replayed on it
                remove_journal_files(final.with_name(final.name + suffix))
            tmp.replace(final)
            directory = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            remove_journal_files(tmp)
            self.final = None
            raise JournalUnwritable(
                f"journal {final} cannot be created: {why_unwritable(final, exc)}"
            ) from None
        self.final = None
        self.path = final
        self.db = sqlite3.connect(str(final), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")

    # -- metadata ---------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        self.flush()
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [(k, _j(v)) for k, v in values.items()],
                )
        except sqlite3.OperationalError as exc:
            raise write_failure(self.path, exc, "the run's settings were not saved") from None

    # -- ticks --------------------------------------------------------------------------------
    def _previous_hash(self, tick: int) -> str:
        if self._prev is not None:
            return self._prev
        row = self.db.execute("SELECT hash FROM ticks ORDER BY tick DESC LIMIT 1").fetchone()
        if row is not None:
            return str(row[0])
        raw = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        return settings_hash(raw)

    def write_tick(
        self, record: TickRecord, orders: Iterable[Order], fills: Iterable[Fill]
    ) -> None:
        """Write one tick with the orders it changed and the fills it got. With
        ``commit_every`` 1 the tick is committed at once, in one transaction; with N > 1
        it joins the current group, and every N ticks the group is committed in one
        transaction (:meth:`flush`): a tick is kept whole or not at all, and the journal
        always ends at the last tick of a committed group.

        Raises
        ------
        JournalUnwritable
            When the disk is full or the file cannot be written: nothing of the tick (of
            its group) is kept, and the journal ends at the tick before it (before the
            group).
        """
        tick = record.tick
        order_rows = [
            (
                o.cid,
                o.tick,
                o.side,
                _num(o.qty),
                None if o.price is None else _num(o.price),
                _num(o.filled),
                o.status,
                tick,
                *((o.instrument, o.tif) if self.instruments else ()),
            )
            for o in orders
        ]
        fill_rows = [
            (
                f.fill_id,
                f.cid,
                f.tick,
                f.side,
                _num(f.qty),
                _num(f.price),
                f.kind,
                *((f.instrument, int(f.pending)) if self.instruments else ()),
            )
            for f in fills
        ]
        row = (
            tick,
            record.line,
            record.time,
            record.step,
            record.transition,
            _j(record.inputs),
            _j(record.provers),
            _j(record.actions),
            _j(record.state),
            None if record.event is None else _j(record.event),
            record.mid,
            record.position,
            record.equity,
            _j(record.venue),
            _j(record.reads),
            _j({o[0]: digest(o) for o in order_rows}),
        )
        chained = tick_hash(self._previous_hash(tick), row, fill_rows)
        if self.commit_every > 1:
            if not self._group:
                self._committed = self._previous_hash(tick)
            self._group.append((*row, chained))
            self._group_orders += order_rows
            self._group_fills += fill_rows
            self._prev = chained
            if len(self._group) >= self.commit_every:
                self.flush()
            return
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.execute(
                    "INSERT INTO ticks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*row, chained),
                )
                self.db.executemany(
                    f"INSERT OR REPLACE INTO orders VALUES ({self._marks(ORDER_COLUMNS)})",
                    order_rows,
                )
                self.db.executemany(
                    f"INSERT INTO fills VALUES ({self._marks(FILL_COLUMNS)})", fill_rows
                )
        except sqlite3.OperationalError as exc:
            raise write_failure(self.path, exc, f"tick {tick} was not journaled") from None
        self._prev = chained

    def flush(self) -> None:
        """Commit the ticks of the current group in one transaction (nothing to do when
        every tick is committed).

        Raises
        ------
        JournalUnwritable
            When the disk is full or the file cannot be written: nothing of the group is
            kept, and the journal ends at the last tick of the group before.
        """
        if not self._group:
            return
        rows, orders, fills = self._group, self._group_orders, self._group_fills
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT INTO ticks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
                )
                self.db.executemany(
                    f"INSERT OR REPLACE INTO orders VALUES ({self._marks(ORDER_COLUMNS)})",
                    orders,
                )
                self.db.executemany(
                    f"INSERT INTO fills VALUES ({self._marks(FILL_COLUMNS)})", fills
                )
        except sqlite3.OperationalError as exc:
            first, last = rows[0][0], rows[-1][0]
            self._drop_group()
            raise write_failure(
                self.path, exc, f"ticks {first} to {last} were not journaled"
            ) from None
        self._group, self._group_orders, self._group_fills = [], [], []

    def _drop_group(self) -> None:
        """Forget the ticks written since the last commit: the journal ends before them."""
        if self._group:
            self._prev = self._committed
        self._group, self._group_orders, self._group_fills = [], [], []

    def _marks(self, columns: tuple[str, ...]) -> str:
        """The ``?`` placeholders of a row of a table of ``columns`` (two more with
        instruments)."""
        return ",".join("?" * (len(columns) + (2 if self.instruments else 0)))

    def last_tick(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM ticks ORDER BY tick DESC LIMIT 1").fetchone()
        return None if row is None else self._tick(row)

    def tick(self, number: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM ticks WHERE tick = ?", (number,)).fetchone()
        return None if row is None else self._tick(row)

    def ticks(self) -> Iterator[dict[str, Any]]:
        for row in self.db.execute("SELECT * FROM ticks ORDER BY tick"):
            yield self._tick(row)

    def series(self) -> list[tuple[int, str | None, str, str]]:
        """(tick, mid, position, equity) of every tick, for the report and the plot."""
        return list(self.db.execute("SELECT tick, mid, position, equity FROM ticks ORDER BY tick"))

    def count(self, table: str) -> int:
        assert table in ("ticks", "orders", "fills")
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def fill_counts(self) -> dict[str, int]:
        """The number of fills of each instrument (``""`` without instruments)."""
        if not self.instruments:
            return {"": self.count("fills")}
        query = "SELECT instrument, COUNT(*) FROM fills GROUP BY instrument"
        return {str(name): int(n) for name, n in self.db.execute(query)}

    def fills(self) -> list[Fill]:
        """Every fill of the run, in the order they were journaled."""
        columns = FILL_COLUMNS_BOOKS if self.instruments else FILL_COLUMNS
        found = []
        for row in self.db.execute(f"SELECT {', '.join(columns)} FROM fills ORDER BY tick, rowid"):
            f = dict(zip(columns, row, strict=True))
            found.append(
                Fill(
                    f["fill_id"],
                    f["cid"],
                    int(f["tick"]),
                    f["side"],
                    Fraction(f["qty"]),
                    Fraction(f["price"]),
                    f["kind"],
                    f.get("instrument", ""),
                    bool(f.get("pending", False)),
                )
            )
        return found

    def events(self) -> list[tuple[int, dict[str, Any]]]:
        return [
            (tick, json.loads(event))
            for tick, event in self.db.execute(
                "SELECT tick, event FROM ticks WHERE event IS NOT NULL ORDER BY tick"
            )
        ]

    def _tick(self, row: tuple[Any, ...]) -> dict[str, Any]:
        out = dict(zip(TICK_COLUMNS, row, strict=True))
        for key in ("inputs", "provers", "actions", "state", "event", "venue", "reads", "orders"):
            if out[key] is not None:
                out[key] = json.loads(out[key])
        return out

    def rows_of(self, tick: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The order rows last written by ``tick`` and the fills of ``tick``."""
        orders = list(self.db.execute("SELECT * FROM orders WHERE written = ? ORDER BY 1", (tick,)))
        fills = list(self.db.execute("SELECT * FROM fills WHERE tick = ? ORDER BY 1", (tick,)))
        return orders, fills

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every run table, for comparing two journals."""
        return {
            table: list(self.db.execute(f"SELECT * FROM {table} ORDER BY 1"))
            for table in ("ticks", "orders", "fills")
        }


def remove_journal_files(path: Path) -> None:
    """Remove a journal file with its WAL and shared-memory files, those that exist."""
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        each.unlink(missing_ok=True)
