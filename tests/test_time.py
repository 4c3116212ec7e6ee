"""Time in the language: the clock, durations, windows (issue 15).

Windows are checked against an independent reading of their semantics: every event kept
in a plain list, the window's value counted from it directly, on runs Hypothesis draws;
the reference throttles are proved and refuted as the issue asks."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from checker.errors import ModelError
from checker.interpret import Interpreter
from checker.lang.loader import load_model, load_text
from checker.lang.timing import CLOCK_ASSUMPTION, CLOCK_LAST, shown_state, substitute
from checker.options import Options
from checker.results import Verdict
from checker.run.data import read_feed
from checker.run.executor import Executor
from checker.run.journal import Journal
from checker.verify import verify_model
from tests.conftest import ROOT, run_cli
from tests.test_two_semantics import agree

TIME_MODELS = ROOT / "tests" / "models" / "time"
ROLLING = ROOT / "models" / "rolling_order_throttle.yaml"


def model_text(body: str, clock: str = "clock: {input: now, unit: ms}") -> str:
    return f"""
strategy: t
{clock}
state: {{n: {{type: int, init: 0}}}}
{body}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    when: go
    emit:
      - place(side="buy", qty=1)
limits:
  ok: true
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ModelError) as caught:
        load_text(text, "m.yaml")
    return [str(d) for d in caught.value.diagnostics]


# -- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "unit", "value"),
    [
        ("1s", "ms", 1000),
        ("500ms", "ms", 500),
        ("5m", "ms", 300_000),
        ("1.5s", "ms", 1500),
        ("2h", "s", 7200),
        ("1d", "s", 86_400),
        ("250us", "us", 250),
        ("3ms", "us", 3000),
    ],
)
def test_a_duration_is_an_integer_of_the_clocks_unit(written: str, unit: str, value: int) -> None:
    model = load_text(
        model_text(
            f"params: {{w: {written}}}\ninputs: {{go: {{type: bool}}}}\n"
            f"assume: {{later: now >= {written}}}",
            f"clock: {{input: now, unit: {unit}}}",
        ),
        "m.yaml",
    )
    assert model.params["w"] == value
    later = next(a for a in model.assumptions if a.name == "later")
    assert str(later.expr) == f"now >= {value}"


def test_durations_inside_strings_and_names_are_left_alone() -> None:
    assert substitute('x1s + "5s" + y.2s', "ms") is None
    found = substitute("a < 5s and b", "ms")
    assert found is not None
    text, origin = found
    assert text == "a < 5000 and b"
    assert origin[text.index("5000")] == 4  # where 5s was written
    assert origin[text.index(" and")] == 6


def test_a_bad_duration_is_reported_where_it_is_written() -> None:
    fractional = model_text("inputs: {go: {type: bool}}\nassume: {a: now >= 1.5ms}")
    assert errors_of(fractional) == [
        "m.yaml:6:20: 1.5ms is not a whole number of ms, the clock's unit"
    ]
    no_clock = model_text("inputs: {go: {type: bool}, t: {type: int}}\nassume: {a: t >= 5s}", "")
    assert errors_of(no_clock) == [
        "m.yaml:6:18: a duration (5s) needs a clock: declare one, such as "
        "`clock: {input: now, unit: ms}`"
    ]


def test_a_duration_param_takes_a_duration_override() -> None:
    text = model_text("params: {w: 1s}\ninputs: {go: {type: bool}}")
    assert load_text(text, "m.yaml", {"w": "2.5s"}).params["w"] == 2500
    assert load_text(text, "m.yaml", {"w": "40"}).params["w"] == 40


# -- the clock ----------------------------------------------------------------------------


def test_the_clock_declares_its_input_and_the_assumption_that_it_never_goes_back() -> None:
    model = load_text(model_text("inputs: {go: {type: bool}}"), "m.yaml")
    assert model.clock is not None and model.clock.input == "now"
    now = model.variable("now")
    assert (now.type.kind, now.column) == ("int", "time")
    assert {v.name for v in model.state} == {"n", CLOCK_LAST}
    forward = next(a for a in model.assumptions if a.name == CLOCK_ASSUMPTION)
    assert forward.text == "now >= clock.last"
    assert model.ticked == {CLOCK_LAST: model.variable("now").symbol}  # moved at every tick
    assert all(t.do == () for t in model.transitions)  # no count window, nothing to do


def test_clock_errors() -> None:
    twice = model_text("inputs: {go: {type: bool}, now: {type: int}}")
    assert any("'now' is the clock's input" in e for e in errors_of(twice))
    no_clock = model_text(
        "inputs: {go: {type: bool}}\nwindows: {w: {count: place, over: 5, up_to: 1}}", ""
    )
    assert any("windows need a clock" in e for e in errors_of(no_clock))
    real_sum = model_text(
        "inputs: {go: {type: bool}, x: {type: real}}\nwindows: {w: {sum: x, over: 1s, up_to: 3}}"
    )
    assert any("a window adds int amounts" in e for e in errors_of(real_sum))
    too_big = model_text(
        "inputs: {go: {type: bool}}\nwindows: {w: {count: place, over: 1s, up_to: 5000}}"
    )
    assert any("up_to must be from 0 to 1000" in e for e in errors_of(too_big))
    assigned = model_text(
        "inputs: {go: {type: bool}}\nwindows: {w: {count: place, over: 1s, up_to: 3}}"
    ).replace("    when: go\n", "    when: go\n    do: {w: 1}\n")
    assert any("'w' is a window, not state" in e for e in errors_of(assigned))
    empty = model_text(
        "inputs: {go: {type: bool}}\nwindows: {w: {count: place, over: 0, up_to: 1}}"
    )
    assert any("a window's length must be positive" in e for e in errors_of(empty))


# -- windows against an independent reading of their semantics ---------------------------

ORACLE = """
strategy: oracle
clock: {{input: now, unit: ms}}
params:
  cap: {cap}
windows:
  sent: {{count: place, over: {over}, up_to: {up_to}}}
  traded: {{sum: amount, over: {over2}, up_to: {up_to2}}}
inputs:
  go: {{type: bool}}
  amount: {{type: int, range: [-2, 6]}}
state:
  fired: {{type: int, init: 0}}
provers:
  room: sent + {k} <= cap
  calm: traded <= {cap2}
steps: [s]
initial: s
transitions:
  - from: s
    to: s
    when: [go, room, calm]
    emit: {emits}
    do: {{fired: fired + 1}}
limits:
  ok: true
"""


@st.composite
def oracle_models(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """A model with a count window and a sum window, guards reading both, and its params."""
    params = {
        "over": draw(st.integers(1, 50)),
        "up_to": draw(st.integers(0, 8)),
        "over2": draw(st.integers(1, 50)),
        "up_to2": draw(st.integers(0, 12)),
        "k": draw(st.integers(0, 3)),
    }
    params["cap"] = draw(st.integers(0, params["up_to"]))  # exact: cap <= up_to
    params["cap2"] = draw(st.integers(0, params["up_to2"]))
    emits = "".join(['\n      - place(side="buy", qty=1)'] * params["k"]) or "[]"
    return ORACLE.format(emits=emits, **params), params


@st.composite
def oracle_cases(draw: st.DrawFn) -> tuple[str, dict[str, int], list[dict[str, int | bool]]]:
    text, params = draw(oracle_models())
    now = 0
    ticks: list[dict[str, int | bool]] = []
    for _ in range(draw(st.integers(1, 40))):
        now += draw(st.sampled_from([0, 0, 1, 2, 5, 20, 60]))
        ticks.append({"now": now, "go": draw(st.booleans()), "amount": draw(st.integers(-2, 6))})
    return text, params, ticks


def _true_windows(
    p: dict[str, int], ticks: list[dict[str, int | bool]]
) -> list[tuple[bool, int, int]]:
    """An independent reading of the oracle model on ``ticks``, from a plain list of
    events (no slot, no saturation): for each tick, whether the transition fires and the
    windows' true values after it at the tick's clock (orders sent, amount traded)."""
    placed: list[int] = []  # the time of every order sent
    traded: list[tuple[int, int]] = []  # (time, amount) of every positive amount
    found = []
    for inputs in ticks:
        now, amount = int(inputs["now"]), int(inputs["amount"])
        if amount > 0:  # every tick's amount, before the transition is chosen
            traded.append((now, amount))
        sent_now = sum(1 for e in placed if now - p["over"] < e <= now)
        total_now = sum(a for t, a in traded if now - p["over2"] < t <= now)
        fires = (
            bool(inputs["go"])
            and min(sent_now, p["up_to"] + 1) + p["k"] <= p["cap"]
            and min(total_now, p["up_to2"] + 1) <= p["cap2"]
        )
        if fires:
            placed.extend([now] * p["k"])
        found.append((fires, sum(1 for e in placed if now - p["over"] < e <= now), total_now))
    return found


@settings(max_examples=120, deadline=None)
@given(oracle_cases())
def test_windows_agree_with_a_plain_list_of_events(
    case: tuple[str, dict[str, int], list[dict[str, int | bool]]],
) -> None:
    text, p, ticks = case
    model = load_text(text, "oracle.yaml")
    interp = Interpreter(model)
    config = interp.initial()
    for inputs, (fires, sent, total) in zip(ticks, _true_windows(p, ticks), strict=True):
        assert interp.input_violations(config, inputs) == []
        result = interp.step(config, inputs)
        assert (result.transition is not None) == fires
        config = result.config
        shown = shown_state(model.windows, config.values)
        assert shown is not None
        assert shown["sent"] == min(sent, p["up_to"] + 1)
        assert shown["traded"] == min(total, p["up_to2"] + 1)
    # the clock going back is outside the assumptions
    last = int(ticks[-1]["now"])
    if last:
        back = {**ticks[-1], "now": last - 1}
        assert f"assumption '{CLOCK_ASSUMPTION}' does not hold" in interp.input_violations(
            config, back
        )


# -- the reference throttles --------------------------------------------------------------


def test_the_rolling_throttle_is_proved() -> None:
    for path in (TIME_MODELS / "rolling_throttle.yaml", ROLLING):
        report = verify_model(load_model(path))
        assert {lim.name: lim.verdict for lim in report.limits}[
            "order_rate" if path == ROLLING else "rate"
        ] is Verdict.PROVED
        assert all(lim.verdict is Verdict.PROVED for lim in report.limits)


def test_a_fixed_bucket_lets_twice_the_rate_through_across_its_boundary() -> None:
    model = load_model(TIME_MODELS / "bucket_throttle.yaml")
    report = verify_model(model)
    by_name = {lim.name: lim for lim in report.limits}
    n = int(model.params["max_orders"])
    per = int(model.params["per"])
    rate, twice = by_name["rate"], by_name["twice_the_rate"]
    assert rate.verdict is Verdict.REFUTED and twice.verdict is Verdict.REFUTED
    run = twice.counterexample
    assert run is not None
    # the shortest run sending 2N orders: N/2 requotes of 2 orders on each side of a boundary
    assert len(run.ticks) - 1 == n
    times = [int(t.inputs["now"]) for t in run.ticks[1:]]
    assert times[-1] - times[0] < per
    assert run.ticks[-1].state["sent_1s"] == 2 * n
    # the bucket's own count never went above N
    assert max(int(t.state["in_bucket"]) for t in run.ticks) <= n


@pytest.mark.slow
def test_the_realistic_fixed_bucket_throttle_sends_twice_the_rate() -> None:
    model = load_model(TIME_MODELS / "fixed_bucket_throttle.yaml")
    report = verify_model(model)
    by_name = {lim.name: lim for lim in report.limits}
    assert by_name["rate_limit"].verdict is Verdict.PROVED
    twice = by_name["twice_the_rate"]
    assert twice.verdict is Verdict.REFUTED and twice.counterexample is not None
    n = int(model.params["max_orders_per_window"])
    ticks = twice.counterexample.ticks
    assert len(ticks) - 1 == n - 1 + n  # n requotes, a tick back to waiting between two
    assert ticks[-1].state["sent"] == 2 * n


# -- the executor -------------------------------------------------------------------------


def quotes(path: Path, times: list[str]) -> Path:
    rows = [
        "time,perp.bid,perp.ask,perp.bid_size,perp.ask_size,perp.low,perp.high,perp.volume,kill_switch"
    ]
    for i, t in enumerate(times):
        bid = 60000 + 10 * i
        rows.append(f"{t},{bid},{bid + 1},1,1,{bid + 1},{bid},0,false")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_clock_reads_iso_times_and_numbers_from_the_time_column(tmp_path: Path) -> None:
    model = load_model(ROLLING)
    iso = quotes(tmp_path / "iso.csv", ["2024-01-01T00:00:00.250Z", "2024-01-01T00:00:01+00:00"])
    rows = read_feed(iso, model).rows
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert [r.inputs["now"] for r in rows] == [start + 250, start + 1000]
    numbers = quotes(tmp_path / "n.csv", ["1000", "1500"])
    assert [r.inputs["now"] for r in read_feed(numbers, model).rows] == [1000, 1500]


def test_a_run_enforces_the_window_and_reports_its_peak(tmp_path: Path) -> None:
    model = load_model(ROLLING)
    # a requote every 100 ms for 3 s: the window would see 20 orders a second unthrottled
    times = [f"2024-01-01T00:00:{i // 10:02d}.{i % 10}00Z" for i in range(30)]
    feed = read_feed(quotes(tmp_path / "q.csv", times), model)
    journal = Journal(tmp_path / "j.sqlite")
    executor = Executor(model, feed, journal)
    executor.start()
    outcome = executor.run()
    journal.close()
    assert outcome.reason == "data-end"
    value, tick, _ = executor.stats.peaks["sent"]
    assert value == int(model.params["max_orders"])
    # from the journal: no rolling second ever holds more than max_orders orders
    journal = Journal(tmp_path / "j.sqlite", existing=True)
    placed = [
        datetime.fromisoformat(row["time"]).timestamp()
        for row in journal.ticks()
        for a in row["actions"]
        if a["name"] == "place"
    ]
    journal.close()
    assert len(placed) > 10
    assert max(sum(1 for u in placed if t - 1 < u <= t) for t in placed) <= 10
    assert tick > 0


def test_the_run_report_names_the_windows_peak_and_its_limit(tmp_path: Path) -> None:
    times = [f"2024-01-01T00:00:{i // 10:02d}.{i % 10}00Z" for i in range(30)]
    data = quotes(tmp_path / "q.csv", times)
    found = run_cli(
        "run", str(ROLLING), "--data", str(data), "--no-journal", "--no-plot",
        "--allow-unproven", "--json",
    )  # fmt: skip
    report = json.loads(found.out)
    window = report["windows"]["sent"]
    assert window["peak"] == 10 and window["up_to"] == 10
    assert window["limits"] == {"order_rate": "sent <= max_orders"}
    assert set(report["final_state"]) == {"step", "quoted_mid", "sent"} | {
        n for n in report["final_state"] if n.startswith("perp.")
    }
    assert Fraction(report["final_state"]["quoted_mid"]) > 0


def test_a_param_may_be_a_time_and_a_limit_reads_the_clock_at_the_last_tick() -> None:
    text = model_text(
        "params: {expiry: 2024-12-27T08:00:00Z, naive: '2024-12-27 08:00'}\n"
        "inputs: {go: {type: bool}}",
        "clock: {}",
    ).replace("  ok: true", "  ok: true\n  after_start: now >= 0")
    model = load_text(text, "m.yaml")
    moment = int(datetime(2024, 12, 27, 8, tzinfo=UTC).timestamp() * 1000)
    assert model.params["expiry"] == model.params["naive"] == moment
    limit = next(c for c in model.limits if c.name == "after_start")
    assert {s.name for s in limit.expr.free_symbols} == {CLOCK_LAST}


def test_a_sum_window_cannot_read_a_venue_flow() -> None:
    text = model_text(
        "inputs: {go: {type: bool}, bought: {type: int, range: [0, 5], source: venue.bought}}\n"
        "windows: {w: {sum: bought, over: 1s, up_to: 3}}"
    )
    assert any("sum an instrument's fills (I.bought, I.sold) instead" in e for e in errors_of(text))


def test_the_expiry_quoter_needs_its_cutoff() -> None:
    path = ROOT / "models" / "expiry_quoter.yaml"
    text = (
        path.read_text()
        .replace("when: not before_cutoff", "when: false")  # it never stops quoting
        .replace(
            "when: [before_cutoff, quotes_stale, room_to_buy, room_to_sell]",
            "when: [quotes_stale, room_to_buy, room_to_sell]",
        )
    )
    report = verify_model(load_text(text, str(path)))
    verdicts = {lim.name: lim.verdict for lim in report.limits}
    assert verdicts["reduce_only_near_expiry"] is Verdict.REFUTED
    run = next(lim for lim in report.limits if lim.name == "reduce_only_near_expiry").counterexample
    assert run is not None
    cutoff = load_model(path).params["expiry"] - load_model(path).params["stop_quoting"]
    assert int(run.ticks[-1].inputs["now"]) >= cutoff


@settings(max_examples=40, deadline=None)
@given(oracle_cases())
def test_the_encoding_of_windows_agrees_with_the_interpreter(
    case: tuple[str, dict[str, int], list[dict[str, int | bool]]],
) -> None:
    """The SMT encoding admits exactly the interpreter's successor at every tick of a
    drawn run (the clock moving, sum windows taking amounts at stutters too)."""
    text, _, ticks = case
    agree(load_text(text, "oracle.yaml"), [dict(t) for t in ticks[:12]])


TARDIS = ROOT.parent / "shared" / "data" / "market" / "tardis_binance_futures" / "quotes.csv"


@pytest.mark.skipif(not TARDIS.is_file(), reason="no ../shared/data/market (real data)")
def test_a_run_on_real_quotes_keeps_the_rolling_rate(tmp_path: Path) -> None:
    """Binance futures quotes (Tardis, 2020-02-22, millisecond times) through `data
    import`, then the rolling throttle with a requote at every cent the mid moves: the
    run is held to 10 orders in every rolling second, as proved, and says its peak."""
    data = tmp_path / "quotes.csv"
    imported = run_cli(
        "data", "import", f"perp={TARDIS}", "--out", str(data), "--model", str(ROLLING),
        "--gaps", "drop",
    )  # fmt: skip
    assert imported.code == 0, imported.err
    done = run_cli(
        "run", str(ROLLING), "--data", str(data), "--param", "requote_move=0.01",
        "--journal", str(tmp_path / "j.sqlite"), "--no-plot", "--allow-unproven", "--json",
    )  # fmt: skip
    report = json.loads(done.out)
    assert report["outcome"]["reason"] == "data-end"
    assert report["orders"] > 1000
    assert report["windows"]["sent"]["peak"] == 10
    journal = Journal(tmp_path / "j.sqlite", existing=True)
    placed = sorted(
        datetime.fromisoformat(row["time"]).timestamp()
        for row in journal.ticks()
        for a in row["actions"]
        if a["name"] == "place" and a["status"] == "sent"
    )
    journal.close()
    assert len(placed) == report["orders"]
    worst = max(sum(1 for u in placed if t - 1 < u <= t) for t in placed)
    assert worst <= 10


@pytest.mark.slow
def test_the_session_quoter_is_proved_and_needs_its_session() -> None:
    """time_of_day: no order that can add to the position outside 08:00-15:45 UTC or in
    the last 15 minutes before the option's expiry (the limits only: the sanity checks
    are not what this test is about)."""
    path = TIME_MODELS / "session_quoter.yaml"
    options = Options(sanity=False)
    report = verify_model(load_model(path), options)
    assert all(lim.verdict is Verdict.PROVED for lim in report.limits)
    broken = path.read_text().replace("when: not in_session", "when: false")
    report = verify_model(load_text(broken, str(path)), options)
    verdicts = {lim.name: lim.verdict for lim in report.limits}
    assert verdicts["reduce_only_out_of_session"] is Verdict.REFUTED
    run = next(r for r in report.limits if r.name == "reduce_only_out_of_session").counterexample
    assert run is not None
    day_ms = 86_400_000
    now = int(run.ticks[-1].inputs["now"])
    expiry = load_model(path).params["expiry"]
    of_day = now % day_ms
    assert not (8 * 3_600_000 <= of_day < 16 * 3_600_000 - 15 * 60_000 and now < expiry - 900_000)


MMP = ROOT / "models" / "mmp_market_maker.yaml"


def test_the_mmp_market_maker_is_proved_and_unbounded_without_its_freeze() -> None:
    """With the freeze removed (a trip cancels every quote and quoting goes on), the
    contracts traded within an interval have no bound: the shortest run trips MMP on
    the fills of one pair, requotes, and trades again within the same 5 s."""
    # proved: tests/test_models.py verifies every reference model
    names = {o.name for o in load_model(MMP).obligations()}
    assert {"traded_in_interval", "delta_in_interval", "not_while_frozen"} <= names
    text = MMP.read_text()
    trip = "    when: mmp_trips\n    emit:\n      - cancel_all()\n"
    freeze = f"    to: frozen\n{trip}    do: {{frozen_until: now + frozen_time}}\n"
    assert text.count(freeze) == 1
    unfrozen = text.replace(freeze, f"    to: quoting\n{trip}")
    options = Options(sanity=False, engine="bmc", bmc_depth=5)  # the portfolio finds it too
    report = verify_model(load_text(unfrozen, str(MMP)), options)
    traded = next(lim for lim in report.limits if lim.name == "traded_in_interval")
    assert traded.verdict is Verdict.REFUTED and traded.counterexample is not None
    ticks = traded.counterexample.ticks
    assert len(ticks) - 1 == 5  # the shortest: two pairs filled, a trip, a third pair
    last = int(ticks[-1].inputs["now"])
    inside = [t for t in ticks[1:] if int(t.inputs["now"]) > last - 5000]
    filled = sum(int(t.inputs["perp.bought"]) + int(t.inputs["perp.sold"]) for t in inside)
    model = load_model(MMP)
    assert filled == ticks[-1].state["bought"] + ticks[-1].state["sold"]
    assert filled > model.params["qty_limit"] - 1 + 2 * model.params["quote_size"]
    # MMP tripped on the way (a cancel_all) and quoting went on
    tripped = [t for t in ticks[1:-1] if any(a.get("action") == "cancel_all" for a in t.actions)]
    assert tripped and ticks[-1].step == "quoting"


def test_the_mmp_delta_is_not_bounded_by_its_trigger_alone() -> None:
    """docs/semantics.md: MMP is evaluated at a trade, and between trades the fills
    leaving the window move the delta by themselves; so `delta_limit - 1` plus one
    fill is not a bound. The shortest run breaking it: 6 ticks, one side's fills at
    time 0, the other side's inside the same interval, then a fill at 5000 ms when the
    first have just left the window."""
    text = MMP.read_text()
    proved = "abs(bought - sold) <= qty_limit - 1 + 2 * quote_size"
    assert text.count(proved) == 1
    tight = text.replace(proved, "abs(bought - sold) <= delta_limit - 1 + quote_size")
    options = Options(sanity=False, engine="bmc", bmc_depth=6)
    report = verify_model(load_text(tight, str(MMP)), options)
    delta = next(lim for lim in report.limits if lim.name == "delta_in_interval")
    assert delta.verdict is Verdict.REFUTED and delta.counterexample is not None
    ticks = delta.counterexample.ticks
    assert len(ticks) - 1 == 6
    last = int(ticks[-1].inputs["now"])
    fills = [(int(t.inputs["now"]), int(t.inputs["perp.bought"]) - int(t.inputs["perp.sold"]))
             for t in ticks[1:]]  # fmt: skip
    inside = sum(d for at, d in fills if at > last - 5000)
    model = load_model(MMP)
    assert abs(inside) == model.params["delta_limit"] + model.params["quote_size"]
    assert abs(sum(d for _, d in fills)) < abs(inside)  # an early fill has left the window


def test_a_stuck_configuration_of_a_clocked_model_is_shown_with_its_windows() -> None:
    """After 15:45 UTC on the day before the expiry the session quoter can never quote
    again, and time may stand still before the expiry's cut-off: `stuck` says so, with
    the configuration as a user reads it (the regression: it read the hidden clock from
    the state shown and ended verify with an internal error)."""
    report = verify_model(load_model(TIME_MODELS / "session_quoter.yaml"))
    stuck = [f for f in report.findings if f.rule == "stuck"]
    assert len(stuck) == 1 and "in step 'closing'" in stuck[0].message
    assert "clock.last=" not in stuck[0].message
    assert all(lim.verdict is Verdict.PROVED for lim in report.limits)


def test_data_synth_writes_the_time_a_clock_reads(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    done = run_cli(
        "data", "synth", "--scenario", "calm", "--ticks", "20", "--out", str(out),
        "--model", str(ROLLING),
    )  # fmt: skip
    assert done.code == 0, done.err
    rows = read_feed(out, load_model(ROLLING)).rows
    assert [r.inputs["now"] - rows[0].inputs["now"] for r in rows[:3]] == [0, 1000, 2000]


def test_data_profile_reads_a_clocked_model(tmp_path: Path) -> None:
    """The profile reads the model's bounds again: durations, windows and time_of_day
    included; the clock's assumption is the data's time order, checked on reading."""
    out = tmp_path / "s.csv"
    run_cli("data", "synth", "--scenario", "calm", "--ticks", "30", "--out", str(out),
            "--model", str(ROLLING))  # fmt: skip
    done = run_cli("data", "profile", str(ROLLING), "--data", str(out), "--no-reprove")
    assert done.code == 0, done.err
    assert "the data stays inside the envelope the proof assumes" in done.out


@settings(max_examples=15, deadline=None)
@given(oracle_models(), st.integers(0, 8), st.integers(0, 2**32 - 1))
def test_window_verdicts_agree_with_a_plain_list_of_events(
    case: tuple[str, dict[str, int]],
    bound: int,
    seed: int,
) -> None:
    """:func:`window_verdicts_agree_with_a_plain_list_of_events` on 15 drawn models in
    the default suite (``make test-slow`` draws 150)."""
    window_verdicts_agree_with_a_plain_list_of_events(case, bound, seed)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(oracle_models(), st.integers(0, 8), st.integers(0, 2**32 - 1))
def test_many_window_verdicts_agree_with_a_plain_list_of_events(
    case: tuple[str, dict[str, int]],
    bound: int,
    seed: int,
) -> None:
    window_verdicts_agree_with_a_plain_list_of_events(case, bound, seed)


def window_verdicts_agree_with_a_plain_list_of_events(
    case: tuple[str, dict[str, int]],
    bound: int,
    seed: int,
) -> None:
    """Verdicts on generated window models, checked against the plain list: a limit
    PROVED is never broken by the true count on 300 random runs, and a limit REFUTED is
    broken by the true count on its counterexample's inputs."""
    text, p = case
    assume(p["k"] >= 1 and p["cap"] >= 1)  # orders can go out
    limit = min(bound, p["up_to"])  # a comparison the window reads exactly
    text = text.replace("  ok: true", f"  rate: sent <= {limit}")
    report = verify_model(load_text(text, "oracle.yaml"), Options(sanity=False))
    (result,) = report.limits[:1]
    assert result.name == "rate"
    if result.verdict is Verdict.REFUTED:
        assert result.counterexample is not None
        ticks = [dict(t.inputs) for t in result.counterexample.ticks[1:]]
        assert _true_windows(p, ticks)[-1][1] > limit
    elif result.verdict is Verdict.PROVED:
        rng = random.Random(seed)
        for _ in range(300):
            now, ticks = 0, []
            for _ in range(rng.randint(1, 25)):
                now += rng.choice([0, 0, 1, 2, 5, 20, 60])
                ticks.append({"now": now, "go": rng.random() < 0.8, "amount": rng.randint(-2, 6)})
            assert all(sent <= limit for _, sent, _ in _true_windows(p, ticks))
