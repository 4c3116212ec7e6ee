"""The paper venue: matching, market orders, cancels, idempotence, accounting, snapshots."""

from __future__ import annotations

import json
from fractions import Fraction as F
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.run.venue import Fill, Market, PaperVenue, VenueError


def mkt(
    bid: int | F = 99,
    ask: int | F = 100,
    bid_size: int | F = 10,
    ask_size: int | F = 10,
    low: int | F | None = None,
    high: int | F | None = None,
    volume: int | F = 0,
) -> Market:
    """A row with no trades through the book unless ``low``/``high``/``volume`` say so."""
    mid = (F(bid) + F(ask)) / 2
    return Market(
        F(bid),
        F(ask),
        F(bid_size),
        F(ask_size),
        F(mid if low is None else low),
        F(mid if high is None else high),
        F(volume),
    )


def test_resting_order_is_not_filled_on_the_row_it_was_placed_on() -> None:
    v = PaperVenue()
    assert v.on_market(1, mkt(ask=100)) == []
    assert v.place(1, "b", "buy", 5, F(101)) == []
    assert v.fills == [] and v.position == 0 and v.open_quantity("buy") == 5
    fills = v.on_market(2, mkt(ask=100))
    assert fills == [Fill("b/1", "b", 2, "buy", 5, F(101), "limit")]
    assert v.orders["b"].status == "filled" and v.open_quantity("buy") == 0


def test_order_placed_before_the_first_market_fills_on_the_next_row() -> None:
    v = PaperVenue()
    v.place(0, "s", "sell", 2, F(99))
    v.place(1, "t", "sell", 2, F(99))  # stamped with tick 1: never matched against row 1
    assert v.on_market(1, mkt(bid=99)) == [Fill("s/1", "s", 1, "sell", 2, F(99), "limit")]
    assert v.on_market(2, mkt(bid=99)) == [Fill("t/1", "t", 2, "sell", 2, F(99), "limit")]


def test_trade_through_fills_from_volume_and_touching_is_not_trading_through() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    v.place(1, "b", "buy", 5, F(98))
    v.place(1, "s", "sell", 5, F(102))
    # low == 98 and high == 102 only touch the limits: nothing fills
    assert v.on_market(2, mkt(low=98, high=102, volume=4)) == []
    fills = v.on_market(3, mkt(low=F(195, 2), high=F(205, 2), volume=3))
    assert fills == [
        Fill("b/1", "b", 3, "buy", 3, F(98), "limit"),
        Fill("s/1", "s", 3, "sell", 3, F(102), "limit"),
    ]
    assert v.position == 0 and v.cash == 3 * (102 - 98)


def test_liquidity_is_the_larger_of_the_book_and_the_traded_volume() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    v.place(1, "b", "buy", 20, F(100))
    fills = v.on_market(2, mkt(ask=100, ask_size=4, low=99, volume=7))
    assert [f.qty for f in fills] == [7]


def test_partial_fills_over_several_rows_with_int_quantities() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    v.place(1, "b", "buy", 10, F(100))
    v.place(1, "x", "buy", F(10), F(100))  # same order for a Fraction quantity
    assert v.on_market(2, mkt(ask=100, ask_size=F(7, 2))) == [
        Fill("b/1", "b", 2, "buy", 3, F(100), "limit"),
        Fill("x/1", "x", 2, "buy", F(1, 2), F(100), "limit"),
    ]
    assert v.on_market(3, mkt(ask=101, ask_size=50)) == []  # not marketable
    assert [f.qty for f in v.on_market(4, mkt(ask=100, ask_size=F(1, 2)))] == [F(1, 2)]
    assert [f.fill_id for f in v.on_market(5, mkt(ask=99, ask_size=17))] == ["b/2", "x/3"]
    b, x = v.orders["b"], v.orders["x"]
    assert (b.filled, b.status, x.filled, x.status) == (10, "filled", F(10), "filled")
    assert all(type(f.qty) is int for f in v.fills if f.cid == "b")
    assert all(type(f.qty) is F for f in v.fills if f.cid == "x")
    assert type(v.position) is F and v.position == 20 and v.bought_limit == 20


def test_int_order_with_less_than_one_unit_available_does_not_fill() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    v.place(1, "b", "buy", 3, F(100))
    assert v.on_market(2, mkt(ask=100, ask_size=F(9, 10))) == []
    assert v.orders["b"].filled == 0 and v.orders["b"].status == "open"


def test_price_time_priority_shares_the_liquidity() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    v.place(1, "a", "buy", 3, F(100))
    v.place(1, "b", "buy", 3, F(101))
    v.place(1, "c", "buy", 3, F(101))
    v.place(1, "d", "buy", 3, F(100))
    v.place(1, "s1", "sell", 4, F(98))
    v.place(1, "s2", "sell", 4, F(97))
    fills = v.on_market(2, mkt(bid=98, ask=100, bid_size=5, ask_size=5))
    assert [(f.cid, f.qty, f.price) for f in fills] == [
        ("b", 3, F(101)),
        ("c", 2, 101),
        ("s2", 4, 97),
        ("s1", 1, 98),
    ]
    assert v.open_quantity("buy") == 1 + 3 + 3 and v.open_quantity("sell") == 3


def test_market_order_fills_at_the_touch_with_exact_slippage() -> None:
    v = PaperVenue(contract_size=F(10), slippage_bps=F(25))
    with pytest.raises(VenueError):
        v.place(0, "early", "buy", 1, None)
    assert "early" not in v.orders
    v.on_market(1, mkt(bid=99, ask=100))
    buy = v.place(1, "m1", "buy", 2, None)
    sell = v.place(1, "m2", "sell", F(1, 2), None)
    assert buy == [Fill("m1/1", "m1", 1, "buy", 2, F(401, 4), "market")]  # 100 * 1.0025
    assert sell == [Fill("m2/1", "m2", 1, "sell", F(1, 2), F(39501, 400), "market")]
    assert v.orders["m1"].status == "filled" and v.orders["m1"].price is None
    assert v.position == F(3, 2) and v.bought_limit == 0 and v.sold_limit == 0
    assert v.cash == 10 * (-2 * F(401, 4) + F(1, 2) * F(39501, 400))
    assert v.on_market(2, mkt(bid=0, ask=1, bid_size=100, ask_size=100)) == []


@pytest.mark.parametrize("qty", [0, -1, F(0), F(-1, 2)])
def test_non_positive_quantity_is_refused_and_not_recorded(qty: int | F) -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    with pytest.raises(VenueError):
        v.place(1, "q", "buy", qty, F(100))
    assert v.orders == {}
    assert v.place(1, "q", "buy", 1, F(100)) == []  # the cid is still free
    assert v.orders["q"].qty == 1


def test_floats_and_bad_sides_are_refused() -> None:
    v = PaperVenue()
    with pytest.raises(VenueError):
        Market(F(1), 2.0, F(1), F(1), F(1), F(1), F(1))  # type: ignore[arg-type]
    with pytest.raises(VenueError):
        v.place(0, "f", "buy", 1.5, F(1))  # type: ignore[arg-type]
    with pytest.raises(VenueError):
        v.place(0, "s", "hold", 1, F(1))
    with pytest.raises(VenueError):
        v.cancel(0, "c", "hold")


def test_ticks_must_increase() -> None:
    v = PaperVenue()
    v.on_market(3, mkt())
    with pytest.raises(VenueError):
        v.on_market(3, mkt())


def test_cancel_keeps_the_partial_fill() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    v.place(1, "b", "buy", 10, F(100))
    v.place(1, "b2", "buy", 1, F(90))
    v.place(1, "s", "sell", 1, F(110))
    v.on_market(2, mkt(ask=100, ask_size=4))
    assert v.cancel(2, "c1", "buy") == ["b", "b2"]
    b = v.orders["b"]
    assert (b.status, b.filled, b.remaining) == ("cancelled", 4, 6)
    assert v.position == 4 and v.bought_limit == 4
    assert v.open_quantity("buy") == 0 and v.open_quantity("sell") == 1
    assert v.on_market(3, mkt(bid=120, ask=80, bid_size=50, ask_size=50)) == [
        Fill("s/1", "s", 3, "sell", 1, F(110), "limit")
    ]
    v.place(3, "b3", "buy", 1, F(90))
    v.place(3, "s3", "sell", 1, F(110))
    assert v.cancel_all(3, "c2") == ["b3", "s3"]
    assert v.cancel_all(3, "c3") == [] and v.open_quantity("sell") == 0


def test_re_sent_actions_do_nothing() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    assert len(v.place(1, "m", "buy", 1, None)) == 1
    assert v.place(1, "m", "buy", 1, None) == []
    v.place(1, "b", "buy", 2, F(100))
    assert v.place(1, "b", "buy", 2, F(100)) == []
    assert v.cancel(1, "c", "buy") == ["b"]
    v.place(1, "b2", "buy", 2, F(100))
    assert v.cancel(1, "c", "buy") == [] and v.cancel_all(1, "c") == []
    assert v.orders["b2"].status == "open"
    v.cancel_all(1, "ca")
    v.place(1, "b3", "buy", 2, F(100))
    assert v.cancel_all(2, "ca") == [] and v.orders["b3"].status == "open"
    assert list(v.orders) == ["m", "b", "b2", "b3"] and len(v.fills) == 1 and v.position == 1


def test_equity_is_exact() -> None:
    v = PaperVenue(contract_size=F(50))
    assert v.equity() == 0
    v.place(0, "b", "buy", 3, F(101))
    assert v.equity() == 0  # no mark yet, nothing filled
    v.on_market(1, mkt(bid=100, ask=101, ask_size=10))
    assert v.cash == -3 * 101 * 50 == -15150
    assert v.equity() == -15150 + 3 * F(201, 2) * 50 == -75  # marked at the mid 100.5
    v.on_market(2, mkt(bid=F(301, 3), ask=102))
    assert v.equity() == 3 * 50 * ((F(301, 3) + 102) / 2 - 101) == 25
    assert type(v.equity()) is F


def test_snapshot_round_trips_through_json_exactly() -> None:
    v = PaperVenue(contract_size=F(5, 2), slippage_bps=F(3))
    v.on_market(1, mkt(ask=100, ask_size=F(7, 3)))
    v.place(1, "i", "buy", 4, F(100))
    v.place(1, "f", "sell", F(3, 2), F(101))
    v.place(1, "m", "sell", 1, None)
    v.on_market(2, mkt(ask=100, ask_size=F(7, 3)))
    v.cancel(2, "c", "sell")
    data = json.loads(json.dumps(v.snapshot()))
    assert data == v.snapshot()
    w = PaperVenue.restore(data)
    assert w.snapshot() == data
    assert type(w.position) is int and type(w.orders["f"].qty) is F
    assert w.orders["i"].filled == 2 and type(w.orders["i"].filled) is int
    for venue in (v, w):
        assert venue.place(2, "c", "buy", 1, F(1)) == []  # seen cids survive
        assert venue.on_market(3, mkt(ask=99, ask_size=10))[0].fill_id == "i/2"
        with pytest.raises(VenueError):
            venue.on_market(3, mkt())
    assert w.snapshot() == v.snapshot() and w.equity() == v.equity()


# -- random runs --------------------------------------------------------------------------------

halves = st.integers(180, 220).map(lambda n: F(n, 2))
sizes = st.integers(0, 24).map(lambda n: F(n, 3))
sides = st.sampled_from(["buy", "sell"])
quantities = st.one_of(st.integers(-1, 8), st.integers(0, 16).map(lambda n: F(n, 4)))


@st.composite
def markets(draw: st.DrawFn) -> Market:
    bid = draw(halves)
    ask = bid + draw(st.integers(0, 4)) / F(2)
    low = bid - draw(st.integers(-2, 4)) / F(2)
    high = ask + draw(st.integers(-2, 4)) / F(2)
    return Market(bid, ask, draw(sizes), draw(sizes), low, high, draw(sizes))


actions = st.one_of(
    st.tuples(st.just("place"), sides, quantities, st.one_of(st.none(), halves, halves)),
    st.tuples(st.just("cancel"), sides),
    st.tuples(st.just("cancel_all")),
)
ticks = st.tuples(markets(), st.lists(actions, max_size=4), st.booleans())

Op = tuple[Any, ...]


def operations(steps: list[tuple[Market, list[tuple[Any, ...]], bool]]) -> list[Op]:
    """Flatten ticks into venue calls; a tick may first re-send the previous tick's actions."""
    ops: list[Op] = []
    previous: list[Op] = []
    for tick, (market, acts, resend) in enumerate(steps, start=1):
        ops.append(("market", tick, market))
        now = [(a[0], tick, f"{tick}.{i}", *a[1:]) for i, a in enumerate(acts)]
        if resend:
            now = [(op[0], tick, *op[2:]) for op in previous] + now
        ops += now
        previous = now
    return ops


def apply(v: PaperVenue, op: Op) -> str:
    try:
        if op[0] == "market":
            return repr(v.on_market(op[1], op[2]))
        if op[0] == "place":
            return repr(v.place(*op[1:]))
        if op[0] == "cancel":
            return repr(v.cancel(*op[1:]))
        return repr(v.cancel_all(*op[1:]))
    except VenueError as e:
        return f"blocked: {e}"


@settings(max_examples=150, deadline=None)
@given(st.lists(ticks, max_size=12), st.data())
def test_a_restored_venue_continues_like_the_original(
    steps: list[tuple[Market, list[Op], bool]], data: st.DataObject
) -> None:
    ops = operations(steps)
    cut = data.draw(st.integers(0, len(ops)))
    contract, bps = data.draw(st.integers(1, 3)), data.draw(st.integers(0, 50))
    whole, part = PaperVenue(F(contract), F(bps)), PaperVenue(F(contract), F(bps))
    out_whole = [apply(whole, op) for op in ops]
    out_part = [apply(part, op) for op in ops[:cut]]
    text = json.dumps(part.snapshot())
    part = PaperVenue.restore(json.loads(text))
    assert json.dumps(part.snapshot()) == text
    out_part += [apply(part, op) for op in ops[cut:]]
    assert out_part == out_whole
    assert json.dumps(part.snapshot()) == json.dumps(whole.snapshot())
    assert part.equity() == whole.equity()


@settings(max_examples=150, deadline=None)
@given(st.lists(ticks, max_size=12))
def test_quantities_and_accounting_are_conserved(
    steps: list[tuple[Market, list[Op], bool]],
) -> None:
    v = PaperVenue(contract_size=F(3))
    for op in operations(steps):
        apply(v, op)
        per_order: dict[str, int | F] = {}
        for f in v.fills:
            per_order[f.cid] = per_order.get(f.cid, 0) + f.qty
            assert f.qty > 0 and type(f.qty) is type(v.orders[f.cid].qty)
        for o in v.orders.values():
            assert per_order.get(o.cid, 0) == o.filled <= o.qty
            assert (o.status == "filled") == (o.filled == o.qty)
        buys = [f for f in v.fills if f.side == "buy"]
        sells = [f for f in v.fills if f.side == "sell"]
        assert v.position == sum(f.qty for f in buys) - sum(f.qty for f in sells)
        assert v.cash == 3 * (
            sum(f.qty * f.price for f in sells) - sum(f.qty * f.price for f in buys)
        )
        assert v.bought_limit == sum(f.qty for f in buys if f.kind == "limit")
        assert v.sold_limit == sum(f.qty for f in sells if f.kind == "limit")
        for side in ("buy", "sell"):
            assert v.open_quantity(side) == sum(
                o.remaining for o in v.orders.values() if o.side == side and o.status == "open"
            )


# -- deferred mode: the venue of one instrument of a model with instruments ----------------------


def test_deferred_ioc_order_fills_at_the_next_row_only_then_leaves() -> None:
    v = PaperVenue(deferred=True, instrument="perp")
    v.on_market(1, mkt())
    assert v.place(1, "i", "buy", 5, F(100), "ioc") == []
    assert v.orders["i"].status == "pending" and v.pending_quantity("buy") == 5
    fills = v.on_market(2, mkt(ask=100, ask_size=3))
    assert fills == [Fill("i/1", "i", 2, "buy", 3, F(100), "limit", "perp", True)]
    assert v.left == ["i"] and v.orders["i"].status == "cancelled"
    assert v.open_quantity("buy") == 0 and v.on_market(3, mkt(ask=99, ask_size=50)) == []


def test_deferred_market_order_fills_in_full_at_the_next_rows_touch() -> None:
    v = PaperVenue(slippage_bps=F(10), deferred=True)
    assert v.place(0, "m", "sell", 7, None) == []  # no market needed: it fills at the next row
    assert v.orders["m"].tif == "ioc" and v.open_quantity("sell") == 7
    fills = v.on_market(1, mkt(bid=99, bid_size=1))
    assert fills == [Fill("m/1", "m", 1, "sell", 7, F(99) * F(999, 1000), "market", "", True)]
    assert v.position == -7 and v.sold_limit == 0 and v.left == []


def test_deferred_cancel_races_the_next_row() -> None:
    v = PaperVenue(deferred=True)
    v.on_market(1, mkt())
    v.place(1, "a", "sell", 4, F(101))
    v.place(1, "b", "sell", 4, F(105))
    v.place(1, "c", "buy", 2, F(90))
    assert v.cancel(1, "x", "sell") == ["a", "b"]
    assert v.open_quantity("sell") == 8 and v.pending_quantity("sell") == 8
    fills = v.on_market(2, mkt(bid=102, bid_size=10))  # a is marketable, b is not
    assert fills == [Fill("a/1", "a", 2, "sell", 4, F(101), "limit", "", True)]
    assert v.left == ["b"] and v.orders["b"].status == "cancelled"
    assert v.orders["c"].status == "open" and v.open_quantity("buy") == 2
    assert v.cancel_all(2, "y") == ["c"] and v.on_market(3, mkt()) == [] and v.left == ["c"]


def test_deferred_starting_position_is_taken_on_at_the_first_mid() -> None:
    v = PaperVenue(F(1, 100), deferred=True, position=10)
    assert v.position == 10 and v.equity() == 0
    v.on_market(1, mkt(bid=99, ask=101))
    assert v.cash == -10 * 100 * F(1, 100) and v.equity() == 0
    v.on_market(2, mkt(bid=101, ask=103))
    assert v.equity() == 10 * 2 * F(1, 100)
    w = PaperVenue.restore(json.loads(json.dumps(v.snapshot())))
    assert w.snapshot() == v.snapshot() and w.start == 10 and w.deferred


def test_instant_venue_refuses_ioc() -> None:
    v = PaperVenue()
    v.on_market(1, mkt())
    with pytest.raises(VenueError, match="time in force 'ioc'"):
        v.place(1, "i", "buy", 1, F(100), "ioc")


deferred_actions = st.one_of(
    st.tuples(
        st.just("place"),
        sides,
        quantities,
        st.one_of(st.none(), halves, halves),
        st.sampled_from(["gtc", "ioc"]),
    ),
    st.tuples(st.just("cancel"), sides),
    st.tuples(st.just("cancel_all")),
)
deferred_ticks = st.tuples(markets(), st.lists(deferred_actions, max_size=4), st.booleans())


@settings(max_examples=120, deadline=None)
@given(st.lists(deferred_ticks, max_size=12), st.data())
def test_a_restored_deferred_venue_continues_like_the_original(
    steps: list[tuple[Market, list[Op], bool]], data: st.DataObject
) -> None:
    ops = operations(steps)
    cut = data.draw(st.integers(0, len(ops)))
    start = data.draw(st.integers(-3, 3))
    whole = PaperVenue(F(2), F(5), deferred=True, instrument="i", position=start)
    part = PaperVenue(F(2), F(5), deferred=True, instrument="i", position=start)
    out_whole = [apply(whole, op) for op in ops]
    out_part = [apply(part, op) for op in ops[:cut]]
    text = json.dumps(part.snapshot())
    part = PaperVenue.restore(json.loads(text))
    assert json.dumps(part.snapshot()) == text
    out_part += [apply(part, op) for op in ops[cut:]]
    assert out_part == out_whole
    assert json.dumps(part.snapshot()) == json.dumps(whole.snapshot())


@settings(max_examples=120, deadline=None)
@given(st.lists(deferred_ticks, max_size=12))
def test_deferred_quantities_are_conserved_and_pending_orders_last_one_row(
    steps: list[tuple[Market, list[Op], bool]],
) -> None:
    v = PaperVenue(deferred=True)
    for op in operations(steps):
        pending_before = {o.cid for o in v.open_orders() if o.status == "pending"}
        fills_before = len(v.fills)
        apply(v, op)
        if op[0] == "market":
            # what was pending before this row has filled or left
            assert not pending_before & {o.cid for o in v.open_orders()}
            assert set(v.left) <= pending_before
        else:
            assert len(v.fills) == fills_before  # nothing fills on arrival
        for o in v.orders.values():
            filled = sum((f.qty for f in v.fills if f.cid == o.cid), start=0)
            assert filled == o.filled <= o.qty
        buys = sum((f.qty for f in v.fills if f.side == "buy"), start=0)
        sells = sum((f.qty for f in v.fills if f.side == "sell"), start=0)
        assert v.position == buys - sells
        for side in ("buy", "sell"):
            assert v.open_quantity(side) == sum(
                (o.remaining for o in v.orders.values()
                 if o.side == side and o.status in ("open", "pending")),
                start=0,
            )  # fmt: skip
