"""The run journal: SQLite in WAL mode, one transaction per tick.

Each tick's row (inputs, transition, prover results, actions, state, the venue's compact
state), the orders it changed and the fills it got are committed together, before the
next tick's actions go out. A run killed at any moment therefore resumes from the last
committed tick: the venue and the model are restored from that row, and the tick that was
cut short is played again from the start, with the same client order ids.

With ``synchronous=NORMAL`` (the default) a committed tick survives the process being
killed (SIGKILL, out of memory); ``fsync=True`` (``synchronous=FULL``) makes it survive
the machine losing power too, at the cost of a disk flush per tick.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.errors import SeqproveError
from checker.model import decimal_text
from checker.run.venue import Fill, Num, Order

FORMAT = "seqprove-journal/1"

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
    reads TEXT NOT NULL         -- JSON: venue quantities at the strategy's last read
);
CREATE TABLE IF NOT EXISTS orders (
    cid TEXT PRIMARY KEY, tick INTEGER NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL,
    price TEXT, filled TEXT NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fills (
    fill_id TEXT PRIMARY KEY, cid TEXT NOT NULL, tick INTEGER NOT NULL, side TEXT NOT NULL,
    qty TEXT NOT NULL, price TEXT NOT NULL, kind TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class TickRecord:
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


def _num(value: Num) -> str:
    """Exact decimal text (``60000.5``), or ``p/q`` when no decimal is exact."""
    return str(value) if isinstance(value, int) else decimal_text(value)


def _j(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


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
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None)
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
            if existing and not {"meta", "ticks"} <= tables:
                self.db.close()
                raise JournalError(f"{path} holds no run to resume")
            if str(path) != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{path} is not a seqprove journal ({exc})") from None

    def close(self) -> None:
        self.db.close()

    # -- metadata ---------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, _j(v)) for k, v in values.items()],
            )

    # -- ticks --------------------------------------------------------------------------------
    def write_tick(
        self, record: TickRecord, orders: Iterable[Order], fills: Iterable[Fill]
    ) -> None:
        """Commit one tick with the orders it changed and the fills it got, atomically."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO ticks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.tick,
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
                ),
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        o.cid,
                        o.tick,
                        o.side,
                        _num(o.qty),
                        None if o.price is None else _num(o.price),
                        _num(o.filled),
                        o.status,
                    )
                    for o in orders
                ],
            )
            self.db.executemany(
                "INSERT INTO fills VALUES (?,?,?,?,?,?,?)",
                [
                    (f.fill_id, f.cid, f.tick, f.side, _num(f.qty), _num(f.price), f.kind)
                    for f in fills
                ],
            )

    def last_tick(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM ticks ORDER BY tick DESC LIMIT 1").fetchone()
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

    def events(self) -> list[tuple[int, dict[str, Any]]]:
        return [
            (tick, json.loads(event))
            for tick, event in self.db.execute(
                "SELECT tick, event FROM ticks WHERE event IS NOT NULL ORDER BY tick"
            )
        ]

    def _tick(self, row: tuple[Any, ...]) -> dict[str, Any]:
        names = [d[0] for d in self.db.execute("SELECT * FROM ticks LIMIT 0").description]
        out = dict(zip(names, row, strict=True))
        for key in ("inputs", "provers", "actions", "state", "event", "venue", "reads"):
            if out[key] is not None:
                out[key] = json.loads(out[key])
        return out

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every run table, for comparing two journals."""
        return {
            table: list(self.db.execute(f"SELECT * FROM {table} ORDER BY 1"))
            for table in ("ticks", "orders", "fills")
        }
