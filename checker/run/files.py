"""Opening a run's journal file: the lock, a new journal created whole, an existing one
told apart from a file that holds no run.

:func:`open_run_journal` is what ``seqprove run`` calls. It takes the journal's lock
(:mod:`checker.run.lock`) before it looks at the file, so two runs never both decide to
create it, and it keeps the lock in the returned journal until that journal is closed.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from checker.run.journal import RUN_TABLES, Journal, JournalError, remove_journal_files
from checker.run.lock import JournalUnwritable, RunLock, why_unwritable


def holds_no_run(path: Path) -> bool:
    """Whether ``path`` is a journal left without a run by a process killed while it
    started: an empty file, or SQLite with only the journal's tables and no tick in
    them. Anything else (another database, a damaged file, a run) is not."""
    wal = path.with_name(path.name + "-wal")
    if path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        return True
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
            tables = {r[0] for r in db.execute(query)}
            if not tables <= RUN_TABLES:
                return False
            return "ticks" not in tables or db.execute("SELECT 1 FROM ticks").fetchone() is None
        finally:
            db.close()
    except (sqlite3.Error, UnicodeDecodeError):  # damaged: not a journal left empty
        return False


def _writable(path: Path) -> None:
    """Refuse a journal on a read-only file system, saying so."""
    try:
        readonly = bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        readonly = False
    if readonly:
        raise JournalUnwritable(f"journal {path} cannot be written: the file system is read-only")


def open_run_journal(path: Path, *, resume: bool, fsync: bool = False) -> Journal:
    """The journal of a run at ``path``, locked for this process until it is closed.

    Without ``resume`` the file must not exist; with it, it must hold a run. A file that
    holds no run (see :func:`holds_no_run`) is replaced by a new journal in both cases.
    A new journal is created under a temporary name in the same folder and renamed to
    ``path`` by :meth:`Journal.publish` once it holds its settings and tick 0.

    Raises
    ------
    JournalBusy
        When another process holds the journal.
    JournalUnwritable
        When the journal's folder or file cannot be written.
    JournalError
        When the journal exists without ``resume``, is missing with it, or is not a
        journal.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalUnwritable(
            f"journal {path} cannot be written: {why_unwritable(path.parent, exc)}"
        ) from None
    lock = RunLock(path)
    lock.acquire()
    try:
        journal = _open(path, resume, fsync)
    except BaseException:
        lock.release()
        raise
    journal.lock = lock
    return journal


def _open(path: Path, resume: bool, fsync: bool) -> Journal:
    for stale in path.parent.glob(f".{path.name}.new-*"):  # left by a killed start-up
        stale.unlink(missing_ok=True)
    exists = path.exists()
    if exists and not path.is_file():
        raise JournalError(f"journal {path} is not a file")
    if exists and not holds_no_run(path):
        if not resume:
            raise JournalError(
                f"journal {path} exists: pass --resume to continue that run, "
                "or choose another --journal"
            )
        _writable(path)
        return Journal(path, fsync, existing=True)
    if resume and not exists:
        raise JournalError(f"--resume: there is no journal {path}")
    _writable(path)
    tmp = path.with_name(f".{path.name}.new-{os.getpid()}")
    try:
        journal = Journal(tmp, fsync)
    except BaseException:
        remove_journal_files(tmp)
        raise
    journal.final = path
    return journal
