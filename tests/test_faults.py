"""The executor under faults: signals at random moments, two runs on one journal, damaged
journals, a full disk, a read-only file system. Each fault is followed by ``--resume``
(or a fresh start where no journal was left), and a run must end with exactly the journal
of a run that was never disturbed, or be refused with its reason: never a silent change,
never a traceback.

The short campaigns run in the default suite; ``make faults`` runs the long ones.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.executor import Executor
from checker.run.integrity import damage
from checker.run.journal import Journal, JournalUnwritable
from checker.run.lock import EXIT_BUSY, EXIT_UNWRITABLE, RunLock, lock_path
from tests.conftest import V1_MODELS, last_tick, run_cli
from tests.test_run import synth_for

PERP = V1_MODELS / "perp_market_maker.yaml"
TICKS = 1000


@dataclass(frozen=True)
class Setup:
    root: Path
    proofs: Path
    data: Path
    reference: dict[str, list[tuple[Any, ...]]]
    outcome: dict[str, Any]
    exit_code: int


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    root = tmp_path_factory.mktemp("faults")
    proofs = root / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(PERP)).code == 0
    model = load_model(PERP)
    data = synth_for(model, root / "data.csv", "vol-spike", TICKS, seed=21)
    journal = Journal(root / "reference.sqlite")
    executor = Executor(model, read_feed(data, model), journal)
    executor.start()
    outcome = executor.run()
    journal.set_meta({"outcome": outcome.to_json()})
    reference = journal.dump()
    journal.close()
    return Setup(root, proofs, data, reference, outcome.to_json(), outcome.exit_code)


def args(s: Setup, journal: Path, *extra: str) -> list[str]:
    return ["run", str(PERP), "--data", str(s.data), "--proofs", str(s.proofs),
            "--journal", str(journal), "--no-plot", *extra]  # fmt: skip


def dump(journal: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(journal)
    try:
        return {
            t: list(db.execute(f"SELECT * FROM {t} ORDER BY 1"))
            for t in ("ticks", "orders", "fills")
        }
    finally:
        db.close()


def outcome_of(journal: Path) -> Any:
    with sqlite3.connect(journal) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'outcome'").fetchone()
    return None if row is None else json.loads(row[0])


def spawn(s: Setup, journal: Path) -> subprocess.Popen[str]:
    resume = ["--resume"] if journal.exists() else []
    return subprocess.Popen(
        [sys.executable, "-m", "checker", *args(s, journal, *resume)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def holds_lock(journal: Path, pid: int) -> bool:
    try:
        return json.loads(lock_path(journal).read_text())["pid"] == pid
    except (OSError, ValueError, KeyError):
        return False


def finish(s: Setup, journal: Path) -> None:
    """Run to the end and compare with the undisturbed run."""
    resume = ["--resume"] if journal.exists() else []
    final = subprocess.run(
        [sys.executable, "-m", "checker", *args(s, journal, *resume)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert final.returncode == s.exit_code, final.stderr
    assert dump(journal) == s.reference
    assert outcome_of(journal) == s.outcome


# -- signals --------------------------------------------------------------------------------

SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)


def signal_campaign(s: Setup, journal: Path, rng: random.Random, rounds: int) -> Counter[str]:
    """Interrupt runs of the journal ``rounds`` times, each with a random signal at a
    random moment (a quarter of them while the run starts), then finish it."""
    figures: Counter[str] = Counter()
    for _ in range(rounds):
        sig = rng.choice(SIGNALS)
        child = spawn(s, journal)
        done = last_tick(journal)
        if done >= TICKS - 50:
            child.wait(timeout=60)
            break
        startup = rng.random() < 0.25
        deadline = time.monotonic() + 60
        if startup:  # after the command has loaded (it holds the lock), before tick 1
            while not holds_lock(journal, child.pid) and child.poll() is None:
                assert time.monotonic() < deadline, "the run never took its lock"
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.02))
        else:
            target = rng.randrange(done + 1, TICKS - 40)
            while last_tick(journal) < target and child.poll() is None:
                assert time.monotonic() < deadline, "the run made no progress"
                time.sleep(0.001)
        child.send_signal(sig)
        _, err = child.communicate(timeout=60)
        assert "Traceback" not in err, err
        figures[f"{signal.Signals(sig).name}{' at start-up' if startup else ''}"] += 1
        if child.returncode == s.exit_code and last_tick(journal) >= TICKS:
            figures["finished before the signal"] += 1
        elif sig == signal.SIGINT:
            assert child.returncode == 130, err
            assert "aborted" in err
        else:
            assert child.returncode == -sig, err
        if startup and not journal.exists():
            figures["start-ups that left no journal"] += 1
    finish(s, journal)
    figures["runs compared equal to the undisturbed one"] += 1
    return figures


def test_signals_at_random_moments_then_resume_equals_an_undisturbed_run(
    setup: Setup, tmp_path: Path
) -> None:
    figures = signal_campaign(setup, tmp_path / "j.sqlite", random.Random(7), rounds=5)
    print("signal campaign (short):", dict(figures))
    assert sum(v for k, v in figures.items() if k.startswith("SIG")) >= 3


@pytest.mark.slow
def test_signal_campaign(setup: Setup, tmp_path: Path) -> None:
    total: Counter[str] = Counter()
    for seed in range(12):
        total += signal_campaign(setup, tmp_path / f"j{seed}.sqlite", random.Random(seed), 10)
    print("signal campaign:", dict(total))
    assert total["runs compared equal to the undisturbed one"] == 12


def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """Regression: Ctrl-C during start-up printed a KeyboardInterrupt traceback."""
    script = (
        "import builtins, os, signal\n"
        "real = builtins.__import__\n"
        "def hooked(name, *a, **k):\n"
        "    if name == 'rich.console':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = hooked\n"
        "from checker.cli import main\n"
        "main(['--version'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "aborted" in done.stderr


def test_kill_during_start_up_leaves_no_journal_then_a_new_run_starts(
    setup: Setup, tmp_path: Path
) -> None:
    """Regression: a SIGKILL between creating the journal and writing its metadata left
    a file that could be neither resumed nor replaced."""
    journal = tmp_path / "j.sqlite"
    child = spawn(setup, journal)
    while not holds_lock(journal, child.pid):
        time.sleep(0.0005)
    child.kill()
    child.wait()
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert "j.sqlite" not in leftovers or last_tick(journal) >= 0, leftovers
    finish(setup, journal)
    assert not list(tmp_path.glob(".j.sqlite.new-*"))


@pytest.mark.parametrize("kind", ["empty", "schema only", "meta without ticks"])
def test_journal_left_without_a_run_is_treated_as_new(
    setup: Setup, tmp_path: Path, kind: str
) -> None:
    """Regression: a journal left empty by a kill during start-up could not be used."""
    journal = tmp_path / "j.sqlite"
    journal.touch()
    if kind != "empty":
        old = Journal(journal)  # the tables, as an interrupted start-up left them
        if kind == "meta without ticks":
            old.set_meta({"format": "seqprove-journal/2"})
        old.close()
    for extra in ((), ("--resume",)):
        run = run_cli(*args(setup, journal, *extra))
        assert run.code == setup.exit_code, run.err
        assert dump(journal) == setup.reference
        if not extra:
            journal.unlink()
            journal.touch()


# -- two runs on one journal ----------------------------------------------------------------


def test_second_run_on_a_locked_journal_is_refused_naming_the_first(
    setup: Setup, tmp_path: Path
) -> None:
    """Regression: two ``run --resume`` processes on one journal raced to a UNIQUE
    constraint failure (exit 4)."""
    journal = tmp_path / "j.sqlite"
    first = spawn(setup, journal)
    deadline = time.monotonic() + 60
    while last_tick(journal) < 20:
        assert first.poll() is None and time.monotonic() < deadline, "the first run stopped"
        time.sleep(0.001)
    first.send_signal(signal.SIGSTOP)  # hold it mid-run, lock and all
    try:
        for extra in (("--resume",), ()):
            second = run_cli(*args(setup, journal, *extra))
            assert second.code == EXIT_BUSY, second.err
            assert f"in use by another run (pid {first.pid} on " in second.err
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == setup.exit_code, err
    assert dump(journal) == setup.reference


# -- damaged journals -------------------------------------------------------------------------


def partial_journal(s: Setup, path: Path, cut: int) -> Path:
    """A journal of the run stopped after tick ``cut``, as a killed run leaves it."""
    model = load_model(PERP)
    feed = read_feed(s.data, model)
    journal = Journal(path)
    executor = Executor(model, feed, journal)
    executor.start()
    while executor.next_tick <= cut:
        executor._tick(executor.next_tick, feed.rows[executor.next_tick - 1])
        executor.next_tick += 1
    journal.close()
    return path


def _edit_digit(rng: random.Random, text: str) -> str | None:
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not digits:
        return None
    i = rng.choice(digits)
    return text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1 :]


EDITS = {
    "ticks": ("tick", ["state", "venue", "position", "inputs", "actions", "equity", "reads"]),
    "orders": ("cid", ["qty", "filled", "price", "tick"]),
    "fills": ("fill_id", ["qty", "price", "tick"]),
}


def damage_journal(rng: random.Random, base: Path, case: Path, how: str) -> str:
    """Copy ``base`` to ``case`` and damage it ``how``; say what was done."""
    shutil.copyfile(base, case)
    size = case.stat().st_size
    if how == "truncate":
        offset = rng.randrange(0, size)
        with case.open("rb+") as f:
            f.truncate(offset)
        return f"truncated at {offset}"
    if how == "flip":
        offsets = sorted(rng.randrange(0, size) for _ in range(rng.randint(1, 3)))
        with case.open("rb+") as f:
            for offset in offsets:
                f.seek(offset)
                byte = f.read(1)[0]
                f.seek(offset)
                f.write(bytes([byte ^ rng.randrange(1, 256)]))
        return f"flipped bytes at {offsets}"
    table = rng.choice(sorted(EDITS))
    key, columns = EDITS[table]
    with sqlite3.connect(case) as db:
        while True:
            column = rng.choice(columns)
            rows = list(db.execute(f"SELECT {key}, {column} FROM {table}"))
            if table == "ticks" and rng.random() < 0.5:
                rows = rows[-1:]  # the last tick, the one a resume restores
            ident, value = rng.choice(rows)
            edited = _edit_digit(rng, str(value)) if value is not None else None
            if edited is not None:
                if isinstance(value, int):
                    edited_value: Any = int(edited)
                else:
                    edited_value = edited
                db.execute(
                    f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (edited_value, ident)
                )
                break
    return f"edited {table} row {ident} column {column}: {value!r} -> {edited!r}"


def damage_campaign(s: Setup, tmp: Path, rng: random.Random, cases: int) -> Counter[str]:
    base = partial_journal(s, tmp / "base.sqlite", cut=TICKS // 2)
    figures: Counter[str] = Counter()
    for n in range(cases):
        how = ("truncate", "flip", "edit")[n % 3]
        case = tmp / f"case{n}.sqlite"
        what = damage_journal(rng, base, case, how)
        run = run_cli(*args(s, case, "--resume"))
        assert "Traceback" not in run.err and "internal error" not in run.err, (what, run.err)
        if run.code == 3:
            assert "is damaged" in run.err or "not a seqprove journal" in run.err, (what, run.err)
            figures[f"{how}: refused"] += 1
            if how == "edit":
                table = what.split()[1]
                assert f"{table} row" in run.err or "ticks row" in run.err, (what, run.err)
        else:
            assert how != "edit", (what, run.err)
            assert run.code == s.exit_code, (what, run.err)
            assert dump(case) == s.reference, f"{what}: resumed to another run"
            figures[f"{how}: harmless, resumed to the same run"] += 1
        for leftover in tmp.glob(f"case{n}.sqlite*"):
            leftover.unlink()
    return figures


def test_damaged_journals_are_refused_never_silently_resumed(setup: Setup, tmp_path: Path) -> None:
    figures = damage_campaign(setup, tmp_path, random.Random(11), cases=18)
    print("damage campaign (short):", dict(figures))
    assert sum(v for k, v in figures.items() if k.startswith("edit")) == 6


@pytest.mark.slow
def test_damage_campaign(setup: Setup, tmp_path: Path) -> None:
    figures = damage_campaign(setup, tmp_path, random.Random(2026), cases=300)
    print("damage campaign:", dict(figures))
    assert figures["edit: refused"] == 100


def test_edited_position_in_the_last_tick_is_refused_naming_the_field(
    setup: Setup, tmp_path: Path
) -> None:
    """Regression: one changed digit in the last tick's state (position -14 to -74)
    resumed with exit 0 and traded on a state the venue does not have."""
    journal = partial_journal(setup, tmp_path / "j.sqlite", cut=TICKS // 2)
    with sqlite3.connect(journal) as db:
        tick, state = db.execute("SELECT tick, state FROM ticks ORDER BY tick DESC").fetchone()
        edited = json.loads(state)
        edited["position"] = edited["position"] + 60
        db.execute("UPDATE ticks SET state = ? WHERE tick = ?", (json.dumps(edited), tick))
    run = run_cli(*args(setup, journal, "--resume"))
    assert run.code == 3, run.err
    assert f"ticks row {tick} does not match its checksum" in run.err
    assert f"ticks row {tick}: state 'position' is {edited['position']} in the journal" in run.err


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        (
            "UPDATE orders SET filled = filled + 1 WHERE cid = (SELECT MIN(cid) FROM orders)",
            "orders row",
        ),
        ("UPDATE fills SET qty = qty + 1 WHERE rowid = 1", "ticks row"),
        ("DELETE FROM fills WHERE rowid = 1", "ticks row"),
        ("DELETE FROM orders WHERE cid = (SELECT MIN(cid) FROM orders)", "orders row"),
        ("DELETE FROM ticks WHERE tick = 3", "tick 3 is missing"),
        ("UPDATE meta SET value = '{' WHERE key = 'params'", "meta 'params' is not JSON"),
        ("UPDATE meta SET value = '\"x\"' WHERE key = 'model_sha256'", "ticks row 0"),
    ],
)
def test_edited_orders_fills_and_meta_are_refused(
    setup: Setup, tmp_path: Path, sql: str, words: str
) -> None:
    """Regression: a changed journal resumed, or failed with an internal error."""
    journal = partial_journal(setup, tmp_path / "j.sqlite", cut=400)
    with sqlite3.connect(journal) as db:
        db.execute(sql)
    run = run_cli(*args(setup, journal, "--resume"))
    assert run.code == 3, run.err
    assert "is damaged" in run.err and words in run.err, run.err


def test_flipped_bytes_are_refused_as_damage_not_internal_errors(
    setup: Setup, tmp_path: Path
) -> None:
    """Regression: flipped bytes gave JSONDecodeError, 'Could not decode to UTF-8' or
    'database disk image is malformed' as internal errors (exit 4)."""
    journal = partial_journal(setup, tmp_path / "j.sqlite", cut=400)
    with sqlite3.connect(journal) as db:
        (state,) = db.execute("SELECT state FROM ticks WHERE tick = 7").fetchone()
        db.execute("UPDATE ticks SET state = ? WHERE tick = 7", (state.encode()[:-1] + b"\xff",))
        db.execute("UPDATE ticks SET venue = '{' WHERE tick = 9")
    run = run_cli(*args(setup, journal, "--resume"))
    assert run.code == 3
    assert "ticks row 7: column 'state' is not UTF-8 text" in run.err
    assert "ticks row 9: column 'venue' is not JSON" in run.err
    with journal.open("rb+") as f:  # a torn page in the middle of the file
        f.seek(journal.stat().st_size // 2)
        f.write(b"\xa5" * 4096)
    run = run_cli(*args(setup, journal, "--resume"))
    assert run.code == 3 and "is damaged" in run.err, run.err
    assert "internal error" not in run.err


# -- a full disk, a read-only file system -------------------------------------------------------


class FillsUp:
    """A connection that reports a full disk once ``budget`` ticks have been written."""

    def __init__(self, db: sqlite3.Connection, budget: int) -> None:
        self.db, self.budget = db, budget

    def execute(self, sql: str, *params: Any) -> sqlite3.Cursor:
        if sql.startswith("INSERT INTO ticks"):
            if self.budget == 0:
                raise sqlite3.OperationalError("database or disk is full")
            self.budget -= 1
        return self.db.execute(sql, *params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def __enter__(self) -> Any:
        return self.db.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self.db.__exit__(*exc)


def test_full_disk_is_reported_and_the_run_resumes_once_there_is_room(
    setup: Setup, tmp_path: Path
) -> None:
    """Regression: a full disk was an internal error."""
    model = load_model(PERP)
    feed = read_feed(setup.data, model)
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    executor = Executor(model, feed, journal)
    executor.start()
    journal.db = FillsUp(journal.db, 500)  # type: ignore[assignment]
    with pytest.raises(JournalUnwritable, match="the disk is full: tick 501 was not journaled"):
        executor.run()
    journal.db = journal.db.db  # type: ignore[attr-defined]
    assert not journal.db.in_transaction
    last = journal.last_tick()
    assert last is not None and last["tick"] == 500
    assert damage(journal) == []
    journal.close()
    run = run_cli(*args(setup, path, "--resume"))
    assert run.code == setup.exit_code, run.err
    assert dump(path) == setup.reference


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "tmpfs"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        check=False,
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


def test_full_tmpfs_is_reported_then_resumed_exactly(setup: Setup, tmpfs: Path) -> None:
    journal = tmpfs / "j.sqlite"
    run = run_cli(*args(setup, journal))
    assert run.code == EXIT_UNWRITABLE, run.err
    assert "the disk is full" in run.err and "Traceback" not in run.err
    assert "--resume" in run.err
    remount(tmpfs, "size=64m")
    if journal.exists():  # rolled back to its last whole tick
        kept = Journal(journal, existing=True)
        assert damage(kept) == [] and kept.last_tick() is not None
        kept.close()
    run = run_cli(*args(setup, journal, *(["--resume"] if journal.exists() else [])))
    assert run.code == setup.exit_code, run.err
    assert dump(journal) == setup.reference


def test_journal_on_a_read_only_file_system_is_said_to_be_read_only(
    setup: Setup, tmpfs: Path
) -> None:
    """Regression: a journal on a read-only file system was called 'not a seqprove
    journal'."""
    remount(tmpfs, "size=64m")
    journal = partial_journal(setup, tmpfs / "j.sqlite", cut=100)
    remount(tmpfs, "ro")
    run = run_cli(*args(setup, journal, "--resume"))
    assert run.code == EXIT_UNWRITABLE, run.err
    assert "read-only" in run.err and "not a seqprove journal" not in run.err
    fresh = run_cli(*args(setup, tmpfs / "new.sqlite"))
    assert fresh.code == EXIT_UNWRITABLE and "read-only" in fresh.err


def test_lock_names_its_holder(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    first, second = RunLock(journal), RunLock(journal)
    first.acquire()
    try:
        with pytest.raises(Exception, match=f"pid {os.getpid()} on "):
            second.acquire()
    finally:
        first.release()
    second.acquire()  # free once the holder lets go
    second.release()


def test_journal_of_an_older_format_is_refused_by_name(setup: Setup, tmp_path: Path) -> None:
    journal = partial_journal(setup, tmp_path / "j.sqlite", cut=10)
    with sqlite3.connect(journal) as db:
        db.execute("UPDATE meta SET value = '\"seqprove-journal/1\"' WHERE key = 'format'")
    run = run_cli(*args(setup, journal, "--resume"))
    assert run.code == 3
    assert "is a run of another format (seqprove-journal/1, now seqprove-journal/2)" in run.err


def test_journal_whose_schema_is_not_utf8_is_refused_as_damaged(tmp_path: Path) -> None:
    # a flipped byte in a table's name in SQLite's schema made reading the schema raise
    # UnicodeDecodeError, an internal error
    from checker.run.files import open_run_journal
    from checker.run.journal import JournalDamaged

    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        db.execute("CREATE TABLE ticks (tick INTEGER)")
        db.execute("INSERT INTO ticks VALUES (0)")
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET name = CAST(X'F7F7' AS TEXT) WHERE name = 'ticks'")
    with pytest.raises(JournalDamaged, match="not UTF-8"):
        open_run_journal(path, resume=True)
