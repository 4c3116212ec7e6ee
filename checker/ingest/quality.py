"""What is wrong with a source's rows, and what the policy does about it.

Four problems are looked for: *gaps* (an interval with no row, found when the rows are
put on their interval grid, :mod:`checker.ingest.books`), *duplicated times* (a row at the
time of the row before it: two bars of one minute, two states of one book at once),
*times going back* (a row before one above it) and *crossed books* (``bid >= ask``). Each
is counted, with its first places (FILE:LINE and time), and handled by one policy:

======================  =====================  ===================================  =====
problem                 ``drop``               ``carry``                            stop
======================  =====================  ===================================  =====
gap                     row left out           last book carried, no trades         exit 3
duplicated time         last row of the time   last row of the time                 exit 3
time going back         row left out           row left out                         exit 3
crossed book            row left out           the book before it carried           exit 3
======================  =====================  ===================================  =====
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from checker.errors import Diagnostic
from checker.ingest.base import IngestError, Source

POLICIES = ("stop", "drop", "carry")
FIRST_PLACES = 3


def iso(us: int) -> str:
    """µs since the epoch as ISO-8601 UTC with ms: ``2020-03-13T00:27:00.000Z``."""
    return str(np.datetime64(int(us) // 1000, "ms")) + "Z"


@dataclass(frozen=True)
class Problem:
    """One kind of problem of one source: how many, where first, what was done."""

    what: str
    count: int
    places: tuple[tuple[str, int, int], ...]
    """(file, line, µs time) of the first few."""
    action: str
    detail: str = ""
    """More about the count (``in 184 gaps``)."""

    def counted(self) -> str:
        """``3 missing intervals``, ``1 missing interval``."""
        what = self.what
        if self.count == 1:
            for plural in ("times", "books", "intervals"):
                what = what.replace(plural, plural[:-1], 1)
        return f"{self.count} {what}"

    def line(self) -> str:
        where = ", ".join(f"{f}:{ln} ({iso(t)})" for f, ln, t in self.places)
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.counted()}{detail}: first at {where}; {self.action}"

    def diagnostic(self) -> Diagnostic:
        file, line, at = self.places[0]
        more = f" ({self.count} in all{', ' + self.detail if self.detail else ''})"
        more = more if self.count > 1 else ""
        return Diagnostic(
            file,
            line,
            1,
            f"{self.what} at {iso(at)}{more}; the policy is stop: choose --gaps drop or "
            "--gaps carry to import anyway",
        )


def stop(problems: list[Problem]) -> None:
    """Raise every problem as an error (policy ``stop``), if there is any."""
    if problems:
        raise IngestError([p.diagnostic() for p in problems])


def _places(source: Source, rows: np.ndarray) -> tuple[tuple[str, int, int], ...]:
    return tuple((*source.where(int(i)), int(source.times[int(i)])) for i in rows[:FIRST_PLACES])


ACTIONS = {
    "drop": {
        "duplicated times": "kept the last row of each time",
        "times going back": "left those rows out",
        "crossed books": "left those rows out",
    },
    "carry": {
        "duplicated times": "kept the last row of each time",
        "times going back": "left those rows out",
        "crossed books": "carried the book before each forward instead",
    },
    "stop": {},
}


def clean(source: Source, policy: str, duplicates: bool) -> tuple[Source, list[Problem]]:
    """``source`` with the policy applied to its times going back, its duplicated times
    (when ``duplicates``: not for trades, of which many share a time) and its crossed
    books; the problems found. Under ``stop`` the rows are cleaned as ``drop`` would, so
    that the import can go on to find every problem before it stops (:func:`stop`)."""
    problems: list[Problem] = []
    times = source.times
    running = np.maximum.accumulate(times)
    back = np.zeros(len(times), dtype=bool)
    back[1:] = times[1:] < running[:-1]
    if back.any():
        problems.append(_problem(source, "times going back", np.flatnonzero(back), policy))
        source = source.take(~back)
        times = source.times
    if duplicates and len(times) > 1:
        repeated = np.zeros(len(times), dtype=bool)
        repeated[:-1] = times[:-1] == times[1:]  # a row the next one repeats: keep the last
        if repeated.any():
            where = np.flatnonzero(repeated) + 1
            problems.append(_problem(source, "duplicated times", where, policy))
            source = source.take(~repeated)
    if source.kind == "quotes":
        crossed = np.asarray(source.columns["bid"] >= source.columns["ask"], dtype=bool)
        if crossed.any():
            problems.append(_problem(source, "crossed books", np.flatnonzero(crossed), policy))
            source = _carry_books(source, crossed) if policy == "carry" else source.take(~crossed)
    return source, problems


def _problem(source: Source, what: str, rows: np.ndarray, policy: str) -> Problem:
    return Problem(what, len(rows), _places(source, rows), ACTIONS[policy].get(what, ""))


def _carry_books(source: Source, crossed: np.ndarray) -> Source:
    """Each crossed row's book replaced by the last good one before it (a crossed first
    row, with none before it, is left out)."""
    good = np.where(~crossed, np.arange(len(crossed)), -1)
    last_good = np.maximum.accumulate(good)
    keep = last_good >= 0
    for name in ("bid", "ask", "bid_size", "ask_size"):
        source.columns[name] = source.columns[name][np.where(keep, last_good, 0)]
    return source.take(keep)
