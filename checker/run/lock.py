"""One run per journal: an exclusive lock held for the whole of a run.

The lock is ``flock`` on a sidecar file beside the journal, ``JOURNAL.lock`` (SQLite
locks the journal itself with POSIX record locks, which ``flock`` does not see). The
kernel releases it when the process ends, however it ends, so a killed run never leaves
a stale lock behind. The holder writes its pid, host and start time into the file, so
that a second run can say which process holds the journal. The file stays after the
run; only the ``flock`` on it counts.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from checker.errors import SeqproveError

EXIT_BUSY = 5
"""Exit code of ``seqprove run`` when another process holds the journal."""

EXIT_UNWRITABLE = 6
"""Exit code of ``seqprove run`` when the journal cannot be written (disk full,
read-only file system, I/O error)."""


class JournalBusy(SeqproveError):
    """Another process is running on this journal."""

    exit_code = EXIT_BUSY


class JournalUnwritable(SeqproveError):
    """The journal cannot be written: the disk is full, the file system is read-only,
    or the disk reported an I/O error. What was committed before stays whole."""

    exit_code = EXIT_UNWRITABLE


def lock_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".lock")


def why_unwritable(path: Path, exc: OSError) -> str:
    """``exc`` in words a user acts on: the disk is full, the file system is read-only."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"{exc.strerror or exc} ({path})"


class RunLock:
    """The exclusive lock of one journal, taken by :meth:`acquire`."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.path = lock_path(journal)
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or refuse.

        Raises
        ------
        JournalBusy
            When another process holds it; the message names that process.
        JournalUnwritable
            When the lock file cannot be created (a read-only file system, a full disk).
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalUnwritable(
                f"journal {self.journal} cannot be written: {why_unwritable(self.path, exc)}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise JournalUnwritable(
                    f"journal {self.journal}: cannot lock {self.path} ({exc.strerror})"
                ) from None
            raise JournalBusy(
                f"journal {self.journal} is in use by another run ({holder}); "
                "wait for it to end or stop that process, then run again"
            ) from None
        self.fd = fd
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        except OSError:
            pass  # the lock holds all the same; only the holder's name is missing

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _holder(fd: int) -> str:
    """Who holds the lock, from what it wrote into the lock file."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode())
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(record["started"])))
        return f"pid {int(record['pid'])} on {record['host']}, started {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not yet written its pid"
