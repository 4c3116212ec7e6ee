"""Checking a journal before a run resumes from it: is every byte as it was written, and
does the journal agree with itself?

:func:`damage` reads the whole journal and returns what is wrong, each problem naming
the table, the row and, where it can be told, the field:

1. SQLite's own check of the file (``PRAGMA quick_check``): a torn or overwritten page;
2. the tables and columns of the journal's format; text that is not UTF-8, JSON that does
   not parse, a value of the wrong type;
3. the ticks numbered 0, 1, 2, ... without a gap, every tick row's hash equal to the
   SHA-256 over the row, the fills of its tick, and the previous row's hash (tick 0's
   over the run's settings in ``meta``): a changed byte breaks the chain at its row;
4. every order row equal to what the tick that last wrote it recorded (its digest in
   that tick's ``orders``), and none missing;
5. the venue after the last tick against the tables: its position and its limit-order
   totals equal what the fills add up to, its open orders are the ``open`` rows of
   ``orders``, every order's ``filled`` is the sum of its fills.

The executor then plays the last tick again from the one before, into a scratch journal,
and :func:`differences` says where the two differ (see ``Executor.resume``).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from fractions import Fraction
from typing import Any

from checker.run.journal import (
    FILL_COLUMNS,
    FILL_COLUMNS_BOOKS,
    FORMAT,
    FORMAT_BOOKS,
    ORDER_COLUMNS,
    ORDER_COLUMNS_BOOKS,
    TICK_COLUMNS,
    Journal,
    digest,
    settings_hash,
    tick_hash,
)

MAX_PROBLEMS = 20
_JSON = {"inputs", "provers", "actions", "state", "event", "venue", "reads", "orders"}
_TABLES = {
    FORMAT: {
        "meta": ("key", "value"),
        "ticks": TICK_COLUMNS,
        "orders": ORDER_COLUMNS,
        "fills": FILL_COLUMNS,
    },
    FORMAT_BOOKS: {
        "meta": ("key", "value"),
        "ticks": TICK_COLUMNS,
        "orders": ORDER_COLUMNS_BOOKS,
        "fills": FILL_COLUMNS_BOOKS,
    },
}
_BOOK_JSON = {"mid", "position"}
"""Columns of a tick row that are JSON by instrument in :data:`FORMAT_BOOKS`."""


class _Stop(Exception):
    """Enough problems found."""


class _Problems:
    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, message: str) -> None:
        self.found.append(message)
        if len(self.found) >= MAX_PROBLEMS:
            raise _Stop


def damage(journal: Journal) -> list[str]:
    """Every problem found in ``journal`` (at most 20), or ``[]`` when it is whole. A
    journal of another format is not checked here (the executor refuses it by name)."""
    db = journal.db
    problems = _Problems()
    factory = db.text_factory
    db.text_factory = bytes
    try:
        _check(db, problems)
    except _Stop:
        pass
    except sqlite3.DatabaseError as exc:
        problems.found.append(f"SQLite: {exc}")
    finally:
        db.text_factory = factory
    return problems.found


def _text(value: Any, where: str, problems: _Problems) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            problems.add(f"{where} is not UTF-8 text")
            return None
    return value


def _check(db: sqlite3.Connection, problems: _Problems) -> None:
    verdict = [r[0] for r in db.execute("PRAGMA quick_check(5)")]
    if verdict not in ([b"ok"], ["ok"]):
        shown = "; ".join(_text(v, "SQLite's report", problems) or "?" for v in verdict)
        problems.add(f"SQLite finds the file damaged ({shown})")
        return
    raw: dict[str, Any] = {}
    for stored_key, value in db.execute("SELECT key, value FROM meta"):
        key = _text(stored_key, "a meta key", problems)
        text = _text(value, f"meta '{key}'", problems)
        raw[str(key)] = text
        try:
            json.loads(text)
        except (TypeError, ValueError):
            problems.add(f"meta '{key}' is not JSON")
    try:
        form = json.loads(raw.get("format") or "null")
    except ValueError:
        return
    if form not in _TABLES:
        return  # another format: the executor refuses it by name
    tables = _TABLES[form]
    for table, columns in tables.items():
        found = tuple(
            _text(r[1], "a column name", problems)
            for r in db.execute(f"PRAGMA table_info({table})")
        )
        if found != columns:
            problems.add(
                f"table {table} has columns ({', '.join(map(str, found))}), not those of {form}"
            )
    if problems.found:
        return
    books = form == FORMAT_BOOKS
    fills: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in db.execute("SELECT * FROM fills ORDER BY 1"):
        values = tuple(_text(v, f"fills row {row[0]!r}", problems) for v in row)
        if not isinstance(values[2], int):
            problems.add(f"fills row {values[0]}: tick {values[2]!r} is not a tick number")
            continue
        fills[values[2]].append(values)
    latest: dict[str, tuple[int, str]] = {}
    prev = settings_hash(raw)
    expected = 0
    last: dict[str, Any] | None = None
    for row in db.execute("SELECT * FROM ticks ORDER BY tick"):
        tick = row[0]
        where = f"ticks row {tick}"
        cells = [
            _text(v, f"{where}: column '{c}'", problems)
            for c, v in zip(TICK_COLUMNS, row, strict=True)
        ]
        if tick != expected:
            problems.add(f"ticks: tick {expected} is missing (the next row is tick {tick})")
            expected = tick
        expected += 1
        parsed = dict(zip(TICK_COLUMNS, cells, strict=True))
        for column in _JSON | (_BOOK_JSON if books else set()):
            if parsed[column] is None and column == "event":
                continue
            try:
                parsed[column] = json.loads(parsed[column])
            except (TypeError, ValueError):
                problems.add(f"{where}: column '{column}' is not JSON")
        if cells[-1] != tick_hash(prev, cells[:-1], fills.get(tick, [])):
            problems.add(
                f"{where} does not match its checksum (the row, or a fill of tick {tick}, "
                "was changed after it was written)"
            )
        prev = cells[-1] if isinstance(cells[-1], str) else ""
        if isinstance(parsed["orders"], dict):
            for cid, order_digest in parsed["orders"].items():
                latest[cid] = (tick, order_digest)
        last = parsed
    if last is None:
        problems.add("ticks: the journal holds no tick")
        return
    for tick in fills:
        if tick >= expected:
            problems.add(f"fills: fills of tick {tick}, after the last tick {expected - 1}")
    orders: dict[str, tuple[Any, ...]] = {}
    for row in db.execute("SELECT * FROM orders ORDER BY 1"):
        values = tuple(_text(v, f"orders row {row[0]!r}", problems) for v in row)
        cid = str(values[0])
        orders[cid] = values
        written = values[ORDER_COLUMNS.index("written")]
        if cid not in latest or latest[cid][0] != written:
            problems.add(
                f"orders row {cid}: written at tick {written!r}, but no tick wrote it then"
            )
        elif latest[cid][1] != digest(values):
            problems.add(
                f"orders row {cid} does not match its checksum "
                f"(written at tick {written}, changed since)"
            )
    for cid, (tick, _) in latest.items():
        if cid not in orders:
            problems.add(f"orders row {cid} is missing (tick {tick} wrote it)")
    if not problems.found:
        _agree(last, orders, fills, problems, books)


def _agree(
    last: dict[str, Any],
    orders: dict[str, tuple[Any, ...]],
    fills: dict[int, list[tuple[Any, ...]]],
    problems: _Problems,
    books: bool,
) -> None:
    """Each venue after the last tick against the orders and fills tables (a journal
    with instruments: every instrument's venue against its own rows)."""
    where = f"ticks row {last['tick']}"
    try:
        if not books:
            venues = {"": last["venue"]}
            positions = {"": last["position"]}
        else:
            venues = dict(last["venue"])
            positions = dict(last["position"])
        for name, venue in venues.items():
            mine_orders = {c: r for c, r in orders.items() if not books or r[-2] == name}
            mine_fills = [r for rows in fills.values() for r in rows if not books or r[-2] == name]
            _agree_venue(
                where, f"venue {name} " if books else "venue ", last["tick"], venue,
                positions[name], mine_orders, mine_fills, problems,
            )  # fmt: skip
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
        problems.add(f"{where}: the venue's state cannot be read ({type(exc).__name__}: {exc})")


def _agree_venue(
    where: str,
    label: str,
    tick: int,
    venue: dict[str, Any],
    stored_position: Any,
    orders: dict[str, tuple[Any, ...]],
    fills: list[tuple[Any, ...]],
    problems: _Problems,
) -> None:
    """One venue after the last tick against its orders and fills rows: ``label`` names
    it in the messages (``venue `` or ``venue perp ``)."""
    position = Fraction(venue.get("start", 0))
    bought = Fraction(0)
    sold = Fraction(0)
    per_order: dict[str, Fraction] = defaultdict(Fraction)
    for _, cid, _, side, qty, _, kind, *_ in fills:
        amount = Fraction(qty)
        per_order[cid] += amount
        position += amount if side == "buy" else -amount
        if kind == "limit":
            bought += amount if side == "buy" else 0
            sold += amount if side == "sell" else 0
    checks = [
        (f"{label}position", Fraction(venue["position"]), position, "the fills add up to"),
        (
            "position" if label == "venue " else f"position of {label.split()[1]}",
            Fraction(stored_position),
            position,
            "the fills add up to",
        ),
        (
            f"{label}bought_limit",
            Fraction(venue["bought_limit"]),
            bought,
            "the limit buys add up to",
        ),
        (f"{label}sold_limit", Fraction(venue["sold_limit"]), sold, "the limit sells add up to"),
    ]
    for name, stored, total, words in checks:
        if stored != total:
            problems.add(f"{where}: {name} is {stored}, but {words} {total}")
    for cid, row in orders.items():
        if Fraction(row[5]) != per_order.get(cid, Fraction(0)):
            problems.add(
                f"orders row {cid}: filled is {row[5]}, "
                f"but its fills add up to {per_order.get(cid, 0)}"
            )
    open_rows = {cid: row for cid, row in orders.items() if row[6] in ("open", "pending")}
    resting = {o["cid"]: o for o in venue["orders"]}
    for cid in sorted(set(open_rows) | set(resting)):
        if cid not in resting:
            problems.add(
                f"orders row {cid} is open, but the venue after tick {tick} does not hold it"
            )
        elif cid not in open_rows:
            problems.add(f"{where}: the {label}holds order {cid}, but its orders row is not open")
        else:
            o, row = resting[cid], open_rows[cid]
            for i, name in ((3, "qty"), (5, "filled"), (6, "status")):
                stored = o[name] if name == "status" else Fraction(o[name])
                if stored != (row[i] if name == "status" else Fraction(row[i])):
                    problems.add(
                        f"orders row {cid}: {name} is {row[i]}, but the venue holds {o[name]}"
                    )


def differences(journal: Journal, again: Journal, tick: int) -> list[str]:
    """Where ``tick`` in ``journal`` differs from the same tick played again into
    ``again``: its row (down to the first differing key of a JSON column), the order rows
    it wrote, its fills."""
    journaled, replayed = journal.tick(tick), again.tick(tick)
    assert journaled is not None and replayed is not None
    problems = [
        _difference(f"ticks row {tick}", column, journaled[column], replayed[column], tick)
        for column in journaled
        if column != "hash" and journaled[column] != replayed[column]
    ]
    ours, theirs = journal.rows_of(tick), again.rows_of(tick)
    for table, mine, other in (("orders", ours[0], theirs[0]), ("fills", ours[1], theirs[1])):
        if mine != other:
            problems.append(
                f"the {table} rows of tick {tick} ({_ids(mine)}) differ from those of "
                f"tick {tick} played again ({_ids(other)})"
            )
    return problems


def _difference(where: str, column: str, journaled: Any, again: Any, tick: int) -> str:
    """Where a journaled tick row and the same tick played again differ, down to the
    first differing key of a JSON column."""
    field = column
    if isinstance(journaled, dict) and isinstance(again, dict):
        keys = sorted(k for k in set(journaled) | set(again) if journaled.get(k) != again.get(k))
        if keys:
            field, journaled, again = (
                f"{column} '{keys[0]}'",
                journaled.get(keys[0]),
                again.get(keys[0]),
            )
    return (
        f"{where}: {field} is {json.dumps(journaled)} in the journal, but "
        f"{json.dumps(again)} when tick {tick} is played again from the tick before"
    )


def _ids(rows: list[tuple[Any, ...]]) -> str:
    return ", ".join(f"{r[0]}: {'/'.join(str(v) for v in r[1:7])}" for r in rows) or "none"
