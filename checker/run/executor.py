"""The executor: runs a model over market data on the paper venue, tick by tick, with the
model's assumptions monitored and its provers and limits enforced live.

Each tick, in this order (``docs/executor.md``):

1. read the tick's row; every venue matches its orders against it by its fill model
   (``book`` or ``bars``, :mod:`checker.run.venue`; :func:`fill_models` says which) (a
   model with instruments has one venue per instrument, :mod:`checker.run.books`);
2. build the inputs: market inputs from the row, venue inputs from the venue (a flow,
   such as fills, is what accumulated since the strategy last read it) and, with
   instruments, each instrument's fills of this row (``I.bought``, ``I.sold``);
3. monitor the inputs: every type, range and assumption must hold (with instruments, and
   every fill must fit the model's book), or the proof no longer covers reality:
   everything is cancelled, the run goes to the model's first final step (or stays where
   it is if there is none) and stops;
4. with instruments, book the fills in the model (``after_fills``) and reconcile: each
   venue's position and open quantities must be the model's, or the run stops likewise;
5. choose the transition exactly as the checker does (the first enabled one, in file
   order, on the configuration after the fills; none means it stays as it is);
6. poll the venue for events that arrived meanwhile (a model without instruments), then
   evaluate the transition's provers again, on inputs read again from the venue, and the
   order checks (and ``positive_qty``) on the orders it would send: one that fails
   blocks the transition (fail-closed: no action goes out, nothing changes) and the
   denial is recorded with the values it read;
7. send the actions, with client ids ``TICK.N``, each to its instrument's venue;
8. apply ``do``; with instruments, reconcile again: each venue's book after the actions
   must be the model's after the transition;
9. check every limit: a broken one cancels everything and stops the run;
10. journal the tick (one transaction) before the next tick begins.

The run also ends when the model reaches a final step, or at the end of the data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from fractions import Fraction
from operator import attrgetter
from typing import Any

from checker.errors import ModelError, SeqproveError
from checker.interpret import ActionValue, Compiled, Config, Interpreter, TickResult, compile_all
from checker.lang.schema import FLOW_SOURCES
from checker.model import POSITIVE_QTY, SIDES, Model, Value, Variable, decimal_text, param_text
from checker.run.books import Mismatch, Venues, venue_source_problems
from checker.run.compiled import NO_TRANSITION, compile_steps
from checker.run.data import Feed, Row, book_origin
from checker.run.integrity import damage, differences
from checker.run.journal import Journal, JournalDamaged, TickRecord, journal_format
from checker.run.profile import advice
from checker.run.schedule import Cover, Planned
from checker.run.stats import Outcome, Stats
from checker.run.venue import FILL_MODELS, PARTICIPATION, Fill, Num, PaperVenue, VenueError
from checker.verify.trace import json_value

Progress = Callable[[int, int], None]
Observer = Callable[[int, Row, Mapping[str, Value]], None]
"""Called at every tick with the row, the inputs as delivered and the state before the
tick, just before the assumption monitor checks them (``seqprove data profile``)."""
_ENDS = ("assumption", "reconciliation", "limit", "final")
"""The events that end a run (the journal's last tick says how it ended)."""


BACKTEST_GROUP = 8
"""Ticks per journal transaction of ``seqprove run`` over a data file (a backtest: every
tick lost to a kill is played again, exactly, on resume); ``--commit-every`` changes it."""


class RunError(SeqproveError):
    """A run that cannot start or resume (a journal of another run, a finished run)."""


def exact(value: Num | None) -> str | None:
    if value is None:
        return None
    return (
        decimal_text(value if type(value) is Fraction else Fraction(value))
        if not isinstance(value, int)
        else str(value)
    )


def from_json(var: Variable, value: Any) -> Value:
    kind = var.type.kind
    if kind == "bool":
        return bool(value)
    if kind == "enum":
        return var.type.values.index(value)
    if kind == "real":
        return Fraction(value)
    return int(value)


_READ: dict[str, Callable[[PaperVenue], Num]] = {
    "venue.bought": attrgetter("bought_limit"),
    "venue.sold": attrgetter("sold_limit"),
    "venue.pnl_change": PaperVenue.equity,
    "venue.position": lambda v: v.position,
    "venue.open_buy": lambda v: v.open_quantity("buy"),
    "venue.open_sell": lambda v: v.open_quantity("sell"),
}
"""How each venue source is read (flows as running totals)."""


def _whole(value: Num) -> Num:
    return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value


FILL_CHOICES = ("auto", *FILL_MODELS)
"""What ``seqprove run --fill-model`` takes: ``auto`` chooses by the data's metadata."""


def fill_models(model: Model, feed: Feed, choice: str) -> dict[str, str]:
    """The fill model of each book of a run (``""``: the one book of a model without
    instruments): ``choice`` itself, or with ``auto`` ``bars`` for a book whose metadata
    says its rows are bars (:class:`checker.run.meta.BookOrigin`) and ``book`` otherwise."""
    if choice not in FILL_CHOICES:
        raise RunError(f"fill model {choice!r} is not one of {', '.join(FILL_CHOICES)}")
    names = [i.name for i in model.instruments] or [""]
    if choice != "auto":
        return dict.fromkeys(names, choice)
    chosen = {}
    for name in names:
        origin = book_origin(model, feed.meta, name)
        chosen[name] = "bars" if origin is not None and origin.granularity == "bar" else "book"
    return chosen


class Executor:
    """One run of ``model`` over ``feed``; ``journal`` None is a backtest with nothing
    kept on disk. ``venue`` (a model without instruments) or ``venues`` (by instrument)
    replace the paper venues the run would make."""

    def __init__(
        self,
        model: Model,
        feed: Feed,
        journal: Journal | None,
        *,
        slippage_bps: Fraction | None = None,
        admitted_by: str = "",
        venue: PaperVenue | None = None,
        venues: Mapping[str, PaperVenue] | None = None,
        fill_model: str | None = None,
        participation: Fraction | None = None,
        observer: Observer | None = None,
        monitor: bool = True,
        commit_every: int = 1,
        params: Mapping[str, Value] | None = None,
        planned: Sequence[Planned] = (),
        cover: Cover | None = None,
        schedule: Mapping[str, Any] | None = None,
    ) -> None:
        problems = venue_source_problems(model)
        if problems:
            raise ModelError(problems)
        self.model = model
        self.feed = feed
        self.journal = journal
        self.interp = Interpreter(model)
        self.book = self.interp.book
        self.versioned = bool(model.instruments)
        spec = model.venue
        self.slippage_bps = spec.slippage_bps if slippage_bps is None else slippage_bps
        given = dict(venues or {})
        if venue is not None:
            given[""] = venue
        self.books = Venues.for_model(model, self.slippage_bps, given)
        # the fill model: None takes the journal's on a resume, else auto and the default
        self.fill_choice = fill_model
        self.participation_given = participation
        self.participation = PARTICIPATION if participation is None else participation
        self.fill_models = fill_models(model, feed, fill_model or "auto")
        self._apply_fill_models(keep=set(given))
        if commit_every < 1:
            raise RunError(f"commit every {commit_every} ticks: give at least 1")
        self.commit_every = commit_every
        """Ticks per journal transaction: 1 commits every tick before the next begins;
        more (a backtest over a data file) commits them in groups, and a run killed
        between two commits resumes from the last committed tick, playing the ticks of
        the lost group again."""
        if journal is not None:
            journal.prepare(instruments=self.versioned)
            journal.commit_every = commit_every
        self.admitted_by = admitted_by
        self.state_vars = model.state
        self.input_vars = model.inputs
        self.venue_inputs = [v for v in model.inputs if v.source not in ("market", "fills")]
        self.sources = sorted({v.source for v in self.venue_inputs})
        self.bindings = [
            (v.name, v.source, v.source in FLOW_SOURCES, v.type.kind == "int")
            for v in self.venue_inputs
        ]
        self.reads_of: dict[int, set[str]] = {}
        for t in model.transitions:
            names = {s.name for c in t.when for s in c.expr.free_symbols}
            names |= {s.name for _, e in t.do for s in e.free_symbols}
            names |= {s.name for a in t.emit for _, e in a.args for s in e.free_symbols}
            self.reads_of[t.index] = {
                v.source for v in self.venue_inputs if v.name in names and v.source in FLOW_SOURCES
            }
        self.prover_text = {p.name: p.text for p in model.provers}
        self.check_text = {c.name: c.text for c in model.orders}
        self.check_text.update(
            {o.name: o.text for o in model.obligations() if o.name.startswith(POSITIVE_QTY)}
        )
        self.checks_orders = bool(model.orders) or self.versioned
        self.input_names = [v.name for v in model.inputs]
        prover_expr = {p.name: p.expr for p in model.provers}
        self.all_provers = {
            t.index: compile_all([prover_expr[n] for n in t.provers], " and ")
            for t in model.transitions
        }
        self.all_hold = {t.index: [(n, True) for n in t.provers] for t in model.transitions}
        self.steps = compile_steps(model, self.interp, order_checks=self.checks_orders)
        """The tick compiled into one function per step (None: a model with instruments,
        played by the general path only); see :mod:`checker.run.compiled`."""
        self.final = frozenset(model.final)
        self.readers = [(source, _READ[source]) for source in self.sources]
        self.shown_inputs = [(v.name, _shower(v)) for v in model.inputs]
        self.shown_state = [(v.name, _shower(v)) for v in model.state]
        self.params = dict(params or {})
        """The free params' values at tick 0 (a model with free params: a schedule run)."""
        self.planned = {p.tick: p for p in planned}
        """The param changes of a schedule, by the tick they come before."""
        self.cover = cover
        """What the proof of the region covers: the check a change must pass."""
        self.schedule = schedule
        self._params_event: dict[str, Any] | None = None
        self.config = self.interp.initial(self.params) if model.free else self.interp.initial()
        self.reads: dict[str, Num] = dict.fromkeys(sorted(FLOW_SOURCES), 0)
        self.next_tick = 1
        self.stats = Stats()
        self.outcome: Outcome | None = None
        self.observer = observer
        self.monitor = monitor
        """False: inputs outside the envelope do not stop the run (``data profile``'s
        replays, to see what a run with a wider envelope would be delivered)."""

    @property
    def venue(self) -> PaperVenue:
        """The venue of a model without instruments (with instruments, the first one's)."""
        return self.books.first

    # -- set-up ---------------------------------------------------------------------------
    def _apply_fill_models(self, keep: Collection[str] = ()) -> None:
        """Give every venue its fill model and the participation rate (a venue the caller
        made, named in ``keep``, keeps its own)."""
        for name, v in self.books:
            if name in keep:
                self.fill_models[name] = v.fill_model
            else:
                v.set_fill_model(self.fill_models[name], self.participation)

    def fill_report(self) -> dict[str, Any]:
        """Which fill model ran, on which books, how it was chosen, and its participation
        rate (for the report, :class:`checker.run.report.RunReport`)."""
        models = set(self.fill_models.values())
        if self.fill_choice in FILL_MODELS:
            chosen_by = f"--fill-model {self.fill_choice}"
        elif self.feed.meta is None:
            chosen_by = "auto: the data has no metadata, so its rows are taken as ticks"
        elif len(models) > 1:
            chosen_by = "auto: each book's rows are bars or ticks, as the data's metadata says"
        else:
            rows = "bars" if "bars" in models else "ticks"
            chosen_by = f"auto: the data's metadata says its rows are {rows}"
        return {
            "name": models.pop() if len(models) == 1 else "per instrument",
            "books": {name or "market": m for name, m in self.fill_models.items()},
            "participation": exact(self.participation),
            "chosen_by": chosen_by,
            "queue_position": "ignored",
        }

    def data_report(self) -> dict[str, Any]:
        """What the run knows of its data: its rows, time span, the columns it did not
        read, and how each book was made when the data's metadata says."""
        span = self.feed.span()
        books = []
        for name in [i.name for i in self.model.instruments] or [""]:
            origin = book_origin(self.model, self.feed.meta, name)
            books.append(
                {
                    "instrument": name or None,
                    "kind": None if origin is None else origin.kind,
                    "granularity": None if origin is None else origin.granularity,
                    "interval_ms": None if origin is None else origin.interval_ms,
                    "how": None if origin is None else origin.how,
                    "source_unit": None if origin is None else origin.source_unit or None,
                    "contract_size": None if origin is None else origin.contract_size,
                    "fill_model": self.fill_models[name],
                }
            )
        return {
            "file": self.feed.file,
            "rows": len(self.feed.rows),
            "time": None if span is None else {"first": span[0], "last": span[1]},
            "ignored_columns": list(self.feed.ignored),
            "metadata": self.feed.meta is not None,
            "books": books,
        }

    def meta(self) -> dict[str, Any]:
        if self.versioned:
            contract: Any = {n: exact(v.contract_size) for n, v in self.books}
        else:
            contract = exact(self.venue.contract_size)
        return {
            "format": journal_format(instruments=self.versioned),
            "model": self.model.file,
            "strategy": self.model.strategy,
            "model_sha256": self.model.source_sha256,
            "params": param_text(self.model.params),
            "data": self.feed.file,
            "data_sha256": self.feed.sha256,
            "contract_size": contract,
            "slippage_bps": exact(self.slippage_bps),
            "fill_models": dict(self.fill_models),
            "participation": exact(self.participation),
            "admitted_by": self.admitted_by,
            **({"params_schedule": dict(self.schedule)} if self.schedule is not None else {}),
        }

    def start(self) -> None:
        """Begin a new run: write the metadata and tick 0, the initial configuration (a
        journal being created gets its name once both are in it)."""
        if self.journal is not None:
            if self.journal.last_tick() is not None:
                raise RunError(f"journal {self.journal.path} already holds a run; pass --resume")
            self.journal.set_meta({**self.meta(), "started": time.time()})
        broken = self.interp.broken_limits(self.config)
        event = None
        actions: list[dict[str, Any]] = []
        mismatches = self._reconcile(self.config, pending=True)
        if mismatches:
            actions = self._halt(0, [])
            event = self._books_differ(0, "at the start", mismatches, self.config)
        elif broken:
            event = {"kind": "limit", "limits": broken, "message": _limit_message(broken)}
            self.outcome = Outcome("limit", 0, self.config.step, _limit_message(broken))
        self._commit(0, None, None, {}, [], event, actions, [], [])
        if self.journal is not None:
            self.journal.publish()

    def resume(self) -> None:
        """Continue the run in the journal from its last committed tick, once the journal
        is found whole (:func:`checker.run.integrity.damage`) and its last tick, played
        again from the tick before, comes out as it is journaled.

        Raises
        ------
        JournalDamaged
            When the journal does not agree with its checksums or with itself.
        RunError
            When it is a run of another model, params, data or venue settings.
        """
        assert self.journal is not None
        journal = self.journal
        if journal.final is not None:  # a new journal, in place of one that held no run
            self.start()
            return
        problems = damage(journal)
        if problems:
            raise JournalDamaged(journal.path, problems + self._detail())
        try:
            meta = journal.meta()
        except ValueError as exc:
            raise JournalDamaged(journal.path, [f"meta is not JSON ({exc})"]) from None
        if not meta:
            raise RunError(f"journal {journal.path} holds no run to resume")
        mine = self.meta()
        for key in ("format", "model_sha256", "params", "data_sha256", "contract_size"):
            if meta.get(key) != mine[key]:
                raise RunError(
                    f"journal {journal.path} is a run of another {key.replace('_', ' ')} "
                    f"({_shown(meta.get(key))}, now {_shown(mine[key])})"
                )
        if meta.get("slippage_bps") != mine["slippage_bps"]:
            raise RunError(f"journal {journal.path} ran with another slippage")
        if meta.get("params_schedule") != mine.get("params_schedule"):
            raise RunError(
                f"journal {journal.path} ran with another params schedule "
                f"({_shown(meta.get('params_schedule'))}, now "
                f"{_shown(mine.get('params_schedule'))})"
            )
        self._resume_fill_models(meta)
        last = journal.last_tick()
        if last is None:
            self.start()
            return
        if last["tick"] > len(self.feed.rows):
            raise JournalDamaged(
                journal.path,
                [
                    f"ticks row {last['tick']}: after the last row of the data "
                    f"({len(self.feed.rows)})"
                ],
            )
        try:
            windows = self.model.windows
            for row in journal.ticks():
                if windows:
                    self.stats.peak(windows, row["state"], row["tick"], row["time"])
                self.stats.add(
                    row["tick"],
                    row["actions"],
                    row["event"],
                    [],
                    *self._points_of(row),
                    time=row["time"],
                    step=row["step"],
                )
            self.stats.fills_of.update(journal.fill_counts())
            self.stats.fills = sum(self.stats.fills_of.values())
            self.stats.fill_log = journal.fills()
            self._restore(last)
        except (KeyError, TypeError, ValueError, VenueError) as exc:
            raise JournalDamaged(
                journal.path,
                [f"ticks row {last['tick']} cannot be restored ({type(exc).__name__}: {exc})"],
            ) from None
        problems = self._replayed(last)
        if problems:
            raise JournalDamaged(journal.path, problems)
        self.outcome = self._ended(last)
        resumes = [
            *meta.get("resumes", []),
            {"tick": last["tick"], "admitted_by": self.admitted_by},
        ]
        update: dict[str, Any] = {"resumes": resumes}
        if self.admitted_by.startswith("UNPROVEN"):
            update["admitted_by"] = self.admitted_by  # once unproven, the run stays marked
        journal.set_meta(update)

    def _resume_fill_models(self, meta: Mapping[str, Any]) -> None:
        """Continue with the fill models and participation rate the journal ran with (a
        journal from before fill models ran the book model at the default rate); one
        given for this resume that differs from them is refused."""
        journaled = meta.get("fill_models")
        ran = (
            {str(k): str(v) for k, v in journaled.items()}
            if isinstance(journaled, dict)
            else dict.fromkeys(self.fill_models, "book")
        )
        rate = Fraction(str(meta.get("participation", exact(PARTICIPATION))))
        if set(ran) != set(self.fill_models) or not set(ran.values()) <= set(FILL_MODELS):
            raise RunError(
                f"journal {self.journal_name()} names fill models {_shown(ran)}, not one of "
                f"{', '.join(FILL_MODELS)} for each book of this run"
            )
        if self.fill_choice is not None and ran != self.fill_models:
            raise RunError(
                f"journal {self.journal_name()} ran with fill model(s) {_models_text(ran)}, "
                f"not {_models_text(self.fill_models)} (--fill-model {self.fill_choice}); "
                "resume without --fill-model to continue with the journal's"
            )
        given = self.participation_given
        if given is not None and given != rate:
            raise RunError(
                f"journal {self.journal_name()} ran with participation {exact(rate)}, not "
                f"{exact(given)}; resume without --participation to continue with the journal's"
            )
        self.fill_models, self.participation = ran, rate
        self._apply_fill_models()

    def journal_name(self) -> str:
        return "" if self.journal is None else str(self.journal.path)

    def _points_of(
        self, row: Mapping[str, Any]
    ) -> tuple[dict[str, tuple[Fraction | None, Num, Num, Num]], Fraction]:
        """A journaled tick's books (mid, position, open buy, open sell) and PnL."""
        if not self.versioned:
            mid = None if row["mid"] is None else Fraction(row["mid"])
            venues = {"": row["venue"]}
            mids: dict[str, Fraction | None] = {"": mid}
            positions = {"": Fraction(row["position"])}
        else:
            venues = row["venue"]
            mids = {
                k: None if v is None else Fraction(v) for k, v in json.loads(row["mid"]).items()
            }
            positions = {k: Fraction(v) for k, v in json.loads(row["position"]).items()}
        points: dict[str, tuple[Fraction | None, Num, Num, Num]] = {}
        for name, position in positions.items():
            orders = venues[name]["orders"]
            opened = [
                sum(
                    (Fraction(o["qty"]) - Fraction(o["filled"]) for o in orders if o["side"] == s),
                    start=Fraction(0),
                )
                for s in SIDES
            ]
            points[name] = (mids[name], _whole(position), _whole(opened[0]), _whole(opened[1]))
        return points, Fraction(row["equity"])

    def _detail(self) -> list[str]:
        """For a journal found damaged: which fields of its last tick differ from that
        tick played again, when the rows can be read at all (else nothing more)."""
        try:
            last = self.journal.last_tick() if self.journal is not None else None
            return [] if last is None else self._replayed(last)
        except Exception:  # the damage is already reported; this only adds detail
            return []

    def _restore(self, row: Mapping[str, Any]) -> None:
        """Take the configuration, the venues and the flows' last reads from a tick row."""
        values = {v.name: from_json(v, row["state"][v.name]) for v in self.state_vars}
        if row["step"] not in self.model.steps:
            raise ValueError(f"no step {row['step']!r} in the model")
        self.config = Config(row["step"], values)
        self.books = self.books.restored(row["venue"])
        self.reads = {
            k: int(v) if v.lstrip("-").isdigit() else Fraction(v) for k, v in row["reads"].items()
        }
        self.next_tick = row["tick"] + 1

    def _replayed(self, last: Mapping[str, Any]) -> list[str]:
        """Play the last journaled tick again, from the tick before it, in a scratch
        journal, and say where the journal differs: a state, an order or a fill the
        venue and the model would not have."""
        assert self.journal is not None
        tick = last["tick"]
        scratch = Executor(
            self.model,
            self.feed,
            Journal(":memory:"),
            slippage_bps=self.slippage_bps,
            admitted_by=self.admitted_by,
            params=self.params,
            planned=list(self.planned.values()),
            cover=self.cover,
            schedule=self.schedule,
        )
        scratch.fill_models, scratch.participation = dict(self.fill_models), self.participation
        scratch._apply_fill_models()
        if tick == 0:
            scratch.start()
        else:
            before = self.journal.tick(tick - 1)
            assert before is not None
            try:
                scratch._restore(before)
            except (KeyError, TypeError, ValueError, VenueError) as exc:
                return [f"ticks row {tick - 1} cannot be restored ({type(exc).__name__}: {exc})"]
            scratch._tick(tick, self.feed.rows[tick - 1])
        assert scratch.journal is not None
        return differences(self.journal, scratch.journal, tick)

    def _ended(self, last: Mapping[str, Any]) -> Outcome | None:
        event = last["event"]
        if event is not None and event["kind"] in _ENDS:
            return Outcome(event["kind"], last["tick"], last["step"], event["message"])
        if last["tick"] >= len(self.feed.rows):
            return Outcome("data-end", last["tick"], last["step"], "end of the market data")
        return None

    # -- the loop -------------------------------------------------------------------------
    def run(self, progress: Progress | None = None) -> Outcome:
        """Play the ticks from ``next_tick`` until the run ends; ``progress`` is called
        after every tick. A journal in groups (``commit_every`` > 1) is committed when the
        run ends; a run stopped by an exception keeps only its committed groups."""
        total = len(self.feed.rows)
        rows = self.feed.rows
        if self._fast():
            self._fast_run(progress)
        while self.outcome is None:
            tick = self.next_tick
            if tick > total:
                self.outcome = Outcome(
                    "data-end", total, self.config.step, "end of the market data"
                )
                break
            self._tick(tick, rows[tick - 1])
            self.next_tick = tick + 1
            if progress is not None:
                progress(tick, total)
        if self.journal is not None:
            self.journal.flush()
            self.journal.set_meta({"outcome": self.outcome.to_json()})
        return self.outcome

    def _fast(self) -> bool:
        """Whether the ticks can be played by the compiled step functions: a model without
        instruments on one paper venue that reports no events between rows (its ``poll``
        is the paper venue's), with the monitor on and no observer."""
        return (
            self.steps is not None
            and not self.model.ticked  # each tick moves the clock: the general path
            and self.observer is None
            and self.monitor
            and len(self.books.by_name) == 1
            and type(self.books.first).poll is PaperVenue.poll
        )

    def _fast_run(self, progress: Progress | None) -> None:
        """Play ticks by the steps' compiled functions (:mod:`checker.run.compiled`) until
        the run ends or the data does; a tick whose function gives up is played by the
        general path from the same inputs: the same tick, the same journal record."""
        steps = self.steps
        assert steps is not None
        rows = self.feed.rows
        total = len(rows)
        venue = self.books.first
        on_market, equity = venue.on_market, venue.equity
        open_quantities = venue.open_quantities
        readers, bindings, reads_of = self.readers, self.bindings, self.reads_of
        final, all_hold = self.final, self.all_hold
        stats = self.stats
        if not stats.names:  # the marks below are of this one book
            stats.names = tuple(self.books.by_name)
        mark = stats.marks.append
        journal = self.journal
        while self.outcome is None and self.next_tick <= total:
            tick = self.next_tick
            row = rows[tick - 1]
            fills = on_market(tick, row.markets[""])
            left = venue.left  # a new list at every row, never changed in place
            reads = self.reads
            delivered = {source: read(venue) for source, read in readers}
            q: dict[str, Value] = {}
            for name, source, flow, integral in bindings:  # venue_values, inline
                value = delivered[source] - reads[source] if flow else delivered[source]
                q[name] = _whole(value) if integral and type(value) is not int else value
            if tick in self.planned:  # a param change: the general path plays the tick
                self._change_params(tick)
                before = self.config
                fired = None
            else:
                before = self.config
                try:
                    fired = steps[before.step](before.values, row.inputs, q)
                except Exception:  # the general path evaluates it again and says what
                    fired = None
            if fired is None:
                inputs = {**row.inputs, **q}
                env = {**before.values, **inputs}
                self._general(tick, row, fills, list(left), delivered, before, inputs, env)
            else:
                # Stats.add of the tick, on the one paper venue: the same counts and mark
                stats.ticks += 1
                index: int | None = None
                event: dict[str, Any] | None = None
                sent: list[dict[str, Any]] = []
                if fired != NO_TRANSITION:
                    index, target, actions, values = fired  # type: ignore[misc]
                    for n, action in enumerate(actions, 1):
                        out = _send_paper(venue, tick, f"{tick}.{n}", action, fills)
                        sent.append(out)
                        stats.actions += 1
                        if out["status"] == "sent":
                            if out["name"] == "place":
                                stats.orders += 1
                                stats.orders_of[""] += 1
                        else:
                            stats.rejected += 1
                    self.config = Config(target, values)
                    for source in reads_of[index]:
                        reads[source] = delivered[source]
                    if target in final:
                        message = f"reached final step '{target}'"
                        event = {"kind": "final", "message": message}
                        self.outcome = Outcome("final", tick, target, message)
                if fills:  # those of the row and those of the actions
                    stats.fills += len(fills)
                    stats.fill_log += fills
                    stats.fills_of[venue.instrument] += len(fills)
                market = venue.market
                mark(
                    (
                        tick,
                        row.time,
                        self.config.step,
                        equity(),
                        None if market is None else market.mid,
                        venue.position,
                        *open_quantities(),
                    )
                )
                if journal is not None:
                    env = {**before.values, **row.inputs, **q}
                    provers = [] if index is None else all_hold[index]
                    self._journal_tick(tick, row, index, env, provers, event, sent, fills, left)
            self.next_tick = tick + 1
            if progress is not None:
                progress(tick, total)

    def _change_params(self, tick: int) -> None:
        """Make the schedule's change planned before ``tick``, if the proof covers the
        rest of the run with the new values (:mod:`checker.run.schedule`); else keep the
        values. Either way the tick's journal record says so."""
        planned = self.planned[tick]
        before = self.config
        values = {**before.values, **planned.values}
        why = self.interp.outside(values)
        if why is None:
            why = (
                "no proof of the region to check it against"
                if self.cover is None
                else self.cover.problem(before.step, values)
            )
        asked = ", ".join(f"{n}={_shown(self._show(n, v))}" for n, v in planned.values.items())
        event: dict[str, Any] = {
            "kind": "params",
            "applied": why is None,
            "values": {n: self._show(n, v) for n, v in planned.values.items()},
            "source": planned.source,
        }
        if why is None:
            self.config = Config(before.step, values)
            event["message"] = f"tick {tick}: params changed to {asked} ({planned.source})"
        else:
            kept = ", ".join(
                f"{n}={_shown(self._show(n, before.values[n]))}" for n in planned.values
            )
            event["reason"] = why
            event["message"] = (
                f"tick {tick}: params change to {asked} ({planned.source}) refused: {why}; "
                f"the run goes on with {kept}"
            )
        self._params_event = event

    def quantities(self) -> dict[str, Num]:
        """The venue's quantities that the model reads, now: running totals for flows,
        levels for the rest. With several instruments only ``venue.pnl_change`` is read
        (:func:`venue_source_problems`), from the account: every venue's equity."""
        if len(self.books.by_name) > 1:
            return {source: self.books.equity() for source in self.sources}
        return {source: _READ[source](self.venue) for source in self.sources}

    def venue_values(self, now: Mapping[str, Num]) -> dict[str, Value]:
        """The venue inputs read from ``now``: a flow is what accumulated since the
        strategy last read it."""
        reads = self.reads
        out: dict[str, Value] = {}
        for name, source, flow, integral in self.bindings:
            value = now[source] - reads[source] if flow else now[source]
            out[name] = _whole(value) if integral and type(value) is not int else value
        return out

    def _tick(self, tick: int, row: Row) -> None:
        if tick in self.planned:
            self._change_params(tick)
        fills = self.books.on_market(tick, row.markets)
        left = self.books.left()
        delivered = self.quantities()
        before = self.config
        inputs = {**row.inputs, **self.venue_values(delivered)}
        if self.versioned:
            inputs.update(Venues.fill_inputs(self.book, fills))
        env = {**before.values, **inputs}
        self._general(tick, row, fills, left, delivered, before, inputs, env)

    def _general(
        self,
        tick: int,
        row: Row,
        fills: list[Fill],
        left: list[str],
        delivered: Mapping[str, Num],
        before: Config,
        inputs: dict[str, Value],
        env: dict[str, Value],
    ) -> None:
        """The tick after the venues saw its row, by the interpreter's pieces one by one:
        every path, the monitor's stops, denials and broken limits included."""
        if self.observer is not None:
            self.observer(tick, row, env)
        if self.monitor and not self.interp.admissible(env):
            inputs = {n: env[n] for n in self.input_names}
            problems = self.interp.input_violations(before, inputs)
            problems = [self._explain(p, before, inputs) for p in problems]
            actions = self._halt(tick, fills)
            problems = [p + self._advice(p, env, tick) for p in problems]
            step = self.model.final[0] if self.model.final else before.step
            self.config = Config(step, before.values)
            where = f"went to final step '{step}'" if self.model.final else "stopped"
            message = (
                f"tick {tick}: {'; '.join(problems)}: the proof no longer covers this run; {where}"
            )
            breach = {"kind": "assumption", "problems": problems, "message": message}
            self.outcome = Outcome("assumption", tick, step, message)
            self._commit(tick, row, None, env, [], breach, actions, fills, left)
            return
        after = self.interp.after_fills(before, inputs, env)
        if self.versioned:
            mismatches = self._reconcile(after, pending=False)
            if mismatches:
                actions = self._halt(tick, fills)
                differ = self._books_differ(tick, "after the fills", mismatches, after)
                self._commit(tick, row, None, env, [], differ, actions, fills, left)
                return
        if after is not before:  # the fills booked, the clock moved
            env = {**after.values, **inputs}
        chosen = self.interp.enabled(after, env, env)
        if chosen is None:
            self.config = after
            self._commit(tick, row, None, env, [], None, [], fills, left)
            return
        if not self.versioned:
            polled = self.venue.poll(tick)
            if polled:  # the venue changed since the inputs were read: read it again
                fills += polled
                env = {**before.values, **row.inputs, **self.venue_values(self.quantities())}
        provers, denied = self._recheck(env, chosen)
        result = None
        if not denied:
            result = self.interp.fire(after, env, chosen, env)
            if self.checks_orders:
                denied = self._order_denials(after, env, result)
        if denied or result is None:
            self.config = after
            what = "; ".join(f"{d['kind']} {d['name']} {d['reason']}" for d in denied)
            denial: dict[str, Any] = {
                "kind": "denied",
                "transition": chosen.transition.index,
                "provers": [{k: v for k, v in d.items() if k != "kind"} for d in denied],
                "message": f"tick {tick}: {what}: actions blocked",
            }
            self._commit(tick, row, None, env, provers, denial, [], fills, left)
            return
        actions = [self._send(tick, n, a, fills) for n, a in enumerate(result.actions, 1)]
        self.config = result.config
        for source in self.reads_of[chosen.transition.index]:
            self.reads[source] = delivered[source]
        event: dict[str, Any] | None = None
        mismatches = self._reconcile(self.config, pending=True)
        broken = [] if mismatches else self.interp.broken_limits(self.config, chosen)
        if mismatches:
            actions += self._halt(tick, fills)
            event = self._books_differ(tick, "after the actions", mismatches, self.config)
        elif broken:
            actions += self._halt(tick, fills)
            message = _limit_message(broken)
            event = {"kind": "limit", "limits": broken, "message": message}
            self.outcome = Outcome("limit", tick, self.config.step, message)
        elif self.config.step in self.model.final:
            message = f"reached final step '{self.config.step}'"
            event = {"kind": "final", "message": message}
            self.outcome = Outcome("final", tick, self.config.step, message)
        index = chosen.transition.index
        self._commit(tick, row, index, env, provers, event, actions, fills, left)

    def _reconcile(self, config: Config, *, pending: bool) -> list[Mismatch]:
        """Where the venues' books differ from the model's in ``config`` (nothing to
        compare for a model without instruments)."""
        if not self.versioned:
            return []
        return self.books.differences(self.book, config.values, pending=pending)

    def _books_differ(
        self, tick: int, when: str, mismatches: list[Mismatch], config: Config
    ) -> dict[str, Any]:
        """Stop the run on a venue whose book is not the model's: the model goes to its
        first final step (its values as they are), and the event says what differs."""
        step = self.model.final[0] if self.model.final else config.step
        self.config = Config(step, config.values)
        where = f"went to final step '{step}'" if self.model.final else "stopped"
        differ = "; ".join(m.text() for m in mismatches)
        message = (
            f"tick {tick}: the venue's book differs from the model's {when}: {differ}: "
            f"the proof no longer covers this run; everything cancelled, {where}"
        )
        self.outcome = Outcome("reconciliation", tick, step, message)
        return {
            "kind": "reconciliation",
            "when": when,
            "differences": [m.to_json() for m in mismatches],
            "message": message,
        }

    def _explain(self, problem: str, config: Config, inputs: Mapping[str, Value]) -> str:
        """An assumption's breach with the assumption's text and the values it read."""
        for a in self.model.assumptions:
            if problem == f"assumption '{a.name}' does not hold":
                env = {**config.values, **inputs}
                read = sorted(s.name for s in a.expr.free_symbols)
                values = ", ".join(f"{n} = {self.model.variable(n).show(env[n])}" for n in read)
                return f"assumption '{a.name}' ({a.text}) does not hold: {values}"
        return problem

    def _advice(self, problem: str, env: Mapping[str, Value], tick: int) -> str:
        """The param that bounds a broken range or assumption and the re-proof that would
        cover this tick (:func:`checker.run.profile.advice`); the run stops whatever it
        says, so a note that cannot be made is left out rather than failing the stop."""
        try:
            return advice(self.model, problem, env, tick)
        except Exception:  # the stop itself is already decided and its cancel sent
            return ""

    def _recheck(
        self, env: Mapping[str, Value], chosen: Compiled
    ) -> tuple[list[tuple[str, bool]], list[dict[str, Any]]]:
        """Evaluate the transition's provers again, on the inputs as the venue stands
        just before the actions go out; fail closed on a prover that does not hold or
        cannot be evaluated."""
        index = chosen.transition.index
        try:
            if self.all_provers[index](env):
                return self.all_hold[index], []  # the common case: one compiled check
        except Exception:  # the detail below says which one, fail-closed
            pass
        results: list[tuple[str, bool]] = []
        denied: list[dict[str, Any]] = []
        for name in chosen.transition.provers:
            try:
                holds = bool(self.interp.provers[name](env))
                reason = "does not hold"
            except Exception as exc:  # fail closed, whatever went wrong
                holds, reason = False, f"could not be evaluated ({type(exc).__name__}: {exc})"
            results.append((name, holds))
            if not holds:
                expr = next(p.expr for p in self.model.provers if p.name == name)
                read = sorted(s.name for s in expr.free_symbols)
                denied.append(
                    {
                        "kind": "prover",
                        "name": name,
                        "text": self.prover_text[name],
                        "reason": reason,
                        "values": {n: self._show(n, env[n]) for n in read if n in env},
                    }
                )
        return results, denied

    def _order_denials(
        self, after: Config, env: Mapping[str, Value], result: TickResult
    ) -> list[dict[str, Any]]:
        """The order checks (and ``positive_qty``) that the orders of ``result`` break,
        each order read on the configuration after the fills: one entry per broken check,
        naming the first order that breaks it. Fail-closed: a check that cannot be
        evaluated is broken."""
        try:
            if not self.interp.broken_orders(after, env, result):
                return []
        except Exception:  # fail closed; the detail below says which order
            pass
        denied: list[dict[str, Any]] = []
        for action in result.actions:
            if action.name != "place":
                continue
            try:
                names = self.interp.broken_orders(after, env, result._replace(actions=(action,)))
                reason = f"does not hold for {_order_text(action)}"
            except Exception as exc:
                names = [n for n in self.check_text if n not in {d["name"] for d in denied}]
                reason = f"could not be evaluated for {_order_text(action)} ({exc})"
            for name in names:
                if name in {d["name"] for d in denied}:
                    continue
                denied.append(
                    {
                        "kind": "order check",
                        "name": name,
                        "text": self.check_text.get(name, name),
                        "reason": reason,
                        "values": _order_json(action),
                    }
                )
        return denied

    def _show(self, name: str, value: Value) -> Any:
        return json_value(self.model.variable(name), value)

    def _send(self, tick: int, n: int, action: ActionValue, fills: list[Fill]) -> dict[str, Any]:
        out, got = self.books.send(tick, f"{tick}.{n}", action)
        fills += got
        return out

    def _halt(self, tick: int, fills: list[Fill]) -> list[dict[str, Any]]:
        return [self._send(tick, 0, ActionValue("cancel_all"), fills)]

    # -- journal ----------------------------------------------------------------------------
    def _commit(
        self,
        tick: int,
        row: Row | None,
        transition: int | None,
        env: Mapping[str, Value],
        provers: list[tuple[str, bool]],
        event: Mapping[str, Any] | None,
        actions: list[dict[str, Any]],
        fills: list[Fill],
        left: list[str],
    ) -> None:
        if self._params_event is not None:  # a param change before this tick
            change, self._params_event = self._params_event, None
            event = change if event is None else {**event, "params": change}
        points = {name: _point(v) for name, v in self.books}
        equity = self._equity()
        if self.model.windows:
            self.stats.peak(
                self.model.windows,
                self.config.values,
                tick,
                None if row is None else row.time,
            )
        self.stats.add(
            tick,
            actions,
            event,
            fills,
            points,
            equity,
            time=None if row is None else row.time,
            step=self.config.step,
        )
        if self.journal is not None:
            self._journal_tick(
                tick, row, transition, env, provers, event, actions, fills, left, points, equity
            )

    def _equity(self) -> Fraction:
        """The account's PnL now (one venue: its equity is the account's)."""
        books = self.books.by_name
        return next(iter(books.values())).equity() if len(books) == 1 else self.books.equity()

    def _journal_tick(
        self,
        tick: int,
        row: Row | None,
        transition: int | None,
        env: Mapping[str, Value],
        provers: list[tuple[str, bool]],
        event: Mapping[str, Any] | None,
        actions: list[dict[str, Any]],
        fills: list[Fill],
        left: list[str],
        points: Mapping[str, tuple[Fraction | None, Num, Num, Num]] | None = None,
        equity: Fraction | None = None,
    ) -> None:
        """Write the tick to the journal (there is one), with each book's point and the
        PnL when the caller has them already."""
        assert self.journal is not None
        if points is None:
            points = {name: _point(v) for name, v in self.books}
        if equity is None:
            equity = self._equity()
        mid: str | None
        if self.versioned:
            mid = json.dumps({n: exact(p[0]) for n, p in points.items()}, separators=(",", ":"))
            position = json.dumps(
                {n: exact(p[1]) for n, p in points.items()}, separators=(",", ":")
            )
        else:
            mid, position = exact(points[""][0]), exact(points[""][1]) or "0"
        values = self.config.values
        record = TickRecord(
            tick=tick,
            line=None if row is None else row.line,
            time=None if row is None else row.time,
            step=self.config.step,
            transition=transition,
            inputs={n: show(env[n]) for n, show in self.shown_inputs if n in env},
            provers=provers,
            actions=[_exact_action(a) for a in actions],
            state={n: show(values[n]) for n, show in self.shown_state},
            event=event,
            mid=mid,
            position=position,
            equity=exact(equity) or "0",
            venue=self.books.snapshot(),
            reads={k: exact(v) for k, v in sorted(self.reads.items())},
        )
        changed = {a["cid"] for a in actions if a["name"] == "place"}
        changed |= {f.cid for f in fills}
        changed.update(left)
        for a in actions:
            changed.update(a.get("cancelled", ()))
        orders = [v.orders[c] for c in sorted(changed) for _, v in self.books if c in v.orders]
        self.journal.write_tick(record, orders, fills)


def _send_paper(
    venue: PaperVenue, tick: int, cid: str, action: ActionValue, fills: list[Fill]
) -> dict[str, Any]:
    """:meth:`Venues.send` of an action of a model without instruments to its one venue:
    the same record, the same calls."""
    name = action.name
    out: dict[str, Any]
    try:
        if name == "place":
            side, qty, price = action.side, action.qty, action.price
            assert side is not None and qty is not None
            if not isinstance(qty, int):
                qty = _whole(qty)
            if price is not None and type(price) is not Fraction:
                price = Fraction(price)
            out = {"cid": cid, "name": name, "status": "sent", "side": side, "qty": qty}
            out["price"] = price
            fills += venue.place(tick, cid, side, qty, price)
        elif name == "cancel":
            assert action.side is not None
            out = {"cid": cid, "name": name, "status": "sent", "side": action.side}
            out["cancelled"] = venue.cancel(tick, cid, action.side)
        else:
            out = {"cid": cid, "name": name, "status": "sent"}
            out["cancelled"] = list(venue.cancel_all(tick, cid))
    except VenueError as exc:
        out.update(status="rejected", reason=str(exc))
    return out


def _shower(var: Variable) -> Callable[[Value], Any]:
    """How the journal shows a value of ``var`` (as :func:`json_value` does, faster)."""
    kind = var.type.kind
    if kind == "bool":
        return bool
    if kind == "enum":
        names = var.type.values
        return lambda value: names[int(value)]
    if kind == "real":
        return lambda value: decimal_text(value if type(value) is Fraction else Fraction(value))
    return int


def _point(venue: PaperVenue) -> tuple[Fraction | None, Num, Num, Num]:
    """What the report's series keeps of a venue after a tick: its mid, position and
    open quantities."""
    return (
        None if venue.market is None else venue.market.mid,
        venue.position,
        *venue.open_quantities(),
    )


def _models_text(models: Mapping[str, str]) -> str:
    if len(set(models.values())) == 1:
        return next(iter(models.values()))
    return ", ".join(f"{name} {m}" for name, m in models.items())


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _order_text(action: ActionValue) -> str:
    """An order as it reads in a denial: ``place(instrument=perp, side=buy, qty=5, ...)``."""
    fields = {k: v for k, v in _order_json(action).items() if v is not None}
    return "place(" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"


def _order_json(action: ActionValue) -> dict[str, Any]:
    return {
        "instrument": action.instrument or None,
        "side": action.side,
        "qty": None if action.qty is None else exact(_whole(Fraction(action.qty))),
        "price": None if action.price is None else exact(Fraction(action.price)),
        "tif": action.tif,
    }


def _exact_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action for the journal, its numbers as exact text."""
    return {k: exact(v) if k in ("qty", "price") else v for k, v in action.items()}


def _limit_message(broken: list[str]) -> str:
    return f"limit {', '.join(broken)} broken: everything cancelled, run stopped"
